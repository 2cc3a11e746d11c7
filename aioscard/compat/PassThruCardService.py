"""pyscard's ``smartcard.PassThruCardService``: a service that supports every card."""

from __future__ import annotations

from .CardService import CardService

__all__ = ["PassThruCardService"]


class PassThruCardService(CardService):
    """Passes commands straight to the connection; supports every card."""

    @staticmethod
    def supports(cardname: str | None) -> bool:
        """Always True."""
        return True
