"""PC/SC Part 10: reader features, pinpad PIN structures and reader properties, as plain data.

Nothing here talks to a reader.  A reader announces what it can do in the answer
to ``CM_IOCTL_GET_FEATURE_REQUEST`` (a list of feature tags with the control
code that reaches each); :func:`parse_features` reads that answer.
:func:`parse_pin_properties` and :func:`parse_tlv_properties` read the answers
to ``FEATURE_IFD_PIN_PROPERTIES`` and ``FEATURE_GET_TLV_PROPERTIES``.
:class:`PinVerifyStructure` and :class:`PinModifyStructure` are the
PIN_VERIFY_STRUCTURE and PIN_MODIFY_STRUCTURE sent with
``FEATURE_VERIFY_PIN_DIRECT`` and ``FEATURE_MODIFY_PIN_DIRECT``: built from
typed, validated fields, encoded with ``to_bytes()``, decoded with
``from_bytes()``; ``apdu_with_pin()`` shows what a pinpad sends to the card
once the user has typed a PIN (the simulator's pinpad uses it).

Byte order follows the specification and the CCID readers that implement it:
a feature entry's control code is big-endian; the 16- and 32-bit fields of the
PIN structures and of the TLV properties are little-endian.

Malformed bytes raise :class:`~aioscard.exceptions.MalformedAnswerException`
(also a ``ValueError``), never ``IndexError``; out-of-range field values raise
``TypeError``/``ValueError`` naming the field.  The async methods that use this
module are on :class:`~aioscard.connection.CardConnection`
(``features()``, ``pin_properties()``, ``tlv_properties()``,
``verify_pin_pinpad()``, ``modify_pin_pinpad()``).
"""

from __future__ import annotations

import dataclasses
import struct
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from enum import IntEnum
from types import MappingProxyType

from ._bytes import ByteInput, as_bytes
from .apdu import format_apdu
from .exceptions import FeatureNotSupportedException, MalformedAnswerException
from .native import constants as _C

__all__ = [
    "CM_IOCTL_GET_FEATURE_REQUEST",
    "FEATURE_ABORT",
    "FEATURE_CCID_ESC_COMMAND",
    "FEATURE_EXECUTE_PACE",
    "FEATURE_GET_KEY",
    "FEATURE_GET_KEY_PRESSED",
    "FEATURE_GET_TLV_PROPERTIES",
    "FEATURE_IFD_DISPLAY_PROPERTIES",
    "FEATURE_IFD_PIN_PROPERTIES",
    "FEATURE_MCT_READER_DIRECT",
    "FEATURE_MCT_UNIVERSAL",
    "FEATURE_MODIFY_PIN_DIRECT",
    "FEATURE_MODIFY_PIN_DIRECT_APP_ID",
    "FEATURE_MODIFY_PIN_FINISH",
    "FEATURE_MODIFY_PIN_START",
    "FEATURE_SET_SPE_MESSAGE",
    "FEATURE_VERIFY_PIN_DIRECT",
    "FEATURE_VERIFY_PIN_DIRECT_APP_ID",
    "FEATURE_VERIFY_PIN_FINISH",
    "FEATURE_VERIFY_PIN_START",
    "FEATURE_WRITE_DISPLAY",
    "SCARD_CTL_CODE",
    "EntryValidation",
    "Feature",
    "PinFormat",
    "PinModifyStructure",
    "PinProperties",
    "PinVerifyStructure",
    "Property",
    "TlvProperties",
    "encode_features",
    "encode_tlv_properties",
    "feature_name",
    "iter_tlv",
    "parse_features",
    "parse_pin_properties",
    "parse_tlv_properties",
    "require_feature",
]

SCARD_CTL_CODE = _C.SCARD_CTL_CODE
#: The control code that asks a reader for its Part 10 features (SCARD_CTL_CODE(3400)).
CM_IOCTL_GET_FEATURE_REQUEST = _C.CM_IOCTL_GET_FEATURE_REQUEST


class Feature(IntEnum):
    """The feature tags of PC/SC Part 10 (v2.02) and its amendment 1 (PACE)."""

    VERIFY_PIN_START = 0x01
    VERIFY_PIN_FINISH = 0x02
    MODIFY_PIN_START = 0x03
    MODIFY_PIN_FINISH = 0x04
    GET_KEY_PRESSED = 0x05
    VERIFY_PIN_DIRECT = 0x06
    MODIFY_PIN_DIRECT = 0x07
    MCT_READER_DIRECT = 0x08
    MCT_UNIVERSAL = 0x09
    IFD_PIN_PROPERTIES = 0x0A
    ABORT = 0x0B
    SET_SPE_MESSAGE = 0x0C
    VERIFY_PIN_DIRECT_APP_ID = 0x0D
    MODIFY_PIN_DIRECT_APP_ID = 0x0E
    WRITE_DISPLAY = 0x0F
    GET_KEY = 0x10
    IFD_DISPLAY_PROPERTIES = 0x11
    GET_TLV_PROPERTIES = 0x12
    CCID_ESC_COMMAND = 0x13
    EXECUTE_PACE = 0x20


