"""``Card``: a card seen in a reader, identified by reader and ATR."""

from __future__ import annotations

from .apdu import coerce_bytes
from .connection import CardConnection
from .native import constants as C
from .reader import Reader
from .util import ByteInput

__all__ = ["Card"]


class Card:
    """A card in a reader.  ``atr`` is a ``list[int]`` as in pyscard.

    Equal (and hashed) by reader name and ATR.
    """

    __slots__ = ("atr", "reader")

    def __init__(self, reader: Reader | str, atr: ByteInput) -> None:
        self.reader = reader if isinstance(reader, Reader) else Reader(reader)
        self.atr = list(coerce_bytes(atr, name="atr", max_len=C.MAX_ATR_SIZE))

    def __repr__(self) -> str:
        atr = " ".join(f"{b:02X}" for b in self.atr)
        return f"Card({self.reader.name!r}, ATR {atr})"

    def __str__(self) -> str:
        return f"{self.reader.name}: {' '.join(f'{b:02X}' for b in self.atr)}"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Card):
            return self.reader == other.reader and self.atr == other.atr
        return NotImplemented

    def __hash__(self) -> int:
        return hash((self.reader.name, bytes(self.atr)))

    def createConnection(self) -> CardConnection:
        """A new, unconnected connection to this card's reader."""
        return self.reader.createConnection()
