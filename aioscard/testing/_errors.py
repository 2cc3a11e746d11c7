"""Exceptions of :mod:`aioscard.testing`."""

from __future__ import annotations

__all__ = ["DropConnection", "SimulatorError"]


class DropConnection(Exception):
    """Raised by a card handler to make the virtual card vanish mid-APDU.

    The :class:`~aioscard.testing.VirtualCard` closes its connection to the
    reader driver without answering, as a card pulled out during a command
    would.  libpcsclite then reports success with an empty response (see the
    project's PC/SC notes), which the layers above must turn into an error.
    """


class SimulatorError(RuntimeError):
    """The private pcscd could not be started, or a simulator call was misused."""
