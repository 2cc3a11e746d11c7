"""The Simulator against a real private pcscd, the CLI and the pytest plugin.

libpcsclite latches the daemon's socket path at a process's first PC/SC call,
so this process talks PC/SC only to the session's ``pcsc_simulator``; tests of
other simulators ask a subprocess (``sys.executable -c CLIENT``).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from aioscard.exceptions import SmartcardException
from aioscard.native import PCSCAPI, ReaderState, get_pcsc
from aioscard.native import constants as C
from aioscard.testing import (
    ATR_T0,
    DEMO_ATR,
    DROP_APDU,
    MASKABLE_ATR,
    SELECT_DEMO_APDU,
    DemoCard,
    Simulator,
    SimulatorError,
    VirtualCard,
    echo_apdu,
    get_challenge_apdu,
)
from aioscard.testing._netstat import bound_unix_paths, listening
from aioscard.testing._ports import reserve_ports
from aioscard.testing._sandbox import sweep_stale_directories

if TYPE_CHECKING:
    from collections.abc import Iterator

    from aioscard.testing.plugin import CardFactory

OK = b"\x90\x00"

# A PC/SC client for other simulators: argv = operation, reader, hex APDUs...;
# prints one JSON object.
CLIENT = textwrap.dedent(
    """
    import json, sys
    from aioscard.native import ReaderState, get_pcsc, constants as C
    operation, *args = sys.argv[1:]
    pcsc = get_pcsc()
    try:
        ctx = pcsc.establish_context()
    except Exception as exc:
        print(json.dumps({"error": type(exc).__name__}))
        sys.exit()
    if operation == "readers":
        print(json.dumps({"readers": pcsc.list_readers(ctx)}))
    elif operation == "status":
        [state] = pcsc.get_status_change(ctx, 0, [ReaderState(args[0])])
        print(json.dumps({"state": state.event_state & 0xFFFF, "atr": state.atr.hex()}))
    elif operation == "transmit":
        handle, protocol = pcsc.connect(
            ctx, args[0], C.SCARD_SHARE_SHARED, C.SCARD_PROTOCOL_T0 | C.SCARD_PROTOCOL_T1
        )
        answers = [pcsc.transmit(handle, protocol, bytes.fromhex(a)).hex() for a in args[1:]]
        pcsc.disconnect(handle, C.SCARD_LEAVE_CARD)
        print(json.dumps({"answers": answers}))
    pcsc.release_context(ctx)
    """
)


def client(simulator: Simulator, *args: str) -> dict[str, Any]:
    """Run one PC/SC operation in a subprocess talking to ``simulator``."""
    done = subprocess.run(
        [sys.executable, "-c", CLIENT, *args],
        env={**os.environ, **simulator.env},
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def client_state(simulator: Simulator, reader: int) -> tuple[int, bytes]:
    result = client(simulator, "status", simulator.reader_names[reader])
    return result["state"], bytes.fromhex(result["atr"])


def process_gone(pid: int) -> bool:
    # A zombie keeps its /proc entry: gone means exited *and* reaped.
    return not os.path.exists(f"/proc/{pid}")


def is_inserted(card: VirtualCard) -> bool:
    # A call, not the property: mypy would keep an earlier assert's narrowing.
    return card.inserted


def is_running(simulator: Simulator) -> bool:
    return simulator.running


@pytest.fixture(params=["driver", "vpcd"])
def backend(request: pytest.FixtureRequest) -> str:
    """Each back-end in turn: the simulator's own reader driver, and vpcd."""
    name: str = request.param
    return name


@pytest.fixture
def simulator(backend: str) -> Iterator[Simulator]:
    with Simulator(readers=2, backend=backend) as sim:
        yield sim


def card_sockets_bound(sim: Simulator) -> bool:
    bound = bound_unix_paths()
    return all(sim.card_address(i) in bound for i in range(sim.readers))


# -- life cycle (no PC/SC in this process) ------------------------------------------------


def test_start_and_stop_reap_the_daemon(backend: str) -> None:
    sim = Simulator(readers=2, backend=backend)
    assert sim.backend == backend
    sim.start()
    pid = sim.pid
    assert pid is not None
    assert sim.running
    assert "pcscd" in Path(f"/proc/{pid}/cmdline").read_text()
    assert os.path.exists(sim.socket_path)
    assert sim.env == {"PCSCLITE_CSOCK_NAME": sim.socket_path}
    if backend == "vpcd":
        assert all(port in listening() for port in sim.ports)
    else:
        assert sim.ports == []
        assert card_sockets_bound(sim)
    directory = os.path.dirname(sim.socket_path)
    sim.stop()
    assert process_gone(pid)
    assert not is_running(sim)
    assert sim.pid is None
    assert not os.path.exists(directory)
    assert not any(port in listening() for port in sim.ports)
    sim.stop()  # idempotent


