#!/usr/bin/env bash
# bench.sh - what gmtrace costs a game: time, instructions, memory, capture size.
#
#   scripts/bench.sh [--quick] [--no-heaptrack]
#
# Figures, not tests: every figure is a ratio or a difference against the same
# workload run without gmtrace in the same invocation (and under heaptrack for
# comparison), each run repeated and reported as a median. It prints one table,
# writes it to <build>/bench/results.txt and the same figures to
# <build>/bench/results.json, and exits 0 whether targets pass or miss (a run
# that fails or times out is shown in the table and makes the exit status 1).
#
# Workloads (scripts/bench/, compiled here with cc -O2):
#   pair.c      ns per malloc+free pair (16..512 B) and per realloc, one thread
#   gameloop.c  F frames x 10,000 mixed allocations, some living a few frames,
#               on 1 or 2 threads
#   peakrss.c   runs a command and reports that process's own peak RSS
#   clock.c     ns per read of the TSC and of clock_gettime on this machine:
#               the events level reads it once per event (with
#               BURST_ALLOCATIONS=7, for every free and one allocation in
#               eight in a burst)
#   naive.c     the issue's reference recorder, preloaded: one 32-byte record
#               and one TSC read per event, written to a file (naive) or to
#               /dev/null (naive, no writing: the recording alone)
# Variants: plain; gmtrace = LD_PRELOAD=libgmtrace.so (drainer thread in the
# game, the default); gmtrace run = `gmtrace run` drains from outside; naive;
# heaptrack.
# Instruction counts come from valgrind --tool=callgrind (perf's hardware
# counters are not available on these virtual machines; the script checks).
#
# Options:
#   --quick         3 runs, 150 frames, 2M pairs: a smoke check, not figures
#   --no-heaptrack  skip the heaptrack column
# Environment:
#   GM_BUILD_DIR        build tree (default build/); scripts/build.sh builds it
#   GM_BENCH_NO_BUILD=1 use the binaries already in GM_BUILD_DIR as they are
#   GM_BENCH_REPS       runs per measurement (default 7, quick 3)
#   GMTRACE_RING_SIZE   passed through to libgmtrace (default 8M); noted in output
#   TMPDIR              where captures go while measured (pair writes ~0.5 GB)
# Needs: cc, python3, valgrind, heaptrack (optional), prlimit and timeout (util-linux,
# coreutils). Nothing is installed from here.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$(pwd)
exec </dev/null

quick=0
heaptrack=1
for arg in "$@"; do
	case $arg in
	--quick) quick=1 ;;
	--no-heaptrack) heaptrack=0 ;;
	-h | --help)
		sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'
		exit 0
		;;
	*)
		echo "bench.sh: unknown option '$arg' (see --help)" >&2
		exit 2
		;;
	esac
done

