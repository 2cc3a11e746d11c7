"""ISO/IEC 7816-4 commands as coroutines: SELECT, READ/UPDATE BINARY, READ RECORD, GET DATA,
GET CHALLENGE, VERIFY; and the card capabilities that decide chaining and extended length.

Every function takes the *target* first: a :class:`~aioscard.CardConnection`,
or a logical channel from ``connection.channel()``; anything with an awaitable
``transmit(command)`` and a ``getATR()`` will do::

    async with reader.createConnection() as connection:
        fci = await iso7816.select(connection, aid=bytes.fromhex("A0000006472F0002"))
        data = await iso7816.read_binary(connection, sfi=1)

Each returns typed results (``bytes``, :class:`FileControl`, :class:`PinStatus`)
and raises the status-word exceptions of :mod:`aioscard.sw` when the card says
no: :class:`~aioscard.sw.CheckingErrorException` for ``6A82`` (not found) and
the other ``67xx``-``6Fxx``, :class:`~aioscard.sw.WarningProcessingException`
for ``62xx``/``63xx`` (a wrong PIN is ``63Cx``), and so on; the exception
carries ``sw1``, ``sw2`` and ``sw``.  Bad arguments raise ``TypeError`` or
``ValueError`` before anything is sent.

The commands go through the target's ``transmit``, and so through its
:class:`~aioscard.TransportOptions`: set ``connection.transport =
capabilities.transport_options()`` (see :class:`CardCapabilities`) to have
``61xx`` answered with GET RESPONSE, ``6Cxx`` corrected, and long commands
chained.  Without that, a ``61xx`` reaches these functions and is raised as an
:class:`~aioscard.sw.SWException` that says what to turn on.

Cancellation: each function returns at once when cancelled; a command already
with the card completes and its answer is dropped (see
:class:`~aioscard.CardConnection`).  A multi-command read cancelled half-way
leaves the current file selected.
"""

from __future__ import annotations

from collections.abc import Awaitable, Sequence
from typing import NamedTuple, Protocol

from .apdu import ByteInput, Response, build_apdu, coerce_bytes
from .atr import ATR
from .sw.checkers import ISO7816_4_SW1ErrorChecker, ISO7816_4ErrorChecker
from .sw.exceptions import SWException
from .tlv import TLV, parse
from .transport import TransportOptions

__all__ = [
    "CardCapabilities",
    "FileControl",
    "PinStatus",
    "Target",
    "get_challenge",
    "get_data",
    "read_binary",
    "read_capabilities",
    "read_record",
    "read_records",
    "select",
    "update_binary",
    "verify",
    "verify_status",
]

_MAX_SHORT_NC = 255
_MAX_SHORT_NE = 256
_MAX_EXTENDED_NC = 65535
_MAX_EXTENDED_NE = 65536
_MAX_OFFSET = 0x7FFF
_MAX_ODD_OFFSET = 0xFFFFFF  # a 3-byte offset data object
_FID_EF_ATR = 0x2F01


class Target(Protocol):
    """What the commands talk to: a connection, or one of its logical channels."""

    def transmit(self, command: bytes, /) -> Awaitable[Response]:
        """Send ``command``; the response (as :meth:`aioscard.CardConnection.transmit`)."""

    def getATR(self) -> list[int]:
        """The card's ATR."""


# ---------------------------------------------------------------------------
# Status words


_CHECKERS = (ISO7816_4ErrorChecker(), ISO7816_4_SW1ErrorChecker())


def _error_for(response: Response, what: str) -> SWException:
    """The SW exception for a response that is not ``90 00``."""
    try:
        for checker in _CHECKERS:
            checker(response.data, response.sw1, response.sw2)
    except SWException as error:
        return error
    if response.sw1 == 0x61:
        return SWException(
            response.data,
            response.sw1,
            response.sw2,
            f"{what}: the card has more data (61xx); set "
            "connection.transport = TransportOptions(get_response=True)",
        )
    return SWException(response.data, response.sw1, response.sw2)


def _raise_for(response: Response, what: str) -> None:
    if not response.ok:
        raise _error_for(response, what)


