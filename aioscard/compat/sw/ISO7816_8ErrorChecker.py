"""pyscard's ``smartcard.sw.ISO7816_8ErrorChecker``: aioscard's own class."""

from __future__ import annotations

from aioscard.sw import ISO7816_8ErrorChecker as ISO7816_8ErrorChecker

__all__ = ["ISO7816_8ErrorChecker"]
