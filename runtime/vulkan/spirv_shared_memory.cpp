#include "vulkan/spirv_shared_memory.h"

#include <functional>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace tessera::vk {
namespace {

// SPIR-V opcodes and enumerants (SPIR-V 1.0 specification, section 3).
enum : uint32_t {
  kOpTypeBool = 20,
  kOpTypeInt = 21,
  kOpTypeFloat = 22,
  kOpTypeVector = 23,
  kOpTypeMatrix = 24,
  kOpTypeArray = 28,
  kOpTypeStruct = 30,
  kOpTypePointer = 32,
  kOpConstantTrue = 41,
  kOpConstantFalse = 42,
  kOpConstant = 43,
  kOpSpecConstantTrue = 48,
  kOpSpecConstantFalse = 49,
  kOpSpecConstant = 50,
  kOpSpecConstantOp = 52,
  kOpVariable = 59,
  kOpDecorate = 71,
  kDecorationSpecId = 1,
  kStorageClassWorkgroup = 4,
};

struct Module {
  std::unordered_map<uint32_t, std::vector<uint32_t>> defs;  // result id -> its whole instruction
  std::unordered_map<uint32_t, uint32_t> spec_ids;           // result id -> SpecId
  std::vector<uint32_t> workgroup_pointer_types;             // pointee type of each Workgroup variable
};

// Result id position per opcode: types have it first, values second.
bool is_type(uint32_t op) { return op >= 19 && op <= 39; }

std::optional<uint64_t> evaluate(const Module& m, uint32_t id, std::span<const uint32_t> spec, int depth = 0) {
  auto it = m.defs.find(id);
  if (it == m.defs.end() || depth > 64) return std::nullopt;
  const auto& in = it->second;
  const uint32_t op = in[0] & 0xffffu;
  auto spec_value = [&](uint64_t dflt) -> uint64_t {
    auto s = m.spec_ids.find(id);
    return s != m.spec_ids.end() && s->second < spec.size() ? spec[s->second] : dflt;
  };
  switch (op) {
    case kOpConstant: return in.size() > 3 ? std::optional<uint64_t>(in[3]) : std::nullopt;
    case kOpConstantTrue: return 1;
    case kOpConstantFalse: return 0;
    case kOpSpecConstant: return in.size() > 3 ? std::optional<uint64_t>(spec_value(in[3])) : std::nullopt;
    case kOpSpecConstantTrue: return spec_value(1) != 0;
    case kOpSpecConstantFalse: return spec_value(0) != 0;
    case kOpSpecConstantOp: break;
    default: return std::nullopt;
  }
  if (in.size() < 5) return std::nullopt;
  const uint32_t sub = in[3];
  std::vector<uint64_t> a;
  for (size_t i = 4; i < in.size(); ++i) {
    auto v = evaluate(m, in[i], spec, depth + 1);
    if (!v) return std::nullopt;
    a.push_back(*v);
  }
  auto need = [&](size_t n) { return a.size() == n; };
  const uint64_t mask = 0xffffffffu;
  switch (sub) {
    case 128:
      if (need(2)) return (a[0] + a[1]) & mask;
      break;  // OpIAdd
    case 130:
      if (need(2)) return (a[0] - a[1]) & mask;
      break;  // OpISub
    case 132:
      if (need(2)) return (a[0] * a[1]) & mask;
      break;  // OpIMul
    case 134:
      if (need(2) && a[1] != 0) return a[0] / a[1];
      break;  // OpUDiv
    case 137:
      if (need(2) && a[1] != 0) return a[0] % a[1];
      break;  // OpUMod
    case 166:
      if (need(2)) return uint64_t(a[0] || a[1]);
      break;  // OpLogicalOr
    case 167:
      if (need(2)) return uint64_t(a[0] && a[1]);
      break;  // OpLogicalAnd
    case 168:
      if (need(1)) return uint64_t(!a[0]);
      break;  // OpLogicalNot
    case 169:
      if (need(3)) return a[0] ? a[1] : a[2];
      break;  // OpSelect
    case 170:
      if (need(2)) return uint64_t(a[0] == a[1]);
      break;  // OpIEqual
    case 171:
      if (need(2)) return uint64_t(a[0] != a[1]);
      break;  // OpINotEqual
    case 172:
      if (need(2)) return uint64_t(a[0] > a[1]);
      break;  // OpUGreaterThan
    case 174:
      if (need(2)) return uint64_t(a[0] >= a[1]);
      break;  // OpUGreaterThanEqual
    case 176:
      if (need(2)) return uint64_t(a[0] < a[1]);
      break;  // OpULessThan
    case 178:
      if (need(2)) return uint64_t(a[0] <= a[1]);
      break;  // OpULessThanEqual
    case 194:
      if (need(2)) return (a[0] >> (a[1] & 31)) & mask;
      break;  // OpShiftRightLogical
    case 196:
      if (need(2)) return (a[0] << (a[1] & 31)) & mask;
      break;  // OpShiftLeftLogical
    case 197:
      if (need(2)) return a[0] | a[1];
      break;  // OpBitwiseOr
    case 199:
      if (need(2)) return a[0] & a[1];
      break;  // OpBitwiseAnd
    default: break;
  }
  return std::nullopt;
}

std::optional<uint64_t> type_bytes(const Module& m, uint32_t id, std::span<const uint32_t> spec, int depth = 0) {
  auto it = m.defs.find(id);
  if (it == m.defs.end() || depth > 32) return std::nullopt;
  const auto& in = it->second;
  switch (in[0] & 0xffffu) {
    case kOpTypeBool: return 4;
    case kOpTypeInt:
    case kOpTypeFloat: return in.size() > 2 ? std::optional<uint64_t>(in[2] / 8) : std::nullopt;
    case kOpTypeVector:
    case kOpTypeMatrix: {
      if (in.size() < 4) return std::nullopt;
      auto e = type_bytes(m, in[2], spec, depth + 1);
      return e ? std::optional<uint64_t>(*e * in[3]) : std::nullopt;
    }
    case kOpTypeArray: {
      if (in.size() < 4) return std::nullopt;
      auto e = type_bytes(m, in[2], spec, depth + 1);
      auto n = evaluate(m, in[3], spec);
      return e && n ? std::optional<uint64_t>(*e * *n) : std::nullopt;
    }
    case kOpTypeStruct: {
      uint64_t sum = 0;
      for (size_t i = 2; i < in.size(); ++i) {
        auto e = type_bytes(m, in[i], spec, depth + 1);
        if (!e) return std::nullopt;
        sum += *e;
      }
      return sum;
    }
    default: return std::nullopt;
  }
}

}  // namespace

