"""Hypothesis over every public input: only TypeError, ValueError or a documented
aioscard exception comes out -- never a cffi error, an OverflowError, a crash or a hang.

Inputs that pass validation go all the way to a real pcscd and an echo card in
the session simulator, so a value that slips through validation meets the C
library.  Inputs that fail validation must fail *before* any C call: the card
counts the APDUs it sees, and that count must not move.
"""

from __future__ import annotations

import array
import contextlib
import io
import math
import struct
from typing import TYPE_CHECKING, Any

import anyio
import pytest
from anyio.from_thread import BlockingPortal, start_blocking_portal
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import aioscard
from aioscard import monitor
from aioscard._cli import _commands, _main, _shell
from aioscard._cli._errors import EXIT_USAGE, CLIError
from aioscard.apdu import MAX_APDU_LENGTH, build_apdu, format_apdu, parse_apdu
from aioscard.atr import ATR
from aioscard.compat import scard
from aioscard.connection import TransportOptions
from aioscard.native import ReaderState, get_pcsc
from aioscard.native import constants as C
from aioscard.testing import MAX_FRAME, Simulator, VirtualCard
from aioscard.testing.plugin import wait_reader_state
from aioscard.util import (
    COMMA,
    HEX,
    PACK,
    UPPERCASE,
    from_hex,
    padd,
    toASCIIString,
    toBytes,
    toGSM3_38Bytes,
    toHexString,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

# The readers of this module's echo cards: one shared with the module's connection, one
# where each test is alone (SCardReconnect to exclusive waits while others use the card).
READER = 2
ALONE = 3
# A reader left empty (cards of other tests' factories are gone once they end).
EMPTY = 1
# What a value that fails validation may raise; aioscard's own errors are documented.
DOCUMENTED = (TypeError, ValueError, aioscard.SmartcardException)
# Phrases of cffi's own conversion errors: none may reach a user.
CFFI_PHRASES = (
    "int too big to convert",
    "can't convert negative",
    "an integer is required",
    "initializer for ctype",
    "from_buffer()",
    "cdata",
)

SLOW_IO = settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
PURE = settings(max_examples=300, deadline=None)

# -- strategies ------------------------------------------------------------------------

junk = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(max_size=8),
    st.binary(max_size=8),
    st.lists(st.integers(min_value=-300, max_value=300), max_size=8),
    st.lists(st.text(max_size=2), max_size=3),
    st.dictionaries(st.text(max_size=2), st.integers(), max_size=2),
    st.just(object()),
    st.just(1.5),
    st.just(math.nan),
    st.just(array.array("H", [1, 2, 3, 4])),
    st.just(memoryview(b"abcdefgh")[::2]),
)
any_int = st.one_of(
    st.integers(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([-1, 0, 1, 2**31 - 1, 2**31, 2**32 - 1, 2**32, 2**63 - 1, 2**63, 2**64]),
)
byte_kinds: list[Callable[[bytes], object]] = [
    bytes,
    bytearray,
    memoryview,
    list,
    tuple,
    lambda raw: array.array("B", raw),
]


@st.composite
def byte_input(draw: st.DrawFn, min_size: int = 0, max_size: int = 300) -> object:
    """A valid byte sequence in any of the accepted forms."""
    raw = draw(st.binary(min_size=min_size, max_size=max_size))
    return draw(st.sampled_from(byte_kinds))(raw)


bad_bytes = st.one_of(
    junk.filter(lambda v: not isinstance(v, (bytes, list))),
    st.lists(st.integers(), min_size=1, max_size=8).filter(
        lambda items: any(not 0 <= i <= 255 for i in items)
    ),
    st.lists(st.one_of(st.booleans(), st.floats(), st.text(max_size=1)), min_size=1, max_size=8),
)


def checked(call: Callable[[], Any], *, valid: bool | None) -> BaseException | None:
    """Run ``call`` on an input the test has classified; return None or the documented
    exception it raised.

    An invalid input (``valid=False``) must be refused by validation, with a
    ``TypeError`` or ``ValueError``.  A valid input (``valid=True``) must get past
    validation: the call succeeds, or PC/SC itself refuses the value with a
    documented aioscard exception (a protocol the card does not speak, a handle that
    names nothing).  ``valid=None`` is for a value of the right type whose content
    decides (an ATR's structure, an APDU's case): it is parsed, or refused with a
    ``ValueError`` or a documented aioscard exception, never a plain ``TypeError``.
    Anything else fails the test: an invalid input accepted, a valid one refused by
    validation, an OverflowError, a cffi error, an AttributeError ...
    """
    raised: BaseException | None = None
    try:
        call()
    except DOCUMENTED as error:
        raised = error
    if raised is not None:
        assert not isinstance(raised, (OverflowError, UnicodeError)), repr(raised)
        assert not any(phrase in str(raised) for phrase in CFFI_PHRASES), repr(raised)
    if valid is None:
        assert raised is None or isinstance(raised, (ValueError, aioscard.SmartcardException)), (
            repr(raised)
        )
        assert not isinstance(raised, TypeError) or isinstance(raised, ValueError), repr(raised)
    elif valid:
        assert raised is None or isinstance(raised, aioscard.SmartcardException), (
            f"a valid input was refused: {raised!r}"
        )
    else:
        assert isinstance(raised, (TypeError, ValueError)), (
            f"an invalid input was not refused (raised {raised!r})"
        )
    return raised


# -- what the documentation says is valid, for classifying the drawn inputs --------------


def is_bytes(value: object) -> bool:
    """A documented byte input: bytes, bytearray, a contiguous buffer of unsigned
    bytes, or a list or tuple of ints in 0..255 (not bools); never a str."""
    if isinstance(value, str):
        return False
    if isinstance(value, (list, tuple)):
        return all(type(item) is int and 0 <= item <= 255 for item in value)
    try:
        view = memoryview(value)  # type: ignore[arg-type]
    except TypeError:
        return False
    with view:
        return view.format == "B" and view.c_contiguous


def is_dword(value: object) -> bool:
    return type(value) is int and 0 <= value <= 0xFFFFFFFF


ALL_PROTOCOLS = (
    aioscard.CardConnection.T0_protocol
    | aioscard.CardConnection.T1_protocol
    | aioscard.CardConnection.T15_protocol
    | aioscard.CardConnection.RAW_protocol
)


def is_protocol(value: object) -> bool:
    """pyscard protocol bits: an int made of T0, T1, T15 and RAW only."""
    return type(value) is int and value >= 0 and not value & ~ALL_PROTOCOLS


def is_choice(value: object, allowed: tuple[int, ...]) -> bool:
    """None (the default) or one of ``allowed``."""
    return value is None or (type(value) is int and value in allowed)


SHARE_MODES = (C.SCARD_SHARE_EXCLUSIVE, C.SCARD_SHARE_SHARED, C.SCARD_SHARE_DIRECT)
DISPOSITIONS = (C.SCARD_LEAVE_CARD, C.SCARD_RESET_CARD, C.SCARD_UNPOWER_CARD, C.SCARD_EJECT_CARD)


def is_name(value: object) -> bool:
    """A reader name: a non-empty str that the native layer can pass (see is_c_string)."""
    return isinstance(value, str) and bool(value) and is_c_string(value)


def is_c_string(value: object) -> bool:
    """A str PC/SC can be given: without NUL, and encodable (lone surrogates only
    as decoding left them)."""
    if not isinstance(value, str) or "\0" in value:
        return False
    try:
        value.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return False
    return True


def is_names(value: object) -> bool:
    """None, or a collection (not a single str) of non-empty names without NUL."""
    if value is None:
        return True
    if isinstance(value, str):
        return False
    try:
        items = list(value)  # type: ignore[call-overload]
    except TypeError:
        return False
    return all(isinstance(item, str) and item and "\0" not in item for item in items)


def is_groups(value: object) -> bool:
    """None or empty (every reader), or a collection (not a str) of group names."""
    if isinstance(value, str):
        return False
    try:
        if not value:
            return True
        items = list(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return False
    return all(is_c_string(item) for item in items)


def is_int(value: object, low: int, high: int | None = None) -> bool:
    return type(value) is int and low <= value and (high is None or value <= high)


def is_hex(value: object) -> bool:
    """Hex text: hex digits in pairs, blanks and colons anywhere."""
    if not isinstance(value, str):
        return False
    digits = [c for c in value if not (c == ":" or c.isspace())]
    return all(c in "0123456789abcdefABCDEF" for c in digits) and len(digits) % 2 == 0


def is_hex_byte(value: object) -> bool:
    """One byte as hex text, as int(text, 16) reads it."""
    try:
        return isinstance(value, str) and 0 <= int(value, 16) <= 255
    except ValueError:
        return False


# The C types of contexts and card handles: pcsc-lite's are a C long.
C_LONG = range(-(1 << (8 * struct.calcsize("l") - 1)), 1 << (8 * struct.calcsize("l") - 1))


def is_timeout(value: object) -> bool:
    """None or a number of seconds >= 0 (not a bool, not NaN)."""
    if value is None:
        return True
    if type(value) is int:
        return value >= 0
    return type(value) is float and value >= 0  # NaN compares False


# -- the echo card and a connection to it ---------------------------------------------


class EchoCard:
    """Answers every command with itself and 90 00 (cut to fit a vpcd frame)."""

    def __call__(self, apdu: bytes, /) -> bytes:
        return apdu[: MAX_FRAME - 2] + b"\x90\x00"


def inserted(simulator: Simulator, reader: int) -> Iterator[VirtualCard]:
    if not simulator.running:
        simulator.restart()
    card = simulator.insert(VirtualCard(handler=EchoCard(), name=f"echo card {reader}"), reader)
    try:
        wait_reader_state(simulator, reader, present=True)
        yield card
    finally:
        simulator.remove(reader)
        if simulator.running:
            wait_reader_state(simulator, reader, present=False)


@pytest.fixture(scope="module")
def echo_card(pcsc_simulator: Simulator) -> Iterator[VirtualCard]:
    yield from inserted(pcsc_simulator, READER)


@pytest.fixture(scope="module")
def lone_card(pcsc_simulator: Simulator) -> Iterator[VirtualCard]:
    yield from inserted(pcsc_simulator, ALONE)


@pytest.fixture(scope="module")
def lone_reader(pcsc_simulator: Simulator) -> str:
    return pcsc_simulator.reader_names[ALONE]


@pytest.fixture(scope="module")
def portal() -> Iterator[BlockingPortal]:
    with start_blocking_portal("asyncio") as running:
        yield running


@pytest.fixture(scope="module")
def reader_name(pcsc_simulator: Simulator) -> str:
    return pcsc_simulator.reader_names[READER]


@pytest.fixture(scope="module")
def connection(
    echo_card: VirtualCard, portal: BlockingPortal, reader_name: str
) -> Iterator[aioscard.CardConnection]:
    connected = aioscard.Reader(reader_name).createConnection()
    portal.call(connected.connect)
    try:
        yield connected
    finally:
        portal.call(connected.release)


def call(portal: BlockingPortal, fn: Callable[..., Any], *args: Any) -> Any:
    """``await fn(*args)`` on the portal's loop, failing the test after 10 s (a hang)."""

    async def bounded() -> Any:
        with anyio.fail_after(10):
            return await fn(*args)

    return portal.call(bounded)


def reset(portal: BlockingPortal, reader: str) -> None:
    """Power the card down, so that the next connection negotiates its protocol afresh."""
    direct = aioscard.Reader(reader).createConnection()
    call(portal, direct.connect, None, direct.SHARE_DIRECT, direct.UNPOWER_CARD)
    call(portal, direct.release)


def still_works(portal: BlockingPortal, connection: aioscard.CardConnection) -> None:
    response = call(portal, connection.transmit, b"\x80\xee\x00\x00\x01\x2a")
    assert response.data == [0x80, 0xEE, 0x00, 0x00, 0x01, 0x2A]


# -- commands, control codes, attributes, protocols --------------------------------------


@SLOW_IO
@given(command=st.one_of(byte_input(min_size=0, max_size=300), bad_bytes))
def test_transmit_takes_any_command_or_refuses_it_before_the_card(
    portal: BlockingPortal,
    connection: aioscard.CardConnection,
    echo_card: VirtualCard,
    command: object,
) -> None:
    before = echo_card.apdu_count
    result: list[aioscard.Response] = []
    valid = is_bytes(command) and 4 <= len(bytes(command)) <= MAX_APDU_LENGTH  # type: ignore[call-overload]
    error = checked(lambda: result.append(call(portal, connection.transmit, command)), valid=valid)
    if valid:
        assert error is None, repr(error)
        assert bytes(result[0].data) == bytes(command)  # type: ignore[call-overload]
        assert (result[0].sw1, result[0].sw2) == (0x90, 0x00)
    else:
        assert "command" in str(error)
        assert echo_card.apdu_count == before, "a refused command reached the card"


@SLOW_IO
@given(size=st.sampled_from([MAX_FRAME - 2, MAX_FRAME - 1, MAX_FRAME]))
def test_transmit_of_the_longest_commands_a_vpcd_frame_carries(
    portal: BlockingPortal, connection: aioscard.CardConnection, size: int
) -> None:
    command = bytes(range(256)) * (size // 256) + bytes(size % 256)
    response = call(portal, connection.transmit, command)
    assert bytes(response.data) == command[: MAX_FRAME - 2]


@settings(PURE, max_examples=60)
@given(size=st.integers(min_value=MAX_APDU_LENGTH + 1, max_value=MAX_APDU_LENGTH + 70_000))
def test_overlong_commands_are_refused_before_any_pcsc_call(
    portal: BlockingPortal, connection: aioscard.CardConnection, size: int
) -> None:
    with pytest.raises(ValueError, match="command is too long"):
        call(portal, connection.transmit, bytes(size))


@SLOW_IO
@given(protocol=st.one_of(any_int, junk, st.sampled_from([0x1, 0x2, 0x8, 0x10000, 0x3, 0x0])))
def test_transmit_protocol_argument(
    portal: BlockingPortal, connection: aioscard.CardConnection, protocol: Any
) -> None:
    valid = protocol is None or is_protocol(protocol)
    checked(lambda: call(portal, connection.transmit, b"\x00\xa4\x04\x00", protocol), valid=valid)
    still_works(portal, connection)


control_codes = st.one_of(
    any_int, junk, st.integers(min_value=0, max_value=4095).map(C.SCARD_CTL_CODE)
)


@SLOW_IO
@given(code=control_codes, data=st.one_of(st.none(), byte_input(max_size=64), bad_bytes))
def test_control_codes_and_data(
    portal: BlockingPortal, connection: aioscard.CardConnection, code: Any, data: Any
) -> None:
    valid = is_dword(code) and (data is None or is_bytes(data))
    checked(lambda: call(portal, connection.control, code, data), valid=valid)
    still_works(portal, connection)


@SLOW_IO
@given(size=st.sampled_from([C.MAX_BUFFER_SIZE_EXTENDED, C.MAX_BUFFER_SIZE_EXTENDED + 1, 70_000]))
def test_control_data_at_and_beyond_the_limit(
    portal: BlockingPortal, connection: aioscard.CardConnection, size: int
) -> None:
    error = checked(
        lambda: call(portal, connection.control, C.SCARD_CTL_CODE(1), bytes(size)),
        valid=size <= C.MAX_BUFFER_SIZE_EXTENDED,
    )
    if size > C.MAX_BUFFER_SIZE_EXTENDED:
        assert isinstance(error, ValueError)
    still_works(portal, connection)


attribute_ids = st.one_of(
    any_int,
    junk,
    st.sampled_from(
        [getattr(C, name) for name in dir(C) if name.startswith("SCARD_ATTR_") and name.isupper()]
    ),
    st.tuples(st.integers(0, 0xFFFF), st.integers(0, 0xFFFF)).map(lambda t: t[0] << 16 | t[1]),
)


@SLOW_IO
@given(attr=attribute_ids)
def test_get_attrib_ids(
    portal: BlockingPortal, connection: aioscard.CardConnection, attr: Any
) -> None:
    result: list[list[int]] = []
    if (
        checked(
            lambda: result.append(call(portal, connection.getAttrib, attr)), valid=is_dword(attr)
        )
        is None
    ):
        assert all(0 <= b <= 255 for b in result[0])
    still_works(portal, connection)


# -- connect, reconnect, transactions, reader names ---------------------------------------

modes = st.one_of(st.none(), any_int, junk, st.sampled_from([1, 2, 3]))
dispositions = st.one_of(st.none(), any_int, junk, st.sampled_from([0, 1, 2, 3]))
protocols = st.one_of(st.none(), any_int, junk, st.sampled_from([0x1, 0x2, 0x3, 0x8, 0x10000]))


@SLOW_IO
@given(protocol=protocols, mode=modes, disposition=dispositions)
def test_connect_arguments(
    portal: BlockingPortal,
    lone_card: VirtualCard,
    lone_reader: str,
    protocol: Any,
    mode: Any,
    disposition: Any,
) -> None:
    connection = aioscard.Reader(lone_reader).createConnection()
    try:
        valid = (
            (protocol is None or is_protocol(protocol))
            and is_choice(mode, SHARE_MODES)
            and is_choice(disposition, DISPOSITIONS)
        )
        if (
            checked(
                lambda: call(portal, connection.connect, protocol, mode, disposition), valid=valid
            )
            is None
        ):
            assert connection.getATR() == list(lone_card.atr)
    finally:
        call(portal, connection.release)
        reset(portal, lone_reader)


@SLOW_IO
@given(protocol=protocols, mode=modes, disposition=dispositions)
def test_reconnect_arguments(
    portal: BlockingPortal,
    lone_card: VirtualCard,
    lone_reader: str,
    protocol: Any,
    mode: Any,
    disposition: Any,
) -> None:
    connection = aioscard.Reader(lone_reader).createConnection()
    try:
        # An earlier example may have left the card on another protocol (RAW, say):
        # pcscd then refuses other protocols until the card is reset.
        valid = (
            (protocol is None or is_protocol(protocol))
            and is_choice(mode, SHARE_MODES)
            and is_choice(disposition, DISPOSITIONS)
        )
        if checked(lambda: call(portal, connection.connect), valid=True) is None:
            checked(
                lambda: call(portal, connection.reconnect, protocol, mode, disposition),
                valid=valid,
            )
    finally:
        call(portal, connection.release)
        reset(portal, lone_reader)


@SLOW_IO
@given(disposition=dispositions)
def test_transaction_dispositions(
    portal: BlockingPortal, connection: aioscard.CardConnection, disposition: Any
) -> None:
    async def transaction() -> None:
        async with connection.transaction(disposition):
            await connection.transmit(b"\x00\xa4\x04\x00")

    # transaction() takes an int disposition (LEAVE_CARD by default), not None.
    valid = disposition is not None and is_choice(disposition, DISPOSITIONS)
    checked(lambda: call(portal, transaction), valid=valid)
    # RESET_CARD and UNPOWER_CARD reset the card for everyone: acknowledge it.
    call(portal, connection.reconnect)
    still_works(portal, connection)


reader_names = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF), max_size=3),
    st.sampled_from(["", "\0", "a\0b", "x" * 5000, "\\\\?PnP?\\Notification"]),
    junk,
)


