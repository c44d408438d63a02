// Build-time tool: reads the SPIR-V of every kernel (shaders/*.comp) and writes the one header the
// Vulkan backend takes each kernel's contract from (vulkan/kernel_contracts.h): its identifier, its
// storage-buffer bindings, its push-constant block (size, member names, offsets and types) and its
// specialisation constants, plus a macro per kernel that static_asserts a C++ push-constant struct
// against that block. The shader source is the one place a kernel's interface is written.
//
//   reflect_kernels OUT.h ENTRY...
//   ENTRY = name|feature|reflect.spv|flavour.spv|...  (feature empty unless gated; no files: not built)
// reflect.spv is the unoptimised compile (it keeps the names glslc -O strips); each embedded flavour
// must declare the same push block and no binding outside the declared ones, else the build fails.
#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

// SPIR-V opcodes, decorations and storage classes used here (SPIR-V specification, section 3).
enum : uint32_t {
  kOpName = 5,
  kOpMemberName = 6,
  kOpEntryPoint = 15,
  kOpTypeInt = 21,
  kOpTypeFloat = 22,
  kOpTypeStruct = 30,
  kOpTypePointer = 32,
  kOpSpecConstantTrue = 48,
  kOpSpecConstantFalse = 49,
  kOpSpecConstant = 50,
  kOpVariable = 59,
  kOpDecorate = 71,
  kOpMemberDecorate = 72,
  kDecorationSpecId = 1,
  kDecorationBinding = 33,
  kDecorationDescriptorSet = 34,
  kDecorationOffset = 35,
  kStorageUniform = 2,
  kStoragePushConstant = 9,
  kStorageStorageBuffer = 12,
};

struct Member {
  std::string name, type;  // type: the C++ spelling (uint32_t, int32_t, float)
  uint32_t offset = 0, size = 0;
};
struct Spec {
  std::string name;
  uint32_t id = 0;
};
struct Interface {
  std::set<uint32_t> bindings;
  std::vector<Member> push;
  uint32_t push_bytes = 0;
  std::vector<Spec> spec;
};

std::string literal_string(const std::vector<uint32_t>& in, size_t first) {
  std::string s;
  for (size_t i = first; i < in.size(); ++i)
    for (int b = 0; b < 4; ++b) {
      char c = char((in[i] >> (8 * b)) & 0xffu);
      if (c == '\0') return s;
      s += c;
    }
  return s;
}

std::vector<uint32_t> read_words(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw std::runtime_error(path + ": cannot open");
  std::string bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  if (bytes.size() % 4 != 0 || bytes.size() < 20) throw std::runtime_error(path + ": not a SPIR-V module");
  std::vector<uint32_t> words(bytes.size() / 4);
  for (size_t i = 0; i < words.size(); ++i)
    for (int b = 0; b < 4; ++b) words[i] |= uint32_t(uint8_t(bytes[4 * i + b])) << (8 * b);
  if (words[0] != 0x07230203u) throw std::runtime_error(path + ": not a SPIR-V module (magic)");
  return words;
}

