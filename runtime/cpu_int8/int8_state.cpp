// The state's regions and their lifetimes (see int8_state.h), laid out by arena_plan.h.
#include "cpu_int8/int8_state.h"

#include "cpu_int8/arena_plan.h"

namespace tessera::int8 {

namespace {

// The steps of one layer's pass (int8_forward.cpp) and the final projection. A region is live in every step
// from its write to its last read; scratch does not carry from one layer to the next.
enum Step : uint32_t {
  kKeyProject = 1u << 0,    // LayerNorm 1 → site; W_k → key_proj
  kKeyUnit = 1u << 1,       // key_proj → leaky average → unit key (the site waits for W_v)
  kValueProject = 1u << 2,  // W_v → w_cur
  kValueUnit = 1u << 3,     // w_cur, w_prev → value_mix → unit value into the cache
  kAttention = 1u << 4,     // per head: scores → probs → Σ p·v → o_q30
  kAttentionOut = 1u << 5,  // o_q30 → site → W_o added to x
  kPmemProject = 1u << 6,   // LayerNorm 2 → site; W_k' → pmem_proj
  kPmemUnit = 1u << 7,      // pmem_proj → leaky average → pmem_query
  kPmemHeads = 1u << 8,     // per head: scores → slot weights → r
  kPmemOut = 1u << 9,       // r → site → W_o' added to x
  kOutput = 1u << 10,       // final LayerNorm → site → output projection → logits
};
constexpr uint32_t kWholePass = ~0u;
constexpr uint32_t kSite = kKeyProject | kKeyUnit | kValueProject | kAttentionOut | kPmemProject | kPmemOut | kOutput;
constexpr uint32_t kProjection = kKeyProject | kValueProject | kAttentionOut | kPmemProject | kPmemOut | kOutput;

enum Region {
  kX,
  kLogits,
  kKeyState,
  kPmemState,
  kWPrev,
  kKeyCache,
  kValueCache,
  kValueCacheQ7,
  kQ8,
  kQ8Lo,
  kQ16,
  kAcc,
  kAcc64,
  kKeyProj,
  kWCur,
  kValueMix,
  kValueQ15,
  kScores,
  kProbs,
  kAttnScratch,
  kOAcc,
  kOQ30,
  kPmemProj,
  kPmemQuery,
  kPmemScores,
  kPmemProbs,
  kPmemSplit,
  kPmemDot64,
  kRAcc,
  kRLo,
  kRAcc64,
  kRegionCount
};
static_assert(kRegionCount <= kMaxArenaRegions, "arena_plan.h places at most kMaxArenaRegions regions");

constexpr uint64_t kTooLarge = uint64_t(1) << 62;

// a · b · c, saturated at kTooLarge (then plan_arena reports 0: does not fit). No 64-bit division (a Cortex-M
// has none in hardware); not inlined, as describe(): one copy of the region table keeps the code small in flash.
__attribute__((noinline)) uint64_t product(uint64_t a, uint64_t b, uint64_t c = 1) {
  uint64_t ab = 0, abc = 0;
  if (__builtin_mul_overflow(a, b, &ab) || __builtin_mul_overflow(ab, c, &abc) || abc > kTooLarge) return kTooLarge;
  return abc;
}

// A model dimension or capacity; a negative one is as unrepresentable as a too large one. Every size below is a
// product() of these, so it saturates instead of wrapping.
uint64_t dim(int64_t v) { return v < 0 || uint64_t(v) > kTooLarge ? kTooLarge : uint64_t(v); }

__attribute__((noinline)) void describe(const Int8Model& m, int64_t capacity, ArenaRegion* r) {
  const uint64_t C = dim(m.n_embd), L = dim(m.n_layer), V = dim(m.vocab_size);
  const uint64_t cap = dim(capacity);
  const uint64_t rows = V > C ? V : C;
  // Persistent-memory scratch per head only when heads run in parallel (an executor is set).
  const uint64_t heads = m.parallel_for ? dim(m.n_head) : 1;
  const uint64_t slots = product(heads, dim(m.pmem_size));
  const bool q7 = m.value_cache_int8;
  auto set = [&](Region k, uint64_t bytes, uint32_t steps) { r[k] = ArenaRegion{bytes, steps, 0}; };
  set(kX, product(C, 4), kWholePass);
  set(kLogits, product(V, 4), kWholePass);
  set(kKeyState, product(L, C, 4), kWholePass);
  set(kPmemState, product(L, C, 4), kWholePass);
  set(kWPrev, product(L, C, 4), kWholePass);
  set(kKeyCache, product(L, cap, product(C, 2)), kWholePass);
  set(kValueCache, q7 ? 0 : product(L, cap, product(C, 2)), kWholePass);
  set(kValueCacheQ7, q7 ? product(L, cap, C) : 0, kWholePass);
  set(kQ8, product(C, 1), kSite);
  set(kQ8Lo, product(C, 1), kSite);
  set(kQ16, product(C, 2), kSite);
  set(kAcc, product(rows, 4), kProjection);
  set(kAcc64, product(rows, 8), kProjection);
  set(kKeyProj, product(C, 4), kKeyProject | kKeyUnit);
  set(kWCur, product(C, 4), kValueProject | kValueUnit);
  set(kValueMix, product(C, 4), kValueUnit);
  set(kValueQ15, q7 ? product(C, 2) : 0, kValueUnit);
  set(kScores, product(cap, 4), kAttention);
  set(kProbs, product(cap, 4), kAttention);
  set(kAttnScratch, product(product(dim(m.attention_scratch_words_per_key), cap), 4) + 4, kAttention);
  set(kOAcc, product(dim(m.head_dim), 8), kAttention);
  set(kOQ30, product(C, 4), kAttention | kAttentionOut);
  set(kPmemProj, product(C, 4), kPmemProject | kPmemUnit);
  set(kPmemQuery, product(C, 2), kPmemUnit | kPmemHeads);
  set(kPmemScores, product(slots, 4), kPmemHeads);
  set(kPmemProbs, product(slots, 4), kPmemHeads);
  set(kPmemSplit, product(heads, 2, dim(m.head_dim)), kPmemHeads);
  set(kPmemDot64, product(slots, 8), kPmemHeads);
  set(kRAcc, product(C, 4), kPmemHeads | kPmemOut);
  set(kRLo, product(C, 4), kPmemHeads);
  set(kRAcc64, product(C, 8), kPmemHeads | kPmemOut);
}

}  // namespace

uint64_t int8_state_bytes(const Int8Model& m, int64_t capacity) {
  ArenaRegion r[kRegionCount];
  describe(m, capacity, r);
  return plan_arena(r, kRegionCount);
}

uint64_t int8_state_bytes_unshared(const Int8Model& m, int64_t capacity) {
  ArenaRegion r[kRegionCount];
  describe(m, capacity, r);
  for (ArenaRegion& region : r) region.live_steps = kWholePass;
  return plan_arena(r, kRegionCount);
}

void int8_state_bind(const Int8Model& m, int64_t capacity, void* arena, Int8State* s) {
  ArenaRegion r[kRegionCount];
  describe(m, capacity, r);
  plan_arena(r, kRegionCount);  // the caller sized the arena with int8_state_bytes: it fits
  auto* base = static_cast<unsigned char*>(arena);
  auto at = [&](Region k) -> void* { return r[k].bytes ? base + size_t(r[k].offset) : nullptr; };
  *s = Int8State{};
  s->capacity = capacity;
  s->x = static_cast<int32_t*>(at(kX));
  s->logits = static_cast<int32_t*>(at(kLogits));
  s->key_state = static_cast<int32_t*>(at(kKeyState));
  s->pmem_state = static_cast<int32_t*>(at(kPmemState));
  s->w_prev = static_cast<int32_t*>(at(kWPrev));
  s->key_cache = static_cast<int16_t*>(at(kKeyCache));
  s->value_cache = static_cast<int16_t*>(at(kValueCache));
  s->value_cache_q7 = static_cast<int8_t*>(at(kValueCacheQ7));
  s->q8 = static_cast<int8_t*>(at(kQ8));
  s->q8_lo = static_cast<int8_t*>(at(kQ8Lo));
  s->q16 = static_cast<int16_t*>(at(kQ16));
  s->acc = static_cast<int32_t*>(at(kAcc));
  s->acc64 = static_cast<int64_t*>(at(kAcc64));
  s->key_proj = static_cast<int32_t*>(at(kKeyProj));
  s->w_cur = static_cast<int32_t*>(at(kWCur));
  s->value_mix = static_cast<int32_t*>(at(kValueMix));
  s->value_q15 = static_cast<int16_t*>(at(kValueQ15));
  s->scores = static_cast<int32_t*>(at(kScores));
  s->probs = static_cast<int32_t*>(at(kProbs));
  s->attn_scratch = static_cast<int32_t*>(at(kAttnScratch));
  s->o_acc = static_cast<int64_t*>(at(kOAcc));
  s->o_q30 = static_cast<int32_t*>(at(kOQ30));
  s->pmem_proj = static_cast<int32_t*>(at(kPmemProj));
  s->pmem_query = static_cast<int16_t*>(at(kPmemQuery));
  s->pmem_scores = static_cast<int32_t*>(at(kPmemScores));
  s->pmem_probs = static_cast<int32_t*>(at(kPmemProbs));
  s->pmem_split = static_cast<int8_t*>(at(kPmemSplit));
  s->pmem_dot64 = static_cast<int64_t*>(at(kPmemDot64));
  s->r_acc = static_cast<int32_t*>(at(kRAcc));
  s->r_lo = static_cast<int32_t*>(at(kRLo));
  s->r_acc64 = static_cast<int64_t*>(at(kRAcc64));
  int8_state_reset(m, s);
}

void int8_state_reset(const Int8Model& m, Int8State* s) {
  const int64_t LC = m.n_layer * m.n_embd;
  for (int64_t i = 0; i < LC; ++i) s->key_state[i] = s->pmem_state[i] = s->w_prev[i] = 0;
  s->position = 0;  // caches are overwritten before they are read
}

}  // namespace tessera::int8
