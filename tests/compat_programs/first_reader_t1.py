from smartcard.System import readers
reader = readers()[0]
connection = reader.createConnection()
try:
    connection.connect(connection.T1_protocol)
    response, sw1, sw2 = connection.transmit([0x00, 0x84, 0x00, 0x00, 0x08])
    print(' '.join(f'{b:02X}' for b in response), f"{sw1:02X}{sw2:02X}")
finally:
    connection.disconnect()
