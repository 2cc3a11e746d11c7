"""pyscard's ``smartcard.CardType``: aioscard's own card types.

Subclass :class:`CardType` and override ``matches(atr, reader=None)`` as in
pyscard; ``reader`` arrives as an :class:`aioscard.Reader` (``str()`` is its
name).  ``matches`` runs on aioscard's watcher thread: keep it quick.
"""

from __future__ import annotations

from aioscard.cardtype import AnyCardType as AnyCardType
from aioscard.cardtype import ATRCardType as ATRCardType
from aioscard.cardtype import CardType as CardType

__all__ = ["ATRCardType", "AnyCardType", "CardType"]
