"""Status words: their meaning, and error checkers that raise on them (pyscard's ``smartcard.sw``).

:func:`describe_sw` explains any status word.  The checkers and
:class:`ErrorCheckingChain` turn the status words of a response into
exceptions (see :mod:`aioscard.sw.checkers`); the exceptions are in
:mod:`aioscard.sw.exceptions`.  Everything here is pure Python without I/O.
"""

from __future__ import annotations

from aioscard.sw._describe import describe_sw as describe_sw
from aioscard.sw.checkers import ErrorChecker as ErrorChecker
from aioscard.sw.checkers import ErrorCheckingChain as ErrorCheckingChain
from aioscard.sw.checkers import ISO7816_4_SW1ErrorChecker as ISO7816_4_SW1ErrorChecker
from aioscard.sw.checkers import ISO7816_4ErrorChecker as ISO7816_4ErrorChecker
from aioscard.sw.checkers import ISO7816_8ErrorChecker as ISO7816_8ErrorChecker
from aioscard.sw.checkers import ISO7816_9ErrorChecker as ISO7816_9ErrorChecker
from aioscard.sw.checkers import op21_ErrorChecker as op21_ErrorChecker
from aioscard.sw.exceptions import CheckingErrorException as CheckingErrorException
from aioscard.sw.exceptions import ExecutionErrorException as ExecutionErrorException
from aioscard.sw.exceptions import SecurityRelatedException as SecurityRelatedException
from aioscard.sw.exceptions import SWException as SWException
from aioscard.sw.exceptions import WarningProcessingException as WarningProcessingException

__all__ = [
    "CheckingErrorException",
    "ErrorChecker",
    "ErrorCheckingChain",
    "ExecutionErrorException",
    "ISO7816_4ErrorChecker",
    "ISO7816_4_SW1ErrorChecker",
    "ISO7816_8ErrorChecker",
    "ISO7816_9ErrorChecker",
    "SWException",
    "SecurityRelatedException",
    "WarningProcessingException",
    "describe_sw",
    "op21_ErrorChecker",
]
