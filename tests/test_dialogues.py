"""``run_sync`` dialogues and ``transmit_many`` batches against the simulator,
under asyncio and trio: ordering, transactions, cancellation, failures, traces."""

from __future__ import annotations

import asyncio
import logging
import re
import threading
import traceback
from typing import TYPE_CHECKING

import anyio
import pytest

import aioscard
from aioscard import exceptions as exc
from aioscard._blocking import BlockingConnection
from aioscard.sw import ErrorCheckingChain, ISO7816_4ErrorChecker, SWException
from aioscard.testing import (
    DemoCard,
    Simulator,
    echo_apdu,
    long_response_apdu,
    long_response_data,
    verify_apdu,
)
from aioscard.testing.plugin import CardFactory, wait_reader_state

from ._reliability import quiet_snapshot, settle
from ._support import off_loop

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

pytestmark = pytest.mark.anyio

READER = 2  # the card of these tests; reader 0 is often used by other modules
GONE = (exc.InvalidResponseException, exc.NotTransactedException, exc.CardRemovedException)
SELECT_UNKNOWN = bytes.fromhex("00A4040003A0A0A0")  # answered 6A 82


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


class Logged(DemoCard):
    """A demo card that records every command and, for an ECHO of ``hold_on``,
    says it arrived and holds it until ``gate`` opens."""

    def __init__(self, hold_on: bytes | None = None) -> None:
        super().__init__()
        self.log: list[bytes] = []
        self.hold_on = hold_on
        self.arrived = threading.Event()
        self.gate = threading.Event()

    def __call__(self, apdu: bytes, /) -> bytes:
        self.log.append(apdu)
        if self.hold_on is not None and apdu == echo_apdu(self.hold_on):
            self.arrived.set()
            assert self.gate.wait(10)
        return super().__call__(apdu)

    def echoed(self) -> list[bytes]:
        """The payloads of the ECHO commands seen, in order."""
        return [bytes(a[5:-1]) for a in self.log if a[:2] == b"\x80\xee"]


async def connected(simulator: Simulator) -> aioscard.CardConnection:
    connection = aioscard.Reader(simulator.reader_names[READER]).createConnection()
    await connection.connect()
    return connection


def echo_all(blocking: BlockingConnection, payloads: list[bytes]) -> list[bytes]:
    return [bytes(blocking.transmit(echo_apdu(p)).data) for p in payloads]


# -- results, ordering ---------------------------------------------------------------------


async def test_a_dialogue_returns_its_result_and_applies_transport_options(
    pcsc_simulator: Simulator, card_factory: CardFactory
) -> None:
    await off_loop(card_factory, reader=READER)
    connection = await connected(pcsc_simulator)
    try:
        connection.transport = aioscard.TransportOptions(get_response=True)

        def dialogue(blocking: BlockingConnection, length: int) -> tuple[bytes, int, str]:
            long = blocking.transmit(long_response_apdu(length))
            return bytes(long.data), long.sw, blocking.getReader()

        data, sw, reader = await connection.run_sync(dialogue, 600)
        assert (data, sw) == (long_response_data(600), 0x9000)
        assert reader == pcsc_simulator.reader_names[READER]
        assert await connection.run_sync(echo_all, [b"a", b"bc"]) == [b"a", b"bc"]
        status = await connection.run_sync(BlockingConnection.status)
        assert status.atr == bytes(connection.getATR())
    finally:
        await connection.release()


