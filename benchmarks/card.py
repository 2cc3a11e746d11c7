"""A virtual card in a process of its own, driven over stdin/stdout by the benchmark.

``python card.py PORT`` starts with the card out of the reader and reads commands:

* ``insert`` -- connect to the vpcd slot on PORT, wait until pcscd powered the card,
  answer ``ok T`` (T = ``time.monotonic()`` when the card connected);
* ``remove`` -- pull the card and wait until pcscd's poll saw it, answer ``ok T``;
* ``quit`` (or end of input) -- remove the card and exit.

The card's thread answers vpcd here, never in a measured client: a card thread
inside the client would compete with it for the GIL and distort every figure.
"""

from __future__ import annotations

import sys
import time

from aioscard.testing import VirtualCard


def main(argv: list[str]) -> int:
    port = int(argv[1])
    card = VirtualCard(name=f"benchmark card on port {port}")
    for line in sys.stdin:
        command = line.strip()
        if command == "insert":
            started = time.monotonic()
            card.insert(port)
            if not card.wait_powered(5.0):
                print("error pcscd did not power the card", flush=True)
                continue
            print(f"ok {started:.6f}", flush=True)
        elif command == "remove":
            started = time.monotonic()
            card.remove()
            card.wait_removed(2.0)
            print(f"ok {started:.6f}", flush=True)
        elif command == "quit":
            break
        else:
            print(f"error unknown command {command!r}", flush=True)
    card.remove()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
