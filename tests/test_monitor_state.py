"""The watcher's old-state/new-state comparison on its own: no thread, no PC/SC, no card.

The functions of ``aioscard.monitor._state`` take what SCardGetStatusChange and
SCardListReaders would return and give the events subscribers see.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from aioscard import Card, Reader
from aioscard.exceptions import ServiceUnavailableException
from aioscard.monitor import (
    CardInserted,
    CardRemoved,
    MonitorEvent,
    ReaderAdded,
    ReaderRemoved,
    ServiceLost,
)
from aioscard.monitor._state import (
    Slot,
    changes,
    first_model,
    lost_events,
    present,
    present_events,
    unplugged,
    wait_states,
)
from aioscard.native import ReaderState
from aioscard.native import constants as C

ATR_A = bytes.fromhex("3B880161696F736361726489")
ATR_B = bytes.fromhex("3B0861696F7363617264")
PRESENT = C.SCARD_STATE_PRESENT
EMPTY = C.SCARD_STATE_EMPTY
CHANGED = C.SCARD_STATE_CHANGED
GONE = C.SCARD_STATE_UNKNOWN | C.SCARD_STATE_UNAVAILABLE


def counted(count: int, bits: int) -> int:
    """An event state with PC/SC's event counter in the upper 16 bits."""
    return count << 16 | bits


def card(name: str, atr: bytes = ATR_A) -> Card:
    return Card(Reader(name), atr)


def model(*slots: tuple[str, int, bytes | None]) -> dict[str, Slot]:
    return {
        name: Slot(Reader(name), state, None if atr is None else card(name, atr))
        for name, state, atr in slots
    }


def test_a_first_look_knows_the_readers_and_their_cards() -> None:
    found = [
        ReaderState("R0", 0, counted(1, PRESENT | CHANGED), ATR_A),
        ReaderState("R1", 0, counted(0, EMPTY | CHANGED)),
        # Unplugged while being looked at: whatever else it says, it holds no card.
        ReaderState("R2", 0, GONE | PRESENT, ATR_B),
    ]
    first = first_model(found)
    assert list(first) == ["R0", "R1", "R2"]
    assert first["R0"].card == card("R0")
    assert first["R1"].card is None
    assert first["R2"].card is None
    assert present_events(first) == [
        ReaderAdded(Reader("R0")),
        ReaderAdded(Reader("R1")),
        ReaderAdded(Reader("R2")),
        CardInserted(card("R0")),
    ]


def test_a_card_put_in_and_taken_out() -> None:
    before = model(("R0", counted(0, EMPTY), None))
    after, events = changes(before, [ReaderState("R0", 0, counted(1, PRESENT), ATR_A)], ["R0"])
    assert events == [CardInserted(card("R0"))]
    assert after["R0"].card == card("R0")
    assert before["R0"].card is None  # the old model is left as it was
    gone, events = changes(after, [ReaderState("R0", 0, counted(2, EMPTY))], ["R0"])
    assert events == [CardRemoved(card("R0"))]
    assert gone["R0"].card is None


def test_a_card_pulled_and_put_back_between_two_waits_is_told_by_the_counter() -> None:
    before = model(("R0", counted(1, PRESENT), ATR_A))
    after, events = changes(before, [ReaderState("R0", 0, counted(3, PRESENT), ATR_A)], ["R0"])
    assert events == [CardRemoved(card("R0")), CardInserted(card("R0"))]
    assert after["R0"].state == counted(3, PRESENT)


def test_another_card_under_the_same_count_is_a_removal_and_an_insertion() -> None:
    before = model(("R0", counted(1, PRESENT), ATR_A))
    _, events = changes(before, [ReaderState("R0", 0, counted(1, PRESENT), ATR_B)], ["R0"])
    assert events == [CardRemoved(card("R0")), CardInserted(card("R0", ATR_B))]


def test_nothing_new_is_no_event() -> None:
    before = model(("R0", counted(1, PRESENT), ATR_A), ("R1", counted(0, EMPTY), None))
    after, events = changes(before, [], ["R0", "R1"])  # a timeout: no states
    assert (after, events) == (before, [])
    same = [ReaderState("R0", 0, counted(1, PRESENT | CHANGED), ATR_A)]
    after, events = changes(before, same, ["R0", "R1"])
    assert events == []
    assert after["R0"].card == card("R0")


