#!/usr/bin/env bash
# Checks that the project's C/C++ sources are formatted by .clang-format (clang-format-14, Debian bookworm):
# lists every file that would change and exits non-zero if any would. Only tracked sources are checked
# (build folders, node_modules and generated files are never tracked). Shaders are not C++ and are left alone.
# Usage: tools/check-format.sh            check (CI)
#        tools/check-format.sh --apply    format the same files in place
set -euo pipefail
cd "$(dirname "$0")/.."
formatter=clang-format-14
command -v "$formatter" >/dev/null || { echo "check-format: $formatter not found (apt-get install clang-format-14)" >&2; exit 2; }
git rev-parse --is-inside-work-tree >/dev/null 2>&1 || { echo "check-format: not a git work tree (the file list is git's)" >&2; exit 2; }
# A broken .clang-format would otherwise read as "every file unformatted".
"$formatter" --style=file --dump-config >/dev/null || { echo "check-format: .clang-format is not valid for $formatter" >&2; exit 2; }

mapfile -d '' files < <(git ls-files -z -- '*.c' '*.cc' '*.cpp' '*.h' '*.hpp')
((${#files[@]} > 0)) || { echo "check-format: no C/C++ sources found" >&2; exit 2; }

case "${1:-}" in
  --apply) printf '%s\0' "${files[@]}" | xargs -0 -n 50 "$formatter" -i --style=file; exit 0 ;;
  "") ;;
  *) echo "usage: tools/check-format.sh [--apply]" >&2; exit 2 ;;
esac

mapfile -t unformatted < <(printf '%s\0' "${files[@]}" | xargs -0 -n 20 -P "$(nproc)" sh -c \
  'for f; do "$0" --dry-run --Werror --style=file "$f" >/dev/null 2>&1 || echo "$f"; done' "$formatter" | sort)
if ((${#unformatted[@]} > 0)); then
  printf 'check-format: %d of %d files differ from .clang-format:\n' "${#unformatted[@]}" "${#files[@]}" >&2
  printf '  %s\n' "${unformatted[@]}" >&2
  echo "check-format: see a file's changes with '$formatter --dry-run FILE'; apply with 'tools/check-format.sh --apply'" >&2
  exit 1
fi
echo "check-format: ${#files[@]} files formatted"
