// Vulkan backend benchmarks, GPU time from timestamp queries (manual time):
//   BM_Decode/<weights>/<method>/<context>: greedy decode (argmax on the GPU, no logits read back) of a
//     GPT-2-small-sized random Memory Mosaics model after a real prefill to <context> tokens; counters:
//     tok/s (GPU), wall_us (submit + fence per token), prefill_tok/s (GPU, the prefill segment that
//     reached this context), dispatches and barriers (per token: the recorded decode step),
//     weights_MiB, sequence_MiB (caches + states + scratch).
//     With --profile on the command line, each BM_Decode case also prints one decode step's
//     per-dispatch GPU profile (µs per kernel and grid, summed over the step) to stderr.
//   BM_Attention/<method>/<n>/<lists>: one decode attention (1 query, 12 heads, d = 64, beta^2 = 8) over
//     n keys, the attention passes alone; lists:1 makes the exact entmax threshold read every step
//     from the candidate lists (else candidates that fit shared memory are held there); passes:1 adds
//     a timestamp after every pass (counters p0, p1, ...: µs per pass). Counters: us, candidates and
//     newton_steps of head 0 (the split entmax state).
//   BM_Prefill/<weights>/<method>/<tokens>: prompt processing of <tokens> random tokens into a fresh
//     sequence (the backend's recorded chunks), GPU time; counters: tok/s, chunk_rows, coopmat (1 when
//     the projections ran on NVIDIA cooperative matrices); with --profile, one more prefill's GPU time
//     per kernel to stderr.
// --no-coopmat: the context leaves NVIDIA cooperative matrices off (fp32 prompt chunks, for A/B runs).
// --no-pmem-matrix-units: the persistent memory of prompt chunks on the compensated fp32 kernel
//   (ContextOptions::pmem_matrix_units = false; on by default).
// --entmax-matrix-units: exact entmax of prompt chunks on NVIDIA cooperative matrices
//   (ContextOptions::entmax_matrix_units = true; off by default).
// --kv-cache=auto|f16|f32: the key/value cache elements (ContextOptions::kv_cache; counter kv_f16), for
//   BM_Decode and for BM_Attention's keys and values (its query stays a float32 vector).
// Run: vulkan_decoder_bench --benchmark_counters_tabular=true [--benchmark_filter=...]
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string_view>

#include "random_model.h"
#include "vulkan/vulkan_backend_impl.h"

