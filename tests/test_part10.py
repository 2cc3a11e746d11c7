"""PC/SC Part 10 and reader information end to end: through a real pcscd, with the
simulator's own reader driver, its simulated pinpad and the demo card checking the PIN.

What a user sees: the features and properties a pinpad announces, a VERIFY and a
CHANGE REFERENCE DATA built by the reader from the typed PIN, a wrong PIN counted
by the card, the pinpad's timeout and Cancel key as typed errors, a cancelled
caller getting control back at once while the reader finishes, a reader without
features, the reader attributes, ``smartcard.pcsc.PCSCPart10`` under the shim,
and the PIN nowhere in the logs.
"""

from __future__ import annotations

import json
import logging
import threading

import pytest

import aioscard
import aioscard.compat
from aioscard import CardConnection, Reader
from aioscard.exceptions import (
    FeatureNotSupportedException,
    PinEntryException,
    PinEntryTimeoutException,
)
from aioscard.native import constants as C
from aioscard.part10 import (
    CM_IOCTL_GET_FEATURE_REQUEST,
    Feature,
    PinModifyStructure,
    PinProperties,
    PinVerifyStructure,
    encode_features,
)
from aioscard.testing import DEFAULT_PIN, Pinpad, SimulatedReader, Simulator, VirtualCard

from ._support import cancel_during_pin_entry
from .test_cli import run
from .test_secrets import spellings

pytestmark = pytest.mark.anyio

VERIFY = PinVerifyStructure(apdu=bytes.fromhex("0020008008") + b"\xff" * 8, timeout=5)
CHANGE = PinModifyStructure(apdu=bytes.fromhex("0024008010") + b"\xff" * 16, timeout=5)
CCID_CODES = {
    Feature.VERIFY_PIN_DIRECT: 0x42330006,
    Feature.MODIFY_PIN_DIRECT: 0x42330007,
    Feature.IFD_PIN_PROPERTIES: 0x4233000A,
    Feature.GET_TLV_PROPERTIES: 0x42330012,
}


@pytest.fixture
def pinpad_connection(
    pinpad_reader: SimulatedReader, virtual_card: VirtualCard, pcsc_simulator: Simulator
) -> str:
    """The name of reader 0, a pinpad holding the demo card."""
    return pcsc_simulator.reader_names[0]


async def verified(connection: CardConnection) -> bool:
    """Whether the card says the PIN is verified (VERIFY without data)."""
    return (await connection.transmit(bytes.fromhex("00200080"))).ok


# -- features and properties -----------------------------------------------------


async def test_a_pinpad_announces_its_features(pinpad_connection: str) -> None:
    async with Reader(pinpad_connection).createConnection() as connection:
        features = await connection.features()
        assert dict(features) == CCID_CODES
        assert await connection.pin_properties() == PinProperties(0x0000, 0x02, 0)
        tlv = await connection.tlv_properties()
    assert (tlv.vendor_id, tlv.product_id) == (0x1209, 0x0001)
    assert (tlv.min_pin_size, tlv.max_pin_size) == (4, 8)
    assert tlv.firmware_id == "aioscard-sim 1.0"
    assert tlv.max_apdu_data_size == 261
    assert tlv.entry_validation_condition == 0x02


async def test_a_reader_without_features(
    pcsc_simulator: Simulator, virtual_card: VirtualCard
) -> None:
    # Reader 0 holds the demo card but is no pinpad here.
    async with Reader(pcsc_simulator.reader_names[0]).createConnection() as connection:
        assert dict(await connection.features()) == {}
        with pytest.raises(FeatureNotSupportedException, match="FEATURE_VERIFY_PIN_DIRECT"):
            await connection.verify_pin_pinpad(VERIFY)
        with pytest.raises(FeatureNotSupportedException, match="FEATURE_IFD_PIN_PROPERTIES"):
            await connection.pin_properties()
        assert (await connection.transmit(bytes.fromhex("00200080"))).sw1 == 0x63


# -- verify and modify ---------------------------------------------------------------


async def test_verify_with_the_right_pin(pinpad_connection: str) -> None:
    async with Reader(pinpad_connection).createConnection() as connection:
        assert not await verified(connection)
        response = await connection.verify_pin_pinpad(VERIFY)
        assert response.ok
        assert await verified(connection)


async def test_a_wrong_pin_is_the_cards_answer(
    pinpad_connection: str, pinpad_reader: SimulatedReader, virtual_card: VirtualCard
) -> None:
    pinpad_reader.pinpad = Pinpad("999999")
    async with Reader(pinpad_connection).createConnection() as connection:
        first = await connection.verify_pin_pinpad(VERIFY)
        second = await connection.verify_pin_pinpad(VERIFY)
        assert (first.sw, second.sw) == (0x63C2, 0x63C1)  # the retry counter counts down
        assert not await verified(connection)
        pinpad_reader.pinpad = Pinpad(DEFAULT_PIN.decode())
        assert (await connection.verify_pin_pinpad(VERIFY)).ok


