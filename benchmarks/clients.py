"""The aioscard side of the benchmarks: each measurement runs in a process of its own.

``python clients.py MODE ...`` prints one JSON object on its last line of output
(``events`` prints a line per event instead).  The benchmark (``run.py``) starts
these with ``PCSCLITE_CSOCK_NAME`` already set, because libpcsclite latches the
socket path at a process's first PC/SC call, and with the virtual cards in other
processes.

Modes:
    transmit-async SECONDS READER...   one event loop, one task and connection per reader
    transmit-sync SECONDS READER...    the pyscard-shaped shim, one thread per reader
    transmit-direct SECONDS READER     aioscard.native on the calling thread: no hand-off
    dialogue SECONDS N READER...       one event loop (BENCH_LOOP), per reader a task running
                                       run_sync() dialogues of N ECHOs
    batch SECONDS N READER...          the same with transmit_many() batches of N ECHOs
    floor SECONDS [HOLD_US]            the bare loop <-> thread ping-pong of BENCH_LOOP, the
                                       thread holding each job HOLD_US (0): the loop thread's
                                       CPU per round trip, no PC/SC, no aioscard
    transmit-native SECONDS READER...  as transmit-async (BENCH_LOOP), SCardTransmit on the
                                       trial compiled hand-off (_handoff.py)
    transmit-hybrid SECONDS READER...  the same with the job on aioscard's worker
    floor-native SECONDS HOLD_US       the trial compiled hand-off's own floor: its native
                                       thread holds each job HOLD_US and calls nothing
    breakdown SECONDS READER KIND      one round trip's parts (KIND: asyncio, uvloop, trio, sync)
    pingpong SECONDS                   the hand-off alone: no PC/SC call at all
    events READER COUNT                print "in T" / "out T" per card event (T monotonic)
    raw-watch READER COUNT             the same from a bare SCardGetStatusChange loop
    cancel READER COUNT                cancel pending waitforcard() calls, time the resume
    scale READER WAITERS SUBSCRIBERS IDLE   pending waits at rest: threads, contexts, CPU
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import sys
import threading
import time
from queue import SimpleQueue
from typing import TYPE_CHECKING, Any

import anyio
from _probes import cpu_seconds, kernel_usage, os_threads, rss_kib, socket_fds

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    import aioscard

#: A 4-byte ECHO for the demo card: 80 EE 00 00 04 01 02 03 04 00 -> 01 02 03 04 90 00.
ECHO = bytes([0x80, 0xEE, 0x00, 0x00, 0x04, 0x01, 0x02, 0x03, 0x04, 0x00])
WARMUP = 0.2


def emit(result: dict[str, Any]) -> None:
    print(json.dumps(result), flush=True)


class Window:
    """The measured window: warm-up first, then ``seconds`` of counting."""

    def __init__(self) -> None:
        self.measuring = False
        self.stop = False
        self.t0 = self.t1 = self.cpu0 = self.cpu1 = 0.0
        self.kernel0: tuple[float, int] = (0.0, 0)
        self.kernel1: tuple[float, int] = (0.0, 0)
        self.thread0 = self.thread1 = 0.0  # CPU of the thread calling begin/end (the loop's)

    def begin(self) -> None:
        print("begin", flush=True)  # the benchmark samples pcscd's and the cards' CPU
        self.kernel0 = kernel_usage()
        self.thread0 = time.thread_time()
        self.cpu0, self.t0 = cpu_seconds(), time.perf_counter()
        self.measuring = True

    def end(self) -> None:
        self.stop = True
        self.t1, self.cpu1 = time.perf_counter(), cpu_seconds()
        self.thread1 = time.thread_time()
        self.kernel1 = kernel_usage()
        print("end", flush=True)

    def result(self, count: int, **extra: Any) -> dict[str, Any]:
        return {
            "count": count,
            "seconds": self.t1 - self.t0,
            "cpu": self.cpu1 - self.cpu0,
            "sys": self.kernel1[0] - self.kernel0[0],
            "switches": self.kernel1[1] - self.kernel0[1],
            "loop_cpu": self.thread1 - self.thread0,
            **extra,
        }


# -- transmit ---------------------------------------------------------------------------


def _backend(name: str) -> tuple[str, dict[str, Any]]:
    if name == "uvloop":
        return "asyncio", {"use_uvloop": True}
    return name, {}


def _run_pumps(
    readers: list[str],
    pump: Callable[[int, Any], Awaitable[None]],
    window: Window,
    seconds: float,
    loop: str,
) -> None:
    """Connect to every reader, run ``pump(index, connection)`` for each in one task group
    through the warm-up and the measured window, then release the connections."""
    import aioscard

    async def main() -> None:
        connections = [aioscard.CardConnection(name) for name in readers]
        for connection in connections:
            await connection.connect()
        try:
            async with anyio.create_task_group() as tg:
                for index, connection in enumerate(connections):
                    tg.start_soon(pump, index, connection)
                await anyio.sleep(WARMUP)
                window.begin()
                await anyio.sleep(seconds)
                window.end()
        finally:
            for connection in connections:
                await connection.release()

    backend, options = _backend(loop)
    anyio.run(main, backend=backend, backend_options=options)


def transmit_async(seconds: float, readers: list[str], loop: str, trial: str | None = None) -> None:
    """Per reader a task awaiting ``transmit(ECHO)`` in a loop.  ``trial``: through the
    trial compiled hand-off instead of aioscard's, on a lane per connection ("lane") or
    on the connection's own worker with the hub waking the loop ("hybrid")."""
    window = Window()
    counts = [0] * len(readers)

    async def pump(index: int, connection: aioscard.CardConnection) -> None:
        transmit: Callable[[bytes], Awaitable[Any]] = connection.transmit
        close = None
        if trial is not None:
            from _handoff import native_transmit

            transmit, close = await native_transmit(connection, loop, hybrid=trial == "hybrid")
            response = await transmit(ECHO)
            assert bytes(response.data) == ECHO[5:9], response
            assert response.sw == 0x9000, response
        n = 0
        while not window.stop:
            await transmit(ECHO)
            if window.measuring:
                n += 1
        counts[index] = n
        if close is not None:
            close()

    _run_pumps(readers, pump, window, seconds, loop)
    emit(window.result(sum(counts), threads=threading.active_count()))