async def test_observers_error_checks_and_reader_calls_apply_inside_a_dialogue(
    pcsc_simulator: Simulator, card_factory: CardFactory
) -> None:
    await off_loop(card_factory, reader=READER)
    connection = await connected(pcsc_simulator)
    events: list[tuple[str, int]] = []

    class Recorder(aioscard.CardConnectionObserver):
        def update(
            self, cardconnection: aioscard.CardConnection, ccevent: aioscard.CardConnectionEvent
        ) -> None:
            events.append((ccevent.type, threading.get_ident()))

    connection.addObserver(Recorder())
    connection.setErrorCheckingChain([ErrorCheckingChain([], ISO7816_4ErrorChecker())])

    def outcome(call: Callable[[int], list[int]], code: int) -> object:
        try:
            return call(code)
        except exc.SmartcardException as error:
            return type(error)

    async def async_outcome(call: Callable[[int], Awaitable[list[int]]], code: int) -> object:
        try:
            return await call(code)
        except exc.SmartcardException as error:
            return type(error)

    def dialogue(blocking: BlockingConnection) -> tuple[int, str, object, object]:
        control = outcome(blocking.control, 0x42000D48)  # the reader's Part 10 features
        attrib = outcome(blocking.getAttrib, 0x00010100)  # SCARD_ATTR_VENDOR_NAME
        assert blocking.transmit(echo_apdu(b"ok")).sw == 0x9000
        try:
            blocking.transmit(SELECT_UNKNOWN)
        except SWException as error:
            return threading.get_ident(), type(error).__name__, control, attrib
        raise AssertionError("the error-checking chain did not run")

    try:
        worker, raised, control, attrib = await connection.run_sync(dialogue)
        assert raised == "CheckingErrorException"
        # The reader answers (or refuses) exactly as it does to the coroutines.
        assert control == await async_outcome(connection.control, 0x42000D48)
        assert attrib == await async_outcome(connection.getAttrib, 0x00010100)
        assert [kind for kind, _ in events] == ["command", "response", "command", "response"]
        assert {thread for _, thread in events} == {worker}  # observers ran on the worker
    finally:
        await connection.release()


async def test_other_tasks_commands_never_come_inside_a_dialogue(
    pcsc_simulator: Simulator, card_factory: CardFactory
) -> None:
    card = Logged()
    await off_loop(card_factory, handler=card, reader=READER)
    connection = await connected(pcsc_simulator)
    started, queued = threading.Event(), threading.Event()

    def dialogue(blocking: BlockingConnection) -> None:
        blocking.transmit(echo_apdu(b"D0"))
        started.set()
        assert queued.wait(10)  # another task's transmit is waiting behind us by now
        for index in range(1, 10):
            blocking.transmit(echo_apdu(b"D%d" % index))

    entered = anyio.Event()

    async def other() -> None:
        entered.set()
        # transmit() queues its job before its first suspension: once this task
        # has let the test task run again, the command is in the queue.
        await connection.transmit(echo_apdu(b"T"))

    try:
        async with anyio.create_task_group() as group:
            group.start_soon(connection.run_sync, dialogue)
            await off_loop(started.wait, 10)
            group.start_soon(other)
            await entered.wait()
            queued.set()
        assert card.echoed() == [b"D%d" % i for i in range(10)] + [b"T"]
    finally:
        await connection.release()


async def test_dialogues_and_batches_among_many_transmits_stay_whole(
    pcsc_simulator: Simulator, card_factory: CardFactory
) -> None:
    card = Logged()
    await off_loop(card_factory, handler=card, reader=READER)
    connection = await connected(pcsc_simulator)

    async def single(task: int) -> None:
        for index in range(10):
            await connection.transmit(echo_apdu(b"s%d.%d" % (task, index)))

    async def dialogue(task: int) -> None:
        payloads = [b"d%d.%d" % (task, index) for index in range(8)]
        assert await connection.run_sync(echo_all, payloads) == payloads

    async def batch(task: int) -> None:
        payloads = [b"b%d.%d" % (task, index) for index in range(8)]
        responses = await connection.transmit_many([echo_apdu(p) for p in payloads])
        assert [bytes(r.data) for r in responses] == payloads

    try:
        async with anyio.create_task_group() as group:
            for task in range(4):
                group.start_soon(single, task)
                group.start_soon(dialogue, task)
                group.start_soon(batch, task)
        echoed = card.echoed()
        assert len(echoed) == 4 * (10 + 8 + 8)
        for kind in (b"d", b"b"):
            for task in range(4):
                start = echoed.index(b"%s%d.0" % (kind, task))
                assert echoed[start : start + 8] == [b"%s%d.%d" % (kind, task, i) for i in range(8)]
    finally:
        await connection.release()


# -- batches ---------------------------------------------------------------------------


async def test_a_batch_stops_at_the_first_status_word_not_accepted(
    pcsc_simulator: Simulator, card_factory: CardFactory
) -> None:
    card = Logged()
    await off_loop(card_factory, handler=card, reader=READER)
    connection = await connected(pcsc_simulator)
    batch = [echo_apdu(b"1"), SELECT_UNKNOWN, echo_apdu(b"2")]
    try:
        responses = await connection.transmit_many(batch)
        assert [r.sw for r in responses] == [0x9000, 0x6A82]
        assert card.echoed() == [b"1"]  # the third command was never sent
        widened = await connection.transmit_many(batch, accept={0x9000, 0x6A82})
        assert [r.sw for r in widened] == [0x9000, 0x6A82, 0x9000]
        everything = await connection.transmit_many(batch, accept=lambda response: True)
        assert len(everything) == 3
        connection.transport = aioscard.TransportOptions(get_response=True)
        joined = await connection.transmit_many([long_response_apdu(300), echo_apdu(b"3")])
        assert [r.sw for r in joined] == [0x9000, 0x9000]  # 61xx was completed first
        assert bytes(joined[0].data) == long_response_data(300)
        assert await connection.transmit_many([]) == []
    finally:
        await connection.release()


