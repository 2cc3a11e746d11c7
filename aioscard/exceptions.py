"""The exception hierarchy of aioscard.

Every error aioscard raises for a PC/SC or card-access problem derives from
:class:`SmartcardException`, which carries the PC/SC return code (``hresult``)
when there is one.  The class names pyscard users know are here with the same
meaning, so one ``except`` clause serves the async API and the synchronous
compatibility shim alike (the shim re-exports these very objects).

Status-word errors raised by the error-checking chain (``aioscard.sw``) are a
separate branch on purpose: a card saying "wrong PIN" is not a transport failure.

This module imports nothing from the rest of aioscard, so every layer may use it.
"""

from __future__ import annotations

__all__ = [
    "CancelledException",
    "CardConnectionException",
    "CardRemovedException",
    "CardRequestException",
    "CardRequestTimeoutException",
    "CardResetException",
    "CardServiceException",
    "CardUnpoweredException",
    "CardUnresponsiveException",
    "DialogueCancelled",
    "FeatureNotSupportedException",
    "InsufficientBufferException",
    "InvalidATRMaskLengthException",
    "InvalidHandleException",
    "InvalidParameterException",
    "InvalidReaderException",
    "InvalidResponseException",
    "MalformedAnswerException",
    "NoCardException",
    "NoReadersException",
    "NotTransactedException",
    "PCSCLibraryNotFoundException",
    "PinEntryException",
    "PinEntryTimeoutException",
    "ProtocolMismatchException",
    "ReaderUnavailableException",
    "ServiceUnavailableException",
    "SharingViolationException",
    "SmartcardException",
    "TimeoutException",
    "UnsupportedFeatureException",
]


