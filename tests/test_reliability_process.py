"""Other processes: one holding the card exclusively or inside a transaction, one
killed in the middle of its transaction, and programs ending while waits and
monitors are pending.

Every child is a Python process with the simulator's environment, run with
``-W error -X dev`` so that a ``ResourceWarning`` or an unawaited coroutine
fails it.  The child of the sharing tests is a pyscard-style program (the
synchronous shim) that obeys one command per line on its stdin.
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING

import anyio
import pytest

import aioscard
from aioscard import exceptions as exc
from aioscard.monitor import CardInserted, card_events
from aioscard.testing import DemoCard, Simulator, echo_apdu

from ._reliability import Child, settle, snapshot
from ._support import asyncio_only, off_loop

if TYPE_CHECKING:
    from collections.abc import Iterator

    from aioscard.testing.plugin import CardFactory

pytestmark = pytest.mark.anyio

SHARED, EXCLUSIVE = 2, 1  # SCARD_SHARE_*

PYSCARD_CHILD = """
import sys
from smartcard.System import readers
from smartcard.ExclusiveTransmitCardConnection import ExclusiveTransmitCardConnection
from aioscard.testing import echo_apdu, delay_apdu

name = sys.argv[1]
connection = None
print("ready", flush=True)
for line in sys.stdin:
    command, *args = line.split()
    try:
        if command == "connect":
            reader = next(r for r in readers() if str(r) == name)
            connection = ExclusiveTransmitCardConnection(reader.createConnection())
            connection.connect(mode=int(args[0]), disposition=0)  # leave the card powered
        elif command == "lock":
            connection.lock()
        elif command == "unlock":
            connection.unlock()
        elif command == "send":
            for index in range(int(args[1])):
                payload = f"{args[0]}{index}".encode()
                data, sw1, sw2 = connection.transmit(echo_apdu(payload))
                assert bytes(data) == payload and (sw1, sw2) == (0x90, 0x00)
        elif command == "delay":
            connection.transmit(delay_apdu(int(args[0])))
        elif command == "release":
            connection.release()
        print("ok", command, flush=True)
    except Exception as error:
        print("error", command, type(error).__name__, flush=True)
