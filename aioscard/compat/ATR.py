"""pyscard's ``smartcard.ATR``: aioscard's ATR parser, which answers pyscard's questions."""

from __future__ import annotations

from aioscard.atr import ATR as ATR

__all__ = ["ATR"]
