"""The synchronous pyscard shim against the simulator: legacy programs and the smartcard.* API.

The legacy programs in ``tests/compat_programs/`` (the issue's four, a card
monitor and an exclusive connection) run unchanged with
``python -m aioscard.compat`` in subprocesses pointed at the session's pcscd.
The other tests drive the same API in this process, through the
``smartcard.*`` names.  Cards are inserted and removed with the plugin's
fixtures; tests wait for events, not for time.
"""

from __future__ import annotations

import logging
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

import aioscard
import aioscard.compat
import aioscard.sw
from aioscard.monitor import get_watcher
from aioscard.testing import (
    DEMO_ATR,
    GET_CPLC_APDU,
    MASKABLE_ATR,
    Simulator,
    VirtualCard,
    get_challenge_apdu,
    select_aid_apdu,
    verify_apdu,
)

aioscard.compat.install_as_smartcard()

if TYPE_CHECKING:  # mypy knows the alias by its real name
    from aioscard.compat import scard
    from aioscard.compat.CardConnection import CardConnection
    from aioscard.compat.CardConnectionObserver import (
        CardConnectionObserver,
        ConsoleCardConnectionObserver,
    )
    from aioscard.compat.CardMonitoring import CardMonitor, CardObserver
    from aioscard.compat.CardRequest import CardRequest
    from aioscard.compat.CardType import AnyCardType, ATRCardType
    from aioscard.compat.Exceptions import (
        CardConnectionException,
        CardRequestTimeoutException,
        NoCardException,
        SharingViolationException,
    )
    from aioscard.compat.ExclusiveConnectCardConnection import ExclusiveConnectCardConnection
    from aioscard.compat.ExclusiveTransmitCardConnection import ExclusiveTransmitCardConnection
    from aioscard.compat.PassThruCardService import PassThruCardService
    from aioscard.compat.ReaderMonitoring import ReaderMonitor, ReaderObserver
    from aioscard.compat.Session import Session
    from aioscard.compat.sw.ErrorCheckingChain import ErrorCheckingChain
    from aioscard.compat.sw.ISO7816_4ErrorChecker import ISO7816_4ErrorChecker
    from aioscard.compat.sw.SWExceptions import CheckingErrorException
    from aioscard.compat.System import readergroups, readers
    from aioscard.testing.plugin import CardFactory
else:  # what runs goes through the smartcard.* names
    from smartcard import scard
    from smartcard.CardConnection import CardConnection
    from smartcard.CardConnectionObserver import (
        CardConnectionObserver,
        ConsoleCardConnectionObserver,
    )
    from smartcard.CardMonitoring import CardMonitor, CardObserver
    from smartcard.CardRequest import CardRequest
    from smartcard.CardType import AnyCardType, ATRCardType
    from smartcard.Exceptions import (
        CardConnectionException,
        CardRequestTimeoutException,
        NoCardException,
        SharingViolationException,
    )
    from smartcard.ExclusiveConnectCardConnection import ExclusiveConnectCardConnection
    from smartcard.ExclusiveTransmitCardConnection import ExclusiveTransmitCardConnection
    from smartcard.PassThruCardService import PassThruCardService
    from smartcard.ReaderMonitoring import ReaderMonitor, ReaderObserver
    from smartcard.Session import Session
    from smartcard.sw.ErrorCheckingChain import ErrorCheckingChain
    from smartcard.sw.ISO7816_4ErrorChecker import ISO7816_4ErrorChecker
    from smartcard.sw.SWExceptions import CheckingErrorException
    from smartcard.System import readergroups, readers

PROGRAMS = Path(__file__).resolve().parent / "compat_programs"
GET_CHALLENGE = list(get_challenge_apdu(8))
DEMO = list(DEMO_ATR)
# Differs from MASKABLE_ATR only where the legacy program's mask is 00.
MASKED_MATCH = bytes(b ^ 0x5A if i in (20, 31) else b for i, b in enumerate(MASKABLE_ATR))


@pytest.fixture
def names(pcsc_simulator: Simulator) -> list[str]:
    return pcsc_simulator.reader_names


