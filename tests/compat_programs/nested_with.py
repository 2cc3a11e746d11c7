from smartcard.CardRequest import CardRequest
from smartcard.CardType import AnyCardType
cardrequest = CardRequest(timeout=10, cardType=AnyCardType())
with cardrequest.waitforcard() as cardservice:
    with cardservice.connection as connection:
        atr = connection.getATR()
        response, sw1, sw2 = connection.transmit([0x00, 0xCA, 0x9F, 0x7F, 0x00])
