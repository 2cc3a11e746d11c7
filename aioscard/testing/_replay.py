"""Play a recorded card session back: a card handler that answers as the real card did.

:class:`ReplayCard` reads a recording (see :mod:`aioscard.record`) and answers
each command with the recorded response, in the recorded order (``strict``,
the default) or by looking the command up (``strict=False``: the n-th time a
command comes it gets the n-th recorded response to it, and the last one
after that).  A redacted command (a PIN) matches any command of its length
with the same visible bytes.

When the application sends something else, the card answers ``6F 00`` (as
any failing card handler does), logs the mismatch and keeps it in
:attr:`ReplayCard.errors`; :meth:`ReplayCard.check` raises the first one.
The pytest plugin's ``replay_card`` fixture calls it after the test, so a
test whose application went off-script fails with a message naming the APDU
it sent and the one the recording expected.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Sequence

from ..apdu import format_apdu
from ..record import RecordedExchange, Session, read_session
from ._apdu import status

__all__ = ["ReplayCard", "ReplayIncompleteError", "ReplayMismatchError"]

logger = logging.getLogger(__name__)

_SW_NO_PRECISE_DIAGNOSIS = status(0x6F00)


class ReplayMismatchError(AssertionError):
    """The application sent a command the recording did not expect.

    ``got`` is the APDU received (shown redacted in the message when it holds
    a PIN or key), ``expected`` the recorded command's text (``None`` past the
    end or when no recorded command matches), ``line`` the recording's line of
    the expected exchange.
    """

    def __init__(
        self, message: str, got: bytes | None, expected: str | None, line: int | None
    ) -> None:
        super().__init__(message)
        self.got = got
        self.expected = expected
        self.line = line


class ReplayIncompleteError(ReplayMismatchError):
    """The application stopped before sending every recorded command (strict replay)."""


class ReplayCard:
    """A card handler that replays ``recording``: a path, or a :class:`~aioscard.record.Session`.

    ``atr`` is the recorded card's ATR (from the recording's first connect;
    the ``atr`` argument overrides it).  Use it with
    ``card_factory(card.atr, card)``, ``Simulator.insert(VirtualCard(card.atr,
    card))``, the ``replay_card`` fixture or ``aioscard sim --replay FILE``.
    Commands that got no response when recorded are left out.

    Thread-safe: the card thread answers while a test reads :attr:`errors`.

    Raises:
        RecordingError: the recording is malformed (naming the line).
        OSError: it cannot be read.
        ValueError: it holds no ATR and none was given, or no exchange.
    """

    def __init__(
        self,
        recording: str | os.PathLike[str] | Session,
        *,
        strict: bool = True,
        atr: bytes | None = None,
    ) -> None:
        if not isinstance(strict, bool):
            raise TypeError(f"strict must be a bool, not {type(strict).__name__}")
        session = recording if isinstance(recording, Session) else read_session(recording)
        self.session = session
        self.strict = strict
        chosen = atr if atr is not None else session.atr
        if chosen is None:
            raise ValueError(f"{session.source}: the recording has no ATR (no connect line)")
        self.atr = bytes(chosen)
        self.exchanges: tuple[RecordedExchange, ...] = session.answered
        if not self.exchanges:
            raise ValueError(f"{session.source}: the recording has no answered command")
        self._lock = threading.Lock()
        self._position = 0
        self._uses: dict[str, int] = {}
        self._errors: list[ReplayMismatchError] = []

    def __repr__(self) -> str:
        mode = "strict" if self.strict else "lookup"
        return (
            f"<ReplayCard {self.session.source!r} {mode}, "
            f"{self.replayed}/{len(self.exchanges)} replayed, {len(self.errors)} errors>"
        )

    @property
    def errors(self) -> list[ReplayMismatchError]:
        """The mismatches so far (a copy)."""
        with self._lock:
            return list(self._errors)

    @property
    def replayed(self) -> int:
        """How many commands were answered from the recording."""
        with self._lock:
            return self._position

    def __call__(self, apdu: bytes, /) -> bytes:
        """Answer ``apdu`` from the recording; ``6F 00`` and a recorded error if it is not there."""
        with self._lock:
            response = self._strict(apdu) if self.strict else self._lookup(apdu)
        return response

    def _where(self, exchange: RecordedExchange) -> str:
        return f"{self.session.source} line {exchange.line}"

    def _mismatch(self, error: ReplayMismatchError) -> bytes:
        self._errors.append(error)
        logger.error("%s", error)
        return _SW_NO_PRECISE_DIAGNOSIS

    def _strict(self, apdu: bytes) -> bytes:
        got = format_apdu(apdu)
        count = len(self.exchanges)
        if self._position >= count:
            return self._mismatch(
                ReplayMismatchError(
                    f"replay mismatch: got {got}, but the recording ended "
                    f"({count} commands replayed from {self.session.source})",
                    apdu,
                    None,
                    None,
                )
            )
        exchange = self.exchanges[self._position]
        if not exchange.command.matches(apdu):
            return self._mismatch(
                ReplayMismatchError(
                    f"replay mismatch: got {got}, expected {exchange.command} "
                    f"(command {self._position + 1} of {count}, {self._where(exchange)})",
                    apdu,
                    str(exchange.command),
                    exchange.line,
                )
            )
        self._position += 1
        assert exchange.response is not None
        return exchange.response

    def _lookup(self, apdu: bytes) -> bytes:
        matching = [e for e in self.exchanges if e.command.matches(apdu)]
        if not matching:
            known = _sample([str(e.command) for e in self.exchanges])
            return self._mismatch(
                ReplayMismatchError(
                    f"replay mismatch: got {format_apdu(apdu)}, which {self.session.source} "
                    f"never recorded; expected one of: {known}",
                    apdu,
                    None,
                    None,
                )
            )
        key = str(matching[0].command)
        same = [e for e in matching if str(e.command) == key]
        use = self._uses.get(key, 0)
        self._uses[key] = use + 1
        self._position += 1
        response = same[min(use, len(same) - 1)].response
        assert response is not None
        return response

    def check(self, *, complete: bool | None = None) -> None:
        """Raise the first mismatch, if any; with ``complete`` (default: in strict
        mode) also raise when recorded commands were never sent.

        Raises:
            ReplayMismatchError: the first mismatch (its message names the APDU
                sent and the one expected).
            ReplayIncompleteError: ``complete`` and commands are left.
        """
        with self._lock:
            errors = list(self._errors)
            position = self._position
        if errors:
            first = errors[0]
            if len(errors) > 1:
                raise ReplayMismatchError(
                    f"{first} (and {len(errors) - 1} more mismatches)",
                    first.got,
                    first.expected,
                    first.line,
                )
            raise first
        if complete is None:
            complete = self.strict
        if complete and self.strict and position < len(self.exchanges):
            following = self.exchanges[position]
            raise ReplayIncompleteError(
                f"replay incomplete: {position} of {len(self.exchanges)} recorded commands "
                f"were sent; next expected {following.command} ({self._where(following)})",
                None,
                str(following.command),
                following.line,
            )

    def summary(self) -> str:
        """One line: commands replayed of those recorded, and mismatches."""
        with self._lock:
            return (
                f"{self._position} of {len(self.exchanges)} recorded commands replayed, "
                f"{len(self._errors)} mismatch{'' if len(self._errors) == 1 else 'es'}"
            )


def _sample(commands: Sequence[str], limit: int = 3) -> str:
    unique = list(dict.fromkeys(commands))
    shown = "; ".join(unique[:limit])
    return shown + (f"; ... ({len(unique)} distinct)" if len(unique) > limit else "")