def floor_native(seconds: float, loop: str, hold_us: int) -> None:
    """The trial compiled hand-off with nothing on its thread but a ``hold_us`` pause."""
    from _handoff import native_transmit

    async def main() -> tuple[int, float, float]:
        transmit, close = await native_transmit(None, loop, hold_us)

        async def step() -> None:
            await transmit(ECHO)

        try:
            return await _timed_thread_loop(seconds, step)
        finally:
            close()

    backend, options = _backend(loop)
    n, wall, cpu = anyio.run(main, backend=backend, backend_options=options)
    emit({"count": n, "seconds": wall, "cpu": cpu, "loop_cpu": cpu})


def _echo_dialogue(blocking: Any, count: int) -> None:
    transmit = blocking.transmit
    for _ in range(count):
        transmit(ECHO)


def transmit_grouped(seconds: float, size: int, readers: list[str], loop: str, kind: str) -> None:
    """Per reader, a task that repeats a ``run_sync`` dialogue (``kind`` "dialogue") or a
    ``transmit_many`` batch ("batch") of ``size`` ECHOs; counts APDUs."""
    window = Window()
    counts = [0] * len(readers)
    batch = [ECHO] * size

    async def pump(index: int, connection: aioscard.CardConnection) -> None:
        n = 0
        while not window.stop:
            if kind == "dialogue":
                await connection.run_sync(_echo_dialogue, size)
            else:
                responses = await connection.transmit_many(batch)
                assert len(responses) == size
            if window.measuring:
                n += size
        counts[index] = n

    _run_pumps(readers, pump, window, seconds, loop)
    emit(window.result(sum(counts)))


