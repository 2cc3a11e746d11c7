"""pyscard's ``smartcard.sw`` package: status-word error checking, from :mod:`aioscard.sw`."""
