"""The one place where a PC/SC return code becomes a typed exception."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from .. import exceptions as exc
from ._abi import PlatformABI, current_platform
from ._codes import ReturnCode

__all__ = ["EXCEPTION_FOR_CODE", "check", "error_for", "normalize"]

#: PC/SC return code -> the exception class raised for it.  Codes not listed
#: raise :class:`~aioscard.exceptions.SmartcardException` itself.
EXCEPTION_FOR_CODE: Mapping[ReturnCode, type[exc.SmartcardException]] = MappingProxyType(
    {
        ReturnCode.SCARD_E_CANCELLED: exc.CancelledException,
        ReturnCode.SCARD_E_TIMEOUT: exc.TimeoutException,
        ReturnCode.SCARD_E_INVALID_HANDLE: exc.InvalidHandleException,
        ReturnCode.SCARD_E_INVALID_PARAMETER: exc.InvalidParameterException,
        ReturnCode.SCARD_E_INVALID_VALUE: exc.InvalidParameterException,
        ReturnCode.SCARD_E_INSUFFICIENT_BUFFER: exc.InsufficientBufferException,
        ReturnCode.SCARD_E_UNKNOWN_READER: exc.InvalidReaderException,
        ReturnCode.SCARD_E_READER_UNAVAILABLE: exc.ReaderUnavailableException,
        ReturnCode.SCARD_E_NO_READERS_AVAILABLE: exc.NoReadersException,
        ReturnCode.SCARD_E_NO_SERVICE: exc.ServiceUnavailableException,
        ReturnCode.SCARD_E_SERVICE_STOPPED: exc.ServiceUnavailableException,
        # libpcsclite's words for "pcscd closed our connection" (it died mid-call, or
        # refused the client): the service is gone for this context, as with NO_SERVICE.
        ReturnCode.SCARD_F_COMM_ERROR: exc.ServiceUnavailableException,
        ReturnCode.SCARD_W_SECURITY_VIOLATION: exc.ServiceUnavailableException,
        ReturnCode.SCARD_E_UNSUPPORTED_FEATURE: exc.UnsupportedFeatureException,
        ReturnCode.SCARD_E_READER_UNSUPPORTED: exc.UnsupportedFeatureException,
        ReturnCode.SCARD_E_SHARING_VIOLATION: exc.SharingViolationException,
        ReturnCode.SCARD_E_NO_SMARTCARD: exc.NoCardException,
        ReturnCode.SCARD_E_NOT_TRANSACTED: exc.NotTransactedException,
        ReturnCode.SCARD_E_PROTO_MISMATCH: exc.ProtocolMismatchException,
        ReturnCode.SCARD_E_UNKNOWN_CARD: exc.CardConnectionException,
        ReturnCode.SCARD_E_CARD_UNSUPPORTED: exc.CardConnectionException,
        ReturnCode.SCARD_E_INVALID_ATR: exc.CardConnectionException,
        ReturnCode.SCARD_E_COMM_DATA_LOST: exc.CardConnectionException,
        ReturnCode.SCARD_W_REMOVED_CARD: exc.CardRemovedException,
        ReturnCode.SCARD_W_RESET_CARD: exc.CardResetException,
        ReturnCode.SCARD_W_UNPOWERED_CARD: exc.CardUnpoweredException,
        ReturnCode.SCARD_W_UNRESPONSIVE_CARD: exc.CardUnresponsiveException,
        ReturnCode.SCARD_W_UNSUPPORTED_CARD: exc.CardConnectionException,
    }
)


def normalize(rc: int, abi: PlatformABI | None = None) -> ReturnCode:
    """Mask ``rc`` to 32 bits and map a platform-specific value to its canonical code."""
    masked = rc & 0xFFFFFFFF
    platform = abi if abi is not None else current_platform()
    return ReturnCode(platform.code_aliases.get(masked, masked))


def error_for(
    rc: int, function: str, detail: str = "", abi: PlatformABI | None = None
) -> exc.SmartcardException:
    """The exception for return code ``rc`` from the SCard ``function``.

    The message names the function, the code and its meaning, plus ``detail``
    (for example the reader name) when given.  ``.hresult`` holds the raw
    32-bit code.  Never raises, whatever the code.
    """
    code = normalize(rc, abi)
    cls = EXCEPTION_FOR_CODE.get(code, exc.SmartcardException)
    where = f" [{detail}]" if detail else ""
    message = f"{function} failed{where}: {code.message} ({code.name}, 0x{rc & 0xFFFFFFFF:08X})"
    return cls(message, rc & 0xFFFFFFFF)


def check(rc: int, function: str, detail: str = "") -> None:
    """Raise the typed exception for ``rc`` unless it is SCARD_S_SUCCESS."""
    if rc != 0:
        raise error_for(rc, function, detail)
