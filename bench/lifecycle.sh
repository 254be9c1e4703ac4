#!/bin/bash
# bench/lifecycle.sh: pod and container lifecycle latency, ExecSync latency and memory per pod,
# berth against containerd (the critest-kit's Debian containerd 1.6 + runc), both driven by the
# same CRI client (build/bench/cri_bench) in one run.
#
#   bench/lifecycle.sh       # as root, after ./dev.sh build
# Env: BENCH_RUNS (50), BENCH_PODS (100), BENCH_STOP_TIMEOUT (10), BENCH_EXECS (5),
# BENCH_PARALLEL_PODS (30), BENCH_CLIENTS (10), and those of
# bench/cri_setup.sh (KIT, BENCH_IMAGE, BENCH_BERTH_CNI, BENCH_BERTH_HANDLER, ...).
#
# For each runtime (containerd first, then berth; both daemons up throughout, the idle one
# waiting): cri_bench --mode lifecycle (BENCH_RUNS iterations after one warm-up), then
# BENCH_PODS pods with one running "sleep" container each, measured, then removed; then
# cri_bench --mode parallel: BENCH_PARALLEL_PODS pods started, then removed, by BENCH_CLIENTS
# clients at once (kubelet at node start or drain).
# StopContainer: "sleep" as PID 1 ignores SIGTERM, so with BENCH_STOP_TIMEOUT=10 that step is
# the 10 s wait plus the kill on both runtimes (and the run takes ~10 min per runtime);
# BENCH_STOP_TIMEOUT=0 measures the kill path alone.
# Memory: the daemon's VmRSS and Pss (smaps_rollup) before the pods (after its pull and the
# lifecycle run) and with them; the per-pod helpers (berth: berth-shim processes whose command
# line names this run's temp dir; containerd: containerd-shim-runc-v2 processes whose command
# line names the kit's socket) and the processes the runtime adds per pod (containerd's pause,
# a child of the shim; berth has none), summed and divided by the pod count.
# Prints the tables; raw JSON under /tmp/berth-bench-lifecycle-results-*/. Stops what it started.
set -euo pipefail
. "$(dirname "$(readlink -f "$0")")/cri_setup.sh"
RUNS=${BENCH_RUNS:-50}
PODS=${BENCH_PODS:-100}
STOP_TIMEOUT=${BENCH_STOP_TIMEOUT:-10}
EXECS=${BENCH_EXECS:-5}
PARALLEL_PODS=${BENCH_PARALLEL_PODS:-30}
CLIENTS=${BENCH_CLIENTS:-10}

bench_prepare lifecycle
start_containerd
start_berthd

# A process may be gone by the time it is read: it then counts 0.
rss_kb() { local v; v=$(awk '/^VmRSS:/ { print $2; exit }' "/proc/$1/status" 2>/dev/null || true); echo "${v:-0}"; }
pss_kb() { local v; v=$(awk '/^Pss:/ { print $2; exit }' "/proc/$1/smaps_rollup" 2>/dev/null || true); echo "${v:-0}"; }

berth_helpers() {
	local p
	for p in /proc/[0-9]*; do
		[ "$(cat "$p/comm" 2>/dev/null)" = berth-shim ] || continue
		tr '\0' '\n' <"$p/cmdline" 2>/dev/null | grep -qF -- "$WORK/" && echo "${p#/proc/}"
	done
	return 0
}
containerd_helpers() {
	local p
	for p in /proc/[0-9]*; do
		[ "$(readlink "$p/exe" 2>/dev/null)" = "$CONTAINERD_SHIM" ] || continue
		tr '\0' '\n' <"$p/cmdline" 2>/dev/null | grep -qxF -- "$CONTAINERD_SOCK" && echo "${p#/proc/}"
	done
	return 0
}
children_named() { # NAME PARENT_PID...: processes called NAME whose parent is one of PARENT_PIDs
	local name=$1 p stat ppid
	shift
	local parents=" $* "
	for p in /proc/[0-9]*; do
		[ "$(cat "$p/comm" 2>/dev/null)" = "$name" ] || continue
		stat=$(cat "$p/stat" 2>/dev/null) || continue
		read -r _ ppid _ <<<"${stat##*) }"
		[[ $parents == *" $ppid "* ]] && echo "${p#/proc/}"
	done
	return 0
}
sum_kb() { # FN PID...: sum of FN (rss_kb or pss_kb) over the pids
	local fn=$1 total=0 p
	shift
	for p in "$@"; do total=$((total + $($fn "$p"))); done
	echo "$total"
}

