#!/usr/bin/env bash
# fuzz/run.sh BUILD_DIR [SECONDS]: runs every libFuzzer harness built in BUILD_DIR/fuzz
# (cmake -DCMAKE_CXX_COMPILER=clang++ -DBERTH_FUZZ=ON, as ./dev.sh test builds
# build-asan/) for SECONDS each (default $BERTH_FUZZ_SECONDS, else 10): first every
# input in fuzz/regressions/TARGET (each a crash found before), then fuzzing from the
# committed corpus fuzz/corpus/TARGET. New corpus entries and any crash go to a
# temporary directory, never into the repository; a crash fails the run and its
# input is kept (the path is printed) to be added to fuzz/regressions/TARGET once
# fixed. Prints executions per target.
set -euo pipefail
FUZZ_DIR=$(cd "$(dirname "$(readlink -f "$0")")" && pwd)
[ $# -ge 1 ] && [ -d "$1/fuzz" ] || { echo "usage: $0 BUILD_DIR [SECONDS]" >&2; exit 2; }
BUILD=$(cd "$1" && pwd)
SECONDS_EACH=${2:-${BERTH_FUZZ_SECONDS:-10}}
work=$(mktemp -d /tmp/berth-fuzz-XXXXXX)
keep=0
cleanup() { [ "$keep" = 1 ] || rm -rf "$work"; }
trap cleanup EXIT
failed=()
printf '%-20s %12s %10s\n' target executions result
for binary in "$BUILD"/fuzz/*_fuzz; do
	name=$(basename "$binary")
	mkdir -p "$work/$name/new" "$work/$name/tmp"
	regressions=()
	if [ -d "$FUZZ_DIR/regressions/$name" ]; then
		mapfile -t regressions < <(find "$FUZZ_DIR/regressions/$name" -type f | sort)
	fi
	result=ok
	if [ ${#regressions[@]} -gt 0 ] &&
		! TMPDIR="$work/$name/tmp" "$binary" -artifact_prefix="$work/$name/" "${regressions[@]}" \
			>"$work/$name/regressions.log" 2>&1; then
		result="REGRESSED"
	fi
	if [ "$result" = ok ] &&
		! TMPDIR="$work/$name/tmp" "$binary" -max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=2048 \
			-print_final_stats=1 -artifact_prefix="$work/$name/" "$work/$name/new" "$FUZZ_DIR/corpus/$name" \
			>"$work/$name/fuzz.log" 2>&1; then
		result="CRASHED"
	fi
	runs=$(grep -Eo 'stat::number_of_executed_units: *[0-9]+' "$work/$name/fuzz.log" 2>/dev/null | grep -Eo '[0-9]+$' || echo 0)
	printf '%-20s %12s %10s\n' "$name" "$runs" "$result"
	if [ "$result" != ok ]; then
		failed+=("$name")
		keep=1
		log="$work/$name/fuzz.log"
		[ "$result" = REGRESSED ] && log="$work/$name/regressions.log"
		grep -E 'ERROR|runtime error|SUMMARY|Test unit written' "$log" | head -5 >&2 || true
		echo "  inputs and logs kept in $work/$name" >&2
	fi
done
if [ ${#failed[@]} -gt 0 ]; then
	echo "fuzzing failed: ${failed[*]}" >&2
	exit 1
fi
