"""pyscard's ``smartcard.System``: the readers and reader groups PC/SC knows now."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .pcsc.PCSCReaderGroups import PCSCReaderGroups
from .reader.Reader import Reader
from .reader.ReaderFactory import ReaderFactory

__all__ = ["listReaders", "readergroups", "readers"]


def readers(groups: Sequence[str] | str | None = None) -> list[Reader]:
    """The readers in ``groups`` (all readers when None or empty) (SCardListReaders).

    No readers gives an empty list.  Blocks for one PC/SC round trip, made on
    an aioscard worker thread.

    Raises:
        ServiceUnavailableException: pcscd is not running; the exception is also
            pyscard's ``CardServiceNotFoundException`` and ``EstablishContextException``.
    """
    if isinstance(groups, str):
        groups = [groups]
    return ReaderFactory.readers(groups)


def readergroups() -> Any:
    """The process's list of reader groups (SCardListReaderGroups, on first use).

    A list of names; appending or removing one creates or deletes the group
    through PC/SC, which pcsc-lite refuses (see
    :mod:`aioscard.compat.pcsc.PCSCReaderGroups`).

    Raises:
        ServiceUnavailableException: pcscd is not running (see :func:`readers`).
    """
    return PCSCReaderGroups().instance


def listReaders() -> list[str]:
    """The names of all readers (pyscard's legacy form of ``readers()``)."""
    return [str(reader) for reader in readers()]
