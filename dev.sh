#!/bin/bash
# berth's developer entry point. On a fresh Debian 12 machine, as root:
#   ./dev.sh run     install dependencies, build, run berthd in the foreground on its defaults
#   ./dev.sh test    install dependencies, build, run every test (unit tests also under ASan+UBSan,
#                    and every fuzzer for a bounded time: fuzz/run.sh)
#   ./dev.sh test-k8s build Kubernetes binaries into their cache (test/k8s/build.sh), then run
#                    the suites that need them (a real kubelet, etcd and an API server, a dozen
#                    specs of the node e2e suite), which ./dev.sh test skips without
#   ./dev.sh cluster [FLAGS]  a local Kubernetes cluster on the running berthd (./dev.sh run):
#                    builds the Kubernetes binaries into their cache if missing, starts a
#                    registry on 127.0.0.1:5000 if none answers there, then runs
#                    `berthctl cluster create FLAGS` (--name N, --nodes K)
#   ./dev.sh test-sanitized  the integration suite against berthd, berth-shim and
#                    berth-runtime built with ASan+UBSan (build-asan/), then the unit tests
#                    under ThreadSanitizer (build-tsan/); longer than ./dev.sh test
#   ./dev.sh setup   only install dependencies (idempotent)
#   ./dev.sh build   only build (build/, RelWithDebInfo)
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")"

# Every build, run and test dependency, from Debian's archive only.
PACKAGES=(
  # build
  cmake ninja-build g++ pkg-config
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler libabsl-dev
  libyaml-cpp-dev nlohmann-json3-dev libboost-dev libboost-program-options-dev
  libsqlite3-dev libseccomp-dev libcap-dev libssl-dev libcurl4-openssl-dev
  libarchive-dev libzstd-dev libisal-dev prometheus-cpp-dev libnl-route-3-dev
  libgtest-dev libgmock-dev
  # test: clang and libFuzzer for the sanitizer build and the fuzzers (fuzz/)
  clang libclang-rt-14-dev
  # run: CNI plugins for pod networking, iptables for the portmap plugin, runc/crun handlers
  containernetworking-plugins iptables iproute2 runc crun
  # run: CRIU for checkpoint and restore (berthd says why when it cannot work here)
  criu
  # test: a local registry (htpasswd from apache2-utils) and busybox for test images
  docker-registry apache2-utils busybox-static
  # test: apparmor_parser checks the AppArmor profile berth loads where AppArmor is on
  apparmor
  # test: openssl makes the certificates of the streaming TLS tests
  openssl
  # test: a real Prometheus server scrapes berthd; promtool checks its exposition
  prometheus
  # test: the node e2e suite's image stand-ins and reports (test/e2e)
  jq curl bsdextrautils netcat-openbsd
)

log() { printf '[dev.sh] %s\n' "$*" >&2; }

setup() {
  [ "$(id -u)" = 0 ] || { log "run as root (apt-get, and berthd needs root)"; exit 1; }
  local missing=() p
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "installing: ${missing[*]}"
  # Packages that ship a service (docker-registry, containerd) must not start it:
  # a temporary policy-rc.d refuses service starts during the install.
  local made_policy=
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d
    made_policy=1
  fi
  local rc=0
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
      --no-install-recommends "${missing[@]}" >/dev/null; } || rc=$?
  [ -n "$made_policy" ] && rm -f /usr/sbin/policy-rc.d
  [ $rc -eq 0 ] || { log "apt-get failed ($rc)"; exit $rc; }
}

build() {
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  ninja -C build
}

# Unit tests again, and the fuzzers, under AddressSanitizer + UndefinedBehaviorSanitizer,
# built with clang (libFuzzer is clang's).
build_sanitized() {
  # A tree configured for another compiler (gcc, before the fuzzers) starts afresh.
  if [ -f build-asan/CMakeCache.txt ] && ! grep -q '^CMAKE_CXX_COMPILER:.*clang' build-asan/CMakeCache.txt; then
    rm -rf build-asan
  fi
  cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_COMPILER=clang++ \
    -DBERTH_SANITIZE=ON -DBERTH_FUZZ=ON >/dev/null
  ninja -C build-asan unit_tests fuzzers
}

# The unit tests under ThreadSanitizer, in a tree of their own (TSan excludes ASan).
build_tsan() {
  cmake -S . -B build-tsan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_COMPILER=clang++ -DBERTH_TSAN=ON >/dev/null
  ninja -C build-tsan unit_tests
}

