"""``Reader``: a smartcard reader, named as PC/SC names it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._context import with_context
from .connection import CardConnection
from .native import PCSCAPI
from .native import constants as C

if TYPE_CHECKING:
    from .readerinfo import ReaderInfo

__all__ = ["Reader"]


class Reader:
    """A reader, identified by its PC/SC name (equal and hashed by name).

    Creating one does no I/O; ``createConnection()`` neither.

    Raises:
        TypeError: ``name`` is not a str.
        ValueError: ``name`` is empty or holds a NUL character.
    """

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        if not isinstance(name, str):
            raise TypeError(f"reader name must be a str, not {type(name).__name__}")
        if not name or "\0" in name:
            raise ValueError(f"reader name must be a non-empty str without NUL, got {name!r}")
        self.name = name

    def __str__(self) -> str:
        return self.name

    def __repr__(self) -> str:
        return f"Reader({self.name!r})"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Reader):
            return self.name == other.name
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.name)

    def createConnection(self) -> CardConnection:
        """A new, unconnected :class:`~aioscard.connection.CardConnection` to this reader."""
        return CardConnection(self)

    async def info(self) -> ReaderInfo:
        """What the reader says about itself: vendor name, IFD type and version,
        serial number, channel, PC/SC Part 10 features and properties (see
        :class:`~aioscard.readerinfo.ReaderInfo`).  Needs no card: it connects
        to the reader directly (``SHARE_DIRECT``) for the time of the call.
        What the reader does not offer is absent, never an error.

        Raises:
            InvalidReaderException: the reader is unknown or gone.
            SharingViolationException: another application holds the reader exclusively.
            ServiceUnavailableException: pcscd is not running.

        Cancellation: returns at once; the direct connection is released (shielded).
        """
        connection = CardConnection(self)
        try:
            await connection.connect(mode=C.SCARD_SHARE_DIRECT)
            return await connection.info()
        finally:
            await connection.release()

    async def addtoreadergroup(self, groupname: str) -> None:
        """Add this reader to ``groupname`` (SCardAddReaderToGroup).

        Raises:
            UnsupportedFeatureException: on pcsc-lite (Linux, macOS), which has no
                editable reader groups.

        Cancellation: returns at once; the call finishes on a worker thread.
        """

        def job(api: PCSCAPI, context: int) -> None:
            api.add_reader_to_group(context, self.name, groupname)

        await with_context(job)

    async def removefromreadergroup(self, groupname: str) -> None:
        """Remove this reader from ``groupname`` (SCardRemoveReaderFromGroup).

        Raises:
            UnsupportedFeatureException: on pcsc-lite (Linux, macOS).

        Cancellation: returns at once; the call finishes on a worker thread.
        """

        def job(api: PCSCAPI, context: int) -> None:
            api.remove_reader_from_group(context, self.name, groupname)

        await with_context(job)
