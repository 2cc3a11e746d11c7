"""The native layer against a real pcscd, vpcd and the project's virtual card."""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING

import pytest

from aioscard import exceptions as exc
from aioscard.native import PCSCAPI, ReaderState, get_pcsc
from aioscard.native import constants as C
from aioscard.testing import (
    DEMO_ATR,
    DROP_APDU,
    MAX_ECHO_OVER_VPCD,
    Simulator,
    VirtualCard,
    echo_apdu,
    get_challenge_apdu,
)

if TYPE_CHECKING:
    from collections.abc import Iterator

    from aioscard.testing.plugin import CardFactory

SHARED, EXCLUSIVE, DIRECT = C.SCARD_SHARE_SHARED, C.SCARD_SHARE_EXCLUSIVE, C.SCARD_SHARE_DIRECT
ANY = C.SCARD_PROTOCOL_T0 | C.SCARD_PROTOCOL_T1


@pytest.fixture
def api(pcsc_simulator: Simulator) -> PCSCAPI:
    return get_pcsc()


@pytest.fixture
def context(api: PCSCAPI) -> Iterator[int]:
    ctx = api.establish_context()
    try:
        yield ctx
    finally:
        api.release_context(ctx)


def wait_for_state(api: PCSCAPI, context: int, reader: str, flag: int) -> ReaderState:
    """Block (up to 5 s) until ``reader``'s state has ``flag``."""
    state = api.get_status_change(context, 0, [ReaderState(reader)])[0]
    deadline = time.monotonic() + 5
    while not state.event_state & flag:
        remaining = int((deadline - time.monotonic()) * 1000)
        assert remaining > 0, f"{reader} never reached state 0x{flag:X}"
        state = api.get_status_change(context, remaining, [ReaderState(reader, state.event_state)])[
            0
        ]
    return state


def test_lists_the_simulators_readers(
    api: PCSCAPI, context: int, pcsc_simulator: Simulator
) -> None:
    assert api.list_readers(context) == pcsc_simulator.reader_names
    assert api.list_readers(context, ["SCard$DefaultReaders"]) == pcsc_simulator.reader_names
    assert "SCard$DefaultReaders" in api.list_reader_groups(context)
    assert api.is_valid_context(context)


def test_get_status_change_times_out(api: PCSCAPI, context: int, pcsc_simulator: Simulator) -> None:
    reader = pcsc_simulator.reader_names[1]
    state = api.get_status_change(context, 0, [ReaderState(reader)])[0]
    assert state.event_state & C.SCARD_STATE_EMPTY
    with pytest.raises(exc.TimeoutException) as caught:
        api.get_status_change(context, 50, [ReaderState(reader, state.event_state)])
    assert caught.value.hresult == 0x8010000A


def test_card_inserted_while_get_status_change_waits(
    api: PCSCAPI, context: int, pcsc_simulator: Simulator, card_factory: CardFactory
) -> None:
    reader = pcsc_simulator.reader_names[2]
    before = api.get_status_change(context, 0, [ReaderState(reader)])[0]
    assert before.event_state & C.SCARD_STATE_EMPTY
    results: list[ReaderState] = []
    waiter = threading.Thread(
        target=lambda: results.extend(
            api.get_status_change(context, 5000, [ReaderState(reader, before.event_state)])
        )
    )
    waiter.start()
    card_factory(reader=2, wait=False)
    waiter.join(6)
    assert not waiter.is_alive()
    (after,) = results
    assert after.event_state & C.SCARD_STATE_PRESENT
    assert after.atr == DEMO_ATR
    assert after.event_count != before.event_count


def test_cancel_from_another_thread_ends_an_infinite_wait(
    api: PCSCAPI, context: int, pcsc_simulator: Simulator
) -> None:
    reader = pcsc_simulator.reader_names[3]
    state = api.get_status_change(context, 0, [ReaderState(reader)])[0]
    errors: list[BaseException] = []

    def wait() -> None:
        try:
            api.get_status_change(context, C.INFINITE, [ReaderState(reader, state.event_state)])
        except BaseException as error:
            errors.append(error)

    waiter = threading.Thread(target=wait)
    waiter.start()
    # SCardCancel only affects a wait already under way: repeat until it lands.
    while waiter.is_alive():
        api.cancel(context)
        waiter.join(0.05)
    assert len(errors) == 1
    assert isinstance(errors[0], exc.CancelledException)


