"""pyscard's ``smartcard.sw.ISO7816_4_SW1ErrorChecker``: ISO/IEC 7816-4 status words by SW1 alone.

``iso7816_4SW1`` is pyscard's table (SW1 -> exception class); the checker
raises that class for any SW2 under a listed SW1.
"""

from __future__ import annotations

from aioscard import sw as _sw
from aioscard.sw.exceptions import (
    CheckingErrorException,
    ExecutionErrorException,
    SecurityRelatedException,
    WarningProcessingException,
)

__all__ = ["ISO7816_4_SW1ErrorChecker", "iso7816_4SW1"]

iso7816_4SW1 = {
    0x62: WarningProcessingException,
    0x63: WarningProcessingException,
    0x64: ExecutionErrorException,
    0x65: ExecutionErrorException,
    0x66: SecurityRelatedException,
    0x67: CheckingErrorException,
    0x68: CheckingErrorException,
    0x69: CheckingErrorException,
    0x6A: CheckingErrorException,
    0x6B: CheckingErrorException,
    0x6C: CheckingErrorException,
    0x6D: CheckingErrorException,
    0x6E: CheckingErrorException,
    0x6F: CheckingErrorException,
}


class ISO7816_4_SW1ErrorChecker(_sw.ISO7816_4_SW1ErrorChecker):
    """Raises the class :data:`iso7816_4SW1` gives for SW1 (see :mod:`aioscard.sw`)."""

    table = iso7816_4SW1
