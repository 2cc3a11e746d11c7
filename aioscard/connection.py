"""``CardConnection``: an async connection to the card in one reader.

Every connection owns one PC/SC context on its own worker thread (see
:mod:`aioscard._worker`), so connections to different readers run in parallel
while calls on one connection run one at a time, in the order they were made.
The public coroutine methods keep pyscard's names and results
(``transmit`` returns ``(data, sw1, sw2)`` with ``data`` a ``list[int]``).

Each operation is written once as a *plan*: validation and observer
notification on the caller's side, one job on the worker, and a finishing step
back on the caller's side.  The coroutines await the job; the blocking view
in :mod:`aioscard._blocking` (the shim's connection, and the connection that
:meth:`CardConnection.run_sync` hands to its function) runs the very same plans
with a blocking call or, inside a dialogue, directly on the worker.

Who owns the connection's state.  ``_handle``, ``_protocol``, ``_atr`` and
``_in_transaction`` are written only by *jobs* (``_job_connect``,
``_job_status``, ``_job_disconnect``, ``_guard``'s ``_forget`` ...), which run
one at a time under the context's lock: on the worker, on the shim's calling
thread for an inline context, or inside a ``run_sync`` dialogue.  Code on the
caller's side (``connected``, ``getATR()``, ``getProtocol()``, the plans'
argument checks, ``__repr__``) only *reads* them and does not take the lock: a
read sees the value before or after a job, never a torn one (each is one
attribute), and a caller that needs a consistent picture asks through a job
(``status()``).  Keep it so: a new field that a job changes is set only in jobs,
and nothing on the caller's side writes one.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Collection, Iterable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from . import _reader_ops
from . import exceptions as exc
from ._blocking import BlockingConnection, Dialogue, run_dialogue
from ._context import Context
from .apdu import Response, coerce_apdu, coerce_bytes
from .channel import LogicalChannel, open_channel
from .native import CardStatus
from .native import constants as C
from .observer import CardConnectionEvent, Observable, process_observers
from .transport import TransportOptions as TransportOptions
from .transport import exchange
from .util import ByteInput

if TYPE_CHECKING:
    from typing_extensions import TypeVarTuple, Unpack

    from .part10 import PinModifyStructure, PinProperties, PinVerifyStructure, TlvProperties
    from .reader import Reader
    from .readerinfo import ReaderInfo

    Ts = TypeVarTuple("Ts")

__all__ = ["CardConnection", "ConnectionConstants", "TransportOptions"]

T = TypeVar("T")
R = TypeVar("R")

_log = logging.getLogger("aioscard.connection")

# pyscard's protocol constants and the native bits they stand for on this platform.
T0_PROTOCOL = 0x00000001
T1_PROTOCOL = 0x00000002
T15_PROTOCOL = 0x00000008
RAW_PROTOCOL = 0x00010000
_PROTOCOL_BITS = (
    (T0_PROTOCOL, C.SCARD_PROTOCOL_T0),
    (T1_PROTOCOL, C.SCARD_PROTOCOL_T1),
    (T15_PROTOCOL, C.SCARD_PROTOCOL_T15),
    (RAW_PROTOCOL, C.SCARD_PROTOCOL_RAW),
)
_ALL_PROTOCOLS = T0_PROTOCOL | T1_PROTOCOL | T15_PROTOCOL | RAW_PROTOCOL
_SHARE_MODES = (C.SCARD_SHARE_EXCLUSIVE, C.SCARD_SHARE_SHARED, C.SCARD_SHARE_DIRECT)
_DISPOSITIONS = (C.SCARD_LEAVE_CARD, C.SCARD_RESET_CARD, C.SCARD_UNPOWER_CARD, C.SCARD_EJECT_CARD)
_MAX_CONTROL = C.MAX_BUFFER_SIZE_EXTENDED
# Errors after which a connection's context and handle are dead for good.
_DEAD = (exc.ServiceUnavailableException, exc.InvalidHandleException)


def _check_int(value: object, name: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{name} must be an int, not {type(value).__name__}")
    return value


def to_native_protocol(protocol: int, name: str = "protocol") -> int:
    """Translate pyscard protocol bits (``T0_protocol`` ...) into PC/SC's for this platform.

    Raises:
        TypeError: not an int.
        ValueError: unknown bits, naming them.
    """
    _check_int(protocol, name)
    unknown = protocol & ~_ALL_PROTOCOLS
    if protocol < 0 or unknown:
        raise ValueError(
            f"{name} has unknown protocol bits 0x{unknown & 0xFFFFFFFF:X}; use "
            "CardConnection.T0_protocol, T1_protocol, T15_protocol or RAW_protocol"
        )
    native = 0
    for ours, theirs in _PROTOCOL_BITS:
        if protocol & ours:
            native |= theirs
    return native


def from_native_protocol(native: int) -> int:
    """Translate PC/SC protocol bits into pyscard's constants."""
    ours = 0
    for mine, theirs in _PROTOCOL_BITS:
        if native & theirs:
            ours |= mine
    return ours


