#!/bin/sh
# bench_python.sh - what gmtrace costs a Python game (a benchmark, not a test)
#
#     tests/e2e/bench_python.sh BUILD_DIR [FRAMES]
#
# In one run, so the ratios compare like with like on this machine:
#   - the frame time of tests/games/pygame_demo.py (--fast, FRAMES frames,
#     default 600): without gmtrace, with it (events level), at the frames
#     level, with call stacks of 16 frames (GMTRACE_STACKS=16: Python frames,
#     the default; and PYTHON_STACKS=c: C frames only) and under heaptrack
#     (when installed; it records C stacks); each the median of 3 runs of the
#     demo's mean flip-to-flip time, the configurations interleaved.
#     PYTHONMALLOC=malloc in all of them, so only the profiler differs.
#   - the cost of one marker call through gmtrace.py (timeit, best of 5):
#     `with gmtrace.tag("x"): pass`, `gmtrace.frame()`, `asset.touch()`,
#     `pool.acquire()` + `pool.release()`, with and without the preload.
# Prints one line per figure. Captures go to a temporary folder, removed.
set -eu

usage() { echo "usage: $0 BUILD_DIR [FRAMES]" >&2; exit 2; }
[ $# -ge 1 ] || usage
build=$(cd "$1" && pwd)
frames=${2:-600}
lib=$build/interpose/libgmtrace.so
[ -f "$lib" ] || { echo "bench_python: $lib is missing: build first" >&2; exit 1; }
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
demo=$src/tests/games/pygame_demo.py
py=/usr/bin/python3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

export SDL_VIDEODRIVER=dummy SDL_AUDIODRIVER=dummy PYGAME_HIDE_SUPPORT_PROMPT=1
export PYTHONMALLOC=malloc PYTHONDONTWRITEBYTECODE=1
unset LD_PRELOAD PYTHONPATH GMTRACE_LEVEL 2>/dev/null || true

configs="off events frames stacks stacks_c"
command -v heaptrack >/dev/null && configs="$configs heaptrack"

# run_demo CONFIG: one demo run; prints its mean frame time in ms
run_demo() {
	case $1 in
	off) $py "$demo" --fast --frames "$frames" ;;
	events) LD_PRELOAD=$lib GMTRACE_QUIET=1 GMTRACE_OUTPUT=$tmp/%p.gmt \
		$py "$demo" --fast --frames "$frames" ;;
	frames) LD_PRELOAD=$lib GMTRACE_QUIET=1 GMTRACE_LEVEL=frames \
		GMTRACE_OUTPUT=$tmp/%p.gmt $py "$demo" --fast --frames "$frames" ;;
	stacks) LD_PRELOAD=$lib GMTRACE_QUIET=1 GMTRACE_STACKS=16 \
		GMTRACE_OUTPUT=$tmp/%p.gmt $py "$demo" --fast --frames "$frames" 2>/dev/null ;;
	stacks_c) LD_PRELOAD=$lib GMTRACE_QUIET=1 GMTRACE_STACKS=16 GMTRACE_PYTHON_STACKS=c \
		GMTRACE_OUTPUT=$tmp/%p.gmt $py "$demo" --fast --frames "$frames" 2>/dev/null ;;
	heaptrack) prlimit --as=$((8 << 30)) heaptrack -o "$tmp/ht" \
		$py "$demo" --fast --frames "$frames" 2>/dev/null ;;
	esac | grep '^{' | $py -c 'import json, sys; print(json.loads(sys.stdin.read())["frame_ms_mean"])'
	rm -f "$tmp"/*.gmt "$tmp"/ht*
}

for round in 1 2 3; do
	for config in $configs; do
		run_demo $config >>"$tmp/demo.$config"
	done
done

$py - "$tmp" "$frames" <<'EOF'
import statistics, sys
tmp, frames = sys.argv[1], sys.argv[2]
import os
med = {}
names = {"events": "with gmtrace, events level", "frames": "with gmtrace, frames level",
         "stacks": "with gmtrace, STACKS=16 (Python frames)",
         "stacks_c": "with gmtrace, STACKS=16 PYTHON_STACKS=c (C frames)",
         "heaptrack": "under heaptrack"}
for config in ("off",) + tuple(names):
    path = "%s/demo.%s" % (tmp, config)
    if os.path.exists(path):
        with open(path) as f:
            med[config] = statistics.median(float(l) for l in f if l.strip())
print("demo frame time without gmtrace: %.3f ms (median of 3 runs, %s frames, --fast)"
      % (med["off"], frames))
for config, name in names.items():
    if config in med:
        print("demo frame time %s: %.3f ms (x%.2f)"
              % (name, med[config], med[config] / med["off"]))
EOF

# The marker calls, timed inside one process per configuration.
cat >"$tmp/markers.py" <<'EOF'
import sys, timeit
sys.path.insert(0, sys.argv[1])
import gmtrace
where = "with gmtrace" if gmtrace.enabled() else "without gmtrace"
asset = gmtrace.Asset()
with gmtrace.asset("bench", "texture") as asset:
    pass
pool = gmtrace.Pool("bench", 64, 1024)
tag = gmtrace.tag("x")
cases = [
    ('with gmtrace.tag("x"): pass', 'with gmtrace.tag("x"): pass'),
    ("with tag: pass (tag object kept)", "with tag: pass"),
    ("gmtrace.frame()", "gmtrace.frame()"),
    ("asset.touch()", "asset.touch()"),
    ("pool.acquire(); pool.release()", "pool.acquire(); pool.release()"),
    ("(empty statement, for reference)", "pass"),
]
n = 200000
for name, stmt in cases:
    t = min(timeit.repeat(stmt, repeat=5, number=n, globals=globals()))
    print("marker %-36s %s: %7.1f ns per call" % (name, where, t / n * 1e9))
EOF
$py "$tmp/markers.py" "$src/interpose/python"
LD_PRELOAD=$lib GMTRACE_QUIET=1 GMTRACE_OUTPUT=$tmp/%p.gmt \
	$py "$tmp/markers.py" "$src/interpose/python"
