"""A misbehaving card for fault-injection tests: a bare reader client with no safety net.

:class:`~aioscard.testing.VirtualCard` only ever sends well-formed answers (a
handler's reply of the wrong length becomes ``6F 00``).  A :class:`RawCard`
sends whatever its ``answer`` callable returns, byte for byte, so a test can
make a card answer with 0 or 1 bytes, with random lengths up to the vpcd frame
limit, with a frame cut short, or not at all.
"""

from __future__ import annotations

import socket
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

# The same vpcd frame reader as VirtualCard (TCP_QUICKACK before every recv).
from aioscard.testing._card import _recv_frame

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["Answer", "RawCard", "frame"]

_GET_ATR, _POWER_ON, _RESET = 0x04, 0x01, 0x02


def frame(payload: bytes) -> bytes:
    """``payload`` framed as vpcd expects: 2-byte big-endian length, then the bytes."""
    return len(payload).to_bytes(2, "big") + payload


@dataclass(frozen=True)
class Answer:
    """What a :class:`RawCard` does with one command APDU.

    ``wire``: the bytes written to vpcd as they are (use :func:`frame` for a
    well-formed reply; anything else is fair game).  ``close``: hang up after
    writing them.  ``silent``: write nothing and keep the APDU unanswered
    until the card is removed.
    """

    wire: bytes = b""
    close: bool = False
    silent: bool = False


class RawCard:
    """A card plugged into a vpcd slot that answers command APDUs with ``answer(apdu)``.

    ``atr`` is what it says to vpcd's ATR request, framed as given (any length,
    even beyond the 33 bytes an ATR may have).  :meth:`insert` plugs it in,
    :meth:`remove` pulls it out and joins its thread.
    """

    def __init__(self, atr: bytes, answer: Callable[[bytes], Answer]) -> None:
        self.atr = atr
        self.answer = answer
        self.apdus: list[bytes] = []
        self.atr_reads = 0
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._powered = threading.Event()
        self._atr_read = threading.Event()

    def insert(self, address: int | str) -> None:
        """Connect to the reader at ``address`` (a card insertion) and start answering:
        a vpcd TCP port, or a UNIX socket of the simulator's driver (both speak vpcd's
        framing; see ``Simulator.card_address``)."""
        if isinstance(address, str):
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.settimeout(5)
            sock.connect(address)
        else:
            sock = socket.create_connection(("127.0.0.1", address), timeout=5)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.settimeout(None)
        self._sock = sock
        self._powered.clear()
        self._atr_read.clear()
        self._thread = threading.Thread(
            target=self._serve, args=(sock,), name="raw-card", daemon=True
        )
        self._thread.start()

    def wait_atr_read(self, timeout: float) -> bool:
        """Block until pcscd powered the card and read its ATR (it has seen the card)."""
        return self._atr_read.wait(timeout)

    def remove(self) -> None:
        """Hang up (a card removal) and wait for the card's thread to end."""
        sock, self._sock = self._sock, None
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def _serve(self, sock: socket.socket) -> None:
        try:
            while True:
                payload = _recv_frame(sock)
                if payload is None:
                    return
                if len(payload) == 1:
                    if payload[0] in (_POWER_ON, _RESET):
                        self._powered.set()
                    elif payload[0] == _GET_ATR:
                        self.atr_reads += 1
                        sock.sendall(frame(self.atr))
                        if self._powered.is_set():
                            self._atr_read.set()
                    continue
                self.apdus.append(payload)
                answer = self.answer(payload)
                if answer.silent:
                    _recv_frame(sock)  # nothing more until vpcd gives up or we are removed
                    return
                sock.sendall(answer.wire)
                if answer.close:
                    return
        except OSError:
            return
        finally:
            sock.close()
