"""Sphinx extension of aioscard's documentation site.

- Writes one API reference page per public module (``reference/api/*.md``,
  generated, not committed) and fails the build when a public name is missing
  from the reference or has no docstring.
- ``{aioscard-cli}``: the command line's reference, walked from its argparse parser.
- ``{aioscard-cli-summary}``: one line per command, from the same parser.
- ``{aioscard-exit-codes}``: the command's exit statuses, from their constants.
- ``{aioscard-exceptions}``: the exception hierarchy as a table, from the classes.
- Checks every internal link of the built HTML pages (files and anchors).

A public module is any module of the ``aioscard`` package whose dotted name has
no component starting with ``_``, except the submodules of ``aioscard.compat``
(pyscard's own modules, documented by pyscard; the shim's guide lists where it
differs).  Its
public names are its ``__all__``, or, without one, the names it defines that
do not start with ``_``.
"""

from __future__ import annotations

import argparse
import ast
import builtins
import enum
import functools
import html.parser
import importlib
import inspect
import pkgutil
import posixpath
import re
import sys
import types
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from docutils import nodes
from docutils.statemachine import StringList
from sphinx import addnodes
from sphinx.transforms import SphinxTransform
from sphinx.transforms.post_transforms import SphinxPostTransform
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective
from sphinx.util.inspect import signature as sphinx_signature
from sphinx.util.inspect import stringify_signature
from sphinx.util.nodes import make_refnode, nested_parse_with_titles

if TYPE_CHECKING:
    from collections.abc import Iterator

    from sphinx.application import Sphinx
    from sphinx.environment import BuildEnvironment

logger = logging.getLogger(__name__)

PACKAGE = "aioscard"
#: Public modules whose submodules are left out of the API reference, with the reason.
SUBMODULES_EXCLUDED = {
    "aioscard.compat": "pyscard's own modules and names; pyscard's documentation is their "
    "reference, and the shim's guide lists where it differs",
}
API_DIR = "reference/api"
#: Modules whose constants need no doc comment each, with the reason.
CONSTANTS_DOCUMENTED_ELSEWHERE = {
    "aioscard.native.constants": "the PC/SC specification's names, documented there",
}
#: What ``builder-inited`` found, for the checks and directives of the same build (kept
#: out of the pickled environment: it holds live objects).
_STATE: dict[str, Any] = {"homes": {}, "entries": []}


# -- what is public ------------------------------------------------------------------


def public_modules() -> list[str]:
    """Every public module of the package, parents before their children."""
    package = importlib.import_module(PACKAGE)
    names = [PACKAGE]
    for info in pkgutil.walk_packages(package.__path__, f"{PACKAGE}."):
        parts = info.name.split(".")
        if any(part.startswith("_") for part in parts[1:]):
            continue
        if any(info.name.startswith(ex + ".") for ex in SUBMODULES_EXCLUDED):
            continue
        names.append(info.name)
    return sorted(names)


def _defined_names(module: types.ModuleType) -> set[str]:
    """Top-level names a module's source binds itself (not by import)."""
    return _defined_names_cached(module.__name__)