async def test_modify_then_verify_the_new_pin(
    pinpad_connection: str, pinpad_reader: SimulatedReader
) -> None:
    pinpad_reader.pinpad = Pinpad(DEFAULT_PIN.decode(), new_pin="24681357")
    async with Reader(pinpad_connection).createConnection() as connection:
        assert (await connection.modify_pin_pinpad(CHANGE)).ok
        pinpad_reader.pinpad = Pinpad(DEFAULT_PIN.decode())
        assert (await connection.verify_pin_pinpad(VERIFY)).sw == 0x63C2  # the old one fails
        pinpad_reader.pinpad = Pinpad("24681357")
        assert (await connection.verify_pin_pinpad(VERIFY)).ok


async def test_modify_with_a_mismatching_confirmation(
    pinpad_connection: str, pinpad_reader: SimulatedReader
) -> None:
    pinpad_reader.pinpad = Pinpad(DEFAULT_PIN.decode(), new_pin="2468", confirm_pin="1357")
    async with Reader(pinpad_connection).createConnection() as connection:
        with pytest.raises(PinEntryException, match="differ") as caught:
            await connection.modify_pin_pinpad(CHANGE)
        assert caught.value.sw == 0x6402
        pinpad_reader.pinpad = Pinpad(DEFAULT_PIN.decode())
        assert (await connection.verify_pin_pinpad(VERIFY)).ok  # the PIN did not change


async def test_the_pinpad_times_out(pinpad_connection: str, pinpad_reader: SimulatedReader) -> None:
    pinpad_reader.pinpad = Pinpad(action="timeout")
    async with Reader(pinpad_connection).createConnection() as connection:
        with pytest.raises(PinEntryTimeoutException) as caught:
            await connection.verify_pin_pinpad(VERIFY)
        assert caught.value.sw == 0x6400
        assert not await verified(connection)  # and the connection goes on


async def test_the_user_presses_cancel(
    pinpad_connection: str, pinpad_reader: SimulatedReader
) -> None:
    pinpad_reader.pinpad = Pinpad(action="cancel")
    async with Reader(pinpad_connection).createConnection() as connection:
        with pytest.raises(PinEntryException, match="cancelled") as caught:
            await connection.verify_pin_pinpad(VERIFY)
        assert caught.value.sw == 0x6401
        assert not isinstance(caught.value, PinEntryTimeoutException)


async def test_cancelling_the_caller_during_pin_entry(
    pcsc_simulator: Simulator, virtual_card: VirtualCard
) -> None:
    # A reader whose "user" takes until the test lets go: the awaiting task is
    # cancelled while pcscd is inside SCardControl.  The caller is back at once; the
    # reader stays busy until the entry ends; the next call then goes through.
    reader = pcsc_simulator.reader(0)
    entering, typed = threading.Event(), threading.Event()
    code = C.SCARD_CTL_CODE(0x330000 + Feature.VERIFY_PIN_DIRECT)

    def control(requested: int, data: bytes) -> bytes:
        if requested == CM_IOCTL_GET_FEATURE_REQUEST:
            return encode_features({Feature.VERIFY_PIN_DIRECT: code})
        entering.set()
        typed.wait(20)
        return reader.transmit(PinVerifyStructure.from_bytes(data).apdu_with_pin("123456"))

    reader.control = control
    try:
        async with Reader(pcsc_simulator.reader_names[0]).createConnection() as connection:
            await cancel_during_pin_entry(connection, VERIFY, entering)
            assert not typed.is_set()  # back while the "user" is still typing
            typed.set()
            # The reader finished the entry it had begun: the card got the PIN.
            assert await verified(connection)
    finally:
        reader.control = None
        typed.set()


# -- reader information ----------------------------------------------------------------


async def test_reader_attributes(pcsc_simulator: Simulator) -> None:
    info = await Reader(pcsc_simulator.reader_names[1]).info()  # empty reader, no card needed
    assert info.vendor_name == "aioscard"
    assert info.ifd_type == "Simulated reader"
    assert info.ifd_version == 0x01000000
    assert info.version_text == "1.0.0"
    assert info.serial_number == "SIM-0001"
    assert info.channel_id == 0x00F00001
    assert info.max_input == 65544
    assert dict(info.features) == {}
    assert info.tlv_properties is None


async def test_absent_attributes_are_absent(pcsc_simulator: Simulator) -> None:
    reader = pcsc_simulator.reader(2)
    saved = dict(reader.attributes)
    reader.attributes.clear()
    try:
        info = await Reader(pcsc_simulator.reader_names[2]).info()
    finally:
        reader.attributes.update(saved)
    assert (info.vendor_name, info.serial_number, info.ifd_version) == (None, None, None)
    assert info.to_json() == {}


