"""aioscard.part10 as plain data: feature lists, PIN and TLV properties, PIN structures.

Readers' answers are untrusted bytes: every parser is driven with arbitrary and
mutilated input under hypothesis and must either return a typed object or raise
MalformedAnswerException -- never IndexError or struct.error.  Builders reject
out-of-range fields naming the field, and build/parse round trips are exact.
"""

from __future__ import annotations

import struct
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from aioscard.apdu import reveal_secrets, set_reveal_secrets
from aioscard.exceptions import (
    FeatureNotSupportedException,
    MalformedAnswerException,
    UnsupportedFeatureException,
)
from aioscard.native import constants as C
from aioscard.part10 import (
    CM_IOCTL_GET_FEATURE_REQUEST,
    FEATURE_VERIFY_PIN_DIRECT,
    EntryValidation,
    Feature,
    PinFormat,
    PinModifyStructure,
    PinProperties,
    PinVerifyStructure,
    Property,
    TlvProperties,
    encode_features,
    encode_tlv_properties,
    feature_name,
    parse_features,
    parse_pin_properties,
    parse_tlv_properties,
    require_feature,
)

VERIFY_TEMPLATE = bytes.fromhex("0020008108") + b"\xff" * 8
MODIFY_TEMPLATE = bytes.fromhex("0024008110") + b"\xff" * 16

# What a CCID pinpad (e.g. a Gemalto GemPC Pinpad) answers to GET_FEATURE_REQUEST.
CCID_FEATURES = bytes.fromhex(
    "06 04 42 33 00 06"  # VERIFY_PIN_DIRECT
    "07 04 42 33 00 07"  # MODIFY_PIN_DIRECT
    "0a 04 42 33 00 0a"  # IFD_PIN_PROPERTIES
    "12 04 42 33 00 12"  # GET_TLV_PROPERTIES
    "13 04 42 33 00 13"  # CCID_ESC_COMMAND
)


# -- constants ---------------------------------------------------------------------


def test_control_codes_follow_the_platform_formula() -> None:
    assert C.SCARD_CTL_CODE(3400) == CM_IOCTL_GET_FEATURE_REQUEST
    if C.SCARD_CTL_CODE(0) == 0x42000000:  # pcsc-lite
        assert CM_IOCTL_GET_FEATURE_REQUEST == 0x42000D48


def test_feature_tags_are_the_specifications() -> None:
    assert FEATURE_VERIFY_PIN_DIRECT == 0x06
    assert int(Feature.GET_TLV_PROPERTIES) == 0x12
    assert int(Feature.CCID_ESC_COMMAND) == 0x13
    assert int(Feature.EXECUTE_PACE) == 0x20
    assert feature_name(6) == "FEATURE_VERIFY_PIN_DIRECT"
    assert feature_name(0x14) == "feature 0x14"
    assert int(Property.wIdVendor) == 11
    assert int(Property.sFirmwareID) == 8


# -- GET_FEATURE_REQUEST -------------------------------------------------------------


def test_a_ccid_feature_list_parses_to_tags_and_codes() -> None:
    features = parse_features(CCID_FEATURES)
    assert dict(features) == {
        Feature.VERIFY_PIN_DIRECT: 0x42330006,
        Feature.MODIFY_PIN_DIRECT: 0x42330007,
        Feature.IFD_PIN_PROPERTIES: 0x4233000A,
        Feature.GET_TLV_PROPERTIES: 0x42330012,
        Feature.CCID_ESC_COMMAND: 0x42330013,
    }
    assert all(isinstance(tag, Feature) for tag in features)
    # control() answers list[int]: the same result.
    assert parse_features(list(CCID_FEATURES)) == features


def test_an_empty_feature_list_means_no_features() -> None:
    assert dict(parse_features(b"")) == {}


def test_unknown_feature_tags_are_kept_as_ints() -> None:
    features = parse_features(bytes.fromhex("15 04 00 00 00 01  06 04 00 00 00 02"))
    assert features[0x15] == 1
    assert not isinstance(next(iter(features)), Feature)
    assert features[FEATURE_VERIFY_PIN_DIRECT] == 2


def test_the_first_of_a_repeated_tag_wins() -> None:
    assert parse_features(bytes.fromhex("06 04 00 00 00 01  06 04 00 00 00 02"))[6] == 1


