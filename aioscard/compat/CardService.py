"""pyscard's ``smartcard.CardService``: an application's view of a card, over a connection."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from types import TracebackType

__all__ = ["CardService"]


class CardService:
    """Base class for card services; ``connection`` is the card connection.

    ``with service:`` disconnects and releases the connection on exit, as in
    pyscard, and connects it on first use if nothing in the block called
    ``connect()``.
    """

    def __init__(self, connection: Any, cardname: str | None = None) -> None:
        self.connection = connection
        self.cardname = cardname

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.connection!r}>"

    def __enter__(self) -> CardService:
        arm = getattr(self.connection, "_arm_autoconnect", None)
        if arm is not None:
            arm()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        exc_traceback: TracebackType | None,
    ) -> None:
        self.connection.disconnect()
        self.connection.release()

    @staticmethod
    def supports(cardname: str | None) -> bool:
        """Whether this service handles cards called ``cardname`` (none, here)."""
        return False
