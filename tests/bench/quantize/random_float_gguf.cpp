// random_float_gguf OUT.gguf [--vocab V --embd C --heads H --layers L --slots N --block B --seed S]:
// writes a float32 Memory Mosaics GGUF with random weights shaped like the authors' fixtures
// (tests/int8/random_model.h) and an untied output matrix. Defaults: GPT-2 small (V 50304, C 768,
// H 12, L 12, N 2688, block 1024), about 650 MB. Input for tools/bench/quantize_bench.sh.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "format/gguf.h"
#include "int8/random_model.h"
#include "model/hparams_gguf.h"

using namespace tessera;

namespace {

template <class S>
Tensor f32(const std::string& name, std::vector<int64_t> shape, const std::vector<S>& v) {
  std::vector<std::byte> bytes(v.size() * sizeof(float));
  for (size_t i = 0; i < v.size(); ++i) {
    const float f = float(v[i]);
    std::memcpy(bytes.data() + i * sizeof(float), &f, sizeof f);
  }
  return make_owned_tensor(name, DType::kF32, std::move(shape), std::move(bytes));
}

}  // namespace

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
  quant::FloatModel m = testing_int8::random_float_model(V, C, H, L, N, uint64_t(seed));
  m.hp.block_size = B;
  m.hp.weight_tying = false;
  gguf::Writer w;
  write_hparams(w, m.hp, "");
  auto add = [&](Tensor t) {
    if (Status st = w.add_tensor(t); !st.ok()) {
      std::fprintf(stderr, "random_float_gguf: %s\n", st.message().c_str());
      std::exit(1);
    }
  };
  add(f32("token_embd.weight", {V, C}, m.embd.w));
  add(f32("output.weight", {V, C}, m.output.w));
  add(f32("output_norm.weight", {C}, m.out_w));
  const int64_t d = C / H;
  for (int64_t l = 0; l < L; ++l) {
    const quant::FloatLayer& y = m.layers[size_t(l)];
    auto b = [&](const char* s) { return quant::block_name(l, s); };
    add(f32(b("attn_norm.weight"), {C}, y.ln1_w));
    add(f32(b("attn_k.weight"), {C, C}, y.k.w));
    add(f32(b("attn_v.weight"), {C, C}, y.v.w));
    add(f32(b("attn_output.weight"), {C, C}, y.o.w));
    add(f32(b("attn_key_decay"), {H}, y.key_decay));
    add(f32(b("attn_key_scale"), {H}, y.key_scale));
    add(f32(b("attn_value_scale"), {H}, y.value_scale));
    add(f32(b("attn_value_mix"), {H}, y.value_mix));
    add(f32(b("pmem_norm.weight"), {C}, y.ln2_w));
    add(f32(b("pmem_k.weight"), {C, C}, y.pk.w));
    add(f32(b("pmem_output.weight"), {C, C}, y.po.w));
    add(f32(b("pmem_key_decay"), {H}, y.pmem_decay));
    add(f32(b("pmem_query_scale"), {H}, y.pmem_query_scale));
    add(f32(b("pmem_value_scale"), {H}, y.pmem_value_scale));
    add(f32(b("pmem_mem_k"), {1, H, N, d}, y.mem_k));
    add(f32(b("pmem_mem_v"), {1, H, N, d}, y.mem_v));
  }
  if (Status st = w.write(argv[1]); !st.ok()) {
    std::fprintf(stderr, "random_float_gguf: %s\n", st.message().c_str());
    return 1;
  }
  std::printf("wrote %s (V %lld, C %lld, H %lld, L %lld, N %lld)\n", argv[1], (long long)V, (long long)C, (long long)H,
              (long long)L, (long long)N);
  return 0;
}
