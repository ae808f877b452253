#!/bin/sh
# bench_pools.sh - what watching an object pool costs a game, per operation and per frame
#
#     tests/pools/bench_pools.sh [BUILD_DIR [RUNS]]
#
# Runs po_bench (a loop of N pool operations per frame: N/2 acquires then
# N/2 releases, each reported with gmtrace_pool_acquire/_release, then
# GMTRACE_FRAME) at N = 1,000 and N = 10,000, RUNS times each (default 7),
# alternating plain runs (the marker calls are the header's no-ops) and runs
# with libgmtrace preloaded, in the same invocation. Prints one line per N:
#     pools.ops1000: plain P us/frame, gmtrace G us/frame, overhead O us/frame (X ns/op); ...
# with medians of the runs, then the cost per operation without the fixed
# cost of a frame end: the difference of the two N's overheads over 9,000
# operations. Exit status: 0, or 1 when the build is missing or a run failed.
# scripts/bench.sh calls it; it is a benchmark, not a test (ctest never runs it).
set -eu

build=${1:-${GM_BUILD_DIR:-$(dirname "$0")/../../build}}
runs=${2:-7}
frames=${GM_BENCH_POOL_FRAMES:-2000}
lib=$build/interpose/libgmtrace.so
bench=$build/tests/pools/po_bench
for f in "$lib" "$bench"; do
	if [ ! -e "$f" ]; then
		echo "bench_pools.sh: $f is missing: build $build first" >&2
		exit 1
	fi
done

dir=$(mktemp -d "${TMPDIR:-/tmp}/gm-bench-pools.XXXXXX")
trap 'rm -rf "$dir"' EXIT INT TERM

# ns_per_frame of one run; the preload goes to the benchmark's environment only
run_one() { # $1 = plain|gmtrace, $2 = N
	if [ "$1" = gmtrace ]; then
		out=$(env LD_PRELOAD="$lib" GMTRACE_OUTPUT="$dir/%p.gmt" GMTRACE_QUIET=1 \
			"$bench" "$2" "$frames") || return 1
		rm -f "$dir"/*.gmt
	else
		out=$(env -u LD_PRELOAD "$bench" "$2" "$frames") || return 1
	fi
	echo "$out" | sed -n 's/.*"ns_per_frame":\([0-9]*\).*/\1/p'
}

median() { # the median of the numbers in file $1
	sort -n "$1" | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

for n in 1000 10000; do
	: >"$dir/plain.$n"
	: >"$dir/gmtrace.$n"
	i=0
	while [ "$i" -lt "$runs" ]; do
		for variant in plain gmtrace; do
			if ! v=$(run_one "$variant" "$n") || [ -z "$v" ]; then
				echo "bench_pools.sh: po_bench $n ($variant) failed" >&2
				exit 1
			fi
			echo "$v" >>"$dir/$variant.$n"
		done
		i=$((i + 1))
	done
	echo "$(median "$dir/plain.$n") $(median "$dir/gmtrace.$n")" >"$dir/median.$n"
done

awk -v runs="$runs" -v frames="$frames" '
	FNR == 1 { n = (FILENAME ~ /10000$/) ? 10000 : 1000; plain[n] = $1; gm[n] = $2 }
	END {
		for (k = 0; k < 2; k++) {
			n = k ? 10000 : 1000
			o = gm[n] - plain[n]
			printf "pools.ops%d: plain %.1f us/frame, gmtrace %.1f us/frame, overhead %.1f us/frame (%.2f ns/op); median of %d runs x %d frames\n",
			       n, plain[n] / 1000, gm[n] / 1000, o / 1000, o / n, runs, frames
		}
		printf "pools.per_op: %.2f ns per pool operation beyond the frame end ((overhead at 10000 - at 1000) / 9000)\n",
		       ((gm[10000] - plain[10000]) - (gm[1000] - plain[1000])) / 9000
	}' "$dir/median.1000" "$dir/median.10000"
