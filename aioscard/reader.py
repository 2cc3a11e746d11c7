"""``Reader``: a smartcard reader, named as PC/SC names it."""

from __future__ import annotations

from ._context import with_context
from .connection import CardConnection
from .native import PCSCAPI

__all__ = ["Reader"]


class Reader:
    """A reader, identified by its PC/SC name (equal and hashed by name).

    Creating one does no I/O; ``createConnection()`` neither.
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

    async def addtoreadergroup(self, groupname: str) -> None:
        """Add this reader to ``groupname`` (SCardAddReaderToGroup).

        Raises:
            UnsupportedFeatureException: on pcsc-lite (Linux, macOS), which has no
                editable reader groups.
        """

        def job(api: PCSCAPI, context: int) -> None:
            api.add_reader_to_group(context, self.name, groupname)

        await with_context(job)

    async def removefromreadergroup(self, groupname: str) -> None:
        """Remove this reader from ``groupname`` (SCardRemoveReaderFromGroup).

        Raises:
            UnsupportedFeatureException: on pcsc-lite (Linux, macOS).
        """

        def job(api: PCSCAPI, context: int) -> None:
            api.remove_reader_from_group(context, self.name, groupname)

        await with_context(job)
