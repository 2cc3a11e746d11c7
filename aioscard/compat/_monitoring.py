"""What pyscard's CardMonitor and ReaderMonitor share: observers fed by the shared watcher.

The watcher's callback only queues each batch (it must not block the watcher);
one dispatcher thread per monitor, alive while the monitor has observers, turns
batches into pyscard's ``(added, removed)`` notifications and calls every
observer's ``update`` in order.  The first observer subscribes to the watcher
(starting it if no one else watches); removing the last one unsubscribes, which
stops the watcher at once with SCardCancel if nothing else uses it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from queue import SimpleQueue
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from aioscard.monitor import MonitorEvent, Origin, Subscription, subscribe

if TYPE_CHECKING:
    from .Observer import Observer

__all__ = ["WatcherMonitor"]

_log = logging.getLogger("aioscard.compat.monitor")

#: How long ``addObserver`` waits for the watcher's first view of the readers.
FIRST_STATE_TIMEOUT = 5.0

K = TypeVar("K")  # the key of a watched item (reader name)
V = TypeVar("V")  # the item handed to observers (Card, Reader)

_Batch = tuple[Origin, Sequence[MonitorEvent]]
_STOP = None


class WatcherMonitor(Generic[K, V]):
    """Observers of one kind of watcher event; subclasses say which (:meth:`_apply`)."""

    _thread_name = "aioscard-compat-monitor"

    def __init__(self) -> None:
        # Re-entrant: an observer's update may add or delete observers.
        self._lock = threading.RLock()
        self._observers: list[Any] = []
        # Observers still to get their first notification from addObserver.
        self._pending: list[Any] = []
        self._items: dict[K, V] = {}
        self._subscription: Subscription | None = None
        self._queue: SimpleQueue[_Batch | None] | None = None
        self._thread: threading.Thread | None = None
        self._synced = threading.Event()

    # -- what subclasses define ------------------------------------------------------

    def _apply(self, items: dict[K, V], events: Sequence[MonitorEvent]) -> tuple[list[V], list[V]]:
        """Apply ``events`` to ``items``; return what was added and what was removed."""
        raise NotImplementedError

    # -- observers ------------------------------------------------------------------------

    def addObserver(self, observer: Observer) -> None:
        """Register ``observer`` and tell it at once what is present: ``update(self,
        (present, []))``.  The first observer starts watching.

        Blocks until the watcher knows the current state (normally milliseconds;
        at most :data:`FIRST_STATE_TIMEOUT` seconds).
        """
        with self._lock:
            if observer in self._observers:
                return
            self._observers.append(observer)
            self._pending.append(observer)
            if self._subscription is None:
                self._start()
        self._synced.wait(FIRST_STATE_TIMEOUT)
        with self._lock:
            # Under the lock dispatching holds: every change so far is in _items and
            # none was sent to this observer; every later one will be.
            if observer in self._pending:
                self._pending.remove(observer)
                self._notify_one(observer, (list(self._items.values()), []))

    def deleteObserver(self, observer: Observer) -> None:
        """Unregister ``observer``; after the last one the watcher is left (and stops
        at once, via SCardCancel, unless something else uses it)."""
        with self._lock:
            if observer not in self._observers:
                return
            self._observers.remove(observer)
            if observer in self._pending:
                self._pending.remove(observer)
            if self._observers:
                return
            subscription, self._subscription = self._subscription, None
            queue, self._queue = self._queue, None
            thread, self._thread = self._thread, None
            self._items = {}
            self._synced.clear()
        if subscription is not None:
            subscription.close()
        if queue is not None:
            queue.put(_STOP)
        if thread is not None and thread is not threading.current_thread():
            thread.join()

    def deleteObservers(self) -> None:
        """Unregister every observer (and stop watching)."""
        for observer in list(self._observers):
            self.deleteObserver(observer)

    def countObservers(self) -> int:
        """How many observers are registered."""
        with self._lock:
            return len(self._observers)

    @property
    def obs(self) -> list[Any]:
        """A copy of the registered observers (pyscard's attribute)."""
        with self._lock:
            return list(self._observers)

    # -- watching -------------------------------------------------------------------------

    def _start(self) -> None:
        # With the lock held.
        queue: SimpleQueue[_Batch | None] = SimpleQueue()
        self._queue = queue
        self._synced.clear()
        thread = threading.Thread(
            target=self._dispatch, args=(queue,), name=self._thread_name, daemon=True
        )
        self._thread = thread
        thread.start()

        def on_batch(origin: Origin, events: Sequence[MonitorEvent]) -> None:
            queue.put((origin, events))  # never blocks the watcher

        self._subscription = subscribe(on_batch)

    def _dispatch(self, queue: SimpleQueue[_Batch | None]) -> None:
        while (batch := queue.get()) is not _STOP:
            _origin, events = batch
            with self._lock:
                if queue is not self._queue:
                    return  # stopped meanwhile
                added, removed = self._apply(self._items, events)
                self._synced.set()
                if added or removed:
                    for observer in list(self._observers):
                        if observer not in self._pending:
                            self._notify_one(observer, (added, removed))

    def _notify_one(self, observer: Any, handlers: tuple[list[V], list[V]]) -> None:
        try:
            observer.update(self, handlers)
        except Exception:
            _log.exception("observer %r raised in update(); monitoring goes on", observer)
