/// @file
/// The attention transforms of the contextual memory (the seed paper's kernel zoo).
#pragma once

#include <string>
#include <string_view>

#include "tessera/export.h"
#include "tessera/status.h"

namespace tessera {

/// The attention transform (normalisation of the scores) of the contextual memory.
enum class AttentionKind {
  kSoftmax,      ///< Gaussian kernel
  kSparsemax,    ///< α = 2, Epanechnikov ("epanechnikov" in the seed code)
  kEntmax15,     ///< α = 1.5, biweight
  kEntmax43,     ///< α = 4/3, triweight
  kEntmaxAlpha,  ///< general α > 1 (`alpha`)
  kReluMax,      ///< relu(β²(s - max s) + b)/sum   (regular seed file; EFT: β² on cosines)
  kNormRelu,     ///< normalised ReLU (fixed-bandwidth Epanechnikov), per `norm_relu_form`
  kTopKSoftmax,  ///< softmax over the `top_k` largest scores
  kTopKUniform,  ///< 1/K on the `top_k` largest scores
};

/// Which of the seed's two files defined norm_relu / relumax (they differ; see docs/format.md).
enum class SeedForm {
  kRegular,  ///< the regular architecture's file
  kEft,      ///< the EFT file
};

/// An attention transform with its parameters, as stored in a model.
struct TESSERA_API AttentionMethod {
  AttentionKind kind = AttentionKind::kSoftmax;  ///< which transform
  double alpha = 1.0;                            ///< kEntmaxAlpha only (α > 1); implied for the others
  int top_k = 0;                                 ///< kTopK* only
  SeedForm form = SeedForm::kRegular;            ///< kReluMax / kNormRelu only
  double relumax_b = 1.0;                        ///< kReluMax margin b > 0

  /// Canonical name, as stored in GGUF: "softmax", "sparsemax", "entmax15", "entmax43",
  /// "entmax:1.25", "relumax", "norm_relu", "top4_softmax", "top4_uniform".
  std::string name() const;
  /// Accepts the canonical names and the seed code's ("epanechnikov", "biweight", "triweight",
  /// "top{K}_softmax", "top{K}_uniform", "relumax", "norm_relu"); kInvalidArgument otherwise.
  static Result<AttentionMethod> parse(std::string_view name);
  /// The α of the entmax family (2 for sparsemax, 1.5, 4/3, alpha); 1 for softmax; 0 otherwise.
  double entmax_alpha() const;
};

}  // namespace tessera
