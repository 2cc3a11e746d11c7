"""Byte and hex helpers, with the behaviour of pyscard's ``smartcard.util``.

The camelCase functions and the ``PACK``/``HEX``/``UPPERCASE``/``COMMA`` flags
keep pyscard's names and outputs, so the compatibility shim can re-export this
module as ``smartcard.util``.  :func:`to_hex` and :func:`from_hex` are the
helpers new code (and the command line) should use.

Everything here is pure Python and performs no I/O.  Wherever pyscard silently
truncated or mangled a bad value, these functions raise instead: a
:class:`TypeError` for the wrong kind of object, a :class:`ValueError` for the
right kind with a bad value, and the message names the argument.
"""

from __future__ import annotations

import warnings

from ._bytes import ByteInput as ByteInput
from ._bytes import as_bytes, parse_hex, type_name

__all__ = [
    "COMMA",
    "HEX",
    "PACK",
    "UPPERCASE",
    "BinStringToHexList",
    "ByteInput",
    "HexListToBinString",
    "bs2hl",
    "from_hex",
    "hl2bs",
    "padd",
    "toASCIIBytes",
    "toASCIIString",
    "toBytes",
    "toGSM3_38Bytes",
    "toHexString",
    "to_hex",
]

#: ``toHexString`` flag: no blank between bytes.
PACK = 1
#: ``toHexString`` flag: prefix every byte with ``0x``.
HEX = 2
#: ``toHexString`` flag: with ``HEX``, write the prefix as ``0X``.
UPPERCASE = 4
#: ``toHexString`` flag: a comma after every byte but the last.
COMMA = 8

_ALL_FORMAT_FLAGS = PACK | HEX | UPPERCASE | COMMA


class _HexParseError(ValueError, TypeError):
    """Bad hex text given to :func:`toBytes`.

    A ``ValueError`` like every other bad value here, and also a ``TypeError``
    because that is what pyscard's ``toBytes`` raised and code ported from it
    may catch.
    """


def to_hex(data: ByteInput, sep: str = " ") -> str:
    """Return ``data`` as uppercase two-digit hex, bytes joined by ``sep``.

    ``to_hex(b"\\x3b\\x65", sep=":")`` is ``"3B:65"``; ``sep=""`` packs the
    digits together.  Raises ``TypeError``/``ValueError`` (naming ``data``) when
    ``data`` is not bytes-like or a sequence of ints in 0..255, and
    ``TypeError`` when ``sep`` is not a ``str``.
    """
    if not isinstance(sep, str):
        raise TypeError(f"sep must be a str, not {type_name(sep)}")
    digits = as_bytes(data, "data").hex().upper()
    return sep.join(digits[i : i + 2] for i in range(0, len(digits), 2))


def from_hex(text: str) -> bytes:
    """Parse hex text such as ``"3B 65 00"``, ``"3b6500"`` or ``"3B:65:00"``.

    Whitespace and colons are ignored wherever they appear; case does not
    matter.  Raises ``TypeError`` when ``text`` is not a ``str``, and
    ``ValueError`` naming the first character that is not a hex digit (with
    its position) or reporting an odd number of digits.
    """
    return parse_hex(text, "text")


def toHexString(data: ByteInput | None = None, format: int = 0) -> str:
    """Return ``data`` as a hex string laid out by the ``format`` flags.

    The default is uppercase two-digit hex separated by blanks
    (``"3B 65 00"``).  ``format`` ORs together ``COMMA`` (``"3B, 65, 00"``),
    ``PACK`` (no blanks: ``"3B6500"``), ``HEX`` (``"0x3B 0x65 0x00"``) and,
    with ``HEX``, ``UPPERCASE`` (``"0X3B 0X65 0X00"``), exactly as pyscard
    lays them out.  ``None`` or empty data gives ``""``.

    Unlike pyscard, which masked out-of-range values, raises ``ValueError``
    for an item outside 0..255 and ``TypeError`` for a ``str`` or a non-int
    item (both naming ``data``), and ``TypeError``/``ValueError`` for a
    ``format`` that is not an int made of the four flags.
    """
    if isinstance(format, bool) or not isinstance(format, int):
        raise TypeError(f"format must be an int of format flags, not {type_name(format)}")
    if format & ~_ALL_FORMAT_FLAGS:
        raise ValueError(
            f"format must combine PACK, HEX, UPPERCASE and COMMA only, got {format:#x}"
        )
    if data is None:
        return ""
    values = as_bytes(data, "data")
    prefix = ""
    if format & HEX:
        prefix = "0X" if format & UPPERCASE else "0x"
    separator = ("," if format & COMMA else "") + ("" if format & PACK else " ")
    return separator.join(f"{prefix}{value:02X}" for value in values)


