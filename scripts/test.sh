#!/usr/bin/env bash
# The whole check: set-up, lint, strict typing, the docs, and the test suite against
# private pcscds with virtual readers and cards -- on this Python (.venv, every test),
# and on every other CPython 3.10-3.13 installed (each in its own .venv-3.X, the
# default selection: not the slow variants).  Extra arguments go to pytest.
#
# The work runs in lanes, one function each, side by side:
#   lane_main        in the foreground: ruff, mypy, the docs, then this Python's suite
#                    in $AIOSCARD_TEST_WORKERS pytest-xdist workers (default 4);
#   lane_python X.Y  in the background, one per other Python: its virtualenv (made or
#                    brought up to date by bootstrap.sh), then its suite in
#                    $AIOSCARD_TEST_WORKERS_OTHER workers (default 2).
# Each worker has its own simulator.  Most tests wait on pcscd and the cards, not on the
# CPU, so many workers on two cores pay without starving each other.  The tests marked
# "alone" run last, on each Python in turn, with nothing beside them.  Another pass is
# a lane_* function and a start_lane line; every lane's time is reported at the end.
# AIOSCARD_TEST_OTHER_PYTHONS=0 leaves the other Pythons out.
set -euo pipefail
cd "$(dirname "$0")/.."
started=$SECONDS
bash scripts/bootstrap.sh --test
workers=${AIOSCARD_TEST_WORKERS:-4}
workers_other=${AIOSCARD_TEST_WORKERS_OTHER:-2}
main=$(.venv/bin/python -c 'import sys; print("%d.%d" % sys.version_info[:2])')
echo "== set-up: $((SECONDS - started)) s" >&2

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

# The lanes.  Each returns non-zero if anything in it failed (set -e does not hold in a
# function whose status is tested, so each step says what its failure does).

lane_main() {
    local status=0
    echo "== ruff" >&2
    .venv/bin/ruff check aioscard tests examples benchmarks docs/conf.py docs/_ext || status=1
    .venv/bin/ruff format --check aioscard tests examples benchmarks docs/conf.py docs/_ext ||
        status=1
    echo "== mypy --strict (Python 3.10 and later)" >&2
    .venv/bin/mypy --strict aioscard tests examples || status=1
    echo "== docs" >&2
    # The site, with warnings as errors, every cross-reference and internal link checked,
    # and every public name in the API reference (its samples run in tests/test_docs_samples.py).
    bash scripts/docs.sh -E || status=1
    echo "== pytest on Python $main" >&2
    # The long fault-injection and load variants (marker "slow", deselected by a plain
    # pytest run) are part of the whole check.
    .venv/bin/python -m pytest -m "(slow or not slow) and not alone" -n "$workers" \
        --dist worksteal "$@" || status=1
    return "$status"
}

# lane_python X.Y PYTHON [pytest arguments]: the default selection on another Python.
lane_python() {
    local version=$1 python=$2
    shift 2
    PYTHON=$python bash scripts/bootstrap.sh --test || return 1
    echo "== pytest on Python $version"
    ".venv-$version/bin/python" -m pytest -p no:cacheprovider -m "not slow and not alone" \
        -n "$workers_other" --dist worksteal "$@"
}

# lane_alone VENV [pytest arguments]: the tests marked "alone" on one Python.  Without
# mount namespaces (chroots, containers) every private pcscd shares /run/pcscd, so they
# must not run beside other simulators.  Exit 5 (nothing selected, e.g. by a -k of the
# caller's) is fine.
lane_alone() {
    local venv=$1 code=0
    shift
    "$venv/bin/python" -m pytest -m alone -p no:cacheprovider -q "$@" || code=$?
    [ "$code" = 0 ] || [ "$code" = 5 ]
}

# Background lanes.  start_lane NAME COMMAND... runs COMMAND with its output in
# $logs/NAME.log and leaves "STATUS SECONDS" in $logs/NAME.status; finish_lanes waits for
# them all and reports each, showing the whole log of a failed one.
logs=$(mktemp -d)
lanes=()
pids=()
start_lane() {
    local name=$1
    shift
    (
        begun=$SECONDS
        code=0
        "$@" >"$logs/$name.log" 2>&1 || code=$?
        echo "$code $((SECONDS - begun))" >"$logs/$name.status"
    ) &
    lanes+=("$name")
    pids+=("$!")
}
finish_lanes() {
    local pid name code seconds status=0
    for pid in "${pids[@]}"; do
        wait "$pid" || true
    done
    pids=()
    for name in "${lanes[@]}"; do
        code=1 seconds="?"
        [ -f "$logs/$name.status" ] && read -r code seconds <"$logs/$name.status"
        if [ "$code" = 0 ]; then
            echo "== $name: passed in $seconds s: $(tail -n 1 "$logs/$name.log")" >&2
        else
            echo "== $name: FAILED after $seconds s; its log:" >&2
            cat "$logs/$name.log" >&2
            echo "== $name: FAILED (log above)" >&2
            status=1
        fi
    done
    return "$status"
}
# Stops the background lanes still running (the command failed or was interrupted):
# SIGINT first, on which pytest tears its simulators down, then SIGTERM.
stop_lanes() {
    local pid _
    for pid in "${pids[@]}"; do
        pkill -INT -P "$pid" 2>/dev/null || true
    done
    for pid in "${pids[@]}"; do
        for _ in $(seq 50); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.2
        done
        pkill -TERM -P "$pid" 2>/dev/null || true
        kill -TERM "$pid" 2>/dev/null || true
    done
    pids=()
}
cleanup() {
    stop_lanes
    rm -rf "$logs"
}
trap cleanup EXIT
# Ctrl-C ends the command even when the step it interrupts (mypy, sphinx) exits on its own.
trap 'exit 130' INT
trap 'exit 143' TERM

others=()
missing=()
if [ "${AIOSCARD_TEST_OTHER_PYTHONS:-1}" != 0 ]; then
    for version in 3.10 3.11 3.12 3.13; do
        if [ "$version" = "$main" ]; then
            continue
        elif python=$(find_python "$version"); then
            others+=("$version")
            start_lane "python$version" lane_python "$version" "$python" "$@"
        else
            missing+=("$version")
        fi
    done
    if ((${#others[@]})); then
        echo "== Python ${others[*]}: set-up and the default selection, in the background" >&2
    fi
    if ((${#missing[@]})); then
        echo "== Python ${missing[*]}: skipped, not installed (neither python3.X on PATH" \
            "nor under pyenv)" >&2
    fi
else
    echo "== other Pythons: skipped (AIOSCARD_TEST_OTHER_PYTHONS=0)" >&2
fi

status=0
begun=$SECONDS
outcome=passed
lane_main "$@" || outcome=FAILED
echo "== python$main: $outcome in $((SECONDS - begun)) s (ruff, mypy, the docs, every test)" >&2
[ "$outcome" = passed ] || status=1
finish_lanes || status=1

echo "== the tests marked alone, on each Python in turn" >&2
begun=$SECONDS
lane_alone .venv "$@" || status=1
for version in "${others[@]}"; do
    [ -x ".venv-$version/bin/python" ] || continue  # its set-up failed, reported above
    lane_alone ".venv-$version" "$@" || status=1
done
echo "== alone: $((SECONDS - begun)) s; the whole command: $SECONDS s" >&2
exit "$status"
