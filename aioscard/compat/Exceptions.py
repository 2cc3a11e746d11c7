"""pyscard's ``smartcard.Exceptions``: the very classes aioscard raises, plus pyscard-only names.

Every class aioscard shares with pyscard is re-exported from
:mod:`aioscard.exceptions` unchanged, so one ``except`` clause catches an error
from the synchronous shim and from the async API alike.  The names only pyscard
has are subclasses of the nearest aioscard class.
"""

from __future__ import annotations

from aioscard import exceptions as _core
from aioscard.exceptions import *  # noqa: F403 - every core class, under the same name
from aioscard.exceptions import ServiceUnavailableException, SmartcardException

# The core's names, then those only pyscard has.
__all__ = ["CardServiceNotFoundException", "CardServiceStoppedException", "ListReadersException"]
__all__ += _core.__all__


class CardServiceStoppedException(ServiceUnavailableException):
    """The PC/SC service was stopped (SCARD_E_SERVICE_STOPPED), as pyscard names it."""


class CardServiceNotFoundException(ServiceUnavailableException):
    """The PC/SC service is not running (SCARD_E_NO_SERVICE), as pyscard names it."""


class ListReadersException(SmartcardException):
    """Listing the readers failed; built from the PC/SC code as in pyscard."""

    def __init__(self, hresult: int) -> None:
        super().__init__("Failed to list readers", hresult)
