"""Tables 3-5: event delivery, cancelling a pending wait, and many waits at rest."""

from __future__ import annotations

import statistics
import subprocess
from typing import Any

from _harness import Bench, LineProcess, run_client
from _report import percentile, table
from _settings import C_BINARY, HERE, PY, PYSCARD_VENV, Settings, log

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
