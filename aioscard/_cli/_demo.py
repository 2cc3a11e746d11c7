"""``aioscard demo``: the whole library on a private simulator, start to finish.

The demo starts a private pcscd with two virtual readers (nothing touches the
system's PC/SC service), points this process at it *before its first PC/SC
call* (libpcsclite reads ``PCSCLITE_CSOCK_NAME`` once per process), and then:
lists the readers, waits for a card that it inserts itself, explains the ATR,
exchanges APDUs (a PIN redacted on the way), runs two readers in parallel,
watches a removal and a re-insertion as events, runs a pyscard program
unchanged through ``python -m aioscard.compat``, and stops everything it
started.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
import time
from typing import TYPE_CHECKING, TextIO

import anyio

from .. import readers as list_readers
from ..atr import ATR
from ..connection import CardConnection, TransportOptions
from ..exceptions import SmartcardException
from ..monitor import CardInserted, CardRemoved, card_events
from ..reader import Reader
from ..request import CardRequest
from ..testing import (
    DEMO_ATR,
    SELECT_DEMO_APDU,
    DemoCard,
    Simulator,
    SimulatorError,
    VirtualCard,
    delay_apdu,
    echo_apdu,
    get_challenge_apdu,
    long_response_apdu,
    verify_apdu,
)
from ._errors import EXIT_NO_SERVICE, EXIT_OK, CLIError, run_async
from ._output import WaitingStatus, format_command, format_response
from ._readers import reader_infos

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["LEGACY_PROGRAM", "run_demo"]

_STEPS = 9
_READERS = 2
_INSERT_AFTER = 0.8  # seconds: long enough to see the wait
_EVENT_TIMEOUT = 5.0
_LEGACY_TIMEOUT = 30.0
_DELAY_MS = 300

#: The pyscard program the demo runs unchanged with ``python -m aioscard.compat``:
#: it waits for the card, sends three APDUs with pyscard's console tracer, then
#: watches the card go and come back with a ``CardMonitor`` observer.
LEGACY_PROGRAM = '''\
"""A pyscard program: it imports smartcard.*, and aioscard.compat serves it unchanged."""
import threading

from smartcard.CardConnectionObserver import ConsoleCardConnectionObserver
from smartcard.CardMonitoring import CardMonitor, CardObserver
from smartcard.CardRequest import CardRequest
from smartcard.CardType import AnyCardType
from smartcard.System import readers
from smartcard.util import toBytes, toHexString

print("readers:", ", ".join(str(reader) for reader in readers()))
cardservice = CardRequest(timeout=10, cardType=AnyCardType()).waitforcard()
connection = cardservice.connection
connection.addObserver(ConsoleCardConnectionObserver())
connection.connect()
print("ATR:", toHexString(connection.getATR()))
connection.transmit(toBytes("00 A4 04 00 08 A0 00 00 06 47 2F 00 01"))  # SELECT
connection.transmit(toBytes("00 84 00 00 08"))  # GET CHALLENGE
connection.transmit([0x00, 0x20, 0x00, 0x80, 0x06] + list(b"123456"))  # VERIFY
connection.disconnect()


class PrintObserver(CardObserver):
    def __init__(self):
        self.seen = []
        self.done = threading.Event()

    def update(self, observable, actions):
        added, removed = actions
        for card in removed:
            print("-removed:", toHexString(card.atr), "from", card.reader, flush=True)
            self.seen.append("-")
        for card in added:
            print("+inserted:", toHexString(card.atr), "in", card.reader, flush=True)
            self.seen.append("+")
        if "-" in self.seen and self.seen[-1] == "+":
            self.done.set()


monitor = CardMonitor()
observer = PrintObserver()
monitor.addObserver(observer)
if not observer.done.wait(20):
    raise SystemExit("no removal and re-insertion seen")
monitor.deleteObserver(observer)
print("monitor stopped")
'''


class _Narrator:
    """Numbered steps and indented details on ``out``."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.step = 0
        self.started = time.monotonic()

    def heading(self, text: str) -> None:
        self.step += 1
        print(f"\n[{self.step}/{_STEPS}] {text}", file=self.out, flush=True)

    def say(self, text: str = "") -> None:
        for line in text.splitlines() or [""]:
            print(f"      {line}".rstrip(), file=self.out)
        self.out.flush()

    def elapsed(self) -> float:
        return time.monotonic() - self.started


def _start_simulator() -> Simulator:
    simulator = Simulator(_READERS, name="aioscard demo")
    try:
        simulator.start()
    except (SimulatorError, OSError) as error:
        raise CLIError(
            f"the simulator could not start: {error}",
            EXIT_NO_SERVICE,
            (
                "it needs pcscd, and gcc with libpcsclite-dev or the vpcd driver: "
                "`bash scripts/bootstrap.sh` (or `sudo apt-get install pcscd gcc libc6-dev "
                "libpcsclite-dev`)",
            ),
        ) from None
    return simulator


