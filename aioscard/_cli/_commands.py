"""The ``readers``, ``watch``, ``atr`` and ``send`` commands.

Each ``run_*`` function takes the parsed arguments, prints to stdout and
returns the exit status; aioscard's exceptions propagate to the caller, which
reports them (:func:`aioscard._cli._errors.report`).
"""

from __future__ import annotations

import os
import signal
import sys
from typing import TYPE_CHECKING, TextIO

import anyio

from ..apdu import coerce_apdu
from ..atr import ATR
from ..connection import TransportOptions
from ..exceptions import NoReadersException, SmartcardException
from ..identify import (
    SMARTCARD_LIST_ENV,
    SmartcardListError,
    SmartcardListNotFoundError,
    find_smartcard_list,
)
from ..monitor import (
    CardInserted,
    CardRemoved,
    EventsDropped,
    MonitorEvent,
    ReaderAdded,
    ReaderRemoved,
    ServiceLost,
    ServiceRestored,
    card_events,
    reader_events,
)
from ..reader import Reader
from ..util import from_hex, to_hex
from ._errors import EXIT_NO_CARD, EXIT_OK, EXIT_USAGE, CLIError
from ._output import (
    WaitingStatus,
    emit_json,
    exchange_json,
    format_command,
    format_response,
    timestamp,
)
from ._readers import choose_reader, match_reader, reader_infos, with_details

if TYPE_CHECKING:
    import argparse
    from collections.abc import Iterable

    from anyio.abc import TaskStatus

__all__ = [
    "parse_apdu",
    "parse_apdu_lines",
    "run_atr",
    "run_readers",
    "run_send",
    "run_watch",
    "transport_options",
]


# -- readers -------------------------------------------------------------------------


async def run_readers(options: argparse.Namespace) -> int:
    """``aioscard readers``: every reader, its state, the card's ATR and protocols,
    and what the reader says about itself (vendor, version, serial, Part 10 features).

    Raises:
        NoReadersException: there are none (exit 3).
        ServiceUnavailableException: pcscd is not running (exit 4).

    Cancellation: returns at once (Ctrl-C: exit 130).
    """
    infos = await reader_infos()
    if not infos:
        raise NoReadersException("no smartcard readers found")
    infos = await with_details(infos)
    if options.json:
        for info in infos:
            emit_json(info.to_json())
        return EXIT_OK
    for info in infos:
        print(f"{info.index}: {info.name}")
        line = f"   {info.describe_state()}"
        if info.present and info.atr:
            protocols = ", ".join(f"T={p}" for p in info.protocols) or "unknown"
            line += f"; ATR {to_hex(info.atr)}; protocols {protocols}"
        print(line)
        for detail in info.details.describe() if info.details is not None else ():
            print(f"   {detail}")
    return EXIT_OK


# -- watch ---------------------------------------------------------------------------


def _describe_event(event: MonitorEvent) -> tuple[str, dict[str, object]]:
    """A line's text and a JSON object for ``event``."""
    if isinstance(event, (CardInserted, CardRemoved)):
        verb = "card inserted" if isinstance(event, CardInserted) else "card removed"
        atr = bytes(event.card.atr)
        text = f"{verb:<15} {event.card.reader.name}  ATR {to_hex(atr)}"
        fields: dict[str, object] = {
            "event": verb.replace(" ", "_"),
            "reader": event.card.reader.name,
            "atr": to_hex(atr, sep=""),
        }
        if isinstance(event, CardInserted) and event.uid is not None:
            text += f"  UID {to_hex(event.uid)}"
            fields["uid"] = to_hex(event.uid, sep="")
        return text, fields
    if isinstance(event, (ReaderAdded, ReaderRemoved)):
        verb = "reader added" if isinstance(event, ReaderAdded) else "reader removed"
        return f"{verb:<15} {event.reader.name}", {
            "event": verb.replace(" ", "_"),
            "reader": event.reader.name,
        }
    if isinstance(event, ServiceLost):
        return f"{'pcscd lost':<15} {event.error}", {
            "event": "service_lost",
            "error": str(event.error),
        }
    if isinstance(event, ServiceRestored):
        return "pcscd back", {"event": "service_restored"}
    if isinstance(event, EventsDropped):
        return (
            f"{'events dropped':<15} {event.count} (the next events bring the view up to date)",
            {"event": "events_dropped", "count": event.count},
        )
    return repr(event), {"event": type(event).__name__}


