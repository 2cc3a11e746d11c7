"""A contactless storage card behind a PC/SC reader: MIFARE Classic 1K, simulated.

:class:`MifareClassicCard` is a card handler for :class:`~aioscard.testing.VirtualCard`
that answers what a PC/SC part 3 contactless reader answers for a MIFARE
Classic 1K in its field (with :data:`MIFARE_1K_ATR`, the ATR such a reader
builds).  It models the reader and the card together:

================================  ====================================================
Command (hex)                     Answer
================================  ====================================================
``FF CA 00 00 Le``                GET DATA UID: the UID + ``90 00`` (``6C xx`` when Le
                                  is shorter than the UID and not 00)
``FF CA 01 00 Le``                GET DATA ATS: ``6A 81`` (a MIFARE Classic has none),
                                  or the ``ats`` given to the constructor
``FF 82 00 NN 06 key``            LOAD KEYS into reader slot NN (0 or 1): ``90 00``;
                                  ``69 86`` other slots or P1, ``67 00`` not 6 bytes
``FF 86 00 00 05 01 00 BB T NN``  GENERAL AUTHENTICATE block BB with key type T
                                  (60 = A, 61 = B) from slot NN: ``90 00`` and the
                                  sector is open; ``63 00`` wrong key (sector closed);
                                  ``69 86`` empty slot
``FF B0 00 BB Le``                READ BINARY of block BB (Le 1..16, 00 = 16): its
                                  bytes + ``90 00``; ``69 82`` sector not open;
                                  ``6A 82`` no such block.  Key A reads as zeros.
``FF D6 00 BB 10 data``           UPDATE BINARY: ``90 00``; ``63 00`` for block 0 (the
                                  manufacturer block); ``69 82``/``6A 82`` as for READ
other INS / CLA                   ``6D 00`` / ``6E 00``; malformed lengths ``67 00``
================================  ====================================================

Keys loaded into the reader survive power cycles (they live in the reader);
the open sector does not (the card loses it at every power-on or reset).
Not thread-safe: one card thread calls it.
"""

from __future__ import annotations

from collections.abc import Mapping

from ._apdu import CommandAPDU, status

__all__ = [
    "MIFARE_1K_ATR",
    "MIFARE_1K_BLOCKS",
    "MIFARE_DEFAULT_KEY",
    "MIFARE_DEFAULT_UID",
    "MifareClassicCard",
]

#: The ATR a PC/SC reader builds for a MIFARE Classic 1K (PC/SC part 3: RID
#: A0 00 00 03 06, standard 03 = ISO 14443 A part 3, card name 00 01).
MIFARE_1K_ATR = bytes.fromhex("3B8F8001804F0CA000000306030001000000006A")
#: The transport key of new MIFARE Classic cards, for key A and key B.
MIFARE_DEFAULT_KEY = b"\xff" * 6
#: The UID of a :class:`MifareClassicCard` unless told otherwise (4 bytes, NUID).
MIFARE_DEFAULT_UID = bytes.fromhex("A1B2C3D4")
#: 16 sectors of 4 blocks of 16 bytes.
MIFARE_1K_BLOCKS = 64

_BLOCK_SIZE = 16
_BLOCKS_PER_SECTOR = 4
_KEY_SLOTS = 2
_KEY_A, _KEY_B = 0x60, 0x61
# Transport configuration: key A reads/writes everything, key B readable.
_ACCESS_BITS = bytes.fromhex("FF078069")

_OK = status(0x9000)
_SW_FAILED = status(0x6300)
_SW_WRONG_LENGTH = status(0x6700)
_SW_SECURITY = status(0x6982)
_SW_NOT_ALLOWED = status(0x6986)
_SW_UNSUPPORTED = status(0x6A81)
_SW_NO_BLOCK = status(0x6A82)
_SW_WRONG_P1P2 = status(0x6B00)
_SW_UNKNOWN_INS = status(0x6D00)
_SW_UNKNOWN_CLA = status(0x6E00)


