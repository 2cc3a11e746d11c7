"""pyscard's ``smartcard.CardConnectionObserver``: observers of connection events.

:class:`CardConnectionObserver` is aioscard's own class, so an observer
written for either API works with both.
"""

from __future__ import annotations

from typing import Any

from aioscard.apdu import format_apdu
from aioscard.observer import CardConnectionEvent
from aioscard.observer import CardConnectionObserver as CardConnectionObserver
from aioscard.util import toHexString

__all__ = ["CardConnectionObserver", "ConsoleCardConnectionObserver"]

_LIFECYCLE = {
    "connect": "connecting to ",
    "reconnect": "reconnecting to ",
    "disconnect": "disconnecting from ",
    "release": "release from ",
}


class ConsoleCardConnectionObserver(CardConnectionObserver):
    """Prints every connection event, pyscard style (``> 00 A4 ...``, ``< ... 90 00``).

    The data of PIN-bearing commands is shown as a byte count unless secrets
    are revealed (see :func:`aioscard.apdu.set_reveal_secrets`).
    """

    def update(self, cardconnection: Any, ccevent: CardConnectionEvent) -> None:
        """Print ``ccevent``."""
        kind = ccevent.type
        if kind in _LIFECYCLE:
            print(_LIFECYCLE[kind] + cardconnection.getReader())
        elif kind == "command":
            print("> " + format_apdu(ccevent.args[0]))
        elif kind == "response":
            data, sw1, sw2 = ccevent.args[0], ccevent.args[-2], ccevent.args[-1]
            status = f" {sw1:02X} {sw2:02X}"
            print(("<  []" if not data else "< " + toHexString(data)) + status)
        else:
            print("unknown event:", kind)
