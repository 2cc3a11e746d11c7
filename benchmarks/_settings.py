"""Paths, the command line and its settings, shared by every part of the benchmark."""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Sequence

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
    sections: set[int] = field(default_factory=lambda: {1, 2, 3, 4, 5, 6, 7, 8})


def parse_args(argv: Sequence[str]) -> Settings:
    parser = argparse.ArgumentParser(
        description="aioscard's benchmarks: aioscard against the raw C API and pyscard."
    )
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
    parser.add_argument("--sections", help="comma-separated tables to run (1-8)")
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
