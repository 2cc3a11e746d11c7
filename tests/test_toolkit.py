"""The card toolkit end to end: ISO 7816-4 commands, chaining, logical channels, through pcscd.

Every test runs under asyncio and trio against the simulator's demo card, which
has a small file system, 20 logical channels, command chaining and extended
length (see ``aioscard/testing/_demo_fs.py``).
"""

from __future__ import annotations

import contextlib
import logging
from typing import TYPE_CHECKING, Any

import anyio
import pytest

import aioscard
from aioscard import iso7816
from aioscard.exceptions import CardConnectionException
from aioscard.iso7816 import CardCapabilities
from aioscard.sw import CheckingErrorException, SWException, WarningProcessingException
from aioscard.testing import (
    CAPABILITIES_ATR,
    DEFAULT_PIN,
    DEMO_CPLC,
    DEMO_FILES,
    FID_DEMO_EF,
    FID_FILES_DF,
    FID_RECORD_EF,
    FID_TRANSPARENT_EF,
    FILES_AID,
    FILES_LARGE,
    FILES_RECORDS,
    FILES_TRANSPARENT,
    FILES_VARIABLE_RECORDS,
    SPARE_AID,
    DemoCard,
    VirtualCard,
    echo_apdu,
)
from aioscard.testing._demo_fs import DedicatedFile, ElementaryFile
from aioscard.transport import channel_of

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from aioscard.testing.plugin import CardFactory

pytestmark = pytest.mark.anyio


def junk(value: object) -> Any:
    """``value`` typed as Any: wrong types passed on without the type checker objecting."""
    return value


class Recorder(aioscard.CardConnectionObserver):
    """Keeps every command a connection sends, as the card gets it."""

    def __init__(self) -> None:
        self.commands: list[bytes] = []

    def update(self, observable: object, event: aioscard.CardConnectionEvent) -> None:
        if event.type == "command":
            self.commands.append(bytes(event.args[0]))


@pytest.fixture
async def connection(virtual_card: VirtualCard) -> AsyncIterator[aioscard.CardConnection]:
    reader = (await aioscard.readers())[0]
    async with reader.createConnection() as opened:
        yield opened


@pytest.fixture
def demo(virtual_card: VirtualCard) -> DemoCard:
    handler = virtual_card.handler
    assert isinstance(handler, DemoCard)
    return handler


# -- SELECT ------------------------------------------------------------------------------------


async def test_select_by_aid_returns_the_fci_parsed(connection: aioscard.CardConnection) -> None:
    fci = await iso7816.select(connection, aid=FILES_AID)
    assert fci.template is not None
    assert fci.template.tag == 0x6F
    assert fci.df_name == FILES_AID
    assert fci.fid == FID_FILES_DF
    assert fci.label == "aioscard files"
    assert fci.is_df
    assert fci.structure == "DF"
    fcp = await iso7816.select(connection, aid=FILES_AID, control="fcp")
    assert fcp.template is not None
    assert fcp.template.tag == 0x62
    assert fcp.label is None
    none = await iso7816.select(connection, aid=FILES_AID, control=None)
    assert none.template is None


async def test_select_first_and_next_occurrence_of_a_partial_name(
    connection: aioscard.CardConnection,
) -> None:
    prefix = FILES_AID[:7]
    first = await iso7816.select(connection, aid=prefix)
    assert first.df_name == FILES_AID
    second = await iso7816.select(connection, aid=prefix, next_occurrence=True)
    assert second.df_name == SPARE_AID
    with pytest.raises(CheckingErrorException) as caught:
        await iso7816.select(connection, aid=prefix, next_occurrence=True)
    assert caught.value.sw == 0x6A82


