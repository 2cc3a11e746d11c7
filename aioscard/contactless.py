"""Contactless cards through a PC/SC reader: the PC/SC part 3 pseudo-APDUs (class ``FF``).

A PC/SC contactless reader answers a few commands itself instead of passing
them to the card: the card's UID and ATS (GET DATA, ``FF CA``), and, for
storage cards such as MIFARE Classic that have no APDU interface of their own,
loading a key into the reader (LOAD KEYS, ``FF 82``), authenticating a block
with it (GENERAL AUTHENTICATE, ``FF 86``) and reading and writing blocks (READ
BINARY ``FF B0``, UPDATE BINARY ``FF D6``)::

    async with reader.createConnection() as connection:
        uid = await contactless.get_uid(connection)
        await contactless.load_key(connection, bytes(6 * [0xFF]), key_number=0)
        await contactless.authenticate(connection, block=4, key_type=KeyType.A, key_number=0)
        data = await contactless.read_binary(connection, block=4)

The coroutines send one APDU each through :meth:`~aioscard.connection.CardConnection.transmit`
(so no PC/SC call runs on the event loop) and raise a
:class:`ContactlessError` subclass for any status word other than ``90 00``.
The ``*_apdu`` builders and :func:`check_response` are the same logic as pure
functions.  :func:`storage_card_name` names a storage card from its ATR (the
PC/SC part 3 card-name bytes, decoded by :mod:`aioscard.atr`).

``aioscard.monitor.card_events(uid=True)`` reads the UID of every inserted
card with :func:`get_uid`.
"""

from __future__ import annotations

import enum
from functools import partial
from typing import TYPE_CHECKING, ClassVar

from ._bytes import ByteInput, as_bytes
from ._context import with_context
from .apdu import Response, build_apdu
from .atr import ATR, ATRInput
from .exceptions import SmartcardException
from .native import PCSCAPI
from .native import constants as C
from .sw.exceptions import SWException

if TYPE_CHECKING:
    from .connection import CardConnection

__all__ = [
    "CLA_PCSC",
    "AddressError",
    "AuthenticationError",
    "ContactlessError",
    "KeyType",
    "OperationFailedError",
    "SecurityStatusError",
    "UnsupportedError",
    "authenticate",
    "authenticate_apdu",
    "check_response",
    "get_ats",
    "get_ats_apdu",
    "get_uid",
    "get_uid_apdu",
    "load_key",
    "load_key_apdu",
    "read_binary",
    "read_binary_apdu",
    "read_uid_or_none",
    "storage_card_name",
    "update_binary",
    "update_binary_apdu",
]

#: The class byte of the PC/SC part 3 pseudo-APDUs.
CLA_PCSC = 0xFF

_INS_GET_DATA = 0xCA
_INS_LOAD_KEYS = 0x82
_INS_GENERAL_AUTHENTICATE = 0x86
_INS_READ_BINARY = 0xB0
_INS_UPDATE_BINARY = 0xD6
_GET_DATA_UID = 0x00
_GET_DATA_ATS = 0x01
# GENERAL AUTHENTICATE data: version 01, block address (2 bytes), key type, key number.
_AUTHENTICATE_VERSION = 0x01


class KeyType(enum.IntEnum):
    """Which MIFARE key GENERAL AUTHENTICATE uses (PC/SC part 3 codes)."""

    A = 0x60
    B = 0x61


# ---------------------------------------------------------------------------
# Errors


class ContactlessError(SWException):
    """The reader or card answered a pseudo-APDU with a status word other than 90 00.

    ``sw1``, ``sw2``, ``data`` as for every :class:`~aioscard.sw.SWException`;
    ``operation`` names the command (``"READ BINARY of block 4"``).
    Subclasses tell the common cases apart.
    """

    category: ClassVar[str] = "contactless"
    operation: str = ""

    def __str__(self) -> str:
        where = f"{self.operation}: " if self.operation else ""
        return f"{where}status word {self.sw1:02X}{self.sw2:02X}: {self.message}"


