#!/usr/bin/env python3
"""Causal alpha = 1.5 prompt attention of deep-spin/adasplash (Triton), the baseline for Tessera's
exact prompt attention (vulkan_decoder_bench BM_PrefillAttention: 12 heads, d = 64).

Times the fused forward only (no gradients) with CUDA events after warm-up (the first calls include
Triton's autotuning): AdaSplash-1 (`adasplash_v1`, niter = 10, the published setting) and
AdaSplash-2 (`adasplash_v2`, niter = 1, the package's default for causal alpha = 1.5). Inputs are
fp16, q and k standard normal (scores ~ N(0, 1) after the 1/sqrt(d) scale), v standard normal.
Needs PyTorch with CUDA and the adasplash package (pip install adasplash, or PYTHONPATH naming a
checkout of github.com/deep-spin/adasplash); without them it says so and exits with status 2.

Usage: python3 tools/bench/adasplash_prefill_attention.py [--lengths 2048 16384] [--reps 20] [--json out.json]
"""
import argparse
import json
import statistics
import sys


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--lengths", type=int, nargs="+", default=[2048, 16384])
    ap.add_argument("--heads", type=int, default=12)
    ap.add_argument("--head-dim", type=int, default=64)
    ap.add_argument("--reps", type=int, default=20)
    ap.add_argument("--json", default="")
    args = ap.parse_args()
    try:
        import torch
        import adasplash
    except ImportError as e:
        print(f"adasplash_prefill_attention: needs PyTorch and adasplash ({e})", file=sys.stderr)
        return 2
    if not torch.cuda.is_available():
        print("adasplash_prefill_attention: no CUDA device", file=sys.stderr)
        return 2
    variants = {
        "adasplash_v1_niter10": lambda q, k, v: adasplash.adasplash_v1(q, k, v, alpha=1.5, is_causal=True, niter=10),
        "adasplash_v2_niter1": lambda q, k, v: adasplash.adasplash_v2(q, k, v, niter=1),
    }
    results = []
    gen = torch.Generator(device="cuda").manual_seed(0)
    for T in args.lengths:
        shape = (1, args.heads, T, args.head_dim)
        q, k, v = (torch.randn(shape, device="cuda", dtype=torch.float16, generator=gen) for _ in range(3))
        for name, fn in variants.items():
            with torch.no_grad():
                for _ in range(5):
                    fn(q, k, v)
                torch.cuda.synchronize()
                times = []
                for _ in range(args.reps):
                    a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
                    a.record()
                    fn(q, k, v)
                    b.record()
                    b.synchronize()
                    times.append(a.elapsed_time(b))
            r = {"variant": name, "T": T, "heads": args.heads, "head_dim": args.head_dim,
                 "ms_median": statistics.median(times), "ms_min": min(times), "reps": args.reps}
            results.append(r)
            print(f"{name:22s} T={T:6d}  median {r['ms_median']:.3f} ms  min {r['ms_min']:.3f} ms")
    meta = {"gpu": torch.cuda.get_device_name(), "torch": torch.__version__,
            "adasplash": getattr(adasplash, "__version__", "?")}
    print(json.dumps(meta))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"meta": meta, "results": results}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
