"""A transaction: a sequence of commands no other connection can cut into.

    python examples/transaction.py

Written for the simulator's demo card (``aioscard sim``): it selects the demo
application, verifies the PIN and reads a file, all in one transaction
(SCardBeginTransaction / SCardEndTransaction), while a second connection to the
same card tries to send a command: that command waits until the transaction
ends.
"""

from __future__ import annotations

import asyncio

import aioscard
from aioscard.util import to_hex

SELECT_DEMO_APP = bytes.fromhex("00A4040008A0000006472F0001")
VERIFY_PIN = bytes.fromhex("0020008006") + b"123456"
SELECT_FILE_E101 = bytes.fromhex("00A4020C02E101")
READ_16_BYTES = bytes.fromhex("00B0000010")
GET_CHALLENGE = bytes.fromhex("0084000008")


async def main() -> None:
    reader = (await aioscard.readers())[0]
    async with reader.createConnection() as mine, reader.createConnection() as other:
        async with mine.transaction():
            print("transaction open")
            intruder = asyncio.create_task(other.transmit(GET_CHALLENGE))
            for name, command in [
                ("SELECT", SELECT_DEMO_APP),
                ("VERIFY", VERIFY_PIN),
                ("SELECT FILE", SELECT_FILE_E101),
                ("READ BINARY", READ_16_BYTES),
            ]:
                response = await mine.transmit(command)
                print(f"{name}: {to_hex(response.data)} {response.sw:04X}".replace(":  ", ": "))
            await asyncio.sleep(0.1)
            print("the other connection's command is still waiting:", not intruder.done())
        print("transaction ended")
        response = await intruder
        print(f"then the other connection got its answer: SW {response.sw:04X}")


if __name__ == "__main__":
    asyncio.run(main())
