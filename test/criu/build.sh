#!/usr/bin/env bash
# test/criu/build.sh CRIU_CHECKOUT: builds CRIU from a checkout of
# checkpoint-restore/criu (v4.2 or newer: Debian 12's 3.17 fails `criu check` on
# kernels whose vDSO has only a GNU hash table, 6.18 here), and checkpointctl v1.6.0
# from the Go module proxy, into $BERTH_CRIU_DIR (default /var/cache/berth/criu).
# The checkpoint tests use them from there; berth itself needs neither (it takes
# whatever CRIU runtimes.criu_path names). Nothing is written into this repository.
set -euo pipefail
[ $# -eq 1 ] && [ -f "$1/criu/Makefile" ] || { echo "usage: $0 CRIU_CHECKOUT" >&2; exit 2; }
OUT=${BERTH_CRIU_DIR:-/var/cache/berth/criu}
BUILD_DEPS="libprotobuf-c-dev protobuf-c-compiler libnl-3-dev libnet1-dev libcap-dev libbsd-dev pkg-config
  python3-protobuf"
missing=$(for p in $BUILD_DEPS; do dpkg -s "$p" >/dev/null 2>&1 || echo "$p"; done)
if [ -n "$missing" ]; then
	echo "installing CRIU's build dependencies: $missing"
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $missing >/dev/null
fi
mkdir -p "$OUT"
# Built in a copy, so the checkout stays clean.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -a "$1/." "$work/"
make -C "$work" -j"$(nproc)" criu >"$work/build.log" 2>&1 || { tail -30 "$work/build.log" >&2; exit 1; }
install -m 0755 "$work/criu/criu" "$OUT/criu"
"$OUT/criu" check || echo "note: $OUT/criu check fails on this host; the checkpoint tests will skip" >&2
export PATH=/usr/local/go/bin:$PATH GOTOOLCHAIN=local GOFLAGS=-mod=mod
# checkpointctl v1.7.0 needs go-criu v8, which the module proxy does not serve here.
GOBIN="$OUT" go install github.com/checkpoint-restore/checkpointctl@v1.6.0
echo "criu $("$OUT/criu" --version | head -1) and checkpointctl in $OUT"
