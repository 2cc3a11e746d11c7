"""pyscard's ``smartcard.sw.op21_ErrorChecker``: aioscard's own class."""

from __future__ import annotations

from aioscard.sw import op21_ErrorChecker as op21_ErrorChecker

__all__ = ["op21_ErrorChecker"]
