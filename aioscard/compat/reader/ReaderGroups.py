"""pyscard's ``smartcard.reader.ReaderGroups``: the reader groups, as one shared list.

``readergroups()`` hands out one process-wide list of group names
(``readergroups.instance``), filled on first use.  Appending a name to it
creates the group, removing one deletes it; the PC/SC flavour
(:mod:`aioscard.compat.pcsc.PCSCReaderGroups`) does so through PC/SC.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from aioscard.exceptions import SmartcardException

from ..ulist import ulist

if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = ["BadReaderGroupException", "innerreadergroups", "readergroups"]


class BadReaderGroupException(SmartcardException):
    """A reader group name that is not a str."""

    def __init__(self) -> None:
        super().__init__("Invalid reader group")


class innerreadergroups(ulist):
    """The list of reader groups behind :class:`readergroups`.

    Adding an item calls :meth:`addreadergroup`, removing one
    :meth:`removereadergroup`; these do nothing here but check the name.
    """

    def __init__(self, initlist: Iterable[Any] | None = None) -> None:
        if initlist is None:
            initlist = self.getreadergroups() or []
        super().__init__(initlist)
        self.unremovablegroups: list[str] = []

    def __onadditem__(self, item: Any) -> None:
        self.addreadergroup(item)

    def __onremoveitem__(self, item: Any) -> None:
        self.removereadergroup(item)

    def getreadergroups(self) -> list[str]:
        """The reader groups that exist now (none here)."""
        return []

    def addreadergroup(self, newgroup: Any) -> None:
        """Create the group ``newgroup``.

        Raises:
            BadReaderGroupException: ``newgroup`` is not a str.
        """
        if not isinstance(newgroup, str):
            raise BadReaderGroupException

    def removereadergroup(self, group: Any) -> None:
        """Delete the group ``group``.

        Raises:
            BadReaderGroupException: ``group`` is not a str.
        """
        if not isinstance(group, str):
            raise BadReaderGroupException

    def addreadertogroup(self, readername: str, groupname: str) -> None:
        """Put a reader in a group (nothing here)."""

    def removereaderfromgroup(self, readername: str, groupname: str) -> None:
        """Take a reader out of a group (nothing here)."""


class readergroups:
    """Gives access to the one :class:`innerreadergroups` of the process.

    The first ``readergroups()`` creates it (from ``initlist`` or from what
    exists); every attribute of a ``readergroups()`` is the shared list's.
    """

    instance: ClassVar[Any] = None
    innerclazz: Any = innerreadergroups

    def __init__(self, initlist: Iterable[Any] | None = None) -> None:
        if readergroups.instance is None:
            readergroups.instance = self.innerclazz(initlist)

    def __getattr__(self, name: str) -> Any:
        return getattr(readergroups.instance, name)
