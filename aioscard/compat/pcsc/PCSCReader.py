"""pyscard's ``smartcard.pcsc.PCSCReader``: a PC/SC reader, and the listing of them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aioscard._blocking import with_context
from aioscard.exceptions import ServiceUnavailableException

from .._errors import service_error
from ..reader.Reader import Reader

if TYPE_CHECKING:
    from collections.abc import Sequence

    from aioscard.native import PCSCAPI

__all__ = ["PCSCReader"]


class PCSCReader(Reader):
    """A PC/SC reader (what :func:`smartcard.System.readers` returns)."""

    @staticmethod
    def readers(groups: Sequence[str] | str | None = None) -> list[PCSCReader]:
        """The readers in ``groups`` (all readers when None or empty) (SCardListReaders).

        No readers gives an empty list.  Blocks for one PC/SC round trip, made on
        an aioscard worker thread.

        Raises:
            ServiceUnavailableException: pcscd is not running; the exception is also
                pyscard's ``CardServiceNotFoundException`` and ``EstablishContextException``.
            TypeError: ``groups`` is not a str or a sequence of str.
        """
        if isinstance(groups, str):
            groups = [groups]
        wanted = list(groups) if groups else None
        for group in wanted or ():
            if not isinstance(group, str):
                raise TypeError(f"a reader group must be a str, not {type(group).__name__}")

        def job(api: PCSCAPI, context: int) -> list[str]:
            return api.list_readers(context, wanted)

        try:
            names = with_context(job)
        except ServiceUnavailableException as error:
            raise service_error(error) from error
        return [PCSCReader(name) for name in names]
