"""The synchronous pyscard shim without a reader: import alias, util, ATR, sw, Exceptions, scard.

What pyscard users rely on through the ``smartcard.*`` paths, checked through
those very paths (``install_as_smartcard`` is in effect for this module), plus
the ``smartcard.scard`` conventions over a fake native layer and
``python -m aioscard.compat`` in subprocesses.
"""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
import textwrap
import types
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import aioscard.compat
import aioscard.exceptions
import aioscard.sw
from aioscard.native import constants as C

from ._fakepcsc import FakePCSC, installed

aioscard.compat.install_as_smartcard()

if TYPE_CHECKING:  # mypy knows the alias by its real name
    from collections.abc import Iterator

    from aioscard import compat as smartcard
    from aioscard.compat import (  # noqa: F401
        ATR,
        CardConnection,
        CardType,
        Exceptions,
        Observer,
        pcsc,
        scard,
        sw,
        util,
    )
    from aioscard.compat.Card import Card
    from aioscard.compat.pcsc import PCSCExceptions  # noqa: F401
    from aioscard.compat.reader.Reader import Reader
    from aioscard.compat.sw import (  # noqa: F401
        ErrorCheckingChain,
        ISO7816_4ErrorChecker,
        ISO7816_8ErrorChecker,
        ISO7816_9ErrorChecker,
        SWExceptions,
        op21_ErrorChecker,
    )
else:  # what runs goes through the smartcard.* names
    import smartcard
    import smartcard.ATR
    import smartcard.CardConnection
    import smartcard.CardType
    import smartcard.Exceptions
    import smartcard.Observer
    import smartcard.pcsc.PCSCExceptions
    import smartcard.scard
    import smartcard.sw.ErrorCheckingChain
    import smartcard.sw.ISO7816_4ErrorChecker
    import smartcard.sw.ISO7816_8ErrorChecker
    import smartcard.sw.ISO7816_9ErrorChecker
    import smartcard.sw.op21_ErrorChecker
    import smartcard.sw.SWExceptions
    import smartcard.util
    from smartcard.Card import Card
    from smartcard.reader.Reader import Reader

REPO = Path(__file__).resolve().parent.parent
VALS = [0x3B, 0x65, 0x00, 0x00, 0x9C, 0x11, 0x01, 0x01, 0x03]

# -- the import alias ---------------------------------------------------------------


def test_smartcard_modules_are_the_compat_modules_themselves() -> None:
    assert smartcard is aioscard.compat
    assert sys.modules["smartcard.util"] is sys.modules["aioscard.compat.util"]
    assert smartcard.sw.SWExceptions is importlib.import_module("aioscard.compat.sw.SWExceptions")
    # The alias does not rename the module: reload, pickling and -m still see the real one.
    assert smartcard.util.__name__ == "aioscard.compat.util"
    assert smartcard.util.__spec__ is not None
    assert smartcard.util.__spec__.name == "aioscard.compat.util"


def test_every_module_the_issue_names_imports_through_the_alias() -> None:
    for name in (
        "System",
        "CardRequest",
        "CardType",
        "CardConnection",
        "CardConnectionDecorator",
        "ExclusiveConnectCardConnection",
        "ExclusiveTransmitCardConnection",
        "CardService",
        "PassThruCardService",
        "Card",
        "reader.Reader",
        "Exceptions",
        "CardConnectionObserver",
        "CardConnectionEvent",
        "CardMonitoring",
        "ReaderMonitoring",
        "ATR",
        "util",
        "sw.ErrorChecker",
        "sw.ErrorCheckingChain",
        "sw.ISO7816_4ErrorChecker",
        "sw.ISO7816_4_SW1ErrorChecker",
        "sw.ISO7816_8ErrorChecker",
        "sw.ISO7816_9ErrorChecker",
        "sw.op21_ErrorChecker",
        "sw.SWExceptions",
        "pcsc.PCSCExceptions",
        "pcsc.PCSCReader",
        "pcsc.PCSCCardConnection",
        "Session",
        "scard",
        "Observer",
    ):
        alias = importlib.import_module(f"smartcard.{name}")
        assert alias is importlib.import_module(f"aioscard.compat.{name}")


