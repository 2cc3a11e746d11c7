"""pyscard's ``smartcard.Synchronization``: Java-style ``synchronized`` methods.

Methods wrapped by :func:`synchronized` (or by :func:`synchronize` for a whole
class) run holding their object's ``mutex``; :class:`Synchronization` gives
its subclasses one (a re-entrant lock).
"""

from __future__ import annotations

import functools
import threading
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

__all__ = ["Synchronization", "synchronize", "synchronized"]

T = TypeVar("T")
P = ParamSpec("P")


def synchronized(method: Callable[P, T]) -> Callable[P, T]:
    """``method`` made to run under its object's ``mutex`` (``self.mutex``)."""

    @functools.wraps(method)
    def locked(*args: P.args, **kwargs: P.kwargs) -> T:
        with args[0].mutex:  # type: ignore[attr-defined]
            return method(*args, **kwargs)

    return locked


def synchronize(klass: type, names: str | Iterable[str] | None = None) -> None:
    """Make methods of ``klass`` :func:`synchronized`: those named in ``names``
    (a list, or one string of space-separated names), or every method but
    ``__init__`` when ``names`` is None."""
    wanted = names.split() if isinstance(names, str) else names
    if wanted is not None:
        wanted = set(wanted)
    for name, value in list(vars(klass).items()):
        if name == "__init__" or not callable(value):
            continue
        if wanted is None or name in wanted:
            setattr(klass, name, synchronized(value))


class Synchronization:
    """Gives each object the ``mutex`` (a ``threading.RLock``) that synchronized methods take."""

    mutex: Any

    def __init__(self) -> None:
        self.mutex = threading.RLock()