def transmit_sync(seconds: float, readers: list[str]) -> None:
    from aioscard.compat.System import readers as list_readers

    window = Window()
    counts = [0] * len(readers)
    by_name = {str(reader): reader for reader in list_readers()}
    connections = [by_name[name].createConnection() for name in readers]
    for connection in connections:
        connection.connect()
    command = list(ECHO)  # what a pyscard program passes

    def pump(index: int) -> None:
        transmit = connections[index].transmit
        n = 0
        while not window.stop:
            transmit(command)
            if window.measuring:
                n += 1
        counts[index] = n

    threads = [threading.Thread(target=pump, args=(i,)) for i in range(len(readers))]
    for thread in threads:
        thread.start()
    time.sleep(WARMUP)
    window.begin()
    time.sleep(seconds)
    window.end()
    for thread in threads:
        thread.join()
    for connection in connections:
        connection.disconnect()
    emit(window.result(sum(counts), loop_cpu=0.0))  # no event loop


def transmit_direct(seconds: float, reader: str) -> None:
    from aioscard.native import constants as C
    from aioscard.native import get_pcsc

    api = get_pcsc()
    context = api.establish_context()
    handle, protocol = api.connect(
        context, reader, C.SCARD_SHARE_SHARED, C.SCARD_PROTOCOL_T0 | C.SCARD_PROTOCOL_T1
    )
    window = Window()
    transmit = api.transmit
    deadline = time.perf_counter() + WARMUP
    while time.perf_counter() < deadline:
        transmit(handle, protocol, ECHO)
    window.begin()
    deadline = window.t0 + seconds
    n = 0
    while time.perf_counter() < deadline:
        transmit(handle, protocol, ECHO)
        n += 1
    window.end()
    api.disconnect(handle, C.SCARD_LEAVE_CARD)
    api.release_context(context)
    emit(window.result(n))


# -- where the time of one round trip goes -------------------------------------------------


def breakdown(seconds: float, reader: str, kind: str) -> None:
    """Timestamps around each round trip: caller -> worker -> SCardTransmit -> caller.

    The native library's ``transmit`` is wrapped (in this process only) to note when
    the worker starts and ends the C call; the caller notes when it called and when
    it resumed.  Medians, in microseconds.
    """
    from aioscard.native import get_pcsc

    api: Any = get_pcsc()
    inner = api.transmit
    marks: list[tuple[float, float]] = []
    clock = time.perf_counter

    def timed(handle: int, protocol: int, command: bytes) -> bytes:
        start = clock()
        raw: bytes = inner(handle, protocol, command)
        marks.append((start, clock()))
        return raw

    api.transmit = timed
    calls: list[tuple[float, float]] = []
    if kind == "sync":
        from aioscard.compat.System import readers as list_readers

        connection = next(r for r in list_readers() if str(r) == reader).createConnection()
        connection.connect()
        command = list(ECHO)
        end = clock() + WARMUP + seconds
        while clock() < end:
            t0 = clock()
            connection.transmit(command)
            calls.append((t0, clock()))
        connection.disconnect()
    else:
        import aioscard

        async def main() -> None:
            async with aioscard.CardConnection(reader) as connection:
                end = clock() + WARMUP + seconds
                while clock() < end:
                    t0 = clock()
                    await connection.transmit(ECHO)
                    calls.append((t0, clock()))

        backend, options = _backend(kind)
        anyio.run(main, backend=backend, backend_options=options)
    pairs = list(zip(calls, marks, strict=True))[len(calls) // 10 :]  # drop the warm-up
    emit(
        {
            "to_worker": statistics.median(m[0] - c[0] for c, m in pairs) * 1e6,
            "transmit": statistics.median(m[1] - m[0] for c, m in pairs) * 1e6,
            "back": statistics.median(c[1] - m[1] for c, m in pairs) * 1e6,
            "total": statistics.median(c[1] - c[0] for c, m in pairs) * 1e6,
            "count": len(pairs),
        }
    )


# -- the hand-off alone ------------------------------------------------------------------


def _noop() -> None:
    pass


def _timed_loop(seconds: float, step: Callable[[], Awaitable[None]]) -> Callable[[], Any]:
    async def run() -> tuple[int, float, float]:
        end = time.perf_counter() + WARMUP
        while time.perf_counter() < end:
            await step()
        cpu0, t0 = cpu_seconds(), time.perf_counter()
        end = t0 + seconds
        n = 0
        while time.perf_counter() < end:
            await step()
            n += 1
        return n, time.perf_counter() - t0, cpu_seconds() - cpu0

    return run


def pingpong(seconds: float) -> None:
    """Round trips loop -> thread -> loop with nothing in between.

    ``raw``: a bare SimpleQueue + call_soon_threadsafe pair (the floor of any
    asyncio <-> thread hand-off); ``worker``: aioscard's Worker.run; ``call``:
    aioscard's blocking Worker.call from a plain thread (the shim's hand-off).
    """
    from aioscard._worker import pool

    results: dict[str, Any] = {}
    jobs: SimpleQueue[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]] | None]
    jobs = SimpleQueue()

    def raw_thread() -> None:
        while (item := jobs.get()) is not None:
            loop, future = item
            loop.call_soon_threadsafe(future.set_result, None)

    async def raw_step() -> None:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        jobs.put((loop, future))
        await future

    thread = threading.Thread(target=raw_thread, daemon=True)
    thread.start()
    n, wall, cpu = asyncio.run(_timed_loop(seconds, raw_step)())
    jobs.put(None)
    thread.join()
    results["raw"] = {"count": n, "seconds": wall, "cpu": cpu}

    worker = pool.acquire()

    async def worker_step() -> None:
        await worker.run(_noop)

    n, wall, cpu = asyncio.run(_timed_loop(seconds, worker_step)())
    results["worker"] = {"count": n, "seconds": wall, "cpu": cpu}

    end = time.perf_counter() + WARMUP
    while time.perf_counter() < end:
        worker.call(_noop)
    cpu0, t0 = cpu_seconds(), time.perf_counter()
    end = t0 + seconds
    n = 0
    while time.perf_counter() < end:
        worker.call(_noop)
        n += 1
    results["call"] = {
        "count": n,
        "seconds": time.perf_counter() - t0,
        "cpu": cpu_seconds() - cpu0,
    }
    pool.release(worker)
    emit(results)


