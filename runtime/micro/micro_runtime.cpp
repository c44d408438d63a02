// tessera_micro (tessera_micro.h): validates a packed blob (micro_format.h), points an Int8Model into it
// and runs int8_forward_token with the state in the caller's arena. Everything here is integer-only.
#include "micro/tessera_micro.h"

#include "cpu_int8/int8_forward.h"
#include "micro/micro_format.h"
#include "ops/fixed/attention_fixed.h"

using tessera::int8::Int8Layer;
using tessera::int8::Int8Matrix;
using tessera::int8::Int8Model;
using tessera::int8::Int8State;
using tessera::ops::int8::QuantizedMultiplier;
namespace micro = tessera::micro;

struct tm_runtime {
  Int8Model model;
  Int8State state;
  tm_model_info info;
};

namespace {

// Bounds that keep every size computation below 2^31 on a 32-bit target.
constexpr uint32_t kMaxVocab = 1u << 20, kMaxEmbd = 1u << 14, kMaxLayers = 256, kMaxSlots = 1u << 20;
constexpr uint32_t kMaxCapacity = 1u << 20;
constexpr uint64_t kMaxArena = uint64_t(1) << 31;

size_t align_up(size_t n, size_t a) { return (n + a - 1) & ~(a - 1); }

uint64_t u64(uint32_t lo, uint32_t hi) { return uint64_t(lo) | (uint64_t(hi) << 32); }

// Typed views into the blob, each checked for bounds and alignment; `ok` turns false on the first bad one.
class BlobView {
 public:
  BlobView(const unsigned char* base, uint32_t size, bool verify) : base_(base), size_(size), verify_(verify) {}
  bool ok = true;

  template <typename T>
  const T* array(uint32_t offset, uint64_t count, bool optional = false) {
    if (offset == 0) {
      if (!optional) ok = false;
      return nullptr;
    }
    const uint64_t bytes = count * sizeof(T);
    if (offset % alignof(T) != 0 || uint64_t(offset) + bytes > size_ || count == 0) {
      ok = false;
      return nullptr;
    }
    return reinterpret_cast<const T*>(base_ + offset);
  }
  // int8 weights must lie in [-127, 127] (the kernels' accumulator bounds assume it).
  const int8_t* weights(uint32_t offset, uint64_t count, bool optional = false) {
    const int8_t* w = array<int8_t>(offset, count, optional);
    if (w && verify_)
      for (uint64_t i = 0; i < count; ++i)
        if (w[i] == -128) ok = false;
    return w;
  }
  const QuantizedMultiplier* multipliers(uint32_t offset, uint64_t count, bool optional = false) {
    const QuantizedMultiplier* q = array<QuantizedMultiplier>(offset, count, optional);
    if (q && verify_)
      for (uint64_t i = 0; i < count; ++i) check(q[i]);
    return q;
  }
  QuantizedMultiplier multiplier(const micro::MultiplierRecord& r) {
    const QuantizedMultiplier q{r.multiplier, r.shift};
    check(q);
    return q;
  }
  Int8Matrix matrix(const micro::MatrixRecord& r, uint32_t rows, uint32_t cols) {
    Int8Matrix m;
    if (r.rows != rows || r.cols != cols) ok = false;
    m.rows = rows;
    m.cols = cols;
    m.weight = weights(r.weight, uint64_t(rows) * cols);
    m.weight_lo = weights(r.weight_lo, uint64_t(rows) * cols, true);
    m.requant = multipliers(r.requant, rows);
    m.bias = array<int32_t>(r.bias, rows, true);
    return m;
  }

