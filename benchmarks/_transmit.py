"""Tables 1 and 2: APDU round trips on one and on four readers, and the bare hand-off."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from _harness import Bench, Client, measure
from _report import ratios, spread, table
from _settings import C_BINARY, HERE, PY, PYSCARD_VENV, Settings, log

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

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
