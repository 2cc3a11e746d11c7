"""card_events / reader_events and the shared watcher, against the real simulator.

Every test runs under asyncio and trio (anyio's pytest plugin).  Cards are
inserted and removed on a worker thread (the card factory waits up to 400 ms for
pcscd's presence poll), and tests wait for events, never for time.
"""

from __future__ import annotations

import asyncio
import threading
import time
from contextlib import AsyncExitStack
from typing import TYPE_CHECKING, TypeVar

import anyio
import pytest

import aioscard
from aioscard import Card, CardRequest, Reader
from aioscard.cardtype import ATRCardType
from aioscard.monitor import (
    CardInserted,
    CardRemoved,
    EventsDropped,
    EventStream,
    MonitorEvent,
    Origin,
    ReaderAdded,
    ServiceLost,
    ServiceRestored,
    Subscription,
    card_events,
    get_watcher,
    reader_events,
    subscribe,
)
from aioscard.testing import ATR_T0, DEMO_ATR, MASKABLE_ATR, Simulator

from ._support import (
    end_idle_watcher,
    join_lingering_watcher,
    new_threads,
    off_loop,
    pcscd_connections,
    thread_ids,
)

if TYPE_CHECKING:
    from collections.abc import Sequence

    from aioscard.testing.plugin import CardFactory

pytestmark = pytest.mark.anyio

T = TypeVar("T")
E = TypeVar("E", bound=MonitorEvent)


async def next_event(events: EventStream[E], within: float = 3.0) -> E:
    with anyio.fail_after(within):
        return await events.__anext__()


def watcher_threads() -> list[threading.Thread]:
    return [thread for thread in threading.enumerate() if thread.name == "aioscard-watcher"]


@pytest.fixture
def names(pcsc_simulator: Simulator) -> list[str]:
    return pcsc_simulator.reader_names


# -- events ---------------------------------------------------------------------------------------


async def test_insertions_and_removals_arrive_in_order_with_reader_and_atr(
    card_factory: CardFactory, names: list[str]
) -> None:
    async with card_events(initial=False) as events:
        await off_loop(card_factory, ATR_T0, reader=1)
        await off_loop(card_factory.remove, 1)
        await off_loop(card_factory, MASKABLE_ATR, reader=2)
        await off_loop(card_factory.remove, 2)
        got = [await next_event(events) for _ in range(4)]
    assert got == [
        CardInserted(Card(names[1], ATR_T0)),
        CardRemoved(Card(names[1], ATR_T0)),
        CardInserted(Card(names[2], MASKABLE_ATR)),
        CardRemoved(Card(names[2], MASKABLE_ATR)),
    ]
    first, third = got[0], got[2]
    assert isinstance(first, CardInserted)
    assert first.reader == Reader(names[1])
    assert isinstance(third, CardInserted)
    assert third.card.atr == list(MASKABLE_ATR)


async def test_events_work_with_match(card_factory: CardFactory, names: list[str]) -> None:
    seen: list[str] = []
    async with card_events(initial=False) as events:
        await off_loop(card_factory, reader=0)
        await off_loop(card_factory.remove, 0)
        for _ in range(2):
            match await next_event(events):
                case CardInserted(card):
                    seen.append(f"in {card.reader}")
                case CardRemoved(card):
                    seen.append(f"out {card.reader}")
    assert seen == [f"in {names[0]}", f"out {names[0]}"]


async def test_initial_reports_cards_already_present_first(
    card_factory: CardFactory, names: list[str]
) -> None:
    await off_loop(card_factory, ATR_T0, reader=3)
    async with card_events() as events:
        assert await next_event(events) == CardInserted(Card(names[3], ATR_T0))
        assert events.pending == 0
    async with card_events(initial=False) as events:
        assert events.drain() == []
        await off_loop(card_factory.remove, 3)
        # Not told about the card at the start, but told that it left.
        assert await next_event(events) == CardRemoved(Card(names[3], ATR_T0))


