"""CardRequest against the real simulator, under asyncio and trio.

waitforcard and waitforcardevent keep pyscard's semantics (newcardonly,
readers, cardType, timeout) and add real cancellation: a cancelled wait is a
cancellation, not a timeout, returns within milliseconds and leaves no thread
or PC/SC context behind.
"""

from __future__ import annotations

import asyncio
import sys
import threading
import time
from typing import TYPE_CHECKING, TypeVar

import anyio
import pytest

import aioscard
from aioscard import (
    ATRCardType,
    Card,
    CardRequest,
    CardRequestTimeoutException,
    PassThruCardService,
    Reader,
)
from aioscard.monitor import (
    CardInserted,
    ServiceLost,
    ServiceRestored,
    card_events,
    get_watcher,
    subscribe,
)
from aioscard.testing import ATR_T0, DEMO_ATR, MASKABLE_ATR, Simulator

from ._support import (
    join_lingering_watcher,
    new_threads,
    off_loop,
    pcscd_connections,
    thread_ids,
)

if TYPE_CHECKING:
    from aioscard.testing.plugin import CardFactory

T = TypeVar("T")

GET_CHALLENGE = [0x00, 0x84, 0x00, 0x00, 0x08]


@pytest.fixture
def names(pcsc_simulator: Simulator) -> list[str]:
    return pcsc_simulator.reader_names


async def subscribers_reach(count: int) -> None:
    """Wait until the waits just started have subscribed to the watcher (a task
    blocked in ``waitforcard`` has subscribed before it blocks) and the watcher
    knows the readers' state: a card inserted before its first look would count
    as already there, and the simulator's driver reports an insertion at once."""
    with anyio.fail_after(3):
        await anyio.wait_all_tasks_blocked()
    assert get_watcher().subscriber_count == count
    synced = threading.Event()
    subscription = subscribe(lambda origin, events: synced.set())
    try:
        assert await anyio.to_thread.run_sync(synced.wait, 3)
    finally:
        subscription.close()


# -- waitforcard ----------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_a_present_card_is_returned_at_once_with_an_unconnected_service(
    card_factory: CardFactory, names: list[str]
) -> None:
    await off_loop(card_factory, reader=1)
    service = await CardRequest(timeout=1).waitforcard()
    assert type(service) is PassThruCardService
    connection = service.connection
    assert connection.reader == names[1]
    assert not connection.connected  # pyscard: created, not connected
    async with connection:
        data, sw1, sw2 = await connection.transmit(GET_CHALLENGE)
    assert (len(data), sw1, sw2) == (8, 0x90, 0x00)


@pytest.mark.anyio
async def test_async_with_waitforcard_connects_and_releases(card_factory: CardFactory) -> None:
    await off_loop(card_factory, reader=0)
    async with CardRequest(timeout=1).waitforcard() as service:
        assert service.connection.connected
        assert service.connection.getATR() == list(DEMO_ATR)
        connection = service.connection
    assert not connection.connected


@pytest.mark.anyio
async def test_newcardonly_waits_for_a_card_inserted_after_the_call(
    card_factory: CardFactory, names: list[str]
) -> None:
    await off_loop(card_factory, reader=0)
    request = CardRequest(newcardonly=True, timeout=5)
    found: list[aioscard.CardService] = []

    async def wait() -> None:
        found.append(await request.waitforcard())

    # An open stream keeps the watcher's first look before the wait begins: the wait is
    # handed that state at once, and the card below is new to it however loaded the machine.
    async with card_events() as watching, anyio.create_task_group() as tasks:
        with anyio.fail_after(3):
            await watching.__anext__()
        tasks.start_soon(wait)
        await subscribers_reach(2)
        await off_loop(card_factory, ATR_T0, reader=2)
    assert [service.connection.reader for service in found] == [names[2]]