BAD_BATCHES: list[tuple[object, object, type[Exception], str]] = [
    ([echo_apdu(b"ok"), [0x80, 0xEE, 0x00]], None, ValueError, "apdus[1]"),
    ([echo_apdu(b"ok"), "80EE0000"], None, TypeError, "apdus[1]"),
    ([echo_apdu(b"ok"), [0x80, 0xEE, 0, 300]], None, ValueError, "apdus[1]"),
    (echo_apdu(b"one"), None, TypeError, "transmit()"),
    (42, None, TypeError, "int"),
    ([echo_apdu(b"ok")], "9000", TypeError, "accept"),
    ([echo_apdu(b"ok")], {0x9000, 0x10000}, ValueError, "0..0xFFFF"),
    ([echo_apdu(b"ok")], {0x9000, True}, TypeError, "status words"),
    ([echo_apdu(b"ok")], set(), ValueError, "empty"),
]


async def test_bad_batches_and_functions_are_refused_before_anything_is_sent(
    pcsc_simulator: Simulator, card_factory: CardFactory
) -> None:
    card = Logged()
    await off_loop(card_factory, handler=card, reader=READER)
    connection = await connected(pcsc_simulator)
    try:
        for apdus, accept, error, message in BAD_BATCHES:
            with pytest.raises(error, match=re.escape(message)):
                await connection.transmit_many(apdus, accept=accept)  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="unknown protocol bits"):
            await connection.transmit_many([echo_apdu(b"ok")], protocol=0x40)
        with pytest.raises(TypeError, match="callable"):
            await connection.run_sync("not a function")  # type: ignore[arg-type]
        assert card.log == []
    finally:
        await connection.release()


# -- transactions ------------------------------------------------------------------------


async def test_a_transaction_inside_a_dialogue_and_one_left_open(
    pcsc_simulator: Simulator, card_factory: CardFactory
) -> None:
    await off_loop(card_factory, reader=READER)
    connection = await connected(pcsc_simulator)
    other = await connected(pcsc_simulator)

    def inside(blocking: BlockingConnection) -> list[int]:
        with blocking.transaction():
            with pytest.raises(exc.CardConnectionException, match="already open"):
                blocking.begin_transaction()
            return [blocking.transmit(echo_apdu(b"t%d" % i)).sw for i in range(3)]

    def left_open(blocking: BlockingConnection) -> None:
        blocking.begin_transaction()
        blocking.transmit(echo_apdu(b"x"))

    try:
        assert await connection.run_sync(inside) == [0x9000] * 3
        await connection.run_sync(left_open)
        # Both transactions are over: another connection gets one at once
        # (it would wait for ever behind a transaction still open).
        with anyio.fail_after(5):
            async with other.transaction():
                assert (await other.transmit(echo_apdu(b"o"))).sw == 0x9000
        async with connection.transaction():  # and ours can open one again
            pass
    finally:
        await other.release()
        await connection.release()


# -- cancellation --------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["dialogue", "batch"])
async def test_cancelling_mid_way_stops_at_the_next_command(
    pcsc_simulator: Simulator, card_factory: CardFactory, kind: str
) -> None:
    card = Logged(hold_on=b"B")
    await off_loop(card_factory, handler=card, reader=READER)
    connection = await connected(pcsc_simulator)
    stopped: list[BaseException] = []

    def dialogue(blocking: BlockingConnection) -> None:
        try:
            for payload in (b"A", b"B", b"C", b"D"):
                blocking.transmit(echo_apdu(payload))
        except BaseException as error:
            stopped.append(error)
            raise

    async def run() -> None:
        if kind == "dialogue":
            await connection.run_sync(dialogue)
        else:
            await connection.transmit_many([echo_apdu(p) for p in (b"A", b"B", b"C", b"D")])

    try:
        with anyio.CancelScope() as scope:
            async with anyio.create_task_group() as group:
                group.start_soon(run)
                await off_loop(card.arrived.wait, 10)  # B is with the card now
                scope.cancel()
        # The task resumed while the card still holds B.
        assert not card.gate.is_set()
        card.gate.set()
        # FIFO: this runs once the cancelled job has ended.
        assert (await connection.transmit(echo_apdu(b"after"))).sw == 0x9000
        assert card.echoed() == [b"A", b"B", b"after"]  # C and D never reached the card
        if kind == "dialogue":
            assert [type(error) for error in stopped] == [exc.DialogueCancelled]
        assert connection.connected
    finally:
        card.gate.set()
        await connection.release()


