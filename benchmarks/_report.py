"""Formatting figures (medians, spreads, ratios, tables, target verdicts) and RESULTS.md."""

from __future__ import annotations

import datetime
import os
import platform
import shlex
import statistics
from typing import TYPE_CHECKING

from _settings import Settings, log

if TYPE_CHECKING:
    from collections.abc import Sequence

    from _harness import Client

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
        "## Targets (issues 7 and 12)",
        "",
        summary,
        "",
        "## Tables",
        "",
        *sections,
    ]
    settings.results.write_text("\n".join(text), encoding="utf-8")
    log(f"wrote {settings.results}")
