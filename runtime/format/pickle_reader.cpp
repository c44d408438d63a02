#include "format/pickle_reader.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <unordered_map>

#include "format/pickle_globals.h"
#include "core/printable.h"

namespace tessera {

const char* py_kind_name(PyKind kind) {
  switch (kind) {
    case PyKind::kNone: return "None";
    case PyKind::kBool: return "bool";
    case PyKind::kInt: return "int";
    case PyKind::kBigInt: return "int (big)";
    case PyKind::kFloat: return "float";
    case PyKind::kStr: return "str";
    case PyKind::kBytes: return "bytes";
    case PyKind::kTuple: return "tuple";
    case PyKind::kList: return "list";
    case PyKind::kDict: return "dict";
    case PyKind::kGlobal: return "global";
    case PyKind::kStorage: return "storage";
    case PyKind::kTensor: return "tensor";
  }
  return "?";
}

const PyValue* PyValue::dict_get(std::string_view key) const {
  if (kind != PyKind::kDict) return nullptr;
  const PyValue* found = nullptr;  // the last assignment wins, as in Python
  for (size_t i = 0; i < dict_size(); ++i)
    if (dict_key(i)->kind == PyKind::kStr && dict_key(i)->text == key) found = dict_value(i);
  return found;
}

namespace {

bool valid_utf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = uint8_t(s[i]);
    size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    if (len == 0 || i + len > s.size()) return false;
    uint32_t cp = len == 1 ? c : len == 2 ? (c & 0x1F) : len == 3 ? (c & 0x0F) : (c & 0x07);
    for (size_t k = 1; k < len; ++k) {
      const auto cc = uint8_t(s[i + k]);
      if ((cc >> 6) != 0x2) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    // Overlong forms, surrogates and values past U+10FFFF are not UTF-8.
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
        (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
      return false;
    i += len;
  }
  return true;
}

}  // namespace

class Unpickler {
 public:
  Unpickler(std::span<const std::byte> bytes, const std::string& name, const UnpickleLimits& limits)
      : in_(bytes), name_(name), limits_(limits) {}

  Result<Pickle> run();

 private:
  // --- errors -------------------------------------------------------------------------------
  Status fail(StatusCode code, const std::string& msg) const {
    return Status(code,
                  name_ + ": offset " + std::to_string(op_pos_) + " (opcode " + pickle_opcode_name(op_) + "): " + msg);
  }
  Status corrupt(const std::string& msg) const { return fail(StatusCode::kCorruptFile, msg); }
  Status refuse(const std::string& msg) const { return fail(StatusCode::kUnsupported, msg); }

  // --- input --------------------------------------------------------------------------------
  size_t left() const { return in_.size() - pos_; }
  Status need(uint64_t n, const char* what) const {
    if (n > left())
      return corrupt(std::string(what) + " needs " + std::to_string(n) + " bytes, only " + std::to_string(left()) +
                     " left (truncated or corrupt pickle)");
    return Status();
  }
  uint64_t read_le(size_t n) {  // caller checked need(n)
    uint64_t v = 0;
    for (size_t i = 0; i < n; ++i) v |= uint64_t(uint8_t(in_[pos_ + i])) << (8 * i);
    pos_ += n;
    return v;
  }
  Result<std::string> read_line();
  Result<std::string> read_bytes(uint64_t n, const char* what) {
    TESSERA_RETURN_IF_ERROR(need(n, what));
    std::string s(reinterpret_cast<const char*>(in_.data() + pos_), size_t(n));
    pos_ += size_t(n);
    return s;
  }

  // --- values -------------------------------------------------------------------------------
  PyValue* make(PyKind kind) {
    PyValue& v = doc_.arena_->emplace_back();
    v.kind = kind;
    return &v;
  }
  PyValue* make_int(int64_t v) {
    PyValue* p = make(PyKind::kInt);
    p->int_value = v;
    return p;
  }
  PyValue* make_text(PyKind kind, std::string s) {
    PyValue* p = make(kind);
    p->text = std::move(s);
    return p;
  }
  PyValue* make_long(const std::string& le_bytes);
  Result<PyValue*> make_str(std::string s) {
    if (!valid_utf8(s)) return corrupt("string is not valid UTF-8");
    return make_text(PyKind::kStr, std::move(s));
  }

