"""What a status word means, per ISO/IEC 7816-4 (section 5.6 of the 2013 edition)."""

from __future__ import annotations

from types import MappingProxyType

__all__ = ["describe_sw"]

# Status words with a meaning of their own.
_EXACT = MappingProxyType(
    {
        0x9000: "Normal processing",
        0x6200: "Warning, non-volatile memory unchanged: no information given",
        0x6281: "Part of returned data may be corrupted",
        0x6282: "End of file or record reached before reading Ne bytes, or unsuccessful search",
        0x6283: "Selected file deactivated",
        0x6284: "File control information not correctly formatted",
        0x6285: "Selected file in termination state",
        0x6286: "No input data available from a sensor on the card",
        0x6287: "At least one of the referenced records is deactivated",
        0x6300: "Warning, non-volatile memory changed: no information given",
        0x6340: "Unsuccessful comparison",
        0x6381: "File filled up by the last write",
        0x6400: "Execution error, non-volatile memory unchanged",
        0x6401: "Immediate response required by the card",
        0x6481: "Logical channel shared access denied",
        0x6482: "Logical channel opening denied",
        0x6500: "Execution error, non-volatile memory changed: no information given",
        0x6581: "Memory failure",
        0x6600: "Security-related issue",
        0x6700: "Wrong length",
        0x6800: "Function in CLA not supported: no information given",
        0x6881: "Logical channel not supported",
        0x6882: "Secure messaging not supported",
        0x6883: "Last command of the chain expected",
        0x6884: "Command chaining not supported",
        0x6900: "Command not allowed: no information given",
        0x6981: "Command incompatible with file structure",
        0x6982: "Security status not satisfied",
        0x6983: "Authentication method blocked",
        0x6984: "Reference data not usable",
        0x6985: "Conditions of use not satisfied",
        0x6986: "Command not allowed (no current EF)",
        0x6987: "Expected secure messaging data objects missing",
        0x6988: "Incorrect secure messaging data objects",
        0x6A00: "Wrong parameters P1-P2: no information given",
        0x6A80: "Incorrect parameters in the command data field",
        0x6A81: "Function not supported",
        0x6A82: "File or application not found",
        0x6A83: "Record not found",
        0x6A84: "Not enough memory space in the file",
        0x6A85: "Nc inconsistent with TLV structure",
        0x6A86: "Incorrect parameters P1-P2",
        0x6A87: "Nc inconsistent with parameters P1-P2",
        0x6A88: "Referenced data or reference data not found",
        0x6A89: "File already exists",
        0x6A8A: "DF name already exists",
        0x6B00: "Wrong parameters P1-P2",
        0x6D00: "Instruction code not supported or invalid",
        0x6E00: "Class not supported",
        0x6F00: "No precise diagnosis",
    }
)

# What SW1 alone says, for SW2 values with no meaning of their own.
_GROUPS = MappingProxyType(
    {
        0x62: "Warning, non-volatile memory unchanged",
        0x63: "Warning, non-volatile memory changed",
        0x64: "Execution error, non-volatile memory unchanged",
        0x65: "Execution error, non-volatile memory changed",
        0x66: "Security-related issue",
        0x67: "Wrong length",
        0x68: "Function in CLA not supported",
        0x69: "Command not allowed",
        0x6A: "Wrong parameters P1-P2",
        0x6B: "Wrong parameters P1-P2",
        0x6D: "Instruction code not supported or invalid",
        0x6E: "Class not supported",
        0x6F: "No precise diagnosis",
    }
)


def _check_status_byte(value: int, name: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int in 0..255, not {type(value).__name__}")
    if not 0 <= value <= 255:
        raise ValueError(f"{name} must be in 0..255, got {value}")


def describe_sw(sw1: int, sw2: int) -> str:
    """Return the ISO/IEC 7816-4 meaning of the status word ``sw1 sw2`` as one line.

    ``describe_sw(0x90, 0x00)`` is ``"Normal processing"``, ``(0x6A, 0x82)``
    ``"File or application not found"``, ``(0x63, 0xC2)`` ``"Verification
    failed, 2 retries left"``; ``61xx`` and ``6Cxx`` spell out their byte
    count.  A status word ISO leaves to the application or card (``9xxx``,
    unassigned SW2 values) is described by what its SW1 says, and a value
    that is no status word at all (SW1 not ``6x``/``9x``, or ``60``) says so.

    Raises ``TypeError`` when ``sw1`` or ``sw2`` is not an int (``bool`` is
    refused) and ``ValueError`` when it is outside 0..255.
    """
    _check_status_byte(sw1, "sw1")
    _check_status_byte(sw2, "sw2")
    sw = (sw1 << 8) | sw2
    exact = _EXACT.get(sw)
    if exact is not None:
        return exact
    if sw1 == 0x61:
        if sw2 == 0:
            return "256 or more bytes still available (use GET RESPONSE)"
        return f"{sw2} byte{'s' if sw2 != 1 else ''} still available (use GET RESPONSE)"
    if sw1 == 0x6C:
        return f"Wrong Le; exact length is {sw2 or 256}"
    if sw1 == 0x63 and sw2 & 0xF0 == 0xC0:
        retries = sw2 & 0x0F
        return f"Verification failed, {retries} retr{'y' if retries == 1 else 'ies'} left"
    if sw1 in (0x62, 0x64) and 0x02 <= sw2 <= 0x80:
        return f"{_GROUPS[sw1]}: triggering by the card ({sw2:02X})"
    group = _GROUPS.get(sw1)
    if group is not None:
        return f"{group} ({sw:04X}: no further meaning defined by ISO 7816-4)"
    if sw1 & 0xF0 == 0x90:
        return f"Proprietary status {sw:04X} (defined by the application or card)"
    if sw1 == 0x60:
        return "Not a status word: 60 is the NULL procedure byte of T=0"
    return f"Not a status word: SW1 {sw1:02X} is neither 6X nor 9X"
