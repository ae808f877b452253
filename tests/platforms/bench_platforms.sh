#!/usr/bin/env bash
# bench_platforms.sh - what running under a platform profile costs, and how fast
# `gmtrace platforms` reads a capture
#
#     tests/platforms/bench_platforms.sh [BUILD_DIR [REPS]]
#
# 1. ns per malloc+free pair (scripts/bench/pair.c, 2M pairs, 16..512 B) and
#    the 60 FPS loop of scripts/bench/frames.c with 10,000 allocations per
#    frame (90 frames, busy ms per frame): without gmtrace, under gmtrace,
#    and under gmtrace with GMTRACE_PLATFORM=switch, where every allocation
#    is served by the main bank's heap (a jemalloc arena without thread
#    cache) and counted against the bank; medians of REPS runs (default 3).
# 2. `gmtrace platforms` on the capture of the last platform run against
#    every shipped profile: wall seconds (median of REPS) and records per
#    second.
# A benchmark, not a test (ctest never runs it); scripts/bench.sh calls it.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
build=${1:-build}
reps=${2:-3}
lib=$build/interpose/libgmtrace.so
gmtrace=$build/analysis/gmtrace
work=$(mktemp -d "${TMPDIR:-/tmp}/gm-bench-platforms.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
cc -O2 -I interpose/include scripts/bench/frames.c -o "$work/frames"
median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

cc -O2 scripts/bench/pair.c -o "$work/pair"
pp=() pe=() ps=()
for ((r = 0; r < reps; r++)); do
	rm -f "$work"/*.gmt
	pp+=("$("$work/pair" --pairs 2000000 --reallocs 1 | sed -n 's/^pair_ns=//p')")
	pe+=("$(GMTRACE_QUIET=1 GMTRACE_OUTPUT="$work/pe.gmt" LD_PRELOAD="$lib" "$work/pair" --pairs 2000000 --reallocs 1 | sed -n 's/^pair_ns=//p')")
	ps+=("$(GMTRACE_QUIET=1 GMTRACE_PLATFORM=switch GMTRACE_OUTPUT="$work/ps.gmt" LD_PRELOAD="$lib" "$work/pair" --pairs 2000000 --reallocs 1 | sed -n 's/^pair_ns=//p')")
done
rm -f "$work"/*.gmt
echo "PLATFORMS (median of $reps runs)"
awk -v p="$(printf '%s\n' "${pp[@]}" | median)" -v e="$(printf '%s\n' "${pe[@]}" | median)" \
	-v s="$(printf '%s\n' "${ps[@]}" | median)" 'BEGIN {
	printf "platforms.pair_ns: plain %.1f, gmtrace %.1f (%+.1f), gmtrace --platform switch %.1f (%+.1f; %+.1f over gmtrace)\n", p, e, e - p, s, s - p, s - e }'

p=() e=() s=()
for ((r = 0; r < reps; r++)); do
	rm -f "$work"/*.gmt
	p+=("$("$work/frames" 10000 90 | cut -d' ' -f1)")
	e+=("$(GMTRACE_QUIET=1 GMTRACE_OUTPUT="$work/e.gmt" LD_PRELOAD="$lib" "$work/frames" 10000 90 | cut -d' ' -f1)")
	s+=("$(GMTRACE_QUIET=1 GMTRACE_PLATFORM=switch GMTRACE_OUTPUT="$work/s.gmt" LD_PRELOAD="$lib" "$work/frames" 10000 90 | cut -d' ' -f1)")
done
mp=$(printf '%s\n' "${p[@]}" | median)
me=$(printf '%s\n' "${e[@]}" | median)
ms=$(printf '%s\n' "${s[@]}" | median)
awk -v p="$mp" -v e="$me" -v s="$ms" 'BEGIN {
	printf "platforms.frame_ms (60 FPS loop, 10,000 allocations per frame, busy ms): plain %.3f, gmtrace %.3f (%+.3f), gmtrace --platform switch %.3f (%+.3f; %+.3f over gmtrace)\n", p, e, e - p, s, s - p, s - e }'

records=$("$gmtrace" dump "$work/s.gmt" | wc -l)
t=()
for ((r = 0; r < reps; r++)); do
	t0=$(date +%s.%N)
	"$gmtrace" platforms "$work/s.gmt" >/dev/null
	t1=$(date +%s.%N)
	t+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f", b - a }')")
done
mt=$(printf '%s\n' "${t[@]}" | median)
profiles=$("$gmtrace" platforms --list --json | python3 -c 'import json, sys; print(len(json.load(sys.stdin)))')
awk -v n="$records" -v t="$mt" -v k="$profiles" 'BEGIN {
	printf "platforms.analysis: %d records against %d profiles in %.3f s (%.1f M records/s)\n", n, k, t, n / t / 1e6 }'
