"""Waking a task on its event loop from the watcher thread (asyncio or trio)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import anyio

from .._worker import _in_trio

__all__ = ["Wakeup"]


class Wakeup:
    """An event that one thread sets for tasks waiting on one event loop.

    Create it on the loop (it remembers which one).  :meth:`set_threadsafe` may
    be called from any thread: it schedules the wake-up on the loop and returns
    False, doing nothing, when that loop has closed or its run has finished --
    the caller then knows nobody is left to wake.  :meth:`wait` and
    :meth:`reset` run on the loop.
    """

    __slots__ = ("_closed_errors", "_event", "_post")

    def __init__(self) -> None:
        closed_errors: tuple[type[BaseException], ...]
        post: Callable[..., Any]
        if _in_trio():
            import trio

            post = trio.lowlevel.current_trio_token().run_sync_soon
            closed_errors = (trio.RunFinishedError, RuntimeError)
        else:
            import asyncio  # imported already by the running loop; not at aioscard's import

            post = asyncio.get_running_loop().call_soon_threadsafe
            closed_errors = (RuntimeError,)  # "Event loop is closed"
        self._post = post
        self._closed_errors = closed_errors
        self._event = anyio.Event()

    def set_threadsafe(self) -> bool:
        """Wake the waiting tasks soon; False if the loop is gone."""
        try:
            self._post(self.set)
        except self._closed_errors:
            return False
        return True

    def alive(self) -> bool:
        """Whether the loop still accepts callbacks (schedules a no-op to find out)."""
        try:
            self._post(_noop)
        except self._closed_errors:
            return False
        return True

    def set(self) -> None:
        """Wake the waiting tasks (on the loop's own thread only)."""
        self._event.set()

    async def wait(self) -> None:
        """Wait until set, then re-arm for the next wait.

        Cancellation: returns the cancellation at once; nothing is lost (the
        caller re-checks its state on the next wait).
        """
        event = self._event
        await event.wait()
        if self._event is event:
            self._event = anyio.Event()


def _noop() -> None:
    pass