@pytest.mark.parametrize("length", [1, 5, 7, 11])
def test_a_feature_list_not_a_multiple_of_6_is_a_typed_error(length: int) -> None:
    with pytest.raises(MalformedAnswerException, match="6-byte entries") as caught:
        parse_features(CCID_FEATURES[:length])
    assert isinstance(caught.value, ValueError)
    assert caught.value.offset == length - length % 6


def test_a_feature_entry_with_a_wrong_length_byte_names_it() -> None:
    with pytest.raises(MalformedAnswerException, match=r"offset 6 \(FEATURE_MODIFY_PIN_DIRECT\)"):
        parse_features(bytes.fromhex("06 04 00 00 00 01  07 02 00 00 00 02"))


@settings(deadline=None)  # no timed assertions: a loaded machine is slow
@given(st.binary(max_size=64))
def test_any_bytes_parse_as_features_or_raise_the_typed_error(data: bytes) -> None:
    try:
        features = parse_features(data)
    except MalformedAnswerException:
        assert len(data) % 6 or any(data[i + 1] != 4 for i in range(0, len(data), 6))
    else:
        assert len(features) <= len(data) // 6


@settings(deadline=None)  # no timed assertions: a loaded machine is slow
@given(st.dictionaries(st.integers(0, 255), st.integers(0, 0xFFFFFFFF), max_size=25))
def test_features_round_trip(features: dict[int, int]) -> None:
    assert dict(parse_features(encode_features(features))) == features


def test_encode_features_names_a_bad_code() -> None:
    with pytest.raises(ValueError, match="control code of FEATURE_ABORT"):
        encode_features({Feature.ABORT: -1})
    with pytest.raises(TypeError, match="feature tag"):
        encode_features({"6": 1})  # type: ignore[dict-item]


def test_a_missing_feature_is_a_typed_error_naming_it() -> None:
    features = parse_features(CCID_FEATURES)
    assert require_feature(features, FEATURE_VERIFY_PIN_DIRECT) == 0x42330006
    with pytest.raises(FeatureNotSupportedException, match="FEATURE_WRITE_DISPLAY") as caught:
        require_feature(features, Feature.WRITE_DISPLAY)
    assert caught.value.feature == Feature.WRITE_DISPLAY
    assert isinstance(caught.value, UnsupportedFeatureException)


def test_bad_input_types_are_rejected_by_name() -> None:
    with pytest.raises(TypeError, match="data"):
        parse_features("06 04")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="data"):
        parse_tlv_properties([0, 256])


# -- PIN properties --------------------------------------------------------------------


def test_pin_properties_decode_the_four_bytes() -> None:
    properties = parse_pin_properties(bytes.fromhex("1002 02 00"))
    assert properties == PinProperties(0x0210, EntryValidation.VALIDATION_KEY, 0)
    assert (properties.lcd_lines, properties.lcd_characters) == (2, 16)
    assert properties.to_bytes() == bytes.fromhex("10020200")


@settings(deadline=None)  # no timed assertions: a loaded machine is slow
@given(st.binary(max_size=8))
def test_pin_properties_of_any_other_length_are_a_typed_error(data: bytes) -> None:
    assume(len(data) != 4)
    with pytest.raises(MalformedAnswerException, match="4 bytes"):
        parse_pin_properties(data)


@settings(deadline=None)  # no timed assertions: a loaded machine is slow
@given(st.integers(0, 0xFFFF), st.integers(0, 255), st.integers(0, 255))
def test_pin_properties_round_trip(layout: int, condition: int, timeout2: int) -> None:
    properties = PinProperties(layout, condition, timeout2)
    assert parse_pin_properties(properties.to_bytes()) == properties


def test_pin_properties_reject_out_of_range_fields() -> None:
    with pytest.raises(ValueError, match="lcd_layout"):
        PinProperties(0x10000, 0, 0)


# -- TLV properties ----------------------------------------------------------------------

