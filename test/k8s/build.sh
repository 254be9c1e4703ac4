#!/bin/bash
# Builds the Kubernetes binaries that the suites beyond `./dev.sh test` need (a real
# kubelet, later the control plane), at one pinned version, from the Go module proxy,
# into a cache outside the repository. Nothing built here is ever committed.
#
#   test/k8s/build.sh [NAME...]   NAME: kubelet kubectl kube-apiserver
#                                 kube-controller-manager kube-scheduler kube-proxy etcd
#                                 (default: all of them), or the node e2e suite's pieces:
#                                 e2e_node.test ginkgo agnhost (test/e2e/node-conformance.sh),
#                                 or the cluster add-ons berthctl cluster uses: metrics-server
#                                 (what `kubectl top` reads, installed by the end-to-end test)
#                                 and coredns (cluster DNS, which `cluster create` deploys)
#
# The cache is $BERTH_K8S_CACHE, default /var/cache/berth/k8s-v1.37.2; a binary
# already there is not built again. Tests find it there and skip, saying so, when
# it is missing.
set -euo pipefail

K8S_VERSION=1.37.2
STAGING_VERSION=0.37.2
CACHE=${BERTH_K8S_CACHE:-/var/cache/berth/k8s-v$K8S_VERSION}

log() { printf '[k8s-build] %s\n' "$*" >&2; }

declare -A PACKAGE=(
  [kubelet]=k8s.io/kubernetes/cmd/kubelet
  [kubectl]=k8s.io/kubernetes/cmd/kubectl
  [kube-apiserver]=k8s.io/kubernetes/cmd/kube-apiserver
  [kube-controller-manager]=k8s.io/kubernetes/cmd/kube-controller-manager
  [kube-scheduler]=k8s.io/kubernetes/cmd/kube-scheduler
  [kube-proxy]=k8s.io/kubernetes/cmd/kube-proxy
  # etcd is not in Kubernetes' tree: its server module, at the version Kubernetes'
  # own etcd client modules resolve to.
  [etcd]=go.etcd.io/etcd/server/v3
  # The node e2e suite: its test binary (built with `go test -c`), the ginkgo CLI at the
  # version Kubernetes pins (runs the binary in parallel processes), and agnhost, the
  # suite's all-purpose test server, whose source sits in the kubernetes module.
  [e2e_node.test]=k8s.io/kubernetes/test/e2e_node
  [ginkgo]=github.com/onsi/ginkgo/v2/ginkgo
  [agnhost]=k8s.io/kubernetes/test/images/agnhost
  # Not in Kubernetes' tree: modules of their own, with their own Kubernetes
  # libraries, each built in a throwaway module of its own at the version below.
  [metrics-server]=sigs.k8s.io/metrics-server/cmd/metrics-server
  [coredns]=github.com/coredns/coredns
)
declare -A OWN_MODULE_VERSION=([metrics-server]=v0.8.0 [coredns]=v1.15.0)
# Built as a test binary rather than a command.
declare -A TEST_BINARY=([e2e_node.test]=1)

