"""Tests for aioscard.apdu: coercion, Response, parse/build, and secret redaction."""

from __future__ import annotations

import array
import os
import subprocess
import sys
from typing import TYPE_CHECKING

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from aioscard.apdu import (
    MAX_APDU_LENGTH,
    ParsedAPDU,
    Response,
    build_apdu,
    coerce_apdu,
    coerce_bytes,
    format_apdu,
    format_response,
    is_sensitive,
    parse_apdu,
    reveal_secrets,
    set_reveal_secrets,
)
from aioscard.util import from_hex, to_hex

if TYPE_CHECKING:
    from collections.abc import Iterator

SELECT = bytes.fromhex("00A4040007A000000004101000")
VERIFY = bytes.fromhex("0020008008313233343536FFFF")


@pytest.fixture
def hidden_secrets() -> Iterator[None]:
    saved = reveal_secrets()
    set_reveal_secrets(False)
    yield
    set_reveal_secrets(saved)


# --- coerce_apdu / coerce_bytes -------------------------------------------------------


@pytest.mark.parametrize(
    "command",
    [
        SELECT,
        bytearray(SELECT),
        memoryview(SELECT),
        list(SELECT),
        tuple(SELECT),
        array.array("B", SELECT),
    ],
    ids=["bytes", "bytearray", "memoryview", "list", "tuple", "array"],
)
def test_coerce_apdu_accepts_every_documented_form(command: bytes) -> None:
    result = coerce_apdu(command)
    assert result == SELECT
    assert type(result) is bytes


def test_coerce_apdu_refuses_hex_text_without_echoing_it() -> None:
    with pytest.raises(TypeError, match=r"bytes\.fromhex") as info:
        coerce_apdu(VERIFY.hex())  # type: ignore[arg-type]
    assert "313233" not in str(info.value)


def test_coerce_apdu_names_the_bad_item() -> None:
    with pytest.raises(ValueError, match=r"command\[2\] must be in 0\.\.255, got 256"):
        coerce_apdu([0, 0xA4, 256, 0])
    with pytest.raises(TypeError, match=r"command\[1\] must be an int, not bool"):
        coerce_apdu([0, True, 0, 0])
    with pytest.raises(TypeError, match=r"apdu_in\[3\] must be an int, not NoneType"):
        coerce_apdu([0, 0, 0, None], name="apdu_in")  # type: ignore[list-item]


def test_coerce_apdu_enforces_iso_length_limits() -> None:
    with pytest.raises(ValueError, match="command is too short: 3 bytes"):
        coerce_apdu(b"\x00\xa4\x04")
    assert len(coerce_apdu(bytes(MAX_APDU_LENGTH))) == 65544
    with pytest.raises(ValueError, match="command is too long: 65545 bytes"):
        coerce_apdu(bytes(MAX_APDU_LENGTH + 1))


def test_coerce_apdu_rejects_non_sequences() -> None:
    with pytest.raises(TypeError, match="not int"):
        coerce_apdu(0x00A40400)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="not set"):
        coerce_apdu({0, 1, 2, 3})  # type: ignore[arg-type]


_items = st.one_of(
    st.integers(min_value=-2, max_value=300),
    st.booleans(),
    st.floats(allow_nan=False),
    st.none(),
    st.text(max_size=1),
)


@given(st.lists(_items, max_size=12))
def test_coerce_apdu_accepts_exactly_the_valid_inputs(items: list[object]) -> None:
    valid = (
        len(items) >= 4 and all(type(i) is int for i in items) and all(0 <= i <= 255 for i in items)  # type: ignore[operator]
    )
    if valid:
        assert coerce_apdu(items) == bytes(items)  # type: ignore[arg-type]
    else:
        with pytest.raises((TypeError, ValueError)):
            coerce_apdu(items)  # type: ignore[arg-type]


@given(st.binary(max_size=40), st.sampled_from([bytes, bytearray, memoryview, list, tuple]))
def test_coerce_bytes_checks_length_bounds(data: bytes, kind: type) -> None:
    value = kind(data)
    if 2 <= len(data) <= 20:
        assert coerce_bytes(value, name="attr", min_len=2, max_len=20) == data
    else:
        with pytest.raises(ValueError, match=r"attr is too (short|long)"):
            coerce_bytes(value, name="attr", min_len=2, max_len=20)


