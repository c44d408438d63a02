#!/usr/bin/env python3
"""Cached PyTorch-CUDA decoder of a Memory Mosaics model (the baseline of docs/benchmarks.md, Vulkan).

The reference model (tools/reference/memory_mosaics.py) at the sizes of Tessera's Vulkan benchmark
(tests/bench/vulkan/vulkan_decoder_bench.cpp): random weights (the authors' initialisation, seeded), F16 on the
GPU, decoded by the reference cached decoder (tools/reference/cached_decoder.py: a key/value cache of unit keys
and finished values, O(1) leaky states kept in F32). This file only swaps in PyTorch's fused kernels: softmax
attention and the persistent-memory read through F.scaled_dot_product_attention; alpha = 1.5 through a
sort-based exact entmax-1.5 written here (the threshold by sorted prefix sums, as in docs/attention.md).

Decode is timed two ways at each context length L (cache filled with random unit keys/values):
  eager  - the Python loop as the authors' code would run it (CUDA events around 20 steps);
  graph  - one decode step at position L captured in a CUDA graph and replayed (GPU-bound).
Also times the attention alone (12 heads, d = 64, one query) for n = 1K..64K.

Usage: python3 tools/bench/torch_cuda_decoder.py [--contexts 512 2048 8192 32768] [--json out.json]
"""
import argparse
import json
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "reference"))
from cached_decoder import CachedDecoder  # noqa: E402
from memory_mosaics import StackAssoMem  # noqa: E402


if not hasattr(F, "scaled_dot_product_attention"):  # torch < 2.0 (CPU checks only)
    def _sdpa(q, k, v, is_causal=False, scale=1.0):
        scores = (q @ k.transpose(-1, -2)) * scale
        if is_causal:
            n, m = scores.shape[-2:]
            scores = scores.masked_fill(torch.ones(n, m, dtype=torch.bool).triu(1), float("-inf"))
        return torch.softmax(scores, dim=-1) @ v
    F.scaled_dot_product_attention = _sdpa

# Benchmark method names and the reference's names for them.
REFERENCE_METHOD = {"softmax": "softmax", "entmax15": "biweight"}


def entmax15_sorted(scores):
    """Exact entmax-1.5 over the last dim (sorted prefix sums; rows of any length)."""
    x = scores * 0.5
    x = x - x.max(dim=-1, keepdim=True).values
    xs, _ = torch.sort(x, dim=-1, descending=True)
    n = x.shape[-1]
    rho = torch.arange(1, n + 1, device=x.device, dtype=x.dtype)
    mean = xs.cumsum(-1) / rho
    meansq = (xs * xs).cumsum(-1) / rho
    ss = rho * (meansq - mean * mean)
    tau = mean - torch.sqrt(torch.clamp((1 - ss) / rho, min=0))
    support = (tau <= xs).sum(dim=-1, keepdim=True)
    tau_star = tau.gather(-1, support - 1)
    return torch.clamp(x - tau_star, min=0) ** 2


def entmax15_attend(scores, values):
    """Weights of entmax15_sorted (scores in F32), renormalised, times values in their dtype."""
    p = entmax15_sorted(scores.float())
    return (p / p.sum(-1, keepdim=True)).to(values.dtype) @ values


def make_model(V=50304, C=768, H=12, L=12, N=2688, device="cuda", dtype=torch.float16, seed=0):
    """The reference model with seeded random weights, on `device` in `dtype`."""
    torch.manual_seed(seed)
    model = StackAssoMem(vocab_size=V, n_head=H, n_embd=C, n_layer=L, pmem_size=N, ic_dropout=0.0, hd_dropout=0.0)
    return model.to(device=device, dtype=dtype).eval()


class FusedDecoder(CachedDecoder):
    """The reference cached decoder with SDPA (softmax, memory read) or entmax15_sorted (`method` "entmax15")."""

    def __init__(self, model, capacity, method):
        super().__init__(model, capacity)
        self.method = REFERENCE_METHOD[method]

    def attend(self, layer, query, keys, values):
        if self.method == "softmax":
            return F.scaled_dot_product_attention(query, keys, values, scale=1.0)
        return entmax15_attend(query.float() @ keys.float().transpose(1, 2), values)

    def read_memory(self, query, mem_k, mem_v):
        return F.scaled_dot_product_attention(query, mem_k, mem_v, scale=1.0)

    def fill_random(self, length):
        """Cache rows 0..length-1 get random unit keys and values (a context of `length` without decoding it)."""
        H, d = self.H, self.d
        for st in self.state:
            for name in ("keys", "values"):
                rows = F.normalize(torch.randn(H, length, d, device=self.device), dim=-1)
                st[name][:, :length] = rows.to(self.dtype)

    def step_at(self, token, t):
        """One decode step at position t (keys 0..t-1 visible), however often it is repeated."""
        self.t = t
        return self.step(token)


