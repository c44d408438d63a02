// tessera pack IN-int8.gguf OUT.tmb: the flashable microcontroller blob of an int8 model
// (docs/format.md "Microcontroller blob"; runtime/micro/tessera_micro.h runs it).
#include <iostream>

#include "command.h"
#include "core/file_io.h"
#include "micro/tessera_micro.h"
#include "quant/micro_pack.h"

namespace tessera::cli {
namespace {

struct PackArgs {
  std::string input, output;
  uint32_t context = 64;
  std::string value_cache;  // empty: as quantized
};

int run_pack(const PackArgs& a) {
  const quant::ValueCache value_cache = a.value_cache == "int8"    ? quant::ValueCache::kInt8
                                        : a.value_cache == "int16" ? quant::ValueCache::kInt16
                                                                   : quant::ValueCache::kAsQuantized;
  auto blob = quant::pack_micro_blob_from_gguf(a.input, value_cache);
  if (!blob.ok()) return fail("pack", blob.status().message());
  // The device library checks what the device will check, before anything is written.
  size_t arena = 0;
  if (tm_status st = tm_arena_bytes(blob->data(), blob->size(), a.context, &arena); st != TM_OK)
    return fail("pack", a.input + ": the packed blob does not validate: " + tm_status_message(st));
  Status st = write_file_atomically(a.output, std::as_bytes(std::span(*blob)));
  if (!st.ok()) return fail("pack", st.message());
  std::cout << "wrote " << a.output << ": " << blob->size() << " bytes (flash); arena " << arena << " bytes for "
            << a.context << " positions\n";
  return 0;
}

Registration reg(
    "pack", "int8 GGUF -> flashable microcontroller blob (.tmb) for tessera_micro",
    [](CLI::App& sub) -> Action {
      auto a = std::make_shared<PackArgs>();
      sub.add_option("input", a->input, "int8 .gguf (tessera quantize --int8)")->required();
      sub.add_option("output", a->output, "output .tmb (written atomically)")->required();
      sub.add_option("--context", a->context, "positions for the arena size printed")->check(CLI::Range(1, 1 << 20));
      sub.add_option("--value-cache", a->value_cache,
                     "int16 | int8: the attention's unit values as Q15 or Q7 (default: as the GGUF was "
                     "quantized, tessera quantize --value-cache; int8 halves the value cache)")
          ->check(CLI::IsMember({"int16", "int8"}));
      return [a] { return run_pack(*a); };
    },
    25);
}  // namespace
}  // namespace tessera::cli
