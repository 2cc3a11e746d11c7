"""The simulator's own reader driver through a real pcscd: attributes, control codes,
pushed card events, the pinpad, and the fall-back to vpcd.

PC/SC calls in this process go to the session's ``pcsc_simulator`` (libpcsclite
latches one daemon per process), which runs on the driver unless the run was
started with ``--aioscard-backend vpcd``.
"""

from __future__ import annotations

import logging
import os
import time
from contextlib import contextmanager
from typing import TYPE_CHECKING

import anyio
import pytest

from aioscard import exceptions as exc
from aioscard import part10
from aioscard.monitor import CardInserted, CardRemoved, card_events
from aioscard.native import constants as C
from aioscard.native import get_pcsc
from aioscard.testing import (
    DEFAULT_PIN,
    DEMO_ATR,
    PIN_TRIES,
    SELECT_DEMO_APDU,
    DemoCard,
    Pinpad,
    SimulatedReader,
    Simulator,
    UnsupportedControl,
    VirtualCard,
    _driver,
    verify_apdu,
)
from aioscard.testing.plugin import CardFactory, wait_reader_state

if TYPE_CHECKING:
    from collections.abc import Iterator

OK = b"\x90\x00"
VENDOR_NAME, IFD_SERIAL, CHANNEL_ID, MAXINPUT = 0x00010100, 0x00010103, 0x00020110, 0x0007A007
ATR_STRING = 0x00090303
VERIFY_CODE = Pinpad.feature_code(part10.FEATURE_VERIFY_PIN_DIRECT)
MODIFY_CODE = Pinpad.feature_code(part10.FEATURE_MODIFY_PIN_DIRECT)
# What a pinpad client sends: VERIFY with an 8-byte ASCII PIN block padded with FF.
VERIFY_STRUCTURE = part10.PinVerifyStructure(apdu=bytes.fromhex("0020008008") + b"\xff" * 8)


@pytest.fixture
def driver_simulator(pcsc_simulator: Simulator) -> Simulator:
    if pcsc_simulator.backend != "driver":
        pytest.skip("this run's session simulator uses vpcd (--aioscard-backend vpcd)")
    return pcsc_simulator


@contextmanager
def connected(simulator: Simulator, reader: int, direct: bool = False) -> Iterator[int]:
    """A PC/SC handle on ``reader`` (``direct``: without a card)."""
    pcsc = get_pcsc()
    context = pcsc.establish_context()
    try:
        share = C.SCARD_SHARE_DIRECT if direct else C.SCARD_SHARE_SHARED
        protocols = 0 if direct else C.SCARD_PROTOCOL_T0 | C.SCARD_PROTOCOL_T1
        handle, _ = pcsc.connect(context, simulator.reader_names[reader], share, protocols)
        try:
            yield handle
        finally:
            pcsc.disconnect(handle, C.SCARD_LEAVE_CARD)
    finally:
        pcsc.release_context(context)


# -- reader attributes and control codes ------------------------------------------------


def test_reader_attributes_come_from_the_simulated_reader(
    driver_simulator: Simulator, card_factory: CardFactory
) -> None:
    card_factory(reader=1)
    reader = driver_simulator.reader(1)
    pcsc = get_pcsc()
    with connected(driver_simulator, 1) as handle:
        assert pcsc.get_attrib(handle, VENDOR_NAME) == b"aioscard"
        assert pcsc.get_attrib(handle, IFD_SERIAL) == b"SIM-0001"
        assert pcsc.get_attrib(handle, CHANNEL_ID) == (0x00F00001).to_bytes(4, "little")
        assert pcsc.get_attrib(handle, MAXINPUT) == (65544).to_bytes(4, "little")
        assert pcsc.get_attrib(handle, ATR_STRING) == DEMO_ATR
        # Changed on the reader: the next read sees it.  Removed: unsupported.
        reader.attributes[VENDOR_NAME] = b"ACME"
        del reader.attributes[IFD_SERIAL]
        try:
            assert pcsc.get_attrib(handle, VENDOR_NAME) == b"ACME"
            with pytest.raises(exc.UnsupportedFeatureException):
                pcsc.get_attrib(handle, IFD_SERIAL)
        finally:
            reader.attributes[VENDOR_NAME] = b"aioscard"
            reader.attributes[IFD_SERIAL] = b"SIM-0001"


