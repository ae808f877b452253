#!/usr/bin/env bash
# stacks.sh - what call stacks (GMTRACE_STACKS) cost, beside heaptrack
#
#   scripts/bench/stacks.sh BUILD_DIR [REPS]
#
# ns per malloc+free pair (scripts/bench/pair.c, one thread, a call stack 3
# frames deep under main) and the game loop with one thread
# (scripts/bench/gameloop.c, 150 frames x 10,000 allocations): without
# gmtrace, under gmtrace at the events level without stacks, with
# STACKS=16, and under heaptrack (which records a stack for every
# allocation), run interleaved; medians of REPS runs (default 5). Capture
# bytes per event with stacks come from the last game-loop run. Figures,
# not a test: the exit status is 0 unless a run fails.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
build=${1:-build}
reps=${2:-5}
lib=$build/interpose/libgmtrace.so
cli=$build/analysis/gmtrace
work=$(mktemp -d /tmp/gmtrace-stacks.XXXXXX)
trap 'rm -rf "$work"' EXIT
cc -O2 scripts/bench/pair.c -o "$work/pair"
cc -O2 -pthread scripts/bench/gameloop.c -o "$work/gameloop"
have_ht=0
command -v heaptrack >/dev/null && have_ht=1

median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

# one VARIANT PROGRAM ARGS...: the run's key=value output
one() {
	local v=$1
	shift
	case $v in
	plain) "$@" ;;
	events) GMTRACE_QUIET=1 GMTRACE_OUTPUT="$work/e.gmt" LD_PRELOAD="$lib" "$@" ;;
	stacks) GMTRACE_QUIET=1 GMTRACE_STACKS=16 GMTRACE_OUTPUT="$work/s.gmt" LD_PRELOAD="$lib" "$@" ;;
	heaptrack) prlimit --as=$((8 << 30)) heaptrack -o "$work/ht" "$@" 2>/dev/null | grep '=' ;;
	esac
}

variants=(plain events stacks)
((have_ht)) && variants+=(heaptrack)
declare -A pair gl
for ((r = 0; r < reps; r++)); do
	for v in "${variants[@]}"; do
		pair[$v]+="$(one "$v" "$work/pair" --pairs 1000000 --reallocs 0 | sed -n 's/^pair_ns=//p') "
		gl[$v]+="$(one "$v" "$work/gameloop" --frames 150 --threads 1 | sed -n 's/^ms_per_frame=//p') "
		rm -f "$work"/ht* "$work/e.gmt"
		[[ $v == stacks && $r -lt $((reps - 1)) ]] && rm -f "$work/s.gmt"
	done
done

echo "STACKS (one thread; medians of $reps interleaved runs; STACKS=16)"
printf '%-12s %12s %12s %14s %10s\n' variant "ns/pair" "+ns/pair" "ms/frame" ratio
p0=$(printf '%s\n' ${pair[plain]} | median)
g0=$(printf '%s\n' ${gl[plain]} | median)
for v in "${variants[@]}"; do
	p=$(printf '%s\n' ${pair[$v]} | median)
	g=$(printf '%s\n' ${gl[$v]} | median)
	awk -v v="$v" -v p="$p" -v p0="$p0" -v g="$g" -v g0="$g0" \
		'BEGIN { printf "%-12s %12.1f %+12.1f %14.3f %9.2fx\n", v, p, p - p0, g, g / g0 }'
done
# the game loop's capture with stacks: bytes per event, stacks kept
events=$("$cli" summary --json "$work/s.gmt" | python3 -c 'import json,sys; s=json.load(sys.stdin); print(s["allocations"] + s["frees"])')
rows=$("$cli" stacks --json --top 0 "$work/s.gmt" | python3 -c 'import json,sys; print(json.load(sys.stdin)["stacks_recorded"])')
awk -v b="$(stat -c %s "$work/s.gmt")" -v e="$events" -v n="$rows" \
	'BEGIN { printf "game loop with stacks: %.2f bytes per event on disk, %d stacks\n", b / e, n }'