async def test_a_second_subscriber_gets_the_present_state_from_the_running_watcher(
    card_factory: CardFactory, names: list[str]
) -> None:
    await off_loop(card_factory, reader=1)
    async with card_events() as first:
        assert await next_event(first) == CardInserted(Card(names[1], DEMO_ATR))
        async with card_events() as second:
            assert second.drain() == [CardInserted(Card(names[1], DEMO_ATR))]
        assert len(watcher_threads()) == 1


async def test_reader_subset_filters_events(card_factory: CardFactory, names: list[str]) -> None:
    async with AsyncExitStack() as stack:
        by_reader = await stack.enter_async_context(card_events([Reader(names[2])]))
        by_name = await stack.enter_async_context(card_events([names[2], "no such reader"]))
        await off_loop(card_factory, reader=1)
        await off_loop(card_factory, reader=2)
        for events in (by_reader, by_name):
            assert await next_event(events) == CardInserted(Card(names[2], DEMO_ATR))
            assert events.drain() == []


async def test_card_type_with_atr_mask_filters_events(
    card_factory: CardFactory, names: list[str]
) -> None:
    # Match DEMO_ATR's first three bytes and length, whatever the historical bytes.
    mask = [0xFF] * 3 + [0x00] * (len(DEMO_ATR) - 3)
    other_history = DEMO_ATR[:3] + b"ABCDEFGH" + DEMO_ATR[-1:]
    card_type = ATRCardType(DEMO_ATR, mask)
    async with card_events(cardType=card_type, initial=False) as events:
        await off_loop(card_factory, ATR_T0, reader=0)  # another length: no match
        await off_loop(card_factory, other_history, reader=1)
        assert await next_event(events) == CardInserted(Card(names[1], other_history))
        assert events.drain() == []


async def test_an_error_in_the_card_type_reaches_the_consumer(card_factory: CardFactory) -> None:
    class Broken(ATRCardType):
        def matches(self, atr: object, reader: object = None) -> bool:
            raise ZeroDivisionError("card type bug")

    async with card_events(cardType=Broken(DEMO_ATR), initial=False) as events:
        await off_loop(card_factory, reader=0)
        with pytest.raises(ZeroDivisionError, match="card type bug"):
            await next_event(events)


async def test_reader_events_report_the_readers(pcsc_simulator: Simulator) -> None:
    async with reader_events() as events:
        got = events.drain()
    assert got == [ReaderAdded(Reader(name)) for name in pcsc_simulator.reader_names]
    async with reader_events(initial=False) as events:
        assert events.drain() == []


async def test_a_stream_must_be_entered_before_use() -> None:
    events = card_events()
    with pytest.raises(RuntimeError, match="async with"):
        await events.__anext__()
    with pytest.raises(TypeError, match="single"):
        card_events("reader name")
    with pytest.raises(ValueError, match="buffer"):
        card_events(buffer=0)


async def test_closing_the_stream_ends_a_waiting_async_for(card_factory: CardFactory) -> None:
    got: list[MonitorEvent] = []
    async with card_events(initial=False) as events:

        async def consume() -> None:
            got.extend([event async for event in events])

        async with anyio.create_task_group() as tasks:
            tasks.start_soon(consume)
            await anyio.wait_all_tasks_blocked()
            await events.aclose()
    assert got == []


# -- slow consumers -------------------------------------------------------------------------------


async def test_overflow_drops_the_backlog_and_resyncs(
    card_factory: CardFactory, names: list[str]
) -> None:
    async with card_events(initial=False, buffer=1) as events:
        await off_loop(card_factory, reader=0)
        await off_loop(card_factory, reader=1)
        await off_loop(card_factory.remove, 0)
        got = events.drain()
        assert got[0] == EventsDropped(3)
        # The catch-up: what is true now, relative to what the consumer was told (nothing).
        assert got[1:] == [CardInserted(Card(names[1], DEMO_ATR))]
        await off_loop(card_factory.remove, 1)
        assert await next_event(events) == CardRemoved(Card(names[1], DEMO_ATR))


async def test_a_slow_consumer_does_not_hold_up_the_others(card_factory: CardFactory) -> None:
    async with card_events(initial=False, buffer=1) as idle, card_events(initial=False) as busy:
        for reader in range(3):
            await off_loop(card_factory, reader=reader)
        assert len([await next_event(busy) for _ in range(3)]) == 3
        assert isinstance(idle.drain()[0], EventsDropped)


