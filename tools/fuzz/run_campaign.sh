#!/usr/bin/env bash
# Long libFuzzer campaigns over the fuzz targets (tests/fuzz), one after another, each starting from its
# committed corpus (tests/fuzz/corpus/<target>) and keeping what it finds in BUILD/fuzz-campaign/<target>/
# (a later campaign resumes from there). Prints one row per target: executions, seconds, executions/s,
# coverage (libFuzzer's cov = edges, ft = features), corpus size, crashes (crash, leak, timeout or
# out-of-memory inputs). A crash stops that target and
# leaves the input in BUILD/fuzz-campaign/<target>/artifacts/: fix it, then add it to the committed corpus.
#
# Usage: tools/fuzz/run_campaign.sh BUILD [RUNS] [SECONDS] [TARGET...]
#   BUILD:   a tree configured with CC=clang CXX=clang++ -DTESSERA_BUILD_FUZZERS=ON (tests/fuzz/CMakeLists.txt)
#   RUNS:    executions per target (default 1000000)
#   SECONDS: stop a target after this long even if RUNS is not reached (default 0: no limit)
#   TARGET:  default every *_fuzz target
# Several targets at once: start one campaign per target (they share nothing but BUILD).
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:?usage: tools/fuzz/run_campaign.sh BUILD [RUNS] [SECONDS] [TARGET...]}
runs=${2:-1000000}
seconds_limit=${3:-0}
shift $(($# < 3 ? $# : 3))
targets=("$@")
if ((${#targets[@]} == 0)); then
  for src in tests/fuzz/*_fuzz.cpp; do targets+=("$(basename "$src" .cpp)"); done
fi
cmake --build "$build" --target "${targets[@]}" >/dev/null

printf '%-24s %12s %8s %9s %7s %7s %7s %8s\n' target executions seconds execs/s cov ft corpus crashes
status=0
for t in "${targets[@]}"; do
  work=$build/fuzz-campaign/$t
  mkdir -p "$work/corpus" "$work/artifacts"
  start=$(date +%s)
  rc=0
  "$build/tests/fuzz/$t" -runs="$runs" -max_total_time="$seconds_limit" -max_len=4096 -timeout=25 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$work/artifacts/" "$work/corpus" "tests/fuzz/corpus/$t" >"$work/log" 2>&1 || rc=$?
  seconds=$(($(date +%s) - start))
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log" | tail -n 1)
  last=$(grep -E '^#[0-9]+' "$work/log" | tail -n 1)
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
  corpus=$(sed -n 's/.* corp: \([0-9]*\).*/\1/p' <<<"$last")
  # slow-unit-* files are inputs that once took > 10 s (on a loaded machine, often scheduling): not failures.
  crashes=$(find "$work/artifacts" -type f \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' -o -name 'oom-*' \) | wc -l)
  printf '%-24s %12s %8s %9s %7s %7s %7s %8s\n' "$t" "${execs:-?}" "$seconds" \
    "$(( ${execs:-0} / (seconds > 0 ? seconds : 1) ))" "${cov:-?}" "${ft:-?}" "${corpus:-?}" "$crashes"
  if ((rc != 0)); then
    echo "  $t exited with $rc; log: $work/log" >&2
    status=1
  fi
done
exit $status
