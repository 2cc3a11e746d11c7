"""pyscard's ``smartcard.CardConnection``: a blocking card connection run by aioscard's core.

:class:`CardConnection` owns an :class:`aioscard.CardConnection` and drives it
through the core's blocking view (:mod:`aioscard._blocking`, the internal API
for compat), which runs the core's own operation plans: no event loop, no
second copy of the logic.  Results are pyscard's (``transmit`` gives ``(data, sw1, sw2)`` with a
``list[int]``; ``getATR`` a ``list[int]``) and errors are aioscard's exception
classes.

pyscard's defaults are kept: ``connect`` leaves the card to be unpowered on
``disconnect`` and ``reconnect`` resets it.  Unlike pyscard, ``disconnect``
also gives back the PC/SC context and worker thread (a later ``connect``
takes new ones), so a disconnected connection holds nothing.
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING, Any

from aioscard import connection as _core
from aioscard import exceptions as exc
from aioscard._blocking import BlockingConnection
from aioscard.apdu import Response
from aioscard.connection import ConnectionConstants
from aioscard.native import constants as C
from aioscard.observer import CardConnectionEvent

if TYPE_CHECKING:
    from types import TracebackType

    from aioscard.util import ByteInput

__all__ = ["CardConnection"]


class _Relay:
    """Registered with the core connection on behalf of a pyscard observer, so
    that the observer is told about the shim's connection, not the core's."""

    __slots__ = ("observer", "owner")

    def __init__(self, owner: CardConnection, observer: Any) -> None:
        self.owner = weakref.ref(owner)
        self.observer = observer

    def __eq__(self, other: object) -> bool:
        if isinstance(other, _Relay):
            return bool(self.observer == other.observer)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.observer)

    def __repr__(self) -> str:
        return repr(self.observer)

    def update(self, cardconnection: Any, ccevent: Any) -> None:
        owner = self.owner()
        self.observer.update(cardconnection if owner is None else owner, ccevent)


def _release_abandoned(core: _core.CardConnection) -> None:
    # pyscard released a forgotten connection when it was garbage-collected, and
    # legacy code relies on that.  A safety net only: disconnect() releases.
    try:
        core.release_sync()
    except Exception:
        pass  # e.g. run on the connection's own worker (Worker.call refuses) or at exit


class CardConnection(ConnectionConstants):
    """A connection to the card in a reader, with pyscard's blocking methods.

    Create it with ``reader.createConnection()``.  ``with connection:`` does
    what pyscard does (disconnects on exit) and, beyond pyscard, connects on
    first use if nothing inside the block called ``connect()``.

    Thread safety: calls from several threads are queued on the connection's
    worker in order, never interleaved.
    """

    def __init__(self, reader: object) -> None:
        # Blocking calls run on the calling thread, as in pyscard: no hand-off per APDU.
        blocking = BlockingConnection.for_reader(str(reader))
        core = blocking.connection
        self._blocking = blocking
        self._core = core
        # Armed by entering a with-block: connect on first use unless connect() came first.
        self._autoconnect = False
        # pyscard tells observers of "release" once, when the context goes.
        self._release_told = False
        weakref.finalize(self, _release_abandoned, core)

    def __repr__(self) -> str:
        state = "connected" if self._core.connected else "not connected"
        return f"<CardConnection {self._core.reader!r} {state}>"

    # -- the underlying async connection ----------------------------------------------

    @property
    def aio(self) -> _core.CardConnection:
        """The :class:`aioscard.CardConnection` doing the work (for code moving to async)."""
        return self._core

    @property
    def reader(self) -> str:
        """The reader's name."""
        return self._core.reader

    @property
    def hcard(self) -> int | None:
        """The raw SCARDHANDLE while connected (for legacy ``smartcard.scard`` calls)."""
        return self._blocking.handle

    @property
    def hcontext(self) -> int | None:
        """The raw SCARDCONTEXT the connection uses, if established."""
        return self._blocking.context_handle

    @property
    def errorcheckingchain(self) -> list[Any] | None:
        """The status-word error-checking chain (see :meth:`setErrorCheckingChain`)."""
        return self._core.errorcheckingchain

    @errorcheckingchain.setter
    def errorcheckingchain(self, chain: list[Any] | None) -> None:
        self._core.errorcheckingchain = chain

    @property
    def defaultprotocol(self) -> int:
        """The protocol bits ``connect``/``transmit`` use when given none."""
        protocol = self._core.defaultprotocol
        return self.T0_protocol | self.T1_protocol if protocol is None else protocol

    @defaultprotocol.setter
    def defaultprotocol(self, protocol: int) -> None:
        self._core.setProtocol(protocol)

    @property
    def disposition(self) -> int:
        """What ``disconnect`` does to the card (``UNPOWER_CARD`` after a default connect)."""
        return self._core.disposition

    @disposition.setter
    def disposition(self, disposition: int) -> None:
        self._core.disposition = disposition

    def _use(self) -> None:
        # First use inside a with-block that never connected: connect as pyscard would.
        self._autoconnect = False
        if not self._core.connected:
            self.connect()

    def _arm_autoconnect(self) -> None:
        if not self._core.connected:
            self._autoconnect = True

    # -- connect / reconnect / disconnect ------------------------------------------------

    def connect(
        self, protocol: int | None = None, mode: int | None = None, disposition: int | None = None
    ) -> None:
        """Connect to the card (SCardConnect).

        ``protocol``: protocol bits (default: ``T0_protocol | T1_protocol``
        or what :meth:`setProtocol` set); ``mode``: ``SCARD_SHARE_SHARED``
        (default), ``SCARD_SHARE_EXCLUSIVE`` or ``SCARD_SHARE_DIRECT``;
        ``disposition``: what :meth:`disconnect` does to the card (default
        ``SCARD_UNPOWER_CARD``, as in pyscard).  Connecting a connected
        connection first leaves the previous connection (as pyscard, which
        dropped the old handle).

        Raises:
            NoCardException, SharingViolationException, ProtocolMismatchException,
            CardConnectionException: as PC/SC reports.
            TypeError, ValueError: bad arguments, before any PC/SC call.
        """
        self._autoconnect = False
        if disposition is None:
            disposition = C.SCARD_UNPOWER_CARD
        self._blocking.connect(protocol, mode, disposition, leave_previous=True)

    def reconnect(
        self, protocol: int | None = None, mode: int | None = None, disposition: int | None = None
    ) -> None:
        """Re-establish the connection (SCardReconnect), resetting the card by default.

        ``disposition`` (default ``SCARD_RESET_CARD``) is what happens to the
        card now and, as in pyscard, also at the next :meth:`disconnect`.

        Raises:
            CardConnectionException: not connected; others as PC/SC reports.
        """
        if disposition is None:
            disposition = C.SCARD_RESET_CARD
        self._blocking.reconnect(protocol, mode, disposition)
        self._core.disposition = disposition

    def disconnect(self) -> None:
        """Disconnect from the card (SCardDisconnect with :attr:`disposition`) and
        give back the PC/SC context and worker thread; ``connect()`` may follow.

        Nothing happens if not connected.
        """
        self._autoconnect = False
        self._blocking.release()

    def release(self) -> None:
        """Disconnect if connected and release the PC/SC context (SCardReleaseContext).

        Observers hear of it once (a ``"release"`` event), as in pyscard.
        """
        self._autoconnect = False
        if not self._release_told:
            self._release_told = True
            self._core.notifyObservers(CardConnectionEvent("release"))
        self._blocking.release()

    def __enter__(self) -> CardConnection:
        self._arm_autoconnect()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.disconnect()

    # -- data exchange ----------------------------------------------------------------

    def transmit(self, command: ByteInput, protocol: int | None = None) -> Response:
        """Send a command APDU and return ``(data, sw1, sw2)`` (SCardTransmit).

        ``command`` is a list of ints (or bytes); ``protocol`` overrides the
        active protocol for this call.  The result is a named tuple that
        unpacks like pyscard's.  The error-checking chain, if set, runs on
        the status word.

        Raises:
            CardConnectionException: not connected; CardRemovedException,
            NotTransactedException, InvalidResponseException, ...: as PC/SC
            and the card report.
            TypeError, ValueError: a malformed command, before any PC/SC call.
            SWException subclasses: from the error-checking chain.
        """
        if self._autoconnect:
            self._use()
        if self._overrides("doTransmit"):
            return self._transmit_through_hook(command, protocol)
        return self._blocking.transmit(command, protocol)

    def control(self, controlCode: int, command: ByteInput | None = None) -> list[int]:
        """Send a control command to the reader (SCardControl); returns its answer.

        Raises:
            UnsupportedFeatureException: the reader does not know ``controlCode``.
        """
        if self._autoconnect:
            self._use()
        if self._overrides("doControl"):
            return self._control_through_hook(controlCode, command)
        return self._blocking.control(controlCode, command)

    def getAttrib(self, attribId: int) -> list[int]:
        """Read a reader attribute such as ``SCARD_ATTR_VENDOR_NAME`` (SCardGetAttrib).

        Raises:
            UnsupportedFeatureException: the driver does not offer it.
        """
        if self._autoconnect:
            self._use()
        if self._overrides("doGetAttrib"):
            return self._get_attrib_through_hook(attribId)
        return self._blocking.getAttrib(attribId)

    def getATR(self) -> list[int]:
        """The card's ATR, read afresh (SCardStatus).

        Raises:
            CardConnectionException: not connected; CardRemovedException: the card has gone.
        """
        if self._autoconnect:
            self._use()
        if not self._blocking.connected:
            raise exc.CardConnectionException("Card not connected")
        return list(self._blocking.status().atr)

    def getProtocol(self) -> int:
        """The active protocol bits when connected, else the default ones."""
        if self._core.connected:
            return self._core.getProtocol()
        return self.defaultprotocol

    def getReader(self) -> str:
        """The reader's name."""
        return self._core.reader

    def setProtocol(self, protocol: int) -> None:
        """Set the protocol bits later ``connect``/``transmit`` calls use by default."""
        self._core.setProtocol(protocol)

    def setErrorCheckingChain(self, errorcheckingchain: list[Any] | None) -> None:
        """Install a status-word error-checking chain (a list holding an ErrorCheckingChain)."""
        self._core.setErrorCheckingChain(errorcheckingchain)

    def addSWExceptionToFilter(self, exClass: type[Exception]) -> None:
        """Stop the error-checking chain from raising ``exClass``."""
        self._core.addSWExceptionToFilter(exClass)

    # -- transactions (ExclusiveTransmitCardConnection) -----------------------------------

    def _begin_transaction(self) -> None:
        self._blocking.begin_transaction()

    def _end_transaction(self, disposition: int = C.SCARD_LEAVE_CARD) -> None:
        self._blocking.end_transaction(disposition)

    # -- observers ----------------------------------------------------------------------

    def addObserver(self, observer: Any) -> None:
        """Register a CardConnectionObserver; its ``update(connection, event)`` is
        called in the calling thread.  Errors it raises are logged, not raised."""
        self._core.addObserver(_Relay(self, observer))

    def deleteObserver(self, observer: Any) -> None:
        """Unregister ``observer`` (unknown observers are ignored)."""
        self._core.deleteObserver(_Relay(self, observer))

    def deleteObservers(self) -> None:
        """Unregister every observer."""
        self._core.deleteObservers()

    def countObservers(self) -> int:
        """How many observers are registered."""
        return self._core.countObservers()

    # -- pyscard's hooks for subclasses ------------------------------------------------------
    #
    # pyscard's transmit(), control() and getAttrib() tell observers, call
    # doTransmit(), doControl() or doGetAttrib() for the exchange itself, and run
    # the error-checking chain.  A subclass that overrides one of these hooks
    # gets exactly that sequence; one that does not takes the core's own path,
    # which does the same in one hand-off.

    def _overrides(self, hook: str) -> bool:
        return getattr(type(self), hook) is not getattr(CardConnection, hook)

    def _tell(self, kind: str, args: Any) -> None:
        self._core.notifyObservers(CardConnectionEvent(kind, args))

    def _check(self, *response: Any) -> None:
        chain = self.errorcheckingchain
        if chain:
            chain[0](*response)

    def _transmit_through_hook(self, command: ByteInput, protocol: int | None) -> Response:
        self._tell("command", [command, protocol])
        data, sw1, sw2 = self.doTransmit(command, protocol)
        self._tell("response", [data, sw1, sw2])
        self._check(data, sw1, sw2)
        return Response(list(data), sw1, sw2)

    def _control_through_hook(self, controlCode: int, command: ByteInput | None) -> list[int]:
        command = [] if command is None else command
        self._tell("command", [controlCode, command])
        data = self.doControl(controlCode, command)
        self._tell("response", data)
        self._check(data)
        return data

    def _get_attrib_through_hook(self, attribId: int) -> list[int]:
        self._tell("attrib", [attribId])
        data = self.doGetAttrib(attribId)
        self._check(data)
        return data

    def doTransmit(self, command: ByteInput, protocol: int | None = None) -> Response:
        """Exchange one APDU with the card (SCardTransmit): ``(data, sw1, sw2)``.

        pyscard's hook: :meth:`transmit` calls an overriding ``doTransmit``
        between telling observers and running the error-checking chain.  This
        one does neither; it follows ``61xx``/``6Cxx`` as :meth:`transmit` does.

        Raises:
            CardConnectionException: not connected; others as :meth:`transmit`.
        """
        return self._blocking.transmit_bare(command, protocol)

    def doControl(self, controlCode: int, command: ByteInput | None = None) -> list[int]:
        """Send a control command to the reader (SCardControl), without telling observers.

        pyscard's hook, called by :meth:`control` when a subclass overrides it.
        """
        return self._blocking.control(controlCode, command)

    def doGetAttrib(self, attribId: int) -> list[int]:
        """Read a reader attribute (SCardGetAttrib), without telling observers.

        pyscard's hook, called by :meth:`getAttrib` when a subclass overrides it.
        """
        return self._blocking.getAttrib(attribId)
