"""pyscard's ``smartcard.ulist``: a list whose items are unique, with add/remove hooks."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, SupportsIndex

if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = ["ulist"]


class ulist(list[Any]):
    """A ``list`` that keeps one copy of each item, as pyscard's ``ulist``.

    ``append``, ``insert``, ``+=`` and ``+`` skip items already present;
    subclasses hear of every item added or removed through
    ``__onadditem__(item)`` and ``__onremoveitem__(item)``.  Its quirks are
    pyscard's: a non-list operand of ``+`` counts as one item, and of several
    new items the first stays first while the others come in reverse order.
    """

    def __init__(self, initlist: Iterable[Any] | None = None) -> None:
        super().__init__()
        for item in initlist or ():
            if not list.__contains__(self, item):
                list.append(self, item)

    # -- adding ----------------------------------------------------------------------------

    def _fresh(self, other: Any) -> list[Any]:
        # What of `other` is not here yet, without repeats, in pyscard's order.
        items = list(other) if isinstance(other, list) else [other]
        new = [item for item in items if not list.__contains__(self, item)]
        if not new:
            return []
        result = [new[0]]
        for item in reversed(new[1:]):
            if item not in result:
                result.append(item)
        return result

    def __add__(self, other: Any) -> ulist:
        fresh = self._fresh(other)
        for item in fresh:
            self.__onadditem__(item)
        return type(self)([*self, *fresh])

    def __iadd__(self, other: Any) -> ulist:
        fresh = self._fresh(other)
        for item in fresh:
            self.__onadditem__(item)
        list.extend(self, fresh)
        return self

    def __radd__(self, other: Any) -> list[Any]:
        # pyscard's order: this list first, then what `other` adds to it.
        return [*self, *self._fresh(other)]

    def append(self, item: Any) -> None:
        """Add ``item`` at the end unless it is present (then tell ``__onadditem__``)."""
        if not list.__contains__(self, item):
            list.append(self, item)
            self.__onadditem__(item)

    def insert(self, i: SupportsIndex, item: Any) -> None:
        """Insert ``item`` at ``i`` unless it is present (then tell ``__onadditem__``)."""
        if not list.__contains__(self, item):
            list.insert(self, i, item)
            self.__onadditem__(item)

    # -- removing --------------------------------------------------------------------------

    def pop(self, i: SupportsIndex = -1) -> Any:
        """Remove and return the item at ``i`` (then tell ``__onremoveitem__``).

        Raises:
            IndexError: the list is empty or ``i`` is out of range.
        """
        item = list.pop(self, i)
        self.__onremoveitem__(item)
        return item

    def remove(self, item: Any) -> None:
        """Remove ``item`` (then tell ``__onremoveitem__``).

        Raises:
            ValueError: ``item`` is not in the list.
        """
        list.remove(self, item)
        self.__onremoveitem__(item)

    # -- hooks -----------------------------------------------------------------------------

    def __onadditem__(self, item: Any) -> None:
        """Called after ``item`` was added; does nothing here."""

    def __onremoveitem__(self, item: Any) -> None:
        """Called after ``item`` was removed; does nothing here."""
