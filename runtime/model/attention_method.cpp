#include <charconv>
#include <cmath>
#include <cstdio>

#include "tessera/attention.h"
#include "core/printable.h"

namespace tessera {

std::string AttentionMethod::name() const {
  switch (kind) {
    case AttentionKind::kSoftmax: return "softmax";
    case AttentionKind::kSparsemax: return "sparsemax";
    case AttentionKind::kEntmax15: return "entmax15";
    case AttentionKind::kEntmax43: return "entmax43";
    case AttentionKind::kEntmaxAlpha: {
      char buf[64];
      std::snprintf(buf, sizeof buf, "entmax:%.17g", alpha);
      return buf;
    }
    case AttentionKind::kReluMax: return "relumax";
    case AttentionKind::kNormRelu: return "norm_relu";
    case AttentionKind::kTopKSoftmax: return "top" + std::to_string(top_k) + "_softmax";
    case AttentionKind::kTopKUniform: return "top" + std::to_string(top_k) + "_uniform";
  }
  return "?";
}

double AttentionMethod::entmax_alpha() const {
  switch (kind) {
    case AttentionKind::kSoftmax: return 1.0;
    case AttentionKind::kSparsemax: return 2.0;
    case AttentionKind::kEntmax15: return 1.5;
    case AttentionKind::kEntmax43: return 4.0 / 3.0;
    case AttentionKind::kEntmaxAlpha: return alpha;
    default: return 0.0;
  }
}

static bool parse_top_k(std::string_view s, std::string_view suffix, int* k) {
  if (s.size() <= 3 + suffix.size() || s.substr(0, 3) != "top" || !s.ends_with(suffix)) return false;
  std::string_view digits = s.substr(3, s.size() - 3 - suffix.size());
  auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), *k);
  return ec == std::errc() && p == digits.data() + digits.size();
}

Result<AttentionMethod> AttentionMethod::parse(std::string_view s) {
  AttentionMethod m;
  if (s == "softmax") {
    m.kind = AttentionKind::kSoftmax;
    return m;
  }
  if (s == "sparsemax" || s == "epanechnikov") {
    m.kind = AttentionKind::kSparsemax;
    return m;
  }
  if (s == "entmax15" || s == "biweight") {
    m.kind = AttentionKind::kEntmax15;
    return m;
  }
  if (s == "entmax43" || s == "triweight") {
    m.kind = AttentionKind::kEntmax43;
    return m;
  }
  if (s == "relumax") {
    m.kind = AttentionKind::kReluMax;
    return m;
  }
  if (s == "norm_relu") {
    m.kind = AttentionKind::kNormRelu;
    return m;
  }
  if (s.starts_with("entmax:")) {
    std::string v(s.substr(7));
    char* end = nullptr;
    double a = std::strtod(v.c_str(), &end);
    if (v.empty() || *end != '\0' || !std::isfinite(a) || a <= 1.0)
      return invalid_argument("attention method '" + printable_prefix(s, 64) +
                              "': expected entmax:<alpha> with alpha > 1");
    m.kind = AttentionKind::kEntmaxAlpha;
    m.alpha = a;
    return m;
  }
  int k = 0;
  if (parse_top_k(s, "_softmax", &k) || parse_top_k(s, "_uniform", &k)) {
    if (k < 1) return invalid_argument("attention method '" + printable_prefix(s, 64) + "': K must be >= 1");
    m.kind = s.ends_with("_softmax") ? AttentionKind::kTopKSoftmax : AttentionKind::kTopKUniform;
    m.top_k = k;
    return m;
  }
  return invalid_argument("unknown attention method '" + printable_prefix(s, 64) +
                          "': expected softmax, sparsemax|epanechnikov, entmax15|biweight, "
                          "entmax43|triweight, entmax:<alpha>, relumax, norm_relu, "
                          "top<K>_softmax or top<K>_uniform");
}

}  // namespace tessera