async def test_select_by_fid_and_by_path(connection: aioscard.CardConnection) -> None:
    ef = await iso7816.select(connection, path=[FID_FILES_DF, FID_TRANSPARENT_EF])
    assert ef.fid == FID_TRANSPARENT_EF
    assert ef.size == len(FILES_TRANSPARENT)
    assert ef.structure == "transparent"
    assert ef.sfi == 1
    records = await iso7816.select(connection, fid=FID_RECORD_EF)  # a sibling, by FID
    assert records.structure == "linear fixed"
    assert (records.record_length, records.record_count) == (16, 5)
    mf = await iso7816.select(connection, fid=0x3F00)
    assert mf.is_df
    relative = await iso7816.select(connection, path=bytes.fromhex("5000"), from_mf=False)
    assert relative.fid == FID_FILES_DF
    with pytest.raises(CheckingErrorException, match="not found"):
        await iso7816.select(connection, fid=0x1234)


@pytest.mark.parametrize(
    ("kwargs", "error", "words"),
    [
        ({}, TypeError, "exactly one"),
        ({"aid": b"\xa0", "fid": 1}, TypeError, "exactly one"),
        ({"fid": 0x10000}, ValueError, "fid"),
        ({"fid": "3F00"}, TypeError, "fid"),
        ({"path": []}, ValueError, "at least one"),
        ({"path": b"\x50"}, ValueError, "2-byte"),
        ({"aid": b""}, ValueError, "aid"),
        ({"aid": FILES_AID, "control": "xml"}, ValueError, "control"),
        ({"fid": 1, "next_occurrence": True}, ValueError, "next_occurrence"),
    ],
)
async def test_select_rejects_bad_arguments_before_sending(
    connection: aioscard.CardConnection,
    virtual_card: VirtualCard,
    kwargs: dict[str, Any],
    error: type[Exception],
    words: str,
) -> None:
    before = virtual_card.apdu_count
    with pytest.raises(error, match=words):
        await iso7816.select(connection, **kwargs)
    assert virtual_card.apdu_count == before


# -- READ / UPDATE BINARY -----------------------------------------------------------------------


async def test_read_binary_of_a_whole_ef_in_short_reads(
    connection: aioscard.CardConnection,
) -> None:
    recorder = Recorder()
    connection.addObserver(recorder)
    await iso7816.select(connection, aid=FILES_AID, control=None)
    data = await iso7816.read_binary(connection, sfi=1)
    assert data == FILES_TRANSPARENT  # 700 bytes: 256 + 256 + 188, by short EF identifier
    reads = [command for command in recorder.commands if command[1] == 0xB0]
    assert [command[2:4] for command in reads] == [b"\x81\x00", b"\x01\x00", b"\x02\x00"]
    assert await iso7816.read_binary(connection, offset=690) == FILES_TRANSPARENT[690:]
    assert await iso7816.read_binary(connection, offset=5, length=3) == FILES_TRANSPARENT[5:8]
    with pytest.raises(ValueError, match="ended after 10"):
        await iso7816.read_binary(connection, offset=690, length=20)
    with pytest.raises(CheckingErrorException) as caught:
        await iso7816.read_binary(connection, offset=700)
    assert caught.value.sw == 0x6B00


async def test_update_binary_past_offset_7fff_and_by_sfi_past_ff_uses_d7(
    connection: aioscard.CardConnection,
) -> None:
    recorder = Recorder()
    connection.addObserver(recorder)
    await iso7816.select(connection, aid=FILES_AID, control=None)
    await iso7816.verify(connection, DEFAULT_PIN)
    patch = bytes(range(200, 256)) * 10  # 560 bytes across offset 0x7FFF
    await iso7816.update_binary(connection, patch, offset=0x7F00, sfi=4)
    instructions = [command[1] for command in recorder.commands if command[1] in (0xD6, 0xD7)]
    assert instructions == [0xD7, 0xD6, 0xD7, 0xD7]  # 246 by SFI, 10 up to 7FFF, 246, 58
    expected = FILES_LARGE[:0x7F00] + patch + FILES_LARGE[0x7F00 + len(patch) :]
    assert await iso7816.read_binary(connection) == expected
    await iso7816.update_binary(connection, b"odd", offset=300, sfi=1)
    assert await iso7816.read_binary(connection, offset=299, length=5) == (
        FILES_TRANSPARENT[299:300] + b"odd" + FILES_TRANSPARENT[303:304]
    )
    with pytest.raises(CheckingErrorException) as caught:
        await iso7816.update_binary(connection, b"xy", offset=39_999, sfi=4)
    assert caught.value.sw == 0x6A84


