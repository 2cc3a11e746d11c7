"""The reader-level operations behind ``CardConnection.features()``, ``pin_properties()``,
``tlv_properties()``, ``verify_pin_pinpad()``, ``modify_pin_pinpad()`` and ``info()``.

Each is a few calls of the connection's public ``control()`` and
``getAttrib()`` around the pure encoders and parsers of :mod:`aioscard.part10`
and :mod:`aioscard.readerinfo`; the connection's methods delegate here.
"""

from __future__ import annotations

import logging
import weakref
from types import MappingProxyType
from typing import TYPE_CHECKING

from .apdu import Response
from .exceptions import (
    InsufficientBufferException,
    InvalidParameterException,
    InvalidResponseException,
    MalformedAnswerException,
    NotTransactedException,
    PinEntryException,
    PinEntryTimeoutException,
    UnsupportedFeatureException,
)
from .part10 import (
    CM_IOCTL_GET_FEATURE_REQUEST,
    Feature,
    PinModifyStructure,
    PinProperties,
    PinVerifyStructure,
    TlvProperties,
    parse_features,
    parse_pin_properties,
    parse_tlv_properties,
    require_feature,
)
from .readerinfo import ATTRIBUTES, ReaderInfo

if TYPE_CHECKING:
    from collections.abc import Mapping

    from .connection import CardConnection

__all__ = [
    "features",
    "info",
    "modify_pin_pinpad",
    "pin_properties",
    "tlv_properties",
    "verify_pin_pinpad",
]

_log = logging.getLogger("aioscard.part10")

# A reader's feature list does not change: asked once per connection.
_features: weakref.WeakKeyDictionary[CardConnection, Mapping[int, int]] = (
    weakref.WeakKeyDictionary()
)

# What a reader answers instead of the card's response when PIN entry fails
# (PC/SC Part 10, CCID): 64 00 timeout, 64 01 cancel key, 64 02 the new PIN's two
# entries differ, 64 03 too few or too many digits.
_PIN_ENTRY_FAILURES = {
    0x6401: "the user cancelled PIN entry on the pinpad",
    0x6402: "the two entries of the new PIN differ",
    0x6403: "the PIN typed on the pinpad was too short or too long",
}


async def features(connection: CardConnection) -> Mapping[int, int]:
    """CM_IOCTL_GET_FEATURE_REQUEST, parsed; empty for a reader without Part 10."""
    known = _features.get(connection)
    if known is not None:
        return known
    try:
        raw = await connection.control(CM_IOCTL_GET_FEATURE_REQUEST)
    except UnsupportedFeatureException:
        raw = []  # the driver has no control codes at all (vpcd, many contactless readers)
    parsed = parse_features(raw)
    _features[connection] = parsed
    return parsed


async def _feature_answer(connection: CardConnection, feature: Feature, data: bytes) -> list[int]:
    code = require_feature(await features(connection), feature)
    return await connection.control(code, data)


async def pin_properties(connection: CardConnection) -> PinProperties:
    """FEATURE_IFD_PIN_PROPERTIES, parsed."""
    return parse_pin_properties(await _feature_answer(connection, Feature.IFD_PIN_PROPERTIES, b""))


async def tlv_properties(connection: CardConnection) -> TlvProperties:
    """FEATURE_GET_TLV_PROPERTIES, parsed."""
    return parse_tlv_properties(await _feature_answer(connection, Feature.GET_TLV_PROPERTIES, b""))


def _pin_entry_response(raw: list[int]) -> Response:
    if len(raw) < 2:
        raise InvalidResponseException(
            f"the pinpad answered {len(raw)} byte(s), not a response APDU (at least SW1 SW2)"
        )
    response = Response(raw[:-2], raw[-2], raw[-1])
    if response.sw == 0x6400 and not response.data:
        raise PinEntryTimeoutException(
            "no PIN was typed on the pinpad before its timeout (64 00)", sw=0x6400
        )
    failure = _PIN_ENTRY_FAILURES.get(response.sw) if not response.data else None
    if failure is not None:
        raise PinEntryException(
            f"{failure} ({response.sw1:02X} {response.sw2:02X})", sw=response.sw
        )
    return response


async def verify_pin_pinpad(connection: CardConnection, structure: PinVerifyStructure) -> Response:
    """FEATURE_VERIFY_PIN_DIRECT with ``structure``; the card's answer."""
    if not isinstance(structure, PinVerifyStructure):
        raise TypeError(f"structure must be a PinVerifyStructure, not {type(structure).__name__}")
    raw = await _feature_answer(connection, Feature.VERIFY_PIN_DIRECT, structure.to_bytes())
    return _pin_entry_response(raw)


async def modify_pin_pinpad(connection: CardConnection, structure: PinModifyStructure) -> Response:
    """FEATURE_MODIFY_PIN_DIRECT with ``structure``; the card's answer."""
    if not isinstance(structure, PinModifyStructure):
        raise TypeError(f"structure must be a PinModifyStructure, not {type(structure).__name__}")
    raw = await _feature_answer(connection, Feature.MODIFY_PIN_DIRECT, structure.to_bytes())
    return _pin_entry_response(raw)


# Errors that mean "this reader does not have that attribute or feature": pcsc-lite
# turns a driver's "unknown tag" into UNSUPPORTED_FEATURE and its other failures into
# NOT_TRANSACTED; other stacks answer INVALID_PARAMETER or INSUFFICIENT_BUFFER.
_ABSENT = (
    UnsupportedFeatureException,
    InvalidParameterException,
    InsufficientBufferException,
    NotTransactedException,
)


async def info(connection: CardConnection) -> ReaderInfo:
    """Reader attributes and Part 10 answers; what the reader lacks stays absent."""
    values: dict[str, object] = {}
    for name, attribute, decode in ATTRIBUTES:
        try:
            raw = await connection.getAttrib(attribute)
        except _ABSENT:
            continue
        values[name] = decode(bytes(raw))
    try:
        offered = await features(connection)
    except (*_ABSENT, MalformedAnswerException) as error:
        _log.warning("%s: ignoring its Part 10 features: %s", connection.reader, error)
        offered = MappingProxyType({})
    pin: PinProperties | None = None
    tlv: TlvProperties | None = None
    if Feature.IFD_PIN_PROPERTIES in offered:
        try:
            pin = await pin_properties(connection)
        except (*_ABSENT, MalformedAnswerException) as error:
            _log.warning("%s: ignoring its PIN properties: %s", connection.reader, error)
    if Feature.GET_TLV_PROPERTIES in offered:
        try:
            tlv = await tlv_properties(connection)
        except (*_ABSENT, MalformedAnswerException) as error:
            _log.warning("%s: ignoring its TLV properties: %s", connection.reader, error)
    return ReaderInfo(
        connection.reader,
        features=offered,
        pin_properties=pin,
        tlv_properties=tlv,
        **values,  # type: ignore[arg-type]
    )