def _sector(block: int) -> int:
    return block // _BLOCKS_PER_SECTOR


def _is_trailer(block: int) -> bool:
    return block % _BLOCKS_PER_SECTOR == _BLOCKS_PER_SECTOR - 1


class MifareClassicCard:
    """A MIFARE Classic 1K in a PC/SC contactless reader; see the module docstring.

    ``uid`` is 4 or 7 bytes; ``keys`` maps a sector (0..15) to its (key A,
    key B), 6 bytes each (default :data:`MIFARE_DEFAULT_KEY` for both); ``blocks``
    maps a block number to its initial 16 bytes (data blocks only: block 0
    and the sector trailers are built from the UID and keys).  ``ats``, when
    given, is answered to GET DATA ATS instead of ``6A 81``.

    ``blocks`` (a list of 64 ``bytearray``), ``key_slots``,
    ``authenticated_sector`` and ``uid_reads`` (GET DATA UID commands
    answered) are there for tests to inspect.

    Raises:
        ValueError: a UID not 4 or 7 bytes, a key not 6 bytes, a sector or
            block out of range, block data not 16 bytes, or block 0 / a
            sector trailer in ``blocks``.
    """

    def __init__(
        self,
        *,
        uid: bytes = MIFARE_DEFAULT_UID,
        keys: Mapping[int, tuple[bytes, bytes]] | None = None,
        blocks: Mapping[int, bytes] | None = None,
        ats: bytes | None = None,
    ) -> None:
        if len(uid) not in (4, 7):
            raise ValueError(f"uid must be 4 or 7 bytes, got {len(uid)}")
        self.uid = bytes(uid)
        self.ats = None if ats is None else bytes(ats)
        self.blocks = [bytearray(_BLOCK_SIZE) for _ in range(MIFARE_1K_BLOCKS)]
        self.blocks[0][:] = self._manufacturer_block()
        sectors = MIFARE_1K_BLOCKS // _BLOCKS_PER_SECTOR
        given = dict(keys or {})
        for sector in given:
            if not 0 <= sector < sectors:
                raise ValueError(f"keys: sector must be in 0..{sectors - 1}, got {sector}")
        for sector in range(sectors):
            key_a, key_b = given.get(sector, (MIFARE_DEFAULT_KEY, MIFARE_DEFAULT_KEY))
            if len(key_a) != 6 or len(key_b) != 6:
                raise ValueError(f"keys: sector {sector} keys must be 6 bytes each")
            trailer = self.blocks[sector * _BLOCKS_PER_SECTOR + _BLOCKS_PER_SECTOR - 1]
            trailer[:] = bytes(key_a) + _ACCESS_BITS + bytes(key_b)
        for block, data in (blocks or {}).items():
            if not 0 < block < MIFARE_1K_BLOCKS or _is_trailer(block):
                raise ValueError(f"blocks: {block} is not a data block (1..63, no trailer)")
            if len(data) != _BLOCK_SIZE:
                raise ValueError(f"blocks: block {block} must be 16 bytes, got {len(data)}")
            self.blocks[block][:] = data
        self.key_slots: list[bytes | None] = [None] * _KEY_SLOTS
        self.authenticated_sector: int | None = None
        self.uid_reads = 0

    def _manufacturer_block(self) -> bytes:
        if len(self.uid) == 4:
            bcc = self.uid[0] ^ self.uid[1] ^ self.uid[2] ^ self.uid[3]
            head = self.uid + bytes((bcc, 0x08, 0x04, 0x00))  # BCC, SAK, ATQA
        else:
            head = self.uid + bytes((0x08, 0x44, 0x00))
        return head + b"aioscard"[: _BLOCK_SIZE - len(head)].ljust(_BLOCK_SIZE - len(head), b"\0")

    def key(self, sector: int, key_type: int) -> bytes:
        """The sector's key A (``0x60``) or key B (``0x61``) as the card holds it now."""
        trailer = self.blocks[sector * _BLOCKS_PER_SECTOR + _BLOCKS_PER_SECTOR - 1]
        return bytes(trailer[:6] if key_type == _KEY_A else trailer[10:16])

    def reset(self) -> None:
        """Power-on or reset: the card forgets which sector was open (the reader keeps its keys)."""
        self.authenticated_sector = None

    def __call__(self, apdu: bytes, /) -> bytes:
        """Answer one pseudo-APDU (data + SW1 SW2)."""
        try:
            command = CommandAPDU.parse(apdu)
        except ValueError:
            return _SW_WRONG_LENGTH
        if command.cla != 0xFF:
            return _SW_UNKNOWN_CLA
        handler = {
            0xCA: self._get_data,
            0x82: self._load_key,
            0x86: self._authenticate,
            0xB0: self._read,
            0xD6: self._update,
        }.get(command.ins)
        if handler is None:
            return _SW_UNKNOWN_INS
        return handler(command)

    def _get_data(self, command: CommandAPDU) -> bytes:
        if command.p2 != 0x00 or command.ne is None:
            return _SW_WRONG_P1P2 if command.p2 else _SW_WRONG_LENGTH
        if command.p1 == 0x00:
            self.uid_reads += 1
            value = self.uid
        elif command.p1 == 0x01:
            if self.ats is None:
                return _SW_UNSUPPORTED
            value = self.ats
        else:
            return _SW_WRONG_P1P2
        if command.ne < len(value) and command.ne != 256:
            return status(0x6C00 | len(value))
        return value + _OK

    def _load_key(self, command: CommandAPDU) -> bytes:
        if command.p1 != 0x00 or command.p2 >= _KEY_SLOTS:
            return _SW_NOT_ALLOWED
        if len(command.data) != 6:
            return _SW_WRONG_LENGTH
        self.key_slots[command.p2] = command.data
        return _OK

    def _authenticate(self, command: CommandAPDU) -> bytes:
        data = command.data
        if len(data) != 5 or data[0] != 0x01:
            return _SW_WRONG_LENGTH
        block = data[1] << 8 | data[2]
        key_type, slot = data[3], data[4]
        if block >= MIFARE_1K_BLOCKS:
            return _SW_NO_BLOCK
        if key_type not in (_KEY_A, _KEY_B) or slot >= _KEY_SLOTS:
            return _SW_NOT_ALLOWED
        key = self.key_slots[slot]
        if key is None:
            return _SW_NOT_ALLOWED
        self.authenticated_sector = None
        if key != self.key(_sector(block), key_type):
            return _SW_FAILED
        self.authenticated_sector = _sector(block)
        return _OK

    def _check_block(self, command: CommandAPDU) -> int | bytes:
        block = command.p1 << 8 | command.p2
        if block >= MIFARE_1K_BLOCKS:
            return _SW_NO_BLOCK
        if self.authenticated_sector != _sector(block):
            return _SW_SECURITY
        return block

    def _read(self, command: CommandAPDU) -> bytes:
        if command.ne is None or command.data:
            return _SW_WRONG_LENGTH
        block = self._check_block(command)
        if isinstance(block, bytes):
            return block
        length = _BLOCK_SIZE if command.ne == 256 else command.ne
        if length > _BLOCK_SIZE:
            return _SW_WRONG_LENGTH
        content = bytes(self.blocks[block])
        if _is_trailer(block):
            content = bytes(6) + content[6:]  # key A is never readable
        return content[:length] + _OK

    def _update(self, command: CommandAPDU) -> bytes:
        if len(command.data) != _BLOCK_SIZE or command.ne is not None:
            return _SW_WRONG_LENGTH
        block = self._check_block(command)
        if isinstance(block, bytes):
            return block
        if block == 0:
            return _SW_FAILED
        self.blocks[block][:] = command.data
        return _OK
