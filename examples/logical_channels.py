"""Logical channels: two applications open at once, each used from its own task.

    python examples/logical_channels.py

``async with connection.channel()`` opens a channel with MANAGE CHANNEL and
closes it when the block ends.  Each channel keeps its own selected
application and file; their commands share the connection, one at a time,
never mixed up.  Written for the simulator's demo card.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import aioscard
from aioscard import iso7816
from aioscard.apdu import build_apdu

if TYPE_CHECKING:
    from aioscard.channel import LogicalChannel

FILES_AID = bytes.fromhex("A0000006472F0002")
SPARE_AID = bytes.fromhex("A0000006472F0003")


async def read_first_ef(channel: LogicalChannel, aid: bytes) -> str:
    fci = await iso7816.select(channel, aid=aid)
    data = await iso7816.read_binary(channel, sfi=1)
    return f"channel {channel.number}: {fci.label!r}, {len(data)} bytes"


async def main() -> None:
    reader = (await aioscard.readers())[0]
    async with reader.createConnection() as connection:
        async with connection.channel() as first, connection.channel() as second:
            results = await asyncio.gather(
                read_first_ef(first, FILES_AID), read_first_ef(second, SPARE_AID)
            )
            for line in results:
                print(line)
            response = await connection.transmit(build_apdu(0x80, 0xEE, 0x00, 0x00, b"basic", 256))
            print(f"basic channel still works: {response.data_bytes.decode()}")
        print(f"both closed afterwards: {first.closed and second.closed}")


if __name__ == "__main__":
    asyncio.run(main())
