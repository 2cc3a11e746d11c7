"""ISO 7816-4 commands: select an application, read its files and records, verify, update.

    python examples/card_files.py

Written for the simulator's demo card (``aioscard sim``): its DF "aioscard files"
(AID A0 00 00 06 47 2F 00 02) holds a 700-byte transparent EF (short EF id 1)
and a record EF (SFI 2); updating the transparent EF needs the PIN (123456).
"""

from __future__ import annotations

import asyncio

import aioscard
from aioscard import iso7816
from aioscard.sw import SWException

FILES_AID = bytes.fromhex("A0000006472F0002")


async def main() -> None:
    reader = (await aioscard.readers())[0]
    async with reader.createConnection() as connection:
        fci = await iso7816.select(connection, aid=FILES_AID)
        aid = (fci.df_name or b"").hex().upper()
        print(f"selected {fci.label!r}: DF {fci.fid or 0:04X}, AID {aid}")

        data = await iso7816.read_binary(connection, sfi=1)  # the whole EF, in pieces
        print(f"EF 1: {len(data)} bytes, starting {data[:8].hex(' ').upper()}")
        records = await iso7816.read_records(connection, sfi=2)
        print(f"EF 2: {len(records)} records: {', '.join(r[:2].hex().upper() for r in records)}")

        try:
            await iso7816.update_binary(connection, b"hello", sfi=1)
        except SWException as error:
            print(f"update refused: SW {error.sw:04X} {error.message}")
        status = await iso7816.verify_status(connection)
        print(f"PIN verified: {status.verified}, tries left: {status.tries_left}")
        await iso7816.verify(connection, "123456")  # redacted in every log and trace
        await iso7816.update_binary(connection, b"hello", sfi=1)
        print(f"after VERIFY: {await iso7816.read_binary(connection, sfi=1, length=5)!r}")


if __name__ == "__main__":
    asyncio.run(main())
