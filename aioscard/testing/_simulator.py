"""A private pcscd serving virtual readers: the reader side of the test bench.

The daemon is socket-activated so that it never touches the system's
``/run/pcscd/pcscd.comm``: this process binds and listens on a UNIX socket in a
private temporary directory, and pcscd receives it as fd 3 with
``LISTEN_FDS=1`` and ``LISTEN_PID`` set to its own PID.  Clients reach it with
``PCSCLITE_CSOCK_NAME`` (see :attr:`Simulator.env`).

pcscd still writes and removes ``/run/pcscd/pcscd.pid``; :mod:`._sandbox` runs
it in a private mount namespace where possible, and otherwise puts that file
back as it was (see there).

Two back-ends give the readers.  ``"driver"``, the default where it builds, is
the simulator's own pcsc-lite driver (:mod:`._driver`): one reader.conf entry
per reader, all loading one library, a UNIX socket per reader in the private
directory for its card, card events pushed to pcscd at once, and reader
control codes and attributes answered by :class:`SimulatedReader` objects.
pcscd names the readers ``f"{name} {i:02X} 00"`` (``"aioscard sim 00 00"``,
``"aioscard sim 01 00"``, ...).

``"vpcd"`` is vsmartcard's driver: each reader.conf entry gives two reader slots, each listening
on a TCP port of its own; reader ``i`` listens on ``ports[i]`` and pcscd names
it ``f"{name} {i // 2} 00 {i % 2:02X}"`` (``"aioscard vpcd 0 00 00"``,
``"aioscard vpcd 0 00 01"``, ``"aioscard vpcd 1 00 00"``, ...).  An odd number
of readers therefore leaves one extra, idle slot, which PC/SC lists as well.
Entries must have distinct friendly names (pcscd would give two entries the
same reader names) and, beyond the first, a private copy of the driver library
(two entries loading one file share the driver's globals and corrupt each
other's slots).
"""

from __future__ import annotations

import collections
import contextlib
import functools
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping
from types import TracebackType
from typing import IO, TYPE_CHECKING

from . import _sandbox
from ._card import VirtualCard
from ._driver import Backend, BuildError, build_driver, choose_backend
from ._errors import SimulatorError
from ._netstat import bound_unix_paths, listening, socket_inodes
from ._ports import PortReservation, reserve_ports
from ._readers import ReaderService, SimulatedReader

if TYPE_CHECKING:
    from ._pinpad import Pinpad

__all__ = ["DEFAULT_READER_NAME", "Simulator"]

logger = logging.getLogger(__name__)
pcscd_logger = logging.getLogger("aioscard.testing.pcscd")

#: The default friendly-name prefix of the simulated readers on vpcd.
DEFAULT_READER_NAME = "aioscard vpcd"
#: The default friendly name of the readers of the simulator's own driver.
DRIVER_READER_NAME = "aioscard sim"
#: Environment variable naming the pcscd executable to run.
PCSCD_ENV = "AIOSCARD_PCSCD"
#: Environment variable naming the vpcd driver library (``libifdvpcd.so``).
DRIVER_ENV = "AIOSCARD_VPCD_DRIVER"

_PCSCD_CANDIDATES = ("/usr/sbin/pcscd", "/usr/local/sbin/pcscd", "/sbin/pcscd")
_DRIVER_CANDIDATES = (
    "/usr/lib/pcsc/drivers/serial/libifdvpcd.so",
    "/usr/lib64/pcsc/drivers/serial/libifdvpcd.so",
    "/usr/local/lib/pcsc/drivers/serial/libifdvpcd.so",
)
_USB_DRIVER_DIRS = (
    "/usr/lib/pcsc/drivers",
    "/usr/lib64/pcsc/drivers",
    "/usr/local/lib/pcsc/drivers",
)
_READY_MARK = b"daemon ready"
_STOP_GRACE = 5.0
# A normal power-up takes one or two presence polls (400 ms each), more on a loaded machine.
_RESEAT_AFTER = 2.0
# Variables a parent under systemd may carry that must not reach our pcscd.
_SYSTEMD_VARIABLES = ("LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES", "NOTIFY_SOCKET")