async def test_a_cancelled_whole_ef_read_leaves_the_connection_usable(
    connection: aioscard.CardConnection, virtual_card: VirtualCard
) -> None:
    await iso7816.select(connection, aid=FILES_AID, control=None)
    recorder = Recorder()
    connection.addObserver(recorder)
    started = anyio.Event()

    class Notify(aioscard.CardConnectionObserver):
        def update(self, observable: object, event: aioscard.CardConnectionEvent) -> None:
            if event.type == "response":
                started.set()

    async def read_large() -> None:
        await iso7816.read_binary(connection, sfi=4)  # 40,000 bytes, 157 short reads

    connection.addObserver(Notify())
    with anyio.CancelScope() as scope:
        async with anyio.create_task_group() as group:
            group.start_soon(read_large)
            await started.wait()
            scope.cancel()
    assert scope.cancelled_caught
    sent = len(recorder.commands)
    assert sent < 40_000 // 256  # stopped well before the end
    # The connection works, and a new read gets the whole file right.
    assert await iso7816.read_binary(connection, sfi=4) == FILES_LARGE
    assert len(recorder.commands) > sent


async def test_read_binary_uses_extended_length_when_the_card_declares_it(
    card_factory: CardFactory,
) -> None:
    card_factory(CAPABILITIES_ATR, DemoCard(), reader=1)
    reader = (await aioscard.readers())[1]
    async with reader.createConnection() as connection:
        recorder = Recorder()
        connection.addObserver(recorder)
        capabilities = CardCapabilities.from_atr(connection.getATR())
        assert capabilities.extended_length
        assert capabilities.command_chaining
        assert capabilities.logical_channels == 8
        await iso7816.select(connection, path=[FID_FILES_DF, FID_TRANSPARENT_EF], control=None)
        assert await iso7816.read_binary(connection) == FILES_TRANSPARENT
        reads = [command for command in recorder.commands if command[1] == 0xB0]
        assert len(reads) == 1  # one extended read
        assert reads[0][4:] == b"\x00\x00\x00"  # extended Le 0000: up to 65,536 bytes


async def test_read_binary_of_the_legacy_ef_ends_on_6282_and_corrects_6c(
    connection: aioscard.CardConnection,
) -> None:
    await iso7816.select(connection, fid=FID_DEMO_EF, control=None)
    assert await iso7816.read_binary(connection) == DEMO_FILES[FID_DEMO_EF]
    # An explicit length past the end: the card answers 6282 with what there is.
    with pytest.raises(ValueError, match="ended after 4"):
        await iso7816.read_binary(connection, offset=60, length=8)


async def test_read_binary_needs_an_ef(connection: aioscard.CardConnection) -> None:
    with pytest.raises(CheckingErrorException) as caught:
        await iso7816.read_binary(connection)
    assert caught.value.sw == 0x6986
    await iso7816.select(connection, aid=FILES_AID, control=None)
    with pytest.raises(CheckingErrorException) as caught:
        await iso7816.read_binary(connection, sfi=2)  # a record EF
    assert caught.value.sw == 0x6981
    with pytest.raises(ValueError, match="sfi"):
        await iso7816.read_binary(connection, sfi=31)
    with pytest.raises(ValueError, match="offset"):
        await iso7816.read_binary(connection, offset=0x1000000)
    with pytest.raises(ValueError, match="length"):
        await iso7816.read_binary(connection, length=0)


