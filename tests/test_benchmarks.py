"""The benchmarks' smoke mode, so that ``bash benchmarks/run.sh`` never rots.

One quick pass of every table against a private simulator (tiny counts, no pyscard
build); no timing is asserted, only that each table comes out with its rows.
"""

from __future__ import annotations

import re
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
        timeout=300,  # a guard against a hang, not a timing: the machine may be loaded
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout, results


def sections(output: str) -> dict[int, str]:
    """The numbered tables of the output: number -> the text under its heading."""
    parts = re.split(r"^### (\d+)\. ", output, flags=re.MULTILINE)
    return {int(number): body for number, body in zip(parts[1::2], parts[2::2], strict=True)}


@pytest.mark.parametrize("number", range(1, 9))
def test_smoke_prints_each_table_with_rows(smoke: tuple[str, Path], number: int) -> None:
    output, _ = smoke
    body = sections(output).get(number)
    assert body is not None, f"table {number} is missing"
    rows = [line for line in body.splitlines() if line.startswith("| ")]
    assert len(rows) >= 2, f"table {number} has no rows"  # a header and at least one row
    measured = [row for row in rows[1:] if "skipped" not in row]
    assert measured, f"table {number} measured nothing"


def test_smoke_skips_pyscard_and_says_so(smoke: tuple[str, Path]) -> None:
    output, _ = smoke
    assert "skipped (--smoke or --no-pyscard)" in output


def test_smoke_reports_every_target(smoke: tuple[str, Path]) -> None:
    output, _ = smoke
    targets = [line for line in output.splitlines() if line.startswith("- (")]
    issues = {line[3 : line.index(")")] for line in targets}
    assert issues == {"1", "2", "3", "4", "5", "12"}


def test_results_file_names_date_machine_and_command(smoke: tuple[str, Path]) -> None:
    _, results = smoke
    text = results.read_text(encoding="utf-8")
    assert "- Date: " in text
    assert "- Machine: nproc " in text
    assert "- Command: `bash benchmarks/run.sh --smoke --results " in text
