"""Recording card sessions as JSON lines and replaying them, through pcscd and the CLI.

A session with the demo card is recorded with the observer, replayed by a
ReplayCard in another reader of the same simulator, and compared; the CLI's
``aioscard record`` and ``aioscard sim --replay`` run as child processes.
"""

from __future__ import annotations

import io
import json
import signal
import subprocess
import sys
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aioscard import Reader
from aioscard.observer import CardConnectionEvent
from aioscard.record import (
    CommandPattern,
    RecordingError,
    Session,
    SessionRecorder,
    parse_session,
    read_session,
)
from aioscard.testing import (
    DEMO_ATR,
    GET_CPLC_APDU,
    SELECT_DEMO_APDU,
    ReplayCard,
    ReplayIncompleteError,
    ReplayMismatchError,
    Simulator,
    VirtualCard,
    get_challenge_apdu,
    read_binary_apdu,
    select_file_apdu,
    verify_apdu,
)
from aioscard.testing.plugin import CardFactory, ReplayFactory

from .test_cli import Spawned, aioscard_command, child_env

if TYPE_CHECKING:
    from pathlib import Path

PIN = b"123456"
SCRIPT = [
    SELECT_DEMO_APDU,
    verify_apdu(PIN),
    GET_CPLC_APDU,
    select_file_apdu(0xE101),
    read_binary_apdu(0, 16),
    get_challenge_apdu(8),
]


async def run_script(reader: str, commands: list[bytes] = SCRIPT) -> list[bytes]:
    async with Reader(reader).createConnection() as connection:
        return [(await connection.transmit(command)).bytes for command in commands]


async def record_demo_session(path: Path, reader: str) -> list[bytes]:
    with SessionRecorder(path) as recorder:
        connection = Reader(reader).createConnection()
        recorder.attach(connection)
        async with connection:
            return [(await connection.transmit(command)).bytes for command in SCRIPT]


def lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


# -- recording ------------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_the_recorder_writes_atr_protocol_exchanges_and_redacts_the_pin(
    virtual_card: VirtualCard, pcsc_simulator: Simulator, tmp_path: Path
) -> None:
    path = tmp_path / "session.jsonl"
    responses = await record_demo_session(path, pcsc_simulator.reader_names[0])
    records = lines(path)
    assert [record["type"] for record in records] == [
        "session",
        "connect",
        *["exchange"] * len(SCRIPT),
        "disconnect",
    ]
    assert records[0]["format"] == "aioscard-session"
    assert records[0]["version"] == 1
    connect = records[1]
    assert connect["reader"] == pcsc_simulator.reader_names[0]
    assert connect["atr"] == " ".join(f"{b:02X}" for b in DEMO_ATR)
    assert connect["protocol"] == "T=1"
    exchanges = records[2:-1]
    assert exchanges[1]["command"] == "00 20 00 80 06 <6 bytes redacted>"
    assert exchanges[0]["command"] == " ".join(f"{b:02X}" for b in SELECT_DEMO_APDU)
    assert [bytes.fromhex(e["response"].replace(" ", "")) for e in exchanges] == responses
    assert all(e["duration"] >= 0 and e["t"] >= 0 for e in exchanges)
    assert all(e["connection"] == 1 for e in exchanges)
    assert "31 32 33 34 35 36" not in path.read_text(encoding="utf-8")
    session = read_session(path)
    assert session.atr == DEMO_ATR
    assert session.protocol == "T=1"
    assert len(session.exchanges) == len(SCRIPT)


def test_reveal_records_the_pin_and_a_stream_works_too() -> None:
    stream = io.StringIO()

    class Fake:
        def getATR(self) -> list[int]:
            return list(DEMO_ATR)

        def getProtocol(self) -> int:
            return 2

        def getReader(self) -> str:
            return "fake reader"

    fake: Any = Fake()
    recorder = SessionRecorder(stream, reveal=True)
    recorder.update(fake, CardConnectionEvent("connect"))
    recorder.update(fake, CardConnectionEvent("command", [list(verify_apdu(PIN)), None]))
    recorder.update(fake, CardConnectionEvent("response", [[], 0x90, 0x00]))
    recorder.update(fake, CardConnectionEvent("command", [list(GET_CPLC_APDU), None]))
    recorder.close()  # the last command never got its response
    records = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert records[2]["command"] == "00 20 00 80 06 31 32 33 34 35 36"
    assert records[3]["response"] is None
    session = parse_session(stream.getvalue().splitlines())
    assert [e.response for e in session.exchanges] == [b"\x90\x00", None]
    assert len(session.answered) == 1


