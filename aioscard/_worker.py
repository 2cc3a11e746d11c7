"""Worker threads: the one place where aioscard crosses between event loops and PC/SC.

pcsc-lite wants each thread to use its own SCARDCONTEXT, with SCardCancel the
only call made across threads.  So every context is established, used and
released on one :class:`Worker` thread, which runs the jobs handed to it one at
a time, in the order they arrived.  Idle workers wait in a small pool and are
reused; one that stays idle for ``idle_timeout`` seconds ends.

The hand-off is kept lean because it sits on every APDU: a job is a tuple put
on a ``SimpleQueue``; the result goes back to asyncio with one
``call_soon_threadsafe`` and to trio with one ``run_sync_soon``, and the
awaiting task is resumed directly (no intermediate event objects).  A blocking
:meth:`Worker.call` serves synchronous callers (the compatibility shim) on the
same threads.

The other direction -- a thread that is not a worker (the reader watcher)
waking tasks on an event loop -- is :class:`Wakeup`, also here: this module is
the only one that knows how to post to an asyncio or trio loop from a thread.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Generator
from queue import Empty, SimpleQueue
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import anyio

if TYPE_CHECKING:
    import asyncio
    import contextvars

# asyncio is imported when first needed, by a caller on an asyncio loop (which has
# imported it already): it is most of the import time of a program that never uses
# it, such as one on the synchronous shim or on trio.

__all__ = ["Wakeup", "Worker", "WorkerPool", "pool"]

T = TypeVar("T")


class _Ticket(Generic[T]):
    """How a finished job finds its way back to whoever waits for it."""

    __slots__ = ("cancelled",)

    def __init__(self) -> None:
        self.cancelled = False

    def deliver(self, ok: bool, value: Any) -> None:
        raise NotImplementedError


_Job = tuple[Callable[..., Any], tuple[Any, ...], _Ticket[Any]]


_PENDING, _RESULT, _ERROR, _CANCELLED = range(4)


class _Waiter(Generic[T]):
    """The one-shot future an asyncio task awaits while its job runs on a worker.

    It speaks the protocol asyncio.Task uses for any awaited future
    (``_asyncio_future_blocking``, ``get_loop``, ``add_done_callback``,
    ``result``, ``cancel``).  It exists for one difference from asyncio.Future:
    when the worker's result reaches the loop, the waiting task is woken in that
    same loop iteration, where an ``asyncio.Future`` would schedule the wake-up for
    the next one.  That saves an iteration (an epoll_wait and a handle) per PC/SC
    call, which is measurable on every APDU.  A cancellation still goes through
    ``call_soon``, because ``Task.cancel()`` may run inside another task.
    """

    __slots__ = ("_asyncio_future_blocking", "_callbacks", "_loop", "_state", "_value")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._state = _PENDING
        self._value: Any = None
        self._callbacks: list[tuple[Callable[[Any], object], contextvars.Context | None]] = []
        self._asyncio_future_blocking = False

    def get_loop(self) -> asyncio.AbstractEventLoop:
        return self._loop

    def done(self) -> bool:
        return self._state != _PENDING

    def cancelled(self) -> bool:
        return self._state == _CANCELLED

    def result(self) -> T:
        if self._state == _RESULT:
            return self._value  # type: ignore[no-any-return]
        raise self._error()

    def exception(self) -> BaseException | None:
        if self._state in (_RESULT, _ERROR):
            return None if self._state == _RESULT else self._value
        raise self._error()

    def _error(self) -> BaseException:
        import asyncio

        if self._state == _PENDING:
            return asyncio.InvalidStateError("the job has not finished")
        if self._state == _CANCELLED:
            return asyncio.CancelledError(*self._value)
        error: BaseException = self._value
        return error

    def add_done_callback(
        self, fn: Callable[[Any], object], *, context: contextvars.Context | None = None
    ) -> None:
        if self._state == _PENDING:
            self._callbacks.append((fn, context))
        else:
            self._loop.call_soon(fn, self, context=context)

    def remove_done_callback(self, fn: Callable[[Any], object]) -> int:
        kept = [entry for entry in self._callbacks if entry[0] != fn]
        removed = len(self._callbacks) - len(kept)
        self._callbacks = kept
        return removed

    def cancel(self, msg: Any | None = None) -> bool:
        if self._state != _PENDING:
            return False
        self._state = _CANCELLED
        self._value = () if msg is None else (msg,)
        callbacks, self._callbacks = self._callbacks, []
        for fn, context in callbacks:
            self._loop.call_soon(fn, self, context=context)
        return True

    def resolve(self, ok: bool, value: Any) -> None:
        """Record the job's outcome and wake the task now (on the loop thread)."""
        if self._state != _PENDING:
            return  # cancelled meanwhile: the result is discarded
        self._state = _RESULT if ok else _ERROR
        self._value = value
        callbacks, self._callbacks = self._callbacks, []
        for fn, context in callbacks:
            if context is None:
                fn(self)
            else:
                context.run(fn, self)

    def __await__(self) -> Generator[Any, None, T]:
        if self._state == _PENDING:
            self._asyncio_future_blocking = True
            yield self
        return self.result()

    __iter__ = __await__


