"""Tables 7 and 8 (issue 12): whole dialogues and batches on 1, 4 and 16 readers, and the
event-loop thread's CPU per awaited APDU against the bare hand-off of the same loop."""

from __future__ import annotations

import statistics
from typing import TYPE_CHECKING

from _harness import Bench, Client
from _report import ratios, spread, table
from _settings import C_BINARY, HERE, PY, PYSCARD_VENV, Settings

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

#: APDUs per dialogue and per batch (the issue's "100 ECHOs").
GROUP = 100
DIALOGUE = f"aioscard `run_sync` dialogues of {GROUP} (asyncio)"
DIALOGUE_TRIO = f"aioscard `run_sync` dialogues of {GROUP} (trio)"
BATCH = f"aioscard `transmit_many` batches of {GROUP} (asyncio)"
PER_AWAIT = "aioscard `await transmit` per APDU (asyncio)"
SHIM = "aioscard sync shim, a thread per reader"
LOOPS = ("asyncio", "uvloop", "trio")


def grouped_clients(
    settings: Settings, count: int, c_skip: str | None, pyscard_skip: str | None
) -> list[Client]:
    """The clients of table 7 for ``count`` readers (the first ``count`` of the bench).

    In smoke mode only C and the asyncio dialogue and batch rows run, on 4 readers
    (the 16-reader group needs a simulator of its own: run.py skips it)."""
    s = str(settings.seconds)
    aio = str(HERE / "clients.py")
    pyscard_python = str(PYSCARD_VENV / "bin" / "python")
    pyscard_script = str(HERE / "pyscard_clients.py")
    smoke_cut = "skipped (--smoke)" if settings.smoke else ""
    if settings.smoke and count == 1:
        return [
            Client(name, None, smoke_cut)
            for name in ("C loop over SCardTransmit", "pyscard", DIALOGUE, DIALOGUE_TRIO, BATCH)
        ]

    def readers(b: Bench) -> list[str]:
        return b.readers[:count]

    def aioscard_mode(mode: str, loop: str = "asyncio") -> Callable[[Bench], list[str]]:
        return lambda b: ["env", f"BENCH_LOOP={loop}", PY, aio, mode, s, str(GROUP), *readers(b)]

    c_name = "C loop over SCardTransmit" if count == 1 else f"C, {count} threads"
    pyscard_name = "pyscard" if count == 1 else f"pyscard, {count} threads"
    clients = [
        Client(
            c_name,
            None if c_skip else (lambda b: [str(C_BINARY), "transmit", s, *readers(b)]),
            c_skip or "",
        ),
        Client(
            pyscard_name,
            None
            if pyscard_skip
            else (lambda b: [pyscard_python, pyscard_script, "transmit", s, *readers(b)]),
            pyscard_skip or "",
        ),
        Client(DIALOGUE, aioscard_mode("dialogue")),
        Client(DIALOGUE_TRIO, None if smoke_cut else aioscard_mode("dialogue", "trio"), smoke_cut),
        Client(BATCH, aioscard_mode("batch")),
    ]
    if count > 4:  # tables 1 and 2 have these rows for 1 and 4 readers
        clients += [
            Client(
                PER_AWAIT,
                None if smoke_cut else (lambda b: [PY, aio, "transmit-async", s, *readers(b)]),
                smoke_cut,
            ),
            Client(
                SHIM,
                None if smoke_cut else (lambda b: [PY, aio, "transmit-sync", s, *readers(b)]),
                smoke_cut,
            ),
        ]
    return clients


