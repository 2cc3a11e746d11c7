"""pyscard's own example programs run under ``python -m aioscard.compat`` with pyscard's output.

pyscard is LGPL: its ``Examples/`` tree is not copied into this repository.  The
test reads the programs from the pyscard 2.3.1 sdist that ``scripts/bootstrap.sh
--test`` downloads (``.venv/pyscard-sdist/``, or ``$AIOSCARD_PYSCARD_SDIST``) and
skips, saying so, when it is not there.  ``compat_data/pyscard-examples/`` holds
what each program printed under pyscard 2.3.1 on Linux against this simulator
(four readers, a ``DemoCard`` in reader 0), with the reader names written
``<reader N>``.  The examples that wait for a card to be inserted or removed
(``sample_MonitorCardsAndTransmit``, ``sample_TransmitCardObserver``,
``sample_getStatusChange``) run until interrupted, so they are not here.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from aioscard.native import constants as C
from aioscard.native import get_pcsc

if TYPE_CHECKING:
    from aioscard.testing import Simulator, VirtualCard

ROOT = Path(__file__).resolve().parent.parent
EXPECTED = Path(__file__).resolve().parent / "compat_data" / "pyscard-examples"
SDIST = Path(os.environ.get("AIOSCARD_PYSCARD_SDIST", ROOT / ".venv" / "pyscard-sdist"))
PREFIX = "pyscard-2.3.1/src/smartcard/Examples/"

#: The examples that sleep ten seconds to watch for changes: part of the whole check.
SLOW = {"framework/sample_MonitorCards.py", "framework/sample_MonitorReaders.py"}

#: The one deliberate difference these programs show: a status-word exception's
#: str() names the status word (docs/howto/pyscard-programs.md, "Where the shim behaves
#: differently").
SW_TEXT = {
    "'Status word exception: !'": "status word 6E00: Class not supported",
    "'Status word exception: checking error - Class (CLA) not supported!'": (
        "status word 6E00: checking error - Class (CLA) not supported"
    ),
}

#: SCardStatus's state word depends on whether pcscd has powered the card down since
#: (pyscard's output varies the same way).
STATE = re.compile(r"^State: 0x[0-9A-Fa-f]+$", re.MULTILINE)

EXAMPLES = sorted(
    path.name.removesuffix(".out").replace("__", "/") for path in EXPECTED.glob("*.out")
)


@pytest.fixture(scope="module")
def examples(tmp_path_factory: pytest.TempPathFactory) -> Path:
    archives = sorted(SDIST.glob("pyscard-2.3.1.tar.gz")) if SDIST.is_dir() else [SDIST]
    if not archives or not archives[0].is_file():
        pytest.skip(
            f"pyscard 2.3.1's sdist is not at {SDIST}: run `bash scripts/bootstrap.sh --test`"
            " (it downloads it) or set AIOSCARD_PYSCARD_SDIST"
        )
    target = tmp_path_factory.mktemp("pyscard-examples")
    with tarfile.open(archives[0]) as archive:
        members = [m for m in archive.getmembers() if m.name.startswith(PREFIX) and m.isfile()]
        if hasattr(tarfile, "data_filter"):  # Python 3.11.4 and later (Debian 12 has 3.11.2)
            archive.extractall(target, members=members, filter="data")
        else:
            archive.extractall(target, members=members)  # pyscard 2.3.1 from PyPI, files only
    return target / PREFIX


def expected_output(example: str) -> str:
    text = (EXPECTED / (example.replace("/", "__") + ".out")).read_text()
    for theirs, ours in SW_TEXT.items():
        text = text.replace(theirs, ours)
    return STATE.sub("State: <state>", text)


def unpower(reader: str) -> None:
    """Power the card in ``reader`` down, as pcscd does once it has gone unused for its
    grace period: pyscard's output was recorded so (with SCARD_ATTR_ATR_STRING empty)."""
    pcsc = get_pcsc()
    context = pcsc.establish_context()
    try:
        handle, _ = pcsc.connect(
            context, reader, C.SCARD_SHARE_SHARED, C.SCARD_PROTOCOL_T0 | C.SCARD_PROTOCOL_T1
        )
        pcsc.disconnect(handle, C.SCARD_UNPOWER_CARD)
    finally:
        pcsc.release_context(context)


@pytest.mark.parametrize(
    "example",
    [pytest.param(e, marks=pytest.mark.slow) if e in SLOW else e for e in EXAMPLES],
)
def test_pyscard_example_prints_what_it_printed_under_pyscard(
    example: str, examples: Path, virtual_card: VirtualCard, pcsc_simulator: Simulator
) -> None:
    unpower(pcsc_simulator.reader_names[0])
    program = examples / example
    run = subprocess.run(
        [sys.executable, "-m", "aioscard.compat", str(program)],
        capture_output=True,
        text=True,
        timeout=90,
        stdin=subprocess.DEVNULL,
        cwd=program.parent,
        env=dict(os.environ),  # PCSCLITE_CSOCK_NAME points at the session's pcscd
    )
    assert run.returncode == 0, run.stderr
    out = run.stdout
    for index, name in enumerate(pcsc_simulator.reader_names):
        out = out.replace(name, f"<reader {index}>")
    assert STATE.sub("State: <state>", out) == expected_output(example)


def test_every_recorded_example_is_one_of_pyscards(examples: Path) -> None:
    assert len(EXAMPLES) == 26
    assert [e for e in EXAMPLES if not (examples / e).is_file()] == []