# What the ccid driver answers for a pinpad: vendor, product, PIN sizes, firmware, ...
CCID_TLV = bytes.fromhex(
    "01 02 00 00"  # wLcdLayout: no display
    "02 01 02"  # bEntryValidationCondition: validation key
    "03 01 00"  # bTimeOut2
    "06 01 04"  # bMinPINSize
    "07 01 08"  # bMaxPINSize
    "09 01 01"  # bPPDUSupport: via CCID_ESC_COMMAND
    "0a 04 05 01 00 00"  # dwMaxAPDUDataSize: 261
    "0b 02 e6 08"  # wIdVendor 0x08E6 (Gemalto)
    "0c 02 25 34"  # wIdProduct 0x3425
    "08 05 31 2e 30 30 00"  # sFirmwareID "1.00" + NUL
)


def test_tlv_properties_decode_every_tag() -> None:
    properties = parse_tlv_properties(CCID_TLV)
    assert properties.vendor_id == 0x08E6
    assert properties.product_id == 0x3425
    assert (properties.min_pin_size, properties.max_pin_size) == (4, 8)
    assert properties.max_apdu_data_size == 261
    assert properties.ppdu_support == 1
    assert properties.firmware_id == "1.00"
    assert properties.lcd_layout == 0
    assert properties.entry_validation_condition == 2
    assert properties.lcd_max_lines is None
    assert properties.raw == CCID_TLV
    assert properties.as_dict()["vendor_id"] == 0x08E6
    assert "lcd_max_lines" not in properties.as_dict()


def test_unknown_tlv_tags_are_kept_not_fatal() -> None:
    properties = parse_tlv_properties(bytes.fromhex("0b 02 e6 08  42 03 01 02 03"))
    assert properties.vendor_id == 0x08E6
    assert dict(properties.unknown) == {0x42: b"\x01\x02\x03"}
    assert properties.as_dict()["unknown"] == {"0x42": "010203"}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("0b", "without a length byte"),
        ("0b 02 e6", "announces 2 bytes, 1 follow"),
        ("0b 01 e6", "wIdVendor at offset 0 has length 1, expected 2"),
        ("0a 02 00 01", "dwMaxAPDUDataSize"),
        ("06 00", "bMinPINSize"),
    ],
)
def test_malformed_tlv_properties_are_typed_errors(data: str, message: str) -> None:
    with pytest.raises(MalformedAnswerException, match=message):
        parse_tlv_properties(bytes.fromhex(data))


@settings(deadline=None)  # no timed assertions: a loaded machine is slow
@given(st.binary(max_size=80))
def test_any_bytes_parse_as_tlv_properties_or_raise_the_typed_error(data: bytes) -> None:
    try:
        properties = parse_tlv_properties(data)
    except MalformedAnswerException as error:
        offset = error.offset
    else:
        assert properties.raw == data
        return
    assert offset is not None
    assert 0 <= offset < len(data)


_small = st.none() | st.integers(0, 255)
_word = st.none() | st.integers(0, 0xFFFF)
tlv_properties = st.builds(
    TlvProperties,
    lcd_layout=_word,
    entry_validation_condition=_small,
    timeout2=_small,
    lcd_max_characters=_word,
    lcd_max_lines=_word,
    min_pin_size=_small,
    max_pin_size=_small,
    firmware_id=st.none() | st.text(st.characters(min_codepoint=1, max_codepoint=255), max_size=40),
    ppdu_support=_small,
    max_apdu_data_size=st.none() | st.integers(0, 0xFFFFFFFF),
    vendor_id=_word,
    product_id=_word,
    unknown=st.dictionaries(st.integers(13, 255), st.binary(max_size=10), max_size=3),
)


@settings(deadline=None)  # no timed assertions: a loaded machine is slow
@given(tlv_properties)
def test_tlv_properties_round_trip(properties: TlvProperties) -> None:
    encoded = encode_tlv_properties(properties)
    decoded = parse_tlv_properties(encoded)
    assert decoded.as_dict() == properties.as_dict()
    assert decoded.raw == encoded


# -- PIN_VERIFY_STRUCTURE / PIN_MODIFY_STRUCTURE ----------------------------------------


