"""pyscard's ``smartcard.Observer``: the observer pattern as pyscard spells it.

:class:`Observable` adds pyscard's "changed" flag to aioscard's thread-safe
observer list: ``notifyObservers`` tells observers only after ``setChanged()``.
"""

from __future__ import annotations

from typing import Any

from aioscard.observer import Observable as _CoreObservable

__all__ = ["Observable", "Observer"]


class Observer:
    """Base class of observers: :meth:`update` is called on every notification."""

    def update(self, observable: Any, handlers: Any) -> None:
        """Called with the observable and what it passed to ``notifyObservers``."""


class Observable(_CoreObservable):
    """Keeps observers and notifies them, once marked changed with :meth:`setChanged`.

    An exception raised by an observer's ``update`` is logged and the others
    are still told (pyscard let it escape).
    """

    def __init__(self) -> None:
        super().__init__()
        self.changed = 0

    @property
    def obs(self) -> list[Any]:
        """A copy of the registered observers (pyscard's attribute)."""
        return list(self._observer_snapshot())

    def notifyObservers(self, handlers: Any = None) -> None:
        """If changed, clear the flag and call ``update(self, handlers)`` on every observer."""
        with self._observers_lock:
            if not self.changed:
                return
            self.changed = 0
        super().notifyObservers(handlers)

    def setChanged(self) -> None:
        """Mark this object changed: the next ``notifyObservers`` notifies."""
        self.changed = 1

    def clearChanged(self) -> None:
        """Mark this object unchanged."""
        self.changed = 0

    def hasChanged(self) -> int:
        """1 if changed, else 0."""
        return self.changed
