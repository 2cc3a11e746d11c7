"""pyscard's ``smartcard.CardType``: aioscard's own card types.

Subclass :class:`CardType` and override ``matches(atr, reader=None)`` as in
pyscard; ``reader`` arrives as an :class:`aioscard.Reader` (``str()`` is its
name).  ``matches`` runs on aioscard's watcher thread: keep it quick.
"""

from __future__ import annotations

from aioscard import cardtype as _core
from aioscard.cardtype import *  # noqa: F403 - the core's classes themselves

__all__ = list(_core.__all__)
