"""``python -m aioscard.compat SCRIPT [ARGS...]``: run a pyscard program on aioscard.

Installs the ``smartcard`` alias (:func:`aioscard.compat.install_as_smartcard`),
then runs ``SCRIPT`` as ``__main__`` with ``sys.argv`` set to ``[SCRIPT, *ARGS]``
and the script's directory first on ``sys.path``, as ``python SCRIPT`` would.
``-m MODULE [ARGS...]`` runs a module instead.
"""

from __future__ import annotations

import os
import runpy
import sys
from typing import TYPE_CHECKING

from . import install_as_smartcard

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["main"]

_USAGE = "usage: python -m aioscard.compat (SCRIPT | -m MODULE) [ARGS...]"


def main(argv: Sequence[str] | None = None) -> None:
    """Run the script or module named in ``argv`` (default ``sys.argv[1:]``).

    Exits with status 2 and a usage line when nothing is named.  The
    program's own exit status and exceptions pass through.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help"):
        print(_USAGE, file=sys.stderr if not args else sys.stdout)
        raise SystemExit(0 if args else 2)
    install_as_smartcard()
    if args[0] == "-m":
        if len(args) < 2:
            print(_USAGE, file=sys.stderr)
            raise SystemExit(2)
        sys.argv = args[1:]
        runpy.run_module(args[1], run_name="__main__", alter_sys=True)
        return
    script = args[0]
    sys.argv = args
    sys.path.insert(0, os.path.dirname(os.path.abspath(script)))
    runpy.run_path(script, run_name="__main__")


if __name__ == "__main__":
    main()