def toBytes(bytestring: str) -> list[int]:
    """Parse hex text into a list of ints, as pyscard's ``toBytes`` does.

    ``toBytes("3B 65 00")``, ``toBytes("3B6500")`` and ``toBytes("3B:65:00")``
    all give ``[0x3B, 0x65, 0x00]``; whitespace and colons are ignored.
    Raises ``TypeError`` when ``bytestring`` is not a ``str``, and a
    ``ValueError`` naming the offending text when it is not hex; that error is
    also a ``TypeError``, which is what pyscard raised.
    """
    try:
        return list(parse_hex(bytestring, "bytestring"))
    except ValueError as exc:
        raise _HexParseError(str(exc)) from None


def padd(bytelist: ByteInput, length: int, padding: str | int = "FF") -> list[int]:
    """Return a copy of ``bytelist`` padded with ``padding`` up to ``length`` items.

    ``padding`` is one byte written as hex text (``"FF"``, the default, or
    ``"80"``), or an int in 0..255.  A list already ``length`` long or longer
    comes back unchanged (as a new list); the argument is never modified.
    Raises ``TypeError``/``ValueError`` naming the argument when ``bytelist``
    holds non-bytes, ``length`` is not a non-negative int, or ``padding`` is not
    a single byte.
    """
    values = list(as_bytes(bytelist, "bytelist"))
    if isinstance(length, bool) or not isinstance(length, int):
        raise TypeError(f"length must be an int, not {type_name(length)}")
    if length < 0:
        raise ValueError(f"length must be >= 0, got {length}")
    if isinstance(padding, str):
        try:
            pad = int(padding, 16)
        except ValueError:
            raise ValueError(f"padding must be one byte as hex text, got {padding!r}") from None
    elif isinstance(padding, int) and not isinstance(padding, bool):
        pad = padding
    else:
        raise TypeError(f"padding must be hex text or an int, not {type_name(padding)}")
    if not 0 <= pad <= 255:
        raise ValueError(f"padding must be a single byte (0..255), got {padding!r}")
    return values + [pad] * (length - len(values))


def toASCIIBytes(stringtoconvert: str) -> list[int]:
    """Return the UTF-8 encoding of ``stringtoconvert`` as a list of ints.

    ``toASCIIBytes("Number 101")`` is ``[0x4E, 0x75, 0x6D, 0x62, 0x65, 0x72,
    0x20, 0x31, 0x30, 0x31]``.  Raises ``TypeError`` for anything but a ``str``.
    """
    if not isinstance(stringtoconvert, str):
        raise TypeError(f"stringtoconvert must be a str, not {type_name(stringtoconvert)}")
    return list(stringtoconvert.encode("utf-8"))


def toASCIIString(bytelist: ByteInput) -> str:
    """Return ``bytelist`` as text, one character per byte.

    Bytes 0x20..0x7F become the ASCII character of that code and every other
    byte becomes ``"."`` (pyscard's range, so 0x7F stays a DEL character).
    Raises ``TypeError``/``ValueError`` naming ``bytelist`` when it is not
    bytes-like or a sequence of ints in 0..255.
    """
    return "".join(
        chr(value) if 0x20 <= value <= 0x7F else "." for value in as_bytes(bytelist, "bytelist")
    )


