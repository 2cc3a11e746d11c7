"""Answer To Reset (ATR) parsing and explanation, per ISO/IEC 7816-3 and 7816-4.

:class:`ATR` splits an ATR into TS, T0, the interface bytes of every level, the
historical bytes and TCK; checks TCK; and explains it all in words
(:meth:`ATR.explain`, behind ``aioscard atr HEX``).  It also answers the
questions pyscard's ``smartcard.ATR.ATR`` answers, under the same method names.

:func:`decode_historical_bytes` reads the historical bytes of ISO/IEC 7816-4
(category indicator, compact-TLV objects, status indicator) and recognises the
ATR a PC/SC reader builds for a contactless storage card (PC/SC part 3).

Pure Python, no I/O except :meth:`ATR.dump`, which prints.
"""

from __future__ import annotations

import builtins
import os
import sys
from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, ClassVar, NamedTuple, TextIO, TypeAlias

from aioscard._bytes import ByteInput, as_bytes, parse_hex
from aioscard._historical_tables import (
    COMPACT_TLV_TAGS,
    PCSC_RID,
    STORAGE_CARD_NAMES,
    STORAGE_STANDARDS,
)
from aioscard.tlv import CompactTLV as CompactTLV
from aioscard.tlv import _split_compact_tlv
from aioscard.util import to_hex

if TYPE_CHECKING:
    from aioscard.identify import KnownCard

__all__ = [
    "ATR",
    "MAX_ATR_LENGTH",
    "ATRInput",
    "CompactTLV",
    "HistoricalBytes",
    "InterfaceBytes",
    "StorageCard",
    "decode_historical_bytes",
]

#: TS plus at most 32 further bytes (ISO/IEC 7816-3).
MAX_ATR_LENGTH = 33

# ISO/IEC 7816-3 tables indexed by the 4-bit FI and DI of TA1; None is RFU.
_FI_TABLE: tuple[int | None, ...] = (
    372, 372, 558, 744, 1116, 1488, 1860, None,
    None, 512, 768, 1024, 1536, 2048, None, None,
)  # fmt: skip
_FMAX_TABLE: tuple[float | None, ...] = (
    4, 5, 6, 8, 12, 16, 20, None,
    None, 5, 7.5, 10, 15, 20, None, None,
)  # fmt: skip
_DI_TABLE: tuple[int | None, ...] = (
    None, 1, 2, 4, 8, 16, 32, 64,
    12, 20, None, None, None, None, None, None,
)  # fmt: skip
# Maximum programming current (mA) by II of TB1 (deprecated since 2006).
_II_TABLE: tuple[int | None, ...] = (25, 50, 100, None)

_DEFAULT_FI = 372
_DEFAULT_DI = 1
_DEFAULT_FMAX = 5.0

_TS_CONVENTIONS = MappingProxyType({0x3B: "direct", 0x3F: "inverse"})


# ---------------------------------------------------------------------------
# Historical bytes


class StorageCard(NamedTuple):
    """What the ATR of a PC/SC part 3 storage card says about the card."""

    #: Registered application provider identifier; ``A0 00 00 03 06`` is PC/SC.
    rid: bytes
    #: The standard byte SS, e.g. 0x03 for ISO 14443 A part 3.
    standard: int
    #: The standard in words (``"unknown"`` for values the table lacks).
    standard_name: str
    #: The card name bytes NN NN as one int, e.g. 0x0001 for MIFARE Classic 1K.
    card_name_code: int
    #: The card name in words (``"unknown"`` for values the table lacks).
    card_name: str


class HistoricalBytes(NamedTuple):
    """The historical bytes of an ATR, decoded as far as ISO/IEC 7816-4 allows.

    ``category`` is the category indicator (the first byte) or ``None`` when
    there are no historical bytes.  ``objects`` are the compact-TLV objects
    (categories 00 and 80); ``status`` the status indicator bytes (LCS, SW1
    SW2, or both) when present; ``storage_card`` the PC/SC part 3 fields when
    the bytes follow that layout.  Formatting faults go to ``problems``: the
    historical bytes belong to the card, so they never make an ATR invalid.
    """

    raw: bytes
    category: int | None
    objects: tuple[CompactTLV, ...]
    status: bytes | None
    storage_card: StorageCard | None
    problems: tuple[str, ...]

    def describe(self) -> list[str]:
        """Return the explanation of these bytes, one line per item."""
        if self.category is None:
            return ["no historical bytes"]
        lines = [f"category indicator {self.category:02X}: {_category_name(self.category)}"]
        if self.storage_card is not None:
            card = self.storage_card
            lines += [
                f"PC/SC part 3 storage card, RID {to_hex(card.rid)}",
                f"  standard {card.standard:02X}: {card.standard_name}",
                f"  card name {card.card_name_code >> 8:02X} {card.card_name_code & 0xFF:02X}: "
                f"{card.card_name}",
            ]
        elif self.category == 0x10 and len(self.raw) > 1:
            lines.append(f"DIR data reference: {to_hex(self.raw[1:])}")
        for item in self.objects:
            lines += _describe_compact_tlv(item)
        if self.status is not None and self.category == 0x00:
            lines += _describe_status_indicator(self.status)
        lines += [f"problem: {problem}" for problem in self.problems]
        return lines


