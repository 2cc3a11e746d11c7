"""The import hook behind :func:`install_as_smartcard`.

A meta-path finder answers every import of ``smartcard`` or ``smartcard.X``
with the already-imported module ``aioscard.compat`` or ``aioscard.compat.X``:
one module object under two names, so classes are identical whichever name
imported them, and nothing is loaded twice.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
import threading
from collections.abc import Sequence
from types import ModuleType

__all__ = ["install_as_smartcard", "installed", "uninstall_smartcard"]

ALIAS = "smartcard"
TARGET = "aioscard.compat"

_lock = threading.Lock()


class _AliasLoader(importlib.abc.Loader):
    """Hands out an existing module instead of executing one."""

    def __init__(self, module: ModuleType) -> None:
        self.module = module
        self.spec = module.__spec__

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        return self.module

    def exec_module(self, module: ModuleType) -> None:
        # The import machinery has just pointed __spec__ at the alias; the
        # module keeps its real identity (reload, pickling, -m).
        module.__spec__ = self.spec


class _SmartcardFinder(importlib.abc.MetaPathFinder):
    """Finds ``smartcard[.X]`` as ``aioscard.compat[.X]``."""

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None,
        target: ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != ALIAS and not fullname.startswith(ALIAS + "."):
            return None
        real = TARGET + fullname[len(ALIAS) :]
        try:
            module = importlib.import_module(real)
        except ModuleNotFoundError as error:
            if error.name == real:
                return None  # pyscard's module that aioscard does not offer
            raise
        return importlib.util.spec_from_loader(
            fullname, _AliasLoader(module), is_package=hasattr(module, "__path__")
        )


def installed() -> bool:
    """Whether :func:`install_as_smartcard` is in effect."""
    return any(isinstance(finder, _SmartcardFinder) for finder in sys.meta_path)


def install_as_smartcard() -> None:
    """Make ``import smartcard`` and ``import smartcard.X`` give ``aioscard.compat[.X]``.

    An explicit opt-in, like ``pymysql.install_as_MySQLdb()``: legacy pyscard
    code then runs unchanged on aioscard.  Calling it again does nothing.

    Raises:
        RuntimeError: pyscard's own ``smartcard`` was imported already in this
            process (two libraries under one name cannot both be right).
    """
    with _lock:
        if installed():
            return
        clashing = [
            name
            for name, module in sys.modules.items()
            if (name == ALIAS or name.startswith(ALIAS + "."))
            and not getattr(module, "__name__", "").startswith(TARGET)
        ]
        if clashing:
            raise RuntimeError(
                f"pyscard's {clashing[0]!r} is imported already; call "
                "aioscard.compat.install_as_smartcard() before anything imports smartcard"
            )
        sys.meta_path.insert(0, _SmartcardFinder())


def uninstall_smartcard() -> None:
    """Undo :func:`install_as_smartcard`: forget the hook and the ``smartcard`` names.

    Objects already imported through those names keep working.
    """
    with _lock:
        sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, _SmartcardFinder)]
        for name in [n for n in sys.modules if n == ALIAS or n.startswith(ALIAS + ".")]:
            del sys.modules[name]
