#!/usr/bin/env bash
# aioscard's benchmarks in one command: builds what they need, prints the tables and
# writes benchmarks/RESULTS.md.  `bash benchmarks/run.sh --smoke` is the quick pass the
# test suite runs; `--help` lists the knobs.
#
# Builds: the project's .venv (scripts/bootstrap.sh, if missing); the C reference
# benchmarks/c/transmit_bench.c against libpcsclite (libpcsclite-dev is apt-get
# installed if missing); pyscard from PyPI into benchmarks/.build/pyscard-venv.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/python ]; then
    bash scripts/bootstrap.sh
fi
exec .venv/bin/python benchmarks/run.py "$@"
