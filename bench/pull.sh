#!/bin/bash
# bench/pull.sh: pull + unpack of a large multi-layer image from the loopback registry,
# berth against containerd (Debian's package, through its CRI plugin), cold cache both,
# driven by the same CRI client (berthctl pull). Prints median seconds and the ratio.
#
#   bench/pull.sh            # as root, after ./dev.sh build
# Env: BENCH_RUNS (3), BENCH_LAYERS (6), BENCH_LAYER_MB (96), KIT (../shared/critest-kit).
# Uses the kit's registry (127.0.0.1:5000) and containerd (containerd.sh); stops what it
# started. Traffic stays on loopback.
set -euo pipefail
REPO_DIR=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
KIT=${KIT:-$REPO_DIR/../shared/critest-kit}
RUNS=${BENCH_RUNS:-3}
LAYERS=${BENCH_LAYERS:-6}
LAYER_MB=${BENCH_LAYER_MB:-96}
REGISTRY=http://127.0.0.1:5000
REPO=library/berth-bench-large
TAG=1
IMAGE=docker.io/$REPO:$TAG
BERTHCTL=$REPO_DIR/build/cmd/berthctl
BERTHD=$REPO_DIR/build/cmd/berthd
WORK=$(mktemp -d /tmp/berth-bench-pull-XXXXXX)
log() { printf '[bench] %s\n' "$*" >&2; }
[ "$(id -u)" = 0 ] || { log "run as root"; exit 1; }
[ -x "$BERTHD" ] || { log "build first: ./dev.sh build"; exit 1; }
[ -d "$KIT" ] || { log "critest-kit not found at $KIT (set KIT=)"; exit 1; }

BERTHD_PID=
started_registry=
cleanup() {
  [ -n "$BERTHD_PID" ] && kill "$BERTHD_PID" 2>/dev/null && wait "$BERTHD_PID" 2>/dev/null
  "$KIT/containerd.sh" stop >/dev/null 2>&1 || true
  [ -n "$started_registry" ] && "$KIT/registry.sh" stop >/dev/null 2>&1
  rm -rf "$WORK"
}
trap cleanup EXIT

if ! curl -fsS -o /dev/null "$REGISTRY/v2/"; then "$KIT/registry.sh" start; started_registry=1; fi

# ---- the image: LAYERS layers of LAYER_MB each, half random bytes, half text (so gzip
# has real work and the blobs stay large), Docker schema 2, pushed once.
push_blob() { # FILE DIGEST
  curl -fsS -o /dev/null -I "$REGISTRY/v2/$REPO/blobs/$2" 2>/dev/null && return 0
  local loc
  loc=$(curl -fsS -X POST -D - -o /dev/null "$REGISTRY/v2/$REPO/blobs/uploads/" | tr -d '\r' |
    awk 'tolower($1) == "location:" { print $2 }')
  case "$loc" in http*) ;; *) loc=$REGISTRY$loc ;; esac
  case "$loc" in *\?*) loc="$loc&digest=$2" ;; *) loc="$loc?digest=$2" ;; esac
  curl -fsS -o /dev/null -X PUT -H 'Content-Type: application/octet-stream' --data-binary "@$1" "$loc"
}
if ! curl -fsS -o /dev/null 2>/dev/null -H "Accept: application/vnd.docker.distribution.manifest.v2+json" \
    "$REGISTRY/v2/$REPO/manifests/$TAG"; then
  log "building a $LAYERS x ${LAYER_MB}MB image"
  layers_json= diff_ids=
  for ((i = 1; i <= LAYERS; i++)); do
    d=$WORK/layer$i
    mkdir -p "$d/data$i"
    for ((f = 1; f <= LAYER_MB / 8; f++)); do
      head -c $((4 << 20)) /dev/urandom >"$d/data$i/random$f"
      head -c $((3 << 20)) /dev/urandom | base64 >"$d/data$i/text$f"
    done
    tar -C "$d" --sort=name --numeric-owner --mtime=@1546300800 -cf "$WORK/l$i.tar" .
    diff_id=sha256:$(sha256sum "$WORK/l$i.tar" | cut -d' ' -f1)
    gzip -6 -n "$WORK/l$i.tar"
    dg=sha256:$(sha256sum "$WORK/l$i.tar.gz" | cut -d' ' -f1)
    push_blob "$WORK/l$i.tar.gz" "$dg"
    layers_json+="${layers_json:+,}{\"mediaType\":\"application/vnd.docker.image.rootfs.diff.tar.gzip\",\"size\":$(stat -c %s "$WORK/l$i.tar.gz"),\"digest\":\"$dg\"}"
    diff_ids+="${diff_ids:+,}\"$diff_id\""
    rm -rf "$d" "$WORK/l$i.tar.gz"
  done
  printf '{"architecture":"amd64","os":"linux","config":{"Cmd":["sh"]},"rootfs":{"type":"layers","diff_ids":[%s]}}' \
    "$diff_ids" >"$WORK/config.json"
  cdg=sha256:$(sha256sum "$WORK/config.json" | cut -d' ' -f1)
  push_blob "$WORK/config.json" "$cdg"
  printf '{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","config":{"mediaType":"application/vnd.docker.container.image.v1+json","size":%s,"digest":"%s"},"layers":[%s]}' \
    "$(stat -c %s "$WORK/config.json")" "$cdg" "$layers_json" >"$WORK/manifest.json"
  curl -fsS -o /dev/null -X PUT -H 'Content-Type: application/vnd.docker.distribution.manifest.v2+json' \
    --data-binary "@$WORK/manifest.json" "$REGISTRY/v2/$REPO/manifests/$TAG"