def shim(connection: Any) -> CardConnection:
    """The shim's CardConnection inside what ``createConnection()`` returned."""
    component = connection.component
    assert isinstance(component, CardConnection)
    return component


# -- the legacy programs, unchanged, in subprocesses ------------------------------------


def legacy(program: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "aioscard.compat", str(PROGRAMS / program), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ),  # PCSCLITE_CSOCK_NAME points at the session's pcscd
    )


def finish(process: subprocess.Popen[str], timeout: float = 60) -> str:
    out, err = process.communicate(timeout=timeout)
    assert process.returncode == 0, f"exit {process.returncode}\n{out}\n{err}"
    return out


def test_program_waiting_for_any_card(virtual_card: VirtualCard) -> None:
    out = finish(legacy("wait_any_card.py"))
    assert out.splitlines() == [
        f"ATR: {DEMO_ATR.hex(' ').upper()}",
        "Response: [], SW: 90 00",
    ]


def test_program_waiting_for_a_masked_atr_ignores_other_cards(
    virtual_card: VirtualCard, card_factory: CardFactory, names: list[str]
) -> None:
    process = legacy("wait_masked_atr.py")
    try:
        # The demo card in reader 0 does not match; a card that differs from the
        # pattern only under the mask's zero bytes does.
        card_factory(DEMO_ATR, reader=2)
        assert process.poll() is None
        card_factory(MASKED_MATCH, reader=1)
        assert finish(process).splitlines() == ["Matching card inserted!"]
    finally:
        process.kill()
        process.wait()


def test_program_connecting_t1_to_the_first_reader(virtual_card: VirtualCard) -> None:
    out = finish(legacy("first_reader_t1.py"))
    assert re.fullmatch(r"([0-9A-F]{2} ){7}[0-9A-F]{2} 9000\n", out)


def test_program_with_nested_context_managers(virtual_card: VirtualCard) -> None:
    assert finish(legacy("nested_with.py")) == ""


def test_program_holding_the_card_exclusively(virtual_card: VirtualCard) -> None:
    assert finish(legacy("exclusive_connection.py")).splitlines() == [
        "second connection refused: SharingViolationException",
        "challenge: 8 bytes, SW 9000",
        f"after release: {DEMO_ATR.hex(' ').upper()}",
    ]


def test_program_monitoring_cards_as_they_come_and_go(
    card_factory: CardFactory, names: list[str]
) -> None:
    process = legacy("card_monitor.py", "2")
    atr, other = DEMO_ATR.hex(" ").upper(), MASKABLE_ATR.hex(" ").upper()
    try:
        assert process.stdout is not None
        assert process.stdout.readline() == "monitoring\n"
        # Each change waits until the program has reported the previous one: a card that
        # comes and goes between two of the monitor's waits is not reported, and the
        # simulator's driver makes such changes a millisecond apart.
        card_factory(reader=0)
        assert process.stdout.readline() == f"+Inserted: {atr} in {names[0]}\n"
        card_factory.remove(0)
        assert process.stdout.readline() == f"-Removed: {atr} from {names[0]}\n"
        card_factory(MASKABLE_ATR, reader=1)
        assert process.stdout.readline() == f"+Inserted: {other} in {names[1]}\n"
        card_factory.remove(1)
        lines = finish(process).splitlines()
    finally:
        process.kill()
        process.wait()
    assert lines[:1] == [f"-Removed: {other} from {names[1]}"]
    stopped = re.fullmatch(r"stopped in (\d+\.\d+) s", lines[1])
    assert stopped is not None
    assert float(stopped.group(1)) < 0.5  # SCardCancel, not a polling period


# -- System, Reader, CardConnection --------------------------------------------------------


def test_readers_and_groups(names: list[str]) -> None:
    found = readers()
    assert [str(reader) for reader in found] == names
    assert [reader.name for reader in readers(["SCard$DefaultReaders"])] == names
    assert "SCard$DefaultReaders" in readergroups()