@pytest.mark.anyio
async def test_only_the_readers_asked_for_count(
    card_factory: CardFactory, names: list[str]
) -> None:
    await off_loop(card_factory, reader=1)
    by_name = CardRequest(readers=[names[2]], timeout=0.3)
    with pytest.raises(CardRequestTimeoutException):
        await by_name.waitforcard()
    await off_loop(card_factory, reader=2)
    by_reader = CardRequest(readers=[Reader(names[2])], timeout=1)
    assert (await by_reader.waitforcard()).connection.reader == names[2]
    assert await by_reader.getReaders() == [Reader(names[2])]


@pytest.mark.anyio
async def test_atr_masks_select_the_card(card_factory: CardFactory, names: list[str]) -> None:
    # The legacy pattern: a 32-byte ATR whose last 14 bytes vary from card to card.
    mask = [0xFF] * 18 + [0x00] * 14
    variant = MASKABLE_ATR[:18] + bytes(range(1, 15))
    await off_loop(card_factory, DEMO_ATR, reader=0)
    await off_loop(card_factory, variant, reader=3)
    request = CardRequest(cardType=ATRCardType(MASKABLE_ATR, mask), timeout=1)
    service = await request.waitforcard()
    assert service.connection.reader == names[3]


@pytest.mark.anyio
async def test_expiry_raises_card_request_timeout(pcsc_simulator: Simulator) -> None:
    started = time.perf_counter()
    with pytest.raises(CardRequestTimeoutException) as caught:
        await CardRequest(timeout=0.2).waitforcard()
    elapsed = time.perf_counter() - started
    assert 0.2 <= elapsed < 2
    assert isinstance(caught.value, aioscard.TimeoutException)


@pytest.mark.anyio
async def test_timeout_zero_still_finds_a_present_card(card_factory: CardFactory) -> None:
    await off_loop(card_factory, reader=0)
    await CardRequest(timeout=0).waitforcard()
    with pytest.raises(CardRequestTimeoutException):
        await CardRequest(newcardonly=True, timeout=0).waitforcard()


@pytest.mark.anyio
async def test_a_custom_service_class_is_returned(card_factory: CardFactory) -> None:
    class MyService(PassThruCardService):
        pass

    await off_loop(card_factory, reader=0)
    assert type(await CardRequest(cardServiceClass=MyService).waitforcard()) is MyService


@pytest.mark.anyio
async def test_cancelling_a_pending_wait_is_prompt_and_leaves_nothing(
    pcsc_simulator: Simulator,
) -> None:
    await aioscard.readers()  # warm up: the pool keeps an idle worker thread
    await off_loop(thread_ids)  # and so does anyio's, which joins the watcher below
    threads_before = thread_ids()
    contexts_before = pcscd_connections(pcsc_simulator)
    request = CardRequest(newcardonly=True, timeout=None)
    with anyio.move_on_after(0.3) as scope:
        await request.waitforcard()
    deadline = scope.deadline
    lateness = anyio.current_time() - deadline
    assert scope.cancelled_caught  # a cancellation, not a CardRequestTimeoutException
    print(f"\ncancelled wait returned {lateness * 1000:.2f} ms after the deadline")
    assert lateness < 0.5
    assert get_watcher().subscriber_count == 0
    # The watcher lingers, still watching, and the next wait reuses it ...
    lingering = get_watcher().threads
    assert len(lingering) == 1
    with anyio.move_on_after(0.05):
        await request.waitforcard()
    assert get_watcher().threads == lingering
    # ... and once nobody is back it ends on its own, leaving nothing behind.
    await off_loop(join_lingering_watcher)
    assert not new_threads(threads_before)
    assert pcscd_connections(pcsc_simulator) == contexts_before


@pytest.mark.asyncio
async def test_asyncio_cancellation_is_not_a_timeout(pcsc_simulator: Simulator) -> None:
    request = CardRequest(newcardonly=True, timeout=None)

    async def wait_briefly() -> None:
        if sys.version_info >= (3, 11):
            async with asyncio.timeout(0.1):
                await request.waitforcard()
        else:  # asyncio.timeout is new in 3.11
            await asyncio.wait_for(request.waitforcard(), 0.1)

    with pytest.raises(asyncio.TimeoutError) as caught:
        await wait_briefly()
    assert not isinstance(caught.value, CardRequestTimeoutException)
    task = asyncio.ensure_future(request.waitforcard())
    await anyio.wait_all_tasks_blocked()
    started = time.perf_counter()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert time.perf_counter() - started < 0.5
    assert get_watcher().subscriber_count == 0


