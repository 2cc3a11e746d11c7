"""Blocking calls on a connection: internal API for aioscard.compat and run_sync.

This is the one seam through which code that blocks a thread -- the pyscard
shim in :mod:`aioscard.compat`, and the functions that
:meth:`CardConnection.run_sync <aioscard.CardConnection.run_sync>` runs on a
connection's worker -- uses a :class:`~aioscard.CardConnection`.  It is typed
and named so that neither of them reaches into the connection's private plans,
handles or context.  The class :class:`BlockingConnection` is public as
``aioscard.BlockingConnection`` (it is what ``run_sync`` hands to its function,
so users annotate with it); everything else here, including how a view is made
(:meth:`BlockingConnection.for_reader`, :func:`run_dialogue`), is internal and
may change with any release.

:class:`BlockingConnection` is a synchronous view of one ``CardConnection``.
Every method runs the very plan the coroutine of the same name runs (argument
checks, observers, the error-checking chain, transport options, PIN redaction
in traces), so there is one implementation of each operation, not two.  The
view comes in two kinds:

* the shim's (:meth:`BlockingConnection.for_reader`): each call blocks the
  calling thread; on the shim's *inline* connection the PC/SC call runs on that
  thread, as in pyscard, holding the connection's lock;
* a dialogue's (made by ``run_sync`` on the worker): each call runs directly on
  the worker thread inside the one job that runs the whole dialogue (the job
  already holds the lock).  It refuses to be used from another thread or after
  the dialogue has ended, and once the awaiting task is cancelled its next
  PC/SC call raises :class:`~aioscard.exceptions.DialogueCancelled`.

Observers are called where the view runs: in the calling thread for the shim,
on the worker thread inside a dialogue.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, TypeVar

from . import exceptions as exc
from ._context import with_context_sync
from .native import CardStatus
from .native import constants as C

if TYPE_CHECKING:
    from .apdu import Response
    from .connection import CardConnection, _Plan
    from .native import PCSCAPI
    from .util import ByteInput

__all__ = ["BlockingConnection", "Dialogue", "run_dialogue", "with_context"]

T = TypeVar("T")


def with_context(fn: Callable[[PCSCAPI, int], T]) -> T:
    """Run ``fn(api, context)`` on a pooled worker with a fresh PC/SC context
    (SCardEstablishContext ... SCardReleaseContext), blocking until it is done."""
    return with_context_sync(fn)


class BlockingConnection:
    """A synchronous view of a :class:`~aioscard.connection.CardConnection`: what
    :meth:`~aioscard.connection.CardConnection.run_sync` passes to its function.

    Each method does what the coroutine of the same name does -- argument checks,
    observers, the error-checking chain, transport options, PIN redaction in
    traces -- with pyscard's names and results, but blocks the calling thread.
    Inside a ``run_sync`` function the view works only on the worker thread that
    runs the function, and only until the function returns (RuntimeError
    otherwise); once the awaiting task is cancelled, its next card operation
    raises :class:`~aioscard.exceptions.DialogueCancelled`.  ``release()`` is
    refused there: the dialogue is using the connection's context.
    """

    __slots__ = ("_core",)

    def __init__(self, connection: CardConnection) -> None:
        self._core = connection

    @classmethod
    def for_reader(cls, reader: str) -> BlockingConnection:
        """A new, unconnected connection to ``reader`` whose blocking calls run on
        the calling thread (no thread hand-off per APDU), for the synchronous shim."""
        from .connection import CardConnection

        return cls(CardConnection(reader, _inline=True))

    def __repr__(self) -> str:
        return f"<{type(self).__name__} of {self._core!r}>"

    # -- how a plan runs: overridden by the dialogue's view ------------------------------

    def _enter(self) -> None:
        """Called before every operation that may talk to the card."""

    def _execute(self, plan: _Plan[Any, T]) -> T:
        return plan.finish(self._core._context.call(plan.job, *plan.args))

    # -- state (no I/O) ----------------------------------------------------------------

    @property
    def connection(self) -> CardConnection:
        """The async connection this view drives."""
        return self._core

    @property
    def connected(self) -> bool:
        """Whether a card handle is held."""
        return self._core._handle is not None

    @property
    def handle(self) -> int | None:
        """The raw SCARDHANDLE while connected."""
        return self._core._handle

    @property
    def context_handle(self) -> int | None:
        """The raw SCARDCONTEXT the connection uses, if established."""
        return self._core._context.handle

    def getReader(self) -> str:
        """The reader's name."""
        return self._core.reader

    def getATR(self) -> list[int]:
        """The ATR as read at the last connect, reconnect or status (no PC/SC call).

        Raises:
            CardConnectionException: never connected.
        """
        return self._core.getATR()

    def getProtocol(self) -> int:
        """The active protocol in pyscard's bits; 0 if not connected."""
        return self._core.getProtocol()

    # -- operations --------------------------------------------------------------------

    def connect(
        self,
        protocol: int | None = None,
        mode: int | None = None,
        disposition: int | None = None,
        *,
        leave_previous: bool = False,
    ) -> None:
        """Connect to the card (SCardConnect), as :meth:`CardConnection.connect`.

        ``leave_previous``: when already connected, first disconnect with
        ``LEAVE_CARD`` (after the arguments were checked), as pyscard does;
        otherwise connecting twice raises CardConnectionException.
        """
        self._enter()
        core = self._core
        plan = core._plan_connect(protocol, mode, disposition)
        if leave_previous and core.connected:
            wanted = core.disposition
            core.disposition = C.SCARD_LEAVE_CARD
            try:
                self._execute(core._plan_disconnect())
            finally:
                core.disposition = wanted
        self._execute(plan)

    def reconnect(
        self, protocol: int | None = None, mode: int | None = None, disposition: int | None = None
    ) -> None:
        """Re-establish the connection (SCardReconnect), as :meth:`CardConnection.reconnect`."""
        self._enter()
        self._execute(self._core._plan_reconnect(protocol, mode, disposition))

    def disconnect(self) -> None:
        """Disconnect from the card (SCardDisconnect), keeping the PC/SC context.
        Always runs, even in a cancelled dialogue."""
        self._execute(self._core._plan_disconnect())

    def release(self) -> None:
        """Disconnect if connected and release the PC/SC context and worker thread
        (not inside a dialogue: the dialogue's job is using them)."""
        self._core.release_sync()

    def transmit(self, command: ByteInput, protocol: int | None = None) -> Response:
        """Send a command APDU and return ``(data, sw1, sw2)`` (SCardTransmit), as
        :meth:`CardConnection.transmit`: transport options, observers and the
        error-checking chain included."""
        self._enter()
        return self._execute(self._core._plan_transmit(command, protocol))

    def transmit_bare(self, command: ByteInput, protocol: int | None = None) -> Response:
        """Send a command APDU (SCardTransmit, transport options included) without
        telling observers or running the error-checking chain: pyscard's
        ``doTransmit`` hook, for the shim."""
        self._enter()
        return self._execute(self._core._plan_transmit(command, protocol, bare=True))

    def control(self, controlCode: int, command: ByteInput | None = None) -> list[int]:
        """Send a reader control command (SCardControl); its answer as ``list[int]``."""
        self._enter()
        return self._execute(self._core._plan_control(controlCode, command))

    def getAttrib(self, attrId: int) -> list[int]:
        """Read a reader or card attribute (SCardGetAttrib)."""
        self._enter()
        return self._execute(self._core._plan_get_attrib(attrId))

    def setAttrib(self, attrId: int, attrValue: ByteInput) -> None:
        """Write a reader attribute (SCardSetAttrib)."""
        self._enter()
        self._execute(self._core._plan_set_attrib(attrId, attrValue))

    def status(self) -> CardStatus:
        """The reader name, state, protocol (pyscard bits) and ATR (SCardStatus)."""
        self._enter()
        return self._execute(self._core._plan_status())

    def begin_transaction(self) -> None:
        """SCardBeginTransaction: exclusive use of the card until :meth:`end_transaction`.

        Raises:
            CardConnectionException: a transaction is already open, or not connected.
        """
        self._enter()
        self._execute(self._core._plan_begin_transaction())

    def end_transaction(self, disposition: int = C.SCARD_LEAVE_CARD) -> None:
        """SCardEndTransaction, if a transaction is open.  Always runs, even in a
        cancelled dialogue."""
        self._execute(self._core._plan_end_transaction(disposition))

    @contextlib.contextmanager
    def transaction(self, disposition: int = C.SCARD_LEAVE_CARD) -> Iterator[BlockingConnection]:
        """``with view.transaction():`` -- begin, then end on leaving, whatever happens."""
        self.begin_transaction()
        try:
            yield self
        finally:
            self.end_transaction(disposition)


