"""pyscard's ``smartcard.reader`` package."""
