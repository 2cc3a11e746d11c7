"""pyscard's ``smartcard.sw.ISO7816_9ErrorChecker``: ISO/IEC 7816-9 status words and a checker.

``iso7816_9SW`` is pyscard's table (SW1 -> (exception class, SW2 -> message));
the checker raises the table's exception, with the table's message, for
the status words it lists, and lets every other one pass.  The exception
classes are :mod:`aioscard.sw`'s own.
"""

from __future__ import annotations

from aioscard import sw as _sw
from aioscard.sw.exceptions import (
    CheckingErrorException,
    ExecutionErrorException,
    WarningProcessingException,
)

__all__ = ["ISO7816_9ErrorChecker", "iso7816_9SW"]

iso7816_9SW = {
    0x62: (
        WarningProcessingException,
        {
            0x82: "End of file/record reached",
        },
    ),
    0x64: (
        ExecutionErrorException,
        {
            0x00: "Execution error",
        },
    ),
    0x69: (
        CheckingErrorException,
        {
            0x82: "Security status not satisfied",
        },
    ),
    0x6A: (
        CheckingErrorException,
        {
            0x80: "Incorrect parameters in data field",
            0x84: "Not enough memory space",
            0x89: "File already exists",
            0x8A: "DF name already exists",
        },
    ),
}


class ISO7816_9ErrorChecker(_sw.ISO7816_9ErrorChecker):
    """Raises on the status words :data:`iso7816_9SW` lists (see :mod:`aioscard.sw`)."""

    table = iso7816_9SW
