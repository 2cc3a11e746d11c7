"""PC/SC return codes: names, values and messages.

Values are the Windows/MSDN ones.  Where pcsc-lite gives a code another value
(it returns ``0x8010001F`` for SCARD_E_UNSUPPORTED_FEATURE, the value Windows
uses for SCARD_E_UNEXPECTED) the platform description in :mod:`._abi` maps it;
this table stays one list.
"""

from __future__ import annotations

import enum

__all__ = ["ReturnCode", "describe"]


class ReturnCode(enum.IntEnum):
    """Every ``SCARD_S_*``, ``SCARD_F_*``, ``SCARD_E_*``, ``SCARD_P_*`` and ``SCARD_W_*`` code.

    An unknown value still gives a member (named ``UNKNOWN_0x........``), so
    ``ReturnCode(rc)`` never raises for a 32-bit value.
    """

    SCARD_S_SUCCESS = 0x00000000
    SCARD_F_INTERNAL_ERROR = 0x80100001
    SCARD_E_CANCELLED = 0x80100002
    SCARD_E_INVALID_HANDLE = 0x80100003
    SCARD_E_INVALID_PARAMETER = 0x80100004
    SCARD_E_INVALID_TARGET = 0x80100005
    SCARD_E_NO_MEMORY = 0x80100006
    SCARD_F_WAITED_TOO_LONG = 0x80100007
    SCARD_E_INSUFFICIENT_BUFFER = 0x80100008
    SCARD_E_UNKNOWN_READER = 0x80100009
    SCARD_E_TIMEOUT = 0x8010000A
    SCARD_E_SHARING_VIOLATION = 0x8010000B
    SCARD_E_NO_SMARTCARD = 0x8010000C
    SCARD_E_UNKNOWN_CARD = 0x8010000D
    SCARD_E_CANT_DISPOSE = 0x8010000E
    SCARD_E_PROTO_MISMATCH = 0x8010000F
    SCARD_E_NOT_READY = 0x80100010
    SCARD_E_INVALID_VALUE = 0x80100011
    SCARD_E_SYSTEM_CANCELLED = 0x80100012
    SCARD_F_COMM_ERROR = 0x80100013
    SCARD_F_UNKNOWN_ERROR = 0x80100014
    SCARD_E_INVALID_ATR = 0x80100015
    SCARD_E_NOT_TRANSACTED = 0x80100016
    SCARD_E_READER_UNAVAILABLE = 0x80100017
    SCARD_P_SHUTDOWN = 0x80100018
    SCARD_E_PCI_TOO_SMALL = 0x80100019
    SCARD_E_READER_UNSUPPORTED = 0x8010001A
    SCARD_E_DUPLICATE_READER = 0x8010001B
    SCARD_E_CARD_UNSUPPORTED = 0x8010001C
    SCARD_E_NO_SERVICE = 0x8010001D
    SCARD_E_SERVICE_STOPPED = 0x8010001E
    SCARD_E_UNEXPECTED = 0x8010001F
    SCARD_E_ICC_INSTALLATION = 0x80100020
    SCARD_E_ICC_CREATEORDER = 0x80100021
    SCARD_E_UNSUPPORTED_FEATURE = 0x80100022
    SCARD_E_DIR_NOT_FOUND = 0x80100023
    SCARD_E_FILE_NOT_FOUND = 0x80100024
    SCARD_E_NO_DIR = 0x80100025
    SCARD_E_NO_FILE = 0x80100026
    SCARD_E_NO_ACCESS = 0x80100027
    SCARD_E_WRITE_TOO_MANY = 0x80100028
    SCARD_E_BAD_SEEK = 0x80100029
    SCARD_E_INVALID_CHV = 0x8010002A
    SCARD_E_UNKNOWN_RES_MNG = 0x8010002B
    SCARD_E_NO_SUCH_CERTIFICATE = 0x8010002C
    SCARD_E_CERTIFICATE_UNAVAILABLE = 0x8010002D
    SCARD_E_NO_READERS_AVAILABLE = 0x8010002E
    SCARD_E_COMM_DATA_LOST = 0x8010002F
    SCARD_E_NO_KEY_CONTAINER = 0x80100030
    SCARD_E_SERVER_TOO_BUSY = 0x80100031
    SCARD_E_PIN_CACHE_EXPIRED = 0x80100032
    SCARD_E_NO_PIN_CACHE = 0x80100033
    SCARD_E_READ_ONLY_CARD = 0x80100034
    SCARD_W_UNSUPPORTED_CARD = 0x80100065
    SCARD_W_UNRESPONSIVE_CARD = 0x80100066
    SCARD_W_UNPOWERED_CARD = 0x80100067
    SCARD_W_RESET_CARD = 0x80100068
    SCARD_W_REMOVED_CARD = 0x80100069
    SCARD_W_SECURITY_VIOLATION = 0x8010006A
    SCARD_W_WRONG_CHV = 0x8010006B
    SCARD_W_CHV_BLOCKED = 0x8010006C
    SCARD_W_EOF = 0x8010006D
    SCARD_W_CANCELLED_BY_USER = 0x8010006E
    SCARD_W_CARD_NOT_AUTHENTICATED = 0x8010006F
    SCARD_W_CACHE_ITEM_NOT_FOUND = 0x80100070
    SCARD_W_CACHE_ITEM_STALE = 0x80100071
    SCARD_W_CACHE_ITEM_TOO_BIG = 0x80100072

    @classmethod
    def _missing_(cls, value: object) -> ReturnCode | None:
        if not isinstance(value, int) or isinstance(value, bool):
            return None
        masked = value & 0xFFFFFFFF
        if masked != value:
            return cls(masked)
        # A pseudo-member, so that an unknown code still has a name and a value.
        member = int.__new__(cls, masked)
        member._name_ = f"UNKNOWN_0x{masked:08X}"
        member._value_ = masked
        return member

    @property
    def message(self) -> str:
        """A one-line description of the code."""
        return _MESSAGES.get(self.value, "Unknown PC/SC error")


