"""pyscard's ``smartcard.sw.ISO7816_4ErrorChecker``: aioscard's own class."""

from __future__ import annotations

from aioscard.sw import ISO7816_4ErrorChecker as ISO7816_4ErrorChecker

__all__ = ["ISO7816_4ErrorChecker"]
