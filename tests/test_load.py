"""Load: many tasks on one connection, eight readers at once, and thousands of
cancellations -- every response reaches the task that sent its command, and the
process ends with the threads, descriptors and PC/SC contexts it started with.

Every command is an ECHO of a payload unique to its sender, so a response that
went to the wrong task (or a stale response from a cancelled command) shows.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import threading
from typing import TYPE_CHECKING

import anyio
import anyio.abc
import anyio.lowlevel
import pytest

import aioscard
from aioscard.monitor import card_events, get_watcher
from aioscard.testing import DemoCard, Simulator, delay_apdu, echo_apdu

from ._reliability import quiet_snapshot, settle
from ._support import end_idle_watcher, off_loop

if TYPE_CHECKING:
    from aioscard.testing.plugin import CardFactory

pytestmark = pytest.mark.anyio


def payload(task: int, index: int) -> bytes:
    return task.to_bytes(1, "big") + index.to_bytes(2, "big") + bytes([task ^ index & 0xFF])


# -- one connection, many tasks -------------------------------------------------------------


@pytest.mark.parametrize(
    ("anyio_backend", "per_task"),
    [("asyncio", 40), ("trio", 40), pytest.param("asyncio", 1000, marks=pytest.mark.slow)],
)
async def test_32_tasks_share_one_connection(
    pcsc_simulator: Simulator, card_factory: CardFactory, per_task: int
) -> None:
    await off_loop(card_factory, reader=0)
    counts = [0] * 32
    async with aioscard.Reader(pcsc_simulator.reader_names[0]).createConnection() as connection:

        async def task(number: int) -> None:
            for index in range(per_task):
                sent = payload(number, index)
                response = await connection.transmit(echo_apdu(sent))
                assert bytes(response.data) == sent, f"task {number} got another's answer"
                counts[number] += 1

        async with anyio.create_task_group() as group:
            for number in range(32):
                group.start_soon(task, number)
    assert counts == [per_task] * 32
    print(f"\n32 tasks x {per_task} APDUs on one connection: all answers matched")


# -- eight readers, in a process with its own simulator ---------------------------------------

EIGHT_READERS = """
import json, os, sys, time
import anyio
import aioscard
from aioscard.testing import Simulator, echo_apdu
from aioscard.testing.plugin import wait_reader_state

