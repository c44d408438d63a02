// Same bits on every CPU: deterministic integer-only models (softmax, sparsemax, and softmax with every
// tensor and activation site wide: int16 as two int8 planes, ops/int8/matvec_wide.h) (weights and requantisation
// parameters from an integer PRNG, no floats anywhere) runs through the fixed-point core; its int32 logits must equal
// the golden file checked in (generated on x86-64). Built natively (CTest) and by run_cross.sh for aarch64 / armhf
// under qemu-user. Also checks every matvec variant the CPU runs is bit-identical to the portable one. No gtest: the
// cross toolchains have none.
//   cross_int8_golden GOLDEN_FILE       compare (exit 1 on any difference)
//   cross_int8_golden --print           write the logits (to regenerate the golden file)
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <vector>

#include "cpu_int8/int8_forward.h"
#include "cpu_int8/int8_model.h"
#include "ops/int8/int8_kernels.h"

using namespace tessera;
using namespace tessera::int8;
using ops::int8::Int8Kernels;
using ops::int8::Isa;

namespace {

constexpr int64_t V = 61, C = 32, H = 4, D = C / H, L = 2, N = 24, P = 1, T = 20;

struct Rng {  // xorshift64*: the same sequence on every platform
  uint64_t s = 0x9E3779B97F4A7C15ull;
  uint64_t next() {
    s ^= s >> 12;
    s ^= s << 25;
    s ^= s >> 27;
    return s * 2685821657736338717ull;
  }
  int32_t range(int32_t lo, int32_t hi) { return lo + int32_t(next() % uint64_t(hi - lo + 1)); }
};

struct Storage {
  std::vector<std::vector<int8_t>> i8;
  std::vector<std::vector<int16_t>> i16;
  std::vector<std::vector<int32_t>> i32;
  std::vector<std::vector<QuantizedMultiplier>> qm;
  std::vector<std::vector<ops::fixed::ScoreScale>> scales;
  std::vector<Int8Layer> layers;
  Rng rng;

