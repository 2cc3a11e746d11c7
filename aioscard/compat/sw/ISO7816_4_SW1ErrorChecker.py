"""pyscard's ``smartcard.sw.ISO7816_4_SW1ErrorChecker``: aioscard's own class."""

from __future__ import annotations

from aioscard.sw import ISO7816_4_SW1ErrorChecker as ISO7816_4_SW1ErrorChecker

__all__ = ["ISO7816_4_SW1ErrorChecker"]