namespace tessera::bench {
namespace {

constexpr int64_t kCapacity = 32768 + 256;

AttentionMethod method_named(int i) {
  return AttentionMethod::parse(i == 0 ? "softmax" : i == 1 ? "entmax15" : i == 2 ? "entmax43" : "sparsemax").value();
}

struct DecodeRig {
  std::unique_ptr<vk::VulkanBackend> backend;
  std::unique_ptr<BackendSequence> seq;
  vk::VulkanSequence* vseq = nullptr;
  std::mt19937 rng{7};
};

// Device objects live in these statics between cases; main() destroys them before exit (static
// destruction after the Vulkan driver's own teardown crashed at exit).
std::map<std::pair<int, int>, std::unique_ptr<DecodeRig>> rigs;
std::unique_ptr<vk::Context> attention_ctx;
bool profile_decode = false;         // --profile: one profiled decode step per BM_Decode case
vk::ContextOptions context_options;  // --no-coopmat: cooperative_matrix = false; --kv-cache=: kv_cache

DecodeRig* rig_for(DType dt, int method, std::string* error) {
  auto key = std::make_pair(int(dt), method);
  auto it = rigs.find(key);
  if (it != rigs.end()) return it->second.get();
  rigs.clear();  // one model on the device at a time
  auto rig = std::make_unique<DecodeRig>();
  vk::ModelView view = random_model(method_named(method), dt);
  auto b = vk::make_backend_from_view(view, context_options, nullptr);
  if (!b.ok()) {
    *error = b.status().to_string();
    return nullptr;
  }
  rig->backend = std::move(b).value();
  auto s = rig->backend->new_sequence(kCapacity);
  if (!s.ok()) {
    *error = s.status().to_string();
    return nullptr;
  }
  rig->seq = std::move(s).value();
  rig->vseq = static_cast<vk::VulkanSequence*>(rig->seq.get());
  DecodeRig* out = rig.get();
  rigs.emplace(key, std::move(rig));
  return out;
}

// One decode step with a timestamp after every dispatch: µs per label (kernel + grid), summed.
void print_decode_profile(DecodeRig* rig, const std::string& name, int32_t tok) {
  rig->vseq->set_profiling(true);
  Result<std::vector<vk::Recording::ProfileEntry>> prof = unavailable("not run");
  for (int i = 0; i < 3; ++i) {  // the first replay pays for pipeline creation
    if (!rig->vseq->forward_greedy({&tok, 1}).ok()) break;
    tok = rig->vseq->greedy_token();
    prof = rig->vseq->last_profile();
  }
  rig->vseq->set_profiling(false);
  if (!prof.ok()) {
    std::fprintf(stderr, "profile %s: %s\n", name.c_str(), prof.status().to_string().c_str());
    return;
  }
  std::map<std::string, std::pair<double, int>> by_label;
  double total = 0;
  for (const auto& e : *prof) {
    by_label[e.label].first += e.ns;
    by_label[e.label].second += 1;
    total += e.ns;
  }
  std::vector<std::pair<std::string, std::pair<double, int>>> rows(by_label.begin(), by_label.end());
  std::sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) { return a.second.first > b.second.first; });
  std::fprintf(stderr, "profile %s: %zu dispatches, %.1f us (serialised by the timestamps)\n", name.c_str(),
               prof->size(), total * 1e-3);
  for (const auto& [label, v] : rows)
    std::fprintf(stderr, "  %9.1f us %4d x %7.2f us  %s\n", v.first * 1e-3, v.second, v.first * 1e-3 / v.second,
                 label.c_str());
}

void BM_Decode(benchmark::State& state) {
  const DType dt = state.range(0) == 0 ? DType::kF16 : DType::kI8;
  const int method = int(state.range(1));
  const int64_t context = state.range(2);
  std::string error;
  DecodeRig* rig = rig_for(dt, method, &error);
  if (!rig) {
    state.SkipWithError(error.c_str());
    return;
  }
  // Real prefill from the current position to `context` (64-token recorded chunks), GPU-timed.
  double prefill_ns = 0;
  int64_t prefilled = 0;
  std::vector<int32_t> chunk(64);
  while (rig->seq->position() < context) {
    size_t n = size_t(std::min<int64_t>(64, context - rig->seq->position()));
    for (size_t i = 0; i < n; ++i) chunk[i] = int32_t(rig->rng() % 50304);
    Status s = rig->vseq->forward_greedy({chunk.data(), n});
    if (!s.ok()) {
      state.SkipWithError(s.to_string().c_str());
      return;
    }
    prefill_ns += rig->vseq->last_gpu_ns().value();
    prefilled += int64_t(n);
  }
  int32_t tok = rig->vseq->greedy_token();
  // One untimed step: the first decode step records its command buffer (and compiles the batch-1
  // pipelines, whose workgroup sizes differ from prefill's), which is not per-token work.
  if (Status s = rig->vseq->forward_greedy({&tok, 1}); !s.ok()) {
    state.SkipWithError(s.to_string().c_str());
    return;
  }
  tok = rig->vseq->greedy_token();
  double wall_us = 0, gpu_ns_total = 0;
  for (auto _ : state) {
    auto t0 = std::chrono::steady_clock::now();
    Status s = rig->vseq->forward_greedy({&tok, 1});
    auto t1 = std::chrono::steady_clock::now();
    if (!s.ok()) {
      state.SkipWithError(s.to_string().c_str());
      return;
    }
    tok = rig->vseq->greedy_token();
    double ns = rig->vseq->last_gpu_ns().value();
    gpu_ns_total += ns;
    wall_us += std::chrono::duration<double, std::micro>(t1 - t0).count();
    state.SetIterationTime(ns * 1e-9);
  }
  // Read before the profiled step, which records its own command buffer.
  const double dispatches = double(rig->vseq->last_dispatches()), barriers = double(rig->vseq->last_barriers());
  if (profile_decode)
    print_decode_profile(rig,
                         "i8:" + std::to_string(state.range(0)) + "/method:" + std::to_string(method) +
                             "/context:" + std::to_string(context),
                         tok);
  const double iters = double(state.iterations());
  state.counters["tok/s"] = iters / (gpu_ns_total * 1e-9);
  state.counters["wall_us"] = wall_us / iters;
  state.counters["wall_tok/s"] = 1e6 / (wall_us / iters);
  if (prefilled > 0) state.counters["prefill_tok/s"] = double(prefilled) / (prefill_ns * 1e-9);
  state.counters["dispatches"] = dispatches;  // per token (one recorded step)
  state.counters["barriers"] = barriers;
  state.counters["weights_MiB"] = double(rig->backend->context().weights().bytes_allocated()) / (1 << 20);
  state.counters["sequence_MiB"] = double(rig->vseq->device_bytes()) / (1 << 20);
  state.counters["kv_f16"] = rig->backend->context().kv_cache_f16() ? 1 : 0;
  state.SetLabel(rig->backend->name());
}

