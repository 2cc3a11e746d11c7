"""Record a card session as JSON lines, and read a recording back.

:class:`SessionRecorder` is a connection observer that writes what happens on
the connections it watches, one JSON object per line::

    {"type": "session", "format": "aioscard-session", "version": 1, "created": "...", ...}
    {"type": "connect", "t": 0.0021, "connection": 1, "reader": "...", "atr": "3B 88 ...",
     "protocol": "T=1"}
    {"type": "exchange", "t": 0.0034, "connection": 1, "command": "00 A4 04 00 ...",
     "response": "90 00", "duration": 0.00018}
    {"type": "disconnect", "t": 0.0101, "connection": 1}

``t`` is seconds since the recorder started, ``duration`` the seconds between a
command and its response as the application saw them.  The command of a
VERIFY, CHANGE REFERENCE DATA, LOAD KEYS and the like is written as
:func:`~aioscard.apdu.format_apdu` redacts it (``00 20 00 80 06 <6 bytes
redacted>``) unless the recorder was made with ``reveal=True``.  A command
that got no response (the transmit failed or was cancelled) is written with
``"response": null``.  A file may hold several sessions one after another
(each starts with its ``session`` line).

``AIOSCARD_RECORD=FILE`` in the environment makes every connection of the
process record to FILE (appending); ``aioscard record`` sets it for the
command it runs.  :func:`read_session` reads a recording back, for
:class:`aioscard.testing.ReplayCard`; malformed input raises
:class:`RecordingError` naming the file and line.
"""

from __future__ import annotations

import json
import math
import os
import re
import threading
import time
import weakref
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from types import TracebackType
from typing import IO, TYPE_CHECKING, Any, NoReturn

from .apdu import format_apdu
from .observer import RECORD_ENV as RECORD_ENV
from .observer import CardConnectionEvent, CardConnectionObserver
from .util import from_hex, to_hex

if TYPE_CHECKING:
    from .connection import CardConnection

__all__ = [
    "FORMAT",
    "RECORD_ENV",
    "RECORD_REVEAL_ENV",
    "VERSION",
    "CommandPattern",
    "RecordedExchange",
    "RecordingError",
    "Session",
    "SessionRecorder",
    "parse_session",
    "read_session",
]

#: The ``format`` of a recording's ``session`` line.
FORMAT = "aioscard-session"
#: The version of the format this module writes and reads.
VERSION = 1
#: Set to ``1`` next to :data:`RECORD_ENV` to record PINs and keys in clear.
RECORD_REVEAL_ENV = "AIOSCARD_RECORD_REVEAL"

_PROTOCOL_NAMES = ((0x1, "T=0"), (0x2, "T=1"), (0x8, "T=15"), (0x10000, "RAW"))
_REDACTED = re.compile(r"<(\d+) bytes? redacted>")


def _protocol_name(bits: int) -> str:
    names = [name for bit, name in _PROTOCOL_NAMES if bits & bit]
    return ", ".join(names) if names else "none"


