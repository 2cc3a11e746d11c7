"""Wait for a card: with CardRequest's own timeout, and by cancelling the wait.

    python examples/wait_for_card.py [SECONDS]

A wait costs no thread of its own (one shared watcher serves every wait of the
process) and can be cancelled like any coroutine: ``asyncio.wait_for``, a task's
``cancel()``, an anyio or trio cancel scope.  A timeout given to the request
raises ``CardRequestTimeoutException``; a cancellation from outside is a
cancellation, not a timeout.
"""

from __future__ import annotations

import asyncio
import sys

import aioscard
from aioscard.util import to_hex


async def wait_with_timeout(seconds: float) -> None:
    """Take the first card present or inserted within ``seconds``."""
    request = aioscard.CardRequest(timeout=seconds)
    try:
        service = await request.waitforcard()
    except aioscard.CardRequestTimeoutException:
        print(f"timeout: no card within {seconds:g} s")
        return
    # The service's connection is not connected yet; `async with` connects it.
    async with service:
        print(f"card in {service.connection.reader}: ATR {to_hex(service.connection.getATR())}")


async def wait_with_cancellation(seconds: float) -> None:
    """Wait, without a timeout of its own, for a card inserted from now on; give up
    after ``seconds`` by cancelling the wait from outside."""
    request = aioscard.CardRequest(newcardonly=True, timeout=None)
    try:
        service = await asyncio.wait_for(request.waitforcard(), seconds)
    except asyncio.TimeoutError:  # asyncio cancelled the wait at once and said so
        print(f"cancelled: no new card within {seconds:g} s")
        return
    print(f"new card in {service.connection.reader}")


async def main(seconds: float) -> None:
    await wait_with_timeout(seconds)
    await wait_with_cancellation(seconds)


if __name__ == "__main__":
    asyncio.run(main(float(sys.argv[1]) if len(sys.argv) > 1 else 5.0))