def test_a_pyscard_module_aioscard_lacks_is_not_found_by_its_alias_name() -> None:
    with pytest.raises(ModuleNotFoundError) as caught:
        importlib.import_module("smartcard.wx")
    assert caught.value.name == "smartcard.wx"


def test_installing_twice_is_harmless() -> None:
    aioscard.compat.install_as_smartcard()
    assert aioscard.compat.installed()
    assert sum(type(f).__name__ == "_SmartcardFinder" for f in sys.meta_path) == 1


def test_installing_over_an_imported_pyscard_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    aioscard.compat.uninstall_smartcard()
    try:
        monkeypatch.setitem(sys.modules, "smartcard", types.ModuleType("smartcard"))
        with pytest.raises(RuntimeError, match="before anything imports smartcard"):
            aioscard.compat.install_as_smartcard()
        assert not aioscard.compat.installed()
    finally:
        monkeypatch.undo()
        aioscard.compat.install_as_smartcard()
    assert importlib.import_module("smartcard.util") is smartcard.util


# -- Exceptions: the same classes, pyscard's constructors -----------------------------


def test_exception_classes_are_aioscards_own() -> None:
    for name in (
        "SmartcardException",
        "CardConnectionException",
        "CardRequestException",
        "CardRequestTimeoutException",
        "CardServiceException",
        "InvalidATRMaskLengthException",
        "InvalidReaderException",
        "NoCardException",
        "NoReadersException",
    ):
        assert getattr(smartcard.Exceptions, name) is getattr(aioscard.exceptions, name)
    for name in ("SWException", "CheckingErrorException", "WarningProcessingException"):
        assert getattr(smartcard.sw.SWExceptions, name) is getattr(aioscard.sw, name)


def test_pyscard_style_construction_and_hresult() -> None:
    error = smartcard.Exceptions.NoCardException("Unable to connect", 0x8010000C)
    assert error.hresult == 0x8010000C
    assert "Unable to connect" in str(error)
    assert "0x8010000C" in str(error)
    with pytest.raises(smartcard.Exceptions.SmartcardException):
        raise smartcard.Exceptions.CardRequestTimeoutException()
    listing = smartcard.Exceptions.ListReadersException(0x8010001D)
    assert listing.hresult == 0x8010001D
    assert isinstance(listing, aioscard.exceptions.SmartcardException)


def test_pyscard_only_service_exceptions_are_service_unavailable() -> None:
    for cls in (
        smartcard.Exceptions.CardServiceNotFoundException,
        smartcard.Exceptions.CardServiceStoppedException,
    ):
        assert issubclass(cls, aioscard.exceptions.ServiceUnavailableException)


def test_pcsc_exceptions_take_the_code_first_and_mask_negative_codes() -> None:
    pcsc = smartcard.pcsc.PCSCExceptions
    error = pcsc.EstablishContextException(smartcard.scard.SCARD_E_NO_SERVICE)
    assert error.hresult == smartcard.scard.SCARD_E_NO_SERVICE
    assert str(error).startswith("Failed to establish context")
    assert isinstance(error, pcsc.BaseSCardException)
    assert isinstance(error, aioscard.exceptions.SmartcardException)
    assert pcsc.BaseSCardException(-0x7FEFFFE3).hresult == 0x8010001D
    group = pcsc.AddReaderToGroupException(0x80100022, "R", "G")
    assert (group.readername, group.groupname) == ("R", "G")
    assert "Failed to add reader: R to group: G" in str(group)


def test_an_atr_mask_of_the_wrong_length_raises_the_shared_exception() -> None:
    with pytest.raises(smartcard.Exceptions.InvalidATRMaskLengthException):
        smartcard.CardType.ATRCardType([0x3B, 0x00], [0xFF])


