"""The worker hand-off under asyncio: results, errors, cancellation and asyncio's combinators.

No PC/SC here: the jobs are plain functions, so these pin down the hand-off
itself (aioscard's asyncio waiter in particular), which every APDU goes through.
"""

from __future__ import annotations

import asyncio
import contextvars
import sys
import threading
from typing import TYPE_CHECKING

import pytest

from aioscard._worker import Worker, pool

if TYPE_CHECKING:
    from collections.abc import Iterator

REQUEST_ID: contextvars.ContextVar[str] = contextvars.ContextVar("REQUEST_ID", default="-")


@pytest.fixture
def worker() -> Iterator[Worker]:
    taken = pool.acquire()
    try:
        yield taken
    finally:
        pool.release(taken)


class Gate:
    """A job that blocks the worker until the test opens the gate."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.opened = threading.Event()

    def __call__(self) -> str:
        self.entered.set()
        assert self.opened.wait(5)
        return "gate"


@pytest.mark.asyncio
async def test_results_and_errors_come_back(worker: Worker) -> None:
    assert await worker.run(sum, (1, 2, 3)) == 6
    with pytest.raises(ZeroDivisionError):
        await worker.run(divmod, 1, 0)
    error = ValueError("returned, not raised")
    assert await worker.run(lambda: error) is error


@pytest.mark.asyncio
async def test_a_cancelled_job_that_has_not_started_never_runs(worker: Worker) -> None:
    gate, ran = Gate(), threading.Event()
    seen: list[tuple[object, ...]] = []

    async def queue_job() -> None:
        try:
            await worker.run(ran.set)
        except asyncio.CancelledError as cancelled:
            seen.append(cancelled.args)  # what the awaiting coroutine gets from the hand-off
            raise

    blocker = asyncio.ensure_future(worker.run(gate))
    await asyncio.to_thread(gate.entered.wait, 5)
    queued = asyncio.ensure_future(queue_job())
    await asyncio.sleep(0)  # let it queue its job
    queued.cancel("no longer wanted")
    with pytest.raises(asyncio.CancelledError) as caught:
        await queued
    # Before 3.11 asyncio.Task drops a cancel message on its way out of the task, also
    # with asyncio's own futures (bpo-45390); the task's coroutine still sees it (below).
    if sys.version_info >= (3, 11):
        assert caught.value.args == ("no longer wanted",)
    assert seen == [("no longer wanted",)]
    gate.opened.set()
    assert await blocker == "gate"
    assert await worker.run(ran.is_set) is False  # jobs run in order: it was skipped


@pytest.mark.asyncio
async def test_a_cancelled_running_job_finishes_and_its_result_is_dropped(worker: Worker) -> None:
    gate = Gate()
    running = asyncio.ensure_future(worker.run(gate))
    await asyncio.to_thread(gate.entered.wait, 5)
    running.cancel()
    with pytest.raises(asyncio.CancelledError):
        await running  # at once, with the job still blocked on the worker
    assert running.cancelled()
    gate.opened.set()
    assert await worker.run(str.upper, "next") == "NEXT"


@pytest.mark.asyncio
async def test_asyncio_combinators_and_context_work_across_the_hand_off(worker: Worker) -> None:
    REQUEST_ID.set("r-17")
    assert await asyncio.gather(*(worker.run(pow, 2, n) for n in range(8))) == [
        2**n for n in range(8)
    ]
    assert await asyncio.wait_for(worker.run(len, "abc"), timeout=5) == 3
    assert await asyncio.shield(worker.run(abs, -4)) == 4
    gate = Gate()
    # asyncio.TimeoutError: before 3.11 it is not the built-in TimeoutError.
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(worker.run(gate), timeout=0.05)
    gate.opened.set()
    assert REQUEST_ID.get() == "r-17"  # the task's context survives every resume


def test_a_result_for_a_closed_loop_is_dropped_and_the_worker_goes_on(worker: Worker) -> None:
    gate = Gate()
    loop = asyncio.new_event_loop()
    pending = loop.create_task(worker.run(gate))
    loop.run_until_complete(asyncio.to_thread(gate.entered.wait, 5))
    pending.cancel()
    loop.run_until_complete(asyncio.gather(pending, return_exceptions=True))
    loop.run_until_complete(loop.shutdown_default_executor())
    loop.close()
    gate.opened.set()  # delivers to the closed loop: nothing may raise on the worker
    assert asyncio.run(worker.run(str.lower, "ALIVE")) == "alive"
