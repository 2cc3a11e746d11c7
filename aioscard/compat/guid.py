"""pyscard's ``smartcard.guid``: GUIDs as ``{XXXXXXXX-...}`` text or 16 bytes (Windows layout)."""

from __future__ import annotations

import uuid

from aioscard._bytes import ByteInput, as_bytes

__all__ = ["GUIDToStr", "strToGUID"]


class _NotAString(TypeError, AttributeError):
    """A TypeError that is also the AttributeError pyscard raised for a non-str GUID."""


def strToGUID(s: str) -> list[int]:
    """The 16 bytes of the GUID ``s`` (``"{AD4F1667-EA75-4124-84D4-641B3B197C65}"``),
    in the little-endian field order Windows stores GUIDs in.

    Raises:
        ValueError: ``s`` is not a GUID.  TypeError: ``s`` is not a str (also an
            AttributeError, which pyscard raised).
    """
    if not isinstance(s, str):
        raise _NotAString(f"s must be a str, not {type(s).__name__}")
    return list(uuid.UUID(s).bytes_le)


def GUIDToStr(g: ByteInput) -> str:
    """The text form (upper case, in braces) of the 16 GUID bytes ``g``.

    Raises:
        ValueError: ``g`` is not 16 ints in 0..255.  TypeError: not bytes or ints.
    """
    data = as_bytes(g, "g")
    if len(data) != 16:
        raise ValueError(f"a GUID is 16 bytes, got {len(data)}")
    return "{" + str(uuid.UUID(bytes_le=data)).upper() + "}"
