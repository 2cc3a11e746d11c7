"""pyscard's ``smartcard.CardConnectionEvent``: aioscard's own class."""

from __future__ import annotations

from aioscard.observer import CardConnectionEvent as CardConnectionEvent

__all__ = ["CardConnectionEvent"]
