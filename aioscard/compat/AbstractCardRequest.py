"""pyscard's ``smartcard.AbstractCardRequest``: what a card request holds.

A base for card-request classes of your own; the shim's working request is
:class:`aioscard.compat.pcsc.PCSCCardRequest.PCSCCardRequest` (behind
:class:`aioscard.compat.CardRequest.CardRequest`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aioscard.cardtype import AnyCardType, CardType

from .PassThruCardService import PassThruCardService
from .System import readers

if TYPE_CHECKING:
    from collections.abc import Iterable

    from .CardService import CardService

__all__ = ["AbstractCardRequest"]


class AbstractCardRequest:
    """The parameters of a wait for a card, with pyscard's attribute names.

    ``newcardonly``, ``readersAsked`` (``readers``), ``cardType`` (default
    ``AnyCardType()``), ``cardServiceClass`` (default ``PassThruCardService``)
    and ``timeout`` (seconds; None waits forever).  :meth:`waitforcard` and
    :meth:`waitforcardevent` do nothing here: subclasses implement them.
    """

    def __init__(
        self,
        newcardonly: bool = False,
        readers: Iterable[Any] | None = None,
        cardType: CardType | None = None,
        cardServiceClass: type[CardService] | None = None,
        timeout: float | None = 1,
    ) -> None:
        self.newcardonly = newcardonly
        self.readersAsked = readers
        self.cardType: CardType = AnyCardType() if cardType is None else cardType
        self.cardServiceClass: type[CardService] = cardServiceClass or PassThruCardService
        self.timeout = timeout

    def getReaders(self) -> list[Any]:
        """The readers to watch: those asked for, else every reader now (SCardListReaders)."""
        if self.readersAsked is None:
            return list(readers())
        return list(self.readersAsked)

    def waitforcard(self) -> Any:
        """Wait for a card (nothing here; subclasses implement it)."""
        return None

    def waitforcardevent(self) -> Any:
        """Wait for a card to come or go (nothing here; subclasses implement it)."""
        return None
