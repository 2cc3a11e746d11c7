"""Tests for aioscard.atr: ATR parsing, TCK, pyscard accessors, explanation, historical bytes."""

from __future__ import annotations

import io
from dataclasses import dataclass

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aioscard.atr import (
    ATR,
    CompactTLV,
    InterfaceBytes,
    StorageCard,
    decode_historical_bytes,
)
from aioscard.util import from_hex

MIFARE_1K = "3B 8F 80 01 80 4F 0C A0 00 00 03 06 03 00 01 00 00 00 00 6A"
T0_CARD = "3B 65 00 00 9C 11 01 01 03"
T1_CARD = "3B E3 00 FF 81 31 52 45 A1 A2 A3 1B"
JCOP = "3B DA 18 FF 81 B1 FE 75 1F 03 00 31 C5 73 C0 01 40 00 90 00 0C"


def _xor(data: bytes) -> int:
    result = 0
    for value in data:
        result ^= value
    return result


# --- accepted input and the basic fields ----------------------------------------------


@pytest.mark.parametrize(
    "given_atr",
    [
        T1_CARD,
        T1_CARD.replace(" ", ""),
        T1_CARD.replace(" ", ":").lower(),
        from_hex(T1_CARD),
        bytearray(from_hex(T1_CARD)),
        memoryview(from_hex(T1_CARD)),
        list(from_hex(T1_CARD)),
        ATR(T1_CARD),
    ],
)
def test_atr_accepts_every_documented_form(given_atr: str | bytes | list[int] | ATR) -> None:
    atr = ATR(given_atr)
    assert atr.bytes == from_hex(T1_CARD)
    assert atr == ATR(T1_CARD)
    assert str(atr) == T1_CARD
    assert repr(atr) == f"ATR({T1_CARD!r})"


def test_atr_rejects_other_types() -> None:
    with pytest.raises(TypeError, match="atr must be bytes"):
        ATR(0x3B65)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="strict must be a bool"):
        ATR(T0_CARD, strict="yes")  # type: ignore[arg-type]


def test_t1_atr_fields() -> None:
    atr = ATR(T1_CARD)
    assert (atr.ts, atr.t0, atr.convention) == (0x3B, 0xE3, "direct")
    assert atr.interface_bytes == (
        InterfaceBytes(None, 0x00, 0xFF, 0x81),
        InterfaceBytes(None, None, None, 0x31),
        InterfaceBytes(0x52, 0x45, None, None),
    )
    assert atr.historical_bytes == b"\xa1\xa2\xa3"
    assert (atr.tck, atr.tck_expected, atr.checksum_ok, atr.problems) == (0x1B, True, True, ())
    assert atr.protocols == (1,)
    assert atr.ifsc == 0x52
    assert atr.extra_guard_time == 255


def test_t0_atr_without_tck() -> None:
    atr = ATR(T0_CARD)
    assert atr.protocols == (0,)
    assert (atr.tck, atr.tck_expected, atr.checksum_ok) == (None, False, None)
    assert atr.problems == ()
    assert atr.ifsc == 32  # the T=1 default, as the ATR says nothing


def test_inverse_convention_is_recognised() -> None:
    assert ATR("3F 65 25 00 2C 09 69 90 00").convention == "inverse"


def test_ta1_gives_fi_di_and_fmax() -> None:
    atr = ATR(JCOP)
    assert (atr.fi, atr.di) == (1, 8)
    assert (atr.clock_rate_conversion, atr.bit_rate_adjustment, atr.max_clock_mhz) == (372, 12, 5)
    fast = ATR("3B 10 96")  # FI 9, DI 6
    assert (fast.clock_rate_conversion, fast.bit_rate_adjustment, fast.max_clock_mhz) == (
        512,
        32,
        5,
    )
    reserved = ATR("3B 10 70")  # FI 7 and DI 0 are RFU
    assert (reserved.clock_rate_conversion, reserved.bit_rate_adjustment) == (None, None)
    plain = ATR(T0_CARD)
    assert (plain.fi, plain.clock_rate_conversion, plain.bit_rate_adjustment) == (None, 372, 1)
    assert plain.max_clock_mhz == 5


def test_t15_global_bytes() -> None:
    atr = ATR(JCOP)
    assert atr.protocols == (1,)  # T=15 is not a transmission protocol
    assert atr.isT15Supported()
    assert atr.supported_classes == ("A", "B")