# measure_memory RUNTIME: BENCH_PODS pods up, figures to $RESULTS/RUNTIME-memory.json, pods removed.
measure_memory() {
	local rt=$1 pid pods
	pid=$(daemon_pid_of "$rt")
	[ -n "$pid" ] && [ -d "/proc/$pid" ] || die "$rt: no daemon pid"
	local rss0 pss0 rss1 pss1
	rss0=$(rss_kb "$pid") pss0=$(pss_kb "$pid")
	log "$rt: starting $PODS pods with one sleep container each"
	pods=$(cri_bench "$rt" memory --pods "$PODS" | tail -n 1 | jq -r .pods)
	# Let the shims and containers settle (pages touched after start, exec'd runtimes gone).
	sleep 3
	rss1=$(rss_kb "$pid") pss1=$(pss_kb "$pid")
	local helpers=() sandboxes=()
	mapfile -t helpers < <("${rt}_helpers")
	[ ${#helpers[@]} -gt 0 ] && mapfile -t sandboxes < <(children_named pause "${helpers[@]}")
	jq -n --arg rt "$rt" --argjson pods "$pods" --argjson pid "$pid" \
		--argjson rss0 "$rss0" --argjson pss0 "$pss0" --argjson rss1 "$rss1" --argjson pss1 "$pss1" \
		--argjson helpers "${#helpers[@]}" \
		--argjson helper_rss "$(sum_kb rss_kb "${helpers[@]}")" --argjson helper_pss "$(sum_kb pss_kb "${helpers[@]}")" \
		--argjson sandboxes "${#sandboxes[@]}" \
		--argjson sandbox_rss "$(sum_kb rss_kb "${sandboxes[@]}")" --argjson sandbox_pss "$(sum_kb pss_kb "${sandboxes[@]}")" \
		'{runtime: $rt, pods: $pods, daemon_pid: $pid,
		  daemon_kb: {rss_before: $rss0, pss_before: $pss0, rss_with_pods: $rss1, pss_with_pods: $pss1},
		  helpers: {count: $helpers, rss_kb: $helper_rss, pss_kb: $helper_pss},
		  sandbox_processes: {count: $sandboxes, rss_kb: $sandbox_rss, pss_kb: $sandbox_pss}}' \
		>"$RESULTS/$rt-memory.json"
	log "$rt: ${#helpers[@]} helpers, ${#sandboxes[@]} pause processes; removing the pods"
	cri_bench "$rt" cleanup >/dev/null
}

for rt in containerd berth; do
	log "$rt: lifecycle, $RUNS runs (+1 warm-up), stop timeout ${STOP_TIMEOUT}s, $EXECS ExecSync each"
	cri_bench "$rt" lifecycle --runs "$RUNS" --execs "$EXECS" --stop-timeout "$STOP_TIMEOUT" |
		tee "$RESULTS/$rt-lifecycle.txt"
	measure_memory "$rt"
	log "$rt: $PARALLEL_PODS pods started and removed by $CLIENTS clients at once"
	cri_bench "$rt" parallel --pods "$PARALLEL_PODS" --clients "$CLIENTS" | tee "$RESULTS/$rt-parallel.txt"
done

# compare MODE: the steps of both runtimes' MODE reports side by side, with berth / containerd.
compare() {
	printf '  %-46s %9s %9s %9s %9s %8s\n' step berth_p50 berth_p95 ctrd_p50 ctrd_p95 'b/c p50'
	jq -r -n --slurpfile b "$RESULTS/berth-$1.json" --slurpfile c "$RESULTS/containerd-$1.json" '
		($c[0].steps | map({key: .step, value: .}) | from_entries) as $cs
		| $b[0].steps[] | . as $s | $cs[$s.step] as $x
		| [$s.step, $s.p50_ms, $s.p95_ms, ($x.p50_ms // ""), ($x.p95_ms // ""),
		   (if $x != null and $x.p50_ms > 0 then $s.p50_ms / $x.p50_ms else "" end)] | @tsv' |
		awk -F'\t' 'function f(v, fmt) { return v == "" ? "-" : sprintf(fmt, v) }
			{ printf "  %-46s %9s %9s %9s %9s %8s\n", $1, f($2, "%.1f"), f($3, "%.1f"), f($4, "%.1f"), f($5, "%.1f"), f($6, "%.2f") }'
}

{
	printf '\nberth %s vs containerd %s (Debian %s), %d runs each, same client (cri_bench)\n' \
		"$(jq -r .runtime.version "$RESULTS/berth-lifecycle.json")" \
		"$(jq -r .runtime.version "$RESULTS/containerd-lifecycle.json")" \
		"$(dpkg-query -W -f='${Version}' containerd 2>/dev/null || echo '?')" "$RUNS"
	printf 'berthd handler: %s; CNI: berthd %s conflist, containerd the kit conflist\n\n' \
		"${BERTH_HANDLER:-default}" "$BERTH_CNI"
	compare lifecycle

	printf '\n%d pods (one sleep container each) started, then stopped and removed, by %d clients at once\n' \
		"$PARALLEL_PODS" "$CLIENTS"
	compare parallel

	printf '\nmemory per pod (KiB; %s pods, one sleep container each); b/c = berth / containerd\n' "$PODS"
	printf '  %-34s %9s %9s %9s %9s %8s %8s\n' '' berth_rss berth_pss ctrd_rss ctrd_pss 'b/c rss' 'b/c pss'
	jq -r -n --slurpfile b "$RESULTS/berth-memory.json" --slurpfile c "$RESULTS/containerd-memory.json" '
		def rows: . as $m | ($m.pods | if . > 0 then . else 1 end) as $n
			| [(($m.daemon_kb.rss_with_pods - $m.daemon_kb.rss_before) / $n),
			   (($m.daemon_kb.pss_with_pods - $m.daemon_kb.pss_before) / $n),
			   ($m.helpers.rss_kb / $n), ($m.helpers.pss_kb / $n),
			   ($m.sandbox_processes.rss_kb / $n), ($m.sandbox_processes.pss_kb / $n)];
		($b[0] | rows) as $br | ($c[0] | rows) as $cr
		| ["daemon growth / pod", $br[0], $br[1], $cr[0], $cr[1]],
		  ["per-pod helpers (shims) / pod", $br[2], $br[3], $cr[2], $cr[3]],
		  ["pause processes / pod", $br[4], $br[5], $cr[4], $cr[5]],
		  ["total / pod", ($br[0] + $br[2] + $br[4]), ($br[1] + $br[3] + $br[5]),
		   ($cr[0] + $cr[2] + $cr[4]), ($cr[1] + $cr[3] + $cr[5])]
		| @tsv' |
		awk -F'\t' 'function r(a, b) { return b > 0 ? sprintf("%.2f", a / b) : "-" }
			{ printf "  %-34s %9.0f %9.0f %9.0f %9.0f %8s %8s\n", $1, $2, $3, $4, $5, r($2, $4), r($3, $5) }'
	for rt in berth containerd; do
		jq -r '"  \(.runtime): daemon pid \(.daemon_pid) RSS \(.daemon_kb.rss_before) -> \(.daemon_kb.rss_with_pods) KiB, PSS \(.daemon_kb.pss_before) -> \(.daemon_kb.pss_with_pods) KiB; \(.pods) pods, \(.helpers.count) helpers, \(.sandbox_processes.count) pause"' \
			"$RESULTS/$rt-memory.json"
	done
	printf '\nraw reports: %s\n' "$RESULTS"
} | tee "$RESULTS/summary.txt"
