// The int8 model description: what an int8 GGUF holds beyond the canonical tensors (model/hparams.h
// tensor_names; their matrices, embeddings and memories are I8, or I16 where mixed precision widens them,
// each with a per-row F32 "<name>.scale"). One description for both sides: quant/quantize_model.cpp writes
// it, int8_plan.cpp and model/model_weights.cpp read it. docs/format.md ("Quantized models") documents it.
#pragma once

#include <cstdint>
#include <string>

#include "model/hparams.h"

namespace tessera::int8 {

// The activation sites of one layer, in the order of the entries of its activation tensors.
enum class LayerSite : int {
  kH1 = 0,  // LN1 output (the key and value projections' input)
  kU = 1,   // key projection (int32)
  kW = 2,   // value projection (int32)
  kO = 3,   // attention output (the output projection's input)
  kH2 = 4,  // LN2 output (the persistent-memory key projection's input)
  kU2 = 5,  // persistent-memory key projection (int32)
  kR = 6,   // persistent-memory output (its output projection's input)
};
inline constexpr int kLayerSiteCount = 7;
inline constexpr LayerSite kLayerSites[kLayerSiteCount] = {LayerSite::kH1, LayerSite::kU,  LayerSite::kW, LayerSite::kO,
                                                           LayerSite::kH2, LayerSite::kU2, LayerSite::kR};
// Sites whose values are a matrix's operand: int8, or int16 where the precision plan widens them. The
// others hold int32 values (bits 32).
constexpr bool is_operand_site(LayerSite s) {
  return s == LayerSite::kH1 || s == LayerSite::kO || s == LayerSite::kH2 || s == LayerSite::kR;
}
// Short names: "h1", "u", "w", "o", "h2", "u2", "r" (the quantizer's report names sites "blk.<i>.act.<name>").
constexpr const char* site_name(LayerSite s) {
  constexpr const char* kNames[kLayerSiteCount] = {"h1", "u", "w", "o", "h2", "u2", "r"};
  return kNames[int(s)];
}
// Sites of the persistent memory (a model with attn_only has none).
constexpr bool is_pmem_site(LayerSite s) { return s == LayerSite::kH2 || s == LayerSite::kU2 || s == LayerSite::kR; }

// The model-wide sites, in the order of the entries of the model's activation tensors.
enum class ModelSite : int {
  kResidual = 0,   // the residual stream (int32)
  kFinalNorm = 1,  // the final LayerNorm output (the output matrix's operand: int8 or int16)
  kLogits = 2,     // the int32 logits: real logit = s_logit · logit
};
inline constexpr int kModelSiteCount = 3;

// "int8.activation_scales": F32 [kModelSiteCount], one real scale per model site; and per block,
// "blk.<i>.int8.activation_scales": F32 [kLayerScaleCount], the layer sites' scales then 1 (reserved).
inline constexpr const char* kActivationScales = "int8.activation_scales";
inline constexpr int kLayerScaleCount = kLayerSiteCount + 1;
// "int8.activation_bits" [kModelSiteCount] and "blk.<i>.int8.activation_bits" [kLayerScaleCount], I32, the
// same order: 8 or 16 at the operand sites, 32 at the int32 ones, 0 for the reserved entry. Optional: a
// file written before mixed precision has none, and every operand site is then 8 bits.
inline constexpr const char* kActivationBits = "int8.activation_bits";

// Optional I32 [1] "int8.value_cache_bits": 16 (Q15 unit values; also when absent) or 8 (Q7 unit values,
// half the cache: `tessera quantize --value-cache int8`). No weight depends on it.
inline constexpr const char* kValueCacheBits = "int8.value_cache_bits";

inline std::string layer_activation_scales(int64_t layer) { return tensor_names::block(layer, kActivationScales); }
inline std::string layer_activation_bits(int64_t layer) { return tensor_names::block(layer, kActivationBits); }

// True for the tensors above (the ones only the int8 backend reads) in a model of n_layer layers.
inline bool is_int8_activation_tensor(const std::string& name, int64_t n_layer) {
  if (name == kActivationScales || name == kActivationBits || name == kValueCacheBits) return true;
  for (int64_t l = 0; l < n_layer; ++l)
    if (name == layer_activation_scales(l) || name == layer_activation_bits(l)) return true;
  return false;
}

}  // namespace tessera::int8