def _category_name(category: int) -> str:
    if category == 0x00:
        return "compact-TLV objects, then a 3-byte status indicator"
    if category == 0x10:
        return "DIR data reference"
    if category == 0x80:
        return "compact-TLV objects, status indicator optional"
    if 0x81 <= category <= 0x8F:
        return "reserved for future use"
    return "proprietary format"


def _parse_compact_tlv(data: bytes) -> tuple[list[CompactTLV], list[str]]:
    objects, error = _split_compact_tlv(data)
    # The offset in the message is relative to the objects, not the ATR: leave it out.
    return objects, [] if error is None else [str(error).rsplit(" (at offset", 1)[0]]


def decode_historical_bytes(data: ByteInput) -> HistoricalBytes:
    """Decode historical bytes per ISO/IEC 7816-4 and the PC/SC part 3 storage-card layout.

    Never raises for badly formatted historical bytes: what cannot be decoded
    is reported in ``problems``.  Raises ``TypeError``/``ValueError`` naming
    ``data`` only when it is not bytes-like or a sequence of ints in 0..255.
    """
    raw = as_bytes(data, "data")
    if not raw:
        return HistoricalBytes(raw, None, (), None, None, ())
    category = raw[0]
    problems: list[str] = []
    objects: list[CompactTLV] = []
    status: bytes | None = None
    storage_card: StorageCard | None = None
    if category == 0x80 and raw[1:2] == b"\x4f" and raw[3:8] == PCSC_RID and len(raw) >= 11:
        # PC/SC part 3: 80 4F <len> RID(5) SS NN NN <RFU>; 4F is a BER-TLV tag
        # here, not a compact-TLV header, so this is not read as compact-TLV.
        standard = raw[8]
        name_code = int.from_bytes(raw[9:11], "big")
        storage_card = StorageCard(
            rid=raw[3:8],
            standard=standard,
            standard_name=STORAGE_STANDARDS.get(standard, "unknown"),
            card_name_code=name_code,
            card_name=STORAGE_CARD_NAMES.get(name_code, "unknown"),
        )
    elif category == 0x80:
        objects, problems = _parse_compact_tlv(raw[1:])
        for item in objects:
            if item.tag == 0x8:
                status = item.value
    elif category == 0x00:
        if len(raw) < 4:
            problems.append("category 00 needs a 3-byte status indicator at the end")
        else:
            objects, problems = _parse_compact_tlv(raw[1:-3])
            status = raw[-3:]
    return HistoricalBytes(raw, category, tuple(objects), status, storage_card, tuple(problems))


def _flags(value: int, names: Mapping[int, str]) -> str:
    chosen = [name for bit, name in names.items() if value & bit]
    return ", ".join(chosen) if chosen else "none"


def _describe_card_service_data(value: int) -> list[str]:
    access = (value >> 1) & 0x07
    access_name = {0b100: "READ BINARY", 0b010: "GET DATA", 0b000: "READ RECORD(S)"}.get(
        access, "reserved"
    )
    return [
        "  application selection: "
        + _flags(value, {0x80: "by full DF name", 0x40: "by partial DF name"}),
        "  BER-TLV data objects available: "
        + _flags(value, {0x20: "in EF.DIR", 0x10: "in EF.ATR"}),
        f"  EF.DIR and EF.ATR access: {access_name}",
        "  card " + ("without" if value & 0x01 else "with") + " MF",
    ]