class OperationFailedError(ContactlessError):
    """``63 00``: the operation failed (no card in the field, the write did not take, ...)."""


class AuthenticationError(OperationFailedError):
    """``63 00`` to GENERAL AUTHENTICATE: the key does not open the block's sector."""


class SecurityStatusError(ContactlessError):
    """``69 82``/``69 83``: the block needs authentication first (or the method is blocked)."""


class UnsupportedError(ContactlessError):
    """``6A 81`` (function not supported), ``6D 00``/``6E 00`` (no pseudo-APDUs at all):
    the reader or card cannot do this, e.g. the ATS of a card that has none."""


class AddressError(ContactlessError):
    """``6A 82``/``6B 00``: no such block or byte, or a wrong parameter."""


def _error_class(sw: int, ins: int) -> type[ContactlessError]:
    if sw == 0x6300:
        return AuthenticationError if ins == _INS_GENERAL_AUTHENTICATE else OperationFailedError
    if sw in (0x6982, 0x6983):
        return SecurityStatusError
    if sw in (0x6A81, 0x6D00, 0x6E00):
        return UnsupportedError
    if sw in (0x6A82, 0x6B00):
        return AddressError
    return ContactlessError


def check_response(response: Response, operation: str, *, ins: int = 0) -> bytes:
    """Return the data of a ``90 00`` response; raise the matching error otherwise.

    ``operation`` names the command in the message, ``ins`` is its instruction
    byte (it tells an authentication failure from other ``63 00``).

    Raises:
        ContactlessError: a subclass chosen by the status word.
    """
    if response.ok:
        return bytes(response.data)
    error = _error_class(response.sw, ins)(response.data, response.sw1, response.sw2)
    error.operation = operation
    raise error


# ---------------------------------------------------------------------------
# APDU builders (pure)