names=("$@")
[ ${#names[@]} -gt 0 ] || names=(kubelet kubectl kube-apiserver kube-controller-manager kube-scheduler kube-proxy etcd)
wanted=()
for name in "${names[@]}"; do
  [ -n "${PACKAGE[$name]:-}" ] || { log "unknown binary: $name"; exit 2; }
  [ -x "$CACHE/bin/$name" ] && { [ "$name" != agnhost ] || [ -f "$CACHE/agnhost/localhost.crt" ]; } ||
    wanted+=("$name")
done
if [ ${#wanted[@]} -eq 0 ]; then
  log "all present in $CACHE/bin"
  exit 0
fi
command -v go >/dev/null || { log "go is not installed"; exit 1; }

build_own_module() {
  local name=$1 version=${OWN_MODULE_VERSION[$1]} start
  log "building $name $version"
  start=$(date +%s)
  (
    export GOFLAGS=-mod=mod GOTOOLCHAIN=local CGO_ENABLED=0
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
    cd "$work"
    go mod init "berth.local/$name-build" >/dev/null 2>&1
    go get "${PACKAGE[$name]}@$version" >/dev/null 2>&1 || go get "${PACKAGE[$name]}@$version"
    mkdir -p "$CACHE/bin"
    go build -trimpath -ldflags "-s -w" -o "$CACHE/bin/$name.partial" "${PACKAGE[$name]}"
    mv "$CACHE/bin/$name.partial" "$CACHE/bin/$name"
  )
  log "built $name in $(( $(date +%s) - start )) s"
}
rest=()
for name in "${wanted[@]}"; do
  if [ -n "${OWN_MODULE_VERSION[$name]:-}" ]; then build_own_module "$name"; else rest+=("$name"); fi
done
wanted=("${rest[@]}")
[ ${#wanted[@]} -gt 0 ] || exit 0

# A throwaway module that requires k8s.io/kubernetes and points every staging
# module (k8s.io/api, k8s.io/cri-streaming, ...) at its published version, as the
# kubernetes module itself replaces them with directories of its own tree.
export GOFLAGS=-mod=mod GOTOOLCHAIN=local CGO_ENABLED=0
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
go mod init berth.local/k8s-build >/dev/null 2>&1
log "fetching k8s.io/kubernetes@v$K8S_VERSION's module list"
gomod=$(go mod download -json "k8s.io/kubernetes@v$K8S_VERSION" | sed -n 's/^\s*"GoMod": "\(.*\)",\?$/\1/p')
[ -f "$gomod" ] || { log "no go.mod for k8s.io/kubernetes@v$K8S_VERSION"; exit 1; }
staging=$(sed -n 's#^\s*\(k8s\.io/[a-z0-9.-]*\) => \./staging/src/.*#\1#p' "$gomod" | sort -u)
[ -n "$staging" ] || { log "no staging modules found in $gomod"; exit 1; }
{
  echo "require k8s.io/kubernetes v$K8S_VERSION"
  for module in $staging; do echo "replace $module => $module v$STAGING_VERSION"; done
} >>go.mod
printf 'package tools\n\nimport (\n' >tools.go
for name in "${wanted[@]}"; do
  [ -n "${TEST_BINARY[$name]:-}" ] || printf '\t_ "%s"\n' "${PACKAGE[$name]}"
done >>tools.go
printf ')\n' >>tools.go
sed -i '1s/^/\/\/go:build tools\n\n/' tools.go
log "resolving modules (first run downloads a few hundred MB into the Go module cache)"
go mod tidy >/dev/null 2>&1 || go mod tidy

# What `kubelet --version` and the API server's version checks read.
ldflags="-s -w"
for var in "gitVersion=v$K8S_VERSION" "gitMajor=${K8S_VERSION%%.*}" "gitMinor=$(echo "$K8S_VERSION" | cut -d. -f2)" \
           "gitTreeState=clean" "buildDate=1970-01-01T00:00:00Z"; do
  ldflags+=" -X k8s.io/component-base/version.$var -X k8s.io/client-go/pkg/version.$var"
done
mkdir -p "$CACHE/bin"
for name in "${wanted[@]}"; do
  log "building $name (several minutes on 2 cores)"
  start=$(date +%s)
  if [ -n "${TEST_BINARY[$name]:-}" ]; then
    # A test package's own imports are not in the module graph tidy made; -mod=mod
    # (in GOFLAGS) lets the go command add them.
    go test -c -vet=off -trimpath -ldflags "$ldflags" -o "$CACHE/bin/$name.partial" "${PACKAGE[$name]}"
  else
    go build -trimpath -ldflags "$ldflags" -o "$CACHE/bin/$name.partial" "${PACKAGE[$name]}"
  fi
  mv "$CACHE/bin/$name.partial" "$CACHE/bin/$name"
  if [ "$name" = agnhost ]; then
    # Its image carries porter's test certificates, which sit beside its source.
    source=$(go list -f '{{.Dir}}' "${PACKAGE[agnhost]}")
    install -D -m 0644 "$source/porter/localhost.crt" "$CACHE/agnhost/localhost.crt"
    install -D -m 0644 "$source/porter/localhost.key" "$CACHE/agnhost/localhost.key"
  fi
  log "built $name in $(( $(date +%s) - start )) s"
done
"$CACHE/bin/${wanted[0]}" --version 2>/dev/null | head -1 || true
