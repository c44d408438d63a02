#include "tasks/mqmtar.h"

#include <string>
#include <unordered_set>

namespace tessera::tasks {
namespace {
constexpr int kAbcSize = 256, kKeyLen = 2, kValueLen = 2, kQueries = 4, kVocabulary = 10000;
constexpr int kKvLen = kKeyLen + kValueLen + 1;      // k1 k2 1 v1 v2
constexpr int kUnit = kKeyLen + kValueLen + 2;       // ... plus the separating space
constexpr int kPairShareNum = 4, kPairShareDen = 5;  // 0.8 of the source holds pairs

// `count` distinct integers from [0, n) in draw order (rejects repeats), as mqmtar.py's distinct().
std::vector<uint64_t> distinct(SplitMix64& rng, uint64_t n, size_t count) {
  std::unordered_set<uint64_t> seen;
  std::vector<uint64_t> out;
  out.reserve(count);
  while (out.size() < count) {
    uint64_t x = rng.below(n);
    if (seen.insert(x).second) out.push_back(x);
  }
  return out;
}
}  // namespace

uint64_t SplitMix64::next() {
  state_ += 0x9E3779B97F4A7C15ull;
  uint64_t z = state_;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

uint64_t SplitMix64::below(uint64_t n) {
  // limit = 2^64 - (2^64 mod n); (0 - n) % n == 2^64 mod n in unsigned arithmetic.
  const uint64_t rem = (0 - n) % n;
  for (;;) {
    uint64_t x = next();
    if (rem == 0 || x < 0 - rem) return x % n;
  }
}

std::vector<int32_t> MqmtarSample::wrapped() const {
  std::vector<int32_t> s;
  s.reserve(source.size() + target.size() + 3);
  s.push_back(kMqmtarBos);
  s.insert(s.end(), source.begin(), source.end());
  s.push_back(kMqmtarSep);
  s.insert(s.end(), target.begin(), target.end());
  s.push_back(kMqmtarEos);
  return s;
}

std::vector<int32_t> Mqmtar::word(uint64_t index) const {
  std::vector<int32_t> w(kKeyLen);
  for (int i = kKeyLen - 1; i >= 0; --i) {
    w[i] = kMqmtarAlphabetStart + static_cast<int32_t>(index % kAbcSize);
    index /= kAbcSize;
  }
  return w;
}

Mqmtar::Mqmtar(uint64_t seed) : rng_(seed) {
  const uint64_t words = uint64_t{kAbcSize} * kAbcSize;
  for (uint64_t i : distinct(rng_, words, kVocabulary)) keys_.push_back(word(i));
  for (uint64_t i : distinct(rng_, words, kVocabulary)) values_.push_back(word(i));
}

Result<MqmtarSample> Mqmtar::sample(int length, int vary) {
  if (vary < 0 || vary >= length)
    return invalid_argument("mqmtar: vary must be in [0, length), got length " + std::to_string(length) + " vary " +
                            std::to_string(vary));
  const int seq_len = length - vary + static_cast<int>(rng_.below(2 * static_cast<uint64_t>(vary) + 1));
  int num_kv = static_cast<int>((int64_t{seq_len} * kPairShareNum) / (kPairShareDen * kUnit));
  if (num_kv > static_cast<int>(keys_.size())) num_kv = static_cast<int>(keys_.size());
  const int unit_len = seq_len / (num_kv > 0 ? num_kv : 1);
  if (num_kv < kQueries || unit_len < kKvLen + 1)
    return invalid_argument("mqmtar: length " + std::to_string(seq_len) + " is too short for " +
                            std::to_string(kQueries) + " queries (needs >= 30)");
  const auto k_ids = distinct(rng_, keys_.size(), static_cast<size_t>(num_kv));
  const auto v_ids = distinct(rng_, values_.size(), static_cast<size_t>(num_kv));
  const int zeros_len = (unit_len + 1) * 2;
  const int n_before = zeros_len / 2 - kKvLen / 2;
  const int n_slots = zeros_len - (kKvLen + 1);
  MqmtarSample s;
  s.source.reserve(static_cast<size_t>(seq_len) + 3 * kQueries);
  for (int i = 0; i < num_kv; ++i) {
    // The spaces that survive deletion: a uniform subset of the slots (selection sampling), as mqmtar.py.
    int keep = unit_len - (kKvLen + 1), before = 0;
    for (int slot = 0; slot < n_slots; ++slot) {
      if (rng_.below(static_cast<uint64_t>(n_slots - slot)) < static_cast<uint64_t>(keep)) {
        --keep;
        before += slot < n_before ? 1 : 0;
      }
    }
    const int after = unit_len - (kKvLen + 1) - before;
    s.source.insert(s.source.end(), static_cast<size_t>(before), kMqmtarSpace);
    const auto& k = keys_[k_ids[i]];
    const auto& v = values_[v_ids[i]];
    s.source.insert(s.source.end(), k.begin(), k.end());
    s.source.push_back(kMqmtarKvSep);
    s.source.insert(s.source.end(), v.begin(), v.end());
    s.source.insert(s.source.end(), static_cast<size_t>(after) + 1, kMqmtarSpace);
  }
  for (int q = 0; q < kQueries; ++q) {
    const uint64_t pick = rng_.below(static_cast<uint64_t>(num_kv));
    const auto& k = keys_[k_ids[pick]];
    const auto& v = values_[v_ids[pick]];
    s.source.push_back(kMqmtarQuerySep);
    s.source.insert(s.source.end(), k.begin(), k.end());
    s.target.push_back(kMqmtarQuerySep);
    s.target.insert(s.target.end(), v.begin(), v.end());
  }
  return s;
}

uint64_t mqmtar_eval_seed(uint64_t base_seed, int length) {
  return base_seed * 1000003ull + static_cast<uint64_t>(length);
}

MqmtarScore mqmtar_score(const std::vector<int32_t>& predicted, const std::vector<int32_t>& target) {
  MqmtarScore r;
  r.pairs = static_cast<int>(target.size() / 3);
  for (int i = 0; i < r.pairs; ++i) {
    const size_t a = 3 * static_cast<size_t>(i) + 1, b = a + 1;
    if (b < predicted.size() && predicted[a] == target[a] && predicted[b] == target[b]) ++r.pairs_right;
  }
  r.exact = r.pairs_right == r.pairs;
  return r;
}

}  // namespace tessera::tasks
