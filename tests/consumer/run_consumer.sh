#!/usr/bin/env bash
# The consumer test: Tessera is installed into a temporary prefix (or added with add_subdirectory), the two
# programs of this folder (C API, C++17 API) are built against it outside the source tree — via
# find_package, via pkg-config, via add_subdirectory — and run on a shipped model. Their greedy tokens must
# equal what `tessera generate --prompt-tokens` (the main build's CLI) prints for the same model and prompt.
#   static        install the main build (static libtessera); find_package + pkg-config
#   shared        a -DBUILD_SHARED_LIBS=ON build of the runtime alone; find_package + pkg-config; only the
#                 public API exported (nm -D), no libvulkan in any DT_NEEDED (ldd)
#   subdirectory  add_subdirectory(<source tree>) from the consumer project (CPU only)
#   aarch64       cross build of the runtime (no Vulkan, no JSON) + find_package consumers, run under
#                 qemu-aarch64 on the int8 model: integer-only, so the tokens are those of x86-64 exactly
# Usage: run_consumer.sh VARIANT SOURCE_DIR MAIN_BUILD_DIR WORK_DIR [LIBRARY_BUILD_DIR]
#   LIBRARY_BUILD_DIR (shared, aarch64): where the library is built (default WORK_DIR/lib); an existing one
#   is reused (reconfigured, built incrementally).
set -euo pipefail
variant=$1 src=$2 main_build=$3 work=$4 lib_build=${5:-$4/lib}
rm -rf "$work"
mkdir -p "$work"
cli=$main_build/tessera
model_dir=$src/examples/models/mqmtar-softmax
prompt="259 5 100 6 101 7 102 8 103 260 7 5"  # BOS, key-value pairs, SEP, queries
n=12
cmake_gen=(-G Ninja -DCMAKE_BUILD_TYPE=Release)
runtime_only=(-DTESSERA_BUILD_TESTS=OFF -DTESSERA_BUILD_BENCHMARKS=OFF -DTESSERA_BUILD_TOOLS=OFF)

# want MODEL BACKEND: the CLI's line for the reference run.
want() { "$cli" generate "$1" --backend "$2" --prompt-tokens "$prompt" -n $n 2>/dev/null | grep '^tokens:'; }
# check LABEL WANT COMMAND...: the program's tokens line must equal WANT.
check() {
  local label=$1 expected=$2 got
  shift 2
  got=$("$@" | grep '^tokens:') || { echo "FAIL $label: no 'tokens:' line from $*"; exit 1; }
  if [[ $got != "$expected" ]]; then
    echo "FAIL $label: got '$got', want '$expected'"
    exit 1
  fi
  echo "ok   $label: $got"
}
# run_both LABEL DIR [LAUNCHER...]: consumer_c and consumer_cpp of DIR on the float and int8 models.
run_both() {
  local label=$1 dir=$2
  shift 2
  for prog in consumer_c consumer_cpp; do
    check "$label $prog cpu" "$want_cpu" "$@" "$dir/$prog" "$model_dir/model.gguf" cpu $n $prompt
    check "$label $prog cpu-int8" "$want_int8" "$@" "$dir/$prog" "$model_dir/model-int8.gguf" cpu-int8 $n $prompt
  done
}
# with_pkg_config PREFIX OUT: both programs compiled by hand with pkg-config's flags.
with_pkg_config() {
  local prefix=$1 out=$2 cc=${3:-cc} cxx=${4:-c++}
  mkdir -p "$out"
  local pc_path
  pc_path=$(dirname "$(find "$prefix" -name tessera.pc | head -1)")
  # shellcheck disable=SC2046  # word splitting of the flags is intended
  (export PKG_CONFIG_PATH=$pc_path PKG_CONFIG_LIBDIR=$pc_path
   libdir=$(pkg-config --variable=libdir tessera)
   $cc -std=c11 -Wall -Werror $(pkg-config --cflags tessera) "$src/tests/consumer/app/consumer.c" -o "$out/consumer_c" \
       $(pkg-config --libs tessera) -Wl,-rpath,"$libdir"
   $cxx -std=c++17 -Wall -Werror $(pkg-config --cflags tessera) "$src/tests/consumer/app/consumer.cpp" \
       -o "$out/consumer_cpp" $(pkg-config --libs tessera) -Wl,-rpath,"$libdir")
}

want_cpu=$(want "$model_dir/model.gguf" cpu)
want_int8=$(want "$model_dir/model-int8.gguf" cpu-int8)
[[ -n $want_cpu && -n $want_int8 ]] || { echo "FAIL: the CLI printed no tokens"; exit 1; }

