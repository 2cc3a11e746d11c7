"""Status-word error checkers and the chain that runs them, as in pyscard's ``smartcard.sw``.

An *error checker* is a callable ``checker(data, sw1, sw2)`` that raises an
:class:`~aioscard.sw.exceptions.SWException` subclass for the status words it
knows and returns ``None`` for the others.  An :class:`ErrorCheckingChain` runs
several of them in order, so that a specific standard (ISO 7816-8, 7816-9,
Open Platform) gets the first word and a general one (ISO 7816-4) the last::

    chain: list[ErrorCheckingChain] = []
    ErrorCheckingChain(chain, ISO7816_9ErrorChecker())
    ErrorCheckingChain(chain, ISO7816_8ErrorChecker())
    ErrorCheckingChain(chain, ISO7816_4ErrorChecker())
    chain[0].addFilterException(WarningProcessingException)
    chain[0](data, sw1, sw2)   # raises CheckingErrorException for 6A82

Each table-driven checker raises for exactly the status words pyscard's
checker of the same name raises for, with the same exception class, so chains
built for pyscard behave the same here.  Normal processing (``9000``, ``61xx``)
never raises, and neither do status words a checker does not list: add
:class:`ISO7816_4_SW1ErrorChecker` at the end of a chain to catch every
``62xx``-``6Fxx``, including ``6Cxx``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from types import MappingProxyType
from typing import ClassVar, TypeAlias

from aioscard.sw._describe import describe_sw
from aioscard.sw.exceptions import (
    CheckingErrorException,
    ExecutionErrorException,
    SecurityRelatedException,
    SWException,
    WarningProcessingException,
)

__all__ = [
    "ErrorChecker",
    "ErrorCheckingChain",
    "ISO7816_4ErrorChecker",
    "ISO7816_4_SW1ErrorChecker",
    "ISO7816_8ErrorChecker",
    "ISO7816_9ErrorChecker",
    "SWTable",
    "op21_ErrorChecker",
]

#: SW1 -> (exception class, SW2 -> message) for a table-driven checker.
SWTable: TypeAlias = Mapping[int, tuple[type[SWException], Mapping[int, str]]]


class ErrorChecker:
    """Base class of status-word error checkers.

    Calling a checker with ``(data, sw1, sw2)`` raises an ``SWException``
    subclass when the status word is an error or warning the checker knows,
    and returns ``None`` otherwise.  This base class knows none.
    """

    def __call__(self, data: Sequence[int], sw1: int, sw2: int) -> None:
        """Check ``sw1 sw2`` (``data`` is the response data, passed on to the exception).

        The base class accepts every status word; subclasses raise an
        ``SWException`` subclass for those they reject.
        """


#: What a chain link runs: a checker, or any callable with the same signature.
_Strategy: TypeAlias = ErrorChecker | Callable[[Sequence[int], int, int], None]


class _TableErrorChecker(ErrorChecker):
    """A checker driven by its class's ``table`` (see :data:`SWTable`)."""

    table: ClassVar[SWTable] = MappingProxyType({})

    def __call__(self, data: Sequence[int], sw1: int, sw2: int) -> None:
        """Raise the table's exception for ``sw1 sw2`` if the table lists it.

        Raises the ``SWException`` subclass the table maps SW1 to, with the
        table's message, when the table lists this SW2 under SW1.
        """
        entry = self.table.get(sw1)
        if entry is None:
            return
        exception_class, messages = entry
        message = messages.get(sw2)
        if message is not None:
            raise exception_class(data, sw1, sw2, message)


def _table(
    rows: Mapping[int, tuple[type[SWException], Iterable[int] | Mapping[int, str]]],
) -> SWTable:
    """Freeze a checker table; SW2 lists without messages take the ISO 7816-4 meaning."""
    table: dict[int, tuple[type[SWException], Mapping[int, str]]] = {}
    for sw1, (exception_class, sw2s) in rows.items():
        if isinstance(sw2s, Mapping):
            messages = dict(sw2s)
        else:
            messages = {sw2: describe_sw(sw1, sw2) for sw2 in sw2s}
        table[sw1] = (exception_class, MappingProxyType(messages))
    return MappingProxyType(table)


_PIN_COUNTERS = range(0xC0, 0xD0)


