"""Keeping a private pcscd away from the system's: mount namespace, pid file, leftovers.

pcscd mkdirs ``/run/pcscd`` and writes and removes ``/run/pcscd/pcscd.pid``
whatever socket it serves.  Where a private mount namespace is possible
(``unshare -m`` as root, ``unshare -Urm`` otherwise) the simulator runs pcscd
under a tmpfs there, so the system's files are never touched, and the machine's
USB reader drivers are hidden as well.

Chroots, unprivileged containers and many CI runners allow no mount namespace.
There :class:`PidFileGuard` puts the system's pid file back as it was: pcscd
writes its own PID into it right after logging "daemon ready" and removes it
when it exits, so the guard restores the recorded content (or absence) once
pcscd has written, and again once pcscd has exited.

Also here: the child set-up between fork and exec (the listening socket on fd 3,
death signal) and the sweep of private directories left by simulators that died.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import logging
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass

from ._netstat import bound_unix_paths

__all__ = [
    "DIRECTORY_PREFIX",
    "OWNER_FILE",
    "PID_FILE",
    "SD_LISTEN_FDS_START",
    "SOCKET_NAME",
    "PidFileGuard",
    "child_setup",
    "namespace_prefix",
    "sweep_stale_directories",
]

logger = logging.getLogger(__name__)

#: pcscd's compiled-in pid file (Debian; pcsc-lite's default).
PID_FILE = "/run/pcscd/pcscd.pid"
#: The fd on which a socket-activated daemon finds its listening socket.
SD_LISTEN_FDS_START = 3
DIRECTORY_PREFIX = "aioscard-sim-"
OWNER_FILE = "owner"
SOCKET_NAME = "pcscd.comm"
_UNCLAIMED_GRACE = 60.0
_PR_SET_PDEATHSIG = 1
# pcscd writes its pid file right after "daemon ready": a few ms, far more on a loaded machine.
_PID_WRITE_WAIT = 5.0


# -- the mount namespace ---------------------------------------------------------------


@functools.cache
def namespace_prefix() -> tuple[str, ...] | None:
    """The command prefix giving a private mount namespace, or None if none works.

    Probed once per process by mounting a tmpfs in a throw-away namespace; the
    answer None is logged once, as a warning.  ``namespace_prefix.cache_clear()``
    probes again.
    """
    unshare = shutil.which("unshare")
    if unshare is not None:
        # Root needs no user namespace (and some containers forbid one).
        options = ["-m", "-Urm"] if os.geteuid() == 0 else ["-Urm"]
        for option in options:
            attempt = (unshare, option, "--propagation", "private", "--")
            try:
                probe = subprocess.run(
                    [*attempt, "sh", "-c", "mount -t tmpfs aioscard-probe /run"],
                    stdin=subprocess.DEVNULL,
                    capture_output=True,
                    timeout=10,
                    check=False,
                )
            except (OSError, subprocess.TimeoutExpired):
                continue
            if probe.returncode == 0:
                return attempt
    logger.warning(
        "no private mount namespace (unshare -m / -Urm failed, as in chroots and "
        "unprivileged containers): the simulated pcscd shares /run/pcscd; the system's "
        "%s is put back as it was after pcscd writes it and after it exits",
        PID_FILE,
    )
    return None


def mount_commands(directory: str, driver_dir: str | None) -> list[str]:
    """Shell commands, run inside the private namespace, that hide the system's
    ``/run/pcscd`` (and ``driver_dir``, the USB reader drivers) under tmpfs."""
    commands: list[str] = []
    run = "/run/pcscd" if os.path.isdir("/run/pcscd") else "/run"
    if run == "/run" and os.path.realpath(directory).startswith("/run/"):
        logger.warning("temporary directory under /run: pcscd shares /run/pcscd")
    else:
        commands.append(f"mount -t tmpfs -o mode=0755,size=1m aioscard-run {run}")
    if driver_dir is not None and os.path.isdir(driver_dir):
        commands.append(f"mount -t tmpfs -o mode=0755,size=64k aioscard-drivers {driver_dir}")
    return commands


# -- the pid file, without a namespace ----------------------------------------------------


@dataclass(frozen=True)
class _Snapshot:
    directory_existed: bool
    content: bytes | None  # None: no file
    mode: int


class PidFileGuard:
    """Puts ``path`` (pcscd's pid file) back as it was before a private pcscd ran.

    :meth:`after_start` waits (bounded) for pcscd to write its PID, then
    restores; :meth:`after_exit` restores again (pcscd removes the file when it
    exits).  Restoring writes the recorded bytes and mode through a temporary
    file and a rename, or removes the file if there was none, and removes
    ``/run/pcscd`` if pcscd created it.  A system pcscd's file therefore holds a
    foreign PID only for the moment between pcscd's write and the restore.
    """

    def __init__(self, path: str = PID_FILE) -> None:
        self.path = path
        self._snapshot = self._take()

    def _take(self) -> _Snapshot:
        directory = os.path.dirname(self.path)
        try:
            with open(self.path, "rb") as existing:
                content = existing.read()
            mode = os.stat(self.path).st_mode & 0o7777
        except FileNotFoundError:
            content, mode = None, 0o644
        except OSError as exc:
            # Unreadable for us: pcscd (same user) cannot write it either.
            logger.debug("cannot read %s (%s): not guarding it", self.path, exc)
            content, mode = b"", -1
        return _Snapshot(os.path.isdir(directory), content, mode)

    def _holds(self, pid: int) -> bool:
        try:
            with open(self.path, "rb") as current:
                return current.read().split(b"\n")[0].strip() == str(pid).encode()
        except OSError:
            return False

    def after_start(self, pid: int, alive: Callable[[], bool]) -> None:
        """Wait until pcscd ``pid`` has written the file (while ``alive()``), then restore."""
        if self._snapshot.mode < 0:
            return
        deadline = time.monotonic() + _PID_WRITE_WAIT
        # pcscd writes right after "daemon ready"; no event tells us when, so poll briefly.
        while not self._holds(pid) and alive() and time.monotonic() < deadline:
            time.sleep(0.002)
        self.restore(pid)

    def after_exit(self, pid: int) -> None:
        """Restore after pcscd ``pid`` has exited (it removed the file, or was killed)."""
        if self._snapshot.mode >= 0:
            self.restore(pid)

    def restore(self, pid: int) -> None:
        """Put the recorded state back.  Leaves a file alone that neither holds
        ``pid`` nor was recorded (another daemon's, written since)."""
        snapshot = self._snapshot
        directory = os.path.dirname(self.path)
        try:
            if snapshot.content is None:
                if self._holds(pid):
                    os.unlink(self.path)
                if not snapshot.directory_existed:
                    with contextlib.suppress(OSError):
                        os.rmdir(directory)  # only if empty
                return
            if os.path.exists(self.path) and not self._holds(pid):
                with open(self.path, "rb") as current:
                    if current.read() == snapshot.content:
                        return
            handle, temporary = tempfile.mkstemp(dir=directory, prefix=".aioscard-pid-")
            try:
                with os.fdopen(handle, "wb") as replacement:
                    replacement.write(snapshot.content)
                os.chmod(temporary, snapshot.mode)
                os.replace(temporary, self.path)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(temporary)
                raise
        except OSError as exc:
            logger.warning("could not restore %s: %s", self.path, exc)


# -- the child process ---------------------------------------------------------------------


@functools.cache
def _load_prctl() -> Callable[[int, int, int, int, int], int] | None:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        prctl: Callable[[int, int, int, int, int], int] = libc.prctl
    except (OSError, AttributeError):
        return None
    return prctl


def child_setup(listen_fd: int, parent_pid: int, die_with_parent: bool) -> Callable[[], None]:
    """The ``preexec_fn`` of pcscd: ``listen_fd`` onto fd 3 and, with
    ``die_with_parent``, SIGTERM when the thread that forked it exits."""
    # Resolved in the parent: loading a library in the forked child could deadlock.
    prctl = _load_prctl() if die_with_parent else None

    def setup() -> None:
        # Runs between fork and exec.  fd 3 may be an end of subprocess's own
        # stdout pipe, already duplicated onto fd 1 by now, never its error
        # pipe: that one is created after the stdout pipe took the lowest fds.
        os.dup2(listen_fd, SD_LISTEN_FDS_START)
        if prctl is not None:
            prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
            if os.getppid() != parent_pid:
                os._exit(1)  # the parent died before the death signal was armed

    return setup


# -- leftovers -------------------------------------------------------------------------------


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    return True


def sweep_stale_directories() -> None:
    """Delete private directories left by simulators whose process died without
    stop() (SIGKILL, a crash): no socket is open at their path and their owner
    and pcscd are gone."""
    root = tempfile.gettempdir()
    try:
        names = [name for name in os.listdir(root) if name.startswith(DIRECTORY_PREFIX)]
    except OSError:
        return
    in_use = bound_unix_paths()
    for name in names:
        path = os.path.join(root, name)
        try:
            info = os.lstat(path)
            with open(os.path.join(path, OWNER_FILE), encoding="ascii") as owner:
                pids = [int(word) for word in owner.read().split()]
        except FileNotFoundError:
            pids = []
        except (OSError, ValueError):
            continue
        if info.st_uid != os.geteuid() or os.path.join(path, SOCKET_NAME) in in_use:
            continue
        if not pids and time.time() - info.st_mtime < _UNCLAIMED_GRACE:
            continue  # being set up right now by another simulator
        if not any(_alive(pid) for pid in pids):
            logger.debug("removing %s, left by a simulator that died", path)
            shutil.rmtree(path, ignore_errors=True)
