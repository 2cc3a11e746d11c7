"""Errors that are at once the class aioscard raises and the one pyscard raised."""

from __future__ import annotations

from aioscard.exceptions import ServiceUnavailableException, SmartcardException
from aioscard.native import ReturnCode

from .Exceptions import CardServiceNotFoundException, CardServiceStoppedException
from .pcsc.PCSCExceptions import EstablishContextException

__all__ = ["service_error"]


class _ServiceNotFound(CardServiceNotFoundException, EstablishContextException):
    """pcscd is not running: pyscard's readers() said EstablishContextException (Linux)
    or CardServiceNotFoundException (Windows); this is both, and a
    ServiceUnavailableException."""

    def __init__(self, message: str, hresult: int | None) -> None:
        SmartcardException.__init__(self, message, hresult)

    __str__ = SmartcardException.__str__


class _ServiceStopped(CardServiceStoppedException, EstablishContextException):
    """The PC/SC service was stopped; see :class:`_ServiceNotFound`."""

    def __init__(self, message: str, hresult: int | None) -> None:
        SmartcardException.__init__(self, message, hresult)

    __str__ = SmartcardException.__str__


for _cls in (_ServiceNotFound, _ServiceStopped):
    # Tracebacks name the class a pyscard user knows.
    _cls.__name__ = _cls.__qualname__ = _cls.__mro__[1].__name__
    _cls.__module__ = _cls.__mro__[1].__module__


def service_error(error: ServiceUnavailableException) -> ServiceUnavailableException:
    """``error`` as an exception every pyscard handler for it would catch."""
    stopped = error.hresult is not None and (
        error.hresult & 0xFFFFFFFF == ReturnCode.SCARD_E_SERVICE_STOPPED
    )
    cls = _ServiceStopped if stopped else _ServiceNotFound
    return cls(error.message, error.hresult)
