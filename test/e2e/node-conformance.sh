#!/bin/bash
# test/e2e/node-conformance.sh: Kubernetes v1.37.2's node e2e suite (test/e2e_node, the
# [NodeConformance] specs containerd runs in its CI) against berthd or, on the same
# images, flags and network, the critest-kit's containerd.
#
#   test/e2e/node-conformance.sh [--runtime berth|containerd] [--smoke] [--focus REGEX]
#                                [--skip REGEX] [--procs N] [--results DIR]
#                                [--feature-gates GATES]
#
#   --runtime   berth (default): build/cmd/berthd, started here on its own dirs;
#               containerd: ../shared/critest-kit/containerd.sh (Debian's 1.6 + runc),
#               given a `test-handler` runtime as containerd's CI gives it
#   --smoke     a dozen representative specs (a few minutes), not the whole set
#   --focus, --skip  ginkgo regular expressions on spec names, within the label filter
#   --procs     ginkgo processes (default 3; the host has 2 cores, specs mostly wait)
#   --results   where the reports go (default /var/lib/berth-node-e2e/results/RUNTIME-TIME)
#   --feature-gates  Kubernetes feature gates for the suite and its kubelet, e.g.
#               PodAndContainerStatsFromCRI=true (stats and /metrics/cadvisor from the
#               runtime's CRI, which berth serves and containerd 1.6 does not)
#   --skip-if-unbuilt  exit 77 (ctest's skip), saying what to build, where the
#               Kubernetes binaries or berthd are missing
#
# The label filter is the runnable set: NodeConformance && !Serial && !Slow && !Flaky &&
# !Disruptive (the excluded ones restart kubelet or the runtime through systemd, which
# this host has not as PID 1). The suite starts etcd, an API server and a kubelet
# itself; the kubelet is found beside e2e_node.test in the cache test/k8s/build.sh fills
# (`test/k8s/build.sh kubelet e2e_node.test ginkgo agnhost`). The images it pulls are
# stand-ins in the critest-kit's loopback registry (test/e2e/node-images.sh).
#
# What a run changes on the host and puts back at exit: sysctls kubelet sets, its
# iptables chains, its cgroups (kubepods, kubelet, docker-daemon), /var/lib/kubelet,
# /var/log/pods, /var/log/containers, /var/run/kubernetes, the pod bridge and its
# FORWARD guard, ip_forward, the propagation of / (made rshared for mount propagation
# specs). Results stay: junit.xml, report.json (ginkgo), summary.txt (a table per
# group), kubelet.log, services.log and the runtime's log.
#
# Needs root. Traffic stays on loopback and the pods' bridge (no default route in pods).
set -euo pipefail
REPO_DIR=$(cd "$(dirname "$(readlink -f "$0")")/../.." && pwd)
KIT=${KIT:-$REPO_DIR/../shared/critest-kit}
CACHE=${BERTH_K8S_CACHE:-/var/cache/berth/k8s-v1.37.2}
BUILD_DIR=${BERTH_BUILD_DIR:-$REPO_DIR/build}
. "$REPO_DIR/test/lib/berthd_ready.sh"
STATE=${BERTH_NODE_E2E_STATE:-/var/lib/berth-node-e2e}
REGISTRY=http://127.0.0.1:5000
LABEL_FILTER='NodeConformance && !Serial && !Slow && !Flaky && !Disruptive'
# One or two specs of each kind of thing a kubelet asks of a runtime: lifecycle,
# init and sidecar order, probes and their timeouts, hooks, volumes, exec and logs
# over websockets, termination messages, security context, sysctls, pod IPs, mount
# propagation with recursive read-only mounts, a container's image changed.
SMOKE_FOCUS=$(printf '%s|' \
	'Pods should be submitted and removed' \
	'Pods should support remote command execution over websockets' \
	'Pods should support retrieving logs from the container over websockets' \
	'restartPolicy=Never when A pod initializes successfully should launch init container serially before a regular' \
	'The containers exit successfully should terminate sidecars in reverse order after all main containers have exited' \
	'Probing container should be restarted with an exec liveness probe with timeout' \
	'Container Lifecycle Hook when create a pod with lifecycle hook should execute poststart exec hook properly' \
	'EmptyDir volumes should support \(root,0644,tmpfs\)' \
	'report termination message from file when pod succeeds and TerminationMessagePolicy FallbackToLogsOnError' \
	'Security Context When creating a container with runAsUser should run the container with uid 65534' \
	'Sysctls \[LinuxOnly\] should support sysctls \[Environment' \
	'Pod IPs when pod gets terminated should contain podIPs in status for succeeded pod' \
	'Mount recursive read-only when the runtime supports recursive read-only mounts should accept recursive' \
	'regular container has its image updated should successfully restart when the image is updated, restartPolicy=Always')