async def _send(target: Target, command: bytes, what: str) -> bytes:
    response = await target.transmit(command)
    _raise_for(response, what)
    return response.data_bytes


# ---------------------------------------------------------------------------
# Card capabilities


class CardCapabilities(NamedTuple):
    """What a card declares it can do (ISO/IEC 7816-4 card capabilities, extended length info).

    Read from the ATR's historical bytes (compact-TLV tag 7) with
    :meth:`from_atr`, or from EF.ATR with :func:`read_capabilities`.  An
    unknown card is assumed to do neither chaining nor extended length, and to
    have only the basic channel.
    """

    #: The first byte: selection methods (``0x80`` full DF name ... ``0x01`` record id).
    selection_methods: int = 0
    #: The second byte: data coding (``0x21`` is a one-byte data unit).
    data_coding: int = 0
    #: Command chaining (CLA bit b5) is supported.
    command_chaining: bool = False
    #: Extended Lc and Le fields are supported.
    extended_length: bool = False
    #: How many logical channels, the basic one included (8 stands for "8 or more").
    logical_channels: int = 1
    #: The longest command APDU in bytes, from EF.ATR's extended length information.
    max_command_length: int | None = None
    #: The longest response APDU in bytes, likewise.
    max_response_length: int | None = None

    @classmethod
    def from_bytes(cls, value: ByteInput) -> CardCapabilities:
        """Decode the 1..3 card-capability bytes (compact-TLV tag 7, BER-TLV tag 47).

        Raises ``TypeError``/``ValueError`` when ``value`` is not bytes-like.
        """
        raw = coerce_bytes(value, name="value", max_len=255)
        third = raw[2] if len(raw) >= 3 else 0
        return cls(
            selection_methods=raw[0] if raw else 0,
            data_coding=raw[1] if len(raw) >= 2 else 0,
            command_chaining=bool(third & 0x80),
            extended_length=bool(third & 0x40),
            logical_channels=(third & 0x07) + 1 if third & 0x18 else 1,
        )

    @classmethod
    def from_atr(cls, atr: ATR | ByteInput) -> CardCapabilities:
        """The capabilities the ATR's historical bytes declare (defaults when they say nothing).

        Raises what :class:`~aioscard.atr.ATR` raises for an invalid ATR.
        """
        parsed = atr if isinstance(atr, ATR) else ATR(atr)
        for item in parsed.historical.objects:
            if item.tag == 0x7:
                return cls.from_bytes(item.value)
        return cls()

    @property
    def max_command_data(self) -> int:
        """The most data bytes one command may carry: 255, or with extended length up to 65,535."""
        if not self.extended_length:
            return _MAX_SHORT_NC
        if self.max_command_length is None:
            return _MAX_EXTENDED_NC
        # Header, extended Lc (3 bytes) and Le (2 bytes) take 9 of the command's bytes.
        return max(1, min(_MAX_EXTENDED_NC, self.max_command_length - 9))

    @property
    def max_response_data(self) -> int:
        """The most data bytes to ask for in one response: 256, or with extended length more."""
        if not self.extended_length:
            return _MAX_SHORT_NE
        if self.max_response_length is None:
            return _MAX_EXTENDED_NE
        return max(1, min(_MAX_EXTENDED_NE, self.max_response_length - 2))

    def transport_options(
        self, *, get_response: bool = True, le_correction: bool = True
    ) -> TransportOptions:
        """Transport options for this card: GET RESPONSE and Le correction on, and commands
        longer than :attr:`max_command_data` chained when the card supports chaining."""
        return TransportOptions(
            get_response=get_response,
            le_correction=le_correction,
            chain_limit=self.max_command_data if self.command_chaining else None,
        )


def _capabilities(target: Target, given: CardCapabilities | None) -> CardCapabilities:
    if given is not None:
        if not isinstance(given, CardCapabilities):
            raise TypeError(f"capabilities must be a CardCapabilities, not {type(given).__name__}")
        return given
    return CardCapabilities.from_atr(target.getATR())


