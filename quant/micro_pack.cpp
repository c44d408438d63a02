// Int8Plan → microcontroller blob (see micro_pack.h and runtime/micro/micro_format.h).
#include "quant/micro_pack.h"

#include <bit>
#include <cstring>

#include "format/gguf.h"
#include "micro/micro_format.h"
#include "model/model_weights.h"

namespace tessera::quant {
namespace {

using int8::Int8Layer;
using int8::Int8Matrix;
using int8::Int8Model;
using ops::int8::QuantizedMultiplier;

static_assert(std::endian::native == std::endian::little, "the blob is little-endian: the packer writes host words");

class BlobWriter {
 public:
  BlobWriter() { bytes_.resize(sizeof(micro::BlobHeader) + sizeof(micro::ModelRecord)); }

  // Appends n bytes at a kBlobAlignment boundary; returns their offset (0 for none).
  uint32_t put(const void* data, size_t n) {
    if (!data || n == 0) return 0;
    bytes_.resize((bytes_.size() + micro::kBlobAlignment - 1) & ~size_t(micro::kBlobAlignment - 1));
    const size_t at = bytes_.size();
    bytes_.resize(at + n);
    std::memcpy(bytes_.data() + at, data, n);
    return uint32_t(at);
  }
  template <typename T>
  uint32_t array(const T* data, int64_t count) {
    return put(data, size_t(count) * sizeof(T));
  }
  micro::MatrixRecord matrix(const Int8Matrix& m) {
    micro::MatrixRecord r{};
    r.weight = array(m.weight, m.rows * m.cols);
    r.weight_lo = array(m.weight_lo, m.rows * m.cols);
    r.requant = array(m.requant, m.rows);
    r.bias = array(m.bias, m.rows);
    r.rows = uint32_t(m.rows);
    r.cols = uint32_t(m.cols);
    return r;
  }
  std::vector<uint8_t>& bytes() { return bytes_; }

