#!/usr/bin/env bash
# Installs everything aioscard's demo and test suite need, on Debian 12 (or
# derivatives) as root: the PC/SC packages (only those missing, after an
# apt-get update), then a virtualenv in .venv with aioscard and its extras.
# Idempotent; starts no daemon (the simulator runs its own private pcscd).
#
# PYTHON=python3.12 bash scripts/bootstrap.sh --test makes a second virtualenv,
# .venv-3.12, for running the test suite on that Python (scripts/test.sh does so
# for every CPython 3.10-3.13 it finds); it gets what the tests need, not the
# linters (ruff and mypy run on the main Python only).
set -euo pipefail
cd "$(dirname "$0")/.."

python=${PYTHON:-python3}
venv=.venv
extras="test,dev,testing,docs"
if [ -n "${PYTHON:-}" ]; then
    version=$("$python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
    venv=.venv-$version
    extras="test,testing,docs"
fi
# gcc, libc6-dev and libpcsclite-dev build the simulator's own reader driver on first use
# (a fresh Debian 12 has gcc without libc6-dev); vpcd is its fall-back.
packages=(pcscd libpcsclite1 vsmartcard-vpcd gcc libc6-dev libpcsclite-dev)
# --test (scripts/test.sh): pcsc-tools too, whose smartcard_list.txt the card
# identification tests read (aioscard ships no copy of it).
if [ "${1:-}" = "--test" ]; then
    packages+=(pcsc-tools)
fi
missing=()
# Debian's own python3 needs python3-venv for "python3 -m venv".
if ! "$python" -c "import ensurepip, venv" 2>/dev/null; then
    packages+=(python3-venv)
fi
for package in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$package")
    fi
done
if ((${#missing[@]})); then
    sudo=""
    [ "$(id -u)" = 0 ] || sudo="sudo"
    echo "bootstrap: installing ${missing[*]}" >&2
    $sudo apt-get update -qq
    # policy-rc.d may refuse to start the system pcscd in containers: that is fine.
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
        "${missing[@]}" >/dev/null
fi

if [ ! -x "$venv/bin/python" ]; then
    "$python" -m venv "$venv"
fi
# The install is editable: code changes need no reinstall, only a changed pyproject.toml
# does.  The stamp remembers what was installed, so that a second run (every run of
# scripts/test.sh, for each Python) costs no pip resolution.
stamp="$venv/.aioscard-installed"
wanted="$extras ${1:-} $(sha256sum pyproject.toml | cut -d' ' -f1)"
complete=1
if [ "$(cat "$stamp" 2>/dev/null)" = "$wanted" ]; then
    exit 0
fi
rm -f "$stamp"
# Build-backend chatter (editable-install notices) would bury the demo's output: keep the
# log, and show it only if the install fails.
log=$(mktemp)
trap 'rm -f "$log"' EXIT
"$venv/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip >"$log" 2>&1 || true
if ! "$venv/bin/python" -m pip install -q --disable-pip-version-check -e ".[$extras]" \
    >"$log" 2>&1; then
    cat "$log" >&2
    echo "bootstrap: pip install failed" >&2
    exit 1
fi

if [ "${1:-}" = "--test" ]; then
    # Real pyscard consumers for tests/test_compat_consumers.py, in the test environment
    # only (never aioscard's dependencies).  yubikey-manager and smartcard-identifier
    # require pyscard, which the shim stands in for: they come without dependencies, and
    # the "consumers" extra brings the rest.  A failure here makes those tests skip, saying so.
    if ! "$venv/bin/python" -m pip install -q --disable-pip-version-check -e ".[consumers]" \
        >"$log" 2>&1 ||
        ! "$venv/bin/python" -m pip install -q --disable-pip-version-check --no-deps \
            "yubikey-manager==5.9.2" "smartcard-identifier==1.8.9" >"$log" 2>&1; then
        echo "bootstrap: could not install the pyscard consumers; their tests will skip" >&2
        complete=0
    fi
    # pyscard's example programs (LGPL: read from its sdist, never copied into this
    # repository), for tests/test_compat_examples.py on every Python.
    if [ ! -f .venv/pyscard-sdist/pyscard-2.3.1.tar.gz ] &&
        ! "$venv/bin/python" -m pip download -q --disable-pip-version-check --no-deps \
            --no-binary pyscard "pyscard==2.3.1" -d .venv/pyscard-sdist >"$log" 2>&1; then
        echo "bootstrap: could not download pyscard's sdist; its examples' test will skip" >&2
        complete=0
    fi
fi
# Next time, skip all this (unless something failed that a retry may fix).
[ "$complete" = 0 ] || echo "$wanted" >"$stamp"
