"""The ``aioscard`` command line: the parser, and running a command to an exit status."""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Awaitable, Callable

from .. import __version__
from . import _commands
from ._errors import EXIT_INTERRUPTED, EXIT_STATUS_HELP, EXIT_USAGE, report, run_async

if sys.version_info < (3, 11):  # anyio depends on the backport there
    from exceptiongroup import BaseExceptionGroup

__all__ = ["build_parser", "main"]

_DESCRIPTION = """\
A smartcard (PC/SC) tool built on aioscard: list readers, watch events, explain
ATRs, send APDUs, run an APDU shell, or run a simulator with virtual readers."""

_EXAMPLES = """\
examples:
  aioscard demo                          the whole library on a private simulator
  aioscard readers                       readers, their state and cards
  aioscard watch --json                  reader/card events as JSON lines, until Ctrl-C
  aioscard atr 3B 88 01 61 69 6F 73 63 61 72 64 89
  aioscard send 00A4040008A0000006472F0001 0084000008
  aioscard shell --reader 1              an interactive APDU prompt
  aioscard sim --readers 4               virtual readers for your own programs

`aioscard COMMAND --help` shows each command's options and examples."""

_READER_HELP = (
    "the reader: its index in `aioscard readers` or part of its name "
    "(default: the first holding a card)"
)


def _formatter(prog: str) -> argparse.HelpFormatter:
    return argparse.RawDescriptionHelpFormatter(prog, max_help_position=30)


def _add_reader_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-r", "--reader", metavar="READER", help=_READER_HELP)
    parser.add_argument(
        "-w",
        "--wait",
        type=_seconds,
        default=0.0,
        metavar="SECONDS",
        help="wait up to SECONDS for a card if there is none (default: do not wait)",
    )
    parser.add_argument(
        "--get-response",
        action="store_true",
        help="send GET RESPONSE on 61xx and repeat with the right Le on 6Cxx automatically",
    )
    parser.add_argument(
        "--reveal",
        action="store_true",
        help="show PINs and keys in the echoed commands (redacted by default)",
    )


