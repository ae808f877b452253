#!/usr/bin/env bash
# run.sh - build the capture fuzzer with clang and run it for a while
#
#     tests/fuzz/run.sh [BUILD_DIR [SECONDS]]
#
# Builds fuzz_capture.c with the report commands, the reader and the models
# (clang -fsanitize=fuzzer,address,undefined: libFuzzer, ASan and UBSan come
# with Debian's clang), makes seed captures with the build's libgmtrace (a
# platform run of pf_grow, the demo game with tags, assets, pools and a
# budget, a frames-level run), then fuzzes for SECONDS (default 45). Exit 0
# when nothing was found; else libFuzzer's report and the crashing input in
# BUILD_DIR/tests/fuzz/. Without clang the test says so and exits 77 (ctest
# counts it skipped).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
root=$(pwd)
build=${1:-build}
case $build in /*) ;; *) build=$root/$build ;; esac
seconds=${2:-45}
out=$build/tests/fuzz
mkdir -p "$out/corpus"

if ! command -v clang >/dev/null; then
	echo "fuzz: clang is not installed; skipped" >&2
	exit 77
fi

src=(tests/fuzz/fuzz_capture.c
	analysis/cmd/{args,summary,dump,frames,assets,transitions,pools,budgets,platforms}.c
	analysis/log/reader.c analysis/log/compact.c
	analysis/model/{live,frames,pools,assets,budgets,platforms}.c
	analysis/report/{json,text,top,heatmap}.c
	interpose/log/pack.c interpose/budget/budgetfile.c
	interpose/support/{support,options,yamlfile}.c
	platforms/{profile,host}.c)
clang -std=gnu11 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	-I "$root" -I "$root/interpose/include" \
	-DGM_PLATFORM_DIR="\"$root/platforms/profiles\"" \
	"${src[@]}" -lzstd -lyaml -lm -o "$out/fuzz_capture"

# seeds: small captures of every kind of record the writer makes
lib=$build/interpose/libgmtrace.so
seed() { # name env... -- command...
	local name=$1
	shift
	local envs=()
	while [ "$1" != "--" ]; do envs+=("$1"); shift; done
	shift
	env "${envs[@]}" GMTRACE_QUIET=1 GMTRACE_OUTPUT="$out/corpus/$name.gmt" LD_PRELOAD="$lib" \
		"$@" >/dev/null 2>&1 || true
}
rm -f "$out"/corpus/*.gmt*
seed platform GMTRACE_PLATFORM_PATH="$root/tests/platforms/profiles" GMTRACE_PLATFORM=tiny-split \
	GMTRACE_COMPRESS=0 -- "$build/tests/platforms/pf_grow" split 20
seed demo SDL_VIDEODRIVER=dummy SDL_AUDIODRIVER=dummy GMTRACE_COMPRESS=0 -- \
	"$build/tests/games/gm_demo" --fast --frames 20
seed frames GMTRACE_LEVEL=frames -- "$build/tests/platforms/pf_grow" split 10
ls "$out/corpus"/*.gmt >/dev/null
# inputs that once found a fault (tests/fuzz/regressions/README.md) start the run
cp tests/fuzz/regressions/*.gmt "$out/corpus/"

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
./fuzz_capture -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
	-max_len=262144 -print_final_stats=1 corpus || status=$?
./fuzz_profile -max_total_time=$(((seconds + 2) / 3)) -timeout=10 -rss_limit_mb=2048 \
	-max_len=16384 -print_final_stats=1 profiles || status=$?
for f in sanitizer.* crash-* leak-* timeout-* oom-*; do
	[ -e "$f" ] || continue
	echo "fuzz: found $out/$f" >&2
	case $f in sanitizer.*) cat "$f" >&2 ;; esac
	status=1
done
exit $status
