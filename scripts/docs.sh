#!/usr/bin/env bash
# Builds the documentation site to docs/_build/html, offline, with warnings as
# errors (-W --keep-going), every cross-reference checked (-n), and the internal
# links of the built pages checked (docs/_ext/aioscard_sphinx.py).  Extra
# arguments go to sphinx-build (-E: rebuild everything).
set -euo pipefail
cd "$(dirname "$0")/.."
python=.venv/bin/python
[ -x "$python" ] || python=python3
exec "$python" -m sphinx -b html -n -W --keep-going -q "$@" docs docs/_build/html