"""


class Recorder(DemoCard):
    """A demo card that logs the payload of every ECHO (and the INS of anything else)."""

    def __init__(self) -> None:
        super().__init__()
        self.log: list[str] = []
        self.lock = threading.Lock()
        self.delaying = threading.Event()  # a DELAY command has arrived

    def __call__(self, apdu: bytes, /) -> bytes:
        with self.lock:
            self.log.append(apdu[5:-1].decode() if apdu[1] == 0xEE else f"INS {apdu[1]:02X}")
        if apdu[1] == 0xDD:
            self.delaying.set()
        return super().__call__(apdu)

    def entries(self) -> list[str]:
        with self.lock:
            return list(self.log)


@pytest.fixture
def recorder(card_factory: CardFactory) -> Recorder:
    card = Recorder()
    card_factory(handler=card, reader=0)
    return card


@pytest.fixture
def child(pcsc_simulator: Simulator) -> Iterator[Child]:
    process = Child(
        PYSCARD_CHILD.replace("from smartcard", "from aioscard.compat"),
        pcsc_simulator.env,
        args=(pcsc_simulator.reader_names[0],),
    )
    try:
        process.expect("ready")
        yield process
    finally:
        process.kill()
        assert "Warning" not in process.stderr, process.stderr


async def ask(child: Child, command: str, answer: str = "ok") -> str:
    """Send ``command`` to the child and return its reply line, which must start so."""
    await off_loop(child.send, command)
    return await off_loop(child.expect, f"{answer} {command.split()[0]}")


@asyncio_only
async def test_a_card_held_exclusively_by_another_process(
    pcsc_simulator: Simulator, recorder: Recorder, child: Child
) -> None:
    name = pcsc_simulator.reader_names[0]
    await ask(child, f"connect {EXCLUSIVE}")
    baseline = await off_loop(snapshot, pcsc_simulator)
    connection = aioscard.Reader(name).createConnection()
    with pytest.raises(exc.SharingViolationException):
        await connection.connect()
    for _ in range(3):
        with pytest.raises(exc.SharingViolationException):
            async with aioscard.Reader(name).createConnection():
                pytest.fail("connected to a card held exclusively elsewhere")
    # The card is there, and a request finds it; only connecting is refused.
    request = aioscard.CardRequest(readers=[name], timeout=5)
    with pytest.raises(exc.SharingViolationException):
        async with request.waitforcard():
            pytest.fail("connected to a card held exclusively elsewhere")
    async with card_events([name]) as events:
        assert isinstance(events.drain()[0], CardInserted)
    await ask(child, "send X 3")
    await connection.release()
    # Failed attempts took no thread, descriptor or context with them.
    assert await off_loop(settle, pcsc_simulator, baseline) == baseline

    await ask(child, "release")
    async with aioscard.Reader(name).createConnection() as ours:
        await ours.reconnect(mode=ours.SHARE_EXCLUSIVE)
        assert (await ours.transmit(echo_apdu(b"mine"))).data == list(b"mine")
        await ask(child, f"connect {SHARED}", answer="error")  # now the other side is refused
    await ask(child, f"connect {SHARED}")
    await ask(child, "send Y 2")
    assert recorder.entries() == ["X0", "X1", "X2", "mine", "Y0", "Y1"]
    await ask(child, "release")
    assert await off_loop(child.finish) == 0
    assert child.stderr == ""


@asyncio_only
async def test_reconnecting_exclusively_waits_for_the_other_process(
    pcsc_simulator: Simulator, recorder: Recorder, child: Child
) -> None:
    await ask(child, f"connect {SHARED}")
    async with aioscard.Reader(pcsc_simulator.reader_names[0]).createConnection() as ours:
        started = time.monotonic()
        with anyio.move_on_after(0.3) as waited:
            await ours.reconnect(mode=ours.SHARE_EXCLUSIVE)  # pcsc-lite waits for the other
        assert waited.cancelled_caught
        assert time.monotonic() - started < 1.0, "cancelling the wait was not prompt"
        await ask(child, "release")
        # The reconnect under way completes once the other lets go (documented), and
        # the next command waits for it: the card is then ours alone.
        with anyio.fail_after(5):
            assert (await ours.transmit(echo_apdu(b"mine"))).data == list(b"mine")
        await ask(child, f"connect {SHARED}", answer="error")
    await ask(child, f"connect {SHARED}")  # ours released: the card is free again
    assert await off_loop(child.finish) == 0
    assert child.stderr == ""


@asyncio_only
async def test_a_transaction_in_another_process_keeps_our_commands_out(
    pcsc_simulator: Simulator, recorder: Recorder, child: Child
) -> None:
    name = pcsc_simulator.reader_names[0]
    await ask(child, f"connect {SHARED}")
    async with (
        aioscard.Reader(name).createConnection() as first,
        aioscard.Reader(name).createConnection() as second,
        aioscard.Reader(name).createConnection() as third,
    ):
        # Their transaction: our commands wait (pcsc-lite retries them until it
        # ends); they are neither refused nor let in between theirs.
        await ask(child, "lock")
        answered: list[str] = []

        async def send(payload: str) -> None:
            response = await first.transmit(echo_apdu(payload.encode()))
            answered.append(bytes(response.data).decode())

        async with anyio.create_task_group() as group:
            for index in range(3):
                group.start_soon(send, f"P{index}")
            await ask(child, "send C 20")
            started = time.monotonic()
            with anyio.move_on_after(0.3) as waited:
                async with second.transaction():
                    pytest.fail("a transaction was granted inside another one")
            assert waited.cancelled_caught
            assert time.monotonic() - started < 1.0, "cancelling the wait was not prompt"
            # A command whose caller gave up waiting is already in libpcsclite's
            # hands: it reaches the card once their transaction ends (documented).
            with anyio.move_on_after(0.1):
                await third.transmit(echo_apdu(b"late"))
            assert answered == []
            assert recorder.entries() == [f"C{i}" for i in range(20)]
            await ask(child, "unlock")
        assert sorted(answered) == ["P0", "P1", "P2"]
        assert (await third.transmit(echo_apdu(b"next"))).data == list(b"next")
        assert sorted(recorder.entries()[20:]) == ["P0", "P1", "P2", "late", "next"]

        # Our transaction: their commands wait until it ends.
        async with second.transaction():
            await off_loop(child.send, "send D 3")
            for index in range(10):
                await second.transmit(echo_apdu(f"T{index}".encode()))
            assert "D0" not in recorder.entries()
        assert await off_loop(child.expect, "ok send") == "ok send"
    log = recorder.entries()
    assert log[:20] == [f"C{i}" for i in range(20)]
    assert log.index("late") < log.index("next")
    t_block = log.index("T0")
    assert log[t_block : t_block + 10] == [f"T{i}" for i in range(10)]
    assert log[t_block + 10 :] == ["D0", "D1", "D2"]
    await ask(child, "release")
    assert await off_loop(child.finish) == 0
    assert child.stderr == ""


@asyncio_only
async def test_a_process_killed_inside_its_transaction(
    pcsc_simulator: Simulator, recorder: Recorder, child: Child
) -> None:
    name = pcsc_simulator.reader_names[0]
    await ask(child, f"connect {SHARED}")
    async with aioscard.Reader(name).createConnection() as ours:
        await ask(child, "lock")
        await off_loop(child.send, "delay 800")
        assert await off_loop(recorder.delaying.wait, 5)
        await off_loop(child.kill)  # with its transaction open and a command on the card
        started = time.monotonic()
        with anyio.fail_after(10):
            # pcscd lets the command finish, then resets the card to end the transaction.
            with pytest.raises(exc.CardResetException):
                await ours.transmit(echo_apdu(b"after"))
        assert time.monotonic() - started < 5
        await ours.reconnect()
        assert (await ours.transmit(echo_apdu(b"again"))).data == list(b"again")


# -- programs ending while things are pending ---------------------------------------------

ASYNCIO_PROGRAM = """
import asyncio, sys
import aioscard
from aioscard.monitor import card_events, reader_events
from aioscard.testing import delay_apdu

