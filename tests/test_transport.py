"""The transport helpers as a pure function: ``exchange()`` against model cards, no PC/SC.

The model cards are plain functions ``bytes -> bytes``; what ``exchange`` sent is
recorded and checked along with what it returned.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aioscard.apdu import build_apdu, parse_apdu
from aioscard.exceptions import InvalidResponseException
from aioscard.transport import TransportOptions, channel_of, exchange, with_channel


def junk(value: object) -> Any:
    """``value`` typed as Any: wrong types passed on without the type checker objecting."""
    return value


class ModelCard:
    """Answers a command with ``payload`` in pieces of ``chunk`` bytes (61xx / GET RESPONSE),
    wants Le = ``exact`` when set (6Cxx otherwise), and accepts chains of at most
    ``max_piece`` data bytes per command, joining them into ``received``."""

    def __init__(
        self, payload: bytes = b"", chunk: int = 256, exact: int | None = None, max_piece: int = 255
    ) -> None:
        self.payload = payload
        self.chunk = chunk
        self.exact = exact
        self.max_piece = max_piece
        self.sent: list[bytes] = []
        self.received = b""
        self.chain_open = False
        self._pending = b""

    def __call__(self, command: bytes) -> bytes:
        self.sent.append(command)
        parsed = parse_apdu(command)
        if parsed.ins == 0xC0:
            if not self._pending:
                return b"\x69\x85"
            ne = parsed.le or 256
            piece, self._pending = self._pending[:ne], self._pending[ne:]
            return piece + self._more()
        if len(parsed.data) > self.max_piece:
            return b"\x67\x00"
        if not self.chain_open:
            self.received = b""
        self.received += parsed.data
        self.chain_open = bool(parsed.cla & 0x10)
        if self.chain_open:
            return b"\x90\x00"
        if self.exact is not None and parsed.le != self.exact:
            return bytes((0x6C, self.exact & 0xFF))
        self._pending = self.payload
        if len(self._pending) <= self.chunk and parsed.le is not None:
            piece, self._pending = self._pending, b""
            return piece + b"\x90\x00"
        return self._more()

    def _more(self) -> bytes:
        if not self._pending:
            return b"\x90\x00"
        return bytes((0x61, min(len(self._pending), self.chunk) & 0xFF))


@settings(deadline=None)  # no timed assertions: a loaded machine is slow
@given(payload=st.binary(max_size=2000), chunk=st.integers(1, 256))
def test_get_response_joins_every_piece(payload: bytes, chunk: int) -> None:
    card = ModelCard(payload, chunk)
    raw = exchange(card, bytes.fromhex("80CA0000"), TransportOptions(get_response=True))
    assert raw == payload + b"\x90\x00"
    gets = card.sent[1:]
    assert all(command[:4] == bytes.fromhex("00C00000") for command in gets)
    assert len(gets) == (len(payload) + chunk - 1) // chunk


@settings(deadline=None)  # no timed assertions: a loaded machine is slow
@given(payload=st.binary(min_size=1, max_size=2000), rounds=st.integers(0, 5))
def test_max_rounds_bounds_the_exchanges_and_keeps_the_status_word(
    payload: bytes, rounds: int
) -> None:
    card = ModelCard(payload, chunk=100)
    options = TransportOptions(get_response=True, max_rounds=rounds)
    raw = exchange(card, bytes.fromhex("80CA0000"), options)
    assert len(card.sent) <= rounds + 1
    needed = (len(payload) + 99) // 100
    if needed <= rounds:
        assert raw == payload + b"\x90\x00"
    else:
        assert raw[-2] == 0x61  # cut short, and says so
        assert payload.startswith(raw[:-2])


@settings(deadline=None)  # no timed assertions: a loaded machine is slow
@given(exact=st.integers(1, 256), le=st.one_of(st.none(), st.integers(1, 256)))
def test_le_correction_sends_the_command_again_with_the_right_le(
    exact: int, le: int | None
) -> None:
    card = ModelCard(bytes(range(256))[:exact], exact=exact)
    command = build_apdu(0x80, 0xE6, 0x00, 0x00, b"", le)
    raw = exchange(card, command, TransportOptions(le_correction=True))
    assert raw == bytes(range(256))[:exact] + b"\x90\x00"
    assert parse_apdu(card.sent[-1]).le == exact
    # Off: the 6Cxx comes back as it is.
    if le != exact:
        assert exchange(ModelCard(exact=exact), command, TransportOptions())[0] == 0x6C


@settings(deadline=None)  # no timed assertions: a loaded machine is slow
@given(
    data=st.binary(min_size=1, max_size=3000),
    limit=st.integers(1, 700),
    le=st.one_of(st.none(), st.integers(1, 65536)),
)
def test_chaining_splits_at_the_limit_and_the_card_gets_everything(
    data: bytes, limit: int, le: int | None
) -> None:
    card = ModelCard(b"ok", max_piece=limit)
    command = build_apdu(0x00, 0xDA, 0x01, 0x02, data, le)
    raw = exchange(card, command, TransportOptions(chain_limit=limit, get_response=True))
    assert raw == b"ok\x90\x00"
    assert card.received == data
    links = [parse_apdu(sent) for sent in card.sent if sent[1] == 0xDA]
    assert len(links) == (len(data) + limit - 1) // limit
    assert all(link.cla == 0x10 and link.le is None for link in links[:-1])
    assert links[-1].cla == 0x00
    assert all(len(link.data) <= limit for link in links)
    if len(data) > limit and limit <= 255:
        assert not any(link.extended for link in links)  # short pieces, for a short-only card
        if le is not None:
            assert links[-1].le == min(le, 256)  # the rest comes by GET RESPONSE


def test_a_command_within_the_limit_is_sent_as_it_is() -> None:
    card = ModelCard(b"", max_piece=255)
    command = build_apdu(0x00, 0xDA, 0x00, 0x00, bytes(300), extended=True)
    exchange(card, command, TransportOptions(chain_limit=300))
    assert card.sent == [command]


def test_a_refused_link_ends_the_chain_with_the_cards_answer() -> None:
    sent: list[bytes] = []

    def no_chaining(command: bytes) -> bytes:
        sent.append(command)
        return b"\x68\x84"  # command chaining not supported

    raw = exchange(
        no_chaining, build_apdu(0, 0xDA, 0, 0, bytes(600)), TransportOptions(chain_limit=255)
    )
    assert raw == b"\x68\x84"
    assert len(sent) == 1


@pytest.mark.parametrize("cla", [0x10, 0xFF])
def test_a_class_byte_that_cannot_chain_is_refused_before_sending(cla: int) -> None:
    def card(command: bytes) -> bytes:
        raise AssertionError("nothing may be sent")

    with pytest.raises(ValueError, match="cannot be chained"):
        exchange(card, build_apdu(cla, 0xDA, 0, 0, bytes(300)), TransportOptions(chain_limit=255))


def test_get_response_goes_to_the_commands_logical_channel() -> None:
    for channel in (0, 1, 3, 4, 19):
        card = ModelCard(bytes(600))
        command = bytes((with_channel(0x80, channel), 0xCA, 0x00, 0x00))
        assert exchange(card, command, TransportOptions(get_response=True))[-2:] == b"\x90\x00"
        assert {channel_of(sent[0]) for sent in card.sent} == {channel}
    # A proprietary GET RESPONSE class byte (GSM's A0) is used as it is.
    card = ModelCard(bytes(300))
    exchange(
        card, bytes.fromhex("A0F20000"), TransportOptions(get_response=True, get_response_cla=0xA0)
    )
    assert card.sent[1][0] == 0xA0


@settings(deadline=None)  # no timed assertions: a loaded machine is slow
@given(cla=st.integers(0, 0xFE), channel=st.integers(0, 19))
def test_channel_bits_round_trip(cla: int, channel: int) -> None:
    try:
        moved = with_channel(cla, channel)
    except ValueError:
        assert channel >= 4
        return
    assert channel_of(moved) == channel
    assert moved & 0x90 == cla & 0x90  # proprietary and chaining bits kept
    if channel >= 4 and not cla & 0x40 and cla & 0x0C == 0x0C:
        return  # the further coding has one secure-messaging bit: "header authenticated" is lost
    assert with_channel(moved, channel_of(cla)) == with_channel(cla, channel_of(cla))


def test_channel_codings() -> None:
    assert [with_channel(0x00, n) for n in (0, 1, 3, 4, 5, 19)] == [0, 1, 3, 0x40, 0x41, 0x4F]
    assert with_channel(0x0C, 4) == 0x60  # secure messaging moves from b4-b3 to b6
    assert with_channel(0x60, 2) == 0x0A
    assert with_channel(0x80, 5) == 0xC1
    assert with_channel(0x90, 1) == 0x91
    with pytest.raises(ValueError, match=r"channel must be 0\.\.19"):
        with_channel(0x00, 20)
    with pytest.raises(ValueError, match="proprietary secure messaging"):
        with_channel(0x04, 4)


def test_a_response_without_a_status_word_is_a_typed_error() -> None:
    with pytest.raises(InvalidResponseException, match="no status word"):
        exchange(lambda command: b"\x90", b"\x00\xa4\x04\x00", TransportOptions(get_response=True))


@pytest.mark.parametrize(
    ("kwargs", "error", "words"),
    [
        ({"get_response": "junk"}, TypeError, "get_response must be a bool"),
        ({"get_response": 1}, TypeError, "get_response must be a bool"),
        ({"le_correction": None}, TypeError, "le_correction must be a bool"),
        ({"get_response_cla": 256}, ValueError, "get_response_cla must be 0..255"),
        ({"get_response_cla": True}, TypeError, "get_response_cla must be an int"),
        ({"max_rounds": -1}, ValueError, "max_rounds must be >= 0"),
        ({"max_rounds": 1.5}, TypeError, "max_rounds must be an int"),
        ({"chain_limit": 0}, ValueError, "chain_limit must be 1..65535"),
        ({"chain_limit": 65536}, ValueError, "chain_limit must be 1..65535"),
        ({"chain_limit": "255"}, TypeError, "chain_limit must be an int"),
    ],
)
def test_every_field_is_validated(
    kwargs: dict[str, Any], error: type[Exception], words: str
) -> None:
    with pytest.raises(error, match=words):
        TransportOptions(**kwargs)


def test_enabled_and_defaults() -> None:
    assert not TransportOptions().enabled
    assert TransportOptions(chain_limit=255).enabled
    assert TransportOptions(le_correction=True).enabled
    card = ModelCard(bytes(300))
    assert exchange(card, bytes.fromhex("80CA0000"), TransportOptions()) == b"\x61\x00"
    assert junk(TransportOptions(get_response=True)).get_response is True
