"""Exit statuses of the ``aioscard`` command and the one place errors become them.

Every command lets aioscard's typed exceptions propagate; :func:`report`
turns each into a friendly message on stderr (with the fix to try, where there
is one) and the exit status documented in ``aioscard --help``.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Any, TextIO, TypeVar

import anyio

from .. import exceptions as exc

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

T = TypeVar("T")

__all__ = [
    "EXIT_BUSY",
    "EXIT_ERROR",
    "EXIT_INTERRUPTED",
    "EXIT_NO_CARD",
    "EXIT_NO_READERS",
    "EXIT_NO_SERVICE",
    "EXIT_OK",
    "EXIT_STATUS_HELP",
    "EXIT_TIMEOUT",
    "EXIT_USAGE",
    "CLIError",
    "report",
    "run_async",
]

EXIT_OK = 0
#: A PC/SC or card error not listed below (a transport error in ``send``, say).
EXIT_ERROR = 1
#: Bad arguments or input (argparse's own code): bad hex, an invalid ATR, ...
EXIT_USAGE = 2
#: No readers at all, or ``--reader`` names none of them.
EXIT_NO_READERS = 3
#: The PC/SC service is unavailable: pcscd not running, libpcsclite missing,
#: or (``demo``) the simulator could not start.
EXIT_NO_SERVICE = 4
#: The reader is busy: another program holds the card exclusively.
EXIT_BUSY = 5
#: No card in the reader.
EXIT_NO_CARD = 6
#: No card came within ``--wait`` seconds.
EXIT_TIMEOUT = 7
#: Interrupted with Ctrl-C (``watch`` and ``sim`` stop with 0 instead: that is
#: how they are meant to end).
EXIT_INTERRUPTED = 130

#: The table printed by ``aioscard --help``.
EXIT_STATUS_HELP = f"""\
exit status:
  {EXIT_OK}    success
  {EXIT_ERROR}    a PC/SC or card error (e.g. a transport error in `send`)
  {EXIT_USAGE}    bad arguments or input (bad hex, invalid ATR, ambiguous --reader)
  {EXIT_NO_READERS}    no readers, or --reader matches none
  {EXIT_NO_SERVICE}    PC/SC unavailable: pcscd not running or libpcsclite missing
  {EXIT_BUSY}    reader busy: another program holds the card exclusively
  {EXIT_NO_CARD}    no card in the reader
  {EXIT_TIMEOUT}    no card within --wait seconds
  {EXIT_INTERRUPTED}  interrupted (Ctrl-C); `watch` and `sim` exit 0 on Ctrl-C"""

_SOCKET_VARIABLE = "PCSCLITE_CSOCK_NAME"


class CLIError(Exception):
    """An error the command line reports as it is: ``message``, optional ``hints``
    (one per line, the fixes to try) and the exit status ``code``."""

    def __init__(self, message: str, code: int = EXIT_ERROR, hints: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.hints = hints


def _no_service_hints() -> tuple[str, ...]:
    socket = os.environ.get(_SOCKET_VARIABLE)
    if socket:
        return (
            f"{_SOCKET_VARIABLE}={socket} points at a pcscd that is not there: "
            "is the simulator (`aioscard sim`) still running?",
            f"unset {_SOCKET_VARIABLE} to use the system's pcscd instead",
        )
    return (
        "start it: `sudo systemctl start pcscd.socket` (or run `sudo pcscd`); "
        "Debian/Ubuntu: `sudo apt-get install pcscd`",
        "no reader at hand? `aioscard sim` runs virtual readers; export the "
        f"{_SOCKET_VARIABLE} it prints, then retry",
    )


def _classify(error: BaseException) -> CLIError:
    """The message, hints and exit status for ``error``."""
    if isinstance(error, CLIError):
        return error
    if isinstance(error, exc.PCSCLibraryNotFoundException):
        return CLIError(
            f"the PC/SC library is missing: {error}",
            EXIT_NO_SERVICE,
            ("Debian/Ubuntu: `sudo apt-get install libpcsclite1 pcscd`",),
        )
    if isinstance(error, exc.ServiceUnavailableException):
        return CLIError(
            f"the PC/SC service (pcscd) is not running: {error}",
            EXIT_NO_SERVICE,
            _no_service_hints(),
        )
    if isinstance(error, exc.SharingViolationException):
        return CLIError(
            f"the reader is busy: another program holds the card exclusively ({error})",
            EXIT_BUSY,
            ("close the other program (or wait for it to finish), then retry",),
        )
    if isinstance(error, exc.NoCardException):
        return CLIError(
            f"no card: {error}",
            EXIT_NO_CARD,
            ("insert a card, or use --wait SECONDS to wait for one",),
        )
    if isinstance(error, exc.CardRequestTimeoutException):
        return CLIError(f"timed out: {error}", EXIT_TIMEOUT)
    if isinstance(error, (exc.NoReadersException, exc.InvalidReaderException)):
        return CLIError(
            f"{error}", EXIT_NO_READERS, ("`aioscard readers` lists the readers PC/SC knows",)
        )
    if isinstance(error, exc.CardRemovedException):
        return CLIError(f"the card was removed: {error}", EXIT_ERROR)
    if isinstance(error, exc.SmartcardException):
        return CLIError(f"{error} [{type(error).__name__}]", EXIT_ERROR)
    return CLIError(f"{type(error).__name__}: {error}", EXIT_ERROR)


def report(error: BaseException, stream: TextIO | None = None) -> int:
    """Print ``error`` as ``aioscard: error: ...`` with its hints; return its exit status."""
    out = sys.stderr if stream is None else stream
    classified = _classify(error)
    print(f"aioscard: error: {classified.message}", file=out)
    for hint in classified.hints:
        print(f"  hint: {hint}", file=out)
    out.flush()
    return classified.code


def run_async(fn: Callable[..., Awaitable[T]], *args: Any) -> T:
    """Run ``fn(*args)`` with :func:`anyio.run`; Ctrl-C always ends it with KeyboardInterrupt.

    anyio's runner answers Ctrl-C by cancelling the main task and, once the task has
    ended, raises KeyboardInterrupt.  Before Python 3.11 (no ``Task.uncancel()`` to
    tell this cancellation from others) it lets the CancelledError out instead, which
    would end the command with a traceback and status 1: nothing else cancels a
    command's main task, so that CancelledError is the Ctrl-C.

    Raises:
        KeyboardInterrupt: Ctrl-C (after ``fn`` has been cancelled and has cleaned up).
    """
    import asyncio

    try:
        return anyio.run(fn, *args)
    except asyncio.CancelledError:
        if sys.version_info >= (3, 11):
            raise
        raise KeyboardInterrupt from None