async def test_set_attrib_then_get_attrib(pcsc_simulator: Simulator) -> None:
    tag = C.SCARD_ATTR_VALUE(C.SCARD_CLASS_VENDOR_DEFINED, 0x0123)
    connection = Reader(pcsc_simulator.reader_names[3]).createConnection()
    await connection.connect(mode=C.SCARD_SHARE_DIRECT)
    try:
        await connection.setAttrib(tag, b"\x01\x02")
        assert await connection.getAttrib(tag) == [1, 2]
    finally:
        await connection.release()
        pcsc_simulator.reader(3).attributes.pop(tag, None)


async def test_info_of_a_pinpad_includes_part10(
    pinpad_reader: SimulatedReader, pcsc_simulator: Simulator
) -> None:
    info = await Reader(pcsc_simulator.reader_names[0]).info()
    assert dict(info.features) == CCID_CODES
    assert info.tlv_properties is not None
    assert info.tlv_properties.vendor_id == 0x1209
    assert info.pin_properties == PinProperties(0, 2, 0)
    assert "Part 10 features: VERIFY_PIN_DIRECT, MODIFY_PIN_DIRECT" in " ".join(info.describe())


def test_readers_command_shows_reader_information(
    pinpad_reader: SimulatedReader,
    pcsc_simulator: Simulator,
    capsys: pytest.CaptureFixture[str],
) -> None:
    status, out, _ = run("readers", capsys=capsys)
    assert status == 0
    lines = out.splitlines()
    assert "   reader: aioscard Simulated reader, version 1.0.0" in lines
    assert "   serial number: SIM-0001" in lines
    assert any(line.startswith("   Part 10 features: VERIFY_PIN_DIRECT") for line in lines)
    status, out, _ = run("readers", "--json", capsys=capsys)
    listed = [json.loads(line) for line in out.splitlines()]
    assert listed[1]["info"]["serial_number"] == "SIM-0001"
    assert listed[0]["info"]["features"]["FEATURE_VERIFY_PIN_DIRECT"] == "0x42330006"
    assert listed[0]["info"]["tlv_properties"]["vendor_id"] == 0x1209


# -- the shim ------------------------------------------------------------------------


def test_pcscpart10_under_the_shim(pinpad_connection: str) -> None:
    aioscard.compat.install_as_smartcard()
    from aioscard.compat.pcsc import PCSCPart10
    from aioscard.compat.System import readers

    reader = next(r for r in readers() if str(r) == pinpad_connection)
    connection = reader.createConnection()
    connection.connect()
    try:
        features = PCSCPart10.getFeatureRequest(connection)
        assert ["FEATURE_VERIFY_PIN_DIRECT", 0x42330006] in features
        assert PCSCPart10.hasFeature(features, PCSCPart10.FEATURE_MODIFY_PIN_DIRECT) == 0x42330007
        tlv = PCSCPart10.getTlvProperties(connection, features)
        assert tlv["PCSCv2_PART10_PROPERTY_wIdVendor"] == 0x1209
        assert tlv["PCSCv2_PART10_PROPERTY_sFirmwareID"] == "aioscard-sim 1.0"
        assert PCSCPart10.getPinProperties(connection)["EntryValidationCondition"] == 2
        # pyscard programs verify with control() and the structure's bytes.
        answer = connection.control(0x42330006, list(VERIFY.to_bytes()))
        assert answer == [0x90, 0x00]
    finally:
        connection.disconnect()
        connection.release()


def test_pcscpart10_on_a_reader_without_features(
    pcsc_simulator: Simulator, virtual_card: VirtualCard
) -> None:
    from aioscard.compat.pcsc import PCSCPart10
    from aioscard.compat.System import readers

    connection = readers()[0].createConnection()
    connection.connect()
    try:
        with pytest.raises(aioscard.exceptions.UnsupportedFeatureException):
            PCSCPart10.getFeatureRequest(connection)  # pyscard raises here too
    finally:
        connection.disconnect()
        connection.release()


# -- secrets ---------------------------------------------------------------------------


async def test_the_pin_stays_out_of_logs_and_reprs(
    pinpad_connection: str,
    pinpad_reader: SimulatedReader,
    caplog: pytest.LogCaptureFixture,
) -> None:
    secret = b"97531864"
    pinpad_reader.pinpad = Pinpad(secret.decode())
    caplog.set_level(logging.DEBUG)
    async with Reader(pinpad_connection).createConnection() as connection:
        response = await connection.verify_pin_pinpad(VERIFY)
    typed = VERIFY.apdu_with_pin(secret)
    text = "\n".join([caplog.text, repr(VERIFY), repr(response), str(response)])
    assert all(form not in text for form in spellings(secret))
    assert secret in typed  # the formatting itself is not hidden from the caller