Result<std::vector<uint64_t>> workgroup_variable_bytes(std::span<const uint32_t> spirv,
                                                       std::span<const uint32_t> spec) {
  if (spirv.size() < 5 || spirv[0] != 0x07230203u) return internal_error("vulkan: not a SPIR-V module");
  Module m;
  std::vector<uint32_t> workgroup_vars;  // their pointer types
  for (size_t i = 5; i < spirv.size();) {
    const uint32_t words = spirv[i] >> 16, op = spirv[i] & 0xffffu;
    if (words == 0 || i + words > spirv.size()) return internal_error("vulkan: truncated SPIR-V instruction");
    std::vector<uint32_t> in(spirv.begin() + long(i), spirv.begin() + long(i + words));
    if (op == kOpDecorate && words >= 4 && in[2] == kDecorationSpecId) m.spec_ids[in[1]] = in[3];
    if (op == kOpVariable && words >= 4 && in[3] == kStorageClassWorkgroup) workgroup_vars.push_back(in[1]);
    if (is_type(op) && words >= 2) m.defs[in[1]] = in;
    else if ((op == kOpConstant || op == kOpConstantTrue || op == kOpConstantFalse || op == kOpSpecConstant ||
              op == kOpSpecConstantTrue || op == kOpSpecConstantFalse || op == kOpSpecConstantOp) &&
             words >= 3)
      m.defs[in[2]] = in;
    i += words;
  }
  std::vector<uint64_t> sizes;
  for (uint32_t ptr : workgroup_vars) {
    auto p = m.defs.find(ptr);
    if (p == m.defs.end() || (p->second[0] & 0xffffu) != kOpTypePointer || p->second.size() < 4)
      return internal_error("vulkan: a Workgroup variable without a pointer type");
    auto bytes = type_bytes(m, p->second[3], spec);
    if (!bytes)
      return internal_error("vulkan: cannot size a Workgroup variable (type %" + std::to_string(p->second[3]) + ")");
    sizes.push_back(*bytes);
  }
  return sizes;
}

Result<uint64_t> workgroup_memory_bytes(std::span<const uint32_t> spirv, std::span<const uint32_t> spec) {
  TESSERA_ASSIGN_OR_RETURN(std::vector<uint64_t> sizes, workgroup_variable_bytes(spirv, spec));
  uint64_t total = 0;
  for (uint64_t b : sizes) total += b;
  return total;
}

}  // namespace tessera::vk
