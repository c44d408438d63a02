#!/usr/bin/env python3
"""Cached PyTorch-CUDA decoder of a Memory Mosaics model (the baseline of docs/benchmarks.md, Vulkan).

Same architecture and sizes as Tessera's Vulkan benchmark (tests/bench/vulkan/vulkan_decoder_bench.cpp):
random weights, F16 matrices, a key/value cache of unit keys and finished values, O(1) leaky states.
Softmax attention goes through F.scaled_dot_product_attention; alpha = 1.5 through a sort-based exact
entmax-1.5 written here (the threshold by sorted prefix sums, as in docs/attention.md).

Decode is timed two ways at each context length L (cache filled with random unit keys/values):
  eager  - the Python loop as the authors' code would run it (CUDA events around 20 steps);
  graph  - one decode step at position L captured in a CUDA graph and replayed (GPU-bound).
Also times the attention alone (12 heads, d = 64, one query) for n = 1K..64K.

Usage: python3 tools/bench/torch_cuda_decoder.py [--contexts 512 2048 8192 32768] [--json out.json]
"""
import argparse
import json
import math
import sys

import torch
import torch.nn.functional as F


if not hasattr(F, "scaled_dot_product_attention"):  # torch < 2.0 (CPU smoke tests only)
    def _sdpa(q, k, v, scale=1.0):
        return torch.softmax((q @ k.transpose(-1, -2)) * scale, dim=-1) @ v
    F.scaled_dot_product_attention = _sdpa


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


class Model:
    def __init__(self, V=50304, C=768, H=12, L=12, N=2688, device="cuda", dtype=torch.float16, seed=0):
        g = torch.Generator(device="cpu").manual_seed(seed)
        d = C // H
        self.V, self.C, self.H, self.L, self.N, self.d = V, C, H, L, N, d

        def mat(r, c):
            return (torch.randn(r, c, generator=g) / math.sqrt(c)).to(device, dtype)

        def heads(lo, hi):
            return (lo + (hi - lo) * torch.rand(H, generator=g)).to(device, torch.float32)

        self.emb = mat(V, C)
        self.layers = []
        for _ in range(L):
            self.layers.append(dict(
                ln1=torch.ones(C, device=device, dtype=dtype), ln2=torch.ones(C, device=device, dtype=dtype),
                k=mat(C, C), v=mat(C, C), o=mat(C, C), pk=mat(C, C), po=mat(C, C),
                decay=heads(0.0, 0.9), beta2=heads(2.0, 60.0), vscale=heads(0.8, 1.2), mix=heads(-0.2, 1.2),
                pdecay=heads(0.0, 0.9), pq=heads(2.0, 20.0), pvs=heads(0.8, 1.2),
                mk=torch.randn(H, N, d, generator=g).to(device, dtype),
                mv=torch.randn(H, N, d, generator=g).to(device, dtype)))
        self.ln_out = torch.ones(C, device=device, dtype=dtype)
        self.device, self.dtype = device, dtype

    def new_state(self, capacity):
        H, d, C = self.H, self.d, self.C
        st = []
        for _ in range(self.L):
            k = F.normalize(torch.randn(H, capacity, d, device=self.device), dim=-1).to(self.dtype)
            v = F.normalize(torch.randn(H, capacity, d, device=self.device), dim=-1).to(self.dtype)
            st.append(dict(k=k, v=v, s=torch.zeros(C, device=self.device), sp=torch.zeros(C, device=self.device),
                           wprev=torch.zeros(C, device=self.device, dtype=self.dtype)))
        return st

    def step(self, tok, t, state, method):
        """One cached decode step at position t (keys 0..t-1 visible). tok: int64 tensor [1]."""
        H, d, C = self.H, self.d, self.C
        x = self.emb[tok].view(C)
        for p, s in zip(self.layers, state):
            h = F.layer_norm(x, (C,), p["ln1"])
            u = (p["k"] @ h).float()
            w = p["v"] @ h
            a = p["decay"].repeat_interleave(d)
            s["s"].mul_(a).add_((1 - a) * u)
            kh = F.normalize(s["s"].view(H, d), dim=-1)
            s["k"][:, t] = kh.to(self.dtype)
            c = p["mix"].view(H, 1)
            vt = F.normalize(((1 - c) * w.view(H, d).float() + c * s["wprev"].view(H, d).float()), dim=-1)
            s["v"][:, t - 1] = (p["vscale"].view(H, 1) * vt).to(self.dtype)
            s["wprev"].copy_(w)
            q = (p["beta2"].view(H, 1) * kh).to(self.dtype).view(H, 1, d)
            keys, vals = s["k"][:, :t], s["v"][:, :t]
            if method == "softmax":
                o = F.scaled_dot_product_attention(q, keys, vals, scale=1.0)
            else:
                pr = entmax15_sorted((q.float() @ keys.float().transpose(1, 2)))
                o = (pr / pr.sum(-1, keepdim=True)).to(self.dtype) @ vals
            x = x + p["o"] @ o.reshape(C)
            h2 = F.layer_norm(x, (C,), p["ln2"])
            u2 = (p["pk"] @ h2).float()
            a2 = p["pdecay"].repeat_interleave(d)
            s["sp"].mul_(a2).add_((1 - a2) * u2)
            q2 = (p["pq"].view(H, 1) * F.normalize(s["sp"].view(H, d), dim=-1)).to(self.dtype).view(H, 1, d)
            r = F.scaled_dot_product_attention(q2, p["mk"], p["mv"], scale=1.0) * p["pvs"].view(H, 1, 1).to(self.dtype)
            x = x + p["po"] @ r.reshape(C)
        logits = self.emb @ F.layer_norm(x, (C,), self.ln_out)
        return torch.argmax(logits)


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
            state = model.new_state(L + 2)
            tok = torch.zeros(1, dtype=torch.long, device=model.device)
            with torch.no_grad():
                eager_us = time_cuda(lambda: model.step(tok, L, state, method), 10)
                g = torch.cuda.CUDAGraph()
                s = torch.cuda.Stream()
                s.wait_stream(torch.cuda.current_stream())
                with torch.cuda.stream(s):
                    for _ in range(2):
                        model.step(tok, L, state, method)
                torch.cuda.current_stream().wait_stream(s)
                with torch.cuda.graph(g):
                    model.step(tok, L, state, method)
                graph_us = time_cuda(g.replay, 20)
            rows.append(dict(kind="decode", method=method, context=L, eager_us=eager_us, graph_us=graph_us,
                             eager_tok_s=1e6 / eager_us, graph_tok_s=1e6 / graph_us))
            print(f"decode {method:8s} L={L:6d}: eager {eager_us:9.1f} us ({1e6/eager_us:7.1f} tok/s), "
                  f"graph {graph_us:9.1f} us ({1e6/graph_us:7.1f} tok/s)", flush=True)
            del state
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
    model = Model()
    rows = bench_decoder(model, args.contexts, args.methods) + bench_attention(args.attention)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(dict(torch=torch.__version__, device=torch.cuda.get_device_name(), rows=rows), f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
