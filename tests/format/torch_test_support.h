// Builders for hand-crafted torch-style archives in tests: a minimal stored-ZIP writer and a
// pickle byte builder. They write what the format says, independently of the readers under test.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "format/zip_reader.h"  // crc32_ieee (checked against a known vector in zip_reader_test)

namespace tessera::testing {

inline void put_le(std::string& out, uint64_t v, int n) {
  for (int i = 0; i < n; ++i) out.push_back(i < 8 ? char((v >> (8 * i)) & 0xFF) : char(0));
}

inline uint32_t crc_of(const std::string& s) {
  return crc32_ieee({reinterpret_cast<const std::byte*>(s.data()), s.size()});
}

// A plain (non-ZIP64) archive of stored entries, in order.
inline std::string make_zip(const std::vector<std::pair<std::string, std::string>>& entries) {
  std::string out, cd;
  for (const auto& [name, data] : entries) {
    const uint64_t offset = out.size();
    put_le(out, 0x04034b50, 4);
    put_le(out, 20, 2);  // version needed
    put_le(out, 0, 2);   // flags
    put_le(out, 0, 2);   // method: stored
    put_le(out, 0, 4);   // time, date
    put_le(out, crc_of(data), 4);
    put_le(out, data.size(), 4);
    put_le(out, data.size(), 4);
    put_le(out, name.size(), 2);
    put_le(out, 0, 2);
    out += name;
    out += data;
    put_le(cd, 0x02014b50, 4);
    put_le(cd, 20, 2);
    put_le(cd, 20, 2);
    put_le(cd, 0, 2);
    put_le(cd, 0, 2);
    put_le(cd, 0, 4);
    put_le(cd, crc_of(data), 4);
    put_le(cd, data.size(), 4);
    put_le(cd, data.size(), 4);
    put_le(cd, name.size(), 2);
    put_le(cd, 0, 2);  // extra
    put_le(cd, 0, 2);  // comment
    put_le(cd, 0, 2);  // disk
    put_le(cd, 0, 2);  // internal attributes
    put_le(cd, 0, 4);  // external attributes
    put_le(cd, offset, 4);
    cd += name;
  }
  const uint64_t cd_offset = out.size();
  out += cd;
  put_le(out, 0x06054b50, 4);
  put_le(out, 0, 4);  // disks
  put_le(out, entries.size(), 2);
  put_le(out, entries.size(), 2);
  put_le(out, cd.size(), 4);
  put_le(out, cd_offset, 4);
  put_le(out, 0, 2);
  return out;
}

// Pickle opcodes, protocol 2 unless said otherwise.
struct PickleBuilder {
  std::string s = std::string("\x80\x02", 2);
  PickleBuilder& op(char c) {
    s.push_back(c);
    return *this;
  }
  PickleBuilder& raw(const std::string& r) {
    s += r;
    return *this;
  }
  PickleBuilder& str(const std::string& v) {
    s.push_back('X');
    put_le(s, v.size(), 4);
    s += v;
    return *this;
  }
  PickleBuilder& integer(int32_t v) {
    s.push_back('J');
    put_le(s, uint32_t(v), 4);
    return *this;
  }
  PickleBuilder& global(const std::string& module, const std::string& name) {
    s += "c" + module + "\n" + name + "\n";
    return *this;
  }
  PickleBuilder& mark() { return op('('); }
  PickleBuilder& tuple() { return op('t'); }
  PickleBuilder& stop() { return op('.'); }
  PickleBuilder& int_tuple(const std::vector<int32_t>& v) {
    mark();
    for (int32_t x : v) integer(x);
    return tuple();
  }
};

// One tensor entry of a crafted state dict: _rebuild_tensor_v2(persistent storage, offset, size, stride).
struct FakeTensor {
  std::string name;
  std::string key = "0";
  int32_t numel = 4;
  int32_t offset = 0;
  std::vector<int32_t> size = {4};
  std::vector<int32_t> stride = {1};
  std::string storage_class = "FloatStorage";
};

inline void append_tensor(PickleBuilder& p, const FakeTensor& t) {
  p.global("torch._utils", "_rebuild_tensor_v2").mark();
  p.mark().str("storage").global("torch", t.storage_class).str(t.key).str("cpu").integer(t.numel).tuple().op('Q');
  p.integer(t.offset).int_tuple(t.size).int_tuple(t.stride).op('\x89');
  p.global("collections", "OrderedDict").op(')').op('R');
  p.tuple().op('R');
}

// {"model": {name: tensor, ...}} (protocol 2), or a bare dict when `wrap_in_model` is false.
inline std::string state_dict_pickle(const std::vector<FakeTensor>& tensors, bool wrap_in_model = true) {
  PickleBuilder p;
  if (wrap_in_model) p.op('}').str("model");
  p.op('}').mark();
  for (const FakeTensor& t : tensors) {
    p.str(t.name);
    append_tensor(p, t);
  }
  p.op('u');
  if (wrap_in_model) p.op('s');
  return p.stop().s;
}

// 4 little-endian float32 values 1, 2, 3, 4 ... as a storage record.
inline std::string f32_bytes(int n) {
  std::string out;
  for (int i = 0; i < n; ++i) {
    float f = float(i + 1);
    uint32_t bits;
    static_assert(sizeof bits == sizeof f);
    __builtin_memcpy(&bits, &f, 4);
    put_le(out, bits, 4);
  }
  return out;
}

inline std::span<const std::byte> as_bytes(const std::string& s) {
  return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}

}  // namespace tessera::testing
