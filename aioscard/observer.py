"""Connection events and their observers, as pyscard has them, plus a logging tracer.

Observers are called on the caller's side of the thread boundary: in the task
(or thread, for the synchronous shim) that called the connection method, never
on a worker thread.  An exception raised by an observer is logged and does not
break the connection call.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .apdu import format_apdu, format_response

if TYPE_CHECKING:
    from .connection import CardConnection

__all__ = [
    "RECORD_ENV",
    "CardConnectionEvent",
    "CardConnectionObserver",
    "LoggingCardConnectionObserver",
    "Observable",
    "add_process_observer",
    "process_observers",
    "remove_process_observer",
]

#: The environment variable that makes every connection of a process record its
#: session to a file (see :mod:`aioscard.record`; ``aioscard record`` sets it).
RECORD_ENV = "AIOSCARD_RECORD"

_log = logging.getLogger("aioscard.observer")


class CardConnectionEvent:
    """What happened on a connection.

    ``type`` is one of ``"connect"``, ``"reconnect"``, ``"disconnect"``,
    ``"command"`` (args: ``[command bytes as list[int], protocol]``) and
    ``"response"`` (args: ``[data, sw1, sw2]``).  ``str()`` and ``repr()``
    redact PIN-bearing commands unless secrets are revealed explicitly
    (see :func:`aioscard.apdu.set_reveal_secrets`).
    """

    __slots__ = ("args", "type")

    def __init__(self, type: str, args: Any = None) -> None:
        self.type = type
        self.args = args

    def _describe(self) -> str:
        if self.type == "command" and self.args:
            return f"command {format_apdu(bytes(self.args[0]))}"
        if self.type == "response" and self.args and len(self.args) >= 3:
            data, sw1, sw2 = self.args[0], self.args[1], self.args[2]
            return f"response {format_response(bytes([*data, sw1, sw2]))}"
        return self.type

    def __str__(self) -> str:
        return self._describe()

    def __repr__(self) -> str:
        return f"<CardConnectionEvent {self._describe()}>"


class CardConnectionObserver:
    """Base class: override :meth:`update`, register with ``connection.addObserver``."""

    def update(self, cardconnection: CardConnection, ccevent: CardConnectionEvent) -> None:
        """Called for each event on a connection this observer watches."""


class LoggingCardConnectionObserver(CardConnectionObserver):
    """Writes every connection event to stdlib ``logging`` (logger ``aioscard.trace``).

    PIN-bearing commands are redacted unless secrets are revealed explicitly.
    """

    def __init__(self, logger: logging.Logger | None = None, level: int = logging.DEBUG) -> None:
        self.logger = logger if logger is not None else logging.getLogger("aioscard.trace")
        self.level = level

    def update(self, cardconnection: CardConnection, ccevent: CardConnectionEvent) -> None:
        if self.logger.isEnabledFor(self.level):
            self.logger.log(self.level, "%s: %s", cardconnection.getReader(), ccevent)


class Observable:
    """A thread-safe list of observers (pyscard's ``Observable`` shape)."""

    def __init__(self) -> None:
        self._observers: list[Any] = []
        self._observers_lock = threading.Lock()

    def addObserver(self, observer: Any) -> None:
        """Register ``observer`` (once; adding it again does nothing)."""
        with self._observers_lock:
            if observer not in self._observers:
                self._observers.append(observer)

    def deleteObserver(self, observer: Any) -> None:
        """Unregister ``observer``; unknown observers are ignored."""
        with self._observers_lock:
            if observer in self._observers:
                self._observers.remove(observer)

    def deleteObservers(self) -> None:
        """Unregister every observer."""
        with self._observers_lock:
            self._observers.clear()

    def countObservers(self) -> int:
        """How many observers are registered."""
        with self._observers_lock:
            return len(self._observers)

    def _observer_snapshot(self) -> Sequence[Any]:
        with self._observers_lock:
            return tuple(self._observers)

    def notifyObservers(self, *args: Any) -> None:
        """Call ``update(self, *args)`` on every observer; errors are logged, not raised."""
        for observer in self._observer_snapshot():
            # A try per item: one observer's failure must not keep the others from being told.
            try:
                observer.update(self, *args)
            except Exception:  # noqa: PERF203
                _log.exception("observer %r raised; it stays registered", observer)


# Observers every new connection of the process gets (``aioscard record``, tracing).
_process_observers: list[Any] = []
_process_lock = threading.Lock()
_environment_read = False


def add_process_observer(observer: Any) -> None:
    """Give ``observer`` to every connection created from now on (once; adding it
    again does nothing).  Connections that exist already are not changed."""
    with _process_lock:
        if observer not in _process_observers:
            _process_observers.append(observer)


def remove_process_observer(observer: Any) -> None:
    """Stop giving ``observer`` to new connections; unknown observers are ignored."""
    with _process_lock:
        if observer in _process_observers:
            _process_observers.remove(observer)


def process_observers() -> tuple[Any, ...]:
    """The observers a new connection starts with.

    The first call also honours ``$AIOSCARD_RECORD``: when it names a file, a
    :class:`~aioscard.record.SessionRecorder` appending to it joins the list
    (a file that cannot be opened is logged and skipped).
    """
    global _environment_read
    if not _environment_read:
        with _process_lock:
            first, _environment_read = not _environment_read, True
        if first and os.environ.get(RECORD_ENV):
            try:
                from .record import process_recorder

                recorder = process_recorder()
            except (OSError, ValueError) as error:
                _log.error("cannot record to $%s: %s", RECORD_ENV, error)
            else:
                if recorder is not None:
                    add_process_observer(recorder)
    with _process_lock:
        return tuple(_process_observers)
