"""Fixtures for every test of the suite."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from aioscard.monitor import get_watcher


@pytest.fixture(autouse=True)
def no_lingering_watcher() -> Iterator[None]:
    # The process-wide watcher lingers a second after its last subscriber leaves;
    # the next test's resource counts must not inherit it.
    yield
    get_watcher().stop_if_idle()