async def test_read_binary_past_offset_7fff_and_by_sfi_past_ff_uses_b1(
    connection: aioscard.CardConnection,
) -> None:
    recorder = Recorder()
    connection.addObserver(recorder)
    await iso7816.select(connection, aid=FILES_AID, control=None)
    # By SFI from offset 300: P1-P2 cannot hold both, so B1 with an offset data object.
    assert (
        await iso7816.read_binary(connection, offset=300, length=10, sfi=1)
        == (FILES_TRANSPARENT[300:310])
    )
    odd = [command for command in recorder.commands if command[1] == 0xB1]
    assert [command[:9] for command in odd] == [bytes.fromhex("00B100010454 02012C")]
    # A 40,000-byte EF read whole: B0 up to offset 0x7FFF, B1 beyond, nothing lost.
    assert await iso7816.read_binary(connection, sfi=4) == FILES_LARGE
    instructions = {command[1] for command in recorder.commands}
    assert {0xB0, 0xB1} <= instructions
    assert await iso7816.read_binary(connection, offset=39_990) == FILES_LARGE[39_990:]
    with pytest.raises(CheckingErrorException) as caught:
        await iso7816.read_binary(connection, offset=40_000)
    assert caught.value.sw == 0x6B00


async def test_update_binary_after_verify_and_the_pin_stays_out_of_logs(
    connection: aioscard.CardConnection, demo: DemoCard, caplog: pytest.LogCaptureFixture
) -> None:
    await iso7816.select(connection, aid=FILES_AID, control=None)
    with pytest.raises(CheckingErrorException) as caught:
        await iso7816.update_binary(connection, b"new", offset=10, sfi=1)
    assert caught.value.sw == 0x6982  # security status not satisfied
    with caplog.at_level(logging.DEBUG):
        connection.addObserver(aioscard.LoggingCardConnectionObserver())
        await iso7816.verify(connection, DEFAULT_PIN.decode())
    assert DEFAULT_PIN.hex().upper() not in caplog.text.replace(" ", "").upper()
    assert "redacted" in caplog.text
    await iso7816.update_binary(connection, b"new", offset=10, sfi=1)
    content = await iso7816.read_binary(connection)
    assert content[8:15] == FILES_TRANSPARENT[8:10] + b"new" + FILES_TRANSPARENT[13:15]
    long_write = bytes(range(256)) * 2
    await iso7816.update_binary(connection, long_write, offset=100)  # two commands of 255 + 257
    assert (await iso7816.read_binary(connection, offset=100, length=512)) == long_write
    with pytest.raises(CheckingErrorException) as caught:
        await iso7816.update_binary(connection, b"xyz", offset=698)
    assert caught.value.sw == 0x6A84  # not enough memory space in the file
    files = demo.files.mf.child(FID_FILES_DF)
    assert isinstance(files, DedicatedFile)
    ef = files.child(FID_TRANSPARENT_EF)
    assert isinstance(ef, ElementaryFile)
    assert ef.content[10:13] == b"new"


# -- records, data objects, PIN ---------------------------------------------------------------


async def test_read_records_one_and_all(connection: aioscard.CardConnection) -> None:
    await iso7816.select(connection, aid=FILES_AID, control=None)
    assert await iso7816.read_record(connection, 3, sfi=2) == FILES_RECORDS[2]
    assert await iso7816.read_records(connection, sfi=2) == list(FILES_RECORDS)
    assert await iso7816.read_records(connection, sfi=3) == list(FILES_VARIABLE_RECORDS)
    with pytest.raises(CheckingErrorException) as caught:
        await iso7816.read_record(connection, 6, sfi=2)
    assert caught.value.sw == 0x6A83
    with pytest.raises(ValueError, match="number"):
        await iso7816.read_record(connection, 0)


