#!/usr/bin/python3
"""Writes tests/data/safetensors/: safetensors files built with only `json` + `struct`, independently of
Tessera's writer, plus expected.json holding every tensor's values as plain numbers.

  model/model.safetensors + model/config.json   every dtype Tessera reads; header padded to 8 bytes;
                                                the JSON lists tensors in a different order than the data
  unaligned.safetensors                         the same tensors, header not padded (data misaligned)

Run: /usr/bin/python3 tools/reference/make_safetensors_testdata.py tests/data/safetensors
"""
import json
import os
import struct
import sys


def bf16_bytes(values):
    # The values are exactly representable in bfloat16, so dropping the low 16 bits of float32 is exact.
    out = b""
    for v in values:
        (bits,) = struct.unpack("<I", struct.pack("<f", v))
        assert bits & 0xFFFF == 0, v
        out += struct.pack("<H", bits >> 16)
    return out


# name -> (dtype, shape, values); values are exact in their dtype.
TENSORS = [
    ("f32.matrix", "F32", [2, 3], [0.5, -1.25, 3.0, 1e-3, -7.5, 1024.0]),
    ("f16.vector", "F16", [4], [1.0, -2.0, 0.0999755859375, 65504.0]),
    ("bf16.cube", "BF16", [2, 1, 2], [1.0, -0.5, 3.140625, 256.0]),
    ("f64.scalar", "F64", [], [0.1]),
    ("i64.vector", "I64", [3], [-9007199254740991, 0, 42]),
    ("i32.vector", "I32", [2], [-2147483648, 2147483647]),
    ("i16.vector", "I16", [2], [-32768, 1234]),
    ("i8.tensor4", "I8", [1, 2, 1, 3], [-128, -1, 0, 1, 64, 127]),
    ("u8.vector", "U8", [3], [0, 128, 255]),
    ("bool.mask", "BOOL", [2, 2], [1, 0, 0, 1]),
    ("empty", "F32", [0, 4], []),
]

PACK = {"F32": "<f", "F16": "<e", "F64": "<d", "I64": "<q", "I32": "<i", "I16": "<h", "I8": "<b", "U8": "<B",
        "BOOL": "<B"}


def encode(dtype, values):
    if dtype == "BF16":
        return bf16_bytes(values)
    return b"".join(struct.pack(PACK[dtype], v) for v in values)


def build(pad):
    # Data goes in reverse list order, so JSON key order, sorted order and data order all differ.
    blobs, header, offset = [], {}, 0
    for name, dtype, shape, values in reversed(TENSORS):
        data = encode(dtype, values)
        blobs.append(data)
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
    ordered = {"__metadata__": {"format": "pt", "source": "make_safetensors_testdata.py"}}
    for name, _, _, _ in TENSORS:
        ordered[name] = header[name]
    text = json.dumps(ordered).encode("utf-8")
    if pad:
        text += b" " * ((8 - (8 + len(text)) % 8) % 8)
    elif (8 + len(text)) % 2 == 0:
        text += b" "  # make the data start odd, so 2/4/8-byte types are all misaligned
    return struct.pack("<Q", len(text)) + text + b"".join(blobs)


def main(out_dir):
    os.makedirs(os.path.join(out_dir, "model"), exist_ok=True)
    with open(os.path.join(out_dir, "model", "model.safetensors"), "wb") as f:
        f.write(build(pad=True))
    with open(os.path.join(out_dir, "model", "config.json"), "w") as f:
        json.dump({"model_type": "memory-mosaics", "n_embd": 8, "n_head": 2, "method": "entmax15"}, f, indent=1)
    with open(os.path.join(out_dir, "unaligned.safetensors"), "wb") as f:
        f.write(build(pad=False))
    expected = {name: {"dtype": dtype, "shape": shape, "values": values} for name, dtype, shape, values in TENSORS}
    # File (data) order, which the reader must report.
    expected_order = [name for name, _, _, _ in reversed(TENSORS)]
    with open(os.path.join(out_dir, "expected.json"), "w") as f:
        json.dump({"tensors": expected, "order": expected_order,
                   "metadata": {"format": "pt", "source": "make_safetensors_testdata.py"}}, f, indent=1)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "tests/data/safetensors")
