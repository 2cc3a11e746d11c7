"""Test bench for PC/SC code: a private pcscd with virtual readers and virtual cards.

:class:`Simulator` runs a private, socket-activated pcscd with virtual
readers (the simulator's own reader driver where it builds, else vsmartcard's
vpcd), each a :class:`SimulatedReader` with control codes, attributes and an
optional :class:`Pinpad`; :class:`VirtualCard` is a card that plugs into one of its readers
and answers APDUs with a handler, by default the :class:`DemoCard`.  The pytest
plugin (:mod:`aioscard.testing.plugin`) offers them as fixtures, and
``python -m aioscard.testing`` runs a simulator from the command line.

Needs Linux with pcscd, and a C compiler with pcsc-lite's headers for the
simulator's driver (Debian/Ubuntu: ``apt-get install pcscd gcc libc6-dev
libpcsclite-dev``) or vsmartcard-vpcd.  Importing this package starts
nothing and loads its modules only when a name is first used, so the pytest
plugin costs next to nothing in test runs that do not use it.
"""

from __future__ import annotations

import ast
import importlib
import logging
from typing import TYPE_CHECKING, Any

# A library's warnings (no mount namespace, no reader driver) go to the application's
# logging configuration, never straight to stderr through logging's last resort.
logging.getLogger(__name__).addHandler(logging.NullHandler())

# The one list of this package's names: typed re-exports, read (not run) at import time
# to learn which module holds each name; the modules load on first use (PEP 562).
if TYPE_CHECKING:
    from ._apdu import CommandAPDU as CommandAPDU
    from ._atr import ATR_T0 as ATR_T0
    from ._atr import ATR_T0_T1 as ATR_T0_T1
    from ._atr import ATR_T1 as ATR_T1
    from ._atr import DEMO_ATR as DEMO_ATR
    from ._atr import MASKABLE_ATR as MASKABLE_ATR
    from ._card import MAX_FRAME as MAX_FRAME
    from ._card import CardHandler as CardHandler
    from ._card import PowerEvent as PowerEvent
    from ._card import ResettableHandler as ResettableHandler
    from ._card import VirtualCard as VirtualCard
    from ._contactless import MIFARE_1K_ATR as MIFARE_1K_ATR
    from ._contactless import MIFARE_1K_BLOCKS as MIFARE_1K_BLOCKS
    from ._contactless import MIFARE_DEFAULT_KEY as MIFARE_DEFAULT_KEY
    from ._contactless import MIFARE_DEFAULT_UID as MIFARE_DEFAULT_UID
    from ._contactless import MifareClassicCard as MifareClassicCard
    from ._demo import DEFAULT_PIN as DEFAULT_PIN
    from ._demo import DEFAULT_PUK as DEFAULT_PUK
    from ._demo import DEMO_AID as DEMO_AID
    from ._demo import DEMO_CPLC as DEMO_CPLC
    from ._demo import DEMO_FILES as DEMO_FILES
    from ._demo import DROP_APDU as DROP_APDU
    from ._demo import FID_DEMO_EF as FID_DEMO_EF
    from ._demo import FID_EF_DIR as FID_EF_DIR
    from ._demo import FID_MF as FID_MF
    from ._demo import GET_CPLC_APDU as GET_CPLC_APDU
    from ._demo import MAX_ECHO_OVER_VPCD as MAX_ECHO_OVER_VPCD
    from ._demo import PIN_TRIES as PIN_TRIES
    from ._demo import SELECT_DEMO_APDU as SELECT_DEMO_APDU
    from ._demo import DemoCard as DemoCard
    from ._demo import change_pin_apdu as change_pin_apdu
    from ._demo import delay_apdu as delay_apdu
    from ._demo import echo_apdu as echo_apdu
    from ._demo import exact_length_apdu as exact_length_apdu
    from ._demo import get_challenge_apdu as get_challenge_apdu
    from ._demo import get_response_apdu as get_response_apdu
    from ._demo import long_response_apdu as long_response_apdu
    from ._demo import long_response_data as long_response_data
    from ._demo import read_binary_apdu as read_binary_apdu
    from ._demo import reset_retry_counter_apdu as reset_retry_counter_apdu
    from ._demo import select_aid_apdu as select_aid_apdu
    from ._demo import select_file_apdu as select_file_apdu
    from ._demo import verify_apdu as verify_apdu
    from ._demo_fs import CAPABILITIES_ATR as CAPABILITIES_ATR
    from ._demo_fs import FID_EF_ATR as FID_EF_ATR
    from ._demo_fs import FID_FILES_DF as FID_FILES_DF
    from ._demo_fs import FID_LARGE_EF as FID_LARGE_EF
    from ._demo_fs import FID_RECORD_EF as FID_RECORD_EF
    from ._demo_fs import FID_SPARE_DF as FID_SPARE_DF
    from ._demo_fs import FID_TRANSPARENT_EF as FID_TRANSPARENT_EF
    from ._demo_fs import FID_VARIABLE_EF as FID_VARIABLE_EF
    from ._demo_fs import FILES_AID as FILES_AID
    from ._demo_fs import FILES_LARGE as FILES_LARGE
    from ._demo_fs import FILES_RECORDS as FILES_RECORDS
    from ._demo_fs import FILES_TRANSPARENT as FILES_TRANSPARENT
    from ._demo_fs import FILES_VARIABLE_RECORDS as FILES_VARIABLE_RECORDS
    from ._demo_fs import SPARE_AID as SPARE_AID
    from ._errors import DropConnection as DropConnection
    from ._errors import SimulatorError as SimulatorError
    from ._pinpad import Pinpad as Pinpad
    from ._readers import ControlHandler as ControlHandler
    from ._readers import SimulatedReader as SimulatedReader
    from ._readers import UnsupportedControl as UnsupportedControl
    from ._replay import ReplayCard as ReplayCard
    from ._replay import ReplayIncompleteError as ReplayIncompleteError
    from ._replay import ReplayMismatchError as ReplayMismatchError
    from ._simulator import DEFAULT_READER_NAME as DEFAULT_READER_NAME
    from ._simulator import DRIVER_READER_NAME as DRIVER_READER_NAME
    from ._simulator import Simulator as Simulator


def _exports() -> dict[str, str]:
    """name -> module, from the ``if TYPE_CHECKING:`` imports above."""
    with open(__file__, encoding="utf-8") as source:
        tree = ast.parse(source.read(), __file__)
    exports: dict[str, str] = {}
    for statement in tree.body:
        if isinstance(statement, ast.If) and ast.unparse(statement.test) == "TYPE_CHECKING":
            for node in statement.body:
                if isinstance(node, ast.ImportFrom):
                    module = "." * node.level + (node.module or "")
                    exports.update((alias.name, module) for alias in node.names)
    return exports


_EXPORTS = _exports()
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