# Alone: any simulator starting meanwhile (another worker's, another Python's) sweeps the
# orphan's directory before this test has looked at it.
@pytest.mark.alone
def test_daemon_dies_with_the_process_that_started_it() -> None:
    code = (
        "import sys; from aioscard.testing import Simulator; sim = Simulator(); sim.start(); "
        "print(sim.pid, sim.socket_path, flush=True); sys.stdin.read()"
    )
    owner = subprocess.Popen(
        [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert owner.stdout is not None
        pid_text, socket_path = owner.stdout.readline().split()
        pid = int(pid_text)
        assert not process_gone(pid)
    finally:
        owner.kill()
        owner.wait()
        for stream in (owner.stdin, owner.stdout):
            if stream is not None:
                stream.close()
    # The orphan is reaped by PID 1, not by us: polling is all there is.
    deadline = time.monotonic() + 10
    while not process_gone(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert process_gone(pid)
    # Its directory outlived it; the next simulator to start sweeps it away.
    directory = os.path.dirname(socket_path)
    assert os.path.isdir(directory)
    with Simulator(readers=2):
        assert not os.path.exists(directory)


def test_sweep_keeps_directories_of_live_simulators(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    dead_pid = subprocess.Popen(["true"])
    dead_pid.wait()
    stale, mine, fresh = (tmp_path / f"aioscard-sim-{name}" for name in ("a", "b", "c"))
    for directory, owner in ((stale, dead_pid.pid), (mine, os.getpid())):
        directory.mkdir()
        (directory / "owner").write_text(str(owner))
    fresh.mkdir()  # no owner yet: being set up
    sweep_stale_directories()
    assert not stale.exists()
    assert mine.exists()
    assert fresh.exists()


def test_stop_removes_the_cards(simulator: Simulator) -> None:
    cards = [simulator.insert(reader=reader) for reader in (0, 1)]
    simulator.stop()
    assert not any(card.inserted for card in cards)
    assert simulator.card(0) is None


def test_readers_and_their_names(simulator: Simulator) -> None:
    if simulator.backend == "vpcd":
        assert simulator.reader_names == ["aioscard vpcd 0 00 00", "aioscard vpcd 0 00 01"]
        assert simulator.ports == [simulator.ports[0], simulator.ports[0] + 1]
        assert simulator.ports[0] >= 40000
    else:
        assert simulator.reader_names == ["aioscard sim 00 00", "aioscard sim 01 00"]
    assert client(simulator, "readers") == {"readers": simulator.reader_names}


def test_the_driver_serves_any_number_of_readers_from_one_library() -> None:
    with Simulator(readers=5, backend="driver") as sim:
        assert client(sim, "readers") == {"readers": [f"aioscard sim {i:02X} 00" for i in range(5)]}
        conf = Path(sim.socket_path).with_name("reader.conf").read_text()
        assert len({line for line in conf.splitlines() if line.startswith("LIBPATH")}) == 1
        for reader in (4, 0, 2):
            sim.insert(VirtualCard(ATR_T0, name=f"card {reader}"), reader=reader)
        answers = client(sim, "transmit", sim.reader_names[4], "80EE000001AA00")
        assert answers == {"answers": ["aa9000"]}
        assert [client_state(sim, i)[1] for i in range(5)] == [ATR_T0, b"", ATR_T0, b"", ATR_T0]


def test_odd_reader_count_leaves_one_idle_vpcd_slot() -> None:
    with Simulator(readers=3, backend="vpcd") as sim:
        assert len(sim.reader_names) == len(sim.ports) == 3
        listed = client(sim, "readers")["readers"]
        assert listed == [*sim.reader_names, "aioscard vpcd 1 00 01"]


def test_fixed_base_port_and_busy_ports() -> None:
    with (
        Simulator(readers=2, backend="vpcd") as simulator,
        pytest.raises(OSError, match="free TCP ports"),
    ):
        Simulator(readers=2, base_port=simulator.ports[0], backend="vpcd").start()
    probe = reserve_ports(2)
    free = probe.ports[0]
    probe.release()
    with Simulator(readers=2, base_port=free, backend="vpcd") as sim:
        assert sim.ports == [free, free + 1]


def test_two_simulators_coexist(simulator: Simulator) -> None:
    with Simulator(readers=2, backend=simulator.backend) as other:
        assert other.socket_path != simulator.socket_path
        assert not set(other.ports) & set(simulator.ports)
        other.insert(VirtualCard(ATR_T0), reader=1)
        state, atr = client_state(other, 1)
        assert state & C.SCARD_STATE_PRESENT
        assert atr == ATR_T0
        state, _ = client_state(simulator, 1)
        assert state & C.SCARD_STATE_EMPTY


def test_insert_transmit_and_remove(simulator: Simulator) -> None:
    card = simulator.insert()
    assert simulator.card(0) is card
    assert card.inserted
    assert [event for _, event in card.power_log][-1] == "on"
    answers = client(
        simulator, "transmit", simulator.reader_names[0], SELECT_DEMO_APDU.hex(), "80EE000002CAFE00"
    )["answers"]
    assert answers == ["9000", "cafe9000"]
    simulator.remove(0)
    assert simulator.card(0) is None
    assert not is_inserted(card)
    state, _ = client_state(simulator, 0)
    assert state & C.SCARD_STATE_EMPTY


def test_insert_into_a_full_reader_or_a_missing_one(simulator: Simulator) -> None:
    simulator.insert(reader=1)
    with pytest.raises(SimulatorError, match="already holds"):
        simulator.insert(reader=1)
    with pytest.raises(ValueError, match="reader"):
        simulator.insert(reader=2)
    simulator.remove(1)
    simulator.remove(1)  # an empty reader: nothing happens


def test_quick_reinsert_is_seen_as_a_new_card(simulator: Simulator) -> None:
    first = simulator.insert()
    simulator.remove(0)
    second = simulator.insert()
    assert second.wait_powered(0)
    assert first is not second


def test_kill_then_restart_at_the_same_path_and_ports(simulator: Simulator) -> None:
    card = simulator.insert()
    path, ports, pid = simulator.socket_path, list(simulator.ports), simulator.pid
    assert pid is not None
    simulator.kill()
    assert process_gone(pid)
    assert not is_running(simulator)
    assert client(simulator, "readers") == {"error": "ServiceUnavailableException"}
    assert simulator.card(0) is card
    simulator.restart()
    assert simulator.running
    assert simulator.pid != pid
    assert (simulator.socket_path, simulator.ports) == (path, ports)
    assert card.inserted
    answers = client(simulator, "transmit", simulator.reader_names[0], "80EE000001AA00")
    assert answers == {"answers": ["aa9000"]}


def test_restart_needs_a_started_simulator() -> None:
    with pytest.raises(SimulatorError, match="never started"):
        Simulator().restart()


def test_start_twice_is_refused_even_after_kill(simulator: Simulator) -> None:
    with pytest.raises(SimulatorError, match="already started"):
        simulator.start()
    simulator.kill()
    with pytest.raises(SimulatorError, match="already started"):
        simulator.start()


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="readers"):
        Simulator(readers=0)
    with pytest.raises(ValueError, match="base_port"):
        Simulator(readers=2, base_port=65535)
    with pytest.raises(SimulatorError, match="pcscd"):
        Simulator(pcscd="/nonexistent/pcscd").start()
    with pytest.raises(ValueError, match="backend"):
        Simulator(backend="pcsc-relay")
    with pytest.raises(SimulatorError, match="vpcd"):
        Simulator(backend="vpcd").reader(0)
    with pytest.raises(ValueError, match="reader"):
        Simulator(readers=2, backend="driver").reader(2)


def test_throughput_figures_are_not_asserted_but_echo_works_at_the_frame_limit(
    simulator: Simulator,
) -> None:
    simulator.insert()
    data = bytes(range(256)) * 255 + bytes(range(255 - 9))  # the vpcd frame limit
    answers = client(
        simulator, "transmit", simulator.reader_names[0], echo_apdu(data, extended=True).hex()
    )
    assert answers == {"answers": [(data + OK).hex()]}


# -- the session simulator, with PC/SC in this process ------------------------------------


def wait_state(pcsc: PCSCAPI, reader: str, wanted: int, timeout_ms: int = 3000) -> ReaderState:
    """Wait (SCardGetStatusChange) until ``reader`` shows one of the ``wanted`` bits."""
    ctx = pcsc.establish_context()
    try:
        [state] = pcsc.get_status_change(ctx, 0, [ReaderState(reader)])
        while not state.event_state & wanted:
            current = state.event_state & ~C.SCARD_STATE_CHANGED
            [state] = pcsc.get_status_change(ctx, timeout_ms, [ReaderState(reader, current)])
        return state
    finally:
        pcsc.release_context(ctx)


def test_session_simulator_sets_the_socket_variable(pcsc_simulator: Simulator) -> None:
    assert os.environ["PCSCLITE_CSOCK_NAME"] == pcsc_simulator.socket_path
    assert pcsc_simulator.readers == 4
    pcsc = get_pcsc()
    ctx = pcsc.establish_context()
    try:
        assert pcsc.list_readers(ctx) == pcsc_simulator.reader_names
    finally:
        pcsc.release_context(ctx)


def test_virtual_card_fixture(pcsc_simulator: Simulator, virtual_card: VirtualCard) -> None:
    assert isinstance(virtual_card.handler, DemoCard)
    assert pcsc_simulator.card(0) is virtual_card
    pcsc = get_pcsc()
    reader = pcsc_simulator.reader_names[0]
    state = wait_state(pcsc, reader, C.SCARD_STATE_PRESENT)
    assert state.atr == DEMO_ATR
    ctx = pcsc.establish_context()
    try:
        handle, protocol = pcsc.connect(ctx, reader, C.SCARD_SHARE_SHARED, C.SCARD_PROTOCOL_T1)
        assert pcsc.transmit(handle, protocol, SELECT_DEMO_APDU) == OK
        challenge = pcsc.transmit(handle, protocol, get_challenge_apdu(8))
        assert len(challenge) == 10
        assert challenge[-2:] == OK
        pcsc.disconnect(handle, C.SCARD_LEAVE_CARD)
    finally:
        pcsc.release_context(ctx)
    assert virtual_card.apdu_count == 2


def test_card_factory_any_atr_in_any_reader(
    pcsc_simulator: Simulator, card_factory: CardFactory
) -> None:
    pcsc = get_pcsc()
    t0 = card_factory(ATR_T0, reader=3)
    masked = card_factory(MASKABLE_ATR)  # the first empty reader
    assert pcsc_simulator.card(3) is t0
    assert pcsc_simulator.card(0) is masked
    assert wait_state(pcsc, pcsc_simulator.reader_names[3], C.SCARD_STATE_PRESENT).atr == ATR_T0
    state = wait_state(pcsc, pcsc_simulator.reader_names[0], C.SCARD_STATE_PRESENT)
    assert state.atr == MASKABLE_ATR
    card_factory.remove(3)
    assert wait_state(pcsc, pcsc_simulator.reader_names[3], C.SCARD_STATE_EMPTY).atr == b""


def test_card_dropping_mid_apdu(pcsc_simulator: Simulator, virtual_card: VirtualCard) -> None:
    pcsc = get_pcsc()
    ctx = pcsc.establish_context()
    try:
        handle, protocol = pcsc.connect(
            ctx, pcsc_simulator.reader_names[0], C.SCARD_SHARE_SHARED, C.SCARD_PROTOCOL_T1
        )
        with pytest.raises(SmartcardException):
            pcsc.transmit(handle, protocol, DROP_APDU)
        assert not is_inserted(virtual_card)
        pcsc.disconnect(handle, C.SCARD_LEAVE_CARD)
    finally:
        pcsc.release_context(ctx)


# -- command line and plugin ----------------------------------------------------------------


def test_command_line_runs_until_sigterm() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "aioscard.testing", "--readers", "2"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline() for _ in range(4)]
        assert lines[0].startswith("export PCSCLITE_CSOCK_NAME=")
        assert "'aioscard sim 00 00'" in lines[1]
        assert "demo card" in lines[1]
        pid = int(lines[3].split()[2].rstrip(";"))
        assert not process_gone(pid)
        process.send_signal(signal.SIGTERM)
        assert process.wait(10) == 0
        assert process_gone(pid)
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()
        if process.stdout is not None:
            process.stdout.close()


def test_command_line_rejects_bad_arguments(capsys: pytest.CaptureFixture[str]) -> None:
    from aioscard.testing.__main__ import main

    with pytest.raises(SystemExit) as exit_info:
        main(["--readers", "0"])
    assert exit_info.value.code == 2
    assert "--readers" in capsys.readouterr().err
    assert main(["--port", "70000"]) == 1
    assert "base_port" in capsys.readouterr().err


def test_plugin_in_a_fresh_pytest_run(tmp_path: Path) -> None:
    (tmp_path / "test_user.py").write_text(
        textwrap.dedent(
            """
            import os, sys

            def test_no_fixture_no_daemon():
                assert "aioscard.testing._simulator" not in sys.modules

            def test_readers(pcsc_simulator, virtual_card, card_factory):
                assert pcsc_simulator.readers == 2
                assert os.environ["PCSCLITE_CSOCK_NAME"] == pcsc_simulator.socket_path
                assert card_factory().inserted
                assert virtual_card.wait_powered(0)
            """
        )
    )
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--aioscard-readers", "2"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 passed" in done.stdout


# -- without a mount namespace (chroots, unprivileged containers) ------------------------


@pytest.fixture
def no_namespaces(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Make ``unshare`` fail, as it does in a chroot, for this process and its children."""
    from aioscard.testing import _sandbox

    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "unshare").write_text("#!/bin/sh\necho 'unshare: unshare failed' >&2\nexit 1\n")
    (fake / "unshare").chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake}{os.pathsep}{os.environ['PATH']}")
    _sandbox.namespace_prefix.cache_clear()
    try:
        yield
    finally:
        _sandbox.namespace_prefix.cache_clear()  # the next simulator probes the real PATH


def _pid_file_state(path: Path) -> tuple[bytes, int] | None:
    if not path.exists():
        return None
    return path.read_bytes(), path.stat().st_mode & 0o7777


# Without namespaces every private pcscd shares /run/pcscd, and pcscd removes the pid file
# when it exits whatever it holds: another worker's simulator would disturb the file these
# tests plant and check.  The test command runs them alone, after the parallel suite.
@pytest.mark.alone
@pytest.mark.parametrize("system_pid_file", [True, False], ids=["pid-file", "no-pid-file"])
def test_without_namespaces_the_system_pid_file_stays_and_the_warning_is_logged(
    no_namespaces: None, caplog: pytest.LogCaptureFixture, system_pid_file: bool
) -> None:
    from aioscard.testing._sandbox import PID_FILE

    pid_file = Path(PID_FILE)
    run = pid_file.parent
    if not os.access(run if run.exists() else run.parent, os.W_OK):
        pytest.skip(f"{run} is not writable: a private pcscd cannot run here without namespaces")
    made_run = not run.exists()
    planted = False
    if system_pid_file and not pid_file.exists():
        run.mkdir(exist_ok=True)
        pid_file.write_bytes(b"4242\n")  # stands in for a system pcscd's
        pid_file.chmod(0o600)
        planted = True
    elif not system_pid_file and pid_file.exists():
        pytest.skip(f"{PID_FILE} exists: a system pcscd runs here")
    before = _pid_file_state(pid_file)
    try:
        with caplog.at_level("WARNING", logger="aioscard.testing"), Simulator(readers=2) as sim:
            assert _pid_file_state(pid_file) == before
            sim.insert(reader=1)
            answers = client(sim, "transmit", sim.reader_names[1], "80EE000001AA00")
            assert answers == {"answers": ["aa9000"]}
            sim.kill()
            assert _pid_file_state(pid_file) == before
            sim.restart()
            assert _pid_file_state(pid_file) == before
        assert _pid_file_state(pid_file) == before
        if not system_pid_file:
            assert run.exists() == (not made_run)  # a /run/pcscd made by pcscd is gone too
        warnings = [r for r in caplog.records if "no private mount namespace" in r.getMessage()]
        assert len(warnings) == 1
        assert warnings[0].levelname == "WARNING"
    finally:
        if planted:
            pid_file.unlink()
        if made_run and run.exists():
            run.rmdir()


@pytest.mark.alone
def test_without_namespaces_nothing_is_written_to_stderr(no_namespaces: None) -> None:
    # The warning is a logging record; an application that configures no logging sees nothing.
    code = (
        "from aioscard.testing import Simulator\n"
        "with Simulator(readers=1) as sim:\n"
        "    print(sim.running)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert (done.returncode, done.stdout, done.stderr) == (0, "True\n", "")