def describe(code: int) -> str:
    """Return ``"Message (NAME, 0x........)"`` for a PC/SC return code."""
    rc = ReturnCode(code & 0xFFFFFFFF)
    return f"{rc.message} ({rc.name}, 0x{rc.value:08X})"


_MESSAGES: dict[int, str] = {
    0x00000000: "Command successful",
    0x80100001: "Internal error",
    0x80100002: "Command cancelled",
    0x80100003: "Invalid handle",
    0x80100004: "Invalid parameter given",
    0x80100005: "Invalid target given",
    0x80100006: "Not enough memory",
    0x80100007: "Waited too long",
    0x80100008: "Insufficient buffer",
    0x80100009: "Unknown reader specified",
    0x8010000A: "Command timeout",
    0x8010000B: "Sharing violation",
    0x8010000C: "No smart card inserted",
    0x8010000D: "Unknown card",
    0x8010000E: "Cannot dispose handle",
    0x8010000F: "Card protocol mismatch",
    0x80100010: "Subsystem not ready",
    0x80100011: "Invalid value given",
    0x80100012: "System cancelled",
    0x80100013: "RPC transport error",
    0x80100014: "Unknown error",
    0x80100015: "Invalid ATR",
    0x80100016: "Transaction failed",
    0x80100017: "Reader is unavailable",
    0x80100018: "System shutdown",
    0x80100019: "PCI struct too small",
    0x8010001A: "Reader is unsupported",
    0x8010001B: "Reader already exists",
    0x8010001C: "Card is unsupported",
    0x8010001D: "Service not available",
    0x8010001E: "Service was stopped",
    0x8010001F: "Unexpected card error",
    0x80100020: "Cannot find a smart card reader",
    0x80100021: "Requested order of object creation is not supported",
    0x80100022: "Feature not supported",
    0x80100023: "Directory not found",
    0x80100024: "File not found",
    0x80100025: "Not a directory",
    0x80100026: "Not a file",
    0x80100027: "Access denied",
    0x80100028: "The card cannot be written to (write too many)",
    0x80100029: "Error setting the file pointer",
    0x8010002A: "The PIN is not valid",
    0x8010002B: "Unknown error in the resource manager",
    0x8010002C: "No such certificate",
    0x8010002D: "Certificate is unavailable",
    0x8010002E: "No smart card readers available",
    0x8010002F: "Communication error with the card; data lost",
    0x80100030: "The requested key container does not exist",
    0x80100031: "The smart card resource manager is too busy",
    0x80100032: "The PIN cache has expired",
    0x80100033: "There is no PIN cache",
    0x80100034: "The card is read-only",
    0x80100065: "Card is not supported",
    0x80100066: "Card is unresponsive",
    0x80100067: "Card is unpowered",
    0x80100068: "Card was reset",
    0x80100069: "Card was removed",
    0x8010006A: "Access was denied (security violation)",
    0x8010006B: "The PIN is wrong",
    0x8010006C: "The PIN is blocked",
    0x8010006D: "End of card data reached",
    0x8010006E: "Cancelled by the user",
    0x8010006F: "No PIN was presented to the card",
    0x80100070: "The requested cache item was not found",
    0x80100071: "The requested cache item is stale",
    0x80100072: "The cache item is too big",
}
