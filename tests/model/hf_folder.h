// Builds Hugging Face save_pretrained folders from an authors' checkpoint, for the converter and CLI tests:
// prefixed keys, F32/F16/BF16 tensors, one model.safetensors or N shards + model.safetensors.index.json.
#pragma once

#include <bit>
#include <cstring>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "format/checkpoint.h"

namespace tessera::testing {

struct HfFolderOptions {
  std::string prefix = "model.";
  DType dtype = DType::kF32;  // of every floating tensor: F32, F16 or BF16
  int shards = 1;             // 1: model.safetensors; N > 1: model-0000i-of-0000N.safetensors + index
  std::string model_type = "memory-mosaics";
};

// bfloat16 by round-to-nearest-even of the float32 bits (the data has no NaNs), as torch's .to(bfloat16).
inline uint16_t bf16_round(float f) {
  const uint32_t bits = std::bit_cast<uint32_t>(f);
  return uint16_t((bits + 0x7FFFu + ((bits >> 16) & 1u)) >> 16);
}

// `t` stored as `dtype` (F32 tensors only are converted; the checkpoints hold nothing else).
inline Tensor stored_as(const Tensor& t, DType dtype, const std::string& name) {
  const std::vector<float> v = tensor_to_f32(t);
  if (dtype == DType::kF32) return make_f32_tensor(name, t.shape, v);
  std::vector<std::byte> bytes(v.size() * 2);
  for (size_t i = 0; i < v.size(); ++i) {
    const uint16_t h = dtype == DType::kF16 ? float_to_half(v[i]) : bf16_round(v[i]);
    std::memcpy(bytes.data() + 2 * i, &h, 2);
  }
  return make_owned_tensor(name, dtype, t.shape, std::move(bytes));
}

// The checkpoint as the converter should see the folder: the same names, F32 values rounded through `dtype`.
inline Checkpoint rounded_through(const Checkpoint& ckpt, DType dtype) {
  Checkpoint out = ckpt;
  for (Tensor& t : out.tensors) t = stored_as(stored_as(t, dtype, t.name), DType::kF32, t.name);
  return out;
}

inline std::string shard_name(int i, int n) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "model-%05d-of-%05d.safetensors", i + 1, n);
  return buf;
}

// Writes the folder; returns the index's weight_map (tensor -> shard), empty for one file. HF folders hold
// a tied head once, so head.weight is left out when it shares emb.weight's bytes.
inline std::map<std::string, std::string> write_hf_folder(const Checkpoint& ckpt, const std::string& dir,
                                                          const HfFolderOptions& o) {
  std::vector<Tensor> tensors;
  const Tensor* emb = nullptr;
  for (const Tensor& t : ckpt.tensors)
    if (t.name == "emb.weight") emb = &t;
  for (const Tensor& t : ckpt.tensors)
    if (!(t.name == "head.weight" && emb && t.data == emb->data))
      tensors.push_back(stored_as(t, o.dtype, o.prefix + t.name));
  nlohmann::json config = ckpt.config;
  config["model_type"] = o.model_type;
  std::ofstream(dir + "/config.json") << config.dump(1);
  std::map<std::string, std::string> weight_map;
  if (o.shards == 1) {
    if (!write_safetensors(dir + "/model.safetensors", tensors, {{"format", "pt"}}).ok()) return {};
    return weight_map;
  }
  const size_t per_shard = (tensors.size() + size_t(o.shards) - 1) / size_t(o.shards);
  nlohmann::json index = {{"metadata", {{"total_size", 0}}}, {"weight_map", nlohmann::json::object()}};
  uint64_t total = 0;
  for (int s = 0; s < o.shards; ++s) {
    std::vector<Tensor> part;
    for (size_t i = size_t(s) * per_shard; i < std::min(tensors.size(), size_t(s + 1) * per_shard); ++i) {
      part.push_back(tensors[i]);
      weight_map[tensors[i].name] = shard_name(s, o.shards);
      total += tensors[i].nbytes;
    }
    if (!write_safetensors(dir + "/" + shard_name(s, o.shards), part, {{"format", "pt"}}).ok()) return {};
  }
  index["metadata"]["total_size"] = total;
  for (const auto& [name, shard] : weight_map) index["weight_map"][name] = shard;
  std::ofstream(dir + "/model.safetensors.index.json") << index.dump(1);
  return weight_map;
}

// Rewrites the index with `weight_map` (for the tests of an index that disagrees with its shards).
inline void write_hf_index(const std::string& dir, const std::map<std::string, std::string>& weight_map) {
  nlohmann::json index = {{"metadata", nlohmann::json::object()}, {"weight_map", nlohmann::json::object()}};
  for (const auto& [name, shard] : weight_map) index["weight_map"][name] = shard;
  std::ofstream(dir + "/model.safetensors.index.json") << index.dump(1);
}

}  // namespace tessera::testing