@pytest.mark.anyio
async def test_a_pending_wait_survives_a_pcscd_restart(
    pcsc_simulator: Simulator, card_factory: CardFactory, names: list[str]
) -> None:
    await off_loop(card_factory, reader=0)  # present: reported again after the restart
    request = CardRequest(newcardonly=True, timeout=10)
    found: list[aioscard.CardService] = []

    async def wait() -> None:
        found.append(await request.waitforcard())

    # A stream that follows the service, so that the test waits for events, not time.
    async with card_events() as events, anyio.create_task_group() as tasks:
        assert events.drain() == [CardInserted(Card(names[0], DEMO_ATR))]
        tasks.start_soon(wait)
        await subscribers_reach(2)
        await off_loop(pcsc_simulator.kill)
        with anyio.fail_after(3):
            assert isinstance(await events.__anext__(), ServiceLost)
            await off_loop(pcsc_simulator.restart)
            while not isinstance(await events.__anext__(), ServiceRestored):
                pass
            assert not found  # the card seen before the loss is not a new one
            await off_loop(card_factory, ATR_T0, reader=1)
    assert [service.connection.reader for service in found] == [names[1]]
    async with found[0] as service:
        assert service.connection.getATR() == list(ATR_T0)


# -- waitforcardevent -----------------------------------------------------------------------------


@pytest.mark.anyio
async def test_waitforcardevent_reports_changes_since_the_previous_call(
    card_factory: CardFactory, names: list[str]
) -> None:
    card = {reader: Card(names[reader], DEMO_ATR) for reader in range(4)}
    await off_loop(card_factory, reader=0)
    async with CardRequest(timeout=2) as request:
        assert await request.waitforcardevent() == ([card[0]], [])
        await off_loop(card_factory, reader=1)
        await off_loop(card_factory.remove, 0)
        assert await request.waitforcardevent() == ([card[1]], [card[0]])
        # In and out again between two calls: nothing is lost.
        await off_loop(card_factory, reader=2)
        await off_loop(card_factory.remove, 2)
        assert await request.waitforcardevent() == ([card[2]], [card[2]])
        with pytest.raises(CardRequestTimeoutException):
            await request.waitforcardevent()
        assert get_watcher().running  # the request still watches until it is closed


@pytest.mark.anyio
async def test_waitforcardevent_with_newcardonly_and_readers(
    card_factory: CardFactory, names: list[str]
) -> None:
    await off_loop(card_factory, reader=0)
    request = CardRequest(newcardonly=True, readers=[names[3]], timeout=0.2)
    try:
        with pytest.raises(CardRequestTimeoutException):
            await request.waitforcardevent()
        await off_loop(card_factory, reader=1)
        await off_loop(card_factory, ATR_T0, reader=3)
        assert await request.waitforcardevent() == ([Card(names[3], ATR_T0)], [])
    finally:
        await request.aclose()


# -- the rest of the surface ----------------------------------------------------------------------


@pytest.mark.anyio
async def test_get_readers_lists_every_reader_when_none_were_asked(names: list[str]) -> None:
    assert await CardRequest().getReaders() == [Reader(name) for name in names]


def test_bad_arguments_are_refused_naming_them() -> None:
    with pytest.raises(ValueError, match="timeout"):
        CardRequest(timeout=-1)
    with pytest.raises(TypeError, match="timeout"):
        CardRequest(timeout="1")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="cardType"):
        CardRequest(cardType=DEMO_ATR)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="cardServiceClass"):
        CardRequest(cardServiceClass=object)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="readers"):
        CardRequest(readers="a reader")
    request = CardRequest(readers=["A"], timeout=None)
    assert "readers=['A']" in repr(request)
    assert request.readersAsked == [Reader("A")]
