"""The demo card: a small ISO/IEC 7816-4 application for tests and examples.

:class:`DemoCard` is a card handler (``(apdu: bytes) -> bytes``) for
:class:`~aioscard.testing.VirtualCard`; it is also usable on its own, without
any reader, to test APDU logic.  Volatile state (selected file, PIN verified,
pending GET RESPONSE data) is cleared at every power-on and reset.

================================  ====================================================
Command (hex)                     Answer
================================  ====================================================
``00 A4 04 00 Lc AID [Le]``       SELECT by AID: ``90 00`` for :data:`DEMO_AID`
                                  (P2 00 or 0C), which is the MF; the file system's
                                  DFs by full or partial (5+ bytes) name, first (P2
                                  b2-b1 00) or next (10) occurrence, with the FCI
                                  when Le is present; ``6A 82`` for any other AID
``00 A4 04 00``                   SELECT with no data: the default application, ``90 00``
``00 A4 00 00 02 FID``            SELECT FILE by FID (P1 00 any file, 01 child DF, 02
                                  child EF; 03 parent DF; 08/09 path from the MF/the
                                  current DF): ``3F 00`` (MF), ``2F 00`` (EF.DIR),
                                  ``E1 01`` (64 bytes ``00 01 .. 3F``) and the file
                                  system of :mod:`~aioscard.testing._demo_fs`; ``6A 82``
                                  otherwise.  With Le: the FCI (P2 00), FCP (04) or FMD
                                  (08) as BER-TLV; P2 0C: none
``00 B0 P1 P2 Le``                READ BINARY at offset P1P2 (P1 < 80) of the selected EF,
                                  or of short EF P1 & 1F at offset P2 (P1 >= 80): the
                                  bytes + ``90 00`` (``62 82`` if the file ends
                                  before an explicit Le); ``6B 00`` at or beyond the
                                  end; ``69 86`` with no EF selected; ``69 81`` for a
                                  record EF
``00 B1 00 SFI Lc 54 L off Le``   READ BINARY (odd): the current EF (P2 00) or short EF
                                  P2 from the offset in DO 54 (up to 3 bytes), the
                                  bytes wrapped in DO 53; ends as READ BINARY does
``00 D7 00 SFI Lc 54 .. 53 ..``   UPDATE BINARY (odd): the offset in DO 54, the data
                                  in DO 53; otherwise as UPDATE BINARY
``00 D6 P1 P2 Lc data``           UPDATE BINARY, addressed as READ BINARY: ``90 00``;
                                  ``69 82`` before VERIFY; ``69 85`` for read-only
                                  files; ``6A 84`` past the end
``00 B2 NN P2 Le``                READ RECORD NN (P2 = SFI << 3 | 4; SFI 0: the current
                                  EF): the record + ``90 00``; ``6C xx`` for a shorter
                                  Le; ``6A 83`` no such record
``00 70 00 00 01``                MANAGE CHANNEL open: the card picks the lowest free
                                  channel (1..19) and answers its number;
``00 70 00 NN``                   ... or opens channel NN; ``00 70 80 NN`` closes it.
                                  ``6A 81`` when none is free or NN is open/closed
``00 84 00 00 Le``                GET CHALLENGE: Le random bytes (Le 00 = 256) + ``90 00``
``00 20 00 80 Lc PIN``            VERIFY the PIN (default ASCII ``123456``; trailing
                                  ``FF`` padding is ignored): ``90 00`` and the
                                  counter back to 3; ``63 Cx`` wrong (x tries left);
                                  ``69 83`` blocked
``00 20 00 80``                   VERIFY with no data: ``90 00`` if verified since
                                  power-on, else ``63 Cx``; ``69 83`` if blocked
``00 24 00 80 Lc old new``        CHANGE REFERENCE DATA: old PIN (as many bytes as the
                                  current PIN, or two 8-byte FF-padded fields when Lc
                                  is 16) then the new PIN (4..8 bytes)
``00 2C 00 80 Lc PUK new``        RESET RETRY COUNTER with the PUK (default ASCII
                                  ``12345678``, 8 bytes) and a new PIN;
``00 2C 01 80 Lc PUK``            ... or the PUK alone (the PIN is kept);
                                  PUK tries: 3, answers as for VERIFY
``00 CA 9F 7F 00``                GET DATA CPLC: :data:`DEMO_CPLC` + ``90 00``;
                                  other tags ``6A 88``
``80 EE 00 00 Lc data [Le]``      ECHO: the command data + ``90 00``, short or extended
                                  (``80 EE 00 00 00 Lc1 Lc2 data [Le1 Le2]``)
``80 E0 NN NN``                   LONG RESPONSE: prepares NNNN bytes
                                  (:func:`long_response_data`) and answers ``61 xx``
``00 C0 00 00 Le``                GET RESPONSE: the next Le bytes; ``61 xx`` while more
                                  remains, ``90 00`` at the end; ``69 85`` if none pending
``80 E6 00 NN Le``                EXACT LENGTH: NN bytes (P2 00 = 256) + ``90 00`` when
                                  Le = NN, else ``6C NN``
``80 DD 00 00 02 ms ms``          DELAY: sleeps that many milliseconds, then ``90 00``
``80 DF 00 00``                   DROP: the card vanishes mid-APDU
                                  (raises :class:`DropConnection`)
other INS / other CLA             ``6D 00`` / ``6E 00``; malformed lengths ``67 00``
================================  ====================================================

CLA 00 selects the ISO commands, CLA 80 the proprietary ones (GET DATA works with
both).  Their logical-channel bits (channels 1..3 in b2-b1, 4..19 in the further
interindustry coding ``4X``/``CX``) address an open channel, each with its own
current DF and EF and its own pending GET RESPONSE data; a closed channel answers
``68 81``, secure messaging ``68 82``.  CLA bit b5 chains commands: the links are
answered ``90 00`` and the last one runs with all the data (``68 83`` when the chain
changes command, ``68 84`` when chaining is off); a chained command's answer longer
than its Le comes by GET RESPONSE.  The card's capabilities are in EF.ATR (2F01).

Over vpcd one frame carries at most 65,535 bytes, which caps ECHO at
:data:`MAX_ECHO_OVER_VPCD` data bytes; called directly, DemoCard echoes up to
65,535.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping

from ..tlv import TLV, TLVError, parse
from ._apdu import CommandAPDU, status
from ._demo_fs import (
    CHANNELS,
    DedicatedFile,
    ElementaryFile,
    FileSystem,
    control_information,
)
from ._errors import DropConnection

__all__ = [
    "DEFAULT_PIN",
    "DEFAULT_PUK",
    "DEMO_AID",
    "DEMO_CPLC",
    "DEMO_FILES",
    "DROP_APDU",
    "FID_DEMO_EF",
    "FID_EF_DIR",
    "FID_MF",
    "GET_CPLC_APDU",
    "MAX_ECHO_OVER_VPCD",
    "PIN_TRIES",
    "SELECT_DEMO_APDU",
    "DemoCard",
    "change_pin_apdu",
    "delay_apdu",
    "echo_apdu",
    "exact_length_apdu",
    "get_challenge_apdu",
    "get_response_apdu",
    "long_response_apdu",
    "long_response_data",
    "read_binary_apdu",
    "reset_retry_counter_apdu",
    "select_aid_apdu",
    "select_file_apdu",
    "verify_apdu",
]

#: The demo application's AID (a proprietary RID A0 00 00 06 47).
DEMO_AID = bytes.fromhex("A0000006472F0001")
#: ASCII "123456": the PIN after power-up of a new DemoCard.
DEFAULT_PIN = b"123456"
#: ASCII "12345678": the PUK that unblocks the PIN.
DEFAULT_PUK = b"12345678"
#: Tries of the PIN and of the PUK.
PIN_TRIES = 3

#: File identifier of the master file (SELECT by FID).
FID_MF = 0x3F00
#: File identifier of EF.DIR, the application directory.
FID_EF_DIR = 0x2F00
#: File identifier of the demo application's transparent EF.
FID_DEMO_EF = 0xE101

#: The elementary files by FID.  EF.DIR holds one application template with
#: DEMO_AID and the label "aioscard demo"; E101 holds the bytes 00..3F.
DEMO_FILES: Mapping[int, bytes] = {
    FID_EF_DIR: bytes([0x61, 0x19, 0x4F, len(DEMO_AID)])
    + DEMO_AID
    + bytes([0x50, 13])
    + b"aioscard demo",
    FID_DEMO_EF: bytes(range(0x40)),
}

#: GET DATA 9F7F answer: tag, length and 42 bytes shaped like a GlobalPlatform CPLC.
DEMO_CPLC = bytes.fromhex("9F7F2A") + bytes.fromhex(
    "4790"
    "5167"
    "4790"
    "0001"
    "2B0C"
    "0001"  # fabricator, type, OS id, OS date, OS level
    "6041"
    "12345678"  # fabrication date, IC serial number
    "0000"
    "0000"
    "0000"
    "0000"
    "0000"
    "0000"
    "0000"  # batch, module fab/pkg, embedding ...
    "0000"
    "0000"
    "0000"
    "0000"
    "0000"  # ... pre-perso, personalisation fields
)

#: The vpcd frame limit (65,535 bytes) minus the extended ECHO header, Lc and Le.
MAX_ECHO_OVER_VPCD = 0xFFFF - 4 - 3 - 2

_CLA_ISO, _CLA_PROPRIETARY = 0x00, 0x80
_INS_VERIFY, _INS_CHANGE, _INS_RESET_COUNTER = 0x20, 0x24, 0x2C
_INS_GET_CHALLENGE, _INS_SELECT, _INS_READ_BINARY = 0x84, 0xA4, 0xB0
_INS_GET_RESPONSE, _INS_GET_DATA = 0xC0, 0xCA
_INS_UPDATE_BINARY, _INS_READ_RECORD, _INS_MANAGE_CHANNEL = 0xD6, 0xB2, 0x70
_INS_READ_BINARY_ODD, _INS_UPDATE_BINARY_ODD = 0xB1, 0xD7
_INS_ECHO, _INS_LONG_RESPONSE, _INS_EXACT_LENGTH = 0xEE, 0xE0, 0xE6
_INS_DELAY, _INS_DROP = 0xDD, 0xDF
_PIN_REFERENCE = 0x80

_OK = status(0x9000)
_SW_END_OF_FILE = status(0x6282)
_SW_WRONG_LENGTH = status(0x6700)
_SW_BLOCKED = status(0x6983)
_SW_NO_PENDING_DATA = status(0x6985)
_SW_NO_EF = status(0x6986)
_SW_WRONG_DATA = status(0x6A80)
_SW_NOT_FOUND = status(0x6A82)
_SW_WRONG_P1P2 = status(0x6A86)
_SW_NO_REFERENCE = status(0x6A88)
_SW_WRONG_OFFSET = status(0x6B00)
_SW_CHANNEL_NOT_SUPPORTED = status(0x6881)
_SW_SM_NOT_SUPPORTED = status(0x6882)
_SW_LAST_OF_CHAIN_EXPECTED = status(0x6883)
_SW_CHAINING_NOT_SUPPORTED = status(0x6884)
_SW_INCOMPATIBLE_FILE = status(0x6981)
_SW_SECURITY_NOT_SATISFIED = status(0x6982)
_SW_NOT_SUPPORTED = status(0x6A81)
_SW_RECORD_NOT_FOUND = status(0x6A83)
_SW_NO_SPACE = status(0x6A84)
_TEMPLATES = {0x00: 0x6F, 0x04: 0x62, 0x08: 0x64}  # SELECT P2 b4-b3 -> FCI, FCP, FMD
_SW_UNKNOWN_INS = status(0x6D00)
_SW_UNKNOWN_CLA = status(0x6E00)
_PIN_LENGTHS = range(4, 9)


def _tries_left(tries: int) -> bytes:
    return status(0x63C0 | tries)


def _strip_padding(pin: bytes) -> bytes:
    return pin.rstrip(b"\xff")


def _decode_class(cla: int) -> tuple[int, int, bool, bool] | None:
    """``(00 or 80, channel, chained, secure messaging)`` of a class byte, or None if invalid."""
    if cla == 0xFF:
        return None
    base = cla & 0x80
    if cla & 0x40:  # further interindustry coding: channels 4..19
        return base, 4 + (cla & 0x0F), bool(cla & 0x10), bool(cla & 0x20)
    if cla & 0x20:
        return None  # b7-b6 = 01: reserved
    return base, cla & 0x03, bool(cla & 0x10), bool(cla & 0x0C)


class _Channel:
    """What a logical channel remembers: current DF and EF, the last search by name,
    pending GET RESPONSE data and a chain being received."""

    __slots__ = ("chain", "df", "ef", "pending", "search")

    def __init__(self, df: DedicatedFile, ef: ElementaryFile | None = None) -> None:
        self.df = df
        self.ef = ef
        self.pending = b""
        self.search: tuple[bytes, int] | None = None
        self.chain: tuple[tuple[int, int, int, int], bytearray] | None = None


class DemoCard:
    """The demo card's command interpreter; see the module docstring for the commands.

    ``pin`` and ``puk`` are the secrets (4..8 and 8 bytes), ``tries`` the retry
    limit of each.  ``aids`` lists the application AIDs SELECT accepts.  The
    attributes ``pin_tries_left``, ``puk_tries_left`` and
    ``verified`` are there for tests to inspect.

    Not thread-safe: one card thread calls it.

    Raises:
        ValueError: ``pin`` is not 4..8 bytes, ``puk`` not 8, ``tries`` not 1..15.
    """

    def __init__(
        self,
        *,
        pin: bytes = DEFAULT_PIN,
        puk: bytes = DEFAULT_PUK,
        tries: int = PIN_TRIES,
        aids: tuple[bytes, ...] = (DEMO_AID,),
        chaining: bool = True,
        extended_length: bool = True,
        channels: int = CHANNELS,
    ) -> None:
        if len(pin) not in _PIN_LENGTHS:
            raise ValueError(f"pin must be 4..8 bytes, got {len(pin)}")
        if len(puk) != 8:
            raise ValueError(f"puk must be 8 bytes, got {len(puk)}")
        if not 1 <= tries <= 15:
            raise ValueError(f"tries must be in 1..15, got {tries}")
        if not 1 <= channels <= CHANNELS:
            raise ValueError(f"channels must be in 1..{CHANNELS}, got {channels}")
        self.pin = bytes(pin)
        self.puk = bytes(puk)
        self.tries = tries
        self.aids = tuple(bytes(aid) for aid in aids)
        self.pin_tries_left = tries
        self.puk_tries_left = tries
        self.verified = False
        self.chaining = chaining
        self.extended_length = extended_length
        self.channels = channels
        self.files = FileSystem(
            dict(DEMO_FILES), chaining=chaining, extended=extended_length, channels=channels
        )
        self._open: dict[int, _Channel] = {0: _Channel(self.files.mf)}
        self._channel = self._open[0]
        self._commands: dict[tuple[int, int], Callable[[CommandAPDU], bytes]] = {
            (_CLA_ISO, _INS_SELECT): self._select,
            (_CLA_ISO, _INS_READ_BINARY): self._read_binary,
            (_CLA_ISO, _INS_GET_CHALLENGE): self._get_challenge,
            (_CLA_ISO, _INS_VERIFY): self._verify,
            (_CLA_ISO, _INS_CHANGE): self._change_pin,
            (_CLA_ISO, _INS_RESET_COUNTER): self._reset_retry_counter,
            (_CLA_ISO, _INS_GET_DATA): self._get_data,
            (_CLA_ISO, _INS_GET_RESPONSE): self._get_response,
            (_CLA_ISO, _INS_UPDATE_BINARY): self._update_binary,
            (_CLA_ISO, _INS_READ_BINARY_ODD): self._read_binary_odd,
            (_CLA_ISO, _INS_UPDATE_BINARY_ODD): self._update_binary_odd,
            (_CLA_ISO, _INS_READ_RECORD): self._read_record,
            (_CLA_ISO, _INS_MANAGE_CHANNEL): self._manage_channel,
            (_CLA_PROPRIETARY, _INS_GET_DATA): self._get_data,
            (_CLA_PROPRIETARY, _INS_ECHO): self._echo,
            (_CLA_PROPRIETARY, _INS_LONG_RESPONSE): self._long_response,
            (_CLA_PROPRIETARY, _INS_EXACT_LENGTH): self._exact_length,
            (_CLA_PROPRIETARY, _INS_DELAY): self._delay,
            (_CLA_PROPRIETARY, _INS_DROP): self._drop,
        }

    def reset(self) -> None:
        """Forget the volatile state, as at power-on: no file selected, PIN not
        verified, no pending response, only the basic channel open.  The retry
        counters and the files' content are kept."""
        self.verified = False
        self._open = {0: _Channel(self.files.mf)}
        self._channel = self._open[0]

    @property
    def selected_file(self) -> int | None:
        """The FID of the basic channel's current EF, or None."""
        ef = self._open[0].ef
        return None if ef is None else ef.fid

    @property
    def open_channels(self) -> list[int]:
        """The logical channels open now (0 always)."""
        return sorted(self._open)

    def __call__(self, apdu: bytes, /) -> bytes:
        """Answer one command APDU with a response APDU (data + SW1 SW2).

        Raises:
            DropConnection: for the DROP command.

        Cancellation: the DELAY command blocks the calling thread.
        """
        try:
            command = CommandAPDU.parse(apdu)
        except ValueError:
            return _SW_WRONG_LENGTH
        decoded = _decode_class(command.cla)
        if decoded is None:
            return _SW_UNKNOWN_CLA
        base, number, chained, secure = decoded
        if command.extended and not self.extended_length:
            return _SW_WRONG_LENGTH
        channel = self._open.get(number)
        if channel is None:
            return _SW_CHANNEL_NOT_SUPPORTED
        if secure:
            return _SW_SM_NOT_SUPPORTED
        run = self._commands.get((base, command.ins))
        if run is None:
            return _SW_UNKNOWN_INS
        self._channel = channel
        command = command._replace(cla=base)
        header = (base, command.ins, command.p1, command.p2)
        if chained or channel.chain is not None:
            return self._chain(channel, command, header, chained, run)
        if command.ins != _INS_GET_RESPONSE:
            channel.pending = b""
        return run(command)

    def _chain(
        self,
        channel: _Channel,
        command: CommandAPDU,
        header: tuple[int, int, int, int],
        chained: bool,
        run: Callable[[CommandAPDU], bytes],
    ) -> bytes:
        if not self.chaining:
            return _SW_CHAINING_NOT_SUPPORTED
        if channel.chain is not None and channel.chain[0] != header:
            channel.chain = None
            return _SW_LAST_OF_CHAIN_EXPECTED
        if channel.chain is None:
            channel.chain = (header, bytearray())
        collected = channel.chain[1]
        collected += command.data
        if len(collected) > 0xFFFF:
            channel.chain = None
            return _SW_WRONG_LENGTH
        if chained:
            return _OK
        channel.chain = None
        channel.pending = b""
        whole = command._replace(data=bytes(collected), extended=len(collected) > 255)
        answer = run(whole)
        data, sw = answer[:-2], answer[-2:]
        if command.ne is not None and len(data) > command.ne and sw == _OK:
            channel.pending = data[command.ne :]
            return data[: command.ne] + self._more_available()
        return answer

    # -- files -------------------------------------------------------------------

    def _select(self, command: CommandAPDU) -> bytes:
        channel = self._channel
        p1, p2 = command.p1, command.p2
        if p2 & 0xF0 or p2 & 0x03 not in (0x00, 0x02):
            return _SW_WRONG_P1P2
        template = _TEMPLATES.get(p2 & 0x0C)
        if p1 == 0x04:
            if not command.data or command.data in self.aids:
                if p2 & 0x03:
                    return _SW_WRONG_P1P2
                # The demo application is the MF itself, and answers no FCI (as it always has).
                channel.df, channel.ef, channel.search = self.files.mf, None, None
                return _OK
            found = self._select_by_name(command.data, next_occurrence=bool(p2 & 0x02))
            if found is None:
                return _SW_NOT_FOUND
            channel.df, channel.ef = found, None
            return self._file_answer(found, template, command)
        if p2 & 0x03:
            return _SW_WRONG_P1P2
        target: DedicatedFile | ElementaryFile | None
        if p1 == 0x03:
            if command.data:
                return _SW_WRONG_LENGTH
            target = channel.df.parent or channel.df
        elif p1 in (0x08, 0x09):
            if not command.data or len(command.data) % 2:
                return _SW_WRONG_DATA
            fids = [
                int.from_bytes(command.data[i : i + 2], "big")
                for i in range(0, len(command.data), 2)
            ]
            start = self.files.mf if p1 == 0x08 else channel.df
            target = self.files.path(start, fids)
        elif p1 in (0x00, 0x01, 0x02):
            if len(command.data) != 2:
                return _SW_WRONG_DATA
            fid = int.from_bytes(command.data, "big")
            if p1 == 0x00 or fid == FID_MF:
                target = self.files.find(channel.df, fid)
            else:
                child = channel.df.child(fid)
                wanted = DedicatedFile if p1 == 0x01 else ElementaryFile
                target = child if isinstance(child, wanted) else None
        else:
            return _SW_WRONG_P1P2
        if target is None:
            return _SW_NOT_FOUND
        if isinstance(target, DedicatedFile):
            channel.df, channel.ef = target, None
        else:
            assert target.parent is not None
            channel.df, channel.ef = target.parent, target
        return self._file_answer(target, template, command)

    def _select_by_name(self, name: bytes, *, next_occurrence: bool) -> DedicatedFile | None:
        channel = self._channel
        applications = self.files.applications()
        start = 0
        if next_occurrence and channel.search is not None and channel.search[0] == name:
            start = channel.search[1] + 1
        for index in range(start, len(applications)):
            aid = applications[index].aid or b""
            if aid == name or (len(name) >= 5 and aid.startswith(name)):
                channel.search = (name, index)
                return applications[index]
        channel.search = None
        return None

    def _file_answer(
        self,
        item: DedicatedFile | ElementaryFile,
        template: int | None,
        command: CommandAPDU,
    ) -> bytes:
        if template is None or command.ne is None:
            return _OK
        return control_information(item, template) + _OK

    def _addressed_ef(self, p1: int, p2: int) -> tuple[ElementaryFile, int] | bytes:
        """The EF and offset a READ/UPDATE BINARY addresses, or the status word to answer."""
        channel = self._channel
        if p1 & 0x80:
            if p1 & 0x60:
                return _SW_WRONG_P1P2
            ef = channel.df.by_sfi(p1 & 0x1F)
            if ef is None:
                return _SW_NOT_FOUND
            channel.ef = ef
            return ef, p2
        if channel.ef is None:
            return _SW_NO_EF
        return channel.ef, p1 << 8 | p2

    def _read_binary(self, command: CommandAPDU) -> bytes:
        if command.ne is None:
            return _SW_WRONG_LENGTH
        addressed = self._addressed_ef(command.p1, command.p2)
        if isinstance(addressed, bytes):
            return addressed
        ef, offset = addressed
        if ef.kind != "transparent":
            return _SW_INCOMPATIBLE_FILE
        content = ef.content
        if offset >= len(content):
            return _SW_WRONG_OFFSET
        chunk = bytes(content[offset : offset + command.ne])
        maximum = 65536 if command.extended else 256
        if len(chunk) < command.ne and command.ne != maximum:
            return chunk + _SW_END_OF_FILE
        return chunk + _OK

    def _odd_addressed_ef(self, command: CommandAPDU) -> ElementaryFile | bytes:
        """The EF an odd READ/UPDATE BINARY addresses (P1-P2: 0000 or an SFI), or the SW."""
        if command.p1 or command.p2 > 30:
            return _SW_WRONG_P1P2
        channel = self._channel
        if command.p2:
            found = channel.df.by_sfi(command.p2)
            if found is None:
                return _SW_NOT_FOUND
            channel.ef = found
        ef = channel.ef
        if ef is None:
            return _SW_NO_EF
        if ef.kind != "transparent":
            return _SW_INCOMPATIBLE_FILE
        return ef

    @staticmethod
    def _odd_objects(data: bytes, tags: tuple[int, ...]) -> tuple[int, list[TLV]] | None:
        """The offset (DO 54) and the objects of an odd command's data, if they are ``tags``."""
        try:
            objects = parse(data)
        except TLVError:
            return None
        if tuple(item.tag for item in objects) != tags or not 1 <= objects[0].length <= 3:
            return None
        return int.from_bytes(objects[0].value, "big"), objects

    def _read_binary_odd(self, command: CommandAPDU) -> bytes:
        if command.ne is None:
            return _SW_WRONG_LENGTH
        ef = self._odd_addressed_ef(command)
        if isinstance(ef, bytes):
            return ef
        found = self._odd_objects(command.data, (0x54,))
        if found is None:
            return _SW_WRONG_DATA
        offset = found[0]
        if offset >= len(ef.content):
            return _SW_WRONG_OFFSET
        room = command.ne - 4  # DO 53's tag and a length of up to 3 bytes
        if room < 1:
            return _SW_WRONG_LENGTH
        chunk = bytes(ef.content[offset : offset + room])
        maximum = 65536 if command.extended else 256
        answer = TLV(0x53, chunk).to_bytes()
        if len(chunk) < room and command.ne != maximum:
            return answer + _SW_END_OF_FILE
        return answer + _OK

    def _update_binary_odd(self, command: CommandAPDU) -> bytes:
        ef = self._odd_addressed_ef(command)
        if isinstance(ef, bytes):
            return ef
        found = self._odd_objects(command.data, (0x54, 0x53))
        if found is None:
            return _SW_WRONG_DATA
        offset, objects = found
        return self._write(ef, offset, objects[1].value)

    def _update_binary(self, command: CommandAPDU) -> bytes:
        if not command.data:
            return _SW_WRONG_LENGTH
        addressed = self._addressed_ef(command.p1, command.p2)
        if isinstance(addressed, bytes):
            return addressed
        ef, offset = addressed
        if ef.kind != "transparent":
            return _SW_INCOMPATIBLE_FILE
        return self._write(ef, offset, command.data)

    def _write(self, ef: ElementaryFile, offset: int, data: bytes) -> bytes:
        if not data:
            return _SW_WRONG_LENGTH
        if not ef.updatable:
            return _SW_NO_PENDING_DATA  # 69 85: conditions of use not satisfied
        if not self.verified:
            return _SW_SECURITY_NOT_SATISFIED
        if offset + len(data) > len(ef.content):
            return _SW_NO_SPACE
        ef.content[offset : offset + len(data)] = data
        return _OK

    def _read_record(self, command: CommandAPDU) -> bytes:
        if command.p2 & 0x07 != 0x04 or command.p1 == 0:
            return _SW_WRONG_P1P2
        if command.ne is None:
            return _SW_WRONG_LENGTH
        sfi = command.p2 >> 3
        channel = self._channel
        if sfi:
            found = channel.df.by_sfi(sfi)
            if found is None:
                return _SW_NOT_FOUND
            channel.ef = found
        ef = channel.ef
        if ef is None:
            return _SW_NO_EF
        if ef.kind == "transparent":
            return _SW_INCOMPATIBLE_FILE
        if command.p1 > len(ef.records):
            return _SW_RECORD_NOT_FOUND
        record = bytes(ef.records[command.p1 - 1])
        ne = command.ne
        if ne in (256, 65536) or ne == len(record):
            return record + _OK
        if ne < len(record):
            return bytes([0x6C, len(record) & 0xFF]) if len(record) <= 256 else _SW_WRONG_LENGTH
        return record + _SW_END_OF_FILE

    # -- logical channels ---------------------------------------------------------------

    def _manage_channel(self, command: CommandAPDU) -> bytes:
        origin = self._channel
        if command.p1 == 0x80:
            number = command.p2 or next(n for n, state in self._open.items() if state is origin)
            if number == 0 or number not in self._open:
                return _SW_NOT_SUPPORTED
            del self._open[number]
            return _OK
        if command.p1 != 0x00:
            return _SW_WRONG_P1P2
        if command.p2:
            number = command.p2
            if number >= self.channels or number in self._open:
                return _SW_NOT_SUPPORTED
        else:
            if command.ne is None:
                return _SW_WRONG_LENGTH
            free = [n for n in range(1, self.channels) if n not in self._open]
            if not free:
                return _SW_NOT_SUPPORTED
            number = free[0]
        # A channel opened from the basic channel starts at the MF, from another one
        # with that channel's current DF and EF (ISO/IEC 7816-4, 7.1.2).
        if origin is self._open[0]:
            self._open[number] = _Channel(self.files.mf)
        else:
            self._open[number] = _Channel(origin.df, origin.ef)
        return (bytes([number]) if not command.p2 else b"") + _OK

    # -- security ------------------------------------------------------------------

    def _get_challenge(self, command: CommandAPDU) -> bytes:
        if command.p1 or command.p2:
            return _SW_WRONG_P1P2
        if command.ne is None or command.data:
            return _SW_WRONG_LENGTH
        return os.urandom(command.ne) + _OK

    def _verify(self, command: CommandAPDU) -> bytes:
        if command.p1 != 0 or command.p2 != _PIN_REFERENCE:
            return _SW_NO_REFERENCE
        if not command.data:
            if self.pin_tries_left == 0:
                return _SW_BLOCKED
            return _OK if self.verified else _tries_left(self.pin_tries_left)
        return self._check_pin(command.data)

    def _check_pin(self, candidate: bytes) -> bytes:
        if self.pin_tries_left == 0:
            return _SW_BLOCKED
        if _strip_padding(candidate) != self.pin:
            self.pin_tries_left -= 1
            self.verified = False
            return _SW_BLOCKED if self.pin_tries_left == 0 else _tries_left(self.pin_tries_left)
        self.pin_tries_left = self.tries
        self.verified = True
        return _OK

    def _change_pin(self, command: CommandAPDU) -> bytes:
        if command.p1 != 0 or command.p2 != _PIN_REFERENCE:
            return _SW_NO_REFERENCE
        data = command.data
        split = 8 if len(data) == 16 else len(self.pin)
        old, new = data[:split], _strip_padding(data[split:])
        if len(new) not in _PIN_LENGTHS:
            return _SW_WRONG_DATA
        answer = self._check_pin(old)
        if answer == _OK:
            self.pin = new
        return answer

    def _reset_retry_counter(self, command: CommandAPDU) -> bytes:
        if command.p2 != _PIN_REFERENCE or command.p1 not in (0x00, 0x01):
            return _SW_NO_REFERENCE
        puk, new = command.data[:8], _strip_padding(command.data[8:])
        if command.p1 == 0x00 and len(new) not in _PIN_LENGTHS:
            return _SW_WRONG_DATA
        if command.p1 == 0x01 and new:
            return _SW_WRONG_DATA
        if self.puk_tries_left == 0:
            return _SW_BLOCKED
        if puk != self.puk:
            self.puk_tries_left -= 1
            return _SW_BLOCKED if self.puk_tries_left == 0 else _tries_left(self.puk_tries_left)
        self.puk_tries_left = self.tries
        self.pin_tries_left = self.tries
        if new:
            self.pin = new
        return _OK

    # -- data ------------------------------------------------------------------------

    def _get_data(self, command: CommandAPDU) -> bytes:
        if (command.p1, command.p2) == (0x9F, 0x7F):
            return DEMO_CPLC + _OK
        return _SW_NO_REFERENCE

    def _echo(self, command: CommandAPDU) -> bytes:
        return command.data + _OK

    def _long_response(self, command: CommandAPDU) -> bytes:
        self._channel.pending = long_response_data(command.p1 << 8 | command.p2)
        return self._more_available()

    def _get_response(self, command: CommandAPDU) -> bytes:
        channel = self._channel
        if not channel.pending:
            return _SW_NO_PENDING_DATA
        if command.p1 or command.p2:
            return _SW_WRONG_P1P2
        ne = command.ne if command.ne is not None else 256
        chunk, channel.pending = channel.pending[:ne], channel.pending[ne:]
        return chunk + self._more_available()

    def _more_available(self) -> bytes:
        pending = self._channel.pending
        if not pending:
            return _OK
        return bytes([0x61, min(len(pending), 256) & 0xFF])

    def _exact_length(self, command: CommandAPDU) -> bytes:
        length = command.p2 or 256
        if command.ne != length:
            return bytes([0x6C, length & 0xFF])
        return long_response_data(length) + _OK

    # -- fault injection ----------------------------------------------------------------

    def _delay(self, command: CommandAPDU) -> bytes:
        if len(command.data) != 2:
            return _SW_WRONG_LENGTH
        time.sleep(int.from_bytes(command.data, "big") / 1000)
        return _OK

    def _drop(self, command: CommandAPDU) -> bytes:
        raise DropConnection