FEATURE_VERIFY_PIN_START = Feature.VERIFY_PIN_START
FEATURE_VERIFY_PIN_FINISH = Feature.VERIFY_PIN_FINISH
FEATURE_MODIFY_PIN_START = Feature.MODIFY_PIN_START
FEATURE_MODIFY_PIN_FINISH = Feature.MODIFY_PIN_FINISH
FEATURE_GET_KEY_PRESSED = Feature.GET_KEY_PRESSED
FEATURE_VERIFY_PIN_DIRECT = Feature.VERIFY_PIN_DIRECT
FEATURE_MODIFY_PIN_DIRECT = Feature.MODIFY_PIN_DIRECT
FEATURE_MCT_READER_DIRECT = Feature.MCT_READER_DIRECT
FEATURE_MCT_UNIVERSAL = Feature.MCT_UNIVERSAL
FEATURE_IFD_PIN_PROPERTIES = Feature.IFD_PIN_PROPERTIES
FEATURE_ABORT = Feature.ABORT
FEATURE_SET_SPE_MESSAGE = Feature.SET_SPE_MESSAGE
FEATURE_VERIFY_PIN_DIRECT_APP_ID = Feature.VERIFY_PIN_DIRECT_APP_ID
FEATURE_MODIFY_PIN_DIRECT_APP_ID = Feature.MODIFY_PIN_DIRECT_APP_ID
FEATURE_WRITE_DISPLAY = Feature.WRITE_DISPLAY
FEATURE_GET_KEY = Feature.GET_KEY
FEATURE_IFD_DISPLAY_PROPERTIES = Feature.IFD_DISPLAY_PROPERTIES
FEATURE_GET_TLV_PROPERTIES = Feature.GET_TLV_PROPERTIES
FEATURE_CCID_ESC_COMMAND = Feature.CCID_ESC_COMMAND
FEATURE_EXECUTE_PACE = Feature.EXECUTE_PACE


def feature_name(tag: int) -> str:
    """``"FEATURE_VERIFY_PIN_DIRECT"`` for 6; ``"feature 0x14"`` for a tag the
    specification does not define."""
    try:
        return f"FEATURE_{Feature(tag).name}"
    except ValueError:
        return f"feature 0x{tag:02X}"