SMOKE_FOCUS=${SMOKE_FOCUS%|}

RUNTIME=berth
FOCUS=
SKIP=
PROCS=3
RESULTS=
SKIP_IF_UNBUILT=
FEATURE_GATES=
while [ $# -gt 0 ]; do
	case $1 in
	--runtime) RUNTIME=$2; shift 2 ;;
	--smoke) FOCUS=$SMOKE_FOCUS; shift ;;
	--focus) FOCUS=$2; shift 2 ;;
	--skip) SKIP=$2; shift 2 ;;
	--procs) PROCS=$2; shift 2 ;;
	--results) RESULTS=$2; shift 2 ;;
	--feature-gates) FEATURE_GATES=$2; shift 2 ;;
	--skip-if-unbuilt) SKIP_IF_UNBUILT=1; shift ;;
	-h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) echo "unknown argument $1 (--help)" >&2; exit 2 ;;
	esac
done

log() { printf '[node-e2e] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

unbuilt() {
	[ -n "$SKIP_IF_UNBUILT" ] || die "$*"
	log "SKIPPED: $*"
	exit 77
}

[ "$(id -u)" = 0 ] || unbuilt "run as root"
case $RUNTIME in berth | containerd) ;; *) die "--runtime is berth or containerd" ;; esac
for binary in kubelet e2e_node.test ginkgo agnhost; do
	[ -x "$CACHE/bin/$binary" ] ||
		unbuilt "no $binary in $CACHE/bin: \`./dev.sh test-k8s\` (or test/k8s/build.sh kubelet e2e_node.test ginkgo agnhost) builds it"
done
[ -f "$CACHE/agnhost/localhost.crt" ] ||
	unbuilt "no agnhost certificates in $CACHE/agnhost: test/k8s/build.sh agnhost puts them there"
[ "$RUNTIME" = containerd ] || [ -x "$BUILD_DIR/cmd/berthd" ] || unbuilt "no $BUILD_DIR/cmd/berthd: ./dev.sh build"
[ -d "$KIT" ] || unbuilt "no critest-kit at $KIT (set KIT=)"
for port in 6443 10248 10250 10255; do
	! ss -Hltn "sport = :$port" | grep -q . || die "port $port is taken (another kubelet or API server?)"
done
if [ "$RUNTIME" = containerd ] && "$KIT/containerd.sh" status >/dev/null 2>&1; then
	die "the kit's containerd is running already; stop it first ($KIT/containerd.sh stop)"
fi

RESULTS=${RESULTS:-$STATE/results/$RUNTIME-$(date -u +%Y%m%dT%H%M%SZ)}
WORK=$STATE/run-$$

# ---------------------------------------------------------------- the host, before
# What kubelet sets (kernel tunables it wants, and ip_forward which the bridge plugin
# turns on), as they are now.
SYSCTLS=(vm/overcommit_memory vm/panic_on_oom kernel/panic kernel/panic_on_oops kernel/keys/root_maxkeys
	kernel/keys/root_maxbytes net/ipv4/ip_forward)
