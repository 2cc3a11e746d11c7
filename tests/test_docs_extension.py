"""The documentation build's own checks (docs/_ext/aioscard_sphinx.py) catch what they are for.

The site itself is built by ``scripts/docs.sh`` in the test command; these tests
show that its checks can fail: a public name without a docstring, a coroutine
that does not say what cancelling it does, a broken internal link, a command-line
option left out of the CLI reference.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from types import ModuleType

pytest.importorskip("sphinx", reason="the docs extra (pip install '.[docs]') is not installed")

DOCS = Path(__file__).resolve().parent.parent / "docs"


@pytest.fixture(scope="module")
def ext() -> ModuleType:
    sys.path.insert(0, str(DOCS / "_ext"))
    try:
        return importlib.import_module("aioscard_sphinx")
    finally:
        sys.path.remove(str(DOCS / "_ext"))


def test_every_public_name_has_a_home_in_a_public_module(ext: ModuleType) -> None:
    by_module, entries = ext.collect()
    homes = {name: entry.fullname for entry in entries for name in _names(entry)}
    # Documented where it is defined, reachable under every name it is exported as.
    assert homes["aioscard.CardConnection"] == "aioscard.connection.CardConnection"
    assert homes["aioscard.connection.CardConnection"] == "aioscard.connection.CardConnection"
    # Defined in a private module: documented under its public package.
    assert homes["aioscard.monitor.CardInserted"] == "aioscard.monitor.CardInserted"
    assert "aioscard.compat" in by_module
    assert not any(module.startswith("aioscard.compat.") for module in by_module)
    assert not any("._" in module for module in by_module)


def _names(entry: object) -> list[str]:
    return [f"{module}.{name}" for module, name in entry.names]  # type: ignore[attr-defined]


def test_missing_docstrings_are_reported(ext: ModuleType) -> None:
    class Undocumented:
        def method(self) -> None:
            pass

        def _private(self) -> None:
            pass

    entry = ext.Entry(Undocumented)
    entry.home = ("somewhere", "Undocumented")
    assert list(ext._missing_docstrings(entry)) == [
        "somewhere.Undocumented",
        "somewhere.Undocumented.method",
    ]


def test_a_coroutine_must_say_what_cancelling_it_does(ext: ModuleType) -> None:
    class Waits:
        """Waits for things."""

        async def silent(self) -> None:
            """Waits."""

        async def explained(self) -> None:
            """Waits.

            Cancellation: returns at once.
            """

        def blocking(self) -> None:
            """Does not wait in a loop."""

    entry = ext.Entry(Waits)
    entry.home = ("somewhere", "Waits")
    assert list(ext.missing_cancellation(entry)) == ["somewhere.Waits.silent"]


def test_the_current_public_surface_passes_the_checks(ext: ModuleType) -> None:
    _, entries = ext.collect()
    assert len(entries) > 100
    problems = [
        where
        for entry in entries
        for where in [*ext._missing_docstrings(entry), *ext.missing_cancellation(entry)]
    ]
    assert problems == []


def test_broken_internal_links_are_found(ext: ModuleType, tmp_path: Path) -> None:
    (tmp_path / "guide").mkdir()
    (tmp_path / "index.html").write_text(
        '<h1 id="top">x</h1><a href="guide/page.html#here">ok</a>'
        '<a href="guide/page.html#nowhere">bad anchor</a><a href="missing.html">bad page</a>'
        '<a href="https://example.org/">external</a><a href="#top">self</a>'
    )
    (tmp_path / "guide" / "page.html").write_text('<p id="here"></p><a href="../index.html">up</a>')
    count, problems = ext.broken_links(tmp_path)
    assert count == 2
    assert problems == [
        "index.html: link guide/page.html#nowhere: no anchor #nowhere",
        "index.html: broken internal link missing.html",
    ]


def test_the_cli_reference_has_every_option_of_every_command(ext: ModuleType) -> None:
    parser = ext._build_parser()
    commands = ext._subparsers(parser)
    assert {"readers", "send", "sim", "watch"} <= {name for name, _, _ in commands}
    for name, _, sub in commands:
        documented = " ".join(row for row, _ in ext._option_rows(sub))
        for action in sub._actions:
            if action.help == argparse.SUPPRESS:
                continue
            for option in action.option_strings or [str(action.metavar or action.dest)]:
                assert option in documented, f"aioscard {name}: {option}"


def test_the_exception_table_nests_subclasses_under_their_base(ext: ModuleType) -> None:
    from aioscard.exceptions import (
        CardConnectionException,
        CardRemovedException,
        SmartcardException,
    )

    tree = ext._tree([CardRemovedException, SmartcardException, CardConnectionException])
    assert tree == [
        (SmartcardException, 0),
        (CardConnectionException, 1),
        (CardRemovedException, 2),
    ]
