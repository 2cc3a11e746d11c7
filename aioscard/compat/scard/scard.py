"""pyscard's ``smartcard.scard``: raw PC/SC calls that return codes instead of raising.

Each ``SCard*`` function wraps one call of :mod:`aioscard.native` and returns
pyscard's tuple: the PC/SC return code (``hresult``) first, then the outputs,
e.g. ``hresult, hcard, protocol = SCardConnect(...)``.  Codes are this
platform's raw unsigned 32-bit values, so they compare equal to the
``SCARD_E_*`` constants here; outputs of a failed call are empty (``0``,
``[]``, ``""``).  Byte strings come back as ``list[int]``.

As with pyscard (and the C API), every call blocks the calling thread and the
caller owns the contexts it establishes: use a context from one thread at a
time; :func:`SCardCancel` is the one call meant for another thread.  Argument
errors raise ``TypeError``/``ValueError`` rather than returning a code, and a
response too short to hold a status word raises
:class:`~aioscard.exceptions.InvalidResponseException`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

from aioscard import exceptions as _exc
from aioscard._bytes import ByteInput, as_bytes
from aioscard.native import PCSCAPI, ReaderState, ReturnCode, current_platform, get_pcsc
from aioscard.native import constants as _C
from aioscard.native._errors import normalize as _normalize

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

__all__ = [
    "ERROR_ALREADY_EXISTS",
    "ERROR_INVALID_HANDLE",
    "INFINITE",
    "INVALID_HANDLE",
    "MAX_ATR_SIZE",
    "SCARD_ABSENT",
    "SCARD_ATTR_ASYNC_PROTOCOL_TYPES",
    "SCARD_ATTR_ATR_STRING",
    "SCARD_ATTR_CHANNEL_ID",
    "SCARD_ATTR_CHARACTERISTICS",
    "SCARD_ATTR_CURRENT_BWT",
    "SCARD_ATTR_CURRENT_CLK",
    "SCARD_ATTR_CURRENT_CWT",
    "SCARD_ATTR_CURRENT_D",
    "SCARD_ATTR_CURRENT_EBC_ENCODING",
    "SCARD_ATTR_CURRENT_F",
    "SCARD_ATTR_CURRENT_IFSC",
    "SCARD_ATTR_CURRENT_IFSD",
    "SCARD_ATTR_CURRENT_IO_STATE",
    "SCARD_ATTR_CURRENT_N",
    "SCARD_ATTR_CURRENT_PROTOCOL_TYPE",
    "SCARD_ATTR_CURRENT_W",
    "SCARD_ATTR_DEFAULT_CLK",
    "SCARD_ATTR_DEFAULT_DATA_RATE",
    "SCARD_ATTR_DEVICE_FRIENDLY_NAME",
    "SCARD_ATTR_DEVICE_FRIENDLY_NAME_A",
    "SCARD_ATTR_DEVICE_FRIENDLY_NAME_W",
    "SCARD_ATTR_DEVICE_IN_USE",
    "SCARD_ATTR_DEVICE_SYSTEM_NAME",
    "SCARD_ATTR_DEVICE_SYSTEM_NAME_A",
    "SCARD_ATTR_DEVICE_SYSTEM_NAME_W",
    "SCARD_ATTR_DEVICE_UNIT",
    "SCARD_ATTR_ESC_AUTHREQUEST",
    "SCARD_ATTR_ESC_CANCEL",
    "SCARD_ATTR_ESC_RESET",
    "SCARD_ATTR_EXTENDED_BWT",
    "SCARD_ATTR_ICC_INTERFACE_STATUS",
    "SCARD_ATTR_ICC_PRESENCE",
    "SCARD_ATTR_ICC_TYPE_PER_ATR",
    "SCARD_ATTR_MAXINPUT",
    "SCARD_ATTR_MAX_CLK",
    "SCARD_ATTR_MAX_DATA_RATE",
    "SCARD_ATTR_MAX_IFSD",
    "SCARD_ATTR_POWER_MGMT_SUPPORT",
    "SCARD_ATTR_SUPRESS_T1_IFS_REQUEST",
    "SCARD_ATTR_SYNC_PROTOCOL_TYPES",
    "SCARD_ATTR_USER_AUTH_INPUT_DEVICE",
    "SCARD_ATTR_USER_TO_CARD_AUTH_DEVICE",
    "SCARD_ATTR_VENDOR_IFD_SERIAL_NO",
    "SCARD_ATTR_VENDOR_IFD_TYPE",
    "SCARD_ATTR_VENDOR_IFD_VERSION",
    "SCARD_ATTR_VENDOR_NAME",
    "SCARD_CTL_CODE",
    "SCARD_EJECT_CARD",
    "SCARD_E_BAD_SEEK",
    "SCARD_E_CANCELLED",
    "SCARD_E_CANT_DISPOSE",
    "SCARD_E_CARD_UNSUPPORTED",
    "SCARD_E_CERTIFICATE_UNAVAILABLE",
    "SCARD_E_COMM_DATA_LOST",
    "SCARD_E_DIR_NOT_FOUND",
    "SCARD_E_DUPLICATE_READER",
    "SCARD_E_FILE_NOT_FOUND",
    "SCARD_E_ICC_CREATEORDER",
    "SCARD_E_ICC_INSTALLATION",
    "SCARD_E_INSUFFICIENT_BUFFER",
    "SCARD_E_INVALID_ATR",
    "SCARD_E_INVALID_CHV",
    "SCARD_E_INVALID_HANDLE",
    "SCARD_E_INVALID_PARAMETER",
    "SCARD_E_INVALID_TARGET",
    "SCARD_E_INVALID_VALUE",
    "SCARD_E_NOT_READY",
    "SCARD_E_NOT_TRANSACTED",
    "SCARD_E_NO_ACCESS",
    "SCARD_E_NO_DIR",
    "SCARD_E_NO_FILE",
    "SCARD_E_NO_KEY_CONTAINER",
    "SCARD_E_NO_MEMORY",
    "SCARD_E_NO_READERS_AVAILABLE",
    "SCARD_E_NO_SERVICE",
    "SCARD_E_NO_SMARTCARD",
    "SCARD_E_NO_SUCH_CERTIFICATE",
    "SCARD_E_PCI_TOO_SMALL",
    "SCARD_E_PROTO_MISMATCH",
    "SCARD_E_READER_UNAVAILABLE",
    "SCARD_E_READER_UNSUPPORTED",
    "SCARD_E_SERVER_TOO_BUSY",
    "SCARD_E_SERVICE_STOPPED",
    "SCARD_E_SHARING_VIOLATION",
    "SCARD_E_SYSTEM_CANCELLED",
    "SCARD_E_TIMEOUT",
    "SCARD_E_UNEXPECTED",
    "SCARD_E_UNKNOWN_CARD",
    "SCARD_E_UNKNOWN_READER",
    "SCARD_E_UNKNOWN_RES_MNG",
    "SCARD_E_UNSUPPORTED_FEATURE",
    "SCARD_E_WRITE_TOO_MANY",
    "SCARD_F_COMM_ERROR",
    "SCARD_F_INTERNAL_ERROR",
    "SCARD_F_UNKNOWN_ERROR",
    "SCARD_F_WAITED_TOO_LONG",
    "SCARD_LEAVE_CARD",
    "SCARD_NEGOTIABLE",
    "SCARD_PCI_RAW",
    "SCARD_PCI_T0",
    "SCARD_PCI_T1",
    "SCARD_POWERED",
    "SCARD_PRESENT",
    "SCARD_PROTOCOL_ANY",
    "SCARD_PROTOCOL_DEFAULT",
    "SCARD_PROTOCOL_OPTIMAL",
    "SCARD_PROTOCOL_RAW",
    "SCARD_PROTOCOL_T0",
    "SCARD_PROTOCOL_T1",
    "SCARD_PROTOCOL_T15",
    "SCARD_PROTOCOL_UNDEFINED",
    "SCARD_PROTOCOL_UNSET",
    "SCARD_PROVIDER_CSP",
    "SCARD_PROVIDER_PRIMARY",
    "SCARD_P_SHUTDOWN",
    "SCARD_RESET_CARD",
    "SCARD_SCOPE_GLOBAL",
    "SCARD_SCOPE_SYSTEM",
    "SCARD_SCOPE_TERMINAL",
    "SCARD_SCOPE_USER",
    "SCARD_SHARE_DIRECT",
    "SCARD_SHARE_EXCLUSIVE",
    "SCARD_SHARE_SHARED",
    "SCARD_SPECIFIC",
    "SCARD_STATE_ATRMATCH",
    "SCARD_STATE_CHANGED",
    "SCARD_STATE_EMPTY",
    "SCARD_STATE_EXCLUSIVE",
    "SCARD_STATE_IGNORE",
    "SCARD_STATE_INUSE",
    "SCARD_STATE_MUTE",
    "SCARD_STATE_PRESENT",
    "SCARD_STATE_UNAVAILABLE",
    "SCARD_STATE_UNAWARE",
    "SCARD_STATE_UNKNOWN",
    "SCARD_STATE_UNPOWERED",
    "SCARD_SWALLOWED",
    "SCARD_S_SUCCESS",
    "SCARD_UNKNOWN",
    "SCARD_UNPOWER_CARD",
    "SCARD_W_CANCELLED_BY_USER",
    "SCARD_W_CARD_NOT_AUTHENTICATED",
    "SCARD_W_CHV_BLOCKED",
    "SCARD_W_EOF",
    "SCARD_W_REMOVED_CARD",
    "SCARD_W_RESET_CARD",
    "SCARD_W_SECURITY_VIOLATION",
    "SCARD_W_UNPOWERED_CARD",
    "SCARD_W_UNRESPONSIVE_CARD",
    "SCARD_W_UNSUPPORTED_CARD",
    "SCARD_W_WRONG_CHV",
    "SCARD_PROTOCOL_Tx",
    "SCardAddReaderToGroup",
    "SCardBeginTransaction",
    "SCardCancel",
    "SCardConnect",
    "SCardControl",
    "SCardDisconnect",
    "SCardEndTransaction",
    "SCardEstablishContext",
    "SCardForgetCardType",
    "SCardForgetReader",
    "SCardForgetReaderGroup",
    "SCardGetAttrib",
    "SCardGetCardTypeProviderName",
    "SCardGetErrorMessage",
    "SCardGetStatusChange",
    "SCardIntroduceCardType",
    "SCardIntroduceReader",
    "SCardIntroduceReaderGroup",
    "SCardIsValidContext",
    "SCardListCards",
    "SCardListInterfaces",
    "SCardListReaderGroups",
    "SCardListReaders",
    "SCardLocateCards",
    "SCardReconnect",
    "SCardReleaseContext",
    "SCardRemoveReaderFromGroup",
    "SCardSetAttrib",
    "SCardStatus",
    "SCardTransmit",
    "error",
    "resourceManager",
    "resourceManagerSubType",
]

T = TypeVar("T")

_ABI = current_platform()
# canonical code -> the raw value this platform's PC/SC returns for it
_RAW_FOR = {canonical: raw for raw, canonical in _ABI.code_aliases.items()}


class error(_exc.SmartcardException):
    """What pyscard's ``scard`` calls its exception type (``scard.error``).

    The ``SCard*`` functions return codes rather than raise; programs raise
    this themselves (``raise error("...: " + SCardGetErrorMessage(hresult))``).
    It is an :class:`aioscard.exceptions.SmartcardException`.
    """


# Tracebacks and ``print(type(e))`` show ``scard.error``, as under pyscard.
error.__module__ = "scard"

resourceManager = "winscard" if _ABI.name.startswith("Windows") else "pcsclite"
resourceManagerSubType = {
    "pcsc-lite": "pcsclite-linux",
    "macOS PCSC.framework": "pcsclite-darwin",
}.get(_ABI.name, "winscard-win32")

# -- constants ------------------------------------------------------------------------

SCARD_SCOPE_USER = _C.SCARD_SCOPE_USER
SCARD_SCOPE_TERMINAL = _C.SCARD_SCOPE_TERMINAL
SCARD_SCOPE_SYSTEM = _C.SCARD_SCOPE_SYSTEM
SCARD_SCOPE_GLOBAL = _C.SCARD_SCOPE_GLOBAL

SCARD_SHARE_SHARED = _C.SCARD_SHARE_SHARED
SCARD_SHARE_EXCLUSIVE = _C.SCARD_SHARE_EXCLUSIVE
SCARD_SHARE_DIRECT = _C.SCARD_SHARE_DIRECT

SCARD_LEAVE_CARD = _C.SCARD_LEAVE_CARD
SCARD_RESET_CARD = _C.SCARD_RESET_CARD
SCARD_UNPOWER_CARD = _C.SCARD_UNPOWER_CARD
SCARD_EJECT_CARD = _C.SCARD_EJECT_CARD

SCARD_STATE_UNAWARE = _C.SCARD_STATE_UNAWARE
SCARD_STATE_IGNORE = _C.SCARD_STATE_IGNORE
SCARD_STATE_CHANGED = _C.SCARD_STATE_CHANGED
SCARD_STATE_UNKNOWN = _C.SCARD_STATE_UNKNOWN
SCARD_STATE_UNAVAILABLE = _C.SCARD_STATE_UNAVAILABLE
SCARD_STATE_EMPTY = _C.SCARD_STATE_EMPTY
SCARD_STATE_PRESENT = _C.SCARD_STATE_PRESENT
SCARD_STATE_ATRMATCH = _C.SCARD_STATE_ATRMATCH
SCARD_STATE_EXCLUSIVE = _C.SCARD_STATE_EXCLUSIVE
SCARD_STATE_INUSE = _C.SCARD_STATE_INUSE
SCARD_STATE_MUTE = _C.SCARD_STATE_MUTE
SCARD_STATE_UNPOWERED = _C.SCARD_STATE_UNPOWERED

SCARD_UNKNOWN = _C.SCARD_UNKNOWN
SCARD_ABSENT = _C.SCARD_ABSENT
SCARD_PRESENT = _C.SCARD_PRESENT
SCARD_SWALLOWED = _C.SCARD_SWALLOWED
SCARD_POWERED = _C.SCARD_POWERED
SCARD_NEGOTIABLE = _C.SCARD_NEGOTIABLE
SCARD_SPECIFIC = _C.SCARD_SPECIFIC

SCARD_PROTOCOL_UNDEFINED = _C.SCARD_PROTOCOL_UNDEFINED
SCARD_PROTOCOL_UNSET = _C.SCARD_PROTOCOL_UNDEFINED
SCARD_PROTOCOL_T0 = _C.SCARD_PROTOCOL_T0
SCARD_PROTOCOL_T1 = _C.SCARD_PROTOCOL_T1
SCARD_PROTOCOL_RAW = _C.SCARD_PROTOCOL_RAW
SCARD_PROTOCOL_T15 = _C.SCARD_PROTOCOL_T15
SCARD_PROTOCOL_Tx = _C.SCARD_PROTOCOL_T0 | _C.SCARD_PROTOCOL_T1
SCARD_PROTOCOL_ANY = _C.SCARD_PROTOCOL_ANY
# pyscard's values on pcsc-lite: the default is "any of T=0 and T=1".
SCARD_PROTOCOL_DEFAULT = _C.SCARD_PROTOCOL_T0 | _C.SCARD_PROTOCOL_T1
SCARD_PROTOCOL_OPTIMAL = 0x00000000

#: Protocol headers for :func:`SCardTransmit` (here simply the protocol they stand for).
SCARD_PCI_T0 = _C.SCARD_PROTOCOL_T0
SCARD_PCI_T1 = _C.SCARD_PROTOCOL_T1
SCARD_PCI_RAW = _C.SCARD_PROTOCOL_RAW

SCARD_PROVIDER_PRIMARY = 1
SCARD_PROVIDER_CSP = 2

# pyscard's value on Linux (a 24-day wait), not pcsc-lite's 0xFFFFFFFF.
INFINITE = 0x7FFFFFFF
MAX_ATR_SIZE = _C.MAX_ATR_SIZE
ERROR_INVALID_HANDLE = 6
ERROR_ALREADY_EXISTS = 183

SCARD_ATTR_VENDOR_NAME = _C.SCARD_ATTR_VENDOR_NAME
SCARD_ATTR_VENDOR_IFD_TYPE = _C.SCARD_ATTR_VENDOR_IFD_TYPE
SCARD_ATTR_VENDOR_IFD_VERSION = _C.SCARD_ATTR_VENDOR_IFD_VERSION
SCARD_ATTR_VENDOR_IFD_SERIAL_NO = _C.SCARD_ATTR_VENDOR_IFD_SERIAL_NO
SCARD_ATTR_CHANNEL_ID = _C.SCARD_ATTR_CHANNEL_ID
SCARD_ATTR_ASYNC_PROTOCOL_TYPES = _C.SCARD_ATTR_ASYNC_PROTOCOL_TYPES
SCARD_ATTR_DEFAULT_CLK = _C.SCARD_ATTR_DEFAULT_CLK
SCARD_ATTR_MAX_CLK = _C.SCARD_ATTR_MAX_CLK
SCARD_ATTR_DEFAULT_DATA_RATE = _C.SCARD_ATTR_DEFAULT_DATA_RATE
SCARD_ATTR_MAX_DATA_RATE = _C.SCARD_ATTR_MAX_DATA_RATE
SCARD_ATTR_MAX_IFSD = _C.SCARD_ATTR_MAX_IFSD
SCARD_ATTR_SYNC_PROTOCOL_TYPES = _C.SCARD_ATTR_SYNC_PROTOCOL_TYPES
SCARD_ATTR_POWER_MGMT_SUPPORT = _C.SCARD_ATTR_POWER_MGMT_SUPPORT
SCARD_ATTR_USER_TO_CARD_AUTH_DEVICE = _C.SCARD_ATTR_USER_TO_CARD_AUTH_DEVICE
SCARD_ATTR_USER_AUTH_INPUT_DEVICE = _C.SCARD_ATTR_USER_AUTH_INPUT_DEVICE
SCARD_ATTR_CHARACTERISTICS = _C.SCARD_ATTR_CHARACTERISTICS
SCARD_ATTR_CURRENT_PROTOCOL_TYPE = _C.SCARD_ATTR_CURRENT_PROTOCOL_TYPE
SCARD_ATTR_CURRENT_CLK = _C.SCARD_ATTR_CURRENT_CLK
SCARD_ATTR_CURRENT_F = _C.SCARD_ATTR_CURRENT_F
SCARD_ATTR_CURRENT_D = _C.SCARD_ATTR_CURRENT_D
SCARD_ATTR_CURRENT_N = _C.SCARD_ATTR_CURRENT_N
SCARD_ATTR_CURRENT_W = _C.SCARD_ATTR_CURRENT_W
SCARD_ATTR_CURRENT_IFSC = _C.SCARD_ATTR_CURRENT_IFSC
SCARD_ATTR_CURRENT_IFSD = _C.SCARD_ATTR_CURRENT_IFSD
SCARD_ATTR_CURRENT_BWT = _C.SCARD_ATTR_CURRENT_BWT
SCARD_ATTR_CURRENT_CWT = _C.SCARD_ATTR_CURRENT_CWT
SCARD_ATTR_CURRENT_EBC_ENCODING = _C.SCARD_ATTR_CURRENT_EBC_ENCODING
SCARD_ATTR_EXTENDED_BWT = _C.SCARD_ATTR_EXTENDED_BWT
SCARD_ATTR_ICC_PRESENCE = _C.SCARD_ATTR_ICC_PRESENCE
SCARD_ATTR_ICC_INTERFACE_STATUS = _C.SCARD_ATTR_ICC_INTERFACE_STATUS
SCARD_ATTR_CURRENT_IO_STATE = _C.SCARD_ATTR_CURRENT_IO_STATE
SCARD_ATTR_ATR_STRING = _C.SCARD_ATTR_ATR_STRING
SCARD_ATTR_ICC_TYPE_PER_ATR = _C.SCARD_ATTR_ICC_TYPE_PER_ATR
SCARD_ATTR_ESC_RESET = _C.SCARD_ATTR_ESC_RESET
SCARD_ATTR_ESC_CANCEL = _C.SCARD_ATTR_ESC_CANCEL
SCARD_ATTR_ESC_AUTHREQUEST = _C.SCARD_ATTR_ESC_AUTHREQUEST
SCARD_ATTR_MAXINPUT = _C.SCARD_ATTR_MAXINPUT
SCARD_ATTR_DEVICE_UNIT = _C.SCARD_ATTR_DEVICE_UNIT
SCARD_ATTR_DEVICE_IN_USE = _C.SCARD_ATTR_DEVICE_IN_USE
SCARD_ATTR_DEVICE_FRIENDLY_NAME_A = _C.SCARD_ATTR_DEVICE_FRIENDLY_NAME_A
SCARD_ATTR_DEVICE_SYSTEM_NAME_A = _C.SCARD_ATTR_DEVICE_SYSTEM_NAME_A
SCARD_ATTR_DEVICE_FRIENDLY_NAME_W = _C.SCARD_ATTR_DEVICE_FRIENDLY_NAME_W
SCARD_ATTR_DEVICE_SYSTEM_NAME_W = _C.SCARD_ATTR_DEVICE_SYSTEM_NAME_W
SCARD_ATTR_SUPRESS_T1_IFS_REQUEST = _C.SCARD_ATTR_SUPRESS_T1_IFS_REQUEST
SCARD_ATTR_DEVICE_FRIENDLY_NAME = _C.SCARD_ATTR_DEVICE_FRIENDLY_NAME
SCARD_ATTR_DEVICE_SYSTEM_NAME = _C.SCARD_ATTR_DEVICE_SYSTEM_NAME


def _raw(code: ReturnCode) -> int:
    return _RAW_FOR.get(code.value, code.value)


# Return codes, with this platform's raw values (pcsc-lite gives
# SCARD_E_UNSUPPORTED_FEATURE the value of SCARD_E_UNEXPECTED, as its header does).
SCARD_S_SUCCESS = _raw(ReturnCode.SCARD_S_SUCCESS)
SCARD_F_INTERNAL_ERROR = _raw(ReturnCode.SCARD_F_INTERNAL_ERROR)
SCARD_E_CANCELLED = _raw(ReturnCode.SCARD_E_CANCELLED)
SCARD_E_INVALID_HANDLE = _raw(ReturnCode.SCARD_E_INVALID_HANDLE)
SCARD_E_INVALID_PARAMETER = _raw(ReturnCode.SCARD_E_INVALID_PARAMETER)
SCARD_E_INVALID_TARGET = _raw(ReturnCode.SCARD_E_INVALID_TARGET)
SCARD_E_NO_MEMORY = _raw(ReturnCode.SCARD_E_NO_MEMORY)
SCARD_F_WAITED_TOO_LONG = _raw(ReturnCode.SCARD_F_WAITED_TOO_LONG)
SCARD_E_INSUFFICIENT_BUFFER = _raw(ReturnCode.SCARD_E_INSUFFICIENT_BUFFER)
SCARD_E_UNKNOWN_READER = _raw(ReturnCode.SCARD_E_UNKNOWN_READER)
SCARD_E_TIMEOUT = _raw(ReturnCode.SCARD_E_TIMEOUT)
SCARD_E_SHARING_VIOLATION = _raw(ReturnCode.SCARD_E_SHARING_VIOLATION)
SCARD_E_NO_SMARTCARD = _raw(ReturnCode.SCARD_E_NO_SMARTCARD)
SCARD_E_UNKNOWN_CARD = _raw(ReturnCode.SCARD_E_UNKNOWN_CARD)
SCARD_E_CANT_DISPOSE = _raw(ReturnCode.SCARD_E_CANT_DISPOSE)
SCARD_E_PROTO_MISMATCH = _raw(ReturnCode.SCARD_E_PROTO_MISMATCH)
SCARD_E_NOT_READY = _raw(ReturnCode.SCARD_E_NOT_READY)
SCARD_E_INVALID_VALUE = _raw(ReturnCode.SCARD_E_INVALID_VALUE)
SCARD_E_SYSTEM_CANCELLED = _raw(ReturnCode.SCARD_E_SYSTEM_CANCELLED)
SCARD_F_COMM_ERROR = _raw(ReturnCode.SCARD_F_COMM_ERROR)
SCARD_F_UNKNOWN_ERROR = _raw(ReturnCode.SCARD_F_UNKNOWN_ERROR)
SCARD_E_INVALID_ATR = _raw(ReturnCode.SCARD_E_INVALID_ATR)
SCARD_E_NOT_TRANSACTED = _raw(ReturnCode.SCARD_E_NOT_TRANSACTED)
SCARD_E_READER_UNAVAILABLE = _raw(ReturnCode.SCARD_E_READER_UNAVAILABLE)
SCARD_P_SHUTDOWN = _raw(ReturnCode.SCARD_P_SHUTDOWN)
SCARD_E_PCI_TOO_SMALL = _raw(ReturnCode.SCARD_E_PCI_TOO_SMALL)
SCARD_E_READER_UNSUPPORTED = _raw(ReturnCode.SCARD_E_READER_UNSUPPORTED)
SCARD_E_DUPLICATE_READER = _raw(ReturnCode.SCARD_E_DUPLICATE_READER)
SCARD_E_CARD_UNSUPPORTED = _raw(ReturnCode.SCARD_E_CARD_UNSUPPORTED)
SCARD_E_NO_SERVICE = _raw(ReturnCode.SCARD_E_NO_SERVICE)
SCARD_E_SERVICE_STOPPED = _raw(ReturnCode.SCARD_E_SERVICE_STOPPED)
SCARD_E_UNEXPECTED = _raw(ReturnCode.SCARD_E_UNEXPECTED)
SCARD_E_ICC_INSTALLATION = _raw(ReturnCode.SCARD_E_ICC_INSTALLATION)
SCARD_E_ICC_CREATEORDER = _raw(ReturnCode.SCARD_E_ICC_CREATEORDER)
SCARD_E_UNSUPPORTED_FEATURE = _raw(ReturnCode.SCARD_E_UNSUPPORTED_FEATURE)
SCARD_E_DIR_NOT_FOUND = _raw(ReturnCode.SCARD_E_DIR_NOT_FOUND)
SCARD_E_FILE_NOT_FOUND = _raw(ReturnCode.SCARD_E_FILE_NOT_FOUND)
SCARD_E_NO_DIR = _raw(ReturnCode.SCARD_E_NO_DIR)
SCARD_E_NO_FILE = _raw(ReturnCode.SCARD_E_NO_FILE)
SCARD_E_NO_ACCESS = _raw(ReturnCode.SCARD_E_NO_ACCESS)
SCARD_E_WRITE_TOO_MANY = _raw(ReturnCode.SCARD_E_WRITE_TOO_MANY)
SCARD_E_BAD_SEEK = _raw(ReturnCode.SCARD_E_BAD_SEEK)
SCARD_E_INVALID_CHV = _raw(ReturnCode.SCARD_E_INVALID_CHV)
SCARD_E_UNKNOWN_RES_MNG = _raw(ReturnCode.SCARD_E_UNKNOWN_RES_MNG)
SCARD_E_NO_SUCH_CERTIFICATE = _raw(ReturnCode.SCARD_E_NO_SUCH_CERTIFICATE)
SCARD_E_CERTIFICATE_UNAVAILABLE = _raw(ReturnCode.SCARD_E_CERTIFICATE_UNAVAILABLE)
SCARD_E_NO_READERS_AVAILABLE = _raw(ReturnCode.SCARD_E_NO_READERS_AVAILABLE)
SCARD_E_COMM_DATA_LOST = _raw(ReturnCode.SCARD_E_COMM_DATA_LOST)
SCARD_E_NO_KEY_CONTAINER = _raw(ReturnCode.SCARD_E_NO_KEY_CONTAINER)
SCARD_E_SERVER_TOO_BUSY = _raw(ReturnCode.SCARD_E_SERVER_TOO_BUSY)
SCARD_W_UNSUPPORTED_CARD = _raw(ReturnCode.SCARD_W_UNSUPPORTED_CARD)
SCARD_W_UNRESPONSIVE_CARD = _raw(ReturnCode.SCARD_W_UNRESPONSIVE_CARD)
SCARD_W_UNPOWERED_CARD = _raw(ReturnCode.SCARD_W_UNPOWERED_CARD)
SCARD_W_RESET_CARD = _raw(ReturnCode.SCARD_W_RESET_CARD)
SCARD_W_REMOVED_CARD = _raw(ReturnCode.SCARD_W_REMOVED_CARD)
SCARD_W_SECURITY_VIOLATION = _raw(ReturnCode.SCARD_W_SECURITY_VIOLATION)
SCARD_W_WRONG_CHV = _raw(ReturnCode.SCARD_W_WRONG_CHV)
SCARD_W_CHV_BLOCKED = _raw(ReturnCode.SCARD_W_CHV_BLOCKED)
SCARD_W_EOF = _raw(ReturnCode.SCARD_W_EOF)
SCARD_W_CANCELLED_BY_USER = _raw(ReturnCode.SCARD_W_CANCELLED_BY_USER)
SCARD_W_CARD_NOT_AUTHENTICATED = _raw(ReturnCode.SCARD_W_CARD_NOT_AUTHENTICATED)
INVALID_HANDLE = SCARD_E_INVALID_HANDLE


# -- helpers --------------------------------------------------------------------------


def _code(error: _exc.SmartcardException) -> int:
    """The return code for ``error``; re-raises errors that did not come from PC/SC."""
    if error.hresult is not None:
        return error.hresult & 0xFFFFFFFF
    if isinstance(error, _exc.UnsupportedFeatureException):
        return SCARD_E_UNSUPPORTED_FEATURE  # the platform lacks the function altogether
    raise error


def _call(fn: Callable[[PCSCAPI], T], empty: T) -> tuple[int, T]:
    try:
        return SCARD_S_SUCCESS, fn(get_pcsc())
    except _exc.SmartcardException as failure:
        return _code(failure), empty


def _status(fn: Callable[[PCSCAPI], object]) -> int:
    try:
        fn(get_pcsc())
    except _exc.SmartcardException as failure:
        return _code(failure)
    return SCARD_S_SUCCESS


def _group_list(groups: Sequence[str] | None) -> list[str] | None:
    # pyscard's wrapper wants a list of str (None or [] for every group).
    if groups is None:
        return None
    if not isinstance(groups, (list, tuple)):
        raise TypeError(f"readergroups must be a list of str, not {type(groups).__name__}")
    for group in groups:
        if not isinstance(group, str):
            raise TypeError(f"a reader group must be a str, not {type(group).__name__}")
    return list(groups) or None


# -- contexts -------------------------------------------------------------------------


def SCardEstablishContext(dwScope: int) -> tuple[int, int]:
    """``hresult, hcontext``: create a resource-manager context (SCardEstablishContext)."""
    return _call(lambda api: api.establish_context(dwScope), 0)


def SCardReleaseContext(hcontext: int) -> int:
    """``hresult``: release a context (SCardReleaseContext)."""
    return _status(lambda api: api.release_context(hcontext))


def SCardIsValidContext(hcontext: int) -> int:
    """``hresult``: SCARD_S_SUCCESS if ``hcontext`` is valid (SCardIsValidContext).

    pcsc-lite checks this on the client side only: a dead pcscd goes unnoticed.
    """
    try:
        valid = get_pcsc().is_valid_context(hcontext)
    except _exc.SmartcardException as failure:
        return _code(failure)
    return SCARD_S_SUCCESS if valid else SCARD_E_INVALID_HANDLE


def SCardCancel(hcontext: int) -> int:
    """``hresult``: make a blocked SCardGetStatusChange on ``hcontext`` return
    SCARD_E_CANCELLED (SCardCancel).  May be called from any thread."""
    return _status(lambda api: api.cancel(hcontext))


# -- readers --------------------------------------------------------------------------


def SCardListReaders(
    hcontext: int, readergroups: Sequence[str] | None = None
) -> tuple[int, list[str]]:
    """``hresult, readers`` (SCardListReaders); ``readergroups`` ``[]`` means all readers.

    No reader at all gives ``SCARD_E_NO_READERS_AVAILABLE, []``, as in pyscard.
    """
    groups = _group_list(readergroups)
    none: list[str] = []
    hresult, names = _call(lambda api: api.list_readers(hcontext, groups), none)
    if hresult == SCARD_S_SUCCESS and not names:
        return SCARD_E_NO_READERS_AVAILABLE, []
    return hresult, names


def SCardListReaderGroups(hcontext: int) -> tuple[int, list[str]]:
    """``hresult, groups`` (SCardListReaderGroups)."""
    return _call(lambda api: api.list_reader_groups(hcontext), [])


def _reader_states(readerstatelist: Sequence[Sequence[Any]]) -> list[ReaderState]:
    if not isinstance(readerstatelist, (list, tuple)):
        raise TypeError(
            f"readerstatelist must be a list of tuples, not {type(readerstatelist).__name__}"
        )
    return [_reader_state(entry) for entry in readerstatelist]


def _reader_state(entry: Sequence[Any]) -> ReaderState:
    if not isinstance(entry, (list, tuple)) or len(entry) not in (2, 3):
        raise TypeError("a reader state must be a (reader, currentstate[, atr]) tuple")
    reader, current = entry[0], entry[1]
    if not isinstance(reader, str):
        raise TypeError(f"a reader name must be a str, not {type(reader).__name__}")
    if not isinstance(current, int) or isinstance(current, bool):
        raise TypeError(f"a reader's current state must be an int, not {type(current).__name__}")
    return ReaderState(str(reader), current)


def SCardGetStatusChange(
    hcontext: int, dwTimeout: int, readerstatelist: Sequence[Sequence[Any]]
) -> tuple[int, list[tuple[str, int, list[int]]]]:
    """``hresult, [(reader, eventstate, atr), ...]`` (SCardGetStatusChange).

    ``readerstatelist`` holds ``(reader, currentstate)`` or ``(reader,
    currentstate, atr)`` tuples, so a previous result can be passed back as
    it is.  Blocks up to ``dwTimeout`` ms (``INFINITE``: until a change or
    :func:`SCardCancel`).
    """
    states = _reader_states(readerstatelist)

    def call(api: PCSCAPI) -> list[tuple[str, int, list[int]]]:
        result = api.get_status_change(hcontext, dwTimeout, states)
        return [(state.reader, state.event_state, list(state.atr)) for state in result]

    return _call(call, [])


def SCardAddReaderToGroup(hcontext: int, readername: str, groupname: str) -> int:
    """``hresult`` (SCardAddReaderToGroup; SCARD_E_UNSUPPORTED_FEATURE on pcsc-lite)."""
    _check_names(readername=readername, groupname=groupname)
    return _status(lambda api: api.add_reader_to_group(hcontext, readername, groupname))


def SCardRemoveReaderFromGroup(hcontext: int, readername: str, groupname: str) -> int:
    """``hresult`` (SCardRemoveReaderFromGroup; SCARD_E_UNSUPPORTED_FEATURE on pcsc-lite)."""
    _check_names(readername=readername, groupname=groupname)
    return _status(lambda api: api.remove_reader_from_group(hcontext, readername, groupname))


# -- the Windows reader and card database ------------------------------------------------
#
# pcsc-lite has neither editable reader groups nor a card database.  pyscard's
# scard on Linux exports the reader and group calls below and has them return
# SCARD_E_UNSUPPORTED_FEATURE without a PC/SC call; the card-database calls it
# exports on Windows only.  Here every one of them exists, on every platform,
# and returns SCARD_E_UNSUPPORTED_FEATURE with the empty outputs pyscard's
# Windows build would give on failure, so code written for either runs.


def _check_names(**names: object) -> None:
    # pyscard's SWIG wrappers refuse a non-str name with TypeError.
    for name, value in names.items():
        if not isinstance(value, str):
            raise TypeError(f"{name} must be a str, not {type(value).__name__}")


def _check_context(hcontext: object) -> None:
    if isinstance(hcontext, bool) or not isinstance(hcontext, int):
        raise TypeError(f"hcontext must be an int, not {type(hcontext).__name__}")


def SCardIntroduceReader(hcontext: int, readername: str, devicename: str) -> int:
    """``hresult``: SCARD_E_UNSUPPORTED_FEATURE (pcsc-lite cannot introduce readers)."""
    _check_context(hcontext)
    _check_names(readername=readername, devicename=devicename)
    return SCARD_E_UNSUPPORTED_FEATURE


def SCardForgetReader(hcontext: int, readername: str) -> int:
    """``hresult``: SCARD_E_UNSUPPORTED_FEATURE (pcsc-lite cannot forget readers)."""
    _check_context(hcontext)
    _check_names(readername=readername)
    return SCARD_E_UNSUPPORTED_FEATURE


def SCardIntroduceReaderGroup(hcontext: int, groupname: str) -> int:
    """``hresult``: SCARD_E_UNSUPPORTED_FEATURE (pcsc-lite has one fixed reader group)."""
    _check_context(hcontext)
    _check_names(groupname=groupname)
    return SCARD_E_UNSUPPORTED_FEATURE


def SCardForgetReaderGroup(hcontext: int, groupname: str) -> int:
    """``hresult``: SCARD_E_UNSUPPORTED_FEATURE (pcsc-lite has one fixed reader group)."""
    _check_context(hcontext)
    _check_names(groupname=groupname)
    return SCARD_E_UNSUPPORTED_FEATURE


def SCardIntroduceCardType(
    hcontext: int,
    cardname: str,
    primaryprovider: Sequence[int] | None,
    providerlist: Sequence[int] | None,
    atr: ByteInput,
    mask: ByteInput,
) -> int:
    """``hresult``: SCARD_E_UNSUPPORTED_FEATURE (no card database in pcsc-lite).

    Raises:
        TypeError, ValueError: ``atr`` or ``mask`` is not bytes or ints in 0..255.
    """
    _check_context(hcontext)
    _check_names(cardname=cardname)
    as_bytes(atr, "atr")
    as_bytes(mask, "mask")
    return SCARD_E_UNSUPPORTED_FEATURE


def SCardForgetCardType(hcontext: int, cardname: str) -> int:
    """``hresult``: SCARD_E_UNSUPPORTED_FEATURE (no card database in pcsc-lite)."""
    _check_context(hcontext)
    _check_names(cardname=cardname)
    return SCARD_E_UNSUPPORTED_FEATURE


def SCardGetCardTypeProviderName(
    hcontext: int, cardname: str, dwProviderId: int
) -> tuple[int, str]:
    """``hresult, providername``: ``SCARD_E_UNSUPPORTED_FEATURE, ""`` (no card database)."""
    _check_context(hcontext)
    _check_names(cardname=cardname)
    return SCARD_E_UNSUPPORTED_FEATURE, ""


def SCardListInterfaces(hcontext: int, cardname: str) -> tuple[int, list[list[int]]]:
    """``hresult, interfaces``: ``SCARD_E_UNSUPPORTED_FEATURE, []`` (no card database)."""
    _check_context(hcontext)
    _check_names(cardname=cardname)
    return SCARD_E_UNSUPPORTED_FEATURE, []


def SCardListCards(
    hcontext: int, atr: ByteInput, providerlist: Sequence[int] | None = None
) -> tuple[int, list[str]]:
    """``hresult, cards``: ``SCARD_E_UNSUPPORTED_FEATURE, []`` (no card database).

    Raises:
        TypeError, ValueError: ``atr`` is not bytes or ints in 0..255.
    """
    _check_context(hcontext)
    as_bytes(atr, "atr")
    return SCARD_E_UNSUPPORTED_FEATURE, []


def SCardLocateCards(
    hcontext: int, cards: Sequence[str], readerstatelist: Sequence[Sequence[Any]]
) -> tuple[int, list[tuple[str, int, list[int]]]]:
    """``hresult, readerstates``: ``SCARD_E_UNSUPPORTED_FEATURE`` and the reader
    states as given (no card database to search)."""
    _check_context(hcontext)
    given = list(zip(_reader_states(readerstatelist), readerstatelist, strict=True))
    return SCARD_E_UNSUPPORTED_FEATURE, [
        (state.reader, state.current_state, list(entry[2]) if len(entry) > 2 else [])
        for state, entry in given
    ]


# -- cards ----------------------------------------------------------------------------


def SCardConnect(
    hcontext: int, readername: str, dwShareMode: int, dwPreferredProtocols: int
) -> tuple[int, int, int]:
    """``hresult, hcard, activeprotocol`` (SCardConnect)."""
    try:
        hcard, protocol = get_pcsc().connect(
            hcontext, readername, dwShareMode, dwPreferredProtocols
        )
    except _exc.SmartcardException as failure:
        return _code(failure), 0, 0
    return SCARD_S_SUCCESS, hcard, protocol


def SCardReconnect(
    hcard: int, dwShareMode: int, dwPreferredProtocols: int, dwInitialization: int
) -> tuple[int, int]:
    """``hresult, activeprotocol`` (SCardReconnect)."""
    return _call(
        lambda api: api.reconnect(hcard, dwShareMode, dwPreferredProtocols, dwInitialization), 0
    )


def SCardDisconnect(hcard: int, dwDisposition: int) -> int:
    """``hresult`` (SCardDisconnect)."""
    return _status(lambda api: api.disconnect(hcard, dwDisposition))


def SCardBeginTransaction(hcard: int) -> int:
    """``hresult`` (SCardBeginTransaction); waits while another handle holds a transaction."""
    return _status(lambda api: api.begin_transaction(hcard))


def SCardEndTransaction(hcard: int, dwDisposition: int) -> int:
    """``hresult`` (SCardEndTransaction)."""
    return _status(lambda api: api.end_transaction(hcard, dwDisposition))


def SCardStatus(hcard: int) -> tuple[int, str, int, int, list[int]]:
    """``hresult, reader, state, protocol, atr`` (SCardStatus)."""
    try:
        status = get_pcsc().status(hcard)
    except _exc.SmartcardException as failure:
        return _code(failure), "", 0, 0, []
    return SCARD_S_SUCCESS, status.reader, status.state, status.protocol, list(status.atr)


def SCardTransmit(hcard: int, pioSendPci: int, apducommand: ByteInput) -> tuple[int, list[int]]:
    """``hresult, response`` (SCardTransmit); ``response`` ends with SW1 SW2.

    ``pioSendPci`` is ``SCARD_PCI_T0``, ``SCARD_PCI_T1`` or ``SCARD_PCI_RAW``.

    Raises:
        InvalidResponseException: the card answered with fewer than 2 bytes.
        TypeError, ValueError: a malformed command.
    """
    command = as_bytes(apducommand, "apducommand")
    return _call(lambda api: list(api.transmit(hcard, pioSendPci, command)), [])


def SCardControl(hcard: int, dwControlCode: int, inbuffer: ByteInput) -> tuple[int, list[int]]:
    """``hresult, response`` (SCardControl)."""
    data = as_bytes(inbuffer, "inbuffer")
    return _call(lambda api: list(api.control(hcard, dwControlCode, data)), [])


def SCardGetAttrib(hcard: int, dwAttrId: int) -> tuple[int, list[int]]:
    """``hresult, value`` (SCardGetAttrib)."""
    return _call(lambda api: list(api.get_attrib(hcard, dwAttrId)), [])


def SCardSetAttrib(hcard: int, dwAttrId: int, ATTRIBUTESIN: ByteInput) -> int:
    """``hresult`` (SCardSetAttrib)."""
    value = as_bytes(ATTRIBUTESIN, "ATTRIBUTESIN")
    return _status(lambda api: api.set_attrib(hcard, dwAttrId, value))


# -- codes ----------------------------------------------------------------------------


# pcsc-lite's own texts (pcsc_stringify_error), which pyscard returns on Linux.
_PCSCLITE_MESSAGES: dict[int, str] = {
    0x00000000: "Command successful.",
    0x80100001: "Internal error.",
    0x80100002: "Command cancelled.",
    0x80100003: "Invalid handle.",
    0x80100004: "Invalid parameter given.",
    0x80100005: "Invalid target given.",
    0x80100006: "Not enough memory.",
    0x80100007: "Waited too long.",
    0x80100008: "Insufficient buffer.",
    0x80100009: "Unknown reader specified.",
    0x8010000A: "Command timeout.",
    0x8010000B: "Sharing violation.",
    0x8010000C: "No smart card inserted.",
    0x8010000D: "Unknown card.",
    0x8010000E: "Cannot dispose handle.",
    0x8010000F: "Card protocol mismatch.",
    0x80100010: "Subsystem not ready.",
    0x80100011: "Invalid value given.",
    0x80100012: "System cancelled.",
    0x80100013: "RPC transport error.",
    0x80100014: "Unknown error.",
    0x80100015: "Invalid ATR.",
    0x80100016: "Transaction failed.",
    0x80100017: "Reader is unavailable.",
    0x80100019: "PCI struct too small.",
    0x8010001A: "Reader is unsupported.",
    0x8010001B: "Reader already exists.",
    0x8010001C: "Card is unsupported.",
    0x8010001D: "Service not available.",
    0x8010001E: "Service was stopped.",
    0x8010001F: "Feature not supported.",
    0x8010002E: "Cannot find a smart card reader.",
    0x80100065: "Card is not supported.",
    0x80100066: "Card is unresponsive.",
    0x80100067: "Card is unpowered.",
    0x80100068: "Card was reset.",
    0x80100069: "Card was removed.",
    0x8010006A: "Access denied.",
}


def SCardGetErrorMessage(lErrCode: int) -> str:
    """A one-line description of a PC/SC return code (never raises for an int).

    On pcsc-lite these are pcsc-lite's own texts, as pyscard gives them
    (``"Unknown error: 0x..."`` for a code pcsc-lite does not name).

    Raises:
        TypeError: ``lErrCode`` is not an int.
    """
    if not isinstance(lErrCode, int):
        raise TypeError(f"lErrCode must be an int, not {type(lErrCode).__name__}")
    if _ABI.name != "pcsc-lite":
        return _normalize(lErrCode).message
    # A negative code (as Windows-built pyscard stored them) names the same error.
    code = lErrCode & 0xFFFFFFFF
    text = _PCSCLITE_MESSAGES.get(code)
    return text if text is not None else f"Unknown error: 0x{code:08X}"


def SCARD_CTL_CODE(code: int) -> int:
    """The SCardControl code for reader function number ``code`` on this platform."""
    return _C.SCARD_CTL_CODE(code)