async def read_capabilities(target: Target) -> CardCapabilities:
    """The card's capabilities from its ATR, completed from EF.ATR (2F01) when it has one.

    EF.ATR's card capabilities (tag 47) take precedence over the ATR's, and its
    extended length information (tag 7F66) sets the longest command and
    response.  EF.ATR is selected by path from the MF (P1 08) and read; it
    stays the current EF.  A card without EF.ATR, or that refuses to select or
    read it, gives what its ATR declares.

    Raises :class:`~aioscard.tlv.TLVError` for an EF.ATR that is not BER-TLV,
    and what ``transmit`` raises (a removed card, say).

    Cancellation: the task resumes at once; the commands sent so far reached the
    card, and the one in flight completes with its response discarded (see
    :meth:`aioscard.CardConnection.transmit`).
    """
    capabilities = CardCapabilities.from_atr(target.getATR())
    try:
        await select(target, path=[_FID_EF_ATR], control=None)
        content = await read_binary(target)
    except SWException:
        return capabilities
    for item in parse(content, strict=False):
        if item.tag == 0x47:
            lengths = capabilities[5:]
            capabilities = CardCapabilities.from_bytes(item.value)._replace(
                max_command_length=lengths[0], max_response_length=lengths[1]
            )
        elif item.tag == 0x7F66:
            numbers = [int.from_bytes(child.value, "big") for child in item.children]
            if len(numbers) >= 2:
                capabilities = capabilities._replace(
                    max_command_length=numbers[0], max_response_length=numbers[1]
                )
    return capabilities


# ---------------------------------------------------------------------------
# SELECT


_STRUCTURES = {
    0x01: "transparent",
    0x02: "linear fixed",
    0x03: "linear fixed TLV",
    0x04: "linear variable",
    0x05: "linear variable TLV",
    0x06: "cyclic",
    0x07: "cyclic TLV",
}


class FileControl(NamedTuple):
    """What SELECT answered about a file: the FCI/FCP/FMD template, and its common fields.

    ``template`` is the parsed answer (``None`` when the card sent none, e.g.
    with ``control=None``); the other fields are ``None`` when absent.
    """

    template: TLV | None
    #: File identifier (tag 83).
    fid: int | None = None
    #: DF name, e.g. the AID (tag 84).
    df_name: bytes | None = None
    #: Application label (tag 50).
    label: str | None = None
    #: Number of data bytes of an EF (tag 80, else 81).
    size: int | None = None
    #: File descriptor byte (first byte of tag 82).
    descriptor: int | None = None
    #: Record length of a linear fixed or cyclic EF (bytes 3-4 of tag 82).
    record_length: int | None = None
    #: Number of records (byte 5 of tag 82).
    record_count: int | None = None
    #: Short EF identifier (tag 88, b8-b4).
    sfi: int | None = None
    #: Life cycle status byte (tag 8A).
    life_cycle: int | None = None

    @property
    def is_df(self) -> bool:
        """Whether the descriptor says DF (b6-b4 = 111)."""
        return self.descriptor is not None and self.descriptor & 0x38 == 0x38

    @property
    def structure(self) -> str | None:
        """ "transparent", "linear fixed", ..., "DF", or ``None`` when no descriptor was given."""
        if self.descriptor is None:
            return None
        if self.is_df:
            return "DF"
        return _STRUCTURES.get(self.descriptor & 0x07, "unknown")

    @classmethod
    def from_bytes(cls, data: ByteInput) -> FileControl:
        """Parse the data SELECT answered (leniently: cards pad and vary).

        Empty data gives a ``FileControl`` with every field ``None``.  Raises
        :class:`~aioscard.tlv.TLVError` for data that is not BER-TLV.
        """
        objects = parse(data, strict=False)
        if not objects:
            return cls(None)
        template = objects[0]
        scope = template if template.children else TLV(0x6F, objects)

        def value(tag: int) -> bytes | None:
            found = scope.find(tag)
            return None if found is None else found.value

        fid, size, descriptor = value(0x83), value(0x80) or value(0x81), value(0x82)
        sfi, lcs, label = value(0x88), value(0x8A), value(0x50)
        record_length = record_count = None
        if descriptor is not None and len(descriptor) >= 4:
            record_length = int.from_bytes(descriptor[2:4], "big")
            if len(descriptor) >= 5:
                record_count = descriptor[4]
        return cls(
            template=template,
            fid=int.from_bytes(fid, "big") if fid else None,
            df_name=value(0x84),
            label=label.decode("utf-8", "replace") if label is not None else None,
            size=int.from_bytes(size, "big") if size else None,
            descriptor=descriptor[0] if descriptor else None,
            record_length=record_length,
            record_count=record_count,
            sfi=sfi[0] >> 3 if sfi else None,
            life_cycle=lcs[0] if lcs else None,
        )