async def test_get_data_get_challenge_and_pin_state(connection: aioscard.CardConnection) -> None:
    assert await iso7816.get_data(connection, 0x9F7F) == DEMO_CPLC
    with pytest.raises(CheckingErrorException) as missing:
        await iso7816.get_data(connection, 0x9F7E)
    assert missing.value.sw == 0x6A88
    first, second = [await iso7816.get_challenge(connection, 16) for _ in range(2)]
    assert len(first) == 16
    assert first != second
    status = await iso7816.verify_status(connection)
    assert status == iso7816.PinStatus(verified=False, tries_left=3)
    with pytest.raises(WarningProcessingException) as wrong:
        await iso7816.verify(connection, b"0000", pad_to=8)
    assert wrong.value.sw == 0x63C2
    assert "0000" not in str(wrong.value)
    assert "30303030" not in str(wrong.value)
    await iso7816.verify(connection, DEFAULT_PIN)
    assert await iso7816.verify_status(connection) == iso7816.PinStatus(True, None)


async def test_read_capabilities_from_ef_atr(connection: aioscard.CardConnection) -> None:
    # The demo ATR declares nothing; EF.ATR does.
    assert CardCapabilities.from_atr(connection.getATR()) == CardCapabilities()
    capabilities = await iso7816.read_capabilities(connection)
    assert capabilities.command_chaining
    assert capabilities.extended_length
    assert capabilities.max_command_length == 0xFFFF
    assert capabilities.max_command_data == 0xFFFF - 9
    assert capabilities.max_response_data == 0xFFFF - 2
    options = capabilities.transport_options()
    assert options.chain_limit == 0xFFFF - 9
    assert options.get_response
    assert options.le_correction


# -- chaining ------------------------------------------------------------------------------


async def test_chaining_sends_long_data_to_a_short_length_card(
    card_factory: CardFactory,
) -> None:
    card = DemoCard(extended_length=False)
    card_factory(handler=card, reader=2)
    reader = (await aioscard.readers())[2]
    async with reader.createConnection() as connection:
        capabilities = await iso7816.read_capabilities(connection)
        assert capabilities.command_chaining
        assert not capabilities.extended_length
        connection.transport = capabilities.transport_options()
        recorder = Recorder()
        connection.addObserver(recorder)
        data = bytes(range(256)) * 3
        response = await connection.transmit(echo_apdu(data, extended=True))
        assert response.sw == 0x9000
        assert bytes(response.data) == data  # 768 bytes: 3 short links, GET RESPONSE back
        # Without chaining the card refuses the extended command.
        connection.transport = aioscard.TransportOptions()
        refused = await connection.transmit(echo_apdu(data, extended=True))
        assert refused.sw == 0x6700


async def test_chaining_refused_by_the_card_comes_back_as_its_status_word(
    card_factory: CardFactory,
) -> None:
    card_factory(handler=DemoCard(chaining=False, extended_length=False), reader=2)
    reader = (await aioscard.readers())[2]
    async with reader.createConnection() as connection:
        connection.transport = aioscard.TransportOptions(chain_limit=255)
        response = await connection.transmit(echo_apdu(bytes(300), extended=True))
        assert response.sw == 0x6884


# -- logical channels ---------------------------------------------------------------------


async def test_channels_keep_their_own_current_file(
    connection: aioscard.CardConnection, demo: DemoCard
) -> None:
    async with connection.channel() as first, connection.channel() as second:
        assert (first.number, second.number) == (1, 2)
        assert demo.open_channels == [0, 1, 2]
        await iso7816.select(first, path=[FID_FILES_DF, FID_TRANSPARENT_EF], control=None)
        await iso7816.select(second, fid=FID_DEMO_EF, control=None)
        assert await iso7816.read_binary(first, length=4) == FILES_TRANSPARENT[:4]
        assert await iso7816.read_binary(second) == DEMO_FILES[FID_DEMO_EF]
        # The basic channel has selected nothing and stays usable.
        with pytest.raises(CheckingErrorException):
            await iso7816.read_binary(connection)
        assert (await connection.transmit(echo_apdu(b"basic"))).data_bytes == b"basic"
    assert demo.open_channels == [0]
    assert first.closed
    with pytest.raises(CardConnectionException, match="closed"):
        await first.transmit(echo_apdu(b"late"))


