"""Tests for aioscard.sw: status-word meanings, SW exceptions, checkers and chains."""

from __future__ import annotations

import pickle
from typing import TYPE_CHECKING

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aioscard.sw import (
    CheckingErrorException,
    ErrorChecker,
    ErrorCheckingChain,
    ExecutionErrorException,
    ISO7816_4_SW1ErrorChecker,
    ISO7816_4ErrorChecker,
    ISO7816_8ErrorChecker,
    ISO7816_9ErrorChecker,
    SecurityRelatedException,
    SWException,
    WarningProcessingException,
    describe_sw,
    op21_ErrorChecker,
)

if TYPE_CHECKING:
    from collections.abc import Sequence

_byte = st.integers(min_value=0, max_value=255)
_CHECKERS: list[ErrorChecker] = [
    ISO7816_4ErrorChecker(),
    ISO7816_4_SW1ErrorChecker(),
    ISO7816_8ErrorChecker(),
    ISO7816_9ErrorChecker(),
    op21_ErrorChecker(),
]

W, E, S, C = (
    WarningProcessingException,
    ExecutionErrorException,
    SecurityRelatedException,
    CheckingErrorException,
)


# --- describe_sw ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sw1", "sw2", "meaning"),
    [
        (0x90, 0x00, "Normal processing"),
        (0x63, 0xC2, "Verification failed, 2 retries left"),
        (0x63, 0xC1, "Verification failed, 1 retry left"),
        (0x6A, 0x82, "File or application not found"),
        (0x61, 0x10, "16 bytes still available (use GET RESPONSE)"),
        (0x61, 0x00, "256 or more bytes still available (use GET RESPONSE)"),
        (0x6C, 0x10, "Wrong Le; exact length is 16"),
        (0x6C, 0x00, "Wrong Le; exact length is 256"),
        (0x69, 0x82, "Security status not satisfied"),
        (0x6D, 0x00, "Instruction code not supported or invalid"),
        (0x62, 0x10, "Warning, non-volatile memory unchanged: triggering by the card (10)"),
        (0x6A, 0x99, "Wrong parameters P1-P2 (6A99: no further meaning defined by ISO 7816-4)"),
        (0x91, 0x00, "Proprietary status 9100 (defined by the application or card)"),
        (0x60, 0x00, "Not a status word: 60 is the NULL procedure byte of T=0"),
        (0x12, 0x34, "Not a status word: SW1 12 is neither 6X nor 9X"),
    ],
)
def test_describe_sw_gives_the_iso_meaning(sw1: int, sw2: int, meaning: str) -> None:
    assert describe_sw(sw1, sw2) == meaning


@given(_byte, _byte)
def test_describe_sw_answers_for_every_status_word(sw1: int, sw2: int) -> None:
    meaning = describe_sw(sw1, sw2)
    assert meaning
    assert "\n" not in meaning


@given(st.integers().filter(lambda v: not 0 <= v <= 255), _byte)
def test_describe_sw_rejects_values_outside_a_byte(bad: int, good: int) -> None:
    with pytest.raises(ValueError, match=r"sw1 must be in 0\.\.255"):
        describe_sw(bad, good)
    with pytest.raises(ValueError, match=r"sw2 must be in 0\.\.255"):
        describe_sw(good, bad)


def test_describe_sw_rejects_non_ints() -> None:
    with pytest.raises(TypeError, match="sw1 must be an int"):
        describe_sw(True, 0)
    with pytest.raises(TypeError, match="sw2 must be an int"):
        describe_sw(0x90, "00")  # type: ignore[arg-type]


# --- exceptions ----------------------------------------------------------------------


def test_sw_exception_names_status_word_and_meaning_but_not_data() -> None:
    exc = CheckingErrorException([0x31, 0x32, 0x33, 0x34], 0x6A, 0x82, "File not found")
    assert str(exc) == "status word 6A82: checking error - File not found"
    assert exc.message == "checking error - File not found"
    assert (exc.data, exc.sw1, exc.sw2, exc.sw) == ([0x31, 0x32, 0x33, 0x34], 0x6A, 0x82, 0x6A82)
    for text in (str(exc), repr(exc)):
        assert "49" not in text  # 0x31 as decimal
        assert "31 32" not in text


def test_sw_exception_without_message_uses_the_iso_meaning() -> None:
    assert str(SWException([], 0x69, 0x82)) == "status word 6982: Security status not satisfied"
    assert WarningProcessingException([], 0x63, 0xC0).message == (
        "warning processing - Verification failed, 0 retries left"
    )


@pytest.mark.parametrize("cls", [SWException, W, E, S, C])
def test_sw_exceptions_survive_pickling(cls: type[SWException]) -> None:
    exc = cls([1, 2], 0x6A, 0x80, "bad data")
    copy = pickle.loads(pickle.dumps(exc))
    assert type(copy) is cls
    assert (copy.data, copy.sw1, copy.sw2, copy.message) == (
        exc.data,
        exc.sw1,
        exc.sw2,
        exc.message,
    )