// Prompt processing alone: T random tokens into a fresh sequence of capacity T, in the backend's
// recorded chunks (rows_per_forward rows), GPU time summed over the chunks. The first pass
// (recording, pipeline creation) is not timed.
void BM_Prefill(benchmark::State& state) {
  const DType dt = state.range(0) == 0 ? DType::kF16 : DType::kI8;
  const int method = int(state.range(1));
  const uint32_t T = uint32_t(state.range(2));
  std::string error;
  DecodeRig* rig = rig_for(dt, method, &error);
  if (!rig) {
    state.SkipWithError(error.c_str());
    return;
  }
  auto made = rig->backend->new_sequence(T);
  if (!made.ok()) {
    state.SkipWithError(made.status().to_string().c_str());
    return;
  }
  std::unique_ptr<BackendSequence> seq = std::move(made).value();
  auto* vseq = static_cast<vk::VulkanSequence*>(seq.get());
  std::vector<int32_t> tokens(T);
  for (auto& t : tokens) t = int32_t(rig->rng() % 50304);
  auto prefill = [&](double* ns) -> Status {
    vseq->reset();
    *ns = 0;
    for (uint32_t done = 0; done < T;) {
      uint32_t n = std::min(vseq->rows_per_forward(), T - done);
      TESSERA_RETURN_IF_ERROR(vseq->forward_greedy({tokens.data() + done, n}));
      TESSERA_ASSIGN_OR_RETURN(double chunk_ns, vseq->last_gpu_ns());
      *ns += chunk_ns;
      done += n;
    }
    return Status::ok_status();
  };
  double ns = 0, total = 0;
  if (Status s = prefill(&ns); !s.ok()) {
    state.SkipWithError(s.to_string().c_str());
    return;
  }
  for (auto _ : state) {
    if (Status s = prefill(&ns); !s.ok()) {
      state.SkipWithError(s.to_string().c_str());
      return;
    }
    total += ns;
    state.SetIterationTime(ns * 1e-9);
  }
  state.counters["tok/s"] = double(T) * double(state.iterations()) / (total * 1e-9);
  state.counters["chunk_rows"] = vseq->rows_per_forward();
  if (profile_decode) {
    // One more prefill with a timestamp after every dispatch: µs per kernel (all grids), summed.
    vseq->set_profiling(true);
    std::map<std::string, std::pair<double, int>> by_kernel;
    double sum = 0;
    vseq->reset();
    for (uint32_t done = 0; done < T;) {
      uint32_t n = std::min(vseq->rows_per_forward(), T - done);
      if (!vseq->forward_greedy({tokens.data() + done, n}).ok()) break;
      auto prof = vseq->last_profile();
      if (!prof.ok()) break;
      for (const auto& e : *prof) {
        auto& slot = by_kernel[e.label.substr(0, e.label.find(' '))];
        slot.first += e.ns;
        slot.second += 1;
        sum += e.ns;
      }
      done += n;
    }
    vseq->set_profiling(false);
    std::fprintf(stderr, "prefill profile (%u tokens): %.1f ms over the dispatches (serialised by the timestamps)\n", T,
                 sum * 1e-6);
    for (const auto& [kernel, v] : by_kernel)
      std::fprintf(stderr, "  %9.2f ms %5d dispatches  %s\n", v.first * 1e-6, v.second, kernel.c_str());
  }
  state.counters["coopmat"] = vk::matmul_uses_cooperative_matrix(rig->backend->context(), dt == DType::kF16
                                                                                              ? vk::WeightType::kF16
                                                                                              : vk::WeightType::kI8);
  state.SetLabel(rig->backend->name());
}

