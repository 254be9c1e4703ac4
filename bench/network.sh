#!/bin/bash
# bench/network.sh: pod network set-up and tear-down, berth against containerd (the
# critest-kit's Debian containerd 1.6), both driven by the same CRI client
# (build/bench/cri_bench --mode network) in one run.
#
#   bench/network.sh         # as root, after ./dev.sh build
# Env: BENCH_RUNS (50), and those of bench/cri_setup.sh (KIT, BENCH_BERTH_CNI, ...).
#
# Each runtime runs BENCH_RUNS pods with no containers, RunPodSandbox + StopPodSandbox +
# RemovePodSandbox, alternating a pod with its own network and a host-network pod. The CNI
# work (ADD at run, DEL at stop) is what separates the two, so set-up = p50(run, pod net) -
# p50(run, host net) and tear-down the same for stop (p95 likewise). On containerd the pod-net
# figure also holds the netns it makes for the pause container, on berth the pinned netns;
# both are part of giving a pod its network.
# Network config, the same for both by default: the kit's conflist, which containerd.sh writes
# to /etc/critest-kit/cni/net.d/10-critest-kit.conflist and containerd reads from there;
# berthd gets a copy of that file in its own conf dir (bridge critest0, host-local
# 10.88.0.0/16, portmap, loopback; plugins from /usr/lib/cni for both). containerd.sh rewrites
# its conf dir at every start, so containerd cannot be given berth's
# manifests/cni/10-berth.conflist; BENCH_BERTH_CNI=berth gives that one to berthd alone, and
# the figures then compare different plugin chains (berth's adds ipMasq and bandwidth).
# Prints the table; raw JSON under /tmp/berth-bench-network-results-*/. Stops what it started.
set -euo pipefail
. "$(dirname "$(readlink -f "$0")")/cri_setup.sh"
RUNS=${BENCH_RUNS:-50}

bench_prepare network
start_containerd
start_berthd
[ "$BERTH_CNI" = kit ] || log "warning: berthd runs $BERTH_CONFLIST, containerd the kit's conflist: not like for like"

for rt in containerd berth; do
	log "$rt: network, $RUNS pods with their own network and $RUNS on the host's (+1 warm-up each)"
	cri_bench "$rt" network --runs "$RUNS" | tee "$RESULTS/$rt-network.txt"
done

{
	printf '\npod network cost (pod with its own network minus host-network pod), %d pods each, same client\n' "$RUNS"
	printf 'berth %s vs containerd %s; conflist: berthd %s, containerd %s\n\n' \
		"$(jq -r .runtime.version "$RESULTS/berth-network.json")" \
		"$(jq -r .runtime.version "$RESULTS/containerd-network.json")" \
		"$([ "$BERTH_CNI" = kit ] && echo "$KIT_CONFLIST (copy)" || echo "$BERTH_CONFLIST")" "$KIT_CONFLIST"
	printf '  %-36s %9s %9s %9s %9s %8s\n' '' berth_p50 berth_p95 ctrd_p50 ctrd_p95 'b/c p50'
	jq -r -n --slurpfile b "$RESULTS/berth-network.json" --slurpfile c "$RESULTS/containerd-network.json" '
		def step($r; $name): $r.steps[] | select(.step == $name);
		def cell($r; $name; $field): (step($r; $name) | .[$field]) // "";
		((["set-up (RunPodSandbox)", "setup"], ["tear-down (StopPodSandbox)", "teardown"],
		  ["remove (RemovePodSandbox)", "remove"]) as [$title, $key]
		 | [$title, $b[0].network[$key].p50_ms, $b[0].network[$key].p95_ms,
		    $c[0].network[$key].p50_ms, $c[0].network[$key].p95_ms] | @tsv),
		(["RunPodSandbox", "StopPodSandbox", "RemovePodSandbox"][] as $s
		 | ($s, $s + " (host net)") as $name
		 | [$name, cell($b[0]; $name; "p50_ms"), cell($b[0]; $name; "p95_ms"),
		    cell($c[0]; $name; "p50_ms"), cell($c[0]; $name; "p95_ms")] | @tsv)' |
		awk -F'\t' 'function r(a, b) { return b > 0 ? sprintf("%.2f", a / b) : "-" }
			NR == 4 { print "  whole calls:" }
			{ printf "  %-36s %9.1f %9.1f %9.1f %9.1f %8s\n", $1, $2, $3, $4, $5, r($2, $4) }'
	printf '\nraw reports: %s\n' "$RESULTS"
} | tee "$RESULTS/summary.txt"