def _find(explicit: str | None, variable: str, candidates: tuple[str, ...], what: str) -> str:
    chosen = explicit or os.environ.get(variable)
    if chosen:
        if not os.path.exists(chosen):
            raise SimulatorError(f"{what} {chosen!r} does not exist")
        return chosen
    for candidate in candidates:
        if os.path.exists(candidate):
            return candidate
    raise SimulatorError(
        f"{what} not found (looked in {', '.join(candidates)}); install it or set {variable}"
    )


def _find_pcscd(explicit: str | None) -> str:
    on_path = shutil.which("pcscd")
    candidates = (on_path, *_PCSCD_CANDIDATES) if on_path else _PCSCD_CANDIDATES
    return _find(explicit, PCSCD_ENV, candidates, "pcscd")


def _find_driver(explicit: str | None) -> str:
    return _find(explicit, DRIVER_ENV, _DRIVER_CANDIDATES, "vpcd driver")


class Simulator:
    """A private pcscd with ``readers`` virtual readers, ready for virtual cards.

    ``backend``: ``"driver"`` (the simulator's own reader driver: events at once,
    reader control codes, attributes and pinpads through :meth:`reader`),
    ``"vpcd"`` (vsmartcard's), or ``"auto"``/None (the default; also
    ``$AIOSCARD_SIM_BACKEND``): the driver when it can be built (a C compiler
    and pcsc-lite's headers), else vpcd with one logged warning.
    :attr:`backend` says which one runs.  ``pinpads`` makes readers pinpads
    from the start (reader index -> :class:`~aioscard.testing.Pinpad`; driver
    only).

    For vpcd, ``base_port`` fixes the first TCP port (the readers take ``readers`` rounded
    up to even consecutive ports); by default free ports are found from 40000 up
    and held (with a lock file) against other simulators until :meth:`stop`.
    ``pcscd`` and ``driver`` override the daemon and the vpcd library (also via
    the ``AIOSCARD_PCSCD`` / ``AIOSCARD_VPCD_DRIVER`` environment variables;
    ``AIOSCARD_SIM_DRIVER`` names a ready-built library of the simulator's driver).
    ``log_apdus`` makes pcscd log every APDU to the ``aioscard.testing.pcscd``
    logger (DEBUG).  ``auto_exit`` passes ``-x``: pcscd then quits by itself 60 s
    after its last client, a safety net against leaks at the cost of surprise
    stops in idle periods.  ``hotplug`` lets the private pcscd load the machine's
    USB reader drivers (hidden by default).  ``name`` is the readers' friendly
    name prefix (default ``"aioscard sim"``, on vpcd ``"aioscard vpcd"``).

    This object makes no PC/SC call itself: libpcsclite latches the socket path
    at a process's first PC/SC call, so set ``os.environ.update(sim.env)``
    before yours.  Use it as a context manager, or call :meth:`start` and
    :meth:`stop`.  Methods are thread-safe.

    Raises:
        ValueError: ``readers`` is not 1..64, ``base_port`` is out of range,
            ``name`` is empty or holds a quote or newline (reader.conf syntax),
            ``backend`` is unknown, or a ``pinpads`` index is not a reader.
        SimulatorError: ``pinpads`` on the vpcd back-end.
    """

    def __init__(
        self,
        readers: int = 2,
        *,
        base_port: int | None = None,
        pcscd: str | None = None,
        driver: str | None = None,
        log_apdus: bool = False,
        auto_exit: bool = False,
        hotplug: bool = False,
        name: str | None = None,
        backend: str | None = None,
        pinpads: Mapping[int, Pinpad] | None = None,
    ) -> None:
        if not 1 <= readers <= 64:
            raise ValueError(f"readers must be in 1..64, got {readers}")
        #: The back-end that serves the readers: ``"driver"`` or ``"vpcd"``.
        self.backend: Backend = choose_backend(backend)
        if name is None:
            name = DRIVER_READER_NAME if self.backend == "driver" else DEFAULT_READER_NAME
        if not name or any(char in name for char in '"\n\r'):
            raise ValueError(f"name must be non-empty without quotes or newlines, got {name!r}")
        self.entries = (readers + 1) // 2 if self.backend == "vpcd" else readers
        if base_port is not None and not 1024 <= base_port <= 65536 - 2 * self.entries:
            raise ValueError(f"base_port {base_port} leaves no room for {readers} readers")
        self.readers = readers
        self.base_port = base_port
        self.log_apdus = log_apdus
        self.auto_exit = auto_exit
        self.hotplug = hotplug
        self.name = name
        self._pcscd = pcscd
        self._driver = driver
        self._lock = threading.RLock()
        self._process: subprocess.Popen[bytes] | None = None
        self._pid_guard: _sandbox.PidFileGuard | None = None
        self._output_thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._output_tail: collections.deque[str] = collections.deque(maxlen=40)
        self._directory: str | None = None
        self._reservation: PortReservation | None = None
        self._cards: dict[int, VirtualCard] = {}
        self.socket_path: str = ""
        self.ports: list[int] = []
        #: Names of the ``readers`` requested readers (not vpcd's idle odd slot).
        self.reader_names: list[str] = [
            f"{name} {index:02X} 00"
            if self.backend == "driver"
            else f"{name} {index // 2} 00 {index % 2:02X}"
            for index in range(readers)
        ]
        self._readers = [
            SimulatedReader(index, reader_name, functools.partial(self.card, index))
            for index, reader_name in enumerate(self.reader_names)
        ]
        self._service: ReaderService | None = None
        for index, pinpad in (pinpads or {}).items():
            self.reader(index).pinpad = pinpad
        #: Seconds the last start took, from spawning pcscd to readiness.
        self.startup_seconds: float | None = None

    def __repr__(self) -> str:
        state = f"running pid={self.pid}" if self.running else "stopped"
        return f"<Simulator {state} readers={self.readers} socket={self.socket_path!r}>"

    # -- properties ----------------------------------------------------------------

    @property
    def pid(self) -> int | None:
        """The PID of the running pcscd, None when it is not running."""
        with self._lock:
            process = self._process
            if process is None or process.poll() is not None:
                return None
            return process.pid

    @property
    def running(self) -> bool:
        """True while the private pcscd is alive."""
        return self.pid is not None

    @property
    def env(self) -> dict[str, str]:
        """The environment a PC/SC client needs to reach this pcscd."""
        return {"PCSCLITE_CSOCK_NAME": self.socket_path}

    def reader(self, reader: int) -> SimulatedReader:
        """The simulated reader ``reader``: its control handler, attributes and
        pinpad (see :class:`~aioscard.testing.SimulatedReader`).

        Raises:
            ValueError: no such reader.
            SimulatorError: the vpcd back-end, which has no reader control.
        """
        self._check_reader(reader)
        if self.backend != "driver":
            raise SimulatorError(
                "reader control codes, attributes and pinpads need the simulator's own "
                "driver; this simulator runs on vpcd"
            )
        return self._readers[reader]

    def card_address(self, reader: int) -> int | str:
        """Where a card connects to be in ``reader``: vpcd's TCP port, or the path of
        the driver's UNIX socket (see :meth:`VirtualCard.insert`).

        Raises:
            ValueError: no such reader.
            SimulatorError: not started.
        """
        self._check_reader(reader)
        if self._directory is None:
            raise SimulatorError("the simulator is not started")
        if self.backend == "vpcd":
            return self.ports[reader]
        return self._card_path(reader)

    def card(self, reader: int) -> VirtualCard | None:
        """The card put in ``reader`` by :meth:`insert` and not yet removed.

        It is still reported while pcscd is down (after :meth:`kill`), although
        its connection then is gone; :meth:`restart` inserts it again.
        """
        self._check_reader(reader)
        with self._lock:
            return self._cards.get(reader)

    # -- life cycle ------------------------------------------------------------------

    def start(self, timeout: float = 10.0) -> None:
        """Start pcscd and return once it serves its socket and every vpcd port listens.

        Raises:
            SimulatorError: already started; pcscd or the driver is missing; pcscd
                exited or a vpcd port did not come up within ``timeout``.
            OSError: no free ports (or ``base_port`` is taken).

        Cancellation: blocks the calling thread for up to ``timeout`` seconds.
        """
        with self._lock:
            if self._directory is not None:
                raise SimulatorError("the simulator is already started: stop() or restart() it")
            pcscd = _find_pcscd(self._pcscd)
            if self.backend == "driver":
                try:
                    driver = build_driver()
                except BuildError as exc:
                    raise SimulatorError(f"the simulator's reader driver: {exc}") from None
                reservation = None
            else:
                driver = _find_driver(self._driver)
                reservation = reserve_ports(2 * self.entries, self.base_port)
            _sandbox.sweep_stale_directories()
            try:
                directory = tempfile.mkdtemp(prefix=_sandbox.DIRECTORY_PREFIX)
                try:
                    self._write_owner(directory, None)
                    self._directory = directory
                    self._reservation = reservation
                    self.ports = reservation.ports[: self.readers] if reservation else []
                    self.socket_path = os.path.join(directory, _sandbox.SOCKET_NAME)
                    if self.backend == "driver":
                        self._service = ReaderService(
                            directory,
                            {
                                f"{self._card_path(i)}:{i}": reader
                                for i, reader in enumerate(self._readers)
                            },
                        )
                    self._write_config(directory, driver)
                    self._spawn(pcscd, timeout)
                except BaseException:
                    self._close_service()
                    self._directory = None
                    shutil.rmtree(directory, ignore_errors=True)
                    raise
            except BaseException:
                self._reservation = None
                if reservation is not None:
                    reservation.release()
                raise

    def stop(self) -> None:
        """Remove every card, stop pcscd (SIGTERM, SIGKILL after 5 s) and reap it,
        delete the private directory and release the ports.  Idempotent.

        An idle aioscard watcher of this process (one lingering after its last
        subscriber) is ended first: it would see pcscd go and log that.

        Cancellation: blocks until pcscd has exited (normally ~50 ms).
        """
        watcher_module = sys.modules.get("aioscard.monitor._watcher")  # loaded: may run
        if watcher_module is not None:
            watcher_module.get_watcher().stop_if_idle()
        with self._lock:
            for card in self._cards.values():
                card.remove()
            self._cards.clear()
            self._terminate(signal.SIGTERM)
            self._close_service()
            if self._directory is not None:
                shutil.rmtree(self._directory, ignore_errors=True)
                self._directory = None
            if self._reservation is not None:
                self._reservation.release()
                self._reservation = None

    def kill(self) -> None:
        """SIGKILL pcscd and reap it, for fault injection.

        The socket path, ports and the record of inserted cards stay, so
        :meth:`restart` brings the same setup back.  Clients' calls then fail
        with ``SCARD_E_NO_SERVICE``; cards see their connection close.
        Does nothing if pcscd is not running.

        Cancellation: blocks until pcscd is reaped (milliseconds).
        """
        with self._lock:
            self._terminate(signal.SIGKILL)

    def restart(self, timeout: float = 10.0) -> None:
        """Stop pcscd if it runs, then start it again at the same socket path and
        ports, and insert again the cards recorded in the readers (waiting for each
        to be powered).  Contexts made before stay dead; new contexts work.

        Raises:
            SimulatorError: never started (or stopped); start-up failed; a card
                was not powered within ``timeout``.

        Cancellation: blocks for up to about twice ``timeout``.
        """
        with self._lock:
            if self._directory is None:
                raise SimulatorError("the simulator was never started, or has been stopped")
            self._terminate(signal.SIGTERM)
            self._spawn(_find_pcscd(self._pcscd), timeout)
            for reader, card in self._cards.items():
                card.remove()
                self._insert_card(card, reader, wait=True, timeout=timeout)

    def __enter__(self) -> Simulator:
        if self._directory is None:
            self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- cards ---------------------------------------------------------------------------

    def insert(
        self,
        card: VirtualCard | None = None,
        reader: int = 0,
        *,
        wait: bool = True,
        timeout: float = 5.0,
    ) -> VirtualCard:
        """Insert ``card`` (default: a new demo card) into ``reader`` and return it.

        With ``wait``, return only once pcscd has powered the card on, i.e. has
        seen it (at once with the simulator's driver; 0-400 ms on vpcd, which
        pcscd polls); pcscd publishes the new reader state right afterwards, so
        a client may still need an event wait (SCardGetStatusChange) to observe it.

        Raises:
            ValueError: no such reader.
            SimulatorError: pcscd is not running, or the reader holds a card.
            TimeoutError: ``wait`` and pcscd did not power the card within
                ``timeout`` (the card is removed again).
            OSError: the card could not connect to the reader's port.

        Cancellation: blocks for up to ``timeout`` seconds.
        """
        self._check_reader(reader)
        if card is None:
            card = VirtualCard(name=f"demo card in reader {reader}")
        with self._lock:
            if not self.running:
                raise SimulatorError("the simulator is not running")
            present = self._cards.get(reader)
            if present is not None:
                raise SimulatorError(f"reader {reader} already holds {present!r}")
            self._insert_card(card, reader, wait=False, timeout=timeout)
            self._cards[reader] = card
        if wait and not self._await_power(card, reader, timeout):
            self.remove(reader, wait=False)
            raise TimeoutError(f"pcscd did not power {card.name} within {timeout} s")
        return card

    def remove(self, reader: int = 0, *, wait: bool = True, timeout: float = 2.0) -> None:
        """Pull the card out of ``reader`` (nothing happens if it is empty).

        With ``wait``, return only once the reader driver has closed the card's
        connection, i.e. pcscd has seen the removal (at once with the
        simulator's driver, on vpcd at its next 400 ms presence poll); pcscd
        publishes the empty reader right afterwards.  Waiting
        avoids a quick re-insert that pcscd would take for the same card.

        Raises:
            ValueError: no such reader.
            TimeoutError: ``wait`` and the removal was not seen within ``timeout``.

        Cancellation: blocks for up to ``timeout`` seconds (on vpcd polling /proc, 10 ms).
        """
        self._check_reader(reader)
        with self._lock:
            card = self._cards.pop(reader, None)
        if card is None:
            return
        card.remove()
        if wait and self.running and not card.wait_removed(timeout):
            raise TimeoutError(f"pcscd did not see {card.name} removed within {timeout} s")

    # -- internals -----------------------------------------------------------------------

    def _check_reader(self, reader: int) -> None:
        if not 0 <= reader < self.readers:
            raise ValueError(f"reader must be in 0..{self.readers - 1}, got {reader}")

    def _insert_card(self, card: VirtualCard, reader: int, *, wait: bool, timeout: float) -> None:
        card.insert(self.card_address(reader), timeout=timeout)
        if wait and not self._await_power(card, reader, timeout):
            raise SimulatorError(f"pcscd did not power {card.name} within {timeout} s")

    def _await_power(self, card: VirtualCard, reader: int, timeout: float) -> bool:
        """Wait until pcscd has powered ``card``, re-seating it if pcscd gave up on it.

        pcscd sometimes fails to power a card that comes back right after a
        removal (it logs "Error powering up card") and then never tries again
        while the card stays; a person would pull the card and push it back in,
        and so does this.  False if not powered within ``timeout``.
        """
        deadline = time.monotonic() + timeout
        while not card.wait_powered(min(_RESEAT_AFTER, max(0.0, deadline - time.monotonic()))):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            logger.info("pcscd did not power %s; re-seating it", card.name)
            card.remove()
            card.wait_removed(min(1.0, remaining))
            card.insert(self.card_address(reader), timeout=max(0.1, deadline - time.monotonic()))
        return True

    def _write_owner(self, directory: str, pcscd_pid: int | None) -> None:
        # Lets a later simulator tell a directory of a dead run from a live one.
        pids = [os.getpid()] if pcscd_pid is None else [os.getpid(), pcscd_pid]
        with open(os.path.join(directory, _sandbox.OWNER_FILE), "w", encoding="ascii") as owner:
            owner.write(" ".join(map(str, pids)))

    def _card_path(self, reader: int) -> str:
        assert self._directory is not None
        return os.path.join(self._directory, f"card-{reader}.sock")

    def _close_service(self) -> None:
        service, self._service = self._service, None
        if service is not None:
            service.close()

    def _write_config(self, directory: str, driver: str) -> None:
        lines: list[str] = []
        if self.backend == "driver":
            # One library for every entry: the driver keeps each reader's state by Lun.
            for index in range(self.readers):
                lines += [
                    f'FRIENDLYNAME "{self.name}"',
                    # pcscd stats a DEVICENAME without a colon; the driver binds it.
                    f"DEVICENAME {self._card_path(index)}:{index}",
                    f"LIBPATH {driver}",
                    f"CHANNELID {index}",
                    "",
                ]
        else:
            assert self._reservation is not None
            for entry in range(self.entries):
                # Every entry gets its own file: one file shared by two entries shares
                # the driver's global slot table.
                library = os.path.join(directory, f"libifdvpcd-{entry}.so")
                shutil.copyfile(driver, library)
                port = self._reservation.ports[2 * entry]
                lines += [
                    f'FRIENDLYNAME "{self.name} {entry}"',
                    f"DEVICENAME /dev/null:{port}",
                    f"LIBPATH {library}",
                    f"CHANNELID {port}",
                    "",
                ]
        with open(os.path.join(directory, "reader.conf"), "w", encoding="utf-8") as conf:
            conf.write("\n".join(lines))

    def _command(self, pcscd: str) -> list[str]:
        assert self._directory is not None
        conf = os.path.join(self._directory, "reader.conf")
        daemon = [pcscd, "--foreground", "--info", "-c", conf]
        if self.log_apdus:
            daemon += ["--apdu", "--debug"]
        if self.auto_exit:
            daemon.append("--auto-exit")
        prefix = _sandbox.namespace_prefix()
        steps = ["set -e"]
        if prefix is not None:
            drivers = None if self.hotplug else self._usb_drivers()
            steps += _sandbox.mount_commands(self._directory, drivers)
        # $$ is this shell's PID, which exec hands on to pcscd: sd_listen_fds wants it.
        steps.append('LISTEN_PID=$$ LISTEN_FDS=1 exec "$0" "$@"')
        return [*(prefix or []), "sh", "-c", "\n".join(steps), *daemon]

    def _usb_drivers(self) -> str | None:
        if self.backend == "vpcd":
            # USB drivers live in the vpcd driver's grandparent ("drivers/serial/..").
            driver = _find_driver(self._driver)
            parent = os.path.dirname(os.path.dirname(os.path.realpath(driver)))
            return parent if parent.endswith("/drivers") else None
        return next((path for path in _USB_DRIVER_DIRS if os.path.isdir(path)), None)

    def _spawn(self, pcscd: str, timeout: float) -> None:
        assert self._directory is not None
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.socket_path)
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            listener.bind(self.socket_path)
            listener.listen(64)
            environment = {
                key: value for key, value in os.environ.items() if key not in _SYSTEMD_VARIABLES
            }
            on_main_thread = threading.current_thread() is threading.main_thread()
            self._ready.clear()
            self._output_tail.clear()
            command = self._command(pcscd)
            # Without a namespace pcscd writes the system's pid file: record it first.
            guard = _sandbox.PidFileGuard() if _sandbox.namespace_prefix() is None else None
            started = time.monotonic()
            process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                env=environment,
                pass_fds=(_sandbox.SD_LISTEN_FDS_START,),
                # PR_SET_PDEATHSIG fires when the *thread* that forked exits, so
                # it is armed only when that thread is the main one.
                preexec_fn=_sandbox.child_setup(listener.fileno(), os.getpid(), on_main_thread),
            )
        finally:
            # pcscd holds its own copy; without ours, a dead pcscd refuses
            # connections instead of leaving clients hanging in the backlog.
            listener.close()
        self._process = process
        self._pid_guard = guard
        self._write_owner(self._directory, process.pid)
        assert process.stdout is not None
        self._output_thread = threading.Thread(
            target=self._pump_output,
            args=(process.stdout,),
            name=f"aioscard-pcscd-{process.pid}",
            daemon=True,
        )
        self._output_thread.start()
        try:
            self._await_ready(process, started + timeout)
            if guard is not None:
                guard.after_start(process.pid, lambda: process.poll() is None)
        except BaseException:
            self._terminate(signal.SIGTERM)
            raise
        self.startup_seconds = time.monotonic() - started
        logger.debug(
            "pcscd %d ready in %.3f s at %s", process.pid, self.startup_seconds, self.socket_path
        )

    def _pump_output(self, stream: IO[bytes]) -> None:
        for raw in iter(stream.readline, b""):
            line = raw.decode("utf-8", "replace").rstrip()
            self._output_tail.append(line)
            pcscd_logger.debug("%s", line)
            if _READY_MARK in raw:
                self._ready.set()
        stream.close()
        # End of output means pcscd exited: wake a start() waiting for readiness.
        self._ready.set()

    def _await_ready(self, process: subprocess.Popen[bytes], deadline: float) -> None:
        if not self._ready.wait(max(0.0, deadline - time.monotonic())):
            raise SimulatorError(f"pcscd was not ready in time{self._tail()}")
        if process.poll() is not None:
            raise SimulatorError(f"pcscd exited with status {process.returncode}{self._tail()}")
        if self.backend == "driver":
            # Each reader's card socket is bound before pcscd reports ready; a missing
            # one means pcscd could not add that reader.
            bound = bound_unix_paths()
            missing_readers = [
                index for index in range(self.readers) if self._card_path(index) not in bound
            ]
            if missing_readers:
                raise SimulatorError(
                    f"pcscd did not start reader(s) {missing_readers}{self._tail()}"
                )
            return
        # The driver listens before pcscd reports ready; this check catches a port
        # another program took after we reserved it.  No event exists for it.
        missing = self._missing_ports(process.pid)
        while missing:
            if time.monotonic() >= deadline or process.poll() is not None:
                raise SimulatorError(
                    f"vpcd is not listening on port(s) {missing} (in use?){self._tail()}"
                )
            time.sleep(0.01)
            missing = self._missing_ports(process.pid)

    def _missing_ports(self, pid: int) -> list[int]:
        assert self._reservation is not None
        ours = socket_inodes(pid)
        listeners = listening()
        return [port for port in self._reservation.ports if listeners.get(port) not in ours]

    def _tail(self) -> str:
        if not self._output_tail:
            return ""
        return "; pcscd said:\n" + "\n".join(self._output_tail)

    def _terminate(self, sig: signal.Signals) -> None:
        process, self._process = self._process, None
        if process is not None:
            if process.poll() is None:
                process.send_signal(sig)
                try:
                    process.wait(_STOP_GRACE)
                except subprocess.TimeoutExpired:
                    logger.warning("pcscd %d ignored %s; killing it", process.pid, sig.name)
                    process.kill()
                    process.wait()
            logger.debug("pcscd %d exited with status %s", process.pid, process.returncode)
            guard, self._pid_guard = self._pid_guard, None
            if guard is not None:
                guard.after_exit(process.pid)
        thread, self._output_thread = self._output_thread, None
        if thread is not None:
            thread.join()