  // --- stack --------------------------------------------------------------------------------
  Result<PyValue*> pop() {
    if (stack_.size() <= (marks_.empty() ? 0 : marks_.back())) return corrupt("stack underflow");
    PyValue* v = stack_.back();
    stack_.pop_back();
    return v;
  }
  Result<PyValue*> top() {
    if (stack_.size() <= (marks_.empty() ? 0 : marks_.back())) return corrupt("stack underflow");
    return stack_.back();
  }
  // Pops everything above the last MARK (and the mark).
  Result<std::vector<PyValue*>> pop_mark() {
    if (marks_.empty()) return corrupt("no MARK on the stack");
    const size_t m = marks_.back();
    marks_.pop_back();
    std::vector<PyValue*> items(stack_.begin() + std::ptrdiff_t(m), stack_.end());
    stack_.resize(m);
    return items;
  }
  Result<PyValue*> memo_get(uint64_t index) {
    auto it = memo_.find(index);
    if (it == memo_.end()) return corrupt("memo index " + std::to_string(index) + " was never stored");
    return it->second;
  }
  Status memo_put(uint64_t index) {
    TESSERA_ASSIGN_OR_RETURN(PyValue * v, top());
    if (memo_.size() >= limits_.max_memo && !memo_.count(index))
      return corrupt("more than " + std::to_string(limits_.max_memo) + " memo entries");
    memo_[index] = v;
    return Status();
  }

  // --- the restricted object model ------------------------------------------------------------
  Result<PyValue*> make_global(const std::string& module, const std::string& qualname);
  Result<PyValue*> call(const PyValue* callable, const PyValue* args);
  Result<PyValue*> persistent_load(const PyValue* pid);
  Status add_items(PyValue* dict, const std::vector<PyValue*>& kv);

