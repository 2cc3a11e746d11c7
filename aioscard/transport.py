"""What ``transmit`` does between a command and its final response: chaining, GET RESPONSE, Le.

:class:`TransportOptions` says which helpers are on; :func:`exchange` applies
them to one command over any ``send(command) -> response`` function.  It is
plain code over bytes, with no thread, PC/SC call or card: a connection runs it
on its worker with ``send`` bound to SCardTransmit, and tests run it against a
model card.

- **Command chaining** (``chain_limit``): a command whose data field is longer
  than the limit goes as a chain (ISO/IEC 7816-4, CLA bit b5): pieces of at
  most ``chain_limit`` bytes, each but the last with b5 set and no Le.  A piece
  the card does not answer with ``90 00`` ends the chain, and its response is
  the result.  Pieces over 255 bytes use extended length.
- **GET RESPONSE** (``get_response``): on ``61 xx`` send GET RESPONSE for ``xx``
  bytes and join the pieces.
- **Le correction** (``le_correction``): on ``6C xx`` send the command again
  with Le ``xx``.

After a chain, the last piece's response goes through GET RESPONSE and Le
correction as any other response does.  At most ``max_rounds`` GET RESPONSE or
re-sent commands follow one command; past that the last response is returned
as it is, status word included.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from . import exceptions as exc
from .apdu import build_apdu, parse_apdu

__all__ = ["Send", "TransportOptions", "channel_of", "exchange", "with_channel"]

#: What :func:`exchange` sends through: a command APDU in, a raw response APDU
#: (data then SW1 SW2) out.
Send = Callable[[bytes], bytes]

_CHAINING_BIT = 0x10
_MAX_SHORT_NC = 255
_MAX_SHORT_NE = 256
_MAX_EXTENDED_NC = 65535


def _check_bool(value: object, name: str) -> None:
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be a bool, not {type(value).__name__}")


def _check_int(value: object, name: str, low: int, high: int | None) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, not {type(value).__name__}")
    if value < low or (high is not None and value > high):
        bound = f"{low}..{high}" if high is not None else f">= {low}"
        raise ValueError(f"{name} must be {bound}, got {value}")


@dataclass(frozen=True)
class TransportOptions:
    """Opt-in helpers applied inside ``transmit`` (all off by default).

    ``get_response``: on ``61xx`` send GET RESPONSE (class byte
    ``get_response_cla``, with the command's logical channel, Le ``xx``) and
    join the pieces.  ``le_correction``: on ``6Cxx`` send the command again with
    Le ``xx``.  At most ``max_rounds`` extra exchanges are made per command; past
    that the last response is returned as it is, status word included.
    ``chain_limit``: send a command with more data bytes than this (1..65535)
    as a chain of commands (CLA bit b5); ``None``, the default, sends every
    command as it is.  ``aioscard.iso7816.CardCapabilities.transport_options()``
    derives it from what the card declares.

    Raises:
        TypeError: a flag that is not a ``bool``, a number that is not an ``int``.
        ValueError: ``get_response_cla`` outside 0..255, ``max_rounds`` below 0,
            ``chain_limit`` outside 1..65535.
    """

    get_response: bool = False
    le_correction: bool = False
    get_response_cla: int = 0x00
    max_rounds: int = 64
    chain_limit: int | None = None

    def __post_init__(self) -> None:
        _check_bool(self.get_response, "get_response")
        _check_bool(self.le_correction, "le_correction")
        _check_int(self.get_response_cla, "get_response_cla", 0, 0xFF)
        _check_int(self.max_rounds, "max_rounds", 0, None)
        if self.chain_limit is not None:
            _check_int(self.chain_limit, "chain_limit", 1, _MAX_EXTENDED_NC)

    @property
    def enabled(self) -> bool:
        """Whether any helper is on."""
        return self.get_response or self.le_correction or self.chain_limit is not None


# ---------------------------------------------------------------------------
# Logical channels in the class byte


def channel_of(cla: int) -> int:
    """The logical channel (0..19) an interindustry class byte names.

    First interindustry classes (``0x0X``, and proprietary ``0x8X``/``0xAX``
    laid out the same way) carry channels 0..3 in b2-b1; further interindustry
    classes (``0x4X``-``0x7X``, ``0xCX``-``0xFX``) carry channels 4..19 in b4-b1.
    ``0xFF`` is not a class byte and counts as channel 0.
    """
    if cla == 0xFF:
        return 0
    if cla & 0x40:
        return 4 + (cla & 0x0F)
    return cla & 0x03


def with_channel(cla: int, channel: int) -> int:
    """``cla`` rewritten for logical ``channel`` (0..19), keeping its other bits.

    Channels 0..3 use the first interindustry coding (channel in b2-b1, secure
    messaging in b4-b3); channels 4..19 the further coding (b7 set, channel - 4
    in b4-b1, secure messaging in b6).  The proprietary bit b8 and the chaining
    bit b5 are kept, so ``0x80`` on channel 5 is ``0xC1``.

    Raises ``TypeError``/``ValueError`` for a class byte outside 0..0xFE, a
    channel outside 0..19, or (channels 4..19) a class byte whose proprietary
    secure messaging (b4-b3 = 01) or b7-b6 the further coding cannot express,
    or that would become the invalid ``FF``.
    """
    _check_int(cla, "cla", 0, 0xFE)
    _check_int(channel, "channel", 0, 19)
    # A further coding (b7 set) is brought back to the first coding, on channel 0.
    base = ((cla & 0x90) | (0x08 if cla & 0x20 else 0x00)) if cla & 0x40 else cla & 0xFC
    if channel < 4:
        return base | channel
    secure = base & 0x0C
    if secure == 0x04 or base & 0x60:
        raise ValueError(
            f"class byte {cla:02X} cannot address channel {channel}: the further "
            "interindustry coding has no room for its "
            + ("proprietary secure messaging" if secure == 0x04 else "bits b7-b6")
        )
    moved = (base & 0x90) | 0x40 | (0x20 if secure else 0x00) | (channel - 4)
    if moved == 0xFF:
        raise ValueError(f"class byte {cla:02X} on channel {channel} would be FF, which is invalid")
    return moved


# ---------------------------------------------------------------------------
# The exchange


def _checked(raw: bytes) -> bytes:
    if len(raw) < 2:
        raise exc.InvalidResponseException(
            f"response of {len(raw)} bytes has no status word (SW1 SW2)"
        )
    return raw


def _with_le(command: bytes, le: int) -> bytes:
    """``command`` re-encoded with Ne ``le`` (for a 6Cxx correction)."""
    parsed = parse_apdu(command)
    return build_apdu(
        parsed.cla, parsed.ins, parsed.p1, parsed.p2, parsed.data, le, extended=parsed.extended
    )


def _chain(command: bytes, limit: int) -> list[bytes]:
    """The pieces of ``command`` when its data is longer than ``limit``; else ``[command]``."""
    parsed = parse_apdu(command)
    if len(parsed.data) <= limit:
        return [command]
    if parsed.cla == 0xFF or parsed.cla & _CHAINING_BIT:
        raise ValueError(
            f"command has class byte {parsed.cla:02X}: it cannot be chained "
            "(chaining sets b5, which must be clear and the class byte not FF)"
        )
    data, le = parsed.data, parsed.le
    extended = limit > _MAX_SHORT_NC
    if le is not None and not extended:
        le = min(le, _MAX_SHORT_NE)  # GET RESPONSE fetches the rest
    pieces = []
    for start in range(0, len(data), limit):
        piece = data[start : start + limit]
        last = start + limit >= len(data)
        cla = parsed.cla if last else parsed.cla | _CHAINING_BIT
        pieces.append(
            build_apdu(
                cla,
                parsed.ins,
                parsed.p1,
                parsed.p2,
                piece,
                le if last else None,
                extended=extended and (len(piece) > _MAX_SHORT_NC or (le or 0) > _MAX_SHORT_NE),
            )
        )
    return pieces


def exchange(send: Send, command: bytes, options: TransportOptions) -> bytes:
    """Send ``command`` through ``send`` with the helpers ``options`` turns on.

    Returns the final raw response: the data of every GET RESPONSE joined,
    followed by the last status word.  With every helper off this is
    ``send(command)``.

    Raises:
        ValueError: chaining is on, the command needs it, and its structure
            cannot be read (see :func:`aioscard.apdu.parse_apdu`) or its class
            byte cannot be chained.
        InvalidResponseException: ``send`` returned fewer than 2 bytes.
        Exception: whatever ``send`` raises, unchanged.
    """
    if options.chain_limit is not None:
        *head, command = _chain(command, options.chain_limit)
        for piece in head:
            raw = _checked(send(piece))
            if raw[-2:] != b"\x90\x00":
                return raw  # the card refused a link: its answer is the chain's
    raw = _checked(send(command))
    if not (options.get_response or options.le_correction):
        return raw
    collected = bytearray()
    rounds = 0
    while rounds < options.max_rounds:
        sw1, sw2 = raw[-2], raw[-1]
        if sw1 == 0x6C and options.le_correction:
            command = _with_le(command, sw2 or _MAX_SHORT_NE)
        elif sw1 == 0x61 and options.get_response:
            collected += raw[:-2]
            cla = options.get_response_cla
            channel = channel_of(command[0])
            if channel and not cla & 0x80:
                cla = with_channel(cla, channel)
            command = bytes((cla, 0xC0, 0x00, 0x00, sw2))
        else:
            break
        raw = _checked(send(command))
        rounds += 1
    return bytes(collected + raw) if collected else raw
