"""BER-TLV, compact-TLV and data object lists (DOL), per ISO/IEC 7816-4 and EMV.

Pure functions over bytes, no I/O.  :func:`parse` reads BER-TLV data objects
into :class:`TLV` trees and :func:`build` writes them back::

    >>> fci = parse_one(bytes.fromhex("6F0A8408A0000006472F0001"))
    >>> fci.find(0x84).value.hex()
    'a0000006472f0001'
    >>> build([fci]) == bytes.fromhex("6F0A8408A0000006472F0001")
    True

A tag is an ``int`` made of its bytes read big-endian (``0x9F7F``), a length
up to 4 bytes after its ``8x`` prefix.  Parsing is **strict** by default: every
byte must belong to a well-formed object, lengths and tags use their shortest
encoding, and nothing follows the last object.  ``strict=False`` reads what
cards write in practice: ``00``/``FF`` padding before, between and after
objects (ISO/IEC 7816-4 allows it), and lengths or tags in a longer form than
needed.  Both modes raise a :class:`TLVError` subclass for truncated input, a
length or tag field too long to be meant, and nesting deeper than
``max_depth``; no input makes the parser recurse without bound.

Compact-TLV (the historical bytes of an ATR: a 4-bit tag and a 4-bit length in
one byte) has :func:`parse_compact_tlv` and :func:`build_compact_tlv`;
:mod:`aioscard.atr` decodes historical bytes with the same code.  A DOL (a list
of tags and lengths without values, such as EMV's PDOL) has :func:`parse_dol`,
:func:`build_dol`, :func:`build_dol_data` (values laid out as the DOL asks) and
:func:`parse_dol_data`.
"""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Iterator, Mapping
from typing import NamedTuple

from aioscard.apdu import ByteInput, coerce_bytes

__all__ = [
    "DEFAULT_MAX_DEPTH",
    "MAX_LENGTH",
    "MAX_TAG_BYTES",
    "TLV",
    "CompactTLV",
    "DOLEntry",
    "MalformedTLVError",
    "OverlongTLVError",
    "TLVDepthError",
    "TLVError",
    "TruncatedTLVError",
    "build",
    "build_compact_tlv",
    "build_dol",
    "build_dol_data",
    "decode_length",
    "decode_tag",
    "encode_length",
    "encode_tag",
    "is_constructed",
    "parse",
    "parse_compact_tlv",
    "parse_dol",
    "parse_dol_data",
    "parse_one",
]

#: How deep constructed objects may nest before :class:`TLVDepthError`.
DEFAULT_MAX_DEPTH = 32
#: The longest tag field accepted, in bytes (ISO/IEC 7816-4 uses up to 3).
MAX_TAG_BYTES = 4
#: The largest length a length field may state (4 bytes after ``84``).
MAX_LENGTH = 0xFFFFFFFF
# Any input this long is a mistake rather than data (coerce_bytes needs a cap).
_MAX_INPUT = 1 << 31
_PADDING = (0x00, 0xFF)


class TLVError(ValueError):
    """Input that is not valid TLV; ``offset`` is where in it the problem is.

    A ``ValueError``, so code that catches bad input generally catches this too.
    """

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(f"{message} (at offset {offset})")
        self.offset = offset


class TruncatedTLVError(TLVError):
    """The input ends inside a tag, a length or a value."""


class OverlongTLVError(TLVError):
    """A tag or length field longer than allowed, or (strict mode) longer than needed."""


class TLVDepthError(TLVError):
    """Constructed objects nest deeper than ``max_depth``."""


class MalformedTLVError(TLVError):
    """Anything else: padding or trailing bytes in strict mode, an indefinite length."""


# ---------------------------------------------------------------------------
# Tags and lengths


