"""Attention blocks: Infini-attention (encoder), causal self-attention (decoder), Infini cross-attention.

Legend: B batch, H heads, N encoder tokens in a segment, T decoder tokens, d model width, dh head width.
Rotary positions touch only the local softmax attention's Q/K and restart at 0 every segment; the
memory path always sees the position-free Q/K (paper section 4.1).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from infinisum.configuration import InfiniConfig
from infinisum.memory import MemoryState, memory_read, memory_write

# ----------------------------------------------------------------------------- helpers


def split_heads(x: Tensor, heads: int) -> Tensor:
    """(B, L, H*dh) -> (B, H, L, dh)"""
    b, length, _ = x.shape
    return x.view(b, length, heads, -1).transpose(1, 2)


def merge_heads(x: Tensor) -> Tensor:
    """(B, H, L, dh) -> (B, L, H*dh)"""
    b, h, length, dh = x.shape
    return x.transpose(1, 2).reshape(b, length, h * dh)


def rotary(x: Tensor, offset: int, theta: float) -> Tensor:
    """Rotary position embedding of x (B, H, L, dh) at positions offset .. offset+L-1 (half-split layout)."""
    dh = x.shape[-1]
    inv_freq = 1.0 / (theta ** (torch.arange(0, dh, 2, device=x.device, dtype=torch.float32) / dh))  # (dh/2,)
    pos = torch.arange(offset, offset + x.shape[-2], device=x.device, dtype=torch.float32)  # (L,)
    angles = torch.outer(pos, inv_freq)  # (L, dh/2)
    cos, sin = angles.cos().to(x.dtype), angles.sin().to(x.dtype)
    x1, x2 = x[..., : dh // 2], x[..., dh // 2 :]
    return torch.cat((x1 * cos - x2 * sin, x1 * sin + x2 * cos), dim=-1)


def key_padding_mask(mask: Tensor) -> Tensor:
    """(B, N) bool -> (B, 1, 1, N) mask for scaled_dot_product_attention.

    A row with no real token at all (a document that ended earlier in a batch) would make softmax
    0/0; it may attend to everything instead (its output is never used or written to memory).
    """
    mask = mask | ~mask.any(dim=-1, keepdim=True)
    return mask[:, None, None, :]


class HeadGate(nn.Module):
    """eq. 10: A = sigmoid(beta) * A_mem + (1 - sigmoid(beta)) * A_dot, one learned scalar beta per head.

    beta starts at 0 (an even mix). Gates learn slowly: `training.parameter_groups` gives them their
    own optimizer group with a larger learning rate and no weight decay.
    """

    def __init__(self, heads: int):
        super().__init__()
        self.beta = nn.Parameter(torch.zeros(heads))

    def forward(self, a_mem: Tensor, a_dot: Tensor) -> Tensor:  # both (B, H, L, dh)
        g = torch.sigmoid(self.beta).view(1, -1, 1, 1)
        return g * a_mem.to(a_dot.dtype) + (1.0 - g) * a_dot


# ----------------------------------------------------------------------------- encoder


class InfiniSelfAttention(nn.Module):
    """Bidirectional Infini-attention over one segment, carrying a compressive memory (M, z)."""

    def __init__(self, config: InfiniConfig):
        super().__init__()
        self.heads, self.rule = config.n_heads, config.memory_rule
        self.eps, self.theta = config.memory_eps, config.rope_theta
        self.qkv = nn.Linear(config.d_model, 3 * config.d_model, bias=False)
        self.out = nn.Linear(config.d_model, config.d_model, bias=False)
        self.gate = HeadGate(config.n_heads)

    def forward(self, x: Tensor, mask: Tensor, memory: MemoryState) -> tuple[Tensor, MemoryState]:
        # x: (B, N, d), mask: (B, N) bool
        q, k, v = (split_heads(t, self.heads) for t in self.qkv(x).chunk(3, dim=-1))  # each (B, H, N, dh)
        a_mem = memory_read(q, memory, self.eps)  # eq. 7, reads M_{s-1}: (B, H, N, dh)
        new_memory = memory_write(k, v, memory, self.rule, mask, self.eps)  # eq. 8 / eq. 9
        q_rot, k_rot = rotary(q, 0, self.theta), rotary(k, 0, self.theta)  # local positions restart per segment
        a_dot = F.scaled_dot_product_attention(q_rot, k_rot, v, attn_mask=key_padding_mask(mask))
        return self.out(merge_heads(self.gate(a_mem, a_dot))), new_memory


class CrossMemoryWriter(nn.Module):
    """The cross K/V projection of one decoder layer, applied to each segment's final encoder states.

    Lives on the encoder side of the stream: every segment's keys/values are written into that decoder
    layer's cross-memory, and the latest segment's keys/values are kept for exact attention.
    """

    def __init__(self, config: InfiniConfig):
        super().__init__()
        self.heads, self.rule, self.eps = config.n_heads, config.memory_rule, config.memory_eps
        self.kv = nn.Linear(config.d_model, 2 * config.d_model, bias=False)

    def forward(self, h: Tensor, mask: Tensor, memory: MemoryState) -> tuple[Tensor, Tensor, MemoryState]:
        # h: (B, N, d) final encoder states of one segment -> k, v: (B, H, N, dh)
        k, v = (split_heads(t, self.heads) for t in self.kv(h).chunk(2, dim=-1))
        return k, v, memory_write(k, v, memory, self.rule, mask, self.eps)


# ----------------------------------------------------------------------------- decoder


class CausalSelfAttention(nn.Module):
    """Decoder self-attention with rotary positions and a transformers KV cache (DynamicCache)."""

    def __init__(self, config: InfiniConfig, layer_idx: int):
        super().__init__()
        self.heads, self.theta, self.layer_idx = config.n_heads, config.rope_theta, layer_idx
        self.qkv = nn.Linear(config.d_model, 3 * config.d_model, bias=False)
        self.out = nn.Linear(config.d_model, config.d_model, bias=False)

    def forward(self, x: Tensor, cache=None) -> Tensor:
        # x: (B, T, d); the cache holds the K/V of the T_past tokens already decoded
        q, k, v = (split_heads(t, self.heads) for t in self.qkv(x).chunk(3, dim=-1))  # (B, H, T, dh)
        past = cache.get_seq_length(self.layer_idx) if cache is not None else 0
        q, k = rotary(q, past, self.theta), rotary(k, past, self.theta)
        if cache is not None:
            k, v = cache.update(k, v, self.layer_idx)  # (B, H, T_past + T, dh)
        t_new, t_all = q.shape[-2], k.shape[-2]
        causal = torch.ones(t_new, t_all, dtype=torch.bool, device=x.device).tril(diagonal=t_all - t_new)
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=causal)
        return self.out(merge_heads(y))


class InfiniCrossAttention(nn.Module):
    """Decoder cross-attention: the cross-memory (the whole text so far) mixed with exact attention to
    the last segment's encoder states, gated per head (eq. 10). No positions: the summary is not aligned
    with the source."""

    def __init__(self, config: InfiniConfig):
        super().__init__()
        self.heads, self.eps = config.n_heads, config.memory_eps
        self.q = nn.Linear(config.d_model, config.d_model, bias=False)
        self.out = nn.Linear(config.d_model, config.d_model, bias=False)
        self.gate = HeadGate(config.n_heads)

    def forward(self, x: Tensor, memory: MemoryState, keys: Tensor, values: Tensor, mask: Tensor) -> Tensor:
        # x: (B, T, d); keys/values: (B, H, N, dh) of the last segment; mask: (B, N) bool
        q = split_heads(self.q(x), self.heads)  # (B, H, T, dh)
        a_mem = memory_read(q, memory, self.eps)  # eq. 7 over every segment streamed so far
        a_dot = F.scaled_dot_product_attention(
            q, keys.to(q.dtype), values.to(q.dtype), attn_mask=key_padding_mask(mask)
        )
        return self.out(merge_heads(self.gate(a_mem, a_dot)))