# -- command builders ------------------------------------------------------------------

#: SELECT the demo application by AID.
SELECT_DEMO_APDU = CommandAPDU(0x00, _INS_SELECT, 0x04, 0x00, DEMO_AID).to_bytes()
#: GET DATA for the CPLC (tag 9F7F), Le 00.
GET_CPLC_APDU = bytes.fromhex("00CA9F7F00")
#: DROP: the card vanishes mid-APDU.
DROP_APDU = bytes([_CLA_PROPRIETARY, _INS_DROP, 0x00, 0x00])


def select_aid_apdu(aid: bytes = DEMO_AID) -> bytes:
    """SELECT by AID (``00 A4 04 00 Lc AID``); empty ``aid``: the 4-byte form."""
    return CommandAPDU(0x00, _INS_SELECT, 0x04, 0x00, bytes(aid)).to_bytes()


def select_file_apdu(fid: int) -> bytes:
    """SELECT FILE by 2-byte FID, no response data (``00 A4 02 0C 02 FID``)."""
    return CommandAPDU(0x00, _INS_SELECT, 0x02, 0x0C, fid.to_bytes(2, "big")).to_bytes()


def read_binary_apdu(offset: int = 0, le: int = 256) -> bytes:
    """READ BINARY of ``le`` bytes (256 = Le 00) at ``offset`` (0..0x7FFF).

    Raises ``ValueError`` for ``offset`` out of range."""
    if not 0 <= offset <= 0x7FFF:
        raise ValueError(f"offset must be in 0..0x7FFF, got {offset}")
    return CommandAPDU(0x00, _INS_READ_BINARY, offset >> 8, offset & 0xFF, ne=le).to_bytes()