def _describe_card_capabilities(value: bytes) -> list[str]:
    lines: list[str] = []
    if len(value) >= 1:
        lines.append(
            "  selection methods: "
            + _flags(
                value[0],
                {
                    0x80: "full DF name",
                    0x40: "partial DF name",
                    0x20: "path",
                    0x10: "file identifier",
                    0x08: "implicit DF",
                    0x04: "short EF identifier",
                    0x02: "record number",
                    0x01: "record identifier",
                },
            )
        )
    if len(value) >= 2:
        coding = value[1]
        write = ("one-time write", "proprietary", "write OR", "write AND")[(coding >> 5) & 0x03]
        quartets = 1 << (coding & 0x0F)
        lines += [
            "  EFs of TLV structure " + ("supported" if coding & 0x80 else "not supported"),
            f"  write functions: {write}",
            "  FF as first byte of a BER-TLV tag: " + ("valid" if coding & 0x10 else "invalid"),
            f"  data unit size: {quartets} quartets",
        ]
    if len(value) >= 3:
        third = value[2]
        channels = third & 0x07
        assignment = _flags(third, {0x10: "by the card", 0x08: "by the interface device"})
        lines += [
            "  command chaining " + ("supported" if third & 0x80 else "not supported"),
            "  extended Lc and Le fields " + ("supported" if third & 0x40 else "not supported"),
            "  extended length information in EF.ATR: " + ("yes" if third & 0x20 else "no"),
            f"  logical channel assignment: {assignment}",
            "  maximum number of logical channels: "
            + ("8 or more" if channels == 0x07 else str(channels + 1)),
        ]
    return lines


def _life_cycle(lcs: int) -> str:
    if lcs == 0x00:
        return "no information given"
    if lcs == 0x01:
        return "creation state"
    if lcs == 0x03:
        return "initialisation state"
    if lcs in (0x05, 0x07):
        return "operational state (activated)"
    if lcs in (0x04, 0x06):
        return "operational state (deactivated)"
    if 0x0C <= lcs <= 0x0F:
        return "termination state"
    if lcs >= 0x10:
        return "proprietary"
    return "reserved"


def _describe_status_indicator(value: bytes) -> list[str]:
    lines = [f"status indicator: {to_hex(value)}"]
    if len(value) in (1, 3):
        lines.append(f"  life cycle status {value[0]:02X}: {_life_cycle(value[0])}")
    if len(value) in (2, 3):
        lines.append(f"  status word {value[-2]:02X}{value[-1]:02X}")
    return lines


def _describe_compact_tlv(item: CompactTLV) -> list[str]:
    name = COMPACT_TLV_TAGS.get(item.tag, "reserved tag")
    lines = [f"tag {item.tag:X} ({name}): {to_hex(item.value) or '(empty)'}"]
    if item.tag == 0x3 and len(item.value) == 1:
        lines += _describe_card_service_data(item.value[0])
    elif item.tag == 0x7:
        lines += _describe_card_capabilities(item.value)
    elif item.tag == 0x8:
        lines += _describe_status_indicator(item.value)[1:]
    return lines


# ---------------------------------------------------------------------------
# The ATR


class InterfaceBytes(NamedTuple):
    """TAi, TBi, TCi and TDi of one level i of an ATR; ``None`` where absent."""

    ta: int | None
    tb: int | None
    tc: int | None
    td: int | None


def _byte_name(letter: str, level: int) -> str:
    return f"T{letter}{level}"