Interface reflect(const std::string& path) {
  const std::vector<uint32_t> words = read_words(path);
  std::map<uint32_t, std::vector<uint32_t>> types;  // result id -> instruction
  std::map<uint32_t, std::string> names;            // id -> OpName
  std::map<std::pair<uint32_t, uint32_t>, std::string> member_names;
  std::map<std::pair<uint32_t, uint32_t>, uint32_t> member_offsets;
  std::map<uint32_t, uint32_t> binding, set, spec_id;
  std::vector<std::pair<uint32_t, uint32_t>> variables;  // (pointer type, id) of buffers and push blocks
  std::vector<uint32_t> spec_constants;
  int entry_points = 0;
  for (size_t i = 5; i < words.size();) {
    const uint32_t n = words[i] >> 16, op = words[i] & 0xffffu;
    if (n == 0 || i + n > words.size()) throw std::runtime_error(path + ": truncated instruction");
    const std::vector<uint32_t> in(words.begin() + long(i), words.begin() + long(i + n));
    i += n;
    if (op == kOpName && n >= 3) names[in[1]] = literal_string(in, 2);
    if (op == kOpMemberName && n >= 4) member_names[{in[1], in[2]}] = literal_string(in, 3);
    if (op == kOpEntryPoint && n >= 4) {
      ++entry_points;
      if (literal_string(in, 3) != "main") throw std::runtime_error(path + ": entry point is not 'main'");
    }
    if (op == kOpDecorate && n >= 4 && in[2] == kDecorationBinding) binding[in[1]] = in[3];
    if (op == kOpDecorate && n >= 4 && in[2] == kDecorationDescriptorSet) set[in[1]] = in[3];
    if (op == kOpDecorate && n >= 4 && in[2] == kDecorationSpecId) spec_id[in[1]] = in[3];
    if (op == kOpMemberDecorate && n >= 5 && in[3] == kDecorationOffset) member_offsets[{in[1], in[2]}] = in[4];
    if ((op >= kOpTypeInt && op <= kOpTypePointer) && n >= 2) types[in[1]] = in;
    if (op == kOpVariable && n >= 4 &&
        (in[3] == kStorageUniform || in[3] == kStorageStorageBuffer || in[3] == kStoragePushConstant))
      variables.push_back({in[1], in[2]});
    if ((op == kOpSpecConstant || op == kOpSpecConstantTrue || op == kOpSpecConstantFalse) && n >= 3)
      spec_constants.push_back(in[2]);
  }
  if (entry_points != 1) throw std::runtime_error(path + ": expected one entry point");
  Interface out;
  for (const auto& [ptr_type, id] : variables) {
    const auto& ptr = types.at(ptr_type);
    if (ptr[2] != kStoragePushConstant) {
      if (!binding.count(id)) throw std::runtime_error(path + ": a buffer without a binding");
      if (set.count(id) && set[id] != 0) throw std::runtime_error(path + ": a buffer outside descriptor set 0");
      out.bindings.insert(binding[id]);  // two views of one buffer (float[] and vec4[]) share a binding
      continue;
    }
    if (!out.push.empty()) throw std::runtime_error(path + ": two push-constant blocks");
    const uint32_t block = ptr[3];
    const auto& st = types.at(block);
    if ((st[0] & 0xffffu) != kOpTypeStruct) throw std::runtime_error(path + ": push constants are not a block");
    for (uint32_t m = 0; m + 2 < st.size(); ++m) {
      const auto& t = types.at(st[m + 2]);
      Member mem;
      mem.name = member_names.count({block, m}) ? member_names[{block, m}] : "";
      mem.offset = member_offsets.at({block, m});
      const uint32_t op = t[0] & 0xffffu;
      if (op == kOpTypeInt && t[2] == 32) mem.type = t[3] ? "int32_t" : "uint32_t";
      else if (op == kOpTypeFloat && t[2] == 32) mem.type = "float";
      else throw std::runtime_error(path + ": push-constant member " + mem.name + " is not a 32-bit scalar");
      mem.size = 4;
      out.push_bytes = std::max(out.push_bytes, mem.offset + mem.size);
      out.push.push_back(mem);
    }
  }
  // One entry per SpecId (the workgroup size's id also sizes gl_WorkGroupSize), named by its GLSL constant.
  std::map<uint32_t, std::string> by_id;
  for (uint32_t id : spec_constants)
    if (spec_id.count(id) && (!by_id.count(spec_id[id]) || by_id[spec_id[id]].empty()))
      by_id[spec_id[id]] = names.count(id) ? names[id] : "";
  for (const auto& [id, name] : by_id) {
    if (id != out.spec.size()) throw std::runtime_error(path + ": specialisation constant ids are not 0..n-1");
    out.spec.push_back({name, id});
  }
  return out;
}