  const int8_t* weights(int64_t n) {
    i8.emplace_back(size_t(n));
    for (auto& w : i8.back()) w = int8_t(rng.range(-127, 127));
    return i8.back().data();
  }
  QuantizedMultiplier mult(int lo_shift, int hi_shift) {
    return {rng.range(1 << 30, 0x7FFFFFFF), rng.range(lo_shift, hi_shift)};
  }
  const QuantizedMultiplier* mults(int64_t n, int lo_shift, int hi_shift) {
    qm.emplace_back(size_t(n));
    for (auto& m : qm.back()) m = mult(lo_shift, hi_shift);
    return qm.back().data();
  }
  const int32_t* ints(int64_t n, int32_t lo, int32_t hi) {
    i32.emplace_back(size_t(n));
    for (auto& v : i32.back()) v = rng.range(lo, hi);
    return i32.back().data();
  }
  // Σ_k w[i·d + k] per row (the persistent memory's q·M_k row sums; no random draws).
  const int32_t* rowsums(const int8_t* w, int64_t rows, int64_t d) {
    i32.emplace_back(size_t(rows));
    for (int64_t i = 0; i < rows; ++i) {
      int32_t sum = 0;
      for (int64_t k = 0; k < d; ++k) sum += w[i * d + k];
      i32.back()[size_t(i)] = sum;
    }
    return i32.back().data();
  }
  Int8Matrix matrix(int64_t rows, int64_t cols, int lo_shift, int hi_shift, bool bias) {
    Int8Matrix m;
    m.weight = weights(rows * cols);
    m.requant = mults(rows, lo_shift, hi_shift);
    m.bias = bias ? ints(rows, -5000, 5000) : nullptr;
    m.rows = rows;
    m.cols = cols;
    return m;
  }
};

void build(Storage& st, Int8Model& m) {
  m.vocab_size = V;
  m.n_embd = C;
  m.n_head = H;
  m.head_dim = D;
  m.n_layer = L;
  m.pmem_size = N;
  m.pmem_count = P;
  m.mask_offset = 1;
  m.token_embd = st.weights(V * C);
  m.embd_requant = st.mults(V, 11, 13);
  m.out_eps = 1000;
  m.out_inv_scale = st.mult(4, 6);
  m.output = st.matrix(V, C, -2, 0, true);
  st.layers.resize(size_t(L));
  for (Int8Layer& y : st.layers) {
    y.ln1_eps = 1000;
    y.ln1_inv_scale = st.mult(4, 6);
    y.attn_k = st.matrix(C, C, -1, 1, true);
    y.attn_v = st.matrix(C, C, -1, 1, false);
    y.attn_out = st.matrix(C, C, 1, 3, true);
    const int32_t* decay = st.ints(H, 200000000, 2000000000);
    st.i32.emplace_back(size_t(H));
    for (int64_t h = 0; h < H; ++h) st.i32.back()[size_t(h)] = int32_t(2147483647 - decay[h]);
    y.key_decay_q31 = decay;
    y.key_keep_q31 = st.i32.back().data();
    y.value_mix_q24 = st.ints(H, -3355443, 20132659);  // c ∈ [-0.2, 1.2]
    st.i32.emplace_back(size_t(H));
    for (int64_t h = 0; h < H; ++h) st.i32.back()[size_t(h)] = (int32_t(1) << 24) - y.value_mix_q24[h];
    y.value_keep_q24 = st.i32.back().data();
    y.score_multiplier = st.mults(H, -12, -7);
    st.scales.emplace_back(size_t(H), ops::fixed::ScoreScale{1 << 30, -15});  // 2^-16: Q16 scores
    y.transform_scale = st.scales.back().data();
    y.o_to_int8 = st.mult(-23, -22);
    y.has_pmem = true;
    y.ln2_eps = 1000;
    y.ln2_inv_scale = st.mult(4, 6);
    y.pmem_k = st.matrix(C, C, -1, 1, false);
    y.pmem_out = st.matrix(C, C, 1, 3, false);
    y.pmem_decay_q31 = decay;
    y.pmem_keep_q31 = y.key_keep_q31;
    y.mem_k = st.weights(P * H * N * D);
    y.mem_v = st.weights(P * H * N * D);
    y.mem_k_score = st.mults(P * H * N, -8, -5);
    y.mem_k_rowsum = st.rowsums(y.mem_k, P * H * N, D);
    y.mem_v_weight = st.mults(P * H * N, -1, 0);
    y.r_to_int8 = st.mult(-17, -15);
  }
  m.layers = st.layers.data();
}

// The third model: every matrix, the embedding, both memories and every activation site int16. Weight
// planes add 255× to an accumulator and wide sites carry 256× larger values, so the multipliers that
// produce a wide site gain 2^8 and those that consume a wide operand lose 2^8 per wide factor (keeps
// the values in range instead of saturating).
void widen(Storage& st, Int8Model& m) {
  auto shifted = [&](const QuantizedMultiplier* p, int64_t n, int ds) {
    st.qm.emplace_back(p, p + n);
    for (auto& q : st.qm.back()) q.shift += ds;
    return st.qm.back().data();
  };
  auto wide_matrix = [&](Int8Matrix& w, int ds) {
    w.weight_lo = st.weights(w.rows * w.cols);
    w.requant = shifted(w.requant, w.rows, ds - 8);
  };
  st.i16.emplace_back(size_t(V * C));  // int16 embedding, values in [-32512, 32512]
  for (auto& e : st.i16.back()) e = int16_t(st.rng.range(-ops::int8::kWideMax, ops::int8::kWideMax));
  m.token_embd_wide = st.i16.back().data();
  m.token_embd = nullptr;
  m.embd_requant = shifted(m.embd_requant, V, -8);
  m.out_wide = true;
  m.out_inv_scale.shift += 8;
  wide_matrix(m.output, -8);
  for (Int8Layer& y : st.layers) {
    y.h1_wide = y.o_wide = y.h2_wide = y.r_wide = true;
    y.ln1_inv_scale.shift += 8;
    y.ln2_inv_scale.shift += 8;
    y.o_to_int8.shift += 8;
    wide_matrix(y.attn_k, -8);
    wide_matrix(y.attn_v, -8);
    wide_matrix(y.attn_out, -8);
    wide_matrix(y.pmem_k, -8);
    wide_matrix(y.pmem_out, -8);
    y.mem_k_lo = st.weights(P * H * N * D);
    y.mem_v_lo = st.weights(P * H * N * D);
    y.mem_k_lo_rowsum = st.rowsums(y.mem_k_lo, P * H * N, D);
    y.mem_k_score = shifted(y.mem_k_score, P * H * N, -8);
    // r gains 255× from the wide M_v and must come out 256× larger (wide site): the shift stays.
  }
}

bool kernels_bit_identical() {
  Rng rng;
  const int64_t rows = 37, cols = 131;
  std::vector<int8_t> w(static_cast<size_t>(rows * cols)), x(static_cast<size_t>(cols));
  for (auto& v : w) v = int8_t(rng.range(-127, 127));
  for (auto& v : x) v = int8_t(rng.range(-127, 127));
  std::vector<int32_t> ref(static_cast<size_t>(rows)), got(static_cast<size_t>(rows));
  ops::int8::matvec_i8_portable(w.data(), rows, cols, x.data(), ref.data());
  bool ok = true;
  for (Isa isa : ops::int8::kAllIsas) {
    if (isa == Isa::kPortable || !ops::int8::isa_supported(isa, ops::int8::host_cpu_features())) continue;
    const Int8Kernels& k = ops::int8::int8_kernels_for(isa);
    k.matvec(w.data(), rows, cols, x.data(), got.data());
    const bool same = got == ref;
    std::fprintf(stderr, "kernel %s: %s\n", k.name, same ? "bit-identical" : "DIFFERS");
    ok = ok && same;
  }
  return ok;
}

}  // namespace

