"""pyscard's API, synchronous, on aioscard: legacy ``smartcard`` code runs unchanged.

``aioscard.compat`` mirrors pyscard's module paths and names
(``aioscard.compat.System``, ``aioscard.compat.CardRequest``, ...).  Opt in to
the ``smartcard`` name with::

    import aioscard.compat
    aioscard.compat.install_as_smartcard()
    from smartcard.System import readers      # now aioscard.compat.System

or run a script unchanged with ``python -m aioscard.compat SCRIPT [ARGS...]``.

Everything blocks its calling thread, as in pyscard, while the PC/SC work
runs on aioscard's worker threads: the same code paths, exceptions and
shared watcher as the async API, with no event loop.
"""

from __future__ import annotations

from ._install import install_as_smartcard as install_as_smartcard
from ._install import installed as installed
from ._install import uninstall_smartcard as uninstall_smartcard
from .Session import Session as Session
from .System import listReaders as listReaders

__all__ = ["Session", "install_as_smartcard", "installed", "listReaders", "uninstall_smartcard"]
