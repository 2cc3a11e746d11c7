"""The shared watcher: one thread, one PC/SC context, every subscriber of the process.

pyscard gives each waiting call a thread of its own and polls readers every
second.  Here one thread, named ``aioscard-watcher``, holds one context blocked
in SCardGetStatusChange with an INFINITE timeout over every reader plus
``\\\\?PnP?\\Notification``, and hands what changed to every subscriber: the
``async for`` streams of :mod:`aioscard.monitor`, pending
:class:`~aioscard.CardRequest` waits and synchronous observers alike.

Life cycle.  The thread starts with the first subscriber and lingers for
``LINGER`` seconds after the last one leaves, still watching, so that a
program that waits for a card again and again (a ``waitforcard()`` loop, a
retried request) neither pays a thread start, a new context and a first look
each time nor makes the cancelled caller wait for a thread to end.  Leaving
only nudges the watcher (SCardCancel, the one PC/SC call allowed across
threads, made off the event loop and not awaited) from its INFINITE wait into
a wait bounded by what is left of the linger; when that runs out with nobody
back, the thread releases its context and exits, so an idle process holds no
context and ``pcscd --auto-exit`` can still exit.  :meth:`Watcher.stop_if_idle`
ends an idle watcher at once.  Nothing else needs the
wait re-armed from outside: the PnP entry wakes it when readers come or go (the
watcher then lists them again and watches the new set), and subscribers coming
and going change nothing in what is watched -- the watcher always watches every
reader, each subscriber filters for itself, and a newcomer is handed the
current state from the watcher's model.  Only where PnP notification is
unsupported (or the reader array is full) does the watcher poll, once a second.
pcsc-lite itself turns an INFINITE wait into a re-registration with pcscd every
60 s, a cost too small to measure.

Missed events.  Between two waits the watcher spends a moment fanning events
out; a card pulled and put back meanwhile would look unchanged.  The event
counter in the upper 16 bits of ``dwEventState`` catches that: a changed count
on a reader that holds a card both times is reported as a removal and an
insertion.  A card that came and went entirely between two waits leaves an
empty reader on both sides and no ATR to report; it is not reported.  Readers
have no such counter: pcsc-lite 1.9 fires the PnP entry when the reader count
changes *during* a wait, so a reader plugged in in the instant between the
watcher's listing and its next wait is seen at the next event instead.

Losing pcscd.  Any failure of the context other than a cancel or timeout means
pcscd is gone (or restarted, which leaves old contexts dead for good).
Subscribers are told with :class:`ServiceLost` followed by a removal for every
known card and reader; the watcher then establishes a new context with
exponential backoff (:data:`BACKOFF_MIN` to :data:`BACKOFF_MAX`) and, once it
succeeds, says :class:`ServiceRestored` followed by an insertion for every
reader and card present.

Subscribers.  A subscriber is a plain callable ``callback(origin, events)``,
called on the watcher thread with each batch of events, in order, never two at
a time.  A subscriber that arrives while the watcher already knows the state
gets that state as an :attr:`Origin.INITIAL` batch at once, on its own thread,
before :func:`subscribe` returns; any later batch waits for that call to finish,
so nothing is missed and nothing is seen twice.  Callbacks must be quick and
must not block (the async side only appends to a buffer and wakes its loop);
they may call :meth:`Subscription.close` (which then does not wait).
"""

from __future__ import annotations

import enum
import logging
import math
import threading
import time
from collections.abc import Callable, Sequence
from typing import Final

import anyio

from .._worker import pool
from ..exceptions import (
    CancelledException,
    InvalidReaderException,
    SmartcardException,
    TimeoutException,
)
from ..native import PCSCAPI, ReaderState, get_pcsc
from ..native import constants as C
from ._events import (
    MonitorEvent,
    ServiceLost,
    ServiceRestored,
)
from ._state import (
    Slot,
    changes,
    first_model,
    lost_events,
    present_events,
    unplugged,
    wait_states,
)

__all__ = [
    "BACKOFF_MAX",
    "BACKOFF_MIN",
    "LINGER",
    "Callback",
    "Origin",
    "SubscriberGone",
    "Subscription",
    "Watcher",
    "get_watcher",
    "subscribe",
]

_log = logging.getLogger("aioscard.monitor")

