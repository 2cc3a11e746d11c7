"""pyscard's ``smartcard.pcsc`` package: the PC/SC flavour of readers and connections."""