def test_verify_structure_bytes_follow_the_specification() -> None:
    structure = PinVerifyStructure(apdu=VERIFY_TEMPLATE, timeout=30, min_pin_size=4)
    raw = structure.to_bytes()
    assert raw[:19] == bytes.fromhex(
        "1e 00"  # bTimerOut 30 s, bTimerOut2
        "82"  # bmFormatString: byte units, position 0, left, ASCII
        "08"  # bmPINBlockString: no length field, 8-byte block
        "00"  # bmPINLengthFormat
        "08 04"  # wPINMaxExtraDigit: max 8, min 4 (little-endian 0x0408)
        "02"  # bEntryValidationCondition: validation key
        "01"  # bNumberMessage
        "09 04"  # wLangId 0x0409
        "00"  # bMsgIndex
        "00 00 00"  # bTeoPrologue
        "0d 00 00 00"  # ulDataLength 13
    )
    assert raw[19:] == VERIFY_TEMPLATE
    assert PinVerifyStructure.from_bytes(raw) == structure


def test_modify_structure_bytes_follow_the_specification() -> None:
    structure = PinModifyStructure(apdu=MODIFY_TEMPLATE, confirm_pin=True, enter_old_pin=True)
    raw = structure.to_bytes()
    assert len(raw) == 24 + len(MODIFY_TEMPLATE)
    assert raw[5:7] == bytes((0, 8))  # insertion offsets old, new
    assert raw[9] == 0x03  # bConfirmPIN: confirm + enter the current PIN
    assert raw[20:24] == struct.pack("<I", len(MODIFY_TEMPLATE))
    assert PinModifyStructure.from_bytes(raw) == structure


def test_a_typed_pin_goes_into_the_template_ascii_left_justified() -> None:
    structure = PinVerifyStructure(apdu=VERIFY_TEMPLATE)
    assert structure.apdu_with_pin("1234") == bytes.fromhex("0020008108 31323334 FFFFFFFF")


def test_an_iso_9564_format_2_pin_block() -> None:
    # 2L PP PP PF FF ...: control nibble 2, 4-bit length at bit 4, BCD from byte 1.
    structure = PinVerifyStructure(
        apdu=bytes.fromhex("0020008108 2FFFFFFFFFFFFFFF"),
        pin_format=PinFormat.BCD,
        pin_position=1,
        pin_block_size=7,
        pin_length_size=4,
        pin_length_position=4,
        length_position_in_bytes=False,
        max_pin_size=12,
    )
    assert structure.to_bytes()[2:5] == bytes((0x89, 0x47, 0x04))
    assert structure.apdu_with_pin("12345") == bytes.fromhex("0020008108 25 12345FFFFFFFFF")


def test_right_justified_binary_digits() -> None:
    structure = PinVerifyStructure(
        apdu=bytes.fromhex("0020000006 000000000000"),
        pin_format=PinFormat.BINARY,
        right_justify=True,
        pin_block_size=6,
        max_pin_size=6,
    )
    assert structure.apdu_with_pin("9876") == bytes.fromhex("0020000006 000009080706")


def test_modify_inserts_both_pins() -> None:
    structure = PinModifyStructure(apdu=MODIFY_TEMPLATE)
    assert structure.apdu_with_pins("1234", "567890") == bytes.fromhex(
        "0024008110 31323334FFFFFFFF 353637383930FFFF"
    )
    only_new = PinModifyStructure(apdu=MODIFY_TEMPLATE, enter_old_pin=False)
    with pytest.raises(ValueError, match="old_pin must be None"):
        only_new.apdu_with_pins("1234", "5678")
    with pytest.raises(ValueError, match="old_pin is required"):
        structure.apdu_with_pins(None, "5678")


@pytest.mark.parametrize("pin", ["123", "123456789", "12a4", "１２３４"])
def test_a_typed_pin_outside_the_limits_is_refused(pin: str) -> None:
    with pytest.raises(ValueError, match="pin"):
        PinVerifyStructure(apdu=VERIFY_TEMPLATE).apdu_with_pin(pin)


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("timeout", 256, ValueError),
        ("timeout", "30", TypeError),
        ("timeout2", -1, ValueError),
        ("pin_format", 3, ValueError),
        ("pin_format", "ascii", TypeError),
        ("pin_position", 16, ValueError),
        ("right_justify", 1, TypeError),
        ("pin_block_size", 16, ValueError),
        ("pin_length_size", 16, ValueError),
        ("pin_length_position", -1, ValueError),
        ("min_pin_size", 9, ValueError),
        ("max_pin_size", 256, ValueError),
        ("entry_validation", 0, ValueError),
        ("entry_validation", 8, ValueError),
        ("number_message", 4, ValueError),
        ("lang_id", 0x10000, ValueError),
        ("msg_index", True, TypeError),
        ("teo_prologue", b"\0", ValueError),
        ("teo_prologue", "000", TypeError),
        ("apdu", b"\x00\x20\x00\x81", ValueError),
        ("apdu", "0020008108", TypeError),
        ("apdu", [0, 0x20, 0, 0x81, 256], ValueError),
    ],
)
def test_verify_structure_rejects_bad_fields_by_name(
    field: str, value: object, error: type[Exception]
) -> None:
    arguments: dict[str, Any] = {"apdu": VERIFY_TEMPLATE, field: value}
    if field == "apdu":
        pattern = "apdu"
    elif field in ("min_pin_size",):
        pattern = "min_pin_size"
    else:
        pattern = field
    with pytest.raises(error, match=pattern):
        PinVerifyStructure(**arguments)


