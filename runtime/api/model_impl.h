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

}  // namespace tessera
