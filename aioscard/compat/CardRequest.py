"""pyscard's ``smartcard.CardRequest``: wait for a card, blocking, on the shared watcher.

A waiting call costs no thread and no PC/SC context of its own: it subscribes
to aioscard's one shared watcher (:func:`aioscard.monitor.subscribe`) and
blocks its thread on a ``threading.Event`` the watcher sets.  Which card
counts (readers, ``newcardonly``, card type, pcscd restarts) is decided by the
very matcher behind :meth:`aioscard.CardRequest.waitforcard`.
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Any

from aioscard import request as _core
from aioscard.exceptions import CardRequestTimeoutException
from aioscard.monitor import (
    CardInserted,
    CardRemoved,
    MonitorEvent,
    Origin,
    Subscription,
    subscribe,
)
from aioscard.monitor._waiter import CardWaiter

from .Card import Card
from .PassThruCardService import PassThruCardService
from .pcsc.PCSCReader import PCSCReader
from .System import readers as list_readers

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence
    from types import TracebackType

    from aioscard.card import Card as _CoreCard
    from aioscard.cardtype import CardType

    from .CardService import CardService
    from .reader.Reader import Reader

__all__ = ["CardRequest"]


class _Waker:
    """The matcher's :class:`~aioscard.monitor._waiter.Waker` for a blocked thread:
    the watcher thread sets it, the waiting thread waits on it."""

    __slots__ = ("event",)

    def __init__(self) -> None:
        self.event = threading.Event()

    def set_threadsafe(self) -> bool:
        self.event.set()
        return True


def _block(waiter: CardWaiter, waker: _Waker, *, answered: bool, deadline: float | None) -> bool:
    """Block until the matcher's wait is over (see ``CardWaiter.over``) or
    ``deadline`` (monotonic) passes; False on the deadline."""
    while True:
        waker.event.clear()
        if waiter.over(answered=answered):
            return True
        remaining = None if deadline is None else deadline - time.monotonic()
        if remaining is not None and remaining <= 0:
            return False
        waker.event.wait(remaining)


class CardRequest:
    """A request for a card, with pyscard's blocking :meth:`waitforcard`.

    ``newcardonly``: only cards inserted after the wait begins count.
    ``readers``: the readers to watch (Reader objects or names; None: all,
    including readers plugged in later).  ``cardType``: a
    :class:`~aioscard.cardtype.CardType` (default ``AnyCardType()``).
    ``cardServiceClass``: what :meth:`waitforcard` returns (default
    :class:`~aioscard.compat.PassThruCardService.PassThruCardService`).
    ``timeout``: seconds per wait (None: forever).

    Raises:
        TypeError, ValueError: bad arguments, naming them.
    """

    def __init__(
        self,
        newcardonly: bool = False,
        readers: Iterable[Any] | None = None,
        cardType: CardType | None = None,
        cardServiceClass: type[CardService] | None = None,
        timeout: float | None = 1,
    ) -> None:
        names = None if readers is None else [str(reader) for reader in readers]
        # The async request validates the arguments and holds what its matcher reads.
        self._request = _core.CardRequest(newcardonly, names, cardType, None, timeout)
        self.cardServiceClass: type[CardService] = cardServiceClass or PassThruCardService
        self.readersAsked = None if names is None else [PCSCReader(name) for name in names]
        self._events: _EventLog | None = None

    def __repr__(self) -> str:
        return repr(self._request).replace("PassThruCardService", self.cardServiceClass.__name__)

    @property
    def newcardonly(self) -> bool:
        """Whether only cards inserted after a wait begins count."""
        return self._request.newcardonly

    @property
    def cardType(self) -> CardType:
        """The card type waited for."""
        return self._request.cardType

    @property
    def timeout(self) -> float | None:
        """Seconds each wait may take (None: forever)."""
        return self._request.timeout

    def getReaders(self) -> list[Reader]:
        """The readers this request watches: those asked for, else every reader now."""
        if self.readersAsked is not None:
            return list(self.readersAsked)
        return list_readers()

    def waitforcard(self) -> CardService:
        """Block until a matching card is present and return a card service for it.

        The service's connection is not connected yet (as in pyscard); using
        it inside ``with service:`` connects it.  Without ``newcardonly`` a
        matching card already present is returned at once.  pcscd going away
        meanwhile does not end the wait.

        Raises:
            CardRequestTimeoutException: no matching card within ``timeout`` seconds.
            Exception: what the card type's ``matches`` raised.

        Cancellation: KeyboardInterrupt ends the wait at once; the subscription
        (and, if it was the last, the watcher thread and its context) is gone
        when it propagates.
        """
        request = self._request
        started = time.monotonic()
        waker = _Waker()
        waiter = CardWaiter.for_request(request, waker)
        subscription = subscribe(waiter)
        try:
            # The state when the wait began comes first; the timeout counts from `started`.
            _block(waiter, waker, answered=False, deadline=None)
            deadline = None if request.timeout is None else started + request.timeout
            if not _block(waiter, waker, answered=True, deadline=deadline):
                raise CardRequestTimeoutException(
                    f"no matching card was inserted within {request.timeout:g} s"
                )
            card = Card._from_core(waiter.result())
        finally:
            subscription.close()
        return self.cardServiceClass(card.createConnection())

    def waitforcardevent(self) -> list[Card]:
        """Block until a card comes or goes, then return every card present (pyscard's result).

        The first call returns the cards present at once; from then on each
        call waits for a change since the previous one (nothing is missed in
        between) until :meth:`release`.  Watches the asked-for readers only.

        Raises:
            CardRequestTimeoutException: nothing changed within ``timeout`` seconds.
        """
        log = self._events
        if log is None:
            log = self._events = _EventLog(self._request._reader_names)
        deadline = None if self.timeout is None else time.monotonic() + self.timeout
        cards = log.wait(deadline)
        if cards is None:
            raise CardRequestTimeoutException(f"no card event within {self.timeout:g} s")
        return cards

    def release(self) -> None:
        """Stop watching for :meth:`waitforcardevent` (stops the watcher if it was the last)."""
        log, self._events = self._events, None
        if log is not None:
            log.close()

    def __enter__(self) -> CardRequest:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        exc_traceback: TracebackType | None,
    ) -> None:
        self.release()


class _EventLog:
    """The cards present in some readers, and how many changes a caller has not seen."""

    def __init__(self, readers: frozenset[str] | None) -> None:
        self._readers = readers
        self._lock = threading.Lock()
        self._changed = threading.Event()
        self._present: dict[str, _CoreCard] = {}
        self._subscription: Subscription = subscribe(self._on_batch)

    def _on_batch(self, origin: Origin, events: Sequence[MonitorEvent]) -> None:
        # The first batch (the state found) counts as a change, as in pyscard.
        changed = origin is Origin.INITIAL
        with self._lock:
            for event in events:
                if not isinstance(event, (CardInserted, CardRemoved)):
                    continue
                name = event.card.reader.name
                if self._readers is not None and name not in self._readers:
                    continue
                changed = True
                if isinstance(event, CardInserted):
                    self._present[name] = event.card
                else:
                    self._present.pop(name, None)
            if changed:
                self._changed.set()

    def wait(self, deadline: float | None) -> list[Card] | None:
        """The cards present after the next change, or None at ``deadline``."""
        remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
        if not self._changed.wait(remaining):
            return None
        with self._lock:
            self._changed.clear()
            return [Card._from_core(card) for card in self._present.values()]

    def close(self) -> None:
        self._subscription.close()
