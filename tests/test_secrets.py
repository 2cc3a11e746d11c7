"""PINs, PUKs and keys never appear in clear at default settings; an explicit opt-in
shows them.

Every PIN-bearing command is sent through a connection with every kind of
observer attached, with all logging captured at DEBUG, through the error paths
(wrong PIN, card pulled mid-VERIFY, malformed commands, a card that crashes) and
the command line; then all that text -- logs with their tracebacks, stdout and
stderr, events, exception messages, tracebacks and reprs -- is searched for each
secret in every hex and ASCII spelling.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import subprocess
import sys
import textwrap
import traceback
from typing import TYPE_CHECKING, Any

import pytest

import aioscard
from aioscard import exceptions as exc
from aioscard._cli import _main, _shell
from aioscard.apdu import build_apdu, format_apdu, parse_apdu, set_reveal_secrets
from aioscard.compat.CardConnectionObserver import ConsoleCardConnectionObserver
from aioscard.observer import CardConnectionEvent, CardConnectionObserver
from aioscard.sw import ErrorCheckingChain, ISO7816_4ErrorChecker, SWException
from aioscard.testing import (
    DemoCard,
    DropConnection,
    Simulator,
    change_pin_apdu,
    reset_retry_counter_apdu,
    verify_apdu,
)

from ._support import off_loop

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from aioscard.testing.plugin import CardFactory

PIN = b"739164"
PUK = b"58203917"
NEW_PIN = b"846205"
KEY = bytes.fromhex("A1B2C3D4E5F60718")
SECRETS = (PIN, PUK, NEW_PIN, KEY)


def spellings(secret: bytes) -> set[str]:
    """Every way a log or a repr could spell ``secret``."""
    forms = {
        secret.hex(),
        secret.hex().upper(),
        secret.hex(" "),
        secret.hex(" ").upper(),
        secret.hex(":").upper(),
        ", ".join(f"0x{b:02X}" for b in secret),
        ", ".join(f"0x{b:02x}" for b in secret),
        " ".join(f"0x{b:02X}" for b in secret),
        ", ".join(str(b) for b in secret),  # a list of ints
        repr(secret)[2:-1],  # inside b'...'
        repr(list(secret))[1:-1],
    }
    if secret.isascii() and secret.decode().isprintable():
        forms.add(secret.decode())
    return forms


def leaks(text: str) -> list[str]:
    return sorted(form for secret in SECRETS for form in spellings(secret) if form in text)


def pin_commands() -> list[bytes]:
    """PIN- and key-bearing commands of every kind :func:`is_sensitive` knows."""
    return [
        verify_apdu(b"000000"),  # wrong: 63 C2
        verify_apdu(PIN),
        build_apdu(0x00, 0x20, 0x00, 0x80, PIN, extended=True),
        build_apdu(0x00, 0x21, 0x00, 0x80, b"\x5f\x2f\x06" + PIN),  # VERIFY, BER-TLV data
        change_pin_apdu(PIN, NEW_PIN),
        reset_retry_counter_apdu(PUK, PIN),
        build_apdu(0x00, 0x26, 0x00, 0x80, PIN),  # DISABLE VERIFICATION REQUIREMENT
        build_apdu(0x00, 0x28, 0x00, 0x80, PIN),  # ENABLE VERIFICATION REQUIREMENT
        build_apdu(0x00, 0x2C, 0x01, 0x80, PUK),  # RESET RETRY COUNTER, PUK only
        build_apdu(0xFF, 0x82, 0x00, 0x00, KEY[:6]),  # LOAD KEYS (PC/SC part 3)
        build_apdu(0x80, 0xD8, 0x01, 0x81, KEY),  # PUT KEY (GlobalPlatform)
        build_apdu(0x00, 0xDB, 0x3F, 0xFF, b"\x4d\x08" + KEY),  # OpenPGP key import
        build_apdu(0x00, 0xFE, 0x07, 0x9A, KEY),  # PIV IMPORT ASYMMETRIC KEY
        build_apdu(0x00, 0xFF, 0xFF, 0xFF, KEY),  # PIV SET MANAGEMENT KEY
        bytes([0x00, 0x20, 0x00, 0x80, 0x09]) + PIN,  # malformed: Lc says 9
    ]


class Tracer(CardConnectionObserver):
    """Keeps str() and repr() of every event it sees."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def update(self, cardconnection: Any, ccevent: CardConnectionEvent) -> None:
        self.lines += [str(ccevent), repr(ccevent), repr(cardconnection)]


