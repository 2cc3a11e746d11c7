"""Fixtures for every test of the suite."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from aioscard.monitor import get_watcher

from ._support import end_idle_watcher


@pytest.fixture(autouse=True)
def watcher_is_idle_around_each_test() -> Iterator[None]:
    # Every request, monitor and observer a test made must have left the shared
    # watcher with no subscriber by the time the test returns.  Its one-second
    # linger is cut short, so that the next test's thread and context counts do
    # not inherit it.
    assert not get_watcher().running
    yield
    end_idle_watcher()
