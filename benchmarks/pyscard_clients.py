"""The pyscard side of the benchmarks, run by the benchmark's own venv (pyscard from PyPI).

``python pyscard_clients.py MODE ...`` prints one JSON object.  No aioscard import here:
this file runs where only pyscard is installed.

Modes:
    transmit SECONDS READER...          ``connection.transmit`` in a thread per reader
    scale READER WAITERS IDLE           pending ``CardRequest.waitforcard()`` calls at rest
"""

from __future__ import annotations

import json
import os
import resource
import sys
import threading
import time
from typing import Any

from _probes import cpu_seconds, rss_kib, socket_fds
from smartcard.CardRequest import CardRequest  # type: ignore[import-not-found]
from smartcard.Exceptions import CardRequestTimeoutException  # type: ignore[import-not-found]
from smartcard.System import readers as list_readers  # type: ignore[import-not-found]

ECHO = [0x80, 0xEE, 0x00, 0x00, 0x04, 0x01, 0x02, 0x03, 0x04, 0x00]
WARMUP = 0.2


def transmit(seconds: float, names: list[str]) -> dict[str, Any]:
    by_name = {str(reader): reader for reader in list_readers()}
    connections = [by_name[name].createConnection() for name in names]
    for connection in connections:
        connection.connect()
    state = {"measuring": False, "stop": False}
    counts = [0] * len(names)

    def pump(index: int) -> None:
        send = connections[index].transmit
        n = 0
        while not state["stop"]:
            send(ECHO)
            if state["measuring"]:
                n += 1
        counts[index] = n

    threads = [threading.Thread(target=pump, args=(i,)) for i in range(len(names))]
    for thread in threads:
        thread.start()
    time.sleep(WARMUP)
    print("begin", flush=True)  # the benchmark samples pcscd's and the cards' CPU
    before = resource.getrusage(resource.RUSAGE_SELF)
    cpu0, t0 = cpu_seconds(), time.perf_counter()
    state["measuring"] = True
    time.sleep(seconds)
    state["stop"] = True
    t1, cpu1 = time.perf_counter(), cpu_seconds()
    after = resource.getrusage(resource.RUSAGE_SELF)
    print("end", flush=True)
    for thread in threads:
        thread.join()
    for connection in connections:
        connection.disconnect()
    switches = after.ru_nvcsw + after.ru_nivcsw - before.ru_nvcsw - before.ru_nivcsw
    return {
        "count": sum(counts),
        "seconds": t1 - t0,
        "cpu": cpu1 - cpu0,
        "sys": after.ru_stime - before.ru_stime,
        "switches": switches,
    }


def scale(reader: str, waiters: int, idle: float) -> dict[str, Any]:
    """pyscard's way: each waitforcard() blocks a thread (and a helper thread) on a context."""
    base_threads, base_sockets, base_rss = threading.active_count(), socket_fds(), rss_kib()
    ready = threading.Barrier(waiters + 1)

    def wait() -> None:
        request = CardRequest(newcardonly=True, readers=[reader], timeout=idle + 5)
        ready.wait()
        try:
            request.waitforcard()
        except CardRequestTimeoutException:
            pass

    threads = [threading.Thread(target=wait, daemon=True) for _ in range(waiters)]
    for thread in threads:
        thread.start()
    ready.wait()
    time.sleep(0.5)
    cpu0, t0 = cpu_seconds(), time.perf_counter()
    time.sleep(idle)
    cpu, wall = cpu_seconds() - cpu0, time.perf_counter() - t0
    return {
        "pending": waiters,
        "threads": len(os.listdir("/proc/self/task")),
        "python_threads": threading.active_count(),
        "base_threads": base_threads,
        "contexts": socket_fds() - base_sockets,
        "rss_kib": rss_kib(),
        "base_rss_kib": base_rss,
        "idle_cpu": cpu,
        "idle_seconds": wall,
    }


def main(argv: list[str]) -> int:
    mode, args = argv[1], argv[2:]
    if mode == "transmit":
        result = transmit(float(args[0]), args[1:])
    elif mode == "scale":
        result = scale(args[0], int(args[1]), float(args[2]))
    else:
        print(f"unknown mode {mode!r}", file=sys.stderr)
        return 2
    print(json.dumps(result), flush=True)
    os._exit(0)  # pending pyscard waits sit in threads that cannot be interrupted


if __name__ == "__main__":
    sys.exit(main(sys.argv))
