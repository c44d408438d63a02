#!/usr/bin/python3
"""Per-row CPU time of PyTorch softmax and the deep-spin/entmax sort-based sparsemax / entmax15
(formulas of make_entmax_vectors.py, in float32) on β²·cos rows (β² = 8), one thread — the baseline
of docs/benchmarks.md. Usage: /usr/bin/python3 tools/reference/time_torch_entmax.py
"""
import time

import torch

from make_entmax_vectors import entmax15, sparsemax

torch.set_num_threads(1)


def row(n, gen):
    q = torch.nn.functional.normalize(torch.randn(64, generator=gen), dim=0)
    k = torch.nn.functional.normalize(torch.randn(n, 64, generator=gen), dim=1)
    return (8.0 * (k @ q)).to(torch.float32)


def best_us(fn, x, reps):
    best = float("inf")
    for _ in range(5):
        t0 = time.perf_counter()
        for _ in range(reps):
            fn(x)
        best = min(best, (time.perf_counter() - t0) / reps)
    return best * 1e6


def main():
    gen = torch.Generator().manual_seed(1)
    print("n        softmax_us  sparsemax_sort_us  entmax15_sort_us")
    for n in (256, 4096, 65536):
        x = row(n, gen)
        reps = 200 if n <= 4096 else 10
        print(f"{n:<8} {best_us(lambda v: torch.softmax(v, 0), x, reps):10.1f} "
              f"{best_us(sparsemax, x, reps):18.1f} {best_us(entmax15, x, reps):17.1f}")


if __name__ == "__main__":
    main()
