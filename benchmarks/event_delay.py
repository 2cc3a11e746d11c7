"""Event delay: the simulator inserts or removes a card -> a ``card_events()`` subscriber hears it.

Measured on both simulator back-ends, each in a child process of its own
(libpcsclite talks to one pcscd per process): the simulator's own reader driver,
which pushes presence changes to pcscd at once, and vpcd, which pcscd polls
every 400 ms.  The clock starts just before the card connects to its reader
socket and stops when the subscriber's task receives the event.

    .venv/bin/python benchmarks/event_delay.py [--rounds N] [--vpcd-rounds N]

Prints p50, p90 and p99 per back-end and event kind, and the ratio of the
p99s.  Target for the driver: p99 <= 10 ms.  Not part of the test suite.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def child(backend: str, rounds: int) -> None:
    """Measure ``rounds`` insertions and removals on ``backend``; print JSON."""
    import anyio

    from aioscard.monitor import CardInserted, CardRemoved, card_events
    from aioscard.testing import Simulator, VirtualCard

    simulator = Simulator(readers=1, backend=backend)
    simulator.start()
    os.environ.update(simulator.env)
    inserted: list[float] = []
    removed: list[float] = []

    async def measure() -> None:
        name = simulator.reader_names[0]
        card = VirtualCard(name="timed card")
        async with card_events(readers=[name], initial=False) as events:
            for _ in range(rounds + 1):  # the first round warms up, unrecorded
                started = time.perf_counter()
                await anyio.to_thread.run_sync(lambda: simulator.insert(card, 0, wait=False))
                event = await events.__anext__()
                in_delay = time.perf_counter() - started
                assert isinstance(event, CardInserted), event
                await anyio.to_thread.run_sync(lambda: card.wait_powered(5))
                started = time.perf_counter()
                await anyio.to_thread.run_sync(lambda: simulator.remove(0, wait=False))
                event = await events.__anext__()
                out_delay = time.perf_counter() - started
                assert isinstance(event, CardRemoved), event
                await anyio.to_thread.run_sync(lambda: card.wait_removed(5))
                inserted.append(in_delay)
                removed.append(out_delay)

    try:
        anyio.run(measure)
    finally:
        simulator.stop()
    print(json.dumps({"inserted": inserted[1:], "removed": removed[1:]}))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=200, help="rounds on the driver")
    parser.add_argument("--vpcd-rounds", type=int, default=20, help="rounds on vpcd (slow)")
    parser.add_argument("--child", choices=("driver", "vpcd"), help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.child:
        child(options.child, options.rounds)
        return 0
    results: dict[str, dict[str, list[float]]] = {}
    for backend, rounds in (("driver", options.rounds), ("vpcd", options.vpcd_rounds)):
        env = {key: value for key, value in os.environ.items() if key != "PCSCLITE_CSOCK_NAME"}
        done = subprocess.run(
            [sys.executable, __file__, "--child", backend, "--rounds", str(rounds)],
            capture_output=True,
            text=True,
            env=env,
            timeout=600,
            check=False,
        )
        if done.returncode != 0:
            print(f"{backend}: failed\n{done.stderr[-2000:]}", file=sys.stderr)
            return 1
        results[backend] = json.loads(done.stdout.strip().splitlines()[-1])
    print("| back-end | event | rounds | p50 ms | p90 ms | p99 ms | max ms |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for backend, kinds in results.items():
        for kind, values in kinds.items():
            row = [_percentile(values, f) * 1000 for f in (0.5, 0.9, 0.99)] + [max(values) * 1000]
            cells = " | ".join(f"{value:.2f}" for value in row)
            print(f"| {backend} | card {kind} | {len(values)} | {cells} |")
    for kind in ("inserted", "removed"):
        driver = _percentile(results["driver"][kind], 0.99)
        vpcd = _percentile(results["vpcd"][kind], 0.99)
        mean = statistics.fmean(results["driver"][kind]) * 1000
        print(f"card {kind}: driver p99 {vpcd / driver:.0f}x below vpcd's (mean {mean:.2f} ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
