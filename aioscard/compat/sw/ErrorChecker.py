"""pyscard's ``smartcard.sw.ErrorChecker``: aioscard's own class."""

from __future__ import annotations

from aioscard.sw import ErrorChecker as ErrorChecker

__all__ = ["ErrorChecker"]
