"""PyTorch reference model of Memory Mosaics v1 ("regular" file), written for Tessera from the equations in
docs/model.md. Parameter names and the state_dict layout equal the authors' StackAssoMem
(facebookresearch/MemoryMosaics Library/memory_mosaics/models/memory_mosaics.py and the seed's version with the
attention `method` switch), so checkpoints load in both directions.

Differences from the authors' module (numerically the same function):
* masks and the leaky-average coefficients are computed for the actual T, so T may exceed block_size (a full
  recompute over the whole context: no cropping, the leaky state never restarts);
* the sparse normalisers are exact (attention_transforms.py) instead of iteration-limited.
Works with torch 1.13 (Debian) and torch 2.x.
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

try:  # imported as a package (tools.reference) or as a script next to this file
    from .attention_transforms import attention_weights, is_known_method
except ImportError:  # pragma: no cover
    from attention_transforms import attention_weights, is_known_method

EXP_PARAM_SCALE = 10.0   # every per-head scalar is stored divided by 10
KERNEL_BETA_UPBOUND = 5.0


class LayerNorm(nn.Module):
    def __init__(self, ndim, bias):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(ndim))
        self.bias = nn.Parameter(torch.zeros(ndim)) if bias else None

    def forward(self, x):
        return F.layer_norm(x, self.weight.shape, self.weight, self.bias, 1e-5)


class KeyFeaturizer(nn.Module):
    """'linearconv' feature extractor with shift 0: a causal Conv1d (kernel 1 = a plain linear map)."""

    def __init__(self, n_embd, kernel_size, bias):
        super().__init__()
        self.kernel_size = kernel_size
        self.conv = nn.Conv1d(n_embd, n_embd, kernel_size=kernel_size, bias=bias)

    def forward(self, x):  # x: (B, T, C) -> (B, T, C)
        if self.kernel_size == 1:
            return F.linear(x, self.conv.weight[:, :, 0], self.conv.bias)
        y = self.conv(F.pad(x.transpose(1, 2), (self.kernel_size - 1, 0)))
        return y.transpose(1, 2)


class ValueFeaturizer(nn.Module):
    """'lowrlinearconv', kernel 2, shift 1: v~_t = (1-c_h) w_{t+1} + c_h w_t (w_T = 0), then unit norm per head."""

    def __init__(self, n_embd, n_head, bias):
        super().__init__()
        self.n_head = n_head
        self.linear = nn.Linear(n_embd, n_embd, bias=bias)
        self.coef = nn.Parameter(torch.ones(n_head).uniform_(0, 1))

    def forward(self, x):
        B, T, C = x.shape
        nh = self.n_head
        w = self.linear(x).view(B, T, nh, C // nh).transpose(1, 2)  # (B, nh, T, hs)
        w_next = F.pad(w[:, :, 1:], (0, 0, 0, 1))
        c = self.coef.view(1, nh, 1, 1)
        y = w_next * (1 - c) + w * c
        return y / y.norm(dim=-1, keepdim=True)


def leaky_average(u, leaky_key_beta):
    """s_t = a s_{t-1} + (1-a) u_t with a = exp(-10|beta|); u: (B, nh, T, hs). Same coefficient matrix as the authors."""
    T = u.shape[2]
    lam = (leaky_key_beta.abs() * EXP_PARAM_SCALE).view(1, -1, 1, 1)
    pos = torch.arange(T, device=u.device)
    dist = (pos.view(T, 1) - pos.view(1, T)).to(u.dtype)
    lower = dist >= 0
    coef = torch.exp(-dist.clamp_min(0) * lam) * (1 - torch.exp(-lam))
    coef = coef.masked_fill(~lower, 0.0)
    return coef @ u


def split_heads(x, nh):
    B, T, C = x.shape
    return x.view(B, T, nh, C // nh).transpose(1, 2)


def unit_keys_and_scale(featurizer, x, nh, leaky_key_beta, kernel_beta):
    """Leaky-averaged, unit-normalised keys (B, nh, T, hs) and the per-head β = exp(min(10·kernel_beta, 5))."""
    k = leaky_average(split_heads(featurizer(x), nh), leaky_key_beta)
    k = k / k.norm(dim=-1, keepdim=True)
    beta = torch.exp(torch.clamp(kernel_beta * EXP_PARAM_SCALE, max=KERNEL_BETA_UPBOUND))
    return k, beta


class InContextAssoMemBlock(nn.Module):
    def __init__(self, method, n_head, n_embd, bias, ic_dropout, hd_dropout, k_kernel_size):
        super().__init__()
        if not is_known_method(method):
            raise ValueError(f"unknown attention method '{method}'")
        self.method = method
        self.n_head = n_head
        # registration order = the authors' state_dict order
        self.k_featurizer = KeyFeaturizer(n_embd, k_kernel_size, bias)
        self.v_featurizer = ValueFeaturizer(n_embd, n_head, bias)
        self.ic_dropout = nn.Dropout(ic_dropout)
        self.c_proj = nn.Linear(n_embd, n_embd, bias=bias)
        self.resid_dropout = nn.Dropout(hd_dropout)
        self.leaky_key_beta = nn.Parameter(torch.linspace(0.5, 5, n_head) / EXP_PARAM_SCALE)
        self.kernel_beta = nn.Parameter(torch.ones(n_head) / EXP_PARAM_SCALE)
        self.value_beta = nn.Parameter(torch.ones(n_head) * -0.5 / EXP_PARAM_SCALE)

    def forward(self, x):
        B, T, C = x.shape
        nh = self.n_head
        k, beta = unit_keys_and_scale(self.k_featurizer, x, nh, self.leaky_key_beta, self.kernel_beta)
        k = k * beta.view(1, nh, 1, 1)
        v = self.v_featurizer(x) * torch.exp(self.value_beta * EXP_PARAM_SCALE).view(1, nh, 1, 1)
        y = torch.zeros_like(v)
        if T > 1:
            # query t (the key at t) sees keys j <= t-1; row 0 has no key and outputs 0 (v_j contains x_{j+1})
            q = k[:, :, 1:]
            scores = q @ k.transpose(-1, -2)  # (B, nh, T-1, T)
            pos = torch.arange(T, device=x.device)
            allowed = pos.view(1, T) < pos[1:].view(T - 1, 1)
            att = attention_weights(self.method, scores, allowed, beta)
            att = self.ic_dropout(att)
            y = torch.cat([torch.zeros_like(v[:, :, :1]), att @ v], dim=2)
        y = y.transpose(1, 2).contiguous().view(B, T, C)
        return self.resid_dropout(self.c_proj(y))


class Pmem(nn.Module):
    def __init__(self, pmem_count, pmem_size, pmem_dim, pmem_nhead, dropout):
        super().__init__()
        self.pmem_count = pmem_count
        self.dropout = dropout
        for i in range(pmem_count):
            M_k = nn.Parameter(torch.zeros(1, pmem_nhead, pmem_size, pmem_dim))
            M_v = nn.Parameter(torch.zeros(1, pmem_nhead, pmem_size, pmem_dim))
            nn.init.normal_(M_k, mean=0.0, std=1 / math.sqrt(pmem_dim))
            nn.init.normal_(M_v, mean=0.0, std=1 / math.sqrt(pmem_dim))
            setattr(self, f"M_k{i}", M_k)
            setattr(self, f"M_v{i}", M_v)

    def forward(self, q):  # (B, nh, T, hs): softmax_n(q . M_k[n]) M_v[n], no 1/sqrt(d), averaged over the memories
        y = 0
        for i in range(self.pmem_count):
            att = F.softmax(q @ getattr(self, f"M_k{i}").transpose(-1, -2), dim=-1)
            if self.training and self.dropout > 0:
                att = F.dropout(att, self.dropout)
            y = y + att @ getattr(self, f"M_v{i}")
        return y / self.pmem_count


class PersistentAssoMemBlock(nn.Module):
    def __init__(self, n_head, n_embd, bias, ic_dropout, hd_dropout, k_kernel_size, pmem_count, pmem_size):
        super().__init__()
        self.n_head = n_head
        self.pmem = Pmem(pmem_count, pmem_size, n_embd // n_head, n_head, ic_dropout)
        self.k_featurizer = KeyFeaturizer(n_embd, k_kernel_size, bias)
        self.ic_dropout = nn.Dropout(ic_dropout)
        self.c_proj = nn.Linear(n_embd, n_embd, bias=bias)
        self.resid_dropout = nn.Dropout(hd_dropout)
        self.leaky_key_beta = nn.Parameter(torch.linspace(0.5, 5, n_head) / EXP_PARAM_SCALE)
        self.kernel_beta = nn.Parameter(torch.ones(n_head) / EXP_PARAM_SCALE)
        self.value_beta = nn.Parameter(torch.ones(n_head) * -0.5 / EXP_PARAM_SCALE)

    def forward(self, x):
        B, T, C = x.shape
        nh = self.n_head
        k, beta = unit_keys_and_scale(self.k_featurizer, x, nh, self.leaky_key_beta, self.kernel_beta)
        k = k * (beta * beta).view(1, nh, 1, 1)  # squared: M_k carries no scale of its own
        y = self.pmem(k) * torch.exp(self.value_beta * EXP_PARAM_SCALE).view(1, nh, 1, 1)
        y = y.transpose(1, 2).contiguous().view(B, T, C)
        return self.resid_dropout(self.c_proj(y))


class AttnOnlyBlock(nn.Module):
    def __init__(self, method, n_head, n_embd, bias, ic_dropout, hd_dropout, k_kernel_size, pmem_count, pmem_size,
                 pre_ln, attn_only):
        super().__init__()
        self.pre_ln = pre_ln
        self.attn_only = attn_only
        self.ln1 = LayerNorm(n_embd, bias)
        self.attn = InContextAssoMemBlock(method, n_head, n_embd, bias, ic_dropout, hd_dropout, k_kernel_size)
        if not attn_only:
            self.ln2 = LayerNorm(n_embd, bias)
            self.pmem = PersistentAssoMemBlock(n_head, n_embd, bias, ic_dropout, hd_dropout, k_kernel_size,
                                               pmem_count, pmem_size)

    def forward(self, x):
        if self.pre_ln:
            x = x + self.attn(self.ln1(x))
            if not self.attn_only:
                x = x + self.pmem(self.ln2(x))
        else:
            x = self.ln1(x)
            x = x + self.attn(x)
            if not self.attn_only:
                x = self.ln2(x)
                x = x + self.pmem(x)
        return x


class StackAssoMem(nn.Module):
    """The whole model. Constructor arguments follow the authors' (extra ones are accepted and ignored)."""

    def __init__(self, vocab_size, method="softmax", n_head=12, n_embd=768, n_layer=12, v_shift=1, block_size=512,
                 k_fe_type="linearconv", v_fe_type="lowrlinearconv", k_kernel_size=1, v_kernel_size=2,
                 ic_dropout=0.05, hd_dropout=0.05, bias=False, pmem_count=1, pmem_size=2688, pre_ln=True,
                 weight_tying=True, skip_tokens=0, attn_only=False, **unused):
        super().__init__()
        if n_embd % n_head != 0:
            raise ValueError(f"n_embd ({n_embd}) must be a multiple of n_head ({n_head})")
        if (k_fe_type, v_fe_type, v_kernel_size, v_shift) != ("linearconv", "lowrlinearconv", 2, 1):
            raise ValueError("only k_fe_type=linearconv, v_fe_type=lowrlinearconv, v_kernel_size=2, v_shift=1 "
                             f"are implemented (got {k_fe_type}, {v_fe_type}, {v_kernel_size}, {v_shift})")
        self.vocab_size = vocab_size
        self.n_embd = n_embd
        self.block_size = block_size
        self.method = method
        self.emb = nn.Embedding(vocab_size, n_embd)
        self.blocks = nn.Sequential(*[
            AttnOnlyBlock(method, n_head, n_embd, bias, ic_dropout, hd_dropout, k_kernel_size, pmem_count,
                          pmem_size, pre_ln, attn_only) for _ in range(n_layer)])
        self.ln_out = LayerNorm(n_embd, bias)
        self.head = nn.Linear(n_embd, vocab_size, bias=False)
        if weight_tying:
            self.emb.weight = self.head.weight
        self.apply(self._init_weights)
        for name, p in self.named_parameters():
            if name.endswith("c_proj.weight"):
                nn.init.normal_(p, mean=0.0, std=1 / math.sqrt(p.shape[1]) / math.sqrt(n_layer))

    @staticmethod
    def _init_weights(module):
        if isinstance(module, (nn.Linear, nn.Conv1d)):
            fanin = module.weight[0].numel()
            nn.init.normal_(module.weight, mean=0.0, std=1 / math.sqrt(fanin))
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Embedding):
            nn.init.normal_(module.weight, mean=0.0, std=1.0)

    def forward(self, idx):
        """Next-token logits at every position: (B, T) -> (B, T, V)."""
        x = self.blocks(self.emb(idx))
        return self.head(self.ln_out(x)) * (1.0 / math.sqrt(self.n_embd))

    def configure_optimizers(self, weight_decay, learning_rate, betas):
        """AdamW with the authors' two groups: matrices decay, vectors (LN, per-head scalars) do not."""
        params = [(n, p) for n, p in self.named_parameters() if p.requires_grad]
        decay = [p for n, p in params if not ("time_" in n or "gate" in n or p.dim() < 2)]
        nodecay = [p for n, p in params if "time_" in n or "gate" in n or p.dim() < 2]
        groups = [{"params": decay, "weight_decay": weight_decay}, {"params": nodecay, "weight_decay": 0.0}]
        return torch.optim.AdamW(groups, lr=learning_rate, betas=betas)


MODEL_ARG_NAMES = ("vocab_size", "method", "n_head", "n_embd", "n_layer", "v_shift", "block_size", "k_fe_type",
                   "v_fe_type", "k_kernel_size", "v_kernel_size", "ic_dropout", "hd_dropout", "bias", "pmem_count",
                   "pmem_size", "pre_ln", "weight_tying", "skip_tokens", "attn_only")


def strip_prefix(state_dict, prefix="_orig_mod."):
    return {(k[len(prefix):] if k.startswith(prefix) else k): v for k, v in state_dict.items()}


def load_checkpoint(path, map_location="cpu", dtype=None):
    """Builds the model from ckpt['model_args'] and loads its weights; returns (model, checkpoint dict)."""
    ckpt = torch.load(path, map_location=map_location)
    args = dict(ckpt["model_args"])
    args.setdefault("method", "softmax")
    model = StackAssoMem(**{k: args[k] for k in MODEL_ARG_NAMES if k in args})
    if dtype is not None:
        model = model.to(dtype)
    model.load_state_dict(strip_prefix(ckpt["model"]))
    model.eval()
    return model, ckpt
