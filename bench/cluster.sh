#!/bin/bash
# bench/cluster.sh: berthctl cluster's figures (issue #19), all from one run:
#   - create: `berthctl cluster create` (a control-plane node and BENCH_WORKERS workers) to every
#     node Ready, and what each step of it took;
#   - rollout: `kubectl apply` of a BENCH_PODS-replica Deployment to every replica available;
#   - idle node: a worker's memory with no pods of its own (kube-proxy's and nothing else), by its
#     cgroup (usage less inactive file pages: the working set kubelet reports) and by process (RSS);
#   - beside berthd's RSS in that node, the kit's containerd 1.6's RSS with no pods, measured here:
#     the runtime a kind node would carry instead (kubelet and kube-proxy are the same binaries).
# The Kubernetes binaries come from BENCH_K8S (test/k8s/build.sh's cache); images go to and come
# from the kit's loopback registry (127.0.0.1:5000), which gains berth/node and the control plane's.
#
#   bench/cluster.sh       # as root, after ./dev.sh build and test/k8s/build.sh
# Env: BENCH_WORKERS (2), BENCH_PODS (30), BENCH_IDLE_SECONDS (30), BENCH_K8S
# (/var/cache/berth/k8s-v1.37.2/bin), and bench/cri_setup.sh's (KIT, ...).
set -euo pipefail
. "$(dirname "$(readlink -f "$0")")/cri_setup.sh"
# The pod network ./dev.sh run installs, as a user's berthd has it.
BERTH_CNI=${BENCH_BERTH_CNI:-berth}
WORKERS=${BENCH_WORKERS:-2}
PODS=${BENCH_PODS:-30}
IDLE=${BENCH_IDLE_SECONDS:-30}
K8S=${BENCH_K8S:-/var/cache/berth/k8s-v1.37.2/bin}
BERTHCTL=$REPO_DIR/build/cmd/berthctl
NAME=bench

# coredns too: a cluster as `./dev.sh cluster` makes it, with cluster DNS (answering
# only the cluster's own names here: nothing is sent off the machine).
for b in kubelet kube-proxy kubectl etcd kube-apiserver kube-controller-manager kube-scheduler coredns; do
	[ -x "$K8S/$b" ] || die "no $b in $K8S: test/k8s/build.sh builds it"
done
bench_prepare cluster
cluster_made=
cluster_cleanup() {
	if [ -n "$cluster_made" ]; then
		KUBECONFIG=$WORK/kubeconfig "$BERTHCTL" --endpoint "unix://$BERTH_SOCK" cluster delete --name $NAME \
			--state "$WORK/clusters" >&2 || log "warning: cluster delete failed"
	fi
	bench_cleanup
}
trap cluster_cleanup EXIT
start_containerd
start_berthd
export KUBECONFIG=$WORK/kubeconfig
kubectl() { "$K8S/kubectl" "$@"; }
now_ms() { date +%s%3N; }
rss_kb() { local v; v=$(awk '/^VmRSS:/ { print $2; exit }' "/proc/$1/status" 2>/dev/null || true); echo "${v:-0}"; }

sleep "$IDLE"
containerd_rss=$(rss_kb "$(daemon_pid_of containerd)")

log "creating cluster $NAME with $WORKERS workers"
# Set first: a create interrupted half-way still has something to delete.
cluster_made=1
start=$(now_ms)
"$BERTHCTL" --endpoint "unix://$BERTH_SOCK" cluster create --name $NAME --nodes "$WORKERS" \
	--state "$WORK/clusters" --kubernetes "$K8S" --registry 127.0.0.1:5000 --dns-upstream none |
	tee "$RESULTS/create.txt" >&2
create_ms=$(($(now_ms) - start))

log "rolling out $PODS pods"
cat >"$WORK/rollout.yaml" <<YAML
apiVersion: apps/v1
kind: Deployment
metadata: {name: rollout}
spec:
  replicas: $PODS
  selector: {matchLabels: {app: rollout}}
  template:
    metadata: {labels: {app: rollout}}
    spec:
      terminationGracePeriodSeconds: 0
      containers:
      - {name: c, image: "$IMAGE", command: [sleep, "3600"]}
