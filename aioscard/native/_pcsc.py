"""Blocking PC/SC bindings over cffi in ABI mode.

Each method wraps exactly one SCard function (named in its docstring), takes
and returns plain Python values, and raises the typed exceptions of
:mod:`aioscard.exceptions`.  The methods are thread-agnostic: pcsc-lite
serialises calls on one context, and a caller that wants parallelism gives each
thread its own context (the async layer does exactly that).  cffi releases the
GIL for the duration of every C call.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any, NoReturn

import cffi

from ..exceptions import InvalidResponseException, UnsupportedFeatureException
from . import constants as C
from ._abi import PlatformABI, build_ffi, current_platform
from ._codes import ReturnCode
from ._errors import error_for, normalize
from ._library import open_library
from ._types import CardStatus, ReaderState

__all__ = ["PCSCLibrary"]

_SUCCESS = 0
_INSUFFICIENT_BUFFER = ReturnCode.SCARD_E_INSUFFICIENT_BUFFER
_NO_READERS = ReturnCode.SCARD_E_NO_READERS_AVAILABLE
_RECV_SIZE = C.MAX_BUFFER_SIZE_EXTENDED
_DWORD_MAX = 0xFFFFFFFF
_ENCODING = "utf-8"
_ERRORS = "surrogateescape"  # reader names round-trip even if not valid UTF-8


def _encode(name: str, what: str) -> bytes:
    if not isinstance(name, str):
        raise TypeError(f"{what} must be a str, not {type(name).__name__}")
    try:
        raw = name.encode(_ENCODING, _ERRORS)
    except UnicodeEncodeError:
        # A lone surrogate that did not come from decoding bytes (surrogateescape).
        raise ValueError(f"{what} cannot be encoded as {_ENCODING}: {name!r}") from None
    if b"\0" in raw:
        raise ValueError(f"{what} must not contain a NUL character: {name!r}")
    return raw


def _split_multistring(raw: bytes) -> list[str]:
    return [part.decode(_ENCODING, _ERRORS) for part in raw.split(b"\0") if part]


def _dword(value: int, what: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{what} must be an int, not {type(value).__name__}")
    if not 0 <= value <= _DWORD_MAX:
        raise ValueError(f"{what} must be in 0..0xFFFFFFFF, got {value}")
    return value


def _bounds(ffi: cffi.FFI, ctype: str) -> range:
    """The values a C integer type holds (handles are signed on some platforms)."""
    bits = 8 * ffi.sizeof(ctype)
    if int(ffi.cast(ctype, -1)) < 0:
        return range(-(1 << (bits - 1)), 1 << (bits - 1))
    return range(1 << bits)


def _in(value: int, bounds: range, what: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{what} must be an int, not {type(value).__name__}")
    if value not in bounds:
        raise ValueError(f"{what} must be in {bounds.start}..{bounds.stop - 1}, got {value}")
    return value


def _buffer(value: bytes, what: str) -> bytes:
    # ffi.from_buffer takes any buffer, and len() of a wider one is not its byte count.
    if isinstance(value, (bytes, bytearray)):
        return value
    raise TypeError(f"{what} must be bytes or bytearray, not {type(value).__name__}")


class PCSCLibrary:
    """The real PC/SC library, implementing :class:`~aioscard.native.PCSCAPI`.

    Arguments are checked before any C call: a handle, context or number of the
    wrong type or outside what its C type holds raises ``TypeError`` or
    ``ValueError`` naming it, never a cffi conversion error.

    Raises:
        PCSCLibraryNotFoundException: from the constructor when the library cannot be loaded.
    """

    def __init__(self, abi: PlatformABI | None = None) -> None:
        self.abi = abi if abi is not None else current_platform()
        self.ffi: cffi.FFI = build_ffi(self.abi)
        self._lib = open_library(self.ffi, self.abi)
        self._readerstate_size = self.ffi.sizeof("SCARD_READERSTATE")
        self._context_bounds = _bounds(self.ffi, "SCARDCONTEXT")
        self._handle_bounds = _bounds(self.ffi, "SCARDHANDLE")
        self._pci_cache: dict[int, Any] = {}
        self._pci_lock = threading.Lock()
        self._scratch = threading.local()
        sym = self.abi.symbol
        lib = self._lib
        # Resolve the hot functions once; the rest are looked up on use.
        self._transmit = getattr(lib, sym("SCardTransmit"))
        self._get_status_change = getattr(lib, sym("SCardGetStatusChange"))

    # -- helpers -----------------------------------------------------------

    def _fn(self, function: str) -> Any:
        try:
            return getattr(self._lib, self.abi.symbol(function))
        except AttributeError:
            raise UnsupportedFeatureException(
                f"{function} is not provided by {self.abi.name}"
            ) from None

    def _fail(self, rc: int, function: str, detail: str = "") -> NoReturn:
        raise error_for(rc, function, detail, self.abi)

    def _context(self, context: int) -> int:
        return _in(context, self._context_bounds, "context")

    def _handle(self, handle: int) -> int:
        return _in(handle, self._handle_bounds, "card handle")

    def _pci(self, protocol: int) -> Any:
        pci = self._pci_cache.get(protocol)
        # True would find the entry of 1 in the cache: a bool is no protocol.
        if pci is None or type(protocol) is not int:
            _dword(protocol, "protocol")
            # The library's g_rgSCardT*Pci globals cannot be read in ABI mode: build our own.
            with self._pci_lock:
                pci = self.ffi.new(
                    "SCARD_IO_REQUEST *",
                    {"dwProtocol": protocol, "cbPciLength": self.ffi.sizeof("SCARD_IO_REQUEST")},
                )
                self._pci_cache[protocol] = pci
        return pci

    def _recv_buffer(self) -> tuple[Any, Any]:
        # One receive buffer per thread: a thread is inside one SCard call at a time.
        scratch = self._scratch
        try:
            return scratch.buffer, scratch.length
        except AttributeError:
            scratch.buffer = self.ffi.new("unsigned char[]", _RECV_SIZE)
            scratch.length = self.ffi.new("DWORD *")
            return scratch.buffer, scratch.length

    # -- contexts ----------------------------------------------------------

    def establish_context(self, scope: int = C.SCARD_SCOPE_USER) -> int:
        """Create a resource-manager context (SCardEstablishContext).

        Raises:
            ServiceUnavailableException: pcscd is not running.
        """
        out = self.ffi.new("SCARDCONTEXT *")
        rc = self._fn("SCardEstablishContext")(
            _dword(scope, "scope"), self.ffi.NULL, self.ffi.NULL, out
        )
        if rc != _SUCCESS:
            self._fail(rc, "SCardEstablishContext")
        return int(out[0])

    def release_context(self, context: int) -> None:
        """Release a context (SCardReleaseContext)."""
        rc = self._fn("SCardReleaseContext")(self._context(context))
        if rc != _SUCCESS:
            self._fail(rc, "SCardReleaseContext")

    def is_valid_context(self, context: int) -> bool:
        """Whether ``context`` is still a valid handle (SCardIsValidContext).

        pcsc-lite checks this on the client side only: it cannot see a dead daemon.
        """
        return bool(self._fn("SCardIsValidContext")(self._context(context)) == _SUCCESS)

    def cancel(self, context: int) -> None:
        """Make a blocked SCardGetStatusChange on ``context`` return SCARD_E_CANCELLED
        (SCardCancel).  The one call that may come from another thread."""
        rc = self._fn("SCardCancel")(self._context(context))
        if rc != _SUCCESS:
            self._fail(rc, "SCardCancel")

    # -- readers -----------------------------------------------------------

    def _multistring(self, function: str, call: Any) -> list[str]:
        size = self.ffi.new("DWORD *")
        for _attempt in range(8):
            size[0] = 0
            rc = call(self.ffi.NULL, size)
            if rc == _SUCCESS and size[0] > 0:
                buffer = self.ffi.new("char[]", size[0])
                rc = call(buffer, size)
                if rc == _SUCCESS:
                    return _split_multistring(self.ffi.buffer(buffer, size[0])[:])
            code = normalize(rc, self.abi) if rc != _SUCCESS else None
            if code == _NO_READERS:
                return []
            if code == _INSUFFICIENT_BUFFER:
                continue  # the list grew between the two calls
            if rc != _SUCCESS:
                self._fail(rc, function)
            return []
        self._fail(_INSUFFICIENT_BUFFER, function)

    def list_readers(self, context: int, groups: Sequence[str] | None = None) -> list[str]:
        """The names of the readers in ``groups`` (all readers if None) (SCardListReaders).

        No readers gives an empty list, not an error.

        Raises:
            TypeError: ``groups`` is a str rather than a sequence of names.
            ServiceUnavailableException: pcscd is not running.
        """
        fn = self._fn("SCardListReaders")
        self._context(context)
        if groups is None:
            groups_arg = self.ffi.NULL
        else:
            if isinstance(groups, str):
                raise TypeError("groups must be a sequence of group names, not a str")
            encoded = b"".join(_encode(g, "group name") + b"\0" for g in groups) + b"\0"
            groups_arg = self.ffi.new("char[]", encoded)
        return self._multistring(
            "SCardListReaders", lambda buf, size: fn(context, groups_arg, buf, size)
        )

    def list_reader_groups(self, context: int) -> list[str]:
        """The names of the reader groups (SCardListReaderGroups)."""
        fn = self._fn("SCardListReaderGroups")
        self._context(context)
        return self._multistring("SCardListReaderGroups", lambda buf, size: fn(context, buf, size))

    def get_status_change(
        self, context: int, timeout_ms: int, states: Sequence[ReaderState]
    ) -> list[ReaderState]:
        """Block until a reader's state differs from ``current_state``, or the timeout
        (SCardGetStatusChange).  ``timeout_ms`` may be ``constants.INFINITE``.

        Raises:
            TimeoutException: nothing changed within ``timeout_ms``.
            CancelledException: SCardCancel was called on ``context``.
        """
        ffi = self.ffi
        self._context(context)
        count = len(states)
        array = ffi.new("SCARD_READERSTATE[]", count)
        names = []
        for index, state in enumerate(states):
            name = ffi.new("char[]", _encode(state.reader, "reader name"))
            names.append(name)  # keep the name alive for the call
            entry = array[index]
            entry.szReader = name
            entry.dwCurrentState = _dword(state.current_state, "current_state")
        rc = self._get_status_change(context, _dword(timeout_ms, "timeout_ms"), array, count)
        if rc != _SUCCESS:
            self._fail(rc, "SCardGetStatusChange")
        result = []
        for index, state in enumerate(states):
            entry = array[index]
            atr_len = min(int(entry.cbAtr), self.abi.max_atr_size)
            result.append(
                ReaderState(
                    state.reader,
                    state.current_state,
                    int(entry.dwEventState),
                    ffi.buffer(entry.rgbAtr, atr_len)[:],
                )
            )
        return result

    def add_reader_to_group(self, context: int, reader: str, group: str) -> None:
        """Add ``reader`` to ``group`` (SCardAddReaderToGroup; not provided by pcsc-lite).

        Raises:
            UnsupportedFeatureException: the platform has no reader groups to edit.
        """
        self._edit_group("SCardAddReaderToGroup", context, reader, group)

    def remove_reader_from_group(self, context: int, reader: str, group: str) -> None:
        """Remove ``reader`` from ``group`` (SCardRemoveReaderFromGroup; not in pcsc-lite).

        Raises:
            UnsupportedFeatureException: the platform has no reader groups to edit.
        """
        self._edit_group("SCardRemoveReaderFromGroup", context, reader, group)

    def _edit_group(self, function: str, context: int, reader: str, group: str) -> None:
        rc = self._fn(function)(
            self._context(context), _encode(reader, "reader name"), _encode(group, "group name")
        )
        if rc != _SUCCESS:
            self._fail(rc, function, reader)

    # -- cards -------------------------------------------------------------

    def connect(
        self, context: int, reader: str, share_mode: int, protocols: int
    ) -> tuple[int, int]:
        """Connect to the card in ``reader`` (SCardConnect); returns (handle, active protocol).

        Raises:
            SmartcardException: the subclass for what PC/SC reports
                (NoCardException, SharingViolationException,
                ProtocolMismatchException, InvalidReaderException, ...).
        """
        handle = self.ffi.new("SCARDHANDLE *")
        active = self.ffi.new("DWORD *")
        rc = self._fn("SCardConnect")(
            self._context(context),
            _encode(reader, "reader name"),
            _dword(share_mode, "share_mode"),
            _dword(protocols, "protocols"),
            handle,
            active,
        )
        if rc != _SUCCESS:
            self._fail(rc, "SCardConnect", reader)
        return int(handle[0]), int(active[0])

    def reconnect(self, handle: int, share_mode: int, protocols: int, initialization: int) -> int:
        """Re-establish a connection (SCardReconnect); returns the active protocol."""
        active = self.ffi.new("DWORD *")
        rc = self._fn("SCardReconnect")(
            self._handle(handle),
            _dword(share_mode, "share_mode"),
            _dword(protocols, "protocols"),
            _dword(initialization, "initialization"),
            active,
        )
        if rc != _SUCCESS:
            self._fail(rc, "SCardReconnect")
        return int(active[0])

    def disconnect(self, handle: int, disposition: int) -> None:
        """End a connection, leaving/resetting/unpowering the card (SCardDisconnect)."""
        rc = self._fn("SCardDisconnect")(self._handle(handle), _dword(disposition, "disposition"))
        if rc != _SUCCESS:
            self._fail(rc, "SCardDisconnect")

    def begin_transaction(self, handle: int) -> None:
        """Take exclusive use of the card (SCardBeginTransaction); waits while another
        connection holds a transaction."""
        rc = self._fn("SCardBeginTransaction")(self._handle(handle))
        if rc != _SUCCESS:
            self._fail(rc, "SCardBeginTransaction")

    def end_transaction(self, handle: int, disposition: int) -> None:
        """Release a transaction (SCardEndTransaction)."""
        rc = self._fn("SCardEndTransaction")(
            self._handle(handle), _dword(disposition, "disposition")
        )
        if rc != _SUCCESS:
            self._fail(rc, "SCardEndTransaction")

    def status(self, handle: int) -> CardStatus:
        """The reader name, state, protocol and ATR of a connection (SCardStatus)."""
        ffi = self.ffi
        fn = self._fn("SCardStatus")
        self._handle(handle)
        name_size = 256
        for _attempt in range(4):
            name = ffi.new("char[]", name_size)
            name_len = ffi.new("DWORD *", name_size)
            state = ffi.new("DWORD *")
            protocol = ffi.new("DWORD *")
            atr = ffi.new("unsigned char[]", self.abi.max_atr_size)
            atr_len = ffi.new("DWORD *", self.abi.max_atr_size)
            rc = fn(handle, name, name_len, state, protocol, atr, atr_len)
            if rc == _SUCCESS:
                names = _split_multistring(ffi.buffer(name, min(name_len[0], name_size))[:])
                return CardStatus(
                    names[0] if names else "",
                    int(state[0]),
                    int(protocol[0]),
                    ffi.buffer(atr, min(atr_len[0], self.abi.max_atr_size))[:],
                )
            if normalize(rc, self.abi) != _INSUFFICIENT_BUFFER:
                break
            name_size = max(name_size * 4, int(name_len[0]))
        self._fail(rc, "SCardStatus")

    def transmit(self, handle: int, protocol: int, command: bytes) -> bytes:
        """Send an APDU and return the card's response, status word included (SCardTransmit).

        ``protocol`` is the connection's active protocol (T=0, T=1 or RAW).

        Raises:
            InvalidResponseException: the response is shorter than the two
                status-word bytes (a card vanishing mid-APDU yields that with
                SCARD_S_SUCCESS on pcsc-lite).
            CardRemovedException, NotTransactedException, ...: as PC/SC reports.
        """
        if type(command) is not bytes:
            # len() of a wider buffer (array('H')) is not its byte count: it would
            # send a truncated command.
            _buffer(command, "command")
        buffer, length = self._recv_buffer()
        length[0] = _RECV_SIZE
        try:
            rc = self._transmit(
                handle,
                self._pci(protocol),
                self.ffi.from_buffer(command),
                len(command),
                self.ffi.NULL,
                buffer,
                length,
            )
        except (TypeError, OverflowError, BufferError):
            # cffi refused an argument before the call: say which one (checked only
            # now, to keep the per-APDU path free of checks the core already made).
            self._handle(handle)
            _buffer(command, "command")
            raise
        if rc != _SUCCESS:
            self._fail(rc, "SCardTransmit")
        received = int(length[0])
        if received < 2:
            raise InvalidResponseException(
                f"SCardTransmit returned {received} byte(s), fewer than the 2 status-word "
                "bytes: the card was probably removed during the command"
            )
        return bytes(self.ffi.buffer(buffer, received))

    def control(
        self, handle: int, code: int, data: bytes = b"", max_response: int = _RECV_SIZE
    ) -> bytes:
        """Send a reader control command (SCardControl); returns the reader's answer."""
        _in(max_response, range(_RECV_SIZE + 1), "max_response")
        self._handle(handle)
        data = _buffer(data, "data")
        out = self.ffi.new("unsigned char[]", max(max_response, 1))
        returned = self.ffi.new("DWORD *")
        rc = self._fn("SCardControl")(
            handle,
            _dword(code, "control code"),
            self.ffi.from_buffer(data),
            len(data),
            out,
            max_response,
            returned,
        )
        if rc != _SUCCESS:
            self._fail(rc, "SCardControl", f"code 0x{code:08X}")
        return bytes(self.ffi.buffer(out, min(int(returned[0]), max_response)))

    def get_attrib(self, handle: int, attr_id: int) -> bytes:
        """Read a reader/card attribute (SCardGetAttrib)."""
        ffi = self.ffi
        fn = self._fn("SCardGetAttrib")
        self._handle(handle)
        attr = _dword(attr_id, "attribute id")
        size = 264
        for _attempt in range(4):
            buffer = ffi.new("unsigned char[]", size)
            length = ffi.new("DWORD *", size)
            rc = fn(handle, attr, buffer, length)
            if rc == _SUCCESS:
                return bytes(ffi.buffer(buffer, min(int(length[0]), size)))
            if normalize(rc, self.abi) != _INSUFFICIENT_BUFFER:
                break
            size = max(size * 4, int(length[0]))
        self._fail(rc, "SCardGetAttrib", f"attribute 0x{attr:08X}")

    def set_attrib(self, handle: int, attr_id: int, value: bytes) -> None:
        """Write a reader/card attribute (SCardSetAttrib).

        Raises:
            ValueError: ``value`` is empty.
            UnsupportedFeatureException: the driver does not let the attribute be set.
        """
        self._handle(handle)
        if not _buffer(value, "value"):
            raise ValueError("value must not be empty")
        rc = self._fn("SCardSetAttrib")(
            handle, _dword(attr_id, "attribute id"), self.ffi.from_buffer(value), len(value)
        )
        if rc != _SUCCESS:
            self._fail(rc, "SCardSetAttrib", f"attribute 0x{attr_id:08X}")
