"""pyscard's ``smartcard.pcsc.PCSCCardConnection``: here the one connection class."""

from __future__ import annotations

from ..CardConnection import CardConnection as PCSCCardConnection

__all__ = ["PCSCCardConnection"]