#: First pause (seconds) before establishing a context again after pcscd was lost.
BACKOFF_MIN: float = 0.05
#: Longest pause between two attempts; the pause doubles from BACKOFF_MIN up to this.
BACKOFF_MAX: float = 1.0
#: Seconds the watcher keeps watching after its last subscriber left (see the module's
#: "Life cycle"); :class:`Watcher` takes its own value.
LINGER: float = 1.0
#: Name of the watcher thread.
THREAD_NAME: Final = "aioscard-watcher"

# pcsc-lite refuses more reader states than PCSCLITE_MAX_READERS_CONTEXTS (16) in one call.
_MAX_STATES = 16
_POLL_MS = 1000
_LOOK_ATTEMPTS = 10
_STOP_CANCEL_INTERVAL = 0.005
_STOP_GIVE_UP = 10.0


class Origin(enum.Enum):
    """Why a batch of events is delivered."""

    #: The state found when the subscription began: readers and cards already there.
    INITIAL = "initial"
    #: Something changed while the subscriber was watching.
    CHANGE = "change"
    #: The state found when pcscd answered again after a :class:`ServiceLost`.
    RESTORED = "restored"


#: A synchronous subscriber: called on the watcher thread with where the events come
#: from and the events, in order.  It must not block; what it raises is logged.
Callback = Callable[[Origin, Sequence[MonitorEvent]], None]


class SubscriberGone(Exception):
    """Raised by a callback whose consumer no longer exists (its event loop has
    closed): the watcher drops the subscription."""


class Subscription:
    """One subscriber's registration with the watcher (see :func:`subscribe`).

    End it with :meth:`close` (synchronous code) or :meth:`aclose` (async
    code).  Deliveries stop as soon as either begins; a callback already
    running on another thread has finished by then.
    """

    __slots__ = ("_callback", "_closed", "_lock", "_run", "_watcher")

    def __init__(self, watcher: Watcher, run: _Run, callback: Callback) -> None:
        self._watcher = watcher
        self._run = run
        self._callback = callback
        # Re-entrant: a callback may close its own subscription.
        self._lock = threading.RLock()
        self._closed = False

    def __repr__(self) -> str:
        return f"<Subscription {'closed' if self._closed else 'open'} {self._callback!r}>"

    @property
    def closed(self) -> bool:
        """True once the subscription receives nothing more."""
        return self._closed

    def _invoke(self, origin: Origin, events: Sequence[MonitorEvent]) -> bool:
        # False: the subscriber is gone and should be dropped.
        with self._lock:
            if self._closed:
                return True
            try:
                self._callback(origin, events)
            except SubscriberGone:
                self._closed = True
                return False
            except Exception:
                _log.exception("a monitor subscriber's callback failed; it stays subscribed")
        return True

    def _detach(self) -> _Run | None:
        # Stop deliveries; no PC/SC call.  Returns the run to nudge or stop if this
        # was its last subscriber (close/aclose do that, each on a suitable thread).
        with self._lock:
            self._closed = True
        return self._watcher._remove(self)

    def close(self) -> None:
        """Unsubscribe.  If this was the last subscriber, the watcher lingers
        (see ``LINGER``): this nudges it out of its INFINITE wait (SCardCancel)
        and returns; :meth:`Watcher.stop_if_idle` ends it at once.

        For synchronous callers.  Called from within a callback, it makes no
        PC/SC call.  Must not be called on an event-loop thread (the nudge is a
        PC/SC call): use :meth:`aclose` there.  Idempotent.

        Cancellation: blocks the calling thread for the nudge, typically well under
        a millisecond (one SCardCancel through pcscd); with a watcher made with
        ``linger=0``, until the watcher has stopped (1-3 ms).
        """
        run = self._detach()
        if run is None or threading.current_thread() is run.thread:
            return  # on the watcher thread, it looks at its subscribers after the callback
        if run.stopping:
            run.stop()
        else:
            run.nudge()

    async def aclose(self) -> None:
        """Unsubscribe.  If this was the last subscriber, the watcher lingers (see
        ``LINGER``); the nudge out of its INFINITE wait is handed to a worker
        thread and not awaited.

        Cancellation: returns without waiting for any PC/SC call; with a watcher
        made with ``linger=0``, it waits (shielded) for the watcher to stop.
        """
        run = self._detach()
        if run is None:
            return
        if not run.stopping:
            _off_loop(run.nudge)
            return
        # SCardCancel is a PC/SC call: never on the event-loop thread, so a pool
        # worker makes it (and joins the watcher) while the loop waits.
        with anyio.CancelScope(shield=True):
            worker = pool.acquire()
            try:
                await worker.run_to_completion(run.stop)
            finally:
                pool.release(worker)


