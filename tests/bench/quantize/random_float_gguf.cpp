// random_float_gguf OUT.gguf [--vocab V --embd C --heads H --layers L --slots N --block B --seed S]:
// writes a float32 Memory Mosaics GGUF with random weights (quant/random_model.h, one head per module on the
// β clamp like the authors' fixtures) and an untied output matrix. Defaults: GPT-2 small (V 50304, C 768,
// H 12, L 12, N 2688, block 1024), about 650 MB. Input for tools/bench/quantize_bench.sh.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "core/file_io.h"
#include "quant/random_model.h"

using namespace tessera;

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr,
                 "usage: random_float_gguf OUT.gguf [--vocab V] [--embd C] [--heads H] [--layers L] "
                 "[--slots N] [--block B] [--seed S]\n");
    return 2;
  }
  int64_t V = 50304, C = 768, H = 12, L = 12, N = 2688, B = 1024, seed = 1;
  for (int i = 2; i + 1 < argc; i += 2) {
    const std::string k = argv[i];
    const int64_t v = std::atoll(argv[i + 1]);
    if (v <= 0) {
      std::fprintf(stderr, "random_float_gguf: %s needs a positive integer, found '%s'\n", k.c_str(), argv[i + 1]);
      return 2;
    }
    if (k == "--vocab") V = v;
    else if (k == "--embd") C = v;
    else if (k == "--heads") H = v;
    else if (k == "--layers") L = v;
    else if (k == "--slots") N = v;
    else if (k == "--block") B = v;
    else if (k == "--seed") seed = v;
    else {
      std::fprintf(stderr, "random_float_gguf: unknown option %s\n", k.c_str());
      return 2;
    }
  }
  if (C % H != 0) {
    std::fprintf(stderr, "random_float_gguf: --embd %lld is not a multiple of --heads %lld\n", (long long)C,
                 (long long)H);
    return 2;
  }
  HParams hp;
  hp.vocab_size = V;
  hp.n_embd = C;
  hp.n_head = H;
  hp.n_layer = L;
  hp.pmem_size = N;
  hp.block_size = B;
  quant::RandomModelOptions options;
  options.seed = uint64_t(seed);
  options.untied = true;
  options.clamped_head = true;
  auto bytes = quant::model_gguf_bytes(quant::make_random_model(hp, options));
  Status st = bytes.ok() ? write_file_atomically(argv[1], *bytes) : bytes.status();
  if (!st.ok()) {
    std::fprintf(stderr, "random_float_gguf: %s\n", st.message().c_str());
    return 1;
  }
  std::printf("wrote %s (V %lld, C %lld, H %lld, L %lld, N %lld)\n", argv[1], (long long)V, (long long)C, (long long)H,
              (long long)L, (long long)N);
  return 0;
}
