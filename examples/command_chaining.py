"""Command chaining: send more data than one command may carry.

    python examples/command_chaining.py

The card's capabilities (ATR, then EF.ATR) say whether it chains commands and
takes extended lengths; ``transport_options()`` turns them into the
``TransportOptions`` that make ``transmit`` chain long commands by itself.  Here
the limit is then set to 255 bytes, as for a card without extended length, so
that a 1,000-byte ECHO to the simulator's demo card goes as a chain of four
commands and its answer comes back by GET RESPONSE.
"""

from __future__ import annotations

import asyncio
import dataclasses

import aioscard
from aioscard import iso7816
from aioscard.apdu import build_apdu


async def main() -> None:
    reader = (await aioscard.readers())[0]
    async with reader.createConnection() as connection:
        capabilities = await iso7816.read_capabilities(connection)
        print(
            f"chaining: {capabilities.command_chaining}, extended length: "
            f"{capabilities.extended_length}, up to {capabilities.max_command_data} bytes "
            "per command"
        )
        options = capabilities.transport_options()
        connection.transport = dataclasses.replace(options, chain_limit=255)
        print(f"transport: {connection.transport}")

        # One transmit(): the card gets links of 255, 255, 255 and 235 bytes (CLA 90, 90,
        # 90, 80), answers the last with 256 bytes and 61xx, and GET RESPONSE fetches the rest.
        data = bytes(range(250)) * 4
        echo = build_apdu(0x80, 0xEE, 0x00, 0x00, data, 65536)  # ECHO, extended
        response = await connection.transmit(echo)
        print(f"echoed {len(response.data)} bytes back intact: {response.data_bytes == data}")
        print(f"SW {response.sw:04X}")


if __name__ == "__main__":
    asyncio.run(main())
