"""pyscard's ``smartcard.sw.ErrorCheckingChain``: aioscard's own class."""

from __future__ import annotations

from aioscard.sw import ErrorCheckingChain as ErrorCheckingChain

__all__ = ["ErrorCheckingChain"]