def get_challenge_apdu(le: int = 8) -> bytes:
    """GET CHALLENGE of ``le`` random bytes (1..256)."""
    return CommandAPDU(0x00, _INS_GET_CHALLENGE, 0x00, 0x00, ne=le).to_bytes()


def verify_apdu(pin: bytes | None = DEFAULT_PIN) -> bytes:
    """VERIFY the PIN (reference 80); ``None``: the 4-byte query of the tries left."""
    return CommandAPDU(0x00, _INS_VERIFY, 0x00, _PIN_REFERENCE, bytes(pin or b"")).to_bytes()


def change_pin_apdu(old: bytes, new: bytes) -> bytes:
    """CHANGE REFERENCE DATA: ``old`` (the current PIN) followed by ``new``."""
    return CommandAPDU(0x00, _INS_CHANGE, 0x00, _PIN_REFERENCE, old + new).to_bytes()


def reset_retry_counter_apdu(puk: bytes = DEFAULT_PUK, new_pin: bytes | None = None) -> bytes:
    """RESET RETRY COUNTER with ``puk``, setting ``new_pin`` if given (P1 00) or
    keeping the PIN (P1 01)."""
    p1 = 0x01 if new_pin is None else 0x00
    data = puk + (new_pin or b"")
    return CommandAPDU(0x00, _INS_RESET_COUNTER, p1, _PIN_REFERENCE, data).to_bytes()


