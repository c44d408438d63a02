"""Checks tools/reference against the authors' fixtures and independent float64 oracles.

Run: /usr/bin/python3 tools/reference/test_reference.py [FIXTURE_DIR]
Exit status 0 = all checks passed.
"""
import glob
import json
import math
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from attention_transforms import entmax_exact  # noqa: E402
from cached_decoder import CachedDecoder  # noqa: E402
from memory_mosaics import StackAssoMem, load_checkpoint  # noqa: E402

# Cached decoding (recurrences, caches) against the full forward (matrix products over the sequence), both float64:
# the same sums in another order, ~1e-14 apart; 1e-11 allows for the clamped heads' amplification.
CACHED_TOL = 1e-11
# The authors' float64 logits are reproduced by an exact float64 re-implementation to ~1e-13; 1e-6 leaves room for
# summation-order differences (the clamped heads turn 1e-16 key rounding into ~1e-12 score differences).
LOGIT_TOL = 1e-6
failures = []


def check(cond, msg):
    print(("ok   " if cond else "FAIL ") + msg)
    if not cond:
        failures.append(msg)


def test_fixtures(root):
    folders = sorted(glob.glob(os.path.join(root, "fb-regular-*")) + glob.glob(os.path.join(root, "ds-regular-*")))
    check(len(folders) >= 7, f"found {len(folders)} regular fixtures under {root}")
    for folder in folders:
        exp = json.load(open(os.path.join(folder, "expected.json")))
        model, ckpt = load_checkpoint(os.path.join(folder, "ckpt.pt"), dtype=torch.float64)
        check(model.method == exp["method"], f"{os.path.basename(folder)}: method {model.method}")
        # the state_dict layout (names, order, shapes) equals the authors'
        ours = model.state_dict()
        theirs = ckpt["model"]
        check(list(ours.keys()) == list(theirs.keys()), f"{os.path.basename(folder)}: state_dict key order")
        check(all(ours[k].shape == theirs[k].shape for k in theirs), f"{os.path.basename(folder)}: shapes")
        with torch.no_grad():
            logits = model(torch.tensor([exp["tokens"]]))[0]
        want = torch.tensor(exp["logits"], dtype=torch.float64)
        dev = (logits - want).abs().max().item()
        check(dev <= LOGIT_TOL, f"{os.path.basename(folder)}: max |dlogit| = {dev:.3e} (tol {LOGIT_TOL})")
        if "greedy" in exp:
            seq = list(exp["prompt"])
            with torch.no_grad():
                for _ in range(len(exp["greedy"])):
                    seq.append(int(model(torch.tensor([seq]))[0, -1].argmax()))
            check(seq[len(exp["prompt"]):] == exp["greedy"], f"{os.path.basename(folder)}: greedy decode")
        dec = CachedDecoder(model, len(exp["tokens"]))
        cached = torch.stack([dec.step(tok) for tok in exp["tokens"]])
        dev = (cached - want).abs().max().item()
        check(dev <= LOGIT_TOL, f"{os.path.basename(folder)}: cached decode max |dlogit| = {dev:.3e} (tol {LOGIT_TOL})")


def test_cached_decoder():
    # Every method and block option the cached decoder implements, against the full forward at every position.
    torch.manual_seed(3)
    cases = [dict(method=m) for m in ("softmax", "epanechnikov", "biweight", "triweight", "relumax", "norm_relu",
                                      "top2_softmax", "uniform_top3")]
    cases += [dict(method="softmax", bias=True), dict(method="biweight", pre_ln=False),
              dict(method="softmax", attn_only=True), dict(method="softmax", pmem_count=2, weight_tying=False)]
    for case in cases:
        m = StackAssoMem(vocab_size=23, n_head=2, n_embd=8, n_layer=2, block_size=4, pmem_size=6, ic_dropout=0.0,
                         hd_dropout=0.0, **case).double().eval()
        with torch.no_grad():  # spread the per-head scalars beyond their initial values, as in trained models
            for name, p in m.named_parameters():
                if name.endswith(("leaky_key_beta", "value_beta", "coef")):
                    p.add_(torch.randn_like(p) * 0.2)
                elif name.endswith("kernel_beta"):
                    # only upwards (beta^2 >= e^2): norm_relu gives masked (future) keys weight when beta^2 < 0.5,
                    # which the full forward reproduces from the authors' code and a causal decoder cannot
                    p.add_(torch.randn_like(p).abs() * 0.2)
        tokens = torch.randint(0, 23, (1, 11))
        with torch.no_grad():
            full = m(tokens)[0]
        dec = CachedDecoder(m, 11)
        cached = torch.stack([dec.step(int(tok)) for tok in tokens[0]])
        dev = (cached - full).abs().max().item()
        check(dev <= CACHED_TOL, f"cached decoder {case}: max |dlogit| vs forward = {dev:.2e} (tol {CACHED_TOL})")


