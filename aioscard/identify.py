"""Name a card from its ATR with pcsc-tools' list of known ATRs (``smartcard_list.txt``).

The list is Ludovic Rousseau's ``smartcard_list.txt``, installed by Debian's
``pcsc-tools`` package as ``/usr/share/pcsc/smartcard_list.txt`` and published at
https://pcsc-tools.apdu.fr/smartcard_list.txt.  aioscard reads it at run time
and ships no copy.  Which file is read:

1. the ``source`` argument, when given;
2. else the file named by the environment variable ``AIOSCARD_SMARTCARD_LIST``;
3. else the first that exists of the places pcsc-tools' ``ATR_analysis`` looks:
   ``$XDG_CACHE_HOME/smartcard_list.txt`` (default ``~/.cache``),
   ``~/.smartcard_list.txt``, ``/usr/local/pcsc/smartcard_list.txt``,
   ``/usr/share/pcsc/smartcard_list.txt``, ``/usr/local/share/pcsc/smartcard_list.txt``.

The format: an ATR line (a regular expression over the ATR written as
upper-case hex bytes separated by single spaces, e.g. ``3B 8F 80 01 80 4F ..``),
followed by description lines that start with a tab; ``#`` starts a comment
line.  Matching is what ``ATR_analysis`` does: the whole ATR text must match
the pattern, case-insensitively, so ``..`` is any byte, ``[0-9]`` a class,
``.*`` any tail.  Every matching entry is returned, in file order.  Unlike
``ATR_analysis``, trailing spaces and a carriage return at the end of a
pattern line are ignored, and a pattern line that is not a valid regular
expression is skipped and reported in :attr:`SmartcardList.problems` instead
of aborting.
"""

from __future__ import annotations

import os
import re
import threading
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

from ._bytes import ByteInput, as_bytes

__all__ = [
    "SMARTCARD_LIST_ENV",
    "SMARTCARD_LIST_URL",
    "KnownCard",
    "SmartcardList",
    "SmartcardListError",
    "SmartcardListNotFoundError",
    "default_locations",
    "find_smartcard_list",
    "identify",
    "load_smartcard_list",
]

#: The environment variable naming a ``smartcard_list.txt`` to use.
SMARTCARD_LIST_ENV = "AIOSCARD_SMARTCARD_LIST"
#: Where the current list is published.
SMARTCARD_LIST_URL = "https://pcsc-tools.apdu.fr/smartcard_list.txt"

_HOW_TO_GET_IT = (
    "install pcsc-tools (Debian/Ubuntu: apt-get install pcsc-tools), or download "
    f"{SMARTCARD_LIST_URL} and name it with ${SMARTCARD_LIST_ENV} or --list"
)
# Characters that make a pattern more than literal text.
_REGEX_SPECIALS = frozenset(".[]()*+?{}|^$\\")


class SmartcardListError(Exception):
    """The list could not be read: ``path`` names the file."""

    def __init__(self, message: str, path: str | None = None) -> None:
        super().__init__(message)
        self.path = path


class SmartcardListNotFoundError(SmartcardListError, FileNotFoundError):
    """No ``smartcard_list.txt`` was found; the message says where aioscard looked
    and how to get one."""


class KnownCard(NamedTuple):
    """One entry of the list that matches an ATR."""

    #: The ATR pattern as the list writes it.
    pattern: str
    #: The description lines, without their leading tab.
    description: tuple[str, ...]
    #: The line number of the pattern in the file (1-based).
    line: int
    #: The file the entry comes from.
    source: str

    @property
    def name(self) -> str:
        """The first description line (the card's name), or ``""`` when there is none."""
        return self.description[0] if self.description else ""


class _Entry:
    __slots__ = ("compiled", "description", "invalid", "line", "pattern", "prefix")

    def __init__(self, pattern: str, line: int) -> None:
        self.pattern = pattern
        self.line = line
        self.description: list[str] = []
        # The literal start of the pattern, upper-cased: only patterns whose prefix
        # starts the ATR text are compiled and tried.
        literal = []
        for char in pattern:
            if char in _REGEX_SPECIALS:
                break
            literal.append(char)
        if len(literal) < len(pattern) and pattern[len(literal)] in "*+?{":
            literal = literal[:-1]  # the last literal character is quantified
        if "|" in pattern:
            literal = []  # an alternative may start differently
        self.prefix = "".join(literal).upper()
        self.compiled: re.Pattern[str] | None = None
        self.invalid = False


