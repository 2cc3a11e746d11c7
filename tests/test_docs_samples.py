"""Every ```python block of the documentation runs, as a user would run it, against the simulator.

The convention (``README.md``, ``docs/index.md`` and every page under ``docs/``): a python block
is a complete program.  It runs in a subprocess with the session simulator's
``PCSCLITE_CSOCK_NAME`` (4 readers, a fresh ``DemoCard`` in reader 0) and must
exit 0 within 90 s (a hang guard).  A block preceded by ``<!-- skip: the reason -->`` is
skipped with that reason (it needs hardware or a second process).
"""

from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from .test_cli import child_env

if TYPE_CHECKING:
    from aioscard.testing import Simulator, VirtualCard

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
# A hang guard, not a timing: the suite's xdist workers load the machine.
TIMEOUT = 90.0

_FENCE = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,})\s*(?P<info>[^\n`]*)$")
_SKIP = re.compile(r"^<!--\s*skip:\s*(?P<reason>.*?)\s*-->$")


@dataclass(frozen=True)
class Sample:
    path: Path
    line: int  # of the opening fence, 1-based
    code: str
    skip: str | None

    @property
    def id(self) -> str:
        return f"{self.path.relative_to(ROOT).as_posix()}:{self.line}"


def extract(path: Path) -> list[Sample]:
    """The python blocks of one Markdown page, with their skip marks."""
    samples: list[Sample] = []
    lines = path.read_text(encoding="utf-8").splitlines()
    previous = ""  # the last non-blank line outside a block
    i = 0
    while i < len(lines):
        match = _FENCE.match(lines[i])
        if not match:
            if lines[i].strip():
                previous = lines[i].strip()
            i += 1
            continue
        fence, info = match["fence"], match["info"].strip()
        start = i
        body: list[str] = []
        i += 1
        while i < len(lines) and not lines[i].strip().startswith(fence):
            body.append(lines[i])
            i += 1
        i += 1  # the closing fence
        if info.split()[:1] == ["python"]:
            mark = _SKIP.match(previous)
            reason = mark["reason"] if mark else None
            samples.append(Sample(path, start + 1, "\n".join(body) + "\n", reason))
        previous = ""
    return samples


def pages() -> list[Path]:
    """The README and every page of the documentation site."""
    return [ROOT / "README.md", *(p for p in sorted(DOCS.rglob("*.md")) if "_build" not in p.parts)]


def all_samples() -> list[Sample]:
    return [s for page in pages() for s in extract(page)]


SAMPLES = all_samples()


def test_the_docs_have_samples() -> None:
    # A broken extractor would make every sample test vanish, not fail.
    assert len(SAMPLES) >= 2
    assert any(s.path.name == "getting-started.md" for s in SAMPLES)
    assert any(s.path.name == "README.md" for s in SAMPLES)


def test_skip_marks_give_a_reason() -> None:
    for page in pages():
        for number, line in enumerate(page.read_text(encoding="utf-8").splitlines(), 1):
            if line.strip().startswith("<!-- skip"):
                match = _SKIP.match(line.strip())
                assert match, f"{page}:{number}: a skip mark is <!-- skip: the reason -->"
                assert match["reason"], f"{page}:{number}: a skip mark needs a reason"


def test_extract_reads_skip_marks_and_ignores_other_blocks(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        "# Page\n\n```python\nprint(1)\n```\n\n<!-- skip: needs a pinpad -->\n\n"
        "```python\nprint(2)\n```\n\n```sh\necho 3\n```\n\n````text\n```python\nx\n```\n````\n"
    )
    samples = extract(page)
    assert [(s.line, s.code, s.skip) for s in samples] == [
        (3, "print(1)\n", None),
        (9, "print(2)\n", "needs a pinpad"),
    ]


@pytest.mark.parametrize("sample", SAMPLES, ids=[s.id for s in SAMPLES])
def test_sample_runs(
    sample: Sample, pcsc_simulator: Simulator, virtual_card: VirtualCard, tmp_path: Path
) -> None:
    if sample.skip is not None:
        pytest.skip(sample.skip)
    program = tmp_path / "sample.py"
    program.write_text(sample.code, encoding="utf-8")
    try:
        done = subprocess.run(
            [sys.executable, str(program)],
            env=child_env(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=TIMEOUT,
            cwd=tmp_path,
        )
    except subprocess.TimeoutExpired as expired:
        pytest.fail(f"{sample.id}: still running after {TIMEOUT:.0f} s:\n{expired.output}")
    assert done.returncode == 0, f"{sample.id} exited {done.returncode}:\n{done.stdout}"