def test_set_attrib_stores_writable_attributes_and_refuses_read_only_ones(
    driver_simulator: Simulator,
) -> None:
    reader = driver_simulator.reader(2)
    pcsc = get_pcsc()
    with connected(driver_simulator, 2, direct=True) as handle:
        pcsc.set_attrib(handle, 0x7FFF0001, b"\x01\x02")
        try:
            assert reader.attributes[0x7FFF0001] == b"\x01\x02"
            assert pcsc.get_attrib(handle, 0x7FFF0001) == b"\x01\x02"
        finally:
            del reader.attributes[0x7FFF0001]
        with pytest.raises(exc.SmartcardException):
            pcsc.set_attrib(handle, VENDOR_NAME, b"forged")
    assert reader.attributes[VENDOR_NAME] == b"aioscard"


def test_control_codes_reach_the_readers_handler(driver_simulator: Simulator) -> None:
    reader = driver_simulator.reader(3)
    calls: list[tuple[int, bytes]] = []

    def handler(code: int, data: bytes) -> bytes:
        calls.append((code, data))
        if code == 0x42000001:
            return data[::-1]
        if code == 0x42000002:
            return bytes(300)
        if code == 0x42000003:
            raise RuntimeError("firmware bug")
        raise UnsupportedControl(f"0x{code:08X}")

    pcsc = get_pcsc()
    with connected(driver_simulator, 3, direct=True) as handle:
        with pytest.raises(exc.UnsupportedFeatureException):
            pcsc.control(handle, 0x42000001, b"abc")  # no handler yet
        reader.control = handler
        try:
            assert pcsc.control(handle, 0x42000001, b"abc") == b"cba"
            with pytest.raises(exc.InsufficientBufferException):
                pcsc.control(handle, 0x42000002, b"", max_response=100)
            assert pcsc.control(handle, 0x42000002) == bytes(300)
            with pytest.raises(exc.SmartcardException):
                pcsc.control(handle, 0x42000003)
            with pytest.raises(exc.UnsupportedFeatureException):
                pcsc.control(handle, 0x42000099)
        finally:
            reader.control = None
    assert [code for code, _ in calls] == [
        0x42000001,
        0x42000002,
        0x42000002,
        0x42000003,
        0x42000099,
    ]


# -- events ------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_insertion_and_removal_reach_a_subscriber(driver_simulator: Simulator) -> None:
    name = driver_simulator.reader_names[2]
    async with card_events(readers=[name], initial=False) as events:
        await anyio.to_thread.run_sync(lambda: driver_simulator.insert(reader=2))
        with anyio.fail_after(5):
            inserted = await events.__anext__()
        await anyio.to_thread.run_sync(lambda: driver_simulator.remove(2))
        with anyio.fail_after(5):
            removed = await events.__anext__()
    assert isinstance(inserted, CardInserted)
    assert isinstance(removed, CardRemoved)
    assert str(inserted.card.reader) == str(removed.card.reader) == name


def pcscd_cpu_seconds(simulator: Simulator) -> float:
    """The CPU time pcscd has used so far, all its threads (``/proc/PID/stat``)."""
    with open(f"/proc/{simulator.pid}/stat", encoding="ascii") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_pcscd_sleeps_again_after_the_last_connection_to_a_card_ends(
    driver_simulator: Simulator, card_factory: CardFactory
) -> None:
    # After the last SCardDisconnect on a powered card, pcscd stops the driver's
    # polling function and calls it again with another timeout.  The stop once left a
    # wake-up behind that made every later call return at once: pcscd's polling thread
    # spun, a core per reader used that way, until the reader went.
    card_factory(reader=0)
    with connected(driver_simulator, 0):
        pass
    before = pcscd_cpu_seconds(driver_simulator)
    time.sleep(1.0)  # the window measured: nothing happens in it
    assert pcscd_cpu_seconds(driver_simulator) - before < 0.2


# -- the pinpad ----------------------------------------------------------------------------


def verify_on_pinpad(simulator: Simulator, structure: part10.PinVerifyStructure) -> bytes:
    with connected(simulator, 0) as handle:
        return get_pcsc().control(handle, VERIFY_CODE, structure.to_bytes())


def test_pinpad_announces_its_features_and_properties(
    pinpad_reader: SimulatedReader, driver_simulator: Simulator
) -> None:
    pcsc = get_pcsc()
    with connected(driver_simulator, 0, direct=True) as handle:
        features = part10.parse_features(pcsc.control(handle, part10.CM_IOCTL_GET_FEATURE_REQUEST))
        properties = part10.parse_pin_properties(
            pcsc.control(handle, features[part10.FEATURE_IFD_PIN_PROPERTIES])
        )
        tlv = part10.parse_tlv_properties(
            pcsc.control(handle, features[part10.FEATURE_GET_TLV_PROPERTIES])
        )
    assert dict(features) == {
        part10.FEATURE_VERIFY_PIN_DIRECT: VERIFY_CODE,
        part10.FEATURE_MODIFY_PIN_DIRECT: MODIFY_CODE,
        part10.FEATURE_IFD_PIN_PROPERTIES: 0x4233000A,
        part10.FEATURE_GET_TLV_PROPERTIES: 0x42330012,
    }
    assert properties == part10.PinProperties(0, part10.EntryValidation.VALIDATION_KEY, 0)
    assert (tlv.min_pin_size, tlv.max_pin_size, tlv.firmware_id) == (4, 8, "aioscard-sim 1.0")
    assert (tlv.vendor_id, tlv.product_id) == (0x1209, 0x0001)


