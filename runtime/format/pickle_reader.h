// A RESTRICTED unpickler for the data.pkl that torch.save writes (protocols 2..5, binary opcodes).
// It builds a small value tree and never executes anything: a global is accepted only if it is one
// torch.save emits for a state dict (tensor rebuilders, legacy storage classes, OrderedDict); any
// other global (os.system, builtins.eval, ...) is refused with an error naming it, at the opcode
// that mentions it. Tensors stay symbolic (storage key + offset + size + stride): resolving them
// against the archive is torch_checkpoint.cpp's job.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "tessera/status.h"

namespace tessera {

enum class PyKind : uint8_t {
  kNone,
  kBool,
  kInt,
  kBigInt,
  kFloat,
  kStr,
  kBytes,
  kTuple,
  kList,
  kDict,
  kGlobal,   // an accepted global (a class or function), not called yet
  kStorage,  // persistent id ('storage', <torch.*Storage>, key, location, numel)
  kTensor,   // result of torch._utils._rebuild_tensor_v2 / _rebuild_parameter
};
const char* py_kind_name(PyKind kind);

struct PyValue;

struct PyStorageRef {
  DType dtype = DType::kF32;
  std::string key;       // the record name under <folder>/data/
  std::string location;  // "cpu", "cuda:0", ...
  int64_t numel = 0;     // elements, as the persistent id says
};

struct PyTensorRef {
  const PyValue* storage = nullptr;  // kind kStorage
  int64_t storage_offset = 0;        // in elements
  std::vector<int64_t> size;
  std::vector<int64_t> stride;  // in elements
  bool requires_grad = false;
};

struct PyValue {
  PyKind kind = PyKind::kNone;
  bool ordered = false;    // kDict: collections.OrderedDict
  int64_t int_value = 0;   // kInt, kBool
  double float_value = 0;  // kFloat
  // kStr (UTF-8), kBytes, kGlobal ("module.name"),
  // kBigInt (little-endian two's complement, as LONG1/LONG4 store it; > 8 bytes).
  std::string text;
  // kTuple/kList: the items; kDict: key0, value0, key1, value1, ... in insertion order.
  std::vector<PyValue*> items;
  const PyValue* attributes = nullptr;  // state given by BUILD (e.g. an OrderedDict's _metadata)
  PyStorageRef storage;                 // kStorage
  PyTensorRef tensor;                   // kTensor

  size_t dict_size() const { return items.size() / 2; }
  const PyValue* dict_key(size_t i) const { return items[2 * i]; }
  const PyValue* dict_value(size_t i) const { return items[2 * i + 1]; }
  // The value for a str key in a dict; nullptr when absent (or not a dict).
  const PyValue* dict_get(std::string_view key) const;
};

struct UnpickleLimits {
  size_t max_values = size_t(1) << 22;  // objects created (each ~100 bytes): caps memory
  size_t max_memo = size_t(1) << 22;    // memo slots
};

// The value tree; owns every PyValue (they may reference each other, even cyclically).
class Pickle {
 public:
  const PyValue* root() const { return root_; }

 private:
  friend class Unpickler;
  std::unique_ptr<std::deque<PyValue>> arena_ = std::make_unique<std::deque<PyValue>>();
  const PyValue* root_ = nullptr;
};

// "BINUNICODE", "REDUCE", ... ("?" for bytes that are no opcode).
const char* pickle_opcode_name(uint8_t op);

// `name` names the stream in errors ("ckpt.pt:ckpt/data.pkl"). Errors: kCorruptFile for malformed
// streams (unknown opcode, truncation, stack underflow, bad memo index), kUnsupported for valid
// pickles that use what a state dict never needs (a global outside the allow-list, NEWOBJ_EX, ...).
Result<Pickle> unpickle(std::span<const std::byte> bytes, const std::string& name, const UnpickleLimits& limits = {});

}  // namespace tessera
