"""What the kernel says about TCP sockets, read from ``/proc/net/tcp*`` (Linux).

The simulator must not probe a vpcd port by connecting to it (a connection *is*
a card insertion), so readiness and removal are read from the socket tables.
On a system without ``/proc/net`` every table reads as empty.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import NamedTuple

__all__ = [
    "TcpEntry",
    "bound_unix_paths",
    "connection_closed_by_peer",
    "listening",
    "socket_inodes",
    "tcp_entries",
]

_LISTEN = 0x0A
_LAST_ACK = 0x09
_CLOSING = 0x0B
_TABLES = ("/proc/net/tcp", "/proc/net/tcp6")


class TcpEntry(NamedTuple):
    """One row of a ``/proc/net/tcp`` table."""

    local_port: int
    remote_port: int
    state: int
    inode: int


def tcp_entries() -> Iterator[TcpEntry]:
    """Every IPv4 and IPv6 TCP socket of this network namespace."""
    for table in _TABLES:
        try:
            with open(table, encoding="ascii") as lines:
                next(lines, None)  # column titles
                rows = [line.split() for line in lines]
        except OSError:
            continue
        for row in rows:
            # row: sl local_address rem_address st ... uid timeout inode
            yield TcpEntry(
                local_port=int(row[1].rpartition(":")[2], 16),
                remote_port=int(row[2].rpartition(":")[2], 16),
                state=int(row[3], 16),
                inode=int(row[9]),
            )


def listening() -> dict[int, int]:
    """Map of listening TCP port -> socket inode."""
    return {entry.local_port: entry.inode for entry in tcp_entries() if entry.state == _LISTEN}


def socket_inodes(pid: int) -> set[int]:
    """Inodes of the sockets process ``pid`` holds open (empty if it is gone)."""
    inodes: set[int] = set()
    fd_dir = f"/proc/{pid}/fd"
    try:
        names = os.listdir(fd_dir)
    except OSError:
        return inodes
    for name in names:
        try:
            target = os.readlink(f"{fd_dir}/{name}")
        except OSError:
            continue  # closed meanwhile
        if target.startswith("socket:["):
            inodes.add(int(target[8:-1]))
    return inodes


def connection_closed_by_peer(server_port: int, client_port: int) -> bool:
    """True once the server end of the connection ``client_port -> server_port``
    has been closed by its owner (it is gone or in LAST_ACK/CLOSING)."""
    for entry in tcp_entries():
        if (
            entry.local_port == server_port
            and entry.remote_port == client_port
            and entry.state not in (_LAST_ACK, _CLOSING)
        ):
            return False
    return True


def bound_unix_paths() -> set[str]:
    """Paths of the UNIX sockets open in this network namespace (``/proc/net/unix``)."""
    paths: set[str] = set()
    try:
        with open("/proc/net/unix", encoding="utf-8", errors="replace") as lines:
            next(lines, None)  # column titles
            for line in lines:
                # Num RefCount Protocol Flags Type St Inode [Path]
                fields = line.split(maxsplit=7)
                if len(fields) == 8:
                    paths.add(fields[7].rstrip("\n"))
    except OSError:
        pass
    return paths