def test_a_pin_block_outside_the_template_is_refused() -> None:
    with pytest.raises(ValueError, match="apdu's data field"):
        PinVerifyStructure(apdu=VERIFY_TEMPLATE, pin_position=2)
    with pytest.raises(ValueError, match="max_pin_size"):
        PinVerifyStructure(apdu=VERIFY_TEMPLATE, pin_format=PinFormat.ASCII, max_pin_size=9)
    with pytest.raises(ValueError, match="apdu's data field"):
        PinModifyStructure(apdu=MODIFY_TEMPLATE, insertion_offset_new=9)


@pytest.mark.parametrize(
    ("field", "value"),
    [("insertion_offset_old", 256), ("confirm_pin", 1), ("msg_index3", -1)],
)
def test_modify_structure_rejects_bad_fields_by_name(field: str, value: object) -> None:
    arguments: dict[str, Any] = {field: value}
    with pytest.raises((TypeError, ValueError), match=field):
        PinModifyStructure(apdu=MODIFY_TEMPLATE, **arguments)


def test_structures_hide_the_template_data_in_repr() -> None:
    saved = reveal_secrets()
    set_reveal_secrets(False)
    try:
        old_pin_in_template = PinModifyStructure(
            apdu=bytes.fromhex("0024008110 3132333435363738 FFFFFFFFFFFFFFFF"),
            enter_old_pin=False,
        )
        text = repr(old_pin_in_template)
        assert "<16 bytes redacted>" in text
        assert "3132" not in text
        assert "31 32" not in text
        assert "<8 bytes redacted>" in repr(PinVerifyStructure(apdu=VERIFY_TEMPLATE))
    finally:
        set_reveal_secrets(saved)


# Structures under hypothesis: any valid field combination round-trips, and any
# mutilation of the bytes either parses or raises the typed error.

_common: dict[str, st.SearchStrategy[Any]] = {
    "pin_format": st.sampled_from(PinFormat),
    "right_justify": st.booleans(),
    "pin_length_size": st.integers(0, 8),
    "pin_length_position": st.integers(0, 7),
    "length_position_in_bytes": st.just(False),
    "min_pin_size": st.integers(0, 4),
    "max_pin_size": st.integers(4, 8),
    "entry_validation": st.integers(1, 7),
    "timeout": st.integers(0, 255),
    "timeout2": st.integers(0, 255),
    "number_message": st.sampled_from([0, 1, 2, 3, 0xFF]),
    "lang_id": st.integers(0, 0xFFFF),
    "teo_prologue": st.binary(min_size=3, max_size=3),
}


@st.composite
def verify_structures(draw: st.DrawFn) -> PinVerifyStructure:
    fields: dict[str, Any] = {name: draw(strategy) for name, strategy in _common.items()}
    position = draw(st.integers(0, 4))
    filler = draw(st.binary(min_size=position + 8, max_size=position + 12))
    apdu = bytes((0x00, 0x20, 0x00, 0x81, len(filler))) + filler
    return PinVerifyStructure(
        apdu=apdu,
        pin_position=position,
        pin_block_size=8,
        msg_index=draw(st.integers(0, 255)),
        **fields,
    )


