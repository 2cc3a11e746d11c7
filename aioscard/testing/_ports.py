"""Choosing and holding TCP ports for vpcd reader slots.

vpcd binds ``0.0.0.0:port`` with a backlog of 0 and must find the port free.
Simulators in several processes (pytest-xdist workers, parallel CI jobs) would
all pick the same first free ports, so each one holds an advisory ``flock`` on a
per-port lock file for as long as it owns the ports.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import socket
import tempfile

__all__ = ["FIRST_PORT", "PortReservation", "reserve_ports"]

#: Where the search for free vpcd ports starts (Debian's vpcd uses 35963/35964).
FIRST_PORT = 40000
_LAST_PORT = 65535


def _lock_dir() -> str:
    path = os.path.join(tempfile.gettempdir(), "aioscard-vpcd-ports")
    try:
        os.mkdir(path, 0o1777)
        # mkdir's mode goes through the umask; other users must be able to lock too.
        os.chmod(path, 0o1777)
    except FileExistsError:
        pass
    return path


def _bindable(port: int) -> bool:
    # No SO_REUSEADDR: a port in TIME_WAIT is avoided too, as vpcd might fail on it.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind(("0.0.0.0", port))
        except OSError:
            return False
    return True


class PortReservation:
    """Consecutive ports held by this process until :meth:`release`."""

    def __init__(self, ports: list[int], lock_fds: list[int]) -> None:
        self.ports = ports
        self._lock_fds = lock_fds

    def release(self) -> None:
        """Let other simulators use the ports again.  Idempotent."""
        fds, self._lock_fds = self._lock_fds, []
        for fd in fds:
            os.close(fd)  # closing the descriptor drops its flock


def _lock(directory: str, port: int) -> int | None:
    path = os.path.join(directory, f"{port}.lock")
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CREAT | os.O_CLOEXEC, 0o644)
    except OSError:
        return None  # e.g. another user's file we cannot open: treat as taken
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        os.close(fd)
        if exc.errno in (errno.EAGAIN, errno.EACCES):
            return None
        raise
    return fd


def reserve_ports(count: int, base_port: int | None = None) -> PortReservation:
    """Reserve ``count`` consecutive free TCP ports, starting at an even port.

    With ``base_port`` only ``base_port .. base_port + count - 1`` are tried;
    otherwise the search starts at :data:`FIRST_PORT`.

    Raises:
        OSError: no such run of free ports (``EADDRINUSE``).
    """
    directory = _lock_dir()
    if base_port is not None:
        candidates = range(base_port, base_port + 1)
    else:
        candidates = range(FIRST_PORT, _LAST_PORT - count + 2, 2)
    for first in candidates:
        ports = list(range(first, first + count))
        if ports[-1] > _LAST_PORT:
            break
        fds: list[int] = []
        for port in ports:
            fd = _lock(directory, port)
            if fd is None or not _bindable(port):
                if fd is not None:
                    os.close(fd)
                break
            fds.append(fd)
        else:
            return PortReservation(ports, fds)
        for fd in fds:
            with contextlib.suppress(OSError):
                os.close(fd)
    where = f"at {base_port}" if base_port is not None else f"from {FIRST_PORT} up"
    raise OSError(errno.EADDRINUSE, f"no {count} consecutive free TCP ports {where}")
