"""pyscard's ``smartcard.Card``: a card seen in a reader."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aioscard import card as _core
from aioscard.util import ByteInput, toHexString

from .reader.Reader import Reader

if TYPE_CHECKING:
    from .CardConnectionDecorator import CardConnectionDecorator

__all__ = ["Card"]


class Card:
    """A card: ``reader`` (a Reader or a name) and ``atr`` (a ``list[int]``).

    Equal and hashed by reader name and ATR; equal to an :class:`aioscard.Card`
    with the same reader and ATR too.
    """

    def __init__(self, reader: Any, atr: ByteInput) -> None:
        self.reader = reader
        self.atr = list(atr)

    @classmethod
    def _from_core(cls, card: _core.Card) -> Card:
        return cls(Reader(card.reader.name), card.atr)

    def __repr__(self) -> str:
        return f"{toHexString(self.atr)} / {self.reader}"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, (Card, _core.Card)):
            return self.atr == list(other.atr) and str(self.reader) == str(other.reader)
        return False

    def __hash__(self) -> int:
        return hash(repr(self))

    def createConnection(self) -> CardConnectionDecorator:
        """A new, unconnected connection to the card's reader."""
        reader = self.reader if isinstance(self.reader, Reader) else Reader(str(self.reader))
        return reader.createConnection()