def test_atrs_hash_and_compare_by_bytes() -> None:
    assert len({ATR(T0_CARD), ATR(list(from_hex(T0_CARD))), ATR(T1_CARD)}) == 2
    assert ATR(T0_CARD) != ATR(T1_CARD)
    assert ATR(T0_CARD) != from_hex(T0_CARD)


# --- TCK ---------------------------------------------------------------------------


def test_wrong_tck_is_reported_not_raised() -> None:
    atr = ATR(T1_CARD[:-2] + "1C")
    assert atr.checksum_ok is False
    assert atr.problems == ("TCK is 1C, but the checksum of T0..TK is 1B",)
    assert "TCK = 1C  WRONG" in atr.explain()


def test_strict_raises_on_wrong_or_missing_tck() -> None:
    with pytest.raises(ValueError, match=r"TCK is 1C, but the checksum of T0\.\.TK is 1B"):
        ATR(T1_CARD[:-2] + "1C", strict=True)
    with pytest.raises(ValueError, match="TCK is missing"):
        ATR(T1_CARD[:-3], strict=True)
    assert ATR(T1_CARD, strict=True).checksum_ok


def test_missing_tck_is_reported() -> None:
    atr = ATR(T1_CARD[:-3])
    assert atr.tck is None
    assert atr.checksum_ok is False
    assert atr.problems == ("TCK is missing, but a protocol other than T=0 is indicated",)


def test_tck_on_a_t0_only_atr_is_checked_and_noted() -> None:
    body = from_hex(T0_CARD)
    atr = ATR(body + bytes([_xor(body[1:])]))
    assert atr.checksum_ok is True
    assert atr.problems == ("TCK is present although only T=0 is indicated",)