# The integration suite against sanitized daemons: every berth process (berthd, each
# shim, each runtime call) writes a report to $reports/asan.PID when a sanitizer
# fires, and the run fails when any is there, even if the test that caused it passed.
test_sanitized() {
  build_sanitized
  ninja -C build-asan berthd berth-shim berth-runtime berthctl integration_test
  local reports
  reports=$(mktemp -d /tmp/berth-sanitizer-reports-XXXXXX)
  log "integration tests against ASan+UBSan berthd, berth-shim and berth-runtime (reports: $reports)"
  local rc=0
  # Leak checking is off: the daemons leave by exec or SIGKILL as often as by exit, and
  # LSan's report at exit would be of the libraries' (gRPC's) process-lifetime caches.
  (cd build-asan && ASAN_OPTIONS="detect_leaks=0:log_path=$reports/asan" \
     UBSAN_OPTIONS="print_stacktrace=1:log_path=$reports/ubsan" \
     ctest -L integration --output-on-failure) || rc=$?
  if compgen -G "$reports/*" >/dev/null; then
    log "sanitizer reports:"
    cat "$reports"/* >&2
    rc=1
  fi
  rm -rf "$reports"
  [ $rc -eq 0 ] || { log "sanitized integration tests failed"; exit $rc; }
  build_tsan
  log "unit tests (ThreadSanitizer)"
  (cd build-tsan && TSAN_OPTIONS="halt_on_error=1" ctest -L unit --output-on-failure)
}

# The default pod network (manifests/cni), installed only where no network config
# exists yet: an operator's own config always wins.
install_default_network() {
  local conf_dir=/etc/cni/net.d
  if ! ls "$conf_dir"/*.conflist "$conf_dir"/*.conf "$conf_dir"/*.json >/dev/null 2>&1; then
    install -D -m 0644 manifests/cni/10-berth.conflist "$conf_dir/10-berth.conflist"
    log "installed the default pod network: $conf_dir/10-berth.conflist"
  fi
}

# The registry berthctl cluster pushes its images to and every node pulls from:
# Debian's docker-registry on 127.0.0.1:5000, started in the background unless
# something answers there already. Its storage is /var/lib/berth-registry.
start_cluster_registry() {
  curl -sf http://127.0.0.1:5000/v2/ >/dev/null && return 0
  local dir=/var/lib/berth-registry
  mkdir -p "$dir"
  printf 'version: 0.1\nstorage: {filesystem: {rootdirectory: %s/data}}\nhttp: {addr: 127.0.0.1:5000}\n' \
    "$dir" >"$dir/config.yml"
  setsid docker-registry serve "$dir/config.yml" >"$dir/log" 2>&1 </dev/null &
  echo $! >"$dir/pid"
  for _ in $(seq 50); do curl -sf http://127.0.0.1:5000/v2/ >/dev/null && break; sleep 0.2; done
  curl -sf http://127.0.0.1:5000/v2/ >/dev/null || { log "the registry did not start: $dir/log"; exit 1; }
  log "started a registry on 127.0.0.1:5000 (pid $(cat "$dir/pid"), storage $dir)"
}

case "${1:-}" in
setup) setup ;;
build) setup; build ;;
run)
  setup; build
  shift
  install_default_network
  log "starting berthd on its defaults (socket /run/berth/berth.sock); Ctrl-C stops it"
  exec ./build/cmd/berthd "$@"
  ;;
test)
  setup; build
  build_sanitized
  log "unit tests (ASan+UBSan)"
  (cd build-asan && ctest -L unit --output-on-failure)
  log "fuzzers (ASan+UBSan), ${BERTH_FUZZ_SECONDS:-10} s each"
  fuzz/run.sh build-asan
  log "all tests"
  (cd build && ctest --output-on-failure)
  ;;
test-sanitized)
  setup; build
  test_sanitized
  ;;
cluster)
  setup; build
  shift
  [ -S /run/berth/berth.sock ] || { log "no berthd at /run/berth/berth.sock: start it with ./dev.sh run"; exit 1; }
  command -v go >/dev/null || { log "cluster needs Go (1.26) to build Kubernetes from the module proxy"; exit 1; }
  test/k8s/build.sh kubelet kube-proxy kubectl etcd kube-apiserver kube-controller-manager kube-scheduler coredns
  start_cluster_registry
  exec ./build/cmd/berthctl cluster create --kubernetes "${BERTH_K8S_CACHE:-/var/cache/berth/k8s-v1.37.2}/bin" "$@"
  ;;
test-k8s)
  setup; build
  command -v go >/dev/null || { log "test-k8s needs Go (1.26) to build Kubernetes from the module proxy"; exit 1; }
  test/k8s/build.sh kubelet kube-apiserver kubectl etcd kube-proxy kube-controller-manager kube-scheduler \
    metrics-server coredns e2e_node.test ginkgo agnhost
  log "tests with a real kubelet (an API server for in-place resize; a smoke part of the node e2e suite)"
  (cd build && ctest -L k8s --output-on-failure)
  ;;
*)
  sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
  ;;
esac
