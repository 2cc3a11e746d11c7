"""Monitor readers and cards with ``async for``, until Ctrl-C or N card events.

    python examples/monitor_events.py [--events N]

``card_events()`` and ``reader_events()`` are async context managers that
return an iterator.  Right after ``async with`` the stream is live, and what is
present already sits in its buffer: ``drain()`` takes it without waiting.
"""

from __future__ import annotations

import argparse
import asyncio

import anyio

from aioscard.monitor import (
    CardInserted,
    CardRemoved,
    EventStream,
    ReaderAdded,
    ReaderEvent,
    ReaderRemoved,
    ServiceLost,
    ServiceRestored,
    card_events,
    reader_events,
)
from aioscard.util import to_hex


async def print_reader_events(events: EventStream[ReaderEvent]) -> None:
    async for event in events:
        match event:
            case ReaderAdded(reader):
                print("reader added:", reader, flush=True)
            case ReaderRemoved(reader):
                print("reader removed:", reader, flush=True)
            case ServiceLost(error):
                print("pcscd lost:", error, flush=True)
            case ServiceRestored():
                print("pcscd is back", flush=True)


async def main(limit: int | None) -> None:
    async with reader_events() as readers, card_events() as cards:
        for reader_event in readers.drain():
            if isinstance(reader_event, ReaderAdded):
                print("reader:", reader_event.reader, flush=True)
        for card_event in cards.drain():
            if isinstance(card_event, CardInserted):
                print("card present:", card_event.card, flush=True)
        print("watching; Ctrl-C stops", flush=True)
        async with anyio.create_task_group() as group:
            group.start_soon(print_reader_events, readers)
            seen = 0
            async for event in cards:
                match event:
                    case CardInserted(card):
                        print(f"card inserted in {card.reader}: ATR {to_hex(card.atr)}", flush=True)
                    case CardRemoved(card):
                        print(f"card removed from {card.reader}", flush=True)
                    case _:
                        continue  # pcscd lost or back: the reader task says so
                seen += 1
                if limit is not None and seen >= limit:
                    break
            group.cancel_scope.cancel()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=None, help="stop after N card events")
    try:
        asyncio.run(main(parser.parse_args().events))
    except KeyboardInterrupt:
        pass
