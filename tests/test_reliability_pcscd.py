"""pcscd killed (SIGKILL) and restarted again and again while everything is in use.

Monitors are subscribed, a ``waitforcard`` is pending and transmit loops run on
open connections.  Every failure is a documented exception, everything recovers
once pcscd is back, nothing hangs, and no thread, file descriptor or PC/SC
context is left behind -- neither in this process nor in pcscd.
"""

from __future__ import annotations

import time
from collections import Counter
from typing import TYPE_CHECKING

import anyio
import anyio.lowlevel
import pytest

import aioscard
from aioscard.monitor import (
    CardInserted,
    CardRemoved,
    MonitorEvent,
    ServiceLost,
    ServiceRestored,
    card_events,
    reader_events,
)
from aioscard.testing import Simulator, echo_apdu

from ._reliability import pcscd_clients, quiet_snapshot, settle, snapshot
from ._support import end_idle_watcher, off_loop

if TYPE_CHECKING:
    from collections.abc import AsyncIterable, Callable

    from aioscard.testing.plugin import CardFactory

pytestmark = pytest.mark.anyio

LOOP_READERS = (0, 1)  # transmit loops run on cards in these readers
WAIT_READER = 3  # the pending waitforcard watches this (empty) reader


class Traffic:
    """A transmit loop on one connection that rides out pcscd's deaths.

    ``ok`` counts successful round trips (each checked against its payload),
    ``errors`` the failures by exception class.  After a failure the loop waits
    for ``back`` (pcscd restarted and the card seen again), then reconnects.
    """

    def __init__(self, reader: str) -> None:
        self.connection = aioscard.Reader(reader).createConnection()
        self.ok = 0
        self.errors: Counter[str] = Counter()
        self.failed = anyio.Event()
        self.back = anyio.Event()
        self.progress = anyio.Event()

    async def run(self) -> None:
        await self.connection.connect()
        sequence = 0
        while True:
            sequence += 1
            payload = sequence.to_bytes(4, "big")
            try:
                response = await self.connection.transmit(echo_apdu(payload))
            except aioscard.SmartcardException as error:
                self.errors[type(error).__name__] += 1
                self.failed.set()
                await self.back.wait()
                try:
                    await self.recover()
                except aioscard.SmartcardException as failure:
                    self.errors[f"recovery: {type(failure).__name__}"] += 1
                continue
            assert bytes(response.data) == payload
            self.ok += 1
            self.progress.set()
            await anyio.lowlevel.checkpoint()

    async def recover(self) -> None:
        # What an application does: reconnect if the handle survived, else connect
        # anew (the connection forgets a handle whose context died).
        if self.connection.connected:
            try:
                await self.connection.reconnect()
                return
            except aioscard.SmartcardException as error:
                self.errors[f"reconnect: {type(error).__name__}"] += 1
        if self.connection.connected:
            await self.connection.disconnect()
        await self.connection.connect()


class Watch:
    """A consumer of a monitor stream, with an event per kind of event it waits for."""

    def __init__(self) -> None:
        self.events: list[MonitorEvent] = []
        self.lost = anyio.Event()
        self.restored = anyio.Event()
        self.inserted: set[str] = set()
        self.changed = anyio.Event()

    def reset(self) -> None:
        self.lost, self.restored, self.inserted = anyio.Event(), anyio.Event(), set()

    async def consume(self, stream: AsyncIterable[MonitorEvent]) -> None:
        async for event in stream:
            self.events.append(event)
            if isinstance(event, ServiceLost):
                self.lost.set()
            elif isinstance(event, ServiceRestored):
                self.restored.set()
            elif isinstance(event, CardInserted):
                self.inserted.add(event.card.reader.name)
            self.changed.set()
            self.changed = anyio.Event()


async def until(condition: Callable[[], bool], watch: Watch, within: float) -> None:
    with anyio.fail_after(within):
        while not condition():
            await watch.changed.wait()


def settle_clients(simulator: Simulator, expected: int, timeout: float = 5.0) -> int:
    """pcscd's client count once it is ``expected`` (old sockets close asynchronously)."""
    deadline = time.monotonic() + timeout
    while (count := pcscd_clients(simulator)) != expected and time.monotonic() < deadline:
        time.sleep(0.01)
    return count


