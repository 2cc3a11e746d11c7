"""The ``aioscard`` command line (private: run it as ``aioscard`` or ``python -m aioscard``).

The commands sit on top of the public API: the async core for ``readers``,
``atr``, ``send`` and ``shell``, :mod:`aioscard.monitor` for ``watch``,
:mod:`aioscard.testing` for ``sim`` and ``demo``, and the synchronous shim
(through ``python -m aioscard.compat``) in ``demo``.
"""

from __future__ import annotations

from ._errors import EXIT_BUSY as EXIT_BUSY
from ._errors import EXIT_ERROR as EXIT_ERROR
from ._errors import EXIT_INTERRUPTED as EXIT_INTERRUPTED
from ._errors import EXIT_NO_CARD as EXIT_NO_CARD
from ._errors import EXIT_NO_READERS as EXIT_NO_READERS
from ._errors import EXIT_NO_SERVICE as EXIT_NO_SERVICE
from ._errors import EXIT_OK as EXIT_OK
from ._errors import EXIT_TIMEOUT as EXIT_TIMEOUT
from ._errors import EXIT_USAGE as EXIT_USAGE
from ._main import build_parser as build_parser
from ._main import main as main

__all__ = [
    "EXIT_BUSY",
    "EXIT_ERROR",
    "EXIT_INTERRUPTED",
    "EXIT_NO_CARD",
    "EXIT_NO_READERS",
    "EXIT_NO_SERVICE",
    "EXIT_OK",
    "EXIT_TIMEOUT",
    "EXIT_USAGE",
    "build_parser",
    "main",
]
