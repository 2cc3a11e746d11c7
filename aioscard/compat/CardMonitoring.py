"""pyscard's ``smartcard.CardMonitoring``: observers told of card insertions and removals.

:class:`CardMonitor` is fed by aioscard's shared watcher: no polling, no
thread per wait.  Each observer gets ``update(monitor, (added, removed))``
with lists of :class:`~aioscard.compat.Card.Card`; first, when it is added,
with the cards already present.  An observer's exception is logged and
monitoring goes on.  Deleting the last observer stops watching at once.
When pcscd goes away the cards are reported removed, and present again once
it is back.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from aioscard.monitor import CardInserted, CardRemoved, MonitorEvent

from ._monitoring import WatcherMonitor
from .Card import Card
from .Observer import Observer

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["CardMonitor", "CardMonitoringThread", "CardObserver"]


class CardObserver(Observer):
    """Base class of card observers: override :meth:`update`."""

    def update(self, observable: Any, handlers: Any) -> None:
        """Called with ``(addedcards, removedcards)``, two lists of cards."""


class CardMonitor(WatcherMonitor[str, Card]):
    """The process's card monitor: ``CardMonitor()`` always returns the same object."""

    _instance: CardMonitor | None = None
    _thread_name = "aioscard-compat-cardmonitor"

    def __new__(cls) -> CardMonitor:
        instance = cls._instance
        if instance is None:
            instance = super().__new__(cls)
            WatcherMonitor.__init__(instance)
            cls._instance = instance
        return instance

    def __init__(self) -> None:
        pass  # the one instance is set up in __new__

    def __str__(self) -> str:
        return "CardMonitor"

    def present(self) -> list[Card]:
        """The cards present, as last reported to observers (none without observers)."""
        with self._lock:
            return list(self._items.values())

    def _apply(
        self, items: dict[str, Card], events: Sequence[MonitorEvent]
    ) -> tuple[list[Card], list[Card]]:
        added: list[Card] = []
        removed: list[Card] = []
        for event in events:
            if isinstance(event, CardInserted):
                card = Card._from_core(event.card)
                items[event.card.reader.name] = card
                added.append(card)
            elif isinstance(event, CardRemoved):
                gone = items.pop(event.card.reader.name, None)
                removed.append(gone or Card._from_core(event.card))
        return added, removed


class CardMonitoringThread:
    """pyscard's name for the thread behind :class:`CardMonitor`, kept for imports.

    The shim has no such thread: :class:`CardMonitor` is fed by aioscard's
    shared watcher.  Creating one starts nothing; :attr:`cards` is what the
    monitor knows to be present, and :meth:`stop` and :meth:`join` return at once.
    """

    instance: ClassVar[Any] = None

    def __init__(self, observable: CardMonitor) -> None:
        self.observable = observable

    @property
    def cards(self) -> list[Card]:
        """The cards the monitor knows to be present (none while it has no observers)."""
        return self.observable.present()

    def stop(self) -> None:
        """Nothing to stop: deleting the monitor's last observer stops the watching."""

    def join(self, *args: Any, **kwargs: Any) -> None:
        """Nothing to wait for."""
