"""Bytes and hex text as callers pass them, checked: internal API for aioscard's modules.

The one place that turns "some bytes" -- ``bytes``, ``bytearray``, a buffer of
unsigned bytes, a sequence of ints -- into ``bytes``, and hex text into bytes,
with a ``TypeError`` or ``ValueError`` that names the argument.  The APDU
helpers (:mod:`aioscard.apdu`), ATRs (:mod:`aioscard.atr`), the byte helpers of
:mod:`aioscard.util`, the shim's ``smartcard.scard`` and the other modules
that take bytes import it from here.  :data:`ByteInput` is public as
``aioscard.apdu.ByteInput`` and ``aioscard.util.ByteInput``; the functions are
internal and may change with any release.
"""

from __future__ import annotations

from collections.abc import Sequence
from operator import index
from typing import NoReturn, TypeAlias

__all__ = ["ByteInput", "as_bytes", "parse_hex", "type_name"]

#: What aioscard accepts as "some bytes".  A ``str`` is not bytes:
#: it is rejected rather than guessed at.
ByteInput: TypeAlias = bytes | bytearray | memoryview | Sequence[int]


def type_name(value: object) -> str:
    """The name of ``value``'s type, for messages."""
    return type(value).__name__


def _from_memoryview(view: memoryview, name: str) -> bytes:
    if view.format != "B" or view.itemsize != 1:
        raise TypeError(
            f"{name} must hold unsigned bytes (memoryview format 'B'), "
            f"got a buffer of format {view.format!r}"
        )
    if not view.c_contiguous:
        raise ValueError(f"{name} must be a contiguous buffer")
    return view.tobytes()


def _raise_bad_item(values: Sequence[object], name: str) -> NoReturn:
    # Only reached once the fast conversion has failed (or met a bool): find
    # the first offending item so the message can point at it.
    for position, item in enumerate(values):
        if isinstance(item, bool):
            raise TypeError(f"{name}[{position}] must be an int, not bool")
        try:
            number = index(item)  # type: ignore[arg-type]
        except TypeError:
            raise TypeError(f"{name}[{position}] must be an int, not {type_name(item)}") from None
        if not 0 <= number <= 255:
            raise ValueError(f"{name}[{position}] must be in 0..255, got {number}")
    raise TypeError(f"{name} must be a sequence of ints in 0..255")


def as_bytes(value: object, name: str) -> bytes:
    """Return ``value`` as ``bytes``, checking every item is a byte value.

    Accepts ``bytes``, ``bytearray``, a contiguous buffer of unsigned bytes
    (``memoryview``, ``array.array('B')``, ...) or a sequence of ints in
    0..255.  Raises ``TypeError`` for a ``str``, for another kind of object, for
    a non-int item or a ``bool`` item, and ``ValueError`` for an int outside
    0..255; the message names ``name`` (and the index of a bad item).  The
    value itself is never echoed whole: it may be a PIN.
    """
    if isinstance(value, bytes):
        return value
    if isinstance(value, bytearray):
        return bytes(value)
    if isinstance(value, memoryview):
        return _from_memoryview(value, name)
    if isinstance(value, str):
        raise TypeError(
            f"{name} must be bytes, bytearray, memoryview or a sequence of ints, "
            "not str; convert hex text first, e.g. with bytes.fromhex(text)"
        )
    if not isinstance(value, (list, tuple)):
        # Other buffer exporters (array.array, numpy arrays, mmap): bytes()
        # would copy their raw memory, which is wrong for wider items.
        try:
            view = memoryview(value)  # type: ignore[arg-type]
        except TypeError:
            pass
        else:
            with view:
                return _from_memoryview(view, name)
        if not isinstance(value, Sequence):
            raise TypeError(
                f"{name} must be bytes, bytearray, memoryview or a sequence of ints, "
                f"not {type_name(value)}"
            )
    try:
        converted = bytes(value)
    except (TypeError, ValueError):
        _raise_bad_item(value, name)
    if bool in map(type, value):  # bytes() takes True and False as 1 and 0
        _raise_bad_item(value, name)
    return converted


def parse_hex(text: str, name: str) -> bytes:
    """Parse hex text ignoring whitespace and colons; errors name ``name``."""
    if not isinstance(text, str):
        raise TypeError(f"{name} must be a str of hex digits, not {type_name(text)}")
    digits: list[str] = []
    for position, char in enumerate(text):
        if char in "0123456789abcdefABCDEF":
            digits.append(char)
        elif not (char == ":" or char.isspace()):
            raise ValueError(
                f"{name} is not hex: {char!r} at position {position} is not a hex digit"
            )
    if len(digits) % 2:
        raise ValueError(f"{name} is not hex: it has an odd number of hex digits ({len(digits)})")
    return bytes.fromhex("".join(digits))