# -- replaying ------------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_a_replayed_session_answers_as_the_card_did(
    card_factory: CardFactory, pcsc_simulator: Simulator, tmp_path: Path
) -> None:
    names = pcsc_simulator.reader_names
    card_factory(DEMO_ATR, reader=0)
    path = tmp_path / "session.jsonl"
    recorded = await record_demo_session(path, names[0])
    replay = ReplayCard(path)
    card_factory(replay.atr, replay, reader=2)
    assert await run_script(names[2]) == recorded  # GET CHALLENGE's random bytes included
    replay.check()
    assert replay.replayed == len(SCRIPT)


@pytest.mark.anyio
async def test_a_mismatch_answers_6f00_and_names_both_apdus(
    card_factory: CardFactory, pcsc_simulator: Simulator, tmp_path: Path
) -> None:
    names = pcsc_simulator.reader_names
    card_factory(DEMO_ATR, reader=0)
    path = tmp_path / "session.jsonl"
    await record_demo_session(path, names[0])
    replay = ReplayCard(path)
    card_factory(replay.atr, replay, reader=1)
    wrong = [SELECT_DEMO_APDU, verify_apdu(b"654321"), read_binary_apdu(0, 8)]
    answers = await run_script(names[1], wrong)
    # The redacted PIN matches any PIN of its length; READ BINARY is not GET DATA.
    assert answers[1] == b"\x90\x00"
    assert answers[2] == b"\x6f\x00"
    with pytest.raises(ReplayMismatchError) as error:
        replay.check()
    message = str(error.value)
    assert message.startswith("replay mismatch: got 00 B0 00 00 08, expected 00 CA 9F 7F 00")
    assert f"command 3 of {len(SCRIPT)}, {path} line 5" in message
    assert error.value.got == read_binary_apdu(0, 8)
    assert error.value.expected == "00 CA 9F 7F 00"


@pytest.mark.anyio
async def test_lookup_mode_answers_in_any_order_and_repeats(
    card_factory: CardFactory, pcsc_simulator: Simulator, tmp_path: Path
) -> None:
    names = pcsc_simulator.reader_names
    card_factory(DEMO_ATR, reader=0)
    path = tmp_path / "session.jsonl"
    recorded = await record_demo_session(path, names[0])
    replay = ReplayCard(path, strict=False)
    card_factory(replay.atr, replay, reader=3)
    order = [GET_CPLC_APDU, SELECT_DEMO_APDU, GET_CPLC_APDU, get_challenge_apdu(4)]
    answers = await run_script(names[3], order)
    assert answers[:3] == [recorded[2], recorded[0], recorded[2]]
    assert answers[3] == b"\x6f\x00"  # GET CHALLENGE of 4 bytes was never recorded
    with pytest.raises(ReplayMismatchError, match="never recorded; expected one of: 00 A4"):
        replay.check()


