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

import sys
import time
from typing import TYPE_CHECKING, Any

from _build import build_c, build_pyscard
from _dialogues import (
    BATCH,
    DIALOGUE,
    GROUP,
    floor_clients,
    floor_table,
    floor_verdicts,
    grouped_clients,
    grouped_table,
    native_clients,
    native_table,
    native_verdicts,
)
from _handoff import build as build_handoff
from _harness import Client, run_client, simulator
from _imports import import_time, install_times
from _report import floor_line, ratio_verdict, ratios, spread, table, target, write_results
from _settings import HERE, PY, PYSCARD_VENV, log, parse_args
from _transmit import (
    BREAKDOWN_KINDS,
    breakdown_table,
    clients_four_readers,
    clients_one_reader,
    pingpong_table,
    run_rounds,
    transmit_table,
)
from _waits import cancellation, event_delivery, scale_at_rest

if TYPE_CHECKING:
    from collections.abc import Sequence


def main(argv: Sequence[str]) -> int:
    settings = parse_args(argv)
    started = time.perf_counter()
    c_skip = build_c(settings)
    if c_skip:
        log(f"C reference: {c_skip}")
    handoff_skip = build_handoff() if 8 in settings.sections and not settings.smoke else None
    if handoff_skip:
        log(f"trial compiled hand-off: {handoff_skip}")
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
        grouped = {
            count: grouped_clients(settings, count, c_skip, pyscard_skip) for count in (1, 4, 16)
        }
        floors = floor_clients(settings)
        native = native_clients(settings, handoff_skip)
        groups: list[list[Client]] = []
        if {1, 8} & settings.sections:
            groups.append(one)
        if 2 in settings.sections:
            groups.append(four)
        if 7 in settings.sections:
            groups += [grouped[1], grouped[4]]
        if 8 in settings.sections:
            groups += [floors, native]
        if groups:
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
    if 7 in settings.sections:
        if settings.smoke:
            for client in grouped[16]:
                client.argv, client.note = None, "skipped (--smoke: no 16-reader simulator)"
        else:
            with simulator(16) as bench16:
                log("dialogues and batches on 16 readers")
                run_rounds(bench16, settings, [grouped[16]])
        add(
            f"7. Dialogues and batches of {GROUP} ECHOs on 1, 4 and 16 readers",
            grouped_table(grouped),
        )
        for count, reference, threshold, name in (
            (1, 0, 0.90, "batch"),
            (1, 0, 0.85, "dialogue"),
            (4, 1, 1.0, "dialogue"),
            (16, 1, 1.0, "dialogue"),
        ):
            clients = grouped[count]
            mine = next(c for c in clients if c.name == (BATCH if name == "batch" else DIALOGUE))
            ref = clients[reference]
            plural = "es" if name == "batch" else "s"
            readers = f"{count} reader{'s' if count > 1 else ''}"
            label = f"(12) {name}{plural} of {GROUP}, {readers} >= {threshold:.2f}x {ref.name}"
            verdicts.append(ratio_verdict(label, ratios(mine, ref), threshold))
    if 8 in settings.sections:
        per_await = one[2:5]  # asyncio, uvloop, trio rows of table 1
        add(
            "8. Per-await transmit: the loop thread's CPU per APDU against the bare hand-off",
            floor_table(per_await, floors),
        )
        verdicts += floor_verdicts(per_await, floors)
        add(
            "8b. Issue 12 part 3: the trial compiled hand-off against aioscard's",
            native_table(per_await, native),
        )
        verdicts += native_verdicts(per_await, native)
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
    print(f"\n### Targets (issues 7 and 12)\n\n{summary}\n\nTook {took:.0f} s.", flush=True)
    if settings.results is not None:
        write_results(settings, sections, summary, argv, took)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
