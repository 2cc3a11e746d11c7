"""Helpers of the reliability and load tests: resource counts, and child processes.

A :class:`Resources` snapshot counts what a leak would leave behind: aioscard's
threads, this process's open file descriptors, its PC/SC contexts (sockets
connected to the simulator's pcscd) and the client connections pcscd itself
holds (from any process).
"""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import textwrap
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from aioscard._worker import pool

from ._support import pcscd_connections

if TYPE_CHECKING:
    from aioscard.testing import Simulator

__all__ = ["Child", "Resources", "pcscd_clients", "settle", "snapshot"]

_CONNECTED = "03"


def pcscd_clients(simulator: Simulator) -> int:
    """How many client connections the simulator's pcscd holds (any process).

    pcscd accepts one UNIX-socket connection per client context; accepted
    sockets carry the listening socket's path in ``/proc/net/unix``.
    """
    count = 0
    with open("/proc/net/unix", encoding="utf-8", errors="replace") as table:
        next(table)
        for line in table:
            fields = line.split()
            if len(fields) == 8 and fields[7] == simulator.socket_path:
                count += fields[5] == _CONNECTED
    return count


@dataclass(frozen=True)
class Resources:
    """What this process holds that a leak would grow."""

    threads: tuple[str, ...]  # aioscard's own threads, by name
    fds: int
    contexts: int  # this process's connections to pcscd
    pcscd_clients: int  # pcscd's client connections, all processes

    def __str__(self) -> str:
        return (
            f"{len(self.threads)} aioscard threads, {self.fds} fds, "
            f"{self.contexts} contexts, {self.pcscd_clients} pcscd clients"
        )


def snapshot(simulator: Simulator) -> Resources:
    """Count now, after ending the idle worker threads (they are a cache, not a leak)."""
    pool.trim()
    names = sorted(t.name for t in threading.enumerate() if t.name.startswith("aioscard-"))
    return Resources(
        threads=tuple(n for n in names if not n.startswith("aioscard-pcscd-")),
        fds=len(os.listdir("/proc/self/fd")),
        contexts=pcscd_connections(simulator),
        pcscd_clients=pcscd_clients(simulator),
    )


def quiet_snapshot(simulator: Simulator, timeout: float = 5.0) -> Resources:
    """The snapshot once pcscd's only clients are this process's contexts, for a baseline.

    pcscd closes its side of a context released just before (by a fixture, say
    ``card_factory`` waiting for the reader) on its own time: counted meanwhile, it
    would make a baseline that the state afterwards never matches again.  Only
    where no other process holds a context.
    """
    deadline = time.monotonic() + timeout
    while True:
        now = snapshot(simulator)
        if now.pcscd_clients == now.contexts or time.monotonic() > deadline:
            return now
        time.sleep(0.01)


def settle(simulator: Simulator, baseline: Resources, timeout: float = 5.0) -> Resources:
    """The snapshot once it equals ``baseline``, or the last one after ``timeout``.

    Threads that were asked to end, and pcscd closing its side of a released
    context, finish on their own time: this waits for that state, polling.
    """
    deadline = time.monotonic() + timeout
    while True:
        now = snapshot(simulator)
        if now == baseline or time.monotonic() > deadline:
            return now
        time.sleep(0.01)


class Child:
    """A Python child process running ``code`` with the simulator's environment.

    It talks in lines: :meth:`expect` waits for a line on its stdout,
    :meth:`send` writes one to its stdin.  Warnings are errors in it
    (``-W error``), so a ``ResourceWarning`` fails it.
    """

    def __init__(self, code: str, env: dict[str, str], *, args: tuple[str, ...] = ()) -> None:
        environment = {**os.environ, **env, "PYTHONUNBUFFERED": "1"}
        self.process = subprocess.Popen(
            [sys.executable, "-W", "error", "-X", "dev", "-c", textwrap.dedent(code), *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=environment,
        )
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._stderr: list[str] = []
        self._threads = [
            threading.Thread(target=self._pump, daemon=True),
            threading.Thread(target=self._drain, daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    def _pump(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._lines.put(line.rstrip("\n"))
        self._lines.put(None)

    def _drain(self) -> None:
        assert self.process.stderr is not None
        self._stderr.extend(self.process.stderr)

    @property
    def stderr(self) -> str:
        """What the child wrote to stderr (complete once it has exited)."""
        return "".join(self._stderr)

    def expect(self, prefix: str, timeout: float = 10.0) -> str:
        """The next stdout line, which must start with ``prefix``."""
        try:
            line = self._lines.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"no {prefix!r} from the child within {timeout} s") from None
        if line is None:
            self.process.wait()
            raise AssertionError(f"the child ended before {prefix!r}:\n{self.stderr}")
        assert line.startswith(prefix), f"expected {prefix!r}, got {line!r}"
        return line

    def send(self, line: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()

    def finish(self, timeout: float = 10.0) -> int:
        """Close stdin and wait for the exit; its status."""
        assert self.process.stdin is not None
        self.process.stdin.close()
        status = self.process.wait(timeout)
        self._close()
        return status

    def kill(self) -> None:
        """End the child (if still running) and reap it."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        self._close()

    def _close(self) -> None:
        for thread in self._threads:
            thread.join()
        for stream in (self.process.stdin, self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()