declare -A sysctl_before=()
for knob in "${SYSCTLS[@]}"; do sysctl_before[$knob]=$(cat "/proc/sys/$knob"); done
# The chains of a family that kubelet (KUBE-*) or the CNI plugins (CNI-*) may make.
chains_of() { # SAVE_COMMAND
	{ "$1" 2>/dev/null || true; } | sed -n 's/^:\(\(KUBE\|CNI\)-[^ ]*\) .*/\1/p' | sort -u
}
chains_before4=$(chains_of iptables-save)
chains_before6=$(chains_of ip6tables-save)
KUBELET_CGROUPS=(kubepods kubelet docker-daemon system)
declare -A cgroup_before=()
for hierarchy in /sys/fs/cgroup/*/ /sys/fs/cgroup/; do
	for group in "${KUBELET_CGROUPS[@]}"; do [ -d "$hierarchy$group" ] && cgroup_before[$hierarchy$group]=1; done
done
KUBELET_DIRS=(/var/lib/kubelet /var/log/pods /var/log/containers /var/run/kubernetes)
declare -A dir_before=()
for dir in "${KUBELET_DIRS[@]}"; do [ -e "$dir" ] && dir_before[$dir]=1; done

started_registry=
started_containerd=
BERTHD_PID=
BRIDGE=berthe2e0
GUARD=BERTH-E2E-FWD
made_guard=
SOCK=
RUNTIME_LOG=
private_mounts=
made_rshared=

# ---------------------------------------------------------------- cleanup
# Only processes this run started: the suite's kubelet and services (children of
# e2e_node.test) are found by their executables, this run's own copies.
ours() { # EXE: pids running it
	local p
	for p in /proc/[0-9]*; do [ "$(readlink "$p/exe" 2>/dev/null)" = "$1" ] && echo "${p#/proc/}"; done
	return 0
}
stop_pid() { # PID SECONDS
	local pid=$1 i
	kill -TERM "$pid" 2>/dev/null || return 0
	for ((i = 0; i < $2 * 10; i++)); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
	log "pid $pid ignored SIGTERM for $2 s: SIGKILL"
	kill -KILL "$pid" 2>/dev/null || true
}
drain_pods() { # SOCKET: every pod the runtime has, stopped and removed
	local crictl=${CRICTL:-/var/cache/berth/cri-tools/crictl}
	if [ -x "$crictl" ]; then
		timeout 180 "$crictl" --runtime-endpoint "unix://$1" --image-endpoint "unix://$1" --timeout 60s rmp -fa \
			>/dev/null 2>&1 || log "warning: removing the pods of $1 failed"
	elif [ -x "$BUILD_DIR/bench/cri_bench" ]; then
		"$BUILD_DIR/bench/cri_bench" --socket "$1" --mode cleanup --log-root "$WORK/logs" >/dev/null ||
			log "warning: removing the pods of $1 failed"
	fi
}
mounts_below() { # DIR: mount points below it, deepest first
	awk -v d="$1/" '{ p = $5; gsub(/\\040/, " ", p); if (index(p, d) == 1) print length(p) "\t" p }' \
		/proc/self/mountinfo | sort -rn | cut -f2-
}
# remove_chains SAVE RESTORE BEFORE: the chains this run's kubelet and CNI plugins
# made (not in BEFORE), the rules jumping to them first. Through iptables-restore, so
# that rules are deleted exactly as iptables-save prints them (quoted comments too),
# in two transactions: a chain is flushed and unreferenced before it is deleted.
remove_chains() {
	local new
	new=$(comm -13 <(echo "$3") <(chains_of "$1") | tr '\n' ' ')
	[ -n "${new// /}" ] || return 0
	local pass
	for pass in flush delete; do
		{ "$1" 2>/dev/null || true; } | awk -v new="$new" -v pass="$pass" '
			BEGIN { n = split(new, list, " "); for (i = 1; i <= n; i++) made[list[i]] = 1 }
			/^\*/ { table = $0; next }
			/^:/ { chain = substr($1, 2); if (chain in made) here[table] = here[table] chain " "; next }
			/^-A / && pass == "flush" {
				for (i = 1; i <= NF; i++) if ($i == "-j" && ($(i + 1) in made) && !($2 in made)) {
					jumps[table] = jumps[table] "-D " substr($0, 4) "\n"; break
				}
			}
			END {
				for (t in here) {
					print t; printf "%s", jumps[t]
					m = split(here[t], chains, " ")
					for (i = 1; i <= m; i++) print (pass == "flush" ? "-F " : "-X ") chains[i]
					print "COMMIT"
				}
			}' | "$2" --noflush || log "warning: removing chains ($new) with $2 failed"
	done
}
cleanup() {
	set +e
	local binary pid
	for binary in ginkgo e2e_node.test kubelet; do
		for pid in $(ours "$WORK/k8s/$binary"); do stop_pid "$pid" 10; done
	done
	[ -n "$SOCK" ] && [ -S "$SOCK" ] && drain_pods "$SOCK"
	if [ -n "$BERTHD_PID" ]; then
		stop_pid "$BERTHD_PID" 30
		wait "$BERTHD_PID" 2>/dev/null
	fi
	[ -n "$RUNTIME_LOG" ] && [ -f "$RUNTIME_LOG" ] && cp "$RUNTIME_LOG" "$RESULTS/"
	[ -n "$started_containerd" ] && CRICTL=${CRICTL:-/var/cache/berth/cri-tools/crictl} "$KIT/containerd.sh" stop
	[ -n "$started_registry" ] && "$KIT/registry.sh" stop
	# What kubelet made: its mounts and dirs (a dir with a mount left in it is left
	# too: a subPath bind mount there would be a host dir), its cgroups (deepest
	# first), its iptables chains, its sysctls.
	local mount dir
	while IFS= read -r mount; do
		umount "$mount" 2>/dev/null || umount -l "$mount" || log "warning: cannot unmount $mount"
	done < <(mounts_below /var/lib/kubelet)
	for dir in "${KUBELET_DIRS[@]}"; do
		[ -z "${dir_before[$dir]:-}" ] && [ -z "$(mounts_below "$dir")" ] && rm -rf --one-file-system "$dir"
	done
	local hierarchy group
	for hierarchy in /sys/fs/cgroup/*/ /sys/fs/cgroup/; do
		for group in "${KUBELET_CGROUPS[@]}"; do
			[ -d "$hierarchy$group" ] && [ -z "${cgroup_before[$hierarchy$group]:-}" ] || continue
			find "$hierarchy$group" -depth -type d -exec rmdir {} \; 2>/dev/null
		done
	done
	remove_chains iptables-save iptables-restore "$chains_before4"
	remove_chains ip6tables-save ip6tables-restore "$chains_before6"
	if [ -n "$made_guard" ]; then
		iptables -D FORWARD -j "$GUARD"; iptables -F "$GUARD"; iptables -X "$GUARD"
	fi
	ip link show "$BRIDGE" >/dev/null 2>&1 && ip link del "$BRIDGE"
	local knob
	for knob in "${SYSCTLS[@]}"; do echo "${sysctl_before[$knob]}" >"/proc/sys/$knob"; done
	if [ -n "$made_rshared" ]; then
		for mount in $private_mounts; do mountpoint -q "$mount" && mount --make-private "$mount"; done
	fi
	# The leak check: anything of the above still there fails the run.
	local leaks=()
	for binary in ginkgo e2e_node.test kubelet; do
		[ -z "$(ours "$WORK/k8s/$binary")" ] || leaks+=("a $binary process")
	done
	[ -n "$BERTHD_PID" ] && kill -0 "$BERTHD_PID" 2>/dev/null && leaks+=("berthd (pid $BERTHD_PID)")
	[ -z "$(mounts_below /var/lib/kubelet)" ] || leaks+=("mounts below /var/lib/kubelet")
	if [ -n "$(mounts_below "$WORK")" ]; then
		leaks+=("mounts below $WORK")
	else
		rm -rf --one-file-system "$WORK"
	fi
	for dir in "${KUBELET_DIRS[@]}"; do [ -n "${dir_before[$dir]:-}" ] || [ ! -e "$dir" ] || leaks+=("$dir"); done
	for hierarchy in /sys/fs/cgroup/*/ /sys/fs/cgroup/; do
		for group in "${KUBELET_CGROUPS[@]}"; do
			[ -d "$hierarchy$group" ] && [ -z "${cgroup_before[$hierarchy$group]:-}" ] && leaks+=("cgroup $hierarchy$group")
		done
	done
	[ -z "$(comm -13 <(echo "$chains_before4") <(chains_of iptables-save))" ] || leaks+=("iptables chains")
	[ -z "$(comm -13 <(echo "$chains_before6") <(chains_of ip6tables-save))" ] || leaks+=("ip6tables chains")
	ip link show "$BRIDGE" >/dev/null 2>&1 && leaks+=("bridge $BRIDGE")
	log "results in $RESULTS"
	if [ ${#leaks[@]} -gt 0 ]; then
		log "LEAK: left on the host: ${leaks[*]}"
		exit 1
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
mkdir -p "$RESULTS" "$WORK"
# Mount propagation specs need / shared (systemd hosts have it so).
if [ "$(findmnt -no PROPAGATION /)" != shared ]; then
	private_mounts=$(findmnt -rno TARGET,PROPAGATION | awk '$2 == "private" { print $1 }')
	made_rshared=1
	mount --make-rshared /
fi
# The suite writes its kubeconfig, kubelet config and static pod dirs beside its
# binary, and starts the kubelet beside it: this run's own copies (hard links where
# the cache is on the same filesystem) keep those out of the shared cache.
mkdir -p "$WORK/k8s"
for binary in e2e_node.test kubelet ginkgo; do
	ln "$CACHE/bin/$binary" "$WORK/k8s/$binary" 2>/dev/null || cp "$CACHE/bin/$binary" "$WORK/k8s/$binary"
done

# ---------------------------------------------------------------- images
if ! curl -fsS -o /dev/null --max-time 5 "$REGISTRY/v2/"; then
	"$KIT/registry.sh" start
	started_registry=1
fi
if ! curl -fsS -o /dev/null -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
	"$REGISTRY/v2/e2e-test-images/busybox/manifests/1.29-2"; then
	log "the kit's images are not in the registry: running $KIT/images.sh"
	"$KIT/images.sh" >&2
fi
"$REPO_DIR/test/e2e/node-images.sh"

# ---------------------------------------------------------------- the runtime
start_containerd() {
	started_containerd=1
	"$KIT/containerd.sh" start
	# containerd's CI gives the suite a runc runtime named test-handler; the kit's
	# config has none, so it is added and containerd started again on it.
	local conf=/etc/critest-kit/containerd/config.toml pidfile=/run/critest-kit/containerd.pid
	stop_pid "$(cat "$pidfile")" 30
	# The runc runtime's table and its options, copied under the new name just before
	# the cni table.
	awk '/containerd\.runtimes\.runc\]/ { copying = 1 }
	     /\.cri"\.cni\]/ { if (copying) printf "%s", copy; copying = 0 }
	     { print; if (copying) { line = $0; gsub(/runtimes\.runc/, "runtimes.test-handler", line); copy = copy line "\n" } }' \
		"$conf" >"$conf.new" && mv "$conf.new" "$conf"
	grep -q 'runtimes.test-handler' "$conf" || die "could not add test-handler to $conf"
	PATH=/usr/bin:$PATH start-stop-daemon --start --quiet --background --make-pidfile --pidfile "$pidfile" \
		--output /var/lib/critest-kit/containerd.log --exec /usr/bin/containerd -- --config "$conf"
	SOCK=/run/critest-kit/containerd.sock
	local i
	for ((i = 0; i < 300; i++)); do ctr --address "$SOCK" version >/dev/null 2>&1 && break; sleep 0.1; done
	ctr --address "$SOCK" plugins ls 2>/dev/null | awk '$2 == "cri" { print $NF }' | grep -qx ok ||
		die "containerd did not come back with test-handler and its CRI plugin (log: /var/lib/critest-kit/containerd.log)"
	RUNTIME_LOG=/var/lib/critest-kit/containerd.log
	log "containerd on $SOCK with handlers runc, test-handler"
}

start_berth() {
	local dir=$WORK/berth
	mkdir -p "$dir/net.d" "$dir/cni-data"
	# The kit containerd's network, on a bridge and subnet of berth's own: no default
	# route and no masquerade in pods, a FORWARD guard keeping pod traffic on the bridge.
	cat >"$dir/net.d/10-berth-e2e.conflist" <<JSON
{
  "cniVersion": "1.0.0",
  "name": "berth-e2e",
  "plugins": [
    {
      "type": "bridge", "bridge": "$BRIDGE", "isGateway": true, "ipMasq": false, "hairpinMode": true,
      "ipam": {
        "type": "host-local", "dataDir": "$dir/cni-data",
        "ranges": [[{ "subnet": "10.89.0.0/16" }]], "routes": [{ "dst": "10.96.0.0/12" }]
      }
    },
    { "type": "portmap", "capabilities": { "portMappings": true } },
    { "type": "loopback" }
  ]
}
JSON
	iptables -N "$GUARD" 2>/dev/null || iptables -F "$GUARD"
	made_guard=1
	iptables -A "$GUARD" -i "$BRIDGE" -o "$BRIDGE" -j RETURN
	iptables -A "$GUARD" -i "$BRIDGE" -j DROP
	iptables -A "$GUARD" -o "$BRIDGE" -j DROP
	iptables -C FORWARD -j "$GUARD" 2>/dev/null || iptables -I FORWARD 1 -j "$GUARD"
	cat >"$dir/berthd.yaml" <<YAML
registry:
  hosts:
    "*":
      mirrors: ["$REGISTRY"]
      skip_upstream: true
runtimes:
  handlers:
    test-handler: {runtime: berth}
YAML
	SOCK=$dir/berth.sock
	RUNTIME_LOG=$dir/berthd.log
	# Copies, so that build/ may be rebuilt while the suite runs (hours).
	mkdir -p "$dir/bin"
	cp "$BUILD_DIR"/cmd/{berthd,berth-runtime,berth-shim} "$dir/bin/"
	"$dir/bin/berthd" --config "$dir/berthd.yaml" --root "$dir/root" --state-dir "$dir/state" \
		--socket "$SOCK" --cni-conf-dir "$dir/net.d" --cni-bin-dir /usr/lib/cni --ready-fd 4 \
		4>"$dir/ready" 2>"$RUNTIME_LOG" &
	BERTHD_PID=$!
	await_berthd_ready "$BERTHD_PID" "$dir/ready" "$RUNTIME_LOG"
	log "berthd pid $BERTHD_PID on $SOCK, handlers berth, runc, crun, test-handler"
}

"start_$RUNTIME"

# ---------------------------------------------------------------- the suite
# No systemd-run on PATH: the suite would start kubelet as a systemd unit, and
# systemd is not PID 1 here. A directory of links to /usr/bin without it stands in.
mkdir -p "$WORK/bin" "$WORK/run"
for tool in /usr/bin/*; do
	case ${tool##*/} in systemd-run | systemctl | journalctl) continue ;; esac
	ln -s "$tool" "$WORK/bin/"
done
ginkgo_args=(--procs="$PROCS" --timeout=6h --no-color --label-filter="$LABEL_FILTER"
	--junit-report=junit.xml --json-report=report.json --output-dir="$RESULTS")
[ -n "$FOCUS" ] && ginkgo_args+=(--focus="$FOCUS")
[ -n "$SKIP" ] && ginkgo_args+=(--skip="$SKIP")
suite_args=(
	--container-runtime-endpoint="unix://$SOCK"
	--node-name="$(hostname)"
	--prepull-images=false
	--dns-domain=cluster.local
	# cgroup v1 is refused unless said; /system would take every host process; this
	# VM cannot lower oom_score_adj (no CAP_SYS_RESOURCE).
	--kubelet-flags="--fail-cgroupv1=false --system-cgroups= --oom-score-adj=0 --cluster-domain=cluster.local"
	--report-dir="$RESULTS"
	-v 4
)
# The suite hands its gates to the kubelet it starts, and skips by them too.
[ -n "$FEATURE_GATES" ] && suite_args+=(--feature-gates="$FEATURE_GATES")
log "running $( [ -n "$FOCUS" ] && echo "a focused part of " )the node e2e suite on $RUNTIME, $PROCS processes; results in $RESULTS"
start=$(date +%s)
rc=0
(cd "$WORK/run" && PATH=$WORK/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin \
	"$WORK/k8s/ginkgo" "${ginkgo_args[@]}" "$WORK/k8s/e2e_node.test" -- "${suite_args[@]}") \
	>"$RESULTS/ginkgo.log" 2>&1 &
suite_pid=$!
# Progress: ginkgo's summary lines and each failure as they come, and once a minute
# how many specs are done (ginkgo marks each with a bullet).
tail -n +1 --pid="$suite_pid" -F "$RESULTS/ginkgo.log" 2>/dev/null |
	grep --line-buffered -E '^(Running Suite|Will run|Ran [0-9]+ of|•? ?\[(FAILED|PANICKED|TIMEDOUT)\]|  \[FAIL\]|FAIL!|SUCCESS!)' >&2 &
last=$start
while kill -0 "$suite_pid" 2>/dev/null; do
	sleep 1
	[ $(( $(date +%s) - last )) -ge 60 ] || continue
	last=$(date +%s)
	total=$(sed -n '/^Will run /{s/^Will run \([0-9]*\) of.*/\1/p;q}' "$RESULTS/ginkgo.log")
	[ -n "$total" ] || continue
	log "$(grep -o '•' "$RESULTS/ginkgo.log" | wc -l) of $total specs done," \
		"$(grep -cE '^• \[(FAILED|PANICKED|TIMEDOUT)\]' "$RESULTS/ginkgo.log") failed, after $(( last - start )) s"
done
wait "$suite_pid" || rc=$?
log "the suite ended after $(( $(date +%s) - start )) s (ginkgo exit $rc)"

# ---------------------------------------------------------------- the table
if [ -f "$RESULTS/report.json" ]; then
	"$REPO_DIR/test/e2e/node-report.sh" "$RESULTS/report.json" | tee "$RESULTS/summary.txt" ||
		log "warning: no table from $RESULTS/report.json"
fi
exit "$rc"
