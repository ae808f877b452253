#!/bin/sh
# bench_assets.sh - how long `gmtrace assets` takes on a capture of 10,000 assets
#
#     tests/assets/bench_assets.sh [BUILD_DIR [RUNS]]
#
# Runs as_scale (10,000 assets, 1.3 GB of untouched asset memory, 150 frames)
# once under libgmtrace, then times `gmtrace assets --json` on its capture
# RUNS times (default 5) and prints one line:
#     assets.scale: N runs, median S s (min S s, max S s), capture B bytes, E events
# Exit status: 0, or 1 when the build is missing or a run failed.
# scripts/bench.sh calls it; it is a benchmark, not a test (ctest never runs it).
set -eu

build=${1:-${GM_BUILD_DIR:-$(dirname "$0")/../../build}}
runs=${2:-5}
lib=$build/interpose/libgmtrace.so
gmtrace=$build/analysis/gmtrace
fixture=$build/tests/assets/as_scale
for f in "$lib" "$gmtrace" "$fixture"; do
	if [ ! -e "$f" ]; then
		echo "bench_assets.sh: $f is missing: build $build first" >&2
		exit 1
	fi
done

dir=$(mktemp -d "${TMPDIR:-/tmp}/gm-bench-assets.XXXXXX")
trap 'rm -rf "$dir"' EXIT INT TERM

# the preload goes to the fixture's environment only
if ! env LD_PRELOAD="$lib" GMTRACE_OUTPUT="$dir/scale.gmt" GMTRACE_QUIET=1 \
	"$fixture" >"$dir/line.json"; then
	echo "bench_assets.sh: as_scale failed" >&2
	exit 1
fi
capture=$dir/scale.gmt
[ -e "$capture" ] || capture=$(ls "$dir"/*.gmt | head -n 1)
events=$("$gmtrace" summary --json "$capture" | sed -n 's/^ *"events": *\([0-9]*\).*/\1/p')

i=0
: >"$dir/times"
while [ "$i" -lt "$runs" ]; do
	start=$(date +%s%N)
	if ! "$gmtrace" assets --json "$capture" >/dev/null; then
		echo "bench_assets.sh: gmtrace assets failed" >&2
		exit 1
	fi
	end=$(date +%s%N)
	echo $((end - start)) >>"$dir/times"
	i=$((i + 1))
done

sort -n "$dir/times" | awk -v runs="$runs" -v bytes="$(wc -c <"$capture")" -v events="${events:-?}" '
	{ t[NR] = $1 }
	END {
		med = (NR % 2) ? t[(NR + 1) / 2] : (t[NR / 2] + t[NR / 2 + 1]) / 2
		printf "assets.scale: %d runs, median %.3f s (min %.3f s, max %.3f s), capture %d bytes, %s events\n",
		       runs, med / 1e9, t[1] / 1e9, t[NR] / 1e9, bytes, events
	}'
