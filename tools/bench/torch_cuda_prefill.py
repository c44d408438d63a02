#!/usr/bin/env python3
"""Plain PyTorch-CUDA prefill of a Memory Mosaics model: the baseline of Tessera's Vulkan prefill.

The model of tools/bench/torch_cuda_decoder.py (random weights, F16, GPT-2-small sizes) run as one
forward over T prompt tokens, the way a PyTorch user would write it: matrix products over all rows,
the leaky averages as a product with a fixed [H, T, T] decay matrix (built once, outside the timing),
the causal contextual attention through F.scaled_dot_product_attention (softmax) or a sort-based exact
entmax-1.5 over masked [H, T, T] scores, the persistent memory through SDPA over the N slots, and the
logits of the last row. The forward is captured in a CUDA graph and replayed (GPU-bound), so the
figure is what the GPU needs, not Python's launch overhead.

Usage: python3 tools/bench/torch_cuda_prefill.py [--lengths 512 2048] [--methods softmax entmax15]
                                                  [--json out.json]
"""
import argparse
import json
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_cuda_decoder import Model, entmax15_sorted, time_cuda  # noqa: E402


def decay_matrix(a, T):
    """[H, T, T] fp32: row t holds (1 - a) a^(t - j) for j <= t, so s = D @ u is the leaky average from 0."""
    t = torch.arange(T, device=a.device, dtype=torch.float32)
    diff = (t.view(T, 1) - t.view(1, T))
    mask = diff >= 0
    powers = torch.where(mask, a.view(-1, 1, 1) ** diff.clamp(min=0), torch.zeros((), device=a.device))
    return (1 - a).view(-1, 1, 1) * powers


class Prefill:
    def __init__(self, model, T, method):
        self.m, self.T, self.method = model, T, method
        self.dk = [decay_matrix(p["decay"], T) for p in model.layers]
        self.dp = [decay_matrix(p["pdecay"], T) for p in model.layers]
        if method != "softmax":
            # Keys a row may not see (j > t - 1 after the shift below) score far below every real one.
            self.neg = torch.triu(torch.full((T - 1, T - 1), -1e4, device=model.device), diagonal=1)

    def forward(self, tokens):
        m, T, H, d, C = self.m, self.T, self.m.H, self.m.d, self.m.C
        x = m.emb[tokens]  # [T, C]
        for p, dk, dp in zip(m.layers, self.dk, self.dp):
            h = F.layer_norm(x, (C,), p["ln1"])
            u = (h @ p["k"].T).float().view(T, H, d).transpose(0, 1)  # [H, T, d]
            w = (h @ p["v"].T).view(T, H, d).transpose(0, 1).float()
            kh = F.normalize(dk @ u, dim=-1)
            c = p["mix"].view(H, 1, 1)
            # Value j (j < T - 1) mixes w_{j+1} and w_j; the last row's value waits for the next token.
            vt = F.normalize((1 - c) * w[:, 1:] + c * w[:, :-1], dim=-1) * p["vscale"].view(H, 1, 1)
            # Row t sees keys 0 .. t - 1: queries 1 .. T-1 against keys 0 .. T-2 are plain causal.
            q = (p["beta2"].view(H, 1, 1) * kh[:, 1:]).to(m.dtype)
            keys, vals = kh[:, :-1].to(m.dtype), vt.to(m.dtype)
            if self.method == "softmax":
                o = F.scaled_dot_product_attention(q, keys, vals, is_causal=True, scale=1.0)
            else:
                pr = entmax15_sorted(q.float() @ keys.float().transpose(1, 2) + self.neg)
                o = (pr / pr.sum(-1, keepdim=True)).to(m.dtype) @ vals
            o = torch.cat([torch.zeros(H, 1, d, device=x.device, dtype=m.dtype), o], dim=1)
            x = x + o.transpose(0, 1).reshape(T, C) @ p["o"].T
            h2 = F.layer_norm(x, (C,), p["ln2"])
            u2 = (h2 @ p["pk"].T).float().view(T, H, d).transpose(0, 1)
            q2 = (p["pq"].view(H, 1, 1) * F.normalize(dp @ u2, dim=-1)).to(m.dtype)
            r = F.scaled_dot_product_attention(q2, p["mk"], p["mv"], scale=1.0) * p["pvs"].view(H, 1, 1).to(m.dtype)
            x = x + r.transpose(0, 1).reshape(T, C) @ p["po"].T
        logits = m.emb @ F.layer_norm(x[-1], (C,), m.ln_out)
        return torch.argmax(logits)


def bench(model, lengths, methods):
    rows = []
    for method in methods:
        for T in lengths:
            pf = Prefill(model, T, method)
            tokens = torch.randint(0, model.V, (T,), device=model.device)
            with torch.no_grad():
                s = torch.cuda.Stream()
                s.wait_stream(torch.cuda.current_stream())
                with torch.cuda.stream(s):
                    for _ in range(2):
                        pf.forward(tokens)
                torch.cuda.current_stream().wait_stream(s)
                g = torch.cuda.CUDAGraph()
                with torch.cuda.graph(g):
                    pf.forward(tokens)
                us = time_cuda(g.replay, 10)
            rows.append(dict(kind="prefill", method=method, tokens=T, graph_us=us, tok_s=T / (us * 1e-6)))
            print(f"prefill {method:8s} T={T:6d}: {us:10.1f} us ({T / (us * 1e-6):9.1f} tok/s)", flush=True)
            del pf, g
            torch.cuda.empty_cache()
    return rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lengths", type=int, nargs="+", default=[512, 2048])
    ap.add_argument("--methods", nargs="+", default=["softmax", "entmax15"])
    ap.add_argument("--json", default="")
    args = ap.parse_args()
    if not torch.cuda.is_available():
        print("no CUDA device", file=sys.stderr)
        return 1
    print(f"torch {torch.__version__}, {torch.cuda.get_device_name()}", flush=True)
    torch.backends.cuda.matmul.allow_tf32 = True
    rows = bench(Model(), args.lengths, args.methods)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(dict(torch=torch.__version__, device=torch.cuda.get_device_name(), rows=rows), f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
