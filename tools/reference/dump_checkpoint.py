#!/usr/bin/python3
"""Independent summary of a torch checkpoint, written with torch itself (1.13), for
tests/format/torch_checkpoint_test.cpp: tensor names, dtypes, shapes, a hash of the exact
row-major bytes, an exact sum, the first values, storage sharing, and model_args as JSON.

Run once, commit the JSON files (the C++ tests never need Python):
  /usr/bin/python3 tools/reference/dump_checkpoint.py OUT_DIR NAME=CKPT [NAME=CKPT ...]
  e.g. ... tests/data/torch fb-eft-softmax=tests/data/authors/fb-eft-softmax/ckpt.pt
"""
import ctypes
import json
import math
import sys

import torch

DTYPE_NAMES = {
    torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16", torch.float64: "F64",
    torch.int64: "I64", torch.int32: "I32", torch.int16: "I16", torch.int8: "I8",
    torch.uint8: "U8", torch.bool: "U8",  # Tessera stores bool as one byte per element
}
INT64_MIN, UINT64_MAX = -(2 ** 63), 2 ** 64 - 1


def fnv1a64(data: bytes) -> str:
    h = 0xCBF29CE484222325
    for b in data:
        h = ((h ^ b) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return "%016x" % h


def raw_bytes(t: torch.Tensor) -> bytes:
    c = t.detach().contiguous().clone()
    return ctypes.string_at(c.data_ptr(), c.numel() * c.element_size()) if c.numel() else b""


def plain(v):
    """model_args value -> JSON, with Tessera's convention for ints beyond 64 bits (decimal str)."""
    if isinstance(v, bool) or v is None or isinstance(v, (str, float)):
        return v
    if isinstance(v, int):
        return v if INT64_MIN <= v <= UINT64_MAX else str(v)
    if isinstance(v, (list, tuple)):
        return [plain(x) for x in v]
    if isinstance(v, dict):
        return {k: plain(x) for k, x in v.items()}
    raise TypeError("unexpected model_args value %r" % (v,))


def summarize(path: str) -> dict:
    ck = torch.load(path, map_location="cpu")
    state = ck["model"] if "model" in ck else ck
    groups = {}
    tensors = []
    for name, t in state.items():
        values = t.detach().flatten()
        as_py = values.double().tolist() if t.is_floating_point() else values.long().tolist()
        ptr = t.storage().data_ptr()
        groups.setdefault(ptr, len(groups))
        tensors.append({
            "name": name,
            "dtype": DTYPE_NAMES[t.dtype],
            "shape": list(t.shape),
            "fnv1a64": fnv1a64(raw_bytes(t)),
            # math.fsum: the correctly rounded sum, independent of summation order.
            "sum": math.fsum(as_py),
            "first": as_py[:8],
            "storage_group": groups[ptr],
            "storage_offset": t.storage_offset(),
            "contiguous": t.is_contiguous(),
        })
    return {
        "source": path,
        "torch_version": torch.__version__,
        "model_args": plain(ck["model_args"]) if "model" in ck and "model_args" in ck else None,
        "tensors": tensors,
    }


def main():
    out_dir = sys.argv[1]
    for spec in sys.argv[2:]:
        name, path = spec.split("=", 1)
        with open("%s/%s.summary.json" % (out_dir, name), "w") as f:
            json.dump(summarize(path), f, indent=1)
            f.write("\n")


if __name__ == "__main__":
    main()
