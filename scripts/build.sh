#!/usr/bin/env bash
# build.sh - install dependencies, then configure and build gmtrace.
#
#   scripts/build.sh                      RelWithDebInfo into build/, -Werror
#   GM_BUILD_DIR=build-asan scripts/build.sh -DGM_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug
#
# Arguments are passed to the CMake configure step after the defaults, so they
# override them. Re-runnable: an existing build directory is reconfigured and
# rebuilt incrementally. GM_SKIP_SETUP=1 skips the package check.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

scripts/setup.sh

build_dir=${GM_BUILD_DIR:-build}
jobs=${GM_JOBS:-$(nproc)}

cmake -S . -B "$build_dir" \
	-DCMAKE_BUILD_TYPE=RelWithDebInfo \
	-DGM_WERROR=ON \
	"$@"
cmake --build "$build_dir" --parallel "$jobs"