def grouped_table(groups: dict[int, list[Client]]) -> str:
    header = [
        "readers",
        "client",
        "APDUs/s",
        "client CPU/APDU (us)",
        "loop thread CPU/APDU (us)",
        "x C",
        "x pyscard",
    ]
    rows = []
    for count, clients in groups.items():
        c_ref, pyscard_ref = clients[0], clients[1]
        for client in clients:
            if not client.samples:
                rows.append([str(count), client.name, client.note or "skipped", *["-"] * 4])
                continue
            loop = [x.loop_us for x in client.samples]
            rows.append(
                [
                    str(count),
                    client.name,
                    spread([x.rate for x in client.samples]),
                    spread([x.cpu_us for x in client.samples]),
                    spread(loop, 1) if any(loop) else "-",
                    spread(ratios(client, c_ref), 2) if c_ref.samples else "-",
                    spread(ratios(client, pyscard_ref), 2) if pyscard_ref.samples else "-",
                ]
            )
    return table(header, rows)


#: How long the floor's thread holds each job: about one SCardTransmit of a 4-byte ECHO
#: on the worker (table 1's breakdown), so that the loop goes idle between round trips
#: as it does while a card works.
HOLD_US = 250


def floor_clients(settings: Settings) -> list[Client]:
    """Per loop, the bare ping-pong answering at once, then holding each job HOLD_US."""
    s = str(settings.seconds)
    aio = str(HERE / "clients.py")

    def argv(loop: str, hold: int) -> Callable[[Bench], list[str]]:
        return lambda b: ["env", f"BENCH_LOOP={loop}", PY, aio, "floor", s, str(hold)]

    # In smoke mode only the held variant (the one the target is judged against) runs.
    return [
        Client(
            f"bare {loop} loop <-> thread ping-pong, job held {hold} us",
            None if settings.smoke and not hold else argv(loop, hold),
            "skipped (--smoke)",
        )
        for loop in LOOPS
        for hold in (0, HOLD_US)
    ]


def native_clients(settings: Settings, skip: str | None) -> list[Client]:
    """Issue 12 part 3's trial compiled hand-off (``_handoff.py``): per loop, the awaited
    transmit on it and its own floor (job held HOLD_US); then four readers from one asyncio
    loop, on aioscard's hand-off and on the trial's."""
    s = str(settings.seconds)
    aio = str(HERE / "clients.py")
    note = skip or ("skipped (--smoke)" if settings.smoke else "")

    def argv(loop: str, *mode: str) -> Callable[[Bench], list[str]] | None:
        if note:
            return None
        return lambda b: ["env", f"BENCH_LOOP={loop}", PY, aio, *mode]

    def four(loop: str, mode: str) -> Callable[[Bench], list[str]] | None:
        if note:
            return None
        return lambda b: ["env", f"BENCH_LOOP={loop}", PY, aio, mode, s, *b.readers[:4]]

    def one(loop: str) -> Callable[[Bench], list[str]] | None:
        if note:
            return None
        return lambda b: ["env", f"BENCH_LOOP={loop}", PY, aio, "transmit-native", s, b.readers[0]]

    clients = []
    for loop in LOOPS:
        clients.append(
            Client(
                f"trial compiled hand-off `await transmit` ({loop})",
                one(loop),
                note,
            )
        )
        clients.append(
            Client(
                f"trial compiled hand-off, job held {HOLD_US} us ({loop})",
                argv(loop, "floor-native", s, str(HOLD_US)),
                note,
            )
        )
    clients.append(Client(FOUR_PURE, four("asyncio", "transmit-async"), note))
    clients.append(Client(FOUR_NATIVE, four("asyncio", "transmit-native"), note))
    clients.append(Client(FOUR_HYBRID, four("asyncio", "transmit-hybrid"), note))
    return clients


FOUR_PURE = "4 readers, one asyncio loop, `await transmit`: aioscard's hand-off"
FOUR_NATIVE = "4 readers, one asyncio loop, `await transmit`: the trial compiled hand-off"
FOUR_HYBRID = (
    "4 readers, one asyncio loop, `await transmit`: the trial's hybrid (aioscard's worker "
    "runs the job, the eventfd wakes the loop)"
)


