"""The shim's ``smartcard.pcsc.PCSCPart10``, reached as pyscard programs reach it.

pyscard's results (``[[name, code], ...]`` feature lists, dicts of properties,
``None`` from ``hasFeature``) over a connection whose reader answers like a
CCID pinpad; malformed answers raise the typed error instead of IndexError.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import aioscard.compat
from aioscard.exceptions import MalformedAnswerException, UnsupportedFeatureException
from aioscard.native import constants as C

aioscard.compat.install_as_smartcard()

if TYPE_CHECKING:
    from aioscard.compat.pcsc import PCSCPart10
    from aioscard.util import ByteInput
else:
    from smartcard.pcsc import PCSCPart10

FEATURES = bytes.fromhex(
    "06 04 42 33 00 06"  # VERIFY_PIN_DIRECT
    "0a 04 42 33 00 0a"  # IFD_PIN_PROPERTIES
    "12 04 42 33 00 12"  # GET_TLV_PROPERTIES
    "20 04 42 33 00 20"  # EXECUTE_PACE: not a name pyscard knows
)
TLV = bytes.fromhex("0b 02 e6 08  0c 02 25 34  06 01 04  08 03 31 2e 30  0a 04 05 01 00 00")


class Reader:
    """A connection stand-in: ``control`` answers like a CCID pinpad."""

    def __init__(self, features: bytes = FEATURES) -> None:
        self.features = features
        self.calls: list[int] = []

    def control(self, controlCode: int, command: ByteInput | None = None) -> list[int]:
        self.calls.append(controlCode)
        answers = {
            PCSCPart10.CM_IOCTL_GET_FEATURE_REQUEST: self.features,
            0x4233000A: bytes.fromhex("1002 02 1e"),
            0x42330012: TLV,
        }
        if controlCode not in answers:
            raise UnsupportedFeatureException(f"control code 0x{controlCode:08X}")
        return list(answers[controlCode])


def test_the_module_is_importable_under_pyscards_name() -> None:
    module = importlib.import_module("smartcard.pcsc.PCSCPart10")
    assert C.SCARD_CTL_CODE(3400) == module.CM_IOCTL_GET_FEATURE_REQUEST
    assert module.SCARD_CTL_CODE(1) == C.SCARD_CTL_CODE(1)  # scard's names come along
    assert module.SCARD_SHARE_DIRECT == C.SCARD_SHARE_DIRECT
    for name in module.__all__:
        assert hasattr(module, name), name


def test_name_tables_go_both_ways() -> None:
    assert PCSCPart10.Features["FEATURE_VERIFY_PIN_DIRECT"] == 6
    assert PCSCPart10.Features[6] == "FEATURE_VERIFY_PIN_DIRECT"
    assert PCSCPart10.Features[0x13] == "FEATURE_CCID_ESC_COMMAND"
    assert len(PCSCPart10.Features) == 2 * 19
    assert PCSCPart10.Properties[11] == "PCSCv2_PART10_PROPERTY_wIdVendor"
    assert len(PCSCPart10.Properties) == 2 * 12


def test_feature_request_as_pyscard_returns_it() -> None:
    reader = Reader()
    features = PCSCPart10.getFeatureRequest(reader)
    assert features == [
        ["FEATURE_VERIFY_PIN_DIRECT", 0x42330006],
        ["FEATURE_IFD_PIN_PROPERTIES", 0x4233000A],
        ["FEATURE_GET_TLV_PROPERTIES", 0x42330012],
    ]
    assert PCSCPart10.hasFeature(features, PCSCPart10.FEATURE_VERIFY_PIN_DIRECT) == 0x42330006
    assert PCSCPart10.hasFeature(features, "FEATURE_GET_TLV_PROPERTIES") == 0x42330012
    assert PCSCPart10.hasFeature(features, PCSCPart10.FEATURE_MODIFY_PIN_DIRECT) is None


def test_parse_feature_request_leaves_its_argument_alone() -> None:
    answer = list(FEATURES)
    assert len(PCSCPart10.parseFeatureRequest(answer)) == 3
    assert answer == list(FEATURES)


def test_pin_and_tlv_properties_as_pyscard_returns_them() -> None:
    reader = Reader()
    pin = PCSCPart10.getPinProperties(reader)
    assert pin == {
        "raw": [0x10, 0x02, 0x02, 0x1E],
        "LcdLayoutX": 0x10,
        "LcdLayoutY": 0x02,
        "EntryValidationCondition": 2,
        "TimeOut2": 30,
    }
    tlv = PCSCPart10.getTlvProperties(reader)
    assert tlv["raw"] == list(TLV)
    assert tlv["PCSCv2_PART10_PROPERTY_wIdVendor"] == 0x08E6
    assert tlv["PCSCv2_PART10_PROPERTY_wIdProduct"] == 0x3425
    assert tlv["PCSCv2_PART10_PROPERTY_bMinPINSize"] == 4
    assert tlv["PCSCv2_PART10_PROPERTY_sFirmwareID"] == "1.0"
    assert tlv["PCSCv2_PART10_PROPERTY_dwMaxAPDUDataSize"] == 261
    # With the feature list or the control code given, no GET_FEATURE_REQUEST is sent.
    reader.calls.clear()
    PCSCPart10.getTlvProperties(reader, controlCode=0x42330012)
    PCSCPart10.getPinProperties(reader, featureList=[["FEATURE_IFD_PIN_PROPERTIES", 0x4233000A]])
    assert PCSCPart10.CM_IOCTL_GET_FEATURE_REQUEST not in reader.calls


def test_a_reader_without_the_feature_gives_raw_only() -> None:
    reader = Reader(features=b"")
    assert PCSCPart10.getFeatureRequest(reader) == []
    assert PCSCPart10.getPinProperties(reader) == {"raw": []}
    assert PCSCPart10.getTlvProperties(reader) == {"raw": []}


def test_unknown_and_odd_length_tlv_entries_are_kept_as_pyscard_does() -> None:
    parsed = PCSCPart10.parseTlvProperties([0x42, 0x01, 0x07, 0x0B, 0x03, 1, 2, 3])
    assert parsed["UNKNOWN"] == 7
    assert parsed["PCSCv2_PART10_PROPERTY_wIdVendor"] == [1, 2, 3]


@pytest.mark.parametrize("answer", [[0x06, 0x04, 0x42], [0x06, 0x02, 0, 0, 0, 1]])
def test_malformed_feature_answers_are_typed_errors(answer: list[int]) -> None:
    with pytest.raises(MalformedAnswerException):
        PCSCPart10.parseFeatureRequest(answer)


@settings(deadline=None)  # no timed assertions: a loaded machine is slow
@given(st.binary(max_size=40))
def test_any_tlv_answer_parses_or_raises_the_typed_error(data: bytes) -> None:
    try:
        parsed = PCSCPart10.parseTlvProperties(list(data))
    except MalformedAnswerException:
        return
    assert parsed["raw"] == list(data)
