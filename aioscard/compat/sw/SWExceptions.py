"""pyscard's ``smartcard.sw.SWExceptions``: aioscard's status-word exceptions."""

from __future__ import annotations

from aioscard.sw import exceptions as _core
from aioscard.sw.exceptions import *  # noqa: F403 - the very classes the checkers raise

__all__ = list(_core.__all__)
