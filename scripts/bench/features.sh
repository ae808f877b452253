#!/usr/bin/env bash
# features.sh - per-feature overhead figures (frames, pools, assets, budgets)
#
#   scripts/bench/features.sh BUILD_DIR [REPS]
#
# Frames: busy ms per frame of a 60 FPS loop (scripts/bench/frames.c) with
# 1,000 / 10,000 / 50,000 allocations per frame, without gmtrace, under
# gmtrace at the events level and at the frames level, in the same run;
# medians of REPS runs (default 3). Packing: what the drainer pays per
# record in each packed form (scripts/bench/packbench.c). Draining: who
# drains (DRAIN_HELP) with two game threads, and beside busy loops. Clock:
# the hooks with a counter in place of the TSC (a build of its own). Call
# stacks (stacks.sh): their cost beside heaptrack's. Then the feature
# benchmarks that live
# beside their tests, when present: pools, assets, budgets.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
build=${1:-build}
reps=${2:-3}
lib=$build/interpose/libgmtrace.so
work=$(mktemp -d /tmp/gmtrace-features.XXXXXX)
trap 'rm -rf "$work"' EXIT
cc -O2 -I interpose/include scripts/bench/frames.c -o "$work/frames"

median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

echo "FRAMES (60 FPS loop, busy ms per frame: median frame, median of $reps runs)"
printf '%-12s %10s %10s %10s %12s %12s\n' "allocs/frame" plain events frames "+events ms" "+frames ms"
for n in 1000 10000 50000; do
	p=() e=() f=()
	for ((r = 0; r < reps; r++)); do
		p+=("$("$work/frames" "$n" 90 | cut -d' ' -f1)")
		e+=("$(GMTRACE_QUIET=1 GMTRACE_OUTPUT="$work/e.%p.gmt" LD_PRELOAD="$lib" "$work/frames" "$n" 90 | cut -d' ' -f1)")
		f+=("$(GMTRACE_QUIET=1 GMTRACE_LEVEL=frames GMTRACE_OUTPUT="$work/f.%p.gmt" LD_PRELOAD="$lib" "$work/frames" "$n" 90 | cut -d' ' -f1)")
		rm -f "$work"/*.gmt
	done
	mp=$(printf '%s\n' "${p[@]}" | median)
	me=$(printf '%s\n' "${e[@]}" | median)
	mf=$(printf '%s\n' "${f[@]}" | median)
	awk -v n="$n" -v p="$mp" -v e="$me" -v f="$mf" 'BEGIN { printf "%-12d %10.3f %10.3f %10.3f %+12.3f %+12.3f\n", n, p, e, f, e - p, f - p }'
done
echo "targets: under 0.5 ms added per frame (seed); under 0.1 ms at 10,000 allocations per frame in the frames level"

# The drainer's share: packing the records of a capture of the bench loop
# (scripts/bench/gameloop.c, 100 frames x 10,000 allocations, one thread).
cc -O2 -I . scripts/bench/packbench.c interpose/log/pack.c -lzstd -o "$work/packbench"
cc -O2 -pthread scripts/bench/gameloop.c -o "$work/gameloop"
GMTRACE_QUIET=1 GMTRACE_OUTPUT="$work/pack.gmt" LD_PRELOAD="$lib" "$work/gameloop" --frames 100 >/dev/null
echo
echo "PACKING (drainer: ns and bytes per record to pack a capture of the bench loop; median of 9)"
"$work/packbench" "$work/pack.gmt" 9 | awk '{ for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
	printf "%-28s %8s ns  %6s B\n%-28s %8s ns  %6s B\n", "form 1 (varints, format 2.x)", v["v1_ns"], v["v1_bytes"], "form 2 (lengths, format 3)", v["v2_ns"], v["v2_bytes"] }'
rm -f "$work"/*.gmt

# Who drains: the bench loop with two threads on this machine's cores,
# ms per frame, interleaved runs: without gmtrace; DRAIN_HELP auto (the
# default) and off; the drain put off (a 256 MiB log holds the whole
# run, the drainer sleeps through it), which leaves the hooks alone; and
# `gmtrace run` with DRAIN_HELP auto and off (its drainer a process of its
# own, the game's threads draining into the same capture). Then
# one thread beside four busy loops (other programs taking the cores).
gl_ms() { "$@" --frames "$frames" --threads "$threads" | sed -n 's/^ms_per_frame=//p'; }
drain_runs() { # NAME=ENV... per variant; prints "name median" lines
	local -A got=()
	local r v name envs
	for ((r = 0; r < runs; r++)); do
		for v in "$@"; do
			name=${v%%:*}
			if [[ $name == plain ]]; then
				got[$name]+="$(gl_ms "$work/gameloop") "
			elif [[ $name == run* ]]; then
				envs=
				[[ $v == *:* ]] && envs=${v#*:}
				# shellcheck disable=SC2086
				got[$name]+="$(gl_ms env $envs GMTRACE_QUIET=1 "$build/analysis/gmtrace" run \
					--output "$work/d.%p.gmt" -- "$work/gameloop" 2>/dev/null) "
				rm -f "$work"/*.gmt
			else
				# shellcheck disable=SC2086
				got[$name]+="$(gl_ms env ${v#*:} GMTRACE_QUIET=1 \
					GMTRACE_OUTPUT="$work/d.%p.gmt" LD_PRELOAD="$lib" "$work/gameloop") "
				rm -f "$work"/*.gmt
			fi
		done
	done
	for v in "$@"; do
		name=${v%%:*}
		echo "$name $(printf '%s\n' ${got[$name]} | median)"
	done
}
drain_table() {
	awk 'NR == 1 { base = $2 } { printf "%-34s %8.4f ms  %5.2fx\n", $1, $2, $2 / base }'
}
echo
frames=600 threads=2 runs=9
echo "DRAINING (gameloop, $frames frames, $threads threads; ms per frame, median of $runs interleaved runs)"
drain_runs plain "auto:GMTRACE_DRAIN_HELP=auto" "off:GMTRACE_DRAIN_HELP=off" \
	"deferred:GMTRACE_RING_SIZE=256M GMTRACE_DRAIN_INTERVAL_MS=999" \
	"run:GMTRACE_DRAIN_HELP=auto" "run-off:GMTRACE_DRAIN_HELP=off" | drain_table
frames=300 threads=1 runs=3
hogs=()
for i in 1 2 3 4; do
	timeout 300 sh -c 'while :; do :; done' &
	hogs+=($!)
done
echo "DRAINING beside 4 busy loops (gameloop, $frames frames, $threads thread; median of $runs)"
drain_runs plain "auto:GMTRACE_DRAIN_HELP=auto" "off:GMTRACE_DRAIN_HELP=off" | drain_table
kill "${hogs[@]}" 2>/dev/null || true
wait "${hogs[@]}" 2>/dev/null || true

# What reading the clock costs the hooks: the library built again with a
# counter in place of the TSC (GM_BENCH_COUNTER_CLOCK: a measurement build,
# its captures' times mean nothing), beside the real one, on the pair loop
# and the 1-thread game loop; and the real one with bursts on
# (BURST_ALLOCATIONS=7: most allocations in a burst reuse a reading); 7
# interleaved runs, medians.
echo
cc -O2 scripts/bench/pair.c -o "$work/pair"
cc -O2 scripts/bench/clock.c -o "$work/clock"
btype=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$build/CMakeCache.txt" 2>/dev/null || true)
if cmake -S . -B "$work/counter" -DCMAKE_BUILD_TYPE="${btype:-RelWithDebInfo}" \
	-DGM_BENCH_COUNTER_CLOCK=ON >"$work/counter.log" 2>&1 &&
	cmake --build "$work/counter" --target gmtrace_preload --parallel "$(nproc)" \
		>>"$work/counter.log" 2>&1; then
	counter=$work/counter/interpose/libgmtrace.so
	echo "CLOCK (one thread; medians of 7 interleaved runs; counter: the library with a counter in place of the TSC; bursts: BURST_ALLOCATIONS=7)"
	"$work/clock" | tr '\n' ' ' | awk '{ print "this machine: " $0 "(ns per read, scripts/bench/clock.c)" }'
	declare -A clk_pair=() clk_gl=()
	for ((r = 0; r < 7; r++)); do
		for v in plain events counter bursts; do
			pre=()
			[[ $v == events ]] && pre=(env GMTRACE_QUIET=1 GMTRACE_OUTPUT="$work/c.%p.gmt" LD_PRELOAD="$lib")
			[[ $v == counter ]] && pre=(env GMTRACE_QUIET=1 GMTRACE_OUTPUT="$work/c.%p.gmt" LD_PRELOAD="$counter")
			[[ $v == bursts ]] && pre=(env GMTRACE_QUIET=1 GMTRACE_BURST_ALLOCATIONS=7 GMTRACE_OUTPUT="$work/c.%p.gmt" LD_PRELOAD="$lib")
			clk_pair[$v]+="$("${pre[@]}" "$work/pair" --pairs 5000000 --reallocs 0 2>/dev/null | sed -n 's/^pair_ns=//p') "
			rm -f "$work"/*.gmt
			clk_gl[$v]+="$("${pre[@]}" "$work/gameloop" --frames 600 --threads 1 2>/dev/null | sed -n 's/^ms_per_frame=//p') "
			rm -f "$work"/*.gmt
		done
	done
	printf '%-12s %10s %10s %10s %8s\n' variant ns/pair +ns/pair ms/frame ratio
	for v in plain events counter bursts; do
		echo "$v $(printf '%s\n' ${clk_pair[$v]} | median) $(printf '%s\n' ${clk_gl[$v]} | median)"
	done | awk 'NR == 1 { p = $2; f = $3 } { printf "%-12s %10.2f %+10.2f %10.3f %7.2fx\n", $1, $2, $2 - p, $3, $3 / f }'
else
	echo "CLOCK: the counter build failed, skipped ($work/counter.log):"
	tail -5 "$work/counter.log"
fi

echo
scripts/bench/stacks.sh "$build" "$((reps < 3 ? 3 : reps))"

for extra in tests/pools/bench_pools.sh tests/assets/bench_assets.sh tests/budgets/bench_budgets.sh tests/platforms/bench_platforms.sh; do
	if [ -x "$extra" ]; then
		echo
		echo "== $extra"
		"$extra" "$build" || echo "($extra failed)"
	fi
done
