"""The opt-in transport helpers: GET RESPONSE on 61xx and Le correction on 6Cxx.

    python examples/get_response.py

Written for the simulator's demo card (``aioscard sim``), whose LONG RESPONSE
command (80 E0) answers ``61 xx`` and leaves the data to GET RESPONSE, and
whose EXACT LENGTH command (80 E6) answers ``6C xx`` to a wrong Le.  With the
helpers off (the default) ``transmit`` returns exactly what the card said.
"""

from __future__ import annotations

import asyncio

import aioscard
from aioscard.sw import describe_sw

LONG_RESPONSE_600 = bytes.fromhex("80E00258")  # 600 bytes, served by GET RESPONSE
EXACT_LENGTH_16_WRONG_LE = bytes.fromhex("80E6001000")  # wants Le 10, asks Le 00


def show(label: str, response: aioscard.Response) -> None:
    meaning = describe_sw(response.sw1, response.sw2)
    print(f"{label}: {len(response.data)} bytes, SW {response.sw:04X} ({meaning})")


async def main() -> None:
    reader = (await aioscard.readers())[0]
    async with reader.createConnection() as connection:
        show("helpers off, LONG RESPONSE", await connection.transmit(LONG_RESPONSE_600))
        show("helpers off, EXACT LENGTH", await connection.transmit(EXACT_LENGTH_16_WRONG_LE))

        connection.transport = aioscard.TransportOptions(get_response=True, le_correction=True)
        show("helpers on,  LONG RESPONSE", await connection.transmit(LONG_RESPONSE_600))
        show("helpers on,  EXACT LENGTH", await connection.transmit(EXACT_LENGTH_16_WRONG_LE))


if __name__ == "__main__":
    asyncio.run(main())
