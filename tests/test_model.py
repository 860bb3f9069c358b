"""The encoder-decoder on a tiny config: streaming, state shapes, save/load, generate, gradients, validation."""

import pytest
import torch

from infinisum.configuration import InfiniConfig
from infinisum.modeling import InfiniForConditionalGeneration

TINY = dict(
    vocab_size=61,
    d_model=32,
    n_heads=2,
    d_ff=64,
    encoder_layers=2,
    decoder_layers=2,
    segment_length=8,
    pad_token_id=0,
    bos_token_id=1,
    eos_token_id=2,
    encoding="gpt2",
    init_std=0.2,
)


def tiny(rule="linear", **overrides):
    torch.manual_seed(0)
    return InfiniForConditionalGeneration(InfiniConfig(**{**TINY, "memory_rule": rule, **overrides})).eval()


def tokens(batch, length, seed=0):
    return torch.randint(5, TINY["vocab_size"], (batch, length), generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("rule", ["linear", "delta"])
def test_streaming_api_equals_one_call_encode(rule):
    model, x = tiny(rule), tokens(2, 29)
    state = model.start_stream(2)
    for start in range(0, 29, 8):
        state = model.stream_segment(x[:, start : start + 8], None, state)
    streamed, direct = model.encoder_output(state), model.encode(x)
    for key in ("cross_M", "cross_z", "cross_keys", "cross_values", "last_hidden_state"):
        torch.testing.assert_close(streamed[key], direct[key])
    assert state.tokens_seen.tolist() == [29, 29]


def test_one_segment_vs_many_segments_shapes_and_finiteness():
    short, long = tiny(), tiny(segment_length=64)
    x = tokens(1, 64)
    many, one = short.encode(x), long.encode(x)
    for out, n in ((many, 8), (one, 64)):
        assert out.cross_M.shape == (1, 2, 2, 16, 16) and out.cross_z.shape == (1, 2, 2, 16)
        assert out.cross_keys.shape == (1, 2, 2, n, 16) and out.last_hidden_state.shape == (1, n, 32)
        assert all(torch.isfinite(t).all() for t in out.values())
    # one segment: the encoder memories were never read, only written
    assert (one.cross_z > 0).all() and (many.cross_z > 0).all()


def test_state_size_does_not_depend_on_input_length():
    model = tiny()
    shapes = []
    for length in (8, 40, 160):
        state = model.encode_state(tokens(1, length))
        shapes.append(
            [tuple(m.M.shape) + tuple(m.z.shape) for m in state.encoder_memory] + [tuple(state.last_hidden.shape)]
        )
    assert shapes[0] == shapes[1] == shapes[2]
    assert model.memory_numbers() == 4 * 2 * 16 * 17


def test_rows_that_ended_keep_their_state():
    model = tiny()
    x = tokens(2, 24)
    mask = torch.ones_like(x, dtype=torch.bool)
    mask[1, 8:] = False  # row 1 is one segment long, then padding
    batched = model.encode(x, mask)
    alone = model.encode(x[1:, :8])
    torch.testing.assert_close(batched.cross_M[1], alone.cross_M[0])
    torch.testing.assert_close(batched.cross_keys[1], alone.cross_keys[0])


@pytest.mark.parametrize("rule", ["linear", "delta"])
def test_save_load_gives_identical_logits(rule, tmp_path):
    model, x, y = tiny(rule), tokens(2, 20), tokens(2, 6, seed=1)
    model.save_pretrained(tmp_path)
    assert (tmp_path / "model.safetensors").is_file()
    loaded = InfiniForConditionalGeneration.from_pretrained(tmp_path).eval()
    assert loaded.config.memory_rule == rule
    assert torch.equal(model(input_ids=x, labels=y).logits, loaded(input_ids=x, labels=y).logits)


@pytest.mark.parametrize("settings", [dict(num_beams=1), dict(num_beams=3, no_repeat_ngram_size=2, min_new_tokens=5)])
def test_generate_with_kv_cache_equals_without(settings):
    model, x = tiny("delta"), tokens(2, 29)
    cached = model.generate(input_ids=x, max_new_tokens=12, use_cache=True, **settings)
    uncached = model.generate(input_ids=x, max_new_tokens=12, use_cache=False, **settings)
    assert torch.equal(cached, uncached)


def test_generate_from_stream_state_equals_generate_from_ids():
    model, x = tiny(), tokens(1, 20)
    state = model.stream_segment(x[:, :8], None, model.start_stream(1))
    state = model.stream_segment(x[:, 8:16], None, state)
    state = model.stream_segment(x[:, 16:], None, state)
    from_state = model.generate(encoder_outputs=model.encoder_output(state), max_new_tokens=8)
    assert torch.equal(from_state, model.generate(input_ids=x, max_new_tokens=8))


def test_sampling_and_length_limits():
    model, x = tiny(), tokens(1, 16)
    out = model.generate(input_ids=x, do_sample=True, top_k=5, max_new_tokens=7, min_new_tokens=7)
    assert out.shape == (1, 8)  # start token + 7


def first_segment_gradient(model, x, labels):
    """Gradient of the loss w.r.t. the embeddings of the first segment (the first call of `embed`)."""
    captured = []

    def keep_first(module, inputs, output):
        if not captured:
            output.retain_grad()
            captured.append(output)

    handle = model.embed.register_forward_hook(keep_first)
    model(input_ids=x, labels=labels).loss.backward()
    handle.remove()
    return captured[0].grad


def test_gradients_reach_gates_and_cross_segment_boundaries():
    model = tiny().train()
    x, labels = tokens(1, 24), tokens(1, 5, seed=2)  # three segments
    grad = first_segment_gradient(model, x, labels)
    for name, p in model.named_parameters():
        if name.endswith("gate.beta"):
            assert p.grad is not None and p.grad.abs().sum() > 0, name
    assert grad is not None and grad.abs().sum() > 0  # the first segment is reached only through the memories

    model.zero_grad()
    model.truncate_bptt = 1  # detach the state at every boundary: the first segment gets no gradient
    grad = first_segment_gradient(model, x, labels)
    assert grad is None or grad.abs().sum() == 0


def test_segment_checkpointing_gives_the_same_gradients():
    grads = []
    for checkpointing in (False, True):
        model = tiny().train()
        model.checkpoint_segments = checkpointing
        model(input_ids=tokens(2, 24), labels=tokens(2, 5, seed=3)).loss.backward()
        grads.append(torch.cat([p.grad.flatten() for p in model.parameters()]))
    torch.testing.assert_close(grads[0], grads[1])


def test_gate_optimizer_group():
    groups = {g["name"]: g for g in tiny().parameter_groups(weight_decay=0.1, lr=1e-3, gate_lr=1e-2)}
    assert len(groups["gates"]["params"]) == 2 + 2  # encoder layers + decoder cross-attention layers
    assert groups["gates"]["weight_decay"] == 0.0 and groups["gates"]["lr"] == 1e-2


@pytest.mark.parametrize(
    "overrides, field",
    [
        (dict(d_model=30, n_heads=4), "n_heads"),
        (dict(memory_rule="quadratic"), "memory_rule"),
        (dict(segment_length=0), "segment_length"),
        (dict(pad_token_id=61), "pad_token_id"),
        (dict(eos_token_id=-1), "eos_token_id"),
    ],
)
def test_bad_configuration_names_the_field(overrides, field):
    with pytest.raises(ValueError, match=field):
        InfiniConfig(**{**TINY, **overrides})