def time_cuda(fn, iters):
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    fn()
    torch.cuda.synchronize()
    start.record()
    for _ in range(iters):
        fn()
    end.record()
    torch.cuda.synchronize()
    return start.elapsed_time(end) / iters * 1e3  # microseconds


def bench_decoder(model, contexts, methods):
    rows = []
    for method in methods:
        for L in contexts:
            dec = FusedDecoder(model, L + 2, method)
            dec.fill_random(L)
            tok = torch.zeros(1, dtype=torch.long, device=dec.device)
            with torch.no_grad():
                eager_us = time_cuda(lambda: torch.argmax(dec.step_at(tok, L)), 10)
                g = torch.cuda.CUDAGraph()
                s = torch.cuda.Stream()
                s.wait_stream(torch.cuda.current_stream())
                with torch.cuda.stream(s):
                    for _ in range(2):
                        torch.argmax(dec.step_at(tok, L))
                torch.cuda.current_stream().wait_stream(s)
                with torch.cuda.graph(g):
                    torch.argmax(dec.step_at(tok, L))
                graph_us = time_cuda(g.replay, 20)
            rows.append(dict(kind="decode", method=method, context=L, eager_us=eager_us, graph_us=graph_us,
                             eager_tok_s=1e6 / eager_us, graph_tok_s=1e6 / graph_us))
            print(f"decode {method:8s} L={L:6d}: eager {eager_us:9.1f} us ({1e6/eager_us:7.1f} tok/s), "
                  f"graph {graph_us:9.1f} us ({1e6/graph_us:7.1f} tok/s)", flush=True)
            del dec, g
            torch.cuda.empty_cache()
    return rows


def bench_attention(ns, H=12, d=64):
    rows = []
    for n in ns:
        q = F.normalize(torch.randn(H, 1, d, device="cuda"), dim=-1).half() * 8
        k = F.normalize(torch.randn(H, n, d, device="cuda"), dim=-1).half()
        v = torch.randn(H, n, d, device="cuda").half()
        flush = torch.empty(64 << 20, dtype=torch.int8, device="cuda")  # > L2: cold cache per replay
        res = dict(kind="attention", n=n)
        for name, fn in (("sdpa_softmax", lambda: F.scaled_dot_product_attention(q, k, v, scale=1.0)),
                         ("sort_entmax15", lambda: entmax15_sorted(q.float() @ k.float().transpose(1, 2)).half() @ v)):
            g = torch.cuda.CUDAGraph()
            fn()
            torch.cuda.synchronize()
            with torch.cuda.graph(g):
                fn()
            # time = (flush + op) - flush
            both = time_cuda(lambda: (flush.zero_(), g.replay()), 20)
            alone = time_cuda(lambda: flush.zero_(), 20)
            res[name + "_us"] = both - alone
        rows.append(res)
        print(f"attention n={n:6d}: SDPA softmax {res['sdpa_softmax_us']:8.1f} us, "
              f"sort entmax15 {res['sort_entmax15_us']:8.1f} us", flush=True)
    return rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--contexts", type=int, nargs="*", default=[512, 2048, 8192, 32768])
    ap.add_argument("--methods", nargs="*", default=["softmax", "entmax15"])
    default_attention = [1024, 4096, 16384, 65536]
    ap.add_argument("--attention", type=int, nargs="*", default=default_attention,
                    help="decode-attention lengths (a bare --attention: the defaults; 0: none)")
    ap.add_argument("--json", default="")
    args = ap.parse_args()
    # A bare `--attention` parses as []: it used to skip the attention rows silently (the vkfinal H100
    # run lost them that way); it now means the defaults, and `--attention 0` skips them.
    if args.attention == []:
        args.attention = default_attention
    args.attention = [n for n in args.attention if n > 0]
    if not torch.cuda.is_available():
        print("no CUDA device", file=sys.stderr)
        return 1
    print(f"torch {torch.__version__}, {torch.cuda.get_device_name()}", flush=True)
    torch.backends.cuda.matmul.allow_tf32 = True
    model = make_model()
    rows = bench_decoder(model, args.contexts, args.methods) + bench_attention(args.attention)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(dict(torch=torch.__version__, device=torch.cuda.get_device_name(), rows=rows), f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
