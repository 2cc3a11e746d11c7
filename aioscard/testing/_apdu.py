"""Parsing and building command APDUs (ISO/IEC 7816-4 short and extended cases).

Card handlers receive raw bytes; :meth:`CommandAPDU.parse` splits them into
header, data and Ne so a handler need not repeat the length-encoding rules.
"""

from __future__ import annotations

from typing import NamedTuple

__all__ = ["MAX_EXTENDED_NE", "MAX_SHORT_NE", "CommandAPDU", "status"]

#: Ne for a short Le of 00.
MAX_SHORT_NE = 256
#: Ne for an extended Le of 00 00.
MAX_EXTENDED_NE = 65536


def status(sw: int) -> bytes:
    """The two status bytes SW1 SW2 of ``sw`` (e.g. ``0x9000``)."""
    return sw.to_bytes(2, "big")


class CommandAPDU(NamedTuple):
    """A command APDU split into its fields.

    ``ne`` is the number of response bytes expected: None when Le is absent,
    otherwise 1..256 (short) or 1..65536 (extended); an Le of 00 (00 00) means
    the maximum.  ``extended`` tells which length encoding was or will be used.
    """

    cla: int
    ins: int
    p1: int
    p2: int
    data: bytes = b""
    ne: int | None = None
    extended: bool = False

    @classmethod
    def parse(cls, apdu: bytes) -> CommandAPDU:
        """Split a raw command APDU into its fields.

        Raises:
            ValueError: ``apdu`` is shorter than 4 bytes or its length bytes are
                inconsistent with its size (a card answers 67 00).
        """
        size = len(apdu)
        if size < 4:
            raise ValueError(f"apdu must be at least 4 bytes, got {size}")
        cla, ins, p1, p2 = apdu[0], apdu[1], apdu[2], apdu[3]
        if size == 4:
            return cls(cla, ins, p1, p2)
        first = apdu[4]
        if size == 5:
            return cls(cla, ins, p1, p2, ne=first or MAX_SHORT_NE)
        if first != 0:
            if size == 5 + first:
                return cls(cla, ins, p1, p2, bytes(apdu[5:]))
            if size == 6 + first:
                return cls(cla, ins, p1, p2, bytes(apdu[5:-1]), apdu[-1] or MAX_SHORT_NE)
            raise ValueError(f"short Lc {first} does not match an APDU of {size} bytes")
        wide = int.from_bytes(apdu[5:7], "big")
        if size == 7:
            return cls(cla, ins, p1, p2, ne=wide or MAX_EXTENDED_NE, extended=True)
        if wide == 0:
            raise ValueError("extended Lc must not be 0")
        if size == 7 + wide:
            return cls(cla, ins, p1, p2, bytes(apdu[7:]), extended=True)
        if size == 9 + wide:
            ne = int.from_bytes(apdu[-2:], "big") or MAX_EXTENDED_NE
            return cls(cla, ins, p1, p2, bytes(apdu[7:-2]), ne, extended=True)
        raise ValueError(f"extended Lc {wide} does not match an APDU of {size} bytes")

    def to_bytes(self) -> bytes:
        """Encode the APDU, in the extended form when ``extended`` is set.

        Raises:
            ValueError: a header byte is outside 0..255, the data or Ne does not
                fit the chosen encoding (short: 255 data bytes, Ne 1..256;
                extended: 65535 data bytes, Ne 1..65536).
        """
        header = (self.cla, self.ins, self.p1, self.p2)
        if not all(0 <= byte <= 255 for byte in header):
            raise ValueError("cla, ins, p1 and p2 must be in 0..255")
        max_data, max_ne, width = (65535, MAX_EXTENDED_NE, 2) if self.extended else (255, 256, 1)
        if len(self.data) > max_data:
            raise ValueError(f"data of {len(self.data)} bytes exceeds {max_data}")
        if self.ne is not None and not 1 <= self.ne <= max_ne:
            raise ValueError(f"ne must be in 1..{max_ne}, got {self.ne}")
        out = bytearray(header)
        if self.data:
            if self.extended:
                out.append(0)
            out += len(self.data).to_bytes(width, "big")
            out += self.data
        if self.ne is not None:
            if self.extended and not self.data:
                out.append(0)
            out += (self.ne % max_ne).to_bytes(width, "big")
        return bytes(out)
