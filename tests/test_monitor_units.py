"""The watcher's logic against a fake PC/SC layer (no pcscd): event counters, PnP,
losing and regaining the service, cancel races, polling, overflow catch-up.

The fake implements :class:`aioscard.native.PCSCAPI` and behaves as pcsc-lite
does where it matters: SCardGetStatusChange blocks until a reader differs from
the caller's ``current_state`` (presence bits or the event counter in the upper
16 bits), the PnP entry fires when the number of readers changes during the
call, an unknown reader name fails the call up front, and SCardCancel only
stops a wait that is in progress.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import anyio
import pytest

from aioscard import Card, CardRequest, CardRequestTimeoutException, Reader
from aioscard.exceptions import (
    CancelledException,
    CardConnectionException,
    InvalidHandleException,
    InvalidReaderException,
    ServiceUnavailableException,
    TimeoutException,
    UnsupportedFeatureException,
)
from aioscard.monitor import (
    CardInserted,
    CardRemoved,
    EventsDropped,
    MonitorEvent,
    Origin,
    ReaderAdded,
    ReaderRemoved,
    ServiceLost,
    ServiceRestored,
    Watcher,
    card_events,
    get_watcher,
)
from aioscard.monitor import _watcher as watcher_module
from aioscard.native import PCSCAPI, CardStatus, ReaderState, set_pcsc
from aioscard.native import constants as C

from ._support import end_idle_watcher

ATR_A = bytes.fromhex("3B880161696F736361726489")
ATR_B = bytes.fromhex("3B0861696F7363617264")
PNP = C.PNP_NOTIFICATION


class FakePCSC:
    """A scripted PC/SC service (see the module docstring)."""

    def __init__(self, readers: Sequence[str] = ("R0", "R1")) -> None:
        self.cond = threading.Condition()
        self.alive = True
        self.generation = 0  # contexts of an earlier "daemon" stay dead, as after a restart
        self.readers: dict[str, tuple[int, bytes | None]] = {name: (0, None) for name in readers}
        self.contexts: dict[int, int] = {}
        self.waiting: set[int] = set()
        self.cancelled: set[int] = set()
        self.pnp_supported = True
        self.stale_listing: list[str] | None = None
        self.establish_attempts = 0
        self.waits: list[tuple[int, int]] = []  # (timeout_ms, number of states)
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

    # -- PCSCAPI -----------------------------------------------------------------------------

    def _check(self, context: int) -> None:
        if not self.alive:
            raise ServiceUnavailableException("fake pcscd is down", 0x8010001D)
        if self.contexts.get(context) != self.generation:
            raise InvalidHandleException("stale context", 0x80100003)

    def establish_context(self, scope: int = 0) -> int:
        with self.cond:
            self.establish_attempts += 1
            if not self.alive:
                raise ServiceUnavailableException("fake pcscd is down", 0x8010001D)
            context = next(self._ids)
            self.contexts[context] = self.generation
            return context

    def release_context(self, context: int) -> None:
        with self.cond:
            self.contexts.pop(context, None)

    def is_valid_context(self, context: int) -> bool:
        return context in self.contexts

    def list_readers(self, context: int, groups: Sequence[str] | None = None) -> list[str]:
        with self.cond:
            self._check(context)
            if self.stale_listing is not None:
                stale, self.stale_listing = self.stale_listing, None
                return stale
            return list(self.readers)

    def list_reader_groups(self, context: int) -> list[str]:
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
        with self.cond:
            if context in self.waiting:  # like pcsc-lite: only a wait in progress
                self.cancelled.add(context)
                self.cond.notify_all()

    def _unsupported(self, *args: Any, **kwargs: Any) -> Any:
        raise UnsupportedFeatureException("not in the fake")

    def connect(
        self, context: int, reader: str, share_mode: int, protocols: int
    ) -> tuple[int, int]:
        return self._unsupported()  # type: ignore[no-any-return]

    def reconnect(self, handle: int, share_mode: int, protocols: int, initialization: int) -> int:
        return self._unsupported()  # type: ignore[no-any-return]

    def disconnect(self, handle: int, disposition: int) -> None:
        self._unsupported()

    def begin_transaction(self, handle: int) -> None:
        self._unsupported()

    def end_transaction(self, handle: int, disposition: int) -> None:
        self._unsupported()

    def status(self, handle: int) -> CardStatus:
        return self._unsupported()  # type: ignore[no-any-return]

    def transmit(self, handle: int, protocol: int, command: bytes) -> bytes:
        return self._unsupported()  # type: ignore[no-any-return]

    def control(self, handle: int, code: int, data: bytes = b"", max_response: int = 0) -> bytes:
        return self._unsupported()  # type: ignore[no-any-return]

    def get_attrib(self, handle: int, attr_id: int) -> bytes:
        return self._unsupported()  # type: ignore[no-any-return]

    def set_attrib(self, handle: int, attr_id: int, value: bytes) -> None:
        self._unsupported()

    def add_reader_to_group(self, context: int, reader: str, group: str) -> None:
        self._unsupported()

    def remove_reader_from_group(self, context: int, reader: str, group: str) -> None:
        self._unsupported()


class Collector:
    """A synchronous subscriber that records batches and lets the test wait for them."""

    def __init__(self) -> None:
        self.cond = threading.Condition()
        self.batches: list[tuple[Origin, list[MonitorEvent]]] = []

    def __call__(self, origin: Origin, events: Sequence[MonitorEvent]) -> None:
        with self.cond:
            self.batches.append((origin, list(events)))
            self.cond.notify_all()

    def wait(self, count: int, timeout: float = 3.0) -> list[tuple[Origin, list[MonitorEvent]]]:
        with self.cond:
            assert self.cond.wait_for(lambda: len(self.batches) >= count, timeout), self.batches
            return list(self.batches)


@pytest.fixture
def fake() -> FakePCSC:
    return FakePCSC()


def as_api(fake: FakePCSC) -> PCSCAPI:
    return fake  # checked by mypy: the fake implements the whole Protocol


@pytest.fixture
def watcher(fake: FakePCSC) -> Iterator[Watcher]:
    instance = Watcher(lambda: as_api(fake))
    yield instance
    end_idle_watcher(instance)
    assert fake.open_contexts == 0


@pytest.fixture
def fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(watcher_module, "BACKOFF_MIN", 0.01)
    monkeypatch.setattr(watcher_module, "BACKOFF_MAX", 0.04)


def card(reader: str, atr: bytes = ATR_A) -> Card:
    return Card(reader, atr)


def wait_until(predicate: Callable[[], bool], timeout: float = 3.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.002)


# -- the reader model -----------------------------------------------------------------------------


def test_the_first_batch_is_the_state_found(fake: FakePCSC, watcher: Watcher) -> None:
    fake.insert("R1")
    collector = Collector()
    subscription = watcher.subscribe(collector)
    try:
        assert collector.wait(1) == [
            (
                Origin.INITIAL,
                [ReaderAdded(Reader("R0")), ReaderAdded(Reader("R1")), CardInserted(card("R1"))],
            )
        ]
        assert fake.open_contexts == 1
    finally:
        subscription.close()


def test_a_card_pulled_and_put_back_between_two_looks_is_reported(
    fake: FakePCSC, watcher: Watcher
) -> None:
    fake.insert("R0")
    collector = Collector()
    subscription = watcher.subscribe(collector)
    try:
        collector.wait(1)
        fake.swap("R0")  # same ATR, same presence: only the event counter moved
        assert collector.wait(2)[1] == (
            Origin.CHANGE,
            [CardRemoved(card("R0")), CardInserted(card("R0"))],
        )
        fake.swap("R0", ATR_B)
        assert collector.wait(3)[2][1] == [CardRemoved(card("R0")), CardInserted(card("R0", ATR_B))]
    finally:
        subscription.close()


def test_readers_coming_and_going_are_followed(fake: FakePCSC, watcher: Watcher) -> None:
    collector = Collector()
    subscription = watcher.subscribe(collector)
    try:
        collector.wait(1)
        fake.add_reader("R2")
        assert collector.wait(2)[1] == (Origin.CHANGE, [ReaderAdded(Reader("R2"))])
        fake.insert("R2")
        assert collector.wait(3)[2][1] == [CardInserted(card("R2"))]
        fake.drop_reader("R2")
        assert collector.wait(4)[3][1] == [CardRemoved(card("R2")), ReaderRemoved(Reader("R2"))]
    finally:
        subscription.close()


def test_a_reader_gone_between_listing_and_waiting_is_survived(
    fake: FakePCSC, watcher: Watcher
) -> None:
    fake.stale_listing = ["R0", "R1", "ghost"]
    collector = Collector()
    subscription = watcher.subscribe(collector)
    try:
        assert collector.wait(1)[0] == (
            Origin.INITIAL,
            [ReaderAdded(Reader("R0")), ReaderAdded(Reader("R1"))],
        )
        fake.insert("R1")
        assert collector.wait(2)[1] == (Origin.CHANGE, [CardInserted(card("R1"))])
    finally:
        subscription.close()


def test_only_where_pnp_is_unsupported_does_the_watcher_poll(
    fake: FakePCSC, watcher: Watcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(watcher_module, "_POLL_MS", 20)
    collector = Collector()
    subscription = watcher.subscribe(collector)
    try:
        collector.wait(1)
        assert fake.waits[-1] == (C.INFINITE, 3)  # PnP entry plus two readers
    finally:
        subscription.close()
    watcher.stop_if_idle()  # a new watcher looks again at what the service supports
    fake.pnp_supported = False
    collector = Collector()
    subscription = watcher.subscribe(collector)
    try:
        collector.wait(1)
        fake.add_reader("R2")
        assert collector.wait(2)[1] == (Origin.CHANGE, [ReaderAdded(Reader("R2"))])
        assert fake.waits[-1][0] == 20
    finally:
        subscription.close()


def test_a_full_reader_array_leaves_out_the_pnp_entry(watcher: Watcher, fake: FakePCSC) -> None:
    for index in range(2, 16):
        fake.add_reader(f"R{index}")
    collector = Collector()
    subscription = watcher.subscribe(collector)
    try:
        assert len(collector.wait(1)[0][1]) == 16
        wait_until(lambda: fake.waits[-1][1] == 16)
        assert max(states for _, states in fake.waits) == 16
        assert fake.waits[-1][0] != C.INFINITE
    finally:
        subscription.close()


# -- life cycle -----------------------------------------------------------------------------------


def test_the_watcher_runs_only_while_someone_listens(fake: FakePCSC, watcher: Watcher) -> None:
    first, second = Collector(), Collector()
    one = watcher.subscribe(first)
    two = watcher.subscribe(second)
    first.wait(1)
    second.wait(1)
    assert watcher.subscriber_count == 2
    assert len(watcher.threads) == 1
    one.close()
    assert len(watcher.threads) == 1
    assert watcher.has_context
    watcher.linger = 0.3
    two.close()
    two.close()  # idempotent
    # Nobody left: it lingers, still watching, and a newcomer gets the state at once.
    [thread] = watcher.threads
    assert watcher.has_context
    wait_until(lambda: fake.waits[-1][0] != C.INFINITE)  # the nudge moved it to a bounded wait

    def state_now() -> list[MonitorEvent]:
        newcomer = Collector()
        watcher.subscribe(newcomer).close()
        return newcomer.batches[0][1]

    fake.insert("R1", ATR_B)
    wait_until(lambda: CardInserted(card("R1", ATR_B)) in state_now())
    assert state_now() == [
        ReaderAdded(Reader("R0")),
        ReaderAdded(Reader("R1")),
        CardInserted(card("R1", ATR_B)),
    ]
    assert watcher.threads == [thread]
    # Then the linger runs out and the thread ends by itself, its context released.
    thread.join(3)
    assert watcher.threads == []
    assert fake.open_contexts == 0


@pytest.mark.parametrize("linger", [0.0, 1.0])
def test_stopping_at_once_after_starting_never_hangs(
    fake: FakePCSC, watcher: Watcher, linger: float
) -> None:
    # Closing right after subscribing races the watcher entering its wait; a cancel
    # that lands before the wait is lost (as in pcsc-lite), so stopping (or, with a
    # linger, nudging) repeats it.
    watcher.linger = linger
    for _ in range(100):
        watcher.subscribe(Collector()).close()
        if linger == 0:
            assert not watcher.running
    assert watcher.stop_if_idle()


def test_a_failing_callback_is_logged_and_kept(
    fake: FakePCSC, watcher: Watcher, caplog: pytest.LogCaptureFixture
) -> None:
    collector = Collector()

    def failing(origin: Origin, events: Sequence[MonitorEvent]) -> None:
        collector(origin, events)
        raise ValueError("subscriber bug")

    subscription = watcher.subscribe(failing)
    try:
        with caplog.at_level(logging.ERROR, logger="aioscard.monitor"):
            collector.wait(1)
            fake.insert("R0")
            collector.wait(2)
        assert "subscriber bug" in caplog.text
    finally:
        subscription.close()


# -- losing the service ---------------------------------------------------------------------------


@pytest.mark.usefixtures("fast_backoff")
def test_losing_and_regaining_the_service(fake: FakePCSC, watcher: Watcher) -> None:
    fake.insert("R0")
    collector = Collector()
    subscription = watcher.subscribe(collector)
    try:
        collector.wait(1)
        fake.kill()
        origin, events = collector.wait(2)[1]
        assert origin is Origin.CHANGE
        assert isinstance(events[0], ServiceLost)
        assert events[1:] == [
            CardRemoved(card("R0")),
            ReaderRemoved(Reader("R0")),
            ReaderRemoved(Reader("R1")),
        ]
        assert not watcher.has_context  # nothing held while pcscd is away
        attempts = fake.establish_attempts
        time.sleep(0.2)
        assert fake.establish_attempts - attempts <= 8, "retries must back off"
        late = Collector()
        late_subscription = watcher.subscribe(late)  # told at once that pcscd is away
        assert late.wait(1)[0][0] is Origin.CHANGE
        assert isinstance(late.wait(1)[0][1][0], ServiceLost)
        late_subscription.close()
        fake.revive()
        assert collector.wait(3)[2] == (
            Origin.RESTORED,
            [
                ServiceRestored(),
                ReaderAdded(Reader("R0")),
                ReaderAdded(Reader("R1")),
                CardInserted(card("R0")),
            ],
        )
        fake.insert("R1", ATR_B)
        assert collector.wait(4)[3] == (Origin.CHANGE, [CardInserted(card("R1", ATR_B))])
    finally:
        subscription.close()


@pytest.mark.usefixtures("fast_backoff")
def test_leaving_after_the_service_went_away_is_prompt(fake: FakePCSC, watcher: Watcher) -> None:
    collector = Collector()
    subscription = watcher.subscribe(collector)
    collector.wait(1)
    wait_until(lambda: bool(fake.waits) and fake.waits[-1][0] == C.INFINITE)
    fake.kill()  # ends the INFINITE wait with an error; the watcher retries with backoff
    assert isinstance(collector.wait(2)[1][1][0], ServiceLost)
    started = time.perf_counter()
    subscription.close()
    assert time.perf_counter() - started < 0.5
    [thread] = watcher.threads
    thread.join(watcher.linger + 3)  # the linger runs out with pcscd still away
    assert not watcher.running


@pytest.mark.usefixtures("fast_backoff")
def test_stopping_while_the_service_is_away_is_prompt(fake: FakePCSC, watcher: Watcher) -> None:
    fake.kill()
    collector = Collector()
    subscription = watcher.subscribe(collector)
    assert isinstance(collector.wait(1)[0][1][0], ServiceLost)
    started = time.perf_counter()
    subscription.close()
    assert watcher.stop_if_idle()
    assert time.perf_counter() - started < 0.5


# -- async consumers over the process-wide watcher (with the fake installed) ----------------------


@pytest.fixture
def global_fake(fake: FakePCSC) -> Iterator[FakePCSC]:
    assert not get_watcher().running
    previous = set_pcsc(fake)
    try:
        yield fake
    finally:
        wait_until(lambda: not get_watcher().running)
        set_pcsc(previous)


@pytest.mark.anyio
@pytest.mark.usefixtures("fast_backoff")
async def test_a_stream_catches_up_after_an_overflow(global_fake: FakePCSC) -> None:
    fake = global_fake
    fake.insert("R0")
    async with card_events(buffer=2) as events:
        assert events.drain() == [CardInserted(card("R0"))]
        fake.remove("R0")
        fake.insert("R1")
        await anyio.to_thread.run_sync(lambda: wait_until(lambda: events.pending == 2))
        fake.kill()  # two more events: ServiceLost, CardRemoved(R1)
        await anyio.to_thread.run_sync(lambda: wait_until(watcher_lost))
        got = events.drain()
        assert got[0] == EventsDropped(4)
        # The catch-up: pcscd is away, and the card the consumer knew is gone.
        assert isinstance(got[1], ServiceLost)
        assert got[2:] == [CardRemoved(card("R0"))]
        fake.revive()
        with anyio.fail_after(3):
            assert await events.__anext__() == ServiceRestored()
            assert await events.__anext__() == CardInserted(card("R1"))


def watcher_lost() -> bool:
    runs = list(get_watcher()._runs)
    return bool(runs) and runs[0].lost is not None


@pytest.mark.anyio
async def test_waitforcard_on_the_fake(global_fake: FakePCSC) -> None:
    fake = global_fake
    request = CardRequest(newcardonly=True, readers=["R1"], timeout=5)
    fake.insert("R1")  # present before the wait: does not count

    async def insert_later() -> None:
        await anyio.sleep(0.05)
        fake.insert("R0")  # another reader: does not count
        fake.swap("R1", ATR_B)  # pulled and another card put in: counts

    async with anyio.create_task_group() as tasks:
        tasks.start_soon(insert_later)
        service = await request.waitforcard()
    assert service.connection.reader == "R1"
    with pytest.raises(CardRequestTimeoutException):
        await CardRequest(readers=["nowhere"], timeout=0.05).waitforcard()