per_connection, tasks = int(sys.argv[1]), int(sys.argv[2])
with Simulator(8) as simulator:
    os.environ.update(simulator.env)  # before this process's first PC/SC call
    for reader in range(8):
        simulator.insert(reader=reader, wait=False)
    for reader in range(8):
        wait_reader_state(simulator, reader, present=True)
    answered = [0] * 8

    async def one_task(connection, reader, task):
        for index in range(per_connection // tasks):
            sent = bytes([reader, task]) + index.to_bytes(2, "big")
            response = await connection.transmit(echo_apdu(sent))
            assert bytes(response.data) == sent, (reader, task, index)
            answered[reader] += 1

    async def main():
        readers = await aioscard.readers()
        assert len(readers) == 8, readers
        connections = [reader.createConnection() for reader in readers]
        for connection in connections:
            await connection.connect()
        started = time.monotonic()
        async with anyio.create_task_group() as group:
            for reader, connection in enumerate(connections):
                for task in range(tasks):
                    group.start_soon(one_task, connection, reader, task)
        elapsed = time.monotonic() - started
        for connection in connections:
            await connection.release()
        return elapsed

    elapsed = anyio.run(main)
print(json.dumps({"answered": answered, "seconds": elapsed}))
"""


@pytest.mark.parametrize(
    "per_connection", [200, pytest.param(1000, marks=pytest.mark.slow)], ids=["short", "long"]
)
def test_eight_connections_on_eight_readers_at_once(per_connection: int) -> None:
    # libpcsclite latches one pcscd per process, and the session's has 4 readers: a
    # child process runs its own simulator with 8.
    result = subprocess.run(
        [
            sys.executable,
            "-W",
            "error",
            "-c",
            textwrap.dedent(EIGHT_READERS),
            str(per_connection),
            "4",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    report = json.loads(result.stdout)
    assert report["answered"] == [per_connection] * 8
    rate = 8 * per_connection / report["seconds"]
    print(f"\n8 readers x {per_connection} APDUs (4 tasks each): all matched, {rate:.0f} APDU/s")


# -- thousands of cancellations -----------------------------------------------------------


class Busy(DemoCard):
    """A demo card that says when it starts working on a command, and holds it for as
    long as its ``gate`` is closed."""

    def __init__(self) -> None:
        super().__init__()
        self.working = threading.Event()
        self.gate = threading.Event()
        self.gate.set()

    def __call__(self, apdu: bytes, /) -> bytes:
        self.working.set()
        assert self.gate.wait(10)
        return super().__call__(apdu)


@pytest.mark.parametrize(
    ("anyio_backend", "count"),
    [("asyncio", 400), ("trio", 400), pytest.param("asyncio", 10_000, marks=pytest.mark.slow)],
)
async def test_cancelled_transmits_leave_nothing_behind(
    pcsc_simulator: Simulator, card_factory: CardFactory, count: int
) -> None:
    baseline = await off_loop(quiet_snapshot, pcsc_simulator)
    busy = Busy()
    card = await off_loop(card_factory, handler=busy, reader=1)
    cancelled = 0
    answered = 0
    held = 0  # rounds cancelled while the card held their first command
    batch = 20
    async with aioscard.Reader(pcsc_simulator.reader_names[1]).createConnection() as connection:
        for round_ in range(count // batch):
            scopes: list[anyio.CancelScope] = []

            async def doomed(
                index: int,
                scopes: list[anyio.CancelScope] = scopes,
                *,
                task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED,
            ) -> None:
                nonlocal cancelled, answered
                with anyio.CancelScope() as scope:
                    scopes.append(scope)
                    task_status.started()
                    # Every fifth command keeps the card busy, so that others are
                    # cancelled while queued behind it or while with the card.
                    command = delay_apdu(1) if index % 5 == 0 else echo_apdu(b"x" * 200)
                    await connection.transmit(command)
                    answered += 1
                cancelled += scope.cancelled_caught

            busy.working.clear()
            hold = round_ % 3 == 2
            if hold:
                busy.gate.clear()
            seen = card.apdu_count
            async with anyio.create_task_group() as group:
                for index in range(batch):
                    await group.start(doomed, index)
                if hold:
                    # Cancel while the card works on the first command, the rest queued.
                    assert await off_loop(busy.working.wait, 5)
                    held += 1
                else:
                    # Cancel after a varying number of scheduler turns: before, during
                    # and after the hand-off to the worker.
                    for _ in range(round_ % 7):
                        await anyio.lowlevel.checkpoint()
                for scope in scopes:
                    scope.cancel()
            busy.gate.set()
            # Nothing stale arrives afterwards: the next caller gets its own answer.
            fresh = round_.to_bytes(4, "big")
            assert bytes((await connection.transmit(echo_apdu(fresh))).data) == fresh
            if hold:
                # The command with the card finished there; the 19 queued were never sent.
                assert card.apdu_count == seen + 2
    reached = card.apdu_count - count // batch - answered  # cancelled, yet with the card
    await off_loop(card_factory.remove, 1)
    after = await off_loop(settle, pcsc_simulator, baseline)
    assert cancelled + answered == count
    assert cancelled >= held * batch
    assert after == baseline, f"before: {baseline}; after: {after}"
    print(
        f"\n{cancelled} cancelled transmits ({reached} of them already with the card, "
        f"{answered} finished first); resources: {after}"
    )


@pytest.mark.parametrize(
    ("anyio_backend", "count"),
    [("asyncio", 400), ("trio", 400), pytest.param("asyncio", 10_000, marks=pytest.mark.slow)],
)
async def test_cancelled_waits_leave_nothing_behind(pcsc_simulator: Simulator, count: int) -> None:
    empty = pcsc_simulator.reader_names[2]
    baseline = await off_loop(quiet_snapshot, pcsc_simulator)
    watcher = get_watcher()
    waiting = 0  # waits cancelled while subscribed and waiting for a card
    batch = 100

    async def cancelled_waits(round_: int, settled: bool) -> None:
        nonlocal waiting
        request = aioscard.CardRequest(readers=[empty], timeout=None)

        async def wait() -> None:
            await request.waitforcard()
            pytest.fail("no card was inserted")

        async def watch() -> None:
            async with card_events([empty], initial=False) as events:
                async for _ in events:
                    pytest.fail("no card was inserted")

        async with anyio.create_task_group() as group:
            for index in range(batch):
                # One in ten is a monitor stream; the rest are card requests.
                group.start_soon(watch if index % 10 == 0 else wait)
            if settled:
                # With the watcher's state known, each wait is live as soon as it
                # subscribes: once every task is blocked, all of them wait for a card.
                await anyio.wait_all_tasks_blocked()
                assert watcher.subscriber_count == batch + 1
                waiting += batch
            else:
                # Cancelled while the watcher starts: before, while or after subscribing.
                for _ in range(round_ % 5):
                    await anyio.lowlevel.checkpoint()
            group.cancel_scope.cancel()

    rounds = count // batch
    # Half the rounds start and stop the watcher themselves (no linger) ...
    linger, watcher.linger = watcher.linger, 0
    try:
        for round_ in range(rounds // 2):
            await cancelled_waits(round_, settled=False)
            assert not watcher.running
    finally:
        watcher.linger = linger
    # ... the other half join a watcher kept running by another monitor.
    async with card_events(initial=False):
        for round_ in range(rounds - rounds // 2):
            await cancelled_waits(round_, settled=True)
        assert watcher.subscriber_count == 1
    await off_loop(end_idle_watcher)
    after = await off_loop(settle, pcsc_simulator, baseline)
    assert after == baseline, f"before: {baseline}; after: {after}"
    print(
        f"\n{count} cancelled waits ({count // 10} of them monitor streams, {waiting} "
        f"cancelled while waiting for a card); resources: {after}"
    )


@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_failed_connects_leave_nothing_behind(pcsc_simulator: Simulator) -> None:
    empty = aioscard.Reader(pcsc_simulator.reader_names[2])
    baseline = await off_loop(quiet_snapshot, pcsc_simulator)
    for _ in range(50):
        with pytest.raises(aioscard.NoCardException):
            async with empty.createConnection():
                pytest.fail("connected to an empty reader")
        with pytest.raises(aioscard.NoCardException):
            async with aioscard.PassThruCardService(empty.createConnection()):
                pytest.fail("connected to an empty reader")
        with pytest.raises(aioscard.NoCardException):
            await empty.createConnection().connect()  # dropped without release()
    after = await off_loop(settle, pcsc_simulator, baseline)
    assert after == baseline, f"before: {baseline}; after: {after}"
