"""``aioscard`` and ``python -m aioscard``: the command line.

``aioscard demo`` runs the guided demo on a private simulator; ``aioscard
--help`` lists every command (readers, watch, atr, send, shell, sim, demo)
with examples and the exit statuses.
"""

from __future__ import annotations

import sys

from ._cli import main as _main

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    """Run the command line with ``argv`` (default ``sys.argv[1:]``); return the exit status."""
    return _main(argv)


if __name__ == "__main__":
    sys.exit(main())
