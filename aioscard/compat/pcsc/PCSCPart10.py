"""pyscard's ``smartcard.pcsc.PCSCPart10``: PC/SC Part 10 reader features, synchronously.

Same names and results as pyscard: feature lists are ``[[name, control_code], ...]``
with names such as ``"FEATURE_VERIFY_PIN_DIRECT"``, properties are dicts keyed by
pyscard's names plus ``"raw"``, and ``Features``/``Properties`` map names to tags
and tags to names.  Like pyscard's module, it also exports ``smartcard.scard``'s
names (``SCARD_CTL_CODE``, ``SCARD_SHARE_DIRECT``...).

Where pyscard would raise ``IndexError`` or read past a malformed answer, this
module raises :class:`aioscard.exceptions.MalformedAnswerException` (a
``ValueError``) naming the problem; ``parseFeatureRequest`` leaves its argument
as it is (pyscard empties the list it is given).  The typed async API is in
:mod:`aioscard.part10` and on ``aioscard.CardConnection``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from aioscard import part10 as _part10

from ..scard import *  # noqa: F403  (pyscard's module does the same)
from ..scard import __all__ as _scard_all

if TYPE_CHECKING:
    from aioscard.util import ByteInput

__all__ = [
    "CM_IOCTL_GET_FEATURE_REQUEST",
    "FEATURE_ABORT",
    "FEATURE_CCID_ESC_COMMAND",
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
    "PCSCv2_PART10_PROPERTY_bEntryValidationCondition",
    "PCSCv2_PART10_PROPERTY_bMaxPINSize",
    "PCSCv2_PART10_PROPERTY_bMinPINSize",
    "PCSCv2_PART10_PROPERTY_bPPDUSupport",
    "PCSCv2_PART10_PROPERTY_bTimeOut2",
    "PCSCv2_PART10_PROPERTY_dwMaxAPDUDataSize",
    "PCSCv2_PART10_PROPERTY_sFirmwareID",
    "PCSCv2_PART10_PROPERTY_wIdProduct",
    "PCSCv2_PART10_PROPERTY_wIdVendor",
    "PCSCv2_PART10_PROPERTY_wLcdLayout",
    "PCSCv2_PART10_PROPERTY_wLcdMaxCharacters",
    "PCSCv2_PART10_PROPERTY_wLcdMaxLines",
    "Features",
    "Properties",
    "getFeatureRequest",
    "getPinProperties",
    "getTlvProperties",
    "hasFeature",
    "parseFeatureRequest",
    "parseTlvProperties",
    *_scard_all,
]

CM_IOCTL_GET_FEATURE_REQUEST = _part10.CM_IOCTL_GET_FEATURE_REQUEST

# The tags pyscard knows (PC/SC Part 10 v2.02.07), from aioscard.part10's enums; plain
# ints, as pyscard has them.
FEATURE_VERIFY_PIN_START = int(_part10.Feature.VERIFY_PIN_START)
FEATURE_VERIFY_PIN_FINISH = int(_part10.Feature.VERIFY_PIN_FINISH)
FEATURE_MODIFY_PIN_START = int(_part10.Feature.MODIFY_PIN_START)
FEATURE_MODIFY_PIN_FINISH = int(_part10.Feature.MODIFY_PIN_FINISH)
FEATURE_GET_KEY_PRESSED = int(_part10.Feature.GET_KEY_PRESSED)
FEATURE_VERIFY_PIN_DIRECT = int(_part10.Feature.VERIFY_PIN_DIRECT)
FEATURE_MODIFY_PIN_DIRECT = int(_part10.Feature.MODIFY_PIN_DIRECT)
FEATURE_MCT_READER_DIRECT = int(_part10.Feature.MCT_READER_DIRECT)
FEATURE_MCT_UNIVERSAL = int(_part10.Feature.MCT_UNIVERSAL)
FEATURE_IFD_PIN_PROPERTIES = int(_part10.Feature.IFD_PIN_PROPERTIES)
FEATURE_ABORT = int(_part10.Feature.ABORT)
FEATURE_SET_SPE_MESSAGE = int(_part10.Feature.SET_SPE_MESSAGE)
FEATURE_VERIFY_PIN_DIRECT_APP_ID = int(_part10.Feature.VERIFY_PIN_DIRECT_APP_ID)
FEATURE_MODIFY_PIN_DIRECT_APP_ID = int(_part10.Feature.MODIFY_PIN_DIRECT_APP_ID)
FEATURE_WRITE_DISPLAY = int(_part10.Feature.WRITE_DISPLAY)
FEATURE_GET_KEY = int(_part10.Feature.GET_KEY)
FEATURE_IFD_DISPLAY_PROPERTIES = int(_part10.Feature.IFD_DISPLAY_PROPERTIES)
FEATURE_GET_TLV_PROPERTIES = int(_part10.Feature.GET_TLV_PROPERTIES)
FEATURE_CCID_ESC_COMMAND = int(_part10.Feature.CCID_ESC_COMMAND)

#: Feature name -> tag, and tag -> name.
Features: dict[Any, Any] = {
    name: value
    for name, value in sorted(globals().items())
    if name.startswith("FEATURE_") and isinstance(value, int)
}

PCSCv2_PART10_PROPERTY_wLcdLayout = int(_part10.Property.wLcdLayout)
PCSCv2_PART10_PROPERTY_bEntryValidationCondition = int(_part10.Property.bEntryValidationCondition)
PCSCv2_PART10_PROPERTY_bTimeOut2 = int(_part10.Property.bTimeOut2)
PCSCv2_PART10_PROPERTY_wLcdMaxCharacters = int(_part10.Property.wLcdMaxCharacters)
PCSCv2_PART10_PROPERTY_wLcdMaxLines = int(_part10.Property.wLcdMaxLines)
PCSCv2_PART10_PROPERTY_bMinPINSize = int(_part10.Property.bMinPINSize)
PCSCv2_PART10_PROPERTY_bMaxPINSize = int(_part10.Property.bMaxPINSize)
PCSCv2_PART10_PROPERTY_sFirmwareID = int(_part10.Property.sFirmwareID)
PCSCv2_PART10_PROPERTY_bPPDUSupport = int(_part10.Property.bPPDUSupport)
PCSCv2_PART10_PROPERTY_dwMaxAPDUDataSize = int(_part10.Property.dwMaxAPDUDataSize)
PCSCv2_PART10_PROPERTY_wIdVendor = int(_part10.Property.wIdVendor)
PCSCv2_PART10_PROPERTY_wIdProduct = int(_part10.Property.wIdProduct)

#: Property name -> tag, and tag -> name.
Properties: dict[Any, Any] = {
    name: value
    for name, value in sorted(globals().items())
    if name.startswith("PCSCv2_PART10_PROPERTY_") and isinstance(value, int)
}

Features.update({value: name for name, value in list(Features.items())})
Properties.update({value: name for name, value in list(Properties.items())})


class _Controllable(Protocol):
    def control(self, controlCode: int, command: ByteInput | None = ...) -> list[int]: ...


def parseFeatureRequest(response: ByteInput) -> list[list[Any]]:
    """The features in a ``CM_IOCTL_GET_FEATURE_REQUEST`` answer, as
    ``[["FEATURE_VERIFY_PIN_DIRECT", control_code], ...]``; tags pyscard does
    not name are left out.

    Raises:
        MalformedAnswerException: the answer is not 6-byte entries of tag, 04, code.
    """
    parsed = _part10.parse_features(response)
    return [[Features[tag], code] for tag, code in parsed.items() if tag in Features]


def getFeatureRequest(cardConnection: _Controllable) -> list[list[Any]]:
    """Ask the reader behind ``cardConnection`` for its features (SCardControl with
    ``CM_IOCTL_GET_FEATURE_REQUEST``); see :func:`parseFeatureRequest`.

    Raises:
        SmartcardException: as ``cardConnection.control`` raises (e.g. a reader
            without control codes), MalformedAnswerException.
    """
    return parseFeatureRequest(cardConnection.control(CM_IOCTL_GET_FEATURE_REQUEST, []))


def hasFeature(featureList: list[list[Any]], feature: int | str) -> int | None:
    """The control code of ``feature`` (a tag or a ``"FEATURE_..."`` name) in
    ``featureList``, or ``None``."""
    for name, code in featureList:
        if feature in (name, Features.get(name)):
            return int(code)
    return None


def _control_code(
    cardConnection: _Controllable,
    featureList: list[list[Any]] | None,
    controlCode: int | None,
    feature: int,
) -> int | None:
    if controlCode is not None:
        return controlCode
    if featureList is None:
        featureList = getFeatureRequest(cardConnection)
    return hasFeature(featureList, feature)


def getPinProperties(
    cardConnection: _Controllable,
    featureList: list[list[Any]] | None = None,
    controlCode: int | None = None,
) -> dict[str, Any]:
    """The reader's PIN_PROPERTIES_STRUCTURE as a dict: ``raw``, ``LcdLayoutX``,
    ``LcdLayoutY``, ``EntryValidationCondition``, ``TimeOut2``; ``{"raw": []}``
    when the reader lacks ``FEATURE_IFD_PIN_PROPERTIES``.

    Raises:
        MalformedAnswerException: the answer is not the 4-byte structure.
    """
    code = _control_code(cardConnection, featureList, controlCode, FEATURE_IFD_PIN_PROPERTIES)
    if code is None:
        return {"raw": []}
    response = cardConnection.control(code, [])
    properties = _part10.parse_pin_properties(response)
    return {
        "raw": response,
        "LcdLayoutX": properties.lcd_characters,
        "LcdLayoutY": properties.lcd_lines,
        "EntryValidationCondition": properties.entry_validation_condition,
        "TimeOut2": properties.timeout2,
    }


def getTlvProperties(
    cardConnection: _Controllable,
    featureList: list[list[Any]] | None = None,
    controlCode: int | None = None,
) -> dict[str, Any]:
    """The reader's TLV properties (see :func:`parseTlvProperties`);
    ``{"raw": []}`` when it lacks ``FEATURE_GET_TLV_PROPERTIES``."""
    code = _control_code(cardConnection, featureList, controlCode, FEATURE_GET_TLV_PROPERTIES)
    if code is None:
        return {"raw": []}
    return parseTlvProperties(cardConnection.control(code, []))


def parseTlvProperties(response: ByteInput) -> dict[str, Any]:
    """A GET_TLV_PROPERTIES answer as a dict: ``raw`` (the answer as given) and one
    entry per property under pyscard's name (``PCSCv2_PART10_PROPERTY_wIdVendor``
    ...): ``sFirmwareID`` as text, 1-, 2- and 4-byte values as little-endian
    ints, other lengths as a list of bytes; a tag pyscard does not name goes
    under ``"UNKNOWN"``.

    Raises:
        MalformedAnswerException: an entry runs past the end of the answer.
    """
    result: dict[str, Any] = {"raw": response}
    for _offset, tag, value in _part10.iter_tlv(response):
        decoded: Any
        if tag == PCSCv2_PART10_PROPERTY_sFirmwareID:
            decoded = value.decode("latin-1")
        elif len(value) in (1, 2, 4):
            decoded = int.from_bytes(value, "little")
        else:
            decoded = list(value)
        result[Properties.get(tag, "UNKNOWN")] = decoded
    return result
