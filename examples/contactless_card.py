"""Read and write a contactless storage card (MIFARE Classic 1K) through a PC/SC reader.

    python examples/contactless_card.py [SECONDS]

Waits up to SECONDS (default 10) for a card that has a UID, using
``card_events(uid=True)`` (contact cards come with ``uid=None`` and are
skipped), names it from its ATR, then loads the transport key into the reader,
authenticates sector 1 and reads, writes and reads back block 4.  With the
simulator: ``aioscard sim --card mifare``, then this program with the
``PCSCLITE_CSOCK_NAME`` that it prints.
"""

from __future__ import annotations

import sys

import anyio

from aioscard import Reader, contactless
from aioscard.contactless import KeyType
from aioscard.monitor import CardInserted, card_events
from aioscard.util import to_hex

TRANSPORT_KEY = bytes.fromhex("FFFFFFFFFFFF")
BLOCK = 4


async def wait_for_contactless_card(seconds: float) -> tuple[str, bytes, bytes]:
    """The reader, UID and ATR of the first card with a UID."""
    with anyio.fail_after(seconds):
        async with card_events(uid=True) as events:
            async for event in events:
                if isinstance(event, CardInserted):
                    if event.uid is None:
                        print(f"{event.reader}: no UID (a contact card?)")
                        continue
                    return event.reader.name, event.uid, bytes(event.card.atr)
    raise RuntimeError("the event stream ended")


async def main(seconds: float) -> None:
    reader, uid, atr = await wait_for_contactless_card(seconds)
    print(f"{reader}: UID {to_hex(uid)}")
    print(f"card: {contactless.storage_card_name(atr) or 'not a PC/SC storage card'}")
    async with Reader(reader).createConnection() as connection:
        await contactless.load_key(connection, TRANSPORT_KEY, key_number=0)
        await contactless.authenticate(connection, BLOCK, KeyType.A, key_number=0)
        before = await contactless.read_binary(connection, BLOCK)
        print(f"block {BLOCK}: {to_hex(before)}")
        await contactless.update_binary(connection, BLOCK, b"written by aioscard"[:16])
        after = await contactless.read_binary(connection, BLOCK)
        print(f"block {BLOCK} now: {after.decode('ascii', 'replace')!r}")
        try:
            await contactless.read_binary(connection, 8)  # sector 2 is not open
        except contactless.SecurityStatusError as error:
            print(f"block 8: {error}")


if __name__ == "__main__":
    anyio.run(main, float(sys.argv[1]) if len(sys.argv) > 1 else 10.0)
