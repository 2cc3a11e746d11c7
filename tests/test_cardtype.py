"""Card types: AnyCardType, ATRCardType with and without masks, user subclasses."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aioscard import InvalidATRMaskLengthException, Reader
from aioscard.cardtype import AnyCardType, ATRCardType, CardType

if TYPE_CHECKING:
    from aioscard.util import ByteInput

ATR = [0x3B, 0x88, 0x01, 0x61, 0x69, 0x6F, 0x73, 0x63, 0x61, 0x72, 0x64, 0x89]

atrs = st.binary(min_size=1, max_size=33)


def test_any_card_type_matches_everything() -> None:
    card_type = AnyCardType()
    assert card_type.matches(ATR)
    assert card_type.matches(b"\x3b", Reader("some reader"))
    assert repr(card_type) == "AnyCardType()"


def test_base_card_type_must_be_overridden() -> None:
    with pytest.raises(NotImplementedError, match="override matches"):
        CardType().matches(ATR)


def test_user_subclass_sees_atr_and_reader() -> None:
    class FromReader(CardType):
        def matches(self, atr: ByteInput, reader: Reader | str | None = None) -> bool:
            return str(reader).startswith("Good") and list(atr)[:1] == [0x3B]

    assert FromReader().matches(ATR, Reader("Good reader 0"))
    assert not FromReader().matches(ATR, Reader("Other reader"))


def test_atr_card_type_without_mask_needs_equal_atr() -> None:
    card_type = ATRCardType(ATR)
    assert card_type.matches(ATR)
    assert card_type.matches(bytes(ATR))
    assert not card_type.matches([*ATR[:-1], 0x00])
    assert not card_type.matches(ATR[:-1])  # shorter
    assert not card_type.matches([*ATR, 0x00])  # longer
    assert card_type.atr == ATR
    assert card_type.mask is None


def test_atr_card_type_mask_ignores_cleared_bits() -> None:
    mask = [0xFF] * 3 + [0x00] * 8 + [0xFF]
    card_type = ATRCardType(ATR, mask)
    other_history = [*ATR[:3], *b"12345678", ATR[-1]]
    assert card_type.matches(other_history)
    assert not card_type.matches([0x3F, *other_history[1:]])
    assert card_type.mask == mask
    assert "mask=" in repr(card_type)


@pytest.mark.parametrize("mask", [[0xFF], [0xFF] * 13, []])
def test_mask_of_another_length_is_refused_at_construction(mask: list[int]) -> None:
    if not mask:
        with pytest.raises(ValueError, match="mask"):
            ATRCardType(ATR, mask)
        return
    with pytest.raises(InvalidATRMaskLengthException, match=f"{len(mask)} bytes"):
        ATRCardType(ATR, mask)


@pytest.mark.parametrize(
    ("atr", "error", "word"),
    [
        ("3B 88", TypeError, "atr"),
        ([0x3B, 256], ValueError, "atr"),
        ([], ValueError, "atr"),
        (bytes(40), ValueError, "atr"),
    ],
)
def test_bad_atr_is_refused_naming_it(atr: object, error: type[Exception], word: str) -> None:
    with pytest.raises(error, match=word):
        ATRCardType(atr)  # type: ignore[arg-type]


def test_equal_card_types_compare_equal() -> None:
    assert ATRCardType(ATR) == ATRCardType(bytes(ATR))
    assert hash(ATRCardType(ATR)) == hash(ATRCardType(bytes(ATR)))
    mask = [0xFF] * 11 + [0x00]
    assert ATRCardType(ATR, mask) == ATRCardType([*ATR[:-1], 0x00], mask)
    assert ATRCardType(ATR) != ATRCardType(ATR, [0xFF] * 12)


@given(atrs)
def test_an_atr_matches_itself_with_or_without_full_mask(atr: bytes) -> None:
    assert ATRCardType(atr).matches(atr)
    assert ATRCardType(atr, b"\xff" * len(atr)).matches(atr)


@given(st.data(), atrs)
def test_masked_match_is_bitwise_equality_under_the_mask(data: st.DataObject, atr: bytes) -> None:
    mask = data.draw(st.binary(min_size=len(atr), max_size=len(atr)))
    candidate = data.draw(st.binary(min_size=len(atr), max_size=len(atr)))
    expected = all(a & m == c & m for a, m, c in zip(atr, mask, candidate, strict=True))
    assert ATRCardType(atr, mask).matches(candidate) is expected


@given(atrs, atrs)
def test_a_zero_mask_matches_any_atr_of_that_length(atr: bytes, candidate: bytes) -> None:
    card_type = ATRCardType(atr, bytes(len(atr)))
    assert card_type.matches(candidate) is (len(candidate) == len(atr))
