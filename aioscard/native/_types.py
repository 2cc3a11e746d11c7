"""Plain Python values exchanged with the native layer, and its typed interface."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

__all__ = ["PCSCAPI", "CardStatus", "ReaderState"]


@dataclass(frozen=True, slots=True)
class ReaderState:
    """One entry of SCardGetStatusChange's reader-state array.

    Pass ``reader`` and ``current_state`` (what the caller believes); the
    returned copy carries ``event_state`` (what PC/SC reports now; the upper
    16 bits count card events) and the card's ``atr``.
    """

    reader: str
    current_state: int = 0
    event_state: int = 0
    atr: bytes = b""

    @property
    def event_count(self) -> int:
        """The reader's card-event counter (upper 16 bits of ``event_state``)."""
        return (self.event_state >> 16) & 0xFFFF


@dataclass(frozen=True, slots=True)
class CardStatus:
    """What SCardStatus reports for a connected card."""

    reader: str
    state: int
    protocol: int
    atr: bytes


class PCSCAPI(Protocol):
    """The blocking, thread-agnostic PC/SC interface the rest of aioscard uses.

    :class:`~aioscard.native.PCSCLibrary` implements it over the real library;
    a fake for unit tests implements the same methods.  Every method blocks its
    calling thread for the duration of one SCard call and raises the typed
    exceptions of :mod:`aioscard.exceptions`.
    """

    def establish_context(self, scope: int = ...) -> int: ...
    def release_context(self, context: int) -> None: ...
    def is_valid_context(self, context: int) -> bool: ...
    def list_readers(self, context: int, groups: Sequence[str] | None = None) -> list[str]: ...
    def list_reader_groups(self, context: int) -> list[str]: ...
    def get_status_change(
        self, context: int, timeout_ms: int, states: Sequence[ReaderState]
    ) -> list[ReaderState]: ...
    def cancel(self, context: int) -> None: ...
    def connect(
        self, context: int, reader: str, share_mode: int, protocols: int
    ) -> tuple[int, int]: ...
    def reconnect(
        self, handle: int, share_mode: int, protocols: int, initialization: int
    ) -> int: ...
    def disconnect(self, handle: int, disposition: int) -> None: ...
    def begin_transaction(self, handle: int) -> None: ...
    def end_transaction(self, handle: int, disposition: int) -> None: ...
    def status(self, handle: int) -> CardStatus: ...
    def transmit(self, handle: int, protocol: int, command: bytes) -> bytes: ...
    def control(
        self, handle: int, code: int, data: bytes = b"", max_response: int = ...
    ) -> bytes: ...
    def get_attrib(self, handle: int, attr_id: int) -> bytes: ...
    def set_attrib(self, handle: int, attr_id: int, value: bytes) -> None: ...
    def add_reader_to_group(self, context: int, reader: str, group: str) -> None: ...
    def remove_reader_from_group(self, context: int, reader: str, group: str) -> None: ...
