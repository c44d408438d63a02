#!/usr/bin/env python3
"""Plain PyTorch-CUDA prefill of a Memory Mosaics model: the baseline of Tessera's Vulkan prefill.

The model of tools/bench/torch_cuda_decoder.py (the reference model, tools/reference/memory_mosaics.py, with
random weights, F16, GPT-2-small sizes) run as one forward over T prompt tokens the way a PyTorch user would
write it, through the reference's own modules (LayerNorms, featurizers, projections, head): matrix products over
all rows, the leaky averages as a product with a fixed [H, T, T] decay matrix (built once, outside the timing),
the causal contextual attention through F.scaled_dot_product_attention (softmax) or a sort-based exact
entmax-1.5 over masked [H, T, T] scores, the persistent memory through SDPA over the N slots, and the logits of
the last row. The forward is captured in a CUDA graph and replayed (GPU-bound), so the figure is what the GPU
needs, not Python's launch overhead.

Usage: python3 tools/bench/torch_cuda_prefill.py [--lengths 512 2048] [--methods softmax entmax15]
                                                  [--json out.json]
"""
import argparse
import json
import math
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_cuda_decoder import entmax15_attend, make_model, time_cuda  # noqa: E402  (puts tools/reference on the path)
from cached_decoder import head_scalars  # noqa: E402


def decay_matrix(a, T):
    """[H, T, T] fp32: row t holds (1 - a) a^(t - j) for j <= t, so s = D @ u is the leaky average from 0."""
    t = torch.arange(T, device=a.device, dtype=torch.float32)
    diff = (t.view(T, 1) - t.view(1, T))
    mask = diff >= 0
    powers = torch.where(mask, a.float().view(-1, 1, 1) ** diff.clamp(min=0), torch.zeros((), device=a.device))
    return (1 - a.float()).view(-1, 1, 1) * powers


class Prefill:
    def __init__(self, model, T, method):
        self.m, self.T, self.method = model, T, method
        self.H = model.blocks[0].attn.n_head
        self.C = model.n_embd
        self.d = self.C // self.H
        self.dtype = model.head.weight.dtype
        self.layers = []
        for block in model.blocks:
            decay, beta, value_scale = head_scalars(block.attn)
            p_decay, p_beta, p_value_scale = head_scalars(block.pmem)
            self.layers.append(dict(block=block, dk=decay_matrix(decay, T), beta2=(beta * beta).view(-1, 1, 1),
                                    vscale=value_scale.view(-1, 1, 1).to(self.dtype), dp=decay_matrix(p_decay, T),
                                    pq=(p_beta * p_beta).view(-1, 1, 1),
                                    pvs=p_value_scale.view(-1, 1, 1).to(self.dtype)))
        if method != "softmax":
            # Keys a row may not see (j > t - 1 after the shift below) score far below every real one.
            self.neg = torch.triu(torch.full((T - 1, T - 1), -1e4, device=model.head.weight.device), diagonal=1)

    def forward(self, tokens):
        """Logits of the last of `tokens` ([T] int64)."""
        m, T, H, d, C = self.m, self.T, self.H, self.d, self.C
        x = m.emb(tokens)  # [T, C]
        for p in self.layers:
            attn, pmem = p["block"].attn, p["block"].pmem
            h = p["block"].ln1(x)
            u = attn.k_featurizer(h.unsqueeze(0))[0].float().view(T, H, d).transpose(0, 1)  # [H, T, d]
            kh = F.normalize(p["dk"] @ u, dim=-1)
            # [H, T, d] unit values times their scale; row j (j < T - 1) mixes w_{j+1} and w_j, and the last row
            # waits for the next token.
            vt = attn.v_featurizer(h.unsqueeze(0))[0] * p["vscale"]
            # Row t sees keys 0 .. t - 1: queries 1 .. T-1 against keys 0 .. T-2 are plain causal.
            q = (p["beta2"] * kh[:, 1:]).to(self.dtype)
            keys, vals = kh[:, :-1].to(self.dtype), vt[:, :-1]
            if self.method == "softmax":
                o = F.scaled_dot_product_attention(q, keys, vals, is_causal=True, scale=1.0)
            else:
                o = entmax15_attend(q.float() @ keys.float().transpose(1, 2) + self.neg, vals)
            o = torch.cat([torch.zeros(H, 1, d, device=x.device, dtype=self.dtype), o], dim=1)
            x = x + attn.c_proj(o.transpose(0, 1).reshape(T, C))
            h2 = p["block"].ln2(x)
            u2 = pmem.k_featurizer(h2.unsqueeze(0))[0].float().view(T, H, d).transpose(0, 1)
            q2 = (p["pq"] * F.normalize(p["dp"] @ u2, dim=-1)).to(self.dtype)
            r = F.scaled_dot_product_attention(q2, pmem.pmem.M_k0[0], pmem.pmem.M_v0[0], scale=1.0) * p["pvs"]
            x = x + pmem.c_proj(r.transpose(0, 1).reshape(T, C))
        return m.head(m.ln_out(x[-1])) * (1.0 / math.sqrt(C))


def bench(model, lengths, methods):
    rows = []
    for method in methods:
        for T in lengths:
            pf = Prefill(model, T, method)
            tokens = torch.randint(0, model.vocab_size, (T,), device=model.head.weight.device)
            with torch.no_grad():
                s = torch.cuda.Stream()
                s.wait_stream(torch.cuda.current_stream())
                with torch.cuda.stream(s):
                    for _ in range(2):
                        torch.argmax(pf.forward(tokens))
                torch.cuda.current_stream().wait_stream(s)
                g = torch.cuda.CUDAGraph()
                with torch.cuda.graph(g):
                    torch.argmax(pf.forward(tokens))
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
    rows = bench(make_model(), args.lengths, args.methods)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(dict(torch=torch.__version__, device=torch.cuda.get_device_name(), rows=rows), f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