def test_connect_in_each_share_mode(
    api: PCSCAPI, context: int, pcsc_simulator: Simulator, virtual_card: VirtualCard
) -> None:
    reader = pcsc_simulator.reader_names[0]
    shared, protocol = api.connect(context, reader, SHARED, ANY)
    assert protocol in (C.SCARD_PROTOCOL_T0, C.SCARD_PROTOCOL_T1)
    second, _ = api.connect(context, reader, SHARED, ANY)
    with pytest.raises(exc.SharingViolationException):
        api.connect(context, reader, EXCLUSIVE, ANY)
    api.disconnect(second, C.SCARD_LEAVE_CARD)
    api.disconnect(shared, C.SCARD_LEAVE_CARD)

    exclusive, _ = api.connect(context, reader, EXCLUSIVE, ANY)
    with pytest.raises(exc.SharingViolationException):
        api.connect(context, reader, SHARED, ANY)
    api.disconnect(exclusive, C.SCARD_LEAVE_CARD)

    direct, direct_protocol = api.connect(context, reader, DIRECT, 0)
    assert direct_protocol in (0, C.SCARD_PROTOCOL_T0, C.SCARD_PROTOCOL_T1)
    api.disconnect(direct, C.SCARD_LEAVE_CARD)


def test_connect_errors_are_typed(api: PCSCAPI, context: int, pcsc_simulator: Simulator) -> None:
    with pytest.raises(exc.InvalidReaderException):
        api.connect(context, "no such reader", SHARED, ANY)
    with pytest.raises(exc.NoCardException):
        api.connect(context, pcsc_simulator.reader_names[3], SHARED, ANY)
    with pytest.raises(ValueError, match="NUL"):
        api.connect(context, "bad\0name", SHARED, ANY)
    with pytest.raises(TypeError, match="reader name"):
        api.connect(context, b"bytes", SHARED, ANY)  # type: ignore[arg-type]


def test_status_and_transmit(
    api: PCSCAPI, context: int, pcsc_simulator: Simulator, virtual_card: VirtualCard
) -> None:
    reader = pcsc_simulator.reader_names[0]
    handle, protocol = api.connect(context, reader, SHARED, ANY)
    try:
        status = api.status(handle)
        assert status.reader == reader
        assert status.atr == DEMO_ATR
        assert status.protocol == protocol
        assert status.state & C.SCARD_PRESENT
        challenge = api.transmit(handle, protocol, get_challenge_apdu(8))
        assert len(challenge) == 10
        assert challenge[-2:] == b"\x90\x00"
        assert api.transmit(handle, protocol, echo_apdu(b"hello")) == b"hello\x90\x00"
    finally:
        api.disconnect(handle, C.SCARD_LEAVE_CARD)


@pytest.mark.parametrize("size", [256, 4096, MAX_ECHO_OVER_VPCD])
def test_extended_apdu_round_trip(
    api: PCSCAPI, context: int, pcsc_simulator: Simulator, virtual_card: VirtualCard, size: int
) -> None:
    payload = bytes(i % 251 for i in range(size))
    handle, protocol = api.connect(context, pcsc_simulator.reader_names[0], SHARED, ANY)
    try:
        assert api.transmit(handle, protocol, echo_apdu(payload, extended=True)) == (
            payload + b"\x90\x00"
        )
    finally:
        api.disconnect(handle, C.SCARD_LEAVE_CARD)


