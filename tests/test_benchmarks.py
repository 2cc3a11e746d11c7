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


# One smoke run serves every check below: they are one test, so that pytest-xdist never
# runs the benchmarks (which load the machine themselves) in several workers at once.
# The timeouts guard against a hang; they are not timings.
@pytest.mark.timeout(600)
def test_smoke_run_prints_every_table_target_and_results_file(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    results = tmp_path_factory.mktemp("bench") / "RESULTS.md"
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "run.py"), "--smoke", "--results", str(results)],
        capture_output=True,
        text=True,
        timeout=540,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    output = done.stdout

    tables = sections(output)
    for number in range(1, 9):
        body = tables.get(number)
        assert body is not None, f"table {number} is missing"
        rows = [line for line in body.splitlines() if line.startswith("| ")]
        assert len(rows) >= 2, f"table {number} has no rows"  # a header and at least one row
        measured = [row for row in rows[1:] if "skipped" not in row]
        assert measured, f"table {number} measured nothing"

    assert "skipped (--smoke or --no-pyscard)" in output

    targets = [line for line in output.splitlines() if line.startswith("- (")]
    issues = {line[3 : line.index(")")] for line in targets}
    assert issues == {"1", "2", "3", "4", "5", "12"}

    text = results.read_text(encoding="utf-8")
    assert "- Date: " in text
    assert "- Machine: nproc " in text
    assert "- Command: `bash benchmarks/run.sh --smoke --results " in text


def sections(output: str) -> dict[int, str]:
    """The numbered tables of the output: number -> the text under its heading."""
    parts = re.split(r"^### (\d+)\. ", output, flags=re.MULTILINE)
    return {int(number): body for number, body in zip(parts[1::2], parts[2::2], strict=True)}
