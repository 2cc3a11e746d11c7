"""pyscard's ``smartcard.CardConnectionDecorator``: wrap a connection to add behaviour."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aioscard.connection import ConnectionConstants

if TYPE_CHECKING:
    from types import TracebackType

    from aioscard.util import ByteInput

__all__ = ["CardConnectionDecorator"]


class CardConnectionDecorator(ConnectionConstants):
    """Forwards every connection method to ``component`` (a connection or another
    decorator); subclasses override the methods they change.

    ``with decorator:`` disconnects and releases on exit, as in pyscard, and
    connects on first use if nothing in the block called ``connect()``.
    Beyond pyscard, the protocol constants are here too (``connection.T1_protocol``
    works on what ``createConnection()`` returns) and other public attributes
    (``hcard``, ``reader``, ``countObservers`` ...) are read from the component.
    """

    def __init__(self, cardConnectionComponent: Any) -> None:
        self.component = cardConnectionComponent

    def __getattr__(self, name: str) -> Any:
        # Only reached for names the decorator lacks; never for private ones, so
        # a half-built decorator (copy, pickle) cannot recurse.
        if name.startswith("_") or name == "component":
            raise AttributeError(name)
        return getattr(self.component, name)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} of {self.component!r}>"

    def _arm_autoconnect(self) -> None:
        arm = getattr(self.component, "_arm_autoconnect", None)
        if arm is not None:
            arm()

    def addSWExceptionToFilter(self, exClass: type[Exception]) -> None:
        """Forwarded to the component."""
        self.component.addSWExceptionToFilter(exClass)

    def addObserver(self, observer: Any) -> None:
        """Forwarded to the component."""
        self.component.addObserver(observer)

    def deleteObserver(self, observer: Any) -> None:
        """Forwarded to the component."""
        self.component.deleteObserver(observer)

    def connect(
        self, protocol: int | None = None, mode: int | None = None, disposition: int | None = None
    ) -> None:
        """Forwarded to the component."""
        self.component.connect(protocol, mode, disposition)

    def reconnect(
        self, protocol: int | None = None, mode: int | None = None, disposition: int | None = None
    ) -> None:
        """Forwarded to the component."""
        self.component.reconnect(protocol, mode, disposition)

    def disconnect(self) -> None:
        """Forwarded to the component."""
        self.component.disconnect()

    def release(self) -> None:
        """Forwarded to the component."""
        self.component.release()

    def getATR(self) -> list[int]:
        """Forwarded to the component."""
        result: list[int] = self.component.getATR()
        return result

    def getProtocol(self) -> int:
        """Forwarded to the component."""
        result: int = self.component.getProtocol()
        return result

    def getReader(self) -> str:
        """Forwarded to the component."""
        result: str = self.component.getReader()
        return result

    def setErrorCheckingChain(self, errorcheckingchain: list[Any] | None) -> None:
        """Forwarded to the component."""
        self.component.setErrorCheckingChain(errorcheckingchain)

    def setProtocol(self, protocol: int) -> None:
        """Forwarded to the component."""
        self.component.setProtocol(protocol)

    def transmit(self, command: ByteInput, protocol: int | None = None) -> Any:
        """Forwarded to the component."""
        return self.component.transmit(command, protocol)

    def control(self, controlCode: int, command: ByteInput | None = None) -> list[int]:
        """Forwarded to the component."""
        result: list[int] = self.component.control(controlCode, command)
        return result

    def getAttrib(self, attribId: int) -> list[int]:
        """Forwarded to the component."""
        result: list[int] = self.component.getAttrib(attribId)
        return result

    def __enter__(self) -> CardConnectionDecorator:
        self._arm_autoconnect()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.disconnect()
        self.release()
