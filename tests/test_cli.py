"""The ``aioscard`` command line against the simulator: every command, its output
and its exit status.

Most tests call :func:`aioscard.__main__.main` in this process (the session
simulator's ``PCSCLITE_CSOCK_NAME`` is set already); what needs a process of
its own runs as a subprocess: Ctrl-C (``watch``, ``sim``), a terminal
(``shell``'s prompt and history), another pcscd (none at all, or ``sim``'s),
and the entry points themselves.  ``demo`` is in ``test_cli_demo.py``.
"""

from __future__ import annotations

import io
import json
import os
import queue
import re
import select
import shutil
import signal
import subprocess
import sys
import textwrap
import threading
import time
from typing import TYPE_CHECKING

import pytest
from anyio.from_thread import start_blocking_portal

import aioscard
from aioscard.__main__ import main
from aioscard._cli import (
    EXIT_BUSY,
    EXIT_ERROR,
    EXIT_NO_CARD,
    EXIT_NO_READERS,
    EXIT_NO_SERVICE,
    EXIT_OK,
    EXIT_TIMEOUT,
    EXIT_USAGE,
)
from aioscard.monitor import CardInserted, get_watcher
from aioscard.testing import (
    ATR_T0_T1,
    DEMO_ATR,
    DROP_APDU,
    SELECT_DEMO_APDU,
    Simulator,
    VirtualCard,
    verify_apdu,
)

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence
    from pathlib import Path

    from aioscard.testing.plugin import CardFactory

COMMANDS = ("demo", "readers", "watch", "atr", "send", "shell", "record", "sim")
SELECT = SELECT_DEMO_APDU.hex()
VERIFY = verify_apdu(b"123456").hex()
DEMO_ATR_HEX = " ".join(f"{b:02X}" for b in DEMO_ATR)
PIN_HEX = "31 32 33 34 35 36"


# -- helpers shared with test_examples.py -------------------------------------------------


