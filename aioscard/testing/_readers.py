"""Simulated readers: what the simulator's driver asks Python about a reader.

The C driver (``driver/ifd_aioscard.c``) forwards ``IFDHControl``,
``IFDHGetCapabilities`` and ``IFDHSetCapabilities`` for each reader to
:class:`ReaderService`, a UNIX socket in the simulator's private directory,
one connection per request.  :class:`SimulatedReader` answers them: its
``control`` handler, its ``pinpad`` (:class:`~aioscard.testing.Pinpad`) and its
``attributes`` table.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import struct
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from ._errors import DropConnection, SimulatorError

if TYPE_CHECKING:
    from ._card import VirtualCard
    from ._pinpad import Pinpad

__all__ = [
    "SERVICE_NAME",
    "ControlHandler",
    "ReaderService",
    "SimulatedReader",
    "UnsupportedControl",
]

logger = logging.getLogger(__name__)

#: The service socket's name in the private directory (the driver derives it too).
SERVICE_NAME = "readers.sock"

ControlHandler = Callable[[int, bytes], bytes]
"""A reader's answer to ``SCardControl``: ``(control code, data) -> answer bytes``."""

SCARD_ATTR_VENDOR_NAME = 0x00010100
SCARD_ATTR_VENDOR_IFD_TYPE = 0x00010101
SCARD_ATTR_VENDOR_IFD_VERSION = 0x00010102
SCARD_ATTR_VENDOR_IFD_SERIAL_NO = 0x00010103
SCARD_ATTR_CHANNEL_ID = 0x00020110
SCARD_ATTR_MAXINPUT = 0x0007A007
# Channel type 0x00F0 is "vendor-defined" in SCARD_ATTR_CHANNEL_ID's 0xDDDDCCCC.
_CHANNEL_TYPE_VENDOR = 0x00F0
_MAX_MESSAGE = 65544

_OK, _UNSUPPORTED, _ERROR, _READ_ONLY, _TOO_LONG = 0, 1, 2, 3, 4
_REQUEST = struct.Struct(">cIIH")  # op, code or tag, answer capacity, device path length


class UnsupportedControl(Exception):
    """Raised by a control handler for a code its reader does not support; the
    client's ``SCardControl`` fails with ``SCARD_E_UNSUPPORTED_FEATURE``."""


def _dword(value: int) -> bytes:
    return value.to_bytes(4, "little")


class SimulatedReader:
    """One reader of a :class:`~aioscard.testing.Simulator` with the driver back-end.

    Everything here is read live, on the simulator's threads, whenever a client
    calls ``SCardControl``, ``SCardGetAttrib`` or ``SCardSetAttrib``; change it at
    any time.

    ``control``: ``(code, data) -> bytes`` for ``SCardControl`` (raise
    :class:`UnsupportedControl` for codes it does not know; any other exception
    is logged and the client sees a transport failure).  ``pinpad``: a
    :class:`~aioscard.testing.Pinpad`; it answers the Part 10 control codes
    first and passes the others on to ``control``.  ``attributes``: SCARD_ATTR
    tag -> raw value (DWORDs little-endian); a tag that is absent is
    unsupported.  ``SCardSetAttrib`` stores into it, except for the tags in
    ``read_only``.
    """

    def __init__(self, index: int, name: str, card: Callable[[], VirtualCard | None]) -> None:
        self.index = index
        self.name = name
        self._card = card
        self.control: ControlHandler | None = None
        self.pinpad: Pinpad | None = None
        self.attributes: dict[int, bytes] = {
            SCARD_ATTR_VENDOR_NAME: b"aioscard",
            SCARD_ATTR_VENDOR_IFD_TYPE: b"Simulated reader",
            SCARD_ATTR_VENDOR_IFD_VERSION: _dword(0x01000000),
            SCARD_ATTR_VENDOR_IFD_SERIAL_NO: f"SIM-{index:04d}".encode(),
            SCARD_ATTR_CHANNEL_ID: _dword(_CHANNEL_TYPE_VENDOR << 16 | index),
            SCARD_ATTR_MAXINPUT: _dword(_MAX_MESSAGE),
        }
        self.read_only: set[int] = set(self.attributes)

    def __repr__(self) -> str:
        extras = " pinpad" if self.pinpad is not None else ""
        return f"<SimulatedReader {self.index} {self.name!r}{extras}>"

    def transmit(self, apdu: bytes) -> bytes:
        """Send ``apdu`` to the card in this reader and return its answer, as the
        reader's own firmware would (a pinpad does this); on the calling thread.

        Raises:
            SimulatorError: the reader is empty, or the card vanished
                (:class:`~aioscard.testing.DropConnection`).
            ValueError: ``apdu`` is shorter than 4 bytes.
        """
        card = self._card()
        if card is None or not card.inserted:
            raise SimulatorError(f"reader {self.index} holds no card")
        try:
            return card.answer(apdu)
        except DropConnection:
            raise SimulatorError(f"the card in reader {self.index} vanished") from None

    def handle_control(self, code: int, data: bytes) -> bytes:
        """Answer ``SCardControl(code, data)``: the pinpad first, then ``control``.

        Raises:
            UnsupportedControl: neither knows ``code``.
        """
        pinpad = self.pinpad
        if pinpad is not None:
            answer = pinpad.handle(self, code, data)
            if answer is not None:
                return answer
        handler = self.control
        if handler is None:
            raise UnsupportedControl(f"control code 0x{code:08X}")
        return bytes(handler(code, data))