class SmartcardList:
    """A parsed ``smartcard_list.txt``; :meth:`identify` finds the entries for an ATR.

    Use :func:`load_smartcard_list` (cached per file) or :meth:`parse`.
    ``problems`` lists the pattern lines that are not valid regular
    expressions (found as they are first tried).  Thread-safe.
    """

    def __init__(self, entries: Sequence[_Entry], source: str) -> None:
        self._entries = tuple(entries)
        self.source = source
        self._lock = threading.Lock()
        self._problems: list[str] = []

    def __repr__(self) -> str:
        return f"<SmartcardList {self.source!r}: {len(self._entries)} ATR patterns>"

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def problems(self) -> tuple[str, ...]:
        """Pattern lines that could not be used, e.g. ``"line 12: ... (bad regex)"``."""
        with self._lock:
            return tuple(self._problems)

    @classmethod
    def parse(cls, text: str, source: str = "<string>") -> SmartcardList:
        """Parse the text of a list.  Never raises for odd content: description lines
        before any pattern are ignored, as pcsc-tools does.

        Raises:
            TypeError: ``text`` is not a ``str``.
        """
        if not isinstance(text, str):
            raise TypeError(f"text must be a str, not {type(text).__name__}")
        entries: list[_Entry] = []
        current: _Entry | None = None
        for number, raw in enumerate(text.splitlines(), 1):
            if raw.startswith("\t"):
                if current is not None:
                    current.description.append(raw[1:].rstrip())
                continue
            line = raw.rstrip(" \r\n")
            if not line or line.startswith("#"):
                current = None
                continue
            current = _Entry(line, number)
            entries.append(current)
        return cls(entries, source)

    def _compiled(self, entry: _Entry) -> re.Pattern[str] | None:
        if entry.compiled is None and not entry.invalid:
            try:
                with warnings.catch_warnings():
                    # Perl-only syntax such as "[[:xdigit:]]" draws a FutureWarning.
                    warnings.simplefilter("ignore")
                    entry.compiled = re.compile(entry.pattern, re.IGNORECASE)
            except (re.error, RecursionError, OverflowError) as error:
                entry.invalid = True
                with self._lock:
                    self._problems.append(
                        f"line {entry.line}: {entry.pattern!r} is not a regular expression "
                        f"({error})"
                    )
        return entry.compiled

    def identify(self, atr: ByteInput | str) -> list[KnownCard]:
        """Every entry whose pattern matches ``atr``, in file order (empty: unknown).

        ``atr`` is bytes, a sequence of ints, hex text or an
        :class:`~aioscard.atr.ATR`; it is not checked for ATR validity (any
        1..33 bytes are looked up).

        Raises:
            TypeError, ValueError: ``atr`` is not 1..33 bytes or not hex.
        """
        text = _atr_text(atr)
        found: list[KnownCard] = []
        for entry in self._entries:
            if not text.startswith(entry.prefix):
                continue
            compiled = self._compiled(entry)
            if compiled is not None and compiled.fullmatch(text):
                found.append(
                    KnownCard(entry.pattern, tuple(entry.description), entry.line, self.source)
                )
        return found


def _atr_text(atr: object) -> str:
    from .atr import ATR

    if isinstance(atr, ATR):
        raw = atr.bytes
    elif isinstance(atr, str):
        from .util import from_hex

        raw = from_hex(atr)
    else:
        raw = as_bytes(atr, "atr")
    if not 1 <= len(raw) <= 33:
        raise ValueError(f"atr must be 1..33 bytes, got {len(raw)}")
    return " ".join(f"{byte:02X}" for byte in raw)


def default_locations() -> list[Path]:
    """The places searched when neither an argument nor ``$AIOSCARD_SMARTCARD_LIST``
    names a file, in order (pcsc-tools' ``ATR_analysis`` order)."""
    home = Path.home()
    cache = Path(os.environ.get("XDG_CACHE_HOME") or home / ".cache")
    return [
        cache / "smartcard_list.txt",
        home / ".smartcard_list.txt",
        Path("/usr/local/pcsc/smartcard_list.txt"),
        Path("/usr/share/pcsc/smartcard_list.txt"),
        Path("/usr/local/share/pcsc/smartcard_list.txt"),
    ]


def find_smartcard_list(source: str | os.PathLike[str] | None = None) -> Path:
    """The list file to use: ``source``, else ``$AIOSCARD_SMARTCARD_LIST``, else the
    first of :func:`default_locations` that exists.

    Raises:
        SmartcardListNotFoundError: the file named does not exist, or none was
            found; the message says how to get one.
    """
    explicit = source if source is not None else os.environ.get(SMARTCARD_LIST_ENV) or None
    if explicit is not None:
        path = Path(explicit)
        if not path.is_file():
            how = "argument" if source is not None else f"${SMARTCARD_LIST_ENV}"
            raise SmartcardListNotFoundError(
                f"no smartcard list at {str(path)!r} (from the {how}); {_HOW_TO_GET_IT}",
                str(path),
            )
        return path
    for path in default_locations():
        if path.is_file():
            return path
    looked = ", ".join(str(path) for path in default_locations())
    raise SmartcardListNotFoundError(
        f"no smartcard_list.txt found (looked in {looked}); {_HOW_TO_GET_IT}"
    )


_cache: dict[str, tuple[tuple[int, int], SmartcardList]] = {}
_cache_lock = threading.Lock()


def load_smartcard_list(source: str | os.PathLike[str] | None = None) -> SmartcardList:
    """Read and parse the list (see :func:`find_smartcard_list` for which file).

    The parsed list is kept per file and read again when the file changes.
    Blocking file I/O: from async code, call it in a worker thread when the
    file may be slow to read.

    Raises:
        SmartcardListNotFoundError: no list (the message says how to get one).
        SmartcardListError: the file cannot be read, naming it and why.
    """
    path = find_smartcard_list(source)
    key = str(path.resolve())
    try:
        stat = path.stat()
        stamp = (stat.st_mtime_ns, stat.st_size)
        with _cache_lock:
            cached = _cache.get(key)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        # Descriptions hold a few non-UTF-8 bytes in some versions: never fail on them.
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as error:
        raise SmartcardListError(f"cannot read {str(path)!r}: {error}", str(path)) from None
    parsed = SmartcardList.parse(text, str(path))
    with _cache_lock:
        _cache[key] = (stamp, parsed)
    return parsed


def identify(atr: ByteInput | str, source: str | os.PathLike[str] | None = None) -> list[KnownCard]:
    """The entries of the list (see :func:`load_smartcard_list`) that match ``atr``.

    Raises:
        SmartcardListNotFoundError: no list (the message says how to get one).
        SmartcardListError: the file cannot be read.
        TypeError, ValueError: ``atr`` is not 1..33 bytes or not hex.
    """
    text_check = _atr_text(atr)  # bad input fails before any file I/O
    return load_smartcard_list(source).identify(text_check)
