// XXH64 against published vectors (the xxHash reference: XXH64("", 0), XXH64("abc", 0), and the
// python-xxhash README's example), and incremental updates against one-shot hashing.
#include "core/hash64.h"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

namespace tessera {
namespace {

uint64_t of(const std::string& s) { return hash64({reinterpret_cast<const std::byte*>(s.data()), s.size()}); }

TEST(Hash64, PublishedVectors) {
  EXPECT_EQ(of(""), 0xef46db3751d8e999ull);
  EXPECT_EQ(of("abc"), 0x44bc2cf5ad770999ull);
  EXPECT_EQ(of("Nobody inspects the spammish repetition"), 0xfbcea83c8a378bf1ull);  // 39 bytes: stripes + tail
  EXPECT_EQ(hash64_hex(0x44bc2cf5ad770999ull), "44bc2cf5ad770999");
}

TEST(Hash64, AnySplitOfTheInputGivesTheSameHash) {
  std::vector<unsigned char> data(1000);
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<unsigned char>(i * 131 + 7);
  const uint64_t whole = hash64({reinterpret_cast<const std::byte*>(data.data()), data.size()});
  for (size_t chunk : {1, 3, 7, 31, 32, 33, 64, 999}) {
    Hash64 h;
    for (size_t i = 0; i < data.size(); i += chunk) h.update(data.data() + i, std::min(chunk, data.size() - i));
    EXPECT_EQ(h.digest(), whole) << chunk;
  }
  data[500] ^= 1;
  EXPECT_NE(hash64({reinterpret_cast<const std::byte*>(data.data()), data.size()}), whole);
}

}  // namespace
}  // namespace tessera
