"""pyscard's ``smartcard.pcsc.PCSCReaderGroups``: the reader groups PC/SC knows.

On pcsc-lite there is one group, ``SCard$DefaultReaders``, and groups cannot
be created or deleted: adding a name to the list or removing one raises
``scard.error`` ("Unable to introduce reader group: Feature not supported."),
as pyscard does on Linux (the list itself has already changed then, as in
pyscard).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aioscard.exceptions import ServiceUnavailableException

from .._errors import service_error
from ..reader.ReaderGroups import innerreadergroups, readergroups
from ..scard import scard as _scard
from .PCSCExceptions import EstablishContextException, ListReadersException

if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = ["PCSCReaderGroups", "pcscinnerreadergroups"]

_SERVICE_DOWN = (_scard.SCARD_E_NO_SERVICE, _scard.SCARD_E_SERVICE_STOPPED)


def _establish() -> int:
    hresult, hcontext = _scard.SCardEstablishContext(_scard.SCARD_SCOPE_USER)
    if hresult in _SERVICE_DOWN:
        message = "Failed to establish context: " + _scard.SCardGetErrorMessage(hresult)
        raise service_error(ServiceUnavailableException(message, hresult))
    if hresult != _scard.SCARD_S_SUCCESS:
        raise EstablishContextException(hresult)
    return hcontext


def _change_group(call: Any, what: str, group: str) -> None:
    hresult, hcontext = _scard.SCardEstablishContext(_scard.SCARD_SCOPE_USER)
    if hresult != _scard.SCARD_S_SUCCESS:
        raise _scard.error("Failed to establish context: " + _scard.SCardGetErrorMessage(hresult))
    try:
        hresult = call(hcontext, group)
        if hresult != _scard.SCARD_S_SUCCESS:
            message = f"Unable to {what} reader group: " + _scard.SCardGetErrorMessage(hresult)
            raise _scard.error(message)
    finally:
        _scard.SCardReleaseContext(hcontext)


class pcscinnerreadergroups(innerreadergroups):
    """The PC/SC reader groups (SCardListReaderGroups); ``SCard$DefaultReaders``
    cannot be removed."""

    def __init__(self, initlist: Iterable[Any] | None = None) -> None:
        super().__init__(initlist)
        self.unremovablegroups = ["SCard$DefaultReaders"]

    def getreadergroups(self) -> list[str]:
        """The reader groups PC/SC knows now (SCardListReaderGroups).

        Raises:
            ServiceUnavailableException: pcscd is not running (also pyscard's
                ``EstablishContextException``).
            ListReadersException: SCardListReaderGroups failed.
        """
        hcontext = _establish()
        try:
            hresult, groups = _scard.SCardListReaderGroups(hcontext)
        finally:
            _scard.SCardReleaseContext(hcontext)
        if hresult != _scard.SCARD_S_SUCCESS:
            raise ListReadersException(hresult)
        return groups

    def addreadergroup(self, newgroup: Any) -> None:
        """Create ``newgroup`` (SCardIntroduceReaderGroup).

        Raises:
            scard.error: PC/SC refused (always on pcsc-lite).
            TypeError: ``newgroup`` is not a str.
        """
        _change_group(_scard.SCardIntroduceReaderGroup, "introduce", newgroup)

    def removereadergroup(self, group: Any) -> None:
        """Delete ``group`` (SCardForgetReaderGroup).

        Raises:
            scard.error: PC/SC refused (always on pcsc-lite).
            TypeError: ``group`` is not a str.
        """
        _change_group(_scard.SCardForgetReaderGroup, "forget", group)


class PCSCReaderGroups(readergroups):
    """The process's PC/SC reader groups: ``PCSCReaderGroups().instance`` is the list."""

    def __init__(self, initlist: Iterable[Any] | None = None) -> None:
        self.innerclazz = pcscinnerreadergroups
        super().__init__(initlist)
