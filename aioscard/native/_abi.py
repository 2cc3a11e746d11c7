"""Per-platform PC/SC ABI descriptions.

The three PC/SC implementations share one API but differ in type widths, struct
packing, the size of the ATR buffer, some exported names and a few constants.
Each platform is described once, here, as data; the binding code in
:mod:`._pcsc` reads the description and has no platform ``if`` of its own.

Nothing here loads a library: :func:`build_ffi` only parses declarations, so
struct layouts of every platform can be checked on any machine.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import cffi

__all__ = ["LINUX", "MACOS", "PLATFORMS", "WINDOWS", "PlatformABI", "build_ffi", "current_platform"]

# The logical function names the binding uses; a platform maps them to exported symbols.
FUNCTIONS = (
    "SCardEstablishContext",
    "SCardReleaseContext",
    "SCardIsValidContext",
    "SCardListReaders",
    "SCardListReaderGroups",
    "SCardGetStatusChange",
    "SCardCancel",
    "SCardConnect",
    "SCardReconnect",
    "SCardDisconnect",
    "SCardBeginTransaction",
    "SCardEndTransaction",
    "SCardStatus",
    "SCardTransmit",
    "SCardControl",
    "SCardGetAttrib",
    "SCardSetAttrib",
    "SCardIntroduceReaderGroup",
    "SCardForgetReaderGroup",
    "SCardAddReaderToGroup",
    "SCardRemoveReaderFromGroup",
)

_DECLARATIONS = """
typedef struct {{
    const char *szReader;
    void *pvUserData;
    DWORD dwCurrentState;
    DWORD dwEventState;
    DWORD cbAtr;
    unsigned char rgbAtr[{max_atr_size}];
}} SCARD_READERSTATE;

typedef struct {{
    DWORD dwProtocol;
    DWORD cbPciLength;
}} SCARD_IO_REQUEST;

LONG {SCardEstablishContext}(DWORD dwScope, const void *pvReserved1, const void *pvReserved2,
                             SCARDCONTEXT *phContext);
LONG {SCardReleaseContext}(SCARDCONTEXT hContext);
LONG {SCardIsValidContext}(SCARDCONTEXT hContext);
LONG {SCardListReaders}(SCARDCONTEXT hContext, const char *mszGroups, char *mszReaders,
                        DWORD *pcchReaders);
LONG {SCardListReaderGroups}(SCARDCONTEXT hContext, char *mszGroups, DWORD *pcchGroups);
LONG {SCardGetStatusChange}(SCARDCONTEXT hContext, DWORD dwTimeout,
                            SCARD_READERSTATE *rgReaderStates, DWORD cReaders);
LONG {SCardCancel}(SCARDCONTEXT hContext);
LONG {SCardConnect}(SCARDCONTEXT hContext, const char *szReader, DWORD dwShareMode,
                    DWORD dwPreferredProtocols, SCARDHANDLE *phCard, DWORD *pdwActiveProtocol);
LONG {SCardReconnect}(SCARDHANDLE hCard, DWORD dwShareMode, DWORD dwPreferredProtocols,
                      DWORD dwInitialization, DWORD *pdwActiveProtocol);
LONG {SCardDisconnect}(SCARDHANDLE hCard, DWORD dwDisposition);
LONG {SCardBeginTransaction}(SCARDHANDLE hCard);
LONG {SCardEndTransaction}(SCARDHANDLE hCard, DWORD dwDisposition);
LONG {SCardStatus}(SCARDHANDLE hCard, char *szReaderName, DWORD *pcchReaderLen, DWORD *pdwState,
                   DWORD *pdwProtocol, unsigned char *pbAtr, DWORD *pcbAtrLen);
LONG {SCardTransmit}(SCARDHANDLE hCard, const SCARD_IO_REQUEST *pioSendPci,
                     const unsigned char *pbSendBuffer, DWORD cbSendLength,
                     SCARD_IO_REQUEST *pioRecvPci, unsigned char *pbRecvBuffer,
                     DWORD *pcbRecvLength);
LONG {SCardControl}(SCARDHANDLE hCard, DWORD dwControlCode, const void *pbSendBuffer,
                    DWORD cbSendLength, void *pbRecvBuffer, DWORD cbRecvLength,
                    DWORD *lpBytesReturned);
LONG {SCardGetAttrib}(SCARDHANDLE hCard, DWORD dwAttrId, unsigned char *pbAttr, DWORD *pcbAttrLen);
LONG {SCardSetAttrib}(SCARDHANDLE hCard, DWORD dwAttrId, const unsigned char *pbAttr,
                      DWORD cbAttrLen);
LONG {SCardIntroduceReaderGroup}(SCARDCONTEXT hContext, const char *szGroupName);
LONG {SCardForgetReaderGroup}(SCARDCONTEXT hContext, const char *szGroupName);
LONG {SCardAddReaderToGroup}(SCARDCONTEXT hContext, const char *szReaderName,
                             const char *szGroupName);
