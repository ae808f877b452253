#!/bin/sh
# bench_budgets.sh - what a budget costs the game: allocation + free under a budgeted
# node against untagged ones in the same run, and a snapshot of 10,000 assets
#
#     tests/budgets/bench_budgets.sh [BUILD_DIR [ROUNDS [PAIRS]]]
#
# Runs bu_bench once under libgmtrace (defaults: 11 rounds of 20,000 malloc+free
# pairs per size, level and path) and prints its lines:
#     budgets.alloc_free.<level>.<size>: untagged N ns, budgeted N ns, added N ns
#         per pair (medians over rounds; the two paths alternate within a round)
#     budgets.snapshot.10000_assets: N us (median)
#     budgets.evict.10000_assets: N us per evicting allocation (median)
# then its JSON line (times x10, integers). Exit status: 0, or 1 when the build is
# missing or the run failed. scripts/bench.sh calls it; it is a benchmark, not a test
# (ctest never runs it).
set -eu

build=${1:-${GM_BUILD_DIR:-$(dirname "$0")/../../build}}
rounds=${2:-11}
pairs=${3:-20000}
lib=$build/interpose/libgmtrace.so
fixture=$build/tests/budgets/bu_bench
for f in "$lib" "$fixture"; do
	if [ ! -e "$f" ]; then
		echo "bench_budgets.sh: $f is missing: build $build first" >&2
		exit 1
	fi
done

dir=$(mktemp -d "${TMPDIR:-/tmp}/gm-bench-budgets.XXXXXX")
trap 'rm -rf "$dir"' EXIT INT TERM

# the preload goes to the benchmark's environment only
if ! env LD_PRELOAD="$lib" GMTRACE_OUTPUT="$dir/%p.gmt" GMTRACE_QUIET=1 \
	"$fixture" "$rounds" "$pairs"; then
	echo "bench_budgets.sh: bu_bench failed" >&2
	exit 1
fi