async def test_a_dialogue_cancelled_before_it_starts_sends_nothing(
    pcsc_simulator: Simulator, card_factory: CardFactory
) -> None:
    card = Logged(hold_on=b"first")
    await off_loop(card_factory, handler=card, reader=READER)
    connection = await connected(pcsc_simulator)
    try:
        async with anyio.create_task_group() as group:
            group.start_soon(connection.transmit, echo_apdu(b"first"))
            await off_loop(card.arrived.wait, 10)
            with anyio.CancelScope() as scope:
                scope.cancel()
                await connection.run_sync(echo_all, [b"never"])
            card.gate.set()
        assert card.echoed() == [b"first"]
    finally:
        card.gate.set()
        await connection.release()


async def test_a_thousand_cancelled_dialogues_leave_nothing_behind(
    pcsc_simulator: Simulator, card_factory: CardFactory
) -> None:
    await off_loop(card_factory, reader=READER)
    baseline = await off_loop(quiet_snapshot, pcsc_simulator)
    stopped = 0

    def endless(blocking: BlockingConnection, progressed: threading.Event) -> None:
        nonlocal stopped
        try:
            while True:
                blocking.transmit(echo_apdu(b"x"))
                progressed.set()
        except exc.DialogueCancelled:
            stopped += 1
            raise

    reader = aioscard.Reader(pcsc_simulator.reader_names[READER])
    for _ in range(100):  # 100 connections, 10 dialogues each
        async with reader.createConnection() as connection:
            for index in range(10):
                progressed = threading.Event()
                async with anyio.create_task_group() as group:
                    if index % 2:
                        group.cancel_scope.cancel()  # cancelled before it could start
                    else:

                        async def cancel_once_under_way(
                            scope: anyio.CancelScope, progressed: threading.Event
                        ) -> None:
                            await off_loop(progressed.wait, 10)
                            scope.cancel()

                        group.start_soon(cancel_once_under_way, group.cancel_scope, progressed)
                    await connection.run_sync(endless, progressed)
                    raise AssertionError("an endless dialogue returned")
            assert (await connection.transmit(echo_apdu(b"ok"))).sw == 0x9000
    assert stopped >= 500  # every started one was stopped on the worker
    after = await off_loop(settle, pcsc_simulator, baseline)
    # Nothing grew (a context an earlier test was still releasing may have gone meanwhile).
    assert after.threads == baseline.threads, f"before: {baseline}; after: {after}"
    assert after.fds <= baseline.fds, f"before: {baseline}; after: {after}"
    assert after.contexts <= baseline.contexts, f"before: {baseline}; after: {after}"
    assert after.pcscd_clients <= baseline.pcscd_clients, f"before: {baseline}; after: {after}"


# -- failures ---------------------------------------------------------------------------


async def test_the_functions_exception_arrives_with_its_traceback(
    pcsc_simulator: Simulator, card_factory: CardFactory
) -> None:
    await off_loop(card_factory, reader=READER)
    connection = await connected(pcsc_simulator)

    def deep_inside(blocking: BlockingConnection) -> None:
        blocking.transmit(echo_apdu(b"x"))
        raise KeyError("the personalisation step failed")

    def dialogue(blocking: BlockingConnection) -> None:
        deep_inside(blocking)

    try:
        with pytest.raises(KeyError, match="personalisation") as raised:
            await connection.run_sync(dialogue)
        frames = [frame.name for frame in traceback.extract_tb(raised.value.__traceback__)]
        assert frames[-2:] == ["dialogue", "deep_inside"]
        assert (await connection.transmit(echo_apdu(b"y"))).sw == 0x9000  # still usable
    finally:
        await connection.release()