def test_connect_transmit_and_disconnect(virtual_card: VirtualCard, names: list[str]) -> None:
    connection = readers()[0].createConnection()
    connection.connect(connection.T1_protocol)
    assert connection.getReader() == names[0]
    assert connection.getProtocol() == CardConnection.T1_protocol
    assert connection.getATR() == DEMO
    data, sw1, sw2 = connection.transmit(GET_CHALLENGE)
    assert type(data) is list
    assert len(data) == 8
    assert (sw1, sw2) == (0x90, 0x00)
    assert connection.transmit(bytes(GET_CHALLENGE)).sw == 0x9000
    assert shim(connection).hcard is not None
    connection.disconnect()
    # A disconnected connection holds no handle, context or worker thread ...
    core = shim(connection).aio
    assert shim(connection).hcard is None
    assert core._context.worker is None
    with pytest.raises(CardConnectionException):
        connection.transmit(GET_CHALLENGE)
    # ... and may connect again.
    connection.connect()
    assert connection.transmit(GET_CHALLENGE)[1] == 0x90
    connection.release()


def test_disconnect_unpowers_and_reconnect_resets_as_in_pyscard(
    virtual_card: VirtualCard,
) -> None:
    verified = list(verify_apdu(None))
    connection = readers()[0].createConnection()
    connection.connect()
    assert connection.transmit(list(verify_apdu()))[1:] == (0x90, 0x00)
    assert connection.transmit(verified)[1:] == (0x90, 0x00)
    connection.reconnect()
    assert connection.transmit(verified)[1] == 0x63  # the reset forgot the PIN
    assert connection.transmit(list(verify_apdu()))[1:] == (0x90, 0x00)
    connection.disconnect()
    connection.connect()
    assert connection.transmit(verified)[1] == 0x63  # so did the power-off
    connection.disconnect()


def test_with_block_connects_on_first_use_and_disconnects(virtual_card: VirtualCard) -> None:
    with readers()[0].createConnection() as connection:
        assert connection.getATR() == DEMO
        core = shim(connection).aio
        assert core.connected
    assert not core.connected
    # Code written for pyscard connects explicitly inside the block: that works too.
    with readers()[0].createConnection() as connection:
        connection.connect()
        assert connection.transmit(GET_CHALLENGE)[1] == 0x90
    connection = readers()[0].createConnection()
    connection.connect()
    connection.connect()  # as pyscard: connecting again replaces the connection
    assert connection.transmit(GET_CHALLENGE)[1] == 0x90
    connection.disconnect()


def test_errors_are_aioscards_classes(virtual_card: VirtualCard) -> None:
    empty = readers()[1].createConnection()
    with pytest.raises(NoCardException) as caught:
        empty.connect()
    assert caught.type is aioscard.NoCardException
    holder = readers()[0].createConnection()
    holder.connect(mode=scard.SCARD_SHARE_EXCLUSIVE)
    try:
        with pytest.raises(SharingViolationException):
            readers()[0].createConnection().connect()
    finally:
        holder.disconnect()
    connection = readers()[0].createConnection()
    connection.connect()
    try:
        with pytest.raises(aioscard.exceptions.UnsupportedFeatureException):
            connection.getAttrib(scard.SCARD_ATTR_POWER_MGMT_SUPPORT)
    finally:
        connection.disconnect()


def test_observers_see_the_shims_connection(
    virtual_card: VirtualCard, capsys: pytest.CaptureFixture[str]
) -> None:
    seen: list[tuple[Any, str]] = []

    class Recorder(CardConnectionObserver):
        def update(self, cardconnection: Any, ccevent: Any) -> None:
            seen.append((cardconnection, ccevent.type))

    connection = readers()[0].createConnection()
    recorder = Recorder()
    connection.addObserver(recorder)
    connection.addObserver(ConsoleCardConnectionObserver())
    assert shim(connection).countObservers() == 2
    connection.connect()
    connection.transmit(GET_CHALLENGE)
    connection.transmit(list(verify_apdu()))
    connection.deleteObserver(recorder)
    connection.disconnect()
    assert all(observed is shim(connection) for observed, _ in seen)
    assert [kind for _, kind in seen] == [
        "connect",
        "command",
        "response",
        "command",
        "response",
    ]
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"connecting to {connection.getReader()}"
    assert lines[1] == "> 00 84 00 00 08"
    assert re.fullmatch(r"< ([0-9A-F]{2} ){8}90 00", lines[2])
    assert lines[3] == "> 00 20 00 80 06 <6 bytes redacted>"  # the PIN stays out of logs
    assert lines[4:] == ["<  [] 90 00", f"disconnecting from {connection.getReader()}"]


