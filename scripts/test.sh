#!/usr/bin/env bash
# The whole check: set-up, lint, strict typing, and the test suite against a
# private pcscd with virtual readers and cards.  Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh --test
echo "== ruff" >&2
.venv/bin/ruff check aioscard tests examples benchmarks docs/conf.py docs/_ext
.venv/bin/ruff format --check aioscard tests examples benchmarks docs/conf.py docs/_ext
echo "== mypy --strict" >&2
.venv/bin/mypy --strict aioscard tests examples
echo "== docs" >&2
# The site, with warnings as errors, every cross-reference and internal link checked,
# and every public name in the API reference (its samples run in tests/test_docs_samples.py).
bash scripts/docs.sh -E
echo "== pytest" >&2
# The long fault-injection and load variants (marker "slow", deselected by a plain
# pytest run) are part of the whole check.
exec .venv/bin/python -m pytest -m "slow or not slow" "$@"
