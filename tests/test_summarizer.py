"""The pipeline: streaming through `stream_segment` gives what `generate(input_ids=...)` gives; per-chapter
summaries come from the state at each chapter's end; progress is reported per segment."""

import pytest
import torch

from infinisum.documents import Chapter, Document
from infinisum.loading import load_model
from infinisum.segmenter import count_tokens
from infinisum.summarizer import GenerationSettings, Summarizer

SETTINGS = GenerationSettings(max_new_tokens=8, min_new_tokens=2, num_beams=2)


@pytest.fixture(scope="module")
def loaded(tiny_models):
    return load_model(tiny_models / "delta")


def book(*texts):
    return Document("mem.txt", "A Book", [Chapter(f"Chapter {i + 1}", t) for i, t in enumerate(texts)])


CH1 = "The sailor left the port at dawn. The sea was calm and grey. " * 3
CH2 = "A storm rose in the night. The mast broke and the crew prayed. " * 2


def test_streamed_summary_equals_generate_on_the_whole_input(loaded):
    model, tokenizer = loaded
    document = book(CH1, CH2)
    result = Summarizer(model, tokenizer, SETTINGS).summarize(document)
    ids = torch.tensor([tokenizer.encode(document.text)])
    with torch.inference_mode():
        expected = model.generate(
            input_ids=ids, attention_mask=torch.ones_like(ids, dtype=torch.bool), **SETTINGS.generate_kwargs()
        )
    assert result.text == tokenizer.decode(expected[0].tolist()).strip()
    assert result.n_tokens == ids.shape[1]
    assert result.n_segments == -(-ids.shape[1] // model.config.segment_length)
    assert len(result.parts) == 1 and result.parts[0].chapter_index is None


def test_per_chapter_summaries_come_from_the_state_at_each_boundary(loaded):
    model, tokenizer = loaded
    summarizer = Summarizer(model, tokenizer, SETTINGS)
    result = summarizer.summarize(book(CH1, CH2), per_chapter=True)
    assert [(p.chapter_index, p.chapter_title) for p in result.parts] == [(0, "Chapter 1"), (1, "Chapter 2")]
    # chapter 1's summary is exactly the summary of a book that stops after chapter 1
    assert result.parts[0].text == summarizer.summarize(book(CH1)).text
    assert result.parts[0].tokens_read == len(tokenizer.encode(CH1))
    assert result.parts[1].tokens_read == result.n_tokens
    assert result.text == result.parts[-1].text


def test_progress_reports_every_segment(loaded):
    model, tokenizer = loaded
    document = book(CH1, CH2)
    calls = []
    Summarizer(model, tokenizer, SETTINGS).summarize(document, progress=lambda done, total: calls.append((done, total)))
    total = count_tokens(document, tokenizer)
    assert calls[0] == (0, total) and calls[-1] == (total, total)
    assert all(a[0] < b[0] for a, b in zip(calls, calls[1:]))
    assert len(calls) == 1 + -(-total // model.config.segment_length)


def test_generation_settings():
    kwargs = GenerationSettings(max_new_tokens=10, min_new_tokens=40).generate_kwargs()
    assert kwargs["min_new_tokens"] == 10  # never above the maximum
    assert GenerationSettings().generate_kwargs() == {
        "max_new_tokens": 160,
        "min_new_tokens": 40,
        "num_beams": 4,
        "no_repeat_ngram_size": 3,
        "length_penalty": 1.0,
        "do_sample": False,
    }
    with pytest.raises(ValueError):
        GenerationSettings(num_beams=0)