def child_env(**extra: str) -> dict[str, str]:
    """This process's environment (the simulator's socket included) for a child,
    without pytest's own variables, unbuffered."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


class Spawned:
    """A child process whose merged stdout/stderr is read line by line in a thread."""

    def __init__(self, args: list[str], env: dict[str, str] | None = None) -> None:
        self.lines: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        self.process = subprocess.Popen(
            args,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=child_env() if env is None else env,
        )
        self._reader = threading.Thread(target=self._pump, daemon=True)
        self._reader.start()

    def _pump(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    def expect(self, pattern: str, timeout: float = 10.0) -> str:
        """The next line matching the regular expression ``pattern`` (earlier ones kept)."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"no line matching {pattern!r}; got {self.lines}") from None
            if line is None:
                raise AssertionError(f"exited before {pattern!r}; got {self.lines}")
            self.lines.append(line)
            if re.search(pattern, line):
                return line

    def finish(self, timeout: float = 10.0) -> int:
        """Wait for the exit status, collecting the remaining output."""
        status = self.process.wait(timeout)
        self._reader.join(timeout)
        while not self._queue.empty():
            line = self._queue.get()
            if line is not None:
                self.lines.append(line)
        return status

    def close(self) -> None:
        """Kill the child if it still runs; close its pipe."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self._reader.join(10)
        assert self.process.stdout is not None
        self.process.stdout.close()


@pytest.fixture
def spawn() -> Iterator[list[Spawned]]:
    """Processes a test spawns (append them); killed if the test leaves them running."""
    spawned: list[Spawned] = []
    yield spawned
    for child in spawned:
        child.close()


def aioscard_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "aioscard", *args]


def run(*argv: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    status = main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


# -- help ------------------------------------------------------------------------------


def test_help_lists_commands_examples_and_exit_statuses(
    capsys: pytest.CaptureFixture[str],
) -> None:
    status, out, _ = run("--help", capsys=capsys)
    assert status == EXIT_OK
    for command in COMMANDS:
        assert re.search(rf"^\s+{command}\s", out, re.MULTILINE), command
    assert "examples:" in out
    assert "exit status:" in out
    for code in (EXIT_NO_READERS, EXIT_NO_SERVICE, EXIT_BUSY, EXIT_NO_CARD):
        assert re.search(rf"^\s+{code}\s", out, re.MULTILINE)


@pytest.mark.parametrize("command", COMMANDS)
def test_each_command_has_help_with_an_example(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, _ = run(command, "--help", capsys=capsys)
    assert status == EXIT_OK
    assert re.search(r"^examples?:$", out, re.MULTILINE)
    assert f"aioscard {command}" in out


def test_no_command_and_bad_arguments_are_usage_errors(
    capsys: pytest.CaptureFixture[str],
) -> None:
    status, _, err = run(capsys=capsys)
    assert status == EXIT_USAGE
    assert "usage: aioscard" in err
    status, _, err = run("watch", "--count", "0", capsys=capsys)
    assert status == EXIT_USAGE
    assert "must be at least 1" in err


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run("--version", capsys=capsys)
    assert (status, out.strip()) == (EXIT_OK, f"aioscard {aioscard.__version__}")


# -- readers ---------------------------------------------------------------------------


def test_readers_shows_state_atr_and_protocols(
    pcsc_simulator: Simulator, card_factory: CardFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    card_factory(ATR_T0_T1, reader=2)
    status, out, _ = run("readers", capsys=capsys)
    assert status == EXIT_OK
    lines = out.splitlines()
    names = pcsc_simulator.reader_names
    # Each reader: "N: name", its state, then what the reader says about itself (if anything).
    first, third = lines.index(f"0: {names[0]}"), lines.index(f"2: {names[2]}")
    assert lines[first + 1].strip() == "empty"
    atr = " ".join(f"{b:02X}" for b in ATR_T0_T1)
    assert lines[third + 1].strip() == f"card present; ATR {atr}; protocols T=0, T=1"


def test_readers_json(
    pcsc_simulator: Simulator, virtual_card: VirtualCard, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, _ = run("readers", "--json", capsys=capsys)
    assert status == EXIT_OK
    readers = [json.loads(line) for line in out.splitlines()]
    assert [r["name"] for r in readers] == pcsc_simulator.reader_names
    # What each reader says about itself: whatever its driver offers, an object always.
    assert all(isinstance(reader.pop("info"), dict) for reader in readers)
    assert readers[0] == {
        "index": 0,
        "name": pcsc_simulator.reader_names[0],
        "state": "card present",
        "present": True,
        "atr": DEMO_ATR.hex().upper(),
        "protocols": ["T=1"],
    }
    assert readers[1]["present"] is False
    assert readers[1]["atr"] is None


# -- atr -------------------------------------------------------------------------------


def test_atr_explains_hex_in_any_layout(capsys: pytest.CaptureFixture[str]) -> None:
    packed = ATR_T0_T1.hex()
    status, out, _ = run("atr", packed, capsys=capsys)
    assert status == EXIT_OK
    assert "TD1 = 80" in out
    assert "protocols: T=0, T=1" in out
    assert f"TCK = {ATR_T0_T1[-1]:02X}  correct" in out
    spaced = [f"{b:02x}" for b in ATR_T0_T1]  # several arguments, lower case
    assert run("atr", *spaced, capsys=capsys)[1] == out


def test_atr_rejects_an_invalid_atr(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run("atr", "3B 88", capsys=capsys)
    assert status == EXIT_USAGE
    assert out == ""
    assert "aioscard: error: not a valid ATR" in err


def test_atr_of_the_card_in_a_reader(
    pcsc_simulator: Simulator, virtual_card: VirtualCard, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, _ = run("atr", capsys=capsys)
    assert status == EXIT_OK
    assert out.splitlines()[:2] == [
        f"reader: {pcsc_simulator.reader_names[0]}",
        f"ATR: {DEMO_ATR_HEX}",
    ]
    status, _, err = run("atr", "--reader", "1", capsys=capsys)
    assert status == EXIT_NO_CARD
    assert "no card" in err


# -- send ------------------------------------------------------------------------------


def test_send_prints_responses_with_meanings_and_redacts_the_pin(
    pcsc_simulator: Simulator, virtual_card: VirtualCard, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, err = run(
        "send", SELECT, "00 20 00 80 06 31 32 33 34 35 36", "0084000008", capsys=capsys
    )
    assert status == EXIT_OK
    lines = out.splitlines()
    assert lines[0] == "> 00 A4 04 00 08 A0 00 00 06 47 2F 00 01"
    assert lines[1] == "< 90 00  Normal processing"
    assert lines[2] == "> 00 20 00 80 06 <6 bytes redacted>"
    assert lines[3] == "< 90 00  Normal processing"
    assert re.fullmatch(r"< ([0-9A-F]{2} ){8}90 00  Normal processing", lines[5])
    assert PIN_HEX not in out + err
    assert f"reader: {pcsc_simulator.reader_names[0]}" in err


def test_send_reveal_shows_the_pin(
    virtual_card: VirtualCard, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, _ = run("send", "--reveal", VERIFY, capsys=capsys)
    assert status == EXIT_OK
    assert f"> 00 20 00 80 06 {PIN_HEX}" in out


def test_send_json(
    pcsc_simulator: Simulator, virtual_card: VirtualCard, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, _ = run("send", "--json", SELECT, VERIFY, "00A4040002AABB", capsys=capsys)
    assert status == EXIT_OK
    exchanges = [json.loads(line) for line in out.splitlines()]
    assert exchanges[0] == {
        "reader": pcsc_simulator.reader_names[0],
        "command": "00 A4 04 00 08 A0 00 00 06 47 2F 00 01",
        "redacted": False,
        "data": "",
        "sw": "9000",
        "meaning": "Normal processing",
    }
    assert exchanges[1]["command"] == "00 20 00 80 06 <6 bytes redacted>"
    assert exchanges[1]["redacted"] is True
    assert (exchanges[2]["sw"], exchanges[2]["meaning"]) == (
        "6A82",
        "File or application not found",
    )


def test_send_reads_stdin_and_files_skipping_comments(
    virtual_card: VirtualCard,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    script = f"# select the demo application\n{SELECT}\n\n80EE0000026869  # echo 'hi'\n"
    monkeypatch.setattr(sys, "stdin", io.StringIO(script))
    status, out, _ = run("send", capsys=capsys)
    assert status == EXIT_OK
    assert out.splitlines()[2:] == ["> 80 EE 00 00 02 68 69", "< 68 69 90 00  Normal processing"]
    path = tmp_path / "commands.apdu"
    path.write_text(script)
    assert run("send", "--file", str(path), capsys=capsys)[1] == out


def test_send_get_response_helper(
    virtual_card: VirtualCard, capsys: pytest.CaptureFixture[str]
) -> None:
    long_response = "80E00120"  # 288 bytes, served by GET RESPONSE
    status, out, _ = run("send", long_response, capsys=capsys)
    assert status == EXIT_OK
    assert out.splitlines()[1] == "< 61 00  256 or more bytes still available (use GET RESPONSE)"
    status, out, _ = run("send", "--get-response", long_response, capsys=capsys)
    assert status == EXIT_OK
    response = out.splitlines()[1]
    assert response.endswith("90 00  Normal processing")
    assert len(response.split()) == 1 + 288 + 2 + 2


def test_send_picks_the_reader_by_index_or_name(
    pcsc_simulator: Simulator, card_factory: CardFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    card_factory(reader=1)
    card_factory(reader=3)
    names = pcsc_simulator.reader_names
    for spec, expected in (("3", names[3]), (names[1], names[1]), (" 03 00", names[3])):
        status, out, _ = run("send", "--json", "--reader", spec, SELECT, capsys=capsys)
        assert status == EXIT_OK
        assert json.loads(out)["reader"] == expected
    # Without --reader: the first reader that holds a card.
    status, out, _ = run("send", "--json", SELECT, capsys=capsys)
    assert json.loads(out)["reader"] == names[1]


def test_send_reader_errors(
    pcsc_simulator: Simulator, virtual_card: VirtualCard, capsys: pytest.CaptureFixture[str]
) -> None:
    status, _, err = run("send", "--reader", "9", SELECT, capsys=capsys)
    assert status == EXIT_NO_READERS
    assert "there is no reader 9" in err
    status, _, err = run("send", "--reader", "no such reader", SELECT, capsys=capsys)
    assert status == EXIT_NO_READERS
    assert "no reader name contains 'no such reader'" in err
    status, _, err = run("send", "--reader", "aioscard", SELECT, capsys=capsys)
    assert status == EXIT_USAGE
    assert "matches 4 readers" in err
    status, _, err = run("send", "--reader", "2", SELECT, capsys=capsys)
    assert status == EXIT_NO_CARD
    assert "aioscard: error: no card" in err


def test_send_with_no_card_anywhere(
    pcsc_simulator: Simulator, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, err = run("send", SELECT, capsys=capsys)
    assert status == EXIT_NO_CARD
    assert out == ""
    assert "no card in any of the 4 reader(s)" in err
    assert "hint: insert a card, or use --wait SECONDS" in err


def test_send_bad_input_is_a_usage_error_before_any_exchange(
    virtual_card: VirtualCard, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, err = run("send", SELECT, "00A4", capsys=capsys)
    assert status == EXIT_USAGE
    assert out == ""
    assert "argument 2: not an APDU: command is too short" in err
    assert virtual_card.apdu_count == 0
    status, _, err = run("send", "--file", "/nonexistent/apdus", capsys=capsys)
    assert status == EXIT_USAGE
    assert "cannot read /nonexistent/apdus" in err


def test_send_waits_for_a_card(
    pcsc_simulator: Simulator, card_factory: CardFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    inserter = threading.Timer(0.3, card_factory, kwargs={"reader": 2})
    inserter.start()
    try:
        status, out, err = run("send", "--json", "--wait", "10", SELECT, capsys=capsys)
    finally:
        inserter.join()
    assert status == EXIT_OK
    assert "waiting for a card in any reader ..." in err
    assert json.loads(out)["reader"] == pcsc_simulator.reader_names[2]


def test_send_wait_times_out(pcsc_simulator: Simulator, capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = run("send", "--reader", "1", "--wait", "0.2", SELECT, capsys=capsys)
    assert status == EXIT_TIMEOUT
    assert f"waiting for a card in {pcsc_simulator.reader_names[1]} ..." in err
    assert "aioscard: error: timed out" in err


def test_send_to_a_reader_held_exclusively_is_busy(
    pcsc_simulator: Simulator, virtual_card: VirtualCard, capsys: pytest.CaptureFixture[str]
) -> None:
    other = aioscard.Reader(pcsc_simulator.reader_names[0]).createConnection()
    with start_blocking_portal() as portal:
        portal.call(lambda: other.connect(mode=other.SHARE_EXCLUSIVE))
        try:
            status, _, err = run("send", "--reader", "0", SELECT, capsys=capsys)
        finally:
            portal.call(other.release)
    assert status == EXIT_BUSY
    assert "the reader is busy: another program holds the card exclusively" in err


def test_send_stops_at_a_transport_error(
    card_factory: CardFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    card_factory(reader=3)
    status, out, err = run("send", "-r", "3", SELECT, DROP_APDU.hex(), SELECT, capsys=capsys)
    assert status == EXIT_ERROR
    assert out.splitlines() == [
        "> 00 A4 04 00 08 A0 00 00 06 47 2F 00 01",
        "< 90 00  Normal processing",
        "> 80 DF 00 00",
    ]
    assert err.count("aioscard: error:") == 1


def test_no_pcscd_gives_the_fix_and_exit_4(tmp_path: Path) -> None:
    # A process of its own: libpcsclite keeps the socket path of its first call.
    env = child_env(PCSCLITE_CSOCK_NAME=str(tmp_path / "nobody.comm"))
    done = subprocess.run(
        aioscard_command("readers"), env=env, capture_output=True, text=True, timeout=30
    )
    assert done.returncode == EXIT_NO_SERVICE
    assert "the PC/SC service (pcscd) is not running" in done.stderr
    assert "is the simulator (`aioscard sim`) still running?" in done.stderr
    env.pop("PCSCLITE_CSOCK_NAME")
    env["AIOSCARD_PCSC_LIBRARY"] = str(tmp_path / "libnothing.so")
    done = subprocess.run(
        aioscard_command("readers"), env=env, capture_output=True, text=True, timeout=30
    )
    assert done.returncode == EXIT_NO_SERVICE
    assert "the PC/SC library is missing" in done.stderr


# -- shell -----------------------------------------------------------------------------


def test_shell_runs_a_script_from_stdin(
    pcsc_simulator: Simulator,
    virtual_card: VirtualCard,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    script = "\n".join(
        [
            "help",
            SELECT,
            "# a comment",
            "atr",
            "readers",
            VERIFY,
            "get-response on",
            "80E00120",
            "reconnect reset",
            "00 20 00 80",  # verified before the reset? no longer
            "quit",
            "0084000008",  # after quit: not sent
        ]
    )
    monkeypatch.setattr(sys, "stdin", io.StringIO(script + "\n"))
    status, out, err = run("shell", capsys=capsys)
    assert status == EXIT_OK
    assert "Type a command APDU in hex" in out
    assert "> 00 A4 04 00 08 A0 00 00 06 47 2F 00 01\n< 90 00  Normal processing" in out
    assert f"ATR: {DEMO_ATR_HEX}" in out
    assert f"*0: {pcsc_simulator.reader_names[0]}  (card present, in use)" in out
    assert "> 00 20 00 80 06 <6 bytes redacted>" in out
    assert "get-response on" in out
    assert re.search(r"< (\w\w ){288}90 00  Normal processing", out)
    assert "reconnected (card reset)\n> 00 20 00 80\n< 63 C3  Verification failed" in out
    assert "00 84 00 00 08" not in out
    assert f"06 {PIN_HEX}" not in out
    assert f"connected to {pcsc_simulator.reader_names[0]} (T=1)" in err


def test_shell_reports_errors_and_goes_on(
    virtual_card: VirtualCard, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(f"selectt\n{SELECT}\n"))
    status, out, err = run("shell", capsys=capsys)
    assert status == EXIT_ERROR  # a script with a failed line
    assert "'selectt' is neither a command (see `help`) nor an APDU" in err
    assert "< 90 00  Normal processing" in out


def test_shell_prompt_editing_and_history_on_a_terminal(
    pcsc_simulator: Simulator, virtual_card: VirtualCard, tmp_path: Path
) -> None:
    import pty

    history = tmp_path / "history"
    env = child_env(AIOSCARD_HISTORY=str(history), TERM="dumb")
    master, slave = pty.openpty()
    process = subprocess.Popen(
        aioscard_command("shell"), stdin=slave, stdout=slave, stderr=slave, env=env
    )
    os.close(slave)
    seen = b""
    consumed = 0

    def read_until(marker: bytes, timeout: float = 10.0) -> None:
        """Read the terminal until ``marker`` appears after what was matched before."""
        nonlocal seen, consumed
        deadline = time.monotonic() + timeout
        while marker not in seen[consumed:]:
            ready, _, _ = select.select([master], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                raise AssertionError(f"no {marker!r} in {seen!r}")
            try:
                seen += os.read(master, 4096)
            except OSError:  # the child closed the terminal
                raise AssertionError(f"no {marker!r} in {seen!r}") from None
        consumed = seen.index(marker, consumed) + len(marker)

    try:
        read_until(b"apdu> ")
        os.write(master, b"00A4040000\r")
        read_until(b"Normal processing")
        read_until(b"apdu> ")
        os.write(master, b"\x04")  # Ctrl-D on an empty line
        assert process.wait(10) == EXIT_OK
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        os.close(master)
    assert "00A4040000" in history.read_text()


# -- watch -----------------------------------------------------------------------------


def test_watch_prints_events_until_ctrl_c(
    pcsc_simulator: Simulator, card_factory: CardFactory, spawn: list[Spawned]
) -> None:
    names = pcsc_simulator.reader_names
    watch = Spawned(aioscard_command("watch"))
    spawn.append(watch)
    watch.expect("watching readers and cards; Ctrl-C stops")
    card_factory(reader=1)
    inserted = watch.expect("card inserted")
    card_factory.remove(1)
    removed = watch.expect("card removed")
    watch.process.send_signal(signal.SIGINT)
    assert watch.finish() == EXIT_OK
    stamp = r"\d\d:\d\d:\d\d\.\d{3}"
    assert re.fullmatch(rf"{stamp}  card inserted   {names[1]}  ATR {DEMO_ATR_HEX}", inserted)
    assert re.fullmatch(rf"{stamp}  card removed    {names[1]}  ATR {DEMO_ATR_HEX}", removed)
    added = [line for line in watch.lines if "reader added" in line]
    assert [line.split("reader added")[1].strip() for line in added] == names
    assert not any("Traceback" in line or "error" in line for line in watch.lines)


def test_watch_json_stops_after_count(
    pcsc_simulator: Simulator, card_factory: CardFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    watcher = get_watcher()
    seen = threading.Event()

    def note(origin: object, events: Sequence[object]) -> None:
        if any(isinstance(event, CardInserted) for event in events):
            seen.set()

    def insert_and_remove() -> None:
        deadline = time.monotonic() + 10
        while watcher.subscriber_count < 2 and time.monotonic() < deadline:
            time.sleep(0.01)  # until the watch's reader and card streams are live
        subscription = watcher.subscribe(note)
        try:
            card_factory(reader=2)
            # The watcher hands a batch to every subscriber in turn: once this one has
            # the insertion, so has the watch.  A card that comes and goes between two
            # of the watcher's waits is not reported, and the driver is that fast.
            seen.wait(10)
        finally:
            subscription.close()
        card_factory.remove(2)

    mover = threading.Thread(target=insert_and_remove)
    mover.start()
    try:
        status, out, _ = run("watch", "--json", "--no-initial", "--count", "2", capsys=capsys)
    finally:
        mover.join()
    assert status == EXIT_OK
    events = [json.loads(line) for line in out.splitlines()]
    assert [(e["event"], e["reader"], e["atr"]) for e in events] == [
        ("card_inserted", pcsc_simulator.reader_names[2], DEMO_ATR.hex().upper()),
        ("card_removed", pcsc_simulator.reader_names[2], DEMO_ATR.hex().upper()),
    ]
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT[\d:.]+[+-]\d\d:\d\d", e["time"]) for e in events)


# -- sim -------------------------------------------------------------------------------


def test_sim_serves_readers_until_ctrl_c(spawn: list[Spawned]) -> None:
    sim = Spawned(aioscard_command("sim", "--readers", "3", "--card", "demo"))
    spawn.append(sim)
    export = sim.expect(r"^export PCSCLITE_CSOCK_NAME=")
    sim.expect("Ctrl-C or SIGTERM stops it")
    socket_path = export.split("=", 1)[1]
    assert os.path.exists(socket_path)
    # Another process, pointed at it as the printed line says.
    listing = subprocess.run(
        aioscard_command("readers", "--json"),
        env=child_env(PCSCLITE_CSOCK_NAME=socket_path),
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert listing.returncode == EXIT_OK, listing.stderr
    readers = [json.loads(line) for line in listing.stdout.splitlines()]
    assert [r["name"] for r in readers] == [f"aioscard sim {i:02X} 00" for i in range(3)]
    sim.process.send_signal(signal.SIGINT)
    assert sim.finish() == EXIT_OK
    assert not os.path.exists(socket_path)


def test_sim_pinpad_makes_reader_0_a_pinpad_whose_user_types_the_pin(
    spawn: list[Spawned],
) -> None:
    sim = Spawned(aioscard_command("sim", "--readers", "2", "--pinpad", "123456"))
    spawn.append(sim)
    export = sim.expect(r"^export PCSCLITE_CSOCK_NAME=")
    assert "123456" not in sim.expect(r"^reader 0: .*\(pinpad\) \(demo card\)$")
    sim.expect("Ctrl-C or SIGTERM stops it")
    # Another process verifies on the pinpad: the demo card gets the typed PIN.
    client = textwrap.dedent(
        """
        import anyio, aioscard
        from aioscard.part10 import PinVerifyStructure

        async def main():
            readers = await aioscard.readers()
            structure = PinVerifyStructure(apdu=bytes.fromhex("0020008008") + bytes([255] * 8))
            for reader in readers:
                async with reader.createConnection() as connection:
                    print(len(await connection.features()),
                          (await connection.verify_pin_pinpad(structure)).sw
                          if await connection.features() else "-")

        anyio.run(main)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", client],
        env=child_env(PCSCLITE_CSOCK_NAME=export.split("=", 1)[1]),
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [f"4 {0x9000}", "0 -"]
    sim.process.send_signal(signal.SIGINT)
    assert sim.finish() == EXIT_OK


def test_sim_pinpad_wants_digits(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["sim", "--pinpad", "12ab"])
    assert exit_info.value.code == 2
    assert "--pinpad takes the PIN the user types" in capsys.readouterr().err


# -- entry points ----------------------------------------------------------------------


def test_console_script_and_python_dash_m() -> None:
    script = shutil.which("aioscard", path=os.path.dirname(sys.executable))
    assert script is not None, "the aioscard console script is not installed"
    for command in ([script, "--version"], aioscard_command("--version")):
        done = subprocess.run(command, capture_output=True, text=True, timeout=30)
        assert (done.returncode, done.stdout.strip()) == (
            EXIT_OK,
            f"aioscard {aioscard.__version__}",
        )
