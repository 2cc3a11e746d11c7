"""pyscard's ``smartcard.System``: the readers and reader groups PC/SC knows now."""

from __future__ import annotations

from collections.abc import Sequence

from aioscard._blocking import with_context
from aioscard.exceptions import ServiceUnavailableException
from aioscard.native import PCSCAPI

from ._errors import service_error
from .pcsc.PCSCReader import PCSCReader

__all__ = ["listReaders", "readergroups", "readers"]


def readers(groups: Sequence[str] | str | None = None) -> list[PCSCReader]:
    """The readers in ``groups`` (all readers when None or empty) (SCardListReaders).

    No readers gives an empty list.  Blocks for one PC/SC round trip, made on
    an aioscard worker thread.

    Raises:
        ServiceUnavailableException: pcscd is not running; the exception is also
            pyscard's ``CardServiceNotFoundException`` and ``EstablishContextException``.
    """
    if isinstance(groups, str):
        groups = [groups]
    wanted = list(groups) if groups else None

    def job(api: PCSCAPI, context: int) -> list[str]:
        return api.list_readers(context, wanted)

    try:
        names = with_context(job)
    except ServiceUnavailableException as error:
        raise service_error(error) from error
    return [PCSCReader(name) for name in names]


def readergroups() -> list[str]:
    """The names of the reader groups (SCardListReaderGroups).

    Raises:
        ServiceUnavailableException: pcscd is not running (see :func:`readers`).
    """

    def job(api: PCSCAPI, context: int) -> list[str]:
        return api.list_reader_groups(context)

    try:
        return with_context(job)
    except ServiceUnavailableException as error:
        raise service_error(error) from error


def listReaders() -> list[str]:
    """The names of all readers (pyscard's legacy form of ``readers()``)."""
    return [str(reader) for reader in readers()]
