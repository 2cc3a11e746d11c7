"""pyscard's ``smartcard.Exceptions``: the very classes aioscard raises, plus pyscard-only names.

Every class aioscard shares with pyscard is re-exported from
:mod:`aioscard.exceptions` unchanged, so one ``except`` clause catches an error
from the synchronous shim and from the async API alike.  The names only pyscard
has are subclasses of the nearest aioscard class.
"""

from __future__ import annotations

from aioscard.exceptions import CancelledException as CancelledException
from aioscard.exceptions import CardConnectionException as CardConnectionException
from aioscard.exceptions import CardRemovedException as CardRemovedException
from aioscard.exceptions import CardRequestException as CardRequestException
from aioscard.exceptions import CardRequestTimeoutException as CardRequestTimeoutException
from aioscard.exceptions import CardResetException as CardResetException
from aioscard.exceptions import CardServiceException as CardServiceException
from aioscard.exceptions import CardUnpoweredException as CardUnpoweredException
from aioscard.exceptions import CardUnresponsiveException as CardUnresponsiveException
from aioscard.exceptions import InsufficientBufferException as InsufficientBufferException
from aioscard.exceptions import InvalidATRMaskLengthException as InvalidATRMaskLengthException
from aioscard.exceptions import InvalidHandleException as InvalidHandleException
from aioscard.exceptions import InvalidParameterException as InvalidParameterException
from aioscard.exceptions import InvalidReaderException as InvalidReaderException
from aioscard.exceptions import InvalidResponseException as InvalidResponseException
from aioscard.exceptions import NoCardException as NoCardException
from aioscard.exceptions import NoReadersException as NoReadersException
from aioscard.exceptions import NotTransactedException as NotTransactedException
from aioscard.exceptions import PCSCLibraryNotFoundException as PCSCLibraryNotFoundException
from aioscard.exceptions import ProtocolMismatchException as ProtocolMismatchException
from aioscard.exceptions import ReaderUnavailableException as ReaderUnavailableException
from aioscard.exceptions import ServiceUnavailableException as ServiceUnavailableException
from aioscard.exceptions import SharingViolationException as SharingViolationException
from aioscard.exceptions import SmartcardException as SmartcardException
from aioscard.exceptions import TimeoutException as TimeoutException
from aioscard.exceptions import UnsupportedFeatureException as UnsupportedFeatureException

__all__ = [
    "CancelledException",
    "CardConnectionException",
    "CardRemovedException",
    "CardRequestException",
    "CardRequestTimeoutException",
    "CardResetException",
    "CardServiceException",
    "CardServiceNotFoundException",
    "CardServiceStoppedException",
    "CardUnpoweredException",
    "CardUnresponsiveException",
    "InsufficientBufferException",
    "InvalidATRMaskLengthException",
    "InvalidHandleException",
    "InvalidParameterException",
    "InvalidReaderException",
    "InvalidResponseException",
    "ListReadersException",
    "NoCardException",
    "NoReadersException",
    "NotTransactedException",
    "PCSCLibraryNotFoundException",
    "ProtocolMismatchException",
    "ReaderUnavailableException",
    "ServiceUnavailableException",
    "SharingViolationException",
    "SmartcardException",
    "TimeoutException",
    "UnsupportedFeatureException",
]


class CardServiceStoppedException(ServiceUnavailableException):
    """The PC/SC service was stopped (SCARD_E_SERVICE_STOPPED), as pyscard names it."""


class CardServiceNotFoundException(ServiceUnavailableException):
    """The PC/SC service is not running (SCARD_E_NO_SERVICE), as pyscard names it."""


class ListReadersException(SmartcardException):
    """Listing the readers failed; built from the PC/SC code as in pyscard."""

    def __init__(self, hresult: int) -> None:
        super().__init__("Failed to list readers", hresult)
