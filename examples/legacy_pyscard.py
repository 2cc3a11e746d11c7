"""A legacy pyscard program, run unchanged on aioscard's synchronous shim.

    python -m aioscard.compat examples/legacy_pyscard.py

``python -m aioscard.compat`` makes ``import smartcard...`` resolve to
``aioscard.compat`` (so does ``aioscard.compat.install_as_smartcard()``), then
runs the script.  Nothing below knows about aioscard.
"""

from __future__ import annotations

# The `smartcard` package is served by aioscard.compat at run time; type
# checkers only know it under that name, hence the ignores.
from smartcard.CardConnectionObserver import (  # type: ignore[import-not-found]
    ConsoleCardConnectionObserver,
)
from smartcard.CardRequest import CardRequest  # type: ignore[import-not-found]
from smartcard.CardType import AnyCardType  # type: ignore[import-not-found]
from smartcard.sw.ErrorCheckingChain import ErrorCheckingChain  # type: ignore[import-not-found]
from smartcard.sw.ISO7816_4ErrorChecker import (  # type: ignore[import-not-found]
    ISO7816_4ErrorChecker,
)
from smartcard.sw.SWExceptions import CheckingErrorException  # type: ignore[import-not-found]
from smartcard.System import readers  # type: ignore[import-not-found]
from smartcard.util import toBytes, toHexString  # type: ignore[import-not-found]

print("readers:", [str(reader) for reader in readers()])

cardrequest = CardRequest(timeout=10, cardType=AnyCardType())
cardservice = cardrequest.waitforcard()
with cardservice:
    connection = cardservice.connection
    connection.addObserver(ConsoleCardConnectionObserver())
    connection.connect()
    print("ATR:", toHexString(connection.getATR()))

    response, sw1, sw2 = connection.transmit(toBytes("00 84 00 00 08"))
    print(f"GET CHALLENGE: {toHexString(response)} {sw1:02X} {sw2:02X}")

    connection.setErrorCheckingChain([ErrorCheckingChain([], ISO7816_4ErrorChecker())])
    try:
        connection.transmit(toBytes("00 A4 04 00 05 F0 00 00 00 00"))  # an unknown AID
    except CheckingErrorException as error:
        print("SELECT of an unknown AID raised:", error)