def floor(seconds: float, loop: str, hold: float) -> None:
    """The bare hand-off of one event loop: the loop puts a job on a SimpleQueue, a
    plain thread takes it, holds it ``hold`` seconds (``time.sleep``, as long as an
    SCardTransmit takes, so that the loop goes idle as it does while a card works;
    0: answer at once) and wakes the waiting task through the loop's thread-safe
    entry (``call_soon_threadsafe`` / trio's ``run_sync_soon``).  No PC/SC, no
    aioscard.  Reports the loop thread's CPU per round trip."""
    jobs: SimpleQueue[Callable[[], None] | None] = SimpleQueue()

    def thread_main() -> None:
        while (wake := jobs.get()) is not None:
            if hold:
                time.sleep(hold)
            wake()

    thread = threading.Thread(target=thread_main, daemon=True)
    thread.start()

    async def run_asyncio() -> tuple[int, float, float]:
        loop_ = asyncio.get_running_loop()

        async def step() -> None:
            future: asyncio.Future[None] = loop_.create_future()
            jobs.put(lambda: loop_.call_soon_threadsafe(future.set_result, None))
            await future

        return await _timed_thread_loop(seconds, step)

    async def run_trio() -> tuple[int, float, float]:
        import outcome
        import trio

        token = trio.lowlevel.current_trio_token()

        async def step() -> None:
            task = trio.lowlevel.current_task()
            jobs.put(
                lambda: token.run_sync_soon(trio.lowlevel.reschedule, task, outcome.Value(None))
            )
            await trio.lowlevel.wait_task_rescheduled(lambda _: trio.lowlevel.Abort.FAILED)

        return await _timed_thread_loop(seconds, step)

    if loop == "trio":
        import trio

        n, wall, cpu = trio.run(run_trio)
    elif loop == "uvloop":
        import uvloop

        n, wall, cpu = uvloop.run(run_asyncio())
    else:
        n, wall, cpu = asyncio.run(run_asyncio())
    jobs.put(None)
    thread.join()
    emit({"count": n, "seconds": wall, "cpu": cpu, "loop_cpu": cpu})


