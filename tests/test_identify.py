"""Card identification from a smartcard_list.txt: matching as pcsc-tools' ATR_analysis does.

The tests write small lists of their own; one test reads the list Debian's
pcsc-tools installs, when it is there.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import aioscard.identify as identify_module
from aioscard import Reader
from aioscard._cli import EXIT_OK, EXIT_USAGE, main
from aioscard.atr import ATR
from aioscard.identify import (
    SMARTCARD_LIST_ENV,
    KnownCard,
    SmartcardList,
    SmartcardListError,
    SmartcardListNotFoundError,
    find_smartcard_list,
    identify,
    load_smartcard_list,
)
from aioscard.testing import DEMO_ATR, MIFARE_1K_ATR, MifareClassicCard, Simulator

if TYPE_CHECKING:
    from aioscard.testing.plugin import CardFactory

INSTALLED = Path("/usr/share/pcsc/smartcard_list.txt")
MIFARE_HEX = " ".join(f"{b:02X}" for b in MIFARE_1K_ATR)

LIST = f"""\
# a comment line
\tA description before any ATR is ignored

3B 88 01 61 69 6F 73 63 61 72 64 ..
\taioscard demo card (any TCK)
\thttps://example.invalid/demo

3b 8f 80 01 80 4f 0c a0 00 00 03 06 03 00 0[1-2] 00 00 00 00 ..
\tMIFARE Classic 1K or 4K (lower-case pattern, a class)

3B 8F 80 01 80 4F 0C A0 00 00 03 06 .. 00 01 .*
\tMIFARE Classic 1K, any standard (a tail wildcard)

3B 8F 80 01 80 4F 0C A0 00 00 03 06 03 00 01 00 00 00 00 6A{"  "}
\tMIFARE Classic 1K exactly (trailing spaces on the pattern line)

3B 8F 80 01 80 4F 0C A0 00 00 03 06 03 00 0[2-3] 00 00 00 00 ..
\tnot this one

