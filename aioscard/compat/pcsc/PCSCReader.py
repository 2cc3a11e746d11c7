"""pyscard's ``smartcard.pcsc.PCSCReader``."""

from __future__ import annotations

from collections.abc import Sequence

from ..reader.Reader import Reader

__all__ = ["PCSCReader"]


class PCSCReader(Reader):
    """A PC/SC reader (what :func:`smartcard.System.readers` returns)."""

    @staticmethod
    def readers(groups: Sequence[str] | str | None = None) -> list[PCSCReader]:
        """The readers in ``groups`` (all when None or empty) (SCardListReaders)."""
        from ..System import readers

        return readers(groups)