// The attention benchmarks' shared set-up: 12 heads of d = 64 over cached keys and values (random unit
// vectors, as the model's), beta^2 = 8, on one context kept between cases.
struct AttentionRig {
  static constexpr uint32_t H = 12, d = 64, C = H * d;
  vk::Context* ctx = nullptr;
  vk::BlockAllocator alloc;
  std::mt19937 rng;  // drew the keys, then the values
  std::vector<float> keys, vals;

  vk::BufferSlice words(std::span<const std::byte> bytes) {
    auto s = alloc.allocate((bytes.size() + 3) / 4 * 4, "bench");
    (void)ctx->write(s.value(), bytes);
    return s.value();
  }
  vk::BufferSlice floats(const std::vector<float>& v) { return words(std::as_bytes(std::span(v))); }
  // In the cache layout the context picked (shaders/kv_cache.glsl: halves, 2 per word).
  vk::BufferSlice cache(const std::vector<float>& v) {
    if (!ctx->kv_cache_f16()) return floats(v);
    std::vector<uint16_t> h(v.size() + (v.size() & 1), 0);
    for (size_t i = 0; i < v.size(); ++i) h[i] = float_to_half(v[i]);
    return words(std::as_bytes(std::span(h)));
  }
  // The call's fields every case shares (the caches of `keys` and `values`, one query row per head).
  vk::AttentionCall call(int method, float head_beta2 = 8.0f) {
    std::vector<float> beta2(H, head_beta2), ones(H, 1.0f), zero(4, 0.0f);
    vk::AttentionCall a;
    a.method = method_named(method);
    a.heads = H;
    a.head_dim = d;
    a.out_stride = a.q_stride = C;
    a.step = floats(zero);  // pos0 = 0
    a.keys = cache(keys);
    a.values = cache(vals);
    a.kv_f16 = ctx->kv_cache_f16();
    a.k_head_stride = a.v_head_stride = d;
    a.k_key_stride = a.v_key_stride = C;
    a.head_scale = floats(beta2);
    a.relu_params = floats(zero);
    a.out_scale = floats(ones);
    return a;
  }
};

// n random unit vectors of d components each, from rng (normal components, then each row scaled).
std::vector<float> unit_rows(size_t n, uint32_t d, std::mt19937& rng) {
  std::normal_distribution<float> g(0, 1);
  std::vector<float> v(n * d);
  for (auto& x : v) x = g(rng);
  for (size_t r = 0; r < n; ++r) {
    double s = 0;
    for (uint32_t i = 0; i < d; ++i) s += double(v[r * d + i]) * v[r * d + i];
    for (uint32_t i = 0; i < d; ++i) v[r * d + i] = float(v[r * d + i] / std::sqrt(s));
  }
  return v;
}

