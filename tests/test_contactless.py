"""aioscard.contactless and card_events(uid=True) against a simulated MIFARE Classic 1K.

End-to-end tests go through the session's pcscd (vpcd reader, MifareClassicCard
handler) under asyncio and trio; the APDU builders, the status-word mapping and
the card model are also tested directly, the builders under hypothesis.
"""

from __future__ import annotations

import json
import signal
import subprocess
import threading
from typing import TYPE_CHECKING, Any

import anyio
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aioscard import Card, CardConnection, Reader, contactless
from aioscard._cli import main
from aioscard.apdu import Response, is_sensitive, parse_apdu
from aioscard.contactless import (
    AddressError,
    AuthenticationError,
    ContactlessError,
    KeyType,
    OperationFailedError,
    SecurityStatusError,
    UnsupportedError,
)
from aioscard.monitor import CardInserted, CardRemoved, card_events
from aioscard.testing import (
    DEMO_ATR,
    MIFARE_1K_ATR,
    MIFARE_DEFAULT_KEY,
    MIFARE_DEFAULT_UID,
    MifareClassicCard,
    Simulator,
)

from ._support import off_loop
from .test_cli import Spawned, aioscard_command, child_env

if TYPE_CHECKING:
    from aioscard.testing.plugin import CardFactory

SECRET_KEY = bytes.fromhex("A0A1A2A3A4A5")
SEVEN_BYTE_UID = bytes.fromhex("04112233445566")


def mifare(
    card_factory: CardFactory, reader: int = 1, **options: Any
) -> tuple[str, MifareClassicCard]:
    handler = MifareClassicCard(**options)
    card_factory(MIFARE_1K_ATR, handler, reader=reader)
    return card_factory.simulator.reader_names[reader], handler


# -- through pcscd --------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_uid_key_authenticate_read_write_through_pcscd(card_factory: CardFactory) -> None:
    name, _ = mifare(card_factory)
    async with Reader(name).createConnection() as connection:
        assert await contactless.get_uid(connection) == MIFARE_DEFAULT_UID
        with pytest.raises(SecurityStatusError) as unauthenticated:
            await contactless.read_binary(connection, 4)
        assert unauthenticated.value.sw == 0x6982
        assert "READ BINARY of block 4" in str(unauthenticated.value)
        await contactless.load_key(connection, MIFARE_DEFAULT_KEY, key_number=0)
        await contactless.authenticate(connection, 4, KeyType.A, key_number=0)
        assert await contactless.read_binary(connection, 4) == bytes(16)
        await contactless.update_binary(connection, 5, b"hello, contactless"[:16])
        assert await contactless.read_binary(connection, 5) == b"hello, contactles"[:16]
        assert await contactless.read_binary(connection, 5, length=5) == b"hello"
        # Block 8 is in another sector: authenticated for sector 1 only.
        with pytest.raises(SecurityStatusError):
            await contactless.read_binary(connection, 8)


@pytest.mark.anyio
async def test_typed_errors_through_pcscd(card_factory: CardFactory) -> None:
    name, _ = mifare(card_factory, keys={2: (SECRET_KEY, SECRET_KEY)})
    async with Reader(name).createConnection() as connection:
        with pytest.raises(UnsupportedError) as no_ats:
            await contactless.get_ats(connection)
        assert no_ats.value.sw == 0x6A81
        await contactless.load_key(connection, MIFARE_DEFAULT_KEY, 1)
        with pytest.raises(AuthenticationError) as wrong_key:
            await contactless.authenticate(connection, 8, KeyType.B, key_number=1)
        assert wrong_key.value.sw == 0x6300
        assert isinstance(wrong_key.value, OperationFailedError)
        assert "GENERAL AUTHENTICATE of block 8 with key B" in str(wrong_key.value)
        await contactless.load_key(connection, SECRET_KEY, 0)
        await contactless.authenticate(connection, 8, KeyType.B, key_number=0)
        with pytest.raises(OperationFailedError):
            await contactless.authenticate(connection, 0, KeyType.A, 0)  # sector 0: default key
        with pytest.raises(AddressError):
            await contactless.read_binary(connection, 64)
        await contactless.authenticate(connection, 0, KeyType.A, 1)
        with pytest.raises(OperationFailedError):
            await contactless.update_binary(connection, 0, bytes(16))  # manufacturer block
        block0 = await contactless.read_binary(connection, 0)
        assert block0[:4] == MIFARE_DEFAULT_UID