  std::span<const std::byte> in_;
  const std::string& name_;
  UnpickleLimits limits_;
  size_t pos_ = 0, op_pos_ = 0;
  uint8_t op_ = 0;
  Pickle doc_;
  std::vector<PyValue*> stack_;
  std::vector<size_t> marks_;
  std::unordered_map<uint64_t, PyValue*> memo_;
  std::unordered_map<std::string, PyValue*> storages_;  // persistent-id key -> storage (shared)
  PyValue *none_ = nullptr, *true_ = nullptr, *false_ = nullptr;
};

Result<std::string> Unpickler::read_line() {
  const std::byte* start = in_.data() + pos_;
  const void* nl = std::memchr(start, '\n', left());
  if (!nl) return corrupt("line argument has no terminating newline (truncated pickle)");
  const size_t len = size_t(static_cast<const std::byte*>(nl) - start);
  std::string s(reinterpret_cast<const char*>(start), len);
  pos_ += len + 1;
  return s;
}

PyValue* Unpickler::make_long(const std::string& b) {
  // Drop redundant sign-extension bytes, then it fits int64 iff <= 8 bytes remain.
  size_t n = b.size();
  const bool negative = n > 0 && (uint8_t(b[n - 1]) & 0x80);
  const char fill = negative ? char(0xFF) : char(0);
  while (n > 1 && b[n - 1] == fill && ((uint8_t(b[n - 2]) & 0x80) != 0) == negative) --n;
  if (n > 8) return make_text(PyKind::kBigInt, b.substr(0, n));
  uint64_t v = negative ? ~uint64_t(0) : 0;
  for (size_t i = 0; i < n; ++i) {
    v &= ~(uint64_t(0xFF) << (8 * i));
    v |= uint64_t(uint8_t(b[i])) << (8 * i);
  }
  return make_int(int64_t(v));
}

Status Unpickler::add_items(PyValue* dict, const std::vector<PyValue*>& kv) {
  if (dict->kind != PyKind::kDict)
    return corrupt(std::string("SETITEM(S) target is a ") + py_kind_name(dict->kind) + ", expected a dict");
  if (kv.size() % 2 != 0) return corrupt("SETITEMS with an odd number (" + std::to_string(kv.size()) + ") of items");
  dict->items.insert(dict->items.end(), kv.begin(), kv.end());
  return Status();
}

Result<PyValue*> Unpickler::make_global(const std::string& module, const std::string& qualname) {
  const std::string full = module + "." + qualname;
  if (!find_allowed_global(full))
    return refuse("global '" + printable_prefix(full, 256) +
                  "' is not allowed: a restricted unpickler accepts only the globals torch.save writes for a "
                  "state dict (tensor rebuilders, torch.*Storage, collections.OrderedDict); nothing is executed");
  return make_text(PyKind::kGlobal, full);
}

Result<PyValue*> Unpickler::persistent_load(const PyValue* pid) {
  if (pid->kind != PyKind::kTuple || pid->items.size() != 5 || pid->items[0]->kind != PyKind::kStr ||
      pid->items[0]->text != "storage")
    return refuse("persistent id must be ('storage', <storage class>, key, location, numel), found a " +
                  std::string(py_kind_name(pid->kind)) + " of " + std::to_string(pid->items.size()) + " items");
  const PyValue *cls = pid->items[1], *key = pid->items[2], *loc = pid->items[3], *numel = pid->items[4];
  const AllowedGlobal* g = cls->kind == PyKind::kGlobal ? find_allowed_global(cls->text) : nullptr;
  if (!g || g->role != GlobalRole::kStorageClass)
    return refuse("persistent id names " +
                  (cls->kind == PyKind::kGlobal ? "'" + printable_prefix(cls->text, 256) + "'"
                                                : std::string("a ") + py_kind_name(cls->kind)) +
                  " where a torch.*Storage class is expected");
  if (key->kind != PyKind::kStr || loc->kind != PyKind::kStr || numel->kind != PyKind::kInt || numel->int_value < 0)
    return corrupt("persistent id fields: expected (str key, str location, int numel >= 0), found (" +
                   std::string(py_kind_name(key->kind)) + ", " + py_kind_name(loc->kind) + ", " +
                   py_kind_name(numel->kind) + ")");
  auto [it, fresh] = storages_.try_emplace(key->text, nullptr);
  if (!fresh) {  // torch reuses one storage object per key: tied weights share it
    const PyStorageRef& s = it->second->storage;
    if (s.dtype != g->dtype || s.numel != numel->int_value)
      return corrupt("storage '" + printable_prefix(key->text, 256) + "' is referenced as " +
                     std::string(dtype_name(g->dtype)) + " x " + std::to_string(numel->int_value) + " after " +
                     std::string(dtype_name(s.dtype)) + " x " + std::to_string(s.numel));
    return it->second;
  }
  PyValue* v = make(PyKind::kStorage);
  v->storage = {g->dtype, key->text, loc->text, numel->int_value};
  it->second = v;
  return v;
}

Result<PyValue*> Unpickler::call(const PyValue* callable, const PyValue* args) {
  if (callable->kind != PyKind::kGlobal)
    return refuse(std::string("REDUCE on a ") + py_kind_name(callable->kind) + " (only allowed globals may be called)");
  const AllowedGlobal* g = find_allowed_global(callable->text);
  if (!g || g->role == GlobalRole::kStorageClass) {
    std::string what = "'";
    what += printable_prefix(callable->text, 256);
    return refuse(what + "' may not be called");
  }
  if (args->kind != PyKind::kTuple)
    return corrupt(std::string("call arguments are a ") + py_kind_name(args->kind) + ", expected a tuple");
  const auto& a = args->items;
  const std::string fn = callable->text;

  if (g->role == GlobalRole::kOrderedDict) {
    PyValue* d = make(PyKind::kDict);
    d->ordered = true;
    if (a.empty()) return d;
    // OrderedDict([(k, v), ...]) also appears in hand-written pickles.
    if (a.size() != 1 || (a[0]->kind != PyKind::kList && a[0]->kind != PyKind::kTuple))
      return refuse(fn + " takes no arguments or one list of pairs here");
    for (const PyValue* pair : a[0]->items) {
      if ((pair->kind != PyKind::kTuple && pair->kind != PyKind::kList) || pair->items.size() != 2)
        return corrupt(fn + ": each item must be a (key, value) pair");
      d->items.push_back(pair->items[0]);
      d->items.push_back(pair->items[1]);
    }
    return d;
  }

  if (g->role == GlobalRole::kRebuildParameter) {
    // _rebuild_parameter(data, requires_grad, backward_hooks[, state]): the tensor is all we keep.
    const size_t want = fn.ends_with("_with_state") ? 4 : 3;
    if (a.size() != want || a[0]->kind != PyKind::kTensor || a[1]->kind != PyKind::kBool)
      return corrupt(fn + ": expected (tensor, bool" + (want == 4 ? ", hooks, state)" : ", hooks)") + ", found " +
                     std::to_string(a.size()) + " arguments" +
                     (a.empty() ? "" : std::string(" starting with a ") + py_kind_name(a[0]->kind)));
    PyValue* t = make(PyKind::kTensor);
    t->tensor = a[0]->tensor;
    t->tensor.requires_grad = a[1]->int_value != 0;
    return t;
  }

  // _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
  if (a.size() != 6 && a.size() != 7)
    return corrupt(fn + ": expected 6 or 7 arguments, found " + std::to_string(a.size()));
  if (a[0]->kind != PyKind::kStorage)
    return corrupt(fn + ": argument 0 is a " + py_kind_name(a[0]->kind) + ", expected a storage (persistent id)");
  if (a[1]->kind != PyKind::kInt || a[1]->int_value < 0) return corrupt(fn + ": storage_offset must be an int >= 0");
  if (a[2]->kind != PyKind::kTuple || a[3]->kind != PyKind::kTuple || a[2]->items.size() != a[3]->items.size())
    return corrupt(fn + ": size and stride must be tuples of equal length");
  constexpr size_t kMaxDims = 64;
  if (a[2]->items.size() > kMaxDims)
    return corrupt(fn + ": " + std::to_string(a[2]->items.size()) + " dimensions, at most " + std::to_string(kMaxDims) +
                   " supported");
  PyValue* t = make(PyKind::kTensor);
  t->tensor.storage = a[0];
  t->tensor.storage_offset = a[1]->int_value;
  for (size_t d = 0; d < a[2]->items.size(); ++d) {
    const PyValue *sz = a[2]->items[d], *st = a[3]->items[d];
    if (sz->kind != PyKind::kInt || st->kind != PyKind::kInt || sz->int_value < 0 || st->int_value < 0)
      return corrupt(fn + ": size/stride of dimension " + std::to_string(d) + " must be ints >= 0");
    t->tensor.size.push_back(sz->int_value);
    t->tensor.stride.push_back(st->int_value);
  }
  t->tensor.requires_grad = a[4]->kind == PyKind::kBool && a[4]->int_value != 0;
  return t;
}

Result<Pickle> Unpickler::run() {
  none_ = make(PyKind::kNone);
  true_ = make(PyKind::kBool);
  true_->int_value = 1;
  false_ = make(PyKind::kBool);
  while (true) {
    if (doc_.arena_->size() > limits_.max_values)
      return corrupt("more than " + std::to_string(limits_.max_values) + " objects (refusing to allocate more)");
    op_pos_ = pos_;
    op_ = 0;
    if (left() == 0) return corrupt("stream ends without a STOP opcode (truncated pickle)");
    op_ = uint8_t(in_[pos_++]);
    switch (op_) {
      case 0x80: {  // PROTO
        TESSERA_RETURN_IF_ERROR(need(1, "PROTO"));
        const uint64_t v = read_le(1);
        if (v > 5) return refuse("pickle protocol " + std::to_string(v) + ", supported 0..5");
        break;
      }
      case 0x95: {  // FRAME: frames are transparent; just check the length
        TESSERA_RETURN_IF_ERROR(need(8, "FRAME"));
        const uint64_t n = read_le(8);
        TESSERA_RETURN_IF_ERROR(need(n, "FRAME body"));
        break;
      }
      case '.': {  // STOP
        TESSERA_ASSIGN_OR_RETURN(PyValue * root, pop());
        doc_.root_ = root;
        return std::move(doc_);
      }
      case '(': marks_.push_back(stack_.size()); break;
      case '0': TESSERA_RETURN_IF_ERROR(pop().status()); break;
      case '1': TESSERA_RETURN_IF_ERROR(pop_mark().status()); break;
      case '2': {
        TESSERA_ASSIGN_OR_RETURN(PyValue * v, top());
        stack_.push_back(v);
        break;
      }
      case 'N': stack_.push_back(none_); break;
      case 0x88: stack_.push_back(true_); break;
      case 0x89: stack_.push_back(false_); break;
      case 'K':
        TESSERA_RETURN_IF_ERROR(need(1, "BININT1"));
        stack_.push_back(make_int(int64_t(read_le(1))));
        break;
      case 'M':
        TESSERA_RETURN_IF_ERROR(need(2, "BININT2"));
        stack_.push_back(make_int(int64_t(read_le(2))));
        break;
      case 'J':
        TESSERA_RETURN_IF_ERROR(need(4, "BININT"));
        stack_.push_back(make_int(int64_t(int32_t(uint32_t(read_le(4))))));
        break;
      case 0x8a:
      case 0x8b: {  // LONG1, LONG4
        const size_t w = op_ == 0x8a ? 1 : 4;
        TESSERA_RETURN_IF_ERROR(need(w, "LONG length"));
        TESSERA_ASSIGN_OR_RETURN(std::string b, read_bytes(read_le(w), "LONG body"));
        stack_.push_back(b.empty() ? make_int(0) : make_long(b));
        break;
      }
      case 'I':
      case 'L': {  // INT / LONG (text): decimal; "I01"/"I00" are True/False
        TESSERA_ASSIGN_OR_RETURN(std::string s, read_line());
        if (op_ == 'I' && (s == "01" || s == "00")) {
          stack_.push_back(s == "01" ? true_ : false_);
          break;
        }
        if (op_ == 'L' && !s.empty() && s.back() == 'L') s.pop_back();
        errno = 0;
        char* end = nullptr;
        const long long v = std::strtoll(s.c_str(), &end, 10);
        if (s.empty() || *end != '\0') return corrupt("malformed integer '" + printable_prefix(s, 40) + "'");
        if (errno == ERANGE) return refuse("text integer '" + printable_prefix(s, 40) + "' does not fit 64 bits");
        stack_.push_back(make_int(v));
        break;
      }
      case 'G': {  // BINFLOAT: big-endian IEEE double
        TESSERA_RETURN_IF_ERROR(need(8, "BINFLOAT"));
        uint64_t bits = 0;
        for (int i = 0; i < 8; ++i) bits = bits << 8 | uint8_t(in_[pos_ + size_t(i)]);
        pos_ += 8;
        PyValue* v = make(PyKind::kFloat);
        std::memcpy(&v->float_value, &bits, 8);
        stack_.push_back(v);
        break;
      }
      case 'F': {  // FLOAT (text)
        TESSERA_ASSIGN_OR_RETURN(std::string s, read_line());
        char* end = nullptr;
        const double d = std::strtod(s.c_str(), &end);
        if (s.empty() || *end != '\0') return corrupt("malformed float '" + printable_prefix(s, 40) + "'");
        PyValue* v = make(PyKind::kFloat);
        v->float_value = d;
        stack_.push_back(v);
        break;
      }
      case 'X':
      case 0x8c:
      case 0x8d: {  // BINUNICODE, SHORT_BINUNICODE, BINUNICODE8
        const size_t w = op_ == 'X' ? 4 : op_ == 0x8c ? 1 : 8;
        TESSERA_RETURN_IF_ERROR(need(w, "string length"));
        TESSERA_ASSIGN_OR_RETURN(std::string s, read_bytes(read_le(w), "string body"));
        TESSERA_ASSIGN_OR_RETURN(PyValue * v, make_str(std::move(s)));
        stack_.push_back(v);
        break;
      }
      case 'T':
      case 'U': {  // BINSTRING, SHORT_BINSTRING (Python 2 str): text if UTF-8, else bytes
        const size_t w = op_ == 'T' ? 4 : 1;
        TESSERA_RETURN_IF_ERROR(need(w, "string length"));
        TESSERA_ASSIGN_OR_RETURN(std::string s, read_bytes(read_le(w), "string body"));
        const bool text = valid_utf8(s);
        stack_.push_back(make_text(text ? PyKind::kStr : PyKind::kBytes, std::move(s)));
        break;
      }
      case 'B':
      case 'C':
      case 0x8e:
      case 0x96: {  // BINBYTES, SHORT_BINBYTES, BINBYTES8, BYTEARRAY8
        const size_t w = op_ == 'C' ? 1 : op_ == 'B' ? 4 : 8;
        TESSERA_RETURN_IF_ERROR(need(w, "bytes length"));
        TESSERA_ASSIGN_OR_RETURN(std::string s, read_bytes(read_le(w), "bytes body"));
        stack_.push_back(make_text(PyKind::kBytes, std::move(s)));
        break;
      }
      case ')': stack_.push_back(make(PyKind::kTuple)); break;
      case ']': stack_.push_back(make(PyKind::kList)); break;
      case '}': stack_.push_back(make(PyKind::kDict)); break;
      case 't':
      case 'l': {  // TUPLE, LIST from the mark
        TESSERA_ASSIGN_OR_RETURN(auto items, pop_mark());
        PyValue* v = make(op_ == 't' ? PyKind::kTuple : PyKind::kList);
        v->items = std::move(items);
        stack_.push_back(v);
        break;
      }
      case 0x85:
      case 0x86:
      case 0x87: {  // TUPLE1..3
        const size_t n = size_t(op_ - 0x84);
        if (stack_.size() < n + (marks_.empty() ? 0 : marks_.back())) return corrupt("stack underflow");
        PyValue* v = make(PyKind::kTuple);
        v->items.assign(stack_.end() - std::ptrdiff_t(n), stack_.end());
        stack_.resize(stack_.size() - n);
        stack_.push_back(v);
        break;
      }
      case 'd': {  // DICT from the mark
        TESSERA_ASSIGN_OR_RETURN(auto items, pop_mark());
        PyValue* v = make(PyKind::kDict);
        TESSERA_RETURN_IF_ERROR(add_items(v, items));
        stack_.push_back(v);
        break;
      }
      case 'a': {  // APPEND
        TESSERA_ASSIGN_OR_RETURN(PyValue * item, pop());
        TESSERA_ASSIGN_OR_RETURN(PyValue * list, top());
        if (list->kind != PyKind::kList) return corrupt(std::string("APPEND to a ") + py_kind_name(list->kind));
        list->items.push_back(item);
        break;
      }
      case 'e': {  // APPENDS
        TESSERA_ASSIGN_OR_RETURN(auto items, pop_mark());
        TESSERA_ASSIGN_OR_RETURN(PyValue * list, top());
        if (list->kind != PyKind::kList) return corrupt(std::string("APPENDS to a ") + py_kind_name(list->kind));
        list->items.insert(list->items.end(), items.begin(), items.end());
        break;
      }
      case 's': {  // SETITEM
        TESSERA_ASSIGN_OR_RETURN(PyValue * value, pop());
        TESSERA_ASSIGN_OR_RETURN(PyValue * key, pop());
        TESSERA_ASSIGN_OR_RETURN(PyValue * dict, top());
        TESSERA_RETURN_IF_ERROR(add_items(dict, {key, value}));
        break;
      }
      case 'u': {  // SETITEMS
        TESSERA_ASSIGN_OR_RETURN(auto items, pop_mark());
        TESSERA_ASSIGN_OR_RETURN(PyValue * dict, top());
        TESSERA_RETURN_IF_ERROR(add_items(dict, items));
        break;
      }
      case 'h':
      case 'j': {  // BINGET, LONG_BINGET
        const size_t w = op_ == 'h' ? 1 : 4;
        TESSERA_RETURN_IF_ERROR(need(w, "memo index"));
        TESSERA_ASSIGN_OR_RETURN(PyValue * v, memo_get(read_le(w)));
        stack_.push_back(v);
        break;
      }
      case 'q':
      case 'r': {  // BINPUT, LONG_BINPUT
        const size_t w = op_ == 'q' ? 1 : 4;
        TESSERA_RETURN_IF_ERROR(need(w, "memo index"));
        TESSERA_RETURN_IF_ERROR(memo_put(read_le(w)));
        break;
      }
      case 0x94: TESSERA_RETURN_IF_ERROR(memo_put(memo_.size())); break;  // MEMOIZE
      case 'g':
      case 'p': {  // GET, PUT (text index)
        TESSERA_ASSIGN_OR_RETURN(std::string s, read_line());
        char* end = nullptr;
        errno = 0;
        const unsigned long long idx = std::strtoull(s.c_str(), &end, 10);
        if (s.empty() || *end != '\0' || errno == ERANGE || s[0] == '-')
          return corrupt("malformed memo index '" + printable_prefix(s, 40) + "'");
        if (op_ == 'p') {
          TESSERA_RETURN_IF_ERROR(memo_put(idx));
        } else {
          TESSERA_ASSIGN_OR_RETURN(PyValue * v, memo_get(idx));
          stack_.push_back(v);
        }
        break;
      }
      case 'c': {  // GLOBAL "module\nname\n"
        TESSERA_ASSIGN_OR_RETURN(std::string module, read_line());
        TESSERA_ASSIGN_OR_RETURN(std::string qualname, read_line());
        TESSERA_ASSIGN_OR_RETURN(PyValue * g, make_global(module, qualname));
        stack_.push_back(g);
        break;
      }
      case 0x93: {  // STACK_GLOBAL
        TESSERA_ASSIGN_OR_RETURN(PyValue * qualname, pop());
        TESSERA_ASSIGN_OR_RETURN(PyValue * module, pop());
        if (module->kind != PyKind::kStr || qualname->kind != PyKind::kStr)
          return corrupt("STACK_GLOBAL needs two strings");
        TESSERA_ASSIGN_OR_RETURN(PyValue * g, make_global(module->text, qualname->text));
        stack_.push_back(g);
        break;
      }
      case 'R':
      case 0x81: {  // REDUCE, NEWOBJ: cls(*args) for allowed globals only
        TESSERA_ASSIGN_OR_RETURN(PyValue * args, pop());
        TESSERA_ASSIGN_OR_RETURN(PyValue * callable, pop());
        if (op_ == 0x81 && !(callable->kind == PyKind::kGlobal && callable->text == "collections.OrderedDict"))
          return refuse("NEWOBJ is accepted for collections.OrderedDict only");
        TESSERA_ASSIGN_OR_RETURN(PyValue * result, call(callable, args));
        stack_.push_back(result);
        break;
      }
      case 'b': {  // BUILD: only dicts take state (an OrderedDict's _metadata)
        TESSERA_ASSIGN_OR_RETURN(PyValue * state, pop());
        TESSERA_ASSIGN_OR_RETURN(PyValue * obj, top());
        if (obj->kind != PyKind::kDict)
          return refuse(std::string("BUILD (set state) on a ") + py_kind_name(obj->kind) +
                        "; only dict state is accepted");
        obj->attributes = state;
        break;
      }
      case 'Q': {  // BINPERSID
        TESSERA_ASSIGN_OR_RETURN(PyValue * pid, pop());
        TESSERA_ASSIGN_OR_RETURN(PyValue * storage, persistent_load(pid));
        stack_.push_back(storage);
        break;
      }
      case 'P':
      case 'S':
      case 'V':
      case 'i':
      case 'o':
      case 0x82:
      case 0x83:
      case 0x84:
      case 0x8f:
      case 0x90:
      case 0x91:
      case 0x92:
      case 0x97:
      case 0x98: return refuse("opcode is valid pickle but never written by torch.save for a state dict");
      default: {
        char buf[8];
        std::snprintf(buf, sizeof buf, "0x%02x", op_);
        return corrupt(std::string("unknown opcode ") + buf);
      }
    }
  }
}

Result<Pickle> unpickle(std::span<const std::byte> bytes, const std::string& name, const UnpickleLimits& limits) {
  return Unpickler(bytes, name, limits).run();
}

}  // namespace tessera