// M_v (and its low plane) in slot quads for the VNNI value sum (ops/int8/axpy_quads.h), as at load.
void quad_layout(Storage& st, Int8Model& m) {
  for (Int8Layer& y : st.layers)
    for (const int8_t** src : {&y.mem_v, &y.mem_v_lo}) {
      if (!*src || !m.kernels->axpy_quads) continue;
      st.i8.emplace_back(size_t(P * H * N * D));
      for (int64_t b = 0; b < P * H; ++b)
        ops::int8::axpy_quads_layout(*src + b * N * D, N, D, st.i8.back().data() + b * N * D);
      (src == &y.mem_v ? y.mem_v_quads : y.mem_v_lo_quads) = st.i8.back().data();
    }
  for (Int8Layer& y : st.layers)  // M_k in column quads for the VNNI q·M_k (ops/int8/matvec_q16_quads.h)
    for (const int8_t** src : {&y.mem_k, &y.mem_k_lo}) {
      if (!*src || !m.kernels->matvec_q16_quads) continue;
      st.i8.emplace_back(size_t(P * H * N * D));
      for (int64_t b = 0; b < P * H; ++b)
        ops::int8::matvec_q16_quads_layout(*src + b * N * D, N, D, st.i8.back().data() + b * N * D);
      (src == &y.mem_k ? y.mem_k_quads : y.mem_k_lo_quads) = st.i8.back().data();
    }
  m.layers = st.layers.data();
}

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s GOLDEN_FILE | --print\n", argv[0]);
    return 2;
  }
  const bool kernels_ok = kernels_bit_identical();
  // Three models: softmax contextual attention (ops/int8), sparsemax (ops/fixed), and the softmax model
  // widened to int16 everywhere (widen), T rows each.
  constexpr int kModels = 3;
  std::vector<int32_t> logits(size_t(kModels * T * V));
  const Int8Kernels& kernels = ops::int8::int8_kernels_for(ops::int8::fastest_isa(ops::int8::host_cpu_features()));
  for (int variant = 0; variant < kModels; ++variant) {
    Storage st;
    Int8Model m;
    build(st, m);
    if (variant == 2) widen(st, m);
    m.layers = st.layers.data();
    m.attention_softmax = variant != 1;
    m.attention_transform.kind = ops::fixed::FixedKind::kSparsemax;
    m.attention_scratch_words_per_key = variant == 1 ? 1 : 0;
    m.kernels = &kernels;
    if (kernels.axpy_quads || kernels.matvec_q16_quads) quad_layout(st, m);  // as int8_plan.cpp does for this kernel
    std::vector<unsigned char> arena(int8_state_bytes(m, T) + 64);
    void* base = reinterpret_cast<void*>((reinterpret_cast<uintptr_t>(arena.data()) + 63) & ~uintptr_t(63));
    Int8State s;
    int8_state_bind(m, T, base, &s);
    Rng tokens;
    tokens.s = 42;
    for (int64_t t = 0; t < T; ++t)
      int8_forward_token(m, &s, tokens.range(0, V - 1), logits.data() + (variant * T + t) * V);
  }
  if (std::strcmp(argv[1], "--print") == 0) {
    for (int64_t t = 0; t < kModels * T; ++t) {
      for (int64_t v = 0; v < V; ++v) std::printf("%s%d", v ? " " : "", logits[size_t(t * V + v)]);
      std::printf("\n");
    }
    return kernels_ok ? 0 : 1;
  }
  FILE* f = std::fopen(argv[1], "r");
  if (!f) {
    std::fprintf(stderr, "%s: cannot open\n", argv[1]);
    return 1;
  }
  int64_t mismatches = 0, n = 0;
  long long expected = 0;
  while (n < kModels * T * V && std::fscanf(f, "%lld", &expected) == 1) {
    if (expected != logits[size_t(n)]) {
      if (mismatches < 5)
        std::printf("position %lld token-logit %lld: expected %lld, got %d\n", (long long)(n / V), (long long)(n % V),
                    expected, logits[size_t(n)]);
      ++mismatches;
    }
    ++n;
  }
  std::fclose(f);
  if (n != kModels * T * V) {
    std::printf("golden file holds %lld values, expected %lld\n", (long long)n, (long long)(kModels * T * V));
    return 1;
  }
  std::printf("kernel table %s: %lld/%lld int32 logits equal the golden x86-64 values\n", kernels.name,
              (long long)(n - mismatches), (long long)n);
  return (mismatches == 0 && kernels_ok) ? 0 : 1;
}