// A rig with `keys` cached positions of keys and values (unit vectors per head, drawn from `seed`);
// nullopt, the case skipped, when no context could be made.
std::optional<AttentionRig> attention_rig(benchmark::State& state, uint32_t keys, uint32_t seed) {
  if (!attention_ctx) {
    auto c = vk::Context::create(context_options);
    if (!c.ok()) {
      state.SkipWithError(c.status().to_string().c_str());
      return std::nullopt;
    }
    attention_ctx = std::move(c).value();
  }
  AttentionRig rig{attention_ctx.get(), attention_ctx->make_device_allocator(), std::mt19937(seed), {}, {}};
  rig.keys = unit_rows(size_t(keys) * AttentionRig::H, AttentionRig::d, rig.rng);
  rig.vals = unit_rows(size_t(keys) * AttentionRig::H, AttentionRig::d, rig.rng);
  return rig;
}

void BM_Attention(benchmark::State& state) {
  const int method = int(state.range(0));
  const uint32_t n = uint32_t(state.range(1)), H = AttentionRig::H, d = AttentionRig::d, C = AttentionRig::C;
  const bool force_lists = state.range(2) != 0, per_pass = state.range(3) != 0;
  std::optional<AttentionRig> rig = attention_rig(state, n, 3);
  if (!rig) return;
  vk::Context* ctx = rig->ctx;
  vk::BlockAllocator& alloc = rig->alloc;
  vk::AttentionCall a = rig->call(method);
  a.q = rig->floats(unit_rows(H, d, rig->rng));  // one float32 row, a unit vector per head
  a.mask_offset = 0;
  a.nkeys_fixed = n;
  a.out = alloc.allocate(C * 4, "out").value();
  if (force_lists) a.entmax_shared_limit = 0;
  constexpr uint32_t kPassSlots = 16;
  if (per_pass) a.pass_timestamps = 2;

  vk::AttentionScratchShape shape{H, d, n, 1, vk::attention_workgroup(*ctx, d), 256};
  auto scratch = vk::make_attention_scratch(*ctx, alloc, shape);
  auto rec = vk::Recording::create(*ctx, per_pass ? 2 + kPassSlots : 2);
  Status s = (*rec)->begin();
  (*rec)->timestamp(0);
  s = vk::record_attention(**rec, *ctx, a, *scratch);
  // Pass marks recorded (slots 2 ...): softmax 1; split entmax scores, filter, threshold, values.
  const uint32_t used = (*rec)->timestamps_used(), marks = per_pass && used > 2 ? used - 2 : 0;
  (*rec)->timestamp(1);
  if (s.ok()) s = (*rec)->end();
  if (!s.ok()) {
    state.SkipWithError(s.to_string().c_str());
    return;
  }
  (void)(*rec)->submit();  // warm-up
  double total = 0;
  std::vector<double> pass_ns(kPassSlots, 0.0);
  for (auto _ : state) {
    (void)(*rec)->submit();
    double ns = (*rec)->elapsed_ns(0, 1).value();
    total += ns;
    state.SetIterationTime(ns * 1e-9);
    // Per pass: slot 0 -> 2 -> 3 -> ...; only the slots written (an unwritten one would never be ready).
    for (uint32_t k = 0; per_pass && k < marks; ++k) {
      auto p = (*rec)->elapsed_ns(k == 0 ? 0 : 1 + k, 2 + k);
      if (p.ok() && *p >= 0 && *p < 1e9) pass_ns[k] += *p;
    }
  }
  state.counters["us"] = total / double(state.iterations()) * 1e-3;
  state.counters["kv_f16"] = ctx->kv_cache_f16() ? 1 : 0;
  // Pass order: softmax = the one pass; split entmax = scores, filter, threshold, values (with the
  // weights and the merge).
  for (uint32_t k = 0; per_pass && k < kPassSlots; ++k)
    if (pass_ns[k] > 0) state.counters["p" + std::to_string(k)] = pass_ns[k] / double(state.iterations()) * 1e-3;
  if (method != 0) {  // split entmax state (entmax_common.glsl: word 3 candidates, word 2 steps; 16 per head)
    std::vector<uint32_t> words(size_t(H) * 16);
    if (ctx->read(scratch->ent_state, std::as_writable_bytes(std::span<uint32_t>(words))).ok()) {
      state.counters["candidates"] = words[3];
      uint32_t most = 0, steps = 0;
      for (uint32_t h = 0; h < H; ++h) {
        most = std::max(most, words[h * 16 + 3]);
        steps = std::max(steps, words[h * 16 + 2]);
      }
      state.counters["max_cand"] = most;
      state.counters["max_steps"] = steps;  // threshold steps of the slowest head
    }
  }
  state.SetLabel(a.method.name());
}

