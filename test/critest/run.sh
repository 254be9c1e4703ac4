#!/usr/bin/env bash
# test/critest/run.sh [critest args...]: critest against berthd, set up as the
# critest-kit sets up its containerd (the kit's loopback registry mirrored for every
# host with no upstream, the kit's conflist), through ../shared/critest-kit/run-critest.sh.
# With CRITEST_ALSO_CONTAINERD=1 the kit's containerd is measured in the same run.
# With CRITEST_NRI=1 berthd hosts NRI plugins and critest's NRI specs run against it
# (-nri-socket), the containerd comparison too then being without them.
#
# critest and crictl are built from the fetched cri-tools repository into
# $BERTH_CRITOOLS (default /var/cache/berth/cri-tools: critest, crictl), never into
# the repository; build them with test/critest/build.sh. Results stay in
# /var/lib/critest-kit/results/. Needs root; sends traffic only to loopback and pods.
set -euo pipefail
REPO_DIR=$(cd "$(dirname "$(readlink -f "$0")")/../.." && pwd)
. "$REPO_DIR/bench/cri_setup.sh"
TOOLS=${BERTH_CRITOOLS:-/var/cache/berth/cri-tools}
export CRITEST=${CRITEST:-$TOOLS/critest} CRICTL=${CRICTL:-$TOOLS/crictl}
[ -x "$CRITEST" ] || die "no critest at $CRITEST: run test/critest/build.sh first"

nri_args=()
if [ "${CRITEST_NRI:-}" = 1 ]; then
	export BERTH_NRI_SOCKET=/run/berth-critest-nri/nri.sock
	nri_args=(-nri-socket "$BERTH_NRI_SOCKET")
fi
bench_prepare critest
log "making sure every image critest uses is in the kit registry"
"$KIT/images.sh" >&2
start_containerd # writes the conflist berthd gets a copy of
start_berthd
rc=0
KIT_RUN_NAME=berth "$KIT/run-critest.sh" "$BERTH_SOCK" "${nri_args[@]}" "$@" || rc=$?
if [ "${CRITEST_ALSO_CONTAINERD:-}" = 1 ]; then
	KIT_RUN_NAME=containerd "$KIT/run-critest.sh" "$CONTAINERD_SOCK" "$@" || rc=$?
fi
exit "$rc"