# -- util ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("flags", "text"),
    [
        (0, "3B 65 00 00 9C 11 01 01 03"),
        ("COMMA", "3B, 65, 00, 00, 9C, 11, 01, 01, 03"),
        ("HEX", "0x3B 0x65 0x00 0x00 0x9C 0x11 0x01 0x01 0x03"),
        ("HEX|COMMA", "0x3B, 0x65, 0x00, 0x00, 0x9C, 0x11, 0x01, 0x01, 0x03"),
        ("PACK", "3B6500009C11010103"),
        ("HEX|UPPERCASE", "0X3B 0X65 0X00 0X00 0X9C 0X11 0X01 0X01 0X03"),
        ("HEX|UPPERCASE|COMMA", "0X3B, 0X65, 0X00, 0X00, 0X9C, 0X11, 0X01, 0X01, 0X03"),
    ],
)
def test_tohexstring_lays_out_bytes_as_pyscard_does(flags: int | str, text: str) -> None:
    util = smartcard.util
    value = 0
    if isinstance(flags, str):
        for flag in flags.split("|"):
            value |= getattr(util, flag)
    assert util.toHexString(VALS, value) == text
    assert util.toHexString(VALS, output_format=value) == text
    assert util.toHexString(VALS, format=value) == text


def test_tohexstring_of_nothing_is_empty() -> None:
    assert smartcard.util.toHexString([]) == ""
    assert smartcard.util.toHexString() == ""


def test_tobytes_accepts_spaced_and_packed_hex_and_raises_typeerror_on_garbage() -> None:
    util = smartcard.util
    assert util.toBytes("3B 65 00 00 9C 11 01 01 03") == VALS
    assert util.toBytes("3B6500009C11010103") == VALS
    assert util.toBytes("3B6500   009C1101  0103") == VALS
    with pytest.raises(TypeError):
        util.toBytes("3B 6")
    with pytest.raises(TypeError):
        util.toBytes("zz")


def test_padd_ascii_and_gsm_helpers_match_pyscards_examples() -> None:
    util = smartcard.util
    assert util.padd(VALS, 16) == VALS + [0xFF] * 7
    assert util.padd(VALS, 12, "80") == VALS + [0x80] * 3
    assert util.padd(VALS, 8) == VALS
    assert util.toASCIIBytes("Number 101") == [78, 117, 109, 98, 101, 114, 32, 49, 48, 49]
    assert util.toASCIIString([0x4E, 0x75, 0x6D, 0x62, 0x65, 0x72, 0x20, 0x31, 0x30, 0x31]) == (
        "Number 101"
    )
    assert util.toASCIIString([0x01, 0x20, 0x80, 0x7E, 0xF0]) == ". .~."
    assert util.toGSM3_38Bytes("@ùPascal") == [0x00, 0x06, 0x50, 0x61, 0x73, 0x63, 0x61, 0x6C]


def test_the_deprecated_converters_still_work_and_warn() -> None:
    util = smartcard.util
    with pytest.warns(DeprecationWarning, match="deprecated"):
        assert util.hl2bs([78, 117, 109]) == "Num"
    with pytest.warns(DeprecationWarning, match="deprecated"):
        assert util.BinStringToHexList("Num") == [78, 117, 109]
    assert util.bs2hl is util.BinStringToHexList
    assert util.HexListToBinString is util.hl2bs


@given(st.lists(st.integers(0, 255), max_size=64))
def test_hex_round_trips_through_tobytes(values: list[int]) -> None:
    util = smartcard.util
    for flags in (0, util.PACK):
        assert util.toBytes(util.toHexString(values, flags)) == values


# -- ATR ----------------------------------------------------------------------------------


def test_atr_answers_pyscards_questions() -> None:
    atr = smartcard.ATR.ATR([0x3B, 0x16, 0x94, 0x20, 0x02, 0x01, 0x00, 0x00, 0x0D])
    assert atr.getTA1() == 0x94
    assert atr.getTB1() is None
    assert atr.isT0Supported()
    assert not atr.isT1Supported()
    assert atr.getHistoricalBytes() == [0x20, 0x02, 0x01, 0x00, 0x00, 0x0D]
    assert atr.getHistoricalBytesCount() == 6
    assert atr.getChecksum() is None
    assert str(atr) == "3B 16 94 20 02 01 00 00 0D"