build_dir=${GM_BUILD_DIR:-build}
case $build_dir in /*) ;; *) build_dir=$root/$build_dir ;; esac

if ((quick)); then
	reps=${GM_BENCH_REPS:-3} frames=150 pairs=2000000 reallocs=1000000 mem_reps=2
else
	reps=${GM_BENCH_REPS:-7} frames=600 pairs=10000000 reallocs=4000000 mem_reps=3
fi
allocs_per_frame=10000
cg_small=100000 cg_large=300000 # callgrind: instructions = difference of two run lengths
# Under valgrind threads take turns, so with the default ring the game thread
# fills it and then does the drainer's work inside its malloc calls; a ring
# that holds the whole run keeps the loop's count to the hooks alone.
cg_ring=64M
ht_limit=$((4 << 30))           # heaptrack's interpreter once took 19 GB: cap its address space
run_timeout=300                 # seconds per run; a stall shows up as a timeout

# ---- build ---------------------------------------------------------------
if [[ "${GM_BENCH_NO_BUILD:-0}" != 1 ]]; then
	if ! GM_BUILD_DIR=$build_dir scripts/build.sh >"${TMPDIR:-/tmp}/gmtrace-bench-build.log" 2>&1; then
		tail -20 "${TMPDIR:-/tmp}/gmtrace-bench-build.log" >&2
		echo "bench.sh: scripts/build.sh failed (log: ${TMPDIR:-/tmp}/gmtrace-bench-build.log)." >&2
		echo "  To measure binaries built otherwise: GM_BUILD_DIR=DIR GM_BENCH_NO_BUILD=1 $0" >&2
		exit 1
	fi
fi
# what was built: the commit, and whether the working tree differs from it
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
if [[ -n $(git status --porcelain -- interpose analysis 2>/dev/null) ]]; then
	commit="$commit + uncommitted changes in interpose/ analysis/"
fi
lib=$build_dir/interpose/libgmtrace.so
cli=$build_dir/analysis/gmtrace
for f in "$lib" "$cli"; do
	if [[ ! -e $f ]]; then
		echo "bench.sh: $f is missing" >&2
		exit 1
	fi
done
for tool in cc python3 valgrind prlimit timeout; do
	command -v "$tool" >/dev/null || {
		echo "bench.sh: $tool not found" >&2
		exit 1
	}
done
if ((heaptrack)) && ! command -v heaptrack >/dev/null; then
	echo "bench.sh: heaptrack not found; running without it" >&2
	heaptrack=0
fi

out=$build_dir/bench
bin=$out/bin
logs=$out/logs
mkdir -p "$bin" "$logs"
rm -f "$logs"/*
work=$(mktemp -d "${TMPDIR:-/tmp}/gmtrace-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
# Measure a snapshot: others may rebuild the tree while this runs.
# `gmtrace run` finds the libgmtrace.so beside it; --lib says so anyway.
mkdir -p "$work/snap"
cp "$lib" "$cli" "$work/snap/"
lib=$work/snap/libgmtrace.so
cli=$work/snap/gmtrace
raw=$work/raw.txt
: >"$raw"
failures=0

for w in pair gameloop peakrss clock; do
	cc -O2 -Wall -Wextra -pthread -o "$bin/$w" "scripts/bench/$w.c"
done
cc -O2 -Wall -Wextra -shared -fPIC -pthread -o "$bin/naive.so" scripts/bench/naive.c -ldl

note() { printf '%s\n' "$*" >&2; }

# record SECTION CASE VARIANT REP LOG [extra key=value...]: the key=value lines
# of LOG (a workload's output) and the extras become one line of $raw.
record() {
	local section=$1 case=$2 variant=$3 rep=$4 log=$5
	shift 5
	local kv
	kv=$(grep -E '^[a-z_]+=[-0-9.]+$' "$log" | tr '\n' ' ' || true)
	echo "$section $case $variant $rep $kv $*" >>"$raw"
}

# failed SECTION CASE VARIANT REP RC LOG: keep the log, count the failure.
failed() {
	local keep=$logs/$2.$3.$4.log
	cp "$6" "$keep"
	echo "$1 $2 $3 $4 failed=$5" >>"$raw"
	failures=$((failures + 1))
	note "  $2 $3 run $4: exit $5 (log: $keep)"
}

# capture_stats CAPTURE: "cap_bytes=N allocations=N frees=N bursts=N
# bursts_over=N" (burst allocations, and those known only past 1 us), or
# nothing.
capture_stats() {
	local cap=$1 size
	[[ -s $cap ]] || return 0
	size=$(stat -c %s "$cap")
	"$cli" summary --json "$cap" 2>/dev/null | python3 -c '
import json, sys
try:
    d = json.load(sys.stdin)
    print("allocations=%d frees=%d bursts=%d bursts_over=%d" % (d["allocations"], d["frees"],
          d["burst_records"], d["burst_records_over_1us"]))
except Exception:
    pass' | sed "s/^/cap_bytes=$size /"
}

# run_one CASE VARIANT REP ARGS...: one timed run of a workload.
#   CASE is pair, gl1 or gl2; VARIANT plain, gm, gmb (BURST_ALLOCATIONS=7),
#   ext, nv (naive recorder
#   writing its records to a file), nvnull (the same to /dev/null) or ht.
run_one() {
	local case=$1 variant=$2 rep=$3
	shift 3
	local prog=$bin/pair log=$work/run.log cap=$work/$case.$variant.$rep.gmt rc=0 extra=
	[[ $case == pair ]] || prog=$bin/gameloop
	case $variant in
	plain)
		timeout $run_timeout "$prog" "$@" >"$log" 2>&1 || rc=$?
		;;
	gm)
		timeout $run_timeout env GMTRACE_QUIET=1 GMTRACE_OUTPUT="$cap" LD_PRELOAD="$lib" \
			"$prog" "$@" >"$log" 2>&1 || rc=$?
		;;
	gmb)
		timeout $run_timeout env GMTRACE_QUIET=1 GMTRACE_BURST_ALLOCATIONS=7 GMTRACE_OUTPUT="$cap" \
			LD_PRELOAD="$lib" "$prog" "$@" >"$log" 2>&1 || rc=$?
		;;
	ext)
		timeout $run_timeout "$cli" run --lib "$lib" --quiet 1 --output "$cap" -- "$prog" "$@" >"$log" 2>&1 || rc=$?
		;;
	nv | nvnull)
		local records=$work/naive.out
		[[ $variant == nv ]] || records=/dev/null
		timeout $run_timeout env NAIVE_OUTPUT="$records" LD_PRELOAD="$bin/naive.so" \
			"$prog" "$@" >"$log" 2>&1 || rc=$?
		rm -f "$work/naive.out"
		;;
	ht)
		rm -f "$work"/ht.*
		timeout $run_timeout prlimit --as=$ht_limit heaptrack -o "$work/ht.$case" \
			"$prog" "$@" >"$log" 2>&1 || rc=$?
		;;
	esac
	if ((rc != 0)) || ! grep -q '^[a-z_]*_ms=\|^pair_ns=' "$log"; then
		((rc != 0)) || rc=-1
		failed time "$case" "$variant" "$rep" "$rc" "$log"
		rm -f "$cap"
		return 0
	fi
	case $variant in
	gm | gmb | ext) extra=$(capture_stats "$cap") ;;
	ht) extra="cap_bytes=$(cat "$work"/ht."$case"* 2>/dev/null | wc -c)" ;;
	esac
	record time "$case" "$variant" "$rep" "$log" $extra
	# the last run's capture is kept to count ring-full waits (dump is slow)
	if [[ $rep == "$reps" && ($variant == gm || $variant == ext) ]]; then
		mv "$cap" "$work/last.$case.$variant.gmt" 2>/dev/null || true
	fi
	rm -f "$cap" "$work"/ht.*
}

# ---- 1. time: plain, gmtrace, heaptrack, interleaved run by run ------------
variants_pair=(plain gm gmb nv nvnull)
variants_gl1=(plain gm gmb ext nv nvnull)
variants_gl2=(plain gm gmb ext nv nvnull)
if ((heaptrack)); then
	variants_pair+=(ht) variants_gl1+=(ht) variants_gl2+=(ht)
fi
start=$(date +%s)
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
clock_out=$("$bin/clock")
clock_tsc_ns=$(sed -n 's/^tsc_ns=//p' <<<"$clock_out")
clock_mono_ns=$(sed -n 's/^mono_ns=//p' <<<"$clock_out")
note "bench: $reps runs of each; pair $pairs pairs + $reallocs reallocs; gameloop $frames frames x $allocs_per_frame allocations"
for ((rep = 1; rep <= reps; rep++)); do
	note "bench: run $rep/$reps ($(($(date +%s) - start)) s)"
	for case in pair gl1 gl2; do
		declare -n vs=variants_$case
		order=("${vs[@]}")
		if ((rep % 2 == 0)); then # alternate the order so drift hits all alike
			order=()
			for ((i = ${#vs[@]} - 1; i >= 0; i--)); do order+=("${vs[i]}"); done
		fi
		for v in "${order[@]}"; do
			case $case in
			pair) run_one pair "$v" "$rep" --pairs $pairs --reallocs $reallocs ;;
			gl1) run_one gl1 "$v" "$rep" --frames $frames --allocs $allocs_per_frame --threads 1 ;;
			gl2) run_one gl2 "$v" "$rep" --frames $frames --allocs $allocs_per_frame --threads 2 ;;
			esac
		done
		unset -n vs
	done
done

# ring-full waits in the last run's captures (gm_rec_stall records)
for cap in "$work"/last.*.gmt; do
	[[ -e $cap ]] || continue
	name=${cap#"$work"/last.}
	name=${name%.gmt}
	"$cli" dump "$cap" 2>/dev/null | awk -v n="$name" '
		$3 == "stall" { split($4, a, "="); split($5, b, "="); w += a[2]; ns += b[2] }
		END { printf "stall %s last 1 stall_waits=%d stall_ns=%d\n", n, w, ns }' >>"$raw" || true
	rm -f "$cap"
done

# ---- 2. memory: peak RSS of the game and of the external drainer -----------
note "bench: memory ($(($(date +%s) - start)) s)"
gl_args=(--frames $frames --allocs $allocs_per_frame --threads 1)
for ((rep = 1; rep <= mem_reps; rep++)); do
	log=$work/mem.log rss=$work/rss.txt
	for v in plain gm ext ht; do
		((heaptrack)) || [[ $v != ht ]] || continue
		rc=0
		case $v in
		plain) timeout $run_timeout "$bin/peakrss" -o "$rss" "$bin/gameloop" "${gl_args[@]}" >"$log" 2>&1 || rc=$? ;;
		gm) timeout $run_timeout "$bin/peakrss" -o "$rss" GMTRACE_QUIET=1 GMTRACE_OUTPUT="$work/mem.gmt" \
			LD_PRELOAD="$lib" "$bin/gameloop" "${gl_args[@]}" >"$log" 2>&1 || rc=$? ;;
		ext) timeout $run_timeout "$bin/peakrss" -o "$rss" "$cli" run --lib "$lib" --quiet 1 --output "$work/mem.gmt" \
			-- "$bin/gameloop" "${gl_args[@]}" >"$log" 2>&1 || rc=$? ;;
		ht) timeout $run_timeout "$bin/peakrss" -o "$rss" --tree prlimit --as=$ht_limit heaptrack \
			-o "$work/ht.mem" "$bin/gameloop" "${gl_args[@]}" >"$log" 2>&1 || rc=$? ;;
		esac
		if ((rc != 0)) || [[ ! -s $rss ]]; then
			failed mem gl1 "$v" "$rep" "$rc" "$log"
		else
			record mem gl1 "$v" "$rep" "$log" "$(cat "$rss")"
		fi
		rm -f "$work/mem.gmt" "$work"/ht.* "$rss"
	done
done

# ---- 3. instructions: callgrind, with and without the preload --------------
note "bench: callgrind ($(($(date +%s) - start)) s)"
perf_ok=0
if command -v perf >/dev/null && perf stat -x, -e instructions true 2>&1 | grep -q '^[0-9]'; then
	perf_ok=1
fi
# cg_run NAME VARIANT SCOPE ARGS...: instruction totals of one callgrind run.
#   SCOPE loop: only inside the timed loop (--toggle-collect on its function,
#   callees included): the workload and the hooks, nothing else. SCOPE all:
#   the whole process, every thread (drainer, compression, start and exit).
#   Records main= (first thread) and all= (every thread).
cg_run() {
	local name=$1 variant=$2 scope=$3 d=$work/cg.$1.$2.$3 rc=0 main all pc fn=pair_run_pairs
	shift 3
	[[ $name != realloc* ]] || fn=pair_run_reallocs
	mkdir -p "$d"
	local vg=(valgrind --tool=callgrind --trace-children=no --separate-threads=yes
		--callgrind-out-file="$d/cg.out")
	[[ $scope != loop ]] || vg+=(--toggle-collect=$fn)
	if [[ $variant == gm ]]; then
		# valgrind is a shell script: sh and valgrind.bin get the preload too and
		# write their own small captures into $d; only pair.*.gmt is the workload's.
		timeout $run_timeout env GMTRACE_QUIET=1 GMTRACE_OUTPUT="$d/%e.%p.gmt" \
			GMTRACE_RING_SIZE=$cg_ring LD_PRELOAD="$lib" \
			"${vg[@]}" "$bin/pair" "$@" >"$d/log" 2>&1 || rc=$?
	else
		timeout $run_timeout "${vg[@]}" "$bin/pair" "$@" >"$d/log" 2>&1 || rc=$?
	fi
	if ((rc != 0)) || [[ ! -s $d/cg.out-01 ]]; then
		failed cg "${name}_$scope" "$variant" 1 "$rc" "$d/log"
		rm -rf "$d"
		return 0
	fi
	main=$(awk '/^totals:/ { print $2 }' "$d/cg.out-01")
	all=$(cat "$d"/cg.out-* | awk '/^totals:/ { s += $2 } END { printf "%d", s }')
	pc=
	if [[ $variant == gm && $scope == all ]]; then
		pc=$(capture_stats "$(ls "$d"/pair.*.gmt 2>/dev/null | head -1)")
	fi
	echo "cg ${name}_$scope $variant 1 main=$main all=$all $pc" >>"$raw"
	rm -rf "$d"
}
for v in plain gm; do
	for scope in loop all; do
		cg_run pair_small "$v" $scope --pairs $cg_small --reallocs 0
		cg_run pair_large "$v" $scope --pairs $cg_large --reallocs 0
		cg_run realloc_small "$v" $scope --pairs 0 --reallocs $cg_small
		cg_run realloc_large "$v" $scope --pairs 0 --reallocs $cg_large
	done
done

# ---- 4. the table ------------------------------------------------------------
elapsed=$(($(date +%s) - start))
cat >"$work/meta.txt" <<EOF
date=$(date '+%Y-%m-%d %H:%M')
host=$(uname -n)
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
cores=$(nproc)
load_start=$load_start
load=$(cut -d' ' -f1-3 /proc/loadavg)
commit=$commit
build=$build_dir
mode=$( ((quick)) && echo quick || echo full)
reps=$reps
mem_reps=$mem_reps
frames=$frames
allocs_per_frame=$allocs_per_frame
pairs=$pairs
reallocs=$reallocs
cg_small=$cg_small
cg_large=$cg_large
cg_ring=$cg_ring
ring_size=${GMTRACE_RING_SIZE:-8M (default)}
heaptrack=$( ((heaptrack)) && heaptrack --version 2>/dev/null | head -1 || echo off)
perf_instructions=$( ((perf_ok)) && echo supported || echo 'not supported (perf stat -e instructions: <not supported>)')
elapsed_s=$elapsed
clock_tsc_ns=$clock_tsc_ns
clock_mono_ns=$clock_mono_ns
failures=$failures
EOF
python3 scripts/bench/report.py "$raw" "$work/meta.txt" "$out/results.txt" "$out/results.json"
# per-feature figures: frames at 60 FPS, pools, assets, budgets (features.sh)
echo
scripts/bench/features.sh "$build_dir" "$( ((quick)) && echo 1 || echo 3)" | tee "$out/features.txt"
note "bench: done in $(($(date +%s) - start)) s; $out/results.txt, $out/results.json, $out/features.txt"
((failures == 0))