def _off_loop(job: Callable[[], None]) -> None:
    # Fire and forget on a pool worker: the worker goes back to the pool with the
    # job queued, and jobs run in order, so whoever takes it next waits behind it.
    worker = pool.acquire()
    try:
        worker.submit(job)
    finally:
        pool.release(worker)


class _Run:
    """One life of the watcher thread, from its first subscriber to its last.

    The reader model (``slots``) is written only by the watcher thread, and
    only under the watcher's lock, so other threads read a consistent state.
    """

    def __init__(self, watcher: Watcher, api: PCSCAPI) -> None:
        self.watcher = watcher
        self.lock = watcher._lock
        self.api = api
        self.subscribers: dict[Subscription, None] = {}
        self.stopping = False
        self.started = False
        # When the last subscriber left; the thread ends LINGER seconds later if
        # nobody came back.  ``waiting_forever`` is True while it is in (or about to
        # enter) an INFINITE wait, chosen while it had subscribers.
        self.idle_since = 0.0
        self.waiting_forever = False
        self.synced = False  # the state is known: a snapshot can be handed out
        self.lost: SmartcardException | None = None
        self.slots: dict[str, Slot] = {}
        self.context: int | None = None
        self.backoff = BACKOFF_MIN
        self.wake = threading.Event()
        self.thread = threading.Thread(target=self._main, name=THREAD_NAME, daemon=True)

    # -- called from other threads -------------------------------------------------

    def snapshot(self) -> list[tuple[Origin, list[MonitorEvent]]]:
        """What a newcomer needs to know (call with the lock held)."""
        if self.lost is not None:
            return [(Origin.CHANGE, [ServiceLost(self.lost)])]
        if not self.synced:
            return []  # the first sync is still to come and will reach the newcomer
        return [(Origin.INITIAL, present_events(self.slots))]

    def nudge(self) -> None:
        """Wake the thread from an INFINITE wait chosen while it had subscribers,
        so that it starts counting its linger; return once it has (or has gone,
        or has subscribers again).

        As in :meth:`stop`, SCardCancel is repeated: one landing just before the
        thread enters its wait is lost.
        """

        def woken() -> bool:
            with self.lock:
                return not self.waiting_forever or bool(self.subscribers)

        self._cancel_until(woken, "wake")

    def expire_locked(self) -> bool:
        """End the run if its linger is over (call with the lock held); True if it ends."""
        if self.stopping:
            return True
        if self.subscribers or time.monotonic() - self.idle_since < self.watcher.linger:
            return False
        self.stopping = True
        self.watcher._forget(self)
        return True

    def stop(self) -> None:
        """Make the thread end and wait for it (it releases its context on the way).

        SCardCancel only stops a wait already in progress, so it is repeated
        until the thread has gone: a cancel that lands just before the thread
        enters its wait is otherwise lost.
        """
        with self.lock:
            self.stopping = True
        self.wake.set()
        if threading.current_thread() is self.thread or not self.started:
            return  # a callback closing the last subscription: the loop ends after it
        self._cancel_until(lambda: False, "stop")

    def _cancel_until(self, done: Callable[[], bool], what: str) -> None:
        # SCardCancel every few ms until done() or the thread has gone; give up
        # (and say so) after _STOP_GIVE_UP seconds.
        waited = 0.0
        while self.thread.is_alive() and not done():
            context = self.context
            if context is not None:
                try:
                    self.api.cancel(context)
                except SmartcardException:
                    pass  # released meanwhile, or pcscd gone: the thread finds out itself
            self.thread.join(_STOP_CANCEL_INTERVAL)
            waited += _STOP_CANCEL_INTERVAL
            if waited >= _STOP_GIVE_UP:
                _log.warning("the watcher thread did not %s within %.0f s", what, _STOP_GIVE_UP)
                return

    # -- the watcher thread ------------------------------------------------------------

    def _main(self) -> None:
        api = self.api
        try:
            while not self._expired():
                try:
                    context = api.establish_context()
                except SmartcardException as error:
                    self._lose(error)
                    self.wake.wait(self.backoff)
                    self.backoff = min(self.backoff * 2, BACKOFF_MAX)
                    continue
                self.context = context
                try:
                    self._watch(api, context)
                except Exception as error:
                    # A failed context never works again (pcscd died or restarted):
                    # drop it and make a new one after a pause.
                    if not isinstance(error, SmartcardException):
                        _log.exception("the watcher failed; starting over with a new context")
                        error = SmartcardException(f"watcher failure: {error!r}")
                    self._lose(error)
                finally:
                    self.context = None
                    try:
                        api.release_context(context)
                    except SmartcardException:
                        pass  # pcscd gone: the library forgets the context anyway
                if not self._expired():
                    self.wake.wait(self.backoff)
                    self.backoff = min(self.backoff * 2, BACKOFF_MAX)
        finally:
            self.watcher._finished(self)

    def _expired(self) -> bool:
        with self.lock:
            return self.expire_locked()

    def _first_look(self, api: PCSCAPI, context: int) -> tuple[ReaderState, list[ReaderState]]:
        pnp = ReaderState(C.PNP_NOTIFICATION, 0)
        for _attempt in range(_LOOK_ATTEMPTS):
            names = api.list_readers(context)[:_MAX_STATES]
            states = [ReaderState(name, C.SCARD_STATE_UNAWARE) for name in names]
            with_pnp = len(states) < _MAX_STATES
            query = [pnp, *states] if with_pnp else states
            try:
                found = api.get_status_change(context, 0, query)
            except TimeoutException:
                found = query  # nothing to report: there are no readers
            except InvalidReaderException:
                continue  # a reader left between listing and looking: list again
            return (found[0], found[1:]) if with_pnp else (pnp, found)
        raise InvalidReaderException("the reader list kept changing while being read")

    def _watch(self, api: PCSCAPI, context: int) -> None:
        pnp, found = self._first_look(api, context)
        self._first_sync(found)
        self.backoff = BACKOFF_MIN
        # pcsc-lite answers UNKNOWN for the PnP entry where it cannot notify.
        pnp_works = not pnp.event_state & C.SCARD_STATE_UNKNOWN
        while True:
            with self.lock:
                if self.expire_locked():
                    return
                states = wait_states(self.slots)
                use_pnp = pnp_works and len(states) < _MAX_STATES
                timeout = C.INFINITE if use_pnp else _POLL_MS
                if not self.subscribers:
                    # Lingering: still watching, but only until the linger runs out.
                    left = self.watcher.linger - (time.monotonic() - self.idle_since)
                    timeout = min(math.ceil(left * 1000), _POLL_MS)
                self.waiting_forever = timeout == C.INFINITE
            if use_pnp:
                states.insert(0, ReaderState(pnp.reader, pnp.event_state & ~C.SCARD_STATE_CHANGED))
            relist = not use_pnp
            try:
                result = api.get_status_change(context, timeout, states)
            except CancelledException:
                continue  # a stop request, checked above; or a stray cancel: wait again
            except TimeoutException:
                result = []
            except InvalidReaderException:
                result, relist = [], True  # a reader vanished between listing and waiting
            finally:
                # Out of the wait (a failure too: pcscd lost): a nudge has nothing to cut short.
                self.waiting_forever = False
            if use_pnp and result:
                pnp, result = result[0], result[1:]
                relist = relist or bool(pnp.event_state & C.SCARD_STATE_CHANGED)
            relist = relist or any(unplugged(state.event_state) for state in result)
            names = api.list_readers(context) if relist else list(self.slots)
            self._update(result, names[:_MAX_STATES])

    def _first_sync(self, found: Sequence[ReaderState]) -> None:
        slots = first_model(found)
        with self.lock:
            restored = self.lost is not None
            self.slots = slots
            self.lost = None
            self.synced = True
            events: list[MonitorEvent] = [ServiceRestored()] if restored else []
            events += present_events(self.slots)
            subscribers = list(self.subscribers)
        if restored:
            _log.info("the PC/SC service answers again")
        self._deliver(subscribers, Origin.RESTORED if restored else Origin.INITIAL, events)

    def _update(self, result: Sequence[ReaderState], names: Sequence[str]) -> None:
        slots, events = changes(self.slots, result, names)
        with self.lock:
            self.slots = slots
            subscribers = list(self.subscribers) if events else []
        if events:
            self._deliver(subscribers, Origin.CHANGE, events)

    def _lose(self, error: SmartcardException) -> None:
        with self.lock:
            if self.lost is not None or self.stopping:
                return
            events = lost_events(self.slots, error)
            self.slots = {}
            self.lost = error
            self.synced = False
            subscribers = list(self.subscribers)
        _log.warning("lost the PC/SC service (%s); retrying with backoff", error)
        self._deliver(subscribers, Origin.CHANGE, events)

    def _deliver(
        self, subscribers: list[Subscription], origin: Origin, events: Sequence[MonitorEvent]
    ) -> None:
        gone = [sub for sub in subscribers if not sub._invoke(origin, events)]
        if gone:
            with self.lock:
                for sub in gone:
                    self.subscribers.pop(sub, None)
                if not self.subscribers:
                    self.idle_since = time.monotonic()  # nobody left: start lingering


