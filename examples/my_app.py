"""A small application to test: read a card's IC serial number from its CPLC.

``examples/test_my_app.py`` tests it without hardware, with aioscard's pytest
plugin (a private pcscd with virtual readers and cards).
"""

from __future__ import annotations

import aioscard

GET_CPLC = bytes.fromhex("00CA9F7F00")  # GlobalPlatform GET DATA, tag 9F7F
_CPLC_HEADER = bytes.fromhex("9F7F")
_SERIAL = slice(3 + 12, 3 + 16)  # tag and length, then 12 bytes before the IC serial number


class NoCPLCError(Exception):
    """The card has no CPLC data (or refused to give it)."""


async def ic_serial(connection: aioscard.CardConnection) -> str:
    """The IC serial number in the card's CPLC, as 8 hex digits.

    Raises:
        NoCPLCError: the card answered GET DATA with an error status word or no CPLC.
    """
    response = await connection.transmit(GET_CPLC)
    data = bytes(response.data)
    if not response.ok or not data.startswith(_CPLC_HEADER) or len(data) < _SERIAL.stop:
        raise NoCPLCError(f"no CPLC (SW {response.sw:04X})")
    return data[_SERIAL].hex().upper()


async def first_card_serial(timeout: float = 5.0) -> tuple[str, str]:
    """Wait for a card (up to ``timeout`` seconds); return its reader and IC serial.

    Raises:
        aioscard.CardRequestTimeoutException: no card came.
        NoCPLCError: as :func:`ic_serial`.
    """
    async with aioscard.CardRequest(timeout=timeout).waitforcard() as service:
        return service.connection.reader, await ic_serial(service.connection)
