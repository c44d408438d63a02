// Must NOT compile: a push struct whose members are swapped against the GLSL block. The CTest test
// vulkan_push_contract_rejects_mismatch compiles it and expects TESSERA_VK_PUSH_CONTRACT's message.
#include "vulkan/kernels.h"

namespace tessera::vk {
struct SwappedTransformPush {
  uint32_t mask_offset, H, nkeys_fixed, row_base, s_stride, nchunks, chunk_size;
};
TESSERA_VK_PUSH_CONTRACT(attn_relumax, SwappedTransformPush);
}  // namespace tessera::vk
