"""The simulator's own reader driver: building it, and choosing between it and vpcd.

``driver/ifd_aioscard.c`` is a small pcsc-lite IFD handler (see its header
comment for the wire protocols).  It is compiled on first need into a cache
directory (``$AIOSCARD_CACHE_DIR``, else ``$XDG_CACHE_HOME/aioscard``, else
``~/.cache/aioscard``), named after a hash of its source, when a C compiler
(``$CC``, ``cc`` or ``gcc``) and pcsc-lite's ``ifdhandler.h`` (Debian
``libpcsclite-dev``) are there.  ``$AIOSCARD_SIM_DRIVER`` names a ready-built
library instead.  Without them the simulator falls back to vpcd and says so
once, as a warning of the ``aioscard.testing`` loggers.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import logging
import os
import platform
import shutil
import subprocess
import tempfile
import threading
from importlib import resources
from typing import Literal

__all__ = ["BACKEND_ENV", "LIBRARY_ENV", "Backend", "build_driver", "choose_backend"]

logger = logging.getLogger(__name__)

#: Environment variable choosing the simulator's back-end: auto (default), driver or vpcd.
BACKEND_ENV = "AIOSCARD_SIM_BACKEND"
#: Environment variable naming a ready-built ``ifd_aioscard`` library.
LIBRARY_ENV = "AIOSCARD_SIM_DRIVER"
_SOURCE = "ifd_aioscard.c"
_HEADER_DIRS = ("/usr/include/PCSC", "/usr/local/include/PCSC")
_FLAGS = ("-shared", "-fPIC", "-O2", "-Wall", "-Wextra")

Backend = Literal["driver", "vpcd"]

_lock = threading.Lock()
_warned = False


class BuildError(RuntimeError):
    """The driver could not be built; the message says why."""


def _cache_dir() -> str:
    explicit = os.environ.get("AIOSCARD_CACHE_DIR")
    if explicit:
        return explicit
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "aioscard")


def _compiler() -> str | None:
    for candidate in (os.environ.get("CC"), "cc", "gcc"):
        if candidate:
            found = shutil.which(candidate)
            if found:
                return found
    return None


@functools.cache
def _build() -> str:
    explicit = os.environ.get(LIBRARY_ENV)
    if explicit:
        if not os.path.exists(explicit):
            raise BuildError(f"{LIBRARY_ENV}={explicit!r} does not exist")
        return explicit
    # One name per joinpath(): Traversable takes several only from Python 3.11.
    source = resources.files("aioscard.testing").joinpath("driver").joinpath(_SOURCE).read_bytes()
    digest = hashlib.sha256(source + platform.machine().encode()).hexdigest()[:16]
    directory = _cache_dir()
    library = os.path.join(directory, f"libifd_aioscard-{digest}.so")
    if os.path.exists(library):
        return library
    compiler = _compiler()
    if compiler is None:
        raise BuildError("no C compiler (cc or gcc; or set CC)")
    headers = next(
        (path for path in _HEADER_DIRS if os.path.exists(os.path.join(path, "ifdhandler.h"))),
        None,
    )
    if headers is None:
        raise BuildError("pcsc-lite's ifdhandler.h is missing (Debian: libpcsclite-dev)")
    try:
        os.makedirs(directory, exist_ok=True)
    except OSError as exc:
        raise BuildError(f"cannot create the cache directory {directory}: {exc}") from exc
    with tempfile.TemporaryDirectory(prefix="aioscard-build-") as work:
        source_path = os.path.join(work, _SOURCE)
        with open(source_path, "wb") as copy:
            copy.write(source)
        output = os.path.join(work, "driver.so")
        command = [compiler, *_FLAGS, f"-I{headers}", source_path, "-o", output, "-lpthread"]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise BuildError(f"{compiler} failed: {exc}") from exc
        if done.returncode != 0:
            detail = (done.stderr or done.stdout).strip().splitlines()[-3:]
            raise BuildError(f"{compiler} failed: {' / '.join(detail)}")
        # Another process may build the same file at the same time: rename is atomic.
        handle, staged = tempfile.mkstemp(dir=directory, prefix=".build-", suffix=".so")
        os.close(handle)
        try:
            shutil.copyfile(output, staged)
            os.chmod(staged, 0o755)
            os.replace(staged, library)
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.unlink(staged)
            raise BuildError(f"cannot write {library}: {exc}") from exc
    logger.debug("built the simulator's reader driver: %s", library)
    return library


def build_driver() -> str:
    """The path of the compiled driver, building it on first call of the process.

    Raises:
        BuildError: no compiler, no pcsc-lite headers, or the build failed.
    """
    with _lock:
        return _build()


def choose_backend(requested: str | None) -> Backend:
    """Resolve ``"auto"`` (the default, or ``$AIOSCARD_SIM_BACKEND``) to a back-end.

    ``"auto"`` is the driver when it builds, else vpcd, with one warning per
    process saying why.  ``"driver"`` and ``"vpcd"`` are taken as they are.

    Raises:
        ValueError: an unknown back-end name.
    """
    global _warned
    choice = requested or os.environ.get(BACKEND_ENV) or "auto"
    if choice not in ("auto", "driver", "vpcd"):
        raise ValueError(f"backend must be 'auto', 'driver' or 'vpcd', got {choice!r}")
    if choice != "auto":
        return "driver" if choice == "driver" else "vpcd"
    try:
        build_driver()
    except BuildError as exc:
        with _lock:
            first, _warned = not _warned, True
        if first:
            logger.warning(
                "the simulator's reader driver is unavailable (%s): using vpcd, which polls "
                "for cards every 400 ms and has no reader control codes or attributes",
                exc,
            )
        return "vpcd"
    return "driver"
