"""The demo card's file system, logical channels and command chaining (ISO/IEC 7816-4).

:class:`FileSystem` is the tree :class:`~aioscard.testing.DemoCard` serves::

    MF 3F00
    |-- EF.DIR 2F00    transparent, SFI 30: the application templates
    |-- EF.ATR 2F01    transparent, SFI 29: card capabilities (47), extended length info (7F66)
    |-- EF E101        transparent, SFI 1: the bytes 00..3F
    |-- DF 5000        AID A0 00 00 06 47 2F 00 02, label "aioscard files"
    |   |-- EF 5001    transparent, SFI 1, 700 bytes (updatable after VERIFY)
    |   |-- EF 5002    linear fixed, SFI 2: 5 records of 16 bytes (updatable after VERIFY)
    |   |-- EF 5003    linear variable, SFI 3: 3 records of 3, 10 and 40 bytes
    |   `-- EF 5004    transparent, SFI 4, 40,000 bytes (updatable after VERIFY): B1/D7
    `-- DF 6000        AID A0 00 00 06 47 2F 00 03, label "aioscard spare"
        `-- EF 6001    transparent, SFI 1: "spare"

SELECT answers with the FCI (``6F``), FCP (``62``) or FMD (``64``) as BER-TLV
when the command has an Le field.  Each logical channel keeps its own current
DF and EF.  Nothing here talks to a reader; :class:`DemoCard` uses it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from ..tlv import TLV
from ._atr import with_tck

__all__ = [
    "CAPABILITIES_ATR",
    "CHANNELS",
    "FID_EF_ATR",
    "FID_FILES_DF",
    "FID_LARGE_EF",
    "FID_RECORD_EF",
    "FID_SPARE_DF",
    "FID_TRANSPARENT_EF",
    "FID_VARIABLE_EF",
    "FILES_AID",
    "FILES_LARGE",
    "FILES_RECORDS",
    "FILES_TRANSPARENT",
    "FILES_VARIABLE_RECORDS",
    "SPARE_AID",
    "DedicatedFile",
    "ElementaryFile",
    "FileSystem",
]

#: Logical channels the demo card offers: the basic channel 0 and 1..19.
CHANNELS = 20

#: A T=1 ATR whose historical bytes declare the demo card's capabilities (compact-TLV
#: tag 7): selection by DF name, path, FID and SFI; command chaining; extended Lc and Le;
#: 8 or more logical channels.  ``3B 85 01 80 73 F6 21 FF`` TCK.
CAPABILITIES_ATR = with_tck(bytes.fromhex("3B85018073F621FF"))

#: File identifier of EF.ATR (card capabilities and extended length information).
FID_EF_ATR = 0x2F01
#: File identifier of the "aioscard files" DF.
FID_FILES_DF = 0x5000
#: Its transparent EF (700 bytes, SFI 1).
FID_TRANSPARENT_EF = 0x5001
#: Its linear fixed EF (5 records of 16 bytes, SFI 2).
FID_RECORD_EF = 0x5002
#: Its linear variable EF (records of 3, 10 and 40 bytes, SFI 3).
FID_VARIABLE_EF = 0x5003
#: Its large transparent EF (40,000 bytes, SFI 4): offsets past 0x7FFF need B1 and D7.
FID_LARGE_EF = 0x5004
#: The content of EF 5004: the bytes 00..FF over and over, 40,000 of them.
FILES_LARGE = bytes(range(256)) * 156 + bytes(range(64))
#: File identifier of the "aioscard spare" DF.
FID_SPARE_DF = 0x6000
#: The AID of DF 5000.
FILES_AID = bytes.fromhex("A0000006472F0002")
#: The AID of DF 6000 (shares its first 7 bytes with FILES_AID, for "next occurrence").
SPARE_AID = bytes.fromhex("A0000006472F0003")
#: The initial content of EF 5001: 700 bytes ``i * 7 mod 256``.
FILES_TRANSPARENT = bytes((i * 7) & 0xFF for i in range(700))
#: The initial records of EF 5002 (record n is 16 bytes of n, n = 1..5).
FILES_RECORDS = tuple(bytes([n]) * 16 for n in range(1, 6))
#: The records of EF 5003.
FILES_VARIABLE_RECORDS = (b"abc", b"0123456789", bytes(range(40)))

_DESCRIPTOR_DF = 0x38
_DESCRIPTOR = {"transparent": 0x01, "linear fixed": 0x02, "linear variable": 0x04}
_DATA_CODING = 0x21  # data unit of one byte, write erases
_LCS_ACTIVATED = 0x05


@dataclass(eq=False)
class ElementaryFile:
    """An EF: ``kind`` is "transparent", "linear fixed" or "linear variable"."""

    fid: int
    kind: str
    sfi: int | None = None
    content: bytearray = field(default_factory=bytearray)
    records: list[bytearray] = field(default_factory=list)
    #: Whether UPDATE BINARY / UPDATE RECORD need the PIN verified (else they are refused).
    updatable: bool = False
    parent: DedicatedFile | None = None

    @property
    def size(self) -> int:
        return len(self.content) if self.kind == "transparent" else sum(map(len, self.records))

    def control_parameters(self) -> list[TLV]:
        """The FCP data objects: size, descriptor, FID, SFI, life cycle."""
        if self.kind == "linear fixed":
            length = len(self.records[0]) if self.records else 0
            descriptor = bytes([0x02, _DATA_CODING]) + length.to_bytes(2, "big")
            descriptor += bytes([len(self.records)])
        elif self.kind == "linear variable":
            descriptor = bytes([0x04, _DATA_CODING])
        else:
            descriptor = bytes([_DESCRIPTOR[self.kind]])
        objects = [
            TLV(0x80, self.size.to_bytes(2, "big")),
            TLV(0x82, descriptor),
            TLV(0x83, self.fid.to_bytes(2, "big")),
        ]
        if self.sfi is not None:
            objects.append(TLV(0x88, bytes([self.sfi << 3])))
        objects.append(TLV(0x8A, bytes([_LCS_ACTIVATED])))
        return objects


@dataclass(eq=False)
class DedicatedFile:
    """A DF (the MF too): its FID, AID and label, and the files in it."""

    fid: int
    aid: bytes | None = None
    label: str = ""
    children: list[DedicatedFile | ElementaryFile] = field(default_factory=list)
    parent: DedicatedFile | None = None

    def add(self, child: DedicatedFile | ElementaryFile) -> None:
        child.parent = self
        self.children.append(child)

    def child(self, fid: int) -> DedicatedFile | ElementaryFile | None:
        return next((item for item in self.children if item.fid == fid), None)

    def by_sfi(self, sfi: int) -> ElementaryFile | None:
        return next(
            (
                item
                for item in self.children
                if isinstance(item, ElementaryFile) and item.sfi == sfi
            ),
            None,
        )

    def control_parameters(self) -> list[TLV]:
        objects = [TLV(0x82, bytes([_DESCRIPTOR_DF])), TLV(0x83, self.fid.to_bytes(2, "big"))]
        if self.aid:
            objects.append(TLV(0x84, self.aid))
        objects.append(TLV(0x8A, bytes([_LCS_ACTIVATED])))
        return objects

    def walk(self) -> Iterator[DedicatedFile]:
        yield self
        for item in self.children:
            if isinstance(item, DedicatedFile):
                yield from item.walk()


def control_information(item: DedicatedFile | ElementaryFile, template: int) -> bytes:
    """The FCI (``0x6F``), FCP (``0x62``) or FMD (``0x64``) template of a file, encoded."""
    label = item.label if isinstance(item, DedicatedFile) else ""
    management = [TLV(0x50, label.encode())] if label else []
    if template == 0x62:
        return TLV(0x62, item.control_parameters()).to_bytes()
    if template == 0x64:
        aid = [TLV(0x84, item.aid)] if isinstance(item, DedicatedFile) and item.aid else []
        return TLV(0x64, aid + management).to_bytes()
    proprietary = [TLV(0xA5, management)] if management else []
    return TLV(0x6F, item.control_parameters() + proprietary).to_bytes()


def ef_atr(*, chaining: bool, extended: bool, channels: int) -> bytes:
    """EF.ATR's content: card capabilities (``47``) and extended length information (``7F66``).

    The extended length information states the longest command and response
    APDUs (65,535 bytes each: what one vpcd frame carries).
    """
    # Selection by full and partial DF name, path, FID, SFI; records by number.
    selection = 0x80 | 0x40 | 0x20 | 0x10 | 0x04 | 0x02
    third = (0x80 if chaining else 0) | (0x40 | 0x20 if extended else 0)
    if channels > 1:
        third |= 0x10 | 0x08 | min(channels - 1, 7)  # assigned by the card or the interface
    objects = [TLV(0x47, bytes([selection, _DATA_CODING, third]))]
    if extended:
        longest = TLV(0x02, (0xFFFF).to_bytes(2, "big"))
        objects.append(TLV(0x7F66, [longest, longest]))
    return b"".join(item.to_bytes() for item in objects)


class FileSystem:
    """The demo card's files, built afresh for each card (updates stay on that card)."""

    def __init__(
        self,
        legacy_files: dict[int, bytes],
        *,
        chaining: bool,
        extended: bool,
        channels: int,
    ) -> None:
        self.mf = DedicatedFile(0x3F00, label="MF")
        sfis = {0x2F00: 30, 0xE101: 1}
        for fid, content in legacy_files.items():
            self.mf.add(ElementaryFile(fid, "transparent", sfis.get(fid), bytearray(content)))
        self.mf.add(
            ElementaryFile(
                FID_EF_ATR,
                "transparent",
                29,
                bytearray(ef_atr(chaining=chaining, extended=extended, channels=channels)),
            )
        )
        files = DedicatedFile(FID_FILES_DF, FILES_AID, "aioscard files")
        files.add(
            ElementaryFile(
                FID_TRANSPARENT_EF, "transparent", 1, bytearray(FILES_TRANSPARENT), updatable=True
            )
        )
        files.add(
            ElementaryFile(
                FID_RECORD_EF,
                "linear fixed",
                2,
                records=[bytearray(record) for record in FILES_RECORDS],
                updatable=True,
            )
        )
        files.add(
            ElementaryFile(
                FID_VARIABLE_EF,
                "linear variable",
                3,
                records=[bytearray(record) for record in FILES_VARIABLE_RECORDS],
            )
        )
        files.add(
            ElementaryFile(FID_LARGE_EF, "transparent", 4, bytearray(FILES_LARGE), updatable=True)
        )
        self.mf.add(files)
        spare = DedicatedFile(FID_SPARE_DF, SPARE_AID, "aioscard spare")
        spare.add(ElementaryFile(0x6001, "transparent", 1, bytearray(b"spare")))
        self.mf.add(spare)

    def applications(self) -> list[DedicatedFile]:
        """The DFs with an AID, in the order SELECT by name searches them."""
        return [item for item in self.mf.walk() if item.aid]

    def find(self, current: DedicatedFile, fid: int) -> DedicatedFile | ElementaryFile | None:
        """SELECT by FID (P1 00): the MF, a child of the current DF, the current DF, its
        parent, or a child of its parent."""
        if fid == self.mf.fid:
            return self.mf
        found = current.child(fid)
        if found is not None:
            return found
        if fid == current.fid:
            return current
        parent = current.parent
        if parent is not None:
            if fid == parent.fid:
                return parent
            return parent.child(fid)
        return None

    def path(self, start: DedicatedFile, fids: list[int]) -> DedicatedFile | ElementaryFile | None:
        """The file a path of FIDs names, from ``start``."""
        item: DedicatedFile | ElementaryFile = start
        for fid in fids:
            if not isinstance(item, DedicatedFile):
                return None
            found = item.child(fid)
            if found is None:
                return None
            item = found
        return item
