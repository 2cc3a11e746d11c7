"""Hold the card exclusively: a second connection is refused until we let go."""

from smartcard.Exceptions import CardConnectionException
from smartcard.ExclusiveConnectCardConnection import ExclusiveConnectCardConnection
from smartcard.ExclusiveTransmitCardConnection import ExclusiveTransmitCardConnection
from smartcard.System import readers
from smartcard.util import toHexString

reader = readers()[0]
connection = ExclusiveTransmitCardConnection(
    ExclusiveConnectCardConnection(reader.createConnection())
)
connection.connect()
other = reader.createConnection()
try:
    other.connect()
except CardConnectionException as error:
    print("second connection refused:", type(error).__name__)
else:
    raise SystemExit("the card was not held exclusively")
connection.lock()
try:
    response, sw1, sw2 = connection.transmit([0x00, 0x84, 0x00, 0x00, 0x08])
    print("challenge:", len(response), "bytes,", f"SW {sw1:02X}{sw2:02X}")
finally:
    connection.unlock()
connection.disconnect()
other.connect()
print("after release:", toHexString(other.getATR()))
other.disconnect()