def test_control_and_attributes_report_unsupported(
    api: PCSCAPI, context: int, pcsc_simulator: Simulator, virtual_card: VirtualCard
) -> None:
    handle, _ = api.connect(context, pcsc_simulator.reader_names[0], SHARED, ANY)
    try:
        # Reader 0 has no Part 10 features (no pinpad) and, like vpcd's readers, no power
        # management attribute; its vendor name is read-only.
        with pytest.raises(exc.UnsupportedFeatureException, match="SCardControl"):
            api.control(handle, C.CM_IOCTL_GET_FEATURE_REQUEST)
        with pytest.raises(exc.UnsupportedFeatureException, match="SCardGetAttrib"):
            api.get_attrib(handle, C.SCARD_ATTR_POWER_MGMT_SUPPORT)
        with pytest.raises(exc.SmartcardException, match="SCardSetAttrib"):
            api.set_attrib(handle, C.SCARD_ATTR_VENDOR_NAME, b"x")
        with pytest.raises(ValueError, match="control code"):
            api.control(handle, -1)
        with pytest.raises(exc.UnsupportedFeatureException, match="pcsc-lite"):
            api.add_reader_to_group(context, pcsc_simulator.reader_names[0], "group")
    finally:
        api.disconnect(handle, C.SCARD_LEAVE_CARD)


def test_transaction_keeps_other_connections_out(
    api: PCSCAPI, context: int, pcsc_simulator: Simulator, virtual_card: VirtualCard
) -> None:
    reader = pcsc_simulator.reader_names[0]
    first, protocol = api.connect(context, reader, SHARED, ANY)
    other_context = api.establish_context()
    second, _ = api.connect(other_context, reader, SHARED, ANY)
    answers: list[bytes] = []
    other = threading.Thread(
        target=lambda: answers.append(api.transmit(second, protocol, echo_apdu(b"\x02")))
    )
    try:
        api.begin_transaction(first)
        other.start()
        # pcsc-lite holds the other connection's APDU back while the transaction is open.
        other.join(0.5)
        assert other.is_alive()
        assert answers == []
        assert api.transmit(first, protocol, echo_apdu(b"\x01")) == b"\x01\x90\x00"
        api.end_transaction(first, C.SCARD_LEAVE_CARD)
        other.join(5)
        assert answers == [b"\x02\x90\x00"]
    finally:
        if other.is_alive():  # the test failed while the transaction was open
            api.end_transaction(first, C.SCARD_LEAVE_CARD)
            other.join(5)
        api.disconnect(second, C.SCARD_LEAVE_CARD)
        api.release_context(other_context)
        api.disconnect(first, C.SCARD_LEAVE_CARD)


def test_removed_card_codes_until_reconnect(
    api: PCSCAPI, context: int, pcsc_simulator: Simulator, card_factory: CardFactory
) -> None:
    reader = pcsc_simulator.reader_names[1]
    card_factory(reader=1)
    handle, protocol = api.connect(context, reader, SHARED, ANY)
    try:
        card_factory.remove(1)
        wait_for_state(api, context, reader, C.SCARD_STATE_EMPTY)
        with pytest.raises(exc.CardRemovedException):
            api.transmit(handle, protocol, echo_apdu(b"x"))
        with pytest.raises(exc.CardRemovedException):
            api.status(handle)
        card_factory(reader=1)
        wait_for_state(api, context, reader, C.SCARD_STATE_PRESENT)
        # A re-inserted card is still "removed" for the old handle until SCardReconnect.
        with pytest.raises(exc.CardRemovedException):
            api.transmit(handle, protocol, echo_apdu(b"x"))
        protocol = api.reconnect(handle, SHARED, ANY, C.SCARD_LEAVE_CARD)
        assert api.transmit(handle, protocol, echo_apdu(b"back")) == b"back\x90\x00"
    finally:
        api.disconnect(handle, C.SCARD_LEAVE_CARD)


def test_card_vanishing_mid_apdu_is_an_error_not_an_empty_success(
    api: PCSCAPI, context: int, pcsc_simulator: Simulator, card_factory: CardFactory
) -> None:
    reader = pcsc_simulator.reader_names[2]
    card_factory(reader=2)
    handle, protocol = api.connect(context, reader, SHARED, ANY)
    try:
        with pytest.raises(exc.CardConnectionException) as caught:
            api.transmit(handle, protocol, DROP_APDU)
        # pcsc-lite reports success with a 0-byte response here; we must not.
        assert isinstance(caught.value, (exc.InvalidResponseException, exc.NotTransactedException))
    finally:
        api.disconnect(handle, C.SCARD_LEAVE_CARD)
