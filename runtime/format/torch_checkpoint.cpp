// torch.save zip checkpoints -> Checkpoint: ZIP index (zip_reader), restricted unpickle of
// <folder>/data.pkl (pickle_reader), then every tensor of the state dict is resolved against its
// storage record <folder>/data/<key> with all sizes, offsets and strides checked.
#include <algorithm>
#include <bit>
#include <cstring>
#include <functional>
#include <unordered_map>
#include <unordered_set>

#include "core/file_io.h"
#include "format/checkpoint.h"
#include "format/pickle_reader.h"
#include "format/zip_reader.h"
#include "core/printable.h"

namespace tessera {
namespace {

constexpr int kMaxJsonDepth = 64;
// model_args is a handful of hyperparameters. Shared pickle references (one list memoised and put
// twice in the next, 64 levels deep) expand exponentially when copied out as a tree, so the whole
// conversion has a budget of values and string bytes, not only a depth limit.
constexpr int64_t kMaxJsonValues = 100000;
constexpr int64_t kMaxJsonStringBytes = int64_t(16) << 20;

struct JsonBudget {
  int64_t values = kMaxJsonValues;
  int64_t string_bytes = kMaxJsonStringBytes;
};

struct StorageData {
  const std::byte* data = nullptr;
  int64_t numel = 0;
  DType dtype = DType::kF32;
  std::shared_ptr<const void> owner;
};

// Decimal text of a little-endian two's complement integer (LONG1/LONG4 payload).
std::string big_int_to_decimal(const std::string& le) {
  constexpr size_t kMaxBytes = 1024;  // schoolbook division is quadratic: keep it bounded
  if (le.size() > kMaxBytes) return "<integer of " + std::to_string(le.size()) + " bytes>";
  std::vector<uint8_t> mag(le.begin(), le.end());  // little-endian
  const bool negative = !mag.empty() && (mag.back() & 0x80);
  if (negative) {  // two's complement negate
    unsigned carry = 1;
    for (uint8_t& b : mag) {
      const unsigned v = unsigned(uint8_t(~b)) + carry;
      b = uint8_t(v);
      carry = v >> 8;
    }
  }
  std::string digits;
  while (true) {
    while (!mag.empty() && mag.back() == 0) mag.pop_back();
    if (mag.empty()) break;
    unsigned rem = 0;
    for (size_t i = mag.size(); i-- > 0;) {
      const unsigned cur = rem << 8 | mag[i];
      mag[i] = uint8_t(cur / 10);
      rem = cur % 10;
    }
    digits.push_back(char('0' + rem));
  }
  if (digits.empty()) digits = "0";
  if (negative) digits.push_back('-');
  return {digits.rbegin(), digits.rend()};
}

// model_args -> JSON. Ints that do not fit 64 bits become decimal strings (JSON numbers cannot
// carry them faithfully); anything that is not plain data is an error naming the field.
Result<nlohmann::json> to_json(const PyValue* v, const std::string& field, int depth, JsonBudget& budget) {
  if (depth > kMaxJsonDepth)
    return unsupported(field + ": nested deeper than " + std::to_string(kMaxJsonDepth) + " levels");
  if (--budget.values < 0)
    return resource_exhausted(field + ": more than " + std::to_string(kMaxJsonValues) +
                              " values when expanded (shared references?); model_args holds hyperparameters");
  if (v->kind == PyKind::kStr && (budget.string_bytes -= int64_t(v->text.size())) < 0)
    return resource_exhausted(field + ": more than " + std::to_string(kMaxJsonStringBytes) +
                              " bytes of strings when expanded; model_args holds hyperparameters");
  switch (v->kind) {
    case PyKind::kNone: return nlohmann::json(nullptr);
    case PyKind::kBool: return nlohmann::json(v->int_value != 0);
    case PyKind::kInt: return nlohmann::json(v->int_value);
    case PyKind::kBigInt: {
      // 9 bytes of two's complement with a zero top byte can still fit uint64.
      if (v->text.size() == 9 && uint8_t(v->text[8]) == 0) {
        uint64_t u = 0;
        for (int i = 7; i >= 0; --i) u = u << 8 | uint8_t(v->text[size_t(i)]);
        return nlohmann::json(u);
      }
      return nlohmann::json(big_int_to_decimal(v->text));
    }
    case PyKind::kFloat: return nlohmann::json(v->float_value);
    case PyKind::kStr: return nlohmann::json(v->text);
    case PyKind::kTuple:
    case PyKind::kList: {
      nlohmann::json a = nlohmann::json::array();
      for (size_t i = 0; i < v->items.size(); ++i) {
        TESSERA_ASSIGN_OR_RETURN(auto item,
                                 to_json(v->items[i], field + "[" + std::to_string(i) + "]", depth + 1, budget));
        a.push_back(std::move(item));
      }
      return a;
    }
    case PyKind::kDict: {
      nlohmann::json o = nlohmann::json::object();
      for (size_t i = 0; i < v->dict_size(); ++i) {
        const PyValue* k = v->dict_key(i);
        if (k->kind != PyKind::kStr)
          return unsupported(field + ": dict key " + std::to_string(i) + " is a " + py_kind_name(k->kind) +
                             ", expected str");
        TESSERA_ASSIGN_OR_RETURN(auto item, to_json(v->dict_value(i), field + "." + printable_prefix(k->text, 64),
                                                    depth + 1, budget));
        o[k->text] = std::move(item);
      }
      return o;
    }
    default:
      return unsupported(field + ": a " + std::string(py_kind_name(v->kind)) +
                         " value, expected str/int/float/bool/list/dict/None");
  }
}

bool mul_overflows(int64_t a, int64_t b, int64_t* out) { return __builtin_mul_overflow(a, b, out); }

class TorchCheckpointParser {
 public:
  using Progress = std::function<void(int64_t done, int64_t total)>;
  TorchCheckpointParser(ZipArchive zip, std::string folder, std::shared_ptr<const void> owner, const Progress& progress,
                        int64_t total)
      : zip_(std::move(zip)),
        folder_(std::move(folder)),
        owner_(std::move(owner)),
        progress_(progress),
        total_(total) {}