def test_check_reports_an_incomplete_strict_replay(tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    path.write_text(
        '{"type": "session", "format": "aioscard-session", "version": 1}\n'
        '{"type": "connect", "atr": "3B 00"}\n'
        '{"type": "exchange", "command": "00 A4 04 00", "response": "90 00"}\n'
        '{"type": "exchange", "command": "00 20 00 80 04 <4 bytes redacted>", '
        '"response": "90 00"}\n',
        encoding="utf-8",
    )
    replay = ReplayCard(path)
    assert replay(bytes.fromhex("00A40400")) == b"\x90\x00"
    with pytest.raises(ReplayIncompleteError) as error:
        replay.check()
    assert str(error.value) == (
        "replay incomplete: 1 of 2 recorded commands were sent; next expected "
        f"00 20 00 80 04 <4 bytes redacted> ({path} line 4)"
    )
    replay.check(complete=False)
    assert replay(bytes.fromhex("0020008004") + b"9999") == b"\x90\x00"
    assert replay(bytes.fromhex("00A40400")) == b"\x6f\x00"
    with pytest.raises(ReplayMismatchError, match="the recording ended"):
        replay.check()


@pytest.mark.anyio
async def test_the_replay_fixture_checks_after_the_test(
    card_factory: CardFactory, pcsc_simulator: Simulator, tmp_path: Path
) -> None:
    card_factory(DEMO_ATR, reader=0)
    path = tmp_path / "session.jsonl"
    await record_demo_session(path, pcsc_simulator.reader_names[0])
    factory = ReplayFactory(card_factory)
    factory(path, reader=1)
    await run_script(pcsc_simulator.reader_names[1], SCRIPT[:2])
    card_factory.remove_all()
    with pytest.raises(ReplayIncompleteError, match="2 of 6 recorded commands"):
        factory.check()


def test_a_test_that_goes_off_script_fails_at_teardown(tmp_path: Path) -> None:
    recording = tmp_path / "session.jsonl"
    recording.write_text(
        '{"type": "session", "format": "aioscard-session", "version": 1}\n'
        '{"type": "connect", "atr": "3B 88 01 61 69 6F 73 63 61 72 64 89"}\n'
        '{"type": "exchange", "command": "00 CA 9F 7F 00", "response": "6A 88"}\n',
        encoding="utf-8",
    )
    test_file = tmp_path / "test_off_script.py"
    test_file.write_text(
        "import anyio, aioscard\n\n"
        "def test_app(replay_card):\n"
        f"    replay_card({str(recording)!r}, reader=0)\n"
        "    async def app():\n"
        "        reader = (await aioscard.readers())[0]\n"
        "        async with reader.createConnection() as connection:\n"
        "            return await connection.transmit(bytes.fromhex('00B0000008'))\n"
        "    assert anyio.run(app).sw == 0x6F00\n",
        encoding="utf-8",
    )
    done = subprocess.run(
        [
            *(sys.executable, "-m", "pytest", str(test_file), "-q", "-p", "no:cacheprovider"),
            *("--aioscard-readers", "1"),
        ],
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "1 passed, 1 error" in done.stdout
    assert "replay mismatch: got 00 B0 00 00 08, expected 00 CA 9F 7F 00" in done.stdout


# -- malformed recordings -------------------------------------------------------------------------

HEADER = '{"type": "session", "format": "aioscard-session", "version": 1}'


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("", None, "empty: no session line"),
        ('{"type": "connect", "atr": "3B 00"}', 1, 'starts with a "session" line'),
        ("not json", 1, "not JSON"),
        ("[1, 2]", 1, "must be a JSON object, not list"),
        ('{"type": "session", "format": "other", "version": 1}', 1, "not an aioscard session"),
        ('{"type": "session", "format": "aioscard-session", "version": 9}', 1, "version 9"),
        (HEADER + '\n{"type": "dance"}', 2, "unknown type 'dance'"),
        (HEADER + '\n\n{"type": "connect", "atr": "3G"}', 3, '"atr" is not hex'),
        (HEADER + '\n{"type": "connect", "atr": 12}', 2, '"atr" must be hex text, not int'),
        (HEADER + '\n{"type": "exchange", "response": "90 00"}', 2, '"command" must be hex'),
        (HEADER + '\n{"type": "exchange", "command": "00 A4"}', 2, "at least the 4 header"),
        (
            HEADER + '\n{"type": "exchange", "command": "00 A4 04 00", "response": "90"}',
            2,
            '"response" must be 2..65538 bytes, got 1',
        ),
        (
            HEADER + '\n{"type": "exchange", "command": "00A40400", "response": "9000", "t": true}',
            2,
            '"t" must be a number of seconds',
        ),
        (
            HEADER + '\n{"type": "exchange", "command": "00 <1 byte redacted> <2 bytes redacted>"}',
            2,
            "more than one redaction marker",
        ),
    ],
)
def test_malformed_recordings_are_typed_errors_naming_the_line(
    text: str, line: int | None, message: str
) -> None:
    with pytest.raises(RecordingError) as error:
        parse_session(text.splitlines(), "rec.jsonl")
    assert error.value.line == line
    assert message in str(error.value)
    assert str(error.value).startswith("rec.jsonl" if line is None else f"rec.jsonl line {line}:")


