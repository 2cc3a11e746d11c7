"""Unit tests of the native layer that load no library: ABI data and the error table."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aioscard import exceptions as exc
from aioscard.native import EXCEPTION_FOR_CODE, PLATFORMS, ReturnCode, build_ffi, error_for
from aioscard.native._abi import FUNCTIONS, LINUX, MACOS, WINDOWS
from aioscard.native._errors import normalize

FIELDS = ("szReader", "pvUserData", "dwCurrentState", "dwEventState", "cbAtr", "rgbAtr")

# Documented 64-bit layouts: pcsc-lite's winscard.h (LP64, natural alignment),
# macOS PCSC.framework (32-bit DWORD, #pragma pack(1)), Windows winscard.h (LLP64).
EXPECTED = {
    "linux": {"size": 80, "offsets": (0, 8, 16, 24, 32, 40), "io": 16, "handle": 8, "long": 8},
    "darwin": {"size": 61, "offsets": (0, 8, 16, 20, 24, 28), "io": 8, "handle": 4, "long": 4},
    "win32": {"size": 64, "offsets": (0, 8, 16, 20, 24, 28), "io": 8, "handle": 8, "long": 4},
}


@pytest.mark.parametrize("platform", sorted(EXPECTED))
def test_readerstate_layout_matches_documented_abi(platform: str) -> None:
    abi = PLATFORMS[platform]
    ffi = build_ffi(abi)
    expected = EXPECTED[platform]
    assert ffi.sizeof("SCARD_READERSTATE") == expected["size"]
    assert tuple(ffi.offsetof("SCARD_READERSTATE", f) for f in FIELDS) == expected["offsets"]
    assert ffi.sizeof("SCARD_IO_REQUEST") == expected["io"]
    assert ffi.sizeof("SCARDHANDLE") == expected["handle"]
    assert ffi.sizeof("SCARDCONTEXT") == expected["handle"]
    assert ffi.sizeof("LONG") == expected["long"]
    assert ffi.sizeof("SCARD_READERSTATE") - ffi.offsetof("SCARD_READERSTATE", "rgbAtr") >= (
        abi.max_atr_size
    )


def test_platform_names_and_constants_are_data() -> None:
    assert MACOS.symbol("SCardControl") == "SCardControl132"
    assert LINUX.symbol("SCardControl") == "SCardControl"
    assert WINDOWS.symbol("SCardConnect") == "SCardConnectA"
    assert WINDOWS.symbol("SCardTransmit") == "SCardTransmit"
    assert (LINUX.max_atr_size, MACOS.max_atr_size, WINDOWS.max_atr_size) == (33, 33, 36)
    assert LINUX.protocol_raw == 4
    assert WINDOWS.protocol_raw == 0x10000
    assert LINUX.ctl_code(3400) == 0x42000D48
    assert WINDOWS.ctl_code(3400) == 0x00313520
    for abi in (LINUX, MACOS, WINDOWS):
        cdef = abi.cdef()
        for function in FUNCTIONS:
            assert abi.symbol(function) + "(" in cdef


def test_unsupported_feature_code_differs_per_platform() -> None:
    # pcsc-lite returns 0x8010001F for "unsupported feature"; Windows means "unexpected" by it.
    assert normalize(0x8010001F, LINUX) is ReturnCode.SCARD_E_UNSUPPORTED_FEATURE
    assert normalize(0x8010001F, WINDOWS) is ReturnCode.SCARD_E_UNEXPECTED
    assert normalize(0x80100022, WINDOWS) is ReturnCode.SCARD_E_UNSUPPORTED_FEATURE
    assert isinstance(
        error_for(0x8010001F, "SCardControl", abi=LINUX), exc.UnsupportedFeatureException
    )
    assert type(error_for(0x8010001F, "SCardControl", abi=WINDOWS)) is exc.SmartcardException


@pytest.mark.parametrize(
    ("code", "cls"),
    [
        (0x80100069, exc.CardRemovedException),
        (0x80100068, exc.CardResetException),
        (0x8010000B, exc.SharingViolationException),
        (0x8010001D, exc.ServiceUnavailableException),
        (0x8010001E, exc.ServiceUnavailableException),
        (0x80100002, exc.CancelledException),
        (0x8010000A, exc.TimeoutException),
        (0x8010000C, exc.NoCardException),
        (0x80100009, exc.InvalidReaderException),
        (0x80100017, exc.ReaderUnavailableException),
        (0x80100016, exc.NotTransactedException),
        (0x8010002E, exc.NoReadersException),
    ],
)
def test_codes_raise_the_exception_users_catch(code: int, cls: type[Exception]) -> None:
    error = error_for(code, "SCardTest", "reader 0", abi=LINUX)
    assert type(error) is cls
    assert isinstance(error, exc.SmartcardException)
    assert error.hresult == code
    assert "SCardTest" in str(error)
    assert f"0x{code:08X}" in str(error)
    assert "reader 0" in str(error)


def test_card_errors_are_connection_errors() -> None:
    for cls in (exc.CardRemovedException, exc.CardResetException, exc.NoCardException):
        assert issubclass(cls, exc.CardConnectionException)
    assert issubclass(exc.CardRequestTimeoutException, exc.CardRequestException)
    assert issubclass(exc.CardRequestTimeoutException, exc.TimeoutException)


def test_every_table_entry_is_a_known_code_with_a_message() -> None:
    for code, cls in EXCEPTION_FOR_CODE.items():
        assert not code.name.startswith("UNKNOWN")
        assert code.message != "Unknown PC/SC error"
        assert issubclass(cls, exc.SmartcardException)
    for code in ReturnCode:
        assert code.message


def test_negative_long_codes_are_masked() -> None:
    # libpcsclite returns LONG: a 64-bit negative number on Linux.
    negative = 0x80100069 - (1 << 32)
    error = error_for(negative, "SCardTransmit", abi=LINUX)
    assert type(error) is exc.CardRemovedException
    assert error.hresult == 0x80100069


@given(st.integers(min_value=-(1 << 63), max_value=(1 << 64) - 1))
def test_any_code_gives_a_usable_exception(code: int) -> None:
    error = error_for(code, "SCardAnything", abi=LINUX)
    assert isinstance(error, exc.SmartcardException)
    assert error.hresult == code & 0xFFFFFFFF
    assert "SCardAnything" in str(error)
    assert ReturnCode(code & 0xFFFFFFFF).value == code & 0xFFFFFFFF


def test_unknown_code_has_a_name() -> None:
    rc = ReturnCode(0x80109999)
    assert rc.name == "UNKNOWN_0x80109999"
    assert int(rc) == 0x80109999
