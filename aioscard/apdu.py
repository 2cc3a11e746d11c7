"""Command APDUs and response APDUs as plain data: checking, parsing, building, logging.

Nothing here talks to a reader.  The transport calls :func:`coerce_apdu` on every
command before any C call, wraps what comes back in :class:`Response`, and logs
through :func:`format_apdu`, which keeps PINs and keys out of logs unless the
process opted in with :func:`set_reveal_secrets` or ``AIOSCARD_REVEAL_SECRETS=1``.

Lengths follow ISO/IEC 7816-4: a command is the 4 header bytes CLA INS P1 P2,
optionally followed by an Lc field and up to 255 (short) or 65535 (extended)
data bytes, optionally followed by an Le field; the longest command (extended
case 4) is 4 + 3 + 65535 + 2 = 65544 bytes.
"""

from __future__ import annotations

import builtins
import os
from typing import NamedTuple

from aioscard._bytes import ByteInput as ByteInput
from aioscard._bytes import as_bytes
from aioscard.util import to_hex

__all__ = [
    "MAX_APDU_LENGTH",
    "MAX_RESPONSE_LENGTH",
    "MIN_APDU_LENGTH",
    "REVEAL_SECRETS_ENV",
    "ByteInput",
    "ParsedAPDU",
    "Response",
    "build_apdu",
    "coerce_apdu",
    "coerce_bytes",
    "format_apdu",
    "format_response",
    "is_sensitive",
    "parse_apdu",
    "reveal_secrets",
    "set_reveal_secrets",
]

#: The 4 header bytes CLA INS P1 P2.
MIN_APDU_LENGTH = 4
#: Extended case 4: header, 3-byte Lc, 65535 data bytes, 2-byte Le.
MAX_APDU_LENGTH = 4 + 3 + 65535 + 2
#: 65536 data bytes (the most an extended Le can ask for) plus SW1 SW2.
MAX_RESPONSE_LENGTH = 65536 + 2
#: Environment variable that, set to ``1`` (or ``true``/``yes``/``on``), makes
#: :func:`format_apdu` show secrets by default.
REVEAL_SECRETS_ENV = "AIOSCARD_REVEAL_SECRETS"

_MAX_SHORT_NC = 255
_MAX_SHORT_NE = 256
_MAX_EXTENDED_NC = 65535
_MAX_EXTENDED_NE = 65536


def coerce_bytes(value: ByteInput, *, name: str, max_len: int, min_len: int = 0) -> bytes:
    """Return ``value`` as ``bytes`` after checking its items and its length.

    Accepts ``bytes``, ``bytearray``, a contiguous ``memoryview`` (or other
    buffer) of unsigned bytes, or a sequence of ints such as a ``list`` or
    ``tuple``.  Used for control codes' input data, attribute values and the
    like, where an APDU's structure does not apply.

    Raises ``TypeError`` for a ``str`` (hex text must be converted first, e.g.
    with ``bytes.fromhex``), for other types and for non-int or ``bool`` items;
    ``ValueError`` for an int outside 0..255 or a length outside
    ``min_len..max_len``.  Messages name ``name`` and the offending index; the
    value itself is never echoed.
    """
    result = as_bytes(value, name)
    if len(result) < min_len:
        raise ValueError(f"{name} is too short: {len(result)} bytes, at least {min_len} needed")
    if len(result) > max_len:
        raise ValueError(f"{name} is too long: {len(result)} bytes, at most {max_len} allowed")
    return result


def coerce_apdu(command: ByteInput, *, name: str = "command") -> bytes:
    """Check a command APDU and return it as ``bytes``.

    Accepts the same forms as :func:`coerce_bytes`.  Only the length is checked
    here (4 to 65544 bytes), not the Lc/Le structure: readers also take
    pseudo-APDUs and proprietary escapes.  Use :func:`parse_apdu` to check the
    structure.

    Raises ``TypeError``/``ValueError`` as :func:`coerce_bytes` does, naming
    ``name``, and ``ValueError`` for a command shorter than the 4 header bytes
    or longer than 65544 bytes.
    """
    result = as_bytes(command, name)
    if len(result) < MIN_APDU_LENGTH:
        raise ValueError(
            f"{name} is too short: {len(result)} bytes; an APDU starts with the "
            "4 header bytes CLA INS P1 P2"
        )
    if len(result) > MAX_APDU_LENGTH:
        raise ValueError(
            f"{name} is too long: {len(result)} bytes; the longest APDU "
            f"(extended case 4) is {MAX_APDU_LENGTH} bytes"
        )
    return result


