from smartcard.CardRequest import CardRequest
from smartcard.CardType import AnyCardType
cardrequest = CardRequest(timeout=10, cardType=AnyCardType())
cardservice = cardrequest.waitforcard()
with cardservice:
    connection = cardservice.connection
    atr = connection.getATR()
    print(f"ATR: {' '.join(f'{b:02X}' for b in atr)}")
    response, sw1, sw2 = connection.transmit([0x00, 0xA4, 0x04, 0x00])
    print(f"Response: {response}, SW: {sw1:02X} {sw2:02X}")
