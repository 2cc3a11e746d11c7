"""pytest plugin: a private pcscd with virtual readers and cards as fixtures.

Registered through the ``pytest11`` entry point, so it is active wherever
aioscard is installed.  Loading it is cheap: nothing is imported or started
until a test asks for one of its fixtures.

Fixtures:

``pcsc_simulator`` (session)
    A running :class:`~aioscard.testing.Simulator` with 4 readers (ini option
    ``aioscard_readers``, command line ``--aioscard-readers N``) on the
    simulator's own driver where it builds, else vpcd (ini ``aioscard_backend``,
    ``--aioscard-backend auto|driver|vpcd``).  While it runs,
    ``PCSCLITE_CSOCK_NAME`` points at it (restored at the end).  libpcsclite
    reads that variable once, at a process's first PC/SC call: a test session
    that makes PC/SC calls before this fixture is set up keeps talking to the
    system pcscd.
``virtual_card`` (function)
    A :class:`~aioscard.testing.DemoCard` in reader 0, already seen by pcscd;
    removed after the test (and the removal seen by pcscd).
``card_factory`` (function)
    A :class:`CardFactory`: inserts any card (ATR, handler) into any reader;
    everything it inserted is removed after the test.
``replay_card`` (function)
    A :class:`ReplayFactory`: ``replay_card(path)`` inserts a card replaying a
    session recorded with ``aioscard record``; after the test a command the
    recording did not expect fails it.
``pinpad_reader`` (function)
    Reader 0 of ``pcsc_simulator`` as a :class:`~aioscard.testing.SimulatedReader`
    whose :class:`~aioscard.testing.Pinpad` user types the demo card's PIN
    (``123456``); change ``pinpad_reader.pinpad`` in the test for other
    behaviours.  Its pinpad, control handler and attributes are restored after
    the test.  Needs the driver back-end (``SimulatorError`` on vpcd).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from ..record import Session
    from ._card import CardHandler, VirtualCard
    from ._readers import SimulatedReader
    from ._replay import ReplayCard
    from ._simulator import Simulator

__all__ = [
    "CardFactory",
    "ReplayFactory",
    "card_factory",
    "pcsc_simulator",
    "pinpad_reader",
    "replay_card",
    "virtual_card",
]

_READERS_OPTION = "--aioscard-readers"
_READERS_INI = "aioscard_readers"
_BACKEND_OPTION = "--aioscard-backend"
_BACKEND_INI = "aioscard_backend"
_DEFAULT_READERS = 4
_SOCKET_VARIABLE = "PCSCLITE_CSOCK_NAME"


def pytest_addoption(parser: pytest.Parser) -> None:
    """Add ``--aioscard-readers`` and the ``aioscard_readers`` ini option."""
    group = parser.getgroup("aioscard", "aioscard PC/SC simulator")
    group.addoption(
        _READERS_OPTION,
        type=int,
        default=None,
        metavar="N",
        help=f"readers of the pcsc_simulator fixture (default {_DEFAULT_READERS})",
    )
    parser.addini(
        _READERS_INI,
        help=f"readers of the pcsc_simulator fixture (default {_DEFAULT_READERS})",
        default=str(_DEFAULT_READERS),
    )
    group.addoption(
        _BACKEND_OPTION,
        choices=("auto", "driver", "vpcd"),
        default=None,
        help="reader back-end of the pcsc_simulator fixture (default auto: the simulator's "
        "own driver where it builds, else vpcd)",
    )
    parser.addini(
        _BACKEND_INI,
        help="reader back-end of the pcsc_simulator fixture: auto, driver or vpcd",
        default="",
    )


def _reader_count(config: pytest.Config) -> int:
    value = config.getoption(_READERS_OPTION)
    if value is None:
        value = config.getini(_READERS_INI)
    try:
        return int(value)
    except (TypeError, ValueError):
        raise pytest.UsageError(f"{_READERS_INI} must be an integer, got {value!r}") from None


@pytest.fixture(scope="session")
def pcsc_simulator(pytestconfig: pytest.Config) -> Iterator[Simulator]:
    """A private pcscd for the whole session, with ``PCSCLITE_CSOCK_NAME`` set to it."""
    from ._simulator import Simulator

    backend = pytestconfig.getoption(_BACKEND_OPTION) or pytestconfig.getini(_BACKEND_INI) or None
    try:
        simulator = Simulator(_reader_count(pytestconfig), backend=backend)
    except ValueError as exc:
        raise pytest.UsageError(f"{_BACKEND_INI}: {exc}") from None
    simulator.start()
    previous = os.environ.get(_SOCKET_VARIABLE)
    os.environ.update(simulator.env)
    try:
        yield simulator
    finally:
        if previous is None:
            os.environ.pop(_SOCKET_VARIABLE, None)
        else:
            os.environ[_SOCKET_VARIABLE] = previous
        simulator.stop()


def wait_reader_state(
    simulator: Simulator, reader: int, *, present: bool, timeout: float = 5.0
) -> None:
    """Block until PC/SC clients see ``reader`` holding a card (``present``) or empty.

    The simulator knows when pcscd has powered a card; this also waits for pcscd
    to publish the reader state, so that a test's next SCardConnect cannot race
    it.  It makes PC/SC calls in this process: call it only once
    ``PCSCLITE_CSOCK_NAME`` points at the simulator (the fixtures ensure that).

    Raises:
        TimeoutError: the state was not reached within ``timeout`` seconds.
    """
    import time

    from ..exceptions import TimeoutException
    from ..native import ReaderState, get_pcsc
    from ..native import constants as C

    api = get_pcsc()
    name = simulator.reader_names[reader]
    flag = C.SCARD_STATE_PRESENT if present else C.SCARD_STATE_EMPTY
    deadline = time.monotonic() + timeout
    context = api.establish_context()
    try:
        state = api.get_status_change(context, 0, [ReaderState(name)])[0]
        while not state.event_state & flag:
            remaining = int((deadline - time.monotonic()) * 1000)
            if remaining <= 0:
                raise TimeoutError(f"{name} did not become {'present' if present else 'empty'}")
            try:
                state = api.get_status_change(
                    context, remaining, [ReaderState(name, state.event_state)]
                )[0]
            except TimeoutException:
                continue
    finally:
        api.release_context(context)
    _await_watcher(name, present, deadline)


def _await_watcher(name: str, present: bool, deadline: float) -> None:
    """If this process's aioscard watcher runs (it serves a test's event stream or
    ``CardRequest``, or lingers after the last one left), wait until it has seen
    ``name`` become ``present`` too.

    The simulator's driver reports changes within a millisecond, so a test that
    inserts and removes a card back to back could otherwise change the reader again
    before the watcher has looked; what a card that came and went between two of
    its waits leaves is documented as not reported.  A lingering watcher hands its
    state to the next subscriber at once: the next test's ``CardRequest`` would get
    a card that this removal took away.  Gives up silently at ``deadline``: the
    caller's own assertions then say what went wrong.
    """
    import sys
    import threading
    import time

    watcher_module = sys.modules.get("aioscard.monitor._watcher")
    if watcher_module is None or not watcher_module.get_watcher().running:
        return
    from ..monitor import CardInserted, CardRemoved, MonitorEvent, Origin, subscribe

    reached = threading.Event()
    seen: list[bool] = []

    def note(origin: Origin, events: Sequence[MonitorEvent]) -> None:
        if origin is not Origin.CHANGE:
            # A snapshot lists the cards present, so a reader missing from it is empty.
            seen.append(
                any(isinstance(e, CardInserted) and str(e.card.reader) == name for e in events)
            )
        seen.extend(
            isinstance(event, CardInserted)
            for event in events
            if isinstance(event, (CardInserted, CardRemoved)) and str(event.card.reader) == name
        )
        if seen and seen[-1] == present:
            reached.set()

    subscription = subscribe(note)
    try:
        reached.wait(max(0.0, deadline - time.monotonic()))
    finally:
        subscription.close()


def _ensure_running(simulator: Simulator) -> None:
    # A test that killed the session's pcscd must not break every later test.
    if not simulator.running:
        simulator.restart()


class CardFactory:
    """Inserts virtual cards into the session simulator's readers for one test.

    Every card inserted through it is removed when the test ends.
    """

    def __init__(self, simulator: Simulator) -> None:
        self.simulator = simulator
        self._readers: list[int] = []

    def __call__(
        self,
        atr: bytes | bytearray | memoryview | Sequence[int] | None = None,
        handler: CardHandler | None = None,
        *,
        reader: int | None = None,
        name: str | None = None,
        wait: bool = True,
        timeout: float = 5.0,
    ) -> VirtualCard:
        """Make a card (default ATR: DEMO_ATR, default handler: a new DemoCard) and
        insert it into ``reader`` (default: the first empty one).

        Raises:
            ValueError: bad ``atr`` or no such reader.
            SimulatorError: no reader is empty, or ``reader`` holds a card.
            TimeoutError: ``wait`` and pcscd did not power the card in ``timeout``.

        Cancellation: with ``wait``, blocks until pcscd has seen the card (<= 0.4 s).
        """
        from ._atr import DEMO_ATR
        from ._card import VirtualCard

        chosen = self._free_reader() if reader is None else reader
        card = VirtualCard(
            DEMO_ATR if atr is None else atr,
            handler,
            name=name or f"test card in reader {chosen}",
        )
        return self.insert(card, chosen, wait=wait, timeout=timeout)

    def insert(
        self,
        card: VirtualCard,
        reader: int | None = None,
        *,
        wait: bool = True,
        timeout: float = 5.0,
    ) -> VirtualCard:
        """Insert a ready-made ``card``; otherwise as calling the factory."""
        chosen = self._free_reader() if reader is None else reader
        self.simulator.insert(card, chosen, wait=wait, timeout=timeout)
        self._readers.append(chosen)
        if wait:
            wait_reader_state(self.simulator, chosen, present=True, timeout=timeout)
        return card

    def remove(self, reader: int, *, wait: bool = True) -> None:
        """Pull the card out of ``reader`` (see :meth:`aioscard.testing.Simulator.remove`); with
        ``wait``, return once PC/SC clients see the reader empty."""
        self.simulator.remove(reader, wait=wait)
        if wait:
            wait_reader_state(self.simulator, reader, present=False)

    def remove_all(self) -> None:
        """Remove every card this factory inserted, waiting until pcscd saw it."""
        readers, self._readers = self._readers, []
        for reader in readers:
            self.remove(reader, wait=True)

    def _free_reader(self) -> int:
        from ._errors import SimulatorError

        for reader in range(self.simulator.readers):
            if self.simulator.card(reader) is None:
                return reader
        raise SimulatorError("every reader of the simulator holds a card")


@pytest.fixture
def card_factory(pcsc_simulator: Simulator) -> Iterator[CardFactory]:
    """A :class:`CardFactory` on the session simulator; its cards go after the test."""
    _ensure_running(pcsc_simulator)
    factory = CardFactory(pcsc_simulator)
    try:
        yield factory
    finally:
        factory.remove_all()


@pytest.fixture
def virtual_card(pcsc_simulator: Simulator) -> Iterator[VirtualCard]:
    """A demo card in reader 0, powered by pcscd; removed after the test."""
    _ensure_running(pcsc_simulator)
    card = pcsc_simulator.insert(reader=0)
    try:
        wait_reader_state(pcsc_simulator, 0, present=True)
        yield card
    finally:
        pcsc_simulator.remove(0, wait=True)
        if pcsc_simulator.running:
            wait_reader_state(pcsc_simulator, 0, present=False)


@pytest.fixture
def pinpad_reader(pcsc_simulator: Simulator) -> Iterator[SimulatedReader]:
    """Reader 0 as a pinpad whose user types the demo card's PIN; restored after the test."""
    from ._demo import DEFAULT_PIN
    from ._pinpad import Pinpad

    _ensure_running(pcsc_simulator)
    reader = pcsc_simulator.reader(0)
    saved = (reader.pinpad, reader.control, dict(reader.attributes), set(reader.read_only))
    reader.pinpad = Pinpad(DEFAULT_PIN.decode("ascii"))
    try:
        yield reader
    finally:
        reader.pinpad, reader.control = saved[0], saved[1]
        reader.attributes.clear()
        reader.attributes.update(saved[2])
        reader.read_only.clear()
        reader.read_only.update(saved[3])


