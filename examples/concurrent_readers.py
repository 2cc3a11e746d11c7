"""Concurrent APDUs across several readers: one task per card, all at once.

    python examples/concurrent_readers.py [APDUS_PER_TASK]

Every connection owns a PC/SC context on its own worker thread, so cards in
different readers are served in parallel while the event loop stays free.
Several tasks may also share one connection: their commands are queued, never
interleaved, and each task gets its own response.
"""

from __future__ import annotations

import asyncio
import sys
import time

import aioscard

GET_CHALLENGE = bytes.fromhex("0084000008")


TASKS_PER_CARD = 4


async def exchange(reader: aioscard.Reader, count: int) -> int | None:
    """Send ``count`` GET CHALLENGEs from each of 4 tasks to the card in ``reader``;
    return how many were answered, or None if the reader holds no card."""
    try:
        async with reader.createConnection() as connection:
            # The tasks share the connection: their commands queue up in order.
            async def burst() -> list[aioscard.Response]:
                return [await connection.transmit(GET_CHALLENGE) for _ in range(count)]

            bursts = await asyncio.gather(*(burst() for _ in range(TASKS_PER_CARD)))
            answered = sum(1 for burst_ in bursts for response in burst_ if response.ok)
    except aioscard.NoCardException:
        return None
    print(f"{reader}: {answered} answers", flush=True)
    return answered


async def main(count: int) -> int:
    readers = await aioscard.readers()
    started = time.perf_counter()
    results = await asyncio.gather(*(exchange(reader, count) for reader in readers))
    elapsed = time.perf_counter() - started
    served = [result for result in results if result is not None]
    if not served:
        print("no cards")
        return 1
    total = sum(served)
    print(f"{len(served)} cards, {total} APDUs in {elapsed:.2f} s ({total / elapsed:,.0f}/s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 50)))