def test_a_replay_needs_an_atr_and_an_answer(tmp_path: Path) -> None:
    bare = tmp_path / "bare.jsonl"
    bare.write_text(HEADER + "\n", encoding="utf-8")
    with pytest.raises(ValueError, match="no ATR"):
        ReplayCard(bare)
    with pytest.raises(ValueError, match="no answered command"):
        ReplayCard(bare, atr=DEMO_ATR)
    binary = tmp_path / "binary.jsonl"
    binary.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(RecordingError, match="not UTF-8"):
        read_session(binary)


@settings(deadline=None)  # no timed assertions: a loaded machine is slow
@given(st.lists(st.text(max_size=80), max_size=6))
def test_any_lines_give_a_session_or_a_recording_error(body: list[str]) -> None:
    result: Session | RecordingError
    try:
        result = parse_session([HEADER, *body])
    except RecordingError as error:
        result = error
    if isinstance(result, RecordingError):
        assert result.line is not None  # every failure past the header names its line
    else:
        assert all(e.command.length >= 4 for e in result.exchanges)


json_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True),
    st.text(max_size=30),
    st.sampled_from(["00 A4 04 00", "90 00", "3B 00", "00 20 00 80 02 <2 bytes redacted>"]),
)


@settings(deadline=None)  # no timed assertions: a loaded machine is slow
@given(
    kind=st.sampled_from(["connect", "reconnect", "exchange", "disconnect"]),
    fields=st.dictionaries(
        st.sampled_from(["atr", "command", "response", "t", "duration", "connection"]),
        json_values,
    ),
)
def test_any_record_fields_give_a_session_or_a_recording_error(
    kind: str, fields: dict[str, Any]
) -> None:
    line = json.dumps({"type": kind, **fields})
    result: Session | RecordingError
    try:
        result = parse_session([HEADER, line], "r.jsonl")
    except RecordingError as error:
        result = error
    if isinstance(result, RecordingError):
        assert result.line == 2
        assert str(result).startswith("r.jsonl line 2: ")
        return
    session = result
    assert all(
        exchange.response is None or len(exchange.response) >= 2 for exchange in session.exchanges
    )


@settings(deadline=None)  # no timed assertions: a loaded machine is slow
@given(
    st.lists(
        st.tuples(
            st.binary(min_size=4, max_size=300),
            st.binary(min_size=2, max_size=300),
        ),
        max_size=5,
    )
)
def test_what_the_recorder_writes_reads_back(pairs: list[tuple[bytes, bytes]]) -> None:
    stream = io.StringIO()
    recorder = SessionRecorder(stream)

    class Connection:
        pass

    fake: Any = Connection()
    for command, response in pairs:
        recorder.update(fake, CardConnectionEvent("command", [list(command), None]))
        recorder.update(
            fake, CardConnectionEvent("response", [list(response[:-2]), *response[-2:]])
        )
    session = parse_session(stream.getvalue().splitlines())
    assert [e.response for e in session.exchanges] == [response for _, response in pairs]
    for exchange, (command, _) in zip(session.exchanges, pairs, strict=True):
        assert exchange.command.matches(command)
        assert CommandPattern.parse(str(exchange.command)) == exchange.command


# -- the command line -----------------------------------------------------------------------------


