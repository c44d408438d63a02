// The flashable model blob (.tmb) that `tessera pack` writes and tessera_micro maps in place: the int8
// plan precomputed (requantisation multipliers, int16 tensors as two int8 planes) and only what the
// portable kernels read (no re-laid-out memories, no row sums of the byte-split query path).
// Little-endian, every field a 32-bit word; pointers are byte offsets from the blob's start (0: absent),
// each aligned to its element size. docs/format.md ("Microcontroller blob") is the reference.
#pragma once

#include <stdint.h>  // C header: the microcontroller build has no C++ library

namespace tessera::micro {

inline constexpr uint32_t kBlobMagic = 0x424D5354;  // "TSMB" read as a little-endian word
// Version 2 adds ModelRecord::flags kValueCacheInt8; a blob without it is written as version 1 (the records
// are the same), and this library reads both.
inline constexpr uint32_t kBlobVersion = 2;
inline constexpr uint32_t kBlobVersionInt16Values = 1;
inline constexpr uint32_t kBlobAlignment = 16;  // the blob's start, and where the packer places arrays

// Words [0, 4) of the header; the checksum covers every byte from offset 16 to total_bytes.
struct BlobHeader {
  uint32_t magic;
  uint32_t version;
  uint32_t total_bytes;
  uint32_t checksum;            // FNV-1a (32-bit) of bytes [16, total_bytes)
  uint32_t header_bytes;        // sizeof(BlobHeader) + sizeof(ModelRecord)
  uint32_t layer_record_bytes;  // sizeof(LayerRecord)
  uint32_t layers_offset;       // n_layer LayerRecords
  uint32_t logit_scale_f32;     // s_logit as IEEE-754 bits (real logit = s_logit · int32 logit); for hosts
};

struct MultiplierRecord {
  int32_t multiplier, shift;
};

struct MatrixRecord {
  uint32_t weight, weight_lo, requant, bias;  // int8 [rows·cols], int8 low plane, QM [rows], int32 [rows]
  uint32_t rows, cols;
};

// ModelRecord::flags
inline constexpr uint32_t kAttentionSoftmax = 1u << 0;
inline constexpr uint32_t kEmbeddingWide = 1u << 1;  // token_embd is int16 [V, C]
inline constexpr uint32_t kOutputWide = 1u << 2;
inline constexpr uint32_t kValueCacheInt8 = 1u << 3;  // unit values cached as Q7 int8 (version 2 only)
inline constexpr uint32_t kModelFlags = kAttentionSoftmax | kEmbeddingWide | kOutputWide | kValueCacheInt8;

struct ModelRecord {
  uint32_t vocab_size, n_embd, n_head, head_dim, n_layer, pmem_size, pmem_count;
  int32_t mask_offset;
  uint32_t flags;  // kAttentionSoftmax | kEmbeddingWide | kOutputWide | kValueCacheInt8; any other bit: invalid
  int32_t transform_kind, transform_top_k, transform_relu_bias_q20;  // ops::fixed::FixedRowTransform
  uint32_t token_embd, embd_requant;                                 // int8 or int16 [V, C]; QM [V]
  uint32_t out_eps_lo, out_eps_hi;
  MultiplierRecord out_inv_scale;
  MatrixRecord output;
};

// LayerRecord::flags: the int16 activation sites, and whether the layer has a persistent memory.
inline constexpr uint32_t kH1Wide = 1u << 0;
inline constexpr uint32_t kOWide = 1u << 1;
inline constexpr uint32_t kH2Wide = 1u << 2;
inline constexpr uint32_t kRWide = 1u << 3;
inline constexpr uint32_t kHasPmem = 1u << 4;
inline constexpr uint32_t kLayerFlags = kH1Wide | kOWide | kH2Wide | kRWide | kHasPmem;

struct LayerRecord {
  uint32_t flags;  // kH1Wide | kOWide | kH2Wide | kRWide | kHasPmem
  uint32_t ln1_eps_lo, ln1_eps_hi;
  MultiplierRecord ln1_inv_scale;
  MatrixRecord attn_k, attn_v, attn_out;
  uint32_t key_decay_q31, key_keep_q31, value_mix_q24, value_keep_q24;  // int32 [H]
  uint32_t score_multiplier, transform_scale;                           // QM [H], ScoreScale [H]
  MultiplierRecord o_to_int8;
  uint32_t ln2_eps_lo, ln2_eps_hi;
  MultiplierRecord ln2_inv_scale;
  MatrixRecord pmem_k, pmem_out;
  uint32_t pmem_decay_q31, pmem_keep_q31;     // int32 [H]
  uint32_t mem_k, mem_v, mem_k_lo, mem_v_lo;  // int8 [P·H·N·d]
  uint32_t mem_k_score, mem_v_weight;         // QM [P·H·N]
  MultiplierRecord r_to_int8;
};

static_assert(sizeof(BlobHeader) == 32 && sizeof(ModelRecord) == 96 && sizeof(LayerRecord) == 228,
              "the blob's records are fixed: changing one is a new kBlobVersion");

// FNV-1a over bytes: any single changed byte changes the result (each step is a bijection of the state).
inline uint32_t blob_checksum(const unsigned char* bytes, uint32_t n) {
  uint32_t h = 2166136261u;
  for (uint32_t i = 0; i < n; ++i) h = (h ^ bytes[i]) * 16777619u;
  return h;
}

}  // namespace tessera::micro
