"""DemoCard's command interpreter and CommandAPDU, without any reader."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aioscard.testing import (
    DEMO_AID,
    DEMO_CPLC,
    DEMO_FILES,
    DROP_APDU,
    FID_DEMO_EF,
    FID_EF_DIR,
    CommandAPDU,
    DemoCard,
    DropConnection,
    change_pin_apdu,
    delay_apdu,
    echo_apdu,
    exact_length_apdu,
    get_challenge_apdu,
    get_response_apdu,
    long_response_apdu,
    long_response_data,
    read_binary_apdu,
    reset_retry_counter_apdu,
    select_aid_apdu,
    select_file_apdu,
    verify_apdu,
)
from aioscard.testing._atr import ATR_T0, ATR_T0_T1, ATR_T1, MASKABLE_ATR

OK = b"\x90\x00"

# No timed assertions: a loaded machine may take longer than hypothesis' default deadline.
UNTIMED = settings(deadline=None)


def sw(response: bytes) -> int:
    return int.from_bytes(response[-2:], "big")


# -- CommandAPDU ------------------------------------------------------------------------


@UNTIMED
@given(
    header=st.tuples(*[st.integers(0, 255)] * 4),
    data=st.binary(max_size=255),
    ne=st.none() | st.integers(1, 256),
)
def test_short_apdus_round_trip(
    header: tuple[int, int, int, int], data: bytes, ne: int | None
) -> None:
    command = CommandAPDU(*header, data=data, ne=ne)
    encoded = command.to_bytes()
    assert len(encoded) == 4 + (1 + len(data) if data else 0) + (ne is not None)
    assert CommandAPDU.parse(encoded) == command


@UNTIMED
@given(data=st.binary(max_size=2000), ne=st.none() | st.integers(1, 65536))
def test_extended_apdus_round_trip(data: bytes, ne: int | None) -> None:
    command = CommandAPDU(0x80, 0xEE, 0, 0, data, ne, extended=True)
    # A case-1 APDU (no data, no Le) has no length field to be extended.
    expected = command._replace(extended=bool(data) or ne is not None)
    assert CommandAPDU.parse(command.to_bytes()) == expected


@pytest.mark.parametrize(
    "raw",
    ["", "00A404", "00A4040002A0", "00A404000000", "00A40400000003AABB", "00A4040000000000"],
)
def test_malformed_apdus_are_rejected(raw: str) -> None:
    with pytest.raises(ValueError, match=r"apdu|Lc"):
        CommandAPDU.parse(bytes.fromhex(raw))
    if len(raw) >= 8:
        assert DemoCard()(bytes.fromhex(raw)) == b"\x67\x00"


def test_encoding_limits_are_checked() -> None:
    with pytest.raises(ValueError, match="data"):
        CommandAPDU(0, 0, 0, 0, bytes(256)).to_bytes()
    with pytest.raises(ValueError, match="ne"):
        CommandAPDU(0, 0, 0, 0, ne=257).to_bytes()
    with pytest.raises(ValueError, match=r"0\.\.255"):
        CommandAPDU(0, 256, 0, 0).to_bytes()


# -- ATRs -------------------------------------------------------------------------------


@pytest.mark.parametrize("atr", [ATR_T1, ATR_T0_T1])
def test_atrs_with_t1_have_a_correct_check_byte(atr: bytes) -> None:
    check = 0
    for byte in atr[1:]:
        check ^= byte
    assert check == 0


def test_atr_constants() -> None:
    assert ATR_T0[:2] == b"\x3b\x08"
    assert len(MASKABLE_ATR) == 32
    assert MASKABLE_ATR.hex(" ").upper() == (
        "3B 7F 96 00 00 80 31 80 65 B0 84 41 82 54 43 4F "
        "53 70 02 47 00 44 32 76 00 00 00 00 00 00 00 00"
    )


# -- ECHO and lengths -------------------------------------------------------------------


@UNTIMED
@given(data=st.binary(max_size=65535))
def test_extended_echo_returns_any_data(data: bytes) -> None:
    assert DemoCard()(echo_apdu(data, extended=True)) == data + OK


@UNTIMED
@given(data=st.binary(max_size=255))
def test_short_echo_returns_any_data(data: bytes) -> None:
    assert DemoCard()(echo_apdu(data)) == data + OK


def test_longest_echo() -> None:
    data = bytes(range(256)) * 255 + bytes(range(255))
    assert len(data) == 65535
    assert DemoCard()(echo_apdu(data, extended=True)) == data + OK
    with pytest.raises(ValueError, match="data"):
        echo_apdu(data + b"\x00", extended=True)
    with pytest.raises(ValueError, match="data"):
        echo_apdu(bytes(256))


def test_echo_without_le() -> None:
    assert DemoCard()(bytes.fromhex("80EE000002ABCD")) == bytes.fromhex("ABCD9000")


@UNTIMED
@given(length=st.integers(0, 3000), le=st.sampled_from([256, 100, 1]))
def test_get_response_chain_delivers_everything(length: int, le: int) -> None:
    card = DemoCard()
    answer = card(long_response_apdu(length))
    received = b""
    while answer[-2] == 0x61:
        assert answer[-1] == min(length - len(received), 256) & 0xFF
        answer = card(get_response_apdu(le))
        received += answer[:-2]
    assert answer[-2:] == OK
    assert received == long_response_data(length)


def test_get_response_without_pending_data() -> None:
    card = DemoCard()
    assert sw(card(get_response_apdu(256))) == 0x6985
    card(long_response_apdu(300))
    card(echo_apdu(b"x"))  # any other command discards the pending data
    assert sw(card(get_response_apdu(256))) == 0x6985


@pytest.mark.parametrize("length", [1, 16, 255, 256])
def test_wrong_le_is_corrected_with_6c(length: int) -> None:
    card = DemoCard()
    for wrong in (None, 1 if length != 1 else 2):
        assert card(exact_length_apdu(length, wrong)) == bytes([0x6C, length & 0xFF])
    assert card(exact_length_apdu(length, length)) == long_response_data(length) + OK


# -- files ------------------------------------------------------------------------------


def test_select_by_aid() -> None:
    card = DemoCard()
    assert card(select_aid_apdu()) == OK
    assert card(bytes.fromhex("00A4040C08") + DEMO_AID) == OK
    assert card(bytes.fromhex("00A4040008") + DEMO_AID + b"\x00") == OK
    assert card(bytes.fromhex("00A40400")) == OK  # the default application
    assert sw(card(select_aid_apdu(b"\xa0\x00\x00\x00\x03"))) == 0x6A82


def test_read_binary_of_the_selected_file() -> None:
    card = DemoCard()
    assert sw(card(read_binary_apdu())) == 0x6986
    assert card(bytes.fromhex("00A4000002E101")) == OK
    content = DEMO_FILES[FID_DEMO_EF]
    assert card(read_binary_apdu()) == content + OK
    assert card(read_binary_apdu(10, 5)) == content[10:15] + OK
    assert card(read_binary_apdu(60, 8)) == content[60:] + b"\x62\x82"
    assert sw(card(read_binary_apdu(len(content), 1))) == 0x6B00
    assert sw(card(read_binary_apdu(1000))) == 0x6B00
    assert card(select_file_apdu(FID_EF_DIR)) == OK
    assert DEMO_AID in card(read_binary_apdu())
    assert sw(card(select_file_apdu(0x1234))) == 0x6A82


def test_power_on_forgets_the_selected_file() -> None:
    card = DemoCard()
    card(select_file_apdu(FID_DEMO_EF))
    card.reset()
    assert sw(card(read_binary_apdu())) == 0x6986


# -- PIN --------------------------------------------------------------------------------


def test_verify_counts_tries_and_blocks() -> None:
    card = DemoCard()
    assert sw(card(verify_apdu(None))) == 0x63C3
    assert sw(card(verify_apdu(b"000000"))) == 0x63C2
    assert sw(card(verify_apdu(b"000000"))) == 0x63C1
    assert card(verify_apdu()) == OK  # success resets the counter
    assert card.pin_tries_left == 3
    assert card(verify_apdu(None)) == OK  # verified since power-on
    card.reset()
    assert sw(card(verify_apdu(None))) == 0x63C3
    for expected in (0x63C2, 0x63C1, 0x6983):
        assert sw(card(verify_apdu(b"9999"))) == expected
    assert sw(card(verify_apdu())) == 0x6983
    assert sw(card(verify_apdu(None))) == 0x6983


def test_verify_accepts_ff_padding() -> None:
    assert DemoCard()(verify_apdu(b"123456\xff\xff")) == OK


def test_change_pin() -> None:
    card = DemoCard()
    assert sw(card(change_pin_apdu(b"111111", b"4321"))) == 0x63C2
    assert card(change_pin_apdu(b"123456", b"4321")) == OK
    assert card(verify_apdu(b"4321")) == OK
    assert card(change_pin_apdu(b"4321\xff\xff\xff\xff", b"87654321")) == OK
    assert card(verify_apdu(b"87654321")) == OK
    assert sw(card(change_pin_apdu(b"87654321", b"1"))) == 0x6A80


def test_reset_retry_counter_with_the_puk() -> None:
    card = DemoCard()
    for _ in range(3):
        card(verify_apdu(b"0000"))
    assert sw(card(verify_apdu())) == 0x6983
    assert sw(card(reset_retry_counter_apdu(b"00000000"))) == 0x63C2
    assert card(reset_retry_counter_apdu()) == OK
    assert card(verify_apdu()) == OK
    assert card(reset_retry_counter_apdu(new_pin=b"2468")) == OK
    assert card(verify_apdu(b"2468")) == OK


def test_demo_card_arguments_are_checked() -> None:
    with pytest.raises(ValueError, match="pin"):
        DemoCard(pin=b"1")
    with pytest.raises(ValueError, match="puk"):
        DemoCard(puk=b"1")
    with pytest.raises(ValueError, match="tries"):
        DemoCard(tries=0)


# -- the rest ---------------------------------------------------------------------------


@pytest.mark.parametrize("le", [1, 8, 255, 256])
def test_get_challenge_returns_le_random_bytes(le: int) -> None:
    answer = DemoCard()(get_challenge_apdu(le))
    assert len(answer) == le + 2
    assert answer[-2:] == OK


def test_get_challenge_le_00_means_256() -> None:
    assert len(DemoCard()(bytes.fromhex("0084000000"))) == 258


def test_get_data() -> None:
    card = DemoCard()
    assert card(bytes.fromhex("00CA9F7F00")) == DEMO_CPLC + OK
    assert card(bytes.fromhex("80CA9F7F00")) == DEMO_CPLC + OK
    assert sw(card(bytes.fromhex("00CA004F00"))) == 0x6A88


def test_unknown_instruction_and_class() -> None:
    card = DemoCard()
    assert card(bytes.fromhex("00FF0000")) == b"\x6d\x00"
    assert card(bytes.fromhex("00EE0000")) == b"\x6d\x00"  # ECHO is proprietary
    assert card(bytes.fromhex("A0A40000")) == b"\x6e\x00"


def test_delay_and_drop() -> None:
    card = DemoCard()
    assert card(delay_apdu(1)) == OK
    with pytest.raises(DropConnection):
        card(DROP_APDU)
    with pytest.raises(ValueError, match="ms"):
        delay_apdu(70000)
