"""The benchmarks' smoke mode, so that ``bash benchmarks/run.sh`` never rots.

One quick pass of every table against a private simulator (tiny counts, no pyscard
build); no timing is asserted, only that each table comes out with its rows.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def smoke(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    results = tmp_path_factory.mktemp("bench") / "RESULTS.md"
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "run.py"), "--smoke", "--results", str(results)],
        capture_output=True,
        text=True,
        timeout=100,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout, results


@pytest.mark.parametrize(
    "row",
    [
        "| aioscard `await connection.transmit` (asyncio) |",
        "| aioscard sync shim `connection.transmit` |",
        "| aioscard `Worker.run` (the async hand-off) |",
        "| aioscard async (asyncio) |",
        "| aioscard, one asyncio loop, 4 tasks |",
        "| insertion |",
        "| the last subscriber (the watcher lingers; its nudge is not awaited) |",
        "| the last subscriber of a watcher started for it (stopped before each wait) |",
        "| aioscard (one asyncio loop) |",
        "| `import aioscard` |",
        "| `import aioscard` after `import asyncio` |",
    ],
)
def test_smoke_prints_each_table_row(smoke: tuple[str, Path], row: str) -> None:
    output, _ = smoke
    assert row in output


def test_smoke_skips_pyscard_and_says_so(smoke: tuple[str, Path]) -> None:
    output, _ = smoke
    assert "| pyscard `connection.transmit` | skipped (--smoke or --no-pyscard) |" in output


def test_smoke_reports_every_target(smoke: tuple[str, Path]) -> None:
    output, _ = smoke
    targets = [line for line in output.splitlines() if line.startswith("- (")]
    assert [line[3] for line in targets] == ["1", "1", "2", "2", "4", "5", "3"]


def test_results_file_names_date_machine_and_command(smoke: tuple[str, Path]) -> None:
    _, results = smoke
    text = results.read_text(encoding="utf-8")
    assert "- Date: " in text
    assert "- Machine: nproc " in text
    assert "- Command: `bash benchmarks/run.sh --smoke --results " in text