class ReplayFactory:
    """Inserts :class:`~aioscard.testing.ReplayCard` cards for one test, and checks them
    after it: a command the recording did not expect fails the test."""

    def __init__(self, cards: CardFactory) -> None:
        self._cards = cards
        self.made: list[ReplayCard] = []
        self._complete: dict[int, bool | None] = {}

    def __call__(
        self,
        recording: str | os.PathLike[str] | Session,
        *,
        reader: int | None = None,
        strict: bool = True,
        complete: bool | None = None,
    ) -> ReplayCard:
        """Insert a card replaying ``recording`` (see :class:`~aioscard.testing.ReplayCard`)
        into ``reader`` (default: the first empty one).  After the test its
        :meth:`~aioscard.testing.ReplayCard.check` runs with ``complete``.

        Raises:
            RecordingError, OSError, ValueError: as ``ReplayCard`` raises.
            SimulatorError, TimeoutError: as the card factory raises.
        """
        from ._replay import ReplayCard

        card = ReplayCard(recording, strict=strict)
        self._cards(card.atr, card, reader=reader, name="replay card")
        self.made.append(card)
        self._complete[id(card)] = complete
        return card

    def check(self) -> None:
        """Check every card made (raises the first mismatch)."""
        for card in self.made:
            card.check(complete=self._complete[id(card)])


@pytest.fixture
def replay_card(card_factory: CardFactory) -> Iterator[ReplayFactory]:
    """A :class:`ReplayFactory`: ``replay_card("session.jsonl")`` inserts a card that
    replays a recorded session; after the test the cards are removed and
    checked, so a mismatch (or, in strict order, a command never sent) fails
    the test with the APDU sent and the one expected."""
    factory = ReplayFactory(card_factory)
    yield factory
    card_factory.remove_all()
    factory.check()
