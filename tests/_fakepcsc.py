"""One scripted PC/SC service for unit tests: a typed fake of :class:`aioscard.native.PCSCAPI`.

It behaves as pcsc-lite does where the tests look: SCardGetStatusChange blocks
until a reader differs from the caller's ``current_state`` (presence bits or the
event counter in the upper 16 bits), the PnP entry fires when the number of
readers changes during the call, an unknown reader name fails the call up front,
and SCardCancel only stops a wait that is in progress.  A killed "daemon" fails
every call until revived, and the contexts of an earlier generation stay dead, as
after a restart.  Cards can be connected to and answer through ``respond``.

Unit tests only: the integration tests talk to a real pcscd through the
simulator.  Every method raises the exception in ``fail`` under its name first,
which is how a test scripts a failing SCard call.
"""

from __future__ import annotations

import contextlib
import itertools
import threading
import time
from typing import TYPE_CHECKING, NoReturn

from aioscard.exceptions import (
    CancelledException,
    CardConnectionException,
    InvalidHandleException,
    InvalidReaderException,
    ServiceUnavailableException,
    SmartcardException,
    TimeoutException,
    UnsupportedFeatureException,
)
from aioscard.native import PCSCAPI, CardStatus, ReaderState, ReturnCode, error_for, set_pcsc
from aioscard.native import constants as C

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence

__all__ = ["ATR_A", "ATR_B", "PNP", "FakePCSC", "installed"]

ATR_A = bytes.fromhex("3B880161696F736361726489")
ATR_B = bytes.fromhex("3B0861696F7363617264")
PNP = C.PNP_NOTIFICATION


