"""What the command line knows about readers: their state now, and picking one."""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .._context import with_context
from ..atr import ATR
from ..exceptions import (
    InvalidReaderException,
    NoCardException,
    NoReadersException,
    ServiceUnavailableException,
    SmartcardException,
    TimeoutException,
)
from ..native import PCSCAPI, ReaderState
from ..native import constants as C
from ..reader import Reader
from ..request import CardRequest
from ..util import to_hex
from ._errors import EXIT_NO_READERS, EXIT_USAGE, CLIError

if TYPE_CHECKING:
    from collections.abc import Sequence

    from ..readerinfo import ReaderInfo as ReaderDetails
    from ._output import WaitingStatus

__all__ = ["ReaderInfo", "choose_reader", "match_reader", "reader_infos", "with_details"]

_log = logging.getLogger("aioscard.cli")

# Flags worth a word in a listing, in the order they are shown.
_FLAG_WORDS = (
    (C.SCARD_STATE_INUSE, "in use"),
    (C.SCARD_STATE_EXCLUSIVE, "exclusive"),
    (C.SCARD_STATE_MUTE, "mute (no ATR)"),
    (C.SCARD_STATE_UNPOWERED, "unpowered"),
)


@dataclass(frozen=True)
class ReaderInfo:
    """One reader as SCardGetStatusChange sees it now: ``index`` in PC/SC's list,
    ``name``, the ``SCARD_STATE_*`` bits of ``state`` and the card's ``atr``."""

    index: int
    name: str
    state: int
    atr: bytes
    #: What the reader says about itself (``with_details``); None when not asked.
    details: ReaderDetails | None = None

    @property
    def present(self) -> bool:
        """Whether a card is in the reader."""
        return bool(self.state & C.SCARD_STATE_PRESENT)

    @property
    def protocols(self) -> tuple[int, ...]:
        """The protocols the card's ATR offers (``(0, 1)`` for T=0 and T=1); ``()``
        without a card or with an ATR that does not parse."""
        if not self.present or not self.atr:
            return ()
        try:
            return ATR(self.atr).protocols
        except ValueError:
            return ()

    def describe_state(self) -> str:
        """``"empty"``, ``"card present"`` or ``"unavailable"``, plus flags such as ``in use``."""
        if self.state & C.SCARD_STATE_UNAVAILABLE:
            return "unavailable"
        words = ["card present" if self.present else "empty"]
        words += [word for flag, word in _FLAG_WORDS if self.state & flag]
        return ", ".join(words)

    def to_json(self) -> dict[str, object]:
        """The reader as a JSON object (``aioscard readers --json``)."""
        return {
            "index": self.index,
            "name": self.name,
            "state": self.describe_state(),
            "present": self.present,
            "atr": to_hex(self.atr, sep="") if self.present else None,
            "protocols": [f"T={protocol}" for protocol in self.protocols],
            "info": self.details.to_json() if self.details is not None else {},
        }


def _states(api: PCSCAPI, context: int) -> list[ReaderState]:
    for attempt in (1, 2):
        names = api.list_readers(context)
        if not names:
            return []
        try:
            # UNAWARE differs from every state: the call returns at once.
            return api.get_status_change(context, 0, [ReaderState(name) for name in names])
        except TimeoutException:
            return [ReaderState(name) for name in names]
        except InvalidReaderException:
            if attempt == 2:  # a reader left between the two calls, twice
                raise
    raise AssertionError("unreachable")


async def reader_infos() -> list[ReaderInfo]:
    """Every reader with its state now (SCardListReaders, SCardGetStatusChange).

    Raises:
        ServiceUnavailableException: pcscd is not running.

    Cancellation: returns at once; the calls finish on a worker thread.
    """
    states = await with_context(_states)
    return [
        ReaderInfo(index, state.reader, state.event_state & 0xFFFF, state.atr)
        for index, state in enumerate(states)
    ]


async def with_details(infos: Sequence[ReaderInfo]) -> list[ReaderInfo]:
    """``infos`` with what each reader says about itself (``Reader.info()``): vendor,
    version, serial number, Part 10 features.  A reader that cannot be asked
    (held exclusively by another application, gone meanwhile) keeps none.

    Raises:
        ServiceUnavailableException: pcscd is not running.

    Cancellation: returns at once; each direct connection is released.
    """
    out = []
    for info in infos:
        try:
            details = await Reader(info.name).info()
        except ServiceUnavailableException:
            raise
        except SmartcardException as error:
            _log.debug("%s: no reader information: %s", info.name, error)
            details = None
        out.append(dataclasses.replace(info, details=details))
    return out


def match_reader(infos: Sequence[ReaderInfo], spec: str) -> ReaderInfo:
    """The reader ``spec`` names: an index into ``infos``, the exact name, or a
    case-insensitive part of exactly one name.

    Raises:
        NoReadersException: ``infos`` is empty.
        CLIError: no reader matches (exit 3), or several do (exit 2).
    """
    if not infos:
        raise NoReadersException("no smartcard readers found")
    text = spec.strip()
    if text.isdigit():
        index = int(text)
        if index < len(infos):
            return infos[index]
        raise CLIError(
            f"there is no reader {index}: PC/SC knows {len(infos)} (0..{len(infos) - 1})",
            EXIT_NO_READERS,
            ("`aioscard readers` lists them",),
        )
    for info in infos:
        if info.name == text:
            return info
    found = [info for info in infos if text.lower() in info.name.lower()]
    if len(found) == 1:
        return found[0]
    if not found:
        raise CLIError(
            f"no reader name contains {text!r}",
            EXIT_NO_READERS,
            ("`aioscard readers` lists them; --reader takes an index or part of a name",),
        )
    names = ", ".join(repr(info.name) for info in found)
    raise CLIError(
        f"{text!r} matches {len(found)} readers: {names}",
        EXIT_USAGE,
        ("give a longer part of the name, or the reader's index",),
    )


async def choose_reader(spec: str | None, *, wait: float, status: WaitingStatus) -> str:
    """The name of the reader to talk to: the one ``spec`` names (see
    :func:`match_reader`), else the first holding a card.  With ``wait`` > 0 and
    no card there, wait up to ``wait`` seconds for one, showing ``status``.

    Raises:
        NoReadersException, CLIError: as :func:`match_reader`.
        NoCardException: no card anywhere and ``wait`` is 0.
        CardRequestTimeoutException: no card within ``wait`` seconds.
        ServiceUnavailableException: pcscd is not running.

    Cancellation: returns at once.
    """
    infos = await reader_infos()
    if not infos:
        raise NoReadersException("no smartcard readers found")
    watched: list[str] | None
    if spec is not None:
        info = match_reader(infos, spec)
        if info.present or wait <= 0:
            return info.name  # an empty reader makes connect() say so
        watched = [info.name]
    else:
        for info in infos:
            if info.present:
                return info.name
        if wait <= 0:
            raise NoCardException(
                f"no card in any of the {len(infos)} reader(s); name one with --reader"
            )
        watched = None
    where = "any reader" if watched is None else watched[0]
    request = CardRequest(readers=watched, timeout=wait)
    service = await status.run(f"waiting for a card in {where}", request.waitforcard)
    return service.connection.reader
