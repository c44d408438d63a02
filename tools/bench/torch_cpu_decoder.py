#!/usr/bin/env python3
"""Cached PyTorch CPU float32 decoder for Memory Mosaics (the comparison point of the int8 benchmark).

Same math and cache policy as Tessera's runtimes (docs/model.md, "Cached decoding"): per layer the
leaky-average states, w_prev and the unit key / finished value caches; softmax attention; persistent
memory with softmax over N slots. Random weights shaped like the benchmark's models. Decodes
positions 0..127 repeatedly and prints tokens/s and the process's peak RSS.
Usage: torch_cpu_decoder.py --config fixture|mid|gpt2 --threads N [--seconds S]
"""
import argparse
import math
import resource
import time

import torch

CONFIGS = {"fixture": (101, 32, 4, 2, 40), "mid": (4096, 256, 4, 4, 896), "gpt2": (50304, 768, 12, 12, 2688)}


class Decoder:
    def __init__(self, V, C, H, L, N, window):
        g = torch.Generator().manual_seed(1234)
        b = 1.0 / math.sqrt(C)
        self.V, self.C, self.H, self.L, self.N, self.d = V, C, H, L, N, C // H
        u = lambda *s: (torch.rand(*s, generator=g) * 2 - 1) * b
        self.emb = torch.randn(V, C, generator=g)
        self.layers = []
        for _ in range(L):
            self.layers.append(dict(
                k=u(C, C), v=u(C, C), o=u(C, C), pk=u(C, C), po=u(C, C),
                a=torch.exp(-3 + 2.5 * (torch.rand(H, generator=g) * 2 - 1)).repeat_interleave(self.d),
                pa=torch.exp(-3 + 2.5 * (torch.rand(H, generator=g) * 2 - 1)).repeat_interleave(self.d),
                beta2=(3 + (torch.rand(H, generator=g) * 2 - 1)) ** 2,
                mix=(0.5 + 0.5 * (torch.rand(H, generator=g) * 2 - 1)).repeat_interleave(self.d),
                mk=torch.randn(H, N, self.d, generator=g) / math.sqrt(self.d) * 10,
                mv=torch.randn(H, N, self.d, generator=g) / math.sqrt(self.d)))
        self.window = window
        self.reset()

    def reset(self):
        C, W = self.C, self.window
        self.t = 0
        self.state = [dict(s=torch.zeros(C), ps=torch.zeros(C), wprev=torch.zeros(C),
                           keys=torch.zeros(W, self.H, self.d), vals=torch.zeros(W, self.H, self.d))
                      for _ in range(self.L)]

    def unit(self, x):
        x = x.view(self.H, self.d)
        return x / x.norm(dim=-1, keepdim=True)

    @torch.no_grad()
    def step(self, token):
        x = self.emb[token].clone()
        t = self.t
        for p, st in zip(self.layers, self.state):
            h = torch.nn.functional.layer_norm(x, (self.C,))
            st["s"] = p["a"] * st["s"] + (1 - p["a"]) * (p["k"] @ h)
            q = self.unit(st["s"])
            st["keys"][t] = q
            w = p["v"] @ h
            if t >= 1:
                st["vals"][t - 1] = self.unit((1 - p["mix"]) * w + p["mix"] * st["wprev"])
            st["wprev"] = w
            if t >= 1:
                sc = torch.einsum("hd,thd->ht", q, st["keys"][:t]) * p["beta2"][:, None]
                o = torch.einsum("ht,thd->hd", torch.softmax(sc, dim=-1), st["vals"][:t]).reshape(-1)
            else:
                o = torch.zeros(self.C)
            x = x + p["o"] @ o
            h = torch.nn.functional.layer_norm(x, (self.C,))
            st["ps"] = p["pa"] * st["ps"] + (1 - p["pa"]) * (p["pk"] @ h)
            q = self.unit(st["ps"])
            r = torch.einsum("hn,hnd->hd", torch.softmax(torch.einsum("hd,hnd->hn", q, p["mk"]), dim=-1), p["mv"])
            x = x + p["po"] @ r.reshape(-1)
        self.t += 1
        return self.emb @ torch.nn.functional.layer_norm(x, (self.C,)) / math.sqrt(self.C)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", default="fixture", choices=CONFIGS)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seconds", type=float, default=3.0)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    dec = Decoder(*CONFIGS[a.config], window=128)
    for i in range(4):  # warm-up
        dec.step(i % dec.V)
    dec.reset()
    n, start, cpu0 = 0, time.perf_counter(), time.thread_time()
    while time.perf_counter() - start < a.seconds:
        if dec.t == dec.window:
            dec.reset()
        dec.step((n * 7919) % dec.V)
        n += 1
    tps = n / (time.perf_counter() - start)
    cpu_tps = n / max(time.thread_time() - cpu0, 1e-9)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{a.config:8s} {'pytorch ' + torch.__version__ + ' cpu f32':28s} {a.threads:7d} {tps:14.1f} {cpu_tps:13.1f} "
          f"{rss:14.1f} {'-':>10s}")


if __name__ == "__main__":
    main()