def test_atr_with_t1_has_a_checked_tck() -> None:
    from aioscard.testing import ATR_T1

    atr = smartcard.ATR.ATR(list(ATR_T1))
    assert atr.isT1Supported()
    assert atr.getChecksum() == ATR_T1[-1]


# -- sw ---------------------------------------------------------------------------------


def _chain(*checkers: Any) -> list[Any]:
    chain: list[Any] = []
    for checker in checkers:
        smartcard.sw.ErrorCheckingChain.ErrorCheckingChain(chain, checker)
    return chain


def test_an_error_checking_chain_raises_the_shared_sw_exceptions() -> None:
    chain = _chain(
        smartcard.sw.ISO7816_9ErrorChecker.ISO7816_9ErrorChecker(),
        smartcard.sw.ISO7816_8ErrorChecker.ISO7816_8ErrorChecker(),
        smartcard.sw.ISO7816_4ErrorChecker.ISO7816_4ErrorChecker(),
    )
    chain[0]([], 0x90, 0x00)
    with pytest.raises(smartcard.sw.SWExceptions.CheckingErrorException) as caught:
        chain[0]([], 0x6A, 0x82)
    assert (caught.value.sw1, caught.value.sw2) == (0x6A, 0x82)
    assert isinstance(caught.value, aioscard.sw.SWException)
    with pytest.raises(smartcard.sw.SWExceptions.WarningProcessingException):
        chain[0]([], 0x63, 0xC2)


def test_a_filtered_exception_class_is_swallowed() -> None:
    chain = _chain(smartcard.sw.ISO7816_4ErrorChecker.ISO7816_4ErrorChecker())
    chain[0].addFilterException(smartcard.sw.SWExceptions.WarningProcessingException)
    chain[0]([], 0x62, 0x81)
    with pytest.raises(smartcard.sw.SWExceptions.CheckingErrorException):
        chain[0]([], 0x6D, 0x00)


def test_the_op21_checker_knows_globalplatform_words() -> None:
    chain = _chain(smartcard.sw.op21_ErrorChecker.op21_ErrorChecker())
    with pytest.raises(smartcard.sw.SWExceptions.CheckingErrorException):
        chain[0]([], 0x94, 0x84)


# -- objects without I/O ---------------------------------------------------------------


def test_readers_and_cards_compare_print_and_hash_as_in_pyscard() -> None:
    reader = Reader("Reader A")
    assert str(reader) == "Reader A"
    assert repr(reader) == "'Reader A'"
    assert reader == Reader("Reader A")
    assert reader != Reader("Reader B")
    card = Card(reader, [0x3B, 0x00])
    assert repr(card) == "3B 00 / Reader A"
    assert card == Card("Reader A", [0x3B, 0x00])
    assert hash(card) == hash(Card("Reader A", [0x3B, 0x00]))
    assert card == aioscard.Card("Reader A", [0x3B, 0x00])
    assert card != Card(reader, [0x3B, 0x01])


def test_observable_notifies_only_after_setchanged() -> None:
    seen: list[Any] = []

    class Recorder(smartcard.Observer.Observer):
        def update(self, observable: Any, handlers: Any) -> None:
            seen.append(handlers)

    observable = smartcard.Observer.Observable()
    observable.addObserver(Recorder())
    observable.notifyObservers("ignored")
    observable.setChanged()
    assert observable.hasChanged()
    observable.notifyObservers("told")
    assert not observable.hasChanged()
    assert seen == ["told"]
    assert observable.countObservers() == 1 == len(observable.obs)


def test_connection_arguments_are_checked_before_any_pcsc_call() -> None:
    connection = Reader("nowhere").createConnection()
    with pytest.raises(TypeError):
        connection.transmit("00A40400")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="command"):
        connection.transmit([0x00, 0xA4, 0x04, 0x100])
    with pytest.raises(smartcard.Exceptions.CardConnectionException, match="not connected"):
        connection.getATR()
    assert connection.getProtocol() == (
        smartcard.CardConnection.CardConnection.T0_protocol
        | smartcard.CardConnection.CardConnection.T1_protocol
    )
    assert connection.T1_protocol == 0x2
    assert connection.RAW_protocol == 0x10000
    connection.disconnect()  # not connected: nothing happens
    connection.release()