def _checked_int(value: object, name: str, low: int, high: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{name} must be an int, not {type(value).__name__}")
    if not low <= value <= high:
        raise ValueError(f"{name} must be in {low}..{high}, got {value}")
    return value


def _checked_bool(value: object, name: str) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be a bool, not {type(value).__name__}")
    return value


def _answer(data: ByteInput, name: str) -> bytes:
    # A reader's answer: control() gives list[int]; tests and the simulator give bytes.
    return as_bytes(data, name)


# -- GET_FEATURE_REQUEST ------------------------------------------------------------

_FEATURE_ENTRY = 6  # tag, length (4), control code (4 bytes, big-endian)


def parse_features(data: ByteInput) -> Mapping[int, int]:
    """The feature tag -> control code mapping in a GET_FEATURE_REQUEST answer.

    Each entry is 6 bytes: the tag, a length byte of 4, the control code
    big-endian.  Known tags become :class:`Feature` members (which compare
    equal to their ints); tags the specification does not define are kept as
    plain ints.  Should a tag appear twice, the first entry wins.  An empty
    answer (a reader without features) gives an empty mapping.

    Raises:
        MalformedAnswerException: the length is not a multiple of 6, or an
            entry's length byte is not 4 (naming the offset).
        TypeError, ValueError: ``data`` is not bytes-like.
    """
    raw = _answer(data, "data")
    if len(raw) % _FEATURE_ENTRY:
        raise MalformedAnswerException(
            f"a feature list is 6-byte entries (tag, 04, control code); got {len(raw)} bytes",
            offset=len(raw) - len(raw) % _FEATURE_ENTRY,
        )
    features: dict[int, int] = {}
    for offset in range(0, len(raw), _FEATURE_ENTRY):
        tag, length = raw[offset], raw[offset + 1]
        if length != 4:
            raise MalformedAnswerException(
                f"feature entry at offset {offset} ({feature_name(tag)}) has length {length}, "
                "expected 4",
                offset=offset + 1,
            )
        (code,) = struct.unpack_from(">I", raw, offset + 2)
        key: int = Feature(tag) if tag in _FEATURE_VALUES else tag
        features.setdefault(key, code)
    return MappingProxyType(features)


_FEATURE_VALUES = frozenset(int(member) for member in Feature)


def encode_features(features: Mapping[int, int]) -> bytes:
    """The GET_FEATURE_REQUEST answer announcing ``features`` (tag -> control code),
    as a reader sends it; :func:`parse_features` reads it back.

    Raises:
        TypeError, ValueError: a tag outside 0..255 or a code outside 0..0xFFFFFFFF.
    """
    out = bytearray()
    for tag, code in features.items():
        _checked_int(tag, "feature tag", 0, 0xFF)
        _checked_int(code, f"control code of {feature_name(tag)}", 0, 0xFFFFFFFF)
        out += struct.pack(">BBI", tag, 4, code)
    return bytes(out)


def require_feature(features: Mapping[int, int], feature: int) -> int:
    """The control code of ``feature`` in ``features``.

    Raises:
        FeatureNotSupportedException: the reader does not offer it (the message
            names the feature).
    """
    try:
        return features[feature]
    except KeyError:
        raise FeatureNotSupportedException(
            f"the reader does not offer {feature_name(feature)}", feature=feature
        ) from None


# -- FEATURE_IFD_PIN_PROPERTIES ---------------------------------------------------------


class EntryValidation(IntEnum):
    """Bits of bEntryValidationCondition: what ends PIN entry."""

    MAX_SIZE_REACHED = 0x01
    VALIDATION_KEY = 0x02
    TIMEOUT = 0x04


@dataclass(frozen=True)
class PinProperties:
    """PIN_PROPERTIES_STRUCTURE, the answer to ``FEATURE_IFD_PIN_PROPERTIES``.

    ``lcd_layout`` is wLcdLayout: 0 without a display, else lines in the high
    byte and characters per line in the low byte (``lcd_lines`` and
    ``lcd_characters`` split it).  ``entry_validation_condition`` is a mask of
    :class:`EntryValidation` bits; ``timeout2`` is the reader's bTimeOut2 in
    seconds.
    """

    lcd_layout: int
    entry_validation_condition: int
    timeout2: int

    @property
    def lcd_lines(self) -> int:
        """Lines of the display (0: none)."""
        return self.lcd_layout >> 8

    @property
    def lcd_characters(self) -> int:
        """Characters per line of the display (0: none)."""
        return self.lcd_layout & 0xFF

    def to_bytes(self) -> bytes:
        """The 4-byte structure as a reader sends it."""
        return struct.pack("<HBB", self.lcd_layout, self.entry_validation_condition, self.timeout2)

    def __post_init__(self) -> None:
        _checked_int(self.lcd_layout, "lcd_layout", 0, 0xFFFF)
        _checked_int(self.entry_validation_condition, "entry_validation_condition", 0, 0xFF)
        _checked_int(self.timeout2, "timeout2", 0, 0xFF)


def parse_pin_properties(data: ByteInput) -> PinProperties:
    """Decode PIN_PROPERTIES_STRUCTURE (4 bytes: wLcdLayout little-endian,
    bEntryValidationCondition, bTimeOut2).

    Raises:
        MalformedAnswerException: not exactly 4 bytes.
        TypeError, ValueError: ``data`` is not bytes-like.
    """
    raw = _answer(data, "data")
    if len(raw) != 4:
        raise MalformedAnswerException(
            f"PIN properties are 4 bytes, got {len(raw)}", offset=min(len(raw), 4)
        )
    layout, condition, timeout2 = struct.unpack("<HBB", raw)
    return PinProperties(layout, condition, timeout2)


# -- FEATURE_GET_TLV_PROPERTIES ------------------------------------------------------------


class Property(IntEnum):
    """The tags of the TLV properties (PC/SC Part 10 v2.02, section 2.6.14)."""

    wLcdLayout = 1
    bEntryValidationCondition = 2
    bTimeOut2 = 3
    wLcdMaxCharacters = 4
    wLcdMaxLines = 5
    bMinPINSize = 6
    bMaxPINSize = 7
    sFirmwareID = 8
    bPPDUSupport = 9
    dwMaxAPDUDataSize = 10
    wIdVendor = 11
    wIdProduct = 12


# Tag -> (field of TlvProperties, fixed value length; 0 = a string of any length).
_PROPERTY_FIELDS: Mapping[int, tuple[str, int]] = MappingProxyType(
    {
        Property.wLcdLayout: ("lcd_layout", 2),
        Property.bEntryValidationCondition: ("entry_validation_condition", 1),
        Property.bTimeOut2: ("timeout2", 1),
        Property.wLcdMaxCharacters: ("lcd_max_characters", 2),
        Property.wLcdMaxLines: ("lcd_max_lines", 2),
        Property.bMinPINSize: ("min_pin_size", 1),
        Property.bMaxPINSize: ("max_pin_size", 1),
        Property.sFirmwareID: ("firmware_id", 0),
        Property.bPPDUSupport: ("ppdu_support", 1),
        Property.dwMaxAPDUDataSize: ("max_apdu_data_size", 4),
        Property.wIdVendor: ("vendor_id", 2),
        Property.wIdProduct: ("product_id", 2),
    }
)


@dataclass(frozen=True)
class TlvProperties:
    """The answer to ``FEATURE_GET_TLV_PROPERTIES``: what the reader says about itself.

    Every field is ``None`` when the reader did not send that property.
    ``firmware_id`` is text (bytes decoded one to one, trailing NULs removed).
    ``ppdu_support`` is a mask: bit 0, pseudo-APDUs through
    ``FEATURE_CCID_ESC_COMMAND``; bit 1, through SCardTransmit.  Tags the
    specification does not define are kept, value bytes as sent, in
    ``unknown``; ``raw`` is the whole answer.
    """

    lcd_layout: int | None = None
    entry_validation_condition: int | None = None
    timeout2: int | None = None
    lcd_max_characters: int | None = None
    lcd_max_lines: int | None = None
    min_pin_size: int | None = None
    max_pin_size: int | None = None
    firmware_id: str | None = None
    ppdu_support: int | None = None
    max_apdu_data_size: int | None = None
    vendor_id: int | None = None
    product_id: int | None = None
    unknown: Mapping[int, bytes] = field(default_factory=lambda: MappingProxyType({}))
    raw: bytes = b""

    def as_dict(self) -> dict[str, object]:
        """The properties the reader sent, by field name (JSON-ready: unknown
        tags as ``"0xNN"`` -> hex text); ``raw`` left out."""
        out: dict[str, object] = {}
        for name, _length in _PROPERTY_FIELDS.values():
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        if self.unknown:
            out["unknown"] = {f"0x{tag:02X}": value.hex() for tag, value in self.unknown.items()}
        return out


def iter_tlv(data: ByteInput) -> Iterator[tuple[int, int, bytes]]:
    """``(offset, tag, value)`` for each entry of a TLV properties answer (1-byte tag,
    1-byte length, value), in order.

    Raises:
        MalformedAnswerException: an entry runs past the end (naming the offset).
        TypeError, ValueError: ``data`` is not bytes-like.
    """
    raw = _answer(data, "data")
    offset = 0
    while offset < len(raw):
        if offset + 2 > len(raw):
            raise MalformedAnswerException(
                f"TLV properties truncated: a tag at offset {offset} without a length byte",
                offset=offset,
            )
        tag, length = raw[offset], raw[offset + 1]
        value = raw[offset + 2 : offset + 2 + length]
        if len(value) != length:
            raise MalformedAnswerException(
                f"TLV properties truncated: tag 0x{tag:02X} at offset {offset} announces "
                f"{length} bytes, {len(value)} follow",
                offset=offset,
            )
        yield offset, tag, value
        offset += 2 + length


def parse_tlv_properties(data: ByteInput) -> TlvProperties:
    """Decode a GET_TLV_PROPERTIES answer: entries of tag, length, value
    (integers little-endian).

    Tags the specification does not define are kept in ``unknown``.  When a
    tag repeats, the last value wins.

    Raises:
        MalformedAnswerException: an entry runs past the end (truncated), or a
            known property has the wrong length (naming the tag and offset).
        TypeError, ValueError: ``data`` is not bytes-like.
    """
    raw = _answer(data, "data")
    values: dict[str, object] = {}
    unknown: dict[int, bytes] = {}
    for offset, tag, value in iter_tlv(raw):
        known = _PROPERTY_FIELDS.get(tag)
        if known is None:
            unknown[tag] = value
            continue
        name, expected = known
        if expected == 0:
            values[name] = value.decode("latin-1").rstrip("\0")
        elif len(value) != expected:
            raise MalformedAnswerException(
                f"TLV property {Property(tag).name} at offset {offset} has length "
                f"{len(value)}, expected {expected}",
                offset=offset + 1,
            )
        else:
            values[name] = int.from_bytes(value, "little")
    return TlvProperties(**values, unknown=MappingProxyType(unknown), raw=raw)  # type: ignore[arg-type]


def encode_tlv_properties(properties: TlvProperties) -> bytes:
    """The GET_TLV_PROPERTIES answer carrying ``properties`` (the fields that are
    not ``None``, then the unknown tags), as a reader sends it.

    Raises:
        TypeError, ValueError: a value that does not fit its property's length.
    """
    out = bytearray()
    for tag, (name, length) in _PROPERTY_FIELDS.items():
        value = getattr(properties, name)
        if value is None:
            continue
        if length == 0:
            if not isinstance(value, str):
                raise TypeError(f"{name} must be a str, not {type(value).__name__}")
            encoded = value.encode("latin-1")
            if len(encoded) > 0xFF:
                raise ValueError(f"{name} is longer than 255 bytes")
        else:
            _checked_int(value, name, 0, (1 << (8 * length)) - 1)
            encoded = value.to_bytes(length, "little")
        out += bytes((tag, len(encoded))) + encoded
    for tag, value in properties.unknown.items():
        _checked_int(tag, "unknown property tag", 0, 0xFF)
        if len(value) > 0xFF:
            raise ValueError(f"unknown property 0x{tag:02X} is longer than 255 bytes")
        out += bytes((tag, len(value))) + bytes(value)
    return bytes(out)


# -- PIN_VERIFY_STRUCTURE / PIN_MODIFY_STRUCTURE ---------------------------------------


class PinFormat(IntEnum):
    """How the reader writes each PIN digit into the APDU (bmFormatString bits 1-0)."""

    BINARY = 0  # one byte per digit, 0x00..0x09
    BCD = 1  # two digits per byte
    ASCII = 2  # one byte per digit, "0".."9"


_VERIFY_HEADER = struct.Struct("<BBBBBHBBHB3sI")  # 19 bytes, then abData
_MODIFY_HEADER = struct.Struct("<BBBBBBBHBBBHBBB3sI")  # 24 bytes, then abData
_MAX_APDU = 4 + 3 + 65535 + 2
_DIGITS = frozenset(b"0123456789")


def _pin_digits(pin: object, name: str, low: int, high: int) -> bytes:
    """A typed PIN as ASCII digits, checked against the structure's size limits."""
    if isinstance(pin, str):
        if not pin.isascii():
            raise ValueError(f"{name} must be decimal digits")
        digits = pin.encode("ascii")
    elif isinstance(pin, (bytes, bytearray)):
        digits = bytes(pin)
    else:
        raise TypeError(f"{name} must be a str of digits, not {type(pin).__name__}")
    if not set(digits) <= _DIGITS:
        raise ValueError(f"{name} must be decimal digits")
    if not low <= len(digits) <= high:
        raise ValueError(f"{name} must have {low}..{high} digits, got {len(digits)}")
    return digits


@dataclass(frozen=True, repr=False)
class _PinEntry:
    """Fields the verify and modify structures share (see their docstrings)."""

    apdu: bytes
    pin_format: PinFormat = PinFormat.ASCII
    pin_position: int = 0
    right_justify: bool = False
    position_in_bytes: bool = True
    pin_block_size: int = 8
    pin_length_size: int = 0
    pin_length_position: int = 0
    length_position_in_bytes: bool = False
    min_pin_size: int = 4
    max_pin_size: int = 8
    entry_validation: int = EntryValidation.VALIDATION_KEY
    timeout: int = 0
    timeout2: int = 0
    number_message: int = 1
    lang_id: int = 0x0409
    teo_prologue: bytes = b"\0\0\0"

    def __post_init__(self) -> None:
        given: object = self.apdu
        if isinstance(given, str):
            raise TypeError("apdu must be bytes-like, not str (use bytes.fromhex for hex text)")
        apdu = as_bytes(given, "apdu")
        if not 5 <= len(apdu) <= _MAX_APDU:
            raise ValueError(
                f"apdu must be a command template with a data field (5..{_MAX_APDU} bytes: "
                f"header, Lc, the PIN block), got {len(apdu)} bytes"
            )
        object.__setattr__(self, "apdu", apdu)
        pin_format: object = self.pin_format
        if not isinstance(pin_format, int) or isinstance(pin_format, bool):
            raise TypeError(f"pin_format must be a PinFormat, not {type(pin_format).__name__}")
        if pin_format not in (0, 1, 2):
            raise ValueError(f"pin_format must be PinFormat.BINARY, BCD or ASCII, got {pin_format}")
        object.__setattr__(self, "pin_format", PinFormat(self.pin_format))
        _checked_int(self.pin_position, "pin_position", 0, 15)
        _checked_bool(self.right_justify, "right_justify")
        _checked_bool(self.position_in_bytes, "position_in_bytes")
        _checked_int(self.pin_block_size, "pin_block_size", 0, 15)
        _checked_int(self.pin_length_size, "pin_length_size", 0, 15)
        _checked_int(self.pin_length_position, "pin_length_position", 0, 15)
        _checked_bool(self.length_position_in_bytes, "length_position_in_bytes")
        _checked_int(self.min_pin_size, "min_pin_size", 0, 0xFF)
        _checked_int(self.max_pin_size, "max_pin_size", 0, 0xFF)
        if self.min_pin_size > self.max_pin_size:
            raise ValueError(
                f"min_pin_size ({self.min_pin_size}) must not exceed max_pin_size "
                f"({self.max_pin_size})"
            )
        _checked_int(self.entry_validation, "entry_validation", 1, 7)
        _checked_int(self.timeout, "timeout", 0, 0xFF)
        _checked_int(self.timeout2, "timeout2", 0, 0xFF)
        number = _checked_int(self.number_message, "number_message", 0, 0xFF)
        if number not in (0, 1, 2, 3, 0xFF):
            raise ValueError(f"number_message must be 0, 1, 2, 3 or 0xFF, got {number}")
        _checked_int(self.lang_id, "lang_id", 0, 0xFFFF)
        prologue: object = self.teo_prologue
        if isinstance(prologue, str):
            raise TypeError("teo_prologue must be 3 bytes, not a str")
        prologue = as_bytes(prologue, "teo_prologue")
        if len(prologue) != 3:
            raise ValueError(f"teo_prologue must be 3 bytes, got {len(prologue)}")
        object.__setattr__(self, "teo_prologue", prologue)

    # The bit fields as the structure carries them.
    @property
    def bmFormatString(self) -> int:
        """bit 7 units (1: bytes), bits 6-3 PIN position, bit 2 right justify, bits 1-0 format."""
        return (
            (0x80 if self.position_in_bytes else 0)
            | self.pin_position << 3
            | (0x04 if self.right_justify else 0)
            | int(self.pin_format)
        )

    @property
    def bmPINBlockString(self) -> int:
        """bits 7-4 PIN length field size in bits, bits 3-0 PIN block size in bytes."""
        return self.pin_length_size << 4 | self.pin_block_size

    @property
    def bmPINLengthFormat(self) -> int:
        """bit 4 units (1: bytes), bits 3-0 PIN length field position."""
        return (0x10 if self.length_position_in_bytes else 0) | self.pin_length_position

    @property
    def wPINMaxExtraDigit(self) -> int:
        """Minimum PIN size in the high byte, maximum in the low byte."""
        return self.min_pin_size << 8 | self.max_pin_size

    def _check_fits(self, offsets: tuple[int, ...]) -> None:
        # Every PIN block and length field must lie inside the template's data field.
        data_bits = (len(self.apdu) - 5) * 8
        for extra in offsets:
            start = self._bit_offset(self.pin_position, self.position_in_bytes) + extra * 8
            if start + self.pin_block_size * 8 > data_bits:
                raise ValueError(
                    f"apdu's data field ({data_bits // 8} bytes) is too short for a "
                    f"{self.pin_block_size}-byte PIN block at byte {start / 8:g}"
                )
            if self.pin_length_size:
                at = self._bit_offset(self.pin_length_position, self.length_position_in_bytes)
                if at + extra * 8 + self.pin_length_size > data_bits:
                    raise ValueError(
                        f"apdu's data field ({data_bits // 8} bytes) is too short for the "
                        f"PIN length field at bit {at + extra * 8}"
                    )
        if self.pin_format is PinFormat.BCD:
            capacity = self.pin_block_size * 2
        else:
            capacity = self.pin_block_size
        if self.max_pin_size > capacity and self.pin_block_size:
            raise ValueError(
                f"max_pin_size ({self.max_pin_size}) does not fit a {self.pin_block_size}-byte "
                f"{self.pin_format.name} PIN block"
            )

    @staticmethod
    def _bit_offset(position: int, in_bytes: bool) -> int:
        return position * 8 if in_bytes else position

    def _insert(self, data: bytearray, digits: bytes, extra: int) -> None:
        """Write ``digits`` into the template data as this structure says."""
        if self.pin_format is PinFormat.BCD:
            width, values = 4, [d - 0x30 for d in digits]
        elif self.pin_format is PinFormat.ASCII:
            width, values = 8, list(digits)
        else:
            width, values = 8, [d - 0x30 for d in digits]
        block_start = self._bit_offset(self.pin_position, self.position_in_bytes) + extra * 8
        block_bits = self.pin_block_size * 8 or width * len(values)
        used = width * len(values)
        if used > block_bits:
            raise ValueError(f"a {len(digits)}-digit PIN does not fit the PIN block")
        start = block_start + (block_bits - used if self.right_justify else 0)
        if start + used > len(data) * 8:
            raise ValueError("the PIN does not fit the template's data field")
        for index, value in enumerate(values):
            _put_bits(data, start + index * width, width, value)
        if self.pin_length_size:
            at = self._bit_offset(self.pin_length_position, self.length_position_in_bytes)
            _put_bits(data, at + extra * 8, self.pin_length_size, len(digits))

    def _repr_fields(self, extra: str) -> str:
        names = [f.name for f in dataclasses.fields(self) if f.name != "apdu"]
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in names)
        return f"{type(self).__name__}(apdu={format_apdu(self.apdu)!r}, {shown}{extra})"


