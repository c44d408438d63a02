"""Attention transforms of Memory Mosaics (regular file of deep-spin/sparse_attention_as_kernel_regression).

Every transform takes raw scores s = k_t . k_j (= beta^2 cos, shape [..., T_query, T_key]), a boolean `allowed`
mask of the same trailing shape (True = key j may be attended by query t) and returns weights whose rows over
allowed keys sum to 1 (rows without any allowed key are returned as 0).

Exact sparse normalisers (no iteration limit): entmax_alpha(z) = [(alpha-1) z - tau]_+^(1/(alpha-1)), with tau
found from the sorted scores (sparsemax: alpha = 2, "epanechnikov"; alpha = 1.5, "biweight"; alpha = 4/3,
"triweight"). Gradients use the standard entmax backward: with s_i = p_i^(2-alpha) on the support,
dz = s*g - s * (s.g) / sum(s).
"""
import re

import torch
import torch.nn.functional as F

# Entries whose scaled score sits more than 1 below the row maximum are never in the support (p_max <= 1 forces
# tau >= x_max - 1); clamping them to this floor keeps every prefix moment small and exact.
_FLOOR = -1.25


def _entmax_support_and_tau(z, allowed, alpha):
    """Returns tau (shape [..., 1]) for x = (alpha-1)(z - rowmax); exact sort-based support."""
    neg = torch.finfo(z.dtype).min
    zmax = z.masked_fill(~allowed, neg).amax(dim=-1, keepdim=True)
    x = ((alpha - 1.0) * (z - zmax)).masked_fill(~allowed, _FLOOR).clamp_min(_FLOOR)
    xs, _ = torch.sort(x, dim=-1, descending=True)
    n = xs.shape[-1]
    k = torch.arange(1, n + 1, device=z.device, dtype=z.dtype)
    s1 = xs.cumsum(-1)
    s2 = (xs * xs).cumsum(-1)
    if alpha == 2.0:
        # k in support  <=>  1 + k x_(k) > sum_{i<=k} x_i
        in_supp = (1.0 + k * xs) > s1
        kstar = in_supp.sum(-1, keepdim=True).clamp_min(1)
        tau = (s1.gather(-1, kstar - 1) - 1.0) / kstar.to(z.dtype)
        return x, tau
    # k in support  <=>  sum_{i<=k} (x_i - x_(k))^e < 1   (e = 1/(alpha-1); prefix moments, values in [-1.25, 0])
    if alpha == 1.5:
        g = s2 - 2.0 * xs * s1 + k * xs * xs
    else:
        s3 = (xs * xs * xs).cumsum(-1)
        g = s3 - 3.0 * xs * s2 + 3.0 * xs * xs * s1 - k * xs * xs * xs
    kstar = (g < 1.0).sum(-1, keepdim=True).clamp_min(1)
    kf = kstar.to(z.dtype)
    m1 = s1.gather(-1, kstar - 1)
    m2 = s2.gather(-1, kstar - 1)
    if alpha == 1.5:
        # sum (x_i - tau)^2 = 1 on the support: k tau^2 - 2 m1 tau + m2 - 1 = 0, smaller root
        disc = (m1 * m1 - kf * (m2 - 1.0)).clamp_min(0.0)
        tau = (m1 - torch.sqrt(disc)) / kf
        return x, tau
    # alpha = 4/3: P(tau) = sum (x_i - tau)^3 - 1 is convex and decreasing left of x_(k*); Newton from the left
    # (tau0 = x_max - 1 = -1, where P >= 0) increases monotonically to the root. 60 steps reach machine precision.
    m3 = s3.gather(-1, kstar - 1)
    tau = torch.full_like(m1, -1.0)
    for _ in range(60):
        p = m3 - 3.0 * tau * m2 + 3.0 * tau * tau * m1 - kf * tau * tau * tau - 1.0
        dp = -3.0 * m2 + 6.0 * tau * m1 - 3.0 * kf * tau * tau
        step = p / dp.clamp_max(-1e-300)
        tau = tau - step
    return x, tau


class _ExactEntmax(torch.autograd.Function):
    @staticmethod
    def forward(ctx, z, allowed, alpha):
        with torch.no_grad():
            x, tau = _entmax_support_and_tau(z, allowed, alpha)
            base = (x - tau).clamp_min(0.0).masked_fill(~allowed, 0.0)
            if alpha == 2.0:
                p = base
            elif alpha == 1.5:
                p = base * base
            else:
                p = base * base * base
            p = p / p.sum(-1, keepdim=True).clamp_min(1e-300)  # exact up to rounding; keeps rows summing to 1
        ctx.alpha = alpha
        ctx.save_for_backward(p)
        return p

    @staticmethod
    def backward(ctx, grad):
        (p,) = ctx.saved_tensors
        s = (p > 0).to(p.dtype) if ctx.alpha == 2.0 else p.pow(2.0 - ctx.alpha)
        gs = grad * s
        q = gs.sum(-1, keepdim=True) / s.sum(-1, keepdim=True).clamp_min(1e-300)
        return gs - q * s, None, None


