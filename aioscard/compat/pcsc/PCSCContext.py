"""pyscard's ``smartcard.pcsc.PCSCContext``, which pyscard 2.2.2 removed: a stand-in.

Older python-fido2 and yubikey-manager releases import it at module level
and reset it with ``PCSCContext.instance = None``.  Here it holds at most one
PC/SC context for the whole process, established on the first
:meth:`PCSCContext.getContext` (creating a ``PCSCContext()`` does no I/O) and
released by :meth:`PCSCContext.renewContext` or at exit.  Nothing else in the
shim uses it.
"""

from __future__ import annotations

import atexit
import threading
from typing import Any, ClassVar

from ..scard import scard as _scard
from .PCSCExceptions import EstablishContextException

__all__ = ["PCSCContext"]

_lock = threading.RLock()
_hcontext: int | None = None


def _release() -> None:
    global _hcontext
    with _lock:
        if _hcontext is not None:
            _scard.SCardReleaseContext(_hcontext)
            _hcontext = None


atexit.register(_release)


class _Holder:
    """What :attr:`PCSCContext.instance` holds: access to the process's one context."""

    def getContext(self) -> int:
        """The process's PC/SC context, established now if need be (SCardEstablishContext).

        Raises:
            EstablishContextException: pcscd refused (not running, say).
        """
        global _hcontext
        with _lock:
            if _hcontext is not None and _scard.SCardIsValidContext(_hcontext) == 0:
                return _hcontext
            _release()
            hresult, hcontext = _scard.SCardEstablishContext(_scard.SCARD_SCOPE_USER)
            if hresult != _scard.SCARD_S_SUCCESS:
                raise EstablishContextException(hresult)
            _hcontext = hcontext
            return hcontext

    def releaseContext(self) -> None:
        """Release the process's context (SCardReleaseContext); the next
        :meth:`getContext` establishes a new one."""
        _release()


class PCSCContext:
    """pyscard's context singleton: ``PCSCContext().getContext()`` is a PC/SC context.

    ``PCSCContext.instance = None`` (what older consumers do to start afresh)
    is allowed and harmless: the next ``PCSCContext()`` makes a new holder of
    the same process-wide context.
    """

    instance: ClassVar[_Holder | None] = None
    mutex: ClassVar[Any] = _lock

    def __init__(self) -> None:
        with _lock:
            if PCSCContext.instance is None:
                PCSCContext.instance = _Holder()

    def __getattr__(self, name: str) -> Any:
        instance = PCSCContext.instance or _Holder()
        return getattr(instance, name)

    def getContext(self) -> int:
        """See :meth:`_Holder.getContext`."""
        return (PCSCContext.instance or _Holder()).getContext()

    @staticmethod
    def renewContext() -> int:
        """Release the process's context and return a new one."""
        with _lock:
            _release()
            PCSCContext.instance = _Holder()
            return PCSCContext.instance.getContext()
