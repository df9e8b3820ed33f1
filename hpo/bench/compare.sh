#!/usr/bin/env bash
# Optimizer quality against random search and Optuna's TPE (not a test).
# Makes a venv with optuna from PyPI, builds the release binary, runs
# bench/compare.py. Usage: bench/compare.sh [--seeds 20] [--budget 50]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
crate="$(dirname "$here")"
venv="${HPO_BENCH_VENV:-$here/.venv}"
target="${CARGO_TARGET_DIR:-$crate/../target}"

if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet "optuna>=4,<6"
fi
(cd "$crate" && CARGO_TARGET_DIR="$target" cargo build --release --quiet)
"$venv/bin/python" -c 'import optuna; print("optuna", optuna.__version__)'
exec "$venv/bin/python" "$here/compare.py" --binary "$target/release/arqonbus-hpo" "$@"
