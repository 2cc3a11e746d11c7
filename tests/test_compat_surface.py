"""Every public name of pyscard 2.3.1 on Linux is in the shim, and behaves as there.

``compat_data/pyscard-2.3.1-linux-names.json`` lists pyscard's public names
module by module (names, kinds and constant values are facts, read from an
installed pyscard 2.3.1 on Linux).  Each module is imported through the
``smartcard`` alias and each name looked up; classes must be classes,
functions callable, and constants equal to pyscard's.  What the shim does
differently on purpose is listed in :data:`DIFFERENCES` (and in
docs/howto/pyscard-programs.md).
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

import aioscard.compat
import aioscard.sw

if TYPE_CHECKING:
    from aioscard.testing import Simulator, VirtualCard

aioscard.compat.install_as_smartcard()

SURFACE = json.loads(
    (Path(__file__).parent / "compat_data" / "pyscard-2.3.1-linux-names.json").read_text()
)
MODULES: dict[str, dict[str, Any]] = SURFACE["modules"]

#: (module, name) -> why the shim's name differs from pyscard's.  None does: every
#: name is there, of its kind, with pyscard's constant values.
DIFFERENCES: dict[tuple[str, str], str] = {}

#: The deliberate differences in behaviour, kept in step with "Where the shim behaves
#: differently" (docs/howto/pyscard-programs.md) and docs/guides/pyscard-migration.md;
#: each is asserted by the test named.
BEHAVIOUR_DIFFERENCES = {
    "SWException str() names the status word": "test_compat_examples (normalised line)",
    "scard results are tuples, not lists": "test_scard_results_are_tuples",
    "Windows-only scard calls exist, returning SCARD_E_UNSUPPORTED_FEATURE": (
        "test_reader_groups_fail_as_pyscard_does_on_linux"
    ),
    "bad input raises TypeError/ValueError where pyscard masked it": (
        "test_bad_input.py::test_pyscard_scard_functions"
    ),
}

#: Modules another issue delivers; until it lands the test says so and skips.
LATER = {"smartcard.pcsc.PCSCPart10": "PCSCPart10 arrives with issue 13 (Part 10 features)"}

#: Beyond pyscard 2.3.1 on Linux: what older consumers and Windows-minded code import.
EXTRA: dict[str, list[str]] = {
    "smartcard.pcsc.PCSCContext": ["PCSCContext"],
    "smartcard.scard": [
        "SCardGetCardTypeProviderName",
        "SCardListCards",
        "SCardListInterfaces",
        "SCardLocateCards",
        "SCardIntroduceCardType",
        "SCardForgetCardType",
    ],
}


def _module(name: str) -> Any:
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as error:
        if name in LATER and error.name in (name, "aioscard.compat" + name[len("smartcard") :]):
            pytest.skip(LATER[name])
        raise


@pytest.mark.parametrize("module_name", sorted(MODULES))
def test_every_pyscard_name_is_there_and_of_its_kind(module_name: str) -> None:
    module = _module(module_name)
    wrong = []
    for name, kind in MODULES[module_name].items():
        if (module_name, name) in DIFFERENCES:
            continue
        if not hasattr(module, name):
            wrong.append(f"{name}: missing")
            continue
        value = getattr(module, name)
        if kind == "class":
            ok = isinstance(value, type)
        elif kind == "callable":
            ok = callable(value)
        elif kind == "dict":
            ok = isinstance(value, Mapping)
        elif isinstance(kind, list):
            ok = value == kind[1] and (type(value) is bool) == (kind[0] == "bool")
        else:
            ok = True  # a TypeVar or ParamSpec: being there is all
        if not ok:
            wrong.append(f"{name}: {value!r} where pyscard has {kind!r}")
    assert wrong == []


def test_the_list_covers_every_module_of_pyscard() -> None:
    # The whole smartcard package but its wx GUI, tests and examples.
    assert len(MODULES) == 46
    assert "smartcard.reader.ReaderGroups" in MODULES
    assert MODULES["smartcard.scard"]["SCardIntroduceReaderGroup"] == "callable"


@pytest.mark.parametrize("module_name", sorted(EXTRA))
def test_names_beyond_pyscard_on_linux(module_name: str) -> None:
    module = importlib.import_module(module_name)
    assert [name for name in EXTRA[module_name] if not callable(getattr(module, name, None))] == []


# -- the pure modules --------------------------------------------------------------------


def test_ulist_keeps_one_of_each_and_tells_its_hooks() -> None:
    from aioscard.compat.ulist import ulist

    class Logged(ulist):
        def __init__(self, items: list[Any]) -> None:
            self.log: list[tuple[str, Any]] = []
            super().__init__(items)

        def __onadditem__(self, item: Any) -> None:
            self.log.append(("+", item))

        def __onremoveitem__(self, item: Any) -> None:
            self.log.append(("-", item))

    items = Logged([1, 2, 2, 3, 1])
    assert list(items) == [1, 2, 3]
    assert items.log == []
    # pyscard's order: the first new item, then the others reversed.
    added: Any = items.__add__([4, 5, 6, 4, 1])
    assert list(added) == [1, 2, 3, 4, 6, 5]
    assert type(added) is Logged
    items.__iadd__((7, 8))  # a non-list is one item, as in pyscard
    items.append(2)
    items.append(9)
    items.insert(0, 10)
    assert list(items) == [10, 1, 2, 3, (7, 8), 9]
    assert items.pop() == 9
    assert items.pop(0) == 10
    items.remove(3)
    assert items.log == [
        ("+", 4), ("+", 6), ("+", 5), ("+", (7, 8)), ("+", 9), ("+", 10),
        ("-", 9), ("-", 10), ("-", 3),
    ]  # fmt: skip
    assert ulist([1, 2]).__radd__([0, 1]) == [1, 2, 0]  # [0, 1] + ulist([1, 2])
    with pytest.raises(ValueError, match="not in list"):
        items.remove("absent")


def test_guid_round_trip_and_bad_input() -> None:
    from aioscard.compat.guid import GUIDToStr, strToGUID

    text = "{AD4F1667-EA75-4124-84D4-641B3B197C65}"
    data = [103, 22, 79, 173, 117, 234, 36, 65, 132, 212, 100, 27, 59, 25, 124, 101]
    assert strToGUID(text) == data
    assert GUIDToStr(data) == text
    with pytest.raises(ValueError, match="hexadecimal"):
        strToGUID("junk")
    with pytest.raises(ValueError, match="16 bytes"):
        GUIDToStr([1, 2])
    with pytest.raises(AttributeError):  # what pyscard raised; a TypeError too
        strToGUID(5)  # type: ignore[arg-type]


def test_synchronized_methods_hold_the_objects_mutex() -> None:
    from aioscard.compat.Synchronization import Synchronization, synchronize, synchronized

    log: list[str] = []

    class Lock:
        def __enter__(self) -> None:
            log.append("lock")

        def __exit__(self, *exc_info: object) -> None:
            log.append("unlock")

    class Counter(Synchronization):
        def bump(self) -> None:
            log.append("bump")

        def free(self) -> None:
            log.append("free")

        @synchronized
        def other(self) -> int:
            log.append("other")
            return 7

    synchronize(Counter, "bump")
    counter = Counter()
    assert type(counter.mutex).__name__ == "RLock"
    counter.mutex = Lock()
    counter.bump()
    counter.free()
    assert counter.other() == 7
    assert log == ["lock", "bump", "unlock", "free", "lock", "other", "unlock"]


def test_protocol_translations_are_pyscards() -> None:
    from aioscard.compat.CardConnection import CardConnection
    from aioscard.compat.pcsc import PCSCCardConnection as pcsc
    from aioscard.compat.scard import SCARD_PCI_T1, SCARD_PROTOCOL_RAW, SCARD_PROTOCOL_T0

    t0, t1, raw = (
        CardConnection.T0_protocol,
        CardConnection.T1_protocol,
        CardConnection.RAW_protocol,
    )
    assert pcsc.translateprotocolmask(t0 | t1) == 3
    assert pcsc.translateprotocolmask(raw) == SCARD_PROTOCOL_RAW
    assert pcsc.translateprotocolmask(None) == 0
    assert pcsc.translateprotocolheader(t1) == SCARD_PCI_T1
    assert pcsc.translateprotocolheader(t0 | t1) == 0
    assert pcsc.dictProtocol[SCARD_PROTOCOL_T0 | 2] == "T0 or T1"
    assert pcsc.dictProtocolHeader[SCARD_PCI_T1] == "T1"
    with pytest.raises(TypeError):
        pcsc.translateprotocolmask("T1")  # type: ignore[arg-type]


def test_sw_tables_are_pyscards_and_the_checkers_use_them() -> None:
    from aioscard.compat.sw.ISO7816_4_SW1ErrorChecker import ISO7816_4_SW1ErrorChecker, iso7816_4SW1
    from aioscard.compat.sw.ISO7816_4ErrorChecker import ISO7816_4ErrorChecker, iso7816_4SW
    from aioscard.compat.sw.op21_ErrorChecker import op21_SW
    from aioscard.compat.sw.SWExceptions import CheckingErrorException, SecurityRelatedException

    assert iso7816_4SW[0x6E] == (CheckingErrorException, {0x00: "Class (CLA) not supported"})
    assert op21_SW[0x94][1][0x85] == "Invalid key check value"
    assert iso7816_4SW1[0x66] is SecurityRelatedException
    with pytest.raises(CheckingErrorException) as raised:
        ISO7816_4ErrorChecker()([], 0x6E, 0x00)
    assert raised.value.message == "checking error - Class (CLA) not supported"
    # One except clause serves both APIs: these are aioscard's own classes.
    assert isinstance(raised.value, aioscard.sw.CheckingErrorException)
    ISO7816_4ErrorChecker()([], 0x6B, 0x01)  # not in the table: passes, as in pyscard
    with pytest.raises(CheckingErrorException):
        ISO7816_4_SW1ErrorChecker()([], 0x6B, 0x01)


def test_pcsccontext_stand_in_does_nothing_until_asked() -> None:
    from aioscard.compat.pcsc.PCSCContext import PCSCContext

    PCSCContext.instance = None  # what older python-fido2 and ykman do
    PCSCContext()
    assert PCSCContext.instance is not None
    PCSCContext.instance = None
    assert PCSCContext().instance is not None


def test_base_reader_groups_check_names() -> None:
    from aioscard.compat.reader.ReaderGroups import BadReaderGroupException, innerreadergroups

    groups = innerreadergroups(["a"])
    groups.append("b")
    assert list(groups) == ["a", "b"]
    with pytest.raises(BadReaderGroupException):
        groups.append(5)


# -- against the simulator ---------------------------------------------------------------


def test_pcsc_context_stand_in_gives_a_working_context(pcsc_simulator: Simulator) -> None:
    from aioscard.compat.pcsc.PCSCContext import PCSCContext
    from aioscard.compat.scard import SCARD_S_SUCCESS, SCardIsValidContext, SCardListReaders

    hcontext = PCSCContext().getContext()
    assert SCardIsValidContext(hcontext) == SCARD_S_SUCCESS
    assert SCardListReaders(hcontext, [])[1] == pcsc_simulator.reader_names
    renewed = PCSCContext.renewContext()
    assert SCardIsValidContext(renewed) == SCARD_S_SUCCESS
    PCSCContext().releaseContext()


def test_reader_groups_fail_as_pyscard_does_on_linux(pcsc_simulator: Simulator) -> None:
    from aioscard.compat import scard
    from aioscard.compat.reader.ReaderFactory import ReaderFactory
    from aioscard.compat.System import readergroups, readers

    groups = readergroups()
    assert "SCard$DefaultReaders" in groups
    assert readergroups() is groups
    assert [str(r) for r in readers(["SCard$DefaultReaders"])] == pcsc_simulator.reader_names
    assert [str(r) for r in ReaderFactory.readers()] == pcsc_simulator.reader_names
    snapshot = list(groups)
    try:
        with pytest.raises(scard.error, match=r"^Unable to introduce reader group: Feature not"):
            groups.append("MyGroup")
        assert "MyGroup" in groups  # pyscard's list has changed already, too
        with pytest.raises(TypeError):
            groups.append(12)
    finally:
        list.clear(groups)
        list.extend(groups, snapshot)
    _, hcontext = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
    try:
        for result in (
            scard.SCardIntroduceReaderGroup(hcontext, "MyGroup"),
            scard.SCardForgetReaderGroup(hcontext, "MyGroup"),
            scard.SCardIntroduceReader(hcontext, "x", "y"),
            scard.SCardForgetReader(hcontext, "x"),
            scard.SCardAddReaderToGroup(hcontext, "x", "MyGroup"),
            scard.SCardRemoveReaderFromGroup(hcontext, "x", "MyGroup"),
            scard.SCardListInterfaces(hcontext, "card")[0],
            scard.SCardListCards(hcontext, [0x3B, 0x00])[0],
            scard.SCardGetCardTypeProviderName(hcontext, "card", 1)[0],
        ):
            assert result == scard.SCARD_E_UNSUPPORTED_FEATURE
    finally:
        scard.SCardReleaseContext(hcontext)


def test_pyscard_style_hooks_are_called_as_pyscard_calls_them(
    virtual_card: VirtualCard,
) -> None:
    from aioscard.compat.CardConnectionObserver import CardConnectionObserver
    from aioscard.compat.pcsc.PCSCCardConnection import PCSCCardConnection
    from aioscard.compat.System import readers

    calls: list[Any] = []

    class Traced(PCSCCardConnection):
        def doTransmit(self, command: Any, protocol: int | None = None) -> Any:
            calls.append(("doTransmit", list(command)))
            return super().doTransmit(command, protocol)

        def doGetAttrib(self, attribId: int) -> list[int]:
            calls.append(("doGetAttrib", attribId))
            return [1, 2]

    class Events(CardConnectionObserver):
        def update(self, cardconnection: Any, ccevent: Any) -> None:
            calls.append(ccevent.type)

    connection = Traced(readers()[0])
    connection.addObserver(Events())
    connection.connect()
    try:
        data, sw1, sw2 = connection.transmit([0x00, 0x84, 0x00, 0x00, 0x08])
        assert (len(data), sw1, sw2) == (8, 0x90, 0x00)
        assert connection.getAttrib(0x0100) == [1, 2]
    finally:
        connection.disconnect()
        connection.release()
    assert calls == [
        "connect",
        "command",
        ("doTransmit", [0x00, 0x84, 0x00, 0x00, 0x08]),
        "response",
        "attrib",
        ("doGetAttrib", 0x0100),
        "disconnect",
        "release",
    ]


# -- bad input: pyscard's exception, or a subclass of it ---------------------------------


def test_scard_bad_input_raises_what_pyscard_raises(pcsc_simulator: Simulator) -> None:
    from aioscard.compat import scard

    _, hcontext = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
    try:
        # Each raised TypeError under pyscard 2.3.1 on Linux too.
        junk: Any = "x"  # the wrong types on purpose, hidden from mypy
        five: Any = 5
        bad: list[Callable[[], object]] = [
            lambda: scard.SCardIntroduceReaderGroup(hcontext, five),
            lambda: scard.SCardListReaders(hcontext, junk),
            lambda: scard.SCardListReaders(hcontext, [five]),
            lambda: scard.SCardTransmit(hcontext, 2, junk),
            lambda: scard.SCardGetErrorMessage(junk),
            lambda: scard.SCardConnect(hcontext, five, 2, 3),
            lambda: scard.SCardEstablishContext(junk),
            lambda: scard.SCardGetStatusChange(hcontext, 0, [(junk,)]),
            lambda: scard.SCardGetStatusChange(hcontext, 0, junk),
        ]
        for call in bad:
            with pytest.raises(TypeError):
                call()
    finally:
        scard.SCardReleaseContext(hcontext)


def test_scard_results_are_tuples(pcsc_simulator: Simulator) -> None:
    from aioscard.compat import scard

    result = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
    assert isinstance(result, tuple)  # pyscard: a list; both unpack the same
    _, hcontext = result
    try:
        assert scard.SCardListReaders(hcontext, []) == (
            scard.SCARD_S_SUCCESS,
            pcsc_simulator.reader_names,
        )
    finally:
        scard.SCardReleaseContext(hcontext)