class Watcher:
    """The process-wide registry of subscribers and the owner of the watcher thread."""

    def __init__(self, api: Callable[[], PCSCAPI] = get_pcsc, linger: float = LINGER) -> None:
        #: Seconds the thread keeps watching after its last subscriber left; 0 stops
        #: it as the last subscriber leaves (``close``/``aclose`` then wait for it).
        self.linger = linger
        self._api = api
        self._lock = threading.Lock()
        self._run: _Run | None = None
        self._runs: set[_Run] = set()  # started and not yet finished

    def subscribe(self, callback: Callback) -> Subscription:
        """Register ``callback(origin, events)``; start the watcher thread if needed.

        If the watcher already knows the state, ``callback`` is called once with
        it before this returns (on this thread); otherwise the first batch comes
        from the watcher thread.  No PC/SC call is made here.
        """
        with self._lock:
            run = self._run
            if run is None:
                run = self._run = _Run(self, self._api())
                self._runs.add(run)
            subscription = Subscription(self, run, callback)
            run.subscribers[subscription] = None
            if not run.started:
                run.started = True
                run.thread.start()
            snapshot = run.snapshot()
            # Taken before the lock is released: a later batch waits for the snapshot.
            subscription._lock.acquire()
        try:
            for origin, events in snapshot:
                subscription._invoke(origin, events)
        finally:
            subscription._lock.release()
        return subscription

    def _remove(self, subscription: Subscription) -> _Run | None:
        # The run to nudge into its linger (or, with linger 0, to stop) when this
        # was its last subscriber; the caller does that on a suitable thread.
        with self._lock:
            run = subscription._run
            if subscription not in run.subscribers:
                return None  # removed already
            del run.subscribers[subscription]
            if run.subscribers or run.stopping:
                return None
            run.idle_since = time.monotonic()
            if self.linger <= 0:
                run.stopping = True
                self._forget(run)
            return run

    def stop_if_idle(self) -> bool:
        """End a watcher that has no subscribers now, instead of when its linger
        runs out, and wait for its thread (it releases its context on the way).

        Returns True if no watcher thread is left, False if one still has
        subscribers.  Blocking: not on an event-loop thread (run it in a worker
        thread there, e.g. ``anyio.to_thread.run_sync``).

        Cancellation: blocks until the thread has gone, typically 1-3 ms.
        """
        with self._lock:
            run = self._run
            if run is not None and not run.subscribers:
                run.stopping = True
                self._forget(run)
            stopping = [run for run in self._runs if run.stopping]
        for run in stopping:
            run.stop()
        return not self.running

    def _forget(self, run: _Run) -> None:
        # With the lock held: the next subscriber starts a new run.
        if self._run is run:
            self._run = None

    def _finished(self, run: _Run) -> None:
        with self._lock:
            self._forget(run)
            self._runs.discard(run)

    @property
    def running(self) -> bool:
        """True while a watcher thread exists (starting, watching or stopping)."""
        with self._lock:
            return bool(self._runs)

    @property
    def subscriber_count(self) -> int:
        """How many subscriptions the current watcher serves."""
        with self._lock:
            return 0 if self._run is None else len(self._run.subscribers)

    @property
    def threads(self) -> list[threading.Thread]:
        """The watcher threads alive now (one, or none; two only while one is stopping)."""
        with self._lock:
            return [run.thread for run in self._runs if run.thread.is_alive()]

    @property
    def has_context(self) -> bool:
        """True while the watcher holds a PC/SC context."""
        with self._lock:
            return any(run.context is not None for run in self._runs)


_watcher = Watcher()


def get_watcher() -> Watcher:
    """The process-wide watcher."""
    return _watcher


def subscribe(callback: Callback) -> Subscription:
    """Subscribe ``callback(origin, events)`` to the process-wide watcher.

    The interface for synchronous code (pyscard-style observers): ``callback``
    is called on the watcher thread (and, for the state already known, once on
    the calling thread before this returns) with an :class:`Origin` and a list
    of events: :class:`CardInserted`, :class:`CardRemoved`,
    :class:`ReaderAdded`, :class:`ReaderRemoved`, :class:`ServiceLost`,
    :class:`ServiceRestored`.  It must return quickly.  End with
    :meth:`Subscription.close`.
    """
    return _watcher.subscribe(callback)
