"""pyscard's ``smartcard.pcsc.PCSCExceptions``: errors of the raw PC/SC steps.

They keep pyscard's constructors (the PC/SC code first) and derive from
:class:`aioscard.exceptions.SmartcardException`, so a handler for aioscard's
root class catches them too.
"""

from __future__ import annotations

from aioscard.exceptions import SmartcardException

from ..scard.scard import SCardGetErrorMessage

__all__ = [
    "AddReaderToGroupException",
    "BaseSCardException",
    "EstablishContextException",
    "IntroduceReaderException",
    "ListReadersException",
    "ReleaseContextException",
    "RemoveReaderFromGroupException",
]


class BaseSCardException(SmartcardException):
    """Root of the raw PC/SC errors: ``BaseSCardException(hresult)`` or with ``message=``."""

    def __init__(self, *args: object, hresult: int | None = None, message: str = "") -> None:
        if hresult is None and args and isinstance(args[0], int):
            hresult = args[0]
        # Windows-built pyscard hands out negative codes; aioscard's are unsigned 32-bit.
        super().__init__(
            message or "scard exception", None if hresult is None else hresult & 0xFFFFFFFF
        )

    def __str__(self) -> str:
        # pyscard's form: "<message>: <pcsc-lite's text> (0x8010001D)".
        if self.hresult is None:
            return self.message
        return f"{self.message}: {SCardGetErrorMessage(self.hresult)} (0x{self.hresult:08X})"


class AddReaderToGroupException(BaseSCardException):
    """SCardAddReaderToGroup failed."""

    def __init__(self, hresult: int, readername: str = "", groupname: str = "") -> None:
        super().__init__(
            hresult=hresult, message=f"Failed to add reader: {readername} to group: {groupname}"
        )
        self.readername = readername
        self.groupname = groupname


class EstablishContextException(BaseSCardException):
    """SCardEstablishContext failed."""

    def __init__(self, hresult: int) -> None:
        super().__init__(hresult=hresult, message="Failed to establish context")


class ListReadersException(BaseSCardException):
    """SCardListReaders (or SCardListReaderGroups) failed."""

    def __init__(self, hresult: int) -> None:
        super().__init__(hresult=hresult, message="Failed to list readers")


class IntroduceReaderException(BaseSCardException):
    """SCardIntroduceReader failed."""

    def __init__(self, hresult: int, readername: str = "") -> None:
        super().__init__(hresult=hresult, message=f"Failed to introduce a new reader: {readername}")
        self.readername = readername


class ReleaseContextException(BaseSCardException):
    """SCardReleaseContext failed."""

    def __init__(self, hresult: int) -> None:
        super().__init__(hresult=hresult, message="Failed to release context")


class RemoveReaderFromGroupException(BaseSCardException):
    """SCardRemoveReaderFromGroup failed."""

    def __init__(self, hresult: int, readername: str = "", groupname: str = "") -> None:
        super().__init__(
            hresult=hresult,
            message=f"Failed to remove reader: {readername} from group: {groupname}",
        )
        self.readername = readername
        self.groupname = groupname