def _choice(value: object, allowed: Sequence[int], name: str) -> int:
    _check_int(value, name)
    if value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(map(str, allowed))}, got {value}")
    return value  # type: ignore[return-value]


class _Plan(Generic[T, R]):
    """One operation: ``job(*args)`` on the worker, then ``finish(result)`` on the caller's
    side.  ``droppable``: whether a cancelled caller may drop a job not yet started.
    (A plain slotted class: it is built on every APDU.)"""

    __slots__ = ("args", "droppable", "finish", "job")

    def __init__(
        self,
        job: Callable[..., T],
        args: tuple[Any, ...],
        finish: Callable[[T], R],
        droppable: bool = True,
    ) -> None:
        self.job = job
        self.args = args
        self.finish = finish
        self.droppable = droppable


def _identity(value: T) -> T:
    return value


class ConnectionConstants:
    """pyscard's names for protocols, share modes and dispositions, as class attributes
    of a connection (``connection.T1_protocol``, ``CardConnection.SHARE_SHARED``).

    Defined once, here: :class:`CardConnection` and the shim's ``CardConnection`` and
    ``CardConnectionDecorator`` inherit them.  The share modes and dispositions are
    PC/SC's values (:mod:`aioscard.native.constants`); the protocols are pyscard's bits,
    which the connection translates into PC/SC's for the platform.
    """

    T0_protocol = T0_PROTOCOL
    T1_protocol = T1_PROTOCOL
    RAW_protocol = RAW_PROTOCOL
    T15_protocol = T15_PROTOCOL

    SHARE_EXCLUSIVE = C.SCARD_SHARE_EXCLUSIVE
    SHARE_SHARED = C.SCARD_SHARE_SHARED
    SHARE_DIRECT = C.SCARD_SHARE_DIRECT

    LEAVE_CARD = C.SCARD_LEAVE_CARD
    RESET_CARD = C.SCARD_RESET_CARD
    UNPOWER_CARD = C.SCARD_UNPOWER_CARD
    EJECT_CARD = C.SCARD_EJECT_CARD


