// The Memory Mosaics forward pass as one recorded command buffer (docs/model.md).
#include <algorithm>

#include "vulkan/sequence_state.h"

namespace tessera::vk {
namespace {

constexpr VkDeviceSize kScoreScratchBytes = 32ull << 20;  // per attention kind; rows per pass adapt

// The split exact entmax keeps two candidate lists the size of the scores (y values, key indices):
// all three share the budget.
uint32_t rows_per_pass(uint32_t heads, uint32_t max_keys, bool split_entmax) {
  VkDeviceSize per_row = VkDeviceSize(heads) * std::max(max_keys, 1u) * 4 * (split_entmax ? 3 : 1);
  return uint32_t(std::clamp<VkDeviceSize>(kScoreScratchBytes / per_row, 1, kAttentionRowsPerPass));
}

}  // namespace

Result<std::unique_ptr<SequenceState>> make_sequence_state(Context& ctx, const GpuModel& m, uint32_t capacity) {
  const HParams& hp = m.hp;
  const VkDeviceSize C = VkDeviceSize(hp.n_embd), V = VkDeviceSize(hp.vocab_size);
  auto s = std::make_unique<SequenceState>(ctx);
  s->capacity = capacity;
  s->rows_per_forward = rows_per_forward(uint64_t(hp.n_embd));
  const VkDeviceSize R = s->rows_per_forward;
  TESSERA_ASSIGN_OR_RETURN(s->step, s->upload.allocate(16, "step record"));
  TESSERA_ASSIGN_OR_RETURN(s->tokens, s->upload.allocate(R * 4, "token ids"));
  TESSERA_ASSIGN_OR_RETURN(s->greedy, s->readback.allocate(16, "greedy token"));
  for (BufferSlice* b : {&s->x, &s->o}) {
    TESSERA_ASSIGN_OR_RETURN(*b, s->device.allocate(R * C * 4, "activations"));
  }
  TESSERA_ASSIGN_OR_RETURN(s->h, s->device.allocate(VkDeviceSize(kMaxLogitRows) * C * 4, "final LayerNorm rows"));
  TESSERA_ASSIGN_OR_RETURN(s->states, s->device.allocate(VkDeviceSize(hp.n_layer) * 3 * C * 4, "recurrent states"));
  // F16 caches: two elements per 32-bit word (shaders/kv_cache.glsl).
  s->kv_f16 = ctx.kv_cache_f16();
  const VkDeviceSize cache_bytes = s->kv_f16 ? (VkDeviceSize(capacity) * C * 2 + 3) / 4 * 4
                                             : VkDeviceSize(capacity) * C * 4;
  for (int64_t l = 0; l < hp.n_layer; ++l) {
    TESSERA_ASSIGN_OR_RETURN(BufferSlice k, s->device.allocate(cache_bytes, "key cache"));
    TESSERA_ASSIGN_OR_RETURN(BufferSlice v, s->device.allocate(cache_bytes, "value cache"));
    s->key_cache.push_back(k);
    s->value_cache.push_back(v);
  }
  const VkDeviceSize LR = kMaxLogitRows;
  TESSERA_ASSIGN_OR_RETURN(s->logits_host, s->readback.allocate(LR * V * 4, "logits readback"));
  const uint32_t H = uint32_t(hp.n_head), d = uint32_t(hp.head_dim());
  const uint32_t wg = attention_workgroup(ctx, d);
  const AttentionKind kind = hp.method.kind;
  const bool split = kind == AttentionKind::kSparsemax || kind == AttentionKind::kEntmax15 ||
                     kind == AttentionKind::kEntmax43;
  // Prompt chunks on the tiled kernels (record_context_memory's call) need no score rows beyond decode's.
  AttentionCall chunk;
  chunk.method = hp.method;
  chunk.heads = H;
  chunk.head_dim = d;
  chunk.q_from_cache = true;
  chunk.kv_f16 = s->kv_f16;
  chunk.k_head_stride = chunk.v_head_stride = d;
  chunk.k_key_stride = chunk.v_key_stride = uint32_t(C);
  chunk.mask_offset = uint32_t(hp.mask_offset);
  chunk.rows = 2;
  const uint32_t rows = attention_tiled_applies(ctx, chunk) ? 1 : rows_per_pass(H, capacity, split);
  AttentionScratchShape cs{H, d, capacity, rows, wg, 256};
  cs.split_entmax = split;
  // One region serves, in turn, a layer's key and value projections (kv_project, then the persistent
  // memory's key projections in its first half), the context attention's score rows and candidate
  // lists, and the logits at the end of the forward: each is dead while another is live (every pass
  // ends at a global barrier), so the region is the largest of them, not their sum. kv_project's
  // completion counters follow it (one binding with the projections; zero between forwards).
  const VkDeviceSize uw_bytes = R * 2 * C * 4, logits_bytes = LR * V * 4;
  const VkDeviceSize shared = (std::max({uw_bytes, logits_bytes, attention_workspace_bytes(cs)}) + 255) / 256 * 256;
  const VkDeviceSize counter_bytes = kv_project_counter_bytes(H);
  TESSERA_ASSIGN_OR_RETURN(BufferSlice region,
                           s->device.allocate(shared + counter_bytes, "projections, attention rows and logits"));
  s->uw = region.part(0, uw_bytes);
  s->u = region.part(0, R * C * 4);
  s->logits = region.part(0, logits_bytes);
  s->kv_counters = region.part(shared, counter_bytes);
  const BufferSlice workspace = region.part(0, shared);
  TESSERA_ASSIGN_OR_RETURN(s->ctx_scratch, make_attention_scratch(ctx, s->device, cs, &workspace));
  if (!hp.attn_only) {
    TESSERA_ASSIGN_OR_RETURN(s->pmem_scratch,
                             make_pmem_scratch(ctx, s->device, uint32_t(R), H, d, uint32_t(hp.pmem_size)));
  }
  TESSERA_RETURN_IF_ERROR(ctx.fill_zero(s->kv_counters));
  TESSERA_ASSIGN_OR_RETURN(s->argmax_scratch, s->device.allocate(kArgmaxScratchBytes, "argmax scratch"));
  TESSERA_RETURN_IF_ERROR(ctx.fill_zero(s->argmax_scratch));
  TESSERA_RETURN_IF_ERROR(ctx.fill_zero(s->states));
  return s;
}

namespace {

Status record_context_memory(Recording& rec, Context& ctx, const GpuModel& m, SequenceState& s, size_t l, uint32_t n) {
  const HParams& hp = m.hp;
  const GpuLayer& L = m.layers[l];
  const uint32_t C = uint32_t(hp.n_embd), H = uint32_t(hp.n_head), d = uint32_t(hp.head_dim());
  const VkDeviceSize layer_states = VkDeviceSize(l) * 3 * C * 4;
  // Pre-LN: the projections normalise x on the fly. Post-LN: x = LN(x) in place first.
  const GpuNorm* ln = hp.pre_ln ? &L.attn_norm : nullptr;
  if (!hp.pre_ln) {
    TESSERA_RETURN_IF_ERROR(record_layernorm(rec, ctx, s.x, 0, s.x, 0, n, C, L.attn_norm, hp.layer_norm_eps));
    rec.barrier();
  }
  // Keys (leaky average, unit) and the values finished by this forward's rows, into the caches.
  KvProject p;
  p.w = &L.attn_kv;
  p.x = {s.x, 0, C};
  p.ln = ln;
  p.ln_eps = hp.layer_norm_eps;
  p.eps = hp.l2_norm_eps;
  p.n = n;
  p.head_dim = d;
  p.y = s.uw;
  p.step = s.step;
  p.states = s.states.part(layer_states, 3 * C * 4);
  p.key_cache = s.key_cache[l];
  p.value_cache = s.value_cache[l];
  p.params = L.kv_params;
  p.counters = s.kv_counters;
  p.kv_f16 = s.kv_f16;
  TESSERA_RETURN_IF_ERROR(record_kv_project(rec, ctx, p));
  rec.barrier();
  AttentionCall a;
  a.method = hp.method;
  a.heads = H;
  a.head_dim = d;
  a.out_stride = C;
  a.step = s.step;
  a.q = s.key_cache[l];
  a.q_stride = C;
  a.q_from_cache = true;
  a.keys = s.key_cache[l];
  a.kv_f16 = s.kv_f16;
  a.values = s.value_cache[l];
  a.k_head_stride = a.v_head_stride = d;
  a.k_key_stride = a.v_key_stride = C;
  a.mask_offset = uint32_t(hp.mask_offset);
  a.rows = n;
  a.head_scale = L.key_beta2;
  a.relu_params = L.relu_params;
  a.out_scale = m.ones_h;
  a.out = s.o;
  TESSERA_RETURN_IF_ERROR(record_attention(rec, ctx, a, s.ctx_scratch));
  TESSERA_RETURN_IF_ERROR(record_matvec(rec, ctx, L.attn_out, {s.o, 0, C}, {s.x, 0, C}, n, true, 1.0f));
  rec.barrier();
  return Status::ok_status();
}

// Memory i of layer l: its slots, the layer's carried state and parameters, accumulated into o
// with weight 1 / pmem_count; the last memory advances the state.
PmemMemory pmem_memory(const GpuModel& m, SequenceState& s, size_t l, int64_t i) {
  const HParams& hp = m.hp;
  const uint32_t C = uint32_t(hp.n_embd);
  PmemMemory p;
  p.channels = C;
  p.heads = uint32_t(hp.n_head);
  p.head_dim = uint32_t(hp.head_dim());
  p.slots = uint32_t(hp.pmem_size);
  p.slot_base = uint32_t(i) * p.heads * p.slots;
  p.state = s.states.part((VkDeviceSize(l) * 3 + 1) * C * 4, C * 4);
  p.params = m.layers[l].pmem_params;
  p.out = s.o;
  p.accumulate = i > 0;
  p.update_state = i + 1 == hp.pmem_count;
  p.scale = float(1.0 / double(hp.pmem_count));
  p.eps = hp.l2_norm_eps;
  return p;
}

// One decode row: each persistent-memory workgroup forms its head's query from x itself
// (shaders/pmem_decode.comp), no pmem_k pass and barrier.
Status record_pmem_decode_row(Recording& rec, Context& ctx, const GpuModel& m, SequenceState& s, size_t l,
                              const GpuNorm* ln) {
  const HParams& hp = m.hp;
  const GpuLayer& L = m.layers[l];
  const uint32_t C = uint32_t(hp.n_embd);
  for (int64_t i = 0; i < hp.pmem_count; ++i) {
    PmemDecodeCall p;
    static_cast<PmemMemory&>(p) = pmem_memory(m, s, l, i);
    p.w = &L.pmem_k;
    p.x = {s.x, 0, C};
    p.ln = ln;
    p.ln_eps = hp.layer_norm_eps;
    TESSERA_RETURN_IF_ERROR(record_pmem_decode(rec, ctx, p, L.pmem_slots, s.pmem_scratch));
    rec.barrier();  // the next memory accumulates into o; the out projection reads it
  }
  return Status::ok_status();
}

Status record_persistent_memory(Recording& rec, Context& ctx, const GpuModel& m, SequenceState& s, size_t l,
                                uint32_t n) {
  const HParams& hp = m.hp;
  const GpuLayer& L = m.layers[l];
  const uint32_t C = uint32_t(hp.n_embd), d = uint32_t(hp.head_dim());
  const uint32_t N = uint32_t(hp.pmem_size);
  const GpuNorm* ln = hp.pre_ln ? &L.pmem_norm : nullptr;
  if (!hp.pre_ln) {
    TESSERA_RETURN_IF_ERROR(record_layernorm(rec, ctx, s.x, 0, s.x, 0, n, C, L.pmem_norm, hp.layer_norm_eps));
    rec.barrier();
  }
  if (n == 1 && pmem_decode_usable(ctx, L.pmem_k, d, N, s.pmem_scratch)) {
    TESSERA_RETURN_IF_ERROR(record_pmem_decode_row(rec, ctx, m, s, l, ln));
  } else {
    TESSERA_RETURN_IF_ERROR(
        record_matvec(rec, ctx, L.pmem_k, {s.x, 0, C}, {s.u, 0, C}, n, false, 1.0f, ln, hp.layer_norm_eps));
    rec.barrier();
    // q = β'² k̂' is formed inside the pmem dispatch from u and the carried state (pmem_softmax.comp).
    for (int64_t i = 0; i < hp.pmem_count; ++i) {
      PmemCall p;
      static_cast<PmemMemory&>(p) = pmem_memory(m, s, l, i);
      p.rows = n;
      p.u = s.u;
      p.decay = L.pmem_decay;
      p.qscale = L.pmem_query_scale;
      p.vscale = L.pmem_value_scale;
      TESSERA_RETURN_IF_ERROR(record_pmem(rec, ctx, p, L.pmem_slots, s.pmem_scratch));
      rec.barrier();  // the next memory accumulates into o; the out projection reads it
    }
  }
  TESSERA_RETURN_IF_ERROR(record_matvec(rec, ctx, L.pmem_out, {s.o, 0, C}, {s.x, 0, C}, n, true, 1.0f));
  rec.barrier();
  return Status::ok_status();
}

}  // namespace

Status record_forward(Recording& rec, Context& ctx, const GpuModel& m, SequenceState& s, uint32_t n, LogitsMode mode) {
  const HParams& hp = m.hp;
  const uint32_t C = uint32_t(hp.n_embd), V = uint32_t(hp.vocab_size);
  if (n == 0 || n > s.rows_per_forward)
    return internal_error("vulkan: a recorded forward takes 1 to " + std::to_string(s.rows_per_forward) +
                          " rows, asked for " + std::to_string(n));
  TESSERA_RETURN_IF_ERROR(rec.begin());
  rec.timestamp(0);
  TESSERA_RETURN_IF_ERROR(record_embed(rec, ctx, m.token_embd, s.tokens, s.x, n));
  rec.barrier();
  for (size_t l = 0; l < m.layers.size(); ++l) {
    TESSERA_RETURN_IF_ERROR(record_context_memory(rec, ctx, m, s, l, n));
    if (!hp.attn_only) TESSERA_RETURN_IF_ERROR(record_persistent_memory(rec, ctx, m, s, l, n));
  }
  if (mode != LogitsMode::kNone) {
    uint32_t rows = mode == LogitsMode::kAll ? n : 1, row0 = mode == LogitsMode::kAll ? 0 : n - 1;
    if (rows == 1) {
      // One row (decode, last-row logits): the output layer normalises x on the fly.
      TESSERA_RETURN_IF_ERROR(record_matvec(rec, ctx, m.output, {s.x, row0 * C, C}, {s.logits, 0, V}, 1, false,
                                            m.logit_scale, &m.output_norm, hp.layer_norm_eps));
    } else {
      TESSERA_RETURN_IF_ERROR(record_layernorm(rec, ctx, s.x, row0, s.h, 0, rows, C, m.output_norm, hp.layer_norm_eps));
      rec.barrier();
      TESSERA_RETURN_IF_ERROR(
          record_matvec(rec, ctx, m.output, {s.h, 0, C}, {s.logits, 0, V}, rows, false, m.logit_scale));
    }
    rec.barrier_with_transfers();  // argmax and the host copy read the logits
    TESSERA_RETURN_IF_ERROR(record_argmax(rec, ctx, s.logits, V, rows - 1, s.greedy, s.argmax_scratch));
    if (mode != LogitsMode::kGreedy) rec.copy(s.logits, 0, s.logits_host, 0, VkDeviceSize(rows) * V * 4);
  }
  rec.timestamp(1);
  return rec.end();
}

}  // namespace tessera::vk