class ISO7816_4ErrorChecker(_TableErrorChecker):
    """Checks status words ISO/IEC 7816-4 defines.

    Raises ``WarningProcessingException`` for 6200, 6281-6284, 62FF, 6300,
    6381 and 63C0-63CF; ``ExecutionErrorException`` for 6400;
    ``CheckingErrorException`` for 6700, 6881, 6882, 6981-6988, 6A80-6A88,
    6B00, 6D00, 6E00 and 6F00.  Other status words (including 65xx, 66xx and
    6Cxx) pass.
    """

    table = _table(
        {
            0x62: (
                WarningProcessingException,
                {
                    **{sw2: describe_sw(0x62, sw2) for sw2 in (0x00, 0x81, 0x82, 0x83, 0x84)},
                    0xFF: "Response padded",
                },
            ),
            0x63: (WarningProcessingException, (0x00, 0x81, *_PIN_COUNTERS)),
            0x64: (ExecutionErrorException, (0x00,)),
            0x67: (CheckingErrorException, (0x00,)),
            0x68: (CheckingErrorException, (0x81, 0x82)),
            0x69: (CheckingErrorException, range(0x81, 0x89)),
            0x6A: (CheckingErrorException, range(0x80, 0x89)),
            0x6B: (CheckingErrorException, (0x00,)),
            0x6D: (CheckingErrorException, (0x00,)),
            0x6E: (CheckingErrorException, (0x00,)),
            0x6F: (CheckingErrorException, (0x00,)),
        }
    )


class ISO7816_4_SW1ErrorChecker(ErrorChecker):
    """Checks SW1 alone against the ISO/IEC 7816-4 groups: any SW2 counts.

    Raises ``WarningProcessingException`` for 62xx and 63xx,
    ``ExecutionErrorException`` for 64xx and 65xx, ``SecurityRelatedException``
    for 66xx and ``CheckingErrorException`` for 67xx to 6Fxx (6Cxx included).
    Normal processing (9000, 61xx) and proprietary 9xxx pass.
    """

    #: SW1 -> the exception class raised for every SW2.
    table: ClassVar[Mapping[int, type[SWException]]] = MappingProxyType(
        {
            0x62: WarningProcessingException,
            0x63: WarningProcessingException,
            0x64: ExecutionErrorException,
            0x65: ExecutionErrorException,
            0x66: SecurityRelatedException,
            **dict.fromkeys(range(103, 112), CheckingErrorException),
        }
    )

    def __call__(self, data: Sequence[int], sw1: int, sw2: int) -> None:
        """Raise the group's exception, with the ISO 7816-4 meaning, when SW1 is 62-6F."""
        exception_class = self.table.get(sw1)
        if exception_class is not None:
            raise exception_class(data, sw1, sw2, describe_sw(sw1, sw2))


class ISO7816_8ErrorChecker(_TableErrorChecker):
    """Checks status words of ISO/IEC 7816-8 (security operations).

    Raises ``WarningProcessingException`` for 6300 and 63C0-63CF;
    ``ExecutionErrorException`` for 6581; ``SecurityRelatedException`` for
    6600, 6687 and 6688; ``CheckingErrorException`` for 6700, 6883, 6884,
    6982-6985, 6A81, 6A82, 6A86 and 6A88.  Others pass.
    """

    table = _table(
        {
            0x63: (WarningProcessingException, (0x00, *_PIN_COUNTERS)),
            0x65: (ExecutionErrorException, (0x81,)),
            0x66: (
                SecurityRelatedException,
                {
                    0x00: "The security environment cannot be set or modified",
                    0x87: "Expected secure messaging data objects missing",
                    0x88: "Incorrect secure messaging data objects",
                },
            ),
            0x67: (CheckingErrorException, {0x00: "Wrong length (empty Lc field)"}),
            0x68: (CheckingErrorException, (0x83, 0x84)),
            0x69: (CheckingErrorException, (0x82, 0x83, 0x84, 0x85)),
            0x6A: (CheckingErrorException, (0x81, 0x82, 0x86, 0x88)),
        }
    )


class ISO7816_9ErrorChecker(_TableErrorChecker):
    """Checks status words of ISO/IEC 7816-9 (card management commands).

    Raises ``WarningProcessingException`` for 6282; ``ExecutionErrorException``
    for 6400; ``CheckingErrorException`` for 6982, 6A80, 6A84, 6A89 and 6A8A.
    Others pass.
    """

    table = _table(
        {
            0x62: (WarningProcessingException, (0x82,)),
            0x64: (ExecutionErrorException, (0x00,)),
            0x69: (CheckingErrorException, (0x82,)),
            0x6A: (CheckingErrorException, (0x80, 0x84, 0x89, 0x8A)),
        }
    )


