"""pyscard's ``smartcard.ExclusiveConnectCardConnection``: connect in exclusive mode."""

from __future__ import annotations

from typing import Any

from aioscard.native import constants as C

from .CardConnectionDecorator import CardConnectionDecorator

__all__ = ["ExclusiveConnectCardConnection"]


class ExclusiveConnectCardConnection(CardConnectionDecorator):
    """A decorator whose ``connect`` takes the card with ``SCARD_SHARE_EXCLUSIVE``,
    so no other application (or connection) can connect until it disconnects.

    Other connections' ``connect`` then fails with
    :class:`~aioscard.exceptions.SharingViolationException`.
    """

    def __init__(self, cardconnection: Any) -> None:
        super().__init__(cardconnection)

    def connect(
        self, protocol: int | None = None, mode: int | None = None, disposition: int | None = None
    ) -> None:
        """Connect exclusively (SCardConnect with SCARD_SHARE_EXCLUSIVE); ``mode`` is ignored.

        Raises:
            SharingViolationException: another connection holds the card.
        """
        self.component.connect(protocol, C.SCARD_SHARE_EXCLUSIVE, disposition)