async def _timed_thread_loop(
    seconds: float, step: Callable[[], Awaitable[None]]
) -> tuple[int, float, float]:
    # Like _timed_loop, but the CPU of the calling (loop) thread only.
    end = time.perf_counter() + WARMUP
    while time.perf_counter() < end:
        await step()
    cpu0, t0 = time.thread_time(), time.perf_counter()
    end = t0 + seconds
    n = 0
    while time.perf_counter() < end:
        await step()
        n += 1
    return n, time.perf_counter() - t0, time.thread_time() - cpu0


# -- events --------------------------------------------------------------------------------


def events(reader: str, count: int) -> None:
    from aioscard.monitor import CardInserted, CardRemoved, card_events

    async def main() -> None:
        seen = 0
        async with card_events([reader], initial=False) as stream:
            print("ready", flush=True)
            async for event in stream:
                now = time.monotonic()
                if isinstance(event, CardInserted):
                    print(f"in {now:.6f}", flush=True)
                    seen += 1
                    if seen >= count:
                        return
                elif isinstance(event, CardRemoved):
                    print(f"out {now:.6f}", flush=True)

    anyio.run(main)


def raw_watch(reader: str, count: int) -> None:
    """The reference waiter when the C program is not built: a bare blocking loop."""
    from aioscard.native import ReaderState, get_pcsc
    from aioscard.native import constants as C

    api = get_pcsc()
    context = api.establish_context()
    state = api.get_status_change(context, 0, [ReaderState(reader, C.SCARD_STATE_UNAWARE)])[0]
    present = bool(state.event_state & C.SCARD_STATE_PRESENT)
    print(f"ready {'present' if present else 'empty'}", flush=True)
    seen = 0
    while seen < count:
        current = state.event_state & ~C.SCARD_STATE_CHANGED
        state = api.get_status_change(context, C.INFINITE, [ReaderState(reader, current)])[0]
        now = time.monotonic()
        if bool(state.event_state & C.SCARD_STATE_PRESENT) != present:
            present = not present
            print(f"{'in' if present else 'out'} {now:.6f}", flush=True)
            seen += present
    api.release_context(context)


# -- cancellation ----------------------------------------------------------------------------


def cancel(reader: str, count: int) -> None:
    """Cancel a pending ``waitforcard()`` ``count`` times; time until the caller resumes.

    ``last``: the waiter is the watcher's only subscriber, so leaving nudges the
    watcher into its linger (an SCardCancel on a worker, not awaited).  ``cold``:
    the same with the watcher stopped before each wait, so every wait starts it.
    ``shared``: another subscriber keeps the watcher running (the common case in
    an application).
    """
    import aioscard
    from aioscard.monitor import card_events, get_watcher

    watcher = get_watcher()

    async def once() -> float:
        scope = anyio.CancelScope()
        resumed = anyio.Event()
        stamp = [0.0]
        request = aioscard.CardRequest(newcardonly=True, readers=[reader], timeout=None)

        async def wait() -> None:
            with scope:
                await request.waitforcard()
            stamp[0] = time.perf_counter()
            resumed.set()

        async with anyio.create_task_group() as tg:
            before = watcher.subscriber_count
            tg.start_soon(wait)
            # The watcher offers no event for "subscribed": poll its state.
            while watcher.subscriber_count <= before or not watcher.has_context:  # noqa: ASYNC110
                await anyio.sleep(0.001)
            await anyio.sleep(0.02)  # well into its wait: the watcher has synced
            started = time.perf_counter()
            scope.cancel()
            await resumed.wait()
        return stamp[0] - started

    async def cold() -> float:
        await anyio.to_thread.run_sync(watcher.stop_if_idle)
        return await once()

    async def main() -> dict[str, list[float]]:
        last = [await once() for _ in range(count)]
        started = [await cold() for _ in range(count)]
        async with card_events(initial=False):
            shared = [await once() for _ in range(count)]
        return {"last": last, "cold": started, "shared": shared}

    samples = anyio.run(main)
    emit({name: sorted(values) for name, values in samples.items()})


