// Checking a resource request before anything is allocated: overflow-checked size arithmetic and
// the memory this machine has. A request that cannot fit is a kResourceExhausted error with the
// numbers in it, never a bad_alloc, a wrapped size or an allocation that runs until the OOM killer.
#pragma once

#include <cstdint>
#include <string>

#include "tessera/status.h"

namespace tessera {

// An unsigned 64-bit size that remembers whether any step of its computation overflowed.
class CheckedSize {
 public:
  constexpr CheckedSize(uint64_t v = 0) : value_(v) {}  // NOLINT: implicit by design
  static CheckedSize of(int64_t v) {                    // a negative count is as unrepresentable as an overflow
    CheckedSize s(v < 0 ? 0 : uint64_t(v));
    s.overflow_ = v < 0;
    return s;
  }
  CheckedSize operator*(CheckedSize o) const {
    CheckedSize r;
    r.overflow_ = overflow_ || o.overflow_ || __builtin_mul_overflow(value_, o.value_, &r.value_);
    return r;
  }
  CheckedSize operator+(CheckedSize o) const {
    CheckedSize r;
    r.overflow_ = overflow_ || o.overflow_ || __builtin_add_overflow(value_, o.value_, &r.value_);
    return r;
  }
  bool overflowed() const { return overflow_; }
  uint64_t value() const { return value_; }

 private:
  uint64_t value_ = 0;
  bool overflow_ = false;
};

// Physical memory of this machine in bytes (UINT64_MAX when the OS does not say).
uint64_t physical_memory_bytes();

// "123456789 bytes (117.7 MiB)".
std::string byte_count_text(uint64_t bytes);

// ok when `bytes` (did not overflow and) fits in physical memory; else kResourceExhausted:
// "<what> needs N bytes (...), more than the M bytes of memory of this machine".
Status check_memory_request(CheckedSize bytes, const std::string& what);

}  // namespace tessera
