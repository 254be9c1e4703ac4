# shellcheck shell=bash
# bench/cri_setup.sh: sourced by bench/lifecycle.sh and bench/network.sh (not run directly).
# Brings up the two runtimes they compare, each on its own socket, both reached by the same
# client (build/bench/cri_bench):
#   - containerd: the critest-kit's (Debian containerd 1.6 + runc), $KIT/containerd.sh start;
#   - berthd:     build/cmd/berthd on a root, state dir, socket and CNI conf dir under $WORK,
#                 every registry mirrored to the kit's loopback registry with no upstream.
# CNI: by default berthd gets a copy of the conflist the kit writes for containerd
# (/etc/critest-kit/cni/net.d/10-critest-kit.conflist: bridge critest0, host-local
# 10.88.0.0/16, portmap, loopback; no masquerade, no default route, the kit's FORWARD guard
# keeps pod traffic on the bridge), so both runtimes run the same plugin chain and a
# difference in RunPodSandbox/StopPodSandbox is the runtime's, not the network config's.
# BENCH_BERTH_CNI=berth gives berthd manifests/cni/10-berth.conflist instead (bridge berth0,
# 10.87.0.0/16, ipMasq, portmap with snat, bandwidth, loopback): more plugins and iptables
# work than containerd's chain, so pod start/stop figures then do not compare like for like.
# Env: KIT (../shared/critest-kit), BENCH_IMAGE (registry.k8s.io/e2e-test-images/busybox:1.29-2),
# BENCH_BERTH_CNI (kit|berth), BENCH_BERTH_HANDLER (berthd's default handler if empty; runc
# runs the same OCI runtime as containerd), BENCH_BERTH_LOG_LEVEL (info, as the kit's containerd).
# Nothing here sends traffic beyond 127.0.0.1 and the pods' own namespaces.

REPO_DIR=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)
. "$REPO_DIR/test/lib/berthd_ready.sh"
KIT=${KIT:-$REPO_DIR/../shared/critest-kit}
REGISTRY=http://127.0.0.1:5000
IMAGE=${BENCH_IMAGE:-registry.k8s.io/e2e-test-images/busybox:1.29-2}
# containerd's CRI plugin runs every pod on this image (containerd.sh: SANDBOX_IMAGE)
PAUSE_IMAGE=registry.k8s.io/pause:3.6
BERTHD=$REPO_DIR/build/cmd/berthd
CRI_BENCH=$REPO_DIR/build/bench/cri_bench
BERTH_CNI=${BENCH_BERTH_CNI:-kit}
BERTH_HANDLER=${BENCH_BERTH_HANDLER:-}
BERTH_LOG_LEVEL=${BENCH_BERTH_LOG_LEVEL:-info}
KIT_RUN=/run/critest-kit
CONTAINERD_SOCK=$KIT_RUN/containerd.sock
CONTAINERD_PIDFILE=$KIT_RUN/containerd.pid
CONTAINERD_SHIM=/usr/bin/containerd-shim-runc-v2
KIT_CONFLIST=/etc/critest-kit/cni/net.d/10-critest-kit.conflist
BERTH_CONFLIST=$REPO_DIR/manifests/cni/10-berth.conflist
BERTH_BRIDGE=berth0

WORK=    # runtime state (berthd's root, state dir, pod logs): removed at exit
RESULTS= # raw JSON reports and tables: kept
BERTHD_PID=
BERTH_SOCK=
started_registry=
started_containerd=
made_berth_bridge=

