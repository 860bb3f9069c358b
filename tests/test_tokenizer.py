"""Tokenizer: shipped GPT-2 ranks, special tokens after the ranks, lossless round trip, clear errors."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from infinisum.errors import ModelError
from infinisum.tokenizer import SPECIAL_TOKENS, Tokenizer, list_encodings, load_tokenizer


@pytest.fixture(scope="module")
def gpt2() -> Tokenizer:
    return load_tokenizer("gpt2")


def test_gpt2_is_shipped_and_matches_known_ids(gpt2: Tokenizer) -> None:
    assert "gpt2" in list_encodings()
    # Golden ids of the GPT-2 BPE (as produced by OpenAI's encoder for this text).
    assert gpt2.encode("Hello world") == [15496, 995]
    assert gpt2.encode(" the") == [262]
    assert gpt2.n_ranks == 50256


def test_special_ids_follow_the_ranks(gpt2: Tokenizer) -> None:
    ids = [gpt2.pad_id, gpt2.bos_id, gpt2.eos_id, gpt2.mask_id, gpt2.sep_id]
    assert ids == [50256 + i for i in range(len(SPECIAL_TOKENS))]
    assert gpt2.vocab_size == 50256 + len(SPECIAL_TOKENS)
    assert gpt2.encoding.n_vocab == gpt2.vocab_size


def test_special_strings_in_user_text_stay_plain_text(gpt2: Tokenizer) -> None:
    text = "a book that says <|eos|> and <|pad|> literally"
    ids = gpt2.encode(text)
    assert not set(ids) & {gpt2.pad_id, gpt2.bos_id, gpt2.eos_id, gpt2.mask_id, gpt2.sep_id}
    assert gpt2.decode(ids) == text


def test_decode_drops_special_ids(gpt2: Tokenizer) -> None:
    ids = [gpt2.bos_id, *gpt2.encode("Call me Ishmael."), gpt2.eos_id, gpt2.pad_id, gpt2.pad_id]
    assert gpt2.decode(ids) == "Call me Ishmael."


def test_encode_batch_equals_encode(gpt2: Tokenizer) -> None:
    texts = ["It is a truth universally acknowledged", "", "naïve café — 東京"]
    assert gpt2.encode_batch(texts) == [gpt2.encode(t) for t in texts]


@settings(max_examples=150, deadline=None)
@given(st.text())
def test_round_trip_of_arbitrary_unicode(text: str) -> None:
    tok = load_tokenizer("gpt2")  # cached: the same object every time
    ids = tok.encode(text)
    assert all(0 <= i < tok.n_ranks for i in ids)
    assert tok.decode(ids) == text


def test_loader_is_cached() -> None:
    assert load_tokenizer("gpt2") is load_tokenizer("gpt2")


def test_unknown_name_lists_shipped_encodings() -> None:
    with pytest.raises(ModelError, match="gpt2"):
        load_tokenizer("no-such-encoding")


def test_a_ranks_file_by_path(tmp_path) -> None:
    # A tiny byte-level vocabulary: the 256 bytes plus one merge ("ab").
    ranks = {bytes([b]): b for b in range(256)} | {b"ab": 256}
    path = tmp_path / "tiny.tiktoken"
    path.write_bytes(b"".join(base64.b64encode(t) + b" %d\n" % r for t, r in ranks.items()))
    tok = load_tokenizer(str(path))
    assert tok.name == "tiny"
    assert tok.encode("ab") == [256]
    assert tok.pad_id == 257 and tok.vocab_size == 257 + len(SPECIAL_TOKENS)
    assert tok.decode(tok.encode("abc ñ")) == "abc ñ"


def test_a_corrupt_ranks_file_is_a_model_error(tmp_path) -> None:
    path = tmp_path / "broken.tiktoken"
    path.write_text("this is not base64 at all\n")
    with pytest.raises(ModelError, match="rebuild"):
        load_tokenizer(str(path))


def test_out_of_vocabulary_id_is_a_model_error(gpt2: Tokenizer) -> None:
    with pytest.raises(ModelError, match="outside the vocabulary"):
        gpt2.decode([10**7])
