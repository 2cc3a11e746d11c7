"""Record a card session as JSON lines, to replay it later without the card.

    python examples/record_session.py OUT.jsonl

Runs ``my_app.ic_serial`` against the card in the first reader,
with a :class:`~aioscard.record.SessionRecorder` observing the connection,
and prints what was recorded.  ``examples/test_replay_session.py`` replays
such a recording (``examples/demo_session.jsonl``) with the pytest plugin.
The same recording comes from the command line with
``aioscard record -o OUT.jsonl -- python my_program.py``.
"""

from __future__ import annotations

import sys

import anyio
from my_app import ic_serial

import aioscard
from aioscard.record import SessionRecorder, read_session
from aioscard.util import to_hex


async def main(path: str) -> None:
    reader = (await aioscard.readers())[0]
    with SessionRecorder(path) as recorder:
        connection = recorder.attach(reader.createConnection())
        async with connection:
            print(f"IC serial: {await ic_serial(connection)}")
    session = read_session(path)
    atr = to_hex(session.atr or b"")
    print(f"recorded {len(session.exchanges)} command(s) with the card of ATR {atr}")
    for exchange in session.exchanges:
        print(f"  {exchange.command} -> {len(exchange.response or b'')} bytes")


if __name__ == "__main__":
    anyio.run(main, sys.argv[1])
