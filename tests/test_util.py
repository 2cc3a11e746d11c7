"""Tests for aioscard.util: pyscard's smartcard.util behaviour plus to_hex/from_hex."""

from __future__ import annotations

import array

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aioscard.util import (
    COMMA,
    HEX,
    PACK,
    UPPERCASE,
    BinStringToHexList,
    HexListToBinString,
    bs2hl,
    from_hex,
    hl2bs,
    padd,
    to_hex,
    toASCIIBytes,
    toASCIIString,
    toBytes,
    toGSM3_38Bytes,
    toHexString,
)

ATR_BYTES = [0x3B, 0x65, 0x00, 0x00, 0x9C, 0x11, 0x01, 0x01, 0x03]


@pytest.mark.parametrize(
    ("fmt", "expected"),
    [
        (0, "3B 65 00 00 9C 11 01 01 03"),
        (COMMA, "3B, 65, 00, 00, 9C, 11, 01, 01, 03"),
        (HEX, "0x3B 0x65 0x00 0x00 0x9C 0x11 0x01 0x01 0x03"),
        (HEX | COMMA, "0x3B, 0x65, 0x00, 0x00, 0x9C, 0x11, 0x01, 0x01, 0x03"),
        (PACK, "3B6500009C11010103"),
        (HEX | UPPERCASE, "0X3B 0X65 0X00 0X00 0X9C 0X11 0X01 0X01 0X03"),
        (HEX | UPPERCASE | COMMA, "0X3B, 0X65, 0X00, 0X00, 0X9C, 0X11, 0X01, 0X01, 0X03"),
        (PACK | COMMA, "3B,65,00,00,9C,11,01,01,03"),
        (HEX | PACK, "0x3B0x650x000x000x9C0x110x010x010x03"),
        (UPPERCASE, "3B 65 00 00 9C 11 01 01 03"),
    ],
)
def test_tohexstring_matches_pyscard_layouts(fmt: int, expected: str) -> None:
    assert toHexString(ATR_BYTES, fmt) == expected


def test_tohexstring_of_nothing_is_empty() -> None:
    assert toHexString() == ""
    assert toHexString(None) == ""
    assert toHexString([]) == ""


@pytest.mark.parametrize(
    "data", [bytes(ATR_BYTES), bytearray(ATR_BYTES), tuple(ATR_BYTES), memoryview(bytes(ATR_BYTES))]
)
def test_tohexstring_accepts_every_bytes_form(data: bytes | bytearray | tuple[int, ...]) -> None:
    assert toHexString(data) == "3B 65 00 00 9C 11 01 01 03"


def test_tohexstring_rejects_values_outside_a_byte() -> None:
    with pytest.raises(ValueError, match=r"data\[1\] must be in 0\.\.255, got 256"):
        toHexString([0x3B, 256])
    with pytest.raises(ValueError, match=r"data\[0\] must be in 0\.\.255, got -1"):
        toHexString([-1])


def test_tohexstring_rejects_non_byte_items_and_text() -> None:
    with pytest.raises(TypeError, match=r"data\[1\] must be an int, not bool"):
        toHexString([1, True])
    with pytest.raises(TypeError, match=r"data\[0\] must be an int, not float"):
        toHexString([1.0])  # type: ignore[list-item]
    with pytest.raises(TypeError, match="not str"):
        toHexString("3B 65")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="not int"):
        toHexString(5)  # type: ignore[arg-type]


def test_tohexstring_rejects_unknown_format_bits() -> None:
    with pytest.raises(ValueError, match="format"):
        toHexString(ATR_BYTES, 16)
    with pytest.raises(TypeError, match="format"):
        toHexString(ATR_BYTES, "HEX")  # type: ignore[arg-type]


def test_wide_buffers_are_rejected_not_reinterpreted() -> None:
    # bytes(array('H', ...)) would silently yield 2 bytes per item.
    with pytest.raises(TypeError, match="format 'H'"):
        to_hex(array.array("H", [1, 2]))
    assert to_hex(array.array("B", [1, 2])) == "01 02"


def test_non_contiguous_buffers_are_rejected() -> None:
    with pytest.raises(ValueError, match="contiguous"):
        to_hex(memoryview(b"abcdef")[::2])


@pytest.mark.parametrize(
    "text", ["3B 65 00 00 9C 11 01 01 03", "3B6500009C11010103", "3B6500   009C1101  0103"]
)
def test_tobytes_parses_pyscard_examples(text: str) -> None:
    assert toBytes(text) == ATR_BYTES


def test_tobytes_error_is_a_valueerror_and_pyscards_typeerror() -> None:
    with pytest.raises(ValueError, match=r"bytestring is not hex: 'G' at position 4") as info:
        toBytes("3B 6G")
    assert isinstance(info.value, TypeError)
    with pytest.raises(ValueError, match="odd number of hex digits"):
        toBytes("3B 6")
    with pytest.raises(TypeError, match="must be a str"):
        toBytes(b"3B")  # type: ignore[arg-type]