std::string enum_name(const std::string& kernel) {
  std::string s = "k";
  bool upper = true;
  for (char c : kernel) {
    if (c == '_') {
      upper = true;
      continue;
    }
    s += upper ? char(std::toupper(static_cast<unsigned char>(c))) : c;
    upper = false;
  }
  return s;
}

struct Kernel {
  std::string name, feature;
  bool built = false;
  Interface iface;
  uint32_t bindings = 0;
};

Kernel parse_entry(const std::string& entry) {
  std::vector<std::string> parts;
  std::stringstream ss(entry);
  for (std::string p; std::getline(ss, p, '|');) parts.push_back(p);
  if (parts.size() < 2) throw std::runtime_error("bad entry '" + entry + "'");
  Kernel k{parts[0], parts[1]};
  if (parts.size() < 3) return k;
  k.built = true;
  k.iface = reflect(parts[2]);
  for (const Member& m : k.iface.push)
    if (m.name.empty()) throw std::runtime_error(parts[2] + ": unnamed push-constant member (compile without -O)");
  k.bindings = k.iface.bindings.empty() ? 0 : *k.iface.bindings.rbegin() + 1;
  if (k.iface.bindings.size() != k.bindings)
    throw std::runtime_error(k.name + ": bindings are not 0.." + std::to_string(k.bindings - 1) + " without gaps");
  for (size_t i = 3; i < parts.size(); ++i) {
    const Interface f = reflect(parts[i]);
    for (uint32_t b : f.bindings)
      if (!k.iface.bindings.count(b))
        throw std::runtime_error(parts[i] + ": binding " + std::to_string(b) + " not declared");
    if (f.push_bytes != k.iface.push_bytes || f.push.size() != k.iface.push.size())
      throw std::runtime_error(parts[i] + ": push-constant block differs from the unoptimised compile");
    for (size_t m = 0; m < f.push.size(); ++m)
      if (f.push[m].offset != k.iface.push[m].offset || f.push[m].type != k.iface.push[m].type)
        throw std::runtime_error(parts[i] + ": push-constant member " + k.iface.push[m].name + " differs");
  }
  return k;
}