def test_error_checking_chain_and_filter(virtual_card: VirtualCard) -> None:
    chain: list[Any] = []
    ErrorCheckingChain(chain, ISO7816_4ErrorChecker())
    with readers()[0].createConnection() as connection:
        connection.setErrorCheckingChain(chain)
        with pytest.raises(CheckingErrorException) as caught:
            connection.transmit(list(select_aid_apdu(b"\xa0\x00\x00\x00\x99")))
        assert caught.type is aioscard.sw.CheckingErrorException
        assert (caught.value.sw1, caught.value.sw2) == (0x6A, 0x82)
        connection.addSWExceptionToFilter(CheckingErrorException)
        assert connection.transmit(list(select_aid_apdu(b"\xa0\x00\x00\x00\x99")))[1] == 0x6A


def test_exclusive_transmit_lock_keeps_another_connection_waiting(
    virtual_card: VirtualCard,
) -> None:
    first = ExclusiveTransmitCardConnection(readers()[0].createConnection())
    second = ExclusiveTransmitCardConnection(readers()[0].createConnection())
    first.connect()
    second.connect()
    first.lock()
    unlocking = threading.Event()
    order: list[str] = []

    def take_the_lock() -> None:
        second.lock()
        order.append("second locked" if unlocking.is_set() else "second locked too early")
        second.transmit(GET_CHALLENGE)
        second.unlock()

    other = threading.Thread(target=take_the_lock)
    other.start()
    other.join(0.3)
    assert other.is_alive()  # still waiting for the first connection's lock
    assert first.transmit(GET_CHALLENGE)[1] == 0x90
    unlocking.set()
    first.unlock()
    other.join(10)
    assert order == ["second locked"]
    first.disconnect()
    second.disconnect()


def test_exclusive_connect_refuses_others_until_disconnect(virtual_card: VirtualCard) -> None:
    connection = ExclusiveConnectCardConnection(readers()[0].createConnection())
    connection.connect()
    with pytest.raises(SharingViolationException):
        readers()[0].createConnection().connect()
    connection.disconnect()
    with readers()[0].createConnection() as other:
        assert other.getATR() == DEMO


def test_session_sends_apdus_pyscard_style(virtual_card: VirtualCard, names: list[str]) -> None:
    session = Session()
    try:
        assert session.getATR() == DEMO
        response, sw1, sw2 = session.sendCommandAPDU(GET_CHALLENGE)
        assert len(response) == 10  # more than 2 data bytes: SW appended, as in pyscard
        assert response[-2:] == [sw1, sw2] == [0x90, 0x00]
        assert repr(session) == f"<Session instance: readerName='{names[0]}'>"
    finally:
        session.close()


# -- CardRequest ---------------------------------------------------------------------------


def test_waitforcard_returns_a_present_card_at_once(virtual_card: VirtualCard) -> None:
    request = CardRequest(timeout=5, cardType=AnyCardType())
    service = request.waitforcard()
    assert isinstance(service, PassThruCardService)
    assert not shim(service.connection).aio.connected  # as pyscard: not connected yet
    with service:
        assert service.connection.getATR() == DEMO
        assert service.connection.transmit(list(GET_CPLC_APDU))[1] == 0x90
    assert not shim(service.connection).aio.connected


def test_newcardonly_waits_for_a_new_card(
    virtual_card: VirtualCard, card_factory: CardFactory, names: list[str]
) -> None:
    request = CardRequest(newcardonly=True, timeout=10)
    got: list[Any] = []
    waiter = threading.Thread(target=lambda: got.append(request.waitforcard()))
    waiter.start()
    waiter.join(0.3)
    assert waiter.is_alive()
    card_factory(MASKABLE_ATR, reader=1)
    waiter.join(10)
    assert not waiter.is_alive()
    with got[0] as service:
        assert service.connection.getReader() == names[1]
        assert service.connection.getATR() == list(MASKABLE_ATR)