async def main():
    card_reader, empty_reader = sys.argv[1:3]
    # -X dev turns asyncio's debug mode on, for its warnings about tasks and resources;
    # its report of a slow callback is a timing, which a loaded machine produces at will.
    asyncio.get_running_loop().slow_callback_duration = 3600
    ready = asyncio.Event()

    async def events():
        async with card_events() as cards, reader_events():
            ready.set()
            async for _ in cards:
                pass

    async def wait(request):
        await request.waitforcard()

    tasks = [
        asyncio.create_task(events()),
        asyncio.create_task(wait(aioscard.CardRequest(readers=[empty_reader], timeout=None))),
        asyncio.create_task(
            aioscard.CardRequest(timeout=None, newcardonly=True).waitforcardevent()
        ),
    ]
    connection = aioscard.Reader(card_reader).createConnection()
    await connection.connect()
    tasks.append(asyncio.create_task(connection.transmit(delay_apdu(1500))))
    await ready.wait()
    await asyncio.sleep(0.1)
    print("ready", flush=True)
    {ending}

asyncio.run(main())
"""

TRIO_PROGRAM = """
import sys
import trio
import aioscard
from aioscard.monitor import card_events, reader_events

async def main():
    card_reader, empty_reader = sys.argv[1:3]

    async def events(task_status=trio.TASK_STATUS_IGNORED):
        async with card_events() as cards, reader_events():
            task_status.started()
            async for _ in cards:
                pass

    async def wait(request):
        await request.waitforcard()

    async with trio.open_nursery() as nursery:
        await nursery.start(events)
        nursery.start_soon(wait, aioscard.CardRequest(readers=[empty_reader], timeout=None))
        nursery.start_soon(aioscard.CardRequest(timeout=None, newcardonly=True).waitforcardevent)
        await trio.sleep(0.1)
        print("ready", flush=True)
        {ending}

trio.run(main)
"""

PYSCARD_PROGRAM = """
import sys, threading
from smartcard.CardMonitoring import CardMonitor, CardObserver
from smartcard.ReaderMonitoring import ReaderMonitor, ReaderObserver
from smartcard.CardRequest import CardRequest
from smartcard.System import readers

card_reader, empty_reader = sys.argv[1:3]

class Cards(CardObserver):
    def __init__(self):
        self.seen = threading.Event()
    def update(self, observable, actions):
        self.seen.set()

class Readers(ReaderObserver):
    def update(self, observable, actions):
        pass

cards = Cards()
CardMonitor().addObserver(cards)
ReaderMonitor().addObserver(Readers())
reader = next(r for r in readers() if str(r) == empty_reader)
request = CardRequest(readers=[reader], timeout=None)
threading.Thread(target=request.waitforcard, daemon=True).start()
cards.seen.wait(5)
print("ready", flush=True)
{ending}
"""

PROGRAMS = {
    "asyncio, main returns": ASYNCIO_PROGRAM.format(ending="return"),
    "asyncio, sys.exit": ASYNCIO_PROGRAM.format(ending="sys.exit(0)"),
    "trio, nursery cancelled": TRIO_PROGRAM.format(ending="nursery.cancel_scope.cancel()"),
    "pyscard, observers left attached": PYSCARD_PROGRAM.format(ending="").replace(
        "from smartcard", "from aioscard.compat"
    ),
    "pyscard, sys.exit": PYSCARD_PROGRAM.format(ending="sys.exit(0)").replace(
        "from smartcard", "from aioscard.compat"
    ),
}


@pytest.mark.parametrize("program", sorted(PROGRAMS))
def test_the_interpreter_exits_promptly_with_waits_and_monitors_pending(
    pcsc_simulator: Simulator, card_factory: CardFactory, program: str
) -> None:
    card_factory(reader=0)
    names = pcsc_simulator.reader_names
    child = Child(PROGRAMS[program], pcsc_simulator.env, args=(names[0], names[3]))
    try:
        child.expect("ready", timeout=20)
        started = time.monotonic()
        status = child.process.wait(10)
        took = time.monotonic() - started
    finally:
        child.kill()
    assert status == 0, child.stderr
    assert child.stderr == ""  # no ResourceWarning, no "Task was destroyed", nothing ignored
    assert took < 2.0, f"{program}: exit took {took:.2f} s"
