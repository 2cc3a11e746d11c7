"""Verify a PIN on a pinpad reader: the PIN is typed on the reader, never seen by the host.

Finds the first reader that offers FEATURE_VERIFY_PIN_DIRECT (PC/SC Part 10),
prints what the reader says about itself, then asks the user to type the PIN on
the reader's keypad; the reader puts it into the VERIFY command and the card
answers.  Try it with the simulator, whose reader 0 is a pinpad whose "user"
types 123456 (the demo card's PIN):

    aioscard sim --pinpad 123456 --card demo &    # then export the line it prints
    python examples/pinpad.py
"""

from __future__ import annotations

import sys

import anyio

import aioscard
from aioscard.exceptions import PinEntryException, PinEntryTimeoutException
from aioscard.part10 import Feature, PinFormat, PinVerifyStructure

# VERIFY, PIN reference 80, an 8-byte PIN block: ASCII digits, left-justified, FF-padded.
VERIFY_PIN = PinVerifyStructure(
    apdu=bytes.fromhex("0020008008") + b"\xff" * 8,
    pin_format=PinFormat.ASCII,
    pin_block_size=8,
    min_pin_size=4,
    max_pin_size=8,
    timeout=30,  # seconds the reader waits for the user
)


async def find_pinpad() -> aioscard.Reader | None:
    for reader in await aioscard.readers():
        info = await reader.info()
        if Feature.VERIFY_PIN_DIRECT in info.features:
            print(f"pinpad reader: {reader}")
            for line in info.describe():
                print(f"  {line}")
            return reader
    return None


async def main() -> int:
    reader = await find_pinpad()
    if reader is None:
        print("no reader with a pinpad (FEATURE_VERIFY_PIN_DIRECT)", file=sys.stderr)
        return 1
    async with reader.createConnection() as connection:
        properties = await connection.tlv_properties()
        print(f"type a PIN of {properties.min_pin_size}..{properties.max_pin_size} digits")
        try:
            response = await connection.verify_pin_pinpad(VERIFY_PIN)
        except PinEntryTimeoutException:
            print("no PIN typed in time")
            return 2
        except PinEntryException as error:
            print(f"PIN entry ended: {error}")
            return 2
    if response.ok:
        print("PIN verified")
        return 0
    if response.sw1 == 0x63 and response.sw2 & 0xF0 == 0xC0:
        print(f"wrong PIN, {response.sw2 & 0x0F} tries left")
    else:
        print(f"the card refused: SW {response.sw:04X}")
    return 3


if __name__ == "__main__":
    sys.exit(anyio.run(main))
