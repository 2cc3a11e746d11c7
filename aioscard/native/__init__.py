"""Blocking PC/SC bindings: the only layer of aioscard that touches cffi.

Nothing here knows about event loops or threads; every call blocks the thread
that makes it.  :func:`get_pcsc` returns the process-wide
:class:`PCSCLibrary`, loading the platform library on first use;
:func:`set_pcsc` installs another implementation of :class:`PCSCAPI` (a fake
for unit tests) for the whole process.
"""

from __future__ import annotations

import threading

from . import constants as constants
from ._abi import PLATFORMS as PLATFORMS
from ._abi import PlatformABI as PlatformABI
from ._abi import build_ffi as build_ffi
from ._abi import current_platform as current_platform
from ._codes import ReturnCode as ReturnCode
from ._codes import describe as describe
from ._errors import EXCEPTION_FOR_CODE as EXCEPTION_FOR_CODE
from ._errors import check as check
from ._errors import error_for as error_for
from ._library import LIBRARY_ENV as LIBRARY_ENV
from ._pcsc import PCSCLibrary as PCSCLibrary
from ._types import PCSCAPI as PCSCAPI
from ._types import CardStatus as CardStatus
from ._types import ReaderState as ReaderState

__all__ = [
    "EXCEPTION_FOR_CODE",
    "LIBRARY_ENV",
    "PCSCAPI",
    "PLATFORMS",
    "CardStatus",
    "PCSCLibrary",
    "PlatformABI",
    "ReaderState",
    "ReturnCode",
    "build_ffi",
    "check",
    "constants",
    "current_platform",
    "describe",
    "error_for",
    "get_pcsc",
    "set_pcsc",
]

_lock = threading.Lock()
_api: PCSCAPI | None = None


def get_pcsc() -> PCSCAPI:
    """The process-wide PC/SC implementation, loading the real library on first use.

    Raises:
        PCSCLibraryNotFoundException: the platform's PC/SC library is missing.
    """
    global _api
    api = _api
    if api is None:
        with _lock:
            if _api is None:
                _api = PCSCLibrary()
            api = _api
    return api


def set_pcsc(api: PCSCAPI | None) -> PCSCAPI | None:
    """Install ``api`` as the process-wide implementation (None: back to the real
    library, loaded lazily).  Returns the previous one.  For tests and for
    embedding; switch only while no context is open."""
    global _api
    with _lock:
        previous, _api = _api, api
    return previous
