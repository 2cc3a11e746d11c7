"""pyscard's ``smartcard.sw.ISO7816_4ErrorChecker``: ISO/IEC 7816-4 status words and a checker.

``iso7816_4SW`` is pyscard's table (SW1 -> (exception class, SW2 -> message));
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

__all__ = ["ISO7816_4ErrorChecker", "iso7816_4SW"]

iso7816_4SW = {
    0x62: (
        WarningProcessingException,
        {
            0x00: "Response padded/ More APDU commands expected",
            0x81: "Part of returned data may be corrupted",
            0x82: "End of file/record reached before reading Le bytes",
            0x83: "File invalidated",
            0x84: "FCI not correctly formatted",
            0xFF: "Correct execution, response padded",
        },
    ),
    0x63: (
        WarningProcessingException,
        {
            0x00: "Authentication failed",
            0x81: "File filled up by the last write",
            0xC0: "PIN verification failed. 0 tries before blocking PIN",
            0xC1: "PIN verification failed. 1 tries before blocking PIN",
            0xC2: "PIN verification failed. 2 tries before blocking PIN",
            0xC3: "PIN verification failed. 3 tries before blocking PIN",
            0xC4: "PIN verification failed. 4 tries before blocking PIN",
            0xC5: "PIN verification failed. 5 tries before blocking PIN",
            0xC6: "PIN verification failed. 6 tries before blocking PIN",
            0xC7: "PIN verification failed. 7 tries before blocking PIN",
            0xC8: "PIN verification failed. 8 tries before blocking PIN",
            0xC9: "PIN verification failed. 9 tries before blocking PIN",
            0xCA: "PIN verification failed. 10 tries before blocking PIN",
            0xCB: "PIN verification failed. 11 tries before blocking PIN",
            0xCC: "PIN verification failed. 12 tries before blocking PIN",
            0xCD: "PIN verification failed. 13 tries before blocking PIN",
            0xCE: "PIN verification failed. 14 tries before blocking PIN",
            0xCF: "PIN verification failed. 15 tries before blocking PIN",
        },
    ),
    0x64: (
        ExecutionErrorException,
        {
            0x00: "Integrity error detected in EEPROM",
        },
    ),
    0x67: (
        CheckingErrorException,
        {
            0x00: "Wrong length in Lc",
        },
    ),
    0x68: (
        CheckingErrorException,
        {
            0x81: "Logical channel not supported",
            0x82: "Secure messaging not supported",
        },
    ),
    0x69: (
        CheckingErrorException,
        {
            0x81: "Command incompatible with file structure.",
            0x82: "Security status not satisfied",
            0x83: "Authentication method blocked",
            0x84: "Referenced data invalid",
            0x85: "Conditions of use not satisfied",
            0x86: "Command not allowed (no current EF)",
            0x87: "Secure messaging data object missing.",
            0x88: "Secure messaging data object incorrect",
        },
    ),
    0x6A: (
        CheckingErrorException,
        {
            0x80: "Incorrect parameters in the data field",
            0x81: "Function not supported",
            0x82: "File not found",
            0x83: "Record not found",
            0x84: "Not enough memory space in the file",
            0x85: "Lc inconsistent with TLV structure",
            0x86: "Incorrect parameters P1-P2",
            0x87: "Lc is inconsistent with P1-P2",
            0x88: "Referenced data not found",
        },
    ),
    0x6B: (
        CheckingErrorException,
        {
            0x00: "Incorrect parameters P1-P2",
        },
    ),
    0x6D: (
        CheckingErrorException,
        {
            0x00: "Instruction (INS) not supported",
        },
    ),
    0x6E: (
        CheckingErrorException,
        {
            0x00: "Class (CLA) not supported",
        },
    ),
    0x6F: (
        CheckingErrorException,
        {
            0x00: "Fatal error",
        },
    ),
}


class ISO7816_4ErrorChecker(_sw.ISO7816_4ErrorChecker):
    """Raises on the status words :data:`iso7816_4SW` lists (see :mod:`aioscard.sw`)."""

    table = iso7816_4SW