class _Printer:
    """Prints watch events, one line each; stops the watch after ``limit`` of them."""

    def __init__(self, as_json: bool, limit: int | None, stop: anyio.CancelScope) -> None:
        self.as_json = as_json
        self.limit = limit
        self.stop = stop
        self.count = 0

    def __call__(self, event: MonitorEvent) -> None:
        text, fields = _describe_event(event)
        if self.as_json:
            emit_json({"time": timestamp(iso=True), **fields})
        else:
            print(f"{timestamp()}  {text}", flush=True)
        self.count += 1
        if self.limit is not None and self.count >= self.limit:
            self.stop.cancel()


async def _stop_on_signals(scope: anyio.CancelScope, *, task_status: TaskStatus[None]) -> None:
    with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        task_status.started()
        async for _ in signals:
            scope.cancel()
            return


async def run_watch(options: argparse.Namespace) -> int:
    """``aioscard watch``: reader and card events, one line each, until Ctrl-C
    (or SIGTERM, or ``--count`` events); exit status 0.

    Cancellation: Ctrl-C and SIGTERM end the watch cleanly (status 0).
    """
    initial = not options.no_initial
    async with anyio.create_task_group() as group:
        printer = _Printer(options.json, options.count, group.cancel_scope)
        await group.start(_stop_on_signals, group.cancel_scope)
        async with (
            reader_events(initial=initial) as readers,
            card_events(initial=initial, uid=options.uid) as cards,
        ):
            print("watching readers and cards; Ctrl-C stops", file=sys.stderr, flush=True)

            async def pump_readers() -> None:
                async for event in readers:
                    printer(event)

            async def pump_cards() -> None:
                async for event in cards:
                    # The reader stream reports pcscd's comings and goings already.
                    if not isinstance(event, (ServiceLost, ServiceRestored)):
                        printer(event)

            group.start_soon(pump_readers)
            group.start_soon(pump_cards)
            await anyio.sleep_forever()
    return EXIT_OK


# -- atr -----------------------------------------------------------------------------


async def run_atr(options: argparse.Namespace) -> int:
    """``aioscard atr [HEX]``: explain an ATR given in hex, or the card's in a reader.

    Raises:
        CLIError: an invalid ATR (exit 2), or no card in the reader (exit 6).

    Cancellation: returns at once.
    """
    if options.hex:
        text = " ".join(options.hex)
        try:
            atr = ATR(from_hex(text))
        except (TypeError, ValueError) as error:
            raise CLIError(f"not a valid ATR: {error}", EXIT_USAGE) from None
    else:
        infos = await reader_infos()
        if options.reader is not None:
            info = match_reader(infos, options.reader)
        else:
            info = next((info for info in infos if info.present), None) or match_reader(infos, "0")
        if not info.present or not info.atr:
            raise CLIError(
                f"no card in {info.name!r}",
                EXIT_NO_CARD,
                ("insert a card, or give an ATR: aioscard atr HEX",),
            )
        print(f"reader: {info.name}")
        atr = ATR(info.atr)
    print(atr.explain())
    _print_identification(atr, options.list)
    return EXIT_OK