class Response(NamedTuple):
    """A response APDU: the data bytes, then the status bytes SW1 and SW2.

    It unpacks like pyscard's ``transmit`` result: ``data, sw1, sw2 = response``.
    """

    data: list[int]
    sw1: int
    sw2: int

    @classmethod
    def from_raw(cls, raw: ByteInput) -> Response:
        """Split a raw response (data followed by SW1 SW2) into a ``Response``.

        Raises ``ValueError`` when ``raw`` is shorter than the two status bytes
        or longer than 65538 bytes, and ``TypeError``/``ValueError`` when it is
        not bytes-like (see :func:`coerce_bytes`).  The transport turns the
        ``ValueError`` into its own error type.
        """
        checked = coerce_bytes(raw, name="raw", min_len=2, max_len=MAX_RESPONSE_LENGTH)
        return cls(list(checked[:-2]), checked[-2], checked[-1])

    @property
    def sw(self) -> int:
        """The status word as one int, e.g. ``0x9000``."""
        return (self.sw1 << 8) | self.sw2

    @property
    def ok(self) -> bool:
        """Whether the status word is 9000 (normal processing, no further qualification)."""
        return self.sw1 == 0x90 and self.sw2 == 0x00

    @property
    def data_bytes(self) -> builtins.bytes:
        """The data field as ``bytes``, without the status word."""
        return builtins.bytes(self.data)

    @property
    def bytes(self) -> builtins.bytes:
        """The whole response as received: data followed by SW1 SW2."""
        return builtins.bytes(self.data) + builtins.bytes((self.sw1, self.sw2))


class ParsedAPDU(NamedTuple):
    """The fields of a command APDU, as :func:`parse_apdu` finds them.

    ``le`` is Ne, the number of response bytes asked for (1..65536), or
    ``None`` when there is no Le field: a short Le byte of ``00`` means 256 and
    an extended Le of ``0000`` means 65536.  ``case`` is the ISO 7816-3 case
    1..4 and ``extended`` tells whether Lc/Le use the extended encoding.
    ``repr()`` shows a PIN or key in ``data`` as a byte count unless secrets are
    revealed (see :func:`set_reveal_secrets`).
    """

    cla: int
    ins: int
    p1: int
    p2: int
    data: bytes
    le: int | None
    extended: bool
    case: int

    def __repr__(self) -> str:
        # A PIN or key in the data field is shown as a count, as format_apdu does.
        data = repr(self.data)
        if self.data and not _reveal and _carries_secret(self.cla, self.ins, self.p1, self.data):
            data = _redacted(len(self.data))
        return (
            f"ParsedAPDU(cla={self.cla}, ins={self.ins}, p1={self.p1}, p2={self.p2}, "
            f"data={data}, le={self.le}, extended={self.extended}, case={self.case})"
        )

    def to_bytes(self) -> bytes:
        """Encode these fields again with :func:`build_apdu`.

        Raises ``TypeError``/``ValueError`` as :func:`build_apdu` does when the
        fields were edited into something that cannot be encoded.
        """
        return build_apdu(
            self.cla, self.ins, self.p1, self.p2, self.data, self.le, extended=self.extended
        )


