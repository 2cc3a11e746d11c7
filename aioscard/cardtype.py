"""Card types: which cards a :class:`~aioscard.CardRequest` or a monitor is interested in.

A card type answers one question, ``matches(atr, reader=None)``: is this card
(identified by its answer-to-reset and, if wanted, its reader) one of mine?
:class:`AnyCardType` says yes to every card, :class:`ATRCardType` compares the
ATR under an optional bit mask, and applications subclass :class:`CardType`
for anything else (a list of ATRs, a reader-name rule, ...).

``matches`` is called on aioscard's watcher thread for every card event, so it
must be quick and must not block or do I/O; an exception it raises is handed
to the waiting task (see :class:`~aioscard.CardRequest`).
"""

from __future__ import annotations

from .apdu import coerce_bytes
from .exceptions import InvalidATRMaskLengthException
from .native import constants as C
from .reader import Reader
from .util import ByteInput

__all__ = ["ATRCardType", "AnyCardType", "CardType"]

# Generous: a card type may be asked about an ATR read on any platform (Windows: 36).
_MAX_ATR_INPUT = 64


def _hex(data: bytes) -> str:
    return " ".join(f"{b:02X}" for b in data)


class CardType:
    """Base class of card types: subclass it and override :meth:`matches`."""

    __slots__ = ()

    def matches(self, atr: ByteInput, reader: Reader | str | None = None) -> bool:
        """Whether the card with answer-to-reset ``atr`` in ``reader`` is of this type.

        ``atr`` arrives as a ``list[int]`` (as pyscard passes it) and ``reader``
        as a :class:`~aioscard.Reader` when aioscard calls it.

        Raises:
            NotImplementedError: always, in this base class.
        """
        raise NotImplementedError(f"{type(self).__name__} must override matches(atr, reader=None)")

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class AnyCardType(CardType):
    """The card type that matches every card."""

    __slots__ = ()

    def matches(self, atr: ByteInput, reader: Reader | str | None = None) -> bool:
        """Always True."""
        return True


class ATRCardType(CardType):
    """Cards whose ATR equals ``atr``, comparing only the bits set in ``mask``.

    ``atr`` and ``mask`` are bytes or sequences of ints (as pyscard takes them);
    without a mask the ATRs must be equal.  An ATR of another length never
    matches.  ``.atr`` and ``.mask`` keep what was given as ``list[int]``
    (``.mask`` is None without a mask).

    >>> ATRCardType([0x3B, 0x88, 0x01], mask=[0xFF, 0xFF, 0x00]).matches([0x3B, 0x88, 0x7F])
    True

    Raises:
        InvalidATRMaskLengthException: ``mask`` is not as long as ``atr``.
        TypeError, ValueError: ``atr`` or ``mask`` is not 1..33 bytes (0..255 each);
            the message names the argument.
    """

    __slots__ = ("_atr", "_mask", "_masked")

    def __init__(self, atr: ByteInput, mask: ByteInput | None = None) -> None:
        self._atr = coerce_bytes(atr, name="atr", min_len=1, max_len=C.MAX_ATR_SIZE)
        if mask is None:
            self._mask: bytes | None = None
            self._masked = self._atr
        else:
            self._mask = coerce_bytes(mask, name="mask", min_len=1, max_len=C.MAX_ATR_SIZE)
            if len(self._mask) != len(self._atr):
                raise InvalidATRMaskLengthException(
                    f"the ATR mask has {len(self._mask)} bytes but the ATR has "
                    f"{len(self._atr)}: {_hex(self._mask)}"
                )
            self._masked = bytes(a & m for a, m in zip(self._atr, self._mask, strict=True))

    @property
    def atr(self) -> list[int]:
        """The reference ATR."""
        return list(self._atr)

    @property
    def mask(self) -> list[int] | None:
        """The mask (None: every bit counts)."""
        return None if self._mask is None else list(self._mask)

    def matches(self, atr: ByteInput, reader: Reader | str | None = None) -> bool:
        """Whether ``atr``, masked, equals the reference ATR, masked.

        Raises:
            TypeError, ValueError: ``atr`` is not a sequence of byte values.
        """
        candidate = coerce_bytes(atr, name="atr", max_len=_MAX_ATR_INPUT)
        if len(candidate) != len(self._atr):
            return False
        if self._mask is None:
            return candidate == self._atr
        return bytes(a & m for a, m in zip(candidate, self._mask, strict=True)) == self._masked

    def __repr__(self) -> str:
        if self._mask is None:
            return f"ATRCardType({_hex(self._atr)!r})"
        return f"ATRCardType({_hex(self._atr)!r}, mask={_hex(self._mask)!r})"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, ATRCardType):
            return self._masked == other._masked and self._mask == other._mask
        return NotImplemented

    def __hash__(self) -> int:
        return hash((self._masked, self._mask))