def _print_identification(atr: ATR, source: str | None) -> None:
    """The card's names from smartcard_list.txt, or why there are none.

    Raises:
        CLIError: a list named by ``--list`` or ``$AIOSCARD_SMARTCARD_LIST`` is
            missing or unreadable (exit 2).
    """
    explicit = source is not None or bool(os.environ.get(SMARTCARD_LIST_ENV))
    try:
        known = atr.identify(source)
    except SmartcardListNotFoundError as error:
        if explicit:
            raise CLIError(str(error), EXIT_USAGE) from None
        print(f"card: not identified: {error}")
        return
    except SmartcardListError as error:
        raise CLIError(str(error), EXIT_USAGE) from None
    if not known:
        print(f"card: not in {_list_source(source)}")
        return
    print(f"card (from {known[0].source}):")
    for entry in known:
        print(f"  {entry.pattern}")
        for line in entry.description or ("(no description)",):
            print(f"    {line}")


def _list_source(source: str | None) -> str:
    return str(find_smartcard_list(source))


# -- send ----------------------------------------------------------------------------


def parse_apdu(text: str, where: str) -> bytes:
    """One command APDU from hex text (spaces and colons allowed).

    Raises:
        CLIError: not hex, or not 4..65,544 bytes (exit 2); the message names ``where``.
    """
    try:
        return coerce_apdu(from_hex(text))
    except (TypeError, ValueError) as error:
        raise CLIError(f"{where}: not an APDU: {error}", EXIT_USAGE) from None


def parse_apdu_lines(lines: Iterable[str], source: str) -> list[bytes]:
    """Command APDUs from hex lines; blank lines and ``#`` comments are skipped.

    Raises:
        CLIError: a line is not a valid APDU (exit 2), naming the source and line.
    """
    apdus: list[bytes] = []
    for number, raw in enumerate(lines, 1):
        text = raw.split("#", 1)[0].strip()
        if text:
            apdus.append(parse_apdu(text, f"{source} line {number}"))
    return apdus


def _read_apdus(options: argparse.Namespace, stdin: TextIO) -> list[bytes]:
    if options.apdus:
        return [
            parse_apdu(text, f"argument {position}")
            for position, text in enumerate(options.apdus, 1)
        ]
    if options.file is not None:
        try:
            with open(options.file, encoding="utf-8") as file:
                return parse_apdu_lines(file, options.file)
        except OSError as error:
            raise CLIError(f"cannot read {options.file}: {error}", EXIT_USAGE) from None
    if stdin.isatty():
        raise CLIError(
            "no APDUs: give them as arguments, with --file, or on stdin",
            EXIT_USAGE,
            ("aioscard send 00A4040000 0084000008",),
        )
    return parse_apdu_lines(stdin, "stdin")


def transport_options(enabled: bool) -> TransportOptions:
    """GET RESPONSE on 61xx and Le correction on 6Cxx when ``enabled``; neither otherwise."""
    return TransportOptions(get_response=enabled, le_correction=enabled)


async def run_send(options: argparse.Namespace, stdin: TextIO | None = None) -> int:
    """``aioscard send``: send APDUs, print each response and its status word's meaning.

    Status words are printed, never an error; a transport error stops the run
    (exit status 1, or the specific one) after printing what went before.

    Raises:
        CLIError: bad input (exit 2, before any PC/SC call), reader selection errors.
        SmartcardException: the connection or an exchange failed.

    Cancellation: returns at once; an APDU in flight completes on its worker
    and the connection is released.
    """
    apdus = _read_apdus(options, sys.stdin if stdin is None else stdin)
    if not apdus:
        raise CLIError("no APDUs to send (the input held none)", EXIT_USAGE)
    name = await choose_reader(options.reader, wait=options.wait, status=WaitingStatus())
    connection = Reader(name).createConnection()
    connection.transport = transport_options(options.get_response)
    async with connection:
        if not options.json:
            print(f"reader: {name}", file=sys.stderr, flush=True)
        for apdu in apdus:
            try:
                response = await connection.transmit(apdu)
            except SmartcardException:
                if not options.json:
                    print(format_command(apdu, reveal=options.reveal), flush=True)
                raise
            if options.json:
                emit_json(exchange_json(name, apdu, response, reveal=options.reveal))
            else:
                print(format_command(apdu, reveal=options.reveal))
                print(format_response(response), flush=True)
    return EXIT_OK
