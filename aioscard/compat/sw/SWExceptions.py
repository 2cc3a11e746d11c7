"""pyscard's ``smartcard.sw.SWExceptions``: aioscard's status-word exceptions."""

from __future__ import annotations

from aioscard.sw import CheckingErrorException as CheckingErrorException
from aioscard.sw import ExecutionErrorException as ExecutionErrorException
from aioscard.sw import SecurityRelatedException as SecurityRelatedException
from aioscard.sw import SWException as SWException
from aioscard.sw import WarningProcessingException as WarningProcessingException

__all__ = [
    "CheckingErrorException",
    "ExecutionErrorException",
    "SWException",
    "SecurityRelatedException",
    "WarningProcessingException",
]