class SessionRecorder(CardConnectionObserver):
    """Writes the events of the connections it observes to ``file`` as JSON lines.

    ``file`` is a path (created, or appended to with ``append=True``) or an
    open text stream (written to and flushed after each line, not closed).
    Register it with ``connection.addObserver(recorder)`` (or
    :meth:`attach`); one recorder may watch many connections, each numbered
    in the order it is first seen.  Each line goes out with a single write, so
    several processes may append to one file.  ``close()`` (or ``with``)
    closes a file it opened.

    Observers run in the task or thread that made the connection call; a
    write is a short blocking call there.  Write errors are logged by the
    connection, never raised into it.

    Raises:
        OSError: ``file`` cannot be opened.
        TypeError: ``reveal``/``append`` are not bools.
    """

    def __init__(
        self, file: str | os.PathLike[str] | IO[str], *, reveal: bool = False, append: bool = False
    ) -> None:
        for value, name in ((reveal, "reveal"), (append, "append")):
            if not isinstance(value, bool):
                raise TypeError(f"{name} must be a bool, not {type(value).__name__}")
        self.reveal = reveal
        self._lock = threading.Lock()
        self._start = time.monotonic()
        self._numbers: weakref.WeakKeyDictionary[CardConnection, int] = weakref.WeakKeyDictionary()
        self._pending: dict[int, tuple[str, float]] = {}
        self._counter = 0
        self._fd: int | None = None
        self._stream: IO[str] | None = None
        if isinstance(file, (str, os.PathLike)):
            flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND | (0 if append else os.O_TRUNC)
            self._fd = os.open(file, flags | getattr(os, "O_CLOEXEC", 0), 0o600)
            self.path: str | None = os.fspath(file)
        else:
            self._stream = file
            self.path = None
        from . import __version__

        self._write(
            {
                "type": "session",
                "format": FORMAT,
                "version": VERSION,
                "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                "aioscard": __version__,
                "pid": os.getpid(),
            }
        )

    def __repr__(self) -> str:
        return f"<SessionRecorder {self.path or self._stream!r}>"

    def _write(self, record: dict[str, Any]) -> None:
        line = json.dumps(record, separators=(", ", ": ")) + "\n"
        with self._lock:
            if self._fd is not None:
                data = line.encode("utf-8")
                while data:
                    data = data[os.write(self._fd, data) :]
            elif self._stream is not None:
                self._stream.write(line)
                self._stream.flush()

    def _now(self) -> float:
        return round(time.monotonic() - self._start, 6)

    def _connection_number(self, connection: CardConnection) -> int:
        with self._lock:
            number = self._numbers.get(connection)
            if number is None:
                self._counter += 1
                number = self._numbers[connection] = self._counter
            return number

    def attach(self, connection: CardConnection) -> CardConnection:
        """Observe ``connection`` (``connection.addObserver(self)``); returns it."""
        connection.addObserver(self)
        return connection

    def update(self, cardconnection: CardConnection, ccevent: CardConnectionEvent) -> None:
        """Write one line for a connection event (called by the connection)."""
        number = self._connection_number(cardconnection)
        kind = ccevent.type
        if kind in ("connect", "reconnect"):
            self._flush_pending(number)
            try:
                atr = to_hex(bytes(cardconnection.getATR()))
            except Exception:
                atr = None
            self._write(
                {
                    "type": kind,
                    "t": self._now(),
                    "connection": number,
                    "reader": cardconnection.getReader(),
                    "atr": atr,
                    "protocol": _protocol_name(cardconnection.getProtocol()),
                }
            )
        elif kind == "disconnect":
            self._flush_pending(number)
            self._write({"type": "disconnect", "t": self._now(), "connection": number})
        elif kind == "command" and ccevent.args:
            self._flush_pending(number)
            command = format_apdu(bytes(ccevent.args[0]), reveal=self.reveal)
            with self._lock:
                self._pending[number] = (command, time.monotonic())
        elif kind == "response" and ccevent.args and len(ccevent.args) >= 3:
            data, sw1, sw2 = ccevent.args[0], ccevent.args[1], ccevent.args[2]
            with self._lock:
                pending = self._pending.pop(number, None)
            if pending is None:
                return
            command, started = pending
            self._write(
                {
                    "type": "exchange",
                    "t": round(started - self._start, 6),
                    "connection": number,
                    "command": command,
                    "response": to_hex(bytes([*data, sw1, sw2])),
                    "duration": round(time.monotonic() - started, 6),
                }
            )

    def _flush_pending(self, number: int) -> None:
        with self._lock:
            pending = self._pending.pop(number, None)
        if pending is not None:
            command, started = pending
            self._write(
                {
                    "type": "exchange",
                    "t": round(started - self._start, 6),
                    "connection": number,
                    "command": command,
                    "response": None,
                }
            )

    def close(self) -> None:
        """Write what is pending (commands without a response) and close a file
        the recorder opened.  Idempotent."""
        with self._lock:
            numbers = list(self._pending)
        for number in numbers:
            self._flush_pending(number)
        with self._lock:
            fd, self._fd = self._fd, None
            self._stream = None
        if fd is not None:
            os.close(fd)

    def __enter__(self) -> SessionRecorder:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