# -- cancellation and clean-up --------------------------------------------------------------------


async def test_cancelling_a_pending_async_for_is_prompt_and_leaves_nothing(
    pcsc_simulator: Simulator,
) -> None:
    await aioscard.readers()  # warm up: the pool keeps an idle worker thread
    await off_loop(thread_ids)  # and so does anyio's, which joins the watcher below
    threads_before = thread_ids()
    contexts_before = pcscd_connections(pcsc_simulator)
    entered = anyio.Event()
    cancelled_at = 0.0

    async def consume() -> None:
        async with card_events(initial=False) as events:
            entered.set()
            async for _event in events:
                pass

    async with anyio.create_task_group() as tasks:
        tasks.start_soon(consume)
        await entered.wait()
        assert len(watcher_threads()) == 1
        assert pcscd_connections(pcsc_simulator) == contexts_before + 1
        await anyio.wait_all_tasks_blocked()
        cancelled_at = time.perf_counter()
        tasks.cancel_scope.cancel()
    elapsed = time.perf_counter() - cancelled_at
    assert elapsed < 0.5, f"cancellation took {elapsed * 1000:.1f} ms"
    assert get_watcher().subscriber_count == 0
    await off_loop(join_lingering_watcher)  # it lingers, then ends on its own
    assert watcher_threads() == []
    assert not new_threads(threads_before)
    assert pcscd_connections(pcsc_simulator) == contexts_before


async def test_entering_a_stream_can_be_cancelled(pcsc_simulator: Simulator) -> None:
    with anyio.CancelScope() as scope:
        scope.cancel()
        async with card_events():
            pytest.fail("entered a cancelled scope")
    assert get_watcher().subscriber_count == 0


# -- many subscribers, one watcher ----------------------------------------------------------------


async def test_a_thousand_waiters_and_subscribers_share_one_watcher_and_context(
    pcsc_simulator: Simulator, card_factory: CardFactory, names: list[str]
) -> None:
    count = 1000
    contexts_before = pcscd_connections(pcsc_simulator)
    ready = 0
    all_ready = anyio.Event()
    services: list[aioscard.CardService] = []
    events_seen: list[MonitorEvent] = []

    def one_ready() -> None:
        nonlocal ready
        ready += 1
        if ready == 2 * count:
            all_ready.set()

    async def subscriber() -> None:
        async with card_events(initial=False) as events:
            one_ready()
            event = await next_event(events, 10)
            events_seen.append(event)

    async def waiter() -> None:
        request = CardRequest(newcardonly=True, timeout=10)
        pending = request.waitforcard()
        one_ready()  # registered within the next scheduling step
        services.append(await pending)

    async with anyio.create_task_group() as tasks:
        for _ in range(count):
            tasks.start_soon(subscriber)
            tasks.start_soon(waiter)
        with anyio.fail_after(10):
            await all_ready.wait()
        await anyio.wait_all_tasks_blocked()  # every waiter is parked on its subscription
        assert get_watcher().subscriber_count == 2 * count
        assert len(watcher_threads()) == 1
        assert pcscd_connections(pcsc_simulator) == contexts_before + 1
        cpu_before, wall_before = time.process_time(), time.perf_counter()
        await anyio.sleep(1.0)
        cpu = time.process_time() - cpu_before
        wall = time.perf_counter() - wall_before
        print(
            f"\nidle with {count} waiters + {count} subscribers: {cpu * 1000:.1f} ms CPU in "
            f"{wall:.2f} s"
        )
        assert cpu < 0.25 * wall, "the idle process should not be busy"
        await off_loop(card_factory, reader=3)
    assert events_seen == [CardInserted(Card(names[3], DEMO_ATR))] * count
    assert len(services) == count
    assert {service.connection.reader for service in services} == {names[3]}
    await off_loop(end_idle_watcher)
    assert pcscd_connections(pcsc_simulator) == contexts_before


# -- pcscd going away -----------------------------------------------------------------------------