class FakePCSC:
    """A scripted PC/SC service (see the module docstring)."""

    def __init__(self, readers: Sequence[str] = ("R0", "R1")) -> None:
        self.cond = threading.Condition()
        self.alive = True
        self.generation = 0  # contexts of an earlier "daemon" stay dead, as after a restart
        self.readers: dict[str, tuple[int, bytes | None]] = dict.fromkeys(readers, (0, None))
        self.contexts: dict[int, int] = {}
        self.waiting: set[int] = set()
        self.cancelled: set[int] = set()
        self.pnp_supported = True
        self.stale_listing: list[str] | None = None
        self.establish_attempts = 0
        self.waits: list[tuple[int, int]] = []  # (timeout_ms, number of states)
        # Scripted failures: the method of that name raises this exception.
        self.fail: dict[str, SmartcardException] = {}
        # The protocol a connect negotiates, and what a card answers to a command.
        self.protocol = C.SCARD_PROTOCOL_T1
        self.respond: Callable[[bytes], bytes] = lambda command: b"\x90\x00"
        self.handles: dict[int, tuple[str, int]] = {}  # handle -> (reader, card's count)
        self._ids = itertools.count(0x1000)

    # -- scripting (test side) -----------------------------------------------------------

    def _set(self, name: str, step: int, atr: bytes | None) -> None:
        with self.cond:
            count = self.readers[name][0]
            self.readers[name] = ((count + step) & 0xFFFF, atr)
            self.cond.notify_all()

    def insert(self, name: str, atr: bytes = ATR_A) -> None:
        self._set(name, 1, atr)

    def remove(self, name: str) -> None:
        self._set(name, 1, None)

    def swap(self, name: str, atr: bytes = ATR_A) -> None:
        """Pull the card and put one back before anyone looks: only the counter tells."""
        self._set(name, 2, atr)

    def add_reader(self, name: str) -> None:
        with self.cond:
            self.readers[name] = (0, None)
            self.cond.notify_all()

    def drop_reader(self, name: str) -> None:
        with self.cond:
            del self.readers[name]
            self.cond.notify_all()

    def kill(self) -> None:
        with self.cond:
            self.alive = False
            self.generation += 1
            self.cond.notify_all()

    def revive(self) -> None:
        with self.cond:
            self.alive = True

    @property
    def open_contexts(self) -> int:
        with self.cond:
            return len(self.contexts)

    # -- PCSCAPI: contexts and reader states ------------------------------------------------

    def _maybe_fail(self, method: str) -> None:
        if method in self.fail:
            raise self.fail[method]

    def _check(self, context: int) -> None:
        if not self.alive:
            raise ServiceUnavailableException("fake pcscd is down", 0x8010001D)
        if self.contexts.get(context) != self.generation:
            raise InvalidHandleException("stale context", 0x80100003)

    def establish_context(self, scope: int = C.SCARD_SCOPE_USER) -> int:
        with self.cond:
            self.establish_attempts += 1
            self._maybe_fail("establish_context")
            if not self.alive:
                raise ServiceUnavailableException("fake pcscd is down", 0x8010001D)
            context = next(self._ids)
            self.contexts[context] = self.generation
            return context

    def release_context(self, context: int) -> None:
        self._maybe_fail("release_context")
        with self.cond:
            self.contexts.pop(context, None)

    def is_valid_context(self, context: int) -> bool:
        self._maybe_fail("is_valid_context")
        return context in self.contexts

    def list_readers(self, context: int, groups: Sequence[str] | None = None) -> list[str]:
        self._maybe_fail("list_readers")
        with self.cond:
            self._check(context)
            if self.stale_listing is not None:
                stale, self.stale_listing = self.stale_listing, None
                return stale
            return list(self.readers)

    def list_reader_groups(self, context: int) -> list[str]:
        self._maybe_fail("list_reader_groups")
        return ["SCard$DefaultReaders"]

    def _look(self, states: Sequence[ReaderState], count_at_start: int) -> list[ReaderState] | None:
        result, changed = [], False
        for state in states:
            current = state.current_state
            if state.reader == PNP:
                event = 0 if self.pnp_supported else C.SCARD_STATE_UNKNOWN
                if self.pnp_supported and len(self.readers) != count_at_start:
                    event |= C.SCARD_STATE_CHANGED
                    changed = True
                result.append(ReaderState(PNP, current, event))
                continue
            if state.reader not in self.readers:
                event = C.SCARD_STATE_UNKNOWN | C.SCARD_STATE_UNAVAILABLE
                if not current & C.SCARD_STATE_UNKNOWN:
                    event |= C.SCARD_STATE_CHANGED
                    changed = True
                result.append(ReaderState(state.reader, current, event))
                continue
            count, atr = self.readers[state.reader]
            presence = C.SCARD_STATE_PRESENT if atr else C.SCARD_STATE_EMPTY
            event = (count << 16) | presence
            counted = current & 0xFFFF0000
            if (
                current == C.SCARD_STATE_UNAWARE
                or (counted and counted >> 16 != count)
                or current & (C.SCARD_STATE_PRESENT | C.SCARD_STATE_EMPTY) != presence
            ):
                event |= C.SCARD_STATE_CHANGED
                changed = True
            result.append(ReaderState(state.reader, current, event, atr or b""))
        return result if changed else None

    def get_status_change(
        self, context: int, timeout_ms: int, states: Sequence[ReaderState]
    ) -> list[ReaderState]:
        self._maybe_fail("get_status_change")
        with self.cond:
            self._check(context)
            self.waits.append((timeout_ms, len(states)))
            if len(states) > 16:
                raise CardConnectionException("too many reader states", 0x80100004)
            for state in states:
                if state.reader != PNP and state.reader not in self.readers:
                    raise InvalidReaderException("unknown reader", 0x80100009)
            count_at_start = len(self.readers)
            deadline = None if timeout_ms == C.INFINITE else time.monotonic() + timeout_ms / 1000
            while True:
                result = self._look(states, count_at_start)
                if result is not None:
                    return result
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    raise TimeoutException("timeout", 0x8010000A)
                self.waiting.add(context)
                try:
                    self.cond.wait(remaining)
                finally:
                    self.waiting.discard(context)
                if context in self.cancelled:
                    self.cancelled.discard(context)
                    raise CancelledException("cancelled", 0x80100002)
                if not self.alive or self.contexts.get(context) != self.generation:
                    raise CardConnectionException("RPC transport error", 0x80100013)

    def cancel(self, context: int) -> None:
        self._maybe_fail("cancel")
        with self.cond:
            if context in self.waiting:  # like pcsc-lite: only a wait in progress
                self.cancelled.add(context)
                self.cond.notify_all()

    # -- PCSCAPI: cards --------------------------------------------------------------------

    def _card(self, handle: int, function: str) -> tuple[str, bytes]:
        """The reader and ATR of a connected card that is still the one connected to."""
        with self.cond:
            if handle not in self.handles:
                raise error_for(ReturnCode.SCARD_E_INVALID_HANDLE, function)
            reader, connected_count = self.handles[handle]
            count, atr = self.readers.get(reader, (-1, None))
            if atr is None or count != connected_count:
                raise error_for(ReturnCode.SCARD_W_REMOVED_CARD, function, reader)
            return reader, atr

    def connect(
        self, context: int, reader: str, share_mode: int, protocols: int
    ) -> tuple[int, int]:
        self._maybe_fail("connect")
        with self.cond:
            self._check(context)
            if reader not in self.readers:
                raise error_for(ReturnCode.SCARD_E_UNKNOWN_READER, "SCardConnect", reader)
            count, atr = self.readers[reader]
            if atr is None:
                raise error_for(ReturnCode.SCARD_E_NO_SMARTCARD, "SCardConnect", reader)
            handle = next(self._ids)
            self.handles[handle] = (reader, count)
            return handle, self.protocol

    def reconnect(self, handle: int, share_mode: int, protocols: int, initialization: int) -> int:
        self._maybe_fail("reconnect")
        self._card(handle, "SCardReconnect")
        return self.protocol

    def disconnect(self, handle: int, disposition: int) -> None:
        self._maybe_fail("disconnect")
        with self.cond:
            if self.handles.pop(handle, None) is None:
                raise error_for(ReturnCode.SCARD_E_INVALID_HANDLE, "SCardDisconnect")

    def begin_transaction(self, handle: int) -> None:
        self._maybe_fail("begin_transaction")
        self._card(handle, "SCardBeginTransaction")

    def end_transaction(self, handle: int, disposition: int) -> None:
        self._maybe_fail("end_transaction")
        self._card(handle, "SCardEndTransaction")

    def status(self, handle: int) -> CardStatus:
        self._maybe_fail("status")
        reader, atr = self._card(handle, "SCardStatus")
        return CardStatus(reader, C.SCARD_SPECIFIC, self.protocol, atr)

    def transmit(self, handle: int, protocol: int, command: bytes) -> bytes:
        self._maybe_fail("transmit")
        self._card(handle, "SCardTransmit")
        return self.respond(command)

    # -- PCSCAPI: what no unit test needs yet ---------------------------------------------------

    def _unsupported(self, method: str) -> NoReturn:
        self._maybe_fail(method)
        raise UnsupportedFeatureException(f"{method} is not in the fake")

    def control(self, handle: int, code: int, data: bytes = b"", max_response: int = 0) -> bytes:
        self._unsupported("control")

    def get_attrib(self, handle: int, attr_id: int) -> bytes:
        self._unsupported("get_attrib")

    def set_attrib(self, handle: int, attr_id: int, value: bytes) -> None:
        self._unsupported("set_attrib")

    def add_reader_to_group(self, context: int, reader: str, group: str) -> None:
        self._unsupported("add_reader_to_group")

    def remove_reader_from_group(self, context: int, reader: str, group: str) -> None:
        self._unsupported("remove_reader_from_group")


def as_api(fake: FakePCSC) -> PCSCAPI:
    """The fake as the native Protocol (mypy checks that it implements all of it)."""
    return fake


@contextlib.contextmanager
def installed(fake: FakePCSC) -> Iterator[FakePCSC]:
    """Install ``fake`` as the process-wide PC/SC layer for the block, then put the
    previous one back."""
    previous = set_pcsc(fake)
    try:
        yield fake
    finally:
        set_pcsc(previous)
