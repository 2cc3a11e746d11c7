"""pyscard's ``smartcard.sw.op21_ErrorChecker``: Open Platform 2.1 status words and a checker.

``op21_SW`` is pyscard's table (SW1 -> (exception class, SW2 -> message));
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

__all__ = ["op21_ErrorChecker", "op21_SW"]

op21_SW = {
    0x62: (
        WarningProcessingException,
        {
            0x83: "Card life cycle is CARD_LOCKED",
        },
    ),
    0x63: (
        WarningProcessingException,
        {
            0x00: "Authentication failed",
        },
    ),
    0x64: (
        ExecutionErrorException,
        {
            0x00: "Execution error",
        },
    ),
    0x65: (
        ExecutionErrorException,
        {
            0x81: "Memory failure",
        },
    ),
    0x67: (
        CheckingErrorException,
        {
            0x00: "Wrong length in Lc",
        },
    ),
    0x69: (
        CheckingErrorException,
        {
            0x82: "Security status not satisfied",
            0x85: "Conditions of use not satisfied",
        },
    ),
    0x6A: (
        CheckingErrorException,
        {
            0x80: "Incorrect values in command data",
            0x81: "Function not supported",
            0x82: "Application not found",
            0x84: "Not enough memory space",
            0x86: "Incorrect parameters P1-P2",
            0x88: "Referenced data not found",
        },
    ),
    0x6D: (
        CheckingErrorException,
        {
            0x00: "Instruction not supported",
        },
    ),
    0x6E: (
        CheckingErrorException,
        {
            0x00: "Class not supported",
        },
    ),
    0x94: (
        CheckingErrorException,
        {
            0x84: "Algorithm not supported",
            0x85: "Invalid key check value",
        },
    ),
}


class op21_ErrorChecker(_sw.op21_ErrorChecker):
    """Raises on the status words :data:`op21_SW` lists (see :mod:`aioscard.sw`)."""

    table = op21_SW
