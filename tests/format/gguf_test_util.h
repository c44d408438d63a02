// Test-side GGUF byte builder, written from the spec independently of runtime/format/gguf_writer.cpp,
// so tests can craft exact (and deliberately broken) files.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace gguf_test {

struct Bytes {
  std::vector<std::byte> b;
  template <class T>
  Bytes& raw(T v) {
    unsigned char tmp[sizeof(T)];
    std::memcpy(tmp, &v, sizeof(T));
    for (unsigned char c : tmp) b.push_back(std::byte(c));
    return *this;
  }
  Bytes& u8(uint8_t v) { return raw(v); }
  Bytes& u32(uint32_t v) { return raw(v); }
  Bytes& u64(uint64_t v) { return raw(v); }
  Bytes& str(const std::string& s) {
    u64(s.size());
    for (char c : s) b.push_back(std::byte(c));
    return *this;
  }
  Bytes& header(uint64_t n_tensors, uint64_t n_kv, uint32_t version = 3) {
    for (char c : std::string("GGUF")) b.push_back(std::byte(c));
    return u32(version).u64(n_tensors).u64(n_kv);
  }
  // key + type 4 (u32) + value
  Bytes& kv_u32(const std::string& key, uint32_t v) { return str(key).u32(4).u32(v); }
  Bytes& kv_str(const std::string& key, const std::string& v) { return str(key).u32(8).str(v); }
  // name, dims (innermost first, as stored), type, offset
  Bytes& tensor_info(const std::string& name, std::vector<uint64_t> dims, uint32_t type, uint64_t offset) {
    str(name).u32(uint32_t(dims.size()));
    for (uint64_t d : dims) u64(d);
    return u32(type).u64(offset);
  }
  Bytes& pad_to(size_t alignment) {
    while (b.size() % alignment) b.push_back(std::byte{0});
    return *this;
  }
  Bytes& zeros(size_t n) {
    b.insert(b.end(), n, std::byte{0});
    return *this;
  }
  size_t size() const { return b.size(); }
};

// A fresh, empty folder under the build tree for one test.
inline std::filesystem::path scratch_dir(const std::string& suite) {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  auto dir = std::filesystem::path(TESSERA_BINARY_DIR) / "test-scratch" / suite / info->name();
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

inline void write_bytes(const std::filesystem::path& p, const std::vector<std::byte>& b) {
  std::ofstream f(p, std::ios::binary);
  f.write(reinterpret_cast<const char*>(b.data()), std::streamsize(b.size()));
}

inline std::vector<std::byte> read_bytes(const std::filesystem::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::vector<char> c((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  std::vector<std::byte> out(c.size());
  if (!c.empty()) std::memcpy(out.data(), c.data(), c.size());
  return out;
}

}  // namespace gguf_test