def entmax_exact(z, allowed, alpha):
    """Exact entmax over the allowed keys; alpha in {2, 1.5, 4/3}. Rows with no allowed key give 0."""
    if alpha not in (2.0, 1.5, 4.0 / 3.0):
        raise ValueError(f"entmax_exact: alpha must be 2, 1.5 or 4/3, got {alpha}")
    p = _ExactEntmax.apply(z, allowed, alpha)
    return p * allowed.any(-1, keepdim=True).to(p.dtype)


METHOD_ALPHA = {"epanechnikov": 2.0, "biweight": 1.5, "triweight": 4.0 / 3.0}


def is_known_method(method):
    if method in ("softmax", "relumax", "norm_relu") or method in METHOD_ALPHA:
        return True
    if "top" in method and "softmax" in method:
        return re.search(r"top(\d+)_", method) is not None
    if "uniform" in method:
        return re.search(r"top(\d+)", method) is not None
    return False


def attention_weights(method, scores, allowed, beta):
    """Weights for one of the methods of the seed's regular file.

    scores: [B, H, T, T] raw scores beta^2 cos; allowed: [T, T] bool; beta: [H] per-head bandwidth exp(min(10 kb, 5)).
    """
    allowed = allowed.expand_as(scores)
    has_key = allowed.any(-1, keepdim=True)
    if method == "softmax":
        # rows without any key are filled with 0 (not -inf) so that neither value nor gradient becomes NaN
        p = F.softmax(scores.masked_fill(~allowed, float("-inf")).masked_fill(~has_key, 0.0), dim=-1)
        return torch.where(has_key, p, torch.zeros_like(p))
    if method in METHOD_ALPHA:
        return entmax_exact(scores, allowed, METHOD_ALPHA[method])
    b2 = (beta * beta).view(1, -1, 1, 1).to(scores.dtype)
    if method == "relumax":
        # ReLU(beta^2 (s - max s) + 1) / row sum; masked keys pushed to -1e12 before the max (authors' choice)
        sel = scores.masked_fill(~allowed, -1e12)
        w = F.relu((sel - sel.amax(-1, keepdim=True)) * b2 + 1.0)
        row = w.sum(-1, keepdim=True)
        return torch.where(row > 0, w / torch.where(row > 0, row, torch.ones_like(row)), torch.zeros_like(w))
    if method == "norm_relu":
        # ReLU(2 beta^2 s + 1 - 2 beta^2): masked keys enter with s = 0, as in the authors' code (they stay 0 for
        # beta^2 >= 0.5); a row summing to 0 falls back to uniform over its allowed keys.
        sel = scores.masked_fill(~allowed, 0.0)
        w = F.relu(sel * (2.0 * b2) + 1.0 - 2.0 * b2)
        row = w.sum(-1, keepdim=True)
        cnt = allowed.sum(-1, keepdim=True).clamp_min(1).to(scores.dtype)
        uniform = allowed.to(scores.dtype) / cnt
        p = torch.where(row > 0, w / row.clamp_min(1e-6), uniform)
        return p * has_key.to(p.dtype)
    if "top" in method and "softmax" in method:
        k = min(int(re.search(r"top(\d+)_", method).group(1)), scores.shape[-1])
        masked = scores.masked_fill(~allowed, float("-inf")).masked_fill(~has_key, 0.0)
        vals, idx = masked.topk(k, dim=-1)
        keep = torch.full_like(masked, float("-inf")).scatter(-1, idx, vals)
        p = F.softmax(keep, dim=-1)
        return torch.where(has_key, p, torch.zeros_like(p))
    if "uniform" in method:
        k = min(int(re.search(r"top(\d+)", method).group(1)), scores.shape[-1])
        masked = scores.masked_fill(~allowed, float("-inf"))
        idx = masked.topk(k, dim=-1).indices
        sel = torch.zeros_like(masked).scatter(-1, idx, 1.0) * allowed.to(scores.dtype)
        return sel / sel.sum(-1, keepdim=True).clamp_min(1)
    raise ValueError(f"unknown attention method '{method}' (expected softmax, epanechnikov, biweight, triweight, "
                     f"relumax, norm_relu, topK_softmax or uniform_topK)")
