"""Compressive memory against a naive float64 reference written token by token from eqs. 7-9."""

import torch

from infinisum.memory import empty_memory, memory_numbers, memory_read, memory_write, sigma

B, H, N, DK, DV = 2, 3, 5, 4, 6


def naive_sigma(x):
    return torch.where(x > 0, x + 1.0, torch.exp(x))  # ELU(x) + 1


def naive_read(q, M, z, eps=1e-6):
    """eq. 7 for one query vector at a time, float64."""
    out = torch.zeros(q.shape[0], M.shape[1], dtype=torch.float64)
    for t in range(q.shape[0]):
        s = naive_sigma(q[t])
        den = max(float(s @ z), eps)
        out[t] = (s @ M) / den
    return out


def naive_write(k, v, M, z, rule, eps=1e-6):
    """eqs. 8/9 token by token: every token's correction is taken against M_{s-1}, z_{s-1}."""
    M_new, z_new = M.clone(), z.clone()
    for t in range(k.shape[0]):
        s = naive_sigma(k[t])
        value = v[t].clone()
        if rule == "delta":
            value = value - (s @ M) / max(float(s @ z), eps)
        M_new += torch.outer(s, value)
        z_new += s
    return M_new, z_new


def random_segment(seed):
    g = torch.Generator().manual_seed(seed)
    return (
        torch.randn(B, H, N, DK, generator=g),
        torch.randn(B, H, N, DK, generator=g),
        torch.randn(B, H, N, DV, generator=g),
    )


def test_read_write_match_naive_reference_over_several_segments():
    for rule in ("linear", "delta"):
        state = empty_memory(B, H, DK, DV)
        ref = {
            (b, h): (torch.zeros(DK, DV, dtype=torch.float64), torch.zeros(DK, dtype=torch.float64))
            for b in range(B)
            for h in range(H)
        }
        for seg in range(3):
            q, k, v = random_segment(seg)
            read = memory_read(q, state)
            state = memory_write(k, v, state, rule)
            for b in range(B):
                for h in range(H):
                    M, z = ref[b, h]
                    expected = naive_read(q[b, h].double(), M, z)
                    torch.testing.assert_close(read[b, h].double(), expected, rtol=1e-5, atol=1e-5)
                    ref[b, h] = naive_write(k[b, h].double(), v[b, h].double(), M, z, rule)
                    torch.testing.assert_close(state.M[b, h].double(), ref[b, h][0], rtol=1e-5, atol=1e-4)
                    torch.testing.assert_close(state.z[b, h].double(), ref[b, h][1], rtol=1e-5, atol=1e-5)


def test_empty_memory_reads_exactly_zero():
    q, _, _ = random_segment(0)
    read = memory_read(q * 100, empty_memory(B, H, DK, DV))
    assert torch.equal(read, torch.zeros_like(read))


def test_delta_write_on_empty_memory_equals_linear_write():
    _, k, v = random_segment(1)
    lin = memory_write(k, v, empty_memory(B, H, DK, DV), "linear")
    delta = memory_write(k, v, empty_memory(B, H, DK, DV), "delta")
    assert torch.equal(lin.M, delta.M) and torch.equal(lin.z, delta.z)


def test_delta_differs_from_linear_once_memory_is_not_empty():
    _, k, v = random_segment(2)
    for rule in ("linear", "delta"):
        state = memory_write(k, v, empty_memory(B, H, DK, DV), rule)
        state = memory_write(k, v, state, rule)
        if rule == "linear":
            linear_M = state.M
    assert not torch.allclose(linear_M, state.M)


def test_padding_is_not_written():
    _, k, v = random_segment(3)
    mask = torch.ones(B, N, dtype=torch.bool)
    mask[:, 3:] = False
    masked = memory_write(k, v, empty_memory(B, H, DK, DV), "linear", mask)
    short = memory_write(k[:, :, :3], v[:, :, :3], empty_memory(B, H, DK, DV), "linear")
    torch.testing.assert_close(masked.M, short.M)
    torch.testing.assert_close(masked.z, short.z)


def test_state_is_float32_for_half_inputs():
    q, k, v = random_segment(4)
    state = memory_write(k.half(), v.half(), empty_memory(B, H, DK, DV), "delta")
    assert state.M.dtype == torch.float32 and state.z.dtype == torch.float32
    assert memory_read(q.half(), state).dtype == torch.float32


def test_million_token_stream_stays_finite():
    """1M tokens written in 4096-token segments (values of ordinary size) keep the read finite."""
    g = torch.Generator().manual_seed(0)
    k, v = torch.randn(1, 1, 4096, 8, generator=g) * 3, torch.randn(1, 1, 4096, 8, generator=g) * 3
    for rule in ("linear", "delta"):
        state = empty_memory(1, 1, 8, 8)
        for _ in range(1_000_000 // 4096 + 1):
            state = memory_write(k, v, state, rule)
        read = memory_read(k, state)
        assert torch.isfinite(state.M).all() and torch.isfinite(state.z).all() and torch.isfinite(read).all()


def test_memory_size_formula():
    assert memory_numbers(H, DK, DV) == H * DK * (DV + 1)
    assert (sigma(torch.linspace(-50, 50, 101)) >= 0).all()
