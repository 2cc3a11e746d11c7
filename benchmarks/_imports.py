"""Table 6: import times and install times."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from _settings import BUILD, PY, REPO, log

# -- table 6: import and install ------------------------------------------------------------------


def import_time(python: str, module: str, repeats: int, before: str = "") -> list[float]:
    """Milliseconds ``import module`` takes in a fresh interpreter (after ``before``)."""
    prelude = f"import {before}; " if before else ""
    code = (
        prelude
        + "import time; t = time.perf_counter(); import "
        + module
        + "; print(time.perf_counter() - t)"
    )
    values = []
    env = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
    for _ in range(repeats + 1):
        done = subprocess.run([python, "-c", code], capture_output=True, text=True, env=env)
        if done.returncode != 0:
            raise RuntimeError(done.stderr[-500:])
        values.append(float(done.stdout.strip()) * 1e3)
    return values[1:]  # the first run may write bytecode caches


def _no_compiler_env(tmp: Path) -> dict[str, str]:
    """An environment with no C compiler on PATH (and CC pointing nowhere)."""
    bare = tmp / "bin-no-compiler"
    bare.mkdir(exist_ok=True)
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("PIP_") and key not in ("CC", "CXX", "PYTHONPATH")
    }
    env.update(PATH=str(bare), CC="/nonexistent/cc", CXX="/nonexistent/c++")
    return env


def install_times(pyscard_ok: bool) -> list[list[str]]:
    """Wheel install times into fresh venvs, offline from a local wheelhouse, pip without cache."""
    rows: list[list[str]] = []
    wheelhouse = BUILD / "wheelhouse"
    shutil.rmtree(wheelhouse, ignore_errors=True)
    wheelhouse.mkdir(parents=True)
    pip = [PY, "-m", "pip", "--disable-pip-version-check", "-q"]
    log("install timings: building aioscard's wheel and filling a local wheelhouse")
    subprocess.run(
        [*pip, "wheel", "--no-deps", "--no-build-isolation", "-w", str(wheelhouse), str(REPO)],
        check=True,
        capture_output=True,
    )
    wheel = next(wheelhouse.glob("aioscard-*.whl"))
    subprocess.run(
        [*pip, "download", "--only-binary", ":all:", "-d", str(wheelhouse), str(wheel)],
        check=True,
        capture_output=True,
    )
    if pyscard_ok:
        subprocess.run(
            [
                *pip,
                "download",
                "--no-deps",
                "--no-build-isolation",
                "--no-binary",
                "pyscard",
                "-d",
                str(wheelhouse),
                "pyscard",
            ],
            check=True,
            capture_output=True,
        )
        subprocess.run(
            [
                *pip,
                "download",
                "--only-binary",
                ":all:",
                "-d",
                str(wheelhouse),
                "setuptools",
                "swig",
            ],
            check=True,
            capture_output=True,
        )
    with tempfile.TemporaryDirectory(prefix="aioscard-bench-") as tmp_name:
        tmp = Path(tmp_name)
        cases = [("aioscard (wheel + cffi, anyio wheels)", "aioscard", True)]
        if pyscard_ok:
            cases += [
                ("pyscard (sdist: swig + gcc)", "pyscard", True),
                ("pyscard (sdist: swig + gcc)", "pyscard", False),
            ]
        for label, package, bare in cases:
            target = tmp / f"venv-{package}-{int(bare)}"
            subprocess.run([PY, "-m", "venv", "--without-pip", str(target)], check=True)
            env = (
                _no_compiler_env(tmp)
                if bare
                else {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
            )
            command = [
                PY,
                "-m",
                "pip",
                "--disable-pip-version-check",
                "--python",
                str(target / "bin" / "python"),
                "install",
                "-q",
                "--no-index",
                "--no-cache-dir",
                "--find-links",
                str(wheelhouse),
                package,
            ]
            started = time.perf_counter()
            done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=600)
            took = time.perf_counter() - started
            where = "no compiler on PATH" if bare else "gcc + libpcsclite-dev present"
            if done.returncode == 0:
                rows.append([label, where, f"{took:.1f} s", "installed"])
            else:
                reason = _failure_reason(done.stderr)
                rows.append([label, where, f"{took:.1f} s", f"FAILS: {reason}"])
    return rows


def _failure_reason(stderr: str) -> str:
    for needle in ("command 'gcc' failed", "No such file or directory", "error:"):
        for line in stderr.splitlines():
            if needle in line:
                return line.strip()[:90].replace("|", "/")
    return stderr.strip().splitlines()[-1][:90] if stderr.strip() else "unknown"
