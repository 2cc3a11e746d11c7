"""pyscard's ``smartcard.ExclusiveTransmitCardConnection``: lock the card between commands."""

from __future__ import annotations

from typing import Any

from aioscard.native import constants as C

from .CardConnection import CardConnection
from .CardConnectionDecorator import CardConnectionDecorator

__all__ = ["ExclusiveTransmitCardConnection"]


class ExclusiveTransmitCardConnection(CardConnectionDecorator):
    """A decorator adding ``lock()``/``unlock()`` (SCardBeginTransaction /
    SCardEndTransaction): between them, other connections' commands wait or
    fail with :class:`~aioscard.exceptions.SharingViolationException`.

    As in pyscard, ``transmit`` itself does not lock: call ``lock()`` first.
    """

    def __init__(self, cardconnection: Any) -> None:
        super().__init__(cardconnection)

    def _connection(self) -> CardConnection | None:
        component = self.component
        while not isinstance(component, CardConnection):
            component = getattr(component, "component", None)
            if component is None:
                return None
        return component

    def lock(self) -> None:
        """Take exclusive use of the card (SCardBeginTransaction).

        Blocks while another connection holds a transaction.

        Raises:
            CardConnectionException: not connected, or already locked.
        """
        connection = self._connection()
        if connection is not None:
            connection._begin_transaction()

    def unlock(self) -> None:
        """Give up exclusive use of the card (SCardEndTransaction, leaving the card)."""
        connection = self._connection()
        if connection is not None:
            connection._end_transaction(C.SCARD_LEAVE_CARD)
