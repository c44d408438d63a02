// Recording one op = one shader dispatch (or a few, for attention) into a Recording. The forward
// pass and the per-op tests both use these. Each push-constant struct is checked against its kernel's
// block as the shader declares it (TESSERA_VK_PUSH_CONTRACT, vulkan/kernel_contracts.h).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "tessera/attention.h"
#include "tessera/status.h"
#include "vulkan/gpu_tensors.h"
#include "vulkan/kernels.h"
#include "vulkan/recording.h"

namespace tessera::vk {

// Push constants of the matrix products (shaders/matvec.comp, matmul.comp, matmul_coopmat_nv.comp):
// y rows [y_offset + r * y_stride] (+)= out_scale * (W x + bias); flags: 1 bias, 2 accumulate, 4 LN,
// 8 LN weight, 16 LN bias.
struct ProductPush {
  uint32_t M, n, x_stride, x_offset, y_stride, y_offset, flags;
  float out_scale, ln_eps;
};
TESSERA_VK_PUSH_CONTRACT(matvec, ProductPush);
TESSERA_VK_PUSH_CONTRACT(matmul, ProductPush);
TESSERA_VK_PUSH_CONTRACT(matmul_coopmat_nv, ProductPush);

// Rows of a [rows, stride] float matrix starting at element `offset` of `buf`.
struct RowView {
  BufferSlice buf;
  uint32_t offset = 0, stride = 0;
};

// The push constants of one part of a (possibly split) matrix for matvec and the matmul kernels alike:
// flags bit 0 bias, bit 1 accumulate, bit 2 LayerNorm on the fly (its own flags from bit 3).
inline ProductPush product_push(const GpuMatrix& w, const GpuMatrix::Part& p, uint32_t n, const RowView& x,
                                const RowView& y, bool accumulate, float out_scale, const GpuNorm* ln, float ln_eps) {
  return {uint32_t(p.rows),
          n,
          x.stride,
          x.offset,
          y.stride,
          y.offset + uint32_t(p.row0),
          (w.has_bias ? 1u : 0u) | (accumulate ? 2u : 0u) | (ln ? 4u | (ln->flags << 3) : 0u),
          out_scale,
          ln_eps};
}

Status record_embed(Recording& rec, Context& ctx, const GpuMatrix& table, const BufferSlice& tokens,
                    const BufferSlice& out, uint32_t n);
// y[r, :] (+)= out_scale * (W x[r, :] + bias) for r < n (every part of a split matrix);
// with `ln`, x rows are LayerNorm-ed on the fly (x itself is not modified).
Status record_matvec(Recording& rec, Context& ctx, const GpuMatrix& w, const RowView& x, const RowView& y, uint32_t n,
                     bool accumulate, float out_scale, const GpuNorm* ln = nullptr, float ln_eps = 0);
// Prompt chunks: the same product as record_matvec for many rows as a tiled matrix product
// (shaders/matmul.comp); F16/I8 weights on the matrix units where the device has NVIDIA cooperative
// matrices and allow_coop (shaders/matmul_coopmat_nv.comp: x rounded to fp16, see there).
// record_matvec hands chunks of kMatmulMinRows rows or more to it.
constexpr uint32_t kMatmulMinRows = 16;
struct MatmulTile {
  uint32_t workgroup = 256, rows_per_thread = 4;  // shaders/matmul.comp WG, TM (4 outputs per thread)
  uint32_t rows() const { return workgroup / 16 * rows_per_thread; }
  uint32_t cols() const { return 64; }
};
// The portable kernel's tile for this device's limits (invocations, shared memory).
MatmulTile matmul_tile(const Context& ctx);
// The same from explicit limits: 256 threads, 128 (Android Baseline) or 64 keeping 64 x 64 / 32 x 64
// tiles, halved until the tiles fit the shared memory.
MatmulTile matmul_tile_for(uint32_t max_invocations, uint32_t max_size_x, uint32_t max_shared_bytes);
bool matmul_uses_cooperative_matrix(const Context& ctx, WeightType wtype);
Status record_matmul(Recording& rec, Context& ctx, const GpuMatrix& w, const RowView& x, const RowView& y, uint32_t n,
                     bool accumulate, float out_scale, const GpuNorm* ln = nullptr, float ln_eps = 0,
                     bool allow_coop = true, const MatmulTile* tile_override = nullptr);  // tests: another tile
Status record_layernorm(Recording& rec, Context& ctx, const BufferSlice& in, uint32_t in_row0, const BufferSlice& out,
                        uint32_t out_row0, uint32_t n, uint32_t channels, const GpuNorm& norm, float eps);
// The context memory's key and value projections and their finishing, one dispatch
// (shaders/kv_project.comp): y = [W_k; W_v] LN(x) ([n, 2C]: u | w), then keys = the leaky average of
// u (state carried in states[0, C)) normalised per head, into key cache rows pos0 + r, and values
// v_{pos0-1} .. v_{pos0+n-2} from w (w_{pos0-1} carried in states[2C, 3C)) into the value cache.
// The kernel binds 8 storage buffers (a Raspberry Pi's V3DV allows 8 per stage): the layer's small
// vectors are one buffer (kv_project_params) and the completion counters follow y in its buffer.
struct KvProject {
  const GpuMatrix* w = nullptr;  // 2C rows, one part
  RowView x;
  const GpuNorm* ln = nullptr;  // pre-LN: LayerNorm x on the fly
  float ln_eps = 0, eps = 0;
  uint32_t n = 1, head_dim = 0;
  BufferSlice y, step, states, key_cache, value_cache;
  BufferSlice params;      // kv_project_params() of this layer
  BufferSlice counters;    // kv_project_counter_bytes(), in y's buffer after y; zero-filled once (left at zero)
  bool kv_f16 = false;     // the caches hold IEEE halves, two per word (shaders/kv_cache.glsl)
  bool allow_coop = true;  // prompt chunks may take the cooperative-matrix product (record_matmul)
};
VkDeviceSize kv_project_counter_bytes(uint32_t heads);
// Appends a parameter vector of n values to a packed parameter buffer, or n copies of `fill` where
// it is empty and `may_be_empty`; any other size is an error naming `what` (e.g. "vulkan: pmem key decay").
Status append_params(std::vector<float>& out, const std::vector<float>& v, size_t n, bool may_be_empty, float fill,
                     const std::string& what);
// The kernel's parameter buffer for C channels and H heads: row scale [2C] (I8 weights, else ones) |
// bias [2C] (else zeros) | LayerNorm weight [C] (ones) | LayerNorm bias [C] (zeros) | key decay [H] |
// value mix [H] | value scale [H]. Empty vectors take the defaults; other sizes are an error.
Result<std::vector<float>> kv_project_params(uint32_t channels, uint32_t heads, const std::vector<float>& row_scale,
                                             const std::vector<float>& bias, const std::vector<float>& ln_weight,
                                             const std::vector<float>& ln_bias, const std::vector<float>& decay,
                                             const std::vector<float>& mix, const std::vector<float>& value_scale);
Status record_kv_project(Recording& rec, Context& ctx, const KvProject& p);
// `scratch`: kArgmaxScratchBytes, zero-filled once (the shader leaves its counter at 0 again).
constexpr uint32_t kArgmaxMaxGroups = 1024;  // shaders/argmax.comp pv[], pi[]
constexpr VkDeviceSize kArgmaxScratchBytes = 16 + 8 * kArgmaxMaxGroups;
Status record_argmax(Recording& rec, Context& ctx, const BufferSlice& logits, uint32_t vocab, uint32_t row,
                     const BufferSlice& result, const BufferSlice& scratch);

// Scratch sizes for up to `rows_per_pass` query rows over up to `max_keys` keys.
struct AttentionScratchShape {
  uint32_t heads = 0, head_dim = 0, max_keys = 0, rows_per_pass = 1;
  uint32_t score_chunk = 64;   // keys per workgroup in pass 1 (= the attention workgroup size)
  uint32_t value_chunk = 256;  // keys per workgroup in pass 3
  // Scratch of the split exact entmax (sparsemax, alpha = 1.5, 4/3): a model of another transform
  // leaves it unallocated (its candidate list can be as large as the scores).
  bool split_entmax = true;
  uint32_t nchunks() const { return (max_keys + score_chunk - 1) / score_chunk; }
  uint32_t nvchunks() const { return (max_keys + value_chunk - 1) / value_chunk; }
  // Split exact entmax: keys per filter segment (one workgroup each) and segments per row.
  uint32_t seg_keys() const { return score_chunk * 16; }
  uint32_t nsegs() const { return (max_keys + seg_keys() - 1) / seg_keys(); }
};
struct AttentionScratch {
  AttentionScratchShape shape;
  BufferSlice scores, chunk_max, norm, partial;
  // `partial` and, after it, one completion counter per (row, head) (the softmax pass).
  BufferSlice work;
  // Split exact entmax (attn_entmax_filter/threshold/values): candidate y lists (score layout), then
  // the value pass's partials and chunk sums; from word cand_index_offset on, the candidates' key
  // indices (score layout), compacted to the support by the threshold pass; per-segment counts and
  // per-(row, head) state (16 words, entmax_common.glsl). cand may alias `partial` (never live together).
  BufferSlice cand, seg_count, ent_state;
  uint32_t cand_index_offset = 0;
};
// The one-pass attention kernels (attn_softmax_partial, attn_entmax_values) split a row's keys into
// at most this many chunks (one workgroup each, merged by the last to finish): as many as the keys
// allow, so short contexts still spread over many workgroups; long ones take several units per chunk.
constexpr uint32_t kOnePassMaxChunks = 256;
// Chunks of attn_entmax_values are whole multiples of this many support entries
// (shaders/attn_entmax_values.comp).
constexpr uint32_t kEntmaxValueKeyUnit = 64;
// Chunks of attn_entmax_values per row at most. It visits the support only, which is sparse: most
// of a wider grid would find no entry to weigh.
constexpr uint32_t kEntmaxValueMaxChunks = 32;
uint32_t entmax_value_chunks(uint32_t max_keys);
// Chunks of a one-pass kernel over up to max_keys keys in units of `unit` keys (the softmax kernel's
// unit is its workgroup, attention_workgroup: one tile of keys).
uint32_t one_pass_chunks(uint32_t max_keys, uint32_t unit);
// Filter segments per row the threshold pass indexes (shared memory; 1M keys at 1024 keys each).
constexpr uint32_t kEntmaxMaxSegments = 1024;
// With `workspace`, the parts sized by rows x keys (the score rows and the split entmax's candidate
// lists) are carved from it instead of allocated: a region the caller shares with buffers that are
// dead while the attention runs (it needs attention_workspace_bytes(s) bytes).
Result<AttentionScratch> make_attention_scratch(Context& ctx, BlockAllocator& alloc, const AttentionScratchShape& s,
                                                const BufferSlice* workspace = nullptr);
VkDeviceSize attention_workspace_bytes(const AttentionScratchShape& s);
// Workgroup size of the attention kernels for a head size (>= d, power of two).
uint32_t attention_workgroup(const Context& ctx, uint32_t head_dim);

struct AttentionCall {
  AttentionMethod method;
  uint32_t heads = 0, head_dim = 0, out_stride = 0;  // out rows are [rows, out_stride] (= C)
  BufferSlice step;
  // Queries: row (pos0 + r) of `q` when q_from_cache (context memory), else row r.
  BufferSlice q;
  uint32_t q_stride = 0;
  bool q_from_cache = false;
  // Key j of head h at k_base + h * k_head_stride + j * k_key_stride (values alike).
  BufferSlice keys, values;
  // Keys, values and a q_from_cache query are F16 cache words (shaders/kv_cache.glsl), else float32.
  bool kv_f16 = false;
  uint32_t k_base = 0, k_head_stride = 0, k_key_stride = 0;
  uint32_t v_base = 0, v_head_stride = 0, v_key_stride = 0;
  uint32_t mask_offset = 1;  // 0: not causal, nkeys_fixed keys for every row
  uint32_t nkeys_fixed = 0;
  uint32_t rows = 1;
  BufferSlice head_scale;   // beta^2 per head (score = head_scale * q·k)
  BufferSlice relu_params;  // vec2 per head (relumax / norm_relu), else the dummy
  BufferSlice out_scale;    // per head multiplier of the output
  BufferSlice out;
  bool accumulate = false;
  float scale = 1.0f;
  // Exact entmax (r = 1, 2, 3): most candidates the threshold pass holds in shared memory (also capped
  // by the device); beyond, its steps read the candidate lists. 0 forces that path (tests, benchmarks).
  uint32_t entmax_shared_limit = UINT32_MAX;
  // Exact entmax (r = 1, 2, 3): also store the weights over `scores` and 1 / their sum in the state's
  // word 11 (tests and diagnostics; the output never needs them).
  bool store_weights = false;
  // > 0: a timestamp into slots pass_timestamps, +1, ... after every pass (benchmarks; the recording
  // needs enough slots, extra marks are dropped).
  uint32_t pass_timestamps = 0;
  // rows > 1: the tiled kernels where they apply (attention_tiled_applies); false keeps the per-row
  // passes (tests and benchmarks compare the two).
  bool tiled_prefill = true;
};
// record_attention: the tiled kernels (ops_attention_tiled.cpp: softmax as flash attention, one
// dispatch, no scratch) for calls of several rows where they apply, else the per-row passes.
Status record_attention(Recording& rec, Context& ctx, const AttentionCall& call, const AttentionScratch& scratch);
// Largest head size of the tiled prefill kernels.
constexpr uint32_t kPrefillMaxHeadDim = 256;
bool attention_tiled_applies(const Context& ctx, const AttentionCall& call);
// The tiled kernels run on NVIDIA cooperative matrices for this call (F16 caches, queries from the cache).
bool attention_tiled_uses_cooperative_matrix(const Context& ctx, const AttentionCall& call);
Status record_attention_tiled(Recording& rec, Context& ctx, const AttentionCall& call);

// Persistent memory (shaders/pmem_softmax.comp or pmem_prefill.comp, one dispatch): for each of the n rows,
// q = qscale[h] · s/(||s|| + eps) with s the leaky average of the key projections `u` continued from
// `state`, softmax over the N slots of q · M_k, out (+)= scale · vscale[h] · Σ p M_v. With
// update_state, `state` advances over the n rows afterwards (the last pmem_count call only).
// The small per-layer vectors (decay, β'², value scale, the I8 slots' scales, and pmem_decode's
// projection parameters) are one buffer, pmem_params(), and the scratch's partials, statistics and
// counters one binding, so the kernels bind at most 8 storage buffers (Mesa V3DV's limit).
struct PmemSlots {
  BufferSlice keys, values;  // [P, H, N, d] in `wtype` (I8: the per-slot scales are in pmem_params)
  WeightType wtype = WeightType::kF32;
  // Bit h: head h's prompt-chunk scores may run on the matrix units (pmem_matrix_unit_heads, F16 slots).
  uint32_t matrix_heads = 0;
};
// What every persistent-memory call says about its memory (one of the layer's pmem_count).
struct PmemMemory {
  uint32_t channels = 0, heads = 0, head_dim = 0, slots = 0;
  uint32_t slot_base = 0;          // first slot of this memory (i * H * N)
  BufferSlice state, params, out;  // params: pmem_params() of the layer
  bool accumulate = false, update_state = true;
  float scale = 1.0f, eps = 0.0f;
};
struct PmemCall : PmemMemory {
  uint32_t rows = 1;
  BufferSlice u;
  // decay, β'² and value scale as separate [H] buffers: pmem_prefill_coopmat_nv.comp binds them.
  BufferSlice decay, qscale, vscale;
};
// A layer's persistent-memory parameters (shaders/pmem_params.glsl), C channels, H heads: pmem_k row
// scale [C] | pmem_k bias [C] | pmem_norm weight [C] | pmem_norm bias [C] | decay [H] | β'² [H] |
// value scale [H] | (key scale, value scale) per slot. Empty row scales, bias or norm vectors are
// stored as 1, 0, 1, 0; empty slot scales (F32/F16 slots) are left out.
Result<std::vector<float>> pmem_params(uint32_t channels, uint32_t heads, const std::vector<float>& row_scale,
                                       const std::vector<float>& bias, const std::vector<float>& ln_weight,
                                       const std::vector<float>& ln_bias, const std::vector<float>& decay,
                                       const std::vector<float>& query_scale, const std::vector<float>& value_scale,
                                       const std::vector<float>& key_slot_scale,
                                       const std::vector<float>& value_slot_scale);
struct PmemScratch {
  // nchunks: slot chunks of the row kernel; splits: most slot splits of the tiled kernel at `rows`.
  uint32_t rows = 0, heads = 0, head_dim = 0, nchunks = 0, chunk = 0, splits = 0;
  // One buffer (the kernels' one scratch binding) and its three parts at offsets aligned to
  // minStorageBufferOffsetAlignment (pmem_prefill_coopmat_nv.comp binds them separately).
  BufferSlice scratch, partial, stats, counters;
};
// Workgroup (= slots per chunk) of the persistent-memory kernels.
uint32_t pmem_workgroup(const Context& ctx, uint32_t head_dim);
Result<PmemScratch> make_pmem_scratch(Context& ctx, BlockAllocator& alloc, uint32_t rows, uint32_t heads,
                                      uint32_t head_dim, uint32_t slots);
Status record_pmem(Recording& rec, Context& ctx, const PmemCall& call, const PmemSlots& slots,
                   const PmemScratch& scratch);
// One decode row with its key projection (shaders/pmem_decode.comp, one dispatch per memory): q is
// formed from W_k x' (x' = LayerNorm(x) with `ln`) inside the dispatch, so the pmem_k mat-vec pass
// and its barrier are gone. The projection's row scales, bias and LayerNorm are read from `params`
// (pmem_params(); `w` and `ln` give its weights and flags). With update_state, `state` becomes the
// row's leaky state.
struct PmemDecodeCall : PmemMemory {
  const GpuMatrix* w = nullptr;  // pmem_k: C rows, one part
  RowView x;                     // the row (x.offset: its first element)
  const GpuNorm* ln = nullptr;
  float ln_eps = 0;
};
// The workgroup (= slots per chunk) of pmem_decode within the limits, 0 where none fits.
uint32_t pmem_decode_workgroup(const Context& ctx, uint32_t head_dim);
// Whether record_pmem_decode can take this model's decode row (else pmem_k + record_pmem).
bool pmem_decode_usable(const Context& ctx, const GpuMatrix& w, uint32_t head_dim, uint32_t slots,
                        const PmemScratch& scratch);
Status record_pmem_decode(Recording& rec, Context& ctx, const PmemDecodeCall& call, const PmemSlots& slots,
                          const PmemScratch& scratch);
// The tiled kernel for prompt chunks (shaders/pmem_prefill.comp): workgroup size, rows per
// workgroup and slots per tile within the given limits; invalid where the head size is not a
// multiple of 16 or nothing fits (the row kernel then serves every call).
struct PmemTile {
  uint32_t workgroup = 0, rows = 0, slots = 0;
  bool valid() const { return workgroup != 0; }
};
PmemTile pmem_prefill_tile(const Context& ctx, uint32_t head_dim);
PmemTile pmem_prefill_tile_for(uint32_t max_invocations, uint32_t max_shared_bytes, uint32_t head_dim);
// Whether record_pmem records `call` with the tiled kernel (prompt chunks) or row by row.
bool pmem_uses_tiles(const Context& ctx, const PmemCall& call);
// Prompt chunks of F16 slots on NVIDIA cooperative matrices (shaders/pmem_prefill_coopmat_nv.comp):
// fp16 halves of the query (hi + lo) and of the weights, fp32 accumulation. A score is within
// kPmemMatrixScoreBound · β'² · max_j ||k_j|| of the exact q · k_j (docs/numerics.md); a head runs there
// only where that is at most kPmemMatrixScoreTolerance (softmax weights within a factor e^(±2^-10)),
// the others (heads on the β' clamp) keep the compensated kernel: record_pmem dispatches both.
inline constexpr double kPmemMatrixScoreBound = 0x1p-18;
inline constexpr double kPmemMatrixScoreTolerance = 0x1p-11;
// The heads (bit h, h < 32) whose bound is within the tolerance, from β'² and max ||k|| per head.
uint32_t pmem_matrix_unit_heads(std::span<const float> query_scale, std::span<const double> max_key_norm);
// Whether record_pmem runs some heads of `call` on the matrix units (the device has the variant and
// `slots` are F16 with matrix_heads).
bool pmem_uses_matrix_units(const Context& ctx, const PmemCall& call, const PmemSlots& slots);

}  // namespace tessera::vk