async def test_the_view_works_only_inside_its_function(
    pcsc_simulator: Simulator, card_factory: CardFactory
) -> None:
    await off_loop(card_factory, reader=READER)
    connection = await connected(pcsc_simulator)
    kept: list[BlockingConnection] = []

    def keep(blocking: BlockingConnection) -> None:
        kept.append(blocking)

    def from_another_thread(blocking: BlockingConnection) -> None:
        errors: list[BaseException] = []

        def use() -> None:
            try:
                blocking.transmit(echo_apdu(b"x"))
            except BaseException as error:
                errors.append(error)

        thread = threading.Thread(target=use)
        thread.start()
        thread.join()
        raise errors[0]

    def loop_inside(blocking: BlockingConnection) -> None:
        asyncio.run(connection.transmit(echo_apdu(b"x")))

    try:
        await connection.run_sync(keep)
        with pytest.raises(RuntimeError, match="only inside that function"):
            kept[0].transmit(echo_apdu(b"late"))
        with pytest.raises(RuntimeError, match="only inside that function"):
            await connection.run_sync(from_another_thread)
        with pytest.raises(RuntimeError, match="own worker thread"):
            await connection.run_sync(loop_inside)
        assert (await connection.transmit(echo_apdu(b"y"))).sw == 0x9000
    finally:
        await connection.release()


async def test_a_card_pulled_mid_dialogue(
    pcsc_simulator: Simulator, card_factory: CardFactory
) -> None:
    await off_loop(card_factory, reader=READER)
    connection = await connected(pcsc_simulator)
    first_done, pulled = threading.Event(), threading.Event()

    def dialogue(blocking: BlockingConnection) -> None:
        blocking.transmit(echo_apdu(b"before"))
        first_done.set()
        assert pulled.wait(10)
        blocking.transmit(echo_apdu(b"after"))

    try:
        async with anyio.create_task_group() as group:

            async def pull() -> None:
                await off_loop(first_done.wait, 10)
                await off_loop(card_factory.remove, READER)
                pulled.set()

            group.start_soon(pull)
            with pytest.raises(GONE):
                await connection.run_sync(dialogue)
        await off_loop(card_factory, reader=READER)
        await connection.reconnect()
        assert (await connection.transmit_many([echo_apdu(b"back")]))[0].sw == 0x9000
    finally:
        await connection.release()


async def test_pcscd_restarted_mid_batch(
    pcsc_simulator: Simulator, card_factory: CardFactory
) -> None:
    card = Logged(hold_on=b"B")
    await off_loop(card_factory, handler=card, reader=READER)
    connection = await connected(pcsc_simulator)
    try:
        async with anyio.create_task_group() as group:

            async def kill() -> None:
                await off_loop(card.arrived.wait, 10)
                await off_loop(pcsc_simulator.kill)

            group.start_soon(kill)
            with pytest.raises(exc.ServiceUnavailableException):
                await connection.transmit_many([echo_apdu(p) for p in (b"A", b"B", b"C")])
        card.gate.set()
        assert not connection.connected  # the dead handle was dropped
        await off_loop(pcsc_simulator.restart)
        await off_loop(wait_reader_state, pcsc_simulator, READER, present=True)
        await connection.connect()
        responses = await connection.transmit_many([echo_apdu(b"D"), echo_apdu(b"E")])
        assert [bytes(r.data) for r in responses] == [b"D", b"E"]
        assert b"C" not in card.echoed()
    finally:
        card.gate.set()
        await connection.release()


# -- traces ------------------------------------------------------------------------------


async def test_pins_are_redacted_in_traces_of_dialogues_and_batches(
    pcsc_simulator: Simulator, card_factory: CardFactory, caplog: pytest.LogCaptureFixture
) -> None:
    await off_loop(card_factory, reader=READER)
    caplog.set_level(logging.DEBUG, logger="aioscard.trace")
    pin = b"123456"
    connection = await connected(pcsc_simulator)
    connection.addObserver(aioscard.LoggingCardConnectionObserver())
    verify: Callable[[BlockingConnection], int] = lambda b: b.transmit(verify_apdu(pin)).sw  # noqa: E731
    try:
        assert await connection.run_sync(verify) == 0x9000
        assert [r.sw for r in await connection.transmit_many([verify_apdu(pin)])] == [0x9000]
    finally:
        await connection.release()
    commands = [r.getMessage() for r in caplog.records if "command" in r.getMessage()]
    assert len(commands) == 2
    for message in commands:
        assert "redacted" in message
        assert "31 32 33 34 35 36" not in message
