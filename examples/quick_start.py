"""Quick start: list the readers, connect to the card in the first one, send an APDU.

Run it with a reader and a card, or on the simulator (no hardware needed)::

    aioscard sim                      # in another terminal; it prints an export line
    export PCSCLITE_CSOCK_NAME=...    # the line it printed
    python examples/quick_start.py
"""

from __future__ import annotations

import asyncio

import aioscard
from aioscard.sw import describe_sw
from aioscard.util import to_hex

GET_CHALLENGE = [0x00, 0x84, 0x00, 0x00, 0x08]  # ISO 7816-4: 8 random bytes


async def main() -> int:
    readers = await aioscard.readers()
    if not readers:
        print("no smartcard readers")
        return 1
    for reader in readers:
        print("reader:", reader)

    # `async with` connects (T=0 or T=1, whichever the card speaks) and
    # disconnects and releases the connection at the end.
    async with readers[0].createConnection() as connection:
        print("ATR:", to_hex(connection.getATR()))
        data, sw1, sw2 = await connection.transmit(GET_CHALLENGE)
        print(f"GET CHALLENGE: {to_hex(data)}, SW {sw1:02X}{sw2:02X}: {describe_sw(sw1, sw2)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
