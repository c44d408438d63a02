// The restricted unpickler's opcode interpreter: reads the stream, keeps the stack, marks and memo,
// and hands globals, calls and persistent ids to the object model (pickle_object_model.cpp).
#include "format/pickle_reader.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "core/printable.h"
#include "format/pickle_unpickler.h"

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

Result<PyValue*> Unpickler::make_str(std::string s) {
  if (!valid_utf8(s)) return corrupt("string is not valid UTF-8");
  return make_text(PyKind::kStr, std::move(s));
}

Status Unpickler::add_items(PyValue* dict, const std::vector<PyValue*>& kv) {
  if (dict->kind != PyKind::kDict)
    return corrupt(std::string("SETITEM(S) target is a ") + py_kind_name(dict->kind) + ", expected a dict");
  if (kv.size() % 2 != 0) return corrupt("SETITEMS with an odd number (" + std::to_string(kv.size()) + ") of items");
  dict->items.insert(dict->items.end(), kv.begin(), kv.end());
  return Status();
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
