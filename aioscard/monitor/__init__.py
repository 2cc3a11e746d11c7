"""Card and reader events from one shared watcher: ``async for`` over what happens.

>>> async with aioscard.monitor.card_events() as events:
...     async for event in events:
...         match event:
...             case CardInserted(card):
...                 print("in:", card)
...             case CardRemoved(card):
...                 print("out:", card)

Every stream, every pending :class:`~aioscard.CardRequest` wait and every
synchronous observer (:func:`subscribe`) of a process is served by a single
watcher thread holding a single PC/SC context, blocked in SCardGetStatusChange
until something happens: no polling, no thread per wait.  The thread starts
with the first subscriber and ends, releasing its context, with the last.

pcscd going away is reported, never swallowed: :class:`ServiceLost` (then a
removal for every known card or reader), and once the watcher reaches pcscd
again :class:`ServiceRestored` (then an insertion for everything present).
A consumer that falls more than its buffer behind gets :class:`EventsDropped`
and the events that bring it up to date.
"""

from __future__ import annotations

from ._events import CardEvent as CardEvent
from ._events import CardInserted as CardInserted
from ._events import CardRemoved as CardRemoved
from ._events import EventsDropped as EventsDropped
from ._events import MonitorEvent as MonitorEvent
from ._events import ReaderAdded as ReaderAdded
from ._events import ReaderEvent as ReaderEvent
from ._events import ReaderRemoved as ReaderRemoved
from ._events import ServiceLost as ServiceLost
from ._events import ServiceRestored as ServiceRestored
from ._stream import DEFAULT_BUFFER as DEFAULT_BUFFER
from ._stream import EventStream as EventStream
from ._stream import card_events as card_events
from ._stream import reader_events as reader_events
from ._watcher import Callback as Callback
from ._watcher import Origin as Origin
from ._watcher import SubscriberGone as SubscriberGone
from ._watcher import Subscription as Subscription
from ._watcher import Watcher as Watcher
from ._watcher import get_watcher as get_watcher
from ._watcher import subscribe as subscribe

__all__ = [
    "DEFAULT_BUFFER",
    "Callback",
    "CardEvent",
    "CardInserted",
    "CardRemoved",
    "EventStream",
    "EventsDropped",
    "MonitorEvent",
    "Origin",
    "ReaderAdded",
    "ReaderEvent",
    "ReaderRemoved",
    "ServiceLost",
    "ServiceRestored",
    "SubscriberGone",
    "Subscription",
    "Watcher",
    "card_events",
    "get_watcher",
    "reader_events",
    "subscribe",
]
