"""VirtualCard against a stand-in for vpcd: the card side of the vpcd protocol."""

from __future__ import annotations

import logging
import socket
import threading
from typing import TYPE_CHECKING

import pytest

from aioscard.testing import (
    ATR_T0,
    DEMO_ATR,
    DropConnection,
    SimulatorError,
    VirtualCard,
)
from aioscard.testing._ports import reserve_ports

if TYPE_CHECKING:
    from collections.abc import Iterator

POWER_OFF, POWER_ON, RESET, GET_ATR = b"\x00", b"\x01", b"\x02", b"\x04"


class FakeVpcd:
    """The reader side of one vpcd slot: accepts a card and speaks vpcd framing."""

    def __init__(self) -> None:
        self._reservation = reserve_ports(1)
        self.port = self._reservation.ports[0]
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.bind(("127.0.0.1", self.port))
        self._listener.listen(1)
        self._listener.settimeout(5)
        self.conn: socket.socket | None = None

    def accept(self) -> None:
        if self.conn is not None:
            self.conn.close()
        self.conn, _ = self._listener.accept()
        self.conn.settimeout(5)

    def send(self, payload: bytes) -> None:
        assert self.conn is not None
        # Like vpcd: length and body in two writes.
        self.conn.sendall(len(payload).to_bytes(2, "big"))
        self.conn.sendall(payload)

    def recv(self) -> bytes | None:
        """The next frame's payload, None at end of stream."""
        header = self._exactly(2)
        if header is None:
            return None
        return self._exactly(int.from_bytes(header, "big"))

    def _exactly(self, size: int) -> bytes | None:
        assert self.conn is not None
        data = b""
        while len(data) < size:
            chunk = self.conn.recv(size - len(data))
            if not chunk:
                return None
            data += chunk
        return data

    def exchange(self, payload: bytes) -> bytes | None:
        self.send(payload)
        return self.recv()

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
        self._listener.close()
        self._reservation.release()


@pytest.fixture
def vpcd() -> Iterator[FakeVpcd]:
    fake = FakeVpcd()
    try:
        yield fake
    finally:
        fake.close()


def insert(card: VirtualCard, vpcd: FakeVpcd) -> None:
    card.insert(vpcd.port)
    vpcd.accept()


def is_powered(card: VirtualCard) -> bool:
    # A call, not the property: mypy would keep an earlier assert's narrowing.
    return card.powered


def echo_handler(apdu: bytes) -> bytes:
    return apdu + b"\x90\x00"


def test_get_atr_answers_the_atr(vpcd: FakeVpcd) -> None:
    with VirtualCard(ATR_T0, echo_handler) as card:
        insert(card, vpcd)
        assert card.inserted
        assert vpcd.exchange(GET_ATR) == ATR_T0


def test_power_events_are_logged_and_power_on_is_signalled(vpcd: FakeVpcd) -> None:
    with VirtualCard(handler=echo_handler) as card:
        insert(card, vpcd)
        assert not card.wait_powered(0)
        for control in (POWER_ON, POWER_OFF, RESET):
            vpcd.send(control)
        # Control codes get no reply, so an ATR request orders the check after them.
        assert vpcd.exchange(GET_ATR) == DEMO_ATR
        assert [event for _, event in card.power_log] == ["on", "off", "reset"]
        stamps = [stamp for stamp, _ in card.power_log]
        assert stamps == sorted(stamps)
        assert card.wait_powered(0)


def test_seen_once_the_atr_is_read_after_power_on(vpcd: FakeVpcd) -> None:
    with VirtualCard(handler=echo_handler) as card:
        insert(card, vpcd)
        assert vpcd.exchange(GET_ATR) == DEMO_ATR  # a presence poll, unpowered
        assert not card.wait_powered(0)
        vpcd.send(POWER_ON)
        assert vpcd.exchange(GET_ATR) == DEMO_ATR
        assert card.wait_powered(0)
        assert card.powered
        vpcd.send(POWER_OFF)
        vpcd.exchange(GET_ATR)
        assert not is_powered(card)
        assert card.wait_powered(0)  # latched for this insertion


def test_apdu_round_trip_counts_apdus(vpcd: FakeVpcd) -> None:
    with VirtualCard(handler=echo_handler) as card:
        insert(card, vpcd)
        for payload in (b"\x00\xa4\x04\x00", bytes(range(256)) * 20):
            assert vpcd.exchange(payload) == payload + b"\x90\x00"
        assert card.apdu_count == 2