def test_a_request_times_out_and_leaves_nothing_running(virtual_card: VirtualCard) -> None:
    request = CardRequest(timeout=0.3, cardType=ATRCardType(list(MASKABLE_ATR)))
    started = time.monotonic()
    with pytest.raises(CardRequestTimeoutException):
        request.waitforcard()
    assert 0.25 < time.monotonic() - started < 2.0
    # Only the asked-for readers count.
    with pytest.raises(CardRequestTimeoutException):
        CardRequest(readers=[readers()[1]], timeout=0.2).waitforcard()
    assert CardRequest(readers=readers()[:1], timeout=2).waitforcard() is not None


def test_ctrl_c_ends_a_wait_at_once(names: list[str], tmp_path: Path) -> None:
    script = tmp_path / "wait_forever.py"
    script.write_text(
        "from smartcard.CardRequest import CardRequest\n"
        f"request = CardRequest(readers=[{names[3]!r}], timeout=None)\n"
        "try:\n"
        "    print('waiting', flush=True)\n"
        "    request.waitforcard()\n"
        "except KeyboardInterrupt:\n"
        "    print('interrupted', flush=True)\n"
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "aioscard.compat", str(script)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline() == "waiting\n"
        # Aim at the blocked wait; a signal that comes sooner (a loaded machine) still
        # lands inside the try, so the outcome does not depend on timing.
        time.sleep(0.3)
        process.send_signal(signal.SIGINT)
        assert finish(process, timeout=10) == "interrupted\n"
    finally:
        process.kill()
        process.wait()


def test_waitforcardevent_returns_the_cards_present_after_each_change(
    virtual_card: VirtualCard, card_factory: CardFactory, names: list[str]
) -> None:
    with CardRequest(timeout=10) as request:
        assert [(str(c.reader), c.atr) for c in request.waitforcardevent()] == [(names[0], DEMO)]
        inserter = threading.Timer(0.2, card_factory, kwargs={"reader": 1})
        inserter.start()
        try:
            cards = request.waitforcardevent()
        finally:
            inserter.join()
        assert sorted(str(card.reader) for card in cards) == names[:2]
        card_factory.remove(1)
        assert [str(card.reader) for card in request.waitforcardevent()] == names[:1]
    assert get_watcher().subscriber_count == 0


# -- CardMonitor and ReaderMonitor ----------------------------------------------------------


class Recorder(CardObserver):
    def __init__(self) -> None:
        self.calls: list[tuple[list[Any], list[Any]]] = []
        self.changed = threading.Condition()

    def update(self, observable: Any, handlers: Any) -> None:
        added, removed = handlers
        with self.changed:
            self.calls.append((list(added), list(removed)))
            self.changed.notify_all()

    def wait_for(self, count: int, timeout: float = 5.0) -> None:
        with self.changed:
            assert self.changed.wait_for(lambda: len(self.calls) >= count, timeout), self.calls


class Failing(CardObserver):
    def update(self, observable: Any, handlers: Any) -> None:
        raise RuntimeError("observer bug")


def test_card_monitor_reports_present_cards_then_changes(
    virtual_card: VirtualCard,
    card_factory: CardFactory,
    names: list[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    monitor = CardMonitor()
    assert monitor is CardMonitor()
    recorder, failing = Recorder(), Failing()
    caplog.set_level(logging.ERROR, logger="aioscard.compat.monitor")
    monitor.addObserver(failing)
    monitor.addObserver(recorder)
    try:
        # Told at once, before addObserver returned, of the card already there.
        assert [([str(c.reader) for c in a], r) for a, r in recorder.calls] == [([names[0]], [])]
        card_factory(MASKABLE_ATR, reader=1)
        recorder.wait_for(2)
        card_factory.remove(1)
        recorder.wait_for(3)
    finally:
        monitor.deleteObserver(failing)
        started = time.monotonic()
        monitor.deleteObserver(recorder)
        stopping = time.monotonic() - started
    added, removed = recorder.calls[1]
    assert ([str(c.reader) for c in added], removed) == ([names[1]], [])
    assert added[0].atr == list(MASKABLE_ATR)
    assert recorder.calls[2] == ([], added)
    # The failing observer was logged each time and did not stop the others.
    assert sum("observer bug" in r.exc_text for r in caplog.records if r.exc_text) >= 3
    assert stopping < 0.5
    assert monitor.countObservers() == 0


def test_a_later_observer_is_told_the_present_cards_once(
    virtual_card: VirtualCard, names: list[str]
) -> None:
    monitor = CardMonitor()
    first, second = Recorder(), Recorder()
    monitor.addObserver(first)
    try:
        monitor.addObserver(second)
        assert [len(added) for added, _ in second.calls] == [1]
        assert first.calls == second.calls
    finally:
        monitor.deleteObservers()


def test_reader_monitor_reports_the_readers(names: list[str]) -> None:
    class Readers(ReaderObserver):
        def __init__(self) -> None:
            self.calls: list[Any] = []

        def update(self, observable: Any, handlers: Any) -> None:
            self.calls.append(handlers)

    monitor = ReaderMonitor()
    observer = Readers()
    monitor.addObserver(observer)
    monitor.deleteObserver(observer)
    assert len(observer.calls) == 1
    added, removed = observer.calls[0]
    assert [str(reader) for reader in added] == names
    assert removed == []


# -- scard against pcscd ------------------------------------------------------------------


def test_scard_calls_against_pcscd(virtual_card: VirtualCard, names: list[str]) -> None:
    hresult, context = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
    assert hresult == scard.SCARD_S_SUCCESS
    try:
        assert scard.SCardListReaders(context, []) == (scard.SCARD_S_SUCCESS, names)
        hresult, states = scard.SCardGetStatusChange(
            context, 0, [(name, scard.SCARD_STATE_UNAWARE) for name in names[:2]]
        )
        assert hresult == scard.SCARD_S_SUCCESS
        assert states[0][1] & scard.SCARD_STATE_PRESENT
        assert states[0][2] == DEMO
        assert states[1][1] & scard.SCARD_STATE_EMPTY
        assert scard.SCardGetStatusChange(context, 10, states)[0] == scard.SCARD_E_TIMEOUT
        assert scard.SCardConnect(context, names[1], scard.SCARD_SHARE_SHARED, 3) == (
            scard.SCARD_E_NO_SMARTCARD,
            0,
            0,
        )
        hresult, hcard, protocol = scard.SCardConnect(
            context, names[0], scard.SCARD_SHARE_SHARED, scard.SCARD_PROTOCOL_Tx
        )
        assert (hresult, protocol) == (scard.SCARD_S_SUCCESS, scard.SCARD_PROTOCOL_T1)
        assert scard.SCardStatus(hcard)[4] == DEMO
        hresult, response = scard.SCardTransmit(hcard, scard.SCARD_PCI_T1, GET_CHALLENGE)
        assert (hresult, len(response), response[-2:]) == (0, 10, [0x90, 0x00])
        assert scard.SCardDisconnect(hcard, scard.SCARD_LEAVE_CARD) == scard.SCARD_S_SUCCESS
    finally:
        assert scard.SCardReleaseContext(context) == scard.SCARD_S_SUCCESS


def test_scard_cancel_from_another_thread_ends_a_wait(names: list[str]) -> None:
    _, context = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
    try:
        _, states = scard.SCardGetStatusChange(context, 0, [(names[0], 0)])
        result: list[int] = []
        waiter = threading.Thread(
            target=lambda: result.append(
                scard.SCardGetStatusChange(context, scard.INFINITE, states)[0]
            )
        )
        waiter.start()
        waiter.join(0.2)
        assert scard.SCardCancel(context) == scard.SCARD_S_SUCCESS
        waiter.join(5)
        assert result == [scard.SCARD_E_CANCELLED]
    finally:
        scard.SCardReleaseContext(context)