def parse_apdu(apdu: ByteInput) -> ParsedAPDU:
    """Split a command APDU into header, data and Le, short or extended.

    Handles cases 1, 2S, 3S, 4S, 2E, 3E and 4E as ISO/IEC 7816-3 tells them
    apart by length.  Raises ``TypeError``/``ValueError`` as
    :func:`coerce_apdu` does (naming ``apdu``), and ``ValueError`` when the
    bytes after the header fit no case, e.g. when Lc announces more or fewer
    data bytes than follow.
    """
    raw = coerce_apdu(apdu, name="apdu")
    cla, ins, p1, p2 = raw[:4]
    body = raw[4:]
    if not body:
        return ParsedAPDU(cla, ins, p1, p2, b"", None, False, 1)
    if len(body) == 1:
        return ParsedAPDU(cla, ins, p1, p2, b"", body[0] or _MAX_SHORT_NE, False, 2)
    if body[0] != 0:
        nc = body[0]
        if len(body) == 1 + nc:
            return ParsedAPDU(cla, ins, p1, p2, body[1:], None, False, 3)
        if len(body) == 2 + nc:
            return ParsedAPDU(cla, ins, p1, p2, body[1:-1], body[-1] or _MAX_SHORT_NE, False, 4)
        raise ValueError(
            f"apdu is malformed: short Lc announces {nc} data bytes, but {len(body) - 1} "
            f"bytes follow it (expected {nc}, or {nc + 1} with Le)"
        )
    # A first body byte of 00 with more bytes after it opens an extended field.
    if len(body) == 2:
        raise ValueError(
            "apdu is malformed: 6 bytes with a fifth byte of 00 is neither a short "
            "case 2 APDU (5 bytes) nor an extended one (7 bytes or more)"
        )
    if len(body) == 3:
        le = int.from_bytes(body[1:3], "big") or _MAX_EXTENDED_NE
        return ParsedAPDU(cla, ins, p1, p2, b"", le, True, 2)
    nc = int.from_bytes(body[1:3], "big")
    if nc == 0:
        raise ValueError("apdu is malformed: an extended Lc field must not be 0000")
    rest = len(body) - 3
    if rest == nc:
        return ParsedAPDU(cla, ins, p1, p2, body[3:], None, True, 3)
    if rest == nc + 2:
        le = int.from_bytes(body[-2:], "big") or _MAX_EXTENDED_NE
        return ParsedAPDU(cla, ins, p1, p2, body[3:-2], le, True, 4)
    raise ValueError(
        f"apdu is malformed: extended Lc announces {nc} data bytes, but {rest} bytes "
        f"follow it (expected {nc}, or {nc + 2} with Le)"
    )


