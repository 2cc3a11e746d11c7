"""Building what the benchmark needs: the C reference program and a pyscard venv."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

from _settings import BUILD, C_BINARY, C_SOURCE, PY, PYSCARD_VENV, Settings, log

# -- building what the benchmark needs ------------------------------------------------------------


def _pcsclite_flags() -> tuple[list[str], list[str]] | None:
    """Compiler and linker flags for libpcsclite, or None if its headers are missing."""
    pkg = shutil.which("pkg-config")
    if pkg is not None:
        cflags = subprocess.run([pkg, "--cflags", "libpcsclite"], capture_output=True, text=True)
        libs = subprocess.run([pkg, "--libs", "libpcsclite"], capture_output=True, text=True)
        if cflags.returncode == 0 and libs.returncode == 0:
            return cflags.stdout.split(), libs.stdout.split()
    if Path("/usr/include/PCSC/winscard.h").exists():
        return ["-I/usr/include/PCSC", "-pthread"], ["-lpcsclite"]
    return None


def ensure_pcsclite_dev() -> None:
    """apt-get install libpcsclite-dev if its headers are missing (root, Debian only)."""
    if _pcsclite_flags() is not None or shutil.which("apt-get") is None:
        return
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    log("installing libpcsclite-dev (apt-get) for the C reference")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run([*sudo, "apt-get", "update", "-qq"], env=env, check=False)
    subprocess.run(
        [*sudo, "apt-get", "install", "-y", "-qq", "--no-install-recommends", "libpcsclite-dev"],
        env=env,
        check=False,
    )


def build_c(settings: Settings) -> str | None:
    """Compile the C reference; returns why it was skipped, or None when built."""
    if not settings.c:
        return "skipped (--no-c)"
    gcc = shutil.which("gcc") or shutil.which("cc")
    if not settings.smoke:
        ensure_pcsclite_dev()
    flags = _pcsclite_flags()
    if gcc is None or flags is None:
        return "skipped (no gcc or libpcsclite-dev)"
    BUILD.mkdir(parents=True, exist_ok=True)
    cflags, libs = flags
    # Built under a name of its own, then renamed into place: benchmark runs of several
    # Pythons at once (the test command's lanes) share this directory, and one of them
    # must never run the binary while another is still writing it.
    partial = C_BINARY.with_name(f"{C_BINARY.name}.{os.getpid()}")
    command = [gcc, "-O2", "-Wall", *cflags, str(C_SOURCE), "-o", str(partial), *libs]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        partial.unlink(missing_ok=True)
        return f"skipped (compile failed: {done.stderr.strip()[:200]})"
    os.replace(partial, C_BINARY)
    return None


def build_pyscard(settings: Settings) -> tuple[str | None, float | None]:
    """Make benchmarks/.build/pyscard-venv with pyscard from PyPI (built from its sdist).

    Returns (why it is unavailable or None, seconds the install took or None if cached).
    """
    if not settings.pyscard:
        return "skipped (--smoke or --no-pyscard)", None
    python = PYSCARD_VENV / "bin" / "python"
    if python.exists():
        check = subprocess.run([str(python), "-c", "import smartcard.scard"], capture_output=True)
        if check.returncode == 0:
            return None, None
    log("building pyscard from PyPI into benchmarks/.build/pyscard-venv (needs gcc)")
    subprocess.run([PY, "-m", "venv", "--clear", str(PYSCARD_VENV)], check=True)
    started = time.perf_counter()
    done = subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", "pyscard"],
        capture_output=True,
        text=True,
    )
    took = time.perf_counter() - started
    if done.returncode != 0:
        return f"skipped (pyscard did not build: {done.stderr.strip()[-300:]})", None
    return None, took
