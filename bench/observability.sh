#!/bin/bash
# bench/observability.sh: what reading a full node's statistics costs, berth against containerd
# (the critest-kit's Debian containerd 1.6 + runc), both driven by the same CRI client
# (build/bench/cri_bench) in one run.
#
#   bench/observability.sh   # as root, after ./dev.sh build
# Env: BENCH_PODS (100), BENCH_RUNS (20), and those of bench/cri_setup.sh.
#
# For each runtime: BENCH_PODS pods with one running "sleep" container each, then BENCH_RUNS
# (+1 warm-up) calls each of ListContainerStats, ListPodSandboxStats and ListPodSandboxMetrics
# (what kubelet calls on every housekeeping and every /metrics/cadvisor scrape with
# PodAndContainerStatsFromCRI; an RPC the runtime lacks is reported as such), then the pods
# are removed. For berth also BENCH_RUNS scrapes of its own /metrics (Prometheus' view of the
# daemon), timed around one HTTP/1.0 GET on 127.0.0.1.
# Prints the table; raw JSON under /tmp/berth-bench-observability-results-*/. Stops what it
# started; sends traffic only to 127.0.0.1 and the pods' namespaces.
set -euo pipefail
. "$(dirname "$(readlink -f "$0")")/cri_setup.sh"
PODS=${BENCH_PODS:-100}
RUNS=${BENCH_RUNS:-20}
export BENCH_BERTH_METRICS=1

bench_prepare observability
start_containerd
start_berthd

# scrape_ms: one GET /metrics from berthd, in ms (bash's /dev/tcp: no client to install).
scrape_ms() {
	local start end
	start=$(date +%s%N)
	exec 5<>"/dev/tcp/127.0.0.1/$BERTH_METRICS_PORT"
	printf 'GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&5
	cat <&5 >"$WORK/scrape.txt"
	exec 5<&-
	end=$(date +%s%N)
	awk -v ns=$((end - start)) 'BEGIN { printf "%.3f\n", ns / 1e6 }'
}

for rt in containerd berth; do
	log "$rt: $PODS pods with a running container"
	cri_bench "$rt" memory --pods "$PODS" >/dev/null
	log "$rt: $RUNS stats and metrics listings each"
	cri_bench "$rt" stats --runs "$RUNS" | tee "$RESULTS/$rt-stats.txt"
	if [ "$rt" = berth ]; then
		scrape_ms >/dev/null # warm-up
		for ((i = 0; i < RUNS; i++)); do scrape_ms; done | sort -n >"$RESULTS/berth-scrape-ms.txt"
		log "berth: /metrics is $(wc -c <"$WORK/scrape.txt") bytes"
	fi
	cri_bench "$rt" cleanup >/dev/null
done

{
	printf '\n%d pods with one running container each; %d calls per RPC (+1 warm-up), same client\n' "$PODS" "$RUNS"
	printf '  %-24s %10s %10s %10s %10s %8s\n' rpc berth_p50 berth_p95 ctrd_p50 ctrd_p95 'b/c p50'
	for rpc in ListContainerStats ListPodSandboxStats ListPodSandboxMetrics; do
		b=$(jq -r --arg r "$rpc" '.steps[] | select(.step == $r) | "\(.p50_ms) \(.p95_ms)"' "$RESULTS/berth-stats.json")
		c=$(jq -r --arg r "$rpc" '.steps[] | select(.step == $r) | "\(.p50_ms) \(.p95_ms)"' "$RESULTS/containerd-stats.json")
		read -r bp50 bp95 <<<"${b:-- -}"
		read -r cp50 cp95 <<<"${c:-- -}"
		ratio=-
		[ -n "$c" ] && [ -n "$b" ] && ratio=$(awk -v b="$bp50" -v c="$cp50" 'BEGIN { printf "%.2f", b / c }')
		printf '  %-24s %10s %10s %10s %10s %8s\n' "$rpc" "$bp50" "$bp95" "${cp50}" "${cp95}" "$ratio"
	done
	n=$(wc -l <"$RESULTS/berth-scrape-ms.txt")
	printf '  berth /metrics scrape: p50 %s ms, max %s ms (%d scrapes)\n' \
		"$(sed -n "$(((n + 1) / 2))p" "$RESULTS/berth-scrape-ms.txt")" "$(tail -n 1 "$RESULTS/berth-scrape-ms.txt")" "$n"
	printf '  (containerd %s fails the RPCs whose column is "-": see containerd-stats.txt)\n' \
		"$(dpkg-query -W -f='${Version}' containerd 2>/dev/null || echo '?')"
} | tee "$RESULTS/summary.txt"