@SLOW_IO
@given(name=reader_names)
def test_reader_names(portal: BlockingPortal, echo_card: VirtualCard, name: Any) -> None:
    def connect_to() -> None:
        connection = aioscard.Reader(name).createConnection()
        try:
            call(portal, connection.connect)
        finally:
            call(portal, connection.release)

    checked(connect_to, valid=is_name(name))


@SLOW_IO
@given(groups=st.one_of(st.none(), st.lists(reader_names, max_size=3), junk))
def test_reader_groups(portal: BlockingPortal, echo_card: VirtualCard, groups: Any) -> None:
    result: list[list[aioscard.Reader]] = []
    if (
        checked(
            lambda: result.append(call(portal, aioscard.readers, groups)), valid=is_groups(groups)
        )
        is None
    ):
        assert all(isinstance(reader, aioscard.Reader) for reader in result[0])


# -- timeouts --------------------------------------------------------------------------

timeouts = st.one_of(
    st.none(),
    st.floats(),
    st.integers(),
    st.sampled_from([10**400, -(10**400), math.inf, -math.inf, math.nan, 1e308, 0, -0.0]),
    junk,
)


@SLOW_IO
@given(timeout=timeouts)
def test_card_request_timeouts(
    portal: BlockingPortal, echo_card: VirtualCard, reader_name: str, timeout: Any
) -> None:
    request: list[aioscard.CardRequest] = []
    if checked(
        lambda: request.append(aioscard.CardRequest(readers=[reader_name], timeout=timeout)),
        valid=is_timeout(timeout),
    ):
        return
    # The echo card is there: the wait ends at once, whatever the timeout.
    service = call(portal, request[0].waitforcard)
    assert service.connection.reader == reader_name