def _check_byte(value: int, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int in 0..255, not {type(value).__name__}")
    if not 0 <= value <= 255:
        raise ValueError(f"{name} must be in 0..255, got {value}")
    return value


def build_apdu(
    cla: int,
    ins: int,
    p1: int,
    p2: int,
    data: ByteInput = b"",
    le: int | None = None,
    *,
    extended: bool | None = None,
) -> bytes:
    """Encode a command APDU from its fields, choosing the shortest valid case.

    ``data`` may be empty (no Lc field) or up to 65535 bytes; ``le`` is Ne, the
    number of response bytes wanted, 1..65536 (256 encodes as a short Le of
    ``00``, 65536 as an extended ``0000``), or ``None`` for no Le field.
    ``extended=None`` uses the extended encoding only when the data is longer
    than 255 bytes or ``le`` exceeds 256; ``True`` forces it, ``False`` forbids
    it.  A command with neither data nor Le is the 4 header bytes either way.

    Raises ``TypeError``/``ValueError`` naming the argument for a header byte
    outside 0..255, bad ``data``, an ``le`` outside 1..65536, or
    ``extended=False`` with data or ``le`` too large for the short encoding.
    """
    header = bytes(
        _check_byte(value, field)
        for value, field in ((cla, "cla"), (ins, "ins"), (p1, "p1"), (p2, "p2"))
    )
    body = coerce_bytes(data, name="data", max_len=_MAX_EXTENDED_NC)
    if le is not None:
        if isinstance(le, bool) or not isinstance(le, int):
            raise TypeError(f"le must be an int or None, not {type(le).__name__}")
        if not 1 <= le <= _MAX_EXTENDED_NE:
            raise ValueError(
                f"le must be the number of expected bytes, 1..65536, got {le} "
                "(use 256 for a short Le byte of 00)"
            )
    if extended is not None and not isinstance(extended, bool):
        raise TypeError(f"extended must be a bool or None, not {type(extended).__name__}")
    needs_extended = len(body) > _MAX_SHORT_NC or (le is not None and le > _MAX_SHORT_NE)
    if extended is False and needs_extended:
        raise ValueError(
            f"extended=False, but {len(body)} data bytes and le={le} need the extended "
            "encoding (short allows at most 255 data bytes and le up to 256)"
        )
    use_extended = needs_extended if extended is None else extended
    if use_extended:
        lc_field = b"\x00" + len(body).to_bytes(2, "big") if body else b""
        if le is None:
            le_field = b""
        else:
            le_field = (le % _MAX_EXTENDED_NE).to_bytes(2, "big")
            if not body:
                le_field = b"\x00" + le_field
    else:
        lc_field = bytes((len(body),)) if body else b""
        le_field = b"" if le is None else bytes((le % _MAX_SHORT_NE,))
    return header + lc_field + body + le_field


# ---------------------------------------------------------------------------
# Secrets in logs


def _env_flag(value: str | None) -> bool:
    return value is not None and value.strip().lower() in ("1", "true", "yes", "on")


_reveal = _env_flag(os.environ.get(REVEAL_SECRETS_ENV))


def set_reveal_secrets(flag: bool) -> None:
    """Set whether :func:`format_apdu` shows secrets when not told otherwise.

    Process-wide; meant for debugging a session by hand.  Raises ``TypeError``
    when ``flag`` is not a ``bool``.
    """
    global _reveal
    if not isinstance(flag, bool):
        raise TypeError(f"flag must be a bool, not {type(flag).__name__}")
    _reveal = flag


def reveal_secrets() -> bool:
    """Whether :func:`format_apdu` shows secrets by default.

    ``False`` unless the environment variable ``AIOSCARD_REVEAL_SECRETS`` was
    ``1``/``true``/``yes``/``on`` when aioscard was imported, or
    :func:`set_reveal_secrets` changed it since.
    """
    return _reveal


# Instructions whose data field carries a PIN, PUK or other reference data in
# clear, whatever the class byte: the ISO/IEC 7816-4 PIN management commands.
# Odd INS codes are the BER-TLV data variants of the same commands.
_PIN_INSTRUCTIONS = frozenset(
    {
        0x20,  # VERIFY: the PIN
        0x21,  # VERIFY (BER-TLV data)
        0x24,  # CHANGE REFERENCE DATA: old and new PIN
        0x25,  # CHANGE REFERENCE DATA (BER-TLV data)
        0x26,  # DISABLE VERIFICATION REQUIREMENT: the PIN
        0x28,  # ENABLE VERIFICATION REQUIREMENT: the PIN
        0x2C,  # RESET RETRY COUNTER: PUK and/or new PIN
        0x2D,  # RESET RETRY COUNTER (BER-TLV data)
    }
)
# Instructions that carry a secret only for some class bytes or data; when the
# data cannot be read (a malformed APDU) any of these counts as sensitive.
_KEY_INSTRUCTIONS = frozenset({0x82, 0xD8, 0xDB, 0xFE, 0xFF})


def _carries_secret(cla: int, ins: int, p1: int, data: bytes | None) -> bool:
    """Whether a command with this header and (non-empty) data holds a secret in clear.

    ``data`` is ``None`` when the APDU is malformed and its data field unknown;
    every rule that looks at the data then assumes the worst.
    """
    if ins in _PIN_INSTRUCTIONS:
        return True
    if ins == 0x82:
        # PC/SC part 3 LOAD KEYS (CLA FF) puts a MIFARE-style key in the reader.
        # With an ISO class, 82 is EXTERNAL AUTHENTICATE: a cryptogram, not a key.
        return cla == 0xFF
    if ins == 0xD8:
        # GlobalPlatform PUT KEY (proprietary class): key values, which a test
        # or development setup may send unwrapped.
        return bool(cla & 0x80)
    if ins == 0xDB:
        # PUT DATA (odd) with an extended header list (tag 4D) is how OpenPGP
        # cards import a private key; other PUT DATA carries no secret.
        return data is None or data[:1] == b"\x4d"
    if not cla & 0x80 and ins == 0xFE:
        # PIV (YubiKey) IMPORT ASYMMETRIC KEY: private key components.
        return True
    if not cla & 0x80 and ins == 0xFF:
        # PIV (YubiKey) SET MANAGEMENT KEY (P1 FF): the new management key.
        return p1 == 0xFF
    return False


def is_sensitive(apdu: ByteInput) -> bool:
    """Whether a command APDU carries a PIN, PUK or key in clear in its data field.

    True for commands with a data field that are VERIFY (INS 20/21), CHANGE
    REFERENCE DATA (24/25), DISABLE or ENABLE VERIFICATION REQUIREMENT (26/28)
    and RESET RETRY COUNTER (2C/2D) under any class; PC/SC part 3 LOAD KEYS
    (FF 82); GlobalPlatform PUT KEY (INS D8, proprietary class); OpenPGP
    private-key import (PUT DATA DB with an extended header list, tag 4D); and
    YubiKey PIV IMPORT ASYMMETRIC KEY (FE) and SET MANAGEMENT KEY (FF FF).
    Cryptograms and challenges (EXTERNAL/INTERNAL/GENERAL AUTHENTICATE) are
    not secrets in clear and are not covered.  Without data (e.g. a VERIFY that
    only asks for the retry counter) nothing is secret.  A malformed APDU whose
    instruction could carry a secret counts as sensitive.

    Raises ``TypeError``/``ValueError`` naming ``apdu`` when it is not
    bytes-like or a sequence of ints in 0..255; any length is accepted.
    """
    raw = as_bytes(apdu, "apdu")
    if len(raw) <= MIN_APDU_LENGTH:
        return False
    cla, ins, p1 = raw[0], raw[1], raw[2]
    try:
        parsed = parse_apdu(raw)
    except ValueError:
        return ins in _PIN_INSTRUCTIONS or (
            ins in _KEY_INSTRUCTIONS and _carries_secret(cla, ins, p1, None)
        )
    return bool(parsed.data) and _carries_secret(cla, ins, p1, parsed.data)


def _redacted(count: int) -> str:
    return f"<{count} byte{'' if count == 1 else 's'} redacted>"


def format_apdu(apdu: ByteInput, *, reveal: bool | None = None) -> str:
    """Render a command APDU as hex for logs, hiding the data of sensitive commands.

    For a command :func:`is_sensitive` flags, the header, Lc and Le stay
    visible and the data field becomes a count, e.g.
    ``00 20 00 80 08 <8 bytes redacted>``; a malformed one shows only its
    header.  ``reveal=True`` shows everything, ``False`` hides, and ``None``
    follows :func:`reveal_secrets`.

    Raises ``TypeError``/``ValueError`` naming ``apdu`` when it is not
    bytes-like or a sequence of ints in 0..255, and ``TypeError`` when
    ``reveal`` is not a ``bool`` or ``None``.
    """
    if reveal is not None and not isinstance(reveal, bool):
        raise TypeError(f"reveal must be a bool or None, not {type(reveal).__name__}")
    raw = as_bytes(apdu, "apdu")
    if (_reveal if reveal is None else reveal) or not is_sensitive(raw):
        return to_hex(raw)
    try:
        parsed = parse_apdu(raw)
    except ValueError:
        return f"{to_hex(raw[:MIN_APDU_LENGTH])} {_redacted(len(raw) - MIN_APDU_LENGTH)}"
    data_start = MIN_APDU_LENGTH + (3 if parsed.extended else 1)
    data_end = data_start + len(parsed.data)
    parts = [to_hex(raw[:data_start]), _redacted(len(parsed.data))]
    if data_end < len(raw):
        parts.append(to_hex(raw[data_end:]))
    return " ".join(parts)


def format_response(raw: ByteInput, *, redact: bool = False) -> str:
    """Render a raw response APDU (data then SW1 SW2) as hex for logs.

    With ``redact=True`` the data bytes become a count and only the status
    word stays visible, e.g. ``<16 bytes redacted> 90 00``.  A response too
    short to hold a status word is shown as it is.  Raises
    ``TypeError``/``ValueError`` naming ``raw`` when it is not bytes-like or a
    sequence of ints in 0..255.
    """
    checked = as_bytes(raw, "raw")
    if not redact or len(checked) <= 2:
        return to_hex(checked)
    return f"{_redacted(len(checked) - 2)} {to_hex(checked[-2:])}"
