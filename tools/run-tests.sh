#!/usr/bin/env bash
# README command (b): install what is missing, check the C/C++ formatting (tools/check-format.sh), build
# everything, run the whole test suite; then the
# sanitizer stages (clang, Vulkan and benchmarks off):
#   <build>-asan: ASan + UBSan, the unit and concurrency tests (labels unit, concurrency; not the
#                 Python/cross/npm ones, which run uninstrumented tools) and every libFuzzer target for
#                 TESSERA_FUZZ_SECONDS on its committed corpus (label fuzz; tests/fuzz/CMakeLists.txt);
#   <build>-tsan: ThreadSanitizer, the concurrency test (label concurrency).
# Usage: bash tools/run-tests.sh [build-dir]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
bash tools/install-deps.sh
bash tools/check-format.sh
jobs=$(nproc)
# Every option that decides what is tested is explicit, so a build directory configured differently
# before (e.g. by run-demo.sh) cannot silently drop the tests; zero tests run is a failure.
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DTESSERA_BUILD_TESTS=ON -DTESSERA_BUILD_BENCHMARKS=ON \
      -DTESSERA_BUILD_TOOLS=ON -DTESSERA_ENABLE_VULKAN=ON -DTESSERA_INT8_CORE_ONLY=OFF
cmake --build "$build" -j "$jobs"
ctest --test-dir "$build" --output-on-failure -j "$jobs" --timeout 600 --no-tests=error

sanitized=(-G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++
           -DCMAKE_CXX_FLAGS=-gline-tables-only -DTESSERA_ENABLE_VULKAN=OFF -DTESSERA_BUILD_BENCHMARKS=OFF
           -DTESSERA_BUILD_TESTS=ON -DTESSERA_BUILD_TOOLS=ON -DTESSERA_INT8_CORE_ONLY=OFF)
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
cmake -S . -B "$build-asan" "${sanitized[@]}" -DTESSERA_BUILD_FUZZERS=ON
cmake --build "$build-asan" -j "$jobs"
ctest --test-dir "$build-asan" --output-on-failure -j "$jobs" --timeout 600 --no-tests=error \
      -L 'unit|concurrency|fuzz' -LE 'python|cross|npm'

export TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1
cmake -S . -B "$build-tsan" "${sanitized[@]}" -DTESSERA_SANITIZE=thread
cmake --build "$build-tsan" -j "$jobs" --target concurrent_sessions_test
ctest --test-dir "$build-tsan" --output-on-failure --timeout 600 --no-tests=error -L concurrency
