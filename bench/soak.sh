#!/bin/bash
# bench/soak.sh: berth under long load (issue #16), against berthd alone:
#   1. SOAK_CYCLES (1000) pod cycles by one client: pod, container, start, ExecSync, stop,
#      remove (cri_bench --mode lifecycle --execs 1 --stop-timeout 0);
#   2. a churn of SOAK_PODS (110) pods by SOAK_CLIENTS (10) clients for SOAK_MINUTES (30):
#      each client replaces its pods in turn (cri_bench --mode churn).
# berthd's RSS and open fds are sampled every 10 s into $RESULTS/samples.tsv; after each
# phase the host is checked for what berth left: berth-shim processes, mounts below its
# dirs, pod cgroups, veths on its bridge, IPAM leases. The run fails if anything is left,
# and prints RSS and fds at the start and end of each phase, the churn's p99 in its first
# and last windows, and their ratio.
#
#   bench/soak.sh        # as root, after ./dev.sh build; SOAK_MINUTES=5 for a shorter run
# Env: SOAK_CYCLES, SOAK_PODS, SOAK_CLIENTS, SOAK_MINUTES, and those of bench/cri_setup.sh
# (KIT, BENCH_IMAGE, BENCH_BERTH_HANDLER, ...). berthd runs on its shipped network
# (manifests/cni, bridge berth0), as on a node. Nothing leaves the machine.
set -euo pipefail
. "$(dirname "$(readlink -f "$0")")/cri_setup.sh"
CYCLES=${SOAK_CYCLES:-1000}
PODS=${SOAK_PODS:-110}
CLIENTS=${SOAK_CLIENTS:-10}
MINUTES=${SOAK_MINUTES:-30}
SECONDS_OF_CHURN=${SOAK_SECONDS:-$((MINUTES * 60))}  # SOAK_SECONDS: a quick try of the script
BERTH_CNI=berth

bench_prepare soak
start_berthd

fds_of() { find "/proc/$1/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l; }
rss_kb_of() { awk '/^VmRSS:/ { print $2; exit }' "/proc/$1/status" 2>/dev/null || echo 0; }
sample() { # PHASE
	printf '%s\t%s\t%s\t%s\n' "$(date +%s)" "$1" "$(rss_kb_of "$BERTHD_PID")" "$(fds_of "$BERTHD_PID")" \
		>>"$RESULTS/samples.tsv"
}
sampler() { # PHASE: every 10 s until killed
	while :; do sample "$1"; sleep 10; done
}

# What berth left on the host once every pod is gone: one line per leftover.
leftovers() {
	local dir=$WORK/berth
	pgrep -f "berth-shim .*$dir" | sed 's/^/shim process /' || true
	mounts_below "$dir" | sed 's/^/mount /'
	find /sys/fs/cgroup -mindepth 2 -maxdepth 3 -type d -path '*/berth/*' 2>/dev/null | sed 's/^/cgroup /'
	ip -o link show master "$BERTH_BRIDGE" 2>/dev/null | awk '{ print "veth " $2 }'
	find /var/lib/cni/networks/berth -type f ! -name lock ! -name 'last_reserved_ip*' 2>/dev/null | sed 's/^/lease /'
	find "$dir/run/pods" "$dir/root/containers" -mindepth 1 -maxdepth 1 2>/dev/null | sed 's/^/state /'
}

phase() { # NAME MODE FLAGS...
	local name=$1
	shift
	sample "$name-start"
	sampler "$name" &
	local sampler_pid=$!
	cri_bench berth "$@"
	kill "$sampler_pid"
	wait "$sampler_pid" 2>/dev/null || true
	sample "$name-end"
	local left
	left=$(leftovers)
	if [ -n "$left" ]; then
		log "after $name, berth left:"
		printf '  %s\n' "$left" >&2
		exit 1
	fi
	log "after $name: nothing left"
}

: >"$RESULTS/samples.tsv"
log "phase 1: $CYCLES pod cycles"
phase cycles lifecycle --runs "$CYCLES" --execs 1 --stop-timeout 0
log "phase 2: $PODS pods churned by $CLIENTS clients for $SECONDS_OF_CHURN s"
phase churn churn --pods "$PODS" --clients "$CLIENTS" --duration "$SECONDS_OF_CHURN" --stop-timeout 0

report() { # PHASE
	awk -F'\t' -v p="$1" '
		$2 == p "-start" { printf "  %-7s start: RSS %6.1f MiB, %4d fds\n", p, $3 / 1024, $4 }
		$2 == p "-end"   { printf "  %-7s end:   RSS %6.1f MiB, %4d fds\n", p, $3 / 1024, $4 }
		$2 == p          { if ($3 > max) max = $3 }
		END { if (max) printf "  %-7s max RSS while running: %.1f MiB\n", p, max / 1024 }' "$RESULTS/samples.tsv"
}
echo "soak: berthd pid $BERTHD_PID"
report cycles
report churn
jq -r '"  cycles: " + (.steps[] | select(.step == "RunPodSandbox+CreateContainer+StartContainer")
	| "pod+container start p50 \(.p50_ms) ms p99 \(.p99_ms) ms over \(.n)")' "$RESULTS/berth-lifecycle.json"
jq -r '"  churn: \(.cycles) cycles; p99 first window " +
	((.steps[] | select(.step == "churn cycle (first window)") | .p99_ms) | tostring) + " ms, last window " +
	((.steps[] | select(.step == "churn cycle (last window)") | .p99_ms) | tostring) + " ms, ratio \(.p99_last_over_first)"' \
	"$RESULTS/berth-churn.json"
echo "  leftovers after each phase: 0"
echo "raw: $RESULTS"