@st.composite
def modify_structures(draw: st.DrawFn) -> PinModifyStructure:
    fields: dict[str, Any] = {name: draw(strategy) for name, strategy in _common.items()}
    filler = draw(st.binary(min_size=16, max_size=20))
    apdu = bytes((0x00, 0x24, 0x00, 0x81, len(filler))) + filler
    return PinModifyStructure(
        apdu=apdu,
        pin_block_size=8,
        insertion_offset_old=0,
        insertion_offset_new=8,
        confirm_pin=draw(st.booleans()),
        enter_old_pin=draw(st.booleans()),
        msg_index1=draw(st.integers(0, 255)),
        msg_index2=draw(st.integers(0, 255)),
        msg_index3=draw(st.integers(0, 255)),
        **fields,
    )


@settings(deadline=None)  # no timed assertions: a loaded machine is slow
@given(verify_structures())
def test_verify_structures_round_trip(structure: PinVerifyStructure) -> None:
    assert PinVerifyStructure.from_bytes(structure.to_bytes()) == structure


@settings(deadline=None)  # no timed assertions: a loaded machine is slow
@given(modify_structures())
def test_modify_structures_round_trip(structure: PinModifyStructure) -> None:
    assert PinModifyStructure.from_bytes(structure.to_bytes()) == structure


@settings(deadline=None)  # no timed assertions: a loaded machine is slow
@given(verify_structures(), st.data())
def test_a_formatted_pin_changes_only_the_pin_block(
    structure: PinVerifyStructure, data: st.DataObject
) -> None:
    size = data.draw(st.integers(structure.min_pin_size, structure.max_pin_size))
    pin = data.draw(st.text("0123456789", min_size=size, max_size=size))
    sent = structure.apdu_with_pin(pin)
    assert len(sent) == len(structure.apdu)
    assert sent[:5] == structure.apdu[:5]
    if structure.pin_format is PinFormat.ASCII and not structure.pin_length_size:
        assert pin.encode() in sent


@settings(deadline=None)  # no timed assertions: a loaded machine is slow
@given(st.binary(max_size=60))
def test_any_bytes_parse_as_a_verify_structure_or_raise_the_typed_error(data: bytes) -> None:
    try:
        structure = PinVerifyStructure.from_bytes(data)
    except MalformedAnswerException:
        pass
    else:
        assert structure.to_bytes() == data


@settings(deadline=None)  # no timed assertions: a loaded machine is slow
@given(st.binary(max_size=60))
def test_any_bytes_parse_as_a_modify_structure_or_raise_the_typed_error(data: bytes) -> None:
    try:
        structure = PinModifyStructure.from_bytes(data)
    except MalformedAnswerException:
        pass
    else:
        assert structure.to_bytes() == data


@settings(deadline=None)  # no timed assertions: a loaded machine is slow
@given(verify_structures(), st.integers(0, 40), st.integers(0, 255))
def test_a_mutilated_verify_structure_parses_or_raises_the_typed_error(
    structure: PinVerifyStructure, index: int, value: int
) -> None:
    raw = bytearray(structure.to_bytes())
    variants = [bytes(raw[:index])]  # truncated
    if index < len(raw):
        raw[index] = value
        variants.append(bytes(raw))  # one byte changed
    for variant in variants:
        # A try per item: each variant is parsed, or refused, on its own.
        try:
            PinVerifyStructure.from_bytes(variant)
        except MalformedAnswerException:  # noqa: PERF203
            pass


def test_a_truncated_structure_says_so() -> None:
    raw = PinVerifyStructure(apdu=VERIFY_TEMPLATE).to_bytes()
    with pytest.raises(MalformedAnswerException, match="truncated"):
        PinVerifyStructure.from_bytes(raw[:10])
    with pytest.raises(MalformedAnswerException, match="ulDataLength says 13"):
        PinVerifyStructure.from_bytes(raw[:-1])
    with pytest.raises(MalformedAnswerException, match="truncated"):
        PinModifyStructure.from_bytes(raw[:10])


def test_reserved_bits_are_refused() -> None:
    raw = bytearray(PinVerifyStructure(apdu=VERIFY_TEMPLATE).to_bytes())
    raw[4] = 0x20
    with pytest.raises(MalformedAnswerException, match="bmPINLengthFormat"):
        PinVerifyStructure.from_bytes(raw)
    raw[4], raw[2] = 0, 0x83
    with pytest.raises(MalformedAnswerException, match="PIN format 3"):
        PinVerifyStructure.from_bytes(raw)
