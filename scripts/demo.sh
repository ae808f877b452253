#!/usr/bin/env bash
# demo.sh - the README's main job: build gmtrace, play the bundled demo game
# under it, and show what its memory did.
#
#   scripts/demo.sh            the C demo game (tests/games/demo.c), ~5 s
#   scripts/demo.sh --fast     the same without frame pacing
#
# Captures go to build/demo/. Everything the report says can be looked at
# again with build/analysis/gmtrace <command> build/demo/<capture>.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

scripts/build.sh >/dev/null
gmtrace=build/analysis/gmtrace
out=build/demo
mkdir -p "$out"
rm -f "$out"/*.gmt

echo "== playing the demo game under gmtrace (600 frames) =="
"$gmtrace" run --output "$out/%e.%p.gmt" -- build/tests/games/gm_demo "$@"

capture=$(ls -t "$out"/gm_demo.*.gmt | head -n 1)
echo
echo "== gmtrace summary $capture =="
"$gmtrace" summary "$capture"
if "$gmtrace" help 2>/dev/null | grep -q '^ *frames'; then
	echo
	echo "== gmtrace frames $capture =="
	"$gmtrace" frames --top 5 "$capture"
fi
