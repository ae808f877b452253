#!/usr/bin/env bash
# setup.sh - install the Debian packages gmtrace needs to build and test.
#
# Idempotent: asks dpkg what is already installed and only calls apt-get when
# something is missing. Never prompts (CI runs without stdin): apt-get runs
# non-interactively, and sudo (used only when not root) runs with -n unless a
# terminal is attached. Set GM_SKIP_SETUP=1 to skip it altogether.
set -euo pipefail

if [[ "${GM_SKIP_SETUP:-0}" == 1 ]]; then
	exit 0
fi

# One package a line, grouped by what needs it. Add new dependencies here.
packages=(
	# toolchain and build
	cmake make pkg-config gcc g++ libc6-dev clang clang-format
	# libraries linked by libgmtrace and the analysis side
	libjemalloc-dev libunwind-dev libzstd-dev libyaml-dev libdw-dev
	# tests: Criterion unit tests, pytest end-to-end tests with pygame
	libcriterion-dev python3 python3-dev python3-pytest python3-pygame
	# SDL fixtures (frame hooks on SDL2 and SDL 1.2 presents)
	libsdl2-dev libsdl1.2-dev
	# coverage and the reference tools results are compared against
	gcovr heaptrack valgrind
	# foreign programs the integration tests run under the preload
	procps file coreutils gzip xz-utils bzip2
)

if ! command -v dpkg-query >/dev/null 2>&1; then
	echo "setup: no dpkg-query: not a Debian system; install these yourself:" >&2
	echo "  ${packages[*]}" >&2
	exit 0
fi

missing=()
for pkg in "${packages[@]}"; do
	status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
	# "install ok installed" or "hold ok installed"; anything else (absent,
	# unpacked, config-files only) is reinstalled.
	if [[ "$status" != *" ok installed" ]]; then
		missing+=("$pkg")
	fi
done

if ((${#missing[@]} == 0)); then
	echo "setup: all ${#packages[@]} packages present"
	exit 0
fi

as_root=()
if ((EUID != 0)); then
	if ! command -v sudo >/dev/null 2>&1; then
		echo "setup: not root and no sudo; install as root: ${missing[*]}" >&2
		exit 1
	fi
	if [[ -t 0 ]]; then
		as_root=(sudo)
	else
		as_root=(sudo -n)
	fi
fi

echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
	--no-install-recommends \
	-o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
	"${missing[@]}" </dev/null
echo "setup: installed ${#missing[@]} package(s)"
