#!/usr/bin/env bash
# Proves the chaos suite has teeth: builds `arqonbus` with the test-only
# feature `unsafe-stale-reads` (every read is served from the local replica
# of whichever node gets it, with no leader or quorum check), runs a short
# chaos run against that binary, and succeeds only if the run fails with a
# linearizability violation (exit code 1). The normal binary is rebuilt
# afterwards, so the target directory is left as it was. Builds the static
# target, as .ci/run and cluster/up.sh do, so the dependencies are shared.
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
cargo build --release --target "$triple" --features unsafe-stale-reads --bin arqonbus
cp "$target/release/arqonbus" "$out/arqonbus-unsafe-stale-reads"
cargo build --release --target "$triple" --workspace --bins

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
