"""``CardRequest``: wait for a card, pyscard's way, awaitable and cancellable.

Waiting costs no thread of its own: every pending :meth:`CardRequest.waitforcard`
and :meth:`CardRequest.waitforcardevent` is a subscriber of the one shared
watcher (:mod:`aioscard.monitor`), which holds the process's single blocked
SCardGetStatusChange.  This module sits at the monitor's layer although it
lives at the package's top level, where pyscard users look for it.
"""

from __future__ import annotations

import math
from collections.abc import Generator, Iterable
from types import TracebackType
from typing import Any

import anyio

from ._worker import Wakeup
from .card import Card
from .cardtype import AnyCardType, CardType
from .exceptions import CardRequestTimeoutException
from .monitor._events import (
    CardEvent,
    CardInserted,
    CardRemoved,
)
from .monitor._stream import EventStream, card_events, reader_names
from .monitor._waiter import CardWaiter, sleep_until_over
from .monitor._watcher import get_watcher
from .reader import Reader
from .service import CardService, PassThruCardService
from .system import readers as list_readers

__all__ = ["CardRequest"]


def _check_timeout(timeout: float | None) -> float | None:
    if timeout is None:
        return None
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)):
        raise TypeError(
            f"timeout must be a number of seconds or None, not {type(timeout).__name__}"
        )
    try:
        seconds = float(timeout)
    except OverflowError:  # an int beyond any float
        seconds = math.inf if timeout > 0 else -math.inf
    if math.isnan(seconds) or seconds < 0:
        raise ValueError(f"timeout must be >= 0 seconds or None, got {timeout}")
    return seconds


class _PendingService:
    """What :meth:`CardRequest.waitforcard` returns: await it for the card service,
    or use it as ``async with`` to get the service connected (and released at the end)."""

    __slots__ = ("_request", "_service")

    def __init__(self, request: CardRequest) -> None:
        self._request = request
        self._service: CardService | None = None

    def __await__(self) -> Generator[Any, None, CardService]:
        return self._request._waitforcard().__await__()

    async def __aenter__(self) -> CardService:
        """Wait for the card as :meth:`CardRequest.waitforcard` does, then connect.

        Raises:
            CardRequestTimeoutException: no matching card within the timeout.
            CardConnectionException (and subclasses): connecting failed; the
                connection is released.

        Cancellation: as for the wait; a connection already made is released.
        """
        service = await self._request._waitforcard()
        try:
            await service.__aenter__()
        except BaseException:
            await service.connection.release()
            raise
        self._service = service
        return service

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        service, self._service = self._service, None
        if service is not None:
            await service.__aexit__(exc_type, exc, tb)