@SLOW_IO
@given(timeout=st.one_of(st.floats(0, 0.02), st.sampled_from([0, 0.0, 10**-300])))
def test_short_timeouts_expire_as_timeouts(
    portal: BlockingPortal, pcsc_simulator: Simulator, timeout: float
) -> None:
    empty = pcsc_simulator.reader_names[EMPTY]
    request = aioscard.CardRequest(readers=[empty], timeout=timeout)
    with pytest.raises(aioscard.CardRequestTimeoutException):
        call(portal, request.waitforcard)


@settings(PURE, max_examples=150)
@given(readers=st.one_of(st.none(), st.lists(reader_names, max_size=3), junk), card_type=junk)
def test_card_request_and_monitor_arguments(readers: Any, card_type: Any) -> None:
    checked(lambda: aioscard.CardRequest(readers=readers), valid=is_names(readers))
    # junk holds no CardType, CardService class or stream: only None is valid.
    checked(lambda: aioscard.CardRequest(cardType=card_type), valid=card_type is None)
    checked(lambda: aioscard.CardRequest(cardServiceClass=card_type), valid=card_type is None)
    checked(lambda: monitor.card_events(readers=readers), valid=is_names(readers))
    checked(lambda: monitor.card_events(cardType=card_type), valid=card_type is None)
    checked(lambda: monitor.card_events(buffer=card_type), valid=is_int(card_type, 1))
    checked(lambda: monitor.reader_events(buffer=card_type), valid=is_int(card_type, 1))


