"""Every program in ``examples/`` runs, as a user would run it, against the simulator.

Each example runs in a subprocess that inherits the session simulator's
``PCSCLITE_CSOCK_NAME``; cards are inserted and removed with the plugin's
fixtures.  ``test_my_app.py`` runs under its own pytest (with its own
simulator, from the same plugin).
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from aioscard.record import read_session
from aioscard.testing import (
    DEMO_ATR,
    MIFARE_1K_ATR,
    MifareClassicCard,
    SimulatedReader,
    Simulator,
    VirtualCard,
)

from .test_cli import Spawned, child_env

if TYPE_CHECKING:
    from aioscard.testing.plugin import CardFactory

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
DEMO_ATR_HEX = " ".join(f"{b:02X}" for b in DEMO_ATR)


def run_example(*args: str, module: str | None = None, timeout: float = 60) -> str:
    """Run an example to completion; return its output (stdout and stderr)."""
    command = [sys.executable, *(["-m", module] if module else []), *args]
    done = subprocess.run(
        command,
        env=child_env(),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=timeout,
        cwd=EXAMPLES.parent,
    )
    assert done.returncode == 0, done.stdout
    return done.stdout


def example(name: str) -> str:
    return str(EXAMPLES / name)


def test_every_example_has_a_test() -> None:
    tested = {
        "quick_start.py",
        "wait_for_card.py",
        "monitor_events.py",
        "concurrent_readers.py",
        "transaction.py",
        "get_response.py",
        "trio_program.py",
        "legacy_pyscard.py",
        "my_app.py",
        "test_my_app.py",
        "contactless_card.py",
        "card_files.py",
        "command_chaining.py",
        "logical_channels.py",
        "tlv_data.py",
        "identify_card.py",
        "record_session.py",
        "test_replay_session.py",
        "pinpad.py",
    }
    assert {path.name for path in EXAMPLES.glob("*.py")} == tested


def test_quick_start(pcsc_simulator: Simulator, virtual_card: VirtualCard) -> None:
    out = run_example(example("quick_start.py"))
    lines = out.splitlines()
    assert lines[:4] == [f"reader: {name}" for name in pcsc_simulator.reader_names]
    assert f"ATR: {DEMO_ATR_HEX}" in lines
    assert re.search(
        r"^GET CHALLENGE: ([0-9A-F]{2} ){7}[0-9A-F]{2}, SW 9000: Normal processing$", out, re.M
    )


def test_wait_for_card_with_a_card_present(
    pcsc_simulator: Simulator, virtual_card: VirtualCard
) -> None:
    out = run_example(example("wait_for_card.py"), "0.3")
    assert out.splitlines() == [
        f"card in {pcsc_simulator.reader_names[0]}: ATR {DEMO_ATR_HEX}",
        "cancelled: no new card within 0.3 s",  # the card present is not new
    ]


def test_wait_for_card_times_out_without_one(pcsc_simulator: Simulator) -> None:
    out = run_example(example("wait_for_card.py"), "0.2")
    assert out.splitlines() == [
        "timeout: no card within 0.2 s",
        "cancelled: no new card within 0.2 s",
    ]


def test_monitor_events_reports_what_happens(
    pcsc_simulator: Simulator, card_factory: CardFactory
) -> None:
    names = pcsc_simulator.reader_names
    card_factory(reader=0)
    monitor = Spawned([sys.executable, example("monitor_events.py"), "--events", "2"])
    try:
        monitor.expect("watching; Ctrl-C stops")
        card_factory(reader=3)
        monitor.expect("card inserted")
        card_factory.remove(3)
        assert monitor.finish() == 0
    finally:
        monitor.close()
    assert monitor.lines == [
        *(f"reader: {name}" for name in names),
        f"card present: {names[0]}: {DEMO_ATR_HEX}",
        "watching; Ctrl-C stops",
        f"card inserted in {names[3]}: ATR {DEMO_ATR_HEX}",
        f"card removed from {names[3]}",
    ]


def test_concurrent_readers(pcsc_simulator: Simulator, card_factory: CardFactory) -> None:
    for reader in (0, 1, 3):
        card_factory(reader=reader)
    out = run_example(example("concurrent_readers.py"), "5")
    names = pcsc_simulator.reader_names
    answered = sorted(line for line in out.splitlines() if line.endswith(" answers"))
    assert answered == [f"{names[i]}: 20 answers" for i in (0, 1, 3)]
    assert re.search(r"^3 cards, 60 APDUs in \d+\.\d\d s", out, re.M)


def test_transaction(virtual_card: VirtualCard) -> None:
    out = run_example(example("transaction.py"))
    assert out.splitlines() == [
        "transaction open",
        "SELECT: 9000",
        "VERIFY: 9000",
        "SELECT FILE: 9000",
        "READ BINARY: " + " ".join(f"{i:02X}" for i in range(16)) + " 9000",
        "the other connection's command is still waiting: True",
        "transaction ended",
        "then the other connection got its answer: SW 9000",
    ]


def test_get_response_helper(virtual_card: VirtualCard) -> None:
    out = run_example(example("get_response.py"))
    assert out.splitlines() == [
        "helpers off, LONG RESPONSE: 0 bytes, SW 6100 "
        "(256 or more bytes still available (use GET RESPONSE))",
        "helpers off, EXACT LENGTH: 0 bytes, SW 6C10 (Wrong Le; exact length is 16)",
        "helpers on,  LONG RESPONSE: 600 bytes, SW 9000 (Normal processing)",
        "helpers on,  EXACT LENGTH: 16 bytes, SW 9000 (Normal processing)",
    ]


def test_trio_program(virtual_card: VirtualCard) -> None:
    out = run_example(example("trio_program.py"))
    lines = out.splitlines()
    assert lines[0] == f"ATR: {DEMO_ATR_HEX}"
    for index, line in enumerate(lines[1:4], 1):
        assert re.fullmatch(rf"task {index}: ([0-9A-F]{{2}} ){{8}}9000", line)
    assert lines[4] == "no card event within 1 s: the wait was cancelled cleanly"


def test_legacy_pyscard_program_through_the_shim(
    pcsc_simulator: Simulator, virtual_card: VirtualCard
) -> None:
    out = run_example(example("legacy_pyscard.py"), module="aioscard.compat")
    reader = pcsc_simulator.reader_names[0]
    assert out.splitlines()[0] == f"readers: {pcsc_simulator.reader_names!r}"
    assert f"connecting to {reader}" in out
    assert f"ATR: {DEMO_ATR_HEX}" in out
    assert re.search(r"^GET CHALLENGE: ([0-9A-F]{2} ){8}90 00$", out, re.M)
    assert "SELECT of an unknown AID raised: status word 6A82: checking error" in out
    assert f"disconnecting from {reader}" in out


@pytest.mark.timeout(120)
def test_my_app_tests_pass_under_the_pytest_plugin() -> None:
    out = run_example(
        example("test_my_app.py"),
        "-p",
        "no:cacheprovider",
        "-q",
        "--aioscard-readers",
        "3",
        module="pytest",
    )
    assert re.search(r"^4 passed", out, re.M), out


def test_contactless_card(pcsc_simulator: Simulator, card_factory: CardFactory) -> None:
    card_factory(DEMO_ATR, reader=0)
    card = MifareClassicCard()
    card_factory(MIFARE_1K_ATR, card, reader=2)
    out = run_example(example("contactless_card.py"), "10")
    names = pcsc_simulator.reader_names
    assert out.splitlines() == [
        f"{names[0]}: no UID (a contact card?)",
        f"{names[2]}: UID A1 B2 C3 D4",
        "card: MIFARE Classic 1K",
        "block 4: " + " ".join(["00"] * 16),
        "block 4 now: 'written by aiosc'",
        "block 8: READ BINARY of block 8: status word 6982: contactless - "
        "Security status not satisfied",
    ]
    assert bytes(card.blocks[4]) == b"written by aiosc"


def test_identify_card(
    pcsc_simulator: Simulator, virtual_card: VirtualCard, tmp_path: Path
) -> None:
    known = tmp_path / "smartcard_list.txt"
    known.write_text(
        "3B 88 01 61 69 6F 73 63 61 72 64 ..\n\taioscard demo card\n\n"
        "3B 8F 80 01 80 4F 0C A0 00 00 03 06 03 00 01 .*\n\tMIFARE Classic 1K\n",
        encoding="utf-8",
    )
    out = run_example(example("identify_card.py"), "--list", str(known))
    assert out.splitlines() == [
        f"reader: {pcsc_simulator.reader_names[0]}",
        f"ATR: {DEMO_ATR_HEX}",
        "aioscard demo card  (line 1: 3B 88 01 61 69 6F 73 63 61 72 64 ..)",
    ]
    out = run_example(example("identify_card.py"), "--list", str(known), MIFARE_1K_ATR.hex())
    assert out.splitlines()[1:] == [
        "storage card (from the ATR): MIFARE Classic 1K",
        "MIFARE Classic 1K  (line 4: 3B 8F 80 01 80 4F 0C A0 00 00 03 06 03 00 01 .*)",
    ]


def test_record_session(virtual_card: VirtualCard, tmp_path: Path) -> None:
    out = run_example(example("record_session.py"), str(tmp_path / "session.jsonl"))
    assert out.splitlines() == [
        "IC serial: 60411234",
        f"recorded 1 command(s) with the card of ATR {DEMO_ATR_HEX}",
        "  00 CA 9F 7F 00 -> 47 bytes",
    ]
    # The recording the replay example uses is the same session.
    recorded = read_session(tmp_path / "session.jsonl")
    committed = read_session(EXAMPLES / "demo_session.jsonl")
    assert [(e.command, e.response) for e in recorded.exchanges] == [
        (e.command, e.response) for e in committed.exchanges
    ]
    assert recorded.atr == committed.atr == DEMO_ATR


@pytest.mark.timeout(120)
def test_replay_session_tests_pass_under_the_pytest_plugin() -> None:
    out = run_example(
        example("test_replay_session.py"),
        "-p",
        "no:cacheprovider",
        "-q",
        "--aioscard-readers",
        "2",
        module="pytest",
        timeout=110,  # a hang guard: a whole pytest session with its own simulator
    )
    assert re.search(r"^2 passed", out, re.M), out


def test_card_files(virtual_card: VirtualCard) -> None:
    out = run_example(example("card_files.py"))
    assert out.splitlines() == [
        "selected 'aioscard files': DF 5000, AID A0000006472F0002",
        "EF 1: 700 bytes, starting 00 07 0E 15 1C 23 2A 31",
        "EF 2: 5 records: 0101, 0202, 0303, 0404, 0505",
        "update refused: SW 6982 checking error - Security status not satisfied",
        "PIN verified: False, tries left: 3",
        "after VERIFY: b'hello'",
    ]
    assert "313233343536" not in out.replace(" ", "")


def test_command_chaining(virtual_card: VirtualCard) -> None:
    before = virtual_card.apdu_count
    out = run_example(example("command_chaining.py"))
    assert out.splitlines() == [
        "chaining: True, extended length: True, up to 65526 bytes per command",
        "transport: TransportOptions(get_response=True, le_correction=True, "
        "get_response_cla=0, max_rounds=64, chain_limit=255)",
        "echoed 1000 bytes back intact: True",
        "SW 9000",
    ]
    # SELECT and READ BINARY of EF.ATR, 4 links, 3 GET RESPONSE.
    assert virtual_card.apdu_count - before == 2 + 4 + 3


def test_logical_channels(virtual_card: VirtualCard) -> None:
    out = run_example(example("logical_channels.py"))
    assert out.splitlines() == [
        "channel 1: 'aioscard files', 700 bytes",
        "channel 2: 'aioscard spare', 5 bytes",
        "basic channel still works: basic",
        "both closed afterwards: True",
    ]


def test_tlv_data(virtual_card: VirtualCard) -> None:
    out = run_example(example("tlv_data.py"))
    lines = out.splitlines()
    assert lines[0] == "tag 6F, 38 bytes: constructed"
    assert "tag 84, 8 bytes: A0 00 00 06 47 2F 00 02" in lines
    assert "label: aioscard files" in lines
    assert "built: 6F 0A 84 02 A0 00 9F 7F 03 00 00 00" in lines
    assert "truncated: tag 0x6F announces 10 bytes, but only 9 remain (at offset 0)" in lines
    assert "lenient, with padding: True" in lines
    assert lines[-3:] == [
        "compact-TLV: [CompactTLV(tag=7, value=b'\\xf6!\\xff')]",
        "DOL: [('9F66', 4), ('9F02', 6), ('5F2A', 2)]",
        "DOL data: 000000000000000000000978",
    ]


def test_pinpad(
    pinpad_reader: SimulatedReader, virtual_card: VirtualCard, pcsc_simulator: Simulator
) -> None:
    out = run_example(example("pinpad.py"))
    lines = out.splitlines()
    assert lines[0] == f"pinpad reader: {pcsc_simulator.reader_names[0]}"
    assert "  reader: aioscard Simulated reader, version 1.0.0" in lines
    assert "type a PIN of 4..8 digits" in lines
    assert lines[-1] == "PIN verified"
