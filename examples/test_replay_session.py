"""Testing against a recorded card session: the ``replay_card`` fixture.

``demo_session.jsonl`` was recorded from a card with ``record_session.py``
(or ``aioscard record``).  The fixture inserts a card that answers as the
recorded one did, in the recorded order; a command the recording does not
expect makes it answer ``6F 00`` and fails the test after it, naming the APDU
sent and the one expected.

Run it with ``python -m pytest examples/test_replay_session.py``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from my_app import ic_serial

import aioscard

if TYPE_CHECKING:
    from aioscard.testing.plugin import ReplayFactory

pytestmark = pytest.mark.anyio

RECORDING = Path(__file__).with_name("demo_session.jsonl")


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def test_reads_the_serial_from_the_recorded_card(replay_card: ReplayFactory) -> None:
    card = replay_card(RECORDING, reader=0)
    reader = (await aioscard.readers())[0]
    async with reader.createConnection() as connection:
        assert await ic_serial(connection) == "60411234"
    assert card.replayed == 1


async def test_lookup_mode_answers_repeated_commands(replay_card: ReplayFactory) -> None:
    replay_card(RECORDING, reader=1, strict=False)
    reader = (await aioscard.readers())[1]
    async with reader.createConnection() as connection:
        assert await ic_serial(connection) == await ic_serial(connection)
