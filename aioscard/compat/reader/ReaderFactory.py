"""pyscard's ``smartcard.reader.ReaderFactory``: where :func:`smartcard.System.readers` looks."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any, ClassVar

from ..pcsc.PCSCReader import PCSCReader

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from .Reader import Reader

__all__ = ["ReaderFactory"]


class ReaderFactory:
    """Lists readers from every function in :attr:`factorymethods` (PC/SC's by
    default) and makes readers of a named class."""

    factories: ClassVar[dict[str, Any]] = {}
    factorymethods: ClassVar[list[Callable[[Sequence[str]], Sequence[Reader]]]] = [
        PCSCReader.readers
    ]

    @staticmethod
    def createReader(clazz: str, readername: str) -> Any:
        """A reader named ``readername`` from the class ``clazz`` (``"package.module.Class"``),
        made by that class's ``Factory().create(readername)``.

        Raises:
            ImportError, AttributeError: ``clazz`` names no such class or it has no ``Factory``.
        """
        factory = ReaderFactory.factories.get(clazz)
        if factory is None:
            module_name, _, class_name = clazz.rpartition(".")
            factory = getattr(importlib.import_module(module_name), class_name).Factory()
            ReaderFactory.factories[clazz] = factory
        return factory.create(readername)

    @staticmethod
    def readers(groups: Sequence[str] | None = None) -> list[Reader]:
        """Every reader the :attr:`factorymethods` find in ``groups`` (all when None)."""
        found: list[Reader] = []
        for method in ReaderFactory.factorymethods:
            found += method([] if groups is None else groups)
        return found
