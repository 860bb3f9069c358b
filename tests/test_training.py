"""The training loop on a tiny model and a hand-made JSONL corpus: loss falls, checkpoints, resume."""

import json

import pytest

from infinisum.errors import InfinisumError
from infinisum.modeling import InfiniForConditionalGeneration
from infinisum.tokenizer import load_tokenizer
from infinisum.training import TrainConfig, collate, load_examples, lr_factor, train

WORDS = "the cat sat on a mat while dogs ran over hills and rivers under bright skies".split()


def write_corpus(path, n, seed):
    import random

    rng = random.Random(seed)
    with path.open("w") as f:
        for i in range(n):
            doc = " ".join(rng.choice(WORDS) for _ in range(rng.randint(10, 60)))
            kind = "pair" if i % 2 else "gsg"
            f.write(
                json.dumps({"id": str(i), "source": "t", "kind": kind, "document": doc, "summary": doc[:30]}) + "\n"
            )


@pytest.fixture
def cfg(tmp_path):
    write_corpus(tmp_path / "train.jsonl", 40, 0)
    write_corpus(tmp_path / "dev.jsonl", 6, 1)
    return TrainConfig(
        train_file=str(tmp_path / "train.jsonl"),
        dev_file=str(tmp_path / "dev.jsonl"),
        out_dir=str(tmp_path / "run"),
        model={
            "encoding": "gpt2",
            "d_model": 32,
            "n_heads": 2,
            "d_ff": 64,
            "encoder_layers": 1,
            "decoder_layers": 1,
            "segment_length": 16,
        },
        batch_size=4,
        steps=30,
        eval_every=30,
        save_every=15,
        warmup_steps=3,
        lr=3e-3,
        dev_rouge_examples=2,
        dev_max_new_tokens=4,
        dev_loss_examples=6,
    )


def test_loss_falls_checkpoints_and_resume(cfg, tmp_path):
    records = []
    run = train(cfg, on_step=records.append)
    assert records[-1]["step"] == 30
    assert sum(r["loss"] for r in records[-5:]) < sum(r["loss"] for r in records[:5])
    assert "dev_loss" in records[-1] and "overall" in records[-1]["rouge"]
    for name in ("checkpoint-last", "checkpoint-best"):
        assert InfiniForConditionalGeneration.from_pretrained(run / name).config.d_model == 32
    more = []
    train(TrainConfig(**{**cfg.__dict__, "steps": 33}), resume=True, on_step=more.append)
    assert [r["step"] for r in more] == [31, 32, 33]  # continued, not restarted


def test_collate_pads_and_starts_each_kind_with_its_token(cfg):
    tok = load_tokenizer("gpt2")
    examples = load_examples(cfg.train_file, tok, cfg, limit=4)
    batch = collate(examples, tok.pad_id)
    assert batch["input_ids"].shape[1] == max(len(e.input_ids) for e in examples)
    starts = {e.kind: e.start_id for e in examples}
    assert starts == {"gsg": tok.bos_id, "pair": tok.sep_id}
    assert (batch["labels"][:, 0] != -100).all() and batch["decoder_input_ids"][0, 0] == examples[0].start_id


def test_schedule_warms_up_then_decays(cfg):
    assert lr_factor(0, cfg) < lr_factor(2, cfg) <= 1.0
    assert lr_factor(cfg.steps, cfg) == pytest.approx(0.1)


def test_missing_data_and_unknown_fields_are_clear_errors(cfg, tmp_path):
    with pytest.raises(InfinisumError, match="build_corpus"):
        load_examples(tmp_path / "nope.jsonl", load_tokenizer("gpt2"), cfg)
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"stepz": 3}))
    with pytest.raises(InfinisumError, match="stepz"):
        TrainConfig.from_file(bad)
