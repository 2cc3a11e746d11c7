"""``python -m aioscard.testing``: run a private pcscd with virtual readers in the foreground.

Prints the ``export PCSCLITE_CSOCK_NAME=...`` line for other shells, the readers
(and their vpcd ports on that back-end), optionally inserts demo cards, makes
reader 0 a pinpad with ``--pinpad PIN``, and stops cleanly on
SIGINT or SIGTERM (exit status 0).
"""

from __future__ import annotations

import argparse
import logging
import shlex
import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType
from typing import TYPE_CHECKING

from ._card import VirtualCard
from ._contactless import MIFARE_1K_ATR, MifareClassicCard
from ._errors import SimulatorError
from ._simulator import Simulator

if TYPE_CHECKING:
    from ._replay import ReplayCard

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m aioscard.testing",
        description="Run a private pcscd with virtual readers until interrupted.",
    )
    parser.add_argument("--readers", type=int, default=2, help="number of readers (default 2)")
    parser.add_argument(
        "--card",
        choices=("demo", "mifare", "none"),
        default="demo",
        help="insert a demo card into every reader (default), a simulated MIFARE Classic 1K "
        "behind a contactless reader, or leave them empty",
    )
    parser.add_argument("--port", type=int, default=None, help="first vpcd TCP port")
    parser.add_argument(
        "--backend",
        choices=("auto", "driver", "vpcd"),
        default=None,
        help="reader back-end: the simulator's own driver, vpcd, or auto (default: the "
        "driver where it builds)",
    )
    parser.add_argument(
        "--pinpad",
        metavar="PIN",
        default=None,
        help="make reader 0 a PC/SC Part 10 pinpad whose user types PIN (driver back-end)",
    )
    parser.add_argument(
        "--log-apdus", action="store_true", help="print pcscd's log, with every APDU"
    )
    parser.add_argument(
        "--replay",
        metavar="FILE",
        help="reader 0 holds a card replaying the recorded session FILE (aioscard record)",
    )
    parser.add_argument(
        "--lookup",
        action="store_true",
        help="with --replay: answer each command by looking it up, not in recorded order",
    )
    return parser


def _replay_card(path: str, strict: bool) -> ReplayCard:
    """The replaying card, its mismatches printed to stderr as they happen."""
    from ._replay import ReplayCard, logger

    card = ReplayCard(path, strict=strict)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger.addHandler(handler)
    logger.propagate = False  # printed once, also when --log-apdus configures logging
    return card


def main(argv: Sequence[str] | None = None) -> int:
    """Run the simulator until SIGINT/SIGTERM; return the exit status.

    Exit status 0 after a clean stop, 1 if the simulator could not start or
    a replayed session saw a mismatch, 2 for bad arguments or a malformed
    recording.  Must run on the main thread (it installs signal
    handlers).

    Cancellation: blocks until a SIGINT or SIGTERM arrives.
    """
    parser = _parser()
    options = parser.parse_args(argv)
    if not 1 <= options.readers <= 64:
        parser.error("--readers must be in 1..64")
    if options.lookup and not options.replay:
        parser.error("--lookup needs --replay FILE")
    if options.pinpad is not None and not options.pinpad.isdigit():
        parser.error("--pinpad takes the PIN the user types: decimal digits")
    if options.log_apdus:
        logging.basicConfig(level=logging.DEBUG, format="%(name)s: %(message)s")
    replay: ReplayCard | None = None
    if options.replay:
        try:
            replay = _replay_card(options.replay, strict=not options.lookup)
        except (OSError, ValueError) as exc:
            print(f"error: cannot replay {options.replay}: {exc}", file=sys.stderr)
            return 2
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        try:
            pinpads = {}
            if options.pinpad is not None:
                from ._pinpad import Pinpad

                pinpads[0] = Pinpad(options.pinpad)
            simulator = Simulator(
                options.readers,
                base_port=options.port,
                log_apdus=options.log_apdus,
                backend=options.backend,
                pinpads=pinpads,
            )
            simulator.start()
        except (SimulatorError, OSError, ValueError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        with simulator:
            print(f"export PCSCLITE_CSOCK_NAME={shlex.quote(simulator.socket_path)}")
            for index, name in enumerate(simulator.reader_names):
                if index == 0 and replay is not None:
                    simulator.insert(VirtualCard(replay.atr, replay, name="replay"), 0, wait=False)
                    mode = "in order" if replay.strict else "by lookup"
                    card = f" (replaying {options.replay}, {len(replay.exchanges)} commands {mode})"
                elif options.card == "demo":
                    simulator.insert(reader=index, wait=False)
                    card = " (demo card)"
                elif options.card == "mifare":
                    mifare = VirtualCard(MIFARE_1K_ATR, MifareClassicCard(), name=f"mifare {index}")
                    simulator.insert(mifare, index, wait=False)
                    card = " (MIFARE Classic 1K)"
                else:
                    card = ""
                where = f" on vpcd port {simulator.ports[index]}" if simulator.ports else ""
                pinpad = " (pinpad)" if index == 0 and options.pinpad is not None else ""
                print(f"reader {index}: {name!r}{where}{pinpad}{card}")
            print(f"pcscd pid {simulator.pid}; Ctrl-C or SIGTERM stops it", flush=True)
            # Event.wait is interrupted by the signal handler on the main thread.
            while not stop.wait(3600):
                pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if replay is not None:
        print(f"replay: {replay.summary()}", file=sys.stderr)
        if replay.errors:
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
