"""BER-TLV, compact-TLV and DOL: round trips under hypothesis, and every kind of bad input."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aioscard import tlv
from aioscard.atr import ATR, decode_historical_bytes
from aioscard.tlv import (
    TLV,
    CompactTLV,
    DOLEntry,
    MalformedTLVError,
    OverlongTLVError,
    TLVDepthError,
    TLVError,
    TruncatedTLVError,
)


def junk(value: object) -> Any:
    """``value`` typed as Any: wrong types passed on without the type checker objecting."""
    return value


# -- strategies ----------------------------------------------------------------------------


def _tag_from(first: int, rest: list[int], constructed: bool) -> int:
    first = (first & 0xDF) | (0x20 if constructed else 0)
    if first & 0xC0 == 0xC0:
        first &= 0xBF  # private class with 11111 would start with FF: padding in 7816-4
    if not rest:
        if first & 0x1F == 0x1F:
            first &= 0xFE  # a one-byte tag must not look like the start of a longer one
        if first == 0x00:
            first = 0x01
        return first
    first |= 0x1F
    body = [byte | 0x80 for byte in rest[:-1]] + [rest[-1] & 0x7F]
    if body[0] == 0x80:
        body[0] = 0x81  # shortest form: no leading zero bits
    return int.from_bytes(bytes([first, *body]), "big")


def tags(constructed: bool) -> st.SearchStrategy[int]:
    return st.builds(
        _tag_from,
        st.integers(0, 255),
        st.lists(st.integers(0, 255), max_size=3),
        st.just(constructed),
    )


primitives = st.builds(TLV, tags(False), st.binary(max_size=300))
trees: st.SearchStrategy[TLV] = st.recursive(
    primitives,
    lambda children: st.builds(TLV, tags(True), st.lists(children, max_size=4)),
    max_leaves=20,
)

# -- BER-TLV ---------------------------------------------------------------------------------


@settings(deadline=None)  # no timed assertions: a loaded machine is slow
@given(st.lists(trees, max_size=4))
def test_build_then_parse_gives_the_same_objects(objects: list[TLV]) -> None:
    encoded = tlv.build(objects)
    parsed = tlv.parse(encoded)
    assert parsed == objects
    assert [list(item.walk()) for item in parsed] == [list(item.walk()) for item in objects]
    assert tlv.parse(encoded, strict=False) == objects


@settings(deadline=None)  # no timed assertions: a loaded machine is slow
@given(st.binary(max_size=64))
def test_any_bytes_parse_or_raise_a_tlv_error_and_strict_input_round_trips(data: bytes) -> None:
    for strict in (True, False):
        try:
            objects = tlv.parse(data, strict=strict)
        except TLVError as error:
            offset = error.offset
            assert 0 <= offset <= len(data)
            continue
        if strict:
            assert tlv.build(objects) == data


@settings(deadline=None)  # no timed assertions: a loaded machine is slow
@given(trees, st.integers(1, 200))
def test_truncating_a_well_formed_object_is_always_an_error(item: TLV, cut: int) -> None:
    encoded = item.to_bytes()
    cut = min(cut, len(encoded) - 1)  # all of it cut is empty input: no objects
    with pytest.raises(TLVError):
        tlv.parse(encoded[:-cut])  # never a shorter result that looks fine


@settings(deadline=None)  # no timed assertions: a loaded machine is slow
@given(st.integers(0, tlv.MAX_LENGTH))
def test_lengths_round_trip_in_their_shortest_form(length: int) -> None:
    field = tlv.encode_length(length)
    assert tlv.decode_length(field) == (length, len(field))
    assert len(field) == 1 + (0 if length < 0x80 else (length.bit_length() + 7) // 8)


def test_an_fci_parses_into_its_template() -> None:
    fci = tlv.parse_one(bytes.fromhex("6F0F 8408 A0000006472F0001 A503 880101"))
    assert fci.tag == 0x6F
    assert fci.constructed
    assert [child.tag for child in fci.children] == [0x84, 0xA5]
    aid = fci.find(0x84)
    assert aid is not None
    assert aid.value == bytes.fromhex("A0000006472F0001")
    sfi = fci.find(0x88)
    assert sfi is not None
    assert sfi.value == b"\x01"
    assert fci.find(0x50) is None
    assert fci.find_all(0x88) == [TLV(0x88, b"\x01")]


def test_multi_byte_tags_and_long_lengths() -> None:
    item = TLV(0x9F7F, bytes(300))
    encoded = item.to_bytes()
    assert encoded[:5] == bytes.fromhex("9F7F82012C")
    assert tlv.parse_one(encoded) == item
    assert tlv.decode_tag(bytes.fromhex("DF8101")) == (0xDF8101, 3)
    assert TLV(0x7F49, [TLV(0x86, b"\x04")]).to_bytes() == bytes.fromhex("7F4903860104")


@pytest.mark.parametrize(
    ("hex_input", "error", "words"),
    [
        ("6F05840101", TruncatedTLVError, "announces 5 bytes"),
        ("9F", TruncatedTLVError, "inside a tag"),
        ("9F7F", TruncatedTLVError, "before a length"),
        ("8482", TruncatedTLVError, "inside a length"),
        ("84850100000000", OverlongTLVError, "at most 4"),
        ("DF81818101", OverlongTLVError, "longer than 4"),
        ("848100", OverlongTLVError, "longer than needed"),
        ("84820001AA", OverlongTLVError, "longer than needed"),
        ("1F808100", OverlongTLVError, "shortest form"),
        ("6F80", MalformedTLVError, "indefinite"),
        ("840100FF", MalformedTLVError, "padding"),
        ("00840100", MalformedTLVError, "padding"),
    ],
)
def test_malformed_input_gets_a_typed_error_naming_the_problem(
    hex_input: str, error: type[TLVError], words: str
) -> None:
    with pytest.raises(error, match=words):
        tlv.parse(bytes.fromhex(hex_input))


def test_lenient_mode_skips_padding_and_accepts_long_forms() -> None:
    data = bytes.fromhex("00FF 84 81 02 AABB 00 1F01 00 FFFF")
    objects = tlv.parse(data, strict=False)
    assert [(item.tag, item.value) for item in objects] == [(0x84, b"\xaa\xbb"), (0x1F01, b"")]
    with pytest.raises(MalformedTLVError):
        tlv.parse(data)
    # Still typed errors for what no mode can read.
    with pytest.raises(TruncatedTLVError):
        tlv.parse(bytes.fromhex("00 84 05 AA"), strict=False)
    with pytest.raises(MalformedTLVError, match="indefinite"):
        tlv.parse(bytes.fromhex("6F80 0000"), strict=False)


def test_nesting_is_bounded_by_max_depth() -> None:
    item = TLV(0x80, b"x")
    for _ in range(40):
        item = TLV(0x61, [item])
    encoded = item.to_bytes()
    with pytest.raises(TLVDepthError, match="max_depth=32"):
        tlv.parse(encoded)
    assert tlv.parse(encoded, max_depth=41) == [item]
    with pytest.raises(TLVDepthError):
        tlv.parse(encoded, max_depth=40)
    # However deep the input nests, the parser stops at max_depth (at most 200).
    hostile = b""
    for _ in range(3000):
        hostile = b"\x61" + tlv.encode_length(len(hostile)) + hostile
    with pytest.raises(TLVDepthError, match="max_depth=200"):
        tlv.parse(hostile, max_depth=200)
    with pytest.raises(ValueError, match=r"1\.\.200"):
        tlv.parse(hostile, max_depth=201)


def test_parse_one_wants_exactly_one_object() -> None:
    with pytest.raises(MalformedTLVError, match="found 2"):
        tlv.parse_one(bytes.fromhex("80008100"))
    with pytest.raises(MalformedTLVError, match="found 0"):
        tlv.parse_one(b"")
    assert tlv.parse_one(bytes.fromhex("FF 8000 00"), strict=False) == TLV(0x80, b"")


@pytest.mark.parametrize(
    ("make", "error", "words"),
    [
        (lambda: TLV(0, b""), ValueError, "positive"),
        (lambda: TLV(0x1F, b""), ValueError, "incomplete"),
        (lambda: TLV(0x8181, b""), ValueError, "not one tag"),
        (lambda: TLV(0x9F8001, b""), ValueError, "shortest"),
        (lambda: TLV(0xFF, b""), ValueError, "padding"),
        (lambda: TLV(0x1_0000_0000, b""), ValueError, "1..4 bytes"),
        (lambda: TLV(True, b""), TypeError, "int"),
        (lambda: TLV(0x84, junk("text")), TypeError, "sequence of TLV"),
        (lambda: TLV(0x84, [TLV(0x80, b"")]), ValueError, "primitive"),
        (lambda: TLV(0x61, [TLV(0x80, b""), junk(5)]), TypeError, r"value\[1\]"),
        (lambda: TLV(0x61, b"\x84\x05"), TruncatedTLVError, "announces 5"),
        (lambda: tlv.parse(b"", max_depth=0), ValueError, "max_depth"),
        (lambda: tlv.parse(b"", strict=junk(1)), TypeError, "strict"),
        (lambda: tlv.parse(junk("6F00")), TypeError, "data"),
        (lambda: tlv.encode_length(-1), ValueError, "length"),
        (lambda: tlv.encode_length(tlv.MAX_LENGTH + 1), ValueError, "length"),
        (lambda: tlv.build([junk(b"\x80\x00")]), TypeError, r"objects\[0\]"),
    ],
)
def test_bad_arguments_are_typed_errors(make: object, error: type[Exception], words: str) -> None:
    assert callable(make)
    with pytest.raises(error, match=words):
        make()


def test_objects_are_immutable_values() -> None:
    item = TLV(0x84, b"\x01")
    with pytest.raises(AttributeError):
        junk(item).value = b"\x02"
    assert item == TLV(0x84, [1])
    assert hash(item) == hash(TLV(0x84, b"\x01"))
    assert item != TLV(0x85, b"\x01")
    assert bytes(item) == bytes.fromhex("840101")
    assert TLV(0x61, b"\x84\x01\x01").children == (item,)


# -- compact-TLV -----------------------------------------------------------------------------


@settings(deadline=None)  # no timed assertions: a loaded machine is slow
@given(st.lists(st.tuples(st.integers(0, 15), st.binary(max_size=15)), max_size=8))
def test_compact_tlv_round_trips(pairs: list[tuple[int, bytes]]) -> None:
    encoded = tlv.build_compact_tlv(pairs)
    assert tlv.parse_compact_tlv(encoded) == [CompactTLV(tag, value) for tag, value in pairs]


def test_compact_tlv_errors_and_the_atr_decoder_shares_the_code() -> None:
    with pytest.raises(TruncatedTLVError, match="announces 3 bytes"):
        tlv.parse_compact_tlv(bytes.fromhex("7301"))
    with pytest.raises(ValueError, match="tag"):
        tlv.build_compact_tlv([(16, b"")])
    with pytest.raises(ValueError, match="too long"):
        tlv.build_compact_tlv([(1, bytes(16))])
    historical = decode_historical_bytes(bytes.fromhex("80 7301 00"))
    assert historical.problems == ("compact-TLV object 73 announces 3 bytes, but only 2 remain",)
    capabilities = bytes.fromhex("80 73 008000 E0 0102")
    assert ATR(bytes.fromhex("3B06") + capabilities[:6]).historical.objects == (
        CompactTLV(0x7, bytes.fromhex("008000")),
        CompactTLV(0xE, b""),
    )


# -- DOL ---------------------------------------------------------------------------------------


@settings(deadline=None)  # no timed assertions: a loaded machine is slow
@given(st.lists(st.tuples(tags(False), st.integers(0, 300)), max_size=6))
def test_dol_round_trips(pairs: list[tuple[int, int]]) -> None:
    encoded = tlv.build_dol(pairs)
    assert tlv.parse_dol(encoded) == [DOLEntry(tag, length) for tag, length in pairs]


def test_dol_data_is_laid_out_as_asked() -> None:
    pdol = tlv.parse_dol(bytes.fromhex("9F6604 9F0206 5F2A02 9A03"))
    assert pdol[0] == DOLEntry(0x9F66, 4)
    values = {0x9F66: bytes.fromhex("F620C000"), 0x5F2A: bytes.fromhex("0978")}
    data = tlv.build_dol_data(pdol, values)
    assert data == bytes.fromhex("F620C000 000000000000 0978 000000")
    assert tlv.parse_dol_data(pdol, data)[0x5F2A] == bytes.fromhex("0978")
    with pytest.raises(ValueError, match="asks for 4"):
        tlv.build_dol_data(pdol, {0x9F66: b"\x01"})
    lenient = tlv.build_dol_data(pdol, {0x9F66: b"\x01", 0x9A: b"1234"}, strict=False)
    assert lenient[:4] == bytes.fromhex("01000000")
    assert lenient[-3:] == b"123"
    with pytest.raises(TruncatedTLVError):
        tlv.parse_dol_data(pdol, data[:-1])
    with pytest.raises(MalformedTLVError, match="1 bytes follow"):
        tlv.parse_dol_data(pdol, data + b"\x00")
    with pytest.raises(TruncatedTLVError):
        tlv.parse_dol(bytes.fromhex("9F66"))


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=40))
def test_dol_and_compact_parsers_raise_only_typed_errors(data: bytes) -> None:
    for parser in (tlv.parse_dol, tlv.parse_compact_tlv):
        # A try per item: each parser accepts or refuses the data on its own.
        try:
            parser(data)
        except TLVError:  # noqa: PERF203
            pass
