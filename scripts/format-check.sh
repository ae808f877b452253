#!/usr/bin/env bash
# format-check.sh - report C/C++ files that differ from what .clang-format says.
#
#   scripts/format-check.sh          list the files that differ; exit 1 if any
#   scripts/format-check.sh -v       also show clang-format's findings per file
#   scripts/format-check.sh --fix    reformat those files in place
#
# Files: C/C++ sources known to git (tracked, or new and not ignored), so build
# directories and other ignored output are left out. CLANG_FORMAT picks the binary.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

clang_format=${CLANG_FORMAT:-clang-format}
mode=check
case "${1:-}" in
--fix) mode=fix ;;
-v | --verbose) mode=verbose ;;
"") ;;
*)
	echo "usage: $0 [--fix | -v]" >&2
	exit 2
	;;
esac

if ! command -v "$clang_format" >/dev/null 2>&1; then
	echo "format-check: $clang_format not found (scripts/setup.sh installs it)" >&2
	exit 2
fi

sources=()
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	while IFS= read -r -d '' f; do
		[[ -f "$f" ]] && sources+=("$f")
	done < <(git ls-files -z --cached --others --exclude-standard -- \
		'*.c' '*.h' '*.cc' '*.cpp' '*.hh' '*.hpp')
else
	while IFS= read -r -d '' f; do
		sources+=("$f")
	done < <(find . \( -path './build*' -o -path './.git' \) -prune -o -type f \
		\( -name '*.c' -o -name '*.h' -o -name '*.cc' -o -name '*.cpp' \
		-o -name '*.hh' -o -name '*.hpp' \) -print0)
fi

differ=()
for f in "${sources[@]}"; do
	if ! "$clang_format" --dry-run -Werror "$f" >/dev/null 2>&1; then
		differ+=("$f")
	fi
done

if ((${#differ[@]} == 0)); then
	echo "format-check: ${#sources[@]} files formatted"
	exit 0
fi

if [[ $mode == fix ]]; then
	"$clang_format" -i "${differ[@]}"
	printf 'format-check: reformatted %s\n' "${differ[@]}"
	exit 0
fi

echo "format-check: ${#differ[@]} of ${#sources[@]} files differ from .clang-format:"
for f in "${differ[@]}"; do
	n=$("$clang_format" --dry-run "$f" 2>&1 | grep -c ': warning:' || true)
	echo "  $f ($n places)"
	if [[ $mode == verbose ]]; then
		"$clang_format" --dry-run "$f" 2>&1 | sed 's/^/    /'
	fi
done
echo "format-check: scripts/format-check.sh --fix rewrites them"
exit 1