_CONTROLS = {"fci": 0x00, "fcp": 0x04, "fmd": 0x08, None: 0x0C}


def _fids(path: Sequence[int] | ByteInput) -> bytes:
    if isinstance(path, (bytes, bytearray, memoryview)):
        raw = coerce_bytes(path, name="path", max_len=_MAX_SHORT_NC)
        if not raw or len(raw) % 2:
            raise ValueError(f"path must be whole 2-byte file identifiers, got {len(raw)} bytes")
        return raw
    out = bytearray()
    for index, fid in enumerate(path):
        if isinstance(fid, bool) or not isinstance(fid, int):
            raise TypeError(f"path[{index}] must be an int FID, not {type(fid).__name__}")
        if not 0 <= fid <= 0xFFFF:
            raise ValueError(f"path[{index}] must be a 2-byte FID (0..0xFFFF), got {fid}")
        out += fid.to_bytes(2, "big")
    if not out:
        raise ValueError("path must name at least one file")
    return bytes(out)


async def select(
    target: Target,
    *,
    aid: ByteInput | None = None,
    fid: int | None = None,
    path: Sequence[int] | ByteInput | None = None,
    from_mf: bool = True,
    next_occurrence: bool = False,
    control: str | None = "fci",
) -> FileControl:
    """SELECT a file by exactly one of ``aid``, ``fid`` or ``path``, and parse the answer.

    - ``aid``: by DF name (P1 04), full or partial; ``next_occurrence=True``
      asks for the next DF whose name starts with it (P2 b2-b1 = 10).
    - ``fid``: by file identifier (P1 00): ``0x3F00`` is the MF.
    - ``path``: by path (P1 08 from the MF, or 09 from the current DF with
      ``from_mf=False``), FIDs as ints or as bytes, without the MF's 3F00.

    ``control`` is what to ask for: ``"fci"`` (P2 00, template 6F), ``"fcp"``
    (04, template 62), ``"fmd"`` (08, template 64) or ``None`` (0C, no answer).

    Raises:
        CheckingErrorException: ``6A82`` the file was not found, and the other
            status words of a refusal.
        TLVError: the answer is not BER-TLV.
        TypeError, ValueError: not exactly one of aid/fid/path, a bad value.

    Cancellation: the task resumes at once; the commands sent so far reached the
    card, and the one in flight completes with its response discarded (see
    :meth:`aioscard.CardConnection.transmit`).
    """
    given = [
        name for name, value in (("aid", aid), ("fid", fid), ("path", path)) if value is not None
    ]
    if len(given) != 1:
        raise TypeError(f"select() needs exactly one of aid, fid or path, got {given or 'none'}")
    if control is not None and not isinstance(control, str):
        raise TypeError(f"control must be a str or None, not {type(control).__name__}")
    if control not in _CONTROLS:
        raise ValueError(f"control must be 'fci', 'fcp', 'fmd' or None, got {control!r}")
    for flag, name in ((from_mf, "from_mf"), (next_occurrence, "next_occurrence")):
        if not isinstance(flag, bool):
            raise TypeError(f"{name} must be a bool, not {type(flag).__name__}")
    p2 = _CONTROLS[control] | (0x02 if next_occurrence else 0x00)
    if aid is not None:
        p1, data = 0x04, coerce_bytes(aid, name="aid", max_len=16, min_len=1)
    else:
        if next_occurrence:
            raise ValueError("next_occurrence applies to selection by aid only")
        if fid is not None:
            if isinstance(fid, bool) or not isinstance(fid, int):
                raise TypeError(f"fid must be an int, not {type(fid).__name__}")
            if not 0 <= fid <= 0xFFFF:
                raise ValueError(f"fid must be a 2-byte file identifier (0..0xFFFF), got {fid}")
            p1, data = 0x00, fid.to_bytes(2, "big")
        else:
            assert path is not None
            p1, data = (0x08 if from_mf else 0x09), _fids(path)
    le = None if control is None else _MAX_SHORT_NE
    answer = await _send(target, build_apdu(0x00, 0xA4, p1, p2, data, le), "SELECT")
    return FileControl.from_bytes(answer)