def _check_int(value: object, name: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, not {type(value).__name__}")
    if not low <= value <= high:
        raise ValueError(f"{name} must be in {low}..{high}, got {value}")
    return value


def get_uid_apdu() -> bytes:
    """``FF CA 00 00 00``: GET DATA for the card's UID (all of it)."""
    return build_apdu(CLA_PCSC, _INS_GET_DATA, _GET_DATA_UID, 0x00, le=256)


def get_ats_apdu() -> bytes:
    """``FF CA 01 00 00``: GET DATA for the ISO 14443-4 card's answer to select (ATS)."""
    return build_apdu(CLA_PCSC, _INS_GET_DATA, _GET_DATA_ATS, 0x00, le=256)


def load_key_apdu(key: ByteInput, key_number: int = 0, *, nonvolatile: bool = False) -> bytes:
    """``FF 82 P1 P2 Lc key``: LOAD KEYS puts ``key`` in the reader's slot ``key_number``.

    ``nonvolatile`` sets P1 bit 6 (the reader keeps the key over power loss).
    MIFARE Classic keys are 6 bytes; the reader decides what it accepts.

    Raises:
        TypeError, ValueError: ``key`` not 1..255 bytes, ``key_number`` not 0..255.
    """
    raw = as_bytes(key, "key")
    if not 1 <= len(raw) <= 255:
        raise ValueError(f"key must be 1..255 bytes (MIFARE: 6), got {len(raw)}")
    _check_int(key_number, "key_number", 0, 255)
    if not isinstance(nonvolatile, bool):
        raise TypeError(f"nonvolatile must be a bool, not {type(nonvolatile).__name__}")
    return build_apdu(CLA_PCSC, _INS_LOAD_KEYS, 0x20 if nonvolatile else 0x00, key_number, raw)


def authenticate_apdu(
    block: int, key_type: KeyType | int = KeyType.A, key_number: int = 0
) -> bytes:
    """``FF 86 00 00 05 01 MSB LSB type number``: GENERAL AUTHENTICATE of ``block``
    with the key in the reader's slot ``key_number``.

    Raises:
        TypeError, ValueError: ``block`` not 0..65535, ``key_type`` or ``key_number`` not 0..255.
    """
    _check_int(block, "block", 0, 0xFFFF)
    _check_int(key_type, "key_type", 0, 255)
    _check_int(key_number, "key_number", 0, 255)
    data = bytes((_AUTHENTICATE_VERSION, block >> 8, block & 0xFF, int(key_type), key_number))
    return build_apdu(CLA_PCSC, _INS_GENERAL_AUTHENTICATE, 0x00, 0x00, data)


def read_binary_apdu(block: int, length: int = 16) -> bytes:
    """``FF B0 MSB LSB Le``: READ BINARY of ``length`` bytes from ``block`` (256 encodes
    as Le ``00``, the most the reader gives).

    Raises:
        TypeError, ValueError: ``block`` not 0..65535, ``length`` not 1..256.
    """
    _check_int(block, "block", 0, 0xFFFF)
    _check_int(length, "length", 1, 256)
    return build_apdu(CLA_PCSC, _INS_READ_BINARY, block >> 8, block & 0xFF, le=length)


def update_binary_apdu(block: int, data: ByteInput) -> bytes:
    """``FF D6 MSB LSB Lc data``: UPDATE BINARY writes ``data`` to ``block``.

    Raises:
        TypeError, ValueError: ``block`` not 0..65535, ``data`` not 1..255 bytes.
    """
    _check_int(block, "block", 0, 0xFFFF)
    raw = as_bytes(data, "data")
    if not 1 <= len(raw) <= 255:
        raise ValueError(f"data must be 1..255 bytes (a MIFARE block: 16), got {len(raw)}")
    return build_apdu(CLA_PCSC, _INS_UPDATE_BINARY, block >> 8, block & 0xFF, raw)


# ---------------------------------------------------------------------------
# The commands


async def _exchange(connection: CardConnection, apdu: bytes, operation: str) -> bytes:
    response = await connection.transmit(apdu)
    return check_response(response, operation, ins=apdu[1])


async def get_uid(connection: CardConnection) -> bytes:
    """The card's UID (GET DATA ``FF CA 00 00 00``), e.g. 4 or 7 bytes.

    Raises:
        UnsupportedError: the reader or card has no UID to give (a contact card).
        ContactlessError: another status word.
        SmartcardException: as :meth:`~aioscard.connection.CardConnection.transmit` raises.

    Cancellation: as for :meth:`~aioscard.connection.CardConnection.transmit`.
    """
    return await _exchange(connection, get_uid_apdu(), "GET DATA (UID)")


async def get_ats(connection: CardConnection) -> bytes:
    """The ISO 14443-4 answer to select (GET DATA ``FF CA 01 00 00``).

    Raises:
        UnsupportedError: the card has no ATS (MIFARE Classic, contact cards).
        ContactlessError, SmartcardException: as for :func:`get_uid`.

    Cancellation: as for :meth:`~aioscard.connection.CardConnection.transmit`.
    """
    return await _exchange(connection, get_ats_apdu(), "GET DATA (ATS)")


async def load_key(
    connection: CardConnection, key: ByteInput, key_number: int = 0, *, nonvolatile: bool = False
) -> None:
    """Load ``key`` into the reader's key slot ``key_number`` (LOAD KEYS ``FF 82``).

    The key never appears in aioscard's logs or traces (``FF 82`` is redacted).

    Raises:
        TypeError, ValueError: bad arguments (see :func:`load_key_apdu`), before any I/O.
        ContactlessError: the reader refused (e.g. ``69 86`` a slot it does not have).
        SmartcardException: as :meth:`~aioscard.connection.CardConnection.transmit` raises.

    Cancellation: as for :meth:`~aioscard.connection.CardConnection.transmit`.
    """
    apdu = load_key_apdu(key, key_number, nonvolatile=nonvolatile)
    await _exchange(connection, apdu, f"LOAD KEYS into slot {key_number}")


async def authenticate(
    connection: CardConnection,
    block: int,
    key_type: KeyType | int = KeyType.A,
    key_number: int = 0,
) -> None:
    """Authenticate ``block`` (and so its sector) with the key in slot ``key_number``
    (GENERAL AUTHENTICATE ``FF 86``).

    Raises:
        TypeError, ValueError: bad arguments, before any I/O.
        AuthenticationError: the key does not open the sector (``63 00``).
        ContactlessError, SmartcardException: other failures.

    Cancellation: as for :meth:`~aioscard.connection.CardConnection.transmit`.
    """
    apdu = authenticate_apdu(block, key_type, key_number)
    try:
        name = KeyType(key_type).name
    except ValueError:
        name = f"{key_type:02X}"
    await _exchange(connection, apdu, f"GENERAL AUTHENTICATE of block {block} with key {name}")


async def read_binary(connection: CardConnection, block: int, length: int = 16) -> bytes:
    """Read ``length`` bytes from ``block`` of a storage card (READ BINARY ``FF B0``).

    Raises:
        TypeError, ValueError: bad arguments, before any I/O.
        SecurityStatusError: the sector needs authentication first (``69 82``).
        AddressError: no such block (``6A 82``).
        ContactlessError, SmartcardException: other failures.

    Cancellation: as for :meth:`~aioscard.connection.CardConnection.transmit`.
    """
    apdu = read_binary_apdu(block, length)
    return await _exchange(connection, apdu, f"READ BINARY of block {block}")


async def update_binary(connection: CardConnection, block: int, data: ByteInput) -> None:
    """Write ``data`` to ``block`` of a storage card (UPDATE BINARY ``FF D6``).

    Raises:
        TypeError, ValueError: bad arguments, before any I/O.
        SecurityStatusError: the sector needs authentication first.
        OperationFailedError: the card refused the write (``63 00``; e.g. block 0).
        AddressError, ContactlessError, SmartcardException: other failures.

    Cancellation: as for :meth:`~aioscard.connection.CardConnection.transmit`.
    """
    apdu = update_binary_apdu(block, data)
    await _exchange(connection, apdu, f"UPDATE BINARY of block {block}")


async def read_uid_or_none(reader: str) -> bytes | None:
    """Connect to the card in ``reader`` (shared), read its UID, disconnect: ``None``
    when the card has none or cannot be reached (removed, held exclusively, ...).

    What ``card_events(uid=True)`` calls once per insertion.  Never raises
    for card or PC/SC failures.  The connect, GET DATA and disconnect run as
    one job on a pooled worker thread with a PC/SC context of its own
    (SCardEstablishContext, SCardConnect, SCardTransmit, SCardDisconnect,
    SCardReleaseContext).

    Cancellation: returns at once; the job finishes on the worker and
    releases what it took.
    """
    if not isinstance(reader, str):
        raise TypeError(f"reader must be a reader name, not {type(reader).__name__}")
    try:
        return await with_context(partial(_read_uid_job, reader))
    except (SmartcardException, SWException):
        return None


def _read_uid_job(reader: str, api: PCSCAPI, context: int) -> bytes:
    handle, protocol = api.connect(
        context, reader, C.SCARD_SHARE_SHARED, C.SCARD_PROTOCOL_T0 | C.SCARD_PROTOCOL_T1
    )
    try:
        raw = api.transmit(handle, protocol, get_uid_apdu())
    finally:
        try:
            api.disconnect(handle, C.SCARD_LEAVE_CARD)
        except SmartcardException:
            pass  # the card went: nothing left to disconnect
    return check_response(Response.from_raw(raw), "GET DATA (UID)", ins=_INS_GET_DATA)


# ---------------------------------------------------------------------------
# The ATR


def storage_card_name(atr: ATRInput) -> str | None:
    """The storage card's name from a PC/SC part 3 ATR (``"MIFARE Classic 1K"``), or
    ``None`` when the ATR is not a storage card's or names no card.

    Raises:
        TypeError, ValueError: ``atr`` is not a valid ATR (see :class:`~aioscard.atr.ATR`).
    """
    card = ATR(atr).storage_card
    if card is None or card.card_name_code == 0:
        return None
    if card.card_name == "unknown":
        return f"unknown storage card {card.card_name_code:04X}"
    return card.card_name
