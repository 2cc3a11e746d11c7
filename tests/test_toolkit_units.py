"""The toolkit without pcscd: the demo card's file system, channels and chaining called
directly, and the parsers of card answers under hypothesis."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aioscard import tlv
from aioscard.apdu import build_apdu
from aioscard.iso7816 import CardCapabilities, FileControl
from aioscard.testing import (
    CAPABILITIES_ATR,
    DEFAULT_PIN,
    FID_FILES_DF,
    FID_RECORD_EF,
    FID_TRANSPARENT_EF,
    FILES_AID,
    FILES_RECORDS,
    FILES_TRANSPARENT,
    DemoCard,
    DropConnection,
    echo_apdu,
    verify_apdu,
)
from aioscard.transport import TransportOptions, exchange, with_channel

OK = b"\x90\x00"


def sw(answer: bytes) -> int:
    return int.from_bytes(answer[-2:], "big")


def select_path(*fids: int, p2: int = 0x0C) -> bytes:
    data = b"".join(fid.to_bytes(2, "big") for fid in fids)
    return build_apdu(0x00, 0xA4, 0x08, p2, data, None if p2 == 0x0C else 256)


# -- file system -----------------------------------------------------------------------------


def test_select_answers_fci_fcp_fmd_only_when_le_is_present() -> None:
    card = DemoCard()
    assert card(select_path(FID_FILES_DF, FID_TRANSPARENT_EF, p2=0x0C)) == OK
    fci = card(select_path(FID_FILES_DF, FID_TRANSPARENT_EF, p2=0x00))
    assert fci[-2:] == OK
    parsed = FileControl.from_bytes(fci[:-2])
    assert (parsed.fid, parsed.size, parsed.sfi, parsed.structure) == (
        FID_TRANSPARENT_EF,
        700,
        1,
        "transparent",
    )
    fcp = tlv.parse_one(card(select_path(FID_FILES_DF, p2=0x04))[:-2])
    assert fcp.tag == 0x62
    fmd = tlv.parse_one(card(select_path(FID_FILES_DF, p2=0x08))[:-2])
    assert fmd.tag == 0x64
    assert fmd.find(0x50) == tlv.TLV(0x50, b"aioscard files")
    # Without Le, no data even with P2 00 (ISO case 3).
    assert card(build_apdu(0x00, 0xA4, 0x04, 0x00, FILES_AID)) == OK


def test_select_parent_child_and_wrong_kinds() -> None:
    card = DemoCard()
    assert card(build_apdu(0x00, 0xA4, 0x01, 0x0C, FID_FILES_DF.to_bytes(2, "big"))) == OK
    assert card(build_apdu(0x00, 0xA4, 0x02, 0x0C, FID_RECORD_EF.to_bytes(2, "big"))) == OK
    # P1 01 wants a DF, P1 02 an EF.
    assert sw(card(build_apdu(0x00, 0xA4, 0x01, 0x0C, FID_RECORD_EF.to_bytes(2, "big")))) == 0x6A82
    assert card(build_apdu(0x00, 0xA4, 0x03, 0x0C)) == OK  # to the parent: the MF
    assert sw(card(build_apdu(0x00, 0xA4, 0x02, 0x0C, FID_RECORD_EF.to_bytes(2, "big")))) == 0x6A82
    assert sw(card(build_apdu(0x00, 0xA4, 0x08, 0x0C, b"\x50"))) == 0x6A80
    assert sw(card(build_apdu(0x00, 0xA4, 0x07, 0x0C, b"\x50\x00"))) == 0x6A86


def test_records_and_le() -> None:
    card = DemoCard()
    card(select_path(FID_FILES_DF, FID_RECORD_EF))
    assert card(build_apdu(0x00, 0xB2, 2, 0x04, b"", 256)) == FILES_RECORDS[1] + OK
    assert card(build_apdu(0x00, 0xB2, 2, 0x04, b"", 4)) == b"\x6c\x10"
    assert card(build_apdu(0x00, 0xB2, 2, 0x04, b"", 20)) == FILES_RECORDS[1] + b"\x62\x82"
    assert sw(card(build_apdu(0x00, 0xB2, 9, 0x04, b"", 256))) == 0x6A83
    assert sw(card(build_apdu(0x00, 0xB0, 0, 0, b"", 256))) == 0x6981  # not transparent
    assert card(build_apdu(0x00, 0xB2, 1, 0x0C, b"", 256))[-2:] == b"\x69\x81"  # SFI 1


def test_updates_need_the_pin_and_stay_on_this_card() -> None:
    card = DemoCard()
    card(select_path(FID_FILES_DF, FID_TRANSPARENT_EF))
    update = build_apdu(0x00, 0xD6, 0x00, 0x02, b"ab")
    assert sw(card(update)) == 0x6982
    assert card(verify_apdu(DEFAULT_PIN)) == OK
    assert card(update) == OK
    assert card(build_apdu(0x00, 0xB0, 0, 0, b"", 4)) == FILES_TRANSPARENT[:2] + b"ab" + OK
    fresh = DemoCard()
    fresh(select_path(FID_FILES_DF, FID_TRANSPARENT_EF))
    assert fresh(build_apdu(0x00, 0xB0, 0, 0, b"", 4)) == FILES_TRANSPARENT[:4] + OK
    card.reset()  # power-on: volatile state goes, the files' content stays
    card(select_path(FID_FILES_DF, FID_TRANSPARENT_EF))
    assert card(build_apdu(0x00, 0xB0, 0, 2, b"", 2)) == b"ab" + OK


def test_odd_read_binary_takes_an_offset_data_object() -> None:
    card = DemoCard()
    card(select_path(FID_FILES_DF, FID_TRANSPARENT_EF))
    answer = card(build_apdu(0x00, 0xB1, 0x00, 0x00, bytes.fromhex("5402012C"), 14))
    assert answer == bytes.fromhex("530A") + FILES_TRANSPARENT[300:310] + OK
    at_end = card(build_apdu(0x00, 0xB1, 0x00, 0x00, bytes.fromhex("540202B8"), 14))
    assert at_end == bytes.fromhex("5304") + FILES_TRANSPARENT[696:] + b"\x62\x82"
    assert sw(card(build_apdu(0x00, 0xB1, 0x00, 0x00, bytes.fromhex("540202BC"), 14))) == 0x6B00
    assert sw(card(build_apdu(0x00, 0xB1, 0x00, 0x00, bytes.fromhex("53020000"), 14))) == 0x6A80
    assert sw(card(build_apdu(0x00, 0xB1, 0x00, 0x00, bytes.fromhex("5402"), 14))) == 0x6A80
    assert sw(card(build_apdu(0x00, 0xB1, 0x00, 0x00, bytes.fromhex("540100"), 3))) == 0x6700


# -- channels ---------------------------------------------------------------------------------


def test_manage_channel_and_class_bytes() -> None:
    card = DemoCard()
    assert card(bytes.fromhex("0070000001")) == b"\x01" + OK
    assert card(bytes.fromhex("00700013")) == OK  # channel 19 by number
    assert card.open_channels == [0, 1, 19]
    assert sw(card(bytes.fromhex("00700013"))) == 0x6A81  # already open
    assert sw(card(bytes.fromhex("00700014"))) == 0x6A81  # no channel 20
    for cla in (0x81, 0xCF):  # the proprietary ECHO on channels 1 and 19
        assert card(bytes([cla]) + echo_apdu(b"x")[1:]) == b"x" + OK, hex(cla)
    assert card(bytes.fromhex("4FCA9F7F00"))[-2:] == OK  # GET DATA, interindustry, channel 19
    assert sw(card(bytes([with_channel(0x80, 2)]) + echo_apdu(b"x")[1:])) == 0x6881  # closed
    assert sw(card(bytes([0x84]) + echo_apdu(b"x")[1:])) == 0x6882  # secure messaging
    assert sw(card(bytes.fromhex("20EE000000"))) == 0x6E00
    assert card(bytes.fromhex("01708000")) == OK  # close the channel named in CLA
    assert sw(card(bytes.fromhex("00708000"))) == 0x6A81  # the basic channel stays
    assert card(bytes.fromhex("00708013")) == OK
    assert card.open_channels == [0]
    card(bytes.fromhex("0070000001"))
    card.reset()
    assert card.open_channels == [0]


def test_a_channel_opened_from_another_inherits_its_current_file() -> None:
    card = DemoCard()
    card(bytes.fromhex("0070000001"))
    card(bytes([0x01]) + select_path(FID_FILES_DF, FID_TRANSPARENT_EF)[1:])
    assert card(bytes.fromhex("0170000001")) == b"\x02" + OK
    assert card(bytes.fromhex("02B0000002")) == FILES_TRANSPARENT[:2] + OK
    assert sw(card(bytes.fromhex("00B0000002"))) == 0x6986  # the basic channel: no EF


def test_no_free_channel_and_no_channels() -> None:
    card = DemoCard(channels=3)
    assert card(bytes.fromhex("0070000001")) == b"\x01" + OK
    assert card(bytes.fromhex("0070000001")) == b"\x02" + OK
    assert sw(card(bytes.fromhex("0070000001"))) == 0x6A81
    with pytest.raises(ValueError, match="channels"):
        DemoCard(channels=21)


# -- chaining -----------------------------------------------------------------------------


def test_chaining_assembles_the_command_and_serves_a_long_answer() -> None:
    card = DemoCard()
    data = bytes(range(256)) * 2
    first = build_apdu(0x90, 0xEE, 0x00, 0x00, data[:255])
    second = build_apdu(0x90, 0xEE, 0x00, 0x00, data[255:510])
    last = build_apdu(0x80, 0xEE, 0x00, 0x00, data[510:], 256)
    assert card(first) == OK
    assert card(second) == OK
    answer = card(last)
    assert answer == data[:256] + b"\x61\x00"
    assert card(bytes.fromhex("00C0000000")) == data[256:] + OK
    # A chain that changes command is refused, and forgotten.
    card(first)
    assert sw(card(build_apdu(0x80, 0xCA, 0x9F, 0x7F, b"", 256))) == 0x6883
    assert card(echo_apdu(b"ok")) == b"ok" + OK
    assert sw(DemoCard(chaining=False)(first)) == 0x6884
    assert sw(DemoCard(extended_length=False)(echo_apdu(b"x", extended=True))) == 0x6700


@given(data=st.binary(min_size=1, max_size=2000), limit=st.integers(1, 255))
@settings(max_examples=50, deadline=None)
def test_exchange_against_the_demo_card_delivers_any_data(data: bytes, limit: int) -> None:
    card = DemoCard(extended_length=False)
    options = TransportOptions(get_response=True, chain_limit=limit)
    # Extended only where the data needs it: a command within the limit goes as it is.
    command = build_apdu(0x80, 0xEE, 0x00, 0x00, data, 256 if len(data) <= 255 else 65536)
    raw = exchange(card, command, options)
    assert raw == data + OK


# -- parsers of card answers ----------------------------------------------------------------


@settings(deadline=None)  # no timed assertions: a loaded machine is slow
@given(st.binary(max_size=80))
def test_file_control_parses_or_raises_a_tlv_error(data: bytes) -> None:
    try:
        control = FileControl.from_bytes(data)
    except tlv.TLVError:
        return
    assert control.structure in (None, "DF", "unknown") or control.structure.islower()


@settings(deadline=None)  # no timed assertions: a loaded machine is slow
@given(st.binary(max_size=3))
def test_card_capabilities_from_any_bytes(data: bytes) -> None:
    capabilities = CardCapabilities.from_bytes(data)
    assert 1 <= capabilities.logical_channels <= 8
    assert capabilities.max_command_data in (255, 65535)
    options = capabilities.transport_options()
    assert (options.chain_limit is not None) == capabilities.command_chaining


def test_capabilities_of_the_capabilities_atr() -> None:
    capabilities = CardCapabilities.from_atr(CAPABILITIES_ATR)
    assert capabilities == CardCapabilities(0xF6, 0x21, True, True, 8)
    assert capabilities.max_response_data == 65536


@settings(max_examples=300, deadline=None)
@given(st.binary(min_size=4, max_size=300))
def test_the_demo_card_answers_any_command_with_a_status_word(apdu: bytes) -> None:
    if apdu[1] == 0xDD:
        return  # DELAY sleeps
    card = DemoCard()
    try:
        answer = card(apdu)
    except DropConnection:
        assert apdu[1] == 0xDF
        return
    assert len(answer) >= 2
    assert answer[-2] in (0x61, 0x62, 0x63, 0x67, 0x68, 0x69, 0x6A, 0x6B, 0x6C, 0x6D, 0x6E, 0x90)