async def test_service_loss_is_reported_and_events_resume_after_restart(
    pcsc_simulator: Simulator, card_factory: CardFactory, names: list[str]
) -> None:
    await off_loop(card_factory, reader=0)
    card0 = Card(names[0], DEMO_ATR)
    async with card_events() as cards, reader_events(initial=False) as readers:
        assert await next_event(cards) == CardInserted(card0)
        await off_loop(pcsc_simulator.kill)
        lost = await next_event(cards)
        assert isinstance(lost, ServiceLost)
        assert isinstance(lost.error, aioscard.SmartcardException)
        assert await next_event(cards) == CardRemoved(card0)
        assert isinstance(await next_event(readers), ServiceLost)
        assert len(readers.drain()) == len(names)  # every reader reported removed
        await off_loop(pcsc_simulator.restart)
        assert await next_event(cards, 5) == ServiceRestored()
        assert await next_event(cards) == CardInserted(card0)  # reported again
        assert await next_event(readers) == ServiceRestored()
        assert readers.drain() == [ReaderAdded(Reader(name)) for name in names]
        await off_loop(card_factory, ATR_T0, reader=1)
        assert await next_event(cards) == CardInserted(Card(names[1], ATR_T0))


async def test_a_subscriber_arriving_while_pcscd_is_down_is_told_at_once(
    pcsc_simulator: Simulator, names: list[str]
) -> None:
    async with reader_events() as first:
        assert len(first.drain()) == len(names)
        await off_loop(pcsc_simulator.kill)
        assert isinstance(await next_event(first), ServiceLost)
        assert len(first.drain()) == len(names)  # the readers, removed
        try:
            async with card_events() as late:
                assert isinstance(late.drain()[0], ServiceLost)
        finally:
            await off_loop(pcsc_simulator.restart)
        assert await next_event(first, 5) == ServiceRestored()


# -- the synchronous interface (for pyscard-style observers) --------------------------------------


def test_sync_subscribers_get_batches_on_the_watcher_thread(
    card_factory: CardFactory, names: list[str]
) -> None:
    batches: list[tuple[Origin, list[MonitorEvent], str]] = []
    arrived = threading.Condition()

    def callback(origin: Origin, events: Sequence[MonitorEvent]) -> None:
        with arrived:
            batches.append((origin, list(events), threading.current_thread().name))
            arrived.notify_all()

    subscription = subscribe(callback)
    try:
        with arrived:
            assert arrived.wait_for(lambda: len(batches) == 1, timeout=3)
        card_factory(reader=2)
        with arrived:
            assert arrived.wait_for(lambda: len(batches) == 2, timeout=3)
    finally:
        subscription.close()
    assert subscription.closed
    initial, inserted = batches
    assert initial[0] is Origin.INITIAL
    assert initial[1] == [ReaderAdded(Reader(name)) for name in names]
    assert initial[2] == "aioscard-watcher"
    assert inserted[:2] == (Origin.CHANGE, [CardInserted(Card(names[2], DEMO_ATR))])
    end_idle_watcher()
    assert watcher_threads() == []


def test_a_callback_may_close_its_own_subscription(pcsc_simulator: Simulator) -> None:
    subscriptions: list[Subscription] = []
    subscribed, done = threading.Event(), threading.Event()

    def callback(origin: Origin, events: Sequence[MonitorEvent]) -> None:
        assert subscribed.wait(3)
        subscriptions[0].close()  # on the watcher thread: does not wait for itself
        done.set()

    subscriptions.append(subscribe(callback))
    threads = get_watcher().threads
    subscribed.set()
    assert done.wait(3)
    for thread in threads:
        thread.join(3)  # the watcher ends on its own once the callback returns
    assert subscriptions[0].closed


def test_a_stream_whose_loop_closed_is_dropped(card_factory: CardFactory) -> None:
    loop = asyncio.new_event_loop()
    events = card_events(initial=False, buffer=1)
    loop.run_until_complete(events.__aenter__())
    loop.close()  # never left the `async with`: the watcher finds out at overflow
    threads = get_watcher().threads
    card_factory(reader=0)
    card_factory(reader=1)
    for thread in threads:
        thread.join(3)
    assert not get_watcher().running
