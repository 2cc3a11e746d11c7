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

Where it differs from pyscard:

- Exceptions are aioscard's classes (subclasses of pyscard's names where
  pyscard's were broader): ``NoCardException`` is a ``CardConnectionException``,
  a removed card raises ``CardRemovedException``; ``hresult`` is ``None``, not
  ``-1``, when no PC/SC code applies.
- ``with connection:`` and ``with service:`` connect on first use when nothing
  inside called ``connect()``; ``disconnect()`` also releases the context.
- Bad input raises ``TypeError``/``ValueError`` (``util`` included) instead
  of being masked; a response without a status word is an error.
- Observers' exceptions are logged, not raised; PIN-bearing commands are
  redacted by ``ConsoleCardConnectionObserver``.
- ``CardMonitor``/``ReaderMonitor`` are event-driven (no polling period) and
  survive a pcscd restart; ``CardRequest.waitforcard`` can be interrupted.
"""

from __future__ import annotations

import sys
import types
from typing import Any

from ._install import install_as_smartcard as install_as_smartcard
from ._install import installed as installed
from ._install import uninstall_smartcard as uninstall_smartcard
from .Session import Session as Session
from .System import listReaders as listReaders

__all__ = ["Session", "install_as_smartcard", "installed", "listReaders", "uninstall_smartcard"]


class _Package(types.ModuleType):
    """Keeps ``Session`` the class, as pyscard's ``smartcard.Session`` is, when the
    submodule of the same name is imported later through the ``smartcard`` alias
    (the import system then sets the package attribute to the submodule)."""

    def __setattr__(self, name: str, value: Any) -> None:
        if name in __all__ and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
