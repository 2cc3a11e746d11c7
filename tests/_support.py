"""Helpers shared by the tests: resource counts and running blocking calls off the loop."""

from __future__ import annotations

import functools
import os
import socket
import threading
from typing import TYPE_CHECKING, Any, TypeVar

import anyio
import pytest

from aioscard.monitor import Watcher, get_watcher

if TYPE_CHECKING:
    from collections.abc import Callable

    from aioscard import CardConnection
    from aioscard.part10 import PinVerifyStructure
    from aioscard.testing import Simulator

T = TypeVar("T")

# Runs an async test under asyncio only, where running it under trio as well
# would add minutes and test nothing the trio variants of its neighbours miss.
asyncio_only = pytest.mark.parametrize("anyio_backend", ["asyncio"])


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


def new_threads(before: set[int | None]) -> list[str]:
    """The names of the live threads whose idents are not in ``before`` (a failed
    ``assert not new_threads(...)`` then says which threads were left)."""
    return [thread.name for thread in threading.enumerate() if thread.ident not in before]


async def off_loop(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a blocking simulator call on a worker thread."""
    return await anyio.to_thread.run_sync(functools.partial(fn, *args, **kwargs))


def end_idle_watcher(watcher: Watcher | None = None) -> None:
    """Assert that nothing is left subscribed, then end the watcher's linger now
    (blocking: from async code, run it with :func:`off_loop`)."""
    watcher = watcher or get_watcher()
    assert watcher.subscriber_count == 0, "a test left a subscriber"
    assert watcher.stop_if_idle(), "the watcher did not stop"


def join_lingering_watcher(watcher: Watcher | None = None) -> None:
    """Wait for an idle watcher to end on its own, its linger over (blocking)."""
    watcher = watcher or get_watcher()
    for thread in watcher.threads:
        thread.join(watcher.linger + 3)
    assert not watcher.running, f"the watcher outlived its {watcher.linger} s linger"


async def cancel_during_pin_entry(
    connection: CardConnection, structure: PinVerifyStructure, entering: threading.Event
) -> None:
    """Await ``connection.verify_pin_pinpad(structure)`` in a task and cancel it once the
    reader sets ``entering`` (the "user" has begun typing); assert the cancel returned
    before the 10 s guard."""
    with anyio.move_on_after(10) as scope:
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(connection.verify_pin_pinpad, structure)
            await anyio.to_thread.run_sync(entering.wait, 10)
            tasks.cancel_scope.cancel()
    assert not scope.cancelled_caught