class ReaderService:
    """The UNIX socket the driver asks about readers; one thread accepts, one
    short-lived thread serves each request (a pinpad may take its time)."""

    def __init__(self, directory: str, readers: dict[str, SimulatedReader]) -> None:
        self.path = os.path.join(directory, SERVICE_NAME)
        self._readers = readers  # card socket path (the driver's DEVICENAME) -> reader
        self._listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            self._listener.bind(self.path)
            self._listener.listen(64)
        except BaseException:
            self._listener.close()
            raise
        self._thread = threading.Thread(
            target=self._accept, name="aioscard-reader-service", daemon=True
        )
        self._thread.start()

    def close(self) -> None:
        """Stop accepting and join the accepting thread.  Idempotent."""
        # shutdown() wakes a thread blocked in accept() on Linux; close() alone would not.
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)
        self._thread.join()
        self._listener.close()

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(
                target=self._serve, args=(connection,), name="aioscard-reader-request", daemon=True
            ).start()

    def _serve(self, connection: socket.socket) -> None:
        with connection:
            try:
                head = _recv_exactly(connection, _REQUEST.size)
                op, code, capacity, path_length = _REQUEST.unpack(head)
                device = _recv_exactly(connection, path_length).decode("utf-8", "replace")
                (length,) = struct.unpack(">I", _recv_exactly(connection, 4))
                data = _recv_exactly(connection, length)
                status, answer = self._answer(op, code, data, self._readers.get(device))
                if status == _OK and len(answer) > capacity:
                    status, answer = _TOO_LONG, b""
                connection.sendall(struct.pack(">BI", status, len(answer)) + answer)
            except (OSError, EOFError, struct.error) as exc:
                logger.debug("reader service: request failed: %s", exc)

    def _answer(
        self, op: bytes, code: int, data: bytes, reader: SimulatedReader | None
    ) -> tuple[int, bytes]:
        if reader is None:
            return _ERROR, b""
        if op == b"G":
            value = reader.attributes.get(code)
            return (_UNSUPPORTED, b"") if value is None else (_OK, value)
        if op == b"S":
            if code in reader.read_only:
                return _READ_ONLY, b""
            reader.attributes[code] = data
            return _OK, b""
        if op == b"C":
            try:
                return _OK, reader.handle_control(code, data)
            except UnsupportedControl:
                return _UNSUPPORTED, b""
            except Exception:
                logger.exception("reader %d: control handler failed on 0x%08X", reader.index, code)
                return _ERROR, b""
        return _ERROR, b""


def _recv_exactly(connection: socket.socket, size: int) -> bytes:
    chunks: list[bytes] = []
    while size:
        chunk = connection.recv(size)
        if not chunk:
            raise EOFError("the driver closed the request early")
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)