async def test_further_channels_4_to_19_use_the_further_class_coding(
    connection: aioscard.CardConnection, demo: DemoCard
) -> None:
    recorder = Recorder()
    connection.addObserver(recorder)
    async with contextlib.AsyncExitStack() as stack:
        channels = [await stack.enter_async_context(connection.channel(n)) for n in (4, 19, 3)]
        for channel in channels:
            answer = await channel.transmit(echo_apdu(b"n%d" % channel.number))
            assert answer.data_bytes == b"n%d" % channel.number
        assert demo.open_channels == [0, 3, 4, 19]
    echoes = [command for command in recorder.commands if command[1] == 0xEE]
    assert [hex(command[0]) for command in echoes] == ["0xc0", "0xcf", "0x83"]
    assert [channel_of(command[0]) for command in echoes] == [4, 19, 3]
    assert demo.open_channels == [0]


async def test_channels_from_concurrent_tasks_never_mix(
    connection: aioscard.CardConnection, demo: DemoCard
) -> None:
    errors: list[str] = []

    async def worker(index: int) -> None:
        async with connection.channel() as channel:
            payload = bytes([index]) * (index + 1)
            for _ in range(20):
                answer = await channel.transmit(echo_apdu(payload))
                if answer.data_bytes != payload:
                    errors.append(f"channel {channel.number} got {answer.data_bytes!r}")
            # GET RESPONSE rounds stay on the channel too.
            connection.transport = aioscard.TransportOptions(get_response=True)
            await iso7816.select(channel, path=[FID_FILES_DF, FID_TRANSPARENT_EF], control=None)
            if await iso7816.read_binary(channel) != FILES_TRANSPARENT:
                errors.append(f"channel {channel.number} read the wrong file")

    async with anyio.create_task_group() as group:
        for index in range(6):
            group.start_soon(worker, index)
        for _ in range(20):
            assert (await connection.transmit(echo_apdu(b"base"))).data_bytes == b"base"
    assert errors == []
    assert demo.open_channels == [0]


async def test_a_channel_is_closed_on_error_and_on_cancellation(
    connection: aioscard.CardConnection, demo: DemoCard
) -> None:
    async def fail_inside() -> None:
        async with connection.channel() as channel:
            assert demo.open_channels == [0, channel.number]
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        await fail_inside()
    assert demo.open_channels == [0]
    entered = anyio.Event()
    with anyio.move_on_after(10) as scope:
        async with anyio.create_task_group() as group:

            async def holder() -> None:
                async with connection.channel():
                    entered.set()
                    await anyio.sleep_forever()

            group.start_soon(holder)
            await entered.wait()
            assert demo.open_channels == [0, 1]
            group.cancel_scope.cancel()
    assert not scope.cancelled_caught
    assert demo.open_channels == [0]
    # The connection is fine afterwards.
    assert (await connection.transmit(echo_apdu(b"ok"))).data_bytes == b"ok"


async def test_bad_channel_numbers_and_refusals_are_typed_errors(
    connection: aioscard.CardConnection, virtual_card: VirtualCard, card_factory: CardFactory
) -> None:
    before = virtual_card.apdu_count
    for number, error in ((0, ValueError), (20, ValueError), (-1, ValueError), ("1", TypeError)):
        with pytest.raises(error, match="channel number"):
            async with connection.channel(junk(number)):
                pass
    assert virtual_card.apdu_count == before
    async with connection.channel(5) as channel:
        with pytest.raises(SWException) as taken:
            async with connection.channel(5):
                pass
        assert taken.value.sw == 0x6A81
        with pytest.raises(ValueError, match="names channel 2"):
            await channel.transmit(bytes.fromhex("02CA9F7F00"))
        with pytest.raises(ValueError, match="FF"):
            await channel.transmit(bytes.fromhex("FFCA000000"))
    card_factory(handler=DemoCard(channels=1), reader=3)
    reader = (await aioscard.readers())[3]
    async with reader.createConnection() as single:
        with pytest.raises(SWException) as unsupported:
            async with single.channel():
                pass
        assert unsupported.value.sw == 0x6A81