def run_demo(out: TextIO | None = None) -> int:
    """Run the demo; exit status 0 when every step worked.

    Must be the first PC/SC user of its process (it checks, and says so).

    Cancellation: Ctrl-C stops it at once; the simulator (pcscd, cards, the
    pyscard program's process) is stopped on the way out.

    Raises:
        CLIError: the simulator could not start (exit 4), or a step failed.
        SmartcardException: a PC/SC call failed unexpectedly.
    """
    stream = sys.stdout if out is None else out
    say = _Narrator(stream)
    print(
        "aioscard demo: asyncio-native PC/SC, shown on a private simulator\n"
        "(a pcscd of its own with virtual readers and cards; the system's pcscd is not touched)",
        file=stream,
    )
    say.heading(f"Start the simulator: a private pcscd with {_READERS} virtual readers")
    simulator = _start_simulator()
    say.say(
        "served by the simulator's own reader driver"
        if simulator.backend == "driver"
        else "served by vpcd (the simulator's own driver could not be built)"
    )
    with simulator:
        # Before this process's first PC/SC call: libpcsclite reads it only once.
        os.environ.update(simulator.env)
        say.say(f"PCSCLITE_CSOCK_NAME={simulator.socket_path}")
        startup = simulator.startup_seconds or 0.0
        say.say(f"pcscd pid {simulator.pid}, ready in {startup:.2f} s")
        pid = simulator.pid
        card = VirtualCard(DEMO_ATR, DemoCard(), name="demo card")
        run_async(_async_part, simulator, card, say)
        _legacy_part(simulator, card, say)
        say.heading("Stop everything the demo started")
        say.say("removing the card, stopping pcscd, deleting its socket directory ...")
    state = "is still running (!)" if simulator.running else "stopped"
    say.say(f"pcscd (pid {pid}) {state}; its private socket directory is gone")
    print(f"\ndemo finished in {say.elapsed():.1f} s", file=stream, flush=True)
    return EXIT_OK


async def _in_thread(fn: Callable[[], object]) -> None:
    # The simulator's methods block (they wait on sockets): keep them off the loop.
    await anyio.to_thread.run_sync(fn)


async def _async_part(simulator: Simulator, card: VirtualCard, say: _Narrator) -> None:
    names = await _list_readers(simulator, say)
    first = names[0]
    connection = await _wait_for_card(simulator, card, first, say)
    try:
        say.heading("Explain the card's ATR (aioscard.atr.ATR(...).explain(), `aioscard atr`)")
        say.say(ATR(connection.getATR()).explain())
        await _exchange(connection, say)
        await _parallel(simulator, names[1], connection, say)
        await _events(simulator, card, first, connection, say)
    finally:
        await connection.release()


async def _list_readers(simulator: Simulator, say: _Narrator) -> list[str]:
    say.heading("List the readers: await aioscard.readers()")
    names = [reader.name for reader in await list_readers()]
    if sorted(names) != sorted(simulator.reader_names):
        raise CLIError(
            f"this process talks to another pcscd (it sees {names}): libpcsclite picks its "
            "pcscd at a process's first PC/SC call; run `aioscard demo` in a fresh process"
        )
    for info in await reader_infos():
        say.say(f"{info.index}: {info.name}  ({info.describe_state()})")
    return names


async def _wait_for_card(
    simulator: Simulator, card: VirtualCard, reader: str, say: _Narrator
) -> CardConnection:
    say.heading("Wait for a card: await CardRequest(timeout=10).waitforcard()")
    say.say(f"(the demo inserts a virtual demo card into {reader!r} in {_INSERT_AFTER:g} s)")
    started = time.monotonic()

    async def insert_later() -> None:
        await anyio.sleep(_INSERT_AFTER)
        await _in_thread(lambda: simulator.insert(card, 0, wait=False))

    status = WaitingStatus(say.out, keep=True)
    async with anyio.create_task_group() as group:
        group.start_soon(insert_later)
        service = await status.run("      waiting for a card", CardRequest(timeout=10).waitforcard)
    connection = service.connection
    say.say(f"card found in {connection.reader!r} after {time.monotonic() - started:.2f} s")
    await connection.connect()
    protocol = "T=1" if connection.getProtocol() == connection.T1_protocol else "T=0"
    say.say(f"connected ({protocol})")
    return connection