# -- scard over a fake native layer -----------------------------------------------------


READER = "Fake Reader 00 00"


@pytest.fixture
def fake_pcsc() -> Iterator[FakePCSC]:
    fake = FakePCSC(readers=[READER])
    fake.insert(READER, b"\x3b\x00")
    fake.respond = lambda command: b"\x01\x02\x90\x00"
    with installed(fake):
        yield fake


def test_scard_returns_pyscard_tuples(fake_pcsc: FakePCSC) -> None:
    scard = smartcard.scard
    hresult, context = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
    assert hresult == scard.SCARD_S_SUCCESS
    assert context in fake_pcsc.contexts
    assert scard.SCardIsValidContext(context) == scard.SCARD_S_SUCCESS
    assert scard.SCardIsValidContext(context + 1) == scard.SCARD_E_INVALID_HANDLE
    assert scard.SCardListReaders(context, []) == (0, [READER])
    hresult, states = scard.SCardGetStatusChange(context, 0, [(READER, 0)])
    assert hresult == 0
    reader, event_state, atr = states[0]
    assert event_state & scard.SCARD_STATE_PRESENT
    assert atr == [0x3B, 0x00]
    # A result goes back in as it is: the card swapped since, the counter tells.
    fake_pcsc.swap(READER, b"\x3b\x00")
    hresult, states = scard.SCardGetStatusChange(context, 0, states)
    assert hresult == 0
    assert states[0][1] >> 16 == (event_state >> 16) + 2
    hresult, handle, protocol = scard.SCardConnect(
        context, reader, scard.SCARD_SHARE_SHARED, scard.SCARD_PROTOCOL_Tx
    )
    assert (hresult, protocol) == (0, scard.SCARD_PROTOCOL_T1)
    assert handle in fake_pcsc.handles
    assert scard.SCardStatus(handle) == (
        0,
        reader,
        C.SCARD_SPECIFIC,
        C.SCARD_PROTOCOL_T1,
        [0x3B, 0],
    )
    assert scard.SCardTransmit(handle, scard.SCARD_PCI_T1, [0, 0xB0, 0, 0, 2]) == (
        0,
        [1, 2, 0x90, 0x00],
    )
    assert scard.SCardReleaseContext(context) == 0
    assert context not in fake_pcsc.contexts


def test_scard_failures_are_codes_and_empty_outputs(fake_pcsc: FakePCSC) -> None:
    scard = smartcard.scard
    from aioscard.native import error_for

    _, context = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
    fake_pcsc.fail["connect"] = error_for(scard.SCARD_E_NO_SMARTCARD, "SCardConnect")
    assert scard.SCardConnect(context, "R", scard.SCARD_SHARE_SHARED, 3) == (
        scard.SCARD_E_NO_SMARTCARD,
        0,
        0,
    )
    fake_pcsc.fail["establish_context"] = error_for(scard.SCARD_E_NO_SERVICE, "x")
    assert scard.SCardEstablishContext(scard.SCARD_SCOPE_USER) == (scard.SCARD_E_NO_SERVICE, 0)
    fake_pcsc.drop_reader(READER)
    assert scard.SCardListReaders(context, []) == (scard.SCARD_E_NO_READERS_AVAILABLE, [])
    assert scard.SCardAddReaderToGroup(context, "R", "G") == scard.SCARD_E_UNSUPPORTED_FEATURE
    with pytest.raises(TypeError):
        scard.SCardTransmit(99, scard.SCARD_PCI_T1, "00B0")  # type: ignore[arg-type]


def test_a_response_without_status_word_is_an_error_not_a_code(fake_pcsc: FakePCSC) -> None:
    fake_pcsc.fail["transmit"] = aioscard.exceptions.InvalidResponseException("0 bytes")
    with pytest.raises(aioscard.exceptions.InvalidResponseException):
        smartcard.scard.SCardTransmit(99, smartcard.scard.SCARD_PCI_T1, [0, 0xB0, 0, 0])


