// Exact entmax (sparsemax, alpha = 1.5, alpha = 4/3) at large n on the split passes (filter ->
// threshold -> apply), against the float64 oracle: rows with far more candidates y > -1 than shared
// memory holds (flat rows: small beta), adversarial rows (all equal, ties sitting exactly at tau, a
// dominant key over thousands of candidates near -1, two clusters), and the candidate-list path forced
// on small rows (entmax_shared_limit = 0). Keys are (s_j, 0, 0, 0), the query (1, 0, 0, 0)
// and beta^2 = 1, so the cosine pass yields s_j exactly.
//
// Tolerances: p within 2e-6 absolute (fp32 scores of magnitude <= 3, fp32 moment sums over <= 64K
// candidates; the threshold stops at a support certificate or an interval of a few ulps, so tau is
// within ~1e-7 and |dp| <= r |dtau|); sum p within 1e-5; the support equals the oracle's except
// for keys with |y - tau| <= 1e-6 (fp32 rounding of y itself is ~1e-7: float cannot decide those).
#include <cmath>

#include "support/attention_oracle.h"
#include "vk_test_util.h"

namespace tessera::vk::test {
namespace {

constexpr double kTol = 2e-6;
constexpr uint32_t kRandomRowSteps = 16;  // measured 4-11 (sparsemax the most: piecewise linear)

struct Outcome {
  std::vector<double> p;
  uint32_t status = 0, steps = 0, in_shared = 0, count = 0, support = 0;
};

class VulkanEntmaxLarge : public VulkanTest {
 protected:
  static constexpr uint32_t d = 4;
  Outcome run_row(const AttentionMethod& method, const std::vector<float>& s, uint32_t shared_limit) {
    const uint32_t n = uint32_t(s.size());
    std::vector<float> keys(size_t(n) * d, 0.0f), vals(size_t(n) * d, 0.0f);
    for (uint32_t j = 0; j < n; ++j) keys[j * d] = s[j];
    BufferSlice step = upload({0, 0}), q = upload({1, 0, 0, 0}), k = upload(keys), v = upload(vals);
    BufferSlice one = upload({1}), relu = upload({1, 1}), out = zeros(d);
    AttentionScratchShape shape{1, d, n, 1, attention_workgroup(*ctx_, d), 256};
    auto scratch = make_attention_scratch(*ctx_, ctx_->weights(), shape);
    EXPECT_TRUE(scratch.ok());
    AttentionCall a = one_row_attention(method, n, d, step, q, k, v, one, relu, out);
    a.entmax_shared_limit = shared_limit;
    a.store_weights = true;  // the weights over the scores, 1 / their sum in state word 11
    run([&](Recording& rec) { return record_attention(rec, *ctx_, a, *scratch); });
    auto e = download(scratch->scores, n);
    auto st = download(scratch->ent_state, 16);
    const std::vector<float> z = {st[11]};
    auto word = [&](int i) {
      uint32_t w;
      std::memcpy(&w, &st[size_t(i)], 4);
      return w;
    };
    Outcome o;
    for (float x : e) o.p.push_back(double(x) * z[0]);
    o.steps = word(2), o.status = word(1), o.count = word(3), o.support = word(5), o.in_shared = word(10);
    return o;
  }