class CardConnection(ConnectionConstants, Observable):
    """A connection to the card in a reader (create it with ``reader.createConnection()``).

    ``async with connection:`` connects (unless already connected) and
    disconnects and releases on exit.  Methods that talk to the card are
    coroutines; ``getATR()``, ``getProtocol()`` and ``getReader()`` answer from
    what the last connect learned.

    Cancellation: cancelling a task awaiting any method returns control at
    once.  A command not yet started is never sent; one already with the card
    completes on the worker and its response is discarded; the connection stays
    usable.  Disconnect and release always complete.
    """

    def __init__(self, reader: Reader | str, *, _inline: bool = False) -> None:
        super().__init__()
        self.reader = str(reader)
        # _inline: blocking calls run on the caller's thread (the synchronous shim).
        self._context = Context(inline=_inline)
        self._handle: int | None = None
        self._protocol = 0  # native bits of the active protocol
        self._atr = b""
        self._in_transaction = False
        self.defaultprotocol: int | None = None
        self.disposition = C.SCARD_LEAVE_CARD
        self.errorcheckingchain: list[Any] | None = None
        self.transport = TransportOptions()
        for observer in process_observers():  # aioscard record, $AIOSCARD_RECORD
            self.addObserver(observer)

    def __repr__(self) -> str:
        state = "connected" if self._handle is not None else "not connected"
        return f"<CardConnection {self.reader!r} {state}>"

    # -- plumbing ------------------------------------------------------------------

    async def _arun(self, plan: _Plan[Any, R]) -> R:
        worker_run = self._context.run if plan.droppable else self._context.run_to_completion
        return plan.finish(await worker_run(plan.job, *plan.args))

    def _notify(self, type_: str, args: Any = None) -> None:
        if self._observers:
            self.notifyObservers(CardConnectionEvent(type_, args))

    def _guard(self, job: Callable[..., T], *args: Any) -> T:
        # Runs on the worker: a dead context or handle is forgotten so that a
        # later connect() starts afresh (pcscd restarted, say).
        try:
            return job(*args)
        except _DEAD:
            self._forget()
            raise

    def _forget(self) -> None:
        self._handle = None
        self._in_transaction = False
        self._context.drop()

    def _require_handle(self) -> int:
        handle = self._handle
        if handle is None:
            raise exc.CardConnectionException(f"not connected to a card in {self.reader!r}")
        return handle

    # -- connect / reconnect / disconnect -----------------------------------------------

    def _job_connect(self, share: int, protocols: int) -> None:
        if self._handle is not None:
            raise exc.CardConnectionException(
                f"already connected to {self.reader!r}; disconnect() or reconnect() first"
            )
        api = self._context.api
        for attempt in (1, 2):
            context = self._context.ensure()
            try:
                handle, active = api.connect(context, self.reader, share, protocols)
                break
            except _DEAD:
                # A context from before a pcscd restart never works again: retry once anew.
                self._context.drop()
                if attempt == 2:
                    raise
        try:
            status = api.status(handle)
        except exc.SmartcardException:
            api.disconnect(handle, C.SCARD_LEAVE_CARD)
            raise
        self._handle, self._protocol, self._atr = handle, active, status.atr

    def _plan_connect(
        self, protocol: int | None, mode: int | None, disposition: int | None
    ) -> _Plan[None, None]:
        share = C.SCARD_SHARE_SHARED if mode is None else _choice(mode, _SHARE_MODES, "mode")
        if protocol is None:
            protocol = self.defaultprotocol
        if protocol is None:
            protocols = C.SCARD_PROTOCOL_T0 | C.SCARD_PROTOCOL_T1
        else:
            protocols = to_native_protocol(protocol)
        if share == C.SCARD_SHARE_DIRECT and protocol is None:
            protocols = 0  # direct access to the reader needs no card protocol
        if disposition is not None:
            self.disposition = _choice(disposition, _DISPOSITIONS, "disposition")

        def finish(_: None) -> None:
            self._notify("connect")

        return _Plan(self._job_connect, (share, protocols), finish)

    async def connect(
        self, protocol: int | None = None, mode: int | None = None, disposition: int | None = None
    ) -> None:
        """Connect to the card (SCardConnect, then SCardStatus for the ATR).

        ``protocol``: pyscard protocol bits (default T=0 or T=1, whichever the
        card offers); ``mode``: ``SHARE_SHARED`` (default), ``SHARE_EXCLUSIVE``
        or ``SHARE_DIRECT``; ``disposition``: what ``disconnect()`` does to the
        card (default ``LEAVE_CARD``).

        Raises:
            NoCardException: the reader is empty.
            SharingViolationException: another connection holds the card exclusively.
            ProtocolMismatchException: the card does not speak ``protocol``.
            InvalidReaderException: the reader is unknown or gone.
            ServiceUnavailableException: pcscd is not running.
            CardConnectionException: already connected, or as PC/SC reports.
            TypeError, ValueError: bad arguments (before any PC/SC call).

        Cancellation: returns at once.  An SCardConnect already under way (it
        waits while another application holds a transaction on the card) still
        completes on the worker, leaving the connection connected: ``release()``
        undoes it, and ``async with`` does so by itself.
        """
        try:
            await self._arun(self._plan_connect(protocol, mode, disposition))
        except Exception:
            if self._handle is None:
                # Not connected: hold no context and no worker thread, since a failed
                # attempt's connection object is often just dropped.
                await self._context.aclose()
            raise

    def _job_reconnect(self, share: int, protocols: int, initialization: int) -> None:
        handle = self._require_handle()
        api = self._context.api
        self._protocol = api.reconnect(handle, share, protocols, initialization)
        self._atr = api.status(handle).atr

    def _plan_reconnect(
        self, protocol: int | None, mode: int | None, disposition: int | None
    ) -> _Plan[None, None]:
        share = C.SCARD_SHARE_SHARED if mode is None else _choice(mode, _SHARE_MODES, "mode")
        if protocol is None:
            protocol = self.defaultprotocol
        protocols = (
            C.SCARD_PROTOCOL_T0 | C.SCARD_PROTOCOL_T1
            if protocol is None
            else to_native_protocol(protocol)
        )
        initialization = (
            C.SCARD_LEAVE_CARD
            if disposition is None
            else _choice(disposition, _DISPOSITIONS, "disposition")
        )

        def finish(_: None) -> None:
            self._notify("reconnect")

        return _Plan(self._guard, (self._job_reconnect, share, protocols, initialization), finish)

    async def reconnect(
        self, protocol: int | None = None, mode: int | None = None, disposition: int | None = None
    ) -> None:
        """Re-establish the connection (SCardReconnect), e.g. after the card was reset
        or removed and re-inserted.  ``disposition`` is what happens to the card
        first: ``LEAVE_CARD`` (default), ``RESET_CARD`` or ``UNPOWER_CARD``.

        With ``mode=SHARE_EXCLUSIVE``, pcsc-lite waits for as long as any other
        connection (of this process or another) uses the card.

        Raises:
            CardConnectionException: not connected; NoCardException, ... as PC/SC reports.

        Cancellation: returns at once; a reconnect under way completes on the worker.
        """
        await self._arun(self._plan_reconnect(protocol, mode, disposition))

    def _job_disconnect(self) -> bool:
        handle, self._handle = self._handle, None
        self._in_transaction = False
        if handle is None:
            return False
        self._context.api.disconnect(handle, self.disposition)
        return True

    def _plan_disconnect(self) -> _Plan[bool, None]:
        def finish(was_connected: bool) -> None:
            if was_connected:
                self._notify("disconnect")

        return _Plan(self._guard, (self._job_disconnect,), finish, droppable=False)

    async def disconnect(self) -> None:
        """Disconnect from the card (SCardDisconnect with ``self.disposition``);
        the connection may connect again.  Nothing happens if not connected.

        Cancellation: always completes (shielded).
        """
        await self._arun(self._plan_disconnect())

    def _release_job(self) -> None:
        try:
            self._job_disconnect()
        except exc.SmartcardException as error:
            _log.debug("disconnect during release failed: %s", error)

    async def release(self) -> None:
        """Disconnect if connected, then release the PC/SC context and the worker thread.

        Cancellation: always completes (shielded).
        """
        was_connected = self._handle is not None
        await self._context.aclose(self._release_job)
        if was_connected:
            self._notify("disconnect")

    def release_sync(self) -> None:
        """Blocking form of :meth:`release` (for the synchronous shim)."""
        was_connected = self._handle is not None
        self._context.close(self._release_job)
        if was_connected:
            self._notify("disconnect")

    async def __aenter__(self) -> CardConnection:
        if self._handle is None:
            try:
                await self.connect()
            except BaseException:
                # __aexit__ will not run: give back the context and worker thread the
                # attempt took (after a connect still under way, if cancelled).
                await self.release()
                raise
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.release()

    # -- data exchange -------------------------------------------------------------

    def _job_transmit(self, command: bytes, protocol: int | None) -> bytes:
        handle = self._require_handle()
        api = self._context.api
        active = self._protocol if protocol is None else protocol
        options = self.transport
        if not options.enabled:
            return api.transmit(handle, active, command)
        return exchange(lambda apdu: api.transmit(handle, active, apdu), command, options)

    def _plan_transmit(
        self, command: ByteInput, protocol: int | None, bare: bool = False
    ) -> _Plan[bytes, Response]:
        # bare: no observers and no error-checking chain (pyscard's doTransmit hook).
        apdu = coerce_apdu(command)
        native_protocol = None if protocol is None else to_native_protocol(protocol)
        if native_protocol is None and self.defaultprotocol is not None:
            native_protocol = to_native_protocol(self.defaultprotocol, "defaultprotocol")
        if bare:
            return _Plan(self._guard, (self._job_transmit, apdu, native_protocol), _response)
        if self._observers:
            self._notify("command", [list(apdu), protocol])
        return _Plan(
            self._guard, (self._job_transmit, apdu, native_protocol), self._finish_transmit
        )

    def _finish_transmit(self, raw: bytes) -> Response:
        # The native layer guarantees bytes of at least the two status-word bytes.
        response = Response(list(raw[:-2]), raw[-2], raw[-1])
        if self._observers:
            self._notify("response", [response.data, response.sw1, response.sw2])
        chain = self.errorcheckingchain
        if chain:
            chain[0](response.data, response.sw1, response.sw2)
        return response

    async def transmit(self, command: ByteInput, protocol: int | None = None) -> Response:
        """Send a command APDU and return ``(data, sw1, sw2)`` (SCardTransmit).

        ``command`` is ``bytes``, ``bytearray``, ``memoryview`` or a sequence of
        ints 0..255 (4 to 65,544 bytes).  ``protocol`` overrides the active one
        for this call.  The result is a :class:`~aioscard.apdu.Response`, a
        named tuple that unpacks like pyscard's ``(data, sw1, sw2)``.  The
        error-checking chain, if set, runs on the status word.

        Raises:
            TypeError, ValueError: a malformed command (before any PC/SC call).
            CardConnectionException: not connected.
            CardRemovedException: the card was removed (until :meth:`reconnect`).
            CardResetException: another application reset the card.
            NotTransactedException: PC/SC could not complete the exchange.
            InvalidResponseException: a response without a status word (a card
                pulled mid-APDU): never an empty or partial success.
            SharingViolationException: another application holds the card exclusively.
            aioscard.sw.SWException: a subclass, from the error-checking chain.

        Cancellation: returns at once; see the class docstring.  A command
        waiting for another application's transaction to end is already in the
        PC/SC library's hands: it is still sent when that transaction ends.
        """
        return await self._arun(self._plan_transmit(command, protocol))

    def _job_control(self, code: int, data: bytes) -> bytes:
        return self._context.api.control(self._require_handle(), code, data, _MAX_CONTROL)

    def _plan_control(self, code: int, command: ByteInput | None) -> _Plan[bytes, list[int]]:
        _check_int(code, "controlCode")
        if not 0 <= code <= 0xFFFFFFFF:
            raise ValueError(f"controlCode must be in 0..0xFFFFFFFF, got {code}")
        data = (
            b"" if command is None else coerce_bytes(command, name="command", max_len=_MAX_CONTROL)
        )
        return _Plan(self._guard, (self._job_control, code, data), list)

    async def control(self, controlCode: int, command: ByteInput | None = None) -> list[int]:
        """Send a reader control command (SCardControl); returns the answer as ``list[int]``.

        Raises:
            UnsupportedFeatureException: the reader does not know the code.
            TypeError, ValueError: bad arguments (before any PC/SC call).

        Cancellation: the task resumes at once; pcsc-lite cannot interrupt
        SCardControl, so a command already with the reader completes on the worker
        and its answer is discarded.  The connection stays usable.
        """
        return await self._arun(self._plan_control(controlCode, command))

    def _job_get_attrib(self, attr_id: int) -> bytes:
        return self._context.api.get_attrib(self._require_handle(), attr_id)

    def _plan_get_attrib(self, attr_id: int) -> _Plan[bytes, list[int]]:
        _check_int(attr_id, "attrId")
        if not 0 <= attr_id <= 0xFFFFFFFF:
            raise ValueError(f"attrId must be in 0..0xFFFFFFFF, got {attr_id}")
        return _Plan(self._guard, (self._job_get_attrib, attr_id), list)

    async def getAttrib(self, attrId: int) -> list[int]:
        """Read a reader or card attribute (SCardGetAttrib), e.g. ``SCARD_ATTR_VENDOR_NAME``.

        Raises:
            UnsupportedFeatureException: the driver does not offer the attribute.

        Cancellation: the task resumes at once; a call already made completes on
        the worker and its result is discarded.  The connection stays usable.
        """
        return await self._arun(self._plan_get_attrib(attrId))

    def _job_set_attrib(self, attr_id: int, value: bytes) -> None:
        self._context.api.set_attrib(self._require_handle(), attr_id, value)

    def _plan_set_attrib(self, attr_id: int, value: ByteInput) -> _Plan[None, None]:
        _check_int(attr_id, "attrId")
        if not 0 <= attr_id <= 0xFFFFFFFF:
            raise ValueError(f"attrId must be in 0..0xFFFFFFFF, got {attr_id}")
        data = coerce_bytes(value, name="attrValue", min_len=1, max_len=_MAX_CONTROL)
        return _Plan(self._guard, (self._job_set_attrib, attr_id, data), _identity)

    async def setAttrib(self, attrId: int, attrValue: ByteInput) -> None:
        """Write a reader or card attribute (SCardSetAttrib).

        Raises:
            UnsupportedFeatureException: the driver does not let the attribute be set.
            TypeError, ValueError: bad arguments, or an empty value (before any PC/SC call).

        Cancellation: the task resumes at once; a call already made completes on
        the worker and its result is discarded.  The connection stays usable.
        """
        await self._arun(self._plan_set_attrib(attrId, attrValue))

    # -- reader features (PC/SC Part 10) and reader information ----------------------
    # Thin doors to aioscard._reader_ops, which builds on control() and getAttrib().

    async def features(self) -> Mapping[int, int]:
        """The reader's PC/SC Part 10 features: tag (``aioscard.part10.Feature``) ->
        control code, from CM_IOCTL_GET_FEATURE_REQUEST (asked once per connection).
        Empty for a reader without any.

        Raises:
            MalformedAnswerException: the reader's answer does not parse.
            CardConnectionException: not connected.

        Cancellation: the task resumes at once; a call already made completes on
        the worker and its result is discarded.  The connection stays usable.
        """
        return await _reader_ops.features(self)

    async def pin_properties(self) -> PinProperties:
        """The reader's PIN_PROPERTIES_STRUCTURE (FEATURE_IFD_PIN_PROPERTIES).

        Raises:
            FeatureNotSupportedException: the reader lacks the feature.
            MalformedAnswerException: the answer does not parse.

        Cancellation: the task resumes at once; a call already made completes on
        the worker and its result is discarded.  The connection stays usable.
        """
        return await _reader_ops.pin_properties(self)

    async def tlv_properties(self) -> TlvProperties:
        """The reader's TLV properties (FEATURE_GET_TLV_PROPERTIES): vendor and
        product ids, PIN sizes, firmware, PPDU support...

        Raises:
            FeatureNotSupportedException: the reader lacks the feature.
            MalformedAnswerException: the answer does not parse.

        Cancellation: the task resumes at once; a call already made completes on
        the worker and its result is discarded.  The connection stays usable.
        """
        return await _reader_ops.tlv_properties(self)

    async def verify_pin_pinpad(self, structure: PinVerifyStructure) -> Response:
        """Have the user type a PIN on the reader's pinpad and send it to the card
        (FEATURE_VERIFY_PIN_DIRECT); returns the card's answer, e.g. ``90 00`` or
        ``63 Cx`` for a wrong PIN.  ``structure`` (``aioscard.part10``) holds the
        command template and how the PIN goes into it.

        Raises:
            FeatureNotSupportedException: the reader has no pinpad verify.
            PinEntryTimeoutException: nothing typed before the timeout (64 00).
            PinEntryException: the user pressed Cancel (64 01), or similar.
            TypeError: ``structure`` is not a ``PinVerifyStructure``.

        Cancellation: pcsc-lite cannot cancel SCardControl.  A cancelled caller
        resumes at once, but PIN entry goes on at the reader until the user ends
        it or the reader's timeout (``structure.timeout``, else its default)
        expires; the card's answer is then discarded.  Until then the reader is
        busy: this connection's next call waits for the entry to end, and so do
        other applications' calls to this reader.
        """
        return await _reader_ops.verify_pin_pinpad(self, structure)

    async def modify_pin_pinpad(self, structure: PinModifyStructure) -> Response:
        """Have the user type the current and a new PIN on the reader's pinpad and
        send them to the card (FEATURE_MODIFY_PIN_DIRECT); returns the card's answer.

        Raises:
            FeatureNotSupportedException: the reader has no pinpad modify.
            PinEntryTimeoutException, PinEntryException: as
                :meth:`verify_pin_pinpad`; also the two new PINs differ (64 02).

        Cancellation: as :meth:`verify_pin_pinpad`.
        """
        return await _reader_ops.modify_pin_pinpad(self, structure)

    async def info(self) -> ReaderInfo:
        """What the reader says about itself (vendor, type, version, serial number,
        channel, Part 10 features and properties); absent attributes are ``None``.

        Raises:
            CardConnectionException: not connected.

        Cancellation: the task resumes at once; a call already made completes on
        the worker and its result is discarded.  The connection stays usable.
        """
        return await _reader_ops.info(self)

    def _job_status(self) -> CardStatus:
        status = self._context.api.status(self._require_handle())
        self._atr = status.atr
        return status

    def _plan_status(self) -> _Plan[CardStatus, CardStatus]:
        def finish(status: CardStatus) -> CardStatus:
            return replace(status, protocol=from_native_protocol(status.protocol))

        return _Plan(self._guard, (self._job_status,), finish)

    async def status(self) -> CardStatus:
        """The reader name, card state, protocol (pyscard bits) and ATR, fresh from
        PC/SC (SCardStatus).

        Raises:
            CardRemovedException: the card has gone; CardConnectionException: not connected.

        Cancellation: the task resumes at once; a call already made completes on
        the worker and its result is discarded.  The connection stays usable.
        """
        return await self._arun(self._plan_status())

    # -- transactions -------------------------------------------------------------

    def _job_begin(self) -> None:
        if self._in_transaction:
            raise exc.CardConnectionException("a transaction is already open on this connection")
        self._context.api.begin_transaction(self._require_handle())
        self._in_transaction = True

    def _job_end(self, disposition: int) -> None:
        if not self._in_transaction:
            return
        self._in_transaction = False
        handle = self._handle
        if handle is not None:
            self._context.api.end_transaction(handle, disposition)

    def _plan_begin_transaction(self) -> _Plan[None, None]:
        # The synchronous shim's lock() (pyscard's ExclusiveTransmitCardConnection).
        return _Plan(self._guard, (self._job_begin,), _identity)

    def _plan_end_transaction(self, disposition: int) -> _Plan[None, None]:
        _choice(disposition, _DISPOSITIONS, "disposition")
        return _Plan(self._guard, (self._job_end, disposition), _identity, droppable=False)

    @contextlib.asynccontextmanager
    async def transaction(
        self, disposition: int = C.SCARD_LEAVE_CARD
    ) -> AsyncIterator[CardConnection]:
        """``async with connection.transaction():`` -- exclusive use of the card for a
        sequence of commands (SCardBeginTransaction / SCardEndTransaction).

        While it is open, other connections' commands (of this process or
        another) wait until it ends: pcsc-lite retries them; other PC/SC
        implementations may refuse them with
        :class:`~aioscard.exceptions.SharingViolationException`.  Opening waits
        likewise while another connection holds a transaction.

        Cancellation: cancelling the wait to open returns at once; should the
        transaction still be granted afterwards, it is ended straight away.
        Ending always completes (shielded).
        """
        _choice(disposition, _DISPOSITIONS, "disposition")
        try:
            await self._context.run(self._guard, self._job_begin)
        except BaseException:
            # The begin job may still be waiting for another connection's transaction:
            # queue an end behind it (not awaited) that undoes it if it is granted.
            self._context.submit(self._job_end, C.SCARD_LEAVE_CARD)
            raise
        try:
            yield self
        finally:
            await self._context.run_to_completion(self._guard, self._job_end, disposition)

    # -- whole dialogues and batches on the worker -------------------------------------

    async def run_sync(
        self, fn: Callable[[BlockingConnection, Unpack[Ts]], T], *args: Unpack[Ts]
    ) -> T:
        """Run ``fn(blocking, *args)`` on this connection's worker thread, as one job,
        and return its result: a whole card dialogue for the price of one hand-off.

        ``blocking`` is a synchronous view of this connection: ``transmit``,
        ``control``, ``getAttrib``, ``status``, ``transaction()`` (and
        ``begin_transaction``/``end_transaction``), ``connect``, ``reconnect``,
        ``disconnect``, with this connection's observers, error-checking chain,
        transport options and PIN redaction, exactly as the coroutines apply them.
        Observers are called on the worker thread.  The view works only inside
        ``fn``, on the worker's thread; a transaction ``fn`` leaves open is ended
        (``LEAVE_CARD``) when it returns.

        The dialogue is one job in the connection's FIFO: other tasks' calls on
        this connection run before or after it, never in between.  So ``fn``
        must not wait for this event loop, nor for another task that uses this
        connection: that would never finish.  Calling this connection's
        coroutines from inside ``fn`` (say with ``asyncio.run``) raises
        RuntimeError at once.

        Raises:
            TypeError: ``fn`` is not callable (before anything is queued).
            Exception: whatever ``fn`` raises, with its traceback.

        Cancellation (asyncio and trio): the awaiting task resumes at once with
        its cancellation.  A dialogue that has not started is dropped: nothing
        reaches the card.  One that is running stops at its next card operation
        (``transmit``, ``control``, ``getAttrib``, ``status``, ``connect``,
        ``reconnect``, ``begin_transaction``), which raises
        :class:`~aioscard.exceptions.DialogueCancelled` on the worker instead of
        calling PC/SC.  So every command ``fn`` sent before the cancellation
        reached the card, plus the one in flight when it came (if any; it
        completes, and its response is discarded); nothing after it.  Clean-up
        still runs: ``end_transaction``, ``disconnect`` and leaving
        ``transaction()`` are never stopped.  The connection stays usable; the
        card keeps whatever state those commands left it in.  Code in ``fn``
        that runs no card operation (a loop of pure computation, a sleep) is
        not interrupted.
        """
        if not callable(fn):
            raise TypeError(f"run_sync() needs a callable, not {type(fn).__name__}")
        dialogue = Dialogue()
        try:
            return await self._context.run(run_dialogue, self, dialogue, fn, args)
        except BaseException:
            dialogue.cancelled = True  # the dialogue, if still running, stops at its next call
            raise

    async def transmit_many(
        self,
        apdus: Iterable[ByteInput],
        *,
        accept: Callable[[Response], bool] | Collection[int] | None = None,
        protocol: int | None = None,
    ) -> list[Response]:
        """Send command APDUs one after another in one hand-off; the list of responses.

        It stops at the first response whose status word is not accepted; that
        response is the last of the list, and the commands after it are not
        sent.  ``accept`` is a collection of status words (ints such as
        ``0x9000``, ``0x6282``) or a function ``accept(response) -> bool``; by
        default only ``90 00`` is accepted.  Status words are judged after the
        connection's transport options ran (``61xx`` GET RESPONSE, ``6Cxx`` Le
        correction), so a command they complete counts as ``90 00``.  Each
        command gets exactly what :meth:`transmit` gives one: the same checks,
        observers (called on the worker thread), tracing with PIN redaction and
        error-checking chain (whose exception ends the batch and is raised; the
        responses before it are then lost).  It is one job in the connection's
        FIFO, like :meth:`run_sync`: no other task's command comes in between.

        Raises:
            TypeError, ValueError: ``apdus`` is not a sequence of APDUs (a bad
                item is named by its index), ``accept`` is neither a function nor
                a collection of status words 0..0xFFFF, or ``protocol`` is bad;
                all before anything is sent.
            CardConnectionException: and the rest, as :meth:`transmit`.

        Cancellation (asyncio and trio): the task resumes at once.  The batch
        stops before its next command (see :meth:`run_sync`): the commands sent
        so far reached the card, the one in flight completes, none after it is
        sent, and the responses are discarded (an observer sees each of them).
        """
        commands = _coerce_batch(apdus)
        accepted = _acceptor(accept)
        if protocol is not None:
            to_native_protocol(protocol)
        if not commands:
            return []
        return await self.run_sync(_run_batch, commands, protocol, accepted)

    # -- logical channels ---------------------------------------------------------

    def channel(self, number: int | None = None) -> AbstractAsyncContextManager[LogicalChannel]:
        """``async with connection.channel() as channel:`` -- a logical channel for the block.

        MANAGE CHANNEL opens it (the card picks the number, or ``number``
        1..19) and closes it when the block ends, also on error or
        cancellation.  See :mod:`aioscard.channel`.

        Raises:
            TypeError, ValueError: a bad ``number`` (before anything is sent).
            SWException: the card refused to open a channel.
        """
        return open_channel(self, number)

    # -- synchronous accessors (no I/O) ---------------------------------------------

    def getATR(self) -> list[int]:
        """The card's ATR as ``list[int]``, as read at connect/reconnect/status.

        Raises:
            CardConnectionException: never connected.
        """
        if not self._atr:
            raise exc.CardConnectionException(f"not connected to a card in {self.reader!r}")
        return list(self._atr)

    def getProtocol(self) -> int:
        """The active protocol in pyscard's bits (``T0_protocol``...); 0 if not connected."""
        return from_native_protocol(self._protocol) if self._handle is not None else 0

    def getReader(self) -> str:
        """The reader's name."""
        return self.reader

    def setProtocol(self, protocol: int) -> None:
        """Set the protocol used by later ``connect``/``transmit`` calls that name none."""
        to_native_protocol(protocol)
        self.defaultprotocol = protocol

    def setErrorCheckingChain(self, errorcheckingchain: list[Any] | None) -> None:
        """Install a status-word error-checking chain (``aioscard.sw.ErrorCheckingChain``
        in a list, pyscard style); ``transmit`` runs it on every response."""
        self.errorcheckingchain = errorcheckingchain

    def addSWExceptionToFilter(self, exClass: type[Exception]) -> None:
        """Stop the error-checking chain from raising ``exClass``."""
        if self.errorcheckingchain:
            self.errorcheckingchain[0].addFilterException(exClass)

    @property
    def connected(self) -> bool:
        """Whether a card handle is held."""
        return self._handle is not None