 private:
  void check(const QuantizedMultiplier& q) {
    if (q.multiplier < 0 || q.shift < -31 || q.shift > 30) ok = false;
  }
  const unsigned char* base_;
  uint32_t size_;
  bool verify_;
};

void copy_bytes(void* to, const void* from, size_t n) {
  auto* d = static_cast<unsigned char*>(to);
  const auto* s = static_cast<const unsigned char*>(from);
  for (size_t i = 0; i < n; ++i) d[i] = s[i];
}

tm_status read_header(const void* blob, size_t blob_bytes, micro::BlobHeader* h, bool verify) {
  if (!blob) return TM_ERR_NULL_ARGUMENT;
  if (reinterpret_cast<uintptr_t>(blob) % micro::kBlobAlignment != 0) return TM_ERR_MISALIGNED;
  if (blob_bytes < sizeof(micro::BlobHeader)) return TM_ERR_TRUNCATED;
  copy_bytes(h, blob, sizeof *h);
  if (h->magic != micro::kBlobMagic) return TM_ERR_BAD_MAGIC;
  if (h->version != micro::kBlobVersion && h->version != micro::kBlobVersionInt16Values) return TM_ERR_BAD_VERSION;
  if (blob_bytes < h->total_bytes || h->total_bytes < sizeof *h + sizeof(micro::ModelRecord)) return TM_ERR_TRUNCATED;
  const auto* bytes = static_cast<const unsigned char*>(blob);
  if (verify && micro::blob_checksum(bytes + 16, h->total_bytes - 16) != h->checksum) return TM_ERR_CHECKSUM;
  if (h->header_bytes != sizeof *h + sizeof(micro::ModelRecord) || h->layer_record_bytes != sizeof(micro::LayerRecord))
    return TM_ERR_BAD_LAYOUT;
  return TM_OK;
}

// The model and its layer table (n_layer entries at `layers`, or none when null: validation only).
// `verify` = false skips the passes over the data (checksum, weight and multiplier ranges) for a blob
// this call sequence has just verified; offsets, sizes and alignment are always checked.
tm_status map_model(const void* blob, size_t blob_bytes, Int8Model* m, Int8Layer* layers, tm_model_info* info,
                    bool verify = true) {
  micro::BlobHeader h;
  if (tm_status st = read_header(blob, blob_bytes, &h, verify); st != TM_OK) return st;
  const auto* bytes = static_cast<const unsigned char*>(blob);
  micro::ModelRecord r;
  copy_bytes(&r, bytes + sizeof h, sizeof r);
  const uint32_t V = r.vocab_size, C = r.n_embd, H = r.n_head, d = r.head_dim, L = r.n_layer;
  const uint32_t N = r.pmem_size, P = r.pmem_count;
  if (V == 0 || V > kMaxVocab || C == 0 || C > kMaxEmbd || H == 0 || d == 0 || uint64_t(H) * d != C || L == 0 ||
      L > kMaxLayers || uint64_t(N) * P * H > kMaxSlots || (r.mask_offset != 0 && r.mask_offset != 1) ||
      r.transform_kind < 0 || r.transform_kind > int32_t(tessera::ops::fixed::FixedKind::kTopKUniform) ||
      (r.flags & ~micro::kModelFlags) != 0)
    return TM_ERR_BAD_LAYOUT;
  // The int8 value cache came with version 2 (a version 1 reader would ignore the flag): never in a version 1 blob.
  if ((r.flags & micro::kValueCacheInt8) && h.version < micro::kBlobVersion) return TM_ERR_BAD_VERSION;
  using tessera::ops::fixed::FixedKind;
  const auto kind = FixedKind(r.transform_kind);
  const bool softmax = (r.flags & micro::kAttentionSoftmax) != 0;
  // Softmax attention runs ops/int8's Q23 softmax; the row transform is then unused and left at its default.
  if (softmax && kind != tessera::ops::fixed::FixedRowTransform{}.kind) return TM_ERR_BAD_LAYOUT;
  if ((kind == FixedKind::kTopKSoftmax || kind == FixedKind::kTopKUniform) && r.transform_top_k < 1)
    return TM_ERR_BAD_LAYOUT;
  if (kind == FixedKind::kReluMax && r.transform_relu_bias_q20 <= 0) return TM_ERR_BAD_LAYOUT;
  if (uint64_t(h.layers_offset) + uint64_t(L) * sizeof(micro::LayerRecord) > h.total_bytes || h.layers_offset % 4)
    return TM_ERR_BAD_LAYOUT;
  BlobView view(bytes, h.total_bytes, verify);
  *m = Int8Model{};
  m->vocab_size = V;
  m->n_embd = C;
  m->n_head = H;
  m->head_dim = d;
  m->n_layer = L;
  m->pmem_size = N;
  m->pmem_count = P;
  m->mask_offset = r.mask_offset;
  m->attention_softmax = softmax;
  m->value_cache_int8 = (r.flags & micro::kValueCacheInt8) != 0;
  m->attention_transform.kind = kind;
  m->attention_transform.top_k = r.transform_top_k;
  m->attention_transform.relu_bias_q20 = r.transform_relu_bias_q20;
  const size_t big = size_t(1) << 16;  // per-key scratch measured at a large n, as the host plan does
  m->attention_scratch_words_per_key = int64_t((tessera::ops::fixed::fixed_scratch_words(kind, big) + big - 1) / big);
  if (r.flags & micro::kEmbeddingWide) m->token_embd_wide = view.array<int16_t>(r.token_embd, uint64_t(V) * C);
  else m->token_embd = view.weights(r.token_embd, uint64_t(V) * C);
  m->embd_requant = view.multipliers(r.embd_requant, V);
  m->out_eps = u64(r.out_eps_lo, r.out_eps_hi);
  m->out_inv_scale = view.multiplier(r.out_inv_scale);
  m->out_wide = (r.flags & micro::kOutputWide) != 0;
  m->output = view.matrix(r.output, V, C);
  const uint64_t slots = uint64_t(P) * H * N, mem = slots * d;
  for (uint32_t l = 0; l < L && view.ok; ++l) {
    micro::LayerRecord lr;
    copy_bytes(&lr, bytes + h.layers_offset + l * sizeof lr, sizeof lr);
    if ((lr.flags & ~micro::kLayerFlags) != 0) return TM_ERR_BAD_LAYOUT;
    Int8Layer y;
    y.h1_wide = lr.flags & micro::kH1Wide;
    y.o_wide = lr.flags & micro::kOWide;
    y.h2_wide = lr.flags & micro::kH2Wide;
    y.r_wide = lr.flags & micro::kRWide;
    y.has_pmem = lr.flags & micro::kHasPmem;
    y.ln1_eps = u64(lr.ln1_eps_lo, lr.ln1_eps_hi);
    y.ln1_inv_scale = view.multiplier(lr.ln1_inv_scale);
    y.attn_k = view.matrix(lr.attn_k, C, C);
    y.attn_v = view.matrix(lr.attn_v, C, C);
    y.attn_out = view.matrix(lr.attn_out, C, C);
    y.key_decay_q31 = view.array<int32_t>(lr.key_decay_q31, H);
    y.key_keep_q31 = view.array<int32_t>(lr.key_keep_q31, H);
    y.value_mix_q24 = view.array<int32_t>(lr.value_mix_q24, H);
    y.value_keep_q24 = view.array<int32_t>(lr.value_keep_q24, H);
    y.score_multiplier = view.multipliers(lr.score_multiplier, H);
    y.transform_scale = view.array<tessera::ops::fixed::ScoreScale>(lr.transform_scale, H);
    y.o_to_int8 = view.multiplier(lr.o_to_int8);
    if (y.has_pmem) {
      if (slots == 0) return TM_ERR_BAD_LAYOUT;
      y.ln2_eps = u64(lr.ln2_eps_lo, lr.ln2_eps_hi);
      y.ln2_inv_scale = view.multiplier(lr.ln2_inv_scale);
      y.pmem_k = view.matrix(lr.pmem_k, C, C);
      y.pmem_out = view.matrix(lr.pmem_out, C, C);
      y.pmem_decay_q31 = view.array<int32_t>(lr.pmem_decay_q31, H);
      y.pmem_keep_q31 = view.array<int32_t>(lr.pmem_keep_q31, H);
      y.mem_k = view.weights(lr.mem_k, mem);
      y.mem_v = view.weights(lr.mem_v, mem);
      y.mem_k_lo = view.weights(lr.mem_k_lo, mem, true);
      y.mem_v_lo = view.weights(lr.mem_v_lo, mem, true);
      y.mem_k_score = view.multipliers(lr.mem_k_score, slots);
      y.mem_v_weight = view.multipliers(lr.mem_v_weight, slots);
      y.r_to_int8 = view.multiplier(lr.r_to_int8);
    }
    if (layers) layers[l] = y;
  }
  if (!view.ok) return TM_ERR_BAD_LAYOUT;
  m->layers = layers;
  if (info) *info = {V, C, H, L, N, P, h.logit_scale_f32};
  return TM_OK;
}

// The kernels: the fastest table this build has for its CPU (a Cortex-M build fixes it at compile time:
// DSP, Helium), or the portable one when TESSERA_MICRO_PORTABLE_KERNELS is defined (to measure). Its
// layout-dependent kernels (the VNNI quads) are never used: the blob holds the portable layouts.
const tessera::ops::int8::Int8Kernels& micro_kernels() {
  using namespace tessera::ops::int8;
#if defined(TESSERA_MICRO_PORTABLE_KERNELS)
  return int8_kernels_for(Isa::kPortable);
#else
  return int8_kernels_for(fastest_isa(host_cpu_features()));
#endif
}

void select_kernels(Int8Model* m) { m->kernels = &micro_kernels(); }

size_t runtime_bytes() { return align_up(sizeof(tm_runtime), 64); }
size_t layer_table_bytes(const Int8Model& m) { return align_up(size_t(m.n_layer) * sizeof(Int8Layer), 64); }

tm_status arena_bytes_for(const Int8Model& m, uint32_t capacity, size_t* arena_bytes) {
  if (capacity == 0 || capacity > kMaxCapacity) return TM_ERR_BAD_CAPACITY;
  // The planner computes in 64 bits (0: too large), so nothing here can wrap on a 32-bit target.
  const uint64_t state = tessera::int8::int8_state_bytes(m, capacity);
  const uint64_t total = 63 + uint64_t(runtime_bytes()) + uint64_t(layer_table_bytes(m)) + state;
  if (state == 0 || total >= kMaxArena || total > uint64_t(size_t(-1))) return TM_ERR_BAD_CAPACITY;
  *arena_bytes = size_t(total);
  return TM_OK;
}

}  // namespace

