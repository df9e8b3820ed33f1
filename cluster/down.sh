#!/usr/bin/env bash
# Removes the cluster cluster/up.sh started: containers, network and data
# volumes. With --purge also the image arqonbus:local and the certificates
# in cluster-data/containers/. Safe to run when nothing is up.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== removing containers, network and volumes of project arqonbus" >&2
docker-compose -p arqonbus -f cluster/docker-compose.yml down --volumes --remove-orphans --timeout 5

if [[ ${1:-} == --purge ]]; then
    echo "== removing the image arqonbus:local and cluster-data/containers/" >&2
    docker image rm -f arqonbus:local >/dev/null 2>&1 || true
    rm -rf cluster-data/containers
fi