class Crashing(DemoCard):
    """A demo card whose software crashes on CHANGE REFERENCE DATA and vanishes on
    RESET RETRY COUNTER."""

    def __call__(self, apdu: bytes, /) -> bytes:
        if apdu[1] == 0x24:
            raise RuntimeError("the card's software crashed")
        if apdu[1] == 0x2C:
            raise DropConnection
        return super().__call__(apdu)


def described(error: BaseException) -> str:
    return "\n".join([str(error), repr(error), *traceback.format_exception(error)])


async def exchange_everything(simulator: Simulator, factory: CardFactory) -> list[str]:
    """Send every PIN command every way; return all the text it produced besides logs."""
    texts: list[str] = []
    await off_loop(factory, handler=DemoCard(pin=PIN, puk=PUK), reader=0)
    await off_loop(factory, handler=Crashing(pin=PIN, puk=PUK), reader=1)
    tracer = Tracer()
    for reader in (0, 1):
        async with aioscard.Reader(simulator.reader_names[reader]).createConnection() as connection:
            connection.addObserver(aioscard.LoggingCardConnectionObserver())
            connection.addObserver(ConsoleCardConnectionObserver())
            connection.addObserver(tracer)
            connection.setErrorCheckingChain([ErrorCheckingChain([], ISO7816_4ErrorChecker())])
            for command in pin_commands():
                try:
                    response = await connection.transmit(command)
                    texts += [repr(response), str(response)]
                except (SWException, exc.SmartcardException) as error:
                    texts.append(described(error))
                    if isinstance(error, exc.InvalidResponseException):
                        break  # the card is gone
                texts += [repr(parse_apdu(command)) if _parses(command) else "", repr(connection)]
            # Malformed arguments: the messages name the argument, never the value.
            for bad in ([*PIN, 256], [*PIN, True], [*PIN, "x"], PIN.decode(), PIN * 11_000):
                # A try per item: each bad command is refused on its own.
                try:
                    await connection.transmit(bad)  # type: ignore[arg-type]
                except (TypeError, ValueError) as error:  # noqa: PERF203
                    texts.append(described(error))
    texts += tracer.lines
    return texts


def _parses(command: bytes) -> bool:
    try:
        parse_apdu(command)
    except ValueError:
        return False
    return True


@pytest.fixture
def debug_logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG)  # every logger, aioscard's and the simulator's
    return caplog


def run(coroutine: Callable[[], Awaitable[list[str]]]) -> list[str]:
    import anyio

    return anyio.run(coroutine)


