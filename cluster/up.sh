#!/usr/bin/env bash
# Starts a three-node ArqonBus cluster in containers from a fresh checkout:
#   1. the static release binary (one build, reused by the image and the host CLI),
#   2. certificates for the containers' names (cluster-data/containers/, gitignored),
#   3. the image arqonbus:local (FROM scratch, just the binary),
#   4. docker-compose up, waiting until every node is healthy,
#   5. `arqonbus cluster init` from the host (once; again it changes nothing),
# then prints how to reach the cluster from the host. cluster/down.sh removes it.
#
# CARGO_TARGET_DIR is honoured; the binary is at
# $CARGO_TARGET_DIR/x86_64-unknown-linux-gnu/release/arqonbus.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD

project=arqonbus
compose=(docker-compose -p "$project" -f cluster/docker-compose.yml)
triple=x86_64-unknown-linux-gnu
target_dir=${CARGO_TARGET_DIR:-$repo/target}
bin=$target_dir/$triple/release/arqonbus
data=cluster-data/containers
image=arqonbus:local
endpoints=node1:7100,node2:7100,node3:7100
resolve=node1:7100=127.0.0.1:17101,node2:7100=127.0.0.1:17102,node3:7100=127.0.0.1:17103

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f s", b - a }'; }
say() { echo "== $*" >&2; }

say "static release build of arqonbus ($bin)"
t=$(now)
RUSTFLAGS="-C target-feature=+crt-static" CARGO_TARGET_DIR=$target_dir \
    cargo build --release --target "$triple" --bin arqonbus
say "built in $(since "$t")"

say "certificates for node1..node3 in $data (kept if already there)"
if [[ ! -f $data/certs/ca.pem ]]; then
    "$bin" certs init --out "$data/certs" --node-host node1 --node-host node2 --node-host node3
fi
# Each node gets only the CA and its own certificate and key.
for i in 1 2 3; do
    mkdir -p "$data/node-$i"
    cp "$data/certs/ca.pem" "$data/certs/node-$i.pem" "$data/certs/node-$i.key" "$data/node-$i/"
done

say "image $image (FROM scratch; the context is the binary alone)"
t=$(now)
context=$(mktemp -d)
trap 'rm -rf "$context"' EXIT
cp "$bin" cluster/Dockerfile "$context/"
docker build -q -t "$image" "$context" >/dev/null
say "image built in $(since "$t"), $(docker image inspect -f '{{.Size}}' "$image" | awk '{ printf "%.1f MB", $1 / 1e6 }')"

say "starting the containers"
t=$(now)
"${compose[@]}" up -d
healthy=0
for _ in $(seq 1 60); do
    healthy=0
    for i in 1 2 3; do
        s=$(docker inspect -f '{{.State.Health.Status}}' "$project-node$i" 2>/dev/null || echo missing)
        [[ $s == healthy ]] && healthy=$((healthy + 1))
    done
    [[ $healthy == 3 ]] && break
    sleep 1
done
if [[ $healthy != 3 ]]; then
    "${compose[@]}" ps >&2
    "${compose[@]}" logs --tail 30 >&2
    say "only $healthy of 3 nodes became healthy within 60 s"
    exit 1
fi
say "3 nodes healthy in $(since "$t")"

export ARQONBUS_ENDPOINTS=$endpoints ARQONBUS_RESOLVE=$resolve ARQONBUS_CERTS=$repo/$data/certs
say "cluster init (records each node's advertised nodeN:7100)"
t=$(now)
"$bin" cluster init --user admin
say "init done in $(since "$t")"
"$bin" cluster status --user viewer

cat <<MSG

Cluster is up. From the host:

  export PATH=$(dirname "$bin"):\$PATH
  export ARQONBUS_ENDPOINTS=$endpoints
  export ARQONBUS_RESOLVE=$resolve
  export ARQONBUS_CERTS=$repo/$data/certs
  arqonbus cluster status --user viewer

Node N's UDP 7100 is published on 127.0.0.1:1710N; ARQONBUS_RESOLVE dials
the nodes' names there (leader redirects name nodeN:7100 too). Stop and
remove everything with cluster/down.sh.
MSG
