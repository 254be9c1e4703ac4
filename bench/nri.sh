#!/bin/bash
# bench/nri.sh: what hosting an NRI plugin costs pod and container start. cri_bench
# --mode lifecycle against berthd with NRI off, then with NRI on and one plugin that
# answers every event at once with nothing (build/bench/nri_noop_plugin, launched by
# berthd from nri.plugin_path), and against the kit's containerd (no plugin; Debian's
# 1.6 has no NRI of this version) in the same run, for the ratio.
#
#   bench/nri.sh       # as root, after ./dev.sh build
# Env: BENCH_RUNS (50), and those of bench/cri_setup.sh.
# Prints the p50 of each step for the three, and what the plugin added to berth's.
# A cycle sends the plugin 9 events: RunPodSandbox, CreateContainer,
# PostCreateContainer, StartContainer, PostStartContainer, StopContainer,
# RemoveContainer, StopPodSandbox, RemovePodSandbox.
set -euo pipefail
. "$(dirname "$(readlink -f "$0")")/cri_setup.sh"
RUNS=${BENCH_RUNS:-50}
NOOP_PLUGIN=$REPO_DIR/build/bench/nri_noop_plugin
[ -x "$NOOP_PLUGIN" ] || die "no $NOOP_PLUGIN: run ./dev.sh build"

bench_prepare nri
start_containerd
log "containerd: lifecycle, $RUNS runs"
cri_bench containerd lifecycle --runs "$RUNS" --stop-timeout 0 >/dev/null

start_berthd
log "berth, NRI off: lifecycle, $RUNS runs"
cri_bench berth lifecycle --runs "$RUNS" --stop-timeout 0 >/dev/null
mv "$RESULTS/berth-lifecycle.json" "$RESULTS/berth-off-lifecycle.json"
stop_berthd

mkdir -p "$WORK/berth/nri-plugins"
cp "$NOOP_PLUGIN" "$WORK/berth/nri-plugins/10-noop"
BERTH_NRI_SOCKET=$WORK/berth/nri.sock start_berthd
# The plugin is in once berthd logs it admitted.
for ((i = 0; i < 100; i++)); do grep -q 'NRI: plugin admitted' "$WORK/berth/berthd.log" && break; sleep 0.1; done
grep -q 'NRI: plugin admitted' "$WORK/berth/berthd.log" || die "the no-op plugin was not admitted"
log "berth, NRI on with a no-op plugin: lifecycle, $RUNS runs"
cri_bench berth lifecycle --runs "$RUNS" --stop-timeout 0 >/dev/null
mv "$RESULTS/berth-lifecycle.json" "$RESULTS/berth-nri-lifecycle.json"

printf '\n%d runs each, same client (cri_bench), p50 ms\n' "$RUNS"
printf '  %-46s %9s %9s %9s %9s %9s\n' step 'no NRI' 'noop' added 'containerd' 'noop/ctrd'
jq -r -n --slurpfile off "$RESULTS/berth-off-lifecycle.json" --slurpfile on "$RESULTS/berth-nri-lifecycle.json" \
	--slurpfile c "$RESULTS/containerd-lifecycle.json" '
	def by_step(r): r[0].steps | map({key: .step, value: .p50_ms}) | from_entries;
	by_step($off) as $o | by_step($c) as $cs
	| $on[0].steps[] | [.step, ($o[.step] // ""), .p50_ms, (if $o[.step] then .p50_ms - $o[.step] else "" end),
	                    ($cs[.step] // ""), (if $cs[.step] then .p50_ms / $cs[.step] else "" end)] | @tsv' |
	awk -F'\t' 'function f(v, fmt) { return v == "" ? "-" : sprintf(fmt, v) }
		{ printf "  %-46s %9s %9s %9s %9s %9s\n", $1, f($2, "%.2f"), f($3, "%.2f"), f($4, "%+.2f"), f($5, "%.2f"), f($6, "%.2f") }'

# The protocol's share: one CreateContainer-sized event's round trip in one process,
# no plugin process to schedule.
ROUNDTRIP=$(dirname "$NOOP_PLUGIN")/nri_roundtrip
[ -x "$ROUNDTRIP" ] && printf '\nwire alone (bench/nri_roundtrip.cc): %s\n' "$("$ROUNDTRIP" 20000)"
