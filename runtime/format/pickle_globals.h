// The allow-list of the restricted unpickler: the only globals torch.save writes for a state dict
// (torch 1.x and 2.x). Anything else is refused by name; nothing in this list is ever "executed":
// each entry only tells the unpickler which value to build.
#pragma once

#include <array>
#include <string_view>

#include "core/dtype.h"

namespace tessera {

enum class GlobalRole : unsigned char {
  kOrderedDict,       // collections.OrderedDict(): an ordered dict value
  kRebuildTensor,     // torch._utils._rebuild_tensor_v2(storage, offset, size, stride, ...)
  kRebuildParameter,  // torch._utils._rebuild_parameter[_with_state](tensor, requires_grad, hooks[, state])
  kStorageClass,      // torch.FloatStorage etc.: only inside a persistent id, never called
};

struct AllowedGlobal {
  std::string_view name;  // "module.qualname"
  GlobalRole role;
  DType dtype;  // kStorageClass only
};

inline constexpr std::array<AllowedGlobal, 14> kAllowedGlobals = {{
    {"collections.OrderedDict", GlobalRole::kOrderedDict, DType::kU8},
    {"torch._utils._rebuild_tensor_v2", GlobalRole::kRebuildTensor, DType::kU8},
    {"torch._utils._rebuild_parameter", GlobalRole::kRebuildParameter, DType::kU8},
    {"torch._utils._rebuild_parameter_with_state", GlobalRole::kRebuildParameter, DType::kU8},
    {"torch.FloatStorage", GlobalRole::kStorageClass, DType::kF32},
    {"torch.HalfStorage", GlobalRole::kStorageClass, DType::kF16},
    {"torch.BFloat16Storage", GlobalRole::kStorageClass, DType::kBF16},
    {"torch.DoubleStorage", GlobalRole::kStorageClass, DType::kF64},
    {"torch.LongStorage", GlobalRole::kStorageClass, DType::kI64},
    {"torch.IntStorage", GlobalRole::kStorageClass, DType::kI32},
    {"torch.ShortStorage", GlobalRole::kStorageClass, DType::kI16},
    {"torch.CharStorage", GlobalRole::kStorageClass, DType::kI8},
    {"torch.ByteStorage", GlobalRole::kStorageClass, DType::kU8},
    {"torch.BoolStorage", GlobalRole::kStorageClass, DType::kU8},  // bool is stored one byte per element
}};

inline const AllowedGlobal* find_allowed_global(std::string_view name) {
  for (const AllowedGlobal& g : kAllowedGlobals)
    if (g.name == name) return &g;
  return nullptr;
}

}  // namespace tessera
