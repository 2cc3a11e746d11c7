"""The tables behind the explanation of an ATR's historical bytes (data only).

The storage-card standards and card names of the PC/SC part 3 supplement, for
the ATR a PC/SC reader builds for a contactless storage card, and the ISO/IEC
7816-4 compact-TLV tags.  :mod:`aioscard.atr` reads them; they are kept here so
that the parser reads as logic, and a new card name is a one-line change.
"""

from __future__ import annotations

from types import MappingProxyType

__all__ = ["COMPACT_TLV_TAGS", "PCSC_RID", "STORAGE_CARD_NAMES", "STORAGE_STANDARDS"]

#: The registered application provider identifier of the PC/SC workgroup.
PCSC_RID = b"\xa0\x00\x00\x03\x06"

#: PC/SC part 3 supplement: what the standard byte SS of a storage card's ATR names.
STORAGE_STANDARDS = MappingProxyType(
    {
        0x00: "no information given",
        0x01: "ISO 14443 A, part 1",
        0x02: "ISO 14443 A, part 2",
        0x03: "ISO 14443 A, part 3",
        0x05: "ISO 14443 B, part 1",
        0x06: "ISO 14443 B, part 2",
        0x07: "ISO 14443 B, part 3",
        0x09: "ISO 15693, part 1",
        0x0A: "ISO 15693, part 2",
        0x0B: "ISO 15693, part 3",
        0x0C: "ISO 15693, part 4",
        0x0D: "contact card (ISO 7816-10), I2C",
        0x0E: "contact card (ISO 7816-10), extended I2C",
        0x0F: "contact card (ISO 7816-10), 2WBP",
        0x10: "contact card (ISO 7816-10), 3WBP",
        0x11: "FeliCa",
        0x40: "low frequency contactless card",
    }
)
#: PC/SC part 3 supplement: the card names of the bytes NN NN.
STORAGE_CARD_NAMES = MappingProxyType(
    {
        0x0000: "no information given",
        0x0001: "MIFARE Classic 1K",
        0x0002: "MIFARE Classic 4K",
        0x0003: "MIFARE Ultralight",
        0x0004: "SLE55R_XXXX",
        0x0006: "SR176",
        0x0007: "SRI X4K",
        0x0008: "AT88RF020",
        0x0009: "AT88SC0204CRF",
        0x000A: "AT88SC0808CRF",
        0x000B: "AT88SC1616CRF",
        0x000C: "AT88SC3216CRF",
        0x000D: "AT88SC6416CRF",
        0x000E: "SRF55V10P",
        0x000F: "SRF55V02P",
        0x0010: "SRF55V10S",
        0x0011: "SRF55V02S",
        0x0012: "TAG-IT",
        0x0013: "LRI512",
        0x0014: "I-CODE SLI",
        0x0015: "TEMPSENS",
        0x0016: "I-CODE 1",
        0x0017: "PicoPass 2K",
        0x0018: "PicoPass 2KS",
        0x0019: "PicoPass 16K",
        0x001A: "PicoPass 16KS",
        0x001B: "PicoPass 16K (8x2)",
        0x001C: "PicoPass 16KS (8x2)",
        0x001D: "PicoPass 32KS (16+16)",
        0x001E: "PicoPass 32KS (16+8x2)",
        0x001F: "PicoPass 32KS (8x2+16)",
        0x0020: "PicoPass 32KS (8x2+8x2)",
        0x0021: "LRI64",
        0x0022: "I-CODE UID",
        0x0023: "I-CODE EPC",
        0x0024: "LRI12",
        0x0025: "LRI128",
        0x0026: "MIFARE Mini",
        0x0027: "my-d move (SLE 66R01P)",
        0x0028: "my-d NFC (SLE 66RxxP)",
        0x0029: "my-d proximity 2 (SLE 66RxxS)",
        0x002A: "my-d proximity enhanced (SLE 55RxxE)",
        0x002B: "my-d light (SRF 55V01P)",
        0x002C: "PJM Stack Tag (SRF 66V10ST)",
        0x002D: "PJM Item Tag (SRF 66V10IT)",
        0x002E: "PJM Light (SRF 66V01ST)",
        0x002F: "Jewel Tag",
        0x0030: "Topaz NFC Tag",
        0x0031: "AT88SC0104CRF",
        0x0032: "AT88SC0404CRF",
        0x0033: "AT88RF01C",
        0x0034: "AT88RF04C",
        0x0035: "I-CODE SL2",
        0x0036: "MIFARE Plus SL1 2K",
        0x0037: "MIFARE Plus SL1 4K",
        0x0038: "MIFARE Plus SL2 2K",
        0x0039: "MIFARE Plus SL2 4K",
        0x003A: "MIFARE Ultralight C",
        0x003B: "FeliCa",
        0x003C: "Melexis Sensor Tag (MLX90129)",
        0x003D: "MIFARE Ultralight EV1",
    }
)

#: ISO/IEC 7816-4 compact-TLV tags of the historical bytes.
COMPACT_TLV_TAGS = MappingProxyType(
    {
        0x1: "country code (ISO 3166-1)",
        0x2: "issuer identification number (ISO/IEC 7812-1)",
        0x3: "card service data",
        0x4: "initial access data",
        0x5: "card issuer's data",
        0x6: "pre-issuing data",
        0x7: "card capabilities",
        0x8: "status indicator",
        0xF: "application identifier",
    }
)