def echo_apdu(data: bytes = b"", *, extended: bool = False) -> bytes:
    """ECHO ``data`` with the maximum Le (``80 EE 00 00 Lc data 00``, or the
    extended ``80 EE 00 00 00 Lc1 Lc2 data 00 00``).

    Raises:
        ValueError: short form and more than 255 bytes, or more than 65,535.
    """
    ne = 65536 if extended else 256
    return CommandAPDU(
        _CLA_PROPRIETARY, _INS_ECHO, 0x00, 0x00, bytes(data), ne, extended
    ).to_bytes()


def long_response_apdu(length: int) -> bytes:
    """LONG RESPONSE: ask for ``length`` (0..65535) bytes, served by GET RESPONSE.

    Raises ``ValueError`` for ``length`` out of range."""
    if not 0 <= length <= 0xFFFF:
        raise ValueError(f"length must be in 0..65535, got {length}")
    return bytes([_CLA_PROPRIETARY, _INS_LONG_RESPONSE, length >> 8, length & 0xFF])


def long_response_data(length: int) -> bytes:
    """The ``length`` bytes LONG RESPONSE and EXACT LENGTH serve: 00 01 .. FF 00 01 .."""
    return bytes(i & 0xFF for i in range(length))


def get_response_apdu(le: int) -> bytes:
    """GET RESPONSE of ``le`` bytes (1..256; take it from the ``61 xx`` where 00 = 256)."""
    return CommandAPDU(0x00, _INS_GET_RESPONSE, 0x00, 0x00, ne=le).to_bytes()


def exact_length_apdu(length: int, le: int | None) -> bytes:
    """EXACT LENGTH: the card wants Le = ``length`` (1..256) and answers ``6C xx``
    to any other ``le`` (None: no Le).  Raises ``ValueError`` for ``length`` out of range."""
    if not 1 <= length <= 256:
        raise ValueError(f"length must be in 1..256, got {length}")
    return CommandAPDU(_CLA_PROPRIETARY, _INS_EXACT_LENGTH, 0x00, length & 0xFF, ne=le).to_bytes()


def delay_apdu(ms: int) -> bytes:
    """DELAY: the card answers ``90 00`` after ``ms`` (0..65535) milliseconds.

    Raises ``ValueError`` for ``ms`` out of range."""
    if not 0 <= ms <= 0xFFFF:
        raise ValueError(f"ms must be in 0..65535, got {ms}")
    return CommandAPDU(_CLA_PROPRIETARY, _INS_DELAY, 0x00, 0x00, ms.to_bytes(2, "big")).to_bytes()
