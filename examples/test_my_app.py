"""Testing your own smartcard code with aioscard's pytest plugin: no hardware needed.

Installing ``aioscard[testing]`` registers the plugin.  Its fixtures:

- ``pcsc_simulator`` (session): a private pcscd with virtual readers; it sets
  ``PCSCLITE_CSOCK_NAME`` so that aioscard (and anything else using
  libpcsclite in the process) talks to it.
- ``virtual_card``: a demo card in reader 0 for the length of one test.
- ``card_factory``: insert any card (your ATR, your APDU handler) into any reader.

Run it with ``python -m pytest examples/test_my_app.py``.  The async tests run
on anyio's pytest plugin (anyio comes with aioscard); pytest-asyncio works too.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

import pytest
from my_app import NoCPLCError, first_card_serial, ic_serial

import aioscard
from aioscard.testing import ATR_T0, DEMO_CPLC, Simulator, VirtualCard

if TYPE_CHECKING:
    from aioscard.testing.plugin import CardFactory

pytestmark = pytest.mark.anyio

# What the demo card's GET DATA answers, at the IC serial number's place.
DEMO_SERIAL = DEMO_CPLC[3 + 12 : 3 + 16].hex().upper()


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def test_reads_the_demo_cards_serial(virtual_card: VirtualCard) -> None:
    reader = (await aioscard.readers())[0]
    async with reader.createConnection() as connection:
        assert await ic_serial(connection) == DEMO_SERIAL


async def test_a_card_without_cplc_is_an_error(card_factory: CardFactory) -> None:
    # Any callable bytes -> bytes is a card: this one knows no command at all.
    card_factory(ATR_T0, lambda apdu: bytes.fromhex("6D00"), reader=1)
    reader = (await aioscard.readers())[1]
    async with reader.createConnection() as connection:
        with pytest.raises(NoCPLCError, match="6D00"):
            await ic_serial(connection)


async def test_waits_for_a_card_inserted_later(
    pcsc_simulator: Simulator, card_factory: CardFactory
) -> None:
    # Insert the card from another thread while the app waits for it.
    inserter = threading.Timer(0.3, card_factory, kwargs={"reader": 2})
    inserter.start()
    try:
        reader, serial = await first_card_serial(timeout=5)
    finally:
        inserter.join()
    assert (reader, serial) == (pcsc_simulator.reader_names[2], DEMO_SERIAL)


async def test_no_card_times_out(pcsc_simulator: Simulator) -> None:
    with pytest.raises(aioscard.CardRequestTimeoutException):
        await first_card_serial(timeout=0.2)
