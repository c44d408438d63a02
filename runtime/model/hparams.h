// Memory Mosaics hyperparameters and the canonical tensor names of a Tessera GGUF.
// Every per-head scalar is stored in the GGUF as its *effective* value (the ×10 of the
// authors' exp_param_scale and the exp/clamp already applied), so runtimes never need to
// know which training file produced the model. See docs/format.md.
#pragma once

#include <cstdint>
#include <string>

#include "tessera/attention.h"
#include "tessera/status.h"

namespace tessera {

struct HParams {
  int64_t vocab_size = 0;
  int64_t n_embd = 0;  // C
  int64_t n_head = 0;  // H
  int64_t n_layer = 0;
  int64_t block_size = 0;  // training context (informational: the cached runtime goes beyond it)
  int64_t pmem_size = 0;   // N slots per head
  int64_t pmem_count = 1;
  bool bias = false;
  bool pre_ln = true;
  bool attn_only = false;
  bool weight_tying = true;  // informational; the GGUF always holds output.weight when untied
  AttentionMethod method;
  // Query t sees keys j <= t - mask_offset: 1 (authors' files) or 2 (seed EFT relumax/norm_relu/uniform).
  int mask_offset = 1;
  float layer_norm_eps = 1e-5f;
  float l2_norm_eps = 0.0f;                // added to ‖·‖ of keys and values (0 regular, 1e-6 EFT)
  std::string source_variant = "regular";  // "regular" | "eft" (informational)
  // Multiplies the final logits. The converter writes 1/sqrt(C); a folded (quantized) model writes 1
  // because the scale already sits in output.weight.
  float logit_scale = 0.0f;

  int64_t head_dim() const { return n_head ? n_embd / n_head : 0; }
  // Checks ranges and consistency; the message names the field.
  Status validate() const;
};

// GGUF keys (all prefixed "memory-mosaics.").
namespace keys {
inline constexpr const char* kArchitecture = "memory-mosaics";
inline constexpr const char* kVocabSize = "memory-mosaics.vocab_size";
inline constexpr const char* kEmbd = "memory-mosaics.embedding_length";
inline constexpr const char* kHeads = "memory-mosaics.attention.head_count";
inline constexpr const char* kLayers = "memory-mosaics.block_count";
inline constexpr const char* kContext = "memory-mosaics.context_length";
inline constexpr const char* kPmemSize = "memory-mosaics.pmem.size";
inline constexpr const char* kPmemCount = "memory-mosaics.pmem.count";
inline constexpr const char* kBias = "memory-mosaics.bias";
inline constexpr const char* kPreLn = "memory-mosaics.pre_ln";
inline constexpr const char* kAttnOnly = "memory-mosaics.attn_only";
inline constexpr const char* kWeightTying = "memory-mosaics.weight_tying";
inline constexpr const char* kMethod = "memory-mosaics.attention.method";
inline constexpr const char* kAlpha = "memory-mosaics.attention.alpha";
inline constexpr const char* kTopK = "memory-mosaics.attention.top_k";
inline constexpr const char* kSeedForm = "memory-mosaics.attention.seed_form";
inline constexpr const char* kReluMaxB = "memory-mosaics.attention.relumax_b";
inline constexpr const char* kMaskOffset = "memory-mosaics.attention.mask_offset";
inline constexpr const char* kLnEps = "memory-mosaics.layer_norm_epsilon";
inline constexpr const char* kL2Eps = "memory-mosaics.l2_norm_epsilon";
inline constexpr const char* kVariant = "memory-mosaics.source_variant";
inline constexpr const char* kLogitScale = "memory-mosaics.logit_scale";
inline constexpr const char* kTokenizerTokens = "tokenizer.ggml.tokens";  // optional string array
// "int8" | "weights-only" (LayerNorms folded into the next matrix) | "f16"; absent: float as converted.
inline constexpr const char* kQuantMode = "memory-mosaics.quantization.mode";
// XXH64 of the tensor table and data, 16 hex digits, written by convert and quantize (content_hash.h).
inline constexpr const char* kContentHash = "memory-mosaics.content_xxh64";
}  // namespace keys

// Canonical tensor names. Shapes are PyTorch order (outermost first); matrices are [out, in].
namespace tensor_names {
inline constexpr const char* kTokenEmbd = "token_embd.weight";    // [V, C]
inline constexpr const char* kOutputNorm = "output_norm.weight";  // [C] (+ output_norm.bias)
inline constexpr const char* kOutput = "output.weight";           // [V, C], only when untied
// Per block: "blk.<i>.<suffix>".
inline constexpr const char* kAttnNorm = "attn_norm.weight";        // [C]   ln1 (+ .bias)
inline constexpr const char* kAttnK = "attn_k.weight";              // [C, C] W_k   (+ attn_k.bias)
inline constexpr const char* kAttnV = "attn_v.weight";              // [C, C] W_v   (+ attn_v.bias)
inline constexpr const char* kAttnOut = "attn_output.weight";       // [C, C] W_o   (+ attn_output.bias)
inline constexpr const char* kAttnDecay = "attn_key_decay";         // [H] a_h = exp(-10|leaky_key_beta|)
inline constexpr const char* kAttnKeyScale = "attn_key_scale";      // [H] β_h = exp(min(10 kernel_beta, 5))
inline constexpr const char* kAttnValueScale = "attn_value_scale";  // [H] exp(10 value_beta) (EFT: clamped)
inline constexpr const char* kAttnValueMix = "attn_value_mix";      // [H] c_h (v_featurizer.coef)
inline constexpr const char* kPmemNorm = "pmem_norm.weight";        // [C]   ln2 (+ .bias)
inline constexpr const char* kPmemK = "pmem_k.weight";              // [C, C] W'_k  (+ pmem_k.bias)
inline constexpr const char* kPmemOut = "pmem_output.weight";       // [C, C] W'_o  (+ pmem_output.bias)
inline constexpr const char* kPmemDecay = "pmem_key_decay";         // [H] a'_h
inline constexpr const char* kPmemQueryScale = "pmem_query_scale";  // [H] β'_h² (squared!)
inline constexpr const char* kPmemValueScale = "pmem_value_scale";  // [H]
inline constexpr const char* kPmemMemK = "pmem_mem_k";              // [P, H, N, d]
inline constexpr const char* kPmemMemV = "pmem_mem_v";              // [P, H, N, d]
std::string block(int64_t layer, const char* suffix);
}  // namespace tensor_names

}  // namespace tessera