case $variant in
  static)
    cmake --install "$main_build" --prefix "$work/prefix" >/dev/null
    cmake -S "$src/tests/consumer/app" -B "$work/find_package" "${cmake_gen[@]}" -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
    cmake --build "$work/find_package" >/dev/null
    run_both "static find_package" "$work/find_package"
    with_pkg_config "$work/prefix" "$work/pkg-config"
    run_both "static pkg-config" "$work/pkg-config"
    ;;
  shared)
    cmake -S "$src" -B "$lib_build" "${cmake_gen[@]}" "${runtime_only[@]}" -DBUILD_SHARED_LIBS=ON >/dev/null
    cmake --build "$lib_build" >/dev/null
    cmake --install "$lib_build" --prefix "$work/prefix" >/dev/null
    so=$(find "$work/prefix" -name 'libtessera.so.*.*.*' | head -1)
    soname=$(objdump -p "$so" | awk '/SONAME/ {print $2}')
    [[ $soname == libtessera.so.[0-9]*.[0-9]* ]] || { echo "FAIL: SONAME '$soname'"; exit 1; }
    # Exported: the C API (tessera_*) and the public C++ API, nothing else (runtime/api/libtessera.map).
    exported=$(nm -D --defined-only "$so" | awk '{print $3}' | c++filt)
    other=$(echo "$exported" | grep -v -E '^tessera_[a-z0-9_]+$' |
            grep -v -E '^tessera::([A-Z][A-Za-z]*::|status_code_name\(|backend_kind_name\(|parse_backend_kind\(|list_vulkan_devices(\[abi:cxx11\])?\()' || true)
    if [[ -n $other ]]; then echo "FAIL: exported beyond the public API:"; echo "$other" | head; exit 1; fi
    for api in tessera_model_load 'tessera::Model::load(' 'tessera::Session::prefill(' 'tessera::Status::to_string'; do
      grep -qF "$api" <<<"$exported" || { echo "FAIL: $api is not exported"; exit 1; }
    done
    echo "ok   shared: $soname exports $(wc -l <<<"$exported") symbols, all public API"
    cmake -S "$src/tests/consumer/app" -B "$work/find_package" "${cmake_gen[@]}" -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
    cmake --build "$work/find_package" >/dev/null
    for f in "$so" "$work/find_package/consumer_c" "$work/find_package/consumer_cpp"; do
      if ldd "$f" | grep -q libvulkan; then echo "FAIL: $f needs libvulkan:"; ldd "$f"; exit 1; fi
    done
    echo "ok   shared: no libvulkan in ldd of libtessera.so and the consumers"
    run_both "shared find_package" "$work/find_package"
    with_pkg_config "$work/prefix" "$work/pkg-config"
    run_both "shared pkg-config" "$work/pkg-config"
    ;;
  subdirectory)
    cmake -S "$src/tests/consumer/app" -B "$work/subdirectory" "${cmake_gen[@]}" -DTESSERA_SOURCE_DIR="$src" \
          -DTESSERA_ENABLE_VULKAN=OFF >/dev/null
    cmake --build "$work/subdirectory" >/dev/null
    run_both "add_subdirectory" "$work/subdirectory"
    ;;
  aarch64)
    toolchain=$src/cmake/toolchains/aarch64-linux-gnu.cmake
    cmake -S "$src" -B "$lib_build" "${cmake_gen[@]}" "${runtime_only[@]}" -DCMAKE_TOOLCHAIN_FILE="$toolchain" \
          -DTESSERA_ENABLE_VULKAN=OFF >/dev/null
    cmake --build "$lib_build" >/dev/null
    cmake --install "$lib_build" --prefix "$work/prefix" >/dev/null
    cmake -S "$src/tests/consumer/app" -B "$work/find_package" "${cmake_gen[@]}" -DCMAKE_TOOLCHAIN_FILE="$toolchain" \
          -DTessera_DIR="$(dirname "$(find "$work/prefix" -name TesseraConfig.cmake)")" >/dev/null
    cmake --build "$work/find_package" >/dev/null
    for prog in consumer_c consumer_cpp; do
      check "aarch64 find_package $prog cpu-int8" "$want_int8" qemu-aarch64 -L /usr/aarch64-linux-gnu \
            "$work/find_package/$prog" "$model_dir/model-int8.gguf" cpu-int8 $n $prompt
    done
    ;;
  *) echo "unknown variant $variant" >&2; exit 2 ;;
esac
