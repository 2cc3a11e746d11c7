"""Issue 12 part 3's trial: a compiled loop <-> thread hand-off, measured, not shipped.

``handoff/handoff.c`` is built with cffi's API mode into ``.build/handoff`` when a C
compiler is there (no PC/SC header: SCardTransmit's address comes from the library
aioscard already loaded).  A *lane* is a native thread per connection that runs
SCardTransmit without the GIL; a *hub* per event loop collects finished jobs and wakes
the loop through one eventfd (asyncio and uvloop: ``add_reader``; trio:
``wait_readable``), taking every finished job at each wake-up.

The awaited transmit built on it does on the loop thread what an integrated native path
would: the APDU check, the job, the wake-up, the error check, the ``Response`` and the
error-checking chain (``CardConnection._finish_transmit``).  ``benchmarks/NOTES.md``
says what it measured and why it was not kept.
"""

from __future__ import annotations

import itertools
import sys
from typing import TYPE_CHECKING, Any

from _settings import BUILD, HERE

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    import aioscard

SOURCE = HERE / "handoff" / "handoff.c"
HEADER = HERE / "handoff" / "handoff.h"
OUTPUT = BUILD / "handoff"
MODULE = "_aioscard_handoff_trial"

#: The largest extended-length response: 65,536 data bytes and the status word.
RECV_SIZE = 65538


def build() -> str | None:
    """Compile the trial; returns why it is unavailable, or None when built."""
    try:
        import cffi
    except ImportError:
        return "skipped (no cffi)"
    ffi = cffi.FFI()
    ffi.cdef(HEADER.read_text())
    ffi.set_source(
        MODULE,
        SOURCE.read_text(),
        include_dirs=[str(HEADER.parent)],
        extra_compile_args=["-O2", "-Wall"],
        libraries=["pthread"],
    )
    OUTPUT.mkdir(parents=True, exist_ok=True)
    try:
        ffi.compile(tmpdir=str(OUTPUT))
    except Exception as error:  # cffi raises VerificationError or a distutils error
        return f"skipped (the trial hand-off did not compile: {str(error)[:200]})"
    return None


def _load() -> tuple[Any, Any]:
    if str(OUTPUT) not in sys.path:
        sys.path.insert(0, str(OUTPUT))
    module = __import__(MODULE)
    return module.ffi, module.lib


class Hub:
    """One per event loop: the eventfd it watches and the jobs in flight."""

    def __init__(self) -> None:
        self.ffi, self.lib = _load()
        self.hub = self.lib.hub_new()
        self.fd = self.lib.hub_fd(self.hub)
        self.pending: dict[int, Callable[[Any], None]] = {}
        self.tokens = itertools.count(1)

    def drain(self) -> None:
        job = self.lib.hub_take(self.hub)
        null = self.ffi.NULL
        pending = self.pending
        while job != null:
            following = job.next  # read first: the woken task may resubmit this job
            pending.pop(job.token)(job)
            job = following


class Lane:
    """A native thread for one connection, with one reusable job (one call at a time)."""

    def __init__(self, hub: Hub, transmit: int) -> None:
        ffi, lib = hub.ffi, hub.lib
        self.hub = hub
        self.lane = lib.lane_new(ffi.cast("void *", transmit))
        self.job = ffi.new("job *")
        self.send = ffi.new("unsigned char[]", 65544)
        self.recv = ffi.new("unsigned char[]", RECV_SIZE)
        job = self.job
        job.hub = hub.hub
        job.send = self.send
        job.recv = self.recv
        job.recv_capacity = RECV_SIZE
        job.pci.pci_length = ffi.sizeof("io_request")

    def close(self) -> None:
        self.hub.lib.lane_free(self.lane)


def _transmit_address(connection: aioscard.CardConnection | None) -> int:
    if connection is None:
        return 0
    api: Any = connection._context.api
    return int(api.ffi.cast("uintptr_t", api._transmit))


_HUBS: dict[int, Hub] = {}


async def _hub(loop: str) -> Hub:
    if loop == "trio":
        import trio

        found = _HUBS.get(0)
        if found is not None:
            return found
        created = _HUBS[0] = Hub()

        async def watch() -> None:
            while True:
                await trio.lowlevel.wait_readable(created.fd)
                created.drain()

        trio.lowlevel.spawn_system_task(watch)
        return created
    import asyncio

    running = asyncio.get_running_loop()
    hub = _HUBS.get(id(running))
    if hub is None:
        hub = _HUBS[id(running)] = Hub()
        running.add_reader(hub.fd, hub.drain)
    return hub


async def native_transmit(
    connection: aioscard.CardConnection | None, loop: str, hold_us: int = 0, hybrid: bool = False
) -> tuple[Callable[[bytes], Awaitable[Any]], Callable[[], None]]:
    """``(transmit, close)``: an awaitable ``transmit(apdu)`` on a lane of its own.

    With ``connection`` None the lane holds each job ``hold_us`` and calls nothing:
    the floor of this hand-off.  One call at a time per lane and no cancellation: a
    measurement, not a path a program could use.  ``hybrid``: the job runs on the connection's own
    aioscard worker instead of a lane (cffi drops the GIL around it), and only its
    completion goes through the hub."""
    from aioscard.apdu import coerce_apdu

    hub = await _hub(loop)
    ffi, lib = hub.ffi, hub.lib
    lane = Lane(hub, _transmit_address(connection))
    job = lane.job
    job.hold_us = hold_us
    submit, lane_handle, tokens, pending = lib.lane_submit, lane.lane, hub.tokens, hub.pending
    if hybrid:
        assert connection is not None
        worker_submit = connection._context._worker().submit
        run, address = lib.job_run, ffi.cast("void *", _transmit_address(connection))

        def submit(_: Any, job: Any) -> None:
            worker_submit(run, job, address)

    def prepare(command: bytes) -> None:
        apdu = coerce_apdu(command)
        if connection is not None:
            job.card = connection._require_handle()
            job.pci.protocol = connection._protocol
        ffi.memmove(lane.send, apdu, len(apdu))
        job.send_length = len(apdu)

    def finish(done: Any) -> Any:
        if connection is None:
            return None
        if done.rc != 0:
            connection._context.api._fail(done.rc, "SCardTransmit")
        return connection._finish_transmit(ffi.buffer(done.recv, done.recv_length)[:])

    if loop == "trio":
        import outcome
        import trio

        reschedule, current_task = trio.lowlevel.reschedule, trio.lowlevel.current_task
        wait, refuse = trio.lowlevel.wait_task_rescheduled, trio.lowlevel.Abort.FAILED

        async def transmit(command: bytes) -> Any:
            prepare(command)
            token = next(tokens)
            job.token = token
            task = current_task()
            pending[token] = lambda done: reschedule(task, outcome.Value(done))
            submit(lane_handle, job)
            return finish(await wait(lambda _: refuse))

    else:
        import asyncio

        from aioscard._worker import _Waiter

        running = asyncio.get_running_loop()

        async def transmit(command: bytes) -> Any:
            prepare(command)
            token = next(tokens)
            job.token = token
            waiter: _Waiter[Any] = _Waiter(running)
            pending[token] = lambda done: waiter.resolve(True, done)
            submit(lane_handle, job)
            return finish(await waiter)

    return transmit, lane.close
