// The integer-only forward pass (see int8_forward.h and docs/numerics.md "Fixed point").
#include "cpu_int8/int8_forward.h"

#include "ops/fixed/attention_fixed.h"
#include "ops/int8/matvec_wide.h"
#include "ops/int8/value_sum_int8.h"

namespace tessera::int8 {

using namespace ops::int8;

namespace {

void embed(const Int8Model& m, int32_t token, int32_t* x) {
  const QuantizedMultiplier mult = m.embd_requant[token];
  if (m.token_embd_wide) {
    const int16_t* row = m.token_embd_wide + int64_t(token) * m.n_embd;
    for (int64_t c = 0; c < m.n_embd; ++c) x[c] = multiply_by_quantized_multiplier(row[c], mult);
    return;
  }
  const int8_t* row = m.token_embd + int64_t(token) * m.n_embd;
  for (int64_t c = 0; c < m.n_embd; ++c) x[c] = multiply_by_quantized_multiplier(row[c], mult);
}

// LayerNorm into an int8 site (s->q8), or an int16 site split into s->q8 / s->q8_lo. Returns the low
// plane (null for int8): the activation operand of the next project().
const int8_t* norm_site(const Int8Model& m, const int32_t* x, uint64_t eps, QuantizedMultiplier inv, bool wide,
                        Int8State* s) {
  if (!wide) {
    m.kernels->layernorm(x, m.n_embd, eps, inv, s->q8);
    return nullptr;
  }
  m.kernels->layernorm_wide(x, m.n_embd, eps, inv, s->q16);
  split_wide(s->q16, m.n_embd, s->q8, s->q8_lo);
  return s->q8_lo;
}

struct ProjectJob {
  const Int8Model* m;
  const Int8Matrix* w;
  const int8_t* in;
  const int8_t* in_lo;  // low plane of an int16 activation, or null
  int32_t* acc;
  int64_t* acc64;  // used when the matrix or the activation is wide
};
constexpr int64_t kRowsPerTask = 32;
// Work below which a hand-off to the pool costs more than it saves (~1-2 µs per call even when the workers
// spin): weight bytes of one projection, and of one layer's persistent memory (M_k + M_v of all heads).
constexpr int64_t kMinParallelBytes = int64_t(1) << 17;

bool is_wide(const Int8Matrix& w, const int8_t* in_lo) { return w.weight_lo != nullptr || in_lo != nullptr; }

void project_rows(void* ctx, int64_t begin, int64_t end) {
  const ProjectJob& j = *static_cast<const ProjectJob*>(ctx);
  const int64_t r0 = begin * kRowsPerTask;
  int64_t r1 = end * kRowsPerTask;
  if (r1 > j.w->rows) r1 = j.w->rows;
  const int64_t cols = j.w->cols;
  if (is_wide(*j.w, j.in_lo)) {
    matvec_wide(j.m->kernels->matvec, j.w->weight + r0 * cols, j.w->weight_lo ? j.w->weight_lo + r0 * cols : nullptr,
                r1 - r0, cols, j.in, j.in_lo, j.acc + r0, j.acc64 + r0);
    return;
  }
  j.m->kernels->matvec(j.w->weight + r0 * cols, r1 - r0, cols, j.in, j.acc + r0);
}

// W·in into s->acc (int32: int8 × int8) or s->acc64 (int64: either operand int16); returns true for
// the wide case. Rows are split over the executor when there are enough of them.
bool project(const Int8Model& m, const Int8Matrix& w, const int8_t* in, const int8_t* in_lo, Int8State* s) {
  ProjectJob job{&m, &w, in, in_lo, s->acc, s->acc64};
  const int64_t tasks = (w.rows + kRowsPerTask - 1) / kRowsPerTask;
  if (m.parallel_for && w.rows >= 2 * kRowsPerTask && w.rows * w.cols >= kMinParallelBytes)
    m.parallel_for(m.executor, tasks, project_rows, &job);
  else project_rows(&job, 0, tasks);
  return is_wide(w, in_lo);
}

void project_to_int32(const Int8Model& m, const Int8Matrix& w, const int8_t* in, const int8_t* in_lo, Int8State* s,
                      int32_t* out) {
  if (project(m, w, in, in_lo, s)) m.kernels->requantize64(s->acc64, w.requant, w.bias, w.rows, out);
  else m.kernels->requantize_rows(s->acc, w.requant, w.bias, w.rows, out);
}

void project_add(const Int8Model& m, const Int8Matrix& w, const int8_t* in, const int8_t* in_lo, Int8State* s) {
  if (project(m, w, in, in_lo, s)) m.kernels->requantize64_add(s->acc64, w.requant, w.bias, w.rows, s->x);
  else m.kernels->requantize_rows_add(s->acc, w.requant, w.bias, w.rows, s->x);
}

// Contextual memory of one layer for the token at s->position; adds W_o·o to the residual.
void contextual_memory(const Int8Model& m, const Int8Layer& L, int64_t layer, Int8State* s) {
  const int64_t C = m.n_embd, H = m.n_head, d = m.head_dim, t = s->position;
  const int8_t* h_lo = norm_site(m, s->x, L.ln1_eps, L.ln1_inv_scale, L.h1_wide, s);
  // Key: projection, leaky average, unit key appended to the cache (it is also the query).
  project_to_int32(m, L.attn_k, s->q8, h_lo, s, s->key_proj);
  int32_t* key_state = s->key_state + layer * C;
  m.kernels->mix_heads(key_state, s->key_proj, L.key_decay_q31, L.key_keep_q31, 31, H, d,
                       key_state);  // the leaky average
  int16_t* keys = s->key_cache + layer * s->capacity * C;
  int16_t* query = keys + t * C;
  m.kernels->l2norm(key_state, H, d, query);
  // Value: w_t; v_{t-1} = unit((1 - c) w_t + c w_{t-1}) is finished now.
  project_to_int32(m, L.attn_v, s->q8, h_lo, s, s->w_cur);
  int32_t* w_prev = s->w_prev + layer * C;
  int16_t* values = m.value_cache_int8 ? nullptr : s->value_cache + layer * s->capacity * C;
  int8_t* values_q7 = m.value_cache_int8 ? s->value_cache_q7 + layer * s->capacity * C : nullptr;
  if (t >= 1) {
    m.kernels->mix_heads(w_prev, s->w_cur, L.value_mix_q24, L.value_keep_q24, 24, H, d, s->value_mix);
    if (values_q7) {
      m.kernels->l2norm(s->value_mix, H, d, s->value_q15);
      unit_q15_to_q7(s->value_q15, C, values_q7 + (t - 1) * C);
    } else {
      m.kernels->l2norm(s->value_mix, H, d, values + (t - 1) * C);
    }
  }
  for (int64_t i = 0; i < C; ++i) w_prev[i] = s->w_cur[i];
  // Attention: query t sees keys j ≤ t - mask_offset (their values are finished).
  const int64_t n_keys = t - m.mask_offset + 1;
  int32_t* o_q30 = s->o_q30;  // Σ p·v̂ per channel in Q30
  for (int64_t h = 0; h < H; ++h) {
    if (n_keys <= 0) {
      for (int64_t i = h * d; i < (h + 1) * d; ++i) o_q30[i] = 0;
      continue;
    }
    // β²·cos(q, k_j) in Q16 (ops/int8/cos_scores.h: SIMD, same bits).
    m.kernels->cos_scores(query + h * d, keys + h * d, n_keys, C, d, L.score_multiplier[h], s->scores);
    if (m.attention_softmax) {
      m.kernels->softmax_q23(s->scores, n_keys, kScoreFracBits, s->probs);
    } else {
      // Validated at load (kind, scale, scratch), so the status cannot be an error here.
      ops::fixed::attention_transform_fixed(m.attention_transform, s->scores, L.transform_scale[h], s->probs,
                                            size_t(n_keys), nullptr, s->attn_scratch);
      for (int64_t j = 0; j < n_keys; ++j) s->probs[j] *= 256;  // Q1.15 → Q23
    }
    for (int64_t i = 0; i < d; ++i) s->o_acc[i] = 0;
    if (values_q7) {
      m.kernels->value_sum_i8(s->probs, values_q7 + h * d, n_keys, C, d, s->o_acc);  // Σ_j p_j·v̂_j, exact: Q23·Q7 = Q30
      for (int64_t i = 0; i < d; ++i) o_q30[h * d + i] = saturate_to_int32(s->o_acc[i]);
      continue;
    }
    m.kernels->value_sum(s->probs, values + h * d, n_keys, C, d, s->o_acc);  // Σ_j p_j·v̂_j, exact int64
    for (int64_t i = 0; i < d; ++i)                                          // Q38 → Q30
      o_q30[h * d + i] = saturate_to_int32(rounding_shift_right_64(s->o_acc[i], 8));
  }
  // → int8 (or int16) at s_o, all heads at once (SIMD, same bits as per value).
  const int8_t* o_lo = nullptr;
  if (L.o_wide) {
    m.kernels->requantize_uniform_wide(o_q30, L.o_to_int8, C, s->q16);
    split_wide(s->q16, C, s->q8, s->q8_lo);
    o_lo = s->q8_lo;
  } else {
    m.kernels->requantize_uniform_int8(o_q30, L.o_to_int8, C, s->q8);
  }
  project_add(m, L.attn_out, s->q8, o_lo, s);
}

// Persistent memory of one head: softmax over N slots per bank; adds Σ p'·M_v into r_acc[h·d ..).
struct PmemJob {
  const Int8Model* m;
  const Int8Layer* L;
  const int16_t* query;
  Int8State* s;
};

void pmem_heads(void* ctx, int64_t h_begin, int64_t h_end) {
  const PmemJob& j = *static_cast<const PmemJob*>(ctx);
  const Int8Model& m = *j.m;
  const Int8Layer& L = *j.L;
  const int64_t H = m.n_head, d = m.head_dim, N = m.pmem_size, P = m.pmem_count;
  for (int64_t h = h_begin; h < h_end; ++h) {
    const int64_t slot = m.parallel_for ? h : 0;  // per-head scratch: heads may run on different threads
    int32_t* scores = j.s->pmem_scores + slot * N;
    int32_t* probs = j.s->pmem_probs + slot * N;
    const int16_t* q = j.query + h * d;
    int32_t* r = j.s->r_acc + h * d;
    int64_t* r64 = j.s->r_acc64 + h * d;  // int16 M_v: Σ p'·M_v can pass 2^31 (set after the banks)
    int64_t* dot64 = j.s->pmem_dot64 + slot * N;
    int32_t* r_lo = j.s->r_lo + h * d;
    for (int64_t i = 0; i < d; ++i) r[i] = r_lo[i] = 0;
    for (int64_t p = 0; p < P; ++p) {
      const int64_t bank = (p * H + h) * N;
      // The slot weights (compute only) stream this bank's value rows into L2 while they work
      // (ops/int8/prefetch_stream.h; int8 M_v only): the value sum then reads them from the cache, so one
      // thread keeps memory busy through the weights' compute (measured best of the placements tried, with
      // int8_decode_bench). A hint: the bits do not depend on it.
      const int8_t* value_rows = L.mem_v_quads ? L.mem_v_quads + bank * d : L.mem_v + bank * d;
      const size_t value_bytes = L.mem_v_lo ? 0 : size_t(N * d);
      // q·M_k[n] for all slots, exact int32 (|q·m| ≤ 2^15·127·d < 2^31 for d < 512): one pass of the
      // int8 × int16 kernel (ops/int8/matvec_q16.h), or, where the plan found it faster (VNNI with d = 8
      // or 16: narrow rows packed per vector), the int8 matvec kernels on the query's exact byte split
      // q = 256·hi + lo + 128 with hi, lo ∈ [-128, 127]: q·m = 256·(hi·m) + lo·m + 128·Σm. Same bits.
      const bool one_pass = !m.pmem_byte_split || L.mem_k_quads;
      int8_t* hi = j.s->pmem_split + slot * 2 * d;
      int8_t* lo = hi + d;
      if (!one_pass)
        for (int64_t i = 0; i < d; ++i) {
          const int32_t v = q[i];
          hi[i] = int8_t(v >> 8);  // arithmetic shift: floor
          lo[i] = int8_t((v & 255) - 128);
        }
      // out[n] = q·plane[n]; quads: the same plane in column quads (ops/int8/matvec_q16_quads.h), or null.
      auto q_dot = [&](const int8_t* plane, const int8_t* quads, const int32_t* rowsum, int32_t* out) {
        if (quads) {
          m.kernels->matvec_q16_quads(quads + bank * d, N, d, q, out);
          return;
        }
        if (one_pass) {
          m.kernels->matvec_q16(plane, N, d, q, out);
          return;
        }
        m.kernels->matvec(plane, N, d, hi, out);
        m.kernels->matvec(plane, N, d, lo, probs);
        for (int64_t n = 0; n < N; ++n) out[n] = out[n] * 256 + probs[n] + 128 * rowsum[bank + n];
      };
      q_dot(L.mem_k + bank * d, L.mem_k_quads, L.mem_k_rowsum, scores);
      // p'_n = p_n·s_mv[n]/(P·max s_mv) ≤ p_n/P: Σ over banks and slots ≤ 2^23·127 < 2^31.
      if (!L.mem_k_lo) {
        // Q15·int8 → Q16 scores → softmax → value weights in one kernel (ops/int8/pmem_weights.h).
        m.kernels->pmem_weights(scores, L.mem_k_score + bank, L.mem_v_weight + bank, N, kScoreFracBits, scores, probs,
                                value_rows, value_bytes);
      } else {
        // int16 M_k = 255·K_hi + K_lo (ops/int8/matvec_wide.h): q·M = 255·(q·K_hi) + q·K_lo in int64.
        for (int64_t n = 0; n < N; ++n) dot64[n] = 255 * int64_t(scores[n]);
        q_dot(L.mem_k_lo + bank * d, L.mem_k_lo_quads, L.mem_k_lo_rowsum, scores);
        for (int64_t n = 0; n < N; ++n) dot64[n] += scores[n];
        m.kernels->requantize64(dot64, L.mem_k_score + bank, nullptr, N, scores);  // SIMD, same bits
        m.kernels->softmax_q23(scores, N, kScoreFracBits, probs);
        m.kernels->requantize_each(probs, L.mem_v_weight + bank, N, probs);
      }
      // r += Σ_n p'_n·M_v[n] (SIMD, same bits; ops/int8/axpy_int8.h, or axpy_quads.h on the quad layout
      // made at load). int16 M_v = 255·V_hi + V_lo: Σ p'·V_hi and Σ p'·V_lo each stay below 2^23·127
      // (int32, the same kernel); they are combined in int64 after the last bank.
      if (L.mem_v_quads) {
        m.kernels->axpy_quads(probs, L.mem_v_quads + bank * d, N, d, r);
        if (L.mem_v_lo) m.kernels->axpy_quads(probs, L.mem_v_lo_quads + bank * d, N, d, r_lo);
        continue;
      }
      m.kernels->axpy(probs, L.mem_v + bank * d, N, d, r);
      if (L.mem_v_lo) m.kernels->axpy(probs, L.mem_v_lo + bank * d, N, d, r_lo);
    }
    if (L.mem_v_lo)
      for (int64_t i = 0; i < d; ++i) r64[i] = 255 * int64_t(r[i]) + r_lo[i];
  }
}

// Persistent memory of one layer (all heads, in parallel when an executor is set).
void persistent_memory(const Int8Model& m, const Int8Layer& L, int64_t layer, Int8State* s) {
  const int64_t C = m.n_embd, H = m.n_head, d = m.head_dim;
  const int8_t* h_lo = norm_site(m, s->x, L.ln2_eps, L.ln2_inv_scale, L.h2_wide, s);
  project_to_int32(m, L.pmem_k, s->q8, h_lo, s, s->pmem_proj);
  int32_t* state = s->pmem_state + layer * C;
  m.kernels->mix_heads(state, s->pmem_proj, L.pmem_decay_q31, L.pmem_keep_q31, 31, H, d, state);  // the leaky average
  int16_t* query = s->pmem_query;
  m.kernels->l2norm(state, H, d, query);
  PmemJob job{&m, &L, query, s};
  if (m.parallel_for && H > 1 && 2 * m.pmem_count * H * m.pmem_size * d >= kMinParallelBytes)
    m.parallel_for(m.executor, H, pmem_heads, &job);
  else pmem_heads(&job, 0, H);
  const int8_t* r_lo = nullptr;
  if (L.r_wide) {
    if (L.mem_v_lo) m.kernels->requantize64_uniform_wide(s->r_acc64, L.r_to_int8, C, s->q16);
    else m.kernels->requantize_uniform_wide(s->r_acc, L.r_to_int8, C, s->q16);
    split_wide(s->q16, C, s->q8, s->q8_lo);
    r_lo = s->q8_lo;
  } else if (L.mem_v_lo) {
    m.kernels->requantize64_uniform_int8(s->r_acc64, L.r_to_int8, C, s->q8);
  } else {
    m.kernels->requantize_uniform_int8(s->r_acc, L.r_to_int8, C, s->q8);
  }
  project_add(m, L.pmem_out, s->q8, r_lo, s);
}

}  // namespace

void int8_forward_token(const Int8Model& m, Int8State* s, int32_t token, int32_t* logits) {
  embed(m, token, s->x);
  for (int64_t l = 0; l < m.n_layer; ++l) {
    const Int8Layer& L = m.layers[l];
    contextual_memory(m, L, l, s);
    if (L.has_pmem) persistent_memory(m, L, l, s);
  }
  ++s->position;
  if (!logits) return;
  const int8_t* h_lo = norm_site(m, s->x, m.out_eps, m.out_inv_scale, m.out_wide, s);
  project_to_int32(m, m.output, s->q8, h_lo, s, logits);
}

}  // namespace tessera::int8