class ATR:
    """A parsed Answer To Reset.

    ``ATR(data)`` accepts ``bytes``, ``bytearray``, ``memoryview``, a sequence
    of ints, hex text (``"3B 65 00 00 9C 11 01 01 03"``) or another ``ATR``.
    A wrong or missing TCK is reported (:attr:`checksum_ok`, :attr:`problems`)
    rather than raised, unless ``strict=True``.  ATRs compare and hash by
    their bytes.

    Raises ``TypeError`` for other types, and ``ValueError`` naming the
    problem for: a length outside 2..33 bytes, TS other than 3B/3F, interface
    bytes that T0 or a TDi announce but that are missing, fewer historical
    bytes than T0 announces, more than one byte after the historical bytes,
    bad hex text, and (with ``strict=True``) any entry of :attr:`problems`.
    """

    #: pyscard's tables: Fi by FI, Di by DI, Ipp (mA) by II; ``"RFU"`` where reserved.
    clockrateconversion: ClassVar[tuple[int | str, ...]] = tuple(
        "RFU" if v is None else v for v in _FI_TABLE
    )
    bitratefactor: ClassVar[tuple[int | str, ...]] = tuple(
        "RFU" if v is None else v for v in _DI_TABLE
    )
    currenttable: ClassVar[tuple[int | str, ...]] = tuple(
        "RFU" if v is None else v for v in _II_TABLE
    )

    __slots__ = ("_checksum_ok", "_historical", "_levels", "_problems", "_raw", "_tck")

    _raw: builtins.bytes
    _levels: tuple[InterfaceBytes, ...]
    _historical: HistoricalBytes
    _tck: int | None
    _checksum_ok: bool | None
    _problems: tuple[str, ...]

    def __init__(self, atr: ATRInput, *, strict: bool = False) -> None:
        if isinstance(atr, ATR):
            raw = atr._raw
        elif isinstance(atr, str):
            raw = parse_hex(atr, "atr")
        else:
            raw = as_bytes(atr, "atr")
        if not isinstance(strict, bool):
            raise TypeError(f"strict must be a bool, not {type(strict).__name__}")
        self._raw = raw
        self._levels, historical_start = self._parse_interface_bytes(raw)
        k = raw[1] & 0x0F
        historical_end = historical_start + k
        if historical_end > len(raw):
            raise ValueError(
                f"atr is truncated: T0 announces {k} historical bytes, but only "
                f"{len(raw) - historical_start} bytes follow the interface bytes"
            )
        self._historical = decode_historical_bytes(raw[historical_start:historical_end])
        trailing = len(raw) - historical_end
        if trailing > 1:
            raise ValueError(
                f"atr has {trailing} bytes after the historical bytes; only TCK "
                "(one byte) may follow them"
            )
        self._tck = raw[-1] if trailing else None
        self._problems = tuple(self._check_tck(raw[1:historical_end]))
        if strict and self._problems:
            raise ValueError("atr fails the strict check: " + "; ".join(self._problems))

    @staticmethod
    def _parse_interface_bytes(raw: bytes) -> tuple[tuple[InterfaceBytes, ...], int]:
        if len(raw) < 2:
            raise ValueError(f"atr is too short: {len(raw)} bytes; an ATR has at least TS and T0")
        if len(raw) > MAX_ATR_LENGTH:
            raise ValueError(
                f"atr is too long: {len(raw)} bytes; an ATR has at most {MAX_ATR_LENGTH}"
            )
        if raw[0] not in _TS_CONVENTIONS:
            raise ValueError(
                f"atr has TS {raw[0]:02X}; expected 3B (direct convention) "
                "or 3F (inverse convention)"
            )
        levels: list[InterfaceBytes] = []
        indicator, announcer, position = raw[1] >> 4, "T0", 2
        while True:
            level = len(levels) + 1
            found: dict[str, int] = {}
            for bit, letter in ((0x1, "A"), (0x2, "B"), (0x4, "C"), (0x8, "D")):
                if not indicator & bit:
                    continue
                if position >= len(raw):
                    raise ValueError(
                        f"atr is truncated: {announcer} announces "
                        f"{_byte_name(letter, level)}, which is missing"
                    )
                found[letter] = raw[position]
                position += 1
            group = InterfaceBytes(found.get("A"), found.get("B"), found.get("C"), found.get("D"))
            levels.append(group)
            if group.td is None:
                return tuple(levels), position
            indicator, announcer = group.td >> 4, _byte_name("D", level)

    def _check_tck(self, covered: builtins.bytes) -> list[str]:
        """Set ``_checksum_ok`` and return the TCK problems, given T0..TK."""
        checksum = 0
        for value in covered:
            checksum ^= value
        problems: list[str] = []
        if self._tck is None:
            self._checksum_ok = False if self.tck_expected else None
            if self.tck_expected:
                problems.append("TCK is missing, but a protocol other than T=0 is indicated")
            return problems
        self._checksum_ok = self._tck == checksum
        if not self._checksum_ok:
            problems.append(f"TCK is {self._tck:02X}, but the checksum of T0..TK is {checksum:02X}")
        if not self.tck_expected:
            problems.append("TCK is present although only T=0 is indicated")
        return problems

    # -- the bytes --------------------------------------------------------------------

    @property
    def bytes(self) -> builtins.bytes:
        """The ATR as ``bytes``."""
        return self._raw

    @property
    def ts(self) -> int:
        """TS, the initial character: 0x3B or 0x3F."""
        return self._raw[0]

    @property
    def convention(self) -> str:
        """``"direct"`` (TS 3B) or ``"inverse"`` (TS 3F)."""
        return _TS_CONVENTIONS[self._raw[0]]

    @property
    def t0(self) -> int:
        """T0, the format byte: Y1 in the high nibble, K in the low one."""
        return self._raw[1]

    @property
    def interface_bytes(self) -> tuple[InterfaceBytes, ...]:
        """The interface bytes by level: item 0 holds TA1..TD1, item 1 TA2..TD2, ...

        There is one level more than there are TDi bytes; a level may be all ``None``.
        """
        return self._levels

    @property
    def historical_bytes(self) -> builtins.bytes:
        """T1..TK, the historical bytes."""
        return self._historical.raw

    @property
    def historical(self) -> HistoricalBytes:
        """The historical bytes, decoded (see :func:`decode_historical_bytes`)."""
        return self._historical

    @property
    def storage_card(self) -> StorageCard | None:
        """The PC/SC part 3 storage-card fields, when the ATR is one."""
        return self._historical.storage_card

    @property
    def tck(self) -> int | None:
        """TCK, the check byte, or ``None`` when absent."""
        return self._tck

    @property
    def tck_expected(self) -> bool:
        """Whether ISO 7816-3 requires TCK: some TDi indicates a protocol other than T=0."""
        return any(level.td is not None and level.td & 0x0F for level in self._levels)

    @property
    def checksum_ok(self) -> bool | None:
        """Whether TCK is right: ``None`` when TCK is neither present nor required.

        ``False`` when TCK is wrong, or required but missing.
        """
        return self._checksum_ok

    @property
    def problems(self) -> tuple[str, ...]:
        """What is wrong with this ATR without making it unreadable (TCK faults).

        ``ATR(..., strict=True)`` raises ``ValueError`` instead of recording them.
        """
        return self._problems

    # -- what the interface bytes say -------------------------------------------------

    def _protocol_numbers(self) -> list[int]:
        return [level.td & 0x0F for level in self._levels if level.td is not None]

    @property
    def protocols(self) -> tuple[int, ...]:
        """The transmission protocols offered, sorted, e.g. ``(0, 1)``.

        T=0 when no TD1 is present.  T=15 is left out: it is not a protocol,
        only the qualifier of global interface bytes (see :meth:`isT15Supported`).
        """
        offered = sorted({t for t in self._protocol_numbers() if t != 15})
        return tuple(offered) if offered else (0,)

    def _level_ta1(self) -> int | None:
        return self._levels[0].ta

    @property
    def fi(self) -> int | None:
        """FI, the high nibble of TA1, or ``None`` without TA1."""
        ta1 = self._level_ta1()
        return None if ta1 is None else ta1 >> 4

    @property
    def di(self) -> int | None:
        """DI, the low nibble of TA1, or ``None`` without TA1."""
        ta1 = self._level_ta1()
        return None if ta1 is None else ta1 & 0x0F

    @property
    def clock_rate_conversion(self) -> int | None:
        """Fi, the clock rate conversion integer: 372 without TA1, ``None`` if FI is RFU."""
        return _DEFAULT_FI if self.fi is None else _FI_TABLE[self.fi]

    @property
    def bit_rate_adjustment(self) -> int | None:
        """Di, the baud rate adjustment integer: 1 without TA1, ``None`` if DI is RFU."""
        return _DEFAULT_DI if self.di is None else _DI_TABLE[self.di]

    @property
    def max_clock_mhz(self) -> float | None:
        """f(max) in MHz from FI: 5 without TA1, ``None`` if FI is RFU."""
        return _DEFAULT_FMAX if self.fi is None else _FMAX_TABLE[self.fi]

    @property
    def extra_guard_time(self) -> int:
        """N from TC1 (0 without TC1); 255 means the minimum guard time."""
        tc1 = self._levels[0].tc
        return 0 if tc1 is None else tc1

    def _first_specific(self, protocol: int) -> InterfaceBytes | None:
        """The first level qualified by ``protocol`` (a level i > 2 after a TD(i-1) of T)."""
        for position in range(2, len(self._levels)):
            td = self._levels[position - 1].td
            if td is not None and td & 0x0F == protocol:
                return self._levels[position]
        return None

    @property
    def ifsc(self) -> int:
        """T=1 IFSC, the card's information field size: the first TAi for T=1, else 32."""
        group = self._first_specific(1)
        return 32 if group is None or group.ta is None else group.ta

    @property
    def supported_classes(self) -> tuple[str, ...]:
        """Operating conditions from the first TAi for T=15 (A 5 V, B 3 V, C 1.8 V).

        Empty when the ATR does not say; the card then supports class A only.
        """
        group = self._first_specific(15)
        if group is None or group.ta is None:
            return ()
        return tuple(name for bit, name in ((1, "A"), (2, "B"), (4, "C")) if group.ta & bit)

    # -- explanation ------------------------------------------------------------------

    def _describe_byte(self, letter: str, level: int, value: int) -> str:
        """Explain one interface byte, knowing which protocol qualifies its level."""
        if level == 1:
            return _describe_global_first(letter, value)
        if level == 2 and letter in "AB":
            return _describe_global_second(letter, value)
        if level == 2 and letter == "C":
            return f"T=0 waiting time integer WI = {value}"
        qualifier = self._levels[level - 2].td
        protocol = None if qualifier is None else qualifier & 0x0F
        first = self._first_specific(protocol) if protocol is not None else None
        is_first = first is self._levels[level - 1]
        if protocol == 1 and is_first:
            return _describe_t1(letter, value)
        if protocol == 15 and is_first:
            return _describe_t15(letter, value)
        return f"specific to T={protocol}"

    def explain(self) -> str:
        """Return a multi-line explanation of every part of the ATR, as the CLI prints it."""
        t0 = self.t0
        lines = [
            f"ATR: {to_hex(self._raw)}",
            f"TS  = {self.ts:02X}  {self.convention} convention",
            f"T0  = {t0:02X}  Y1 = {t0 >> 4:X}: "
            f"{_announced(t0 >> 4, 1)}; K = {t0 & 0x0F} historical bytes",
        ]
        for index, group in enumerate(self._levels):
            level = index + 1
            for letter, value in zip("ABC", group[:3], strict=True):
                if value is not None:
                    label = f"{_byte_name(letter, level)} = {value:02X}"
                    lines.append(f"{label:<10}{self._describe_byte(letter, level, value)}")
            if group.td is not None:
                y = group.td >> 4
                label = f"{_byte_name('D', level)} = {group.td:02X}"
                lines.append(
                    f"{label:<10}Y{level + 1} = {y:X}: {_announced(y, level + 1)}; "
                    f"protocol T={group.td & 0x0F}"
                )
        if self.historical_bytes:
            count = len(self.historical_bytes)
            lines.append(f"historical bytes ({count}): {to_hex(self.historical_bytes)}")
            lines += [f"  {line}" for line in self._historical.describe()]
        else:
            lines.append("historical bytes: none")
        if self._tck is None:
            lines.append("TCK: absent" + (" (required!)" if self.tck_expected else ""))
        else:
            verdict = "correct" if self.checksum_ok else "WRONG"
            lines.append(f"TCK = {self._tck:02X}  {verdict}")
        lines.append("protocols: " + ", ".join(f"T={t}" for t in self.protocols))
        fi, di = self.clock_rate_conversion, self.bit_rate_adjustment
        if fi is not None and di is not None:
            lines.append(f"Fi/Di = {fi}/{di} = {fi / di:g} clock cycles per ETU")
        lines += [f"problem: {problem}" for problem in self._problems]
        return "\n".join(lines)

    def identify(self, source: str | os.PathLike[str] | None = None) -> list[KnownCard]:
        """Name the card: the entries of pcsc-tools' ``smartcard_list.txt`` matching this
        ATR, in file order (empty when the list does not know it).

        ``source`` names the list file; without it ``$AIOSCARD_SMARTCARD_LIST``,
        then pcsc-tools' own locations are used (see :mod:`aioscard.identify`).
        Reads the file (blocking; cached per file).

        Raises:
            SmartcardListNotFoundError: no list; the message says how to get one.
            SmartcardListError: the file cannot be read.
        """
        from .identify import load_smartcard_list

        return load_smartcard_list(source).identify(self._raw)

    def dump(self, file: TextIO | None = None) -> None:
        """Print :meth:`explain` to ``file`` (standard output by default)."""
        print(self.explain(), file=sys.stdout if file is None else file)

    def __str__(self) -> str:
        return to_hex(self._raw)

    def __repr__(self) -> str:
        return f"ATR({to_hex(self._raw)!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ATR):
            return NotImplemented
        return self._raw == other._raw

    def __hash__(self) -> int:
        return hash(self._raw)

    # -- pyscard's smartcard.ATR.ATR interface ---------------------------------------

    @property
    def atr(self) -> list[int]:
        """The ATR as a list of ints (pyscard)."""
        return list(self._raw)

    @property
    def TS(self) -> int:
        """TS (pyscard)."""
        return self.ts

    @property
    def T0(self) -> int:
        """T0 (pyscard)."""
        return self.t0

    @property
    def K(self) -> int:
        """K, the number of historical bytes (pyscard)."""
        return self.t0 & 0x0F

    @property
    def TA(self) -> list[int | None]:
        """TA1, TA2, ... by level, ``None`` where absent (pyscard; index 0 is TA1)."""
        return [level.ta for level in self._levels]

    @property
    def TB(self) -> list[int | None]:
        """TB1, TB2, ... by level (pyscard)."""
        return [level.tb for level in self._levels]

    @property
    def TC(self) -> list[int | None]:
        """TC1, TC2, ... by level (pyscard)."""
        return [level.tc for level in self._levels]

    @property
    def TD(self) -> list[int | None]:
        """TD1, TD2, ... by level (pyscard); the last is always ``None``."""
        return [level.td for level in self._levels]

    @property
    def Y(self) -> list[int]:
        """Y1, Y2, ...: the presence nibble announcing each level (pyscard)."""
        return [self.t0 >> 4] + [level.td >> 4 for level in self._levels if level.td is not None]

    @property
    def hasTA(self) -> list[bool]:
        """Whether each level has a TA byte (pyscard)."""
        return [level.ta is not None for level in self._levels]

    @property
    def hasTB(self) -> list[bool]:
        """Whether each level has a TB byte (pyscard)."""
        return [level.tb is not None for level in self._levels]

    @property
    def hasTC(self) -> list[bool]:
        """Whether each level has a TC byte (pyscard)."""
        return [level.tc is not None for level in self._levels]

    @property
    def hasTD(self) -> list[bool]:
        """Whether each level has a TD byte (pyscard)."""
        return [level.td is not None for level in self._levels]

    @property
    def historicalBytes(self) -> list[int]:
        """The historical bytes as a list of ints (pyscard)."""
        return list(self.historical_bytes)

    @property
    def hasChecksum(self) -> bool:
        """Whether TCK is present (pyscard)."""
        return self._tck is not None

    @property
    def TCK(self) -> int | None:
        """TCK or ``None`` (pyscard)."""
        return self._tck

    @property
    def checksumOK(self) -> bool | None:
        """Same as :attr:`checksum_ok` (pyscard)."""
        return self.checksum_ok

    @property
    def FI(self) -> int | None:
        """FI from TA1, or ``None`` (pyscard)."""
        return self.fi

    @property
    def DI(self) -> int | None:
        """DI from TA1, or ``None`` (pyscard)."""
        return self.di

    @property
    def II(self) -> int | None:
        """II (bits 7-6 of TB1), or ``None`` without TB1 (pyscard)."""
        tb1 = self._levels[0].tb
        return None if tb1 is None else (tb1 >> 5) & 0x03

    @property
    def PI1(self) -> int | None:
        """PI1 (bits 5-1 of TB1), or ``None`` without TB1 (pyscard)."""
        tb1 = self._levels[0].tb
        return None if tb1 is None else tb1 & 0x1F

    @property
    def N(self) -> int | None:
        """N from TC1, or ``None`` without TC1 (pyscard)."""
        return self._levels[0].tc

    @property
    def interfaceBytesCount(self) -> int:
        """How many interface bytes (TAi/TBi/TCi/TDi) the ATR has (pyscard)."""
        return sum(value is not None for level in self._levels for value in level)

    def getChecksum(self) -> int | None:
        """Return TCK, or ``None`` when absent."""
        return self._tck

    def getHistoricalBytes(self) -> list[int]:
        """Return the historical bytes as a list of ints."""
        return self.historicalBytes

    def getHistoricalBytesCount(self) -> int:
        """Return the number of historical bytes."""
        return len(self.historical_bytes)

    def getInterfaceBytesCount(self) -> int:
        """Return the number of interface bytes."""
        return self.interfaceBytesCount

    def getTA1(self) -> int | None:
        """Return TA1, or ``None``."""
        return self._levels[0].ta

    def getTB1(self) -> int | None:
        """Return TB1, or ``None``."""
        return self._levels[0].tb

    def getTC1(self) -> int | None:
        """Return TC1, or ``None``."""
        return self._levels[0].tc

    def getTD1(self) -> int | None:
        """Return TD1, or ``None``."""
        return self._levels[0].td

    def getBitRateFactor(self) -> int | str:
        """Return Di (1 without TA1; ``"RFU"`` for a reserved DI), as pyscard does."""
        return 1 if self.di is None else self.bitratefactor[self.di]

    def getClockRateConversion(self) -> int | str:
        """Return Fi (372 without TA1; ``"RFU"`` for a reserved FI), as pyscard does."""
        return 372 if self.fi is None else self.clockrateconversion[self.fi]

    def getProgrammingCurrent(self) -> int | str:
        """Return the maximum programming current in mA from II (50 without TB1)."""
        return 50 if self.II is None else self.currenttable[self.II]

    def getProgrammingVoltage(self) -> int:
        """Return the programming voltage in volts from PI1 (5 without TB1).

        ISO/IEC 7816-3:1997 gives PI1 in volts directly (0: Vpp not connected);
        pyscard computed ``5 * (1 + PI1)``, which this does not repeat.
        """
        return 5 if self.PI1 is None else self.PI1

    def getGuardTime(self) -> int | None:
        """Return N, the extra guard time from TC1, or ``None`` without TC1."""
        return self.N

    def getSupportedProtocols(self) -> dict[str, bool]:
        """Return ``{"T=0": True, ...}`` for each protocol a TDi names, T=15 included.

        ``{"T=0": True}`` when there is no TD1, as in pyscard.
        """
        protocols = {f"T={t}": True for t in self._protocol_numbers()}
        if self._levels[0].td is None:
            protocols["T=0"] = True
        return protocols

    def isT0Supported(self) -> bool:
        """Whether T=0 is offered."""
        return "T=0" in self.getSupportedProtocols()

    def isT1Supported(self) -> bool:
        """Whether T=1 is offered."""
        return "T=1" in self.getSupportedProtocols()

    def isT15Supported(self) -> bool:
        """Whether some TDi names T=15 (global interface bytes follow)."""
        return "T=15" in self.getSupportedProtocols()