def bisect_entmax(z, alpha):
    """Oracle: scalar float64 bisection on tau for one row (python floats)."""
    x = [(alpha - 1) * v for v in z]
    e = 1.0 / (alpha - 1)
    lo, hi = max(x) - 1.0, max(x)
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if sum(max(v - mid, 0.0) ** e for v in x) >= 1.0:
            lo = mid
        else:
            hi = mid
    p = [max(v - lo, 0.0) ** e for v in x]
    s = sum(p)
    return [v / s for v in p]


def test_entmax_oracle():
    g = torch.Generator().manual_seed(7)
    for alpha in (2.0, 1.5, 4.0 / 3.0):
        for scale in (1.0, 10.0, 3000.0):
            z = torch.randn(6, 37, generator=g, dtype=torch.float64) * scale
            allowed = torch.rand(6, 37, generator=g) > 0.3
            allowed[:, 0] = True
            p = entmax_exact(z, allowed, alpha)
            worst = 0.0
            for r in range(6):
                keep = allowed[r].nonzero().flatten().tolist()
                ref = bisect_entmax([z[r, j].item() for j in keep], alpha)
                worst = max(worst, max(abs(p[r, j].item() - ref[i]) for i, j in enumerate(keep)))
                worst = max(worst, p[r][~allowed[r]].abs().max().item() if (~allowed[r]).any() else 0.0)
            # bisection to 2^-200 of a unit bracket is exact in float64; 1e-12 covers the p^(1/(alpha-1)) rounding
            check(worst < 1e-12, f"entmax alpha={alpha:.4f} scale={scale}: max |p - bisection| = {worst:.2e}")


def test_entmax_gradient():
    for alpha in (2.0, 1.5, 4.0 / 3.0):
        z = (torch.randn(3, 9, dtype=torch.float64) * 2).requires_grad_()
        allowed = torch.ones(3, 9, dtype=torch.bool)
        ok = torch.autograd.gradcheck(lambda t: entmax_exact(t, allowed, alpha), (z,), eps=1e-7, atol=1e-6)
        check(ok, f"entmax alpha={alpha:.4f}: gradcheck against finite differences")


def test_long_context_causality():
    # T > block_size must work, and position t must not depend on tokens after t.
    torch.manual_seed(0)
    for method in ("softmax", "epanechnikov", "biweight", "triweight", "relumax", "norm_relu", "top2_softmax"):
        m = StackAssoMem(vocab_size=20, method=method, n_head=2, n_embd=8, n_layer=2, block_size=4, pmem_size=6,
                         ic_dropout=0.0, hd_dropout=0.0).double().eval()
        a = torch.randint(0, 20, (1, 12))
        b = a.clone()
        b[0, 9:] = (b[0, 9:] + 1) % 20
        with torch.no_grad():
            la, lb = m(a)[0], m(b)[0]
        # logits up to t=8 use x_0..x_8 only, tokens at 9.. must not leak in (value at t peeks x_{t+1}, keys j<=t-1)
        dev = (la[:9] - lb[:9]).abs().max().item()
        check(dev == 0.0 and math.isfinite(la.sum().item()), f"{method}: causal beyond block_size (dev {dev})")


if __name__ == "__main__":
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "..", "..", "tests", "data", "authors")
    test_fixtures(root)
    test_entmax_oracle()
    test_entmax_gradient()
    test_long_context_causality()
    test_cached_decoder()
    print(f"{len(failures)} failure(s)")
    sys.exit(1 if failures else 0)
