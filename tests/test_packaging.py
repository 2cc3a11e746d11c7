"""Packaging: a pure-Python wheel, and a clear error when the PC/SC library is missing."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import aioscard
from aioscard.exceptions import PCSCLibraryNotFoundException
from aioscard.native import LIBRARY_ENV, PCSCLibrary
from aioscard.native._abi import LINUX, PlatformABI

ROOT = Path(__file__).resolve().parent.parent


def test_wheel_is_pure_python(tmp_path: Path) -> None:
    # Built from a copy: setuptools writes build/ and aioscard.egg-info/ into the tree it
    # builds, and the test command runs several Pythons' suites at once.
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    shutil.copytree(
        ROOT / "aioscard", source / "aioscard", ignore=shutil.ignore_patterns("__pycache__")
    )
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--quiet",
            "--wheel-dir",
            str(tmp_path),
            str(source),
        ],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("aioscard-*.whl")
    assert wheel.name.endswith("-py3-none-any.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "aioscard/py.typed" in names
    assert "aioscard/native/_pcsc.py" in names
    assert not [n for n in names if n.endswith((".so", ".pyd"))]
    # The one C file is data: the simulator compiles its reader driver at run time.
    assert [n for n in names if n.endswith(".c")] == ["aioscard/testing/driver/ifd_aioscard.c"]
    metadata = (
        zipfile.ZipFile(wheel)
        .read(next(n for n in names if n.endswith(".dist-info/METADATA")))
        .decode()
    )
    requirements = [line for line in metadata.splitlines() if line.startswith("Requires-Dist:")]
    runtime = [line for line in requirements if "extra ==" not in line]
    assert sorted(line.split()[1].split(">")[0] for line in runtime) == ["anyio", "cffi"]


def test_missing_library_says_what_to_install() -> None:
    absent = PlatformABI(
        name=LINUX.name,
        library_candidates=("libpcsclite-that-is-not-there.so.1",),
        typedefs=LINUX.typedefs,
        max_atr_size=LINUX.max_atr_size,
    )
    with pytest.raises(PCSCLibraryNotFoundException) as caught:
        PCSCLibrary(absent)
    message = str(caught.value)
    assert "libpcsclite-that-is-not-there.so.1" in message
    assert "apt-get install libpcsclite1" in message
    assert isinstance(caught.value, aioscard.SmartcardException)


def test_library_override_is_named_in_the_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(LIBRARY_ENV, "/nonexistent/libpcsc.so")
    with pytest.raises(PCSCLibraryNotFoundException, match=LIBRARY_ENV):
        PCSCLibrary()


def test_importing_the_library_and_the_shim_leaves_asyncio_unloaded() -> None:
    # asyncio is 40 ms of a 110 ms import: a shim or trio program never pays it.
    code = (
        "import sys, aioscard, aioscard.compat, aioscard.monitor, aioscard.util;"
        "print(sorted(m for m in ('asyncio', 'trio') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
