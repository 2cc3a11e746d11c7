"""``aioscard demo``, the README's first command, run as a new user runs it.

The demo starts its own simulator on free ports and must be its process's
first PC/SC user, so it runs in a subprocess; it needs no session fixture.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from typing import TYPE_CHECKING

from aioscard._cli import EXIT_INTERRUPTED, EXIT_NO_SERVICE, EXIT_OK

from .test_cli import Spawned, child_env

if TYPE_CHECKING:
    from pathlib import Path


def run_demo(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "aioscard", "demo"],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=90,
    )


def test_demo_runs_every_step_and_stops_what_it_started(tmp_path: Path) -> None:
    # Even pointed at a pcscd that does not exist, the demo uses its own.
    done = run_demo(child_env(PCSCLITE_CSOCK_NAME=str(tmp_path / "elsewhere.comm")))
    out = done.stdout
    assert done.returncode == EXIT_OK, out + done.stderr
    assert done.stderr == ""
    headings = re.findall(r"^\[(\d)/(\d)\] ", out, re.MULTILINE)
    assert headings == [(str(step), "9") for step in range(1, 10)]
    expected = [
        # the simulator, its socket and readers
        r"PCSCLITE_CSOCK_NAME=/\S+/pcscd\.comm",
        r"0: aioscard demo 00 00  \(empty\)",
        r"1: aioscard demo 01 00  \(empty\)",
        # waiting, with a status line, for the card the demo inserts
        r"waiting for a card \.\.\.",
        r"card found in 'aioscard demo 00 00' after \d\.\d\d s",
        # the ATR explained
        r"ATR: 3B 88 01 61 69 6F 73 63 61 72 64 89",
        r"TCK = 89  correct",
        # APDUs, the PIN redacted
        r"> 00 A4 04 00 08 A0 00 00 06 47 2F 00 01\n\s+< 90 00  Normal processing",
        r"> 00 20 00 80 06 <6 bytes redacted>\n\s+< 63 C2  Verification failed, 2 retries left",
        r"< 61 00  256 or more bytes still available",
        r"\(300 bytes\) 90 00  Normal processing",
        # parallel readers, then removal and re-insertion as events
        r"a 300 ms command on each of two cards at once took \d\.\d\d s",
        r"CardRemoved\(aioscard demo 00 00: 3B 88",
        r"the open connection now raises CardRemovedException",
        r"CardInserted\(aioscard demo 00 00: 3B 88",
        r"reconnect\(\), then SELECT again: 90 00",
        # the same through the sync shim, in a pyscard program
        r"\| readers: aioscard demo 00 00, aioscard demo 01 00",
        r"\| > 00 20 00 80 06 <6 bytes redacted>",
        r"\| -removed: 3B 88 01 .* from aioscard demo 00 00",
        r"\| \+inserted: 3B 88 01 .* in aioscard demo 00 00\n.*\n?\s+\| monitor stopped",
        # and everything stopped
        r"pcscd \(pid \d+\) stopped",
        r"demo finished in \d+\.\d s",
    ]
    for pattern in expected:
        assert re.search(pattern, out), pattern
    assert "31 32 33 34 35 36" not in out  # the PIN, in hex
    started = re.search(r"pcscd pid (\d+)", out)
    socket = re.search(r"PCSCLITE_CSOCK_NAME=(\S+)", out)
    assert started is not None
    assert socket is not None
    assert not os.path.exists(f"/proc/{started.group(1)}")  # stopped and reaped
    assert not os.path.exists(socket.group(1))


def test_demo_without_pcscd_says_what_to_install() -> None:
    done = run_demo(child_env(AIOSCARD_PCSCD="/nonexistent/pcscd"))
    assert done.returncode == EXIT_NO_SERVICE
    assert "aioscard: error: the simulator could not start" in done.stderr
    assert "apt-get install pcscd gcc libc6-dev libpcsclite-dev" in done.stderr


def test_ctrl_c_stops_the_demo_and_everything_it_started() -> None:
    demo = Spawned([sys.executable, "-m", "aioscard", "demo"])
    try:
        socket = demo.expect(r"PCSCLITE_CSOCK_NAME=").split("=", 1)[1]
        pid = re.search(r"pcscd pid (\d+)", demo.expect(r"pcscd pid \d+"))
        assert pid is not None
        demo.expect(r"^\[3/9\] Wait for a card")
        demo.process.send_signal(signal.SIGINT)
        status = demo.finish()
    finally:
        demo.close()
    assert status == EXIT_INTERRUPTED
    assert demo.lines[-1] == "aioscard: interrupted"
    assert not os.path.exists(f"/proc/{pid.group(1)}")
    assert not os.path.exists(socket)
