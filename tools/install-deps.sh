#!/usr/bin/env bash
# Installs the Debian bookworm packages Tessera needs, only those missing.
# Idempotent: a second run installs nothing and does not touch apt's lists.
# Usage: tools/install-deps.sh [--minimal]   (--minimal: build + tests only, no cross/embedded/torch)
set -euo pipefail

core=(cmake g++ ninja-build ccache pkg-config doxygen clang-format-14
      libvulkan-dev libvulkan-volk-dev glslc spirv-tools mesa-vulkan-drivers vulkan-validationlayers vulkan-tools
      libgtest-dev libgmock-dev libbenchmark-dev nlohmann-json3-dev libcli11-dev
      nodejs npm)
extra=(python3-torch python3-numpy clang libclang-rt-14-dev
       qemu-user qemu-system-arm g++-aarch64-linux-gnu g++-arm-linux-gnueabihf
       gcc-arm-none-eabi libnewlib-arm-none-eabi fortunes-min)

want=("${core[@]}")
[[ "${1:-}" == "--minimal" ]] || want+=("${extra[@]}")

missing=()
for p in "${want[@]}"; do
  # Node may come from elsewhere (nodesource, nvm): accept any working node/npm.
  if [[ $p == nodejs ]] && command -v node >/dev/null; then continue; fi
  if [[ $p == npm ]] && command -v npm >/dev/null; then continue; fi
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]} == 0)); then
  echo "install-deps: all ${#want[@]} packages present"
  exit 0
fi
echo "install-deps: installing ${missing[*]}"
sudo_cmd=()
[[ $(id -u) -eq 0 ]] || sudo_cmd=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