# --- Response ------------------------------------------------------------------------


def test_response_unpacks_like_pyscard() -> None:
    response = Response.from_raw(b"\x01\x02\x90\x00")
    data, sw1, sw2 = response
    assert (data, sw1, sw2) == ([1, 2], 0x90, 0x00)
    assert response.sw == 0x9000
    assert response.ok
    assert response.data_bytes == b"\x01\x02"
    assert response.bytes == b"\x01\x02\x90\x00"


def test_response_not_ok_for_other_status_words() -> None:
    response = Response.from_raw([0x6A, 0x82])
    assert response.data == []
    assert response.sw == 0x6A82
    assert not response.ok
    assert not Response.from_raw(b"\x61\x10").ok


@pytest.mark.parametrize("raw", [b"", b"\x90"])
def test_response_needs_both_status_bytes(raw: bytes) -> None:
    with pytest.raises(ValueError, match="raw is too short"):
        Response.from_raw(raw)


@given(st.binary(min_size=2, max_size=300))
def test_response_bytes_round_trip(raw: bytes) -> None:
    response = Response.from_raw(raw)
    assert response.bytes == raw
    assert response.sw == int.from_bytes(raw[-2:], "big")


# --- parse_apdu / build_apdu -----------------------------------------------------------


@pytest.mark.parametrize(
    ("hex_apdu", "expected"),
    [
        ("00A40400", ParsedAPDU(0x00, 0xA4, 0x04, 0x00, b"", None, False, 1)),
        ("00B0000010", ParsedAPDU(0x00, 0xB0, 0x00, 0x00, b"", 16, False, 2)),
        ("00B0000000", ParsedAPDU(0x00, 0xB0, 0x00, 0x00, b"", 256, False, 2)),
        ("00D6000002AABB", ParsedAPDU(0x00, 0xD6, 0x00, 0x00, b"\xaa\xbb", None, False, 3)),
        ("00A4040002AABB00", ParsedAPDU(0x00, 0xA4, 0x04, 0x00, b"\xaa\xbb", 256, False, 4)),
        ("00B0000000FFFF", ParsedAPDU(0x00, 0xB0, 0x00, 0x00, b"", 65535, True, 2)),
        ("00B00000000000", ParsedAPDU(0x00, 0xB0, 0x00, 0x00, b"", 65536, True, 2)),
        ("00D600000000 02AABB", ParsedAPDU(0x00, 0xD6, 0x00, 0x00, b"\xaa\xbb", None, True, 3)),
        ("002A9E9A000002AABB0000", ParsedAPDU(0x00, 0x2A, 0x9E, 0x9A, b"\xaa\xbb", 65536, True, 4)),
    ],
)
def test_parse_apdu_recognises_every_case(hex_apdu: str, expected: ParsedAPDU) -> None:
    raw = from_hex(hex_apdu)
    assert parse_apdu(raw) == expected
    assert expected.to_bytes() == raw