class _AsyncioTicket(_Ticket[T]):
    __slots__ = ("loop", "waiter")

    def __init__(self, loop: asyncio.AbstractEventLoop, waiter: _Waiter[T]) -> None:
        super().__init__()
        self.loop = loop
        self.waiter = waiter

    def deliver(self, ok: bool, value: Any) -> None:
        try:
            self.loop.call_soon_threadsafe(self.waiter.resolve, ok, value)
        except RuntimeError:
            pass  # the loop is closed: nobody is left to tell


class _TrioTicket(_Ticket[T]):
    __slots__ = ("abandoned", "task", "token")

    def __init__(self, task: Any, token: Any) -> None:
        super().__init__()
        self.task = task
        self.token = token
        self.abandoned = False  # the waiting task was cancelled: never reschedule it

    def deliver(self, ok: bool, value: Any) -> None:
        try:
            self.token.run_sync_soon(self._resolve, ok, value)
        except Exception:
            pass

    def _resolve(self, ok: bool, value: Any) -> None:
        if self.abandoned:
            return
        import outcome
        import trio

        trio.lowlevel.reschedule(self.task, outcome.Value(value) if ok else outcome.Error(value))


class _BlockingTicket(_Ticket[T]):
    __slots__ = ("done", "ok", "value")

    def __init__(self) -> None:
        super().__init__()
        # A bare lock, held until delivery, is the cheapest one-shot signal between threads.
        self.done = threading.Lock()
        self.done.acquire()
        self.ok = False
        self.value: Any = None

    def deliver(self, ok: bool, value: Any) -> None:
        self.ok = ok
        self.value = value
        self.done.release()


def _in_trio() -> bool:
    trio = sys.modules.get("trio")
    return trio is not None and bool(trio.lowlevel.in_trio_run())


