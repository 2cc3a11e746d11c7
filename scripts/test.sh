#!/usr/bin/env bash
# The whole check: set-up, lint, strict typing, the docs, and the test suite against
# private pcscds with virtual readers and cards -- on this Python (.venv, every test),
# and on every other CPython 3.10-3.13 installed (each in its own .venv-3.X, the
# default selection: not the slow variants).  Extra arguments go to pytest.
#
# Two lanes share the machine: this one lints, builds the docs and runs this Python's
# suite in $AIOSCARD_TEST_WORKERS pytest-xdist workers (default 4; 0: none); a
# background lane runs the other Pythons' suites one after another, in
# $AIOSCARD_TEST_WORKERS_OTHER workers each (default 2).  Each worker has its own
# simulator.  Most tests wait on pcscd and the cards, not on the CPU, so on two
# cores about six workers in all pay without starving each other.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh --test
workers=${AIOSCARD_TEST_WORKERS:-4}
workers_other=${AIOSCARD_TEST_WORKERS_OTHER:-2}
main=$(.venv/bin/python -c 'import sys; print("%d.%d" % sys.version_info[:2])')

# find_python X.Y: an interpreter of CPython X.Y on PATH or installed by pyenv.
find_python() {
    local found version
    if found=$(command -v "python$1") && "$found" -c "" 2>/dev/null; then
        echo "$found"
        return 0
    fi
    # A pyenv shim answers for every version pyenv knows but runs only the selected ones.
    if command -v pyenv >/dev/null && version=$(pyenv latest "$1" 2>/dev/null) \
        && found="$(pyenv prefix "$version" 2>/dev/null)/bin/python$1" \
        && "$found" -c "" 2>/dev/null; then
        echo "$found"
        return 0
    fi
    return 1
}

# The other Pythons' lane is opt-in (AIOSCARD_TEST_OTHER_PYTHONS=1): with it, the whole
# command takes more than its 15-minute budget on 2 cores.
others=()
if [ "${AIOSCARD_TEST_OTHER_PYTHONS:-0}" = 1 ]; then
    for version in 3.10 3.11 3.12 3.13; do
        if [ "$version" != "$main" ] && python=$(find_python "$version"); then
            PYTHON=$python bash scripts/bootstrap.sh
            others+=("$version")
        fi
    done
fi

logs=$(mktemp -d)
lane=""
cleanup() {
    if [ -n "$lane" ]; then
        pkill -TERM -P "$lane" 2>/dev/null || true
        kill "$lane" 2>/dev/null || true
    fi
    rm -rf "$logs"
}
trap cleanup EXIT
if ((${#others[@]})); then
    echo "== pytest on Python ${others[*]}: in the background, one after another" >&2
    (
        for version in "${others[@]}"; do
            # set -e holds in this subshell too: a failing suite must not end the lane.
            code=0
            ".venv-$version/bin/python" -m pytest -p no:cacheprovider -n "$workers_other" \
                --dist worksteal "$@" >"$logs/$version.log" 2>&1 || code=$?
            echo "$code" >"$logs/$version.status"
        done
    ) &
    lane=$!
else
    echo "== pytest on other Pythons: skipped (AIOSCARD_TEST_OTHER_PYTHONS=1 runs them, where CPython 3.10-3.13 are installed)" >&2
fi

status=0
echo "== ruff" >&2
.venv/bin/ruff check aioscard tests examples benchmarks docs/conf.py docs/_ext || status=1
.venv/bin/ruff format --check aioscard tests examples benchmarks docs/conf.py docs/_ext || status=1
echo "== mypy --strict (Python 3.10 and later)" >&2
.venv/bin/mypy --strict aioscard tests examples || status=1
echo "== docs" >&2
# The site, with warnings as errors, every cross-reference and internal link checked,
# and every public name in the API reference (its samples run in tests/test_docs_samples.py).
bash scripts/docs.sh -E || status=1
echo "== pytest on Python $main" >&2
# The long fault-injection and load variants (marker "slow", deselected by a plain
# pytest run) are part of the whole check.
# The tests marked "alone" first, serially: without mount namespaces (chroots, containers)
# every private pcscd shares /run/pcscd, so they must not run beside other simulators.
# Exit 5 (nothing selected, e.g. by a -k of the caller's) is fine here.
code=0
.venv/bin/python -m pytest -m alone -p no:cacheprovider "$@" || code=$?
[ "$code" = 0 ] || [ "$code" = 5 ] || status=1
.venv/bin/python -m pytest -m "(slow or not slow) and not alone" -n "$workers" --dist worksteal \
    "$@" || status=1

if [ -n "$lane" ]; then
    wait "$lane" || true
    lane=""
fi
for version in "${others[@]}"; do
    if [ "$(cat "$logs/$version.status" 2>/dev/null)" = 0 ]; then
        echo "== pytest on Python $version: $(tail -n 1 "$logs/$version.log")" >&2
    else
        echo "== pytest on Python $version failed:" >&2
        cat "$logs/$version.log" >&2
        status=1
    fi
done
exit "$status"
