// The one interface every backend (cpu-f32, vulkan, cpu-int8) implements. The Session above it
// owns positions and sampling; nothing above backend/ knows which backend runs.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "core/resources.h"
#include "tessera/status.h"

namespace tessera {

class ModelWeights;

// One sequence's state on a backend: leaky-average states, key/value caches, scratch.
class BackendSequence {
 public:
  virtual ~BackendSequence() = default;
  // Feeds tokens [position, position + n) and advances. Writes next-token logits:
  // all n rows into `logits` (n × V) when all_rows, else only the last row (V floats).
  // The Session owns the request checks and has made them: 1 <= n, position + n <= capacity(),
  // every token in [0, V), `logits` of the right size. A backend trusts them and does not repeat them.
  virtual Status forward(std::span<const int32_t> tokens, std::span<float> logits, bool all_rows) = 0;
  virtual void reset() = 0;
  virtual int64_t position() const = 0;
  virtual int64_t capacity() const = 0;
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::string name() const = 0;  // "cpu", "vulkan (<device name>)", "cpu-int8"
  // The most positions one sequence can hold on this backend (index widths, dispatch sizes).
  virtual int64_t max_sequence_positions() const { return INT64_MAX; }
  // The memory one sequence of `max_tokens` positions takes (caches, scratch, logits), computed with
  // overflow checks so the Session can refuse a request before anything is allocated.
  virtual CheckedSize sequence_state_bytes(int64_t max_tokens) const = 0;
  // Allocates everything the sequence needs for up to `max_tokens` positions, once. The Session has
  // checked 1 <= max_tokens <= max_sequence_positions() and that sequence_state_bytes fits.
  virtual Result<std::unique_ptr<BackendSequence>> new_sequence(int64_t max_tokens) = 0;
  // Caller-supplied state memory (cpu-int8): the bytes a sequence of `max_tokens` needs, 0 when the
  // backend cannot take an arena; new_sequence_in places every per-sequence buffer in `arena`
  // (any alignment, at least sequence_arena_bytes; the Session checks the size) and allocates
  // nothing per token.
  virtual CheckedSize sequence_arena_bytes(int64_t max_tokens) const { return 0; }
  virtual Result<std::unique_ptr<BackendSequence>> new_sequence_in(int64_t max_tokens, std::span<std::byte> arena) {
    return Status(StatusCode::kUnsupported, name() + " does not take a caller-supplied arena");
  }
};

}  // namespace tessera