# GSM 03.38 (3GPP TS 23.038) 7-bit default alphabet, indexed by code.  Code
# 0x1B is the escape to the extension table, so no character maps to it here.
_GSM_DEFAULT_ALPHABET = (
    "@£$¥èéùìòÇ\nØø\rÅå"
    "Δ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ"
    " !\"#¤%&'()*+,-./"
    "0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNO"
    "PQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmno"
    "pqrstuvwxyzäöñüà"
)
_GSM_ESCAPE = 0x1B
_GSM_CODES = {char: code for code, char in enumerate(_GSM_DEFAULT_ALPHABET) if code != _GSM_ESCAPE}
_GSM_EXTENSION_CODES = {
    "\f": 0x0A,
    "^": 0x14,
    "{": 0x28,
    "}": 0x29,
    "\\": 0x2F,
    "[": 0x3C,
    "~": 0x3D,
    "]": 0x3E,
    "|": 0x40,
    "€": 0x65,
}


def toGSM3_38Bytes(stringtoconvert: str | bytes) -> list[int]:
    """Encode text in the GSM 03.38 default alphabet, one code per list item.

    ``toGSM3_38Bytes("@ùPascal")`` is ``[0x00, 0x06, 0x50, 0x61, 0x73, 0x63,
    0x61, 0x6C]``.  Characters of the extension table (``{ } [ ] ~ | ^ \\ €``
    and form feed) become the escape code 0x1B followed by their code.
    ``bytes`` are read as ISO 8859-1 text first, as pyscard did.  Codes are
    not packed into septets.

    Raises ``TypeError`` when the argument is neither ``str`` nor ``bytes``,
    and ``ValueError`` naming the first character (and its position) that the
    alphabet cannot represent.
    """
    if isinstance(stringtoconvert, bytes):
        stringtoconvert = stringtoconvert.decode("iso8859-1")
    if not isinstance(stringtoconvert, str):
        raise TypeError(f"stringtoconvert must be a str or bytes, not {type_name(stringtoconvert)}")
    codes: list[int] = []
    for position, char in enumerate(stringtoconvert):
        code = _GSM_CODES.get(char)
        if code is not None:
            codes.append(code)
            continue
        extension = _GSM_EXTENSION_CODES.get(char)
        if extension is None:
            raise ValueError(
                f"stringtoconvert[{position}] is {char!r}, which the GSM 03.38 "
                "default alphabet cannot encode"
            )
        codes += [_GSM_ESCAPE, extension]
    return codes


def HexListToBinString(hexlist: ByteInput) -> str:
    """Deprecated: decode a list of byte values as UTF-8 text.

    Use ``bytes(hexlist).decode("utf-8")``.  Emits a ``DeprecationWarning``
    like pyscard does; raises ``TypeError``/``ValueError`` naming ``hexlist``
    for values that are not bytes, and ``UnicodeDecodeError`` (a
    ``ValueError``) when they are not valid UTF-8.
    """
    warnings.warn(
        'HexListToBinString is deprecated; use bytes(hexlist).decode("utf-8")',
        DeprecationWarning,
        stacklevel=2,
    )
    return as_bytes(hexlist, "hexlist").decode("utf-8")


def BinStringToHexList(binstring: str) -> list[int]:
    """Deprecated: return the UTF-8 encoding of ``binstring`` as a list of ints.

    Use ``list(binstring.encode("utf-8"))``.  Emits a ``DeprecationWarning``
    like pyscard does; raises ``TypeError`` when ``binstring`` is not a ``str``.
    """
    warnings.warn(
        'BinStringToHexList is deprecated; use list(binstring.encode("utf-8"))',
        DeprecationWarning,
        stacklevel=2,
    )
    if not isinstance(binstring, str):
        raise TypeError(f"binstring must be a str, not {type_name(binstring)}")
    return list(binstring.encode("utf-8"))


#: pyscard's short alias of :func:`HexListToBinString`.
hl2bs = HexListToBinString
#: pyscard's short alias of :func:`BinStringToHexList`.
bs2hl = BinStringToHexList
