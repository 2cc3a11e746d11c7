"""The async core against the simulator: readers, connections, cancellation, concurrency.

Scenarios are written once as coroutines and run under asyncio and trio (the
``anyio_backend`` fixture of conftest); asyncio-only behaviour runs under
pytest-asyncio.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Awaitable, Callable, Iterator

import anyio
import pytest

import aioscard
from aioscard import exceptions as exc
from aioscard._worker import pool
from aioscard.apdu import set_reveal_secrets
from aioscard.sw import ErrorCheckingChain, ISO7816_4ErrorChecker, SWException
from aioscard.testing import (
    DEMO_ATR,
    DEMO_CPLC,
    DROP_APDU,
    GET_CPLC_APDU,
    Simulator,
    VirtualCard,
    delay_apdu,
    echo_apdu,
    exact_length_apdu,
    get_challenge_apdu,
    long_response_apdu,
    long_response_data,
    verify_apdu,
)
from aioscard.testing.plugin import CardFactory, wait_reader_state

Scenario = Callable[[Simulator], Awaitable[None]]


def is_connected(connection: aioscard.CardConnection) -> bool:
    # A function, not the property: mypy would narrow the property across awaits.
    return connection.connected


@pytest.fixture
def no_leaks() -> Iterator[None]:
    """Fail a test that leaves a worker thread (and so a PC/SC context) behind."""
    pool.trim()
    before = {t.ident for t in threading.enumerate()}
    yield
    pool.trim()
    # anyio's trio test runner runs trio in guest mode, whose I/O wait borrows a
    # thread from trio's cache that stays idle for a while after the test: it is
    # the runner's, not a thread the code under test left behind.
    leaked = [
        t
        for t in threading.enumerate()
        if t.ident not in before and not t.name.startswith("Trio thread")
    ]
    assert not leaked, f"threads left behind: {leaked}"


# -- scenarios shared by asyncio and trio --------------------------------------------


async def acceptance(sim: Simulator) -> None:
    reader = (await aioscard.readers())[0]
    connection = reader.createConnection()
    await connection.connect(connection.T1_protocol)
    response, sw1, sw2 = await connection.transmit([0x00, 0x84, 0x00, 0x00, 0x08])
    await connection.disconnect()
    await connection.release()
    assert (sw1, sw2) == (0x90, 0x00)
    assert len(response) == 8
    assert all(isinstance(b, int) and 0 <= b <= 255 for b in response)


async def shared_connection(sim: Simulator) -> None:
    async with (await aioscard.readers())[0].createConnection() as connection:
        results: dict[int, bytes] = {}

        async def one(task: int) -> None:
            payload = task.to_bytes(2, "big") * (task + 1)
            response = await connection.transmit(echo_apdu(payload))
            results[task] = bytes(response.data)
            assert response.sw == 0x9000

        async with anyio.create_task_group() as group:
            for task in range(32):
                group.start_soon(one, task)
        assert results == {t: t.to_bytes(2, "big") * (t + 1) for t in range(32)}


async def cancel_transmit(sim: Simulator) -> None:
    async with (await aioscard.readers())[0].createConnection() as connection:
        started = time.monotonic()
        with anyio.move_on_after(0.2) as scope:
            await connection.transmit(delay_apdu(800))
        returned = time.monotonic() - started
        assert scope.cancelled_caught
        assert returned < 1.0, f"cancel took {returned:.3f} s"
        # The delayed response is discarded on the worker; the next call gets its own.
        response = await connection.transmit(echo_apdu(b"after"))
        assert bytes(response.data) == b"after"


async def readers_overlap(sim: Simulator) -> None:
    readers = await aioscard.readers()
    connections = [r.createConnection() for r in readers[:4]]
    for connection in connections:
        await connection.connect()
    try:
        started = time.monotonic()
        async with anyio.create_task_group() as group:
            for connection in connections:
                group.start_soon(connection.transmit, delay_apdu(600))
        elapsed = time.monotonic() - started
    finally:
        for connection in connections:
            await connection.release()
    # Run one after another they would take 2.4 s.
    assert elapsed < 1.5, f"four 0.6 s commands on four readers took {elapsed:.2f} s"


SCENARIOS: dict[str, Scenario] = {
    "acceptance": acceptance,
    "shared_connection": shared_connection,
    "cancel_transmit": cancel_transmit,
}


@pytest.fixture
def card(virtual_card: VirtualCard) -> VirtualCard:
    return virtual_card


@pytest.fixture
def four_cards(card_factory: CardFactory, pcsc_simulator: Simulator) -> list[VirtualCard]:
    return [card_factory(reader=i) for i in range(4)]


@pytest.mark.anyio
@pytest.mark.parametrize("name", sorted(SCENARIOS))
async def test_scenario(
    name: str, pcsc_simulator: Simulator, card: VirtualCard, no_leaks: None
) -> None:
    await SCENARIOS[name](pcsc_simulator)


def test_scenario_uvloop(pcsc_simulator: Simulator, card: VirtualCard) -> None:
    uvloop = pytest.importorskip("uvloop")
    uvloop.run(acceptance(pcsc_simulator))


@pytest.mark.anyio
async def test_four_readers_run_in_parallel(
    pcsc_simulator: Simulator, four_cards: list[VirtualCard], no_leaks: None
) -> None:
    await readers_overlap(pcsc_simulator)


# -- asyncio-only behaviour -------------------------------------------------------------


@pytest.mark.asyncio
async def test_readers_and_reader_objects(pcsc_simulator: Simulator) -> None:
    readers = await aioscard.readers()
    assert [r.name for r in readers] == pcsc_simulator.reader_names
    assert readers[0] == aioscard.Reader(pcsc_simulator.reader_names[0])
    assert len({*readers, *await aioscard.readers()}) == len(readers)
    assert str(readers[0]) == pcsc_simulator.reader_names[0]
    assert repr(readers[0]) == f"Reader({pcsc_simulator.reader_names[0]!r})"
    assert "SCard$DefaultReaders" in await aioscard.readergroups()
    assert await aioscard.readers(["SCard$DefaultReaders"]) == readers
    with pytest.raises(TypeError, match="groups"):
        await aioscard.readers("SCard$DefaultReaders")
    with pytest.raises(exc.UnsupportedFeatureException):
        await readers[0].addtoreadergroup("mine")


@pytest.mark.asyncio
async def test_event_loop_keeps_running_during_apdus(
    pcsc_simulator: Simulator, card: VirtualCard
) -> None:
    gaps: list[float] = []
    stop = asyncio.Event()

    async def heartbeat() -> None:
        last = time.monotonic()
        while not stop.is_set():
            await asyncio.sleep(0.005)
            now = time.monotonic()
            gaps.append(now - last)
            last = now

    beat = asyncio.create_task(heartbeat())
    async with (await aioscard.readers())[0].createConnection() as connection:
        await connection.transmit(delay_apdu(300))
        for _ in range(200):
            await connection.transmit(echo_apdu(b"tick"))
    stop.set()
    await beat
    assert len(gaps) > 20
    # A PC/SC call on the loop thread would show up as one gap of >= 300 ms.
    assert max(gaps) < 0.15, f"event loop stalled for {max(gaps) * 1000:.0f} ms"


@pytest.mark.asyncio
async def test_connection_properties_and_status(
    pcsc_simulator: Simulator, card: VirtualCard
) -> None:
    connection = aioscard.Reader(pcsc_simulator.reader_names[0]).createConnection()
    assert not is_connected(connection)
    assert connection.getProtocol() == 0
    with pytest.raises(exc.CardConnectionException, match="not connected"):
        connection.getATR()
    with pytest.raises(exc.CardConnectionException, match="not connected"):
        await connection.transmit(echo_apdu(b"x"))
    async with connection:
        assert is_connected(connection)
        assert connection.getATR() == list(DEMO_ATR)
        assert connection.getProtocol() in (connection.T0_protocol, connection.T1_protocol)
        assert connection.getReader() == pcsc_simulator.reader_names[0]
        status = await connection.status()
        assert status.atr == DEMO_ATR
        assert status.protocol == connection.getProtocol()
        with pytest.raises(exc.CardConnectionException, match="already connected"):
            await connection.connect()
        data, sw1, sw2 = await connection.transmit(GET_CPLC_APDU)
        assert bytes(data) == DEMO_CPLC
        assert (sw1, sw2) == (0x90, 0x00)
        with pytest.raises(exc.UnsupportedFeatureException):
            await connection.control(0x42000D48)
        with pytest.raises(exc.UnsupportedFeatureException):
            await connection.getAttrib(0x00040131)  # SCARD_ATTR_POWER_MGMT_SUPPORT: none here
    assert not is_connected(connection)


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("command", "error", "match"),
    [
        ([0x00, 0x84, 0x00, 0x100, 0x08], ValueError, "command"),
        ("00840000", TypeError, "command"),
        ([0x00, 0x84], ValueError, "command"),
        (b"\x00" * 70000, ValueError, "command"),
        ([0x00, 0x84, None, 0x00], TypeError, "command"),
    ],
)
async def test_bad_commands_fail_before_reaching_pcsc(
    pcsc_simulator: Simulator, card: VirtualCard, command: object, error: type, match: str
) -> None:
    async with (await aioscard.readers())[0].createConnection() as connection:
        transmitted = card.apdu_count
        with pytest.raises(error, match=match):
            await connection.transmit(command)  # type: ignore[arg-type]
        assert card.apdu_count == transmitted


@pytest.mark.asyncio
async def test_bad_connect_arguments(pcsc_simulator: Simulator, card: VirtualCard) -> None:
    connection = (await aioscard.readers())[0].createConnection()
    with pytest.raises(ValueError, match="protocol"):
        await connection.connect(protocol=0x80)
    with pytest.raises(ValueError, match="mode"):
        await connection.connect(mode=7)
    with pytest.raises(TypeError, match="disposition"):
        await connection.connect(disposition="leave")  # type: ignore[arg-type]
    await connection.release()


@pytest.mark.asyncio
async def test_card_dropped_mid_apdu_is_a_typed_error(
    pcsc_simulator: Simulator, card_factory: CardFactory
) -> None:
    card_factory(reader=1)
    async with aioscard.Reader(pcsc_simulator.reader_names[1]).createConnection() as connection:
        with pytest.raises(exc.CardConnectionException):
            await connection.transmit(DROP_APDU)


@pytest.mark.asyncio
async def test_removed_card_then_reinserted_needs_reconnect(
    pcsc_simulator: Simulator, card_factory: CardFactory
) -> None:
    card_factory(reader=1)
    async with aioscard.Reader(pcsc_simulator.reader_names[1]).createConnection() as connection:
        card_factory.remove(1)
        with pytest.raises(exc.CardRemovedException):
            await connection.transmit(echo_apdu(b"x"))
        card_factory(reader=1)
        with pytest.raises(exc.CardRemovedException):
            await connection.transmit(echo_apdu(b"x"))
        await connection.reconnect()
        assert bytes((await connection.transmit(echo_apdu(b"ok"))).data) == b"ok"


@pytest.mark.asyncio
async def test_reset_by_another_connection(pcsc_simulator: Simulator, card: VirtualCard) -> None:
    reader = (await aioscard.readers())[0]
    async with reader.createConnection() as first, reader.createConnection() as second:
        await second.reconnect(disposition=second.RESET_CARD)
        with pytest.raises(exc.CardResetException, match="reset"):
            await first.transmit(echo_apdu(b"x"))
        await first.reconnect()
        assert (await first.transmit(echo_apdu(b"x"))).sw == 0x9000


@pytest.mark.asyncio
async def test_exclusive_mode_conflicts(pcsc_simulator: Simulator, card: VirtualCard) -> None:
    reader = (await aioscard.readers())[0]
    exclusive = reader.createConnection()
    await exclusive.connect(mode=exclusive.SHARE_EXCLUSIVE)
    try:
        other = reader.createConnection()
        with pytest.raises(exc.SharingViolationException):
            await other.connect()
        await other.release()
    finally:
        await exclusive.release()
    async with reader.createConnection() as shared:
        assert (await shared.transmit(echo_apdu(b"free"))).sw == 0x9000


@pytest.mark.asyncio
async def test_transaction_keeps_another_connection_out(
    pcsc_simulator: Simulator, card: VirtualCard
) -> None:
    reader = (await aioscard.readers())[0]
    async with reader.createConnection() as first, reader.createConnection() as second:
        order: list[str] = []
        async with first.transaction():
            other = asyncio.create_task(second.transmit(echo_apdu(b"second")))
            for index in range(5):
                await first.transmit(echo_apdu(bytes([index])))
                order.append(f"first {index}")
            await asyncio.sleep(0.2)  # give the other connection every chance to cut in
            assert not other.done()
            order.append("end")
        response = await other
        order.append("second")
        assert bytes(response.data) == b"second"
        assert order == [*(f"first {i}" for i in range(5)), "end", "second"]


@pytest.mark.asyncio
async def test_cancelled_transaction_wait_releases_the_transaction(
    pcsc_simulator: Simulator, card: VirtualCard
) -> None:
    reader = (await aioscard.readers())[0]
    async with reader.createConnection() as first, reader.createConnection() as second:
        async with first.transaction():
            with anyio.move_on_after(0.3) as scope:
                async with second.transaction():
                    pytest.fail("the second transaction must not be granted")
            assert scope.cancelled_caught
        # Once first's transaction ended, second's late begin is undone: first can start again.
        with anyio.fail_after(5):
            async with first.transaction():
                assert (await first.transmit(echo_apdu(b"again"))).sw == 0x9000


@pytest.mark.asyncio
async def test_transport_helpers_are_opt_in(pcsc_simulator: Simulator, card: VirtualCard) -> None:
    async with (await aioscard.readers())[0].createConnection() as connection:
        plain = await connection.transmit(long_response_apdu(600))
        assert plain.sw1 == 0x61
        wrong_le = await connection.transmit(exact_length_apdu(5, None))
        assert wrong_le.sw1 == 0x6C
        connection.transport = aioscard.TransportOptions(get_response=True, le_correction=True)
        joined = await connection.transmit(long_response_apdu(600))
        assert joined.sw == 0x9000
        assert bytes(joined.data) == long_response_data(600)
        corrected = await connection.transmit(exact_length_apdu(5, None))
        assert corrected.sw == 0x9000
        assert len(corrected.data) == wrong_le.sw2
        connection.transport = aioscard.TransportOptions(get_response=True, max_rounds=1)
        capped = await connection.transmit(long_response_apdu(600))
        assert capped.sw1 == 0x61  # stopped after one GET RESPONSE, status word kept
    with pytest.raises(ValueError, match="max_rounds"):
        aioscard.TransportOptions(max_rounds=-1)


@pytest.mark.asyncio
async def test_error_checking_chain_and_filter(
    pcsc_simulator: Simulator, card: VirtualCard
) -> None:
    async with (await aioscard.readers())[0].createConnection() as connection:
        connection.setErrorCheckingChain([ErrorCheckingChain([], ISO7816_4ErrorChecker())])
        with pytest.raises(SWException) as caught:
            await connection.transmit([0x00, 0xA4, 0x04, 0x00, 0x02, 0xDE, 0xAD])
        assert (caught.value.sw1, caught.value.sw2) == (0x6A, 0x82)
        connection.addSWExceptionToFilter(type(caught.value))
        response = await connection.transmit([0x00, 0xA4, 0x04, 0x00, 0x02, 0xDE, 0xAD])
        assert response.sw == 0x6A82


class Recorder(aioscard.CardConnectionObserver):
    def __init__(self) -> None:
        self.events: list[aioscard.CardConnectionEvent] = []

    def update(
        self, cardconnection: aioscard.CardConnection, ccevent: aioscard.CardConnectionEvent
    ) -> None:
        self.events.append(ccevent)


@pytest.mark.asyncio
async def test_observers_see_every_event(pcsc_simulator: Simulator, card: VirtualCard) -> None:
    connection = (await aioscard.readers())[0].createConnection()
    recorder = Recorder()
    connection.addObserver(recorder)
    connection.addObserver(recorder)
    assert connection.countObservers() == 1
    async with connection:
        await connection.transmit(echo_apdu(b"\x01\x02"))
        await connection.reconnect()
    assert [e.type for e in recorder.events] == [
        "connect",
        "command",
        "response",
        "reconnect",
        "disconnect",
    ]
    assert recorder.events[1].args[0] == list(echo_apdu(b"\x01\x02"))
    assert recorder.events[2].args == [[1, 2], 0x90, 0x00]
    connection.deleteObserver(recorder)
    assert connection.countObservers() == 0


@pytest.mark.asyncio
async def test_pins_never_reach_logs_or_reprs(
    pcsc_simulator: Simulator, card: VirtualCard, caplog: pytest.LogCaptureFixture
) -> None:
    pin = b"93-71-58"
    caplog.set_level(logging.DEBUG)
    async with (await aioscard.readers())[0].createConnection() as connection:
        recorder = Recorder()
        connection.addObserver(recorder)
        connection.addObserver(aioscard.LoggingCardConnectionObserver())
        response = await connection.transmit(verify_apdu(pin))
        assert response.sw1 == 0x63  # wrong PIN: tries left
        await connection.transmit(verify_apdu(b"123456"))  # reset the retry counter
    rendered = " ".join([caplog.text, *map(repr, recorder.events), *map(str, recorder.events)])
    for secret in (pin.hex().upper(), " ".join(f"{b:02X}" for b in pin), pin.decode()):
        assert secret not in rendered
    assert "redacted" in rendered
    set_reveal_secrets(True)
    try:
        assert " ".join(f"{b:02X}" for b in pin) in str(recorder.events[0])
    finally:
        set_reveal_secrets(False)


@pytest.mark.asyncio
async def test_card_and_service(pcsc_simulator: Simulator, card: VirtualCard) -> None:
    reader = (await aioscard.readers())[0]
    seen = aioscard.Card(reader, DEMO_ATR)
    assert seen == aioscard.Card(reader.name, list(DEMO_ATR))
    assert hash(seen) == hash(aioscard.Card(reader.name, list(DEMO_ATR)))
    assert seen.atr == list(DEMO_ATR)
    assert reader.name in repr(seen)
    service = aioscard.PassThruCardService(seen.createConnection())
    assert aioscard.PassThruCardService.supports("anything")
    assert not aioscard.CardService.supports("anything")
    async with service:
        assert is_connected(service.connection)
        response = await service.connection.transmit(get_challenge_apdu(4))
        assert len(response.data) == 4
    assert not is_connected(service.connection)
    with pytest.raises(TypeError, match="connection"):
        aioscard.PassThruCardService("not a connection")  # type: ignore[arg-type]


@pytest.mark.asyncio
async def test_service_gone_then_back(pcsc_simulator: Simulator, card_factory: CardFactory) -> None:
    card_factory(reader=3)
    connection = aioscard.Reader(pcsc_simulator.reader_names[3]).createConnection()
    await connection.connect()
    pcsc_simulator.kill()
    try:
        with pytest.raises((exc.ServiceUnavailableException, exc.InvalidHandleException)):
            await connection.transmit(echo_apdu(b"x"))
        with pytest.raises(exc.ServiceUnavailableException):
            await aioscard.readers()
    finally:
        pcsc_simulator.restart()  # brings the recorded cards back too
    wait_reader_state(pcsc_simulator, 3, present=True)
    await connection.connect()  # a fresh context and handle after the restart
    assert (await connection.transmit(echo_apdu(b"back"))).sw == 0x9000
    await connection.release()
