"""pyscard's ``smartcard.pcsc.PCSCCardConnection``: here the one connection class,
and pyscard's translations between its protocol bits and PC/SC's."""

from __future__ import annotations

from ..CardConnection import CardConnection
from ..CardConnection import CardConnection as PCSCCardConnection
from ..scard import scard as _scard

__all__ = [
    "PCSCCardConnection",
    "dictProtocol",
    "dictProtocolHeader",
    "translateprotocolheader",
    "translateprotocolmask",
]

#: PC/SC protocol header (``SCARD_PCI_*``) -> its name.
dictProtocolHeader = {
    _scard.SCARD_PCI_T0: "T0",
    _scard.SCARD_PCI_T1: "T1",
    _scard.SCARD_PCI_RAW: "RAW",
}

#: PC/SC protocol bits (``SCARD_PROTOCOL_*``) -> their name.
dictProtocol = {
    _scard.SCARD_PROTOCOL_T0: "T0",
    _scard.SCARD_PROTOCOL_T1: "T1",
    _scard.SCARD_PROTOCOL_RAW: "RAW",
    _scard.SCARD_PROTOCOL_T15: "T15",
    _scard.SCARD_PROTOCOL_T0 | _scard.SCARD_PROTOCOL_T1: "T0 or T1",
}

_MASK_BITS = (
    (CardConnection.T0_protocol, _scard.SCARD_PROTOCOL_T0),
    (CardConnection.T1_protocol, _scard.SCARD_PROTOCOL_T1),
    (CardConnection.RAW_protocol, _scard.SCARD_PROTOCOL_RAW),
    (CardConnection.T15_protocol, _scard.SCARD_PROTOCOL_T15),
)

_HEADERS = {
    CardConnection.T0_protocol: _scard.SCARD_PCI_T0,
    CardConnection.T1_protocol: _scard.SCARD_PCI_T1,
    CardConnection.RAW_protocol: _scard.SCARD_PCI_RAW,
}


def translateprotocolmask(protocol: int | None) -> int:
    """The PC/SC protocol bits for ``CardConnection.*_protocol`` bits (0 for None).

    Raises:
        TypeError: ``protocol`` is not an int or None.
    """
    if protocol is None:
        return 0
    return sum(pcsc for bit, pcsc in _MASK_BITS if protocol & bit)


def translateprotocolheader(protocol: int | None) -> int:
    """The ``SCARD_PCI_*`` header for exactly one of ``T0_protocol``,
    ``T1_protocol`` or ``RAW_protocol``; 0 for anything else."""
    if protocol is None:
        return 0
    return _HEADERS.get(protocol, 0)
