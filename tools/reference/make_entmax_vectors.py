#!/usr/bin/python3
"""Reference vectors for Tessera's sparsemax and entmax-1.5 kernels, computed with PyTorch (1.13) by the
sort-based formulas of deep-spin/entmax (Peters, Niculae, Martins 2019), re-implemented here in float64:

  sparsemax: z sorted descending, k = #{rho : 1 + rho z_(rho) > cumsum_rho}, tau = (cumsum_k - 1)/k,
             p = max(z - tau, 0).
  entmax15:  x = z/2 - max(z/2), sorted descending; per prefix rho: mean, mean of squares,
             ss = rho (meansq - mean^2), tau_rho = mean - sqrt(max(0, (1 - ss)/rho));
             support = #{rho : tau_rho <= x_(rho)}, tau = tau_support, p = max(x - tau, 0)^2.

Scores are float32 (what the kernels take); outputs float64. Usage (from the repository root):
  /usr/bin/python3 tools/reference/make_entmax_vectors.py tests/data/entmax/deepspin_vectors.json
"""
import json
import os
import sys

import torch


def sparsemax(z):
    zs, _ = torch.sort(z, descending=True)
    rho = torch.arange(1, z.numel() + 1, dtype=z.dtype)
    cs = torch.cumsum(zs, 0)
    k = int(((1 + rho * zs) > cs).sum())
    tau = (cs[k - 1] - 1) / k
    return torch.clamp(z - tau, min=0)


def entmax15(z):
    x = z / 2
    x = x - x.max()
    xs, _ = torch.sort(x, descending=True)
    rho = torch.arange(1, x.numel() + 1, dtype=x.dtype)
    mean = torch.cumsum(xs, 0) / rho
    mean_sq = torch.cumsum(xs * xs, 0) / rho
    ss = rho * (mean_sq - mean * mean)
    delta = torch.clamp((1 - ss) / rho, min=0)
    tau = mean - torch.sqrt(delta)
    support = int((tau <= xs).sum())
    return torch.clamp(x - tau[support - 1], min=0) ** 2


def rows(gen):
    out = []
    for n in (1, 2, 5, 16, 100, 500):
        for dist in ("gaussian", "uniform", "beta2_cos"):
            if dist == "gaussian":
                s = torch.randn(n, generator=gen) * 2
            elif dist == "uniform":
                s = torch.rand(n, generator=gen) * 6 - 3
            else:
                beta2 = 2 + 58 * float(torch.rand(1, generator=gen))
                q = torch.nn.functional.normalize(torch.randn(32, generator=gen), dim=0)
                k = torch.nn.functional.normalize(torch.randn(n, 32, generator=gen), dim=1)
                s = beta2 * (k @ q)
            out.append((dist, s.to(torch.float32)))
    ties = torch.tensor([1.0, 1.0, 1.0, 0.5, 0.5, -2.0], dtype=torch.float32)
    out.append(("ties", ties))
    return out


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: make_entmax_vectors.py OUTPUT.json")
    gen = torch.Generator().manual_seed(20260123)
    cases = []
    for dist, s32 in rows(gen):
        s64 = s32.to(torch.float64)
        cases.append({
            "dist": dist,
            "scores": [float(v) for v in s32.tolist()],
            "sparsemax": sparsemax(s64).tolist(),
            "entmax15": entmax15(s64).tolist(),
        })
    doc = {"generator": "tools/reference/make_entmax_vectors.py", "torch": torch.__version__, "cases": cases}
    tmp = sys.argv[1] + ".tmp"
    with open(tmp, "w") as f:
        json.dump(doc, f, indent=0)
    os.replace(tmp, sys.argv[1])  # never a half-written file


if __name__ == "__main__":
    main()