class Dialogue:
    """The shared state of one ``run_sync`` call: made by the awaiting task, read by
    the worker.  ``cancelled`` is set (from the loop thread) when the awaiting task
    is cancelled; ``thread`` and ``open`` are set on the worker."""

    __slots__ = ("cancelled", "open", "thread")

    def __init__(self) -> None:
        self.cancelled = False
        self.open = False
        self.thread: int | None = None


class _DialogueConnection(BlockingConnection):
    """The view handed to a ``run_sync`` function: runs plans on the worker directly."""

    __slots__ = ("_dialogue",)

    def __init__(self, connection: CardConnection, dialogue: Dialogue) -> None:
        super().__init__(connection)
        self._dialogue = dialogue

    def _check_thread(self) -> None:
        dialogue = self._dialogue
        if not dialogue.open or threading.get_ident() != dialogue.thread:
            raise RuntimeError(
                "this blocking connection belongs to a run_sync() function: use it only "
                "inside that function, on the thread that called it"
            )

    def _enter(self) -> None:
        self._check_thread()
        if self._dialogue.cancelled:
            raise exc.DialogueCancelled(
                f"the task awaiting run_sync() on {self._core.reader!r} was cancelled"
            )

    def _execute(self, plan: _Plan[Any, T]) -> T:
        self._check_thread()
        return plan.finish(plan.job(*plan.args))

    def release(self) -> None:
        raise RuntimeError(
            "release() inside a run_sync() function: the dialogue is using the "
            "connection's context; release it after run_sync() returns"
        )


def run_dialogue(
    connection: CardConnection, dialogue: Dialogue, fn: Callable[..., T], args: tuple[Any, ...]
) -> T:
    """Run ``fn(view, *args)`` (on the connection's worker, inside its job).

    A transaction that ``fn`` opened and left open is ended (``LEAVE_CARD``)
    before the job ends, so that the connection is usable afterwards whatever
    ``fn`` did.
    """
    view = _DialogueConnection(connection, dialogue)
    was_in_transaction = connection._in_transaction
    dialogue.thread = threading.get_ident()
    dialogue.open = True
    try:
        return fn(view, *args)
    finally:
        dialogue.open = False
        if connection._in_transaction and not was_in_transaction:
            with contextlib.suppress(exc.SmartcardException):
                connection._guard(connection._job_end, C.SCARD_LEAVE_CARD)
