"""A PC/SC context bound to the worker thread that owns it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import anyio

from ._worker import Worker, pool
from .native import PCSCAPI, get_pcsc

__all__ = ["Context", "with_context"]

T = TypeVar("T")


class Context:
    """One SCARDCONTEXT, established, used and released on one worker thread.

    The context is established lazily by the first job that needs it and
    re-established after :meth:`reset` (for instance once pcscd has restarted,
    since a context from before a restart never works again).  All native state
    is read and written only on the worker thread.
    """

    def __init__(self) -> None:
        self.worker: Worker | None = None
        self.handle: int | None = None
        self.api: PCSCAPI = get_pcsc()

    # -- run on the worker thread ---------------------------------------------

    def ensure(self) -> int:
        """The context handle, establishing it first if needed (worker thread only)."""
        if self.handle is None:
            self.handle = self.api.establish_context()
        return self.handle

    def drop(self) -> None:
        """Release the context if there is one, ignoring errors (worker thread only)."""
        handle, self.handle = self.handle, None
        if handle is not None:
            try:
                self.api.release_context(handle)
            except Exception:
                pass

    # -- run from the caller ------------------------------------------------------

    def _worker(self) -> Worker:
        if self.worker is None:
            self.worker = pool.acquire()
        return self.worker

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn(*args)`` on the context's worker (see :meth:`Worker.run`)."""
        return await self._worker().run(fn, *args)

    async def run_to_completion(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn(*args)`` on the worker even if the caller is cancelled
        (see :meth:`Worker.run_to_completion`); shielded from anyio cancel scopes."""
        worker = self._worker()
        result: T
        with anyio.CancelScope(shield=True):
            result = await worker.run_to_completion(fn, *args)
        return result

    def submit(self, fn: Callable[..., Any], *args: Any) -> None:
        """Queue ``fn(*args)`` on the context's worker without waiting; errors are dropped."""
        self._worker().submit(fn, *args)

    def call(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn(*args)`` on the context's worker, blocking (see :meth:`Worker.call`)."""
        return self._worker().call(fn, *args)

    def _close_job(self, before: Callable[[], None] | None) -> None:
        try:
            if before is not None:
                before()
        finally:
            self.drop()

    async def aclose(self, before: Callable[[], None] | None = None) -> None:
        """Run ``before`` (e.g. a disconnect) then release the context and give the
        worker back.  Shielded from cancellation: it always completes."""
        worker, self.worker = self.worker, None
        if worker is None:
            return
        try:
            with anyio.CancelScope(shield=True):
                await worker.run_to_completion(self._close_job, before)
        finally:
            pool.release(worker)

    def close(self, before: Callable[[], None] | None = None) -> None:
        """Blocking form of :meth:`aclose`."""
        worker, self.worker = self.worker, None
        if worker is None:
            return
        try:
            worker.call(self._close_job, before)
        finally:
            pool.release(worker)


async def with_context(fn: Callable[[PCSCAPI, int], T]) -> T:
    """Run ``fn(api, context)`` on a pooled worker with a fresh context, released afterwards.

    Cancellation: returns at once; the job completes (and releases its
    context) on the worker.
    """
    worker = pool.acquire()
    try:
        return await worker.run(_one_shot, fn)
    finally:
        pool.release(worker)


def with_context_sync(fn: Callable[[PCSCAPI, int], T]) -> T:
    """Blocking form of :func:`with_context`."""
    worker = pool.acquire()
    try:
        result: T = worker.call(_one_shot, fn)
        return result
    finally:
        pool.release(worker)


def _one_shot(fn: Callable[[PCSCAPI, int], T]) -> T:
    api = get_pcsc()
    context = api.establish_context()
    try:
        return fn(api, context)
    finally:
        try:
            api.release_context(context)
        except Exception:
            pass