def _put_bits(data: bytearray, bit_offset: int, width: int, value: int) -> None:
    """Write ``value`` into ``width`` bits of ``data`` starting ``bit_offset`` bits
    from the most significant bit of ``data[0]``."""
    for bit in range(width):
        position = bit_offset + bit
        byte, shift = divmod(position, 8)
        mask = 0x80 >> shift
        if value >> (width - 1 - bit) & 1:
            data[byte] |= mask
        else:
            data[byte] &= ~mask & 0xFF


@dataclass(frozen=True, repr=False)
class PinVerifyStructure(_PinEntry):
    """PIN_VERIFY_STRUCTURE, for ``FEATURE_VERIFY_PIN_DIRECT``.

    ``apdu`` is the command template: header, Lc and a data field holding the
    PIN block with its filler bytes (e.g. ``00 20 00 81 08 FF*8``).  The
    reader writes the digits the user types into it as the fields say:

    - ``pin_format`` (:class:`PinFormat`), ``pin_position`` (0..15, in bytes
      when ``position_in_bytes`` else in bits, from the start of the data
      field), ``right_justify``;
    - ``pin_block_size``: bytes of the PIN block (0..15);
    - ``pin_length_size``: bits of a PIN length field (0: none) written at
      ``pin_length_position`` (in bytes when ``length_position_in_bytes``,
      else bits);
    - ``min_pin_size``, ``max_pin_size``: digits the user may type;
    - ``entry_validation``: :class:`EntryValidation` bits that end entry;
    - ``timeout`` (bTimerOut, 0 = the reader's default), ``timeout2`` (after
      the first key), in seconds;
    - ``number_message`` (0, 1, 2, 3 or 0xFF), ``lang_id``, ``msg_index``
      and ``teo_prologue`` (3 bytes, T=1 only) as the specification has them.

    Every field is checked on construction: ``TypeError``/``ValueError``
    naming the field.  ``repr()`` hides the template's data the way logs do.
    """

    msg_index: int = 0

    def __post_init__(self) -> None:
        super().__post_init__()
        _checked_int(self.msg_index, "msg_index", 0, 0xFF)
        self._check_fits((0,))

    def __repr__(self) -> str:
        return self._repr_fields("")

    def to_bytes(self) -> bytes:
        """PIN_VERIFY_STRUCTURE as sent with SCardControl."""
        return (
            _VERIFY_HEADER.pack(
                self.timeout,
                self.timeout2,
                self.bmFormatString,
                self.bmPINBlockString,
                self.bmPINLengthFormat,
                self.wPINMaxExtraDigit,
                self.entry_validation,
                self.number_message,
                self.lang_id,
                self.msg_index,
                self.teo_prologue,
                len(self.apdu),
            )
            + self.apdu
        )

    @classmethod
    def from_bytes(cls, data: ByteInput) -> PinVerifyStructure:
        """Decode a PIN_VERIFY_STRUCTURE (what a pinpad reader receives).

        Raises:
            MalformedAnswerException: truncated, ulDataLength disagrees with the
                bytes that follow, reserved bits set, or a field out of range.
        """
        raw = _answer(data, "data")
        fixed = _VERIFY_HEADER.size
        if len(raw) < fixed:
            raise MalformedAnswerException(
                f"PIN_VERIFY_STRUCTURE truncated: {len(raw)} bytes, the fixed part is {fixed}",
                offset=len(raw),
            )
        (timeout, timeout2, fmt, block, length_fmt, extra_digit, validation, number,
         lang, msg_index, prologue, data_length) = _VERIFY_HEADER.unpack_from(raw)  # fmt: skip
        apdu = _data_field(raw, fixed, data_length, "PIN_VERIFY_STRUCTURE")
        fields = _decode_common(fmt, block, length_fmt, extra_digit)
        try:
            return cls(
                apdu=apdu,
                timeout=timeout,
                timeout2=timeout2,
                entry_validation=validation,
                number_message=number,
                lang_id=lang,
                msg_index=msg_index,
                teo_prologue=prologue,
                **fields,  # type: ignore[arg-type]
            )
        except ValueError as error:
            raise MalformedAnswerException(f"PIN_VERIFY_STRUCTURE: {error}") from None

    def apdu_with_pin(self, pin: str | bytes) -> bytes:
        """The command a pinpad sends to the card once the user typed ``pin``
        (decimal digits): the template with the PIN formatted in.

        The result carries the PIN in clear; log it with
        :func:`~aioscard.apdu.format_apdu`, which hides it.

        Raises:
            TypeError, ValueError: ``pin`` is not digits, or its length is
                outside ``min_pin_size..max_pin_size``.
        """
        digits = _pin_digits(pin, "pin", self.min_pin_size, self.max_pin_size)
        data = bytearray(self.apdu[5:])
        self._insert(data, digits, 0)
        return self.apdu[:5] + bytes(data)


