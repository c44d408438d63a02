#include "core/resources.h"

#include <unistd.h>

#include <cstdio>

namespace tessera {

uint64_t physical_memory_bytes() {
  const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
  if (pages <= 0 || page <= 0) return UINT64_MAX;
  const CheckedSize total = CheckedSize(uint64_t(pages)) * CheckedSize(uint64_t(page));
  return total.overflowed() ? UINT64_MAX : total.value();
}

std::string byte_count_text(uint64_t bytes) {
  char buf[96];
  const double gib = double(bytes) / double(uint64_t(1) << 30), mib = double(bytes) / double(uint64_t(1) << 20);
  if (gib >= 1.0) std::snprintf(buf, sizeof buf, "%llu bytes (%.1f GiB)", (unsigned long long)bytes, gib);
  else std::snprintf(buf, sizeof buf, "%llu bytes (%.1f MiB)", (unsigned long long)bytes, mib);
  return buf;
}

Status check_memory_request(CheckedSize bytes, const std::string& what) {
  const uint64_t have = physical_memory_bytes();
  if (bytes.overflowed())
    return resource_exhausted(what + " needs more than 2^64 bytes; this machine has " + byte_count_text(have));
  if (bytes.value() > have)
    return resource_exhausted(what + " needs " + byte_count_text(bytes.value()) + ", more than the " +
                              byte_count_text(have) + " of memory of this machine");
  return Status();
}

}  // namespace tessera
