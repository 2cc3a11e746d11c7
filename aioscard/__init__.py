"""aioscard: asyncio-native smartcard (PC/SC) access, with pyscard's concepts.

>>> reader = (await aioscard.readers())[0]
>>> async with reader.createConnection() as connection:
...     data, sw1, sw2 = await connection.transmit([0x00, 0x84, 0x00, 0x00, 0x08])

Works under asyncio (including uvloop) and trio.  PC/SC calls never run on the
event-loop thread: each connection owns a context on its own worker thread.
"""

from __future__ import annotations

from . import exceptions as exceptions
from ._blocking import BlockingConnection as BlockingConnection
from .apdu import Response as Response
from .card import Card as Card
from .cardtype import AnyCardType as AnyCardType
from .cardtype import ATRCardType as ATRCardType
from .cardtype import CardType as CardType
from .connection import CardConnection as CardConnection
from .exceptions import CancelledException as CancelledException
from .exceptions import CardConnectionException as CardConnectionException
from .exceptions import CardRemovedException as CardRemovedException
from .exceptions import CardRequestException as CardRequestException
from .exceptions import CardRequestTimeoutException as CardRequestTimeoutException
from .exceptions import CardResetException as CardResetException
from .exceptions import CardServiceException as CardServiceException
from .exceptions import DialogueCancelled as DialogueCancelled
from .exceptions import InvalidATRMaskLengthException as InvalidATRMaskLengthException
from .exceptions import InvalidReaderException as InvalidReaderException
from .exceptions import InvalidResponseException as InvalidResponseException
from .exceptions import NoCardException as NoCardException
from .exceptions import NoReadersException as NoReadersException
from .exceptions import NotTransactedException as NotTransactedException
from .exceptions import ReaderUnavailableException as ReaderUnavailableException
from .exceptions import ServiceUnavailableException as ServiceUnavailableException
from .exceptions import SharingViolationException as SharingViolationException
from .exceptions import SmartcardException as SmartcardException
from .exceptions import TimeoutException as TimeoutException
from .observer import CardConnectionEvent as CardConnectionEvent
from .observer import CardConnectionObserver as CardConnectionObserver
from .observer import LoggingCardConnectionObserver as LoggingCardConnectionObserver
from .reader import Reader as Reader
from .request import CardRequest as CardRequest
from .service import CardService as CardService
from .service import PassThruCardService as PassThruCardService
from .system import readergroups as readergroups
from .system import readers as readers
from .transport import TransportOptions as TransportOptions

__version__ = "0.1.0.dev0"

__all__ = [
    "ATRCardType",
    "AnyCardType",
    "BlockingConnection",
    "CancelledException",
    "Card",
    "CardConnection",
    "CardConnectionEvent",
    "CardConnectionException",
    "CardConnectionObserver",
    "CardRemovedException",
    "CardRequest",
    "CardRequestException",
    "CardRequestTimeoutException",
    "CardResetException",
    "CardService",
    "CardServiceException",
    "CardType",
    "DialogueCancelled",
    "InvalidATRMaskLengthException",
    "InvalidReaderException",
    "InvalidResponseException",
    "LoggingCardConnectionObserver",
    "NoCardException",
    "NoReadersException",
    "NotTransactedException",
    "PassThruCardService",
    "Reader",
    "ReaderUnavailableException",
    "Response",
    "ServiceUnavailableException",
    "SharingViolationException",
    "SmartcardException",
    "TimeoutException",
    "TransportOptions",
    "exceptions",
    "readergroups",
    "readers",
]