# ---------------------------------------------------------------------------
# Transparent EFs


def _check_sfi(sfi: object) -> int | None:
    if sfi is None:
        return None
    if isinstance(sfi, bool) or not isinstance(sfi, int):
        raise TypeError(f"sfi must be an int, not {type(sfi).__name__}")
    if not 1 <= sfi <= 30:
        raise ValueError(f"sfi must be a short EF identifier, 1..30, got {sfi}")
    return sfi


def _check_count(value: object, name: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, not {type(value).__name__}")
    if not low <= value <= high:
        raise ValueError(f"{name} must be in {low}..{high}, got {value}")
    return value


def _binary_p1p2(offset: int, sfi: int | None) -> tuple[int, int]:
    """P1 P2 of READ/UPDATE BINARY: short EF and offset (< 256), or the 15-bit offset."""
    if sfi is not None:
        if offset > 0xFF:
            raise ValueError(
                f"offset must be 0..255 when a short EF identifier is given, got {offset}; "
                "select the file, or read from offset 0 first"
            )
        return 0x80 | sfi, offset
    return offset >> 8, offset & 0xFF


def _read_command(position: int, sfi: int | None, wanted: int, extended: bool) -> bytes:
    """READ BINARY B0 where P1 P2 can address ``position``, else the odd B1 with an offset DO."""
    long_le = extended and wanted > _MAX_SHORT_NE
    if position <= (0xFF if sfi is not None else _MAX_OFFSET):
        p1, p2 = _binary_p1p2(position, sfi)
        return build_apdu(0x00, 0xB0, p1, p2, b"", wanted, extended=long_le)
    # P1-P2 0000 is the current EF; 00 then b5-b1 a short EF identifier.
    size = max(1, (position.bit_length() + 7) // 8)
    offset_do = TLV(0x54, position.to_bytes(size, "big")).to_bytes()
    return build_apdu(0x00, 0xB1, 0x00, sfi or 0x00, offset_do, wanted, extended=long_le)


def _unwrap_odd(response: Response) -> bytes:
    """The data of an odd-INS READ BINARY answer: the value of its DO 53."""
    if not response.data:
        return b""
    found = next(
        (item for item in parse(response.data_bytes, strict=False) if item.tag == 0x53), None
    )
    if found is None:
        raise SWException(
            response.data,
            response.sw1,
            response.sw2,
            "READ BINARY (B1) answered without a discretionary data object (53)",
        )
    return found.value


async def read_binary(
    target: Target,
    *,
    offset: int = 0,
    length: int | None = None,
    sfi: int | None = None,
    capabilities: CardCapabilities | None = None,
) -> bytes:
    """Read a transparent EF: ``length`` bytes from ``offset``, or (``length=None``) to its end.

    The EF is the current one, or the one with short identifier ``sfi`` (which
    then becomes current).  Reads ask for up to 256 bytes at a time, or with
    extended length (when ``capabilities``, by default the ATR's, declare it)
    for up to :attr:`CardCapabilities.max_response_data`.  Offsets P1-P2 cannot
    hold (past 0x7FFF, or past 0xFF with ``sfi``) go with the odd instruction
    B1 and an offset data object (54).  A ``6Cxx`` answer is asked again with
    Le ``xx``; ``6282`` (end of file reached) ends the read with the bytes
    returned, and so does ``6B00`` at an offset past the first read.

    Raises:
        CheckingErrorException: ``6986`` no EF selected, ``6981`` not a
            transparent EF, ``6B00`` an offset beyond the end, and other refusals.
        TLVError: a B1 answer that is not BER-TLV.
        ValueError: ``length`` bytes were asked for and the EF ended sooner, or
            other bad arguments; TypeError for wrong types.

    Cancellation: the task resumes at once; the commands sent so far reached the
    card, and the one in flight completes with its response discarded (see
    :meth:`aioscard.CardConnection.transmit`).
    """
    _check_count(offset, "offset", 0, _MAX_ODD_OFFSET)
    if length is not None:
        _check_count(length, "length", 1, _MAX_ODD_OFFSET)
    sfi = _check_sfi(sfi)
    chunk = _capabilities(target, capabilities).max_response_data
    extended = chunk > _MAX_SHORT_NE
    collected = bytearray()
    position = offset
    while length is None or len(collected) < length:
        wanted = chunk if length is None else min(chunk, length - len(collected))
        command = _read_command(position, sfi, wanted, extended)
        odd = command[1] == 0xB1
        if odd:
            wanted = min(chunk, wanted + 4)  # room for DO 53's tag and length
            command = _read_command(position, sfi, wanted, extended)
        response = await target.transmit(command)
        if response.sw1 == 0x6C:
            command = _read_command(position, sfi, response.sw2 or _MAX_SHORT_NE, False)
            response = await target.transmit(command)
        if response.sw == 0x6B00 and position > offset:
            break  # the previous read ended exactly at the end of the file
        at_end = response.sw == 0x6282
        if not at_end:
            _raise_for(response, "READ BINARY")
        sfi = None  # the EF is now the current one
        data = _unwrap_odd(response) if odd else response.data_bytes
        if length is not None:
            data = data[: length - len(collected)]
        collected += data
        position += len(data)
        short_read = not odd and len(data) < wanted
        if at_end or not data or (length is None and short_read):
            break
    if length is not None and len(collected) < length:
        raise ValueError(
            f"the EF ended after {len(collected)} of the {length} bytes asked for from "
            f"offset {offset}"
        )
    return bytes(collected)


def _update_command(position: int, sfi: int | None, piece: bytes) -> bytes:
    """UPDATE BINARY D6 where P1 P2 can address ``position``, else the odd D7 with DOs 54, 53."""
    if position <= (0xFF if sfi is not None else _MAX_OFFSET):
        p1, p2 = _binary_p1p2(position, sfi)
        return build_apdu(0x00, 0xD6, p1, p2, piece)
    size = max(1, (position.bit_length() + 7) // 8)
    body = TLV(0x54, position.to_bytes(size, "big")).to_bytes() + TLV(0x53, piece).to_bytes()
    return build_apdu(0x00, 0xD7, 0x00, sfi or 0x00, body)


async def update_binary(
    target: Target,
    data: ByteInput,
    *,
    offset: int = 0,
    sfi: int | None = None,
    capabilities: CardCapabilities | None = None,
) -> None:
    """Write ``data`` into a transparent EF at ``offset`` (UPDATE BINARY, as many as needed).

    The EF is the current one or the one with short identifier ``sfi`` (which
    then becomes current).  Each command carries up to
    :attr:`CardCapabilities.max_command_data` bytes (255 without extended
    length).  Offsets P1-P2 cannot hold (past 0x7FFF, or past 0xFF with
    ``sfi``) go with the odd instruction D7 and offset (54) and data (53)
    objects, 9 bytes fewer per command.

    Raises:
        SecurityRelatedException, CheckingErrorException: ``6982`` security
            status not satisfied (VERIFY first), ``6A84`` past the end, ...
        TypeError, ValueError: bad arguments.

    Cancellation: the task resumes at once; the commands sent so far reached the
    card, and the one in flight completes with its response discarded (see
    :meth:`aioscard.CardConnection.transmit`).  The EF then holds the pieces
    written so far.
    """
    raw = coerce_bytes(data, name="data", max_len=_MAX_ODD_OFFSET, min_len=1)
    _check_count(offset, "offset", 0, _MAX_ODD_OFFSET)
    sfi = _check_sfi(sfi)
    if offset + len(raw) - 1 > _MAX_ODD_OFFSET:
        raise ValueError(
            f"writing {len(raw)} bytes at offset {offset} goes past 0xFFFFFF, the furthest "
            "offset a 3-byte offset data object holds"
        )
    step = _capabilities(target, capabilities).max_command_data
    written = 0
    while written < len(raw):
        position = offset + written
        odd = position > (0xFF if sfi is not None else _MAX_OFFSET)
        size = step - 9 if odd else step
        if not odd and sfi is None:
            size = min(size, _MAX_OFFSET + 1 - position)  # the next piece may need D7
        piece = raw[written : written + size]
        await _send(target, _update_command(position, sfi, piece), "UPDATE BINARY")
        written += len(piece)
        sfi = None


# ---------------------------------------------------------------------------
# Records


async def read_record(target: Target, number: int, *, sfi: int | None = None) -> bytes:
    """READ RECORD ``number`` (1..254) of the current EF, or of the EF with short id ``sfi``.

    A ``6Cxx`` answer is asked again with Le ``xx``; a record with ``6282``
    (shorter than asked) is returned as it is.

    Raises:
        CheckingErrorException: ``6A83`` no such record, ``6981`` not a record
            EF, ``6A82`` no EF with that SFI, ...
        TypeError, ValueError: bad arguments.

    Cancellation: the task resumes at once; the commands sent so far reached the
    card, and the one in flight completes with its response discarded (see
    :meth:`aioscard.CardConnection.transmit`).
    """
    _check_count(number, "number", 1, 254)
    sfi = _check_sfi(sfi)
    p2 = ((sfi or 0) << 3) | 0x04
    response = await target.transmit(build_apdu(0x00, 0xB2, number, p2, b"", _MAX_SHORT_NE))
    if response.sw1 == 0x6C:
        le = response.sw2 or _MAX_SHORT_NE
        response = await target.transmit(build_apdu(0x00, 0xB2, number, p2, b"", le))
    if not (response.sw == 0x6282 and response.data):
        _raise_for(response, "READ RECORD")
    return response.data_bytes


async def read_records(target: Target, *, sfi: int | None = None) -> list[bytes]:
    """Every record of a record EF, from record 1 until the card answers ``6A83``.

    Raises what :func:`read_record` raises, except the ``6A83`` that ends the list.

    Cancellation: the task resumes at once; the commands sent so far reached the
    card, and the one in flight completes with its response discarded (see
    :meth:`aioscard.CardConnection.transmit`).
    """
    sfi = _check_sfi(sfi)
    records: list[bytes] = []
    for number in range(1, 255):
        try:
            records.append(await read_record(target, number, sfi=sfi))
        except SWException as error:
            if error.sw == 0x6A83 or (error.sw == 0x6282 and records):
                break
            raise
        sfi = None
    return records


# ---------------------------------------------------------------------------
# Data objects and security


async def get_data(target: Target, tag: int) -> bytes:
    """GET DATA for the data object ``tag`` (1 or 2 bytes, e.g. ``0x9F7F``); the data field.

    Raises:
        CheckingErrorException: ``6A88`` no such data object, ...
        TypeError, ValueError: a tag outside 1..0xFFFF.

    Cancellation: the task resumes at once; the commands sent so far reached the
    card, and the one in flight completes with its response discarded (see
    :meth:`aioscard.CardConnection.transmit`).
    """
    _check_count(tag, "tag", 1, 0xFFFF)
    command = build_apdu(0x00, 0xCA, tag >> 8, tag & 0xFF, b"", _MAX_SHORT_NE)
    return await _send(target, command, "GET DATA")


async def get_challenge(target: Target, length: int = 8) -> bytes:
    """GET CHALLENGE: ``length`` (1..256) random bytes from the card.

    Raises:
        ValueError: the card answered another number of bytes, or a bad length.
        aioscard.sw.SWException: a subclass: the card refused.

    Cancellation: the task resumes at once; the commands sent so far reached the
    card, and the one in flight completes with its response discarded (see
    :meth:`aioscard.CardConnection.transmit`).
    """
    _check_count(length, "length", 1, _MAX_SHORT_NE)
    challenge = await _send(
        target, build_apdu(0x00, 0x84, 0x00, 0x00, b"", length), "GET CHALLENGE"
    )
    if len(challenge) != length:
        raise ValueError(f"GET CHALLENGE asked for {length} bytes, the card gave {len(challenge)}")
    return challenge


class PinStatus(NamedTuple):
    """The state of a PIN, as VERIFY without data reports it."""

    #: Verified since the card was powered (or the application selected).
    verified: bool
    #: Tries left (``63Cx``), when the card says; 0 when blocked.
    tries_left: int | None

    @property
    def blocked(self) -> bool:
        """Whether no try is left."""
        return self.tries_left == 0


def _pin_bytes(pin: ByteInput | str, pad_to: int | None, padding: int) -> bytes:
    if isinstance(pin, str):
        if not pin.isascii():
            raise ValueError("pin must be ASCII text or bytes")
        raw = pin.encode("ascii")
    else:
        raw = coerce_bytes(pin, name="pin", max_len=_MAX_SHORT_NC)
    if not raw:
        raise ValueError("pin must not be empty (use verify_status() to ask for the state)")
    if pad_to is not None:
        _check_count(pad_to, "pad_to", 1, _MAX_SHORT_NC)
        _check_count(padding, "padding", 0, 0xFF)
        if len(raw) > pad_to:
            raise ValueError(f"pin is {len(raw)} bytes, longer than pad_to={pad_to}")
        raw = raw.ljust(pad_to, bytes((padding,)))
    return raw


async def verify(
    target: Target,
    pin: ByteInput | str,
    *,
    reference: int = 0x80,
    pad_to: int | None = None,
    padding: int = 0xFF,
) -> None:
    """VERIFY ``pin`` (bytes, or ASCII text) against reference data ``reference`` (P2).

    ``pad_to`` pads the PIN on the right with ``padding`` to that many bytes.
    The PIN never appears in a log, trace, repr or exception: aioscard redacts
    VERIFY's data wherever it formats an APDU.

    Raises:
        WarningProcessingException: ``63Cx``, a wrong PIN with ``x`` tries left
            (``error.sw2 & 0x0F``).
        CheckingErrorException: ``6983`` blocked, ``6A88`` no such reference, ...
        TypeError, ValueError: bad arguments (the message never shows the PIN).

    Cancellation: the task resumes at once; the commands sent so far reached the
    card, and the one in flight completes with its response discarded (see
    :meth:`aioscard.CardConnection.transmit`).
    """
    _check_count(reference, "reference", 0, 0xFF)
    raw = _pin_bytes(pin, pad_to, padding)
    await _send(target, build_apdu(0x00, 0x20, 0x00, reference, raw), "VERIFY")


async def verify_status(target: Target, *, reference: int = 0x80) -> PinStatus:
    """Ask whether a PIN is verified and how many tries are left (VERIFY without data).

    Raises:
        CheckingErrorException: ``6A88`` no such reference, and other refusals
            than ``63Cx`` and ``6983``.

    Cancellation: the task resumes at once; the commands sent so far reached the
    card, and the one in flight completes with its response discarded (see
    :meth:`aioscard.CardConnection.transmit`).
    """
    _check_count(reference, "reference", 0, 0xFF)
    response = await target.transmit(build_apdu(0x00, 0x20, 0x00, reference))
    if response.ok:
        return PinStatus(True, None)
    if response.sw1 == 0x63 and response.sw2 & 0xF0 == 0xC0:
        return PinStatus(False, response.sw2 & 0x0F)
    if response.sw == 0x6983:
        return PinStatus(False, 0)
    raise _error_for(response, "VERIFY")
