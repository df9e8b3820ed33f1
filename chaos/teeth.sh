#!/usr/bin/env bash
# Proves the chaos suite has teeth: builds `arqonbus` once with the
# test-only cfg `arqonbus_teeth` (src/teeth.rs: compiled in only through
# RUSTFLAGS, which only this script sets; no Cargo feature can ship it),
# in a target directory of its own so no other build is disturbed, and
# runs two short chaos runs against it, each with one guarantee broken:
#
# - stale reads (ARQONBUS_TEETH=stale-reads): every read is served from the
#   local replica, with no leader or quorum check; kills and pauses must
#   then end in a linearizability violation;
# - no fsync (ARQONBUS_TEETH=no-fsync): no write of the storage is ever
#   synced; power losses must then lose acknowledged writes (a
#   linearizability violation), a vote (two leaders in a term), or part of
#   the audit chain. This run's power-loss filesystems write back every
#   second, as a kernel does: under the strict model a build that never
#   syncs loses *everything* on a power loss, and the cluster copies it all
#   back from the node that kept power (a CI run once passed that way). On
#   a real machine older state survives and the recent tail is lost; that
#   loss, on the majority that restarts while the third node is held
#   paused (chaos/src/nemesis/power.rs), is what must be caught.
#
# Succeeds only if both runs fail with such a violation (exit code 1).
# The harness is the one built by `.ci/run`'s static release build
# (target/x86_64-unknown-linux-gnu/release/arqonbus-chaos), built here if
# missing.
#
#   chaos/teeth.sh [OUT_DIR]        (TEETH_DURATION=30 by default)
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$(mktemp -d -t arqonbus-teeth.XXXXXX)}
duration=${TEETH_DURATION:-30}
cd "$root"
mkdir -p "$out"

triple=x86_64-unknown-linux-gnu
chaos=${CARGO_TARGET_DIR:-$root/target}/$triple/release/arqonbus-chaos
if [ ! -x "$chaos" ]; then
    RUSTFLAGS="-C target-feature=+crt-static" cargo build --release --target "$triple" -p arqonbus-chaos
fi
RUSTFLAGS="--cfg arqonbus_teeth" CARGO_TARGET_DIR="$root/target/teeth" \
    cargo build --bin arqonbus
broken="$out/arqonbus-teeth"
cp "$root/target/teeth/debug/arqonbus" "$broken"

# The violations of a run's summary, one per line.
violations() {
    python3 -c 'import json,sys; print("\n".join(json.load(open(sys.argv[1])).get("violations", [])))' "$1"
}

# run NAME TEETH EXPECTED-VIOLATION-REGEX CHAOS-ARGS...
run() {
    local name=$1 teeth=$2 expected=$3
    shift 3
    local dir="$out/$name-$(date +%s)" code
    set +e
    # Without the rollout workload: these runs judge the storage and the
    # reads through the register and proposal histories, and the rollouts'
    # own traffic only thins those out (a no-fsync run once went
    # uncaught with it on).
    ARQONBUS_TEETH=$teeth "$chaos" run --backend process --out "$dir" \
        --arqonbus "$broken" --rollout-targets 0 "$@" >"$dir.txt" 2>&1
    code=$?
    set -e
    local caught
    caught=$(violations "$dir/summary.json" | grep -E -m1 "$expected" || true)
    if [ "$code" -eq 1 ] && [ -n "$caught" ]; then
        echo "teeth: OK: $name: the broken build failed: ${caught:0:160} ($dir)"
        return 0
    fi
    echo "teeth: FAILED: $name: the broken build was not caught (exit $code; see $dir and $dir.txt)" >&2
    return 1
}

run stale-reads stale-reads '^the register history is not linearizable$' \
    --duration "$duration" --interval 4 --kills 2 --pauses 2
run no-fsync no-fsync '^the register history is not linearizable$|had two leaders|^audit heads differ|audit chain broken|^proposal .*(holds .*, but|decided twice)' \
    --duration "$duration" --interval 4 --power-losses 6 --writeback-ms 1000 --faults ''
