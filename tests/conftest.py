"""Fixtures for every test of the suite.

Async tests marked ``@pytest.mark.anyio`` run once per event loop backend
(asyncio and trio), through the ``anyio_backend`` fixture below, as anyio's
own test suite does.  A test that is deliberately one backend overrides it
with ``@pytest.mark.parametrize("anyio_backend", ["asyncio"])`` (see
``asyncio_only`` in ``_support``); a test of asyncio-only behaviour uses
``@pytest.mark.asyncio`` (pytest-asyncio) instead.
"""

from __future__ import annotations

import signal
from typing import TYPE_CHECKING

import pytest

from aioscard.monitor import get_watcher

from ._support import end_idle_watcher

if TYPE_CHECKING:
    from collections.abc import Iterator

# Several tests press Ctrl-C (SIGINT) in programs they start, as on a terminal.  A
# shell without job control starts its background commands with SIGINT ignored, and
# an ignored signal stays ignored across exec: run from there (`bash .ci/run &` in a
# script), every program these tests start would ignore the Ctrl-C.  A handler, unlike
# the ignore, is not inherited.
if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.fixture(params=[pytest.param("asyncio", id="asyncio"), pytest.param("trio", id="trio")])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(autouse=True)
def watcher_is_idle_around_each_test() -> Iterator[None]:
    # Every request, monitor and observer a test made must have left the shared
    # watcher with no subscriber by the time the test returns.  Its one-second
    # linger is cut short, so that the next test's thread and context counts do
    # not inherit it.
    assert not get_watcher().running
    yield
    end_idle_watcher()