def _response(raw: bytes) -> Response:
    # The native layer guarantees bytes of at least the two status-word bytes.
    return Response(list(raw[:-2]), raw[-2], raw[-1])


def _coerce_batch(apdus: object) -> list[bytes]:
    """``apdus`` as a list of checked commands, or a TypeError/ValueError naming the bad one."""
    if isinstance(apdus, (bytes, bytearray, memoryview, str)) or not isinstance(apdus, Iterable):
        raise TypeError(
            f"apdus must be a sequence of command APDUs, not {type(apdus).__name__} "
            "(for a single command use transmit())"
        )
    return [coerce_apdu(apdu, name=f"apdus[{index}]") for index, apdu in enumerate(apdus)]


def _only_9000(response: Response) -> bool:
    return response.sw1 == 0x90 and response.sw2 == 0x00


def _acceptor(accept: object) -> Callable[[Response], bool]:
    """The predicate behind ``transmit_many(accept=...)``, checked before any call."""
    if accept is None:
        return _only_9000
    if callable(accept):
        return accept
    if isinstance(accept, (str, bytes, bytearray)) or not isinstance(accept, Collection):
        raise TypeError(
            "accept must be a collection of status words (e.g. {0x9000, 0x6282}) or a "
            f"function of the response, not {type(accept).__name__}"
        )
    words = frozenset(accept)
    for word in words:
        _check_int(word, "accept's status words")
        if not 0 <= word <= 0xFFFF:
            raise ValueError(f"accept's status words must be in 0..0xFFFF, got {word}")
    if not words:
        raise ValueError("accept is empty: no response could be accepted")

    def accepted(response: Response) -> bool:
        return (response.sw1 << 8 | response.sw2) in words

    return accepted


def _run_batch(
    blocking: BlockingConnection,
    commands: list[bytes],
    protocol: int | None,
    accepted: Callable[[Response], bool],
) -> list[Response]:
    # Runs on the worker, inside run_sync's job.
    responses: list[Response] = []
    transmit = blocking.transmit
    for command in commands:
        response = transmit(command, protocol)
        responses.append(response)
        if not accepted(response):
            break
    return responses