def test_socket_has_nagle_disabled(vpcd: FakeVpcd) -> None:
    with VirtualCard(handler=echo_handler) as card:
        insert(card, vpcd)
        sock = card._sock
        assert sock is not None
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0


def test_drop_connection_closes_the_socket_without_answer(vpcd: FakeVpcd) -> None:
    def vanish(apdu: bytes) -> bytes:
        raise DropConnection

    card = VirtualCard(handler=vanish)
    insert(card, vpcd)
    assert vpcd.exchange(b"\x80\xdf\x00\x00") is None
    assert not card.inserted
    card.remove()  # idempotent after the card dropped itself


def test_handler_exception_answers_6f00_and_is_logged(
    vpcd: FakeVpcd, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(apdu: bytes) -> bytes:
        raise RuntimeError("bug in handler")

    with (
        caplog.at_level(logging.ERROR, logger="aioscard.testing"),
        VirtualCard(handler=broken, name="broken") as card,
    ):
        insert(card, vpcd)
        assert vpcd.exchange(b"\x00\x84\x00\x00\x08") == b"\x6f\x00"
        # The thread survived: it still answers.
        assert vpcd.exchange(GET_ATR) == DEMO_ATR
    assert any("broken: handler failed" in record.getMessage() for record in caplog.records)
    assert any(record.exc_info is not None for record in caplog.records)


def test_response_shorter_than_a_status_word_answers_6f00(vpcd: FakeVpcd) -> None:
    with VirtualCard(handler=lambda apdu: b"\x90") as card:
        insert(card, vpcd)
        assert vpcd.exchange(b"\x00\x84\x00\x00\x08") == b"\x6f\x00"


def test_remove_closes_the_connection_and_is_idempotent(vpcd: FakeVpcd) -> None:
    card = VirtualCard(handler=echo_handler)
    insert(card, vpcd)
    card.remove()
    assert not card.inserted
    assert vpcd.recv() is None
    card.remove()


def test_removal_seen_once_the_reader_closes_its_end(vpcd: FakeVpcd) -> None:
    card = VirtualCard(handler=echo_handler)
    insert(card, vpcd)
    card.remove()
    assert not card.wait_removed(0)  # our fake reader has not closed yet
    assert vpcd.recv() is None
    assert vpcd.conn is not None
    vpcd.conn.close()
    assert card.wait_removed(5)


def test_card_can_be_inserted_again_after_removal(vpcd: FakeVpcd) -> None:
    card = VirtualCard(handler=echo_handler)
    insert(card, vpcd)
    with pytest.raises(SimulatorError, match="already inserted"):
        card.insert(vpcd.port)
    card.remove()
    insert(card, vpcd)
    assert vpcd.exchange(b"\x00\x00\x00\x00") == b"\x00\x00\x00\x00\x90\x00"
    card.remove()


def test_power_on_and_reset_reset_a_resettable_handler(vpcd: FakeVpcd) -> None:
    class Counting:
        resets = 0

        def __call__(self, apdu: bytes) -> bytes:
            return b"\x90\x00"

        def reset(self) -> None:
            self.resets += 1

    handler = Counting()
    with VirtualCard(handler=handler) as card:
        insert(card, vpcd)
        for control in (POWER_ON, POWER_OFF, RESET):
            vpcd.send(control)
        vpcd.exchange(GET_ATR)
    assert handler.resets == 2


def test_insert_into_a_closed_port_raises() -> None:
    reservation = reserve_ports(1)
    try:
        with pytest.raises(ConnectionRefusedError):
            VirtualCard().insert(reservation.ports[0], timeout=1)
    finally:
        reservation.release()


@pytest.mark.parametrize("atr", [b"", bytes(34), []])
def test_bad_atr_length_raises_value_error_naming_it(atr: bytes) -> None:
    with pytest.raises(ValueError, match="atr"):
        VirtualCard(atr)


def test_atr_accepts_a_sequence_of_ints() -> None:
    assert VirtualCard([0x3B, 0x00]).atr == b"\x3b\x00"
    with pytest.raises(ValueError, match="atr"):
        VirtualCard([0x3B, 256])
    with pytest.raises(TypeError, match="atr"):
        VirtualCard("3B00")  # type: ignore[arg-type]


def test_wait_powered_is_released_by_another_thread(vpcd: FakeVpcd) -> None:
    with VirtualCard(handler=echo_handler) as card:
        insert(card, vpcd)
        result: list[bool] = []
        waiter = threading.Thread(target=lambda: result.append(card.wait_powered(5)))
        waiter.start()
        vpcd.send(POWER_ON)
        vpcd.exchange(GET_ATR)
        waiter.join()
        assert result == [True]
