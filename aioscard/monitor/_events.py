"""The events the shared watcher reports, as small immutable values usable with ``match``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeAlias

from ..card import Card
from ..exceptions import SmartcardException
from ..reader import Reader

__all__ = [
    "CardEvent",
    "CardInserted",
    "CardRemoved",
    "EventsDropped",
    "MonitorEvent",
    "ReaderAdded",
    "ReaderEvent",
    "ReaderRemoved",
    "ServiceLost",
    "ServiceRestored",
]


@dataclass(frozen=True, slots=True)
class MonitorEvent:
    """Base class of every monitor event."""


@dataclass(frozen=True, slots=True)
class CardInserted(MonitorEvent):
    """``card`` was inserted into ``card.reader`` (or was there when watching began).

    ``uid`` is the contactless card's UID when the stream was opened with
    ``card_events(uid=True)`` and the reader gave one; ``None`` otherwise (not
    asked for, a contact card, or the card could not be reached).
    """

    card: Card
    uid: bytes | None = None

    @property
    def reader(self) -> Reader:
        """The reader holding the card."""
        return self.card.reader


@dataclass(frozen=True, slots=True)
class CardRemoved(MonitorEvent):
    """``card`` left ``card.reader`` (pulled out, its reader unplugged, or pcscd lost)."""

    card: Card

    @property
    def reader(self) -> Reader:
        """The reader that held the card."""
        return self.card.reader


@dataclass(frozen=True, slots=True)
class ReaderAdded(MonitorEvent):
    """``reader`` appeared (or was there when watching began)."""

    reader: Reader


@dataclass(frozen=True, slots=True)
class ReaderRemoved(MonitorEvent):
    """``reader`` went away (unplugged, or pcscd lost)."""

    reader: Reader


@dataclass(frozen=True, slots=True)
class ServiceLost(MonitorEvent):
    """The PC/SC service (pcscd) stopped answering; ``error`` says how.

    Followed at once by a removal event for every card (or reader) that was
    known, since none of them can be used any more.  The watcher keeps trying
    to reach the service again, with growing pauses, and says
    :class:`ServiceRestored` when it succeeds.
    """

    error: SmartcardException


@dataclass(frozen=True, slots=True)
class ServiceRestored(MonitorEvent):
    """The PC/SC service answers again after a :class:`ServiceLost`.

    Followed at once by an insertion event for every card (or reader) present
    now; connections made before the loss stay dead and must be made anew.
    """


@dataclass(frozen=True, slots=True)
class EventsDropped(MonitorEvent):
    """The consumer fell more than its buffer behind: ``count`` events were dropped.

    The events that follow at once bring the consumer's view up to date: a
    removal for every card (or reader) it was told about that is gone now, an
    insertion for every one present now that it was not told about.
    """

    count: int


#: What ``async for`` over :func:`~aioscard.monitor.card_events` yields.
CardEvent: TypeAlias = CardInserted | CardRemoved | ServiceLost | ServiceRestored | EventsDropped
#: What ``async for`` over :func:`~aioscard.monitor.reader_events` yields.
ReaderEvent: TypeAlias = ReaderAdded | ReaderRemoved | ServiceLost | ServiceRestored | EventsDropped
