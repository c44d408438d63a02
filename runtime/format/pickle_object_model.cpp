// The restricted object model of the unpickler (pickle_unpickler.h): which globals may be named,
// what calling one builds (an OrderedDict, a symbolic tensor) and how a persistent id becomes a
// shared storage reference. Nothing is executed; every value is checked before it is used.
#include <string>

#include "core/printable.h"
#include "format/pickle_globals.h"
#include "format/pickle_unpickler.h"

namespace tessera {

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

}  // namespace tessera
