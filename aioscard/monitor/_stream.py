"""``card_events`` and ``reader_events``: the watcher's events as ``async for`` streams.

Each stream is one subscription to the shared watcher plus a bounded buffer.
The watcher thread filters a batch (readers, card type), appends it to the
buffer and, only if the consumer is waiting, schedules one wake-up on the
consumer's loop; it never waits for the consumer.

Overflow.  A consumer more than ``buffer`` events behind loses its whole
backlog at once (later events are not queued either, until it reads again).
The stream keeps the true current state meanwhile, so the next read yields
:class:`EventsDropped` with the number of events lost, then the events that
bring the consumer's view up to date (removals for what it was told about and
is gone, insertions for what is there now and it was not told about), and then
live events again.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import replace
from types import TracebackType
from typing import Generic, TypeVar, cast

from .._worker import Wakeup
from ..card import Card
from ..cardtype import CardType
from ..exceptions import SmartcardException
from ..reader import Reader
from ._events import (
    CardEvent,
    CardInserted,
    CardRemoved,
    EventsDropped,
    MonitorEvent,
    ReaderAdded,
    ReaderEvent,
    ReaderRemoved,
    ServiceLost,
    ServiceRestored,
)
from ._watcher import Origin, SubscriberGone, Subscription, get_watcher

__all__ = ["DEFAULT_BUFFER", "EventStream", "card_events", "reader_events", "reader_names"]

E = TypeVar("E", bound=MonitorEvent)

#: Events a stream holds for a consumer that is not keeping up.
DEFAULT_BUFFER = 1024

_Item = Card | Reader
_NEW, _OPEN, _CLOSED = "new", "open", "closed"


def reader_names(readers: Iterable[Reader | str] | None) -> frozenset[str] | None:
    """Reader names from ``Reader`` objects or names (None stays None: every reader).

    Raises:
        TypeError: ``readers`` is a single str, or holds something else.
    """
    if readers is None:
        return None
    if isinstance(readers, (str, Reader)):
        raise TypeError("readers must be a list of Reader objects or names, not a single one")
    names = set()
    for reader in readers:
        if isinstance(reader, Reader):
            names.add(reader.name)
        elif isinstance(reader, str):
            names.add(Reader(reader).name)
        else:
            raise TypeError(
                f"readers must hold Reader objects or names, not {type(reader).__name__}"
            )
    return frozenset(names)


def _arrival(item: _Item) -> MonitorEvent:
    return CardInserted(item) if isinstance(item, Card) else ReaderAdded(item)


def _removal(item: _Item) -> MonitorEvent:
    return CardRemoved(item) if isinstance(item, Card) else ReaderRemoved(item)


class _View:
    """A state as a stream tracks it: the items present and whether pcscd is lost."""

    __slots__ = ("items", "lost")

    def __init__(self) -> None:
        self.items: dict[str, _Item] = {}
        self.lost: SmartcardException | None = None

    def apply(self, event: MonitorEvent) -> None:
        item: _Item
        if isinstance(event, (CardInserted, CardRemoved)):
            key, item = event.card.reader.name, event.card
        elif isinstance(event, (ReaderAdded, ReaderRemoved)):
            key, item = event.reader.name, event.reader
        elif isinstance(event, ServiceLost):
            self.lost = event.error
            return
        elif isinstance(event, ServiceRestored):
            self.lost = None
            return
        else:
            return
        if isinstance(event, (CardInserted, ReaderAdded)):
            self.items[key] = item
        else:
            self.items.pop(key, None)


class EventStream(Generic[E]):
    """A live stream of watcher events: use ``async with`` then ``async for``.

    ``async with`` subscribes and returns once the stream is live: every change
    after that is delivered (and, with ``initial``, what was already there comes
    first).  Leaving the block unsubscribes; the last subscriber of the process
    stops the watcher thread and releases its PC/SC context.  One stream is
    meant for one consuming task at a time.

    Raises (from ``async for``):
        Exception: whatever the card type's ``matches`` raised, once; the
            offending event is skipped and the stream goes on.

    Cancellation: cancelling a task waiting in ``async for`` returns at once and
    loses nothing (the next read gets what arrived meanwhile); leaving the
    ``async with`` block is shielded and takes about a millisecond when it stops
    the watcher.
    """

    def __init__(
        self,
        *,
        cards: bool,
        readers: frozenset[str] | None,
        card_type: CardType | None,
        initial: bool,
        buffer: int,
        uid: bool = False,
    ) -> None:
        if isinstance(buffer, bool) or not isinstance(buffer, int):
            raise TypeError(f"buffer must be an int, not {type(buffer).__name__}")
        if buffer < 1:
            raise ValueError(f"buffer must be at least 1, got {buffer}")
        if card_type is not None and not isinstance(card_type, CardType):
            raise TypeError(f"cardType must be a CardType, not {type(card_type).__name__}")
        self._cards = cards
        self._readers = readers
        self._card_type = card_type
        self._initial = bool(initial)
        if not isinstance(uid, bool):
            raise TypeError(f"uid must be a bool, not {type(uid).__name__}")
        self._read_uid = uid
        # An insertion taken from the queue whose UID is being read: kept here so
        # that a consumer cancelled during the read gets it on its next read.
        self._uid_pending: CardInserted | None = None
        self._limit = buffer
        self._lock = threading.Lock()
        self._queue: deque[tuple[MonitorEvent, bool]] = deque()  # (event, silent)
        self._dropped = 0
        self._state = _View()  # true now, as far as this stream's filter goes
        self._view = _View()  # what the consumer has been told
        self._error: BaseException | None = None
        self._ready = False
        self._waiting = False
        self._notified = False
        self._phase = _NEW
        self._wakeup: Wakeup | None = None
        self._subscription: Subscription | None = None

    def __repr__(self) -> str:
        kind = "card" if self._cards else "reader"
        return f"<EventStream {kind} events, {self._phase}, {len(self._queue)} pending>"

    # -- the watcher thread ------------------------------------------------------------------

    def _accepts(self, event: MonitorEvent) -> bool:
        if isinstance(event, (ServiceLost, ServiceRestored)):
            return True
        if self._cards and isinstance(event, (CardInserted, CardRemoved)):
            card = event.card
            if self._readers is not None and card.reader.name not in self._readers:
                return False
            return self._card_type is None or bool(self._card_type.matches(card.atr, card.reader))
        if not self._cards and isinstance(event, (ReaderAdded, ReaderRemoved)):
            return self._readers is None or event.reader.name in self._readers
        return False

    def _on_batch(self, origin: Origin, events: Sequence[MonitorEvent]) -> None:
        silent = origin is Origin.INITIAL and not self._initial
        accepted: list[tuple[MonitorEvent, bool]] = []
        error: BaseException | None = None
        for event in events:
            # A try per item: each event's card-type check fails on its own.
            try:
                if self._accepts(event):
                    accepted.append((event, silent))
            except Exception as failure:  # the user's card type: hand it to the consumer  # noqa: PERF203
                error = error or failure
        probe = False
        with self._lock:
            if self._phase == _CLOSED:
                return
            for event, _ in accepted:
                self._state.apply(event)
            if error is not None and self._error is None:
                self._error = error
            if self._dropped or len(self._queue) + len(accepted) > self._limit:
                self._dropped += sum(1 for _, quiet in self._queue if not quiet)
                self._dropped += sum(1 for _, quiet in accepted if not quiet)
                self._queue.clear()
                probe = True
            else:
                self._queue.extend(accepted)
            self._ready = True
            wake = self._waiting and not self._notified
            if wake:
                self._notified = True
        wakeup = self._wakeup
        assert wakeup is not None
        if wake:
            if not wakeup.set_threadsafe():
                raise SubscriberGone
        elif probe and not wakeup.alive():
            raise SubscriberGone  # nobody will ever read this backlog

    # -- the consumer's loop -------------------------------------------------------------------

    def _resync_locked(self) -> None:
        state, view = self._state, self._view
        catch_up: list[MonitorEvent] = [EventsDropped(self._dropped)]
        self._dropped = 0
        if view.lost is None and state.lost is not None:
            catch_up.append(ServiceLost(state.lost))
        for key, item in view.items.items():
            if state.items.get(key) != item:
                catch_up.append(
                    CardRemoved(item) if isinstance(item, Card) else ReaderRemoved(item)
                )
        if view.lost is not None and state.lost is None:
            catch_up.append(ServiceRestored())
        for key, item in state.items.items():
            if view.items.get(key) != item:
                catch_up.append(_arrival(item))
        self._queue.extend((event, False) for event in catch_up)

    def _pop_locked(self) -> MonitorEvent | None:
        if self._error is not None:
            error, self._error = self._error, None
            raise error
        if self._dropped:
            self._resync_locked()
        while self._queue:
            event, silent = self._queue.popleft()
            self._view.apply(event)
            if not silent:
                return event
        if self._phase == _CLOSED:
            raise StopAsyncIteration
        return None

    async def _wait(self) -> None:
        wakeup = self._wakeup
        assert wakeup is not None
        try:
            await wakeup.wait()
        finally:
            with self._lock:
                self._waiting = False

    def _arm_locked(self) -> None:
        self._waiting = True
        self._notified = False

    def drain(self) -> list[E]:
        """The events already buffered, without waiting (catch-up events included).

        Raises:
            Exception: what the card type's ``matches`` raised, if it did.
            RuntimeError: the stream was never entered.
        """
        self._require_started()
        if self._read_uid:
            raise RuntimeError(
                "drain() cannot read UIDs without waiting: use 'async for' on a "
                "card_events(uid=True) stream"
            )
        events: list[E] = []
        with self._lock:
            try:
                while (event := self._pop_locked()) is not None:
                    events.append(cast("E", event))
            except StopAsyncIteration:
                pass
        return events

    def __aiter__(self) -> EventStream[E]:
        return self

    async def __anext__(self) -> E:
        """The next event, waiting for it.

        Raises:
            StopAsyncIteration: the stream was closed.
            Exception: what the card type's ``matches`` raised, once.
            RuntimeError: the stream was never entered.

        Cancellation: returns at once; no event is lost (an insertion whose UID
        was being read comes again, and its UID is read again).
        """
        self._require_started()
        while True:
            event: MonitorEvent | None = self._uid_pending
            if event is None:
                with self._lock:
                    event = self._pop_locked()
                    if event is None:
                        self._arm_locked()
                if event is None:
                    await self._wait()
                    continue
            if self._read_uid and isinstance(event, CardInserted) and event.uid is None:
                event = await self._with_uid(event)
            return cast("E", event)

    async def _with_uid(self, event: CardInserted) -> CardInserted:
        from ..contactless import read_uid_or_none

        self._uid_pending = event
        uid = await read_uid_or_none(event.card.reader.name)
        self._uid_pending = None
        return replace(event, uid=uid)

    def _require_started(self) -> None:
        if self._phase == _NEW:
            raise RuntimeError("use the stream inside 'async with' first")

    async def __aenter__(self) -> EventStream[E]:
        """Subscribe to the watcher and return once the stream is live.

        Raises:
            RuntimeError: the stream was entered before.

        Cancellation: unsubscribes again (shielded) and propagates.
        """
        if self._phase != _NEW:
            raise RuntimeError("an event stream can be entered only once")
        self._wakeup = Wakeup()
        self._phase = _OPEN
        self._subscription = get_watcher().subscribe(self._on_batch)
        try:
            while True:
                with self._lock:
                    if self._ready:
                        break
                    self._arm_locked()
                await self._wait()
        except BaseException:
            await self.aclose()
            raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Unsubscribe; a task waiting in ``async for`` then ends its loop.

        Cancellation: shielded; always completes.
        """
        with self._lock:
            if self._phase == _CLOSED:
                return
            self._phase = _CLOSED
        if self._wakeup is not None:
            self._wakeup.set()  # we are on the loop: wake a reader to see the end
        subscription, self._subscription = self._subscription, None
        if subscription is not None:
            await subscription.aclose()

    @property
    def pending(self) -> int:
        """How many events wait in the buffer."""
        with self._lock:
            return len(self._queue)