@dataclass(frozen=True, repr=False)
class PinModifyStructure(_PinEntry):
    """PIN_MODIFY_STRUCTURE, for ``FEATURE_MODIFY_PIN_DIRECT``.

    The fields of :class:`PinVerifyStructure`, and:

    - ``insertion_offset_old`` / ``insertion_offset_new``: bytes added to
      the PIN (and PIN length field) position for the current and the new
      PIN;
    - ``confirm_pin``: the user types the new PIN twice;
    - ``enter_old_pin``: the user types the current PIN first (else the
      template already holds it);
    - ``msg_index1..3``: the prompts shown.

    The template (``apdu``) is typically CHANGE REFERENCE DATA
    (``00 24 00 81 10`` and two 8-byte PIN blocks).
    """

    insertion_offset_old: int = 0
    insertion_offset_new: int = 8
    confirm_pin: bool = True
    enter_old_pin: bool = True
    msg_index1: int = 0
    msg_index2: int = 1
    msg_index3: int = 2

    def __post_init__(self) -> None:
        super().__post_init__()
        _checked_int(self.insertion_offset_old, "insertion_offset_old", 0, 0xFF)
        _checked_int(self.insertion_offset_new, "insertion_offset_new", 0, 0xFF)
        _checked_bool(self.confirm_pin, "confirm_pin")
        _checked_bool(self.enter_old_pin, "enter_old_pin")
        for name in ("msg_index1", "msg_index2", "msg_index3"):
            _checked_int(getattr(self, name), name, 0, 0xFF)
        offsets: tuple[int, ...] = (self.insertion_offset_new,)
        if self.enter_old_pin:
            offsets = (self.insertion_offset_old, self.insertion_offset_new)
        self._check_fits(offsets)

    def __repr__(self) -> str:
        return self._repr_fields("")

    @property
    def bConfirmPIN(self) -> int:
        """bit 0: confirm the new PIN; bit 1: enter the current PIN."""
        return (0x01 if self.confirm_pin else 0) | (0x02 if self.enter_old_pin else 0)

    def to_bytes(self) -> bytes:
        """PIN_MODIFY_STRUCTURE as sent with SCardControl."""
        return (
            _MODIFY_HEADER.pack(
                self.timeout,
                self.timeout2,
                self.bmFormatString,
                self.bmPINBlockString,
                self.bmPINLengthFormat,
                self.insertion_offset_old,
                self.insertion_offset_new,
                self.wPINMaxExtraDigit,
                self.bConfirmPIN,
                self.entry_validation,
                self.number_message,
                self.lang_id,
                self.msg_index1,
                self.msg_index2,
                self.msg_index3,
                self.teo_prologue,
                len(self.apdu),
            )
            + self.apdu
        )

    @classmethod
    def from_bytes(cls, data: ByteInput) -> PinModifyStructure:
        """Decode a PIN_MODIFY_STRUCTURE (what a pinpad reader receives).

        Raises:
            MalformedAnswerException: as :meth:`PinVerifyStructure.from_bytes`.
        """
        raw = _answer(data, "data")
        fixed = _MODIFY_HEADER.size
        if len(raw) < fixed:
            raise MalformedAnswerException(
                f"PIN_MODIFY_STRUCTURE truncated: {len(raw)} bytes, the fixed part is {fixed}",
                offset=len(raw),
            )
        (timeout, timeout2, fmt, block, length_fmt, offset_old, offset_new, extra_digit,
         confirm, validation, number, lang, msg1, msg2, msg3, prologue,
         data_length) = _MODIFY_HEADER.unpack_from(raw)  # fmt: skip
        apdu = _data_field(raw, fixed, data_length, "PIN_MODIFY_STRUCTURE")
        if confirm & ~0x03:
            raise MalformedAnswerException(
                f"PIN_MODIFY_STRUCTURE: bConfirmPIN 0x{confirm:02X} has reserved bits set",
                offset=9,
            )
        fields = _decode_common(fmt, block, length_fmt, extra_digit)
        try:
            return cls(
                apdu=apdu,
                timeout=timeout,
                timeout2=timeout2,
                insertion_offset_old=offset_old,
                insertion_offset_new=offset_new,
                confirm_pin=bool(confirm & 0x01),
                enter_old_pin=bool(confirm & 0x02),
                entry_validation=validation,
                number_message=number,
                lang_id=lang,
                msg_index1=msg1,
                msg_index2=msg2,
                msg_index3=msg3,
                teo_prologue=prologue,
                **fields,  # type: ignore[arg-type]
            )
        except ValueError as error:
            raise MalformedAnswerException(f"PIN_MODIFY_STRUCTURE: {error}") from None

    def apdu_with_pins(self, old_pin: str | bytes | None, new_pin: str | bytes) -> bytes:
        """The command a pinpad sends once the user typed ``old_pin`` (when
        ``enter_old_pin``; else pass ``None``) and ``new_pin``.

        Raises:
            TypeError, ValueError: a PIN that is not digits or has a length
                outside ``min_pin_size..max_pin_size``; ``old_pin`` given or
                missing against ``enter_old_pin``.
        """
        data = bytearray(self.apdu[5:])
        if self.enter_old_pin:
            if old_pin is None:
                raise ValueError("old_pin is required: the structure has the user enter it")
            old = _pin_digits(old_pin, "old_pin", self.min_pin_size, self.max_pin_size)
            self._insert(data, old, self.insertion_offset_old)
        elif old_pin is not None:
            raise ValueError("old_pin must be None: the structure does not enter it")
        new = _pin_digits(new_pin, "new_pin", self.min_pin_size, self.max_pin_size)
        self._insert(data, new, self.insertion_offset_new)
        return self.apdu[:5] + bytes(data)


