#!/usr/bin/env bash
# Container smoke test: cluster/up.sh, a write, SIGKILL of the leader's
# container, a new leader and a write, the old leader restarted and caught
# up, then cluster/down.sh (always, through a trap). Exits non-zero on any
# failure. Needs Docker, docker-compose and cargo; about a minute once the
# static binary is built.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
bin=${CARGO_TARGET_DIR:-$repo/target}/x86_64-unknown-linux-gnu/release/arqonbus
target=ml-inference-service

say() { echo "== smoke: $*" >&2; }
cleanup() {
    rc=$?
    if [[ $rc != 0 ]]; then
        say "FAILED (exit $rc); last logs:"
        docker-compose -p arqonbus -f cluster/docker-compose.yml logs --tail 20 >&2 || true
    fi
    cluster/down.sh || true
    exit "$rc"
}
trap cleanup EXIT
fail() { say "$*"; exit 1; }

cluster/up.sh
export ARQONBUS_ENDPOINTS=node1:7100,node2:7100,node3:7100
export ARQONBUS_RESOLVE=node1:7100=127.0.0.1:17101,node2:7100=127.0.0.1:17102,node3:7100=127.0.0.1:17103
export ARQONBUS_CERTS=$repo/cluster-data/containers/certs ARQONBUS_USER=operator

# `cluster status` text: "leader: N", then per member
# "node ID ADDR ROLE term T last_log L applied A reachable|UNREACHABLE".
status() { "$bin" cluster status --user viewer 2>/dev/null; }
leader() { status | awk '$1 == "leader:" { print $2 }'; }
check() { # check KEY VALUE: a linearizable read shows it
    local out
    out=$("$bin" params get --target "$target") || fail "params get failed"
    grep -qx "$1 = $2 .*" <<<"$out" || fail "params get does not show $1 = $2: $out"
}

status | grep -q "node1:7100" || fail "cluster init did not record the advertised nodeN:7100"
"$bin" constraints set --target "$target" --file examples/constraints.toml
"$bin" params set --target "$target" --set batch_size=48
check batch_size 48

old=$(leader)
[[ $old =~ ^[123]$ ]] || fail "no leader before the kill (got '$old')"
say "killing the leader's container arqonbus-node$old"
docker kill arqonbus-node"$old" >/dev/null
t=$(date +%s%N)
new=
for _ in $(seq 1 60); do
    new=$(leader || true)
    [[ $new =~ ^[123]$ && $new != "$old" ]] && break
    sleep 0.5
done
[[ $new =~ ^[123]$ && $new != "$old" ]] || fail "no new leader within 30 s"
say "node $new leads, seen $(( ($(date +%s%N) - t) / 1000000 )) ms after the kill"
"$bin" params set --target "$target" --set batch_size=64
check batch_size 64
say "write after failover: ok, $(( ($(date +%s%N) - t) / 1000000 )) ms after the kill"

say "restarting arqonbus-node$old"
docker start arqonbus-node"$old" >/dev/null
caught_up=
for _ in $(seq 1 60); do
    # Every member reachable and at the same apply position.
    if status | awk '$1 == "node" { n++; if ($11 != "reachable") bad = 1; a[$10] = 1 }
                     END { exit !(n == 3 && !bad && length(a) == 1) }'; then
        caught_up=1
        break
    fi
    sleep 0.5
done
[[ -n $caught_up ]] || { status >&2 || true; fail "node $old did not catch up within 30 s"; }
status
say "passed"