# --- malformed ATRs ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("hex_atr", "message"),
    [
        ("3B", "atr is too short: 1 bytes"),
        ("", "atr is too short: 0 bytes"),
        ("3B 0F" + " 00" * 32, "atr is too long: 34 bytes"),
        ("3C 00", "atr has TS 3C; expected 3B"),
        ("3B 80", "T0 announces TD1, which is missing"),
        ("3B 90 11", "T0 announces TD1, which is missing"),
        ("3B 80 31 11", "TD1 announces TB2, which is missing"),
        ("3B 0A 01 02", "T0 announces 10 historical bytes, but only 2 bytes follow"),
        ("3B 01 41 42 43", "atr has 2 bytes after the historical bytes"),
        ("3B 6G", "atr is not hex: 'G' at position 4"),
    ],
)
def test_malformed_atrs_raise_valueerror_naming_the_problem(hex_atr: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ATR(hex_atr)


def test_longest_atrs_are_accepted() -> None:
    assert len(ATR("3B 0F" + " 00" * 15).historical_bytes) == 15
    # 8 levels of interface bytes fill all 33 bytes; TD7 announces TA8 TB8 TC8.
    head = bytes([0x3B, 0xF0]) + bytes([0x00, 0x00, 0x00, 0xF0]) * 6
    longest = head + bytes([0x00, 0x00, 0x00, 0x70, 0x00, 0x00, 0x00])
    assert len(longest) == 33
    assert len(ATR(longest).interface_bytes) == 8
    announces_more = head + bytes([0x00, 0x00, 0x00, 0xF0, 0x00, 0x00, 0x00])
    with pytest.raises(ValueError, match="TD7 announces TD8, which is missing"):
        ATR(announces_more)


@given(
    st.one_of(st.binary(max_size=40), st.sampled_from([b"\x3b", b"\x3f"])), st.binary(max_size=40)
)
def test_random_bytes_parse_or_raise_valueerror_only(head: bytes, tail: bytes) -> None:
    data = head + tail
    try:
        atr = ATR(data)
    except ValueError:
        return
    assert atr.bytes == data
    assert atr.explain().startswith("ATR: ")
    atr.getSupportedProtocols()


# --- round trip from a generated structure --------------------------------------------


def _presence(level: InterfaceBytes) -> int:
    """The Y nibble announcing ``level``."""
    return sum(bit for bit, value in zip((1, 2, 4, 8), level, strict=True) if value is not None)


@dataclass
class _Structure:
    ts: int
    levels: list[InterfaceBytes]
    historical: bytes
    add_tck: bool

    def encode(self) -> bytes:
        def presence(level: InterfaceBytes) -> int:
            return sum(
                bit for bit, value in zip((1, 2, 4, 8), level, strict=True) if value is not None
            )

        out = bytearray([self.ts, presence(self.levels[0]) << 4 | len(self.historical)])
        for level in self.levels:
            out += bytes(v for v in level if v is not None)
        out += self.historical
        if self.add_tck:
            out.append(_xor(bytes(out[1:])))
        return bytes(out)


_opt_byte = st.one_of(st.none(), st.integers(min_value=0, max_value=255))


@st.composite
def _structures(draw: st.DrawFn) -> _Structure:
    count = draw(st.integers(min_value=1, max_value=4))
    drawn = [(draw(_opt_byte), draw(_opt_byte), draw(_opt_byte)) for _ in range(count)]
    protocols = [draw(st.sampled_from([0, 1, 2, 14, 15])) for _ in range(count - 1)]
    levels: list[InterfaceBytes] = []
    for index, (ta, tb, tc) in enumerate(drawn):
        td = None
        if index < count - 1:
            following = InterfaceBytes(*drawn[index + 1], None if index + 1 == count - 1 else 0)
            td = _presence(following) << 4 | protocols[index]
        levels.append(InterfaceBytes(ta, tb, tc, td))
    historical = draw(st.binary(max_size=15))
    add_tck = any(protocols)
    structure = _Structure(draw(st.sampled_from([0x3B, 0x3F])), levels, historical, add_tck)
    if len(structure.encode()) > 33:
        structure.historical = b""
    return structure


@given(_structures())
def test_generated_atrs_round_trip(structure: _Structure) -> None:
    raw = structure.encode()
    if len(raw) > 33:
        with pytest.raises(ValueError, match="too long"):
            ATR(raw)
        return
    atr = ATR(raw, strict=True)
    assert atr.bytes == raw
    assert atr.ts == structure.ts
    assert atr.interface_bytes == tuple(structure.levels)
    assert atr.historical_bytes == structure.historical
    assert (atr.tck is not None) == structure.add_tck
    assert atr.checksum_ok is (True if structure.add_tck else None)
    assert atr.problems == ()
    assert atr.explain().count("\n") >= 5
    named = {td & 0x0F for *_, td in structure.levels if td is not None}
    assert set(atr.protocols) == ((named - {15}) or {0})
    assert atr.getInterfaceBytesCount() == sum(
        v is not None for level in structure.levels for v in level
    )


@given(_structures(), st.integers(min_value=1, max_value=255))
def test_corrupted_tck_is_always_caught(structure: _Structure, flip: int) -> None:
    structure.add_tck = True
    raw = bytearray(structure.encode())
    if len(raw) > 33:
        return
    raw[-1] ^= flip
    atr = ATR(bytes(raw))
    assert atr.checksum_ok is False
    with pytest.raises(ValueError, match="TCK is"):
        ATR(bytes(raw), strict=True)


# --- pyscard compatibility ---------------------------------------------------------


def test_pyscard_accessors() -> None:
    atr = ATR(T1_CARD)
    assert atr.atr == list(from_hex(T1_CARD))
    assert (atr.TS, atr.T0, atr.K) == (0x3B, 0xE3, 3)
    assert atr.TA == [None, None, 0x52]
    assert atr.TB == [0x00, None, 0x45]
    assert atr.TC == [0xFF, None, None]
    assert atr.TD == [0x81, 0x31, None]
    assert atr.Y == [0xE, 0x8, 0x3]
    assert (atr.hasTA, atr.hasTD) == ([False, False, True], [True, True, False])
    assert (atr.getTA1(), atr.getTB1(), atr.getTC1(), atr.getTD1()) == (None, 0x00, 0xFF, 0x81)
    assert atr.getHistoricalBytes() == [0xA1, 0xA2, 0xA3]
    assert atr.getHistoricalBytesCount() == 3
    assert atr.getInterfaceBytesCount() == 6
    assert (atr.getChecksum(), atr.hasChecksum, atr.checksumOK) == (0x1B, True, True)
    assert atr.getSupportedProtocols() == {"T=1": True}
    assert (atr.isT0Supported(), atr.isT1Supported(), atr.isT15Supported()) == (False, True, False)
    assert (atr.getGuardTime(), atr.N) == (0xFF, 0xFF)
    assert (atr.getClockRateConversion(), atr.getBitRateFactor()) == (372, 1)


def test_pyscard_defaults_and_rfu_values() -> None:
    plain = ATR(T0_CARD)
    assert plain.getSupportedProtocols() == {"T=0": True}
    assert plain.isT0Supported()
    assert (plain.FI, plain.DI, plain.II, plain.PI1) == (None, None, 0, 0)
    assert (plain.getProgrammingCurrent(), plain.getProgrammingVoltage()) == (25, 0)
    assert ATR("3B 00").getProgrammingCurrent() == 50
    assert ATR("3B 00").getProgrammingVoltage() == 5
    reserved = ATR("3B 10 70")
    assert (reserved.getClockRateConversion(), reserved.getBitRateFactor()) == ("RFU", "RFU")
    assert ATR("3B 00").getGuardTime() is None


def test_t0_and_t1_both_offered() -> None:
    atr = ATR(MIFARE_1K)
    assert atr.getSupportedProtocols() == {"T=0": True, "T=1": True}
    assert atr.protocols == (0, 1)


# --- historical bytes -----------------------------------------------------------------


def test_pcsc_storage_card_is_recognised() -> None:
    atr = ATR(MIFARE_1K)
    assert atr.checksum_ok
    assert atr.storage_card == StorageCard(
        rid=from_hex("A000000306"),
        standard=0x03,
        standard_name="ISO 14443 A, part 3",
        card_name_code=0x0001,
        card_name="MIFARE Classic 1K",
    )
    assert "card name 00 01: MIFARE Classic 1K" in atr.explain()


def test_unknown_storage_card_name_is_said_unknown() -> None:
    historical = from_hex("80 4F 0C A0 00 00 03 06 03 FF 42 00 00 00 00")
    card = decode_historical_bytes(historical).storage_card
    assert card is not None
    assert (card.card_name_code, card.card_name) == (0xFF42, "unknown")


def test_category_00_compact_tlv_and_status_indicator() -> None:
    historical = ATR(JCOP).historical
    assert historical.category == 0x00
    assert historical.objects == (CompactTLV(0x3, b"\xc5"), CompactTLV(0x7, b"\xc0\x01\x40"))
    assert historical.status == b"\x00\x90\x00"
    lines = "\n".join(historical.describe())
    assert "card without MF" in lines
    assert "extended Lc and Le fields supported" in lines
    assert "status word 9000" in lines


def test_category_80_with_status_object() -> None:
    decoded = decode_historical_bytes(from_hex("80 31 C0 73 C0 21 40 82 90 00"))
    assert decoded.objects == (
        CompactTLV(0x3, b"\xc0"),
        CompactTLV(0x7, b"\xc0\x21\x40"),
        CompactTLV(0x8, b"\x90\x00"),
    )
    assert decoded.status == b"\x90\x00"
    assert decoded.problems == ()


def test_bad_historical_bytes_are_reported_not_raised() -> None:
    decoded = decode_historical_bytes(from_hex("80 35 01"))
    assert decoded.objects == ()
    assert decoded.problems == ("compact-TLV object 35 announces 5 bytes, but only 1 remain",)
    assert decode_historical_bytes(b"\x00\x90").problems == (
        "category 00 needs a 3-byte status indicator at the end",
    )
    assert decode_historical_bytes(b"").category is None


@given(st.binary(max_size=15))
def test_any_historical_bytes_decode_and_describe(data: bytes) -> None:
    decoded = decode_historical_bytes(data)
    assert decoded.raw == data
    assert all(isinstance(line, str) for line in decoded.describe())


# --- explanation ------------------------------------------------------------------------


def test_explain_names_every_part() -> None:
    text = ATR(JCOP).explain()
    for expected in (
        "TS  = 3B  direct convention",
        "T0  = DA  Y1 = D: TA1 TC1 TD1 present; K = 10 historical bytes",
        "TA1 = 18  FI = 1, DI = 8: Fi = 372, Di = 12, f(max) = 5 MHz",
        "TD3 = 1F  Y4 = 1: TA4 present; protocol T=15",
        "TA3 = FE  T=1 IFSC = 254 bytes",
        "TA4 = 03  clock stop: not supported; classes: A, B",
        "TCK = 0C  correct",
        "protocols: T=1",
    ):
        assert expected in text


def test_dump_prints_the_explanation() -> None:
    out = io.StringIO()
    ATR(T0_CARD).dump(out)
    assert out.getvalue() == ATR(T0_CARD).explain() + "\n"