# -- ATRs, masks, cards, options --------------------------------------------------------


@settings(PURE, max_examples=400)
@given(atr=st.one_of(byte_input(max_size=40), bad_bytes, st.text(max_size=80)), mask=junk)
def test_atrs_masks_and_cards(atr: Any, mask: Any) -> None:
    # ATR() takes bytes or hex text, the card types and cards bytes only; whether
    # an ATR parses is up to its structure.
    typed = is_bytes(atr)
    parsed: list[ATR] = []
    if (
        checked(
            lambda: parsed.append(ATR(atr)), valid=None if typed or isinstance(atr, str) else False
        )
        is None
    ):
        assert parsed[0].explain()
        assert str(parsed[0])
        assert repr(parsed[0])
        parsed[0].getSupportedProtocols()
    card_type: list[aioscard.ATRCardType] = []
    if (
        checked(
            lambda: card_type.append(aioscard.ATRCardType(atr, mask)),
            valid=None if typed and (mask is None or is_bytes(mask)) else False,
        )
        is None
    ):
        checked(lambda: card_type[0].matches(atr), valid=None if typed else False)
        checked(lambda: card_type[0].matches(mask), valid=None if is_bytes(mask) else False)
    checked(lambda: aioscard.ATRCardType(atr), valid=None if typed else False)
    checked(lambda: aioscard.Card("reader", atr), valid=None if typed else False)
    checked(lambda: aioscard.Card(mask, atr), valid=None if typed and is_name(mask) else False)


