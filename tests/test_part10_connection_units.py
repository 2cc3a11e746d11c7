"""CardConnection's Part 10 and reader-information methods over a fake native layer.

The fake reader answers SCardControl and SCardGetAttrib as a CCID pinpad does
(or as a reader without any of it does), so the tests see what a user sees:
the feature mapping, typed errors naming a missing feature, the card's answer
to a pinpad VERIFY, the pinpad's own 64 xx outcomes as typed errors, absent
attributes as ``None``, and what a cancelled PIN entry leaves behind.
"""

from __future__ import annotations

import sys
import threading
from typing import TYPE_CHECKING

import anyio
import pytest

from aioscard import CardConnection, Reader, Response
from aioscard.exceptions import (
    CardConnectionException,
    FeatureNotSupportedException,
    InvalidResponseException,
    MalformedAnswerException,
    PinEntryException,
    PinEntryTimeoutException,
    TimeoutException,
    UnsupportedFeatureException,
)
from aioscard.native import CardStatus, ReaderState, set_pcsc
from aioscard.native import constants as C
from aioscard.part10 import (
    CM_IOCTL_GET_FEATURE_REQUEST,
    Feature,
    PinModifyStructure,
    PinProperties,
    PinVerifyStructure,
    TlvProperties,
    encode_features,
    encode_tlv_properties,
)

from ._support import cancel_during_pin_entry

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence

pytestmark = pytest.mark.anyio

READER = "Fake Pinpad 00 00"
VERIFY = PinVerifyStructure(apdu=bytes.fromhex("0020008108") + b"\xff" * 8, timeout=30)
MODIFY = PinModifyStructure(apdu=bytes.fromhex("0024008110") + b"\xff" * 16)
CODES = {tag: C.SCARD_CTL_CODE(3400 + tag) for tag in Feature}


def dword(value: int) -> bytes:
    return value.to_bytes(4, sys.byteorder)


class FakePinpad:
    """One reader answering SCardControl/SCardGetAttrib from tables the test sets."""

    def __init__(self) -> None:
        self.features: dict[int, int] = {
            Feature.VERIFY_PIN_DIRECT: CODES[Feature.VERIFY_PIN_DIRECT],
            Feature.MODIFY_PIN_DIRECT: CODES[Feature.MODIFY_PIN_DIRECT],
            Feature.IFD_PIN_PROPERTIES: CODES[Feature.IFD_PIN_PROPERTIES],
            Feature.GET_TLV_PROPERTIES: CODES[Feature.GET_TLV_PROPERTIES],
        }
        self.feature_answer: bytes | None = None  # None: encode self.features
        self.no_control = False  # a driver without IFDHControl (vpcd)
        self.attributes: dict[int, bytes] = {
            C.SCARD_ATTR_VENDOR_NAME: b"aioscard\0",
            C.SCARD_ATTR_VENDOR_IFD_TYPE: b"Simulated Pinpad\0",
            C.SCARD_ATTR_VENDOR_IFD_VERSION: dword(0x01020003),
            C.SCARD_ATTR_VENDOR_IFD_SERIAL_NO: b"SN-0001",
            C.SCARD_ATTR_CHANNEL_ID: dword(0x00200001),
        }
        self.tlv = TlvProperties(vendor_id=0x1D50, product_id=0x6100, min_pin_size=4,
                                 max_pin_size=8, firmware_id="0.1")  # fmt: skip
        self.pin_entry: Callable[[bytes], bytes] = lambda structure: b"\x90\x00"
        self.controls: list[tuple[int, bytes]] = []
        self.set_attributes: list[tuple[int, bytes]] = []

    def establish_context(self, scope: int = 0) -> int:
        return 7

    def release_context(self, context: int) -> None:
        pass

    def is_valid_context(self, context: int) -> bool:
        return True

    def list_readers(self, context: int, groups: Sequence[str] | None = None) -> list[str]:
        return [READER]

    def get_status_change(
        self, context: int, timeout_ms: int, states: Sequence[ReaderState]
    ) -> list[ReaderState]:
        raise TimeoutException("not scripted")

    def connect(
        self, context: int, reader: str, share_mode: int, protocols: int
    ) -> tuple[int, int]:
        return 99, 0 if share_mode == C.SCARD_SHARE_DIRECT else C.SCARD_PROTOCOL_T1

    def disconnect(self, handle: int, disposition: int) -> None:
        pass

    def status(self, handle: int) -> CardStatus:
        return CardStatus(READER, C.SCARD_SPECIFIC, C.SCARD_PROTOCOL_T1, b"\x3b\x00")

    def control(self, handle: int, code: int, data: bytes = b"", max_response: int = 0) -> bytes:
        self.controls.append((code, data))
        if self.no_control:
            raise UnsupportedFeatureException("SCardControl: not supported")
        if code == CM_IOCTL_GET_FEATURE_REQUEST:
            if self.feature_answer is not None:
                return self.feature_answer
            return encode_features(self.features)
        if code == self.features.get(Feature.IFD_PIN_PROPERTIES):
            return PinProperties(0, 0x02, 0).to_bytes()
        if code == self.features.get(Feature.GET_TLV_PROPERTIES):
            return encode_tlv_properties(self.tlv)
        if code in (
            self.features.get(Feature.VERIFY_PIN_DIRECT),
            self.features.get(Feature.MODIFY_PIN_DIRECT),
        ):
            return self.pin_entry(data)
        raise UnsupportedFeatureException(f"control code 0x{code:08X}")

    def get_attrib(self, handle: int, attr_id: int) -> bytes:
        try:
            return self.attributes[attr_id]
        except KeyError:
            raise UnsupportedFeatureException(f"attribute 0x{attr_id:08X}") from None

    def set_attrib(self, handle: int, attr_id: int, value: bytes) -> None:
        self.set_attributes.append((attr_id, value))