def build_parser() -> argparse.ArgumentParser:
    """The ``aioscard`` argument parser, with one sub-parser per command."""
    parser = argparse.ArgumentParser(
        prog="aioscard",
        description=_DESCRIPTION,
        epilog=f"{_EXAMPLES}\n\n{EXIT_STATUS_HELP}",
        formatter_class=_formatter,
    )
    parser.add_argument("--version", action="version", version=f"aioscard {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")

    demo = commands.add_parser(
        "demo",
        help="run the guided demo on a private simulator (starts and stops everything)",
        description=(
            "Start a private pcscd with virtual readers, then: list readers, wait for a card\n"
            "the demo inserts, explain its ATR, exchange APDUs, run two readers in parallel,\n"
            "watch a removal and a re-insertion, run a pyscard program through the sync\n"
            "shim, and stop everything.  Needs pcscd and vsmartcard-vpcd installed, no\n"
            "hardware, and leaves the system's pcscd alone."
        ),
        epilog="example:\n  aioscard demo",
        formatter_class=_formatter,
    )
    demo.set_defaults(run=_run_demo)

    readers = commands.add_parser(
        "readers",
        help="list readers with their state, the card's ATR and its protocols",
        description="List every reader PC/SC knows, with its state and the card's ATR.",
        epilog=(
            "examples:\n"
            "  aioscard readers\n"
            "  aioscard readers --json | jq .name\n\n"
            "exit status 3 when there are no readers, 4 when pcscd is not running."
        ),
        formatter_class=_formatter,
    )
    readers.add_argument("--json", action="store_true", help="one JSON object per reader")
    readers.set_defaults(run=_async(_commands.run_readers))

    watch = commands.add_parser(
        "watch",
        help="print reader and card events as they happen, until Ctrl-C",
        description=(
            "Print reader added/removed and card inserted/removed events, one line each\n"
            "with a timestamp, until Ctrl-C or SIGTERM (exit status 0).  What is there\n"
            "already comes first, unless --no-initial."
        ),
        epilog=(
            "examples:\n"
            "  aioscard watch\n"
            "  aioscard watch --json\n"
            "  aioscard watch --uid                    # contactless cards' UIDs too\n"
            "  aioscard watch --no-initial --count 1   # wait for the next event"
        ),
        formatter_class=_formatter,
    )
    watch.add_argument("--json", action="store_true", help="JSON lines instead of text")
    watch.add_argument(
        "--no-initial", action="store_true", help="do not report what is present at the start"
    )
    watch.add_argument(
        "--count", type=_positive_int, metavar="N", help="stop after N events (default: never)"
    )
    watch.add_argument(
        "--uid",
        action="store_true",
        help="read each inserted contactless card's UID (PC/SC part 3 GET DATA) and show it",
    )
    watch.set_defaults(run=_async(_commands.run_watch))

    atr = commands.add_parser(
        "atr",
        help="explain an ATR: interface bytes, protocols, historical bytes, TCK",
        description=(
            "Explain an ATR given in hex (spaces and colons allowed, one argument or\n"
            "several), or, without one, the ATR of the card in a reader.  Then name the\n"
            "card from pcsc-tools' smartcard_list.txt: --list FILE, else\n"
            "$AIOSCARD_SMARTCARD_LIST, else where pcsc-tools installs it\n"
            "(/usr/share/pcsc/smartcard_list.txt; Debian package pcsc-tools)."
        ),
        epilog=(
            "examples:\n"
            "  aioscard atr 3B880161696F736361726489\n"
            "  aioscard atr 3B:88:80:01:61:69:6F:73:63:61:72:64:09\n"
            "  aioscard atr --reader 0\n"
            "  aioscard atr --list ~/smartcard_list.txt 3B 8F 80 01 80 4F 0C A0 00 00 03 06 03 "
            "00 01 00 00 00 00 6A"
        ),
        formatter_class=_formatter,
    )
    atr.add_argument("hex", nargs="*", metavar="HEX", help="the ATR in hex")
    atr.add_argument("-r", "--reader", metavar="READER", help=_READER_HELP)
    atr.add_argument(
        "--list",
        metavar="FILE",
        help="the smartcard_list.txt that names cards (default: $AIOSCARD_SMARTCARD_LIST, "
        "then pcsc-tools' locations)",
    )
    atr.set_defaults(run=_async(_commands.run_atr))

    send = commands.add_parser(
        "send",
        help="send APDUs and print the responses with their status words' meaning",
        description=(
            "Send command APDUs (hex) to a card and print each response with the ISO 7816-4\n"
            "meaning of its status word.  APDUs come from the arguments, else from --file,\n"
            "else from stdin (one per line; blank lines and # comments are skipped).\n"
            "A status word is not an error; a transport error stops the run with a non-zero\n"
            "exit status.  PINs are redacted in the echoed commands unless --reveal."
        ),
        epilog=(
            "examples:\n"
            "  aioscard send 00A4040008A0000006472F0001 0084000008\n"
            '  aioscard send --reader 1 "00 84 00 00 08"\n'
            "  aioscard send --json --file commands.apdu\n"
            "  echo 80EE0000026869 | aioscard send --wait 10"
        ),
        formatter_class=_formatter,
    )
    send.add_argument("apdus", nargs="*", metavar="APDU", help="command APDUs in hex")
    send.add_argument("-f", "--file", metavar="PATH", help="read APDUs from PATH, one per line")
    send.add_argument("--json", action="store_true", help="one JSON object per exchange")
    _add_reader_options(send)
    send.set_defaults(run=_async(_commands.run_send))

    shell = commands.add_parser(
        "shell",
        help="an interactive APDU prompt with history and line editing",
        description=(
            "An interactive prompt: type APDUs in hex, see the responses and their meaning.\n"
            "Line editing and a history file (~/.aioscard_history, or $AIOSCARD_HISTORY;\n"
            "empty disables it).  Type `help` for the shell's commands.  With stdin not a\n"
            "terminal it reads a script: no prompt, exit status 1 if any line failed."
        ),
        epilog=(
            "examples:\n"
            "  aioscard shell\n"
            "  aioscard shell --reader vpcd --get-response\n"
            "  printf '00A4040000\\natr\\n' | aioscard shell"
        ),
        formatter_class=_formatter,
    )
    _add_reader_options(shell)
    shell.set_defaults(run=_run_shell)

    record = commands.add_parser(
        "record",
        help="record the card sessions of a command (default: the APDU shell) as JSON lines",
        description=(
            "Run COMMAND (default: `aioscard shell`) with every aioscard connection it\n"
            "makes recording to FILE: the ATR, the protocol, each command and response\n"
            "with timings, one JSON object per line ($AIOSCARD_RECORD is set for it and\n"
            "its children).  PINs and keys are redacted unless --reveal.  Replay the file\n"
            "with `aioscard sim --replay FILE` or aioscard.testing.ReplayCard."
        ),
        epilog=(
            "examples:\n"
            "  aioscard record -o session.jsonl\n"
            "  aioscard record -o session.jsonl -- aioscard send 00A4040008A0000006472F0001\n"
            "  aioscard record -o session.jsonl -- python -m pytest tests/\n\n"
            "exit status: the command's."
        ),
        formatter_class=_formatter,
    )
    record.add_argument(
        "-o", "--output", required=True, metavar="FILE", help="the recording to write"
    )
    record.add_argument(
        "--append", action="store_true", help="add to FILE instead of starting it afresh"
    )
    record.add_argument(
        "--reveal", action="store_true", help="record PINs and keys in clear (default: redacted)"
    )
    record.add_argument(
        "command",
        nargs=argparse.REMAINDER,
        metavar="-- COMMAND",
        help="the command to run and record (after --)",
    )
    record.set_defaults(run=_run_record)

    sim = commands.add_parser(
        "sim",
        help="run a private pcscd with virtual readers in the foreground",
        description=(
            "Run the simulator: a private pcscd (socket-activated at a private socket; the\n"
            "system's pcscd is not touched) with N virtual readers, optionally holding\n"
            "demo cards, until Ctrl-C or SIGTERM (exit status 0).  The readers come from the\n"
            "simulator's own reader driver where a C compiler and pcsc-lite's headers are\n"
            "there, else from vpcd.  It prints the\n"
            "`export PCSCLITE_CSOCK_NAME=...` line that points other programs at it."
        ),
        epilog=(
            "examples:\n"
            "  aioscard sim\n"
            "  aioscard sim --readers 4 --card none\n"
            "  aioscard sim --replay session.jsonl   # reader 0 replays a recorded card\n"
            "  aioscard sim --pinpad 123456          # reader 0: a pinpad whose user types 123456\n"
            "  # in another terminal:\n"
            "  export PCSCLITE_CSOCK_NAME=/tmp/aioscard-sim-.../pcscd.comm\n"
            "  aioscard readers\n\n"
            "exit status 1 if the simulator could not start (pcscd, or both the driver's\n"
            "build tools and vpcd, missing) or the replayed card got a command the recording\n"
            "did not expect; 2 for a malformed recording."
        ),
        formatter_class=_formatter,
    )
    sim.add_argument(
        "--readers", type=_positive_int, default=2, metavar="N", help="readers (default 2)"
    )
    sim.add_argument(
        "--card",
        choices=("demo", "mifare", "none"),
        default="demo",
        help="a demo card in every reader (default), a MIFARE Classic 1K behind a "
        "contactless reader, or none",
    )
    sim.add_argument("--port", type=int, metavar="PORT", help="first vpcd TCP port")
    sim.add_argument(
        "--backend",
        choices=("auto", "driver", "vpcd"),
        help="reader back-end (default auto: the simulator's own driver where it builds)",
    )
    sim.add_argument(
        "--pinpad",
        metavar="PIN",
        help="make reader 0 a PC/SC Part 10 pinpad whose user types PIN",
    )
    sim.add_argument("--log-apdus", action="store_true", help="print every APDU pcscd sees")
    sim.add_argument(
        "--replay",
        metavar="FILE",
        help="reader 0 holds a card that replays a session recorded with `aioscard record`",
    )
    sim.add_argument(
        "--lookup",
        action="store_true",
        help="with --replay: answer commands by lookup instead of in recorded order",
    )
    sim.set_defaults(run=_run_sim)
    return parser


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if math.isnan(value):
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}")
    return value


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