@settings(PURE, max_examples=200)
@given(
    get_response=junk, le_correction=junk, cla=st.one_of(any_int, junk), rounds=st.one_of(any_int)
)
def test_transport_options(get_response: Any, le_correction: Any, cla: Any, rounds: Any) -> None:
    checked(lambda: TransportOptions(get_response_cla=cla), valid=is_int(cla, 0, 0xFF))
    checked(lambda: TransportOptions(max_rounds=rounds), valid=is_int(rounds, 0))
    checked(
        lambda: TransportOptions(get_response=get_response, le_correction=le_correction),
        valid=type(get_response) is bool and type(le_correction) is bool,
    )


@settings(PURE, max_examples=200)
@given(protocol=st.one_of(any_int, junk))
def test_set_protocol(protocol: Any) -> None:
    checked(
        lambda: aioscard.CardConnection("reader").setProtocol(protocol), valid=is_protocol(protocol)
    )


# -- APDU and hex helpers, for values of any type ---------------------------------------


@settings(PURE, max_examples=400)
@given(value=st.one_of(junk, byte_input(max_size=20), bad_bytes), other=junk)
def test_byte_helpers_take_any_object(value: Any, other: Any) -> None:
    data = is_bytes(value)
    # An APDU's case is up to its bytes.
    checked(lambda: parse_apdu(value), valid=None if data else False)
    for helper in (format_apdu, toASCIIString, aioscard.util.to_hex):
        checked(lambda: helper(value), valid=data)  # noqa: B023
    checked(lambda: toHexString(value), valid=data or value is None)
    flags = is_int(other, 0) and not other & ~(PACK | HEX | UPPERCASE | COMMA)
    checked(lambda: toHexString(value, other), valid=(data or value is None) and flags)
    checked(lambda: aioscard.util.to_hex(value, other), valid=data and isinstance(other, str))
    reveal = other is None or type(other) is bool
    checked(lambda: format_apdu(value, reveal=other), valid=data and reveal)
    # padd pads to any length asked for: a length of 10**12 is a request for terabytes.
    length = other if not isinstance(other, int) or other < 100_000 else 100_000
    checked(lambda: padd(value, length), valid=data and is_int(length, 0))
    padding = is_int(other, 0, 255) or is_hex_byte(other)
    checked(lambda: padd(value, 8, other), valid=data and padding)
    checked(
        lambda: aioscard.Response.from_raw(value),
        valid=data and len(bytes(value)) >= 2,
    )
    le = other is None or is_int(other, 1, 65536)
    checked(lambda: build_apdu(0, 0, 0, 0, value, other), valid=data and le)
    checked(lambda: build_apdu(other, 0, 0, 0), valid=is_int(other, 0, 255))
    checked(lambda: aioscard.apdu.set_reveal_secrets(other), valid=type(other) is bool)
    assert aioscard.apdu.reveal_secrets() is (other is True)
    aioscard.apdu.set_reveal_secrets(False)