def test_scard_codes_are_this_platforms_raw_values() -> None:
    scard = smartcard.scard
    if sys.platform.startswith("linux"):
        # pcsc-lite's header gives both names one value; pyscard on Linux does too.
        assert scard.SCARD_E_UNSUPPORTED_FEATURE == 0x8010001F == scard.SCARD_E_UNEXPECTED
        assert scard.SCARD_PROTOCOL_RAW == 4
    assert scard.SCARD_S_SUCCESS == 0
    assert scard.SCARD_W_REMOVED_CARD == 0x80100069
    if sys.platform.startswith("linux"):
        # pcsc-lite's own texts, as pyscard returns them on Linux.
        assert scard.SCardGetErrorMessage(scard.SCARD_W_REMOVED_CARD) == "Card was removed."
        assert scard.SCardGetErrorMessage(scard.SCARD_E_UNSUPPORTED_FEATURE) == (
            "Feature not supported."
        )
        assert scard.SCardGetErrorMessage(-0x7FEFFF97) == "Card was removed."
        assert scard.SCardGetErrorMessage(0x8010FFFF) == "Unknown error: 0x8010FFFF"
    assert scard.SCARD_CTL_CODE(3400) == C.CM_IOCTL_GET_FEATURE_REQUEST
    assert issubclass(scard.error, aioscard.exceptions.SmartcardException)
    assert repr(scard.error) == "<class 'scard.error'>"


# -- python -m aioscard.compat -----------------------------------------------------------


def run_compat(*args: str, cwd: Path | None = None, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "aioscard.compat", *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cwd,
        env={**os.environ, **env},
    )


def test_main_runs_a_script_with_its_arguments_and_directory(tmp_path: Path) -> None:
    (tmp_path / "helper.py").write_text("VALUE = 'from the script directory'\n")
    (tmp_path / "legacy.py").write_text(
        textwrap.dedent(
            """
            import sys
            import helper
            import smartcard.util
            from smartcard.Exceptions import NoCardException
            import aioscard.exceptions
            assert NoCardException is aioscard.exceptions.NoCardException
            print(__name__, sys.argv[1:], helper.VALUE)
            print(smartcard.util.toHexString([1, 2, 255]))
            sys.exit(3)
            """
        )
    )
    result = run_compat(str(tmp_path / "legacy.py"), "a", "--b")
    assert result.returncode == 3, result.stderr
    assert result.stdout.splitlines() == [
        "__main__ ['a', '--b'] from the script directory",
        "01 02 FF",
    ]


def test_main_runs_a_module_with_dash_m(tmp_path: Path) -> None:
    (tmp_path / "legacy_module.py").write_text(
        "import sys, smartcard.util\nprint(__name__, sys.argv[1:], smartcard.util.PACK)\n"
    )
    result = run_compat("-m", "legacy_module", "x", PYTHONPATH=str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "__main__ ['x'] 1"


def test_main_without_a_script_prints_usage() -> None:
    result = run_compat()
    assert result.returncode == 2
    assert "usage:" in result.stderr
    assert run_compat("--help").returncode == 0


def test_readers_without_pcscd_raise_what_pyscard_and_aioscard_users_catch(
    tmp_path: Path,
) -> None:
    script = tmp_path / "nodaemon.py"
    script.write_text(
        textwrap.dedent(
            """
            from smartcard.System import readers
            from smartcard.Exceptions import CardServiceNotFoundException
            from smartcard.pcsc.PCSCExceptions import EstablishContextException
            from aioscard.exceptions import ServiceUnavailableException
            try:
                readers()
            except EstablishContextException as error:
                assert isinstance(error, CardServiceNotFoundException)
                assert isinstance(error, ServiceUnavailableException)
                print(type(error).__name__, hex(error.hresult))
            """
        )
    )
    result = run_compat(str(script), PCSCLITE_CSOCK_NAME=str(tmp_path / "no-such-socket"))
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["CardServiceNotFoundException", "0x8010001d"]
