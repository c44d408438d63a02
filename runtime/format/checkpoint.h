// Float-trained weights as they come from training code: the authors' ckpt.pt and
// Hugging Face style safetensors folders. Readers validate structure only; the mapping to
// Memory Mosaics semantics lives in model/.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/tensor.h"
#include "tessera/status.h"

namespace tessera {

struct Checkpoint {
  // In file order; contiguous row-major data; tied tensors may share bytes.
  std::vector<Tensor> tensors;
  // ckpt.pt: the "model_args" dict (str/int/float/bool/list/None values); safetensors: config.json.
  nlohmann::json config = nlohmann::json::object();
  std::string format;  // "torch" or "safetensors"
  std::string path;
  std::string config_file;  // safetensors: the config.json read, if any
};

// PyTorch zip checkpoint (torch.save of a dict with "model" = state dict, "model_args", ...),
// torch >= 1.6 default format, any top-level folder name (taken from the first entry).
// Restricted unpickler (format/pickle_reader.h): only the globals torch.save emits for a state dict
// are accepted (torch._utils._rebuild_tensor_v2, _rebuild_parameter[_with_state],
// torch.{Float,Half,BFloat16,Double,Long,Int,Short,Char,Byte,Bool}Storage, collections.OrderedDict);
// nothing is ever executed; any other global is an error naming it.
// Tensors: in the state dict's order; dtype from the storage class (Bool -> kU8); contiguous
// tensors view the file's bytes (path variant: the mapped file; bytes variant: one private copy),
// so tensors sharing a storage share bytes (tied emb/head: same `data`); non-contiguous ones are
// materialised as row-major copies. Every record's CRC-32, size (numel * itemsize) and every
// offset/stride are checked. A bare state dict (no "model" key) is accepted too; then config is empty.
// config = "model_args" as JSON (str/int/float/bool/None/list/tuple->array/dict); ints beyond
// 64 bits become decimal strings. The legacy pre-zip format is refused (kUnsupported).
// progress(done, total), optional: bytes of the file checked so far (every storage record's CRC-32
// reads it whole: the long part of reading a large checkpoint), after each record and at the end.
Result<Checkpoint> read_torch_checkpoint(const std::string& path,
                                         const std::function<void(int64_t done, int64_t total)>& progress = {});
Result<Checkpoint> read_torch_checkpoint_bytes(std::span<const std::byte> bytes, const std::string& name);

// `path` is a folder holding model.safetensors (+ config.json), a Hugging Face sharded folder
// (model-0000i-of-0000N.safetensors + model.safetensors.index.json, used when there is no
// model.safetensors; the shards must hold exactly the tensors the index's weight_map gives them, each once),
// that index file itself, or a .safetensors file (config.json looked up beside it).
// The files are memory-mapped (contiguous aligned tensors view them); once every header and tensor
// table is validated, every page of every file is read in (no copy), so reading happens here and not
// at the tensors' first use. progress(done, total), optional: bytes read so far, per 8 MiB and at the end.
Result<Checkpoint> read_safetensors(const std::string& path,
                                    const std::function<void(int64_t done, int64_t total)>& progress = {});
// Tensors in file (data offset) order; `metadata`, when given, receives "__metadata__".
Result<std::vector<Tensor>> parse_safetensors(std::span<const std::byte> bytes, std::shared_ptr<const void> owner,
                                              const std::string& name,
                                              std::map<std::string, std::string>* metadata = nullptr);
// Writes model.safetensors (atomically); metadata goes to "__metadata__".
Status write_safetensors(const std::string& file, const std::vector<Tensor>& tensors,
                         const std::map<std::string, std::string>& metadata = {});

}  // namespace tessera
