"""A simulated pinpad: PC/SC Part 10 secure PIN entry on a simulated reader.

Set :class:`Pinpad` on a :class:`~aioscard.testing.SimulatedReader` (the driver
back-end) and the reader answers ``CM_IOCTL_GET_FEATURE_REQUEST`` with
``FEATURE_VERIFY_PIN_DIRECT``, ``FEATURE_MODIFY_PIN_DIRECT``,
``FEATURE_IFD_PIN_PROPERTIES`` and ``FEATURE_GET_TLV_PROPERTIES``.  On VERIFY
and MODIFY PIN DIRECT it decodes the PIN structure (with
:mod:`aioscard.part10`), "lets the user type" the pinpad's PINs, formats them
into the APDU template as the structure says (ASCII, BCD or binary digits,
left or right justified, PIN length field), sends the APDU to the card and
answers the card's response.

What the user does instead of typing (the answers CCID readers give):
``64 00`` timeout, ``64 01`` cancel key, ``64 02`` the two new-PIN entries
differ, ``64 03`` a PIN length outside the structure's limits.  A structure
that does not decode is answered ``6B 80``.  PINs never reach the logs.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from ._readers import SimulatedReader

__all__ = ["Pinpad"]

logger = logging.getLogger(__name__)

# CCID's control codes for the features: SCARD_CTL_CODE(0x330000 + feature tag).
_FEATURE_CODE_BASE = 0x42000000 + 0x330000
_SW_TIMEOUT = b"\x64\x00"
_SW_CANCELLED = b"\x64\x01"
_SW_MISMATCH = b"\x64\x02"
_SW_BAD_LENGTH = b"\x64\x03"
_SW_BAD_STRUCTURE = b"\x6b\x80"

Action = Literal["enter", "timeout", "cancel"]


@dataclass(repr=False)
class Pinpad:
    """What the "user" of a simulated pinpad reader does, and what the reader says
    about itself.

    ``pin``: the digits typed for VERIFY, and as the current PIN for MODIFY.
    ``new_pin``: the new PIN for MODIFY (default ``pin``); ``confirm_pin``: the
    second entry of the new PIN when the structure asks for confirmation
    (default ``new_pin``; give a different one to simulate a mismatch).
    ``action``: ``"enter"`` (type), ``"timeout"`` (type nothing: ``64 00``) or
    ``"cancel"`` (press Cancel: ``64 01``).  A ``pin`` of ``None`` also times out.

    The remaining fields are the reader's PIN properties and TLV properties.
    ``entries`` counts the PIN entries the pinpad has simulated.
    """

    pin: str | None = None
    new_pin: str | None = None
    confirm_pin: str | None = None
    action: Action = "enter"
    lcd_layout: int = 0x0000
    entry_validation: int = 0x02
    timeout2: int = 0
    min_pin_size: int = 4
    max_pin_size: int = 8
    firmware_id: str = "aioscard-sim 1.0"
    ppdu_support: int = 0
    max_apdu_data_size: int = 261
    vendor_id: int = 0x1209
    product_id: int = 0x0001
    entries: int = 0

    def __post_init__(self) -> None:
        if self.action not in ("enter", "timeout", "cancel"):
            raise ValueError(f"action must be 'enter', 'timeout' or 'cancel', got {self.action!r}")
        for name in ("pin", "new_pin", "confirm_pin"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, str) or not value.isdigit()):
                raise ValueError(f"{name} must be a str of decimal digits or None")

    def __repr__(self) -> str:
        typed = "a PIN" if self.pin is not None else "nothing"
        return f"<Pinpad action={self.action} types {typed} (redacted)>"

    @staticmethod
    def feature_code(tag: int) -> int:
        """The control code this pinpad gives feature ``tag``."""
        return _FEATURE_CODE_BASE + tag

    def handle(self, reader: SimulatedReader, code: int, data: bytes) -> bytes | None:
        """Answer a control code of this pinpad; None for codes that are not its own."""
        from .. import part10

        if code == part10.CM_IOCTL_GET_FEATURE_REQUEST:
            return part10.encode_features(
                {
                    tag: self.feature_code(tag)
                    for tag in (
                        part10.FEATURE_VERIFY_PIN_DIRECT,
                        part10.FEATURE_MODIFY_PIN_DIRECT,
                        part10.FEATURE_IFD_PIN_PROPERTIES,
                        part10.FEATURE_GET_TLV_PROPERTIES,
                    )
                }
            )
        if code == self.feature_code(part10.FEATURE_IFD_PIN_PROPERTIES):
            return part10.PinProperties(
                self.lcd_layout, self.entry_validation, self.timeout2
            ).to_bytes()
        if code == self.feature_code(part10.FEATURE_GET_TLV_PROPERTIES):
            return part10.encode_tlv_properties(
                part10.TlvProperties(
                    lcd_layout=self.lcd_layout,
                    entry_validation_condition=self.entry_validation,
                    timeout2=self.timeout2,
                    min_pin_size=self.min_pin_size,
                    max_pin_size=self.max_pin_size,
                    firmware_id=self.firmware_id,
                    ppdu_support=self.ppdu_support,
                    max_apdu_data_size=self.max_apdu_data_size,
                    vendor_id=self.vendor_id,
                    product_id=self.product_id,
                )
            )
        if code == self.feature_code(part10.FEATURE_VERIFY_PIN_DIRECT):
            return self._verify(reader, data)
        if code == self.feature_code(part10.FEATURE_MODIFY_PIN_DIRECT):
            return self._modify(reader, data)
        return None

    def _user(self) -> bytes | None:
        """What the user did instead of typing, if anything."""
        self.entries += 1
        if self.action == "cancel":
            return _SW_CANCELLED
        if self.action == "timeout" or self.pin is None:
            return _SW_TIMEOUT
        return None

    def _verify(self, reader: SimulatedReader, data: bytes) -> bytes:
        from ..part10 import PinVerifyStructure

        try:
            structure = PinVerifyStructure.from_bytes(data)
        except ValueError as exc:
            logger.info("reader %d: pinpad got a bad PIN_VERIFY_STRUCTURE: %s", reader.index, exc)
            return _SW_BAD_STRUCTURE
        refused = self._user()
        if refused is not None:
            return refused
        assert self.pin is not None
        try:
            apdu = structure.apdu_with_pin(self.pin)
        except ValueError:
            return _SW_BAD_LENGTH
        return self._send(reader, apdu)

    def _modify(self, reader: SimulatedReader, data: bytes) -> bytes:
        from ..part10 import PinModifyStructure

        try:
            structure = PinModifyStructure.from_bytes(data)
        except ValueError as exc:
            logger.info("reader %d: pinpad got a bad PIN_MODIFY_STRUCTURE: %s", reader.index, exc)
            return _SW_BAD_STRUCTURE
        refused = self._user()
        if refused is not None:
            return refused
        assert self.pin is not None
        new = self.new_pin if self.new_pin is not None else self.pin
        confirm = self.confirm_pin if self.confirm_pin is not None else new
        if structure.confirm_pin and confirm != new:
            return _SW_MISMATCH
        try:
            apdu = structure.apdu_with_pins(self.pin if structure.enter_old_pin else None, new)
        except ValueError:
            return _SW_BAD_LENGTH
        return self._send(reader, apdu)

    @staticmethod
    def _send(reader: SimulatedReader, apdu: bytes) -> bytes:
        from ..apdu import format_apdu

        logger.debug("reader %d: pinpad sends %s", reader.index, format_apdu(apdu))
        answer = reader.transmit(apdu)
        logger.debug("reader %d: the card answers %s", reader.index, answer[-2:].hex())
        return answer
