"""Answer-to-reset constants for virtual cards.

Every ATR here is valid by ISO/IEC 7816-3: when a protocol other than T=0 is
indicated, the check byte TCK makes the XOR of T0..TCK zero.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = [
    "ATR_T0",
    "ATR_T0_T1",
    "ATR_T1",
    "DEMO_ATR",
    "MASKABLE_ATR",
    "MAX_ATR_LENGTH",
    "check_atr",
    "with_tck",
]

#: ISO/IEC 7816-3 and PC/SC limit an ATR to 33 bytes.
MAX_ATR_LENGTH = 33

_HISTORICAL = b"aioscard"


def with_tck(atr_without_tck: bytes) -> bytes:
    """Return ``atr_without_tck`` followed by its check byte TCK.

    TCK is the XOR of every byte after TS, so that T0..TCK XOR to zero.
    """
    tck = 0
    for byte in atr_without_tck[1:]:
        tck ^= byte
    return atr_without_tck + bytes([tck])


def check_atr(atr: bytes | bytearray | memoryview | Sequence[int], name: str = "atr") -> bytes:
    """Validate an ATR given as bytes or a sequence of ints and return it as bytes.

    Only the length is checked (1..33 bytes): tests may want odd ATRs.

    Raises:
        TypeError: ``atr`` is not bytes-like or a sequence of ints.
        ValueError: an item is outside 0..255, or the ATR is empty or longer than
            33 bytes.  The message names ``name``.
    """
    if isinstance(atr, (bytes, bytearray, memoryview)):
        value = bytes(atr)
    elif isinstance(atr, Sequence):
        if not all(isinstance(item, int) for item in atr):
            raise TypeError(f"{name} must be bytes or a sequence of ints")
        if not all(0 <= item <= 255 for item in atr):
            raise ValueError(f"{name} items must be in 0..255")
        value = bytes(atr)
    else:
        raise TypeError(f"{name} must be bytes or a sequence of ints, not {type(atr).__name__}")
    if not 1 <= len(value) <= MAX_ATR_LENGTH:
        raise ValueError(f"{name} must be 1..{MAX_ATR_LENGTH} bytes long, got {len(value)}")
    return value


#: T=0 only: no interface bytes, so no TCK.  ``3B 08 'aioscard'``.
ATR_T0 = bytes([0x3B, 0x08]) + _HISTORICAL

#: T=1 only: TD1 = 01.  ``3B 88 01 'aioscard' TCK``.
ATR_T1 = with_tck(bytes([0x3B, 0x88, 0x01]) + _HISTORICAL)

#: T=0 and T=1: TD1 = 80 (T=0, TD2 follows), TD2 = 01.  ``3B 88 80 01 'aioscard' TCK``.
ATR_T0_T1 = with_tck(bytes([0x3B, 0x88, 0x80, 0x01]) + _HISTORICAL)

#: The ATR of the demo card: T=1 only.
DEMO_ATR = ATR_T1

#: A 32-byte ATR that a legacy test waits for with an ATR mask.
MASKABLE_ATR = bytes.fromhex("3B7F96000080318065B084418254434F53700247004432760000000000000000")