def test_a_reader_without_pinpad_has_no_features(driver_simulator: Simulator) -> None:
    with (
        connected(driver_simulator, 1, direct=True) as handle,
        pytest.raises(exc.UnsupportedFeatureException),
    ):
        get_pcsc().control(handle, part10.CM_IOCTL_GET_FEATURE_REQUEST)


def test_pinpad_verify_right_pin_wrong_pin_and_retry_counter(
    pinpad_reader: SimulatedReader,
    driver_simulator: Simulator,
    virtual_card: VirtualCard,
    caplog: pytest.LogCaptureFixture,
) -> None:
    assert isinstance(virtual_card.handler, DemoCard)
    with caplog.at_level(logging.DEBUG, logger="aioscard.testing"):
        assert verify_on_pinpad(driver_simulator, VERIFY_STRUCTURE) == OK
        pinpad_reader.pinpad = Pinpad("654321")
        assert verify_on_pinpad(driver_simulator, VERIFY_STRUCTURE) == b"\x63\xc2"
        assert verify_on_pinpad(driver_simulator, VERIFY_STRUCTURE) == b"\x63\xc1"
        pinpad_reader.pinpad = Pinpad(DEFAULT_PIN.decode())
        assert verify_on_pinpad(driver_simulator, VERIFY_STRUCTURE) == OK
    assert pinpad_reader.pinpad.entries == 1
    # The card got the template with the PIN in it, and the counter went back to 3.
    assert virtual_card.handler(verify_apdu(None)) == OK
    logged = caplog.text
    assert "pinpad sends 00 20 00 80 08 <8 bytes redacted>" in logged
    for secret in ("123456", "654321", "31 32 33", "313233", "36 35 34", "363534"):
        assert secret not in logged
    assert PIN_TRIES == 3


@pytest.mark.parametrize(
    ("structure", "typed", "card_sees"),
    [
        (VERIFY_STRUCTURE, "1234", b"1234\xff\xff\xff\xff"),
        (
            # ISO 9564 format 2 style: control nibble 2, length nibble, BCD digits, F filler.
            part10.PinVerifyStructure(
                apdu=bytes.fromhex("002000800820") + b"\xff" * 7,
                pin_format=part10.PinFormat.BCD,
                pin_position=1,
                pin_block_size=7,
                pin_length_size=4,
                pin_length_position=4,
            ),
            "123456",
            bytes.fromhex("26123456ffffffff"),
        ),
        (
            part10.PinVerifyStructure(
                apdu=bytes.fromhex("0020008008") + b"\x00" * 8,
                pin_format=part10.PinFormat.BINARY,
                right_justify=True,
            ),
            "9876",
            bytes.fromhex("0000000009080706"),
        ),
    ],
    ids=["ascii-left", "bcd-length-field", "binary-right"],
)
def test_pinpad_formats_the_typed_pin_as_the_structure_says(
    pinpad_reader: SimulatedReader,
    driver_simulator: Simulator,
    card_factory: CardFactory,
    structure: part10.PinVerifyStructure,
    typed: str,
    card_sees: bytes,
) -> None:
    received: list[bytes] = []

    def card(apdu: bytes) -> bytes:
        received.append(apdu)
        return OK

    card_factory(handler=card, reader=0)
    pinpad_reader.pinpad = Pinpad(typed)
    assert verify_on_pinpad(driver_simulator, structure) == OK
    assert received == [bytes.fromhex("0020008008") + card_sees]


@pytest.mark.parametrize(
    ("pinpad", "answer"),
    [
        (Pinpad(action="timeout"), b"\x64\x00"),
        (Pinpad("123456", action="cancel"), b"\x64\x01"),
        (Pinpad("12"), b"\x64\x03"),  # shorter than the structure's 4 digits
    ],
    ids=["timeout", "cancel", "too-short"],
)
def test_pinpad_timeout_cancel_and_bad_length_never_reach_the_card(
    pinpad_reader: SimulatedReader,
    driver_simulator: Simulator,
    virtual_card: VirtualCard,
    pinpad: Pinpad,
    answer: bytes,
) -> None:
    pinpad_reader.pinpad = pinpad
    before = virtual_card.apdu_count
    assert verify_on_pinpad(driver_simulator, VERIFY_STRUCTURE) == answer
    assert virtual_card.apdu_count == before


