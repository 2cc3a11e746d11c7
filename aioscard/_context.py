"""A PC/SC context and the thread that runs its calls."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any, TypeVar

import anyio

from ._worker import Worker, pool
from .native import PCSCAPI, get_pcsc

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["Context", "with_context"]

T = TypeVar("T")


class Context:
    """One SCARDCONTEXT, and the thread discipline for using it.

    By default the context is established, used and released on one worker
    thread, so no PC/SC call ever runs on an event-loop thread.  An *inline*
    context (``inline=True``, what the synchronous shim uses) instead runs
    blocking calls (:meth:`call`, :meth:`close`) on the calling thread, as a C
    program or pyscard would, saving the thread hand-off on every APDU; its
    coroutine methods still go through a worker.  Either way every job holds the
    context's lock, so calls on one context never overlap.

    The context is established lazily by the first job that needs it and
    established anew after :meth:`drop` (for instance once pcscd has restarted,
    since a context from before a restart never works again).
    """

    def __init__(self, *, inline: bool = False) -> None:
        self.worker: Worker | None = None
        self.handle: int | None = None
        self.api: PCSCAPI = get_pcsc()
        self.inline = inline
        self._lock = threading.Lock()

    # -- run by jobs, holding the lock --------------------------------------------

    def ensure(self) -> int:
        """The context handle, establishing it first if needed (inside a job only)."""
        if self.handle is None:
            self.handle = self.api.establish_context()
        return self.handle

    def drop(self) -> None:
        """Release the context if there is one, ignoring errors (inside a job only)."""
        handle, self.handle = self.handle, None
        if handle is not None:
            try:
                self.api.release_context(handle)
            except Exception:
                pass  # a dead daemon has nothing left to release

    def _locked(self, fn: Callable[..., T], *args: Any) -> T:
        with self._lock:
            return fn(*args)

    # -- run from the caller ------------------------------------------------------

    def _worker(self) -> Worker:
        if self.worker is None:
            self.worker = pool.acquire()
        return self.worker

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn(*args)`` on the context's worker (see :meth:`Worker.run`)."""
        return await self._worker().run(self._locked, fn, *args)

    async def run_to_completion(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn(*args)`` on the worker even if the caller is cancelled
        (see :meth:`Worker.run_to_completion`); shielded from anyio cancel scopes."""
        worker = self._worker()
        result: T
        with anyio.CancelScope(shield=True):
            result = await worker.run_to_completion(self._locked, fn, *args)
        return result

    def submit(self, fn: Callable[..., Any], *args: Any) -> None:
        """Queue ``fn(*args)`` on the context's worker without waiting; errors are dropped."""
        self._worker().submit(self._locked, fn, *args)

    def call(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn(*args)`` and block until it is done: on the calling thread for an
        inline context, else on the worker (see :meth:`Worker.call`)."""
        if self.inline:
            return self._locked(fn, *args)
        result: T = self._worker().call(self._locked, fn, *args)
        return result

    def _close_job(self, before: Callable[[], None] | None) -> None:
        try:
            if before is not None:
                before()
        finally:
            self.drop()

    async def aclose(self, before: Callable[[], None] | None = None) -> None:
        """Run ``before`` (e.g. a disconnect) then release the context and give the
        worker back.  Shielded from cancellation: it always completes."""
        if self.handle is None and self.worker is None:
            return
        worker = self._worker()
        self.worker = None
        try:
            with anyio.CancelScope(shield=True):
                await worker.run_to_completion(self._locked, self._close_job, before)
        finally:
            pool.release(worker)

    def close(self, before: Callable[[], None] | None = None) -> None:
        """Blocking form of :meth:`aclose`."""
        worker, self.worker = self.worker, None
        try:
            if self.inline:
                self._locked(self._close_job, before)
            elif worker is not None:
                worker.call(self._locked, self._close_job, before)
        finally:
            if worker is not None:
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