 private:
  std::vector<uint8_t> bytes_;
};

micro::MultiplierRecord record(QuantizedMultiplier q) { return {q.multiplier, q.shift}; }

micro::LayerRecord layer_record(BlobWriter& w, const Int8Model& m, const Int8Layer& L) {
  const int64_t H = m.n_head, slots = m.pmem_count * m.n_head * m.pmem_size, mem = slots * m.head_dim;
  micro::LayerRecord r{};
  r.flags = (L.h1_wide ? micro::kH1Wide : 0) | (L.o_wide ? micro::kOWide : 0) | (L.h2_wide ? micro::kH2Wide : 0) |
            (L.r_wide ? micro::kRWide : 0) | (L.has_pmem ? micro::kHasPmem : 0);
  r.ln1_eps_lo = uint32_t(L.ln1_eps);
  r.ln1_eps_hi = uint32_t(L.ln1_eps >> 32);
  r.ln1_inv_scale = record(L.ln1_inv_scale);
  r.attn_k = w.matrix(L.attn_k);
  r.attn_v = w.matrix(L.attn_v);
  r.attn_out = w.matrix(L.attn_out);
  r.key_decay_q31 = w.array(L.key_decay_q31, H);
  r.key_keep_q31 = w.array(L.key_keep_q31, H);
  r.value_mix_q24 = w.array(L.value_mix_q24, H);
  r.value_keep_q24 = w.array(L.value_keep_q24, H);
  r.score_multiplier = w.array(L.score_multiplier, H);
  r.transform_scale = w.array(L.transform_scale, H);
  r.o_to_int8 = record(L.o_to_int8);
  if (!L.has_pmem) return r;
  r.ln2_eps_lo = uint32_t(L.ln2_eps);
  r.ln2_eps_hi = uint32_t(L.ln2_eps >> 32);
  r.ln2_inv_scale = record(L.ln2_inv_scale);
  r.pmem_k = w.matrix(L.pmem_k);
  r.pmem_out = w.matrix(L.pmem_out);
  r.pmem_decay_q31 = w.array(L.pmem_decay_q31, H);
  r.pmem_keep_q31 = w.array(L.pmem_keep_q31, H);
  r.mem_k = w.array(L.mem_k, mem);
  r.mem_v = w.array(L.mem_v, mem);
  r.mem_k_lo = w.array(L.mem_k_lo, mem);
  r.mem_v_lo = w.array(L.mem_v_lo, mem);
  r.mem_k_score = w.array(L.mem_k_score, slots);
  r.mem_v_weight = w.array(L.mem_v_weight, slots);
  r.r_to_int8 = record(L.r_to_int8);
  return r;
}

}  // namespace

Result<std::vector<uint8_t>> pack_micro_blob(const int8::Int8Plan& plan) {
  const Int8Model& m = plan.model;
  for (int64_t l = 0; l < m.n_layer; ++l)
    if (m.layers[l].mem_k_quads || m.layers[l].mem_v_quads || m.pmem_byte_split)
      return invalid_argument("micro blob: the plan must be built for the portable kernels (no re-laid-out memories)");
  BlobWriter w;
  micro::ModelRecord r{};
  r.vocab_size = uint32_t(m.vocab_size);
  r.n_embd = uint32_t(m.n_embd);
  r.n_head = uint32_t(m.n_head);
  r.head_dim = uint32_t(m.head_dim);
  r.n_layer = uint32_t(m.n_layer);
  r.pmem_size = uint32_t(m.pmem_size);
  r.pmem_count = uint32_t(m.pmem_count);
  r.mask_offset = m.mask_offset;
  r.flags = (m.attention_softmax ? micro::kAttentionSoftmax : 0) | (m.token_embd_wide ? micro::kEmbeddingWide : 0) |
            (m.out_wide ? micro::kOutputWide : 0) | (m.value_cache_int8 ? micro::kValueCacheInt8 : 0);
  r.transform_kind = int32_t(m.attention_transform.kind);
  r.transform_top_k = m.attention_transform.top_k;
  r.transform_relu_bias_q20 = m.attention_transform.relu_bias_q20;
  r.token_embd = m.token_embd_wide ? w.array(m.token_embd_wide, m.vocab_size * m.n_embd)
                                   : w.array(m.token_embd, m.vocab_size * m.n_embd);
  r.embd_requant = w.array(m.embd_requant, m.vocab_size);
  r.out_eps_lo = uint32_t(m.out_eps);
  r.out_eps_hi = uint32_t(m.out_eps >> 32);
  r.out_inv_scale = record(m.out_inv_scale);
  r.output = w.matrix(m.output);
  std::vector<micro::LayerRecord> layers;
  for (int64_t l = 0; l < m.n_layer; ++l) layers.push_back(layer_record(w, m, m.layers[l]));
  const uint32_t layers_offset = w.array(layers.data(), int64_t(layers.size()));
  std::vector<uint8_t>& bytes = w.bytes();
  bytes.resize((bytes.size() + micro::kBlobAlignment - 1) & ~size_t(micro::kBlobAlignment - 1));
  if (bytes.size() >= (size_t(1) << 31))
    return invalid_argument("micro blob: " + std::to_string(bytes.size()) + " bytes (the format holds < 2 GiB)");
  micro::BlobHeader h{};
  h.magic = micro::kBlobMagic;
  // The lowest version that describes the blob, so that firmware built before version 2 still reads the blobs
  // it can run (version 2 only adds the int8 value cache flag).
  h.version = m.value_cache_int8 ? micro::kBlobVersion : micro::kBlobVersionInt16Values;
  h.total_bytes = uint32_t(bytes.size());
  h.header_bytes = sizeof(micro::BlobHeader) + sizeof(micro::ModelRecord);
  h.layer_record_bytes = sizeof(micro::LayerRecord);
  h.layers_offset = layers_offset;
  const float logit_scale = float(plan.logit_scale);
  std::memcpy(&h.logit_scale_f32, &logit_scale, 4);
  std::memcpy(bytes.data(), &h, sizeof h);
  std::memcpy(bytes.data() + sizeof h, &r, sizeof r);
  h.checksum = micro::blob_checksum(bytes.data() + 16, h.total_bytes - 16);
  std::memcpy(bytes.data() + offsetof(micro::BlobHeader, checksum), &h.checksum, 4);
  return std::move(bytes);
}

Result<std::vector<uint8_t>> pack_micro_blob_from_gguf(const std::string& int8_gguf, ValueCache value_cache) {
  auto file = gguf::File::open(int8_gguf);
  if (!file.ok()) return file.status();
  auto weights = ModelWeights::from_gguf(std::make_shared<const gguf::File>(std::move(*file)));
  if (!weights.ok()) return weights.status();
  auto plan = int8::build_int8_plan(**weights, ops::int8::int8_kernels_for(ops::int8::Isa::kPortable));
  if (!plan.ok()) return plan.status();
  if (value_cache != ValueCache::kAsQuantized) (*plan)->model.value_cache_int8 = value_cache == ValueCache::kInt8;
  return pack_micro_blob(**plan);
}

}  // namespace tessera::quant