def card_events(
    readers: Iterable[Reader | str] | None = None,
    cardType: CardType | None = None,  # pyscard's spelling
    initial: bool = True,
    *,
    buffer: int = DEFAULT_BUFFER,
    uid: bool = False,
) -> EventStream[CardEvent]:
    """Card insertions and removals, as an async context manager returning an iterator::

        async with aioscard.monitor.card_events() as events:
            async for event in events:
                match event:
                    case CardInserted(card): ...
                    case CardRemoved(card): ...

    ``readers`` limits the stream to those readers (``Reader`` objects or
    names; readers plugged in later count if named); ``cardType`` to the cards
    it matches (its ``matches`` runs on the watcher thread: keep it quick);
    with ``initial`` the cards already present come first as
    :class:`CardInserted` (without, they are not reported, although their later
    removal is).  Besides card events the stream yields :class:`ServiceLost`
    and :class:`ServiceRestored` when pcscd goes away and comes back (with the
    removals and re-insertions that implies), and :class:`EventsDropped` after
    an overflow of ``buffer`` events (see the module documentation).

    With ``uid=True`` each :class:`CardInserted` carries the card's UID
    (:attr:`CardInserted.uid`), read once per insertion with the PC/SC part 3
    GET DATA command (:func:`aioscard.contactless.get_uid`) on a connection of
    its own, in the consuming task, before the event is handed out; ``None``
    for a card without one (a contact card) or one that could not be reached.
    Reading takes one connect and one APDU; it never raises into the stream.
    Such a stream has no :meth:`~EventStream.drain`.

    Raises:
        TypeError, ValueError: bad arguments (before anything starts).

    Cancellation: see :class:`EventStream`.
    """
    return EventStream(
        cards=True,
        readers=reader_names(readers),
        card_type=cardType,
        initial=initial,
        buffer=buffer,
        uid=uid,
    )


def reader_events(
    initial: bool = True, *, buffer: int = DEFAULT_BUFFER
) -> EventStream[ReaderEvent]:
    """Readers plugged in and removed, as an async context manager returning an iterator::

        async with aioscard.monitor.reader_events() as events:
            async for event in events:
                match event:
                    case ReaderAdded(reader): ...
                    case ReaderRemoved(reader): ...

    With ``initial`` the readers already there come first as
    :class:`ReaderAdded`.  :class:`ServiceLost`, :class:`ServiceRestored` and
    :class:`EventsDropped` come as for :func:`card_events`.

    Raises:
        TypeError, ValueError: bad arguments.

    Cancellation: see :class:`EventStream`.
    """
    return EventStream(cards=False, readers=None, card_type=None, initial=initial, buffer=buffer)