@pytest.mark.parametrize(
    ("hex_apdu", "problem"),
    [
        ("00A4040005AABB", "short Lc announces 5 data bytes, but 2"),
        ("00A4040001AABBCC", "short Lc announces 1 data bytes, but 3"),
        ("00A4040000AA", "neither a short"),
        ("00D60000000000AA", "must not be 0000"),
        ("00D6000000000301", "extended Lc announces 3 data bytes, but 1"),
    ],
)
def test_parse_apdu_rejects_inconsistent_lengths(hex_apdu: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        parse_apdu(from_hex(hex_apdu))


def test_build_apdu_picks_the_shortest_encoding() -> None:
    assert build_apdu(0x00, 0xA4, 0x04, 0x00) == from_hex("00A40400")
    assert build_apdu(0x00, 0xB0, 0, 0, le=256) == from_hex("00B0000000")
    assert build_apdu(0x00, 0xB0, 0, 0, le=257) == from_hex("00B00000000101")
    assert build_apdu(0x00, 0xD6, 0, 0, bytes(256)) == from_hex("00D6000000 0100") + bytes(256)
    assert build_apdu(0x00, 0xCB, 0x3F, 0xFF, b"\x5c\x00", 65536) == from_hex(
        "00CB3FFF0000025C000000"
    )


def test_build_apdu_forced_encodings() -> None:
    assert build_apdu(0, 0xB0, 0, 0, le=16, extended=True) == from_hex("00B00000000010")
    assert build_apdu(0, 0xB0, 0, 0, extended=True) == from_hex("00B00000")
    with pytest.raises(ValueError, match="extended=False, but 300 data bytes"):
        build_apdu(0, 0xD6, 0, 0, bytes(300), extended=False)


def test_build_apdu_names_bad_arguments() -> None:
    with pytest.raises(ValueError, match=r"p1 must be in 0\.\.255, got 256"):
        build_apdu(0, 0xA4, 256, 0)
    with pytest.raises(TypeError, match="cla must be an int"):
        build_apdu(True, 0xA4, 0, 0)
    with pytest.raises(ValueError, match="use 256 for a short Le byte of 00"):
        build_apdu(0, 0xB0, 0, 0, le=0)
    with pytest.raises(ValueError, match="le must be"):
        build_apdu(0, 0xB0, 0, 0, le=65537)
    with pytest.raises(ValueError, match="data is too long: 65536 bytes"):
        build_apdu(0, 0xD6, 0, 0, bytes(65536))
    with pytest.raises(TypeError, match="data must be bytes"):
        build_apdu(0, 0xD6, 0, 0, "AABB")  # type: ignore[arg-type]


_byte = st.integers(min_value=0, max_value=255)
# Long data fields built cheaply: a repeated pattern up to the extended maximum.
_long_data = st.builds(
    lambda size, pattern: (pattern * size)[:size],
    st.integers(min_value=256, max_value=65535),
    st.binary(min_size=1, max_size=8),
)


@given(
    _byte,
    _byte,
    _byte,
    _byte,
    st.one_of(st.binary(max_size=300), _long_data),
    st.one_of(st.none(), st.integers(min_value=1, max_value=65536)),
    st.sampled_from([None, True, False]),
)
def test_build_then_parse_gives_the_fields_back(
    cla: int, ins: int, p1: int, p2: int, data: bytes, le: int | None, extended: bool | None
) -> None:
    too_big = len(data) > 255 or (le is not None and le > 256)
    assume(not (extended is False and too_big))
    raw = build_apdu(cla, ins, p1, p2, data, le, extended=extended)
    parsed = parse_apdu(raw)
    assert (parsed.cla, parsed.ins, parsed.p1, parsed.p2) == (cla, ins, p1, p2)
    assert parsed.data == data
    assert parsed.le == le
    assert parsed.case == 1 + (le is not None) + 2 * bool(data)
    has_body = bool(data) or le is not None
    assert parsed.extended == (has_body and (too_big or extended is True))


@given(st.binary(min_size=4, max_size=300))
def test_parse_accepts_or_rejects_random_bytes_with_valueerror_only(raw: bytes) -> None:
    try:
        parsed = parse_apdu(raw)
    except ValueError:
        return
    assert parsed.to_bytes() == raw


# --- secrets -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "hex_apdu",
    [
        "0020008008313233343536FFFF",  # VERIFY
        "0021008004AABBCCDD",  # VERIFY, odd INS
        "002400800C31323334313233343536FFFF",  # CHANGE REFERENCE DATA
        "002C00810831323334353637",  # RESET RETRY COUNTER
        "002600800431323334",  # DISABLE VERIFICATION REQUIREMENT
        "002800800431323334",  # ENABLE VERIFICATION REQUIREMENT
        "802000800431323334",  # proprietary-class VERIFY
        "FF82000006FFFFFFFFFFFF",  # PC/SC LOAD KEYS
        "80D8000112AABBCCDD",  # GlobalPlatform PUT KEY
        "00DB3FFF054D03B6000A",  # OpenPGP private key import
        "00FFFFFF03AABBCC",  # PIV SET MANAGEMENT KEY
        "00FE000003AABBCC",  # PIV IMPORT ASYMMETRIC KEY
        "0020008008313233",  # malformed VERIFY: Lc says 8, 3 follow
    ],
)
def test_pin_and_key_commands_are_sensitive(hex_apdu: str) -> None:
    assert is_sensitive(from_hex(hex_apdu))


