"""Cards that misbehave: vanishing mid-APDU, pulled between APDUs, answering garbage,
falling silent, or answering to reset with random bytes.

Whatever the card does, aioscard raises a documented exception or returns exactly
what the card sent -- never an empty or truncated success -- and never hangs the
caller.  Cards come and go through the session simulator's readers (at once on its
own driver; on vpcd, whose presence poll runs every 400 ms, every re-insertion costs
about half a second); the long variants spread their cycles over the four readers,
in parallel.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from typing import TYPE_CHECKING

import anyio
import pytest

import aioscard
from aioscard import exceptions as exc
from aioscard.atr import ATR
from aioscard.monitor import CardInserted, CardRemoved, card_events
from aioscard.testing import (
    DROP_APDU,
    MAX_FRAME,
    DemoCard,
    DropConnection,
    Simulator,
    delay_apdu,
    echo_apdu,
    long_response_apdu,
)
from aioscard.testing.plugin import CardFactory, wait_reader_state

from ._rawcard import Answer, RawCard, frame
from ._support import asyncio_only, off_loop

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

pytestmark = pytest.mark.anyio

# What a card that vanished (or was pulled) makes a transmit raise.
GONE = (
    exc.InvalidResponseException,  # mid-APDU: pcsc-lite reports success with 0 bytes
    exc.NotTransactedException,  # after the card went, before pcscd's presence poll
    exc.CardRemovedException,  # after the poll, until reconnect()
    # pcscd marks the reader empty a moment before it marks the handles' card removed; a
    # driver that reports removals at once (the simulator's own) makes that moment reachable.
    exc.NoCardException,
)


# -- a card pulled out in the middle of a command ---------------------------------------


class FlakyCard(DemoCard):
    """A demo card that vanishes on its ``drop_at``-th command (1-based), after
    ``delay`` seconds of work on it."""

    def __init__(self, drop_at: int, delay: float = 0.0) -> None:
        super().__init__()
        self.drop_at = drop_at
        self.delay = delay
        self.seen = 0

    def __call__(self, apdu: bytes, /) -> bytes:
        self.seen += 1
        if self.seen == self.drop_at:
            if self.delay:
                time.sleep(self.delay)
            raise DropConnection
        return super().__call__(apdu)


async def replace_card(factory: CardFactory, reader: int, handler: DemoCard) -> None:
    """Wait until pcscd saw the old card go, then put a new one in."""
    await off_loop(factory.remove, reader)
    await off_loop(factory, handler=handler, reader=reader)


async def drop_cycle(
    connection: aioscard.CardConnection, variant: int, outcomes: Counter[str]
) -> FlakyCard:
    """One drop of kind ``variant``; checks every call either fails with a documented
    error or returns exactly the right answer.  Returns the next card to insert."""
    if variant == 0:
        # The card vanishes as soon as the command reaches it.
        with pytest.raises(exc.InvalidResponseException) as caught:
            await connection.transmit(DROP_APDU)
        outcomes[type(caught.value).__name__] += 1
    elif variant == 1:
        # ... after working on it for a while.
        with pytest.raises(exc.InvalidResponseException) as caught:
            await connection.transmit(echo_apdu(b"slow"))
        outcomes[type(caught.value).__name__] += 1
    elif variant == 2:
        # In the middle of a GET RESPONSE chain: the pieces already received must
        # not come back as if they were the whole answer.
        connection.transport = aioscard.TransportOptions(get_response=True)
        try:
            with pytest.raises(GONE) as chained:
                await connection.transmit(long_response_apdu(1000))
        finally:
            connection.transport = aioscard.TransportOptions()
        outcomes[type(chained.value).__name__] += 1
    else:
        # Eight tasks share the connection; the card vanishes on the third command.
        async def one(task: int) -> None:
            payload = bytes([task]) * (task + 1)
            try:
                response = await connection.transmit(echo_apdu(payload))
            except GONE as error:
                outcomes[type(error).__name__] += 1
            else:
                assert bytes(response.data) == payload
                outcomes["answered before the drop"] += 1

        async with anyio.create_task_group() as group:
            for task in range(8):
                group.start_soon(one, task)
    # The card is gone: the next command fails too, with a documented error.
    with pytest.raises(GONE) as after:
        await connection.transmit(echo_apdu(b"x"))
    outcomes[f"then {type(after.value).__name__}"] += 1
    return next_card(variant + 1)


def next_card(variant: int) -> FlakyCard:
    return [
        FlakyCard(drop_at=2),  # an ECHO first, then DROP
        FlakyCard(drop_at=2, delay=0.03),
        FlakyCard(drop_at=4),  # LONG RESPONSE, GET RESPONSE, GET RESPONSE (drop)
        FlakyCard(drop_at=4),  # ECHO, then 2 of the 8 tasks' ECHOs, then the drop
    ][variant % 4]


async def drops_on_one_reader(
    factory: CardFactory, simulator: Simulator, reader: int, cycles: int, outcomes: Counter[str]
) -> None:
    card = next_card(reader)
    await off_loop(factory, handler=card, reader=reader)
    connection = aioscard.Reader(simulator.reader_names[reader]).createConnection()
    await connection.connect()
    try:
        for cycle in range(cycles):
            variant = (reader + cycle) % 4
            assert (await connection.transmit(echo_apdu(b"hello"))).data == list(b"hello")
            card = await drop_cycle(connection, variant, outcomes)
            await replace_card(factory, reader, card)
            # The handle still points at the pulled card until reconnect() says otherwise.
            with pytest.raises(exc.CardRemovedException):
                await connection.transmit(echo_apdu(b"x"))
            await connection.reconnect()
            outcomes["reconnected"] += 1
        assert (await connection.transmit(echo_apdu(b"bye"))).data == list(b"bye")
    finally:
        await connection.release()


@pytest.mark.parametrize(
    ("anyio_backend", "drops"),
    [
        ("asyncio", 4),
        ("trio", 4),
        pytest.param("asyncio", 100, marks=pytest.mark.slow),
    ],
)
async def test_a_card_dropped_mid_apdu_is_an_error_every_time(
    pcsc_simulator: Simulator, card_factory: CardFactory, drops: int
) -> None:
    outcomes: Counter[str] = Counter()
    readers = pcsc_simulator.readers
    async with anyio.create_task_group() as group:
        for reader in range(readers):
            cycles = drops // readers + (reader < drops % readers)
            group.start_soon(
                drops_on_one_reader, card_factory, pcsc_simulator, reader, cycles, outcomes
            )
    assert outcomes["reconnected"] == drops
    errors = sum(n for kind, n in outcomes.items() if kind.endswith("Exception"))
    assert errors >= drops
    print(f"\n{drops} drops: {dict(outcomes)}")


# -- a card pulled between two commands --------------------------------------------------


@asyncio_only
async def test_a_card_pulled_between_apdus_then_put_back(
    pcsc_simulator: Simulator, card_factory: CardFactory
) -> None:
    reader = pcsc_simulator.reader_names[1]
    await off_loop(card_factory, reader=1)
    async with card_events([reader], initial=False) as events:
        connection = aioscard.Reader(reader).createConnection()
        await connection.connect()
        try:
            assert (await connection.transmit(echo_apdu(b"1"))).sw == 0x9000
            await off_loop(pcsc_simulator.remove, 1, wait=False)  # pulled, not yet noticed
            with pytest.raises(GONE):
                await connection.transmit(echo_apdu(b"2"))
            with anyio.fail_after(3):
                assert isinstance(await events.__anext__(), CardRemoved)
            # pcscd has noticed: everything on the old handle says so.
            with pytest.raises(exc.CardRemovedException):
                await connection.transmit(echo_apdu(b"3"))
            with pytest.raises(exc.CardRemovedException):
                await connection.status()
            with pytest.raises(exc.NoCardException):
                await aioscard.Reader(reader).createConnection().connect()
            await off_loop(card_factory, reader=1)
            with anyio.fail_after(3):
                assert isinstance(await events.__anext__(), CardInserted)
            with pytest.raises(exc.CardRemovedException):
                await connection.transmit(echo_apdu(b"4"))  # a new card: reconnect first
            await connection.reconnect()
            assert (await connection.transmit(echo_apdu(b"5"))).data == list(b"5")
            assert (await connection.status()).atr == bytes(connection.getATR())
        finally:
            await connection.release()


# -- a card answering garbage ----------------------------------------------------------------


class Garbage:
    """Answers each command with random bytes of a random length 1..MAX_FRAME and
    remembers what it sent."""

    def __init__(self, seed: int) -> None:
        self.random = random.Random(seed)
        self.sent: list[bytes] = []

    def __call__(self, apdu: bytes) -> Answer:
        size = self.random.choice(
            [
                self.random.randint(1, 3),
                self.random.randint(2, 300),
                self.random.randint(2, MAX_FRAME),
                MAX_FRAME,
            ]
        )
        reply = self.random.randbytes(size)
        self.sent.append(reply)
        return Answer(frame(reply))


@pytest.fixture
def raw_cards(pcsc_simulator: Simulator) -> Iterator[Callable[[RawCard, int], RawCard]]:
    """Insert :class:`RawCard` s; each is removed (and seen removed) after the test."""
    inserted: list[tuple[RawCard, int]] = []

    def insert(card: RawCard, reader: int) -> RawCard:
        card.insert(pcsc_simulator.card_address(reader))
        inserted.append((card, reader))
        return card

    yield insert
    for card, reader in inserted:
        card.remove()
        if pcsc_simulator.running:
            wait_reader_state(pcsc_simulator, reader, present=False)


@asyncio_only
@pytest.mark.parametrize(
    "answers", [200, pytest.param(3000, marks=pytest.mark.slow)], ids=["short", "long"]
)
async def test_garbage_answers_come_back_exactly_or_as_documented_errors(
    pcsc_simulator: Simulator,
    raw_cards: Callable[[RawCard, int], RawCard],
    answers: int,
) -> None:
    garbage = Garbage(seed=answers)
    card = raw_cards(RawCard(bytes.fromhex("3B880161696F736361726489"), garbage), 2)
    assert await off_loop(card.wait_atr_read, 5)
    await off_loop(wait_reader_state, pcsc_simulator, 2, present=True)
    outcomes: Counter[str] = Counter()
    async with aioscard.Reader(pcsc_simulator.reader_names[2]).createConnection() as connection:
        for index in range(answers):
            command = echo_apdu(index.to_bytes(2, "big"))
            with anyio.fail_after(5):
                try:
                    response = await connection.transmit(command)
                except exc.InvalidResponseException:
                    assert len(garbage.sent[index]) < 2
                    outcomes["InvalidResponseException"] += 1
                else:
                    assert response.bytes == garbage.sent[index]
                    outcomes["exact"] += 1
    assert card.apdus == [echo_apdu(i.to_bytes(2, "big")) for i in range(answers)]
    sizes = [len(reply) for reply in garbage.sent]
    print(f"\n{answers} garbage answers, {min(sizes)}..{max(sizes)} bytes: {dict(outcomes)}")


@asyncio_only
@pytest.mark.parametrize(
    "answer", [Answer(silent=True), Answer(frame(b""))], ids=["silent", "empty"]
)
async def test_a_silent_card_times_out_without_stalling_anything(
    pcsc_simulator: Simulator,
    raw_cards: Callable[[RawCard, int], RawCard],
    card_factory: CardFactory,
    answer: Answer,
) -> None:
    # vpcd waits for an answer forever, so only the caller's own timeout ends the wait.
    card = raw_cards(RawCard(bytes.fromhex("3B880161696F736361726489"), lambda _: answer), 2)
    assert await off_loop(card.wait_atr_read, 5)
    await off_loop(wait_reader_state, pcsc_simulator, 2, present=True)
    await off_loop(card_factory, reader=0)
    silent = aioscard.Reader(pcsc_simulator.reader_names[2]).createConnection()
    other = aioscard.Reader(pcsc_simulator.reader_names[0]).createConnection()
    await silent.connect()
    await other.connect()
    try:
        beats = 0

        async def heartbeat() -> None:
            nonlocal beats
            while True:
                await anyio.sleep(0.01)
                beats += 1

        async with anyio.create_task_group() as group:
            group.start_soon(heartbeat)
            started = time.monotonic()
            with pytest.raises(TimeoutError):
                with anyio.fail_after(0.5):
                    await silent.transmit(echo_apdu(b"anyone?"))
            waited = time.monotonic() - started
            # The loop kept running, and another reader works meanwhile.
            assert (await other.transmit(delay_apdu(50))).sw == 0x9000
            group.cancel_scope.cancel()
        assert waited < 1.5, f"the timeout took {waited:.2f} s"
        assert beats >= 10  # ~50 expected: the loop never stalled
        # The exchange still hangs in vpcd; pulling the card ends it.
        card.remove()
        with anyio.fail_after(5):
            with pytest.raises(GONE):
                await silent.transmit(echo_apdu(b"x"))
    finally:
        with anyio.fail_after(5):
            await silent.release()
            await other.release()


# -- random answers to reset -------------------------------------------------------------


async def random_atr_on_reader(
    simulator: Simulator,
    raw_cards: Callable[[RawCard, int], RawCard],
    reader: int,
    rng: random.Random,
    count: int,
    outcomes: Counter[str],
) -> None:
    name = simulator.reader_names[reader]
    for _ in range(count):
        size = rng.choice([0, 1, 2, rng.randint(3, 33), 33, 34, rng.randint(34, 300)])
        atr = bytes([rng.choice([0x3B, 0x3F])]) + rng.randbytes(size - 1) if size else b""
        card = raw_cards(RawCard(atr, lambda _: Answer(frame(b"\x90\x00"))), reader)
        seen = await off_loop(card.wait_atr_read, 1.5 if not atr else 5)
        if seen:
            await off_loop(wait_reader_state, simulator, reader, present=True)
        connection = aioscard.Reader(name).createConnection()
        try:
            with anyio.fail_after(5):
                await connection.connect()
                response = await connection.transmit(b"\x00\xa4\x04\x00")
            assert response.bytes == b"\x90\x00"
            try:
                ATR(connection.getATR())
                outcomes["connected, ATR parsed"] += 1
            except ValueError:
                outcomes["connected, ATR rejected (ValueError)"] += 1
        except exc.SmartcardException as error:
            outcomes[type(error).__name__] += 1
        finally:
            await connection.release()
        card.remove()
        await off_loop(wait_reader_state, simulator, reader, present=False)


@asyncio_only
@pytest.mark.parametrize("atrs", [8, pytest.param(40, marks=pytest.mark.slow)])
async def test_random_answers_to_reset(
    pcsc_simulator: Simulator, raw_cards: Callable[[RawCard, int], RawCard], atrs: int
) -> None:
    outcomes: Counter[str] = Counter()
    events: list[aioscard.Card] = []
    async with card_events(initial=False) as stream:

        async def watch() -> None:
            async for event in stream:
                if isinstance(event, CardInserted):
                    # One by one: the task is cancelled, not ended, and what it saw counts.
                    events.append(event.card)  # noqa: PERF401

        async with anyio.create_task_group() as group:
            group.start_soon(watch)
            async with anyio.create_task_group() as readers:
                for reader in range(pcsc_simulator.readers):
                    readers.start_soon(
                        random_atr_on_reader,
                        pcsc_simulator,
                        raw_cards,
                        reader,
                        random.Random(atrs * 10 + reader),
                        atrs // pcsc_simulator.readers,
                        outcomes,
                    )
            group.cancel_scope.cancel()
    assert sum(outcomes.values()) == atrs
    assert all(len(card.atr) <= 33 for card in events)
    print(f"\n{atrs} random ATRs: {dict(outcomes)}; {len(events)} insertions reported")
