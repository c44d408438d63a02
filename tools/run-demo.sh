#!/usr/bin/env bash
# README command (a): install what is missing, build the CLI, run the shipped model on the best
# backend available (Vulkan when a device exists, else the CPU), printing tokens and the backend.
# Usage: bash tools/run-demo.sh [build-dir]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
bash tools/install-deps.sh --minimal
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DTESSERA_BUILD_TESTS=OFF -DTESSERA_BUILD_BENCHMARKS=OFF >/dev/null
cmake --build "$build" -j "$(nproc)" --target tessera_cli
model=models/fixture-sparsemax/model.gguf
echo "== tessera generate $model (backend: auto)"
"$build/tessera" generate "$model" --backend auto -n 16 --prompt-tokens "18 37 98 31 30 61 20 37"
