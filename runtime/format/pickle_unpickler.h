// The restricted unpickler's machine, shared by its two halves: the opcode interpreter
// (pickle_reader.cpp) and the restricted object model it calls for globals, REDUCE and persistent ids
// (pickle_object_model.cpp). Internal to the checkpoint readers; the API is pickle_reader.h.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "format/pickle_reader.h"

namespace tessera {

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
  Result<PyValue*> make_str(std::string s);  // refuses invalid UTF-8

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

  // --- the restricted object model (pickle_object_model.cpp) --------------------------------
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

}  // namespace tessera