fi
size=$(curl -fsS -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' "$REGISTRY/v2/$REPO/manifests/$TAG" |
  jq '[.layers[].size] | add')
log "image $IMAGE: $(jq -n "$size/1e6 | floor") MB compressed in $LAYERS layers"

# time_pulls SOCKET: RUNS cold pulls (the image removed, and its content with it, before each)
time_pulls() {
  local sock=$1 i t0 t1
  for ((i = 0; i < RUNS; i++)); do
    "$BERTHCTL" -r "unix://$sock" rmi "$IMAGE" >/dev/null 2>&1 || true
    sync; echo 3 >/proc/sys/vm/drop_caches
    t0=$(date +%s%N)
    "$BERTHCTL" -r "unix://$sock" pull "$IMAGE" >/dev/null
    t1=$(date +%s%N)
    echo $(((t1 - t0) / 1000000))
  done
  "$BERTHCTL" -r "unix://$sock" rmi "$IMAGE" >/dev/null 2>&1 || true
}
median() { sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }

log "containerd: $RUNS cold pulls"
"$KIT/containerd.sh" start >/dev/null
containerd_ms=$(time_pulls /run/critest-kit/containerd.sock | median)
"$KIT/containerd.sh" stop >/dev/null

log "berth: $RUNS cold pulls"
cat >"$WORK/berth.yaml" <<YAML
registry:
  hosts:
    "*":
      mirrors: ["$REGISTRY"]
      skip_upstream: true
YAML
"$BERTHD" --config "$WORK/berth.yaml" --root "$WORK/root" --state-dir "$WORK/run" --socket "$WORK/run/berth.sock" \
  --log-level warn --ready-fd 4 4>"$WORK/ready" 2>"$WORK/berthd.log" &
BERTHD_PID=$!
for _ in $(seq 100); do grep -q READY "$WORK/ready" 2>/dev/null && break; sleep 0.1; done
berth_ms=$(time_pulls "$WORK/run/berth.sock" | median)

printf '\npull + unpack of %s (%d MB compressed, %d layers), median of %d cold pulls:\n' \
  "$IMAGE" $((size / 1000000)) "$LAYERS" "$RUNS"
printf '  containerd %s: %6d ms\n' "$(dpkg-query -W -f='${Version}' containerd)" "$containerd_ms"
printf '  berth:                 %6d ms\n' "$berth_ms"
printf '  berth speed-up:        %s x\n' "$(awk -v a="$containerd_ms" -v b="$berth_ms" 'BEGIN {printf "%.2f", a/b}')"
