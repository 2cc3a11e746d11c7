"""The watcher's reader model and what a new look at the readers changes in it.

Pure functions over plain values: no thread, no PC/SC call, no lock.  The
watcher thread (:mod:`aioscard.monitor._watcher`) feeds them what
SCardGetStatusChange and SCardListReaders returned and hands the events they
compute to its subscribers; the unit tests feed them made-up reader states.

The model maps each reader name to a :class:`Slot`: the reader, the last
``dwEventState`` seen for it (event counter in the upper 16 bits included) and
the card it holds, if any.  Models are never changed in place: each function
returns a new one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ..card import Card
from ..exceptions import SmartcardException
from ..native import ReaderState
from ..native import constants as C
from ..reader import Reader
from ._events import (
    CardInserted,
    CardRemoved,
    MonitorEvent,
    ReaderAdded,
    ReaderRemoved,
    ServiceLost,
)

__all__ = [
    "Model",
    "Slot",
    "changes",
    "first_model",
    "lost_events",
    "present",
    "present_events",
    "unplugged",
    "wait_states",
]

# What pcsc-lite reports for a reader that has been unplugged.
_GONE = C.SCARD_STATE_UNKNOWN | C.SCARD_STATE_UNAVAILABLE
_COUNT_MASK = C.SCARD_STATE_EVENT_COUNT_MASK


@dataclass(frozen=True, slots=True)
class Slot:
    """What the watcher knows about one reader."""

    reader: Reader
    #: The last ``dwEventState`` seen, event counter included.
    state: int
    card: Card | None


#: Reader name -> what is known about that reader, in the order PC/SC listed them.
Model = Mapping[str, Slot]


def present(event_state: int) -> bool:
    """Whether ``event_state`` says a card is in a reader that is still there."""
    return bool(event_state & C.SCARD_STATE_PRESENT) and not event_state & _GONE


def unplugged(event_state: int) -> bool:
    """Whether ``event_state`` says the reader was unplugged (list the readers again)."""
    return bool(event_state & _GONE)


def first_model(found: Sequence[ReaderState]) -> dict[str, Slot]:
    """The model from a first look (states asked with ``SCARD_STATE_UNAWARE``)."""
    model: dict[str, Slot] = {}
    for state in found:
        reader = Reader(state.reader)
        card = Card(reader, state.atr) if present(state.event_state) else None
        model[state.reader] = Slot(reader, state.event_state, card)
    return model


def present_events(model: Model) -> list[MonitorEvent]:
    """The readers and cards of ``model`` as arrivals: what a newcomer is told."""
    events: list[MonitorEvent] = [ReaderAdded(slot.reader) for slot in model.values()]
    events += [CardInserted(slot.card) for slot in model.values() if slot.card]
    return events


def lost_events(model: Model, error: SmartcardException) -> list[MonitorEvent]:
    """What subscribers are told when the PC/SC service is lost: the loss, then
    every card and reader of ``model`` gone."""
    events: list[MonitorEvent] = [ServiceLost(error)]
    events += [CardRemoved(slot.card) for slot in model.values() if slot.card]
    events += [ReaderRemoved(slot.reader) for slot in model.values()]
    return events


def wait_states(model: Model) -> list[ReaderState]:
    """The reader states for the next SCardGetStatusChange: what is known, as
    ``dwCurrentState`` (the CHANGED bit is PC/SC's answer, not a state)."""
    return [
        ReaderState(slot.reader.name, slot.state & ~C.SCARD_STATE_CHANGED)
        for slot in model.values()
    ]


def changes(
    model: Model, result: Sequence[ReaderState], names: Sequence[str]
) -> tuple[dict[str, Slot], list[MonitorEvent]]:
    """The new model and the events, from the states a wait returned (``result``;
    empty after a timeout) and the readers there now (``names``).

    A reader missing from ``names`` is removed (its card first); a new name is
    added with an UNAWARE state, so that the next wait returns at once with its
    card.  A reader whose card changed, whose presence changed, or whose event
    counter moved while it held a card both times (pulled and put back between
    two waits) reports a removal and then an insertion.
    """
    events: list[MonitorEvent] = []
    new = dict(model)
    wanted = set(names)
    for name in list(new):
        if name not in wanted:
            old = new.pop(name)
            if old.card is not None:
                events.append(CardRemoved(old.card))
            events.append(ReaderRemoved(old.reader))
    for name in names:
        if name not in new:
            # Its state comes with the next wait, which returns at once for an UNAWARE entry.
            new[name] = Slot(Reader(name), C.SCARD_STATE_UNAWARE, None)
            events.append(ReaderAdded(new[name].reader))
    for state in result:
        slot = new.get(state.reader)
        if slot is None:
            continue
        old_card = slot.card
        is_present = present(state.event_state)
        # A new event count on a reader holding a card both times: pulled and put back.
        recount = (state.event_state & _COUNT_MASK) != (slot.state & _COUNT_MASK)
        if old_card is not None and (not is_present or recount or bytes(old_card.atr) != state.atr):
            events.append(CardRemoved(old_card))
            old_card = None
        new_card = old_card
        if is_present and old_card is None:
            new_card = Card(slot.reader, state.atr)
            events.append(CardInserted(new_card))
        new[state.reader] = Slot(slot.reader, state.event_state, new_card)
    return new, events
