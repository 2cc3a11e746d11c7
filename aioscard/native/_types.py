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

    def establish_context(self, scope: int = ...) -> int:
        """SCardEstablishContext: a new context handle.  Raises
        ServiceUnavailableException when pcscd cannot be reached."""

    def release_context(self, context: int) -> None:
        """SCardReleaseContext: end ``context``; its handles become invalid."""

    def is_valid_context(self, context: int) -> bool:
        """SCardIsValidContext: whether ``context`` still works (False after a pcscd
        restart)."""

    def list_readers(self, context: int, groups: Sequence[str] | None = None) -> list[str]:
        """SCardListReaders: the reader names, ``[]`` when there are none."""

    def list_reader_groups(self, context: int) -> list[str]:
        """SCardListReaderGroups: the reader group names."""

    def get_status_change(
        self, context: int, timeout_ms: int, states: Sequence[ReaderState]
    ) -> list[ReaderState]:
        """SCardGetStatusChange: block until a reader's state differs from
        ``states`` or ``timeout_ms`` passes (INFINITE: no limit).  Returns the new
        states.  Raises TimeoutException on timeout and CancelledException when
        :meth:`cancel` interrupts it."""

    def cancel(self, context: int) -> None:
        """SCardCancel: interrupt a blocked :meth:`get_status_change` on
        ``context``; the only call that may come from another thread."""

    def connect(
        self, context: int, reader: str, share_mode: int, protocols: int
    ) -> tuple[int, int]:
        """SCardConnect: ``(handle, active protocol)``.  Raises NoCardException,
        SharingViolationException and the other typed errors PC/SC reports."""

    def reconnect(self, handle: int, share_mode: int, protocols: int, initialization: int) -> int:
        """SCardReconnect: reconnect ``handle`` (resetting or unpowering the card
        as ``initialization`` says); returns the active protocol."""

    def disconnect(self, handle: int, disposition: int) -> None:
        """SCardDisconnect: release ``handle``, leaving, resetting, unpowering or
        ejecting the card as ``disposition`` says."""

    def begin_transaction(self, handle: int) -> None:
        """SCardBeginTransaction: exclusive access to the card; blocks while
        another handle holds a transaction."""

    def end_transaction(self, handle: int, disposition: int) -> None:
        """SCardEndTransaction: end the transaction, with ``disposition``."""

    def status(self, handle: int) -> CardStatus:
        """SCardStatus: the reader name, state, protocol and ATR."""

    def transmit(self, handle: int, protocol: int, command: bytes) -> bytes:
        """SCardTransmit: send ``command``, return the response (status word
        included).  Raises CardRemovedException, CardResetException and the other
        typed errors PC/SC reports."""

    def control(self, handle: int, code: int, data: bytes = b"", max_response: int = ...) -> bytes:
        """SCardControl: send ``data`` to the reader with control ``code``; return
        its answer.  Raises UnsupportedFeatureException for a code the reader does
        not know."""

    def get_attrib(self, handle: int, attr_id: int) -> bytes:
        """SCardGetAttrib: the value of reader attribute ``attr_id``."""

    def set_attrib(self, handle: int, attr_id: int, value: bytes) -> None:
        """SCardSetAttrib: set reader attribute ``attr_id``."""

    def add_reader_to_group(self, context: int, reader: str, group: str) -> None:
        """SCardAddReaderToGroup.  Raises UnsupportedFeatureException where the
        platform has no reader groups to edit (pcsc-lite)."""

    def remove_reader_from_group(self, context: int, reader: str, group: str) -> None:
        """SCardRemoveReaderFromGroup.  Raises UnsupportedFeatureException where
        the platform has no reader groups to edit (pcsc-lite)."""
