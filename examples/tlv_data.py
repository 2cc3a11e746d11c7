"""BER-TLV, compact-TLV and DOL: parse what a card sent, build what it expects.

    python examples/tlv_data.py

Reads the FCI of the simulator's demo application as raw bytes, walks it as
BER-TLV, builds a template back, and shows the strict parser refusing a
truncated object that the lenient one cannot accept either.
"""

from __future__ import annotations

import asyncio

import aioscard
from aioscard import tlv

SELECT_FILES_WITH_FCI = bytes.fromhex("00A4040008A0000006472F000200")


async def main() -> None:
    reader = (await aioscard.readers())[0]
    async with reader.createConnection() as connection:
        response = await connection.transmit(SELECT_FILES_WITH_FCI)
    fci = tlv.parse_one(response.data_bytes)
    for item in fci.walk():
        kind = "constructed" if item.constructed else item.value.hex(" ").upper()
        print(f"tag {item.tag:X}, {item.length} bytes: {kind}")
    label = fci.find(0x50)
    print(f"label: {label.value.decode() if label else None}")

    built = tlv.build([tlv.TLV(0x6F, [tlv.TLV(0x84, b"\xa0\x00"), tlv.TLV(0x9F7F, bytes(3))])])
    print(f"built: {built.hex(' ').upper()}")
    try:
        tlv.parse(built[:-1])
    except tlv.TruncatedTLVError as error:
        print(f"truncated: {error}")
    padded = b"\x00" + built + b"\xff"
    print(f"lenient, with padding: {tlv.parse(padded, strict=False) == tlv.parse(built)}")

    print(f"compact-TLV: {tlv.parse_compact_tlv(bytes.fromhex('73F621FF'))}")
    pdol = tlv.parse_dol(bytes.fromhex("9F66049F02065F2A02"))
    print(f"DOL: {[(f'{entry.tag:X}', entry.length) for entry in pdol]}")
    data = tlv.build_dol_data(pdol, {0x5F2A: bytes.fromhex("0978")})
    print(f"DOL data: {data.hex().upper()}")


if __name__ == "__main__":
    asyncio.run(main())
