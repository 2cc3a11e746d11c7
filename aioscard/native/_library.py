"""Finding and opening the platform's PC/SC library."""

from __future__ import annotations

import os
from typing import Any

import cffi

from ..exceptions import PCSCLibraryNotFoundException
from ._abi import PlatformABI

__all__ = ["LIBRARY_ENV", "open_library"]

#: Environment variable naming an explicit PC/SC library path (or soname) to load.
LIBRARY_ENV = "AIOSCARD_PCSC_LIBRARY"

_INSTALL_HINT = {
    "pcsc-lite": (
        "install pcsc-lite's client library and daemon "
        "(Debian/Ubuntu: apt-get install libpcsclite1 pcscd; Fedora: dnf install pcsc-lite)"
    ),
    "macOS PCSC.framework": "PCSC.framework ships with macOS; check the path",
    "Windows WinSCard": "winscard.dll ships with Windows; check the system directory",
}


def open_library(ffi: cffi.FFI, abi: PlatformABI) -> Any:
    """``dlopen`` the PC/SC library described by ``abi``.

    ``$AIOSCARD_PCSC_LIBRARY`` overrides the platform's candidate names.

    Raises:
        PCSCLibraryNotFoundException: no candidate could be loaded; the message
            lists what was tried and what to install.
    """
    override = os.environ.get(LIBRARY_ENV)
    candidates = (override,) if override else abi.library_candidates
    failures: list[str] = []
    for name in candidates:
        # A try per item: each candidate library may fail to load; the next is tried.
        try:
            return ffi.dlopen(name)
        except OSError as error:  # noqa: PERF203
            failures.append(f"{name}: {error}")
    hint = f"set {LIBRARY_ENV} to its path" if override else _INSTALL_HINT.get(abi.name, "")
    raise PCSCLibraryNotFoundException(
        f"cannot load the PC/SC library ({'; '.join(failures)}); {hint}"
    )