# ---------------------------------------------------------------------------
# Reading a recording


class RecordingError(ValueError):
    """A recording is malformed; ``source`` and ``line`` say where."""

    def __init__(self, message: str, source: str, line: int | None = None) -> None:
        where = source if line is None else f"{source} line {line}"
        super().__init__(f"{where}: {message}")
        self.source = source
        self.line = line


@dataclass(frozen=True)
class CommandPattern:
    """A recorded command: its bytes, or, when redacted, the visible bytes around
    ``hidden`` unknown ones.  :meth:`matches` tells whether an APDU fits."""

    head: bytes
    hidden: int = 0
    tail: bytes = b""

    @classmethod
    def parse(cls, text: str) -> CommandPattern:
        """Read ``format_apdu`` output: hex, or hex around ``<N bytes redacted>``.

        Raises:
            ValueError: anything else, or fewer than 4 bytes in all.
        """
        found = list(_REDACTED.finditer(text))
        if len(found) > 1:
            raise ValueError("more than one redaction marker")
        if found:
            marker = found[0]
            head = from_hex(text[: marker.start()]) if text[: marker.start()].strip() else b""
            rest = text[marker.end() :]
            tail = from_hex(rest) if rest.strip() else b""
            hidden = int(marker.group(1))
        else:
            head, hidden, tail = from_hex(text), 0, b""
        if len(head) + hidden + len(tail) < 4:
            raise ValueError("a command has at least the 4 header bytes")
        return cls(head, hidden, tail)

    @property
    def length(self) -> int:
        """The length of the APDUs this pattern matches."""
        return len(self.head) + self.hidden + len(self.tail)

    def matches(self, apdu: bytes) -> bool:
        """Whether ``apdu`` is this command (any bytes where it was redacted)."""
        return (
            len(apdu) == self.length
            and apdu.startswith(self.head)
            and (not self.tail or apdu.endswith(self.tail))
        )

    def __str__(self) -> str:
        if not self.hidden:
            return to_hex(self.head)
        parts = [to_hex(self.head)] if self.head else []
        parts.append(f"<{self.hidden} byte{'' if self.hidden == 1 else 's'} redacted>")
        if self.tail:
            parts.append(to_hex(self.tail))
        return " ".join(parts)


@dataclass(frozen=True)
class RecordedExchange:
    """One command and the response it got, as recorded."""

    command: CommandPattern
    #: Data and status word; ``None`` when the command got no response.
    response: bytes | None
    #: The line of the recording.
    line: int
    t: float | None = None
    duration: float | None = None
    connection: int | None = None


@dataclass(frozen=True)
class Session:
    """A recording read back: the card's ATR (from the first connect) and the exchanges."""

    atr: bytes | None
    protocol: str | None
    reader: str | None
    exchanges: tuple[RecordedExchange, ...]
    source: str

    @property
    def answered(self) -> tuple[RecordedExchange, ...]:
        """The exchanges that got a response (what a replay plays)."""
        return tuple(exchange for exchange in self.exchanges if exchange.response is not None)


_TYPES = frozenset({"session", "connect", "reconnect", "disconnect", "exchange"})


class _Line:
    """Where a record came from, to name it in errors."""

    __slots__ = ("number", "source")

    def __init__(self, source: str, number: int) -> None:
        self.source = source
        self.number = number

    def fail(self, message: str) -> NoReturn:
        raise RecordingError(message, self.source, self.number)


def _seconds(record: dict[str, Any], key: str, where: _Line) -> float | None:
    value = record.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        where.fail(f'"{key}" must be a number of seconds, not {value!r}')
    return float(value)


