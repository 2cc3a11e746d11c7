"""pyscard's ``smartcard.pcsc.PCSCCardRequest``: the PC/SC card request.

The waiting itself is :class:`aioscard.compat.CardRequest.CardRequest`'s (the
shared watcher, no thread or context per wait); this class gives it
pyscard's lower-level shape and attributes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..AbstractCardRequest import AbstractCardRequest
from ..CardRequest import CardRequest
from ..scard.scard import INFINITE

if TYPE_CHECKING:
    from collections.abc import Iterable
    from types import TracebackType

    from aioscard.cardtype import CardType

    from ..Card import Card
    from ..CardService import CardService

__all__ = ["PCSCCardRequest"]


class PCSCCardRequest(AbstractCardRequest):
    """A request for a card; see :class:`aioscard.compat.CardRequest.CardRequest`.

    As in pyscard, :attr:`timeout` is in milliseconds here (``INFINITE`` for
    None), converted from the seconds given.

    Raises:
        TypeError, ValueError: bad arguments, naming them.
    """

    def __init__(
        self,
        newcardonly: bool = False,
        readers: Iterable[Any] | None = None,
        cardType: CardType | None = None,
        cardServiceClass: type[CardService] | None = None,
        timeout: float | None = 1,
    ) -> None:
        asked = None if readers is None else list(readers)
        self._request = CardRequest(newcardonly, asked, cardType, cardServiceClass, timeout)
        super().__init__(newcardonly, asked, cardType, cardServiceClass, timeout)
        self.timeout = INFINITE if timeout is None else int(timeout * 1000)

    def getReaderNames(self) -> list[str]:
        """The names of the readers this request watches (all readers now when none were asked)."""
        return [str(reader) for reader in self.getReaders()]

    def waitforcard(self) -> CardService:
        """See :meth:`aioscard.compat.CardRequest.CardRequest.waitforcard`."""
        return self._request.waitforcard()

    def waitforcardevent(self) -> list[Card]:
        """See :meth:`aioscard.compat.CardRequest.CardRequest.waitforcardevent`."""
        return self._request.waitforcardevent()

    def release(self) -> None:
        """Stop watching for :meth:`waitforcardevent`."""
        self._request.release()

    def __enter__(self) -> PCSCCardRequest:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        exc_traceback: TracebackType | None,
    ) -> None:
        self.release()
