// The host side of the microcontroller blob (runtime/micro/micro_format.h, docs/format.md
// "Microcontroller blob"): an int8 GGUF's plan, built with the portable kernels' layouts, laid out as
// one flashable little-endian image that tessera_micro reads in place.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "cpu_int8/int8_plan.h"
#include "tessera/status.h"

namespace tessera::quant {

// The blob of a plan built with the portable kernel table (no re-laid-out memories).
Result<std::vector<uint8_t>> pack_micro_blob(const int8::Int8Plan& plan);

// The blob's value cache: the GGUF's (int8.value_cache_bits), or chosen at pack time (no weight depends on it;
// the blob then computes what the GGUF quantized with that choice computes on cpu-int8).
enum class ValueCache { kAsQuantized, kInt16, kInt8 };

// Reads an int8 GGUF (`tessera quantize --int8`), builds its plan and packs it.
Result<std::vector<uint8_t>> pack_micro_blob_from_gguf(const std::string& int8_gguf,
                                                       ValueCache value_cache = ValueCache::kAsQuantized);

}  // namespace tessera::quant