@pytest.mark.parametrize(
    "hex_apdu",
    [
        "00200080",  # VERIFY without data: retry counter query
        "0020008000",  # VERIFY with Le only
        "00A4040007A000000004101000",  # SELECT
        "0082000008AABBCCDDEEFF0011",  # EXTERNAL AUTHENTICATE: a cryptogram
        "00DA010103AABBCC",  # PUT DATA
        "00DB3FFF035C0101",  # PUT DATA odd, not a key import
        "00FF000003AABBCC",  # INS FF without P1 FF
        "00",
    ],
)
def test_ordinary_commands_are_not_sensitive(hex_apdu: str) -> None:
    assert not is_sensitive(from_hex(hex_apdu))


def test_format_apdu_hides_the_pin_but_keeps_header_and_lc(hidden_secrets: None) -> None:
    assert format_apdu(VERIFY) == "00 20 00 80 08 <8 bytes redacted>"
    assert format_apdu(from_hex("002000800131")) == "00 20 00 80 01 <1 byte redacted>"
    extended_with_le = build_apdu(0, 0x20, 0, 0x80, b"1234", le=300)
    assert format_apdu(extended_with_le) == "00 20 00 80 00 00 04 <4 bytes redacted> 01 2C"
    assert format_apdu(from_hex("0020008008313233")) == "00 20 00 80 <4 bytes redacted>"


def test_format_apdu_shows_ordinary_commands_in_full(hidden_secrets: None) -> None:
    assert format_apdu(SELECT) == "00 A4 04 00 07 A0 00 00 00 04 10 10 00"
    assert format_apdu(list(SELECT)) == to_hex(SELECT)


def test_reveal_shows_secrets_explicitly_or_by_setting(hidden_secrets: None) -> None:
    assert format_apdu(VERIFY, reveal=True) == to_hex(VERIFY)
    set_reveal_secrets(True)
    assert reveal_secrets()
    assert format_apdu(VERIFY) == to_hex(VERIFY)
    assert format_apdu(VERIFY, reveal=False) == "00 20 00 80 08 <8 bytes redacted>"
    with pytest.raises(TypeError, match="flag must be a bool"):
        set_reveal_secrets(1)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="reveal must be a bool or None"):
        format_apdu(VERIFY, reveal="yes")  # type: ignore[arg-type]


@pytest.mark.parametrize(("value", "expected"), [("1", True), ("true", True), ("0", False)])
def test_reveal_setting_starts_from_the_environment(value: str, expected: bool) -> None:
    env = {**os.environ, "AIOSCARD_REVEAL_SECRETS": value}
    code = "import aioscard.apdu as a; print(a.reveal_secrets())"
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == str(expected)


@given(
    st.sampled_from([0x20, 0x21, 0x24, 0x25, 0x26, 0x28, 0x2C, 0x2D]),
    st.binary(min_size=1, max_size=600),
    st.one_of(st.none(), st.integers(min_value=1, max_value=65536)),
)
def test_redaction_never_shows_pin_bytes(ins: int, pin: bytes, le: int | None) -> None:
    apdu = build_apdu(0x00, ins, 0x00, 0x80, pin, le)
    text = format_apdu(apdu, reveal=False)
    visible = from_hex(text.replace(f"<{len(pin)} byte{'s' * (len(pin) > 1)} redacted>", ""))
    # Only header, Lc and Le survive: at most 4 + 3 + 2 bytes.
    assert len(visible) == len(apdu) - len(pin)
    if len(pin) > 9:
        assert to_hex(pin) not in text


def test_format_response_optionally_hides_data() -> None:
    assert format_response(b"\x01\x02\x90\x00") == "01 02 90 00"
    assert format_response(b"\x01\x02\x90\x00", redact=True) == "<2 bytes redacted> 90 00"
    assert format_response(b"\x90\x00", redact=True) == "90 00"
    assert format_response(b"\x90") == "90"