def test_pinpad_modify_changes_the_pin_and_checks_the_confirmation(
    pinpad_reader: SimulatedReader, driver_simulator: Simulator, virtual_card: VirtualCard
) -> None:
    structure = part10.PinModifyStructure(
        apdu=bytes.fromhex("0024008010") + b"\xff" * 16, insertion_offset_new=8
    )
    pcsc = get_pcsc()
    with connected(driver_simulator, 0) as handle:
        pinpad_reader.pinpad = Pinpad("123456", new_pin="2468", confirm_pin="2469")
        assert pcsc.control(handle, MODIFY_CODE, structure.to_bytes()) == b"\x64\x02"
        pinpad_reader.pinpad = Pinpad("123456", new_pin="2468")
        assert pcsc.control(handle, MODIFY_CODE, structure.to_bytes()) == OK
        assert pcsc.transmit(handle, C.SCARD_PROTOCOL_T1, SELECT_DEMO_APDU) == OK
        assert pcsc.transmit(handle, C.SCARD_PROTOCOL_T1, verify_apdu(b"2468")) == OK
        assert pcsc.transmit(handle, C.SCARD_PROTOCOL_T1, verify_apdu(b"123456")) == b"\x63\xc2"


def test_a_malformed_pin_structure_is_answered_6b80(
    pinpad_reader: SimulatedReader, driver_simulator: Simulator, virtual_card: VirtualCard
) -> None:
    with connected(driver_simulator, 0) as handle:
        answer = get_pcsc().control(handle, VERIFY_CODE, VERIFY_STRUCTURE.to_bytes()[:-3])
    assert answer == b"\x6b\x80"


def test_pinpad_on_an_empty_reader_fails_the_control_call(
    pinpad_reader: SimulatedReader, driver_simulator: Simulator
) -> None:
    wait_reader_state(driver_simulator, 0, present=False)
    with (
        connected(driver_simulator, 0, direct=True) as handle,
        pytest.raises(exc.SmartcardException),
    ):
        get_pcsc().control(handle, VERIFY_CODE, VERIFY_STRUCTURE.to_bytes())


def test_pinpad_arguments_are_checked() -> None:
    with pytest.raises(ValueError, match="action"):
        Pinpad("1234", action="shrug")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="pin"):
        Pinpad("12ab")
    assert "1234" not in repr(Pinpad("1234", new_pin="5678"))
    with pytest.raises(ValueError, match="reader"):
        Simulator(readers=2, backend="driver", pinpads={5: Pinpad("1234")})


# -- choosing the back-end -----------------------------------------------------------------


def test_auto_falls_back_to_vpcd_with_one_warning_when_the_driver_cannot_be_built(
    monkeypatch: pytest.MonkeyPatch, tmp_path: object, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("AIOSCARD_CACHE_DIR", str(tmp_path))
    monkeypatch.setenv("CC", "/nonexistent/cc")
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.delenv(_driver.BACKEND_ENV, raising=False)
    monkeypatch.setattr(_driver, "_warned", False)
    _driver._build.cache_clear()
    try:
        with caplog.at_level(logging.WARNING, logger="aioscard.testing"):
            first, second = Simulator(readers=1), Simulator(readers=1)
        assert (first.backend, second.backend) == ("vpcd", "vpcd")
        assert first.reader_names == ["aioscard vpcd 0 00 00"]
        warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
        assert len(warnings) == 1
        assert "no C compiler" in warnings[0]
        assert "using vpcd" in warnings[0]
        with pytest.raises(Exception, match="no C compiler"):
            Simulator(readers=1, backend="driver").start()
    finally:
        _driver._build.cache_clear()


def test_card_dropping_mid_apdu_on_the_driver(driver_simulator: Simulator) -> None:
    card = VirtualCard(name="dropper")
    driver_simulator.insert(card, reader=3)
    try:
        wait_reader_state(driver_simulator, 3, present=True)
        with connected(driver_simulator, 3) as handle:
            pcsc = get_pcsc()
            with pytest.raises(exc.SmartcardException):
                pcsc.transmit(handle, C.SCARD_PROTOCOL_T1, bytes.fromhex("80DF0000"))
            assert not card.inserted
            assert card.wait_removed(5)
    finally:
        driver_simulator.remove(3)
        wait_reader_state(driver_simulator, 3, present=False)
