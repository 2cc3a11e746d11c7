"""pyscard's ``smartcard.Session``: connect to a reader's card and send APDUs, in one object."""

from __future__ import annotations

from aioscard.util import ByteInput

from .Exceptions import InvalidReaderException, NoReadersException
from .PassThruCardService import PassThruCardService
from .reader.Reader import Reader
from .System import readers

__all__ = ["Session"]


class Session:
    """A connection to the card in ``readerName`` (default: the first reader),
    connected on construction.

    Raises:
        NoReadersException: no reader at all; InvalidReaderException: no such reader;
        NoCardException, ...: connecting failed.
    """

    def __init__(self, readerName: str | None = None) -> None:
        available = readers()
        chosen: Reader | None = None
        if readerName is None:
            if not available:
                raise NoReadersException("No reader found")
            chosen = available[0]
        else:
            chosen = next((r for r in available if str(r) == str(readerName)), None)
            if chosen is None:
                raise InvalidReaderException(f"Invalid reader: {readerName}")
        self.reader = chosen
        self.readerName = repr(chosen)
        self.cs = PassThruCardService(chosen.createConnection())
        self.cs.connection.connect()

    def close(self) -> None:
        """Disconnect from the card."""
        self.cs.connection.disconnect()

    def sendCommandAPDU(self, command: ByteInput) -> tuple[list[int], int, int]:
        """Send ``command``; returns ``(response, sw1, sw2)``.

        As in pyscard, a response of more than two data bytes has SW1 SW2 appended.
        """
        response, sw1, sw2 = self.cs.connection.transmit(command)
        if len(response) > 2:
            response.append(sw1)
            response.append(sw2)
        return response, sw1, sw2

    def getATR(self) -> list[int]:
        """The card's ATR."""
        atr: list[int] = self.cs.connection.getATR()
        return atr

    def __repr__(self) -> str:
        return f"<Session instance: readerName={self.readerName}>"