YAML
start=$(now_ms)
kubectl apply -f "$WORK/rollout.yaml" >&2
kubectl rollout status deployment/rollout --timeout=600s >&2
rollout_ms=$(($(now_ms) - start))
kubectl get pods -l app=rollout -o wide --no-headers | awk '{print $7}' | sort | uniq -c >&2
kubectl delete -f "$WORK/rollout.yaml" --wait=true >&2
kubectl wait --for=delete pod -l app=rollout --timeout=300s >&2 || true

log "letting the cluster idle for $IDLE s"
sleep "$IDLE"
worker=$NAME-worker
# The worker's node container: its init's pid is berth-node's; its cgroup holds the node.
node_pid=
for p in /proc/[0-9]*; do
	[ "$(cat "$p/comm" 2>/dev/null)" = berth-node ] || continue
	# The node's /etc/hostname is its pod's: the node's name.
	if [ "$(cat "$p/root/etc/hostname" 2>/dev/null)" = "$worker" ]; then node_pid=${p#/proc/}; break; fi
done
[ -n "$node_pid" ] || die "cannot find $worker's berth-node"
# cgroup v1's memory hierarchy, or v2's one: the working set and anonymous memory.
if [ -d /sys/fs/cgroup/memory ]; then
	mem_cg=/sys/fs/cgroup/memory$(awk -F: '$2 ~ /(^|,)memory(,|$)/ { print $3 }' "/proc/$node_pid/cgroup")
	usage=$(cat "$mem_cg/memory.usage_in_bytes")
	inactive=$(awk '$1 == "total_inactive_file" { print $2 }' "$mem_cg/memory.stat")
	rss=$(awk '$1 == "total_rss" { print $2 }' "$mem_cg/memory.stat")
else
	mem_cg=/sys/fs/cgroup$(awk -F: '$1 == "0" { print $3 }' "/proc/$node_pid/cgroup")
	usage=$(cat "$mem_cg/memory.current")
	inactive=$(awk '$1 == "inactive_file" { print $2 }' "$mem_cg/memory.stat")
	rss=$(awk '$1 == "anon" { print $2 }' "$mem_cg/memory.stat")
fi
working_set_kb=$(((usage - inactive) / 1024))
declare -A proc_rss=()
for p in $(cat "$mem_cg/cgroup.procs") $(find "$mem_cg" -mindepth 2 -name cgroup.procs -exec cat {} + 2>/dev/null); do
	name=$(cat "/proc/$p/comm" 2>/dev/null) || continue
	proc_rss[$name]=$((${proc_rss[$name]:-0} + $(rss_kb "$p")))
done

{
	echo "berthctl cluster: 1 control-plane node + $WORKERS workers, $PODS-pod rollout"
	printf '%-44s %10s\n' "create to all nodes Ready (wall)" "$((create_ms / 1000)).$(((create_ms % 1000) / 100)) s"
	grep -E '^ ✓' "$RESULTS/create.txt" | sed 's/^ ✓ /  /'
	printf '%-44s %10s\n' "apply of $PODS pods to all available" "$((rollout_ms / 1000)).$(((rollout_ms % 1000) / 100)) s"
	worker_pods=$(kubectl get pods -A --field-selector "spec.nodeName=$worker" \
		-o jsonpath='{range .items[*]}{.metadata.name} {end}')
	echo "idle worker ($worker), its pods: ${worker_pods:-none}"
	printf '  %-42s %7d MiB\n' "working set (cgroup)" "$((working_set_kb / 1024))"
	printf '  %-42s %7d MiB\n' "anonymous memory (cgroup)" "$((rss / 1048576))"
	for name in "${!proc_rss[@]}"; do printf '  RSS %-38s %7d MiB\n' "$name" "$((proc_rss[$name] / 1024))"; done | sort
	printf '%-44s %7d MiB\n' "the kit's containerd 1.6, idle (RSS)" "$((containerd_rss / 1024))"
} | tee "$RESULTS/summary.txt"
