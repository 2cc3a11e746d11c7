"""aioscard under trio: the same API, trio's nurseries and cancel scopes.

    python examples/trio_program.py

Connects to the first card, sends APDUs from three tasks sharing the
connection, then waits for the next card event for at most a second with
``trio.move_on_after``.
"""

from __future__ import annotations

import trio

import aioscard
from aioscard.monitor import card_events
from aioscard.util import to_hex

GET_CHALLENGE = bytes.fromhex("0084000008")


async def main() -> None:
    reader = (await aioscard.readers())[0]
    async with reader.createConnection() as connection:
        print("ATR:", to_hex(connection.getATR()))
        answers: list[str] = []

        async def ask(name: str) -> None:
            response = await connection.transmit(GET_CHALLENGE)
            answers.append(f"{name}: {to_hex(response.data)} {response.sw:04X}")

        async with trio.open_nursery() as nursery:
            for name in ("task 1", "task 2", "task 3"):
                nursery.start_soon(ask, name)
        print("\n".join(sorted(answers)))

    async with card_events(initial=False) as events:
        with trio.move_on_after(1) as scope:
            async for event in events:
                print("event:", event)
                break
        if scope.cancelled_caught:
            print("no card event within 1 s: the wait was cancelled cleanly")


if __name__ == "__main__":
    trio.run(main)