3B 88 01 6[
\tbroken pattern

3F 02 00 00|3B 02 14 50
\tan alternation
"""


@pytest.fixture
def list_file(tmp_path: Path) -> Path:
    path = tmp_path / "smartcard_list.txt"
    path.write_text(LIST, encoding="utf-8")
    return path


@pytest.fixture
def no_default_lists(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No environment variable, and default locations that do not exist."""
    monkeypatch.delenv(SMARTCARD_LIST_ENV, raising=False)
    nowhere = tmp_path / "nowhere"
    monkeypatch.setattr(
        identify_module, "default_locations", lambda: [nowhere / "a.txt", nowhere / "b.txt"]
    )
    return nowhere


def names(found: list[KnownCard]) -> list[str]:
    return [entry.name for entry in found]


def test_wildcards_classes_case_tails_and_trailing_spaces(list_file: Path) -> None:
    found = ATR(MIFARE_1K_ATR).identify(list_file)
    assert names(found) == [
        "MIFARE Classic 1K or 4K (lower-case pattern, a class)",
        "MIFARE Classic 1K, any standard (a tail wildcard)",
        "MIFARE Classic 1K exactly (trailing spaces on the pattern line)",
    ]
    assert found[0].line == 8
    assert found[0].source == str(list_file)
    assert found[2].pattern == MIFARE_HEX
    demo = identify(DEMO_ATR, list_file)
    assert [entry.description for entry in demo] == [
        ("aioscard demo card (any TCK)", "https://example.invalid/demo")
    ]


def test_alternation_and_unknown_atrs(list_file: Path) -> None:
    assert names(identify("3B 02 14 50", list_file)) == ["an alternation"]
    assert names(identify("3F 02 00 00", list_file)) == ["an alternation"]
    assert identify("3B 02 14 51", list_file) == []
    assert identify([0x3B, 0x00], list_file) == []


def test_a_broken_pattern_is_skipped_and_reported(list_file: Path) -> None:
    smartcard_list = load_smartcard_list(list_file)
    assert smartcard_list.identify("3B 88 01 6F") == []
    assert len(smartcard_list.problems) == 1
    assert smartcard_list.problems[0].startswith("line 20: '3B 88 01 6[' is not a regular")


def test_the_parsed_list_is_cached_until_the_file_changes(list_file: Path) -> None:
    first = load_smartcard_list(list_file)
    assert load_smartcard_list(str(list_file)) is first
    list_file.write_text("3B 00\n\tshortest\n", encoding="utf-8")
    os.utime(list_file, ns=(1, 1))
    assert names(identify("3B 00", list_file)) == ["shortest"]


def test_argument_then_environment_then_pcsc_tools_locations(
    list_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = tmp_path / "other.txt"
    other.write_text("3B 00\n\tfrom the environment\n", encoding="utf-8")
    monkeypatch.setenv(SMARTCARD_LIST_ENV, str(other))
    assert find_smartcard_list() == other
    assert find_smartcard_list(list_file) == list_file
    monkeypatch.delenv(SMARTCARD_LIST_ENV)
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "smartcard_list.txt").write_text("", encoding="utf-8")
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    assert find_smartcard_list() == cache / "smartcard_list.txt"  # ATR_analysis's first place


def test_without_a_list_the_error_says_how_to_get_one(no_default_lists: Path) -> None:
    with pytest.raises(SmartcardListNotFoundError) as error:
        ATR(DEMO_ATR).identify()
    message = str(error.value)
    assert "apt-get install pcsc-tools" in message
    assert "https://pcsc-tools.apdu.fr/smartcard_list.txt" in message
    assert str(no_default_lists / "a.txt") in message
    assert isinstance(error.value, FileNotFoundError)
    with pytest.raises(SmartcardListNotFoundError, match="from the argument"):
        identify(DEMO_ATR, no_default_lists / "missing.txt")


def test_an_unreadable_list_is_a_typed_error(
    list_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(self: Path, *args: object, **kwargs: object) -> str:
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "read_text", refuse)
    with pytest.raises(SmartcardListError, match=r"cannot read .*Permission denied") as error:
        load_smartcard_list(list_file)
    assert error.value.path == str(list_file)


def test_bad_atr_input_fails_before_reading_anything(no_default_lists: Path) -> None:
    with pytest.raises(ValueError, match=r"atr must be 1\.\.33 bytes"):
        identify(b"")
    with pytest.raises(ValueError, match="hex"):
        identify("3B 8")
    with pytest.raises(TypeError):
        identify(3.5)  # type: ignore[arg-type]


def test_the_list_pcsc_tools_installs_names_a_mifare_card() -> None:
    if not INSTALLED.is_file():
        pytest.skip(f"{INSTALLED} is missing: apt-get install pcsc-tools")
    found = ATR(MIFARE_1K_ATR).identify(INSTALLED)
    assert any("MIFARE Classic 1K" in entry.name for entry in found), found
    assert MIFARE_HEX in [entry.pattern for entry in found]
    assert load_smartcard_list(INSTALLED).problems == ()
    assert len(load_smartcard_list(INSTALLED)) > 1000


@pytest.mark.anyio
async def test_naming_the_card_in_a_reader_through_pcscd(
    card_factory: CardFactory, pcsc_simulator: Simulator, list_file: Path
) -> None:
    card_factory(MIFARE_1K_ATR, MifareClassicCard(), reader=2)
    async with Reader(pcsc_simulator.reader_names[2]).createConnection() as connection:
        atr = ATR(connection.getATR())
    assert "MIFARE Classic 1K exactly" in names(atr.identify(list_file))[-1]


# -- the command line ---------------------------------------------------------------------------


def test_cli_atr_names_the_card(list_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["atr", "--list", str(list_file), *MIFARE_HEX.split()])
    out = capsys.readouterr().out
    assert status == EXIT_OK
    tail = out[out.index("card (from") :].splitlines()
    assert tail[0] == f"card (from {list_file}):"
    assert tail[1:3] == [
        "  3b 8f 80 01 80 4f 0c a0 00 00 03 06 03 00 0[1-2] 00 00 00 00 ..",
        "    MIFARE Classic 1K or 4K (lower-case pattern, a class)",
    ]
    assert "ATR: " + MIFARE_HEX in out  # the explanation comes first


def test_cli_atr_of_the_card_in_a_reader_names_it(
    card_factory: CardFactory,
    pcsc_simulator: Simulator,
    list_file: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    card_factory(MIFARE_1K_ATR, MifareClassicCard(), reader=1)
    monkeypatch.setenv(SMARTCARD_LIST_ENV, str(list_file))
    assert main(["atr", "--reader", "1"]) == EXIT_OK
    out = capsys.readouterr().out
    assert out.startswith(f"reader: {pcsc_simulator.reader_names[1]}\n")
    assert "    MIFARE Classic 1K exactly (trailing spaces on the pattern line)" in out


def test_cli_atr_without_a_list_says_how_to_get_one(
    no_default_lists: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["atr", DEMO_ATR.hex()]) == EXIT_OK
    last = capsys.readouterr().out.splitlines()[-1]
    assert last.startswith("card: not identified: no smartcard_list.txt found")
    assert "apt-get install pcsc-tools" in last


def test_cli_atr_unknown_card_and_missing_explicit_list(
    list_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["atr", "--list", str(list_file), "3B 02 14 51"]) == EXIT_OK
    assert capsys.readouterr().out.splitlines()[-1] == f"card: not in {list_file}"
    assert main(["atr", "--list", str(tmp_path / "missing"), "3B 02 14 51"]) == EXIT_USAGE
    assert "no smartcard list at" in capsys.readouterr().err


# -- properties ---------------------------------------------------------------------------------

atrs = st.binary(min_size=1, max_size=33)


@settings(deadline=None)  # no timed assertions: a loaded machine is slow
@given(text=st.text())
def test_any_text_parses_and_looks_up_without_crashing(text: str) -> None:
    smartcard_list = SmartcardList.parse(text)
    assert isinstance(smartcard_list.identify(b"\x3b\x00"), list)
    assert all(isinstance(problem, str) for problem in smartcard_list.problems)


@settings(deadline=None)  # no timed assertions: a loaded machine is slow
@given(atr=atrs, data=st.data())
def test_a_pattern_with_wildcards_matches_its_atr_in_any_case(
    atr: bytes, data: st.DataObject
) -> None:
    parts = [f"{byte:02X}" for byte in atr]
    for index in data.draw(st.sets(st.integers(0, len(parts) - 1))):
        parts[index] = data.draw(st.sampled_from(["..", f"{parts[index][0]}.", "[0-9A-F]{2}"]))
    pattern = " ".join(parts)
    if data.draw(st.booleans()):
        pattern = pattern.lower()
    smartcard_list = SmartcardList.parse(f"{pattern}\n\tthe card\n")
    assert names(smartcard_list.identify(atr)) == ["the card"]
    other = bytes([atr[0] ^ 0x01]) + atr[1:] if not re.match(r"\.|\[", parts[0]) else None
    if other is not None and not parts[0].endswith("."):
        assert smartcard_list.identify(other) == []
