"""``aioscard record``: run a command with every aioscard connection it makes recording.

The command runs as a child process with ``$AIOSCARD_RECORD`` naming the
recording (see :mod:`aioscard.record`), so anything built on aioscard records,
pyscard programs run through ``python -m aioscard.compat`` included, and so do
the command's own children.  Without a command it runs ``aioscard shell``.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import signal
import subprocess
import sys
from typing import TYPE_CHECKING

from ..record import RECORD_ENV, RECORD_REVEAL_ENV, RecordingError, read_session
from ._errors import EXIT_USAGE, CLIError

if TYPE_CHECKING:
    import argparse
    from collections.abc import Iterator

__all__ = ["run_record"]


@contextlib.contextmanager
def _child_owns_ctrl_c() -> Iterator[None]:
    # Ctrl-C reaches the whole foreground process group: the child decides what it
    # means, and this process waits for it to finish.
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def run_record(options: argparse.Namespace) -> int:
    """Run the command (default ``aioscard shell``) recording to ``--output``; return
    its exit status (128 + N when a signal N ended it).

    Raises:
        CLIError: the recording cannot be created, or the command cannot be started
            (exit 2).

    Cancellation: Ctrl-C goes to the command; this waits for it.
    """
    command = list(options.command)
    if command[:1] == ["--"]:
        command = command[1:]
    if not command:
        command = [sys.executable, "-m", "aioscard", "shell"]
    path = os.path.abspath(options.output)
    try:
        with open(path, "a" if options.append else "w", encoding="utf-8"):
            pass
    except OSError as error:
        raise CLIError(f"cannot write the recording {path}: {error}", EXIT_USAGE) from None
    env = dict(os.environ)
    env[RECORD_ENV] = path
    if options.reveal:
        env[RECORD_REVEAL_ENV] = "1"
    else:
        env.pop(RECORD_REVEAL_ENV, None)
    print(f"recording to {path}: {shlex.join(command)}", file=sys.stderr, flush=True)
    with _child_owns_ctrl_c():
        try:
            process = subprocess.Popen(command, env=env)
        except OSError as error:
            raise CLIError(f"cannot run {command[0]}: {error}", EXIT_USAGE) from None
        status = process.wait()
    if os.path.getsize(path) == 0:
        print(f"recorded nothing: the command made no connection ({path})", file=sys.stderr)
        return status if status >= 0 else 128 - status
    try:
        session = read_session(path)
    except (OSError, RecordingError) as error:
        print(f"recording {path} is not readable: {error}", file=sys.stderr)
    else:
        held = "now holds" if options.append else "recorded"
        print(f"{held} {len(session.exchanges)} commands in {path}", file=sys.stderr, flush=True)
    return status if status >= 0 else 128 - status
