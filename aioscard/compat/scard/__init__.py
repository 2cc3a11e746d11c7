"""pyscard's ``smartcard.scard``: PC/SC constants and ``SCard*`` functions returning codes.

See :mod:`aioscard.compat.scard.scard`.
"""

from __future__ import annotations

from .scard import *  # noqa: F403
from .scard import __all__ as __all__
