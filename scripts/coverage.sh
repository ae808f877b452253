#!/usr/bin/env bash
# coverage.sh - line and branch coverage of interpose/, analysis/ and platforms/.
#
#   scripts/coverage.sh [ctest args...]
#
# Builds build-cov/ with gcov instrumentation (GM_COVERAGE=ON, gcc, -O0), clears
# old counters, runs the default ctest selection (all labels but "stress"), then
# asks gcovr for the project's sources (tests/ excluded) and prints one table with
# lines and branches per file, a subtotal per folder and the totals. Writes
#   build-cov/coverage.json   gcovr's JSON summary (per file and totals)
#   build-cov/coverage.txt    the printed table
# The preload library is measured from the fixture processes it runs in: each
# writes its counters when it exits normally (a SIGKILLed fixture adds none).
# Exits non-zero when the build, a test or gcovr failed; the report is still
# written whenever gcovr could run.
set -uo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 1
root=$(pwd)
exec </dev/null

dir=build-cov
jobs=${GM_TEST_JOBS:-$(nproc)}
timeout=${GM_TEST_TIMEOUT:-600}
status=0

# gcov data must come from gcc's own gcov; clang's format needs llvm-cov.
if ! GM_BUILD_DIR=$dir scripts/build.sh -DGM_COVERAGE=ON -DCMAKE_BUILD_TYPE=Debug \
	-DCMAKE_C_COMPILER=gcc -DCMAKE_CXX_COMPILER=g++; then
	echo "coverage: build failed" >&2
	exit 1
fi

find "$dir" -name '*.gcda' -delete
ctest --test-dir "$dir" --output-on-failure --parallel "$jobs" --timeout "$timeout" \
	-LE stress "$@" || status=1

if ! gcovr --root "$root" "$dir" \
	--filter 'interpose/' --filter 'analysis/' --filter 'platforms/' \
	--exclude 'tests/' --exclude 'build[^/]*/' \
	--exclude-unreachable-branches --exclude-throw-branches \
	--json-summary-pretty --json-summary "$dir/coverage.json"; then
	echo "coverage: gcovr failed" >&2
	exit 1
fi

python3 - "$dir/coverage.json" "$dir/coverage.txt" <<'EOF' || status=1
# Prints the per-file table of a gcovr JSON summary with folder subtotals.
import json
import sys

summary_path, text_path = sys.argv[1], sys.argv[2]
with open(summary_path, encoding="utf-8") as f:
    summary = json.load(f)

def pct(covered, total):
    return "%5.1f%%" % (100.0 * covered / total) if total else "    - "

def row(name, lc, lt, bc, bt):
    return "%-52s %6d %6d %s %6d %6d %s" % (name, lt, lc, pct(lc, lt), bt, bc, pct(bc, bt))

header = "%-52s %6s %6s %6s %6s %6s %6s" % ("file", "lines", "exec", "cover",
                                            "branch", "taken", "cover")
rule = "-" * len(header)
out = [header, rule]
folders = {}
for entry in sorted(summary["files"], key=lambda e: e["filename"]):
    lc, lt = entry["line_covered"], entry["line_total"]
    bc, bt = entry["branch_covered"], entry["branch_total"]
    out.append(row(entry["filename"], lc, lt, bc, bt))
    folder = entry["filename"].split("/", 1)[0] + "/"
    acc = folders.setdefault(folder, [0, 0, 0, 0])
    for i, v in enumerate((lc, lt, bc, bt)):
        acc[i] += v
out.append(rule)
for folder in sorted(folders):
    lc, lt, bc, bt = folders[folder]
    out.append(row(folder, lc, lt, bc, bt))
out.append(rule)
out.append(row("TOTAL", summary["line_covered"], summary["line_total"],
               summary["branch_covered"], summary["branch_total"]))
out.append("")
out.append("lines: %s (%d of %d), branches: %s (%d of %d)" % (
    pct(summary["line_covered"], summary["line_total"]).strip(),
    summary["line_covered"], summary["line_total"],
    pct(summary["branch_covered"], summary["branch_total"]).strip(),
    summary["branch_covered"], summary["branch_total"]))
text = "\n".join(out) + "\n"
with open(text_path, "w", encoding="utf-8") as f:
    f.write(text)
sys.stdout.write(text)
EOF

echo "coverage: wrote $dir/coverage.json and $dir/coverage.txt"
if ((status != 0)); then
	echo "coverage: some tests failed; the numbers cover what ran" >&2
fi
exit "$status"
