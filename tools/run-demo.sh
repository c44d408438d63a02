#!/usr/bin/env bash
# README command (a): install what is missing, build the CLI, run the shipped model on the best
# backend available (Vulkan when a device exists, else the CPU), printing tokens and the backend.
# Usage: bash tools/run-demo.sh [build-dir]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
bash tools/install-deps.sh --minimal
# Explicit options: the same build directory also serves tools/run-tests.sh, which turns the tests on.
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DTESSERA_BUILD_TESTS=OFF -DTESSERA_BUILD_BENCHMARKS=OFF \
      -DTESSERA_BUILD_TOOLS=ON -DTESSERA_INT8_CORE_ONLY=OFF >/dev/null
cmake --build "$build" -j "$(nproc)" --target tessera_cli
model=examples/models/fortunes-char/model.gguf
echo "== tessera generate $model --prompt \"The \" (backend: auto)"
"$build/tessera" generate "$model" --backend auto --prompt "The " -n 300 --temperature 0.8 --top-p 0.95 --seed 7