def test_sw_exception_checks_its_arguments() -> None:
    with pytest.raises(ValueError, match=r"sw1 must be in 0\.\.255, got 256"):
        SWException([], 256, 0)
    with pytest.raises(TypeError, match="sw2 must be an int"):
        SWException([], 0x6A, None)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="data must be a sequence"):
        SWException("9000", 0x90, 0x00)  # type: ignore[arg-type]


def test_sw_exceptions_are_not_transport_errors() -> None:
    from aioscard.exceptions import SmartcardException

    assert not issubclass(SWException, SmartcardException)


# --- checkers ------------------------------------------------------------------------


_EXPECTATIONS: list[tuple[ErrorChecker, int, int, type[SWException] | None]] = [
    (ISO7816_4ErrorChecker(), 0x62, 0x81, W),
    (ISO7816_4ErrorChecker(), 0x62, 0xFF, W),
    (ISO7816_4ErrorChecker(), 0x62, 0x85, None),
    (ISO7816_4ErrorChecker(), 0x63, 0xC3, W),
    (ISO7816_4ErrorChecker(), 0x64, 0x00, E),
    (ISO7816_4ErrorChecker(), 0x65, 0x81, None),
    (ISO7816_4ErrorChecker(), 0x66, 0x00, None),
    (ISO7816_4ErrorChecker(), 0x67, 0x00, C),
    (ISO7816_4ErrorChecker(), 0x69, 0x82, C),
    (ISO7816_4ErrorChecker(), 0x6A, 0x82, C),
    (ISO7816_4ErrorChecker(), 0x6A, 0x89, None),
    (ISO7816_4ErrorChecker(), 0x6C, 0x10, None),
    (ISO7816_4ErrorChecker(), 0x6D, 0x00, C),
    (ISO7816_4ErrorChecker(), 0x6F, 0x00, C),
    (ISO7816_4_SW1ErrorChecker(), 0x62, 0x85, W),
    (ISO7816_4_SW1ErrorChecker(), 0x65, 0x01, E),
    (ISO7816_4_SW1ErrorChecker(), 0x66, 0x42, S),
    (ISO7816_4_SW1ErrorChecker(), 0x6C, 0x10, C),
    (ISO7816_4_SW1ErrorChecker(), 0x6F, 0xFF, C),
    (ISO7816_4_SW1ErrorChecker(), 0x91, 0x00, None),
    (ISO7816_8ErrorChecker(), 0x63, 0xCF, W),
    (ISO7816_8ErrorChecker(), 0x65, 0x81, E),
    (ISO7816_8ErrorChecker(), 0x66, 0x87, S),
    (ISO7816_8ErrorChecker(), 0x68, 0x84, C),
    (ISO7816_8ErrorChecker(), 0x6A, 0x83, None),
    (ISO7816_8ErrorChecker(), 0x62, 0x81, None),
    (ISO7816_9ErrorChecker(), 0x62, 0x82, W),
    (ISO7816_9ErrorChecker(), 0x6A, 0x8A, C),
    (ISO7816_9ErrorChecker(), 0x6A, 0x81, None),
    (ISO7816_9ErrorChecker(), 0x63, 0xC1, None),
    (op21_ErrorChecker(), 0x62, 0x83, W),
    (op21_ErrorChecker(), 0x65, 0x81, E),
    (op21_ErrorChecker(), 0x94, 0x84, C),
    (op21_ErrorChecker(), 0x94, 0x81, None),
    (op21_ErrorChecker(), 0x6A, 0x83, None),
]


@pytest.mark.parametrize(
    ("checker", "sw1", "sw2", "expected"),
    _EXPECTATIONS,
    ids=[f"{type(c).__name__}-{a:02X}{b:02X}" for c, a, b, _ in _EXPECTATIONS],
)
def test_checker_maps_status_word_to_exception_class(
    checker: ErrorChecker, sw1: int, sw2: int, expected: type[SWException] | None
) -> None:
    if expected is None:
        checker([], sw1, sw2)  # returns without raising
        return
    with pytest.raises(expected) as info:
        checker([0xAA], sw1, sw2)
    assert type(info.value) is expected
    assert (info.value.data, info.value.sw1, info.value.sw2) == ([0xAA], sw1, sw2)


@pytest.mark.parametrize("checker", _CHECKERS, ids=lambda c: type(c).__name__)
@given(sw2=_byte)
def test_normal_processing_never_raises(checker: ErrorChecker, sw2: int) -> None:
    checker([], 0x90, 0x00)
    checker([], 0x61, sw2)


