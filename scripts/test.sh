#!/usr/bin/env bash
# test.sh - the one test command: dependencies, build, every test, one tally.
#
#   scripts/test.sh [ctest args...]     e.g. scripts/test.sh -R ring
#
# 1. scripts/setup.sh, then scripts/build.sh into build/ (RelWithDebInfo, -Werror).
# 2. ctest on build/, all labels but "stress" (GM_TEST_ALL=1 includes stress).
# 3. Sanitizer pass: build-asan/ (Debug, ASan+UBSan), ctest on label "unit".
# 4. Format check: a warning only, for now (see below).
# 5. scripts/junit2json.py merges both JUnit files into test_results.json and
#    prints the last line, "N passed, N failed, N skipped".
#
# Exits non-zero when any step or test failed, or when no test ran. Every step
# runs even after an earlier one failed, so one report shows everything. Needs no
# stdin. Environment: GM_TEST_ALL=1, GM_TEST_JOBS (ctest parallelism, default
# nproc), GM_TEST_TIMEOUT (seconds per test without its own TIMEOUT, default 600),
# GM_SKIP_ASAN=1 (skip the sanitizer pass, for quick local runs; CI never sets it).
set -uo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 1
root=$(pwd)
exec </dev/null

jobs=${GM_TEST_JOBS:-$(nproc)}
timeout=${GM_TEST_TIMEOUT:-600}
labels=(-LE stress)
if [[ "${GM_TEST_ALL:-0}" == 1 ]]; then
	labels=()
fi

# Sanitizer behaviour for the ASan pass; a caller's own settings win.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:strict_string_checks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

steps=() # "--step SUITE STEP RC [LOG]" arguments for junit2json.py

banner() {
	printf '\n==== %s ====\n' "$*"
}

# run_logged LOG CMD... - runs CMD, copying its output to LOG; returns its status.
run_logged() {
	local log=$1
	shift
	"$@" 2>&1 | tee "$log"
	return "${PIPESTATUS[0]}"
}

# run_suite NAME DIR CTEST_ARGS... - builds DIR and runs its ctest into DIR/junit.xml.
# The build's extra CMake arguments come from the array named by build_args.
run_suite() {
	local name=$1 dir=$2
	shift 2
	local rc
	mkdir -p "$dir"
	rm -f "$dir/junit.xml"

	banner "$name: build $dir"
	GM_SKIP_SETUP=1 GM_BUILD_DIR=$dir run_logged "$dir/build.log" \
		scripts/build.sh "${build_args[@]}"
	rc=$?
	steps+=(--step "$name" build "$rc" "$dir/build.log")
	if ((rc != 0)); then
		echo "$name: build failed (status $rc); its tests are not run"
		return
	fi

	banner "$name: ctest $dir"
	ctest --test-dir "$dir" --output-on-failure --output-junit "$root/$dir/junit.xml" \
		--parallel "$jobs" --timeout "$timeout" "$@"
	rc=$?
	steps+=(--step "$name" ctest "$rc")
}

banner "setup"
scripts/setup.sh
rc=$?
steps+=(--step main setup "$rc")

build_args=()
run_suite main build "${labels[@]}" "$@"

if [[ "${GM_SKIP_ASAN:-0}" != 1 ]]; then
	build_args=(-DGM_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug)
	run_suite asan build-asan -L unit "$@"
fi

# The tree is clang-formatted (.clang-format); a file that is not fails the run
# as one failed step, with the list of files. scripts/format-check.sh --fix mends it.
banner "format check"
if ! scripts/format-check.sh; then
	echo "format: some files are not clang-formatted; run scripts/format-check.sh --fix"
	steps+=(--step main format 1)
fi

banner "results"
suites=(--suite main build/junit.xml)
if [[ "${GM_SKIP_ASAN:-0}" != 1 ]]; then
	suites+=(--suite asan build-asan/junit.xml)
fi
python3 scripts/junit2json.py --out "$root/test_results.json" "${suites[@]}" "${steps[@]}"
