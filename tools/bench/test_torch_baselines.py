"""Checks that the PyTorch benchmark baselines compute the reference model: the CPU decoder (torch_cpu_decoder.py),
the fused-kernel decoder (torch_cuda_decoder.py) and the prefill (torch_cuda_prefill.py), run on the CPU in float64, against the
reference forward (tools/reference/memory_mosaics.py) on the same random model.

Run: /usr/bin/python3 tools/bench/test_torch_baselines.py      Exit status 0 = all checks passed.
"""
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_cuda_decoder import REFERENCE_METHOD, FusedDecoder, make_model  # noqa: E402
from torch_cuda_prefill import Prefill  # noqa: E402
from torch_cpu_decoder import SoftmaxDecoder  # noqa: E402

# Softmax decode is float64 throughout: the forward's sums in another order. The entmax-1.5 path scores in float32
# (as on the GPU) and the prefill keeps its leaky averages in float32: weights and keys to ~1e-7 relative, logits
# of size ~1 to ~3e-5 here (the clamped heads amplify); 1e-4 still catches any wrong term (those move logits > 1e-2).
TOL = {"softmax": 1e-12, "entmax15": 1e-4}
PREFILL_TOL = 1e-4
failures = []


def check(cond, msg):
    print(("ok   " if cond else "FAIL ") + msg)
    if not cond:
        failures.append(msg)


def main():
    T = 10
    for method in ("softmax", "entmax15"):
        model = make_model(V=37, C=16, H=2, L=2, N=8, device="cpu", dtype=torch.float64, seed=5)
        model.method = REFERENCE_METHOD[method]
        with torch.no_grad():  # per-head scalars off their initial values (and one head on the beta clamp)
            for name, p in model.named_parameters():
                if name.endswith(("leaky_key_beta", "value_beta", "coef")):
                    p.add_(torch.randn_like(p) * 0.2)
                elif name.endswith("kernel_beta"):
                    p.add_(torch.rand_like(p) * 0.5)
        tokens = torch.randint(0, 37, (T,))
        with torch.no_grad():
            want = model(tokens.view(1, T))[0]
        dec = FusedDecoder(model, T, method)
        got = torch.stack([dec.step(tokens[i:i + 1]) for i in range(T)])
        dev = (got - want).abs().max().item()
        check(dev <= TOL[method], f"fused decoder {method}: max |dlogit| vs reference = {dev:.2e} (tol {TOL[method]})")
        if method == "softmax":
            dec = SoftmaxDecoder(model, T)
            got = torch.stack([dec.step(int(tok)) for tok in tokens])
            dev = (got - want).abs().max().item()
            check(dev <= TOL[method], f"cpu decoder: max |dlogit| vs reference = {dev:.2e} (tol {TOL[method]})")
        with torch.no_grad():
            last = Prefill(model, T, method).forward(tokens)
        dev = (last - want[-1]).abs().max().item()
        check(dev <= PREFILL_TOL, f"prefill {method}: max |dlogit| of the last row = {dev:.2e} (tol {PREFILL_TOL})")
    print(f"{len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