@functools.cache
def _defined_names_cached(modname: str) -> set[str]:
    module = sys.modules[modname]
    try:
        source = inspect.getsource(module)
    except (OSError, TypeError):
        return set()
    names: set[str] = set()
    for node in ast.parse(source).body:
        if isinstance(node, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    return names


def public_names(module: types.ModuleType) -> list[str]:
    exported = getattr(module, "__all__", None)
    if exported is not None:
        return list(exported)
    return sorted(n for n in _defined_names(module) if not n.startswith("_"))


def _is_class(obj: object) -> bool:
    # Before Python 3.11 inspect.isclass() is true for a parametrised generic alias such
    # as Callable[[bytes], bytes] (bpo-45438): the public type aliases are data.
    return inspect.isclass(obj) and not isinstance(obj, types.GenericAlias)


def _is_code(obj: object) -> bool:
    return _is_class(obj) or inspect.isroutine(obj) or inspect.ismodule(obj)


class Entry:
    """A public object and every public name it has; documented once, at its home."""

    def __init__(self, obj: object) -> None:
        self.obj = obj
        self.names: list[tuple[str, str]] = []  # (module, name)
        self.home: tuple[str, str] | None = None

    @property
    def fullname(self) -> str:
        assert self.home is not None
        return f"{self.home[0]}.{self.home[1]}"

    @property
    def kind(self) -> str:
        obj = self.obj
        if inspect.ismodule(obj):
            return "module"
        if _is_class(obj):
            return "exception" if issubclass(obj, BaseException) else "class"
        if inspect.isroutine(obj):
            return "function"
        return "data"


def collect() -> tuple[dict[str, list[Entry]], list[Entry]]:
    """The public surface: per home module, the entries documented there."""
    entries: dict[object, Entry] = {}
    modules = public_modules()
    defined: dict[str, set[str]] = {}
    for modname in modules:
        module = importlib.import_module(modname)
        defined[modname] = _defined_names(module)
        for name in public_names(module):
            obj = getattr(module, name)
            key: object = id(obj) if _is_code(obj) else (id(obj), name)
            entry = entries.setdefault(key, Entry(obj))
            entry.names.append((modname, name))
    for entry in entries.values():
        entry.home = _home(entry, defined, modules)
    by_module: dict[str, list[Entry]] = {m: [] for m in modules}
    for entry in entries.values():
        assert entry.home is not None
        by_module[entry.home[0]].append(entry)
    return by_module, list(entries.values())


def _home(entry: Entry, defined: dict[str, set[str]], modules: list[str]) -> tuple[str, str]:
    obj = entry.obj
    if inspect.ismodule(obj) and obj.__name__ in modules:
        parent, _, name = obj.__name__.rpartition(".")
        return parent, name
    origin = getattr(obj, "__module__", None) if _is_code(obj) else None
    if isinstance(origin, str):
        # The deepest public module that exports it and contains where it is defined.
        candidates = [(m, n) for m, n in entry.names if origin == m or origin.startswith(m + ".")]
        if candidates:
            return max(candidates, key=lambda mn: mn[0].count("."))
    for modname, name in entry.names:
        if name in defined[modname]:
            return modname, name
    return min(entry.names, key=lambda mn: (mn[0].count("."), mn[0]))


# -- generated reference pages --------------------------------------------------------


def _directive_for(entry: Entry) -> list[str]:
    full = entry.fullname
    kind = entry.kind
    if kind in ("class", "exception"):
        lines = [f".. auto{kind}:: {full}", "   :members:", "   :undoc-members:"]
        if isinstance(entry.obj, type) and issubclass(entry.obj, enum.Enum):
            lines.append("   :member-order: bysource")
        return lines
    if kind == "function":
        return [f".. autofunction:: {full}"]
    return [f".. autodata:: {full}"]


def render_module_page(modname: str, entries: list[Entry], homes: dict[str, str]) -> str:
    module = importlib.import_module(modname)
    out = [f"# `{modname}`", "", "```{eval-rst}", f".. automodule:: {modname}", ""]
    order = {"module": 0, "class": 1, "exception": 2, "function": 3, "data": 4}
    own = sorted(entries, key=lambda e: (order[e.kind], e.fullname))
    own = [e for e in own if e.kind != "module"]
    for entry in own:
        out += _directive_for(entry)
        out.append("")
    out.append("```")
    elsewhere = []
    for name in public_names(module):
        target = homes[f"{modname}.{name}"]
        if target != f"{modname}.{name}":
            elsewhere.append((name, target))
    if elsewhere:
        out += ["", "## Also exported here", "", "| name | documented as |", "|---|---|"]
        for name, target in elsewhere:
            role = "py:mod" if target in homes.values() and _is_module(target) else "py:obj"
            out.append(f"| `{modname}.{name}` | {{{role}}}`{target}` |")
    out.append("")
    return "\n".join(out)


def _is_module(name: str) -> bool:
    try:
        importlib.import_module(name)
    except ImportError:
        return False
    return True


def write_api_pages(app: Sphinx) -> None:
    by_module, entries = collect()
    homes: dict[str, str] = {}
    for entry in entries:
        target = entry.fullname
        if entry.kind == "module":
            target = getattr(entry.obj, "__name__", target)
        for modname, name in entry.names:
            homes[f"{modname}.{name}"] = target
    _STATE["homes"] = homes
    _STATE["entries"] = entries
    directory = Path(app.srcdir) / API_DIR
    directory.mkdir(parents=True, exist_ok=True)
    wanted = set()
    for modname, own in by_module.items():
        path = directory / f"{modname}.md"
        wanted.add(path.name)
        text = render_module_page(modname, own, homes)
        if not path.exists() or path.read_text() != text:
            path.write_text(text)
    for stale in directory.glob("*.md"):
        if stale.name not in wanted and stale.name != "index.md":
            stale.unlink()


# -- checks: completeness and docstrings ------------------------------------------------


def register_aliases(app: Sphinx, env: BuildEnvironment) -> None:
    """Make every public name of a documented object a cross-reference target."""
    domain = env.domains["py"]
    objects = domain.objects
    homes: dict[str, str] = _STATE["homes"]
    members: dict[str, list[str]] = {}
    for fullname in list(objects):
        owner = fullname.rpartition(".")[0]
        members.setdefault(owner, []).append(fullname)
    for name, target in homes.items():
        if name == target or target not in objects:
            continue
        if name not in objects:
            objects[name] = objects[target]._replace(aliased=True)
        # The members too: aioscard.CardConnection.transmit, as the class is exported.
        for member in members.get(target, []):
            alias = name + member[len(target) :]
            if alias not in objects:
                objects[alias] = objects[member]._replace(aliased=True)


def check_reference(app: Sphinx, env: BuildEnvironment) -> None:
    domain = env.domains["py"]
    objects = domain.objects
    modules = domain.modules
    homes: dict[str, str] = _STATE["homes"]
    for name, target in sorted(homes.items()):
        documented = target in modules or (target in objects and not objects[target].aliased)
        if not documented:
            logger.warning(
                "public name %s (documented as %s) is missing from the API reference",
                name,
                target,
                type="aioscard",
                subtype="reference",
            )
    for entry in _STATE["entries"]:
        for where in _missing_docstrings(entry):
            logger.warning(
                "public name %s has no docstring: say what it does, what it raises and, "
                "if it waits, what cancelling it does",
                where,
                type="aioscard",
                subtype="docstring",
            )
        for where in missing_cancellation(entry):
            logger.warning(
                "public name %s waits, but its docstring does not say what cancelling it "
                "does (a 'Cancellation:' paragraph)",
                where,
                type="aioscard",
                subtype="cancellation",
            )


def _waits(function: object) -> bool:
    """Whether calling ``function`` is awaited: a coroutine, an async generator or
    an async context manager made from one."""
    while function is not None:
        if inspect.iscoroutinefunction(function) or inspect.isasyncgenfunction(function):
            return True
        function = getattr(function, "__wrapped__", None)
    return False


def missing_cancellation(entry: Entry) -> Iterator[str]:
    """The public names of ``entry`` that wait and do not say what cancelling them does."""
    obj = entry.obj
    functions: list[tuple[str, object]] = []
    if _is_class(obj):
        for name, member in vars(obj).items():
            if not name.startswith("_"):
                functions.append((f"{entry.fullname}.{name}", member))
    elif inspect.isroutine(obj):
        functions.append((entry.fullname, obj))
    for where, function in functions:
        if isinstance(function, staticmethod | classmethod):
            function = function.__func__
        if _waits(function) and "ancel" not in (inspect.getdoc(function) or ""):
            yield where


def _missing_docstrings(entry: Entry) -> Iterator[str]:
    obj = entry.obj
    if entry.kind == "data":
        assert entry.home is not None
        if entry.home[0] in CONSTANTS_DOCUMENTED_ELSEWHERE or isinstance(obj, enum.Enum):
            return  # an enum member is documented by its enum
        if not data_comment(entry.fullname):
            yield entry.fullname
        return
    if not inspect.getdoc(obj):
        yield entry.fullname
    if not _is_class(obj):
        return
    for name, member in vars(obj).items():
        if name.startswith("_"):
            continue
        if isinstance(member, staticmethod | classmethod):
            member = member.__func__
        if isinstance(member, property):
            member = member.fget
        if inspect.isfunction(member) and not inspect.getdoc(member):
            yield f"{entry.fullname}.{name}"


# -- the command line, walked from its parser -----------------------------------------


def _build_parser() -> argparse.ArgumentParser:
    from aioscard._cli._main import build_parser

    return build_parser()


def _option_rows(parser: argparse.ArgumentParser) -> list[tuple[str, str]]:
    rows = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            continue
        if action.help == argparse.SUPPRESS:
            continue
        if action.option_strings:
            metavar = ""
            if action.nargs != 0:
                metavar = " " + (action.metavar or action.dest.upper())  # type: ignore[operator]
            names = ", ".join(f"{opt}{metavar}" for opt in action.option_strings)
        else:
            names = str(action.metavar or action.dest)
            if action.nargs in ("*", "+"):
                names += " ..."
        help_text = (action.help or "") % {
            "default": action.default,
            "prog": parser.prog,
        }
        if action.choices and not isinstance(action.choices, dict):
            help_text += f" (one of: {', '.join(map(str, action.choices))})"
        rows.append((names, help_text))
    return rows


def _subparsers(parser: argparse.ArgumentParser) -> list[tuple[str, str, argparse.ArgumentParser]]:
    found = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {c.dest: c.help or "" for c in action._choices_actions}
            seen: set[int] = set()
            for name, sub in action.choices.items():
                if id(sub) in seen:
                    continue  # an alias
                seen.add(id(sub))
                found.append((name, helps.get(name, ""), sub))
    return found


def _cell(text: str) -> str:
    """Text for a Markdown table cell: one line, pipes escaped."""
    return " ".join(text.split()).replace("|", "\\|")


def _myst_roles(text: str) -> str:
    """A docstring's reST roles (``:class:`X```) in MyST's form (``{class}`X```)."""
    return re.sub(r":((?:py:)?\w+):`", r"{\1}`", text)


def _parse_markdown(directive: SphinxDirective, lines: list[str]) -> list[nodes.Node]:
    """Parse generated MyST Markdown in the directive's place.

    Headings join the page's own sections (MyST puts them there)."""
    container = nodes.section()
    nested_parse_with_titles(directive.state, StringList(lines, "<aioscard>"), container)
    return list(container.children)


class CLIDirective(SphinxDirective):
    """The ``aioscard`` command's reference: usage, description, options, per command."""

    has_content = False

    def run(self) -> list[nodes.Node]:
        parser = _build_parser()
        lines: list[str] = []
        lines += self._parser_section(parser, "aioscard", top=True)
        for name, help_text, sub in _subparsers(parser):
            lines += self._parser_section(sub, f"aioscard {name}", summary=help_text)
        return [*_parse_markdown(self, lines), _cli_marker()]

    def _parser_section(
        self,
        parser: argparse.ArgumentParser,
        title: str,
        *,
        top: bool = False,
        summary: str = "",
    ) -> list[str]:
        lines = [f"### `{title}`", ""]
        if summary:
            lines += [_cell(summary[0].upper() + summary[1:]) + ".", ""]
        lines += ["```text", *parser.format_usage().strip().splitlines(), "```", ""]
        if parser.description:
            lines += ["```text", *parser.description.strip().splitlines(), "```", ""]
        rows = _option_rows(parser)
        if rows:
            lines += ["| argument | meaning |", "|---|---|"]
            lines += [f"| `{_cell(left)}` | {_cell(right) or '-'} |" for left, right in rows]
            lines.append("")
        epilog = (parser.epilog or "").strip()
        if top:
            epilog = epilog.split("\n\n")[0]  # the examples; exit statuses have a table
        if epilog:
            lines += ["```text", *epilog.splitlines(), "```", ""]
        return lines


class CLISummaryDirective(SphinxDirective):
    """One line per ``aioscard`` command: its usage and what it does, from the parser."""

    has_content = False

    def run(self) -> list[nodes.Node]:
        lines = ["| command | what it does |", "|---|---|"]
        for name, help_text, sub in _subparsers(_build_parser()):
            usage = " ".join(sub.format_usage().split()[1:]).replace(" [-h]", "")
            lines.append(f"| {{ref}}`{_cell(usage)} <cli-{name}>` | {_cell(help_text)} |")
        return _parse_markdown(self, lines)


class _cli_marker(nodes.Invisible, nodes.Element):
    """Left by ``{aioscard-cli}`` on its page for :class:`_CLILabels`."""


class _CLILabels(SphinxTransform):
    """Name each command's section ``cli-<command>``: {ref}`cli-send` links ``aioscard send``."""

    default_priority = 200

    def apply(self, **kwargs: Any) -> None:
        markers = list(self.document.findall(_cli_marker))
        if not markers:
            return
        for marker in markers:
            marker.parent.remove(marker)
        for section in self.document.findall(nodes.section):
            words = section[0].astext().split()
            if not words or words[0] != "aioscard" or len(words) > 2:
                continue
            label = "cli-" + (words[1] if len(words) == 2 else "aioscard")
            if label not in section["names"]:
                section["names"].append(label)
                section["ids"].append(label)
                self.document.note_explicit_target(section)


class ExitCodesDirective(SphinxDirective):
    """The ``aioscard`` command's exit statuses, from ``EXIT_*`` and their comments."""

    has_content = False

    def run(self) -> list[nodes.Node]:
        from sphinx.pycode import ModuleAnalyzer

        modname = "aioscard._cli._errors"
        module = importlib.import_module(modname)
        docs = ModuleAnalyzer.for_module(modname).find_attr_docs()
        rows = []
        for name in sorted(n for n in vars(module) if n.startswith("EXIT_")):
            value = getattr(module, name)
            if not isinstance(value, int):
                continue
            comment = " ".join(docs.get(("", name), [])).strip()
            if not comment and value == 0:
                comment = "Success."
            rows.append((value, name, comment))
        lines = ["| status | constant | meaning |", "|---|---|---|"]
        for value, name, comment in sorted(rows):
            lines.append(f"| {value} | `{name}` | {_cell(_myst_roles(comment)) or '-'} |")
        return _parse_markdown(self, lines)


class ExceptionsDirective(SphinxDirective):
    """Every public exception class as a table: its base, the PC/SC codes that raise it."""

    has_content = False

    def run(self) -> list[nodes.Node]:
        from aioscard.native import EXCEPTION_FOR_CODE

        codes: dict[type, list[str]] = {}
        for code, cls in EXCEPTION_FOR_CODE.items():
            label = getattr(code, "name", None) or f"0x{int(code) & 0xFFFFFFFF:08X}"
            codes.setdefault(cls, []).append(label)
        homes: dict[str, str] = _STATE["homes"]
        classes: dict[type, str] = {}
        for name, target in homes.items():
            module, _, attr = name.rpartition(".")
            obj = getattr(importlib.import_module(module), attr, None)
            if _is_class(obj) and issubclass(obj, BaseException):
                classes.setdefault(obj, target)
        lines = ["| exception | raised when | PC/SC return codes |", "|---|---|---|"]
        for cls, depth in _tree(list(classes)):
            indent = "\u2003" * depth + ("\u2514 " if depth else "")
            summary = _myst_roles((inspect.getdoc(cls) or "").split("\n\n")[0])
            pcsc = ", ".join(f"`{c}`" for c in sorted(codes.get(cls, [])))
            lines.append(
                f"| {indent}{{py:exc}}`~{classes[cls]}` | {_cell(summary) or '-'} | {pcsc or '-'} |"
            )
        return _parse_markdown(self, lines)


def _tree(classes: list[type]) -> list[tuple[type, int]]:
    """Classes in depth-first order of the hierarchy among them, with their depth."""
    members = set(classes)

    def parent(cls: type) -> type | None:
        for base in cls.__mro__[1:]:
            if base in members:
                return base
        return None

    children: dict[type | None, list[type]] = {}
    for cls in classes:
        children.setdefault(parent(cls), []).append(cls)
    ordered: list[tuple[type, int]] = []

    def size(cls: type) -> int:
        return 1 + sum(size(child) for child in children.get(cls, []))

    def walk(node: type | None, depth: int) -> None:
        # The largest families first (SmartcardException's), then by name.
        for child in sorted(children.get(node, []), key=lambda c: (-size(c), c.__name__)):
            ordered.append((child, depth))
            walk(child, depth + 1)

    walk(None, 0)
    return ordered


# -- internal links of the built site ------------------------------------------------------


class _LinkParser(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for key, value in attrs:
            if key in ("id", "name") and value:
                self.ids.add(value)
            if key == "href" and value and tag == "a":
                self.links.append(value)


def broken_links(root: Path) -> tuple[int, list[str]]:
    """Check every relative link of the HTML pages under ``root``: the page it names
    exists, and so does the anchor.  Returns the number of pages and the problems."""
    pages: dict[str, _LinkParser] = {}
    for path in root.rglob("*.html"):
        parser = _LinkParser()
        parser.feed(path.read_text(encoding="utf-8"))
        pages[path.relative_to(root).as_posix()] = parser
    problems: list[str] = []
    for page, parser in sorted(pages.items()):
        for link in parser.links:
            parts = urlsplit(link)
            if parts.scheme or parts.netloc:
                continue
            target = page
            if parts.path:
                target = posixpath.normpath(posixpath.join(posixpath.dirname(page), parts.path))
                if (root / target).is_dir():
                    target = posixpath.join(target, "index.html")
            if not (root / target).is_file():
                problems.append(f"{page}: broken internal link {link}")
                continue
            fragment = unquote(parts.fragment)
            if fragment and target in pages and fragment not in pages[target].ids:
                problems.append(f"{page}: link {link}: no anchor #{fragment}")
    return len(pages), problems


def check_links(app: Sphinx, error: Exception | None) -> None:
    if error is not None or app.builder.format != "html":
        return
    count, problems = broken_links(Path(app.outdir))
    for problem in problems:
        logger.warning("%s", problem, type="aioscard", subtype="link")
    logger.info("aioscard: checked the internal links of %d pages", count)


def data_comment(fullname: str) -> list[str]:
    """The ``#:`` comment above a public constant, wherever it is defined.

    A constant re-exported from a private module has its comment there; autodoc
    would look in the re-exporting module only, and fall back on the docstring
    of the value's type (``int``, ``dict``)."""
    from sphinx.pycode import ModuleAnalyzer

    modname, _, attr = fullname.rpartition(".")
    value = getattr(importlib.import_module(modname), attr, None)
    for name, module in sorted(sys.modules.items()):
        if not (name == PACKAGE or name.startswith(PACKAGE + ".")) or module is None:
            continue
        if getattr(module, attr, _MISSING) is not value or attr not in _defined_names(module):
            continue
        docs = ModuleAnalyzer.for_module(name).find_attr_docs()
        if ("", attr) in docs:
            return list(docs[("", attr)])
    return []


_MISSING = object()


# -- autodoc adjustments -----------------------------------------------------------------


def hide_private_parameters(
    app: Sphinx,
    what: str,
    name: str,
    obj: object,
    options: object,
    signature: str | None,
    return_annotation: str | None,
) -> tuple[str, str | None] | None:
    """Leave parameters whose names start with ``_`` (internal switches) out of signatures."""
    if not signature or "_" not in signature or not callable(obj):
        return None
    try:
        sig = sphinx_signature(obj)
    except (TypeError, ValueError):
        return None
    parameters = list(sig.parameters.values())
    if what == "method" and parameters and parameters[0].name in ("self", "cls"):
        parameters = parameters[1:]
    public = [p for p in parameters if not p.name.startswith("_")]
    if len(public) == len(parameters):
        return None
    shown = stringify_signature(sig.replace(parameters=public), show_return_annotation=False)
    return shown, return_annotation


def public_bases(app: Sphinx, name: str, obj: object, options: object, bases: list[type]) -> None:
    """Show a class's nearest public ancestors instead of a private base class."""
    for i, base in enumerate(bases):
        while base.__name__.startswith("_") and base.__mro__[1:]:
            base = base.__mro__[1]
        bases[i] = base


class _PlainBuiltins(SphinxPostTransform):
    """Leave annotations naming builtins (``bytes``) unlinked.

    Without this, the Python domain's fuzzy search links the ``bytes`` of a
    signature to whichever attribute is called ``bytes`` (``Response.bytes``)."""

    default_priority = 5  # before the references are resolved (10)

    def run(self, **kwargs: Any) -> None:
        for node in list(self.document.findall(addnodes.pending_xref)):
            target = node.get("reftarget", "")
            if node.get("refdomain") == "py" and isinstance(getattr(builtins, target, None), type):
                node.replace_self(node.children or nodes.Text(target))


def _napoleon_without_inline_types(app: Sphinx) -> None:
    """Run napoleon on attributes and properties as on functions.

    Napoleon reads an attribute docstring's first ``text: more`` as ``type:
    description``; aioscard's attributes carry real annotations, and their
    docstrings are sentences that may contain a colon."""
    from sphinx.ext.napoleon import _process_docstring

    listeners = app.events.listeners["autodoc-process-docstring"]
    for listener in list(listeners):
        if listener.handler is _process_docstring:
            app.disconnect(listener.id)

    def process(
        app: Sphinx, what: str, name: str, obj: object, options: object, lines: list[str]
    ) -> None:
        if what == "data":
            lines[:] = data_comment(name)
        if what in ("attribute", "data", "property"):
            what = "method"
        _process_docstring(app, what, name, obj, options, lines)

    app.connect("autodoc-process-docstring", process)


def resolve_from_private_module(
    app: Sphinx, env: BuildEnvironment, node: addnodes.pending_xref, contnode: nodes.Element
) -> nodes.Element | None:
    """Resolve a short name in a private module's docstring against its public package.

    ``:data:`DEMO_AID``` in ``aioscard.testing._demo`` names what is documented as
    ``aioscard.testing.DEMO_AID``."""
    module = node.get("py:module") or ""
    target = node.get("reftarget", "")
    if node.get("refdomain") != "py" or not module.startswith(PACKAGE) or "._" not in module:
        return None
    public = module.split("._")[0]
    objects = env.domains["py"].objects
    for candidate in (f"{public}.{target}", f"{public}.{target.rpartition('.')[2]}"):
        if candidate in objects:
            entry = objects[candidate]
            return make_refnode(
                app.builder, node["refdoc"], entry.docname, entry.node_id, contnode, candidate
            )
    return None


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("missing-reference", resolve_from_private_module)
    app.setup_extension("sphinx.ext.napoleon")
    _napoleon_without_inline_types(app)
    app.connect("autodoc-process-bases", public_bases)
    app.connect("autodoc-process-signature", hide_private_parameters)
    app.add_post_transform(_PlainBuiltins)
    app.add_transform(_CLILabels)
    app.add_node(_cli_marker)
    app.connect("builder-inited", write_api_pages)
    app.connect("env-check-consistency", check_reference)
    app.connect("env-updated", lambda app, env: register_aliases(app, env) or [])
    app.connect("build-finished", check_links)
    app.add_directive("aioscard-cli", CLIDirective)
    app.add_directive("aioscard-cli-summary", CLISummaryDirective)
    app.add_directive("aioscard-exit-codes", ExitCodesDirective)
    app.add_directive("aioscard-exceptions", ExceptionsDirective)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
