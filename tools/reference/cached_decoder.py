"""Token-by-token decoding of the reference model (memory_mosaics.StackAssoMem) with the cache policy of Tessera's
runtimes (docs/model.md, "Cached decoding"): per layer the two leaky-average states and w_{t-1} (O(1) each), a cache
of unit keys and of finished values (value j is complete once token j+1 has arrived). Step t gives the logits of
position t, equal to the full forward's row t.

The attention and the persistent-memory read go through `attend` and `read_memory`, which the benchmark baselines
(tools/bench) override with their fused PyTorch kernels; every other step is the reference's own modules. States
are updated in place, so one step can be captured in a CUDA graph. Works with torch 1.13 and 2.x.
"""
import math

import torch
import torch.nn.functional as F

try:  # imported as a package (tools.reference) or as a script next to this file
    from .attention_transforms import attention_weights
    from .memory_mosaics import EXP_PARAM_SCALE, KERNEL_BETA_UPBOUND
except ImportError:  # pragma: no cover
    from attention_transforms import attention_weights
    from memory_mosaics import EXP_PARAM_SCALE, KERNEL_BETA_UPBOUND


def head_scalars(module):
    """Effective per-head scalars of an in-context or persistent block: leaky decay a = exp(-10|beta_leaky|),
    key bandwidth beta = exp(min(10 kernel_beta, 5)), value scale exp(10 value_beta)."""
    with torch.no_grad():
        dtype = torch.promote_types(module.kernel_beta.dtype, torch.float32)  # a float16 model's exp in float32
        decay = torch.exp(-module.leaky_key_beta.to(dtype).abs() * EXP_PARAM_SCALE)
        beta = torch.exp(torch.clamp(module.kernel_beta.to(dtype) * EXP_PARAM_SCALE, max=KERNEL_BETA_UPBOUND))
        value_scale = torch.exp(module.value_beta.to(dtype) * EXP_PARAM_SCALE)
    return decay, beta, value_scale


def key_weight(featurizer):
    """The key featurizer as a matrix and bias (kernel size 1: the causal conv is a linear map)."""
    if featurizer.kernel_size != 1:
        raise ValueError(f"cached decoding implements k_kernel_size 1 (got {featurizer.kernel_size})")
    return featurizer.conv.weight[:, :, 0], featurizer.conv.bias


