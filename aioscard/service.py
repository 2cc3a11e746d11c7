"""Card services: an application's view of a card, over a connection."""

from __future__ import annotations

from .connection import CardConnection

__all__ = ["CardService", "PassThruCardService"]


class CardService:
    """Base class for card services.

    ``async with service:`` connects the connection (unless it is connected
    already) and disconnects and releases it on exit.  Subclasses say which
    cards they handle with :meth:`supports`.

    Raises:
        TypeError: ``connection`` is not a :class:`~aioscard.CardConnection`.
    """

    def __init__(self, connection: CardConnection, cardname: str | None = None) -> None:
        if not isinstance(connection, CardConnection):
            raise TypeError(f"connection must be a CardConnection, not {type(connection).__name__}")
        self.connection = connection
        self.cardname = cardname

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.connection.reader!r} cardname={self.cardname!r}>"

    @staticmethod
    def supports(cardname: str | None) -> bool:
        """Whether this service handles cards called ``cardname`` (none, by default)."""
        return False

    async def __aenter__(self) -> CardService:
        if not self.connection.connected:
            try:
                await self.connection.connect()
            except BaseException:
                await self.connection.release()  # __aexit__ will not run
                raise
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.connection.release()


class PassThruCardService(CardService):
    """A service that passes commands straight through; supports every card."""

    @staticmethod
    def supports(cardname: str | None) -> bool:
        """Always True."""
        return True
