"""The watcher's logic against a fake PC/SC layer (no pcscd): event counters, PnP,
losing and regaining the service, cancel races, polling, overflow catch-up.

The fake (``tests/_fakepcsc.py``) implements :class:`aioscard.native.PCSCAPI`
and behaves as pcsc-lite does where the watcher looks.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING

import anyio
import pytest

from aioscard import Card, CardRequest, CardRequestTimeoutException, Reader
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
from aioscard.native import constants as C

from ._fakepcsc import ATR_A, ATR_B, FakePCSC, as_api, installed
from ._support import end_idle_watcher

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence


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
    with installed(fake):
        try:
            yield fake
        finally:
            wait_until(lambda: not get_watcher().running)


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
        # The watcher marks the loss before it delivers it: wait for the stream's overflow
        # (one delivery of both events), which empties its buffer.
        await anyio.to_thread.run_sync(
            lambda: wait_until(lambda: watcher_lost() and events.pending == 0)
        )
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