class CachedDecoder:
    """Decodes a StackAssoMem one token at a time. Leaky states are kept in at least float32 (a float16 model keeps
    its matrices and caches in float16); `capacity` bounds the positions of one sequence."""

    def __init__(self, model, capacity):
        self.model = model.eval()
        weight = model.head.weight
        self.device, self.dtype = weight.device, weight.dtype
        self.state_dtype = torch.promote_types(self.dtype, torch.float32)
        self.method = model.method
        self.capacity = capacity
        first = model.blocks[0]
        self.H = first.attn.n_head
        self.C = model.n_embd
        self.d = self.C // self.H
        self.layers = []
        for block in model.blocks:
            attn = block.attn
            decay, beta, value_scale = head_scalars(attn)
            layer = dict(block=block, k=key_weight(attn.k_featurizer), decay=self._heads(decay), beta=beta,
                         query_scale=self._heads(beta * beta), value_scale=self._heads(value_scale),
                         mix=self._heads(attn.v_featurizer.coef.detach()))
            if not block.attn_only:
                pmem = block.pmem
                p_decay, p_beta, p_value_scale = head_scalars(pmem)
                layer.update(pk=key_weight(pmem.k_featurizer), p_decay=self._heads(p_decay),
                             p_query_scale=self._heads(p_beta * p_beta), p_value_scale=self._heads(p_value_scale),
                             memories=[(getattr(pmem.pmem, f"M_k{i}")[0], getattr(pmem.pmem, f"M_v{i}")[0])
                                       for i in range(pmem.pmem.pmem_count)])
            self.layers.append(layer)
        self.reset()

    def _heads(self, v):
        return v.detach().to(self.state_dtype).view(-1, 1)  # [H, 1], broadcast over the head's d lanes

    def reset(self):
        H, d, cap = self.H, self.d, self.capacity
        new = dict(device=self.device, dtype=self.state_dtype)
        self.t = 0
        self.state = [dict(s=torch.zeros(H, d, **new), ps=torch.zeros(H, d, **new), w_prev=torch.zeros(H, d, **new),
                           keys=torch.zeros(H, cap, d, device=self.device, dtype=self.dtype),
                           values=torch.zeros(H, cap, d, device=self.device, dtype=self.dtype))
                      for _ in self.layers]

    def attend(self, layer, query, keys, values):
        """query [H, 1, d] = beta^2 k_t; keys and values [H, t, d]; returns [H, 1, d]. The reference transform."""
        scores = (query @ keys.transpose(-1, -2)).unsqueeze(0)  # [1, H, 1, t]: beta^2 cos
        allowed = torch.ones(1, keys.shape[1], dtype=torch.bool, device=keys.device)
        weights = attention_weights(self.method, scores, allowed, layer["beta"])[0]
        return weights @ values

    def read_memory(self, query, mem_k, mem_v):
        """Persistent memory [H, N, d]: softmax over the N slots of query . M_k (no 1/sqrt(d)), times M_v."""
        return F.softmax(query @ mem_k.transpose(-1, -2), dim=-1) @ mem_v

    def _unit(self, x):
        return x / x.norm(dim=-1, keepdim=True)

    def _in_context(self, layer, st, h, t):
        H, d = self.H, self.d
        u = F.linear(h, *layer["k"]).view(H, d).to(self.state_dtype)
        st["s"].mul_(layer["decay"]).add_((1 - layer["decay"]) * u)
        key = self._unit(st["s"])
        st["keys"][:, t] = key.to(self.dtype)
        w = layer["block"].attn.v_featurizer.linear(h).view(H, d).to(self.state_dtype)
        if t >= 1:  # value t-1 mixes w_t and w_{t-1}
            mix = layer["mix"]
            st["values"][:, t - 1] = (layer["value_scale"] * self._unit((1 - mix) * w + mix * st["w_prev"])).to(
                self.dtype)
        st["w_prev"].copy_(w)
        if t == 0:  # position 0 has no key to attend to
            out = torch.zeros(self.C, device=self.device, dtype=self.dtype)
        else:
            query = (layer["query_scale"] * key).to(self.dtype).view(H, 1, d)
            out = self.attend(layer, query, st["keys"][:, :t], st["values"][:, :t]).reshape(self.C)
        return layer["block"].attn.c_proj(out)

    def _persistent(self, layer, st, h):
        H, d = self.H, self.d
        u = F.linear(h, *layer["pk"]).view(H, d).to(self.state_dtype)
        st["ps"].mul_(layer["p_decay"]).add_((1 - layer["p_decay"]) * u)
        query = (layer["p_query_scale"] * self._unit(st["ps"])).to(self.dtype).view(H, 1, d)
        out = 0
        for mem_k, mem_v in layer["memories"]:
            out = out + self.read_memory(query, mem_k, mem_v)
        out = out / len(layer["memories"]) * layer["p_value_scale"].to(self.dtype).view(H, 1, 1)
        return layer["block"].pmem.c_proj(out.reshape(self.C))

    @torch.no_grad()
    def step(self, token):
        """Appends `token` (int or one-element int64 tensor) at position self.t; returns that position's logits."""
        t = self.t
        if t >= self.capacity:
            raise ValueError(f"position {t} is beyond the decoder's capacity {self.capacity}")
        model = self.model
        x = model.emb.weight[token].reshape(self.C)
        for layer, st in zip(self.layers, self.state):
            block = layer["block"]
            if block.pre_ln:
                x = x + self._in_context(layer, st, block.ln1(x), t)
                if not block.attn_only:
                    x = x + self._persistent(layer, st, block.ln2(x))
            else:
                x = block.ln1(x)
                x = x + self._in_context(layer, st, x, t)
                if not block.attn_only:
                    x = block.ln2(x)
                    x = x + self._persistent(layer, st, x)
        self.t = t + 1
        return model.head(model.ln_out(x)) * (1.0 / math.sqrt(self.C))
