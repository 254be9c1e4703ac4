#!/bin/bash
# bench/streaming.sh: the streaming server, berth against containerd (the critest-kit's
# Debian containerd 1.6 + runc) in one run, through the same client: bench/streambench,
# client-go's SPDY executor and port-forwarder (what kubelet proxies and kubectl uses),
# built here with Go from the module proxy.
#
#   bench/streaming.sh       # as root, after ./dev.sh build; needs Go (/usr/local/go/bin or PATH)
# Env: BENCH_RUNS (100), BENCH_BYTES (268435456), and those of bench/cri_setup.sh.
#
# For each runtime (containerd first, then berth; both daemons up throughout): one pod with
# a sleeping container and an echo server (busybox nc -ll -e cat on 8080), then
#   exec round trip: Exec RPC + SPDY upgrade + `true` + its exit status, BENCH_RUNS times;
#   stdout: `head -c BYTES /dev/zero` read by the client; stdin: BYTES into `wc -c`;
#   port-forward: BENCH_RUNS connections (25 bytes each way, half-close, echo to the end)
#   through one session, then one connection carrying BYTES/4 each way.
# Prints the table; raw JSON under /tmp/berth-bench-streaming-results-*/. Stops what it started.
set -euo pipefail
. "$(dirname "$(readlink -f "$0")")/cri_setup.sh"
RUNS=${BENCH_RUNS:-100}
BYTES=${BENCH_BYTES:-268435456}

GO=$(command -v go || echo /usr/local/go/bin/go)
[ -x "$GO" ] || die "Go is needed to build bench/streambench (client-go)"
bench_prepare streaming
log "building bench/streambench"
(cd "$REPO_DIR/bench/streambench" && GOFLAGS=-mod=mod GOTOOLCHAIN=local CGO_ENABLED=0 "$GO" build -o "$WORK/streambench" .)
start_containerd
start_berthd

for rt in containerd berth; do
	log "$rt: streaming"
	mkdir -p "$WORK/logs-$rt"
	"$WORK/streambench" -endpoint "unix://$(socket_of "$rt")" -image "$IMAGE" -runs "$RUNS" -bytes "$BYTES" \
		-log-root "$WORK/logs-$rt" -name "$rt" -out "$RESULTS/$rt-streaming.json" >/dev/null
done

printf '\nstreaming: berth vs containerd %s, same client (client-go SPDY), %d sessions/connections, %d MiB\n' \
	"$(containerd --version 2>/dev/null | awk '{print $3}')" "$RUNS" "$((BYTES >> 20))"
printf '  %-40s %10s %10s %8s\n' measure berth containerd b/c
jq -r -n --slurpfile b "$RESULTS/berth-streaming.json" --slurpfile c "$RESULTS/containerd-streaming.json" '
	[["exec round trip p50 (ms)", "exec_round_trip_median_ms"], ["exec round trip p90 (ms)", "exec_round_trip_p90_ms"],
	 ["exec stdout (MiB/s)", "stdout_mib_per_s"], ["exec stdin (MiB/s)", "stdin_mib_per_s"],
	 ["port-forward connection p50 (ms)", "portforward_connection_median_ms"],
	 ["port-forward connection p90 (ms)", "portforward_connection_p90_ms"],
	 ["port-forward each way (MiB/s)", "portforward_mib_per_s"]][]
	| [.[0], $b[0][.[1]], $c[0][.[1]]] | @tsv' |
	awk -F'\t' '{ printf "  %-40s %10.2f %10.2f %8.3f\n", $1, $2, $3, ($3 > 0 ? $2 / $3 : 0) }'
printf '\nraw reports: %s\n' "$RESULTS"