@pytest.mark.parametrize(
    ("anyio_backend", "cycles"),
    [
        ("asyncio", 2),
        ("trio", 2),
        pytest.param("asyncio", 20, marks=pytest.mark.slow),
    ],
)
async def test_pcscd_killed_and_restarted_under_load(
    pcsc_simulator: Simulator, card_factory: CardFactory, cycles: int
) -> None:
    names = pcsc_simulator.reader_names
    for reader in LOOP_READERS:
        await off_loop(card_factory, reader=reader)
    baseline = await off_loop(quiet_snapshot, pcsc_simulator)
    loops = [Traffic(names[reader]) for reader in LOOP_READERS]
    cards, readers = Watch(), Watch()
    request = aioscard.CardRequest(readers=[names[WAIT_READER]], timeout=None)
    waited: list[aioscard.CardService] = []
    got_card = anyio.Event()
    lost_in: Counter[str] = Counter()

    async def wait_for_card() -> None:
        waited.append(await request.waitforcard())
        got_card.set()

    try:
        async with (
            card_events() as card_stream,
            reader_events() as reader_stream,
            anyio.create_task_group() as group,
        ):
            group.start_soon(cards.consume, card_stream)
            group.start_soon(readers.consume, reader_stream)
            group.start_soon(wait_for_card)
            for traffic in loops:
                group.start_soon(traffic.run)
            contexts_in_use = None
            for _cycle in range(cycles):
                for traffic in loops:
                    traffic.progress, traffic.failed, traffic.back = (anyio.Event() for _ in "pfb")
                for traffic in loops:
                    with anyio.fail_after(5):
                        await traffic.progress.wait()
                if contexts_in_use is None:
                    # The watcher's context and one per connection: nothing else, every cycle.
                    contexts_in_use = (await off_loop(snapshot, pcsc_simulator)).pcscd_clients
                cards.reset()
                readers.reset()
                await off_loop(pcsc_simulator.kill)
                for traffic in loops:
                    with anyio.fail_after(5):
                        await traffic.failed.wait()
                    traffic.progress = anyio.Event()  # the loop waits for `back` meanwhile
                with anyio.fail_after(5):
                    await cards.lost.wait()
                    await readers.lost.wait()
                await off_loop(pcsc_simulator.restart)
                await until(
                    lambda: (
                        cards.restored.is_set()
                        and {names[r] for r in LOOP_READERS} <= cards.inserted
                    ),
                    cards,
                    within=10,
                )
                with anyio.fail_after(5):
                    await readers.restored.wait()
                for traffic in loops:
                    traffic.back.set()
                for traffic in loops:
                    with anyio.fail_after(10):
                        await traffic.progress.wait()
                assert not waited, "the pending waitforcard ended while no card came"
                during = await off_loop(settle_clients, pcsc_simulator, contexts_in_use)
                assert during == contexts_in_use, "a dead context was not replaced one for one"
                for traffic in loops:
                    lost_in.update(traffic.errors)
                    traffic.errors.clear()
            # The pending wait is still alive after all this: a card ends it.
            await off_loop(card_factory, reader=WAIT_READER)
            with anyio.fail_after(5):
                await got_card.wait()
            assert waited[0].connection.reader == names[WAIT_READER]
            group.cancel_scope.cancel()
    finally:
        # Released even if the test failed half-way, or later tests would inherit them.
        for traffic in loops:
            await traffic.connection.release()
        for service in waited:
            await service.connection.release()
    await off_loop(card_factory.remove, WAIT_READER)  # its card thread and socket go

    kinds = {type(event).__name__ for event in cards.events}
    assert {"ServiceLost", "ServiceRestored", "CardInserted", "CardRemoved"} <= kinds
    lost = sum(isinstance(event, ServiceLost) for event in cards.events)
    assert lost == cycles
    assert sum(isinstance(event, CardRemoved) for event in cards.events) >= 2 * cycles
    # pcscd dying mid-call is reported by libpcsclite as NO_SERVICE, F_COMM_ERROR or
    # W_SECURITY_VIOLATION, whichever it meets: one exception class for all of them.
    assert set(lost_in) == {"ServiceUnavailableException"}, lost_in
    await off_loop(end_idle_watcher)
    after = await off_loop(settle, pcsc_simulator, baseline)
    assert after == baseline, f"before: {baseline}; after: {after}"
    print(
        f"\n{cycles} pcscd kill/restart cycles survived; errors seen: {dict(lost_in)}; "
        f"{sum(t.ok for t in loops)} APDUs answered; resources before and after: {after}"
    )
