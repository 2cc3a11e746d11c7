"""``readers()`` and ``readergroups()``: what PC/SC knows about, now."""

from __future__ import annotations

from collections.abc import Sequence

from ._context import with_context
from .native import PCSCAPI
from .reader import Reader

__all__ = ["readergroups", "readers"]


async def readers(groups: Sequence[str] | None = None) -> list[Reader]:
    """The readers in ``groups`` (all readers when None or empty) (SCardListReaders).

    No readers gives an empty list.

    Raises:
        ServiceUnavailableException: pcscd is not running.
        TypeError: ``groups`` is a str rather than a sequence of names.

    Cancellation: returns at once; the listing finishes on a worker thread.
    """
    if isinstance(groups, str):
        raise TypeError("groups must be a sequence of group names, not a str")
    wanted = list(groups) if groups else None

    def job(api: PCSCAPI, context: int) -> list[str]:
        return api.list_readers(context, wanted)

    return [Reader(name) for name in await with_context(job)]


async def readergroups() -> list[str]:
    """The names of the reader groups (SCardListReaderGroups).

    Raises:
        ServiceUnavailableException: pcscd is not running.

    Cancellation: returns at once; the listing finishes on a worker thread.
    """

    def job(api: PCSCAPI, context: int) -> list[str]:
        return api.list_reader_groups(context)

    return await with_context(job)
