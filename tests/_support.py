"""Helpers shared by the tests: resource counts and running blocking calls off the loop."""

from __future__ import annotations

import functools
import os
import socket
import threading
from collections.abc import Callable
from typing import Any, TypeVar

import anyio

from aioscard.testing import Simulator

T = TypeVar("T")


def pcscd_connections(simulator: Simulator) -> int:
    """How many sockets of this process are connected to the simulator's pcscd:
    one per open PC/SC context (libpcsclite opens a connection per context)."""
    count = 0
    for entry in os.listdir("/proc/self/fd"):
        try:
            if not os.readlink(f"/proc/self/fd/{entry}").startswith("socket:"):
                continue
            sock = socket.socket(fileno=os.dup(int(entry)))
        except OSError:
            continue
        with sock:
            try:
                if sock.family == socket.AF_UNIX and sock.getpeername() == simulator.socket_path:
                    count += 1
            except OSError:
                pass
    return count


def thread_ids() -> set[int | None]:
    """The idents of this process's live threads."""
    return {thread.ident for thread in threading.enumerate()}


async def off_loop(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a blocking simulator call on a worker thread."""
    return await anyio.to_thread.run_sync(functools.partial(fn, *args, **kwargs))
