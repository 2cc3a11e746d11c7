"""``aioscard shell``: an interactive APDU prompt with history and line editing.

The prompt runs on the main thread (so ``input()`` gets readline's editing and
Ctrl-C behaves as in any shell); the card is driven through the async API on
an event loop in a helper thread (:func:`anyio.from_thread.start_blocking_portal`).
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, TextIO

from anyio.from_thread import BlockingPortal, start_blocking_portal

from ..apdu import coerce_apdu, is_sensitive
from ..atr import ATR
from ..connection import CardConnection
from ..exceptions import SmartcardException
from ..reader import Reader
from ..util import from_hex
from ._commands import transport_options
from ._errors import EXIT_ERROR, EXIT_OK, EXIT_USAGE, CLIError, report
from ._output import WaitingStatus, format_command, format_response
from ._readers import choose_reader, reader_infos

if TYPE_CHECKING:
    import argparse
    from collections.abc import Callable
    from types import ModuleType

__all__ = ["HISTORY_ENV", "Shell", "run_shell"]

#: Where the history is kept (default ``~/.aioscard_history``; empty: no history file).
HISTORY_ENV = "AIOSCARD_HISTORY"
_HISTORY_LENGTH = 1000
_PROMPT = "apdu> "
_HEX_DIGITS = frozenset("0123456789abcdefABCDEF:")

_HELP = """\
Type a command APDU in hex (spaces optional), e.g. 00 A4 04 00 or 0084000008.
Commands:
  atr                  explain the card's ATR
  readers              list the readers and their state
  reconnect [reset]    reconnect to the card (resetting it with `reset`)
  get-response on|off  automatic GET RESPONSE on 61xx and Le correction on 6Cxx
  help                 this text
  quit, exit, Ctrl-D   leave the shell
Lines starting with # are comments. Up/down arrows walk the history."""


def _readline() -> ModuleType | None:
    try:
        import readline
    except ImportError:  # Windows without pyreadline
        return None
    return readline


def _history_path() -> str | None:
    configured = os.environ.get(HISTORY_ENV)
    if configured is not None:
        return configured or None
    return os.path.join(os.path.expanduser("~"), ".aioscard_history")


def _parse(text: str) -> bytes:
    try:
        return coerce_apdu(from_hex(text))
    except (TypeError, ValueError) as error:
        # Name a mistyped command, but never repeat hex: it may be a PIN with a typo.
        first = text.split()[0] if text.split() else ""
        what = "the line" if all(c in _HEX_DIGITS for c in first) else repr(first)
        raise CLIError(
            f"{what} is neither a command (see `help`) nor an APDU: {error}", EXIT_USAGE
        ) from None


