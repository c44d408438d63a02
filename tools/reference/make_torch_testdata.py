#!/usr/bin/python3
"""Small torch.save checkpoints (torch 1.13) that exercise what the authors' fixtures do not:
every storage dtype, non-contiguous and offset views, shared storages, a bare state dict,
nn.Parameter (torch._utils._rebuild_parameter), pickle protocol 4, the legacy format, and
model_args values that are awkward for JSON. Deterministic; run once and commit the outputs:
  /usr/bin/python3 tools/reference/make_torch_testdata.py tests/data/torch
then summarise them with dump_checkpoint.py (see tests/data/torch/README.md).
"""
import collections
import sys

import torch


def main():
    out = sys.argv[1]
    torch.manual_seed(7)
    base = torch.randn(6, 5)
    tied = torch.randn(3, 4)
    model = collections.OrderedDict()
    model["f32"] = torch.randn(2, 3)
    model["f16"] = torch.randn(3, 2).half()
    model["bf16"] = torch.randn(5).bfloat16()
    model["f64"] = torch.randn(2, 2).double()
    model["i64"] = torch.tensor([[1, -2, 3], [2 ** 40, -(2 ** 62), 0]], dtype=torch.int64)
    model["i32"] = torch.tensor([7, -8, 2 ** 31 - 1], dtype=torch.int32)
    model["i16"] = torch.tensor([-300, 300], dtype=torch.int16)
    model["i8"] = torch.tensor([-128, 127, 0], dtype=torch.int8)
    model["u8"] = torch.tensor([0, 255, 17], dtype=torch.uint8)
    model["bool"] = torch.tensor([True, False, True])
    model["base"] = base
    model["transposed"] = base.t()                # non-contiguous view of base's storage
    model["rows_at_offset"] = base[2:4]           # contiguous view at storage offset 10
    model["strided_cols"] = base[1:, 1::2]        # non-contiguous view at offset 6
    model["tied_a"] = tied
    model["tied_b"] = tied                        # same tensor twice: one shared storage
    model["scalar"] = torch.tensor(3.5)           # 0-dim
    model["empty"] = torch.zeros(0, 4)
    model["param"] = torch.nn.Parameter(torch.randn(2, 2))
    args = {
        "n_embd": 8, "name": "tiny", "lr": 0.1, "flag": True, "off": False, "nothing": None,
        "list": [1, 2.5, "a", [True, None]], "pair": (3, 4), "neg": -5,
        "big": 2 ** 70, "neg_big": -(2 ** 70), "u64_max": 2 ** 64 - 1, "i64_min": -(2 ** 63),
        "nested": {"depth": 2, "inner": {"x": 1e-8}},
    }
    torch.save({"model": model, "model_args": args, "iter_num": 3}, "%s/dtypes.pt" % out)

    torch.manual_seed(8)
    net = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.LayerNorm(3))
    torch.save(net.state_dict(), "%s/bare_state_dict.pt" % out)
    # A state dict of Parameters (not .state_dict()): torch._utils._rebuild_parameter.
    torch.save(collections.OrderedDict(net.named_parameters()), "%s/parameters.pt" % out)
    torch.save({"model": net.state_dict(), "model_args": {"n": 1}}, "%s/protocol4.pt" % out, pickle_protocol=4)
    torch.save(net.state_dict(), "%s/legacy.pt" % out, _use_new_zipfile_serialization=False)


if __name__ == "__main__":
    main()