// Causal attention of a whole prompt alone (12 heads, d = 64, T rows over T keys, queries = the cached
// keys as in the model): the tiled kernels (tiled = 1) or the per-row passes of kScoreScratchBytes-sized
// row blocks the model used before (tiled = 0). A row sees the keys before its own (mask offset 1);
// random unit keys' cosines are ~N(0, 1/64). beta2 = 8 keeps ~25 keys in a row's 1.5-entmax support
// (4.3 % of 512, 1.3 % of 2K, 0.16 % of 16K); beta2 = 1 keeps 48 %, 22 % and 5.3 %, nearer the trained
// models (5-30 % beyond 4K keys), where the threshold takes more sweeps.
void BM_PrefillAttention(benchmark::State& state) {
  const int method = int(state.range(0));
  const uint32_t T = uint32_t(state.range(1)), H = AttentionRig::H, d = AttentionRig::d, C = AttentionRig::C;
  const bool tiled = state.range(2) != 0;
  const float beta2 = float(state.range(3));
  std::optional<AttentionRig> rig = attention_rig(state, T, 5);
  if (!rig) return;
  vk::Context* ctx = rig->ctx;
  vk::BlockAllocator& alloc = rig->alloc;
  vk::AttentionCall a = rig->call(method, beta2);
  a.q = a.keys;  // the queries are the cached keys, as in the model
  a.q_from_cache = true;
  a.mask_offset = 1;
  a.rows = T;
  a.out = alloc.allocate(VkDeviceSize(T) * C * 4, "out").value();
  a.tiled_prefill = tiled;
  const bool use_tiled = vk::attention_tiled_applies(*ctx, a), split = method != 0;
  const VkDeviceSize per_row = VkDeviceSize(H) * T * 4 * (split ? 2 : 1);
  const uint32_t rows = uint32_t(std::clamp<VkDeviceSize>((32ull << 20) / per_row, 1, 128));
  vk::AttentionScratchShape shape{H, d, use_tiled ? 1 : T, use_tiled ? 1 : rows, vk::attention_workgroup(*ctx, d), 256};
  shape.split_entmax = split && !use_tiled;
  auto scratch = vk::make_attention_scratch(*ctx, alloc, shape);
  auto rec = vk::Recording::create(*ctx, 2);
  Status s = scratch.ok() ? (*rec)->begin() : scratch.status();
  (*rec)->timestamp(0);
  if (s.ok()) s = vk::record_attention(**rec, *ctx, a, *scratch);
  (*rec)->timestamp(1);
  if (s.ok()) s = (*rec)->end();
  if (!s.ok()) {
    state.SkipWithError(s.to_string().c_str());
    return;
  }
  (void)(*rec)->submit();  // warm-up
  double total = 0;
  for (auto _ : state) {
    (void)(*rec)->submit();
    double ns = (*rec)->elapsed_ns(0, 1).value();
    total += ns;
    state.SetIterationTime(ns * 1e-9);
  }
  state.counters["ms"] = total / double(state.iterations()) * 1e-6;
  state.counters["tiled_used"] = use_tiled ? 1 : 0;
  state.counters["coopmat"] = use_tiled && vk::attention_tiled_uses_cooperative_matrix(*ctx, a) ? 1 : 0;
  state.counters["kv_f16"] = ctx->kv_cache_f16() ? 1 : 0;
  state.SetLabel(a.method.name());
}