log() { printf '[bench] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# registry_path REF: where images.sh pushes REF in the kit's registry: the registry host
# dropped, docker.io's short names under library/.
registry_path() {
	local ref=$1 name tag=latest host=docker.io
	name=${ref%@*}
	if [[ ${name##*/} == *:* ]]; then tag=${name##*:} name=${name%:*}; fi
	if [[ $name == */* && (${name%%/*} == *[.:]* || ${name%%/*} == localhost) ]]; then
		host=${name%%/*} name=${name#*/}
	fi
	[[ $host == docker.io && $name != */* ]] && name=library/$name
	echo "$name/manifests/$tag"
}
registry_has() { # REF
	curl -fsS -o /dev/null --max-time 5 \
		-H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
		-H 'Accept: application/vnd.oci.image.manifest.v1+json' \
		-H 'Accept: application/vnd.docker.distribution.manifest.list.v2+json' \
		-H 'Accept: application/vnd.oci.image.index.v1+json' \
		"$REGISTRY/v2/$(registry_path "$1")" 2>/dev/null
}

# bench_prepare NAME: checks, the registry and its images, $WORK and $RESULTS, the exit trap.
bench_prepare() {
	[ "$(id -u)" = 0 ] || die "run as root"
	[ -x "$BERTHD" ] && [ -x "$CRI_BENCH" ] || die "build first: ./dev.sh build (needs $BERTHD and $CRI_BENCH)"
	[ -d "$KIT" ] || die "critest-kit not found at $KIT (set KIT=)"
	command -v jq >/dev/null || die "jq is needed (apt-get install jq)"
	case $BERTH_CNI in kit | berth) ;; *) die "BENCH_BERTH_CNI must be kit or berth" ;; esac
	# The kit's containerd may be serving someone else's critest run: do not take it over.
	if "$KIT/containerd.sh" status >/dev/null 2>&1; then
		die "the kit's containerd is already running; stop it first ($KIT/containerd.sh stop)"
	fi
	WORK=$(mktemp -d "/tmp/berth-bench-$1-XXXXXX")
	RESULTS=$(mktemp -d "/tmp/berth-bench-$1-results-XXXXXX")
	trap bench_cleanup EXIT
	trap 'exit 130' INT TERM
	if ! curl -fsS -o /dev/null --max-time 5 "$REGISTRY/v2/"; then
		"$KIT/registry.sh" start
		started_registry=1
	fi
	if ! registry_has "$IMAGE" || ! registry_has "$PAUSE_IMAGE"; then
		log "$IMAGE or $PAUSE_IMAGE missing from the kit registry: running $KIT/images.sh"
		"$KIT/images.sh" >&2
		registry_has "$IMAGE" || die "$IMAGE is not in the kit registry after images.sh"
	fi
	log "work dir $WORK, results $RESULTS; image $IMAGE; berthd CNI: $BERTH_CNI conflist"
}

start_containerd() {
	# Set first: a start that fails half-way has changed the host already, and stop undoes it.
	started_containerd=1
	"$KIT/containerd.sh" start
	[ -S "$CONTAINERD_SOCK" ] || die "containerd has no socket $CONTAINERD_SOCK"
	[ -f "$KIT_CONFLIST" ] || die "the kit's conflist $KIT_CONFLIST is missing after containerd.sh start"
}

# start_berthd: needs start_containerd first when BERTH_CNI=kit (the kit writes the conflist
# and its FORWARD guard at start).
start_berthd() {
	local dir=$WORK/berth
	mkdir -p "$dir/net.d" "$dir/run"
	if [ "$BERTH_CNI" = kit ]; then
		cp "$KIT_CONFLIST" "$dir/net.d/"
	else
		ip link show "$BERTH_BRIDGE" >/dev/null 2>&1 || made_berth_bridge=1
		cp "$BERTH_CONFLIST" "$dir/net.d/"
	fi
	cat >"$dir/berthd.yaml" <<YAML
registry:
  hosts:
    "*":
      mirrors: ["$REGISTRY"]
      skip_upstream: true
YAML
	# BENCH_BERTH_METRICS=1: /metrics on a port the kernel picks, read back into BERTH_METRICS_PORT.
	[ -n "${BENCH_BERTH_METRICS:-}" ] && printf 'metrics:\n  address: 127.0.0.1:0\n' >>"$dir/berthd.yaml"
	# BERTH_NRI_SOCKET=PATH: NRI on, plugins connecting at PATH, none launched.
	[ -n "${BERTH_NRI_SOCKET:-}" ] &&
		printf 'nri:\n  enable: true\n  socket_path: %s\n  plugin_path: %s\n' "$BERTH_NRI_SOCKET" "$dir/nri-plugins" \
			>>"$dir/berthd.yaml"
	BERTH_SOCK=$dir/run/berth.sock
	"$BERTHD" --config "$dir/berthd.yaml" --root "$dir/root" --state-dir "$dir/run" --socket "$BERTH_SOCK" \
		--cni-conf-dir "$dir/net.d" --cni-bin-dir /usr/lib/cni --log-level "$BERTH_LOG_LEVEL" \
		--ready-fd 4 4>"$dir/ready" 2>"$dir/berthd.log" &
	BERTHD_PID=$!
	await_berthd_ready "$BERTHD_PID" "$dir/ready" "$dir/berthd.log"
	if [ -n "${BENCH_BERTH_METRICS:-}" ]; then
		BERTH_METRICS_PORT=$(sed -n 's/.*serving metrics .*port=\([0-9]*\).*/\1/p' "$dir/berthd.log" | head -n 1)
		[ -n "$BERTH_METRICS_PORT" ] || die "berthd did not say where it serves metrics"
	fi
	log "berthd pid $BERTHD_PID on $BERTH_SOCK (log $dir/berthd.log)"
}

socket_of() { # RUNTIME
	case $1 in berth) echo "$BERTH_SOCK" ;; containerd) echo "$CONTAINERD_SOCK" ;; esac
}
daemon_pid_of() { # RUNTIME
	case $1 in berth) echo "$BERTHD_PID" ;; containerd) cat "$CONTAINERD_PIDFILE" ;; esac
}

# cri_bench RUNTIME MODE [FLAGS...]: the report goes to $RESULTS/RUNTIME-MODE.json.
cri_bench() {
	local rt=$1 mode=$2
	shift 2
	local handler=()
	[ "$rt" = berth ] && [ -n "$BERTH_HANDLER" ] && handler=(--handler "$BERTH_HANDLER")
	"$CRI_BENCH" --socket "$(socket_of "$rt")" --mode "$mode" --image "$IMAGE" --log-root "$WORK/logs-$rt" \
		--out "$RESULTS/$rt-$mode.json" "${handler[@]}" "$@"
}

mounts_below() { # DIR
	awk -v d="$1/" 'index($5, d) == 1 { print $5 }' /proc/self/mountinfo
}

stop_berthd() {
	[ -n "$BERTHD_PID" ] || return 0
	# berthd leaves shims and containers running when it stops: remove the pods first.
	"$CRI_BENCH" --socket "$BERTH_SOCK" --mode cleanup --log-root "$WORK/logs-berth" >/dev/null ||
		log "warning: removing berth's pods failed"
	kill -TERM "$BERTHD_PID" 2>/dev/null || true
	local i
	for ((i = 0; i < 300; i++)); do kill -0 "$BERTHD_PID" 2>/dev/null || break; sleep 0.1; done
	if kill -0 "$BERTHD_PID" 2>/dev/null; then
		log "berthd (pid $BERTHD_PID) ignored SIGTERM for 30 s: SIGKILL"
		kill -KILL "$BERTHD_PID" 2>/dev/null || true
	fi
	wait "$BERTHD_PID" 2>/dev/null || true
	BERTHD_PID=
}

bench_cleanup() {
	set +e
	stop_berthd
	if [ -n "$started_containerd" ]; then
		# containerd.sh stop drains pods only when crictl is installed; cri_bench does it anyway.
		"$CRI_BENCH" --socket "$CONTAINERD_SOCK" --mode cleanup --log-root "$WORK/logs-containerd" >/dev/null ||
			log "warning: removing containerd's pods failed"
		"$KIT/containerd.sh" stop
	fi
	[ -n "$started_registry" ] && "$KIT/registry.sh" stop
	if [ -n "$made_berth_bridge" ] && ip link show "$BERTH_BRIDGE" >/dev/null 2>&1; then
		ip link del "$BERTH_BRIDGE" || log "warning: cannot delete bridge $BERTH_BRIDGE"
	fi
	[ -n "$WORK" ] && [ -d "$WORK" ] || return 0
	local left
	left=$(mounts_below "$WORK")
	if [ -n "$left" ]; then
		log "warning: mounts remain below $WORK, leaving it in place:"
		sed 's/^/  /' <<<"$left" >&2
	else
		rm -rf "$WORK"
	fi
}