  // Checks p against the oracle; returns the outcome for path assertions.
  Outcome check(const char* name, const std::vector<float>& s, uint32_t shared_limit = UINT32_MAX) {
    AttentionMethod m = AttentionMethod::parse(name).value();
    const oracle::EntmaxResult ref = oracle::entmax(m.entmax_alpha(), s);
    const std::vector<double>& y = ref.x;  // (alpha - 1)(s - max s)
    const std::vector<double>& want = ref.p;
    const double tau = ref.tau;
    Outcome got = run_row(m, s, shared_limit);
    EXPECT_EQ(got.status, 1u) << name;
    double sum = 0;
    size_t bad = 0;
    for (size_t j = 0; j < s.size() && bad < 5; ++j) {
      sum += got.p[j];
      bool near_tau = std::abs(y[j] - tau) <= 1e-6;
      if (std::abs(got.p[j] - want[j]) > kTol || (!near_tau && (want[j] == 0.0) != (got.p[j] == 0.0))) {
        ++bad;
        ADD_FAILURE() << name << " n=" << s.size() << " j=" << j << " got " << got.p[j] << " want " << want[j]
                      << " (y - tau = " << y[j] - tau << ")";
      }
    }
    if (bad == 0) {
      EXPECT_NEAR(sum, 1.0, 1e-5) << name << " n=" << s.size() << " candidates " << got.count << " steps " << got.steps;
    }
    // The support list the value pass visits (state word 5): the oracle's support, give or take the keys
    // float cannot decide.
    size_t support = 0, undecided = 0;
    for (size_t j = 0; j < s.size(); ++j) {
      const bool near_tau = std::abs(y[j] - tau) <= 1e-6;
      undecided += near_tau ? 1 : 0;
      support += (!near_tau && want[j] > 0.0) ? 1 : 0;
    }
    EXPECT_GE(got.support, support) << name << " n=" << s.size();
    EXPECT_LE(got.support, support + undecided) << name << " n=" << s.size();
    return got;
  }
};

constexpr const char* kExact[] = {"sparsemax", "entmax15", "entmax43"};

TEST_F(VulkanEntmaxLarge, FlatRowsBeyondSharedMemoryStepOverTheCandidateLists) {
  // Every score within 0.9 of the max: all n keys are candidates, far beyond shared memory.
  std::mt19937 rng(11);
  for (uint32_t n : {4096u, 16384u, 65536u}) {
    std::vector<float> s = random_floats(n, rng, 0.0f, 0.9f);
    for (const char* name : kExact) {
      Outcome o = check(name, s);
      EXPECT_EQ(o.count, n) << name;
      if (n > 8192) {
        EXPECT_EQ(o.in_shared, 0u) << name << ": beyond any device's threshold capacity";
      }
      // Newton from the left certifies random rows' support in a handful of steps (each a pass over
      // the survivors); many more would mean a step that stalls.
      EXPECT_LE(o.steps, kRandomRowSteps) << name << " n=" << n;
    }
  }
}

TEST_F(VulkanEntmaxLarge, CosineLikeRowsAtLargeN) {
  // Gaussian scores (beta^2 cos with small beta): some thousands of candidates, a long tail outside.
  std::mt19937 rng(12);
  std::normal_distribution<float> g(0.0f, 0.4f);
  for (uint32_t n : {8192u, 32768u}) {
    std::vector<float> s(n);
    for (float& x : s) x = g(rng);
    for (const char* name : kExact) check(name, s);
  }
}

TEST_F(VulkanEntmaxLarge, AdversarialLargeRows) {
  const uint32_t n = 65536;
  for (const char* name : kExact) {
    const double am1 = AttentionMethod::parse(name).value().entmax_alpha() - 1;
    // All equal: uniform, tau = -n^(-1/r) exactly on the bracket's upper end.
    SCOPED_TRACE("all equal");
    check(name, std::vector<float>(n, 0.125f));
    // Two dominant keys (p = 1/2 each), all 65534 others candidates at y = -0.9, just outside the
    // support (tau* = -2^(-1/r) > -0.9): f(-1) is huge, the support tiny.
    std::vector<float> dom(n, float(-0.9 / am1));
    dom[0] = dom[n - 1] = 0.0f;
    SCOPED_TRACE("dominant");
    check(name, dom);
    // Two clusters: 1000 keys at the top, 30000 half-way down, the rest outside the bracket.
    std::vector<float> two(n, float(-2.0 / am1));
    for (uint32_t j = 0; j < 31000; ++j) two[j * 2] = j < 1000 ? 0.0f : float(-0.5 / am1);
    SCOPED_TRACE("two clusters");
    check(name, two);
  }
  // Sparsemax: 4 keys at y = 0 give tau = -1/4; 20000 keys sit exactly at tau (weight 0).
  std::vector<float> ties(n, -3.0f);
  for (uint32_t j = 0; j < 4; ++j) ties[j * 7] = 0.0f;
  for (uint32_t j = 0; j < 20000; ++j) ties[100 + j * 3] = -0.25f;
  check("sparsemax", ties);
}

TEST_F(VulkanEntmaxLarge, CandidateListPathForcedOnSmallAndAdversarialRows) {
  std::mt19937 rng(13);
  std::vector<std::vector<float>> rows = {std::vector<float>(100, 0.25f),
                                          {1.0f, 0.0f, 0.0f, 0.0f},
                                          {2.0f, 2.0f, 1.0f, 1.0f, 1.0f},
                                          {100.0f, 0.0f, -3.0f, 0.5f},
                                          {0.3f},
                                          {1e30f, 0.0f, -1e30f, 5e29f},
                                          {1e-30f, 0.0f, -1e-30f, 2e-30f, 0.0f}};
  for (uint32_t n : {7u, 64u, 65u, 500u, 3000u}) rows.push_back(random_floats(n, rng, -8.0f, 8.0f));
  for (const auto& s : rows)
    for (const char* name : kExact) {
      Outcome o = check(name, s, 0);
      EXPECT_EQ(o.in_shared, 0u);
    }
}

TEST_F(VulkanEntmaxLarge, RowsThatFitAreHeldInSharedMemory) {
  std::mt19937 rng(14);
  std::vector<float> s = random_floats(20000, rng, -80.0f, 8.0f);  // few candidates among 20000 keys
  for (const char* name : kExact) {
    Outcome o = check(name, s);
    EXPECT_EQ(o.in_shared, 1u) << name << ": " << o.count << " candidates";
    EXPECT_LE(o.steps, kRandomRowSteps) << name;
  }
}

}  // namespace
}  // namespace tessera::vk::test
