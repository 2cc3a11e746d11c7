"""Name a card from its ATR with pcsc-tools' smartcard_list.txt.

    python examples/identify_card.py [--list FILE] [ATR]

Without an ATR, the ATR of the card in the first reader that holds one.  The
list is FILE, else ``$AIOSCARD_SMARTCARD_LIST``, else where pcsc-tools installs
it (``apt-get install pcsc-tools`` puts it in /usr/share/pcsc/).  A PC/SC part 3
storage card (MIFARE and the like) is also named from the ATR itself.
"""

from __future__ import annotations

import argparse
import sys

import anyio

import aioscard
from aioscard.atr import ATR
from aioscard.contactless import storage_card_name
from aioscard.identify import SmartcardListNotFoundError


async def card_atr() -> ATR:
    for reader in await aioscard.readers():
        connection = reader.createConnection()
        try:
            async with connection:
                print(f"reader: {reader}")
                return ATR(connection.getATR())
        except aioscard.NoCardException:
            continue
    raise SystemExit("no card in any reader")


async def main(options: argparse.Namespace) -> int:
    atr = ATR(options.atr) if options.atr else await card_atr()
    print(f"ATR: {atr}")
    name = storage_card_name(atr)
    if name is not None:
        print(f"storage card (from the ATR): {name}")
    try:
        # Reading the list is file I/O: keep it off the event loop.
        known = await anyio.to_thread.run_sync(atr.identify, options.list)
    except SmartcardListNotFoundError as error:
        print(f"cannot name the card: {error}")
        return 1
    if not known:
        print("not in the list")
    for entry in known:
        print(f"{entry.name}  (line {entry.line}: {entry.pattern})")
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--list", help="the smartcard_list.txt to use")
    parser.add_argument("atr", nargs="?", help="an ATR in hex (default: the card's)")
    sys.exit(anyio.run(main, parser.parse_args()))
