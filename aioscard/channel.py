"""Logical channels (ISO/IEC 7816-4): several independent sessions with one card.

``async with connection.channel() as channel:`` opens a channel with MANAGE
CHANNEL, yields a :class:`LogicalChannel`, and closes it when the block ends,
however it ends (normally, by an exception, or by cancellation; the closing
itself is shielded from cancellation)::

    async with connection.channel() as first, connection.channel() as second:
        await iso7816.select(first, aid=AID_A)      # each channel has its own
        await iso7816.select(second, aid=AID_B)     # current application and file

A channel's :meth:`~LogicalChannel.transmit` puts its number in the class
byte: channels 1..3 in b2-b1, channels 4..19 in the further interindustry
coding (``0x4X``).  Commands are given as for the basic channel (``00 A4 ...``,
``80 CA ...``).  All channels share the connection: their commands are queued
on its worker one at a time, each with its GET RESPONSE and chaining rounds
(see :class:`~aioscard.TransportOptions`), so several tasks may use several
channels at once without their APDUs mixing.  The basic channel (the
connection itself) stays usable all along.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

import anyio
import anyio.lowlevel

from . import exceptions as exc
from .apdu import ByteInput, Response, build_apdu, coerce_apdu
from .sw.exceptions import SWException
from .transport import channel_of, with_channel

if TYPE_CHECKING:
    from .connection import CardConnection

__all__ = ["MAX_CHANNEL", "LogicalChannel", "open_channel"]

_log = logging.getLogger("aioscard.channel")

#: The highest logical channel number ISO/IEC 7816-4 defines (0 is the basic channel).
MAX_CHANNEL = 19
_INS_MANAGE_CHANNEL = 0x70


def _check_number(number: object) -> int | None:
    if number is None:
        return None
    if isinstance(number, bool) or not isinstance(number, int):
        raise TypeError(f"channel number must be an int or None, not {type(number).__name__}")
    if not 1 <= number <= MAX_CHANNEL:
        raise ValueError(
            f"channel number must be 1..{MAX_CHANNEL}, got {number} "
            "(0 is the basic channel: use the connection itself)"
        )
    return number


class LogicalChannel:
    """One open logical channel of a connection (made by ``connection.channel()``).

    Use it where a connection is used for APDUs: :meth:`transmit` and the
    :mod:`aioscard.iso7816` commands.  After the ``async with`` block it is
    closed and :meth:`transmit` raises.
    """

    def __init__(self, connection: CardConnection, number: int) -> None:
        self.connection = connection
        self.number = number
        self.closed = False

    def __repr__(self) -> str:
        state = "closed" if self.closed else "open"
        return f"<LogicalChannel {self.number} of {self.connection.reader!r} {state}>"

    def getATR(self) -> list[int]:
        """The card's ATR (the connection's)."""
        return self.connection.getATR()

    def _command(self, command: ByteInput) -> bytes:
        raw = coerce_apdu(command)
        cla = raw[0]
        if cla == 0xFF:
            raise ValueError(
                "command has class byte FF (a reader pseudo-APDU), which addresses no "
                "logical channel; send it on the connection"
            )
        named = channel_of(cla)
        if named not in (0, self.number):
            raise ValueError(
                f"command's class byte {cla:02X} names channel {named}, but this is "
                f"channel {self.number}; give the command as for the basic channel"
            )
        return bytes((with_channel(cla, self.number),)) + raw[1:]

    async def transmit(self, command: ByteInput, protocol: int | None = None) -> Response:
        """Send ``command`` on this channel (its class byte rewritten) and return the response.

        ``command`` is given as for the basic channel; ``protocol`` is as for
        :meth:`CardConnection.transmit <aioscard.CardConnection.transmit>`.

        Raises:
            CardConnectionException: the channel is closed; and whatever the
                connection's ``transmit`` raises.
            ValueError: a class byte of FF, or one that names another channel or
                that this channel's number cannot be put in.

        Cancellation: as for the connection's ``transmit``.
        """
        if self.closed:
            raise exc.CardConnectionException(f"logical channel {self.number} is closed")
        return await self.connection.transmit(self._command(command), protocol)

    async def close(self) -> None:
        """Close the channel (MANAGE CHANNEL close, on the basic channel); idempotent.

        The channel counts as closed afterwards even when the card could not be
        told (removed, say): the error is raised, and the card forgets its
        channels at its next reset anyway.

        Raises:
            SWException: the card refused to close it.
            CardConnectionException: or a subclass, as ``transmit`` raises.

        Cancellation: completes regardless (shielded).
        """
        if self.closed:
            return
        self.closed = True
        with anyio.CancelScope(shield=True):
            response = await self.connection.transmit(
                build_apdu(0x00, _INS_MANAGE_CHANNEL, 0x80, self.number)
            )
        if not response.ok:
            raise SWException(
                response.data,
                response.sw1,
                response.sw2,
                f"MANAGE CHANNEL could not close channel {self.number}",
            )


async def _open(connection: CardConnection, number: int | None) -> LogicalChannel:
    if number is None:
        command = build_apdu(0x00, _INS_MANAGE_CHANNEL, 0x00, 0x00, b"", 1)
    else:
        command = build_apdu(0x00, _INS_MANAGE_CHANNEL, 0x00, number)
    # Shielded: once the card has opened a channel we must learn its number to close it.
    with anyio.CancelScope(shield=True):
        response = await connection.transmit(command)
    if not response.ok:
        raise SWException(
            response.data,
            response.sw1,
            response.sw2,
            "MANAGE CHANNEL could not open a channel"
            + ("" if number is None else f" numbered {number}"),
        )
    if number is None:
        if len(response.data) != 1 or not 1 <= response.data[0] <= MAX_CHANNEL:
            raise exc.InvalidResponseException(
                f"MANAGE CHANNEL answered {response.data_bytes.hex().upper() or 'nothing'} "
                f"where one channel number 01..{MAX_CHANNEL:02X} belongs"
            )
        number = response.data[0]
    return LogicalChannel(connection, number)


@contextlib.asynccontextmanager
async def open_channel(
    connection: CardConnection, number: int | None = None
) -> AsyncIterator[LogicalChannel]:
    """Open a logical channel for the ``async with`` block; close it when the block ends.

    ``number=None`` lets the card choose (MANAGE CHANNEL open, P2 00); a number
    1..19 asks for that one.  This is what ``connection.channel()`` returns.

    Raises:
        TypeError, ValueError: a number that is not an int in 1..19 (before
            anything is sent).
        SWException: the card refused (``6881`` no logical channels, ``6A81``
            none left or that one taken).
        InvalidResponseException: the card answered no valid channel number.
        CardConnectionException: or a subclass, as ``transmit`` raises.

    Cancellation: opening completes (shielded) and the channel is then closed;
    closing always completes (shielded).  An error while closing after the
    block raised is logged, not raised over the block's own exception.
    """
    number = _check_number(number)
    channel = await _open(connection, number)
    try:
        await anyio.lowlevel.checkpoint()  # a cancellation during the open lands here
        yield channel
    except BaseException:
        try:
            await channel.close()
        except (exc.SmartcardException, SWException) as error:
            _log.warning("could not close logical channel %d: %s", channel.number, error)
        raise
    await channel.close()
