"""How the command line shows things: exchanges, status words, progress lines, JSON."""

from __future__ import annotations

import json
import sys
import time
from datetime import datetime
from typing import TYPE_CHECKING, Any, TextIO, TypeVar

import anyio

from ..apdu import Response, format_apdu, is_sensitive
from ..sw import describe_sw
from ..util import to_hex

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

__all__ = [
    "WaitingStatus",
    "emit_json",
    "exchange_json",
    "format_command",
    "format_response",
    "timestamp",
]

T = TypeVar("T")

_TICK = 0.1


def format_command(command: bytes, *, reveal: bool = False) -> str:
    """``> 00 A4 04 00 ...``; a PIN-bearing command's data shown as a count unless ``reveal``."""
    return "> " + format_apdu(command, reveal=reveal)


def format_response(response: Response, *, limit: int | None = None) -> str:
    """``< DATA SW1 SW2  meaning``; with ``limit``, longer data is cut to ``limit`` bytes."""
    data = bytes(response.data)
    shown = to_hex(data if limit is None or len(data) <= limit else data[:limit])
    if limit is not None and len(data) > limit:
        shown += f" ... ({len(data)} bytes)"
    sw = f"{response.sw1:02X} {response.sw2:02X}"
    body = f"{shown} {sw}" if shown else sw
    return f"< {body}  {describe_sw(response.sw1, response.sw2)}"


def exchange_json(
    reader: str, command: bytes, response: Response, *, reveal: bool
) -> dict[str, object]:
    """One exchange as a JSON object (``aioscard send --json``)."""
    return {
        "reader": reader,
        "command": format_apdu(command, reveal=reveal),
        "redacted": is_sensitive(command) and not reveal,
        "data": to_hex(bytes(response.data), sep=""),
        "sw": f"{response.sw:04X}",
        "meaning": describe_sw(response.sw1, response.sw2),
    }


def emit_json(value: object, stream: TextIO | None = None) -> None:
    """Print ``value`` as one JSON line and flush (JSON lines go to pipes)."""
    out = sys.stdout if stream is None else stream
    print(json.dumps(value, ensure_ascii=False), file=out, flush=True)


def timestamp(now: datetime | None = None, *, iso: bool = False) -> str:
    """Local time as ``HH:MM:SS.mmm``, or full ISO 8601 with the offset when ``iso``."""
    moment = (now or datetime.now()).astimezone()
    if iso:
        return moment.isoformat(timespec="milliseconds")
    return moment.strftime("%H:%M:%S.") + f"{moment.microsecond // 1000:03d}"


class WaitingStatus:
    """A progress line shown while something is awaited.

    On a terminal the line is rewritten in place with the seconds waited so far
    and wiped at the end; elsewhere (a pipe, a log) it is printed once, as a
    plain line, so that logs stay readable.
    """

    def __init__(self, stream: TextIO | None = None, *, keep: bool = False) -> None:
        self.stream = sys.stderr if stream is None else stream
        self.keep = keep
        try:
            self.tty = self.stream.isatty()
        except (AttributeError, ValueError):
            self.tty = False

    def _write(self, text: str) -> None:
        self.stream.write(text)
        self.stream.flush()

    async def run(self, message: str, fn: Callable[[], Awaitable[T]]) -> T:
        """Await ``fn()`` while showing ``message`` (with a ticking counter on a
        terminal); return its result or raise its exception unchanged.

        Cancellation: the ticking stops with ``fn``, whatever ends it.
        """
        started = time.monotonic()
        if not self.tty:
            self._write(f"{message} ...\n")
            return await fn()

        async def tick() -> None:
            while True:
                self._write(f"\r\x1b[K{message} ... {time.monotonic() - started:.1f} s")
                await anyio.sleep(_TICK)

        outcome: list[tuple[bool, Any]] = []
        async with anyio.create_task_group() as group:
            group.start_soon(tick)
            try:
                # Caught here, not by the task group, which would wrap it in a group.
                outcome.append((True, await fn()))
            except Exception as error:
                outcome.append((False, error))
            finally:
                group.cancel_scope.cancel()
                end = f"\r\x1b[K{message} ... {time.monotonic() - started:.1f} s\n"
                self._write(end if self.keep else "\r\x1b[K")
        ok, value = outcome[0]
        if not ok:
            raise value
        result: T = value
        return result
