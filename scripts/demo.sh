#!/usr/bin/env bash
# The main job: set-up, then `aioscard demo` against the simulator (a private
# pcscd with virtual readers; everything it starts, it stops).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
exec .venv/bin/aioscard demo "$@"