@pytest.mark.anyio
async def test_a_contact_card_has_no_uid(virtual_card: object, pcsc_simulator: Simulator) -> None:
    async with Reader(pcsc_simulator.reader_names[0]).createConnection() as connection:
        with pytest.raises(UnsupportedError) as error:
            await contactless.get_uid(connection)
    assert error.value.sw == 0x6E00  # the demo card knows no class FF


@pytest.mark.anyio
async def test_the_key_is_redacted_in_observer_events(card_factory: CardFactory) -> None:
    name, _ = mifare(card_factory)
    seen: list[str] = []

    class Tracer:
        def update(self, connection: CardConnection, event: object) -> None:
            seen.append(str(event))

    async with Reader(name).createConnection() as connection:
        connection.addObserver(Tracer())
        await contactless.load_key(connection, SECRET_KEY, 0)
    assert "command FF 82 00 00 06 <6 bytes redacted>" in seen
    assert not any("A0 A1 A2" in line for line in seen)


@pytest.mark.anyio
async def test_card_events_read_the_uid_once_per_insertion(
    card_factory: CardFactory, pcsc_simulator: Simulator
) -> None:
    names = pcsc_simulator.reader_names
    first = MifareClassicCard()
    card_factory(MIFARE_1K_ATR, first, reader=2)
    async with card_events(readers=[names[2], names[3]], uid=True) as events:
        with anyio.fail_after(5):
            present = await events.__anext__()
        assert present == CardInserted(Card(names[2], MIFARE_1K_ATR), uid=MIFARE_DEFAULT_UID)
        second = MifareClassicCard(uid=SEVEN_BYTE_UID)
        await off_loop(card_factory, MIFARE_1K_ATR, second, reader=3)
        await off_loop(card_factory, DEMO_ATR, reader=0)  # not watched
        with anyio.fail_after(5):
            inserted = await events.__anext__()
        match inserted:
            case CardInserted(card, uid=uid):
                assert card.reader.name == names[3]
                assert uid == SEVEN_BYTE_UID
            case _:
                pytest.fail(f"unexpected {inserted!r}")
        await off_loop(card_factory.remove, 3)
        with anyio.fail_after(5):
            assert await events.__anext__() == CardRemoved(Card(names[3], MIFARE_1K_ATR))
    # One GET DATA each, no more.
    assert first.uid_reads == 1
    assert second.uid_reads == 1


@pytest.mark.anyio
async def test_card_events_uid_is_none_for_a_contact_card(
    card_factory: CardFactory, pcsc_simulator: Simulator
) -> None:
    card_factory(DEMO_ATR, reader=1)
    async with card_events(readers=[pcsc_simulator.reader_names[1]], uid=True) as events:
        with anyio.fail_after(5):
            event = await events.__anext__()
        with pytest.raises(RuntimeError, match="drain"):
            events.drain()
    assert isinstance(event, CardInserted)
    assert event.uid is None
    assert event.card.atr == list(DEMO_ATR)


@pytest.mark.anyio
async def test_card_events_without_uid_leave_it_none(
    card_factory: CardFactory, pcsc_simulator: Simulator
) -> None:
    _, handler = mifare(card_factory, reader=1)
    async with card_events(readers=[pcsc_simulator.reader_names[1]]) as events:
        with anyio.fail_after(5):
            event = await events.__anext__()
    assert isinstance(event, CardInserted)
    assert event.uid is None
    assert handler.uid_reads == 0


class HeldUidReads:
    """A MIFARE card whose GET DATA UID answers wait until released."""

    def __init__(self) -> None:
        self.card = MifareClassicCard()
        self.held = threading.Event()
        self.released = threading.Event()

    def __call__(self, apdu: bytes) -> bytes:
        if apdu[:2] == b"\xff\xca":
            self.held.set()
            self.released.wait(10)
        return self.card(apdu)