@given(_byte, _byte)
def test_sw1_checker_raises_exactly_for_the_iso_error_groups(sw1: int, sw2: int) -> None:
    checker = ISO7816_4_SW1ErrorChecker()
    if 0x62 <= sw1 <= 0x6F:
        with pytest.raises(SWException, match=f"status word {sw1:02X}{sw2:02X}: "):
            checker([], sw1, sw2)
    else:
        checker([], sw1, sw2)


@pytest.mark.parametrize("checker", _CHECKERS, ids=lambda c: type(c).__name__)
@given(sw1=_byte, sw2=_byte)
def test_checkers_raise_only_sw_exceptions_carrying_the_status_word(
    checker: ErrorChecker, sw1: int, sw2: int
) -> None:
    raised: SWException | None = None
    try:
        checker([], sw1, sw2)
    except SWException as exc:
        raised = exc
    if raised is not None:
        assert (raised.sw1, raised.sw2) == (sw1, sw2)
        assert raised.message


def test_pin_retry_counter_is_reported() -> None:
    with pytest.raises(WarningProcessingException, match="2 retries left"):
        ISO7816_4ErrorChecker()([], 0x63, 0xC2)


# --- ErrorCheckingChain --------------------------------------------------------------


def _chain(*checkers: ErrorChecker) -> list[ErrorCheckingChain]:
    chain: list[ErrorCheckingChain] = []
    for checker in checkers:
        ErrorCheckingChain(chain, checker)
    return chain


def test_chain_reports_the_first_checker_that_objects() -> None:
    chain = _chain(op21_ErrorChecker(), ISO7816_4ErrorChecker())
    with pytest.raises(CheckingErrorException, match="Application not found"):
        chain[0]([], 0x6A, 0x82)
    reversed_chain = _chain(ISO7816_4ErrorChecker(), op21_ErrorChecker())
    with pytest.raises(CheckingErrorException, match="File or application not found"):
        reversed_chain[0]([], 0x6A, 0x82)


def test_chain_falls_through_to_later_checkers() -> None:
    chain = _chain(ISO7816_9ErrorChecker(), ISO7816_8ErrorChecker(), ISO7816_4_SW1ErrorChecker())
    with pytest.raises(CheckingErrorException, match="6C10"):
        chain[0]([], 0x6C, 0x10)
    chain[0]([], 0x90, 0x00)


def test_filtered_exception_is_swallowed_and_ends_the_check() -> None:
    chain = _chain(ISO7816_4ErrorChecker(), ISO7816_4_SW1ErrorChecker())
    chain[0].addFilterException(WarningProcessingException)
    chain[0]([], 0x63, 0xC1)  # the SW1 checker would raise too, but the walk stopped
    with pytest.raises(CheckingErrorException):
        chain[0]([], 0x6A, 0x82)


def test_filter_matches_the_exact_class_only() -> None:
    chain = _chain(ISO7816_4ErrorChecker())
    chain[0].addFilterException(SWException)
    with pytest.raises(WarningProcessingException):
        chain[0]([], 0x63, 0x00)


def test_filter_applies_from_its_link_onwards() -> None:
    chain = _chain(ISO7816_9ErrorChecker(), ISO7816_4ErrorChecker())
    chain[1].addFilterException(CheckingErrorException)
    chain[1]([], 0x6A, 0x82)
    with pytest.raises(CheckingErrorException):
        chain[0]([], 0x6A, 0x89)  # ISO 7816-9 raises in the first, unfiltered link
    chain[0]([], 0x6A, 0x82)  # 7816-9 passes it; the filtered 7816-4 link swallows it
    assert chain[0].excludes == []
    assert chain[1].excludes == [CheckingErrorException]


def test_chain_navigation() -> None:
    chain = _chain(ISO7816_9ErrorChecker(), ISO7816_4ErrorChecker())
    assert chain[0].next() is chain[1]
    assert chain[1].next() is None
    assert not chain[0].end()
    assert chain[1].end()


def test_chain_accepts_plain_functions_as_strategies() -> None:
    seen: list[tuple[int, int]] = []

    def record(data: Sequence[int], sw1: int, sw2: int) -> None:
        seen.append((sw1, sw2))

    chain = _chain(ISO7816_4ErrorChecker())
    ErrorCheckingChain(chain, record)
    chain[0]([], 0x90, 0x00)
    assert seen == [(0x90, 0x00)]


def test_chain_rejects_bad_arguments() -> None:
    with pytest.raises(TypeError, match="chain must be a list"):
        ErrorCheckingChain((), ISO7816_4ErrorChecker())  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="strategy must be callable"):
        ErrorCheckingChain([], 42)  # type: ignore[arg-type]
    chain = _chain(ISO7816_4ErrorChecker())
    with pytest.raises(TypeError, match="exClass must be an exception class"):
        chain[0].addFilterException("WarningProcessingException")  # type: ignore[arg-type]
