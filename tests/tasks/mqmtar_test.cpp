// The C++ MQMTAR generator against the Python one (tests/data/mqmtar/golden.json, written by
// `python3 tools/tasks/mqmtar.py --golden`), and the task's structure checked from the sequences themselves.
#include "tasks/mqmtar.h"

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

namespace tessera::tasks {
namespace {

nlohmann::json golden() {
  std::ifstream in(std::string(TESSERA_TEST_DATA) + "/mqmtar/golden.json");
  EXPECT_TRUE(in.good());
  return nlohmann::json::parse(in);
}

TEST(Mqmtar, SplitMix64MatchesPython) {
  const auto g = golden();
  SplitMix64 rng(0);
  for (const auto& want : g["splitmix64_seed0"]) EXPECT_EQ(std::to_string(rng.next()), want.get<std::string>());
  // Published first output of splitmix64 seeded with 0.
  EXPECT_EQ(SplitMix64(0).next(), 0xE220A8397B1DCDAFull);
}

TEST(Mqmtar, SequencesEqualPythonGenerator) {
  const auto g = golden();
  ASSERT_GE(g["cases"].size(), 4u);
  for (const auto& c : g["cases"]) {
    Mqmtar task(c["seed"].get<uint64_t>());
    EXPECT_EQ(task.key(0), c["first_key"].get<std::vector<int32_t>>());
    EXPECT_EQ(task.value(0), c["first_value"].get<std::vector<int32_t>>());
    EXPECT_EQ(task.key(task.vocabulary() - 1), c["last_key"].get<std::vector<int32_t>>());
    for (const auto& seq : c["sequences"]) {
      auto s = task.sample(c["length"].get<int>(), c["vary"].get<int>());
      ASSERT_TRUE(s.ok()) << s.status().to_string();
      EXPECT_EQ(s->wrapped(), seq.get<std::vector<int32_t>>()) << "seed " << c["seed"] << " length " << c["length"];
    }
  }
}

// Independent check of the format: every query's key occurs once in the pairs region, the target holds its
// value, units are L // num_kv tokens long, and ids stay in the vocabulary.
TEST(Mqmtar, StructureFollowsTheSpec) {
  for (int length : {64, 128, 512, 4096}) {
    Mqmtar task(mqmtar_eval_seed(3, length));
    auto s = task.sample(length);
    ASSERT_TRUE(s.ok());
    const int num_kv = (length * 4) / 30;  // floor(0.8 L / 6)
    const int unit = length / num_kv;
    ASSERT_EQ(s->source.size(), static_cast<size_t>(num_kv * unit + 12));
    std::map<std::pair<int, int>, std::pair<int, int>> pairs;
    for (int i = 0; i < num_kv; ++i) {
      const auto* u = &s->source[static_cast<size_t>(i * unit)];
      int pos = 0;
      while (u[pos] == kMqmtarSpace) ++pos;
      ASSERT_LE(pos + 6, unit);
      EXPECT_EQ(u[pos + 2], kMqmtarKvSep);
      EXPECT_EQ(u[pos + 5], kMqmtarSpace);
      for (int j : {0, 1, 3, 4}) {
        EXPECT_GE(u[pos + j], kMqmtarAlphabetStart);
        EXPECT_LT(u[pos + j], kMqmtarBos);
      }
      for (int j = pos + 5; j < unit; ++j) EXPECT_EQ(u[j], kMqmtarSpace);
      EXPECT_TRUE(pairs.insert({{u[pos], u[pos + 1]}, {u[pos + 3], u[pos + 4]}}).second) << "keys are distinct";
    }
    ASSERT_EQ(s->target.size(), 12u);
    for (int q = 0; q < 4; ++q) {
      const size_t at = static_cast<size_t>(num_kv * unit + 3 * q);
      EXPECT_EQ(s->source[at], kMqmtarQuerySep);
      const auto it = pairs.find({s->source[at + 1], s->source[at + 2]});
      ASSERT_NE(it, pairs.end());
      EXPECT_EQ(s->target[3 * q], kMqmtarQuerySep);
      EXPECT_EQ(s->target[3 * q + 1], it->second.first);
      EXPECT_EQ(s->target[3 * q + 2], it->second.second);
    }
    const auto w = s->wrapped();
    EXPECT_EQ(w.front(), kMqmtarBos);
    EXPECT_EQ(w.back(), kMqmtarEos);
    EXPECT_EQ(w[w.size() - 14], kMqmtarSep);
  }
}

TEST(Mqmtar, ScoreCountsPairsWithBothTokensRight) {
  const std::vector<int32_t> target = {2, 10, 11, 2, 12, 13, 2, 14, 15, 2, 16, 17};
  std::vector<int32_t> pred = target;
  pred.push_back(kMqmtarEos);
  auto r = mqmtar_score(pred, target);
  EXPECT_EQ(r.pairs_right, 4);
  EXPECT_TRUE(r.exact);
  pred[2] = 99;  // pair 0: second value token wrong
  pred[3] = 99;  // a separator wrong does not count against pair 1
  r = mqmtar_score(pred, target);
  EXPECT_EQ(r.pairs_right, 3);
  EXPECT_FALSE(r.exact);
}

TEST(Mqmtar, TooShortLengthIsAnError) {
  Mqmtar task(1);
  auto s = task.sample(20);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("too short"), std::string::npos);
  EXPECT_FALSE(task.sample(48, 48).ok());
}

}  // namespace
}  // namespace tessera::tasks