  Result<Tensor> make_tensor(const std::string& tensor_name, const PyTensorRef& ref);

 private:
  Result<const StorageData*> storage(const PyValue* s);

  ZipArchive zip_;
  std::string folder_;
  std::shared_ptr<const void> owner_;
  std::unordered_map<const PyValue*, StorageData> storages_;
  const Progress& progress_;
  int64_t total_ = 0, done_ = 0;
};

Result<const StorageData*> TorchCheckpointParser::storage(const PyValue* s) {
  if (auto it = storages_.find(s); it != storages_.end()) return &it->second;
  const PyStorageRef& ref = s->storage;
  const std::string record = folder_ + "/data/" + ref.key;
  const std::string where = zip_.name() + ": storage record '" + printable_prefix(record, 256) + "'";
  const ZipEntry* e = zip_.find(record);
  if (!e) return corrupt_file(where + " is referenced by data.pkl but missing from the archive");
  const size_t item = dtype_size(ref.dtype);
  if (uint64_t(ref.numel) > UINT64_MAX / item || e->size != uint64_t(ref.numel) * item)
    return corrupt_file(where + ": expected " + std::to_string(ref.numel) + " x " + std::string(dtype_name(ref.dtype)) +
                        " = " + std::to_string(uint64_t(ref.numel) * item) + " bytes, found " +
                        std::to_string(e->size));
  TESSERA_ASSIGN_OR_RETURN(auto bytes, zip_.read(*e));
  done_ += int64_t(bytes.size());
  if (progress_) progress_(std::min(done_, total_), total_);
  StorageData d{bytes.data(), ref.numel, ref.dtype, owner_};
  if (reinterpret_cast<uintptr_t>(bytes.data()) % item != 0) {
    // Misaligned record (torch >= 1.6 aligns to 64 bytes, others may not): one aligned copy,
    // still shared by every tensor that views this storage.
    auto copy = std::make_shared<std::vector<std::byte>>(bytes.begin(), bytes.end());
    d.data = copy->data();
    d.owner = copy;
  }
  return &storages_.emplace(s, std::move(d)).first->second;
}

Result<Tensor> TorchCheckpointParser::make_tensor(const std::string& tensor_name, const PyTensorRef& ref) {
  TESSERA_ASSIGN_OR_RETURN(const StorageData* st, storage(ref.storage));
  const std::string where = zip_.name() + ": tensor '" + printable_prefix(tensor_name, 256) + "'";
  const size_t item = dtype_size(st->dtype);
  const size_t rank = ref.size.size();
  int64_t numel = 1, last = ref.storage_offset;  // `last`: highest element index the view touches
  for (size_t d = 0; d < rank; ++d) {
    int64_t reach = 0;
    if (mul_overflows(numel, ref.size[d], &numel) ||
        (ref.size[d] > 0 &&
         (mul_overflows(ref.size[d] - 1, ref.stride[d], &reach) || __builtin_add_overflow(last, reach, &last))))
      return corrupt_file(where + ": size/stride overflow 64 bits");
  }
  Tensor t;
  t.name = tensor_name;
  t.dtype = st->dtype;
  t.shape = ref.size;
  if (numel == 0) {  // empty tensors touch no storage
    t.data = st->data;
    t.owner = st->owner;
    return t;
  }
  if (last >= st->numel)
    return corrupt_file(where + ": storage offset " + std::to_string(ref.storage_offset) + ", size " +
                        t.shape_string() + " and strides reach element " + std::to_string(last) + ", but storage '" +
                        ref.storage->storage.key + "' has " + std::to_string(st->numel) + " elements");
  bool contiguous = true;
  for (int64_t expect = 1, d = int64_t(rank) - 1; d >= 0; --d) {
    if (ref.size[size_t(d)] != 1 && ref.stride[size_t(d)] != expect) contiguous = false;
    expect *= ref.size[size_t(d)];
  }
  if (contiguous) {  // a view: tied weights keep sharing the same bytes
    t.data = st->data + size_t(ref.storage_offset) * item;
    t.nbytes = size_t(numel) * item;
    t.owner = st->owner;
    return t;
  }
  // Non-contiguous (transposed, sliced): materialise a row-major copy. Overlapping views
  // (stride 0 broadcasts) could expand a small storage without bound: refuse those.
  if (numel > st->numel)
    return unsupported(where + ": " + std::to_string(numel) + " elements view a storage of " +
                       std::to_string(st->numel) + " (overlapping/broadcast strides are not supported)");
  std::vector<std::byte> out(size_t(numel) * item);
  std::vector<int64_t> index(rank, 0);
  int64_t src = ref.storage_offset;
  for (int64_t i = 0; i < numel; ++i) {
    std::memcpy(out.data() + size_t(i) * item, st->data + size_t(src) * item, item);
    for (size_t d = rank; d-- > 0;) {  // odometer step, innermost dimension first
      if (++index[d] < ref.size[d]) {
        src += ref.stride[d];
        break;
      }
      src -= (ref.size[d] - 1) * ref.stride[d];
      index[d] = 0;
    }
  }
  return make_owned_tensor(tensor_name, st->dtype, ref.size, std::move(out));
}

Result<Checkpoint> parse_torch_checkpoint(std::span<const std::byte> bytes, std::shared_ptr<const void> owner,
                                          const std::string& name,
                                          const std::function<void(int64_t, int64_t)>& progress = {}) {
  if constexpr (std::endian::native != std::endian::little)
    return unsupported(name + ": reading torch checkpoints needs a little-endian host");
  if (bytes.size() >= 2 && uint8_t(bytes[0]) == 0x80 && uint8_t(bytes[1]) <= 5)
    return unsupported(name +
                       ": legacy (pre-zip) torch.save format; re-save it with torch >= 1.6 defaults "
                       "(_use_new_zipfile_serialization=True)");
  if (bytes.size() < 4 || std::memcmp(bytes.data(), "PK\x03\x04", 4) != 0)
    return corrupt_file(name + ": not a torch zip checkpoint (expected the ZIP signature 'PK\\x03\\x04' at offset 0)");
  TESSERA_ASSIGN_OR_RETURN(ZipArchive zip, ZipArchive::open(bytes, name));
  if (zip.entries().empty()) return corrupt_file(name + ": the archive has no entries");

  // torch 1.x names the folder after the file's stem, 2.x writes "archive": take the first entry's.
  const std::string& first = zip.entries().front().name;
  const size_t slash = first.find('/');
  if (slash == std::string::npos || slash == 0)
    return corrupt_file(name + ": first entry '" + printable_prefix(first, 256) + "' is not inside a top-level folder");
  const std::string folder = first.substr(0, slash);
  if (const ZipEntry* bo = zip.find(folder + "/byteorder")) {
    TESSERA_ASSIGN_OR_RETURN(auto order, zip.read(*bo));
    const std::string text(reinterpret_cast<const char*>(order.data()), order.size());
    if (text != "little")
      return unsupported(name + ": byteorder record says '" + printable_prefix(text, 16) +
                         "', only 'little' is supported");
  }
  const ZipEntry* pkl = zip.find(folder + "/data.pkl");
  if (!pkl)
    return corrupt_file(name + ": no '" + printable_prefix(folder, 256) +
                        "/data.pkl' record (not a torch.save checkpoint)");
  TESSERA_ASSIGN_OR_RETURN(auto pkl_bytes, zip.read(*pkl));
  TESSERA_ASSIGN_OR_RETURN(Pickle pickle, unpickle(pkl_bytes, name + ":" + pkl->name));

  const PyValue* root = pickle.root();
  if (root->kind != PyKind::kDict)
    return unsupported(name + ": data.pkl holds a " + std::string(py_kind_name(root->kind)) +
                       ", expected a dict (a checkpoint or a state dict)");
  Checkpoint ck;
  ck.format = "torch";
  ck.path = name;
  const PyValue* state = root->dict_get("model");
  if (state && state->kind == PyKind::kTensor) state = nullptr;  // a bare state dict with a tensor named "model"
  if (state) {
    if (state->kind != PyKind::kDict)
      return unsupported(name + ": field 'model' is a " + std::string(py_kind_name(state->kind)) +
                         ", expected a state dict");
    if (const PyValue* args = root->dict_get("model_args"); args && args->kind != PyKind::kNone) {
      JsonBudget budget;
      TESSERA_ASSIGN_OR_RETURN(ck.config, to_json(args, name + ": model_args", 0, budget));
      if (!ck.config.is_object())
        return unsupported(name + ": field 'model_args' is a " + std::string(py_kind_name(args->kind)) +
                           ", expected a dict");
    }
  } else {
    state = root;  // a bare state dict
  }

  TorchCheckpointParser parser(std::move(zip), folder, std::move(owner), progress, int64_t(bytes.size()));
  std::unordered_set<std::string> names;
  const std::string dict_name = state == root ? "the top-level dict" : "'model'";
  for (size_t i = 0; i < state->dict_size(); ++i) {
    const PyValue *k = state->dict_key(i), *v = state->dict_value(i);
    if (k->kind != PyKind::kStr)
      return unsupported(name + ": key " + std::to_string(i) + " of " + dict_name + " is a " + py_kind_name(k->kind) +
                         ", expected a tensor name (str)");
    if (v->kind != PyKind::kTensor)
      return unsupported(name + ": entry '" + printable_prefix(k->text, 256) + "' of " + dict_name + " is a " +
                         py_kind_name(v->kind) + ", expected a tensor" +
                         (state == root ? " (no 'model' key, so the top-level dict was read as a state dict)" : ""));
    if (!names.insert(k->text).second)
      return corrupt_file(name + ": tensor '" + printable_prefix(k->text, 256) + "' appears twice");
    TESSERA_ASSIGN_OR_RETURN(Tensor t, parser.make_tensor(k->text, v->tensor));
    ck.tensors.push_back(std::move(t));
  }
  if (progress) progress(int64_t(bytes.size()), int64_t(bytes.size()));
  return ck;
}

}  // namespace

Result<Checkpoint> read_torch_checkpoint(const std::string& path,
                                         const std::function<void(int64_t, int64_t)>& progress) {
  TESSERA_ASSIGN_OR_RETURN(auto file, MappedFile::open(path));
  const auto bytes = file->bytes();
  return parse_torch_checkpoint(bytes, std::move(file), path, progress);
}

Result<Checkpoint> read_torch_checkpoint_bytes(std::span<const std::byte> bytes, const std::string& name) {
  // The caller's buffer may not outlive the result: tensors view one private copy.
  auto copy = std::make_shared<std::vector<std::byte>>(bytes.begin(), bytes.end());
  return parse_torch_checkpoint(*copy, copy, name);
}

}  // namespace tessera