class CardRequest:
    """A request for a card: pyscard's ``CardRequest``, with awaitable waits.

    ``newcardonly``: only cards inserted after the wait begins count (not those
    already present).  ``readers``: the readers to watch (``Reader`` objects or
    names; None: every reader, including readers plugged in later).
    ``cardType``: a :class:`~aioscard.cardtype.CardType` (default
    :class:`~aioscard.cardtype.AnyCardType`).  ``cardServiceClass``: the
    :class:`~aioscard.CardService` subclass :meth:`waitforcard` returns (default
    :class:`~aioscard.PassThruCardService`).  ``timeout``: seconds each wait
    may take (None: forever).

    ``async with CardRequest(...) as request:`` releases what the request holds
    at the end (the subscription behind :meth:`waitforcardevent`); so does
    :meth:`aclose`.

    Raises:
        TypeError, ValueError: bad arguments, naming them.
    """

    def __init__(
        self,
        newcardonly: bool = False,
        readers: Iterable[Reader | str] | None = None,
        cardType: CardType | None = None,  # pyscard's spellings
        cardServiceClass: type[CardService] | None = None,
        timeout: float | None = 1,
    ) -> None:
        if readers is not None and not isinstance(readers, (str, Reader)):
            readers = list(readers)
        self._reader_names = reader_names(readers)
        #: The readers asked for, as given (None: every reader).
        self.readersAsked: list[Reader] | None = (
            None
            if readers is None
            else [r if isinstance(r, Reader) else Reader(r) for r in readers]
        )
        if cardType is None:
            cardType = AnyCardType()
        elif not isinstance(cardType, CardType):
            raise TypeError(f"cardType must be a CardType, not {type(cardType).__name__}")
        if cardServiceClass is None:
            cardServiceClass = PassThruCardService
        elif not (isinstance(cardServiceClass, type) and issubclass(cardServiceClass, CardService)):
            raise TypeError("cardServiceClass must be a CardService subclass")
        self.newcardonly = bool(newcardonly)
        self.cardType: CardType = cardType
        self.cardServiceClass: type[CardService] = cardServiceClass
        self.timeout = _check_timeout(timeout)
        self._events: EventStream[CardEvent] | None = None

    def __repr__(self) -> str:
        readers = None if self.readersAsked is None else [r.name for r in self.readersAsked]
        return (
            f"CardRequest(newcardonly={self.newcardonly}, readers={readers!r}, "
            f"cardType={self.cardType!r}, cardServiceClass={self.cardServiceClass.__name__}, "
            f"timeout={self.timeout!r})"
        )

    async def getReaders(self) -> list[Reader]:
        """The readers this request watches: those asked for, else every reader now.

        Raises:
            ServiceUnavailableException: no readers were asked for and pcscd is not running.

        Cancellation: returns at once; a listing in progress finishes on a worker.
        """
        if self.readersAsked is not None:
            return list(self.readersAsked)
        return await list_readers()

    def waitforcard(self) -> _PendingService:
        """Wait for a matching card and return a card service for it.

        ``service = await request.waitforcard()`` gives a service whose
        connection is created but not connected (as pyscard does);
        ``async with request.waitforcard() as service:`` also connects it and
        disconnects and releases it at the end.  Without ``newcardonly`` a
        matching card already present is returned at once.  pcscd going away
        meanwhile does not end the wait: it goes on once pcscd is back.

        Raises:
            CardRequestTimeoutException: no matching card within ``timeout`` seconds.
            Exception: what the card type's ``matches`` raised.

        Cancellation: cancelling the waiting task (a cancel scope, ``asyncio.timeout``,
        ``task.cancel()``) raises the cancellation, not a timeout, within
        about a millisecond; the subscription is gone by then and, if it was
        the last, the watcher thread and its context too.
        """
        return _PendingService(self)

    async def _waitforcard(self) -> CardService:
        started = anyio.current_time()
        wakeup = Wakeup()
        waiter = CardWaiter.for_request(self, wakeup)
        subscription = get_watcher().subscribe(waiter)
        try:
            # The state when the wait began comes first (at once unless this
            # subscriber starts the watcher); the timeout counts from `started`.
            await sleep_until_over(waiter, wakeup, answered=False)
            remaining = math.inf
            if self.timeout is not None:
                remaining = max(0.0, started + self.timeout - anyio.current_time())
            with anyio.move_on_after(remaining):
                await sleep_until_over(waiter, wakeup, answered=True)
                return self.cardServiceClass(waiter.result().createConnection())
            raise CardRequestTimeoutException(
                f"no matching card was inserted within {self.timeout:g} s"
            )
        finally:
            await subscription.aclose()

    async def waitforcardevent(self) -> tuple[list[Card], list[Card]]:
        """Wait for cards to come or go; return ``(inserted, removed)`` since the previous call.

        The first call starts watching (and, without ``newcardonly``, reports
        the cards present as inserted); from then on nothing is missed between
        calls, until :meth:`aclose`.  A card inserted and removed between two
        calls is in both lists.  When pcscd goes away the cards present are
        reported removed, and inserted again once it is back.

        Raises:
            CardRequestTimeoutException: nothing happened within ``timeout`` seconds.
            Exception: what the card type's ``matches`` raised.

        Cancellation: returns at once; changes keep being recorded for the next call.
        """
        started = anyio.current_time()
        stream = self._events
        if stream is None:
            stream = card_events(
                self._reader_names, cardType=self.cardType, initial=not self.newcardonly
            )
            await stream.__aenter__()
            self._events = stream
        inserted: list[Card] = []
        removed: list[Card] = []

        def fold(events: Iterable[CardEvent]) -> None:
            for event in events:
                if isinstance(event, CardInserted):
                    inserted.append(event.card)
                elif isinstance(event, CardRemoved):
                    removed.append(event.card)

        fold(stream.drain())
        if inserted or removed:
            return inserted, removed
        remaining = math.inf
        if self.timeout is not None:
            remaining = max(0.0, started + self.timeout - anyio.current_time())
        with anyio.move_on_after(remaining):
            while not (inserted or removed):
                fold([await stream.__anext__()])
                fold(stream.drain())
            return inserted, removed
        raise CardRequestTimeoutException(f"no card event within {self.timeout:g} s")

    async def aclose(self) -> None:
        """Stop watching for :meth:`waitforcardevent` (a no-op if it was never called).

        Cancellation: shielded; always completes.
        """
        stream, self._events = self._events, None
        if stream is not None:
            await stream.aclose()

    async def __aenter__(self) -> CardRequest:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