@pytest.fixture
def pinpad() -> Iterator[FakePinpad]:
    fake = FakePinpad()
    previous = set_pcsc(fake)  # type: ignore[arg-type]
    try:
        yield fake
    finally:
        set_pcsc(previous)


async def test_features_map_tags_to_control_codes_asked_once(pinpad: FakePinpad) -> None:
    async with CardConnection(READER) as connection:
        features = await connection.features()
        assert features[Feature.VERIFY_PIN_DIRECT] == CODES[Feature.VERIFY_PIN_DIRECT]
        assert set(features) == set(pinpad.features)
        assert await connection.features() == features
    asked = [code for code, _ in pinpad.controls if code == CM_IOCTL_GET_FEATURE_REQUEST]
    assert len(asked) == 1


async def test_a_reader_without_control_has_no_features(pinpad: FakePinpad) -> None:
    pinpad.no_control = True
    async with CardConnection(READER) as connection:
        assert dict(await connection.features()) == {}
        with pytest.raises(FeatureNotSupportedException, match="FEATURE_VERIFY_PIN_DIRECT"):
            await connection.verify_pin_pinpad(VERIFY)
        with pytest.raises(FeatureNotSupportedException, match="FEATURE_GET_TLV_PROPERTIES"):
            await connection.tlv_properties()


async def test_a_malformed_feature_list_is_a_typed_error(pinpad: FakePinpad) -> None:
    pinpad.feature_answer = bytes.fromhex("06 04 42 00 0d")
    async with CardConnection(READER) as connection:
        with pytest.raises(MalformedAnswerException, match="6-byte entries"):
            await connection.features()


async def test_properties(pinpad: FakePinpad) -> None:
    async with CardConnection(READER) as connection:
        assert await connection.pin_properties() == PinProperties(0, 2, 0)
        tlv = await connection.tlv_properties()
    assert (tlv.vendor_id, tlv.product_id, tlv.firmware_id) == (0x1D50, 0x6100, "0.1")
    assert (tlv.min_pin_size, tlv.max_pin_size) == (4, 8)


async def test_verify_sends_the_structure_and_returns_the_cards_answer(
    pinpad: FakePinpad,
) -> None:
    pinpad.pin_entry = lambda structure: b"\x63\xc2"
    async with CardConnection(READER) as connection:
        response = await connection.verify_pin_pinpad(VERIFY)
    assert response == Response([], 0x63, 0xC2)
    assert pinpad.controls[-1] == (CODES[Feature.VERIFY_PIN_DIRECT], VERIFY.to_bytes())


async def test_modify_sends_the_structure(pinpad: FakePinpad) -> None:
    async with CardConnection(READER) as connection:
        response = await connection.modify_pin_pinpad(MODIFY)
    assert response.ok
    assert pinpad.controls[-1] == (CODES[Feature.MODIFY_PIN_DIRECT], MODIFY.to_bytes())


@pytest.mark.parametrize(
    ("answer", "error", "message"),
    [
        (b"\x64\x00", PinEntryTimeoutException, "timeout"),
        (b"\x64\x01", PinEntryException, "cancelled"),
        (b"\x64\x02", PinEntryException, "differ"),
        (b"\x64\x03", PinEntryException, "too short or too long"),
        (b"\x90", InvalidResponseException, "1 byte"),
        (b"", InvalidResponseException, "0 byte"),
    ],
)
async def test_pinpad_outcomes_are_typed_errors(
    pinpad: FakePinpad, answer: bytes, error: type[Exception], message: str
) -> None:
    pinpad.pin_entry = lambda structure: answer
    async with CardConnection(READER) as connection:
        with pytest.raises(error, match=message) as caught:
            await connection.verify_pin_pinpad(VERIFY)
        # The connection stays usable.
        pinpad.pin_entry = lambda structure: b"\x90\x00"
        assert (await connection.verify_pin_pinpad(VERIFY)).ok
    if isinstance(caught.value, PinEntryException):
        assert caught.value.sw == int.from_bytes(answer, "big")
    assert isinstance(caught.value, CardConnectionException)