def test_readers_plugged_in_and_unplugged() -> None:
    before = model(("R0", counted(1, PRESENT), ATR_A), ("R1", counted(0, EMPTY), None))
    after, events = changes(before, [], ["R1", "R2"])
    assert events == [
        CardRemoved(card("R0")),
        ReaderRemoved(Reader("R0")),
        ReaderAdded(Reader("R2")),
    ]
    assert list(after) == ["R1", "R2"]
    # The newcomer's state is unknown: the next wait returns at once with it.
    assert after["R2"] == Slot(Reader("R2"), C.SCARD_STATE_UNAWARE, None)
    assert [state.current_state for state in wait_states(after)] == [
        counted(0, EMPTY),
        C.SCARD_STATE_UNAWARE,
    ]


def test_a_state_for_a_reader_no_longer_listed_is_ignored() -> None:
    before = model(("R0", counted(0, EMPTY), None))
    after, events = changes(before, [ReaderState("R9", 0, counted(1, PRESENT), ATR_A)], ["R0"])
    assert (after, events) == (before, [])


def test_the_next_wait_asks_with_what_is_known_without_the_changed_bit() -> None:
    known = model(("R0", counted(4, PRESENT | CHANGED), ATR_A))
    assert wait_states(known) == [ReaderState("R0", counted(4, PRESENT))]


def test_losing_the_service_removes_every_card_then_every_reader() -> None:
    error = ServiceUnavailableException("gone", 0x8010001D)
    known = model(("R0", counted(1, PRESENT), ATR_A), ("R1", counted(0, EMPTY), None))
    assert lost_events(known, error) == [
        ServiceLost(error),
        CardRemoved(card("R0")),
        ReaderRemoved(Reader("R0")),
        ReaderRemoved(Reader("R1")),
    ]


def test_presence_needs_the_reader_to_be_there() -> None:
    assert present(PRESENT)
    assert not present(EMPTY)
    assert not present(PRESENT | C.SCARD_STATE_UNAVAILABLE)
    assert unplugged(C.SCARD_STATE_UNKNOWN)
    assert not unplugged(PRESENT | EMPTY)


# -- whatever PC/SC says, the events tell the story of the model -------------------------

NAMES = ["R0", "R1", "R2"]
states = st.builds(
    lambda name, count, bits, atr: ReaderState(name, 0, counted(count, bits), atr),
    st.sampled_from(NAMES),
    st.integers(0, 3),
    st.sampled_from([PRESENT, EMPTY, PRESENT | CHANGED, EMPTY | CHANGED, GONE]),
    st.sampled_from([ATR_A, ATR_B]),
)
# PC/SC answers with one state per reader asked about.
looks = st.tuples(
    st.lists(states, max_size=3, unique_by=lambda state: state.reader),
    st.lists(st.sampled_from(NAMES), unique=True),
)


def replay(cards: dict[str, Card], readers: set[str], events: list[MonitorEvent]) -> None:
    """Apply events to what a subscriber believes, checking each makes sense."""
    for event in events:
        if isinstance(event, CardInserted):
            assert event.card.reader.name in readers
            assert event.card.reader.name not in cards, "inserted twice"
            cards[event.card.reader.name] = event.card
        elif isinstance(event, CardRemoved):
            assert cards.pop(event.card.reader.name) == event.card, "removed a card not there"
        elif isinstance(event, ReaderAdded):
            assert event.reader.name not in readers
            readers.add(event.reader.name)
        elif isinstance(event, ReaderRemoved):
            assert event.reader.name not in cards, "reader removed before its card"
            readers.remove(event.reader.name)


@given(st.lists(looks, max_size=8))
def test_a_subscriber_folding_the_events_knows_what_the_watcher_knows(
    sequence: list[tuple[list[ReaderState], list[str]]],
) -> None:
    current: dict[str, Slot] = {}
    cards: dict[str, Card] = {}
    readers: set[str] = set()
    for result, names in sequence:
        current, events = changes(current, result, names)
        replay(cards, readers, events)
        assert readers == set(current)
        assert cards == {name: slot.card for name, slot in current.items() if slot.card}
        # The same answer again tells nothing new.
        again, repeated = changes(current, result, names)
        assert repeated == []
        assert again == current
