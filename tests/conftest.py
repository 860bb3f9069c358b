import os

os.environ.setdefault("COLUMNS", "120")  # stable rich output in CliRunner

import torch  # noqa: E402

# Tiny models run ~10x faster on one thread than with the dispatch overhead of several.
torch.set_num_threads(1)


# ---------------------------------------------------------------- tiny models for CLI / evaluation tests

import json  # noqa: E402

import pytest  # noqa: E402


def _save_tiny_model(directory, memory_rule: str, seed: int):
    """A ~1.6M-parameter model (mostly the GPT-2 embedding) that runs in milliseconds."""
    import torch

    from infinisum.configuration import InfiniConfig
    from infinisum.modeling import InfiniForConditionalGeneration
    from infinisum.tokenizer import load_tokenizer

    tokenizer = load_tokenizer("gpt2")
    config = InfiniConfig(
        vocab_size=tokenizer.vocab_size,
        d_model=32,
        n_heads=2,
        d_ff=64,
        encoder_layers=1,
        decoder_layers=1,
        segment_length=16,
        memory_rule=memory_rule,
        encoding="gpt2",
        pad_token_id=tokenizer.pad_id,
        bos_token_id=tokenizer.bos_id,
        eos_token_id=tokenizer.eos_id,
    )
    torch.manual_seed(seed)
    InfiniForConditionalGeneration(config).save_pretrained(str(directory))
    return directory


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory):
    """A folder laid out like infinisum/models/: linear/, delta/ and registry.json (default: delta)."""
    root = tmp_path_factory.mktemp("models")
    _save_tiny_model(root / "linear", "linear", seed=1)
    _save_tiny_model(root / "delta", "delta", seed=2)
    (root / "registry.json").write_text(json.dumps({"default": "delta"}))
    return root


@pytest.fixture
def bundled(tiny_models, monkeypatch):
    """Make the tiny models the bundled ones for the duration of a test."""
    from infinisum import loading

    monkeypatch.setattr(loading, "MODELS_DIR", tiny_models)
    return tiny_models