def test_cli_record_wraps_a_command(
    virtual_card: VirtualCard, pcsc_simulator: Simulator, tmp_path: Path
) -> None:
    path = tmp_path / "cli.jsonl"
    done = subprocess.run(
        aioscard_command(
            "record",
            "-o",
            str(path),
            "--",
            *aioscard_command("send", SELECT_DEMO_APDU.hex(), verify_apdu(PIN).hex()),
        ),
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert f"recording to {path}" in done.stderr
    assert f"recorded 2 commands in {path}" in done.stderr
    session = read_session(path)
    assert session.atr == DEMO_ATR
    assert [str(e.command) for e in session.exchanges] == [
        " ".join(f"{b:02X}" for b in SELECT_DEMO_APDU),
        "00 20 00 80 06 <6 bytes redacted>",
    ]
    failing = subprocess.run(
        aioscard_command("record", "-o", str(path), "--", sys.executable, "-c", "exit(3)"),
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert failing.returncode == 3
    assert "recorded nothing" in failing.stderr


def test_cli_record_defaults_to_the_shell_and_records_pyscard_programs(
    virtual_card: VirtualCard, tmp_path: Path
) -> None:
    path = tmp_path / "shell.jsonl"
    shell = subprocess.run(
        aioscard_command("record", "-o", str(path)),
        input=f"{SELECT_DEMO_APDU.hex()}\n{GET_CPLC_APDU.hex()}\n",
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert shell.returncode == 0, shell.stderr
    assert "aioscard shell" in shell.stderr
    assert len(read_session(path).exchanges) == 2
    program = tmp_path / "legacy.py"
    program.write_text(
        "from smartcard.System import readers\n"
        "connection = readers()[0].createConnection()\n"
        "connection.connect()\n"
        "print(connection.transmit([0x00, 0xCA, 0x9F, 0x7F, 0x00])[1:])\n"
        "connection.disconnect()\n",
        encoding="utf-8",
    )
    legacy = subprocess.run(
        [
            *aioscard_command("record", "-o", str(path), "--append", "--"),
            *(sys.executable, "-m", "aioscard.compat", str(program)),
        ],
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert legacy.returncode == 0, legacy.stderr
    assert legacy.stdout.strip() == "(144, 0)"
    assert f"now holds 3 commands in {path}" in legacy.stderr
    session = read_session(path)
    assert [str(e.command) for e in session.exchanges][-1] == "00 CA 9F 7F 00"


def test_cli_sim_replays_a_recording(tmp_path: Path) -> None:
    path = tmp_path / "session.jsonl"
    path.write_text(
        HEADER + "\n"
        '{"type": "connect", "atr": "3B 88 01 61 69 6F 73 63 61 72 64 89"}\n'
        '{"type": "exchange", "command": "00 CA 9F 7F 00", "response": "01 02 03 90 00"}\n'
        '{"type": "exchange", "command": "00 84 00 00 08", "response": "6A 88"}\n',
        encoding="utf-8",
    )
    sim = Spawned(aioscard_command("sim", "--readers", "1", "--replay", str(path)))
    try:
        socket_path = sim.expect(r"^export PCSCLITE_CSOCK_NAME=").split("=", 1)[1]
        assert "replaying" in sim.expect(r"^reader 0: ")
        sim.expect("Ctrl-C or SIGTERM stops it")
        send = subprocess.run(
            aioscard_command("send", "--wait", "5", "--json", "00CA9F7F00", "00B0000008"),
            env=child_env(PCSCLITE_CSOCK_NAME=socket_path),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert send.returncode == 0, send.stderr
        answers = [json.loads(line) for line in send.stdout.splitlines()]
        assert [(answer["data"], answer["sw"]) for answer in answers] == [
            ("010203", "9000"),
            ("", "6F00"),
        ]
        sim.expect("replay mismatch: got 00 B0 00 00 08, expected 00 84 00 00 08")
        sim.process.send_signal(signal.SIGINT)
        assert sim.finish() == 1
    finally:
        sim.close()
    assert "replay: 1 of 2 recorded commands replayed, 1 mismatch" in sim.lines


def test_cli_sim_rejects_a_malformed_recording(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(HEADER + "\nnot json\n", encoding="utf-8")
    done = subprocess.run(
        aioscard_command("sim", "--replay", str(path)),
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert f"{path} line 2: not JSON" in done.stderr
