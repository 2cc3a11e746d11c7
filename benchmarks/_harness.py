"""The private simulator with a card process per reader, and running a measured client."""

from __future__ import annotations

import json
import os
import queue
import shlex
import subprocess
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Any

from _settings import CLK_TCK, HERE, PY

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence

# -- the simulator and the cards ------------------------------------------------------------------


class LineProcess:
    """A child process whose stdout lines are read by a thread into a queue."""

    def __init__(self, argv: Sequence[str], env: dict[str, str], stdin: bool = False) -> None:
        self.argv = list(argv)
        self.process = subprocess.Popen(
            self.argv,
            stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.errors: list[str] = []
        threading.Thread(target=self._pump, args=(self.process.stdout,), daemon=True).start()
        threading.Thread(target=self._drain, args=(self.process.stderr,), daemon=True).start()

    def _pump(self, stream: IO[str] | None) -> None:
        assert stream is not None
        for line in stream:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def _drain(self, stream: IO[str] | None) -> None:
        assert stream is not None
        for line in stream:
            self.errors.append(line.rstrip("\n"))
            del self.errors[:-40]

    def readline(self, timeout: float) -> str:
        try:
            line = self.lines.get(timeout=timeout)
        except queue.Empty:
            raise TimeoutError(f"no output from {self.argv[:3]} within {timeout} s") from None
        if line is None:
            tail = "\n".join(self.errors[-10:])
            raise RuntimeError(f"{self.argv[:3]} ended early:\n{tail}")
        return line

    def send(self, line: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@dataclass
class Bench:
    env: dict[str, str]
    readers: list[str]
    ports: list[int]
    pcscd_pid: int
    cards: list[LineProcess]

    def card(self, index: int, command: str) -> float:
        self.cards[index].send(command)
        reply = self.cards[index].readline(15.0)
        if not reply.startswith("ok "):
            raise RuntimeError(f"card {index}: {reply}")
        return float(reply.split()[1])

    def helper_cpu(self) -> float:
        """CPU seconds used so far by pcscd and the card processes."""
        pids = [self.pcscd_pid, *(card.process.pid for card in self.cards)]
        return sum(process_cpu(pid) for pid in pids)


def process_cpu(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            fields = stat.read().rpartition(")")[2].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime + stime


VPCD = ("--backend", "vpcd")


@contextmanager
def simulator(readers: int) -> Iterator[Bench]:
    """``python -m aioscard.testing`` in a child process, plus a process per card (inserted)."""
    env = {key: value for key, value in os.environ.items() if key != "PCSCLITE_CSOCK_NAME"}
    # vpcd: the tables compare clients over the reader transport they were first measured
    # on; benchmarks/event_delay.py sets the simulator's own driver beside it.
    sim = LineProcess(
        [PY, "-m", "aioscard.testing", "--readers", str(readers), "--card", "none", *VPCD],
        env,
    )
    cards: list[LineProcess] = []
    try:
        first = sim.readline(30.0)
        if not first.startswith("export PCSCLITE_CSOCK_NAME="):
            raise RuntimeError(f"unexpected simulator output: {first!r}")
        socket_path = shlex.split(first.partition("=")[2])[0]
        names: list[str] = []
        ports: list[int] = []
        for _ in range(readers):
            # reader 0: 'aioscard vpcd 0 00 00' on vpcd port 40000
            line = sim.readline(10.0)
            quoted = line.partition(": ")[2]
            names.append(shlex.split(quoted.partition(" on vpcd port ")[0])[0])
            ports.append(int(line.rsplit(" ", 1)[1]))
        pid_line = sim.readline(10.0)
        pcscd_pid = int(pid_line.split()[2].rstrip(";"))
        client_env = {**env, "PCSCLITE_CSOCK_NAME": socket_path}
        # extend() appends as it goes: the cards started before a failure are still stopped.
        cards.extend(
            LineProcess([PY, str(HERE / "card.py"), str(port)], env, stdin=True) for port in ports
        )
        bench = Bench(client_env, names, ports, pcscd_pid, cards)
        for index in range(readers):
            bench.card(index, "insert")
        yield bench
    finally:
        for card in cards:
            if card.process.poll() is None:
                try:
                    card.send("quit")
                except OSError:
                    pass
        for card in cards:
            # A try per item: each card process is waited for, and stopped, on its own.
            try:
                card.process.wait(5)
            except subprocess.TimeoutExpired:  # noqa: PERF203
                card.stop()
        sim.stop()


# -- running a client -----------------------------------------------------------------------------


def run_client(
    bench: Bench, argv: Sequence[str], timeout: float = 120.0
) -> tuple[dict[str, Any], float]:
    """Run a client to its JSON result; also the CPU pcscd and the cards used between
    the client's "begin" and "end" lines (0.0 if it prints none)."""
    process = LineProcess(argv, bench.env)
    deadline = time.monotonic() + timeout
    helper0 = helper1 = 0.0
    try:
        while True:
            line = process.readline(max(0.1, deadline - time.monotonic()))
            if line == "begin":
                helper0 = helper1 = bench.helper_cpu()
            elif line == "end":
                helper1 = bench.helper_cpu()
            elif line.startswith("{"):
                result: dict[str, Any] = json.loads(line)
                break
        if process.process.wait(30) != 0:
            raise RuntimeError(f"{' '.join(argv[:3])} failed: {process.errors[-5:]}")
    finally:
        process.stop()
    return result, helper1 - helper0


@dataclass
class Sample:
    rate: float  # round trips per second
    cpu_us: float  # client CPU per round trip, microseconds
    sys_us: float  # of which in the kernel
    switches: float  # client context switches per round trip
    helper_us: float  # pcscd + card processes CPU per round trip, microseconds
    loop_us: float = 0.0  # the event-loop thread's CPU per round trip (async clients)


@dataclass
class Client:
    name: str
    argv: Callable[[Bench], list[str]] | None  # None: not available in this run
    note: str = ""
    samples: list[Sample] = field(default_factory=list)


def measure(bench: Bench, client: Client) -> None:
    assert client.argv is not None
    result, helper = run_client(bench, client.argv(bench))
    count = max(int(result["count"]), 1)
    client.samples.append(
        Sample(
            rate=count / float(result["seconds"]),
            cpu_us=float(result["cpu"]) / count * 1e6,
            sys_us=float(result.get("sys", 0.0)) / count * 1e6,
            switches=float(result.get("switches", 0)) / count,
            helper_us=helper / count * 1e6,
            loop_us=float(result.get("loop_cpu", 0.0)) / count * 1e6,
        )
    )
