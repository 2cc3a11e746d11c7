"""The virtual card: a client of a simulated reader's socket.

The reader driver listens on a socket per reader slot: a TCP port for
vsmartcard's ``vpcd``, a UNIX socket for the simulator's own driver (see
:mod:`aioscard.testing._driver`).  A card *is* a connection to that socket
(connect = insert, close = remove).  Frames are a 2-byte big-endian length
and a payload.  A 1-byte payload is a control code: ``00`` power off, ``01``
power on, ``02`` reset (none of these is answered) and ``04`` get ATR (answered
with the ATR).  A longer payload is a command APDU, answered with the response
APDU in a frame of its own.

Each inserted card runs one background thread that answers the driver.  Handlers are
plain callables ``(apdu: bytes) -> bytes`` called on that thread.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Sequence
from types import TracebackType
from typing import Literal, Protocol, runtime_checkable

from ..apdu import format_apdu
from ._apdu import status
from ._atr import DEMO_ATR, check_atr
from ._errors import DropConnection
from ._netstat import connection_closed_by_peer

__all__ = ["MAX_FRAME", "CardHandler", "PowerEvent", "ResettableHandler", "VirtualCard"]

logger = logging.getLogger(__name__)

#: The largest payload of a vpcd frame (2-byte length): the limit for a whole
#: command or response APDU, status word included.
MAX_FRAME = 0xFFFF

#: What happened to a virtual card's power, as :attr:`VirtualCard.power_log` lists it.
PowerEvent = Literal["on", "off", "reset"]

_POWER_OFF, _POWER_ON, _RESET, _GET_ATR = 0x00, 0x01, 0x02, 0x04
_GET_ATR_FRAME = bytes([_GET_ATR])
_CONTROL_EVENTS: dict[int, PowerEvent] = {_POWER_OFF: "off", _POWER_ON: "on", _RESET: "reset"}
_SW_NO_PRECISE_DIAGNOSIS = status(0x6F00)
# How long remove() waits for the simulator's driver to close its end of a UNIX socket.
_DRIVER_CLOSE_WAIT = 2.0
# Linux only; elsewhere the delayed-ACK trap is left to the platform.
_TCP_QUICKACK: int | None = getattr(socket, "TCP_QUICKACK", None)


class CardHandler(Protocol):
    """What a virtual card runs for each command APDU: raw C-APDU in, R-APDU out.

    Called on the card's own thread.  It may block (``time.sleep``) to simulate
    a slow card, and may raise :class:`DropConnection` to make the card vanish
    mid-command.  Any other exception is logged and answered with ``6F 00``.
    """

    def __call__(self, apdu: bytes, /) -> bytes: ...


@runtime_checkable
class ResettableHandler(Protocol):
    """A handler that also wants to hear about power-on and reset.

    :meth:`reset` is called on the card's thread whenever the reader powers the
    card on or resets it, so volatile state (selected file, PIN verified) can be
    cleared as on a real card.
    """

    def __call__(self, apdu: bytes, /) -> bytes: ...

    def reset(self) -> None:
        """Forget the volatile state, as at power-on (called on reset and power-up)."""


class VirtualCard:
    """A smartcard that inserts itself into a vpcd reader slot over TCP.

    ``atr`` is answered to the reader's ATR requests; ``handler`` answers
    command APDUs (default: a fresh :class:`~aioscard.testing.DemoCard`).
    ``name`` appears in log messages and the thread name.

    A card can be inserted, removed and inserted again; its power log and APDU
    count accumulate over its life.  Use it as a context manager to make sure
    it is removed.

    Raises:
        TypeError, ValueError: ``atr`` is not 1..33 bytes (the message names it).
    """

    def __init__(
        self,
        atr: bytes | bytearray | memoryview | Sequence[int] = DEMO_ATR,
        handler: CardHandler | None = None,
        *,
        name: str = "card",
    ) -> None:
        self.atr: bytes = check_atr(atr, "atr")
        if handler is None:
            from ._demo import DemoCard  # _demo raises DropConnection: import late, no cycle

            handler = DemoCard()
        self.handler: CardHandler = handler
        self.name = name
        self._lock = threading.Lock()
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._powered = False
        # Set once pcscd has powered the card and read its ATR since the insertion.
        self._seen = threading.Event()
        self._power_log: list[tuple[float, PowerEvent]] = []
        self._apdu_count = 0
        self._peer: tuple[int, int] | None = None  # (vpcd port, our local port)
        # UNIX-socket readers: removal is a half-close, and the driver's close of its end
        # (once pcscd has seen the card go) ends the connection.
        self._unix = False
        self._leaving = False
        self._peer_closed = threading.Event()
        self._abandoned = False
        self._live: socket.socket | None = None  # the connection the thread serves

    def __repr__(self) -> str:
        state = "inserted" if self.inserted else "removed"
        return f"<VirtualCard {self.name!r} {state} atr={self.atr.hex()}>"

    # -- state -----------------------------------------------------------------

    @property
    def inserted(self) -> bool:
        """True while the card is connected to a reader slot."""
        with self._lock:
            return self._sock is not None

    @property
    def power_log(self) -> list[tuple[float, PowerEvent]]:
        """A copy of the power events seen: ``(time.monotonic(), "on" | "off" | "reset")``."""
        with self._lock:
            return list(self._power_log)

    @property
    def apdu_count(self) -> int:
        """How many command APDUs the card has been sent (answered or not)."""
        with self._lock:
            return self._apdu_count

    @property
    def powered(self) -> bool:
        """True while the card is powered: inserted, and its last power event was
        "on" or "reset".  pcscd powers idle cards down after a while."""
        with self._lock:
            return self._powered

    def wait_powered(self, timeout: float) -> bool:
        """Block until pcscd has powered the card on and read its ATR since it was
        inserted; True from then on for this insertion (even after a later
        power-down), False on timeout.

        pcscd powers a card up as soon as its presence poll (every 400 ms) sees
        it, so this is the card-side sign that pcscd has seen the card; pcscd
        publishes the new reader state right afterwards.  Removing a card before
        this point interrupts pcscd's power-up, and pcscd may then take the next
        card in that slot for the same, unpowered one.

        Cancellation: this is a plain blocking wait on a ``threading.Event``; from
        async code run it in a worker thread (it cannot be interrupted early).
        """
        return self._seen.wait(timeout)

    # -- insert / remove -----------------------------------------------------------

    def insert(self, port: int | str, host: str = "127.0.0.1", *, timeout: float = 5.0) -> None:
        """Connect to the reader slot at ``port`` and start answering it.

        ``port`` is a vpcd slot's TCP port on ``host``, or the path of a UNIX
        socket of the simulator's own driver (:meth:`Simulator.card_address`).
        Returns once the connection is up; pcscd notices the card on its next
        presence poll with vpcd (0-400 ms later), at once with the simulator's
        driver (see :meth:`wait_powered`).

        Raises:
            SimulatorError: the card is already inserted.
            OSError: the connection failed (nothing listening, ``timeout`` hit).

        Cancellation: blocks for at most ``timeout`` seconds in ``connect``.
        """
        from ._errors import SimulatorError

        with self._lock:
            if self._sock is not None:
                raise SimulatorError(f"{self.name} is already inserted")
        unix = isinstance(port, str)
        if isinstance(port, str):
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                sock.settimeout(timeout)
                sock.connect(port)
                sock.settimeout(None)
            except BaseException:
                sock.close()
                raise
            peer = None
        else:
            sock = socket.create_connection((host, port), timeout=timeout)
            try:
                sock.settimeout(None)
                # vpcd writes length and body in two send()s: without these the
                # delayed-ACK/Nagle interplay costs ~40 ms per APDU.
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                _quickack(sock)
                peer = (port, sock.getsockname()[1])
            except BaseException:
                sock.close()
                raise
        with self._lock:
            self._sock = sock
            self._live = sock
            self._peer = peer
            self._unix = unix
            self._leaving = False
            self._peer_closed.clear()
            self._abandoned = False
            self._powered = False
            self._seen.clear()
            thread = threading.Thread(
                target=self._serve, args=(sock,), name=f"aioscard-{self.name}", daemon=True
            )
            self._thread = thread
        thread.start()
        logger.debug("%s inserted at %s", self.name, port if unix else f"{host}:{port}")

    def remove(self) -> None:
        """Disconnect from the reader (the card is pulled out) and join its thread.

        Idempotent.  pcscd notices the removal on its next presence poll; see
        :meth:`wait_removed`.

        Cancellation: joins the card thread, which returns as soon as any handler
        call in progress does.
        """
        self._vanish()
        with self._lock:
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(_DRIVER_CLOSE_WAIT)
            if thread.is_alive():
                # The driver did not close its end (pcscd stopped, or busy): stop waiting.
                self._abandon()
                thread.join()
        with self._lock:
            if self._thread is thread:
                self._thread = None

    def wait_removed(self, timeout: float) -> bool:
        """Block until the reader driver has closed its end of the card's last connection.

        vpcd closes its end when pcscd's presence poll finds the card gone, so
        this is the card-side sign that pcscd has seen the removal; it then
        publishes the empty reader.  Returns True at once if the card was never
        inserted, False on timeout.  Call it after :meth:`remove`.

        Linux only (reads ``/proc/net/tcp``); elsewhere it returns True at once.
        Polls every 10 ms: the kernel offers no event for a peer's close.

        Raises:
            SimulatorError: the card is still inserted.

        Cancellation: a blocking poll bounded by ``timeout``.
        """
        from ._errors import SimulatorError

        with self._lock:
            if self._sock is not None:
                raise SimulatorError(f"{self.name} is still inserted: remove() it first")
            peer, unix = self._peer, self._unix
        if unix:
            return self._peer_closed.wait(timeout)
        if peer is None:
            return True
        deadline = time.monotonic() + timeout
        while not connection_closed_by_peer(*peer):
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.01)
        return True

    def __enter__(self) -> VirtualCard:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.remove()

    # -- the card thread -----------------------------------------------------------

    def answer(self, apdu: bytes) -> bytes:
        """Answer ``apdu`` as if the reader had sent it, on the calling thread.

        This is how a simulated reader's own logic (a pinpad) talks to the card:
        the APDU is counted, the handler runs, a failing handler or a response of
        the wrong length gives ``6F 00``.

        Raises:
            ValueError: ``apdu`` is shorter than 4 bytes.
            DropConnection: the handler made the card vanish; it is removed (the
                driver sees it go as it would with a reader command).
        """
        if len(apdu) < 4:
            raise ValueError(f"apdu must be at least 4 bytes, got {len(apdu)}")
        try:
            return self._answer(bytes(apdu)) or _SW_NO_PRECISE_DIAGNOSIS
        except DropConnection:
            logger.debug("%s dropped the connection mid-APDU", self.name)
            self._vanish()
            raise

    def _vanish(self) -> None:
        """Leave the reader without waiting for anyone: a half-close on a UNIX socket
        (the thread then waits for the driver's close), a full shutdown on TCP."""
        with self._lock:
            sock, self._sock = self._sock, None
            if sock is None:
                return
            self._leaving = True
            if self._unix:
                _shutdown(sock, socket.SHUT_WR)
            else:
                # shutdown wakes the card thread blocked in recv; the thread closes.
                _shutdown(sock)

    def _abandon(self) -> None:
        with self._lock:
            sock = self._live
            self._abandoned = True  # the end that follows is ours, not the driver's
        if sock is not None:
            _shutdown(sock)

    def _serve(self, sock: socket.socket) -> None:
        try:
            while True:
                payload = _recv_frame(sock)
                if payload is None:
                    with self._lock:
                        if self._unix and not self._abandoned:
                            self._peer_closed.set()
                    break
                with self._lock:
                    leaving = self._leaving
                if leaving:
                    continue  # removed: wait for the driver's close, answer nothing
                try:
                    reply = self._answer(payload)
                except DropConnection:
                    logger.debug("%s dropped the connection mid-APDU", self.name)
                    self._vanish()
                    if not self._unix:
                        break
                    continue
                with self._lock:
                    leaving = self._leaving
                if reply is None or leaving:
                    continue
                if payload == _GET_ATR_FRAME:
                    # The ATR read that completes pcscd's power-up sequence.  Set
                    # before answering, so whoever reads the answer sees it set.
                    with self._lock:
                        if self._powered:
                            self._seen.set()
                try:
                    sock.sendall(len(reply).to_bytes(2, "big") + reply)
                except OSError:
                    with self._lock:
                        leaving = self._leaving
                    if leaving and self._unix:
                        # remove() half-closed the socket while we answered: the
                        # driver's close, which wait_removed() waits for, is still to come.
                        continue
                    raise
        except OSError as exc:
            logger.debug("%s connection ended: %s", self.name, exc)
        finally:
            with self._lock:
                if self._sock is sock:
                    self._sock = None
                self._live = None
                self._powered = False
                sock.close()
            logger.debug("%s removed", self.name)

    def _answer(self, payload: bytes) -> bytes | None:
        if not payload:
            return None
        if len(payload) == 1:
            code = payload[0]
            if code == _GET_ATR:
                return self.atr
            event = _CONTROL_EVENTS.get(code)
            if event is None:
                logger.warning("%s: unknown vpcd control code %02X", self.name, code)
                return None
            self._power(event)
            return None
        with self._lock:
            self._apdu_count += 1
        try:
            response = bytes(self.handler(payload))
        except DropConnection:
            raise
        except Exception:
            # format_apdu: a PIN sent to a virtual card stays out of the log too.
            logger.exception("%s: handler failed on APDU %s", self.name, format_apdu(payload))
            return _SW_NO_PRECISE_DIAGNOSIS
        if not 2 <= len(response) <= MAX_FRAME:
            logger.error(
                "%s: handler returned %d bytes for APDU %s; a response must be 2..%d bytes",
                self.name,
                len(response),
                format_apdu(payload[:4]),
                MAX_FRAME,
            )
            return _SW_NO_PRECISE_DIAGNOSIS
        return response

    def _power(self, event: PowerEvent) -> None:
        if event != "off" and isinstance(self.handler, ResettableHandler):
            try:
                self.handler.reset()
            except Exception:
                logger.exception("%s: handler reset failed", self.name)
        with self._lock:
            self._power_log.append((time.monotonic(), event))
            self._powered = event != "off"


def _quickack(sock: socket.socket) -> None:
    # Linux clears TCP_QUICKACK after a while, so it is set again before every recv.
    if _TCP_QUICKACK is not None and sock.family != socket.AF_UNIX:
        sock.setsockopt(socket.IPPROTO_TCP, _TCP_QUICKACK, 1)


def _recv_exactly(sock: socket.socket, size: int) -> bytes | None:
    buffer = bytearray(size)
    view = memoryview(buffer)
    received = 0
    while received < size:
        _quickack(sock)
        count = sock.recv_into(view[received:])
        if count == 0:
            return None
        received += count
    return bytes(buffer)


def _recv_frame(sock: socket.socket) -> bytes | None:
    header = _recv_exactly(sock, 2)
    if header is None:
        return None
    size = int.from_bytes(header, "big")
    if size == 0:
        return b""
    return _recv_exactly(sock, size)


def _shutdown(sock: socket.socket, how: int = socket.SHUT_RDWR) -> None:
    try:
        sock.shutdown(how)
    except OSError:
        pass  # already disconnected by the peer
