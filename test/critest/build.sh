#!/usr/bin/env bash
# test/critest/build.sh CRI_TOOLS_CHECKOUT: builds critest and crictl from a checkout of
# kubernetes-sigs/cri-tools (its vendored modules, no network) into $BERTH_CRITOOLS
# (default /var/cache/berth/cri-tools). Nothing is written into this repository.
set -euo pipefail
[ $# -eq 1 ] && [ -d "$1/cmd/critest" ] || { echo "usage: $0 CRI_TOOLS_CHECKOUT" >&2; exit 2; }
OUT=${BERTH_CRITOOLS:-/var/cache/berth/cri-tools}
mkdir -p "$OUT"
export PATH=/usr/local/go/bin:$PATH GOFLAGS=-mod=vendor GOTOOLCHAIN=local CGO_ENABLED=0
cd "$1"
go build -o "$OUT/crictl" ./cmd/crictl
go test -c -o "$OUT/critest" ./cmd/critest
echo "critest and crictl in $OUT"