#: What :class:`ATR` accepts: bytes in any form, hex text such as ``"3B 65 00"``, an ATR.
ATRInput: TypeAlias = ByteInput | str | ATR


def _announced(y: int, level: int) -> str:
    present = [
        _byte_name(letter, level)
        for bit, letter in zip((1, 2, 4, 8), "ABCD", strict=True)
        if y & bit
    ]
    return " ".join(present) + " present" if present else "no interface bytes follow"


def _rfu(value: float | None) -> str:
    return "RFU" if value is None else f"{value:g}"


def _describe_global_first(letter: str, value: int) -> str:
    if letter == "A":
        fi, di = value >> 4, value & 0x0F
        return (
            f"FI = {fi:X}, DI = {di:X}: Fi = {_rfu(_FI_TABLE[fi])}, "
            f"Di = {_rfu(_DI_TABLE[di])}, f(max) = {_rfu(_FMAX_TABLE[fi])} MHz"
        )
    if letter == "B":
        if value == 0:
            return "VPP not connected"
        current = _II_TABLE[(value >> 5) & 0x03]
        return (
            f"programming voltage PI1 = {value & 0x1F} V, "
            f"maximum current = {'RFU' if current is None else f'{current} mA'} (deprecated)"
        )
    if value == 255:
        return "extra guard time N = 255: minimum guard time (12 ETU for T=0, 11 for T=1)"
    return f"extra guard time N = {value} ETU"


def _describe_global_second(letter: str, value: int) -> str:
    if letter == "A":
        change = "cannot change mode" if value & 0x80 else "can change to negotiable mode"
        params = "implicit parameters" if value & 0x10 else "parameters from TA1"
        return f"specific mode, protocol T={value & 0x0F}; {change}; {params}"
    return f"programming voltage PI2 = {value / 10:g} V (deprecated)"


def _describe_t1(letter: str, value: int) -> str:
    if letter == "A":
        return f"T=1 IFSC = {value} bytes"
    if letter == "B":
        return f"T=1 BWI = {value >> 4}, CWI = {value & 0x0F}"
    return "T=1 error detection code: " + ("CRC" if value & 0x01 else "LRC")


def _describe_t15(letter: str, value: int) -> str:
    if letter == "A":
        clock = ("not supported", "state L", "state H", "no preference")[value >> 6]
        classes = ", ".join(name for bit, name in ((1, "A"), (2, "B"), (4, "C")) if value & bit)
        return f"clock stop: {clock}; classes: {classes or 'none indicated'}"
    if letter == "B":
        if value == 0:
            return "SPU (C6) not used"
        return "SPU (C6) " + ("proprietary use" if value & 0x80 else "standard use")
    return "global, reserved"
