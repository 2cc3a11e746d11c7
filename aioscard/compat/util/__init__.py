"""pyscard's ``smartcard.util``: aioscard's own helpers, under pyscard's names.

Everything but :func:`toHexString` is :mod:`aioscard.util`'s function itself.
One deliberate difference: where pyscard silently masked or mangled a bad
value (an int outside 0..255, say), these raise ``ValueError``/``TypeError``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aioscard import util as _util
from aioscard.util import COMMA as COMMA
from aioscard.util import HEX as HEX
from aioscard.util import PACK as PACK
from aioscard.util import UPPERCASE as UPPERCASE
from aioscard.util import BinStringToHexList as BinStringToHexList
from aioscard.util import HexListToBinString as HexListToBinString
from aioscard.util import bs2hl as bs2hl
from aioscard.util import hl2bs as hl2bs
from aioscard.util import padd as padd
from aioscard.util import toASCIIBytes as toASCIIBytes
from aioscard.util import toASCIIString as toASCIIString
from aioscard.util import toBytes as toBytes
from aioscard.util import toGSM3_38Bytes as toGSM3_38Bytes

if TYPE_CHECKING:
    from aioscard.util import ByteInput

# The core's names less those pyscard never had (toHexString is this module's own).
_AIOSCARD_ONLY = {"ByteInput", "from_hex", "to_hex"}
__all__ = [name for name in _util.__all__ if name not in _AIOSCARD_ONLY]


def toHexString(
    data: ByteInput | None = None, output_format: int = 0, *, format: int | None = None
) -> str:
    """``data`` as hex text laid out by the ``PACK``/``HEX``/``UPPERCASE``/``COMMA`` flags.

    Takes the flags as pyscard 2.x names them (``output_format``) or as older
    releases did (``format``); see :func:`aioscard.util.toHexString`.

    Raises:
        TypeError, ValueError: ``data`` is not bytes or ints in 0..255, or the flags are bad.
    """
    return _util.toHexString(data, output_format if format is None else format)