def test_secrets_stay_out_of_logs_traces_errors_and_reprs(
    pcsc_simulator: Simulator,
    card_factory: CardFactory,
    debug_logs: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    texts = run(lambda: exchange_everything(pcsc_simulator, card_factory))
    out, err = capsys.readouterr()
    everything = "\n".join([debug_logs.text, out, err, *texts])
    assert "redacted" in everything
    assert "RuntimeError" in debug_logs.text  # the crashing card's failure was logged ...
    assert leaks(everything) == []  # ... like everything else, without a secret


def test_revealing_secrets_is_an_explicit_opt_in(
    pcsc_simulator: Simulator,
    card_factory: CardFactory,
    debug_logs: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    set_reveal_secrets(True)
    try:
        texts = run(lambda: exchange_everything(pcsc_simulator, card_factory))
        assert format_apdu(verify_apdu(PIN)) == verify_apdu(PIN).hex(" ").upper()
    finally:
        set_reveal_secrets(False)
    out, _ = capsys.readouterr()
    assert PIN.hex(" ").upper() in debug_logs.text  # the logging tracer
    assert PIN.hex(" ").upper() in out  # the console tracer
    assert KEY.hex(" ").upper() in "\n".join(texts)  # event reprs
    assert "redacted" in format_apdu(verify_apdu(PIN))


REVEAL_PROGRAM = """
import logging, sys
import anyio
import aioscard
from aioscard.testing import verify_apdu

logging.basicConfig(level=logging.DEBUG, stream=sys.stdout)

async def main():
    async with aioscard.Reader(sys.argv[1]).createConnection() as connection:
        connection.addObserver(aioscard.LoggingCardConnectionObserver())
        await connection.transmit(verify_apdu(bytes.fromhex(sys.argv[2])))

anyio.run(main)
"""


@pytest.mark.parametrize("reveal", [None, "1"])
def test_the_environment_variable_reveals_secrets(
    pcsc_simulator: Simulator, card_factory: CardFactory, reveal: str | None
) -> None:
    card_factory(reader=0)
    environment = {**os.environ, **pcsc_simulator.env}
    environment.pop("AIOSCARD_REVEAL_SECRETS", None)
    if reveal is not None:
        environment["AIOSCARD_REVEAL_SECRETS"] = reveal
    result = subprocess.run(
        [
            sys.executable,
            *("-W", "error", "-c", textwrap.dedent(REVEAL_PROGRAM)),
            *(pcsc_simulator.reader_names[0], PIN.hex()),
        ],
        capture_output=True,
        text=True,
        env=environment,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    if reveal:
        assert PIN.hex(" ").upper() in result.stdout
    else:
        assert "redacted" in result.stdout
        assert leaks(result.stdout + result.stderr) == []


# -- the command line ---------------------------------------------------------------------


def test_the_command_line_keeps_secrets_out_of_its_output(
    pcsc_simulator: Simulator,
    card_factory: CardFactory,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Any,
) -> None:
    card_factory(handler=DemoCard(pin=PIN, puk=PUK), reader=0)
    commands = [command.hex().upper() for command in pin_commands()]
    assert _main.main(["send", "-r", "0", *commands[:3]]) == 0
    assert _main.main(["send", "-r", "0", "--json", *commands[3:6]]) == 0
    script = tmp_path / "apdus.txt"
    script.write_text("\n".join(commands[6:]) + "\n")
    _main.main(["send", "-r", "0", "--file", str(script)])
    # A line the shell cannot read: its message must not repeat the line (an odd digit).
    lines = [*commands, commands[1] + "0", "00 20 00 80 06 " + PIN.hex(" ") + " zz"]
    options = _main.build_parser().parse_args(["shell", "-r", "0"])
    shell_out = io.StringIO()
    _shell.run_shell(options, stdin=io.StringIO("\n".join(lines) + "\n"), stdout=shell_out)
    out, err = capsys.readouterr()
    everything = "\n".join([out, err, shell_out.getvalue()])
    assert "redacted" in everything
    assert leaks(everything) == []


def test_the_shell_keeps_secrets_out_of_its_history() -> None:
    readline = _shell._readline()
    if readline is None:
        pytest.skip("no readline on this platform")
    readline.clear_history()
    secret_line = verify_apdu(PIN).hex(" ")
    for line in ("00 A4 04 00", secret_line, "help"):
        readline.add_history(line)
        _shell._forget_secret(readline, line, reveal=False)
    history = [
        readline.get_history_item(index)
        for index in range(1, readline.get_current_history_length() + 1)
    ]
    assert history == ["00 A4 04 00", "help"]
    readline.add_history(secret_line)
    _shell._forget_secret(readline, secret_line, reveal=True)  # --reveal keeps it
    assert readline.get_history_item(readline.get_current_history_length()) == secret_line
    readline.clear_history()
    with contextlib.suppress(Exception):
        readline.set_history_length(-1)
