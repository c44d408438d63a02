#!/usr/bin/env bash
# README command (b): install what is missing, build everything, run the whole test suite.
# Usage: bash tools/run-tests.sh [build-dir]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
bash tools/install-deps.sh
jobs=$(nproc)
# Every option that decides what is tested is explicit, so a build directory configured differently
# before (e.g. by run-demo.sh) cannot silently drop the tests; zero tests run is a failure.
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DTESSERA_BUILD_TESTS=ON -DTESSERA_BUILD_BENCHMARKS=ON \
      -DTESSERA_BUILD_TOOLS=ON -DTESSERA_ENABLE_VULKAN=ON -DTESSERA_INT8_CORE_ONLY=OFF
cmake --build "$build" -j "$jobs"
ctest --test-dir "$build" --output-on-failure -j "$jobs" --timeout 600 --no-tests=error