class SmartcardException(Exception):
    """Root of every aioscard error.

    ``hresult`` is the PC/SC return code (an unsigned 32-bit value such as
    ``0x80100069``) when the error came from a PC/SC call, otherwise ``None``.
    """

    def __init__(self, message: str = "", hresult: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hresult = hresult

    def __str__(self) -> str:
        if self.hresult is None or f"0x{self.hresult:08X}" in self.message:
            return self.message
        return f"{self.message} (0x{self.hresult:08X})"


class PCSCLibraryNotFoundException(SmartcardException):
    """The PC/SC library (libpcsclite, winscard.dll, PCSC.framework) could not be loaded."""


class ServiceUnavailableException(SmartcardException):
    """The PC/SC service is not running or has gone away (SCARD_E_NO_SERVICE,
    SCARD_E_SERVICE_STOPPED; and SCARD_F_COMM_ERROR or SCARD_W_SECURITY_VIOLATION,
    which libpcsclite reports when pcscd dies in the middle of a call).  Contexts
    made before the service restarted stay unusable; new ones work once it is back."""


class CancelledException(SmartcardException):
    """A blocking PC/SC wait was cancelled with SCardCancel (SCARD_E_CANCELLED)."""


class TimeoutException(SmartcardException):
    """A PC/SC wait ran out of time (SCARD_E_TIMEOUT)."""


class InvalidParameterException(SmartcardException):
    """PC/SC rejected a parameter (SCARD_E_INVALID_PARAMETER, SCARD_E_INVALID_VALUE)."""


class InvalidHandleException(SmartcardException):
    """A context or card handle is not (or no longer) valid (SCARD_E_INVALID_HANDLE)."""


class InsufficientBufferException(SmartcardException):
    """A response did not fit the buffer given for it (SCARD_E_INSUFFICIENT_BUFFER)."""


class UnsupportedFeatureException(SmartcardException):
    """The reader, driver or platform does not support the operation
    (SCARD_E_UNSUPPORTED_FEATURE, SCARD_E_READER_UNSUPPORTED)."""


class InvalidReaderException(SmartcardException):
    """The reader is unknown (SCARD_E_UNKNOWN_READER) or the name is not a reader."""


class ReaderUnavailableException(InvalidReaderException):
    """The reader has gone away or cannot be used right now (SCARD_E_READER_UNAVAILABLE)."""


class NoReadersException(SmartcardException):
    """No smartcard reader is available."""


class CardConnectionException(SmartcardException):
    """A card connection failed or an operation on it failed."""


class NoCardException(CardConnectionException):
    """There is no card in the reader (SCARD_E_NO_SMARTCARD)."""


class CardRemovedException(CardConnectionException):
    """The card was removed since the connection was made (SCARD_W_REMOVED_CARD).

    A re-inserted card needs ``reconnect()`` (or a new connection)."""


class CardResetException(CardConnectionException):
    """The card was reset by another application (SCARD_W_RESET_CARD).

    Any card-side state (selected application, verified PIN) is gone;
    call ``reconnect()`` to acknowledge the reset and carry on."""


class CardUnpoweredException(CardConnectionException):
    """Power has been removed from the card (SCARD_W_UNPOWERED_CARD)."""


class CardUnresponsiveException(CardConnectionException):
    """The card does not answer a reset (SCARD_W_UNRESPONSIVE_CARD)."""


class SharingViolationException(CardConnectionException):
    """Another connection holds the card exclusively, or holds a transaction
    that conflicts with the request (SCARD_E_SHARING_VIOLATION)."""


class NotTransactedException(CardConnectionException):
    """The exchange with the card failed (SCARD_E_NOT_TRANSACTED); often the card
    has just been pulled and PC/SC has not noticed yet."""


class ProtocolMismatchException(CardConnectionException):
    """The requested protocol is not one the card supports (SCARD_E_PROTO_MISMATCH)."""


class InvalidResponseException(CardConnectionException):
    """The card answered with something that is not a response APDU, such as
    fewer than the two status-word bytes (typically: the card vanished mid-APDU)."""


class CardRequestException(SmartcardException):
    """Waiting for a card failed."""


class CardRequestTimeoutException(CardRequestException, TimeoutException):
    """No matching card appeared before the request's timeout."""


class CardServiceException(SmartcardException):
    """A card service could not be created or used."""


class InvalidATRMaskLengthException(SmartcardException):
    """An ATR mask's length differs from the ATR's length."""


class FeatureNotSupportedException(UnsupportedFeatureException):
    """The reader lacks the PC/SC Part 10 feature an operation needs.

    ``feature`` is the feature's tag (``aioscard.part10.Feature``), and the
    message names it, e.g. ``FEATURE_VERIFY_PIN_DIRECT``."""

    def __init__(self, message: str = "", feature: int | None = None) -> None:
        super().__init__(message)
        self.feature = feature


class MalformedAnswerException(SmartcardException, ValueError):
    """Bytes that should hold a PC/SC Part 10 structure do not parse: a feature
    list, PIN or TLV properties from a reader, or a PIN verify/modify structure.

    The message says what is wrong and at which ``offset`` (when there is one).
    It is also a ``ValueError``, so code that parses structures from untrusted
    bytes may catch either."""

    def __init__(self, message: str = "", offset: int | None = None) -> None:
        super().__init__(message)
        self.offset = offset


class PinEntryException(CardConnectionException):
    """PIN entry on a pinpad reader ended without a PIN reaching the card.

    ``sw`` is the status word the reader answered instead of the card's, per
    PC/SC Part 10 and CCID: ``0x6401`` the user pressed Cancel, ``0x6402`` the
    two entries of a new PIN differ, ``0x6403`` the PIN was too short or too
    long (``0x6400``, a timeout, is :class:`PinEntryTimeoutException`)."""

    def __init__(self, message: str = "", sw: int | None = None) -> None:
        super().__init__(message)
        self.sw = sw


class PinEntryTimeoutException(PinEntryException, TimeoutException):
    """The user typed no PIN (or not all of it) before the pinpad's timeout
    (the reader answered ``64 00``)."""


class DialogueCancelled(BaseException):
    """Raised on the worker, inside a function run by ``CardConnection.run_sync()``
    (or a ``transmit_many()`` batch), by its next card operation once the task
    awaiting it was cancelled.

    The awaiting task has already resumed with its own cancellation; this error
    only stops the function, and nobody receives it.  It derives from
    ``BaseException``, like ``asyncio.CancelledError``, so that an ``except
    Exception`` in the function does not swallow it.
    """