def _check_int(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, not {type(value).__name__}")
    return value


def _check_tag(tag: object, name: str = "tag") -> int:
    """Check that ``tag`` is the int of one well-formed BER tag field; return it."""
    value = _check_int(tag, name)
    if not 0 < value < 1 << (8 * MAX_TAG_BYTES):
        raise ValueError(
            f"{name} must be a BER-TLV tag of 1..{MAX_TAG_BYTES} bytes, got 0x{value:X}"
            if value > 0
            else f"{name} must be a positive BER-TLV tag, got {value}"
        )
    raw = value.to_bytes((value.bit_length() + 7) // 8, "big")
    if raw[0] == 0xFF:
        # ISO/IEC 7816-4 reserves a first byte FF for padding (as it does 00).
        raise ValueError(f"{name} 0x{value:X} starts with FF, which is padding, not a tag")
    multi = raw[0] & 0x1F == 0x1F
    if not multi:
        if len(raw) != 1:
            raise ValueError(
                f"{name} 0x{value:X} is not one tag: a first byte whose low 5 bits are not "
                "11111 ends the tag"
            )
        return value
    if len(raw) == 1:
        raise ValueError(f"{name} 0x{value:X} is incomplete: a first byte xx11111 needs more")
    if raw[1] == 0x80:
        raise ValueError(f"{name} 0x{value:X} is not in its shortest form")
    if any(byte & 0x80 == 0 for byte in raw[1:-1]) or raw[-1] & 0x80:
        raise ValueError(
            f"{name} 0x{value:X} is not one tag: after the first byte, every byte but the "
            "last has bit 8 set"
        )
    return value


def is_constructed(tag: int) -> bool:
    """Whether ``tag`` (an int as :func:`decode_tag` returns) is of a constructed object.

    Raises ``TypeError``/``ValueError`` when ``tag`` is not a well-formed tag.
    """
    _check_tag(tag)
    return bool(_first_byte(tag) & 0x20)


def _first_byte(tag: int) -> int:
    return tag >> (8 * ((tag.bit_length() - 1) // 8))


def encode_tag(tag: int) -> bytes:
    """The tag field of ``tag``: its bytes, big-endian (``0x9F7F`` -> ``9F 7F``).

    Raises ``TypeError``/``ValueError`` when ``tag`` is not a well-formed tag of
    1..4 bytes.
    """
    _check_tag(tag)
    return tag.to_bytes((tag.bit_length() + 7) // 8, "big")


def encode_length(length: int) -> bytes:
    """The shortest length field for ``length``: one byte below 128, else ``81`` to ``84``.

    Raises ``TypeError``/``ValueError`` for a length outside 0..0xFFFFFFFF.
    """
    _check_int(length, "length")
    if not 0 <= length <= MAX_LENGTH:
        raise ValueError(f"length must be in 0..0x{MAX_LENGTH:X}, got {length}")
    if length < 0x80:
        return bytes((length,))
    size = (length.bit_length() + 7) // 8
    return bytes((0x80 | size,)) + length.to_bytes(size, "big")


def _read_tag(data: bytes, position: int, limit: int, strict: bool) -> tuple[int, int]:
    """Read a tag at ``position`` (before ``limit``); return it and the position after it."""
    first = data[position]
    end = position + 1
    if first & 0x1F == 0x1F:
        while True:
            if end >= limit:
                raise TruncatedTLVError("the input ends inside a tag", position)
            byte = data[end]
            # (A second byte below 1F is not X.690's shortest form either, but EMV's
            # tags 9F01..9F1E use it, so only the leading-zero form counts as overlong.)
            if strict and end == position + 1 and byte == 0x80:
                raise OverlongTLVError(
                    f"tag {data[position : end + 1].hex().upper()}... is not in its shortest form",
                    position,
                )
            end += 1
            if not byte & 0x80:
                break
            if end - position >= MAX_TAG_BYTES:
                raise OverlongTLVError(f"tag longer than {MAX_TAG_BYTES} bytes", position)
    return int.from_bytes(data[position:end], "big"), end


def _read_length(data: bytes, position: int, limit: int, strict: bool) -> tuple[int, int]:
    """Read a length field at ``position`` (before ``limit``); return it and the position after."""
    if position >= limit:
        raise TruncatedTLVError("the input ends before a length field", position)
    first = data[position]
    if first < 0x80:
        return first, position + 1
    size = first & 0x7F
    if size == 0:
        raise MalformedTLVError("indefinite length (80) is not allowed in BER-TLV", position)
    if size > 4:
        raise OverlongTLVError(
            f"length field {first:02X} announces {size} length bytes; at most 4 are allowed",
            position,
        )
    end = position + 1 + size
    if end > limit:
        raise TruncatedTLVError("the input ends inside a length field", position)
    length = int.from_bytes(data[position + 1 : end], "big")
    if strict and (length < 0x80 or data[position + 1] == 0):
        raise OverlongTLVError(
            f"length {length} is encoded in {size + 1} bytes, longer than needed", position
        )
    return length, end


def decode_tag(data: ByteInput, *, strict: bool = True) -> tuple[int, int]:
    """Read the tag at the start of ``data``; return ``(tag, bytes used)``.

    Raises :class:`TruncatedTLVError` when ``data`` is empty or ends inside the
    tag, :class:`OverlongTLVError` for a tag over 4 bytes (or not in its
    shortest form, in strict mode), ``TypeError``/``ValueError`` when ``data``
    is not bytes-like.
    """
    raw = coerce_bytes(data, name="data", max_len=_MAX_INPUT)
    if not raw:
        raise TruncatedTLVError("no tag in empty input", 0)
    return _read_tag(raw, 0, len(raw), strict)


def decode_length(data: ByteInput, *, strict: bool = True) -> tuple[int, int]:
    """Read the length field at the start of ``data``; return ``(length, bytes used)``.

    Raises :class:`TruncatedTLVError`, :class:`OverlongTLVError` (over 4
    length bytes, or in strict mode a longer form than needed) or
    :class:`MalformedTLVError` (the indefinite form ``80``).
    """
    raw = coerce_bytes(data, name="data", max_len=_MAX_INPUT)
    return _read_length(raw, 0, len(raw), strict)


# ---------------------------------------------------------------------------
# BER-TLV objects


class TLV:
    """One BER-TLV data object: a tag and a value, with children when constructed.

    ``TLV(0x84, b"...")`` is a primitive object; ``TLV(0x6F, [TLV(...), ...])``
    a constructed one (its tag must have bit 6 of the first byte set).  A
    constructed tag given bytes has them parsed (strictly) into its children.

    ``value`` is always the value field as bytes; ``children`` the objects in it
    (empty for a primitive object).  Objects compare and hash by tag and value.

    Raises ``TypeError``/``ValueError`` for a malformed tag, children given to
    a primitive tag, or a value that is neither bytes-like nor TLV objects;
    :class:`TLVError` for bytes of a constructed tag that are not valid BER-TLV.
    """

    __slots__ = ("children", "tag", "value")

    tag: int
    value: builtins.bytes
    children: tuple[TLV, ...]

    def __init__(self, tag: int, value: ByteInput | Iterable[TLV] = b"") -> None:
        _check_tag(tag)
        constructed = bool(_first_byte(tag) & 0x20)
        given: object = value
        if isinstance(given, str) or not isinstance(given, Iterable):
            raise TypeError(
                f"value must be bytes or a sequence of TLV objects, not {type(given).__name__}"
            )
        items = given if isinstance(given, (builtins.bytes, bytearray, memoryview)) else list(given)
        if not any(isinstance(item, TLV) for item in items):
            raw = coerce_bytes(items, name="value", max_len=MAX_LENGTH)
            children = tuple(parse(raw)) if constructed else ()
        else:
            if not constructed:
                raise ValueError(
                    f"tag 0x{tag:X} is primitive (bit 6 of its first byte is 0) and cannot "
                    "hold TLV children; give its value as bytes"
                )
            nodes: list[TLV] = []
            for index, item in enumerate(items):
                if not isinstance(item, TLV):
                    raise TypeError(
                        f"value[{index}] must be a TLV, not {type(item).__name__}; give "
                        "bytes or a sequence of TLV objects"
                    )
                nodes.append(item)
            children = tuple(nodes)
            raw = b"".join(item.to_bytes() for item in children)
        self._set(tag, raw, children)

    def _set(self, tag: int, value: builtins.bytes, children: tuple[TLV, ...]) -> None:
        object.__setattr__(self, "tag", tag)
        object.__setattr__(self, "value", value)
        object.__setattr__(self, "children", children)

    @classmethod
    def _trusted(cls, tag: int, value: builtins.bytes, children: tuple[TLV, ...]) -> TLV:
        item = cls.__new__(cls)
        item._set(tag, value, children)
        return item

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"TLV objects are immutable; cannot set {name!r}")

    @property
    def constructed(self) -> bool:
        """Whether the tag marks a constructed object (bit 6 of the first tag byte)."""
        return bool(_first_byte(self.tag) & 0x20)

    @property
    def length(self) -> int:
        """The length of the value field."""
        return len(self.value)

    def to_bytes(self) -> builtins.bytes:
        """The object encoded: tag, shortest length, value."""
        tag = self.tag.to_bytes((self.tag.bit_length() + 7) // 8, "big")
        return tag + encode_length(len(self.value)) + self.value

    def __bytes__(self) -> builtins.bytes:
        return self.to_bytes()

    def walk(self) -> Iterator[TLV]:
        """This object and every object inside it, depth first, in order."""
        stack: list[TLV] = [self]
        while stack:
            item = stack.pop()
            yield item
            stack.extend(reversed(item.children))

    def find(self, tag: int) -> TLV | None:
        """The first object with ``tag`` inside this one (depth first), or ``None``.

        This object itself is not a candidate.  Raises ``TypeError``/``ValueError``
        for a malformed ``tag``.
        """
        _check_tag(tag)
        walker = self.walk()
        next(walker)
        return next((item for item in walker if item.tag == tag), None)

    def find_all(self, tag: int) -> list[TLV]:
        """Every object with ``tag`` inside this one, depth first."""
        _check_tag(tag)
        walker = self.walk()
        next(walker)
        return [item for item in walker if item.tag == tag]

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, TLV):
            return NotImplemented
        return self.tag == other.tag and self.value == other.value

    def __hash__(self) -> int:
        return hash((self.tag, self.value))

    def __repr__(self) -> str:
        if self.children:
            inner = ", ".join(repr(child) for child in self.children)
            return f"TLV(0x{self.tag:X}, [{inner}])"
        return f"TLV(0x{self.tag:X}, bytes.fromhex({self.value.hex().upper()!r}))"


def _check_depth(max_depth: object) -> int:
    depth = _check_int(max_depth, "max_depth")
    # The parser recurses once per level: stay far below Python's recursion limit.
    if not 1 <= depth <= 200:
        raise ValueError(f"max_depth must be in 1..200, got {depth}")
    return depth


def _parse_level(
    data: bytes, start: int, end: int, strict: bool, depth: int, max_depth: int
) -> list[TLV]:
    """The objects in ``data[start:end]``; constructed ones parsed ``depth`` levels down."""
    objects: list[TLV] = []
    position = start
    while position < end:
        if data[position] in _PADDING:
            if strict:
                raise MalformedTLVError(
                    f"byte {data[position]:02X} where a tag belongs (padding is only "
                    "accepted with strict=False)",
                    position,
                )
            position += 1
            continue
        object_start = position
        tag, position = _read_tag(data, position, end, strict)
        length, position = _read_length(data, position, end, strict)
        if length > end - position:
            raise TruncatedTLVError(
                f"tag 0x{tag:X} announces {length} bytes, but only {end - position} remain",
                object_start,
            )
        value_end = position + length
        children: tuple[TLV, ...] = ()
        if _first_byte(tag) & 0x20 and length:
            if depth >= max_depth:
                raise TLVDepthError(
                    f"constructed objects nest deeper than max_depth={max_depth}", object_start
                )
            children = tuple(_parse_level(data, position, value_end, strict, depth + 1, max_depth))
        objects.append(TLV._trusted(tag, data[position:value_end], children))
        position = value_end
    return objects


def parse(data: ByteInput, *, strict: bool = True, max_depth: int = DEFAULT_MAX_DEPTH) -> list[TLV]:
    """Parse BER-TLV data objects; constructed ones have their children parsed too.

    ``strict=True`` (the default) accepts only well-formed objects back to
    back, in their shortest encoding; ``strict=False`` skips ``00``/``FF``
    padding and accepts longer-than-needed tags and lengths.  Empty input gives
    an empty list.

    Raises:
        TruncatedTLVError: the input ends inside a tag, length or value.
        OverlongTLVError: a tag over 4 bytes or a length field over 4 bytes; in
            strict mode also a longer encoding than needed.
        TLVDepthError: constructed objects nest deeper than ``max_depth``.
        MalformedTLVError: an indefinite length; in strict mode, padding.
        TypeError, ValueError: ``data`` is not bytes-like, or ``max_depth`` is
            not an int in 1..200.
    """
    if not isinstance(strict, bool):
        raise TypeError(f"strict must be a bool, not {type(strict).__name__}")
    depth = _check_depth(max_depth)
    raw = coerce_bytes(data, name="data", max_len=_MAX_INPUT)
    return _parse_level(raw, 0, len(raw), strict, 1, depth)


def parse_one(data: ByteInput, *, strict: bool = True, max_depth: int = DEFAULT_MAX_DEPTH) -> TLV:
    """Parse exactly one BER-TLV data object (with ``strict=False``, padding around it is fine).

    Raises what :func:`parse` raises, and :class:`MalformedTLVError` when the
    input holds no object or more than one.
    """
    objects = parse(data, strict=strict, max_depth=max_depth)
    if len(objects) != 1:
        raise MalformedTLVError(f"expected one data object, found {len(objects)}", 0)
    return objects[0]


def build(objects: Iterable[TLV]) -> bytes:
    """Encode data objects one after the other.

    Raises ``TypeError`` when an item is not a :class:`TLV`.
    """
    parts: list[bytes] = []
    for index, item in enumerate(objects):
        if not isinstance(item, TLV):
            raise TypeError(f"objects[{index}] must be a TLV, not {type(item).__name__}")
        parts.append(item.to_bytes())
    return b"".join(parts)


# ---------------------------------------------------------------------------
# Compact-TLV


class CompactTLV(NamedTuple):
    """One compact-TLV object (historical bytes): a 4-bit tag and its value (0..15 bytes)."""

    tag: int
    value: bytes


def _split_compact_tlv(data: bytes) -> tuple[list[CompactTLV], TruncatedTLVError | None]:
    """The compact-TLV objects of ``data``, and the error that stopped the reading, if any."""
    objects: list[CompactTLV] = []
    position = 0
    while position < len(data):
        tag, length = data[position] >> 4, data[position] & 0x0F
        end = position + 1 + length
        if end > len(data):
            return objects, TruncatedTLVError(
                f"compact-TLV object {data[position]:02X} announces {length} bytes, "
                f"but only {len(data) - position - 1} remain",
                position,
            )
        objects.append(CompactTLV(tag, data[position + 1 : end]))
        position = end
    return objects, None


def parse_compact_tlv(data: ByteInput) -> list[CompactTLV]:
    """Parse compact-TLV objects (each a byte ``tag << 4 | length`` and the value).

    Raises :class:`TruncatedTLVError` when the last object's value is cut
    short, ``TypeError``/``ValueError`` when ``data`` is not bytes-like.
    """
    objects, error = _split_compact_tlv(coerce_bytes(data, name="data", max_len=_MAX_INPUT))
    if error is not None:
        raise error
    return objects


def build_compact_tlv(objects: Iterable[CompactTLV | tuple[int, ByteInput]]) -> bytes:
    """Encode compact-TLV objects given as :class:`CompactTLV` or ``(tag, value)`` pairs.

    Raises ``TypeError``/``ValueError`` for a tag outside 0..15 or a value over 15 bytes.
    """
    out = bytearray()
    for index, (tag, value) in enumerate(objects):
        _check_int(tag, f"objects[{index}].tag")
        if not 0 <= tag <= 0x0F:
            raise ValueError(f"objects[{index}].tag must be in 0..15, got {tag}")
        raw = coerce_bytes(value, name=f"objects[{index}].value", max_len=0x0F)
        out.append(tag << 4 | len(raw))
        out += raw
    return bytes(out)


# ---------------------------------------------------------------------------
# Data object lists


class DOLEntry(NamedTuple):
    """One entry of a data object list: the tag asked for and the length wanted."""

    tag: int
    length: int


def parse_dol(data: ByteInput, *, strict: bool = True) -> list[DOLEntry]:
    """Parse a data object list: tag and length fields without values.

    Raises :class:`TLVError` subclasses as :func:`parse` does for a truncated
    or overlong tag or length (padding is never skipped in a DOL).
    """
    raw = coerce_bytes(data, name="data", max_len=_MAX_INPUT)
    entries: list[DOLEntry] = []
    position = 0
    while position < len(raw):
        if strict and raw[position] in _PADDING:
            raise MalformedTLVError(f"byte {raw[position]:02X} where a tag belongs", position)
        tag, position = _read_tag(raw, position, len(raw), strict)
        length, position = _read_length(raw, position, len(raw), strict)
        entries.append(DOLEntry(tag, length))
    return entries


def build_dol(entries: Iterable[DOLEntry | tuple[int, int]]) -> bytes:
    """Encode a data object list from :class:`DOLEntry` or ``(tag, length)`` pairs.

    Raises ``TypeError``/``ValueError`` for a malformed tag or a bad length.
    """
    return b"".join(encode_tag(tag) + encode_length(length) for tag, length in entries)


def build_dol_data(
    dol: Iterable[DOLEntry | tuple[int, int]],
    values: Mapping[int, ByteInput],
    *,
    strict: bool = True,
) -> bytes:
    """Lay out ``values`` as the DOL asks: each tag's value at its length, concatenated.

    A tag missing from ``values`` gets zero bytes, as EMV prescribes.  With
    ``strict=True`` a value of another length than the DOL's is a
    ``ValueError``; with ``strict=False`` it is cut on the right or padded on
    the right with zeros (EMV's rule for non-numeric data).

    Raises ``TypeError``/``ValueError`` for malformed entries or values.
    """
    out = bytearray()
    for tag, length in dol:
        _check_tag(tag)
        _check_int(length, "length")
        if tag not in values:
            out += bytes(length)
            continue
        value = coerce_bytes(values[tag], name=f"values[0x{tag:X}]", max_len=_MAX_INPUT)
        if len(value) != length:
            if strict:
                raise ValueError(
                    f"values[0x{tag:X}] is {len(value)} bytes, but the DOL asks for {length}"
                )
            value = value[:length].ljust(length, b"\x00")
        out += value
    return bytes(out)


def parse_dol_data(dol: Iterable[DOLEntry | tuple[int, int]], data: ByteInput) -> dict[int, bytes]:
    """Split ``data`` laid out by ``dol`` into ``{tag: value}``.

    Raises :class:`TruncatedTLVError` when ``data`` is shorter than the DOL
    asks, :class:`MalformedTLVError` when it is longer.
    """
    raw = coerce_bytes(data, name="data", max_len=_MAX_INPUT)
    result: dict[int, bytes] = {}
    position = 0
    for tag, length in dol:
        if position + length > len(raw):
            raise TruncatedTLVError(
                f"the data ends inside the value of tag 0x{tag:X} ({length} bytes)", position
            )
        result[tag] = raw[position : position + length]
        position += length
    if position != len(raw):
        raise MalformedTLVError(
            f"{len(raw) - position} bytes follow the last value the DOL asks for", position
        )
    return result