def _forget_secret(readline: ModuleType, line: str, *, reveal: bool) -> None:
    """Take ``line``, just entered, out of the history if it carries a PIN or key
    (even mistyped): the history file would keep it in clear.  ``--reveal`` keeps it."""
    if reveal:
        return
    digits = "".join(char for char in line if char in _HEX_DIGITS and char != ":")
    length = readline.get_current_history_length()
    if length and is_sensitive(bytes.fromhex(digits[: len(digits) // 2 * 2])):
        readline.remove_history_item(length - 1)


class Shell:
    """The prompt's state: the portal, the connection and the output streams."""

    def __init__(
        self,
        portal: BlockingPortal,
        connection: CardConnection,
        *,
        reveal: bool,
        out: TextIO,
        err: TextIO,
    ) -> None:
        self.portal = portal
        self.connection = connection
        self.reveal = reveal
        self.out = out
        self.err = err
        self.failures = 0
        self._commands: dict[str, Callable[[list[str]], bool]] = {
            "help": self._help,
            "?": self._help,
            "atr": self._atr,
            "readers": self._readers,
            "reconnect": self._reconnect,
            "get-response": self._get_response,
            "quit": self._quit,
            "exit": self._quit,
        }

    def handle(self, line: str) -> bool:
        """Run one input line; False when the shell should end.

        Errors are printed (to ``err``) and counted, never raised, so a typo or
        a removed card does not end the session.
        """
        text = line.strip()
        if not text or text.startswith("#"):
            return True
        words = text.split()
        command = self._commands.get(words[0].lower())
        try:
            if command is not None:
                return command(words[1:])
            self._transmit(_parse(text))
        except (SmartcardException, CLIError) as error:
            self.failures += 1
            report(error, self.err)
        except KeyboardInterrupt:
            self.failures += 1
            print("interrupted (the command's answer, if any, is dropped)", file=self.err)
        return True

    def _transmit(self, apdu: bytes) -> None:
        print(format_command(apdu, reveal=self.reveal), file=self.out)
        response = self.portal.call(self.connection.transmit, apdu)
        print(format_response(response), file=self.out, flush=True)

    def _help(self, args: list[str]) -> bool:
        print(_HELP, file=self.out)
        return True

    def _atr(self, args: list[str]) -> bool:
        print(ATR(self.connection.getATR()).explain(), file=self.out)
        return True

    def _readers(self, args: list[str]) -> bool:
        for info in self.portal.call(reader_infos):
            marker = "*" if info.name == self.connection.reader else " "
            print(f"{marker}{info.index}: {info.name}  ({info.describe_state()})", file=self.out)
        return True

    def _reconnect(self, args: list[str]) -> bool:
        reset = bool(args) and args[0].lower() == "reset"
        disposition = CardConnection.RESET_CARD if reset else CardConnection.LEAVE_CARD
        self.portal.call(lambda: self.connection.reconnect(disposition=disposition))
        print(f"reconnected{' (card reset)' if reset else ''}", file=self.out)
        return True

    def _get_response(self, args: list[str]) -> bool:
        if args and args[0].lower() in ("on", "off"):
            self.connection.transport = transport_options(args[0].lower() == "on")
        state = "on" if self.connection.transport.enabled else "off"
        print(f"get-response {state}", file=self.out)
        return True

    def _quit(self, args: list[str]) -> bool:
        return False


def run_shell(
    options: argparse.Namespace, stdin: TextIO | None = None, stdout: TextIO | None = None
) -> int:
    """``aioscard shell``: read APDUs and commands until end of input or ``quit``.

    Interactive (stdin a terminal): a prompt with readline editing and a
    history file (``$AIOSCARD_HISTORY``); errors are shown and the session goes
    on; exit status 0.  Reading a script from a pipe: no prompt; exit status 1
    if any line failed.

    Raises:
        SmartcardException, CLIError: the connection could not be made.

    Cancellation: Ctrl-C at the prompt gives a fresh prompt; during a command
    it drops that command's answer (the APDU completes on its worker).
    """
    source = sys.stdin if stdin is None else stdin
    out = sys.stdout if stdout is None else stdout
    interactive = source.isatty()
    readline = _readline() if interactive else None
    history = _history_path() if readline is not None else None
    if readline is not None and history is not None:
        try:
            readline.read_history_file(history)
        except OSError:
            pass  # no history yet
        readline.set_history_length(_HISTORY_LENGTH)

    failures = 0
    with start_blocking_portal() as portal:
        name = portal.call(
            lambda: choose_reader(options.reader, wait=options.wait, status=WaitingStatus())
        )
        connection = Reader(name).createConnection()
        connection.transport = transport_options(options.get_response)
        portal.call(connection.connect)
        try:
            protocol = {connection.T0_protocol: "T=0", connection.T1_protocol: "T=1"}.get(
                connection.getProtocol(), "raw"
            )
            print(
                f"connected to {name} ({protocol}); `help` lists commands, Ctrl-D quits",
                file=sys.stderr,
                flush=True,
            )
            shell = Shell(portal, connection, reveal=options.reveal, out=out, err=sys.stderr)
            while True:
                try:
                    line = input(_PROMPT) if interactive and source is sys.stdin else None
                    if line is not None and readline is not None:
                        _forget_secret(readline, line, reveal=options.reveal)
                    if line is None:
                        line = source.readline()
                        if not line:
                            break
                except EOFError:
                    print(file=out)
                    break
                except KeyboardInterrupt:
                    print(file=out)  # as a shell does: a fresh prompt
                    continue
                if not shell.handle(line):
                    break
            failures = shell.failures
        finally:
            portal.call(connection.release)
            if readline is not None and history is not None:
                try:
                    readline.write_history_file(history)
                except OSError as error:
                    print(f"aioscard: history not saved: {error}", file=sys.stderr)
    if not interactive and failures:
        return EXIT_ERROR
    return EXIT_OK