def native_table(per_await: Sequence[Client], native: Sequence[Client]) -> str:
    """The trial against aioscard's hand-off: the loop thread's CPU per APDU, round by round."""
    rows = []
    for index, (loop, client) in enumerate(zip(LOOPS, per_await, strict=True)):
        trial, trial_floor = native[2 * index], native[2 * index + 1]
        rows.append(
            [
                loop,
                loop_cpu(client),
                loop_cpu(trial),
                spread(loop_ratios(trial, client), 2),
                spread([x.rate for x in client.samples]),
                spread([x.rate for x in trial.samples]),
                loop_cpu(trial_floor),
                spread(loop_ratios(trial, trial_floor), 2),
            ]
        )
    header = [
        "event loop",
        "aioscard `await transmit`: loop CPU/APDU (us)",
        "trial compiled hand-off: loop CPU/APDU (us)",
        "trial / aioscard (keep if <= 0.70)",
        "aioscard APDUs/s",
        "trial APDUs/s",
        f"trial's own floor, job held {HOLD_US} us (us)",
        "trial / its floor",
    ]
    body = table(header, rows)
    pure, trial, hybrid = native[-3:]
    four = [
        [
            c.name,
            spread([x.rate for x in c.samples]),
            loop_cpu(c),
            spread([x.cpu_us for x in c.samples]),
        ]
        for c in (pure, trial, hybrid)
    ]
    for name, client in (("trial / aioscard", trial), ("hybrid / aioscard", hybrid)):
        four.append(
            [name, spread(ratios(client, pure), 2), spread(loop_ratios(client, pure), 2), "-"]
        )
    return (
        body
        + "\n\n"
        + table(["client", "APDUs/s", "loop CPU/APDU (us)", "client CPU/APDU (us)"], four)
    )


def native_verdicts(per_await: Sequence[Client], native: Sequence[Client]) -> list[str]:
    lines = []
    for index, (loop, client) in enumerate(zip(LOOPS, per_await, strict=True)):
        values = loop_ratios(native[2 * index], client)
        label = f"(12) trial compiled hand-off cuts the {loop} loop's CPU per APDU >= 30 %"
        if not values:
            lines.append(f"{label}: n/a")
            continue
        verdict = "yes" if statistics.median(values) <= 0.70 else "no"
        lines.append(f"{label}: {verdict} ({spread(values, 2)} of aioscard's, over the rounds)")
    return lines


def loop_cpu(client: Client) -> str:
    """The loop thread's CPU per round trip over the rounds, median (min-max)."""
    return spread([x.loop_us for x in client.samples], 1)


def loop_ratios(client: Client, floor: Client) -> list[float]:
    pairs = zip(client.samples, floor.samples, strict=False)
    return [mine.loop_us / theirs.loop_us for mine, theirs in pairs if theirs.loop_us]


def floor_table(per_await: Sequence[Client], floors: Sequence[Client]) -> str:
    rows = []
    for index, (loop, client) in enumerate(zip(LOOPS, per_await, strict=True)):
        instant, held = floors[2 * index], floors[2 * index + 1]
        rows.append(
            [
                loop,
                loop_cpu(client),
                loop_cpu(instant),
                spread(loop_ratios(client, instant), 2),
                loop_cpu(held),
                spread(loop_ratios(client, held), 2),
            ]
        )
    header = [
        "event loop",
        "`await transmit`: loop thread CPU/APDU (us)",
        "bare hand-off, answered at once: loop CPU/RT (us)",
        "ratio",
        f"bare hand-off, job held {HOLD_US} us: loop CPU/RT (us)",
        "ratio (target <= 1.2)",
    ]
    return table(header, rows)


def floor_verdicts(per_await: Sequence[Client], floors: Sequence[Client]) -> list[str]:
    lines = []
    for index, (loop, client) in enumerate(zip(LOOPS, per_await, strict=True)):
        values = loop_ratios(client, floors[2 * index + 1])
        label = f"(12) per-await loop CPU <= 1.2x the bare {loop} hand-off (job held {HOLD_US} us)"
        if not values:
            lines.append(f"{label}: n/a")
            continue
        verdict = "met" if statistics.median(values) <= 1.2 else "MISSED"
        lines.append(f"{label}: {verdict} ({spread(values, 2)} over the rounds)")
    return lines
