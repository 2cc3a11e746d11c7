"""What a reader says about itself: vendor, model, version, serial number, Part 10 features.

:class:`ReaderInfo` is what ``await reader.info()`` and ``await
connection.info()`` return.  It is gathered from the reader attributes
(SCardGetAttrib) and, where the reader has them, its PC/SC Part 10 features,
PIN properties and TLV properties (SCardControl).  Whatever the reader does not
offer is ``None`` (or an empty mapping), never an error: many drivers offer
none of it.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from .native import constants as C
from .part10 import PinProperties, TlvProperties, feature_name

__all__ = ["ATTRIBUTES", "ReaderInfo", "decode_dword", "decode_text"]


def decode_text(raw: bytes) -> str | None:
    """A text attribute (vendor name, IFD type, serial number): bytes up to the
    first NUL, decoded as UTF-8 (undecodable bytes replaced); ``None`` when empty."""
    text = raw.split(b"\0", 1)[0].decode("utf-8", "replace").strip()
    return text or None


def decode_dword(raw: bytes) -> int | None:
    """A numeric attribute (a DWORD in the platform's byte order, 1 to 8 bytes);
    ``None`` when empty or longer than 8 bytes."""
    if not 1 <= len(raw) <= 8:
        return None
    return int.from_bytes(raw, sys.byteorder)


#: The attributes :class:`ReaderInfo` reads: field name, SCARD_ATTR_* id, decoder.
ATTRIBUTES = (
    ("vendor_name", C.SCARD_ATTR_VENDOR_NAME, decode_text),
    ("ifd_type", C.SCARD_ATTR_VENDOR_IFD_TYPE, decode_text),
    ("ifd_version", C.SCARD_ATTR_VENDOR_IFD_VERSION, decode_dword),
    ("serial_number", C.SCARD_ATTR_VENDOR_IFD_SERIAL_NO, decode_text),
    ("channel_id", C.SCARD_ATTR_CHANNEL_ID, decode_dword),
    ("max_input", C.SCARD_ATTR_MAXINPUT, decode_dword),
)


@dataclass(frozen=True)
class ReaderInfo:
    """A reader's description of itself; ``None`` for what it does not say.

    - ``vendor_name``, ``ifd_type``, ``serial_number``: text
      (SCARD_ATTR_VENDOR_NAME, _VENDOR_IFD_TYPE, _VENDOR_IFD_SERIAL_NO);
    - ``ifd_version``: SCARD_ATTR_VENDOR_IFD_VERSION, ``0xMMmmbbbb`` (major,
      minor, build; ``version_text`` renders it);
    - ``channel_id``: SCARD_ATTR_CHANNEL_ID, ``0xDDDDCCCC`` (channel type in
      the high word: 0x20 USB, 0x01 serial...; channel number in the low);
    - ``max_input``: SCARD_ATTR_MAXINPUT, the largest message the reader takes;
    - ``features``: PC/SC Part 10 feature tag -> control code (empty when none);
    - ``pin_properties``, ``tlv_properties``: the Part 10 answers, when offered.
    """

    name: str
    vendor_name: str | None = None
    ifd_type: str | None = None
    ifd_version: int | None = None
    serial_number: str | None = None
    channel_id: int | None = None
    max_input: int | None = None
    features: Mapping[int, int] = field(default_factory=lambda: MappingProxyType({}))
    pin_properties: PinProperties | None = None
    tlv_properties: TlvProperties | None = None

    @property
    def version_text(self) -> str | None:
        """``ifd_version`` as ``"major.minor.build"``."""
        version = self.ifd_version
        if version is None:
            return None
        return f"{version >> 24 & 0xFF}.{version >> 16 & 0xFF}.{version & 0xFFFF}"

    def to_json(self) -> dict[str, object]:
        """What the reader said, JSON-ready: absent values are left out; features
        as ``{"FEATURE_VERIFY_PIN_DIRECT": "0x42330006"}``."""
        out: dict[str, object] = {}
        for name, _attr, _decode in ATTRIBUTES:
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        if self.ifd_version is not None:
            out["ifd_version_text"] = self.version_text
        if self.features:
            out["features"] = {
                feature_name(tag): f"0x{code:08X}" for tag, code in self.features.items()
            }
        if self.pin_properties is not None:
            pin = self.pin_properties
            out["pin_properties"] = {
                "lcd_layout": pin.lcd_layout,
                "entry_validation_condition": pin.entry_validation_condition,
                "timeout2": pin.timeout2,
            }
        if self.tlv_properties is not None:
            out["tlv_properties"] = self.tlv_properties.as_dict()
        return out

    def describe(self) -> list[str]:
        """Human-readable lines for what the reader said (empty when nothing)."""
        lines = []
        maker = " ".join(part for part in (self.vendor_name, self.ifd_type) if part)
        if maker:
            version = f", version {self.version_text}" if self.ifd_version is not None else ""
            lines.append(f"reader: {maker}{version}")
        elif self.ifd_version is not None:
            lines.append(f"reader version {self.version_text}")
        if self.serial_number:
            lines.append(f"serial number: {self.serial_number}")
        if self.channel_id is not None:
            lines.append(f"channel: 0x{self.channel_id:08X}")
        if self.max_input is not None:
            lines.append(f"max message size: {self.max_input}")
        if self.features:
            names = ", ".join(
                feature_name(tag).removeprefix("FEATURE_") for tag in sorted(self.features)
            )
            lines.append(f"Part 10 features: {names}")
        tlv = self.tlv_properties
        if tlv is not None:
            details = []
            if tlv.vendor_id is not None and tlv.product_id is not None:
                details.append(f"USB {tlv.vendor_id:04X}:{tlv.product_id:04X}")
            if tlv.firmware_id:
                details.append(f"firmware {tlv.firmware_id}")
            if tlv.min_pin_size is not None and tlv.max_pin_size is not None:
                details.append(f"PIN {tlv.min_pin_size}..{tlv.max_pin_size} digits")
            if tlv.max_apdu_data_size is not None:
                details.append(f"max APDU data {tlv.max_apdu_data_size}")
            if details:
                lines.append("properties: " + ", ".join(details))
        return lines
