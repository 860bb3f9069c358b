"""Compressive memory of Infini-attention (Munkhdalai et al. 2024, arXiv:2404.07143, eqs. 7-9).

Legend: B batch, H heads, N tokens in the segment, dk key width, dv value width.
One memory per head: an associative matrix M (dk x dv) and a normalisation vector z (dk).
sigma(x) = ELU(x) + 1 keeps every feature positive, so sigma(Q) z > 0 once anything was written.

The state is explicit (a NamedTuple passed in and returned), always float32 whatever the model's
dtype: M and z are sums over up to millions of tokens, and fp16 sums overflow.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor

MEMORY_DTYPE = torch.float32


class MemoryState(NamedTuple):
    M: Tensor  # (B, H, dk, dv) associative memory, float32
    z: Tensor  # (B, H, dk)     normalisation term, float32


def empty_memory(batch: int, heads: int, dk: int, dv: int, device: torch.device | str = "cpu") -> MemoryState:
    """M_0 = 0, z_0 = 0: reading it gives exactly 0 (see `memory_read`)."""
    return MemoryState(
        torch.zeros(batch, heads, dk, dv, dtype=MEMORY_DTYPE, device=device),
        torch.zeros(batch, heads, dk, dtype=MEMORY_DTYPE, device=device),
    )


def sigma(x: Tensor) -> Tensor:
    """The memory's feature map, ELU + 1, computed in float32."""
    return F.elu(x.to(MEMORY_DTYPE)) + 1.0


def _retrieve(sq: Tensor, state: MemoryState, eps: float) -> Tensor:
    """sigma(Q) M / (sigma(Q) z) for already-featurised queries sq (B, H, N, dk) -> (B, H, N, dv).

    An empty memory has M = 0, so the numerator is exactly 0 and the epsilon-guarded denominator
    keeps 0 / 0 from becoming NaN: the read of an empty memory is exactly 0.
    """
    numerator = sq @ state.M  # (B, H, N, dv)
    denominator = (sq @ state.z.unsqueeze(-1)).clamp_min(eps)  # (B, H, N, 1)
    return numerator / denominator


def memory_read(q: Tensor, state: MemoryState, eps: float = 1e-6) -> Tensor:
    """eq. 7: A_mem = sigma(Q) M_{s-1} / (sigma(Q) z_{s-1}).  q: (B, H, N, dk) -> (B, H, N, dv) float32."""
    return _retrieve(sigma(q), state, eps)


def memory_write(
    k: Tensor,
    v: Tensor,
    state: MemoryState,
    rule: str,
    mask: Tensor | None = None,
    eps: float = 1e-6,
) -> MemoryState:
    """Write one segment's keys/values into the memory; returns the new state (the old one is untouched).

    k: (B, H, N, dk), v: (B, H, N, dv), mask: (B, N) bool, True for real tokens (padding is not written).
    linear, eq. 8:  M_s = M_{s-1} + sigma(K)^T V
    delta,  eq. 9:  M_s = M_{s-1} + sigma(K)^T (V - sigma(K) M_{s-1} / (sigma(K) z_{s-1}))
    both:           z_s = z_{s-1} + sum_t sigma(K_t)
    With an empty memory the retrieved term is exactly 0, so delta equals linear.
    """
    sk = sigma(k)  # (B, H, N, dk)
    v = v.to(MEMORY_DTYPE)
    if rule == "delta":
        v = v - _retrieve(sk, state, eps)  # only what the memory does not already return
    elif rule != "linear":
        raise ValueError(f"memory rule must be 'linear' or 'delta', got {rule!r}")
    if mask is not None:
        sk = sk * mask[:, None, :, None].to(MEMORY_DTYPE)  # padded tokens contribute nothing
    M = state.M + sk.transpose(-1, -2) @ v  # (B, H, dk, dv)
    z = state.z + sk.sum(dim=-2)  # (B, H, dk)
    return MemoryState(M, z)


def detach_memory(state: MemoryState) -> MemoryState:
    """Cut back-propagation through time at a segment boundary (truncated BPTT)."""
    return MemoryState(state.M.detach(), state.z.detach())


def memory_numbers(heads: int, dk: int, dv: int) -> int:
    """Floats held by one layer's memory: H * dk * (dv + 1), independent of the input length."""
    return heads * dk * (dv + 1)
