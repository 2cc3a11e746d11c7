"""Real pyscard consumers run unchanged under the shim, against virtual cards.

python-fido2 (``CtapPcscDevice``, a CTAP2 getInfo to a virtual FIDO2 card),
yubikey-manager (``ykman list --readers``) and smartcard-identifier (a
``CardRequest(newcardonly=True, timeout=None)`` loop that reads a card's UID)
are installed in the test environment only, by ``scripts/bootstrap.sh --test``
(the ``consumers`` extra, and the last two without their pyscard dependency).
A consumer that is not installed makes its test skip, saying so.
"""

from __future__ import annotations

import importlib.util
import os
import queue
import subprocess
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from aioscard.testing import Simulator
    from aioscard.testing.plugin import CardFactory

PROGRAMS = Path(__file__).resolve().parent / "compat_programs"
BIN = Path(sys.executable).parent

AID_FIDO = bytes.fromhex("A0000006472F0001")
AAGUID = bytes(range(16))
# CTAP2 authenticatorGetInfo: {1: ["U2F_V2", "FIDO_2_0"], 3: AAGUID, 4: {"rk": true}, 5: 1200}
GET_INFO = (
    bytes([0xA4, 0x01, 0x82, 0x66])
    + b"U2F_V2"
    + bytes([0x68])
    + b"FIDO_2_0"
    + bytes([0x03, 0x50])
    + AAGUID
    + bytes([0x04, 0xA1, 0x62])
    + b"rk"
    + bytes([0xF5, 0x05, 0x19, 0x04, 0xB0])
)
# A contactless card as PC/SC part 3 presents it (what FIDO over NFC looks like).
CONTACTLESS_ATR = bytes.fromhex("3B8F8001804F0CA0000003060300000000000068")
UID = bytes.fromhex("04A1B2C3D4E5F6")


def fido_card(apdu: bytes) -> bytes:
    """A FIDO2 authenticator over NFC: SELECT of the FIDO AID, and NFCCTAP_MSG getInfo."""
    if apdu[:4] == b"\x00\xa4\x04\x00" and apdu[5 : 5 + len(AID_FIDO)] == AID_FIDO:
        return b"FIDO_2_0\x90\x00"
    if apdu[:2] == b"\x80\x10" and apdu[4:6] == b"\x01\x04":
        return b"\x00" + GET_INFO + b"\x90\x00"  # CTAP2_OK, then the CBOR map
    return b"\x6d\x00"


def uid_card(apdu: bytes) -> bytes:
    """A contactless card answering the PC/SC GET DATA for its UID (FF CA 00 00 00)."""
    if apdu[:4] == b"\xff\xca\x00\x00":
        return UID + b"\x90\x00"
    return b"\x6d\x00"


def need_module(name: str, project: str) -> None:
    if importlib.util.find_spec(name) is None:
        pytest.skip(f"{project} is not installed: run `bash scripts/bootstrap.sh --test`")


def need_script(name: str, project: str) -> Path:
    script = BIN / name
    if not script.is_file():
        pytest.skip(f"{project} is not installed: run `bash scripts/bootstrap.sh --test`")
    return script


def shim(*args: str) -> list[str]:
    return [sys.executable, "-m", "aioscard.compat", *args]


def test_fido2_ctap2_get_info_over_pcsc(card_factory: CardFactory) -> None:
    need_module("fido2", "python-fido2")
    card_factory(CONTACTLESS_ATR, fido_card, reader=1)
    run = subprocess.run(
        shim(str(PROGRAMS / "fido2_get_info.py")),
        capture_output=True,
        text=True,
        timeout=60,
        env=dict(os.environ),
    )
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    # Only reader 1 holds a FIDO card: the others are skipped as python-fido2 skips them.
    assert lines[0].startswith("1 CtapPcscDevice(")
    assert lines[1] == "['U2F_V2', 'FIDO_2_0']"
    assert lines[2] == AAGUID.hex()
    assert lines[3] == "{'rk': True} 1200"


def test_ykman_lists_the_readers(pcsc_simulator: Simulator) -> None:
    ykman = need_script("ykman", "yubikey-manager")
    run = subprocess.run(
        shim(str(ykman), "list", "--readers"),
        capture_output=True,
        text=True,
        timeout=60,
        env=dict(os.environ),
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines() == pcsc_simulator.reader_names


def test_smartcard_identifier_reads_each_new_card(
    pcsc_simulator: Simulator, card_factory: CardFactory
) -> None:
    # Its loop: CardRequest(newcardonly=True, timeout=None).waitforcard(), connect,
    # transmit FF CA 00 00 00, print the UID, disconnect, wait again.
    script = need_script("smartcard-identifier", "smartcard-identifier")
    process = subprocess.Popen(
        shim(str(script), "--stdout"),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # It prints without flushing: unbuffered, as on a terminal, or its lines wait for exit.
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    lines: queue.SimpleQueue[str] = queue.SimpleQueue()

    def read_lines() -> None:
        for text in process.stdout or ():
            lines.put(text)

    reader = threading.Thread(target=read_lines)
    reader.start()
    try:
        # Only cards inserted after its wait began count, and nothing says when that
        # is: insert until it answers (each try waits for its output, not for time).
        for _ in range(15):
            card_factory(CONTACTLESS_ATR, uid_card, reader=2)
            try:
                line = lines.get(timeout=2)
                break
            except queue.Empty:
                assert process.poll() is None, process.stderr.read() if process.stderr else ""
            finally:
                pcsc_simulator.remove(2)
        else:
            pytest.fail("smartcard-identifier never printed a card's UID")
        assert line.strip() == UID.hex().upper()
    finally:
        process.kill()
        process.wait(timeout=10)
        reader.join(timeout=10)
        for stream in (process.stdout, process.stderr):
            if stream:
                stream.close()