std::string header(const std::vector<Kernel>& kernels) {
  std::ostringstream o;
  o << "// Generated at build time by shaders/reflect/reflect_kernels.cpp from the SPIR-V of shaders/*.comp:\n"
       "// each kernel's identifier and interface (docs/vulkan.md, \"Adding a kernel\"). Do not edit.\n"
       "#pragma once\n#include <cstddef>\n#include <cstdint>\n#include <span>\n#include <string_view>\n"
       "#include <type_traits>\n\nnamespace tessera::vk {\n\n";
  o << "enum class KernelId : uint32_t {\n";
  for (const Kernel& k : kernels) o << "  " << enum_name(k.name) << ",  // shaders/" << k.name << ".comp\n";
  o << "};\ninline constexpr uint32_t kKernelCount = " << kernels.size() << ";\n\n";
  o << "struct PushMember {\n  std::string_view name;\n  uint32_t offset, size;\n};\n"
       "struct SpecConstant {\n  std::string_view name;\n  uint32_t id;\n};\n"
       "struct KernelContract {\n  std::string_view name;\n"
       "  std::string_view feature;  // the optional GLSL feature it needs (shader_features.h), or empty\n"
       "  bool built;                // compiled into this build (a gated kernel may not be)\n"
       "  uint32_t bindings;         // storage buffers at bindings 0 .. bindings-1 of set 0\n"
       "  uint32_t push_bytes;\n  std::span<const PushMember> push;\n  std::span<const SpecConstant> spec;\n};\n\n";
  o << "namespace kernel_contract_detail {\n";
  for (const Kernel& k : kernels) {
    if (!k.iface.push.empty()) {
      o << "inline constexpr PushMember " << enum_name(k.name) << "Push[] = {";
      for (const Member& m : k.iface.push) o << "{\"" << m.name << "\", " << m.offset << ", " << m.size << "}, ";
      o << "};\n";
    }
    if (!k.iface.spec.empty()) {
      o << "inline constexpr SpecConstant " << enum_name(k.name) << "Spec[] = {";
      for (const Spec& s : k.iface.spec) o << "{\"" << s.name << "\", " << s.id << "}, ";
      o << "};\n";
    }
  }
  o << "}  // namespace kernel_contract_detail\n\n";
  o << "inline constexpr KernelContract kKernelContracts[kKernelCount] = {\n";
  uint32_t max_bindings = 0, max_push = 0;
  for (const Kernel& k : kernels) {
    const std::string e = enum_name(k.name);
    o << "    {\"" << k.name << "\", \"" << k.feature << "\", " << (k.built ? "true" : "false") << ", " << k.bindings
      << ", " << k.iface.push_bytes << ", " << (k.iface.push.empty() ? "{}" : "kernel_contract_detail::" + e + "Push")
      << ", " << (k.iface.spec.empty() ? "{}" : "kernel_contract_detail::" + e + "Spec") << "},\n";
    max_bindings = std::max(max_bindings, k.bindings);
    max_push = std::max(max_push, k.iface.push_bytes);
  }
  o << "};\n\nconstexpr const KernelContract& kernel_contract(KernelId id) { return kKernelContracts[uint32_t(id)]; }\n"
       "constexpr std::string_view kernel_name(KernelId id) { return kernel_contract(id).name; }\n"
       "// The most any built kernel binds / pushes (the pipeline layouts and descriptor writes are sized for it).\n"
       "inline constexpr uint32_t kReflectedMaxBindings = "
    << max_bindings << ";\ninline constexpr uint32_t kReflectedMaxPushBytes = " << max_push << ";\n\n";
  o << "// TESSERA_VK_PUSH_CONTRACT(kernel, T): the C++ struct T is that kernel's push-constant block: same\n"
       "// size, and for every member of the GLSL block a member of T with the same name, type and offset.\n"
       "// A kernel this build did not compile (a gated variant) has nothing to check against.\n"
       "#define TESSERA_VK_PUSH_CONTRACT(kernel, T) TESSERA_VK_PUSH_CONTRACT_##kernel(T)\n";
  for (const Kernel& k : kernels) {
    o << "#define TESSERA_VK_PUSH_CONTRACT_" << k.name << "(T)";
    if (!k.built) {
      o << " static_assert(true, \"" << k.name << " not built\")\n";
      continue;
    }
    o << " \\\n  static_assert(sizeof(T) == " << k.iface.push_bytes << ", #T \": push constants of " << k.name
      << " are " << k.iface.push_bytes << " bytes\")";
    for (const Member& m : k.iface.push)
      o << "; \\\n  static_assert(offsetof(T, " << m.name << ") == " << m.offset
        << " && std::is_same_v<decltype(T::" << m.name << "), " << m.type << ">, #T \"::" << m.name << ": " << k.name
        << " has " << m.type << " " << m.name << " at offset " << m.offset << "\")";
    o << "\n";
  }
  o << "\n}  // namespace tessera::vk\n";
  return o.str();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: reflect_kernels OUT.h name|feature[|reflect.spv|flavour.spv...]...\n");
    return 2;
  }
  try {
    std::vector<Kernel> kernels;
    for (int i = 2; i < argc; ++i) kernels.push_back(parse_entry(argv[i]));
    const std::string text = header(kernels);
    // Rewrite only on change, so that a shader edit that keeps its interface recompiles nothing.
    std::ifstream old(argv[1], std::ios::binary);
    std::string before((std::istreambuf_iterator<char>(old)), std::istreambuf_iterator<char>());
    if (before != text) {
      std::ofstream out(argv[1], std::ios::binary | std::ios::trunc);
      out << text;
      if (!out) throw std::runtime_error(std::string(argv[1]) + ": cannot write");
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "reflect_kernels: %s\n", e.what());
    return 1;
  }
  return 0;
}
