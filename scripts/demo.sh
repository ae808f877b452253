#!/usr/bin/env bash
# demo.sh - the README's main job: build gmtrace, play the bundled demo game
# under it, and show what its memory did.
#
#   scripts/demo.sh            the C demo game (tests/games/demo.c), ~5 s
#   scripts/demo.sh --fast     the same without frame pacing
#   scripts/demo.sh --frames N and other gm_demo options
#   scripts/demo.sh --python [pygame_demo options]
#                              the pygame demo (tests/games/pygame_demo.py),
#                              headless, with the marker module on its path
#
# Then the reports: summary, frames, assets, transitions, pools, budgets,
# platforms (five of the shipped profiles; `gmtrace platforms CAPTURE` checks all)
# and stacks (both demos are recorded with call stacks; the pygame demo's name
# its Python lines): those this build has. The game marks frames, ticks, tags,
# assets, scenes, a particle pool and a texture budget, so each has something
# to show.
#
# Last, the capture as a timeline, build/demo/<capture>.json, for
# ui.perfetto.dev or chrome://tracing, and as a page, build/demo/<capture>.html.
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

if [[ ${1:-} == --python ]]; then
	shift
	echo "== playing the pygame demo under gmtrace: pygame_demo.py${*:+ $*} =="
	SDL_VIDEODRIVER=dummy SDL_AUDIODRIVER=dummy PYTHONPATH=interpose/python \
		"$gmtrace" run --stacks 16 --output "$out/%e.%p.gmt" -- \
		/usr/bin/python3 tests/games/pygame_demo.py "$@"
	capture=$(ls -t "$out"/pygame_demo.*.gmt | head -n 1)
	# the game's own Python lines, not the interpreter's imports
	stacks_args=(--top 5 --match pygame_demo.py)
else
	echo "== playing the demo game under gmtrace: gm_demo${*:+ $*} =="
	"$gmtrace" run --stacks 12 --output "$out/%e.%p.gmt" -- build/tests/games/gm_demo "$@"
	capture=$(ls -t "$out"/gm_demo.*.gmt | head -n 1)
	stacks_args=(--top 5 --depth 6)
fi

# Each report that this build of gmtrace has (its help lists the commands),
# after the summary: older trees lack some, and the demo still runs.
commands=$("$gmtrace" --help 2>&1 || "$gmtrace" help 2>&1 || true)
report() {
	if grep -q "^ *$1 " <<<"$commands"; then
		echo
		echo "== gmtrace $* $capture =="
		"$gmtrace" "$@" "$capture"
	fi
}

echo
echo "== gmtrace summary $capture =="
"$gmtrace" summary "$capture"
report frames --top 5
report assets --top 15
report transitions
report pools
report budgets
report platforms switch ps3 xbox-series-s ios-low web-wasm
report stacks "${stacks_args[@]}"

# The timeline, for Perfetto, and the page (this build's `gmtrace trace` and
# `gmtrace html`, when it has them).
if grep -q "^ *trace " <<<"$commands"; then
	"$gmtrace" trace --output "${capture%.gmt}.json" "$capture"
	echo
	echo "== timeline: ${capture%.gmt}.json (open it in ui.perfetto.dev or chrome://tracing) =="
fi
if grep -q "^ *html " <<<"$commands"; then
	"$gmtrace" html --output "${capture%.gmt}.html" "$capture"
	echo "== page: ${capture%.gmt}.html (open it in a browser) =="
fi