# -- scale at rest -----------------------------------------------------------------------------


def scale(reader: str, waiters: int, subscribers: int, idle: float) -> None:
    import aioscard
    from aioscard._worker import pool
    from aioscard.monitor import card_events, get_watcher

    watcher = get_watcher()
    result: dict[str, Any] = {}

    async def wait_for_card() -> None:
        request = aioscard.CardRequest(newcardonly=True, readers=[reader], timeout=None)
        await request.waitforcard()

    async def listen() -> None:
        async with card_events(initial=False) as stream:
            async for _ in stream:
                pass

    async def main() -> None:
        base_threads, base_sockets, base_rss = os_threads(), socket_fds(), rss_kib()
        async with anyio.create_task_group() as tg:
            started = time.perf_counter()
            for _ in range(waiters):
                tg.start_soon(wait_for_card)
            for _ in range(subscribers):
                tg.start_soon(listen)
            while watcher.subscriber_count < waiters + subscribers:  # noqa: ASYNC110
                await anyio.sleep(0.01)
            result["setup_seconds"] = time.perf_counter() - started
            await anyio.sleep(0.5)  # let set-up work (one-shot workers) settle
            cpu0, t0 = cpu_seconds(), time.perf_counter()
            await anyio.sleep(idle)
            cpu, wall = cpu_seconds() - cpu0, time.perf_counter() - t0
            result.update(
                pending=watcher.subscriber_count,
                threads=os_threads(),
                base_threads=base_threads,
                python_threads=threading.active_count(),
                watcher_threads=len(watcher.threads),
                worker_threads=pool.live_workers,
                contexts=socket_fds() - base_sockets,
                watcher_context=watcher.has_context,
                rss_kib=rss_kib(),
                base_rss_kib=base_rss,
                idle_cpu=cpu,
                idle_seconds=wall,
            )
            tg.cancel_scope.cancel()
        result["teardown_threads"] = len(watcher.threads)

    anyio.run(main)
    emit(result)


def main(argv: list[str]) -> int:
    mode, args = argv[1], argv[2:]
    if mode == "transmit-async":
        loop = os.environ.get("BENCH_LOOP", "asyncio")
        transmit_async(float(args[0]), args[1:], loop)
    elif mode == "transmit-sync":
        transmit_sync(float(args[0]), args[1:])
    elif mode == "transmit-direct":
        transmit_direct(float(args[0]), args[1])
    elif mode == "breakdown":
        breakdown(float(args[0]), args[1], args[2])
    elif mode == "pingpong":
        pingpong(float(args[0]))
    elif mode in ("dialogue", "batch"):
        loop = os.environ.get("BENCH_LOOP", "asyncio")
        transmit_grouped(float(args[0]), int(args[1]), args[2:], loop, mode)
    elif mode == "floor":
        hold = float(args[1]) / 1e6 if len(args) > 1 else 0.0
        floor(float(args[0]), os.environ.get("BENCH_LOOP", "asyncio"), hold)
    elif mode in ("transmit-native", "transmit-hybrid"):
        loop = os.environ.get("BENCH_LOOP", "asyncio")
        trial = "hybrid" if mode == "transmit-hybrid" else "lane"
        transmit_async(float(args[0]), args[1:], loop, trial)
    elif mode == "floor-native":
        floor_native(float(args[0]), os.environ.get("BENCH_LOOP", "asyncio"), int(args[1]))
    elif mode == "events":
        events(args[0], int(args[1]))
    elif mode == "raw-watch":
        raw_watch(args[0], int(args[1]))
    elif mode == "cancel":
        cancel(args[0], int(args[1]))
    elif mode == "scale":
        scale(args[0], int(args[1]), int(args[2]), float(args[3]))
    else:
        print(f"unknown mode {mode!r}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