@settings(PURE, max_examples=400)
@given(
    text=st.one_of(st.text(), st.text(alphabet="0123456789abcdefABCDEF :\t\n\u00a0\u2028"), junk)
)
def test_hex_text_helpers(text: Any) -> None:
    checked(lambda: from_hex(text), valid=is_hex(text))
    checked(lambda: toBytes(text), valid=is_hex(text))
    # Which characters GSM 03.38 has is up to the text.
    checked(lambda: toGSM3_38Bytes(text), valid=None if isinstance(text, (str, bytes)) else False)
    checked(
        lambda: aioscard.util.toASCIIBytes(text), valid=None if isinstance(text, str) else False
    )
    checked(lambda: ATR(text), valid=None if isinstance(text, str) or is_bytes(text) else False)


# -- the command line's parsing ---------------------------------------------------------


@settings(PURE, max_examples=400)
@given(text=st.one_of(st.text(), st.text(alphabet="0123456789abcdefABCDEF :#\n"), st.just("")))
def test_cli_apdu_parsing(text: str) -> None:
    for parse in (
        lambda: _commands.parse_apdu(text, "argument 1"),
        lambda: _commands.parse_apdu_lines(text.splitlines(), "stdin"),
        lambda: _shell._parse(text),
    ):
        code = EXIT_USAGE
        try:
            parse()
        except CLIError as error:
            code = error.code
        assert code == EXIT_USAGE


