"""The matcher behind ``CardRequest.waitforcard``: internal API for
:mod:`aioscard.request` and :mod:`aioscard.compat.CardRequest`.

A :class:`CardWaiter` is one watcher subscriber.  On the watcher thread it
decides which card counts (the readers asked for, ``newcardonly``, the card
type, the same card seen again after pcscd came back) and wakes whoever waits
for it through a :class:`Waker`: the async request sleeps on an event-loop
:class:`~aioscard._worker.Wakeup` (:func:`sleep_until_over`), the pyscard shim
blocks a thread on a ``threading.Event``.  Both ask :meth:`CardWaiter.over`
whether the wait is over before each sleep, which also arms the wake-up, so
that a batch arriving in between is never missed.

Internal: names and signatures here may change with any release.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Protocol

from ..card import Card
from ..cardtype import CardType
from ..reader import Reader
from ._events import CardInserted, CardRemoved, MonitorEvent, ServiceLost
from ._watcher import Origin, SubscriberGone

__all__ = ["AsyncWaker", "CardWaiter", "Request", "Waker", "sleep_until_over"]


class Request(Protocol):
    """What a waiter reads from a request: the public attributes of
    :class:`aioscard.CardRequest`."""

    @property
    def newcardonly(self) -> bool: ...
    @property
    def readersAsked(self) -> list[Reader] | None: ...
    @property
    def cardType(self) -> CardType: ...


class Waker(Protocol):
    """Wakes the party waiting on a :class:`CardWaiter`."""

    def set_threadsafe(self) -> bool:
        """Wake the waiting party; called on the watcher thread.  False when nobody
        is left to wake (its event loop has closed): the watcher then drops the
        subscription."""
        ...


class AsyncWaker(Waker, Protocol):
    """A :class:`Waker` that a task can sleep on (:class:`~aioscard._worker.Wakeup`)."""

    async def wait(self) -> None:
        """Sleep until woken, then re-arm for the next sleep."""
        ...


class CardWaiter:
    """The watcher subscriber behind one ``waitforcard()`` call.

    ``readers``: the reader names that count (None: all).  ``newcardonly``: only
    cards inserted after the wait began count.  ``card_type``: what a card must
    match.  Runs on the watcher thread (and once on the caller's, for the state
    known already); remembers the first matching card, or what the card type's
    ``matches`` raised, and wakes ``waker``.
    """

    def __init__(
        self,
        readers: frozenset[str] | None,
        newcardonly: bool,
        card_type: CardType,
        waker: Waker,
    ) -> None:
        self._readers = readers
        self._newcardonly = newcardonly
        self._card_type = card_type
        self._waker = waker
        self._lock = threading.Lock()
        self._ready = False
        self._waiting = False
        self._notified = False
        self.card: Card | None = None
        self.error: BaseException | None = None
        self._present: dict[str, Card] = {}
        # The card each reader held when pcscd was lost: its first reappearance in
        # that reader afterwards (as soon as pcscd is back, or at the new pcscd's
        # first presence poll) is the same card still there, not a new one.
        self._before_loss: dict[str, Card] = {}

    @classmethod
    def for_request(cls, request: Request, waker: Waker) -> CardWaiter:
        """The waiter for one wait of ``request``."""
        asked = request.readersAsked
        readers = None if asked is None else frozenset(reader.name for reader in asked)
        return cls(readers, request.newcardonly, request.cardType, waker)

    def _counts(self, origin: Origin, card: Card, seen_before_loss: bool) -> bool:
        if self._readers is not None and card.reader.name not in self._readers:
            return False
        if self._newcardonly and (origin is Origin.INITIAL or seen_before_loss):
            return False  # present when the wait began (or before pcscd went away)
        return bool(self._card_type.matches(card.atr, card.reader))

    def __call__(self, origin: Origin, events: Sequence[MonitorEvent]) -> None:
        found: Card | None = None
        error: BaseException | None = None
        for event in events:
            if isinstance(event, ServiceLost):
                self._before_loss = dict(self._present)
            elif isinstance(event, CardRemoved):
                self._present.pop(event.card.reader.name, None)
            elif isinstance(event, CardInserted):
                card = event.card
                self._present[card.reader.name] = card
                seen_before_loss = self._before_loss.pop(card.reader.name, None) == card
                if found is None and error is None and self.card is None:
                    try:
                        if self._counts(origin, card, seen_before_loss):
                            found = card
                    except Exception as failure:  # the user's card type
                        error = failure
        with self._lock:
            first = not self._ready
            self._ready = True
            hit = self.card is None and self.error is None and (found or error) is not None
            if hit:
                self.card, self.error = found, error
            # Wake the waiter only for what it waits for: the first batch, or the answer.
            wake = (first or hit) and self._waiting and not self._notified
            if wake:
                self._notified = True
        if wake and not self._waker.set_threadsafe():
            raise SubscriberGone

    def over(self, *, answered: bool) -> bool:
        """Whether the wait is over: with ``answered``, a matching card (or the card
        type's error) is in; without, the first batch has come.  If not, the wake-up
        is armed for the next batch that matters, so that the caller can sleep on it
        (its own way: awaiting, or blocking a thread) without missing that batch."""
        with self._lock:
            if (self.card is not None or self.error is not None) if answered else self._ready:
                return True
            self._waiting, self._notified = True, False
            return False

    def awake(self) -> None:
        """The waiter stopped sleeping (woken, or cancelled): no wake-up is due
        until :meth:`over` arms one again."""
        with self._lock:
            self._waiting = False

    def result(self) -> Card:
        """The matching card, once ``over(answered=True)``.

        Raises:
            Exception: what the card type's ``matches`` raised.
        """
        if self.error is not None:
            raise self.error
        assert self.card is not None, "result() before the wait was over"
        return self.card


async def sleep_until_over(waiter: CardWaiter, waker: AsyncWaker, *, answered: bool) -> None:
    """Sleep on ``waker`` (the one ``waiter`` wakes) until ``waiter.over(answered=...)``.

    Cancellation: returns the cancellation at once; the waiter is left consistent.
    """
    while not waiter.over(answered=answered):
        try:
            await waker.wait()
        finally:
            waiter.awake()