LONG {SCardRemoveReaderFromGroup}(SCARDCONTEXT hContext, const char *szReaderName,
                                  const char *szGroupName);
"""


@dataclass(frozen=True)
class PlatformABI:
    """Everything that differs between PC/SC implementations, as data.

    ``typedefs`` fixes the widths of LONG, DWORD and the handle types;
    ``symbols`` maps a logical SCard function name to the exported one;
    ``code_aliases`` maps a raw return code to the canonical
    :class:`~._codes.ReturnCode` value it means on this platform;
    a control code is ``ctl_code_base + (code << ctl_code_shift)``.
    """

    name: str
    library_candidates: tuple[str, ...]
    typedefs: str
    max_atr_size: int
    packed: bool = False
    symbols: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    protocol_raw: int = 0x00000004
    protocol_t15: int = 0x00000008
    code_aliases: Mapping[int, int] = field(default_factory=lambda: MappingProxyType({}))
    ctl_code_base: int = 0x42000000
    ctl_code_shift: int = 0
    card_state_is_bitmask: bool = True

    def symbol(self, function: str) -> str:
        """The exported name of the logical SCard ``function`` on this platform."""
        return self.symbols.get(function, function)

    def cdef(self) -> str:
        """The C declarations for cffi, with this platform's types and names."""
        names = {function: self.symbol(function) for function in FUNCTIONS}
        return self.typedefs + _DECLARATIONS.format(max_atr_size=self.max_atr_size, **names)

    def ctl_code(self, code: int) -> int:
        """The SCardControl code for a reader-specific function number (SCARD_CTL_CODE)."""
        return self.ctl_code_base + (code << self.ctl_code_shift)


LINUX = PlatformABI(
    name="pcsc-lite",
    library_candidates=("libpcsclite.so.1", "libpcsclite.so"),
    # pcsc-lite: DWORD is unsigned long and LONG is long (64-bit on LP64 Linux).
    typedefs=(
        "typedef long LONG; typedef unsigned long DWORD;"
        " typedef LONG SCARDCONTEXT; typedef LONG SCARDHANDLE;\n"
    ),
    max_atr_size=33,
    # pcsc-lite reuses SCARD_E_UNEXPECTED's value for SCARD_E_UNSUPPORTED_FEATURE.
    code_aliases=MappingProxyType({0x8010001F: 0x80100022}),
)

MACOS = PlatformABI(
    name="macOS PCSC.framework",
    library_candidates=("/System/Library/Frameworks/PCSC.framework/PCSC",),
    typedefs=(
        "typedef int32_t LONG; typedef uint32_t DWORD;"
        " typedef int32_t SCARDCONTEXT; typedef int32_t SCARDHANDLE;\n"
    ),
    max_atr_size=33,
    packed=True,
    symbols=MappingProxyType({"SCardControl": "SCardControl132"}),
    code_aliases=MappingProxyType({0x8010001F: 0x80100022}),
)

_WINDOWS_ANSI = (
    "SCardListReaders",
    "SCardListReaderGroups",
    "SCardGetStatusChange",
    "SCardConnect",
    "SCardStatus",
    "SCardIntroduceReaderGroup",
    "SCardForgetReaderGroup",
    "SCardAddReaderToGroup",
    "SCardRemoveReaderFromGroup",
)

WINDOWS = PlatformABI(
    name="Windows WinSCard",
    library_candidates=("winscard.dll",),
    # LLP64: LONG and DWORD are 32-bit; context and card handles are pointer-sized.
    typedefs=(
        "typedef int32_t LONG; typedef uint32_t DWORD;"
        " typedef uintptr_t SCARDCONTEXT; typedef uintptr_t SCARDHANDLE;\n"
    ),
    max_atr_size=36,
    symbols=MappingProxyType({name: name + "A" for name in _WINDOWS_ANSI}),
    protocol_raw=0x00010000,
    protocol_t15=0x00000008,
    ctl_code_base=0x31
    << 16,  # CTL_CODE(FILE_DEVICE_SMARTCARD, code, METHOD_BUFFERED, FILE_ANY_ACCESS)
    ctl_code_shift=2,
    card_state_is_bitmask=False,
)

#: The ABI description of each platform, by ``sys.platform`` prefix.
PLATFORMS: Mapping[str, PlatformABI] = MappingProxyType(
    {"linux": LINUX, "darwin": MACOS, "win32": WINDOWS}
)


def current_platform() -> PlatformABI:
    """The description for the running platform (pcsc-lite for any other Unix)."""
    return PLATFORMS.get(sys.platform, LINUX)


def build_ffi(abi: PlatformABI) -> cffi.FFI:
    """A cffi ``FFI`` with ``abi``'s declarations; loads no library."""
    ffi = cffi.FFI()
    ffi.cdef(abi.cdef(), packed=abi.packed)
    return ffi