@settings(PURE, max_examples=200)
@given(words=st.lists(st.text(max_size=12), max_size=4))
def test_cli_atr_command_parses_any_words(words: list[str]) -> None:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = _main.main(["atr", *(words or [""])])
    assert status in (0, EXIT_USAGE), err.getvalue()
    assert "Traceback" not in err.getvalue()


@settings(PURE, max_examples=200)
@given(text=st.one_of(st.text(max_size=12), st.sampled_from(["nan", "-nan", "inf", "1e999", "-1"])))
def test_cli_numeric_options(text: str) -> None:
    parser = _main.build_parser()
    for argv in (["send", "--wait", text, "00A40400"], ["sim", "--readers", text]):
        try:
            with contextlib.redirect_stderr(io.StringIO()):
                options = parser.parse_args(argv)
        except SystemExit as exit_:
            code = exit_.code
        else:
            code = None
        if code is not None:
            assert code == EXIT_USAGE
            continue
        if argv[0] == "send":
            assert not math.isnan(options.wait), "--wait nan accepted"
        else:
            assert options.readers >= 1


# -- the native layer and pyscard's scard module ----------------------------------------


@settings(SLOW_IO, max_examples=300)
@given(handle=any_int, value=any_int, data=st.one_of(st.binary(max_size=8), junk))
def test_native_layer_takes_any_handle_and_value(
    echo_card: VirtualCard, handle: Any, value: Any, data: Any
) -> None:
    api = get_pcsc()
    # A handle or context is a C long, a value a DWORD, data bytes or bytearray.
    ok = handle in C_LONG
    dword = is_dword(value)
    buffer = isinstance(data, (bytes, bytearray))
    checked(lambda: api.release_context(handle), valid=ok)
    checked(lambda: api.is_valid_context(handle), valid=ok)
    checked(lambda: api.cancel(handle), valid=ok)
    checked(lambda: api.list_readers(handle), valid=ok)
    checked(lambda: api.list_reader_groups(handle), valid=ok)
    checked(lambda: api.get_status_change(handle, 0, [ReaderState("r")]), valid=ok)
    checked(lambda: api.connect(handle, "r", value, value), valid=ok and dword)
    checked(lambda: api.reconnect(handle, value, value, value), valid=ok and dword)
    checked(lambda: api.disconnect(handle, value), valid=ok and dword)
    checked(lambda: api.begin_transaction(handle), valid=ok)
    checked(lambda: api.end_transaction(handle, value), valid=ok and dword)
    checked(lambda: api.status(handle), valid=ok)
    checked(lambda: api.transmit(handle, value, b"\x00\xa4\x04\x00"), valid=ok and dword)
    checked(lambda: api.transmit(handle, 2, data), valid=ok and buffer)
    checked(lambda: api.control(handle, value, b""), valid=ok and dword)
    checked(lambda: api.control(handle, 1, data), valid=ok and buffer)
    checked(lambda: api.get_attrib(handle, value), valid=ok and dword)
    checked(lambda: api.set_attrib(handle, value, b"\x01"), valid=ok and dword)
    checked(lambda: api.set_attrib(handle, 1, data), valid=ok and buffer and len(data) > 0)