def _data_field(raw: bytes, fixed: int, data_length: int, what: str) -> bytes:
    if len(raw) - fixed != data_length:
        raise MalformedAnswerException(
            f"{what}: ulDataLength says {data_length} bytes of APDU, {len(raw) - fixed} follow",
            offset=fixed - 4,
        )
    return raw[fixed:]


def _decode_common(fmt: int, block: int, length_fmt: int, extra_digit: int) -> dict[str, object]:
    if fmt & 0x03 == 0x03:
        raise MalformedAnswerException(
            f"bmFormatString 0x{fmt:02X} has the reserved PIN format 3", offset=2
        )
    if length_fmt & 0xE0:
        raise MalformedAnswerException(
            f"bmPINLengthFormat 0x{length_fmt:02X} has reserved bits set", offset=4
        )
    return {
        "position_in_bytes": bool(fmt & 0x80),
        "pin_position": fmt >> 3 & 0x0F,
        "right_justify": bool(fmt & 0x04),
        "pin_format": PinFormat(fmt & 0x03),
        "pin_length_size": block >> 4,
        "pin_block_size": block & 0x0F,
        "length_position_in_bytes": bool(length_fmt & 0x10),
        "pin_length_position": length_fmt & 0x0F,
        "min_pin_size": extra_digit >> 8,
        "max_pin_size": extra_digit & 0xFF,
    }