async def _exchange(connection: CardConnection, say: _Narrator) -> None:
    say.heading("Exchange APDUs: data, sw1, sw2 = await connection.transmit(apdu)")
    steps: list[tuple[str, bytes]] = [
        ("SELECT the demo application", SELECT_DEMO_APDU),
        ("GET CHALLENGE: 8 random bytes", get_challenge_apdu(8)),
        ("VERIFY a wrong PIN", verify_apdu(b"000000")),
        ("VERIFY the right PIN", verify_apdu(b"123456")),
        ("ECHO", echo_apdu(b"hello, aioscard")),
        ("LONG RESPONSE of 300 bytes, helpers off", long_response_apdu(300)),
    ]
    for title, apdu in steps:
        say.say(f"# {title}")
        say.say(format_command(apdu))
        say.say(format_response(await connection.transmit(apdu), limit=16))
        if title.startswith("VERIFY the right"):
            say.say("(PINs are redacted like this in every log line, trace, repr and exception)")
    connection.transport = TransportOptions(get_response=True)
    say.say("# the same with connection.transport = TransportOptions(get_response=True)")
    apdu = long_response_apdu(300)
    say.say(format_command(apdu))
    say.say(format_response(await connection.transmit(apdu), limit=16))
    connection.transport = TransportOptions()


async def _parallel(
    simulator: Simulator, reader: str, first: CardConnection, say: _Narrator
) -> None:
    say.heading("Two readers in parallel: one worker thread and PC/SC context per connection")
    await _in_thread(lambda: simulator.insert(reader=1, wait=True))
    second = Reader(reader).createConnection()
    try:
        await second.connect()
        started = time.monotonic()
        async with anyio.create_task_group() as group:
            for connection in (first, second):
                group.start_soon(connection.transmit, delay_apdu(_DELAY_MS))
        took = time.monotonic() - started
        say.say(f"a {_DELAY_MS} ms command on each of two cards at once took {took:.2f} s")
        say.say("(one after the other they would take twice as long; the event loop never waits)")
    finally:
        await second.release()
        await _in_thread(lambda: simulator.remove(1, wait=True))


async def _events(
    simulator: Simulator,
    card: VirtualCard,
    reader: str,
    connection: CardConnection,
    say: _Narrator,
) -> None:
    say.heading("Watch a removal and a re-insertion: async for event in card_events()")
    started = time.monotonic()

    def stamp() -> str:
        return f"+{time.monotonic() - started:.2f} s"

    async with card_events(readers=[reader], initial=False) as events:
        say.say(f"{stamp()}  pulling the card out of {reader!r}")
        await _in_thread(lambda: simulator.remove(0, wait=False))
        with anyio.fail_after(_EVENT_TIMEOUT):
            event = await events.__anext__()
        if not isinstance(event, CardRemoved):
            raise CLIError(f"expected a removal, got {event!r}")
        say.say(f"{stamp()}  CardRemoved({event.card})")
        try:
            await connection.transmit(SELECT_DEMO_APDU)
            say.say("the old connection still answers (unexpected)")
        except SmartcardException as error:
            say.say(f"the open connection now raises {type(error).__name__}")
        say.say(f"{stamp()}  putting it back")
        await _in_thread(lambda: simulator.insert(card, 0, wait=False))
        with anyio.fail_after(_EVENT_TIMEOUT):
            event = await events.__anext__()
        if not isinstance(event, CardInserted):
            raise CLIError(f"expected an insertion, got {event!r}")
        say.say(f"{stamp()}  CardInserted({event.card})")
    if simulator.backend == "vpcd":
        say.say("(pcscd polls vpcd every 400 ms, so each event comes 0-0.4 s after the fact)")
    else:
        say.say("(the simulator's reader driver tells pcscd at once: no polling)")
    await connection.reconnect()
    _, sw1, sw2 = await connection.transmit(SELECT_DEMO_APDU)
    say.say(f"await connection.reconnect(), then SELECT again: {sw1:02X} {sw2:02X}")


def _legacy_part(simulator: Simulator, card: VirtualCard, say: _Narrator) -> None:
    say.heading("The same through the sync shim: python -m aioscard.compat legacy.py")
    say.say("a pyscard program (imports smartcard.*), unchanged; its output:")
    with tempfile.TemporaryDirectory(prefix="aioscard-demo-") as directory:
        script = os.path.join(directory, "legacy.py")
        with open(script, "w", encoding="utf-8") as file:
            file.write(LEGACY_PROGRAM)
        process = subprocess.Popen(
            [sys.executable, "-m", "aioscard.compat", script],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, **simulator.env, "PYTHONUNBUFFERED": "1"},
        )
        watchdog = threading.Timer(_LEGACY_TIMEOUT, process.kill)
        watchdog.start()
        try:
            assert process.stdout is not None
            removed = inserted_again = False
            for line in process.stdout:
                say.say(f"| {line.rstrip()}")
                if line.startswith("+inserted:") and not removed:
                    say.say("(the demo pulls the card out)")
                    simulator.remove(0, wait=True)
                    removed = True
                elif line.startswith("-removed:") and not inserted_again:
                    say.say("(the demo puts it back)")
                    simulator.insert(card, 0, wait=False)
                    inserted_again = True
            status = process.wait()
        finally:
            watchdog.cancel()
            if process.poll() is None:
                process.kill()
                process.wait()
    if status != 0:
        raise CLIError(f"the pyscard program failed (exit status {status})")
