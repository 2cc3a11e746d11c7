"""aioscard's benchmarks: aioscard against the raw C API and pyscard, measured side by side.

Run it with ``bash benchmarks/run.sh`` (see that file); ``--smoke`` makes a quick pass
with tiny counts, no pyscard build, and no C build where gcc or libpcsclite-dev is
missing (those rows then say "skipped").  Every figure is a ratio against a
reference measured in the same run, on the same private pcscd and virtual cards.

Processes: one ``python -m aioscard.testing`` simulator (pcscd + vpcd readers, no
cards), one process per virtual card (``card.py``), and a fresh process for every
measured client (``clients.py``, ``pyscard_clients.py``, ``c/transmit_bench``), so
that no card thread competes with a client for its GIL and every client latches
the simulator's socket at its first PC/SC call.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import queue
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
BUILD = HERE / ".build"
PYSCARD_VENV = BUILD / "pyscard-venv"
C_SOURCE = HERE / "c" / "transmit_bench.c"
C_BINARY = BUILD / "transmit_bench"
PY = sys.executable
CLK_TCK = os.sysconf("SC_CLK_TCK")


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


# -- settings -------------------------------------------------------------------------------------


@dataclass
class Settings:
    smoke: bool
    rounds: int
    seconds: float
    insertions: int
    cancels: int
    waiters: int
    subscribers: int
    idle: float
    pyscard_waiters: int
    import_repeats: int
    pyscard: bool
    c: bool
    install: bool
    results: Path | None
    sections: set[int] = field(default_factory=lambda: {1, 2, 3, 4, 5, 6})


def parse_args(argv: Sequence[str]) -> Settings:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny counts, no pyscard build")
    parser.add_argument("--rounds", type=int, help="interleaved repeats of tables 1-2 (5)")
    parser.add_argument("--seconds", type=float, help="measured seconds per transmit run (2)")
    parser.add_argument("--insertions", type=int, help="card insertions for table 3 (60)")
    parser.add_argument("--cancels", type=int, help="cancellations per variant, table 4 (200)")
    parser.add_argument("--waiters", type=int, help="pending waitforcard() calls (5000)")
    parser.add_argument("--subscribers", type=int, help="pending card_events streams (5000)")
    parser.add_argument("--idle", type=float, help="idle seconds measured in table 5 (10)")
    parser.add_argument("--no-pyscard", action="store_true", help="skip pyscard's rows")
    parser.add_argument("--no-c", action="store_true", help="skip the C program's rows")
    parser.add_argument("--no-install", action="store_true", help="skip the install timings")
    parser.add_argument("--sections", help="comma-separated tables to run (1-6)")
    parser.add_argument(
        "--results",
        type=Path,
        help="write the tables here (default benchmarks/RESULTS.md; none with --smoke)",
    )
    options = parser.parse_args(argv)
    smoke = bool(options.smoke)

    def pick(value: Any, full: Any, quick: Any) -> Any:
        return value if value is not None else (quick if smoke else full)

    results = options.results
    if results is None and not smoke:
        results = HERE / "RESULTS.md"
    settings = Settings(
        smoke=smoke,
        rounds=pick(options.rounds, 5, 1),
        seconds=pick(options.seconds, 2.0, 0.3),
        insertions=pick(options.insertions, 60, 2),
        cancels=pick(options.cancels, 200, 5),
        waiters=pick(options.waiters, 5000, 50),
        subscribers=pick(options.subscribers, 5000, 50),
        idle=pick(options.idle, 10.0, 0.5),
        pyscard_waiters=100,
        import_repeats=3 if smoke else 15,
        pyscard=not (smoke or options.no_pyscard),
        c=not options.no_c,
        install=not (smoke or options.no_install),
        results=results,
    )
    if options.sections:
        settings.sections = {int(part) for part in options.sections.split(",")}
    return settings


# -- building what the benchmark needs ------------------------------------------------------------


def _pcsclite_flags() -> tuple[list[str], list[str]] | None:
    """Compiler and linker flags for libpcsclite, or None if its headers are missing."""
    pkg = shutil.which("pkg-config")
    if pkg is not None:
        cflags = subprocess.run([pkg, "--cflags", "libpcsclite"], capture_output=True, text=True)
        libs = subprocess.run([pkg, "--libs", "libpcsclite"], capture_output=True, text=True)
        if cflags.returncode == 0 and libs.returncode == 0:
            return cflags.stdout.split(), libs.stdout.split()
    if Path("/usr/include/PCSC/winscard.h").exists():
        return ["-I/usr/include/PCSC", "-pthread"], ["-lpcsclite"]
    return None


def ensure_pcsclite_dev() -> None:
    """apt-get install libpcsclite-dev if its headers are missing (root, Debian only)."""
    if _pcsclite_flags() is not None or shutil.which("apt-get") is None:
        return
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    log("installing libpcsclite-dev (apt-get) for the C reference")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run([*sudo, "apt-get", "update", "-qq"], env=env, check=False)
    subprocess.run(
        [*sudo, "apt-get", "install", "-y", "-qq", "--no-install-recommends", "libpcsclite-dev"],
        env=env,
        check=False,
    )


def build_c(settings: Settings) -> str | None:
    """Compile the C reference; returns why it was skipped, or None when built."""
    if not settings.c:
        return "skipped (--no-c)"
    gcc = shutil.which("gcc") or shutil.which("cc")
    if not settings.smoke:
        ensure_pcsclite_dev()
    flags = _pcsclite_flags()
    if gcc is None or flags is None:
        return "skipped (no gcc or libpcsclite-dev)"
    BUILD.mkdir(parents=True, exist_ok=True)
    cflags, libs = flags
    command = [gcc, "-O2", "-Wall", *cflags, str(C_SOURCE), "-o", str(C_BINARY), *libs]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        return f"skipped (compile failed: {done.stderr.strip()[:200]})"
    return None


def build_pyscard(settings: Settings) -> tuple[str | None, float | None]:
    """Make benchmarks/.build/pyscard-venv with pyscard from PyPI (built from its sdist).

    Returns (why it is unavailable or None, seconds the install took or None if cached).
    """
    if not settings.pyscard:
        return "skipped (--smoke or --no-pyscard)", None
    python = PYSCARD_VENV / "bin" / "python"
    if python.exists():
        check = subprocess.run([str(python), "-c", "import smartcard.scard"], capture_output=True)
        if check.returncode == 0:
            return None, None
    log("building pyscard from PyPI into benchmarks/.build/pyscard-venv (needs gcc)")
    subprocess.run([PY, "-m", "venv", "--clear", str(PYSCARD_VENV)], check=True)
    started = time.perf_counter()
    done = subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", "pyscard"],
        capture_output=True,
        text=True,
    )
    took = time.perf_counter() - started
    if done.returncode != 0:
        return f"skipped (pyscard did not build: {done.stderr.strip()[-300:]})", None
    return None, took


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


@contextmanager
def simulator(readers: int) -> Iterator[Bench]:
    """``python -m aioscard.testing`` in a child process, plus a process per card (inserted)."""
    env = {key: value for key, value in os.environ.items() if key != "PCSCLITE_CSOCK_NAME"}
    sim = LineProcess(
        [PY, "-m", "aioscard.testing", "--readers", str(readers), "--card", "none"], env
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
        for port in ports:
            cards.append(LineProcess([PY, str(HERE / "card.py"), str(port)], env, stdin=True))
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
            try:
                card.process.wait(5)
            except subprocess.TimeoutExpired:
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
        )
    )


# -- formatting -----------------------------------------------------------------------------------


def spread(values: Sequence[float], digits: int = 0, unit: str = "") -> str:
    if not values:
        return "-"
    fmt = f"{{:,.{digits}f}}"
    middle = fmt.format(statistics.median(values)) + unit
    if len(values) == 1:
        return middle
    low, high = fmt.format(min(values)), fmt.format(max(values))
    return f"{middle} ({low}-{high})"


def percentile(values: Sequence[float], fraction: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def ratios(client: Client, reference: Client) -> list[float]:
    pairs = zip(client.samples, reference.samples, strict=False)
    return [mine.rate / theirs.rate for mine, theirs in pairs if theirs.rate]


def floor_line(label: str, handoff: Client, reference: Client) -> str:
    """The C hand-off against the C loop, round by round: no target, the evidence."""
    values = ratios(handoff, reference)
    if not values:
        return f"{label}: n/a ({handoff.note or 'skipped'})"
    rounds = ", ".join(f"{value:.2f}" for value in values)
    return f"{label}: {rounds} (rounds 1-{len(values)}; median {statistics.median(values):.2f})"


def target(ok: bool | None) -> str:
    return "n/a" if ok is None else ("met" if ok else "MISSED")


def ratio_verdict(label: str, values: Sequence[float], threshold: float) -> str:
    """A target on the median of per-round ratios: at least ``threshold``."""
    ok = statistics.median(values) >= threshold if values else None
    return f"{label}: {target(ok)} ({spread(values, 2)} over the rounds)"


# -- tables 1 and 2: APDU round trips -------------------------------------------------------------

HANDOFF_ONE = "C, event loop + worker thread hand-off (the floor of any off-loop design)"
HANDOFF_FOUR = "C, one event loop + 4 worker threads (the floor of any off-loop design)"


def clients_one_reader(
    settings: Settings, c_skip: str | None, pyscard_skip: str | None
) -> list[Client]:
    s = str(settings.seconds)
    aio = str(HERE / "clients.py")
    pyscard_python = str(PYSCARD_VENV / "bin" / "python")
    pyscard_script = str(HERE / "pyscard_clients.py")

    def env_loop(loop: str) -> Callable[[Bench], list[str]]:
        return lambda b: ["env", f"BENCH_LOOP={loop}", PY, aio, "transmit-async", s, b.readers[0]]

    return [
        Client(
            "C loop over SCardTransmit",
            None if c_skip else (lambda b: [str(C_BINARY), "transmit", s, b.readers[0]]),
            c_skip or "",
        ),
        Client(
            HANDOFF_ONE,
            None if c_skip else (lambda b: [str(C_BINARY), "handoff", s, b.readers[0]]),
            c_skip or "",
        ),
        Client("aioscard `await connection.transmit` (asyncio)", env_loop("asyncio")),
        Client("aioscard `await connection.transmit` (uvloop)", env_loop("uvloop")),
        Client("aioscard `await connection.transmit` (trio)", env_loop("trio")),
        Client(
            "aioscard sync shim `connection.transmit`",
            lambda b: [PY, aio, "transmit-sync", s, b.readers[0]],
        ),
        Client(
            "pyscard `connection.transmit`",
            None
            if pyscard_skip
            else (lambda b: [pyscard_python, pyscard_script, "transmit", s, b.readers[0]]),
            pyscard_skip or "",
        ),
        Client(
            "aioscard.native on the calling thread (no hand-off)",
            lambda b: [PY, aio, "transmit-direct", s, b.readers[0]],
        ),
    ]


def clients_four_readers(
    settings: Settings, c_skip: str | None, pyscard_skip: str | None
) -> list[Client]:
    s = str(settings.seconds)
    aio = str(HERE / "clients.py")
    pyscard_python = str(PYSCARD_VENV / "bin" / "python")
    pyscard_script = str(HERE / "pyscard_clients.py")
    return [
        Client(
            "C, 4 threads",
            None if c_skip else (lambda b: [str(C_BINARY), "transmit", s, *b.readers]),
            c_skip or "",
        ),
        Client(
            HANDOFF_FOUR,
            None if c_skip else (lambda b: [str(C_BINARY), "handoff", s, *b.readers]),
            c_skip or "",
        ),
        Client(
            "aioscard, one asyncio loop, 4 tasks",
            lambda b: [PY, aio, "transmit-async", s, *b.readers],
        ),
        Client(
            "aioscard, one uvloop loop, 4 tasks",
            lambda b: ["env", "BENCH_LOOP=uvloop", PY, aio, "transmit-async", s, *b.readers],
        ),
        Client(
            "aioscard sync shim, 4 threads", lambda b: [PY, aio, "transmit-sync", s, *b.readers]
        ),
        Client(
            "pyscard, 4 threads",
            None
            if pyscard_skip
            else (lambda b: [pyscard_python, pyscard_script, "transmit", s, *b.readers]),
            pyscard_skip or "",
        ),
    ]


def run_rounds(bench: Bench, settings: Settings, groups: Sequence[list[Client]]) -> None:
    for round_no in range(settings.rounds):
        log(f"APDU round trips: round {round_no + 1}/{settings.rounds}")
        for clients in groups:
            for client in clients:
                if client.argv is not None:
                    measure(bench, client)


def transmit_table(clients: list[Client], reference_names: dict[str, str]) -> str:
    """``reference_names``: client name -> the column title of the ratios against it."""
    references = [c for c in clients if c.name in reference_names and c.samples]
    header = [
        "client",
        "round trips/s",
        "client CPU/RT (us)",
        "of which kernel (us)",
        "context switches/RT",
        "pcscd+cards CPU/RT (us)",
    ]
    header += [reference_names[ref.name] for ref in references]
    rows = []
    for client in clients:
        if not client.samples:
            skipped = [client.name, client.note or "skipped"]
            rows.append(skipped + ["-"] * (len(header) - 2))
            continue
        row = [
            client.name,
            spread([s.rate for s in client.samples]),
            spread([s.cpu_us for s in client.samples]),
            spread([s.sys_us for s in client.samples]),
            spread([s.switches for s in client.samples], 1),
            spread([s.helper_us for s in client.samples]),
        ]
        row += [spread(ratios(client, ref), 2) for ref in references]
        rows.append(row)
    return table(header, rows)


BREAKDOWN_KINDS = {
    "asyncio": "aioscard async (asyncio)",
    "uvloop": "aioscard async (uvloop)",
    "trio": "aioscard async (trio)",
    "sync": "aioscard sync shim",
}


def breakdown_table(results: dict[str, list[dict[str, Any]]]) -> str:
    rows = []
    for kind, name in BREAKDOWN_KINDS.items():
        runs = results.get(kind, [])
        if not runs:
            continue
        rows.append(
            [name]
            + [spread([r[key] for r in runs]) for key in ("to_worker", "transmit", "back", "total")]
        )
    header = [
        "client",
        "call -> worker starts SCardTransmit (us)",
        "SCardTransmit on the worker (us)",
        "SCardTransmit returns -> caller resumes (us)",
        "whole call (us)",
    ]
    return table(header, rows)


def pingpong_table(results: list[dict[str, Any]]) -> str:
    names = {
        "raw": "asyncio loop <-> thread, bare SimpleQueue + call_soon_threadsafe",
        "worker": "aioscard `Worker.run` (the async hand-off)",
        "call": "aioscard `Worker.call` (the shim's hand-off)",
    }
    rows = []
    for key, name in names.items():
        rates = [r[key]["count"] / r[key]["seconds"] for r in results]
        latency = [1e6 / rate for rate in rates]
        cpu = [r[key]["cpu"] / r[key]["count"] * 1e6 for r in results]
        rows.append([name, spread(rates), spread(latency, 1), spread(cpu, 1)])
    return table(
        ["hand-off, no PC/SC call", "round trips/s", "us per round trip", "CPU/RT (us)"], rows
    )


# -- table 3: event delivery ----------------------------------------------------------------------


def event_delivery(
    bench: Bench, settings: Settings, c_skip: str | None
) -> tuple[str, dict[str, float]]:
    reader, count = bench.readers[0], settings.insertions
    bench.card(0, "remove")
    if c_skip:
        reference_argv = [PY, str(HERE / "clients.py"), "raw-watch", reader, str(count)]
        reference_name = "aioscard.native SCardGetStatusChange loop (C not built)"
    else:
        reference_argv = [str(C_BINARY), "watch", reader, str(count)]
        reference_name = "C SCardGetStatusChange(INFINITE) loop"
    reference = LineProcess(reference_argv, bench.env)
    subscriber = LineProcess(
        [PY, str(HERE / "clients.py"), "events", reader, str(count)], bench.env
    )
    inserted: list[float] = []
    removed: list[float] = []
    try:
        for process in (reference, subscriber):
            line = process.readline(30.0)
            if not line.startswith("ready"):
                raise RuntimeError(f"unexpected {line!r}")
        for index in range(count):
            if index % 10 == 0:
                log(f"event delivery: insertion {index + 1}/{count}")
            bench.card(0, "insert")
            t_ref = _stamp(reference, "in")
            t_aio = _stamp(subscriber, "in")
            inserted.append((t_aio - t_ref) * 1e3)
            if index + 1 < count:
                bench.card(0, "remove")
                t_ref = _stamp(reference, "out")
                t_aio = _stamp(subscriber, "out")
                removed.append((t_aio - t_ref) * 1e3)
    finally:
        reference.stop()
        subscriber.stop()
    rows = []
    stats: dict[str, float] = {}
    for name, values in (("insertion", inserted), ("removal", removed)):
        if not values:
            continue
        median, p99 = statistics.median(values), percentile(values, 0.99)
        stats[name] = median
        rows.append(
            [
                name,
                str(len(values)),
                f"{median:.3f}",
                f"{p99:.3f}",
                f"{min(values):.3f}",
                f"{max(values):.3f}",
            ]
        )
    text = table(
        ["event", "n", "median extra (ms)", "p99 extra (ms)", "min (ms)", "max (ms)"], rows
    )
    text += (
        f"\n\nReference: {reference_name}; subscriber: `aioscard.monitor.card_events()`"
        " in another process; extra = subscriber's timestamp - reference's (CLOCK_MONOTONIC)."
    )
    return text, stats


def _stamp(process: LineProcess, kind: str) -> float:
    line = process.readline(15.0)
    word, _, value = line.partition(" ")
    if word != kind:
        raise RuntimeError(f"expected {kind!r}, got {line!r}")
    return float(value)


# -- tables 4 and 5 -------------------------------------------------------------------------------


def cancellation(bench: Bench, settings: Settings) -> tuple[str, dict[str, float]]:
    result, _ = run_client(
        bench,
        [PY, str(HERE / "clients.py"), "cancel", bench.readers[0], str(settings.cancels)],
        timeout=600,
    )
    rows = []
    stats = {}
    names = {
        "shared": "another subscriber keeps the watcher running",
        "last": "the last subscriber (the watcher lingers; its nudge is not awaited)",
        "cold": "the last subscriber of a watcher started for it (stopped before each wait)",
    }
    for key, name in names.items():
        values = [v * 1e3 for v in result[key]]
        p50, p99 = statistics.median(values), percentile(values, 0.99)
        stats[key] = p99
        rows.append([name, str(len(values)), f"{p50:.3f}", f"{p99:.3f}", f"{max(values):.3f}"])
    return table(["cancelled waitforcard()", "n", "p50 (ms)", "p99 (ms)", "max (ms)"], rows), stats


def scale_at_rest(
    bench: Bench, settings: Settings, pyscard_skip: str | None
) -> tuple[str, dict[str, Any]]:
    aio, _ = run_client(
        bench,
        [
            PY,
            str(HERE / "clients.py"),
            "scale",
            bench.readers[0],
            str(settings.waiters),
            str(settings.subscribers),
            str(settings.idle),
        ],
        timeout=600,
    )
    rows = [_scale_row("aioscard (one asyncio loop)", aio)]
    if not pyscard_skip:
        waiters = settings.pyscard_waiters
        try:
            ref, _ = run_client(
                bench,
                [
                    str(PYSCARD_VENV / "bin" / "python"),
                    str(HERE / "pyscard_clients.py"),
                    "scale",
                    bench.readers[0],
                    str(waiters),
                    str(settings.idle),
                ],
                timeout=600,
            )
            rows.append(_scale_row(f"pyscard, {waiters} waitforcard() threads (reference)", ref))
        except (RuntimeError, subprocess.TimeoutExpired) as error:
            rows.append([f"pyscard, {waiters} waiters", f"failed: {str(error)[:80]}"] + ["-"] * 6)
    header = [
        "client",
        "pending waits",
        "threads (OS, whole process)",
        "watcher threads",
        "PC/SC contexts",
        "RSS (MiB)",
        "RSS per wait (KiB)",
        "idle CPU",
    ]
    return table(header, rows), aio


def _scale_row(name: str, result: dict[str, Any]) -> list[str]:
    pending = int(result["pending"])
    rss = int(result["rss_kib"])
    per_wait = (rss - int(result["base_rss_kib"])) / max(pending, 1)
    idle = float(result["idle_cpu"]) / float(result["idle_seconds"]) * 100
    watcher = result.get("watcher_threads", "-")
    return [
        name,
        f"{pending:,}",
        f"{result['threads']} (at start {result['base_threads']})",
        str(watcher),
        str(result["contexts"]),
        f"{rss / 1024:.1f}",
        f"{per_wait:.2f}",
        f"{idle:.2f} % ({float(result['idle_cpu']) * 1e3:.0f} ms"
        f" in {float(result['idle_seconds']):.0f} s)",
    ]


# -- table 6: import and install ------------------------------------------------------------------


def import_time(python: str, module: str, repeats: int, before: str = "") -> list[float]:
    """Milliseconds ``import module`` takes in a fresh interpreter (after ``before``)."""
    prelude = f"import {before}; " if before else ""
    code = (
        prelude
        + "import time; t = time.perf_counter(); import "
        + module
        + "; print(time.perf_counter() - t)"
    )
    values = []
    env = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
    for _ in range(repeats + 1):
        done = subprocess.run([python, "-c", code], capture_output=True, text=True, env=env)
        if done.returncode != 0:
            raise RuntimeError(done.stderr[-500:])
        values.append(float(done.stdout.strip()) * 1e3)
    return values[1:]  # the first run may write bytecode caches


def _no_compiler_env(tmp: Path) -> dict[str, str]:
    """An environment with no C compiler on PATH (and CC pointing nowhere)."""
    bare = tmp / "bin-no-compiler"
    bare.mkdir(exist_ok=True)
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("PIP_") and key not in ("CC", "CXX", "PYTHONPATH")
    }
    env.update(PATH=str(bare), CC="/nonexistent/cc", CXX="/nonexistent/c++")
    return env


def install_times(pyscard_ok: bool) -> list[list[str]]:
    """Wheel install times into fresh venvs, offline from a local wheelhouse, pip without cache."""
    rows: list[list[str]] = []
    wheelhouse = BUILD / "wheelhouse"
    shutil.rmtree(wheelhouse, ignore_errors=True)
    wheelhouse.mkdir(parents=True)
    pip = [PY, "-m", "pip", "--disable-pip-version-check", "-q"]
    log("install timings: building aioscard's wheel and filling a local wheelhouse")
    subprocess.run(
        [*pip, "wheel", "--no-deps", "--no-build-isolation", "-w", str(wheelhouse), str(REPO)],
        check=True,
        capture_output=True,
    )
    wheel = next(wheelhouse.glob("aioscard-*.whl"))
    subprocess.run(
        [*pip, "download", "--only-binary", ":all:", "-d", str(wheelhouse), str(wheel)],
        check=True,
        capture_output=True,
    )
    if pyscard_ok:
        subprocess.run(
            [
                *pip,
                "download",
                "--no-deps",
                "--no-build-isolation",
                "--no-binary",
                "pyscard",
                "-d",
                str(wheelhouse),
                "pyscard",
            ],
            check=True,
            capture_output=True,
        )
        subprocess.run(
            [
                *pip,
                "download",
                "--only-binary",
                ":all:",
                "-d",
                str(wheelhouse),
                "setuptools",
                "swig",
            ],
            check=True,
            capture_output=True,
        )
    with tempfile.TemporaryDirectory(prefix="aioscard-bench-") as tmp_name:
        tmp = Path(tmp_name)
        cases = [("aioscard (wheel + cffi, anyio wheels)", "aioscard", True)]
        if pyscard_ok:
            cases += [
                ("pyscard (sdist: swig + gcc)", "pyscard", True),
                ("pyscard (sdist: swig + gcc)", "pyscard", False),
            ]
        for label, package, bare in cases:
            target = tmp / f"venv-{package}-{int(bare)}"
            subprocess.run([PY, "-m", "venv", "--without-pip", str(target)], check=True)
            env = (
                _no_compiler_env(tmp)
                if bare
                else {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
            )
            command = [
                PY,
                "-m",
                "pip",
                "--disable-pip-version-check",
                "--python",
                str(target / "bin" / "python"),
                "install",
                "-q",
                "--no-index",
                "--no-cache-dir",
                "--find-links",
                str(wheelhouse),
                package,
            ]
            started = time.perf_counter()
            done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=600)
            took = time.perf_counter() - started
            where = "no compiler on PATH" if bare else "gcc + libpcsclite-dev present"
            if done.returncode == 0:
                rows.append([label, where, f"{took:.1f} s", "installed"])
            else:
                reason = _failure_reason(done.stderr)
                rows.append([label, where, f"{took:.1f} s", f"FAILS: {reason}"])
    return rows


def _failure_reason(stderr: str) -> str:
    for needle in ("command 'gcc' failed", "No such file or directory", "error:"):
        for line in stderr.splitlines():
            if needle in line:
                return line.strip()[:90].replace("|", "/")
    return stderr.strip().splitlines()[-1][:90] if stderr.strip() else "unknown"


# -- the report -----------------------------------------------------------------------------------


def machine() -> str:
    cpu = "unknown"
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as info:
            for line in info:
                if line.startswith("model name"):
                    cpu = line.partition(":")[2].strip()
                    break
    except OSError:
        pass
    return (
        f"nproc {os.cpu_count()}, CPU {cpu}, kernel {platform.release()}, "
        f"Python {platform.python_version()} ({platform.python_implementation()})"
    )


def main(argv: Sequence[str]) -> int:
    settings = parse_args(argv)
    started = time.perf_counter()
    c_skip = build_c(settings)
    if c_skip:
        log(f"C reference: {c_skip}")
    pyscard_skip, pyscard_build = build_pyscard(settings)
    if pyscard_skip:
        log(f"pyscard: {pyscard_skip}")
    sections: list[str] = []
    verdicts: list[str] = []

    def add(title: str, body: str) -> None:
        sections.append(f"### {title}\n\n{body}\n")
        print(f"\n### {title}\n\n{body}\n", flush=True)

    with simulator(4) as bench:
        one = clients_one_reader(settings, c_skip, pyscard_skip)
        four = clients_four_readers(settings, c_skip, pyscard_skip)
        pings: list[dict[str, Any]] = []
        parts: dict[str, list[dict[str, Any]]] = {}
        if {1, 2} & settings.sections:
            groups = ([one] if 1 in settings.sections else []) + (
                [four] if 2 in settings.sections else []
            )
            run_rounds(bench, settings, groups)
            if 1 in settings.sections:
                for _ in range(settings.rounds):
                    ping, _ = run_client(
                        bench, [PY, str(HERE / "clients.py"), "pingpong", str(settings.seconds)]
                    )
                    pings.append(ping)
                    for kind in BREAKDOWN_KINDS:
                        part, _ = run_client(
                            bench,
                            [
                                PY,
                                str(HERE / "clients.py"),
                                "breakdown",
                                str(settings.seconds),
                                bench.readers[0],
                                kind,
                            ],
                        )
                        parts.setdefault(kind, []).append(part)
        if 1 in settings.sections:
            body = transmit_table(
                one,
                {"C loop over SCardTransmit": "x C", "pyscard `connection.transmit`": "x pyscard"},
            )
            body += (
                "\n\nWhere one round trip's time goes (medians per call; the C call is"
                " timed on the worker by wrapping the native `transmit`):\n\n"
            )
            body += breakdown_table(parts)
            body += "\n\nThe hand-off alone, measured in the same run:\n\n" + pingpong_table(pings)
            add("1. One reader: 4-byte ECHO round trips", body)
            c_ref, handoff, aio, shim, pys = one[0], one[1], one[2], one[5], one[6]
            verdicts.append(ratio_verdict("(1) async >= 0.90x C", ratios(aio, c_ref), 0.90))
            verdicts.append(ratio_verdict("(1) sync shim >= 1.0x pyscard", ratios(shim, pys), 1.0))
            verdicts.append(floor_line("Floor (1): C hand-off / C loop", handoff, c_ref))
        if 2 in settings.sections:
            add(
                "2. Four readers at once",
                transmit_table(four, {"C, 4 threads": "x C", "pyscard, 4 threads": "x pyscard"}),
            )
            verdicts.append(
                ratio_verdict("(2) aioscard >= 0.85x C", ratios(four[2], four[0]), 0.85)
            )
            verdicts.append(
                ratio_verdict(
                    "(2) aioscard ahead of pyscard's threads", ratios(four[2], four[5]), 1.0
                )
            )
            verdicts.append(floor_line("Floor (2): C hand-off / C 4 threads", four[1], four[0]))
        if 4 in settings.sections:
            log("cancellation")
            body, stats = cancellation(bench, settings)
            add("4. Cancelling a pending `waitforcard()`: until the caller resumes", body)
            verdicts.append(
                f"(4) p99 <= 5 ms: {target(max(stats.values()) <= 5.0)}"
                f" (shared {stats['shared']:.2f} ms, last {stats['last']:.2f} ms,"
                f" cold {stats['cold']:.2f} ms)"
            )
        if 5 in settings.sections:
            log("scale at rest")
            body, rest = scale_at_rest(bench, settings, pyscard_skip)
            add(
                f"5. At rest: {settings.waiters:,} waitforcard() +"
                f" {settings.subscribers:,} card_events()",
                body,
            )
            idle = float(rest["idle_cpu"]) / float(rest["idle_seconds"]) * 100
            extra_threads = int(rest["threads"]) - int(rest["base_threads"])
            ok = extra_threads <= 3 and int(rest["contexts"]) <= 1 and idle < 1.0
            verdicts.append(
                f"(5) <= 3 threads, 1 context, idle CPU < 1 %: {target(ok)}"
                f" (+{extra_threads} threads, {rest['contexts']} context(s), {idle:.2f} %)"
            )
        if 3 in settings.sections:
            log("event delivery")
            body, stats = event_delivery(bench, settings, c_skip)
            add("3. Event delivery: extra delay of a `card_events()` subscriber", body)
            median = stats["insertion"]
            verdicts.append(f"(3) median extra <= 1 ms: {target(median <= 1.0)} ({median:.3f} ms)")
    if 6 in settings.sections:
        rows = []
        repeats = settings.import_repeats
        pyscard_python = str(PYSCARD_VENV / "bin" / "python")
        for label, python, module, before in (
            ("`import aioscard`", PY, "aioscard", ""),
            ("`import asyncio` (the stdlib part of it)", PY, "asyncio", ""),
            ("`import aioscard` after `import asyncio`", PY, "aioscard", "asyncio"),
            ("`import aioscard.compat`", PY, "aioscard.compat", ""),
            ("`import smartcard` (pyscard)", pyscard_python, "smartcard", ""),
            ("`import smartcard.System` (pyscard)", pyscard_python, "smartcard.System", ""),
        ):
            if python == pyscard_python and pyscard_skip:
                rows.append([label, pyscard_skip])
                continue
            values = import_time(python, module, repeats, before)
            rows.append([label, spread(values, 1, " ms")])
        body = table(["import", "time (median, range)"], rows)
        if settings.install:
            body += (
                "\n\nInstall into a fresh venv, offline from a local wheelhouse, no pip cache:\n\n"
            )
            body += table(
                ["package", "environment", "time", "result"], install_times(not pyscard_skip)
            )
        if pyscard_build is not None:
            body += (
                f"\n\nBuilding pyscard for this run (from PyPI, with gcc): {pyscard_build:.1f} s."
            )
        add("6. Import and install", body)
    took = time.perf_counter() - started
    summary = "\n".join(f"- {line}" for line in verdicts)
    print(f"\n### Targets (issue 7)\n\n{summary}\n\nTook {took:.0f} s.", flush=True)
    if settings.results is not None:
        write_results(settings, sections, summary, argv, took)
    return 0


def write_results(
    settings: Settings, sections: list[str], summary: str, argv: Sequence[str], took: float
) -> None:
    assert settings.results is not None
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    command = "bash benchmarks/run.sh" + ("".join(f" {shlex.quote(a)}" for a in argv))
    text = [
        "# aioscard benchmark results",
        "",
        f"- Date: {now}",
        f"- Machine: {machine()}",
        f"- Command: `{command}` ({took:.0f} s)",
        f"- Rounds: {settings.rounds} interleaved rounds of {settings.seconds:g} s per transmit"
        " client; figures are medians with (min-max) over the rounds; ratios are taken"
        " round by round against the reference measured in the same round.",
        "",
        "## Targets (issue 7)",
        "",
        summary,
        "",
        "## Tables",
        "",
        *sections,
    ]
    settings.results.write_text("\n".join(text), encoding="utf-8")
    log(f"wrote {settings.results}")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