class op21_ErrorChecker(_TableErrorChecker):
    """Checks status words of Open Platform 2.1 (GlobalPlatform) card management.

    Raises ``WarningProcessingException`` for 6283 and 6300;
    ``ExecutionErrorException`` for 6400 and 6581; ``CheckingErrorException``
    for 6700, 6982, 6985, 6A80, 6A81, 6A82, 6A84, 6A86, 6A88, 6D00, 6E00, 9484
    and 9485.  Others pass.
    """

    table = _table(
        {
            0x62: (WarningProcessingException, {0x83: "Card life cycle state is CARD_LOCKED"}),
            0x63: (WarningProcessingException, {0x00: "Authentication failed"}),
            0x64: (ExecutionErrorException, {0x00: "No specific diagnosis"}),
            0x65: (ExecutionErrorException, (0x81,)),
            0x67: (CheckingErrorException, {0x00: "Wrong length in Lc"}),
            0x69: (CheckingErrorException, (0x82, 0x85)),
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
            0x6D: (CheckingErrorException, {0x00: "Instruction not supported or invalid"}),
            0x6E: (CheckingErrorException, {0x00: "Class not supported"}),
            0x94: (
                CheckingErrorException,
                {0x84: "Algorithm not supported", 0x85: "Invalid key check value"},
            ),
        }
    )


class ErrorCheckingChain:
    """One link of a chain of error checkers; calling a link runs it and the links after it.

    Creating a link appends it to ``chain`` (a list shared by every link of the
    chain), so links run in the order they were created.  Calling a link with
    ``(data, sw1, sw2)`` runs each strategy from this link to the end of the
    chain, stopping at the first that raises.  An exception whose class was
    passed to :meth:`addFilterException` is swallowed instead, and ends the
    check: the remaining links do not run.  As in pyscard, a filter matches
    the exact class only, not its subclasses.
    """

    chain: list[ErrorCheckingChain]
    strategy: _Strategy
    excludes: list[type[BaseException]]

    def __init__(self, chain: list[ErrorCheckingChain], strategy: _Strategy) -> None:
        """Append a link running ``strategy`` to ``chain``.

        Raises ``TypeError`` when ``chain`` is not a list or ``strategy`` is
        not callable.
        """
        if not isinstance(chain, list):
            raise TypeError(f"chain must be a list, not {type(chain).__name__}")
        if not callable(strategy):
            raise TypeError(f"strategy must be callable, not {type(strategy).__name__}")
        self.strategy = strategy
        self.chain = chain
        self.excludes = []
        chain.append(self)

    def _position(self) -> int:
        # Identity, not equality: a link is where it was appended.
        for position, link in enumerate(self.chain):
            if link is self:
                return position
        raise ValueError("this ErrorCheckingChain link is no longer in its chain")

    def next(self) -> ErrorCheckingChain | None:
        """Return the link after this one, or ``None`` at the end of the chain.

        Raises ``ValueError`` when this link was removed from its chain.
        """
        position = self._position() + 1
        return self.chain[position] if position < len(self.chain) else None

    def end(self) -> bool:
        """Whether this is the last link of the chain.

        Raises ``ValueError`` when this link was removed from its chain.
        """
        return self._position() + 1 >= len(self.chain)

    def addFilterException(self, exClass: type[BaseException]) -> None:
        """Swallow exceptions of exactly class ``exClass`` in this link and the ones after it.

        A swallowed exception ends the check without error.  Raises
        ``TypeError`` when ``exClass`` is not an exception class, and
        ``ValueError`` when this link was removed from its chain.
        """
        if not (isinstance(exClass, type) and issubclass(exClass, BaseException)):
            raise TypeError(f"exClass must be an exception class, not {exClass!r}")
        for link in self.chain[self._position() :]:
            link.excludes.append(exClass)

    def __call__(self, data: Sequence[int], sw1: int, sw2: int) -> None:
        """Run this link's strategy and those after it on ``(data, sw1, sw2)``.

        Raises the first exception a strategy raises, unless its exact class
        is filtered in that link (then returns ``None`` at once); raises
        ``ValueError`` when this link was removed from its chain.
        """
        for link in self.chain[self._position() :]:
            # A try per item: each link of the chain raises on its own.
            try:
                link.strategy(data, sw1, sw2)
            except Exception as exc:  # noqa: PERF203
                if type(exc) in link.excludes:
                    return
                raise