void decode_args(benchmark::internal::Benchmark* b) {
  for (int dt : {0, 1})
    for (int method : {0, 1})
      for (int64_t ctx : {512, 2048, 8192, 32768}) b->Args({dt, method, ctx});
}

BENCHMARK(BM_Decode)
    ->Apply(decode_args)
    ->ArgNames({"i8", "method", "context"})
    ->UseManualTime()
    ->Iterations(32)
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Prefill)
    ->ArgsProduct({{0, 1}, {0, 1}, {512, 2048}})
    ->ArgNames({"i8", "method", "tokens"})
    ->UseManualTime()
    ->Iterations(5)
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Attention)
    ->ArgsProduct({{0, 1, 2, 3}, {1024, 4096, 16384, 65536}, {0}, {0}})
    ->ArgNames({"method", "n", "lists", "passes"})
    ->UseManualTime()
    ->Iterations(50)
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Attention)
    ->ArgsProduct({{1, 2, 3}, {4096, 16384, 65536}, {1}, {0}})
    ->ArgNames({"method", "n", "lists", "passes"})
    ->UseManualTime()
    ->Iterations(50)
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_PrefillAttention)
    ->ArgsProduct({{0, 1}, {512, 2048, 16384}, {1, 0}, {8, 1}})
    ->ArgNames({"method", "T", "tiled", "beta2"})
    ->UseManualTime()
    ->Iterations(3)
    ->Unit(benchmark::kMillisecond);
// Lengths between the table's (and off powers of two: strides), for finding steps in the curve.
BENCHMARK(BM_Attention)
    ->ArgsProduct({{0, 1, 2, 3}, {8192, 12288, 16320, 16448, 24576, 32768, 49152}, {0}, {0}})
    ->ArgNames({"method", "n", "lists", "passes"})
    ->UseManualTime()
    ->Iterations(50)
    ->Unit(benchmark::kMicrosecond);
// Per-pass GPU time (a timestamp after every pass's barrier), for finding where the time goes.
BENCHMARK(BM_Attention)
    ->ArgsProduct({{0, 1, 2, 3}, {4096, 16384, 65536}, {0}, {1}})
    ->ArgNames({"method", "n", "lists", "passes"})
    ->UseManualTime()
    ->Iterations(50)
    ->Unit(benchmark::kMicrosecond);

}  // namespace

void release_devices() {
  rigs.clear();
  attention_ctx.reset();
}

}  // namespace tessera::bench

int main(int argc, char** argv) {
  // Our flags are taken out before Google Benchmark parses (and rejects) the rest.
  int kept = 1;
  for (int i = 1; i < argc; ++i) {
    if (std::string_view(argv[i]) == "--profile") tessera::bench::profile_decode = true;
    else if (std::string_view(argv[i]) == "--no-coopmat") tessera::bench::context_options.cooperative_matrix = false;
    else if (std::string_view(argv[i]) == "--no-pmem-matrix-units")
      tessera::bench::context_options.pmem_matrix_units = false;
    else if (std::string_view(argv[i]) == "--entmax-matrix-units")
      tessera::bench::context_options.entmax_matrix_units = true;
    else if (std::string_view(argv[i]).starts_with("--kv-cache="))
      tessera::bench::context_options.kv_cache = std::string(std::string_view(argv[i]).substr(11));
    else argv[kept++] = argv[i];
  }
  argc = kept;
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  tessera::bench::release_devices();
  benchmark::Shutdown();
  return 0;
}
