"""Exceptions for status words that report a warning or an error.

These are what the error checkers of :mod:`aioscard.sw` raise (pyscard's
``smartcard.sw.SWExceptions``).  They are deliberately not
:class:`aioscard.exceptions.SmartcardException`: the card answered, and its
answer was "no" - nothing went wrong with the reader or the connection.

Neither ``str()`` nor ``repr()`` of these exceptions include the response data,
which may be sensitive; it stays available as ``.data``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from aioscard.sw._describe import describe_sw

__all__ = [
    "CheckingErrorException",
    "ExecutionErrorException",
    "SWException",
    "SecurityRelatedException",
    "WarningProcessingException",
]


class SWException(Exception):
    """A status word that is not a plain success.

    ``data`` is the response data (a list of ints), ``sw1``/``sw2`` the status
    bytes, and ``message`` the meaning prefixed with the subclass's
    ``category`` (e.g. ``"checking error - File or application not found"``),
    as in pyscard.  When no message is given, the ISO 7816-4 meaning of the
    status word is used.

    Raises ``TypeError``/``ValueError`` from the constructor when ``sw1`` or
    ``sw2`` is not an int in 0..255, or ``data`` is not a sequence.
    """

    #: Prefix of ``message``, naming the kind of status word.
    category: ClassVar[str] = ""

    data: list[int]
    sw1: int
    sw2: int
    message: str

    def __init__(self, data: Sequence[int], sw1: int, sw2: int, message: str = "") -> None:
        for value, name in ((sw1, "sw1"), (sw2, "sw2")):
            if isinstance(value, bool) or not isinstance(value, int):
                raise TypeError(f"{name} must be an int in 0..255, not {type(value).__name__}")
            if not 0 <= value <= 255:
                raise ValueError(f"{name} must be in 0..255, got {value}")
        given: object = data  # checked at run time whatever the annotation says
        if isinstance(given, str) or not isinstance(given, Sequence):
            raise TypeError(f"data must be a sequence of ints, not {type(data).__name__}")
        if not isinstance(message, str):
            raise TypeError(f"message must be a str, not {type(message).__name__}")
        self.data = list(data)
        self.sw1 = sw1
        self.sw2 = sw2
        self._detail = message
        meaning = message or describe_sw(sw1, sw2)
        self.message = f"{self.category} - {meaning}" if self.category else meaning
        super().__init__(str(self))

    @property
    def sw(self) -> int:
        """The status word as one int, e.g. ``0x6A82``."""
        return (self.sw1 << 8) | self.sw2

    def __str__(self) -> str:
        return f"status word {self.sw1:02X}{self.sw2:02X}: {self.message}"

    def __reduce__(self) -> tuple[Any, ...]:
        # Rebuild from the constructor's own arguments, so the category prefix
        # is applied once and pickling works across processes.
        return (type(self), (self.data, self.sw1, self.sw2, self._detail))


class WarningProcessingException(SWException):
    """A warning: the command completed, with a caveat (SW1 62 or 63)."""

    category = "warning processing"


class ExecutionErrorException(SWException):
    """The command failed while executing (SW1 64 or 65)."""

    category = "execution error"


class SecurityRelatedException(SWException):
    """A security-related problem (SW1 66)."""

    category = "security issue"


class CheckingErrorException(SWException):
    """The card rejected the command as wrong or not allowed (SW1 67 to 6F)."""

    category = "checking error"