async def test_verify_wants_a_structure(pinpad: FakePinpad) -> None:
    async with CardConnection(READER) as connection:
        with pytest.raises(TypeError, match="PinVerifyStructure"):
            await connection.verify_pin_pinpad(VERIFY.to_bytes())  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="PinModifyStructure"):
            await connection.modify_pin_pinpad(VERIFY)  # type: ignore[arg-type]
    assert not [code for code, _ in pinpad.controls if code != CM_IOCTL_GET_FEATURE_REQUEST]


async def test_cancelling_a_pin_entry(pinpad: FakePinpad) -> None:
    # pcsc-lite cannot cancel SCardControl: the caller resumes at once, the entry goes
    # on at the reader, and the connection's next call waits until it ends.
    entering, typed = threading.Event(), threading.Event()
    order: list[str] = []

    def slow_entry(structure: bytes) -> bytes:
        entering.set()
        typed.wait(20)
        order.append("entry ended")
        return b"\x90\x00"

    pinpad.pin_entry = slow_entry
    async with CardConnection(READER) as connection:
        await connection.features()
        await cancel_during_pin_entry(connection, VERIFY, entering)
        assert not typed.is_set()  # the caller is back while the user is still typing
        done: list[PinProperties] = []

        async def next_call() -> None:
            done.append(await connection.pin_properties())
            order.append("next call")

        async with anyio.create_task_group() as tasks:
            tasks.start_soon(next_call)
            await anyio.wait_all_tasks_blocked()  # next_call is waiting for the worker
            assert done == []
            typed.set()
        assert done == [PinProperties(0, 2, 0)]
        assert order == ["entry ended", "next call"]


async def test_info_collects_attributes_and_part10(pinpad: FakePinpad) -> None:
    info = await Reader(READER).info()
    assert info.name == READER
    assert info.vendor_name == "aioscard"
    assert info.ifd_type == "Simulated Pinpad"
    assert info.ifd_version == 0x01020003
    assert info.version_text == "1.2.3"
    assert info.serial_number == "SN-0001"
    assert info.channel_id == 0x00200001
    assert info.max_input is None  # not offered: absent, no error
    assert Feature.VERIFY_PIN_DIRECT in info.features
    assert info.tlv_properties is not None
    assert info.tlv_properties.vendor_id == 0x1D50
    assert info.pin_properties == PinProperties(0, 2, 0)
    as_json = info.to_json()
    assert as_json["vendor_name"] == "aioscard"
    assert "max_input" not in as_json
    assert "FEATURE_VERIFY_PIN_DIRECT" in as_json["features"]  # type: ignore[operator]
    assert "reader: aioscard Simulated Pinpad, version 1.2.3" in info.describe()


async def test_info_of_a_bare_reader_is_all_absent(pinpad: FakePinpad) -> None:
    pinpad.attributes.clear()
    pinpad.no_control = True
    async with CardConnection(READER) as connection:
        info = await connection.info()
    assert info.vendor_name is None
    assert info.ifd_version is None
    assert dict(info.features) == {}
    assert info.tlv_properties is None
    assert info.to_json() == {}
    assert info.describe() == []


async def test_info_skips_malformed_properties(
    pinpad: FakePinpad, caplog: pytest.LogCaptureFixture
) -> None:
    pinpad.tlv = TlvProperties(unknown={0x0B: b"\x01"})  # wIdVendor with 1 byte: malformed
    info = await Reader(READER).info()
    assert info.tlv_properties is None
    assert info.vendor_name == "aioscard"
    assert "ignoring its TLV properties" in caplog.text


async def test_set_attrib(pinpad: FakePinpad) -> None:
    async with CardConnection(READER) as connection:
        await connection.setAttrib(C.SCARD_ATTR_SUPRESS_T1_IFS_REQUEST, [1])
        with pytest.raises(ValueError, match="attrValue"):
            await connection.setAttrib(C.SCARD_ATTR_SUPRESS_T1_IFS_REQUEST, b"")
        with pytest.raises(TypeError, match="attrId"):
            await connection.setAttrib("1", b"\x01")  # type: ignore[arg-type]
    assert pinpad.set_attributes == [(C.SCARD_ATTR_SUPRESS_T1_IFS_REQUEST, b"\x01")]


async def test_info_never_fails_on_what_the_reader_lacks(
    pinpad: FakePinpad, caplog: pytest.LogCaptureFixture
) -> None:
    pinpad.feature_answer = b"\x06\x04\x42"  # a malformed feature list
    info = await Reader(READER).info()
    assert dict(info.features) == {}
    assert info.serial_number == "SN-0001"
    assert "ignoring its Part 10 features" in caplog.text
