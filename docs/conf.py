"""Sphinx configuration of aioscard's documentation site (``bash scripts/docs.sh``).

The build is offline: no intersphinx, no fetched theme assets.  References to
the standard library and to third-party packages in signatures are left
unlinked (see ``nitpick_ignore_regex``); every reference to aioscard itself
must resolve, and ``scripts/docs.sh`` builds with ``-n -W``.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "_ext"))
sys.path.insert(0, str(HERE.parent))

import aioscard  # noqa: E402

project = "aioscard"
author = "aioscard developers"
copyright = "aioscard developers, MIT licence"
release = aioscard.__version__
version = release

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "aioscard_sphinx",
]

root_doc = "index"
source_suffix = {".md": "markdown"}
exclude_patterns = ["_build", "_ext", "Thumbs.db", ".DS_Store"]
templates_path: list[str] = []
# docs/guides/ may be empty while features are being written; a page outside every
# toctree still fails the build.
suppress_warnings = ["toc.empty_glob"]

# Every cross-reference must resolve ...
nitpicky = True
# ... except those into the standard library and third-party packages: the build
# is offline, so there is no inventory to resolve them against.
_EXTERNAL = (
    "abc|anyio|argparse|asyncio|builtins|cffi|collections|concurrent|contextlib|"
    "dataclasses|enum|logging|os|pathlib|pytest|_pytest|queue|re|socket|subprocess|"
    "threading|trio|types|typing|typing_extensions|weakref|functools|io|json|"
    "exceptiongroup|selectors|signal|sys|time|datetime|uuid|ipaddress|struct"
)
nitpick_ignore_regex = [
    (r"py:.*", rf"({_EXTERNAL})(\..*)?"),
    # Private names in public signatures (a private base, a TypeVar, a returned helper
    # object) are shown, not linked.
    (r"py:.*", r"aioscard(\.\w+)*\._\w+(\.\w+)*"),
    # Type variables (T, Ts, R) in generic signatures.
    (r"py:class", r"[A-Z][a-z]?"),
    # Names the standard library documents under their bare name.
    (r"py:.*", r"(Self|ExceptionGroup|BaseExceptionGroup|Ellipsis|EllipsisType|NoneType)"),
]

# Command lines ("--json") and quotes in prose stay as typed.
smartquotes = False

myst_enable_extensions = ["colon_fence", "deflist"]
# In-page links to headings (``[text](page.md#heading)``) need anchors.
myst_heading_anchors = 3

autodoc_default_options = {
    "member-order": "groupwise",
    "show-inheritance": True,
}
autodoc_typehints = "signature"
autodoc_preserve_defaults = True
autodoc_class_signature = "separated"
autoclass_content = "both"

napoleon_google_docstring = True
napoleon_numpy_docstring = False
napoleon_custom_sections = [("Cancellation", "notes_style")]
napoleon_use_rtype = False

html_theme = "furo"
html_title = f"aioscard {release}"
html_static_path: list[str] = []
html_show_sourcelink = False
html_copy_source = False
html_last_updated_fmt = None