@settings(SLOW_IO, max_examples=200)
@given(
    scope=st.one_of(any_int, junk),
    states=st.lists(
        st.tuples(reader_names.filter(lambda n: isinstance(n, str)), st.one_of(any_int, junk)),
        max_size=20,
    ),
)
def test_native_contexts_and_reader_states(
    echo_card: VirtualCard, reader_name: str, scope: Any, states: list[tuple[str, Any]]
) -> None:
    api = get_pcsc()
    contexts: list[int] = []
    checked(lambda: contexts.append(api.establish_context(scope)), valid=is_dword(scope))
    context = contexts[0] if contexts else api.establish_context()
    try:
        entries = [(reader_name, 0), *states]
        # Timeout 0: a call that passes validation returns at once.
        valid = all(is_c_string(name) and is_dword(state) for name, state in states)
        checked(
            lambda: api.get_status_change(context, 0, [ReaderState(*e) for e in entries]),
            valid=valid,
        )
        for name, _ in states:
            checked(
                lambda: api.connect(context, name, C.SCARD_SHARE_SHARED, 3),  # noqa: B023
                valid=is_c_string(name),
            )
    finally:
        api.release_context(context)


@settings(SLOW_IO, max_examples=200)
@given(handle=any_int, value=st.one_of(any_int, junk), data=st.one_of(byte_input(), junk))
def test_pyscard_scard_functions(
    echo_card: VirtualCard, handle: Any, value: Any, data: Any
) -> None:
    # pyscard's functions return PC/SC failures as codes; only the wrong type of
    # argument raises.
    ok = handle in C_LONG
    dword = is_dword(value)
    calls: list[tuple[Callable[[], Any], bool]] = [
        (lambda: scard.SCardTransmit(handle, value, b"\x00\xa4\x04\x00"), ok and dword),
        (lambda: scard.SCardTransmit(handle, scard.SCARD_PCI_T1, data), ok and is_bytes(data)),
        (lambda: scard.SCardControl(handle, value, data), ok and dword and is_bytes(data)),
        (lambda: scard.SCardGetAttrib(handle, value), ok and dword),
        (lambda: scard.SCardStatus(handle), ok),
        (lambda: scard.SCardReconnect(handle, value, value, value), ok and dword),
        # pyscard 2.3.1 wants a list of group names (TypeError for a str, even an
        # empty one); None and tuples are accepted beyond it.
        (
            lambda: scard.SCardListReaders(handle, value),
            ok
            and (
                value is None
                or (isinstance(value, (list, tuple)) and all(is_c_string(g) for g in value))
            ),
        ),
        (lambda: scard.SCardGetErrorMessage(value), isinstance(value, int)),
        (lambda: scard.SCardGetStatusChange(handle, 0, [("r", value)]), ok and dword),
    ]
    for fn, valid in calls:
        checked(fn, valid=valid)
