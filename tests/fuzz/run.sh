#!/usr/bin/env bash
# run.sh - build the fuzzers with clang and run them
#
#     tests/fuzz/run.sh [BUILD_DIR [ci|SECONDS]]
#
# Builds fuzz_capture.c (every report command on a capture) and
# fuzz_profile.c (the profile and budget file readers) with clang
# -fsanitize=fuzzer,address,undefined (libFuzzer, ASan and UBSan come with
# Debian's clang). Capture seeds are made with this build (a platform run of
# pf_grow, the demo game with tags, assets, pools and a budget, a
# frames-level run); profile seeds are the shipped profiles renamed "dev".
#
#   ci        (the test run, default) a fixed seed and a fixed number of runs
#             (1,500 captures, 50,000 files); the seed captures differ only
#             in pids and times from run to run
#   SECONDS   explore: a random seed, SECONDS on captures and a third of that
#             on files
#
# Exit 0 when nothing was found; else the sanitizer's report and the failing
# input in BUILD_DIR/tests/fuzz/ (regressions/README.md lists past faults).
# Without clang it exits 77 (ctest counts the test skipped).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
root=$(pwd)
build=${1:-build}
case $build in /*) ;; *) build=$root/$build ;; esac
mode=${2:-ci}
out=$build/tests/fuzz
mkdir -p "$out/corpus"

if ! command -v clang >/dev/null; then
	echo "fuzz: clang is not installed; skipped" >&2
	exit 77
fi

src=(tests/fuzz/fuzz_capture.c
	analysis/cmd/{args,summary,dump,frames,framescmp,assets,transitions,pools,budgets,platforms,stacks,trace,html,live}.c
	analysis/log/reader.c analysis/log/compact.c
	analysis/model/{live,frames,pools,assets,budgets,platforms,stacks,symbols}.c
	analysis/report/{json,text,top,heatmap,callsite}.c
	interpose/log/pack.c interpose/budget/budgetfile.c
	interpose/support/{support,options,yamlfile}.c
	platforms/{profile,host}.c)
clang -std=gnu11 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	-I "$root" -I "$root/interpose/include" \
	-DGM_PLATFORM_DIR="\"$root/platforms/profiles\"" \
	"${src[@]}" -lzstd -lyaml -ldw -lelf -lstdc++ -lm -o "$out/fuzz_capture"

# seeds: small captures of every kind of record the writer makes, made with
# this build (a platform run of pf_grow, the demo game with tags, assets,
# pools and a budget, a frames-level run, call stacks of a C fixture and of
# Python code)
rm -rf "$out/corpus"
mkdir -p "$out/corpus"
lib=$build/interpose/libgmtrace.so
seed() { # name env... -- command...
	local name=$1
	shift
	local envs=()
	while [ "$1" != "--" ]; do envs+=("$1"); shift; done
	shift
	env "${envs[@]}" GMTRACE_QUIET=1 GMTRACE_OUTPUT="$out/corpus/$name.gmt" \
		LD_PRELOAD="$lib" "$@" >/dev/null 2>&1 || true
}
seed platform GMTRACE_PLATFORM_PATH="$root/tests/platforms/profiles" \
	GMTRACE_PLATFORM=tiny-split GMTRACE_COMPRESS=0 -- "$build/tests/platforms/pf_grow" split 20
seed demo SDL_VIDEODRIVER=dummy SDL_AUDIODRIVER=dummy GMTRACE_COMPRESS=0 -- \
	"$build/tests/games/gm_demo" --fast --frames 20
seed frames GMTRACE_LEVEL=frames -- "$build/tests/platforms/pf_grow" split 10
seed stacks GMTRACE_STACKS=8 GMTRACE_COMPRESS=0 -- "$build/tests/integration/fixtures/fx_stacks"
seed python GMTRACE_STACKS=6 GMTRACE_COMPRESS=0 -- \
	/usr/bin/python3 -S -c "x = [bytearray(1000 + i) for i in range(3)]"
ls "$out/corpus"/*.gmt >/dev/null

# the profile and budget file readers: seeds are the shipped profiles, renamed
# "dev" (a profile must be named after its file, and the fuzzer writes dev.yaml)
clang -std=gnu11 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	-I "$root" -DGM_PLATFORM_DIR="\"$root/platforms/profiles\"" \
	tests/fuzz/fuzz_profile.c interpose/budget/budgetfile.c \
	interpose/support/{support,options,yamlfile}.c platforms/profile.c \
	-lyaml -o "$out/fuzz_profile"
mkdir -p "$out/profiles"
rm -f "$out"/profiles/*
for f in platforms/profiles/*.yaml tests/platforms/profiles/*.yaml; do
	sed 's/^name: .*/name: dev/' "$f" >"$out/profiles/$(basename "$f")"
done

cd "$out"
rm -f sanitizer.* crash-* leak-* timeout-* oom-*
status=0
export ASAN_OPTIONS=detect_leaks=1:log_path=$out/sanitizer
export UBSAN_OPTIONS=print_stacktrace=1:log_path=$out/sanitizer
if [ "$mode" = ci ]; then
	cap=(-seed=1 -runs=1500)
	prof=(-seed=1 -runs=50000)
else
	cap=(-max_total_time="$mode")
	prof=(-max_total_time=$(((mode + 2) / 3)))
fi
./fuzz_capture "${cap[@]}" -timeout=10 -rss_limit_mb=2048 -max_len=262144 \
	-print_final_stats=1 corpus || status=$?
./fuzz_profile "${prof[@]}" -timeout=10 -rss_limit_mb=2048 -max_len=16384 \
	-print_final_stats=1 profiles || status=$?
# what a failing run found is kept in failed/<time>/ (the next run starts by
# removing the previous run's files, and its seeds differ), with the seed
# captures it mutated
kept=
for f in sanitizer.* crash-* leak-* timeout-* oom-*; do
	[ -e "$f" ] || continue
	if [ -z "$kept" ]; then
		kept=$out/failed/$(date +%Y%m%d-%H%M%S)
		mkdir -p "$kept" && cp -r corpus "$kept/" 2>/dev/null
	fi
	cp "$f" "$kept/" 2>/dev/null
	echo "fuzz: found $out/$f (kept in $kept)" >&2
	case $f in sanitizer.*) cat "$f" >&2 ;; esac
	status=1
done
exit $status