extern "C" {

const char* tm_status_message(int status) {
  switch (status) {
    case TM_OK: return "ok";
    case TM_ERR_NULL_ARGUMENT: return "a required pointer argument is null";
    case TM_ERR_TRUNCATED: return "the blob is shorter than its header says (truncated)";
    case TM_ERR_BAD_MAGIC: return "not a Tessera micro blob (magic is not TSMB)";
    case TM_ERR_BAD_VERSION:
      return "unsupported blob version (this library reads versions 1 and 2; the int8 value cache needs 2)";
    case TM_ERR_CHECKSUM: return "blob checksum mismatch (corrupted bytes)";
    case TM_ERR_BAD_LAYOUT: return "blob record out of range (size, offset, alignment or value)";
    case TM_ERR_MISALIGNED: return "the blob must start on a 16-byte boundary";
    case TM_ERR_BAD_CAPACITY: return "capacity must be between 1 and 2^20 positions and fit the address space";
    case TM_ERR_ARENA_TOO_SMALL: return "the arena is smaller than tm_arena_bytes() for this capacity";
    case TM_ERR_CONTEXT_FULL: return "the context is full (every position used): reset the runtime";
    case TM_ERR_BAD_TOKEN: return "token outside [0, vocab_size)";
  }
  return "unknown status";
}

const char* tm_kernel_name(void) { return micro_kernels().name; }

tm_status tm_check_blob(const void* blob, size_t blob_bytes, tm_model_info* info) {
  Int8Model m;
  return map_model(blob, blob_bytes, &m, nullptr, info);
}

tm_status tm_arena_bytes(const void* blob, size_t blob_bytes, uint32_t capacity, size_t* arena_bytes) {
  if (!arena_bytes) return TM_ERR_NULL_ARGUMENT;
  Int8Model m;
  if (tm_status st = map_model(blob, blob_bytes, &m, nullptr, nullptr); st != TM_OK) return st;
  return arena_bytes_for(m, capacity, arena_bytes);
}

tm_status tm_init(const void* blob, size_t blob_bytes, void* arena, size_t arena_bytes, uint32_t capacity,
                  tm_runtime** runtime) {
  if (!arena || !runtime) return TM_ERR_NULL_ARGUMENT;
  Int8Model checked;
  if (tm_status st = map_model(blob, blob_bytes, &checked, nullptr, nullptr); st != TM_OK) return st;
  size_t need = 0;
  if (tm_status st = arena_bytes_for(checked, capacity, &need); st != TM_OK) return st;
  if (arena_bytes < need) return TM_ERR_ARENA_TOO_SMALL;
  const uintptr_t base = reinterpret_cast<uintptr_t>(arena);
  auto* at = reinterpret_cast<unsigned char*>(align_up(base, 64));
  auto* rt = reinterpret_cast<tm_runtime*>(at);
  *rt = tm_runtime{};
  auto* layers = reinterpret_cast<Int8Layer*>(at + runtime_bytes());
  if (tm_status st = map_model(blob, blob_bytes, &rt->model, layers, &rt->info, false); st != TM_OK) return st;
  select_kernels(&rt->model);
  tessera::int8::int8_state_bind(rt->model, capacity, at + runtime_bytes() + layer_table_bytes(rt->model), &rt->state);
  *runtime = rt;
  return TM_OK;
}

tm_status tm_reset(tm_runtime* rt) {
  if (!rt) return TM_ERR_NULL_ARGUMENT;
  tessera::int8::int8_state_reset(rt->model, &rt->state);
  return TM_OK;
}

tm_status tm_feed(tm_runtime* rt, int32_t token, int want_logits) {
  if (!rt) return TM_ERR_NULL_ARGUMENT;
  if (token < 0 || int64_t(token) >= rt->model.vocab_size) return TM_ERR_BAD_TOKEN;
  if (rt->state.position >= rt->state.capacity) return TM_ERR_CONTEXT_FULL;
  tessera::int8::int8_forward_token(rt->model, &rt->state, token, want_logits ? rt->state.logits : nullptr);
  return TM_OK;
}

const int32_t* tm_logits(const tm_runtime* rt) { return rt ? rt->state.logits : nullptr; }
uint32_t tm_position(const tm_runtime* rt) { return rt ? uint32_t(rt->state.position) : 0; }
uint32_t tm_capacity(const tm_runtime* rt) { return rt ? uint32_t(rt->state.capacity) : 0; }
uint32_t tm_vocab_size(const tm_runtime* rt) { return rt ? uint32_t(rt->model.vocab_size) : 0; }

}  // extern "C"
