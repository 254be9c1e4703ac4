# shellcheck shell=bash
# await_berthd_ready PID READY_FILE LOG: waits (30 s at most) for a berthd started with
# `--ready-fd` writing to READY_FILE to say READY; dies, showing LOG's tail, if it exits
# first or never says it. Sourced by bench/cri_setup.sh and test/e2e/node-conformance.sh,
# which define die.
await_berthd_ready() {
	local pid=$1 ready=$2 log=$3 i
	for ((i = 0; i < 300; i++)); do
		grep -q READY "$ready" 2>/dev/null && return 0
		kill -0 "$pid" 2>/dev/null || { tail -n 20 "$log" >&2; die "berthd exited at start (log: $log)"; }
		sleep 0.1
	done
	die "berthd not ready after 30 s (log: $log)"
}