def _hex_field(record: dict[str, Any], key: str, where: _Line, low: int, high: int) -> bytes:
    value = record.get(key)
    if not isinstance(value, str):
        where.fail(f'"{key}" must be hex text, not {type(value).__name__}')
    try:
        raw = from_hex(value)
    except ValueError as error:
        where.fail(f'"{key}" is not hex: {error}')
    if not low <= len(raw) <= high:
        where.fail(f'"{key}" must be {low}..{high} bytes, got {len(raw)}')
    return raw


def parse_session(lines: Iterable[str], source: str = "<recording>") -> Session:
    """Read a recording from its lines (see the module docstring for the format).

    Raises:
        RecordingError: naming ``source`` and the line: not JSON, not an
            object, no ``session`` line first, an unknown format, version or
            type, or a field of the wrong kind (hex, numbers).
    """
    exchanges: list[RecordedExchange] = []
    atr: bytes | None = None
    protocol: str | None = None
    reader: str | None = None
    seen_header = False
    for number, text in enumerate(lines, 1):
        where = _Line(source, number)
        fail = where.fail
        if not text.strip():
            continue
        try:
            record = json.loads(text)
        except (ValueError, RecursionError) as error:
            fail(f"not JSON ({error})")
        if not isinstance(record, dict):
            fail(f"a line must be a JSON object, not {type(record).__name__}")
        kind = record.get("type")
        if kind not in _TYPES:
            fail(f"unknown type {kind!r}; expected one of {', '.join(sorted(_TYPES))}")
        if kind == "session":
            if record.get("format") != FORMAT:
                fail(f"not an aioscard session recording (format {record.get('format')!r})")
            if record.get("version") != VERSION:
                fail(f"recording version {record.get('version')!r}; this aioscard reads {VERSION}")
            seen_header = True
            continue
        if not seen_header:
            fail(f'a recording starts with a "session" line, not {kind!r}')
        if kind in ("connect", "reconnect"):
            value = _hex_field(record, "atr", where, 1, 33) if record.get("atr") else None
            if atr is None and value is not None:
                atr = value
                found = record.get("protocol")
                protocol = found if isinstance(found, str) else None
                found = record.get("reader")
                reader = found if isinstance(found, str) else None
        elif kind == "exchange":
            command_text = record.get("command")
            if not isinstance(command_text, str):
                fail(f'"command" must be hex text, not {type(command_text).__name__}')
            try:
                command = CommandPattern.parse(command_text)
            except ValueError as error:
                fail(f'"command" {command_text!r} is not an APDU: {error}')
            response = (
                None
                if record.get("response") is None
                else _hex_field(record, "response", where, 2, 65538)
            )
            connection = record.get("connection")
            exchanges.append(
                RecordedExchange(
                    command,
                    response,
                    number,
                    _seconds(record, "t", where),
                    _seconds(record, "duration", where),
                    connection if isinstance(connection, int) else None,
                )
            )
    if not seen_header:
        raise RecordingError("empty: no session line", source)
    return Session(atr, protocol, reader, tuple(exchanges), source)


def read_session(path: str | os.PathLike[str]) -> Session:
    """Read the recording in the file ``path``.

    Raises:
        RecordingError: the file is malformed (naming the line), or not UTF-8.
        OSError: the file cannot be read.
    """
    source = os.fspath(path)
    with open(source, encoding="utf-8") as file:
        try:
            return parse_session(file, source)
        except UnicodeDecodeError as error:
            raise RecordingError(f"not UTF-8 text ({error.reason})", source) from None


def process_recorder() -> SessionRecorder | None:
    """The recorder ``$AIOSCARD_RECORD`` asks for, made on first use (internal)."""
    path = os.environ.get(RECORD_ENV)
    if not path:
        return None
    reveal = os.environ.get(RECORD_REVEAL_ENV, "").strip().lower() in ("1", "true", "yes", "on")
    return SessionRecorder(Path(path), reveal=reveal, append=True)