def test_from_hex_accepts_spaces_colons_and_any_case() -> None:
    assert from_hex("3b:65:00") == b"\x3b\x65\x00"
    assert from_hex(" 3B 65\n00\t") == b"\x3b\x65\x00"
    assert from_hex("") == b""


def test_from_hex_errors_name_the_character() -> None:
    with pytest.raises(ValueError, match=r"'-' at position 2"):
        from_hex("3B-65")
    with pytest.raises(TypeError, match="text must be a str"):
        from_hex(b"3B")  # type: ignore[arg-type]


@given(st.binary(max_size=300), st.sampled_from([" ", ":", "", "\n"]))
def test_from_hex_reads_back_to_hex(data: bytes, sep: str) -> None:
    text = to_hex(data, sep)
    assert text == sep.join(f"{b:02X}" for b in data)
    assert from_hex(text) == data


@given(st.binary(max_size=64), st.sampled_from([0, PACK, UPPERCASE, PACK | UPPERCASE]))
def test_tobytes_reads_back_tohexstring(data: bytes, fmt: int) -> None:
    assert toBytes(toHexString(list(data), fmt)) == list(data)


@given(st.text(max_size=40))
def test_from_hex_raises_only_valueerror_on_any_text(text: str) -> None:
    try:
        result = from_hex(text)
    except ValueError:
        return
    assert len(result) * 2 == sum(c in "0123456789abcdefABCDEF" for c in text)


@given(st.lists(st.integers(), max_size=20))
def test_any_int_list_is_formatted_or_rejected_with_valueerror(values: list[int]) -> None:
    if all(0 <= v <= 255 for v in values):
        assert toHexString(values, PACK) == bytes(values).hex().upper()
    else:
        with pytest.raises(ValueError, match=r"data\[\d+\] must be in 0\.\.255"):
            toHexString(values)


def test_padd_pads_to_length_without_touching_the_argument() -> None:
    original = list(ATR_BYTES)
    assert padd(original, 16) == ATR_BYTES + [0xFF] * 7
    assert padd(original, 12, "80") == ATR_BYTES + [0x80] * 3
    assert padd(original, 8) == ATR_BYTES
    assert padd(original, 11, 0) == [*ATR_BYTES, 0, 0]
    assert original == ATR_BYTES


def test_padd_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError, match="padding must be a single byte"):
        padd([1], 4, "1FF")
    with pytest.raises(ValueError, match="padding must be one byte as hex text"):
        padd([1], 4, "zz")
    with pytest.raises(ValueError, match="length must be >= 0"):
        padd([1], -1)
    with pytest.raises(TypeError, match="length must be an int"):
        padd([1], 2.0)  # type: ignore[arg-type]


def test_ascii_helpers() -> None:
    number_101 = [0x4E, 0x75, 0x6D, 0x62, 0x65, 0x72, 0x20, 0x31, 0x30, 0x31]
    assert toASCIIBytes("Number 101") == number_101
    assert toASCIIString(number_101) == "Number 101"
    assert toASCIIString([0x01, 0x20, 0x80, 0x7E, 0xF0]) == ". .~."
    assert toASCIIBytes("é") == [0xC3, 0xA9]
    with pytest.raises(TypeError, match="must be a str"):
        toASCIIBytes(b"abc")  # type: ignore[arg-type]


@given(st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E)))
def test_ascii_round_trip_for_printable_text(text: str) -> None:
    assert toASCIIString(toASCIIBytes(text)) == text


def test_gsm_default_alphabet() -> None:
    assert toGSM3_38Bytes("@ùPascal") == [0x00, 0x06, 0x50, 0x61, 0x73, 0x63, 0x61, 0x6C]
    assert toGSM3_38Bytes("$¤_¡ÄàΔ") == [0x02, 0x24, 0x11, 0x40, 0x5B, 0x7F, 0x10]
    assert toGSM3_38Bytes(b"\xa3") == [0x01]  # '£' read as ISO 8859-1
    assert toGSM3_38Bytes("") == []


def test_gsm_extension_table_uses_the_escape_code() -> None:
    assert toGSM3_38Bytes("€[") == [0x1B, 0x65, 0x1B, 0x3C]


def test_gsm_unencodable_character_is_named() -> None:
    with pytest.raises(ValueError, match=r"stringtoconvert\[2\] is '`'"):
        toGSM3_38Bytes("ab`")
    with pytest.raises(TypeError, match="str or bytes"):
        toGSM3_38Bytes([0x41])  # type: ignore[arg-type]


def test_deprecated_binary_string_helpers_warn_and_work() -> None:
    with pytest.warns(DeprecationWarning, match="HexListToBinString"):
        assert HexListToBinString([78, 117, 109, 98, 101, 114]) == "Number"
    with pytest.warns(DeprecationWarning, match="BinStringToHexList"):
        assert BinStringToHexList("Number") == [78, 117, 109, 98, 101, 114]
    with pytest.warns(DeprecationWarning, match="deprecated"):
        assert hl2bs(bs2hl("€")) == "€"
