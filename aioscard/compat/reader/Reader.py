"""pyscard's ``smartcard.reader.Reader``: a reader, named as PC/SC names it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aioscard._blocking import with_context

from ..CardConnection import CardConnection
from ..CardConnectionDecorator import CardConnectionDecorator

if TYPE_CHECKING:
    from aioscard.native import PCSCAPI

__all__ = ["Reader"]


class Reader:
    """A reader, equal and hashed by name; ``str()`` is the name.

    Creating one does no I/O; ``createConnection()`` neither.
    """

    def __init__(self, readername: str) -> None:
        self.name = readername

    def __str__(self) -> str:
        return self.name

    def __repr__(self) -> str:
        return f"'{self.name}'"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Reader):
            return self.name == other.name
        return False

    def __hash__(self) -> int:
        return hash(self.name)

    def createConnection(self) -> CardConnectionDecorator:
        """A new, unconnected connection to this reader, wrapped in a
        :class:`~aioscard.compat.CardConnectionDecorator.CardConnectionDecorator`
        as pyscard wraps it (the connection itself is ``.component``)."""
        return CardConnectionDecorator(CardConnection(self.name))

    def addtoreadergroup(self, groupname: str) -> None:
        """Add this reader to ``groupname`` (SCardAddReaderToGroup).

        Raises:
            UnsupportedFeatureException: on pcsc-lite, which has no editable groups.
        """

        def job(api: PCSCAPI, context: int) -> None:
            api.add_reader_to_group(context, self.name, groupname)

        with_context(job)

    def removefromreadergroup(self, groupname: str) -> None:
        """Remove this reader from ``groupname`` (SCardRemoveReaderFromGroup).

        Raises:
            UnsupportedFeatureException: on pcsc-lite.
        """

        def job(api: PCSCAPI, context: int) -> None:
            api.remove_reader_from_group(context, self.name, groupname)

        with_context(job)