@pytest.mark.anyio
async def test_cancelling_during_the_uid_read_loses_no_event(
    card_factory: CardFactory, pcsc_simulator: Simulator
) -> None:
    name = pcsc_simulator.reader_names[1]
    handler = HeldUidReads()
    card_factory(MIFARE_1K_ATR, handler, reader=1)
    try:
        async with card_events(readers=[name], uid=True) as events:
            async with anyio.create_task_group() as group:
                group.start_soon(events.__anext__)
                await off_loop(handler.held.wait, 10)  # the UID read is with the card
                group.cancel_scope.cancel()
            handler.released.set()
            with anyio.fail_after(5):
                event = await events.__anext__()
    finally:
        handler.released.set()
    assert event == CardInserted(Card(name, MIFARE_1K_ATR), uid=MIFARE_DEFAULT_UID)
    assert handler.card.uid_reads == 2  # read again after the cancelled read


def test_uid_must_be_a_bool() -> None:
    with pytest.raises(TypeError, match="uid must be a bool"):
        card_events(uid=1)  # type: ignore[arg-type]


# -- pure parts -----------------------------------------------------------------------------------


def test_apdus_are_the_pcsc_part3_bytes() -> None:
    assert contactless.get_uid_apdu() == bytes.fromhex("FFCA000000")
    assert contactless.get_ats_apdu() == bytes.fromhex("FFCA010000")
    assert contactless.load_key_apdu(SECRET_KEY, 1) == bytes.fromhex("FF82000106A0A1A2A3A4A5")
    assert contactless.load_key_apdu(SECRET_KEY, nonvolatile=True)[2] == 0x20
    assert contactless.authenticate_apdu(0x104, KeyType.B, 3) == bytes.fromhex(
        "FF860000050101046103"
    )
    assert contactless.read_binary_apdu(4) == bytes.fromhex("FFB0000410")
    assert contactless.read_binary_apdu(0x1234, 256) == bytes.fromhex("FFB0123400")
    assert contactless.update_binary_apdu(5, bytes(16)) == bytes.fromhex("FFD6000510") + bytes(16)
    assert is_sensitive(contactless.load_key_apdu(SECRET_KEY))
    assert not is_sensitive(contactless.authenticate_apdu(4))


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: contactless.load_key_apdu(b""), ValueError, "key must be 1..255 bytes"),
        (lambda: contactless.load_key_apdu("ff" * 6), TypeError, "key"),  # type: ignore[arg-type]
        (lambda: contactless.load_key_apdu(SECRET_KEY, 256), ValueError, "key_number"),
        (lambda: contactless.authenticate_apdu(-1), ValueError, "block must be in 0..65535"),
        (lambda: contactless.authenticate_apdu(4, 300), ValueError, "key_type"),
        (lambda: contactless.authenticate_apdu(True), TypeError, "block must be an int"),
        (lambda: contactless.read_binary_apdu(4, 0), ValueError, "length must be in 1..256"),
        (lambda: contactless.update_binary_apdu(4, b""), ValueError, "data must be 1..255"),
        (lambda: contactless.storage_card_name("3B"), ValueError, "too short"),
    ],
)
def test_bad_arguments_are_typed_errors(call: object, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        call()  # type: ignore[operator]


@settings(deadline=None)  # no timed assertions: a loaded machine is slow
@given(
    block=st.integers(0, 0xFFFF),
    length=st.integers(1, 256),
    key=st.binary(min_size=1, max_size=255),
    slot=st.integers(0, 255),
    data=st.binary(min_size=1, max_size=255),
)
def test_builders_give_well_formed_apdus(
    block: int, length: int, key: bytes, slot: int, data: bytes
) -> None:
    read = parse_apdu(contactless.read_binary_apdu(block, length))
    assert (read.cla, read.ins, read.p1 << 8 | read.p2, read.le) == (0xFF, 0xB0, block, length)
    update = parse_apdu(contactless.update_binary_apdu(block, data))
    assert (update.p1 << 8 | update.p2, update.data) == (block, data)
    load = parse_apdu(contactless.load_key_apdu(key, slot))
    assert (load.ins, load.p2, load.data) == (0x82, slot, key)
    auth = parse_apdu(contactless.authenticate_apdu(block, KeyType.A, slot))
    assert auth.data == bytes((1, block >> 8, block & 0xFF, 0x60, slot))


@settings(deadline=None)  # no timed assertions: a loaded machine is slow
@given(sw1=st.integers(0, 255), sw2=st.integers(0, 255), ins=st.sampled_from([0x86, 0xB0]))
def test_every_status_word_maps_to_data_or_a_contactless_error(
    sw1: int, sw2: int, ins: int
) -> None:
    response = Response([1, 2], sw1, sw2)
    if response.ok:
        assert contactless.check_response(response, "op", ins=ins) == b"\x01\x02"
        return
    with pytest.raises(ContactlessError) as error:
        contactless.check_response(response, "op", ins=ins)
    assert error.value.sw == response.sw
    assert str(error.value).startswith(f"op: status word {sw1:02X}{sw2:02X}")
    if response.sw == 0x6300:
        assert isinstance(error.value, AuthenticationError) == (ins == 0x86)


def test_storage_card_name_from_the_atr() -> None:
    assert contactless.storage_card_name(MIFARE_1K_ATR) == "MIFARE Classic 1K"
    four_k = bytearray(MIFARE_1K_ATR)
    four_k[14], four_k[-1] = 0x02, four_k[-1] ^ 0x01 ^ 0x02
    assert contactless.storage_card_name(bytes(four_k)) == "MIFARE Classic 4K"
    assert contactless.storage_card_name(DEMO_ATR) is None


def test_the_card_model_without_a_reader() -> None:
    card = MifareClassicCard(blocks={1: b"A" * 16})
    card(contactless.load_key_apdu(MIFARE_DEFAULT_KEY, 0))
    assert card(contactless.authenticate_apdu(1)) == b"\x90\x00"
    assert card(contactless.read_binary_apdu(1)) == b"A" * 16 + b"\x90\x00"
    assert card(contactless.get_uid_apdu()[:4] + b"\x02") == b"\x6c\x04"
    card.reset()
    assert card(contactless.read_binary_apdu(1)) == b"\x69\x82"  # a reset closes the sector
    assert card(contactless.authenticate_apdu(1)) == b"\x90\x00"  # the reader kept its key
    ats = bytes.fromhex("0578807002")
    assert MifareClassicCard(ats=ats)(contactless.get_ats_apdu()) == ats + b"\x90\x00"
    assert card(bytes.fromhex("FFCA020000")) == b"\x6b\x00"
    with pytest.raises(ValueError, match="uid must be 4 or 7 bytes"):
        MifareClassicCard(uid=b"\x01")
    with pytest.raises(ValueError, match="not a data block"):
        MifareClassicCard(blocks={3: bytes(16)})


def test_cli_watch_shows_the_uid(
    card_factory: CardFactory, pcsc_simulator: Simulator, capsys: pytest.CaptureFixture[str]
) -> None:
    card_factory(MIFARE_1K_ATR, MifareClassicCard(), reader=1)
    card_factory(DEMO_ATR, reader=2)
    assert main(["watch", "--json", "--uid", "--count", str(4 + 2)]) == 0
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    cards = {e["reader"]: e.get("uid") for e in events if e["event"] == "card_inserted"}
    names = pcsc_simulator.reader_names
    assert cards == {names[1]: MIFARE_DEFAULT_UID.hex().upper(), names[2]: None}


def test_cli_sim_card_mifare_serves_contactless_cards() -> None:
    sim = Spawned(aioscard_command("sim", "--readers", "2", "--card", "mifare"))
    try:
        socket_path = sim.expect(r"^export PCSCLITE_CSOCK_NAME=").split("=", 1)[1]
        assert sim.expect(r"^reader 1: ").endswith("(MIFARE Classic 1K)")
        sim.expect("Ctrl-C or SIGTERM stops it")
        send = subprocess.run(
            aioscard_command("send", "--wait", "5", "--json", "--reader", "1", "FFCA000000"),
            env=child_env(PCSCLITE_CSOCK_NAME=socket_path),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert send.returncode == 0, send.stderr
        answer = json.loads(send.stdout)
        assert (answer["data"], answer["sw"]) == (MIFARE_DEFAULT_UID.hex().upper(), "9000")
        sim.process.send_signal(signal.SIGINT)
        assert sim.finish() == 0
    finally:
        sim.close()
