// What stands behind the public Model handle.
#pragma once

#include <memory>

#include "backend/backend.h"
#include "format/gguf.h"
#include "model/model_weights.h"
#include "tessera/tessera.h"

namespace tessera {

class ModelImpl {
 public:
  std::shared_ptr<const gguf::File> file;
  std::shared_ptr<const ModelWeights> weights;
  std::unique_ptr<Backend> backend;
  ModelInfo info;
};

// The capacity a session of `max_tokens` (0: the model's context) gets, after checking it against the
// backend's position limit and the machine's memory (kResourceExhausted with the numbers).
Result<int64_t> session_capacity(const ModelImpl& m, int64_t max_tokens);

}  // namespace tessera