class Worker:
    """A thread that runs jobs FIFO; PC/SC contexts made on it stay on it."""

    def __init__(self, pool: WorkerPool, index: int) -> None:
        self._pool = pool
        self._queue: SimpleQueue[_Job | None] = SimpleQueue()
        self.thread = threading.Thread(
            target=self._main, name=f"aioscard-worker-{index}", daemon=True
        )
        self.thread.start()
        self._ident = self.thread.ident

    def __repr__(self) -> str:
        return f"<Worker {self.thread.name}>"

    @property
    def is_current(self) -> bool:
        """True when called from this worker's own thread."""
        return threading.current_thread() is self.thread

    def _main(self) -> None:
        queue = self._queue
        while True:
            try:
                item = queue.get(timeout=self._pool.idle_timeout)
            except Empty:
                if self._pool._retire(self):
                    return
                continue
            if item is None:
                return
            fn, args, ticket = item
            if ticket.cancelled:
                continue  # cancelled before it started: never reaches the card
            try:
                result = fn(*args)
            except BaseException as error:
                ticket.deliver(False, error)
            else:
                ticket.deliver(True, result)
            del item, fn, args, ticket

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn(*args)`` on this worker and return its result (or raise its exception).

        Cancellation: the caller resumes at once with the cancellation.  A job
        that has not started yet is dropped; one already running finishes on
        the worker and its result is discarded.  Jobs from several tasks run in
        the order they were submitted, never interleaved.
        """
        return await self._run(fn, args, True)

    async def run_to_completion(self, fn: Callable[..., T], *args: Any) -> T:
        """Like :meth:`run`, but a cancelled caller never stops the job from running:
        for clean-up (disconnect, release) that must happen whatever the caller does.

        Cancellation: the caller resumes at once; the job still runs, in order.
        """
        return await self._run(fn, args, False)

    async def _run(self, fn: Callable[..., T], args: tuple[Any, ...], droppable: bool) -> T:
        if threading.get_ident() == self._ident:
            # An event loop run on this worker (inside a run_sync() function) would wait
            # for a job queued behind the one running it: refuse instead of hanging.
            raise RuntimeError(
                "a coroutine of this connection was awaited on its own worker thread "
                "(inside run_sync()?): use the blocking connection run_sync() passes"
            )
        if _in_trio():
            return await self._run_trio(fn, args, droppable)
        import asyncio

        loop = asyncio.get_running_loop()
        waiter: _Waiter[T] = _Waiter(loop)
        ticket: _AsyncioTicket[T] = _AsyncioTicket(loop, waiter)
        self._queue.put((fn, args, ticket))
        try:
            return await waiter
        except BaseException:
            ticket.cancelled = droppable
            raise

    async def _run_trio(self, fn: Callable[..., T], args: tuple[Any, ...], droppable: bool) -> T:
        import trio

        ticket: _TrioTicket[T] = _TrioTicket(
            trio.lowlevel.current_task(), trio.lowlevel.current_trio_token()
        )
        self._queue.put((fn, args, ticket))

        def abort(_raise_cancel: Any) -> Any:
            ticket.abandoned = True
            ticket.cancelled = droppable
            return trio.lowlevel.Abort.SUCCEEDED

        result: T = await trio.lowlevel.wait_task_rescheduled(abort)
        return result

    def call(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn(*args)`` on this worker, blocking the calling thread until it is done.

        For synchronous callers; must not be called from an event-loop thread
        or from this worker itself (that would deadlock: it raises RuntimeError).
        """
        if threading.get_ident() == self._ident:
            raise RuntimeError("Worker.call() from the worker's own thread would deadlock")
        ticket: _BlockingTicket[T] = _BlockingTicket()
        self._queue.put((fn, args, ticket))
        ticket.done.acquire()
        if ticket.ok:
            return ticket.value  # type: ignore[no-any-return]
        raise ticket.value

    def submit(self, fn: Callable[..., Any], *args: Any) -> None:
        """Run ``fn(*args)`` on this worker without waiting; errors are dropped."""
        self._queue.put((fn, args, _DISCARD))

    def stop(self) -> None:
        """Ask the thread to end after the jobs already queued."""
        self._queue.put(None)


class _DiscardTicket(_Ticket[Any]):
    __slots__ = ()

    def deliver(self, ok: bool, value: Any) -> None:
        pass


_DISCARD = _DiscardTicket()


class WorkerPool:
    """Hands out workers, one per PC/SC context, and keeps a few idle ones for reuse.

    ``max_idle`` idle workers are kept; an idle worker ends after
    ``idle_timeout`` seconds.  :meth:`trim` ends all idle workers at once.
    """

    def __init__(self, max_idle: int = 4, idle_timeout: float = 10.0) -> None:
        self.max_idle = max_idle
        self.idle_timeout = idle_timeout
        self._lock = threading.Lock()
        self._idle: list[Worker] = []
        self._count = 0
        self._live: set[Worker] = set()

    def acquire(self) -> Worker:
        """A worker for the caller's exclusive use until :meth:`release`."""
        with self._lock:
            if self._idle:
                return self._idle.pop()
            self._count += 1
            worker = Worker(self, self._count)
            self._live.add(worker)
            return worker

    def release(self, worker: Worker) -> None:
        """Give ``worker`` back; it is kept idle or asked to end."""
        with self._lock:
            if len(self._idle) < self.max_idle:
                self._idle.append(worker)
                return
            self._live.discard(worker)
        worker.stop()

    def _retire(self, worker: Worker) -> bool:
        # Called by an idle worker whose wait timed out: end it unless it was handed out.
        with self._lock:
            if worker in self._idle:
                self._idle.remove(worker)
                self._live.discard(worker)
                return True
            return False

    def trim(self, join: bool = True) -> None:
        """End every idle worker now (and wait for their threads when ``join``)."""
        with self._lock:
            idle, self._idle = self._idle, []
            for worker in idle:
                self._live.discard(worker)
        for worker in idle:
            worker.stop()
        if join:
            for worker in idle:
                worker.thread.join()

    @property
    def live_workers(self) -> int:
        """How many worker threads exist (busy or idle)."""
        with self._lock:
            return len(self._live)

    @property
    def idle_workers(self) -> int:
        """How many worker threads wait idle in the pool."""
        with self._lock:
            return len(self._idle)


#: The process-wide pool.
pool = WorkerPool()


# -- waking a loop from any thread ----------------------------------------------------


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
