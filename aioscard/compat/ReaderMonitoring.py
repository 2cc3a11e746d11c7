"""pyscard's ``smartcard.ReaderMonitoring``: observers told of readers plugged in and out.

:class:`ReaderMonitor` is fed by aioscard's shared watcher (PC/SC's PnP
notification): readers are reported as they come and go, without pyscard's
one-second polling.  Each observer gets ``update(monitor, (added, removed))``
with lists of readers; first, when it is added, with the readers present.
An observer's exception is logged and monitoring goes on.  Deleting the last
observer stops watching at once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aioscard.monitor import MonitorEvent, ReaderAdded, ReaderRemoved

from ._monitoring import WatcherMonitor
from .Observer import Observer
from .pcsc.PCSCReader import PCSCReader
from .reader.Reader import Reader
from .System import readers

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

__all__ = ["ReaderMonitor", "ReaderMonitoringThread", "ReaderObserver"]


class ReaderObserver(Observer):
    """Base class of reader observers: override :meth:`update`."""

    def update(self, observable: Any, handlers: Any) -> None:
        """Called with ``(addedreaders, removedreaders)``, two lists of readers."""


class ReaderMonitor(WatcherMonitor[str, Reader]):
    """The process's reader monitor: ``ReaderMonitor()`` always returns the same object.

    ``readerProc`` (default :func:`~aioscard.compat.System.readers`) lists the
    readers to report; one of your own (a filter, say) is called again each
    time the watcher sees readers change.  ``startOnDemand`` and ``period``
    are accepted for compatibility: watching is event-driven and starts with
    the first observer.
    """

    _instance: ReaderMonitor | None = None
    _thread_name = "aioscard-compat-readermonitor"

    def __new__(
        cls,
        startOnDemand: bool = True,
        readerProc: Callable[[], Sequence[Reader]] = readers,
        period: float = 1,
    ) -> ReaderMonitor:
        instance = cls._instance
        if instance is None:
            instance = super().__new__(cls)
            WatcherMonitor.__init__(instance)
            cls._instance = instance
        return instance

    def __init__(
        self,
        startOnDemand: bool = True,
        readerProc: Callable[[], Sequence[Reader]] = readers,
        period: float = 1,
    ) -> None:
        self.startOnDemand = startOnDemand
        self.readerProc = readerProc
        self.period = period

    def __str__(self) -> str:
        return "ReaderMonitor"

    def _apply(
        self, items: dict[str, Reader], events: Sequence[MonitorEvent]
    ) -> tuple[list[Reader], list[Reader]]:
        relevant = [e for e in events if isinstance(e, (ReaderAdded, ReaderRemoved))]
        if not relevant:
            return [], []
        if self.readerProc is readers:
            current = dict(items)
            for event in relevant:
                if isinstance(event, ReaderAdded):
                    current[event.reader.name] = PCSCReader(event.reader.name)
                else:
                    current.pop(event.reader.name, None)
        else:
            current = {str(reader): reader for reader in self.readerProc()}
        added = [reader for name, reader in current.items() if name not in items]
        removed = [reader for name, reader in items.items() if name not in current]
        items.clear()
        items.update(current)
        return added, removed


class ReaderMonitoringThread:
    """pyscard's name for the polling thread behind :class:`ReaderMonitor`, kept for imports.

    The shim has no such thread: :class:`ReaderMonitor` is fed by aioscard's
    shared watcher, without polling.  Creating one starts nothing;
    :meth:`stop` and :meth:`join` return at once.
    """

    def __init__(
        self,
        observable: ReaderMonitor,
        readerProc: Callable[[], Sequence[Reader]],
        period: float,
    ) -> None:
        self.observable = observable
        self.readerProc = readerProc
        self.period = period

    def stop(self) -> None:
        """Nothing to stop: deleting the monitor's last observer stops the watching."""

    def join(self, *args: Any, **kwargs: Any) -> None:
        """Nothing to wait for."""