Runner = Callable[[argparse.Namespace], int]


def _async(command: Callable[[argparse.Namespace], Awaitable[int]]) -> Runner:
    def run(options: argparse.Namespace) -> int:
        return run_async(command, options)

    return run


def _run_demo(options: argparse.Namespace) -> int:
    from ._demo import run_demo

    return run_demo()


def _run_shell(options: argparse.Namespace) -> int:
    from ._shell import run_shell

    return run_shell(options)


def _run_record(options: argparse.Namespace) -> int:
    from ._record import run_record

    return run_record(options)


def _run_sim(options: argparse.Namespace) -> int:
    from ..testing.__main__ import main as simulator_main

    argv = ["--readers", str(options.readers), "--card", options.card]
    if options.port is not None:
        argv += ["--port", str(options.port)]
    if options.log_apdus:
        argv.append("--log-apdus")
    if options.replay is not None:
        argv += ["--replay", options.replay]
    if options.lookup:
        argv.append("--lookup")
    if options.backend is not None:
        argv += ["--backend", options.backend]
    if options.pinpad is not None:
        argv += ["--pinpad", options.pinpad]
    return simulator_main(argv)


def _unwrap(error: BaseException) -> BaseException:
    # A task group wraps a lone failure in a group; report the failure itself.
    while isinstance(error, BaseExceptionGroup) and len(error.exceptions) == 1:
        error = error.exceptions[0]
    return error


def main(argv: list[str] | None = None) -> int:
    """Run ``aioscard`` with ``argv`` (default ``sys.argv[1:]``); return the exit status.

    Errors are printed to stderr as ``aioscard: error: ...`` with the fix to
    try, and give the exit statuses listed in ``aioscard --help``.  Never
    raises ``SystemExit`` (``--help`` and usage errors return 0 and 2).
    """
    parser = build_parser()
    try:
        options = parser.parse_args(sys.argv[1:] if argv is None else argv)
    except SystemExit as exit_:
        return exit_.code if isinstance(exit_.code, int) else EXIT_USAGE
    run: Runner | None = getattr(options, "run", None)
    if run is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        return run(options)
    except (Exception, KeyboardInterrupt, BaseExceptionGroup) as error:
        unwrapped = _unwrap(error)
        if isinstance(unwrapped, KeyboardInterrupt):
            print("aioscard: interrupted", file=sys.stderr)
            return EXIT_INTERRUPTED
        if not isinstance(unwrapped, Exception):
            raise
        return report(unwrapped)
    finally:
        sys.stdout.flush()
