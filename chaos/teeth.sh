#!/usr/bin/env bash
# Proves the chaos suite has teeth: builds `arqonbus` with the test-only
# cfg `arqonbus_teeth` (src/teeth.rs; no Cargo feature, so --all-features
# cannot ship it) and runs a short chaos run against it with
# ARQONBUS_TEETH=stale-reads (every read is served from the local replica
# of whichever node gets it, with no leader or quorum check). Succeeds only
# if the run fails with a linearizability violation (exit code 1). The
# teeth build has its own target directory (a cfg in RUSTFLAGS rebuilds
# every crate), so the normal static build is left as it was.
#
#   chaos/teeth.sh [OUT_DIR]        (TEETH_DURATION=30 by default)
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
triple=x86_64-unknown-linux-gnu
target=${CARGO_TARGET_DIR:-$root/target}/$triple
export RUSTFLAGS="-C target-feature=+crt-static"
out=${1:-$(mktemp -d -t arqonbus-teeth.XXXXXX)}
duration=${TEETH_DURATION:-30}
cd "$root"

mkdir -p "$out"
teeth_target=${CARGO_TARGET_DIR:-$root/target}/teeth
RUSTFLAGS="$RUSTFLAGS --cfg arqonbus_teeth" CARGO_TARGET_DIR="$teeth_target" \
    cargo build --release --target "$triple" --bin arqonbus
cp "$teeth_target/$triple/release/arqonbus" "$out/arqonbus-unsafe-stale-reads"
cargo build --release --target "$triple" --workspace --bins
export ARQONBUS_TEETH=stale-reads

run="$out/run-$(date +%s)"
set +e
"$target/release/arqonbus-chaos" run --backend process --out "$run" \
    --duration "$duration" --arqonbus "$out/arqonbus-unsafe-stale-reads" \
    --interval 4 --kills 2 --pauses 2
code=$?
set -e

if [ "$code" -eq 1 ] && grep -q '"the register history is not linearizable"' "$run/summary.json"; then
    echo "teeth: OK: the broken build failed with a linearizability violation ($run)"
    exit 0
fi
echo "teeth: FAILED: the broken build was not caught (exit $code; see $run)" >&2
exit 1
