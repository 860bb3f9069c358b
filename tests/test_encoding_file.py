"""The shipped infinisum-8k ranks file, and the HF-BPE -> tiktoken conversion in scripts/train_tokenizer.py."""

from __future__ import annotations

import base64
import sys
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))

import train_tokenizer  # noqa: E402

RANKS_FILE = Path(__file__).resolve().parent.parent / "infinisum/data/encodings/infinisum-8k.tiktoken"
ENC = train_tokenizer.load_encoding(RANKS_FILE)


def test_ranks_file_layout():
    lines = RANKS_FILE.read_text(encoding="ascii").splitlines()
    assert len(lines) == 8192
    tokens = [base64.b64decode(line.split(" ")[0]) for line in lines]
    assert [int(line.split(" ")[1]) for line in lines] == list(range(8192))
    assert tokens[:256] == [bytes([b]) for b in range(256)]  # ranks 0-255: the single bytes, by value
    assert len(set(tokens)) == 8192
    assert all(len(t) >= 2 for t in tokens[256:])


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_tiktoken_round_trips_arbitrary_text(text):
    assert ENC.decode(ENC.encode_ordinary(text)) == text


def test_common_english_is_compressed():
    text = "The court ruled that the company had to pay for the damage to the house."
    ids = ENC.encode_ordinary(text)
    assert len(ids) <= 25  # 74 characters (21 tokens when written); bytes alone would give 74
    assert ENC.decode(ids) == text


def test_conversion_gives_the_same_ids_as_the_hf_tokenizer(tmp_path):
    import json

    corpus = tmp_path / "train.jsonl"
    texts = ["the cat sat on the mat", "the dog sat on the log", "cats and dogs; it's 2024!"] * 20
    corpus.write_text("".join(json.dumps({"document": t, "summary": t.upper()}) + "\n" for t in texts))
    hf = train_tokenizer.train_hf_bpe(corpus, vocab_size=300)
    ranks, id_to_rank = train_tokenizer.hf_to_ranks(hf)
    assert len(ranks) == 300
    out = tmp_path / "tiny.tiktoken"
    train_tokenizer.write_ranks(ranks, out)
    enc = train_tokenizer.load_encoding(out, name="tiny")
    probe = ["the cat sat on the log", "THE DOG'S MAT", "cats  and\n\ndogs 2025", "ünïcödé ✓"]
    stats = train_tokenizer.verify(enc, hf, id_to_rank, probe)
    assert stats["identical_to_hf"] == 1.0
    assert [id_to_rank[i] for i in hf.encode("the cat").ids] == enc.encode_ordinary("the cat")
