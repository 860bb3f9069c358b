"""Segmenter: lengths add up to the token count, padding/mask, chapter alignment, laziness."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from infinisum.documents import Chapter, ChapterStart, Document, iter_document_text, read_document
from infinisum.segmenter import count_chapter_tokens, count_tokens, iter_segments, segments_to_tensors
from infinisum.tokenizer import load_tokenizer

SAMPLES = Path(__file__).resolve().parent.parent / "sample_docs"
TOK = load_tokenizer("gpt2")


def _doc(*chapters: str) -> Document:
    return Document("test", "Test", [Chapter(f"Chapter {i}", text) for i, text in enumerate(chapters, start=1)])


def _real(segments) -> list[int]:
    return [i for s in segments for i in s.ids[: s.n_tokens]]


def test_novel_segments_add_up_to_the_token_count() -> None:
    doc = read_document(SAMPLES / "moby-dick.txt")
    segments = list(iter_segments(doc, TOK, 512))
    expected = TOK.encode(doc.text)
    assert sum(s.n_tokens for s in segments) == count_tokens(doc, TOK) == len(expected)
    assert _real(segments) == expected  # the same tokens, in order
    assert all(len(s.ids) == 512 for s in segments)
    assert all(s.n_tokens == 512 for s in segments[:-1]) and 0 < segments[-1].n_tokens <= 512


def test_chapter_aligned_segments() -> None:
    doc = _doc("one two three four five six seven", "eight nine", "ten")
    segments = list(iter_segments(doc, TOK, 4, chapter_aligned=True))
    per_chapter = [len(TOK.encode(c.text)) for c in doc.chapters]
    assert count_chapter_tokens(doc, TOK) == per_chapter
    assert sum(s.n_tokens for s in segments) == count_tokens(doc, TOK, chapter_aligned=True) == sum(per_chapter)
    assert [s.chapter_index for s in segments] == [0, 0, 1, 2]
    assert [s.ends_chapter for s in segments] == [False, True, True, True]
    assert _real(segments) == [t for c in doc.chapters for t in TOK.encode(c.text)]
    assert segments[1].ids[segments[1].n_tokens :] == [TOK.pad_id] * (4 - segments[1].n_tokens)


def test_chapter_that_fills_its_last_segment_exactly() -> None:
    text = "a b c d"  # 4 tokens
    assert len(TOK.encode(text)) == 4
    segments = list(iter_segments(_doc(text, text), TOK, 4, chapter_aligned=True))
    assert [(s.n_tokens, s.chapter_index, s.ends_chapter) for s in segments] == [(4, 0, True), (4, 1, True)]


def test_unaligned_segments_cross_chapters() -> None:
    doc = _doc("one two three", "four five six")
    segments = list(iter_segments(doc, TOK, 4))
    assert _real(segments) == TOK.encode(doc.text)
    assert segments[0].chapter_index == 0 and segments[0].ends_chapter  # chapter 1 ends inside it
    assert segments[-1].chapter_index == 1 and segments[-1].ends_chapter


@settings(max_examples=60, deadline=None)
@given(
    chapters=st.lists(st.lists(st.text(min_size=1, max_size=40).map(str.strip).filter(bool), max_size=4), max_size=5),
    length=st.integers(min_value=1, max_value=16),
    aligned=st.booleans(),
)
def test_stream_of_paragraphs_adds_up(chapters: list[list[str]], length: int, aligned: bool) -> None:
    stream: list[str | ChapterStart] = []
    for n, paragraphs in enumerate(chapters):
        stream.append(ChapterStart(f"c{n}"))
        stream.extend(paragraphs)
    segments = list(iter_segments(stream, TOK, length, chapter_aligned=aligned))
    assert sum(s.n_tokens for s in segments) == count_tokens(stream, TOK, chapter_aligned=aligned)
    assert all(len(s.ids) == length and 1 <= s.n_tokens <= length for s in segments)
    non_empty = [p for p in chapters if p]
    if non_empty:
        assert segments[-1].ends_chapter
        ends = sum(s.ends_chapter for s in segments)
        assert ends == len(non_empty) if aligned else 1 <= ends <= len(non_empty)
        assert [s.chapter_index for s in segments] == sorted(s.chapter_index for s in segments)
        with_text = [i for i, p in enumerate(chapters) if p]  # indices count empty chapters too
        assert {s.chapter_index for s in segments} <= set(with_text)
        if aligned:
            assert [s.chapter_index for s in segments if s.ends_chapter] == with_text
    else:
        assert segments == []
    if not aligned:
        assert _real(segments) == TOK.encode("\n\n".join(p for c in chapters for p in c))


def test_chapter_index_counts_empty_chapters() -> None:
    doc = _doc("one two", "", "three")
    segments = list(iter_segments(doc, TOK, 8, chapter_aligned=True))
    assert [s.chapter_index for s in segments] == [0, 2]  # indexes doc.chapters
    assert count_chapter_tokens(doc, TOK) == [2, 0, 1]


def test_plain_string_source() -> None:
    segments = list(iter_segments("hello world", TOK, 8))
    assert len(segments) == 1 and segments[0].n_tokens == 2 and segments[0].ends_chapter


def test_tensors_and_mask() -> None:
    segments = list(iter_segments(_doc("one two three four five"), TOK, 3))
    ids, mask = segments_to_tensors(segments)
    assert ids.shape == mask.shape == (2, 3)
    assert mask.tolist() == [[True, True, True], [True, True, False]]
    assert ids[1, 2].item() == TOK.pad_id


def test_segments_are_lazy() -> None:
    endless = itertools.repeat("A paragraph of some words.")  # a book that never ends
    segments = iter_segments(endless, TOK, 64)
    first, second = next(segments), next(segments)  # would hang if the segmenter read everything first
    assert first.n_tokens == second.n_tokens == 64 and first.chapter_index == 0


def test_text_file_stream_equals_document(tmp_path: Path) -> None:
    path = tmp_path / "long.txt"
    path.write_text("CHAPTER I\n\n" + "A paragraph of some words.\n\n" * 2000 + "CHAPTER II\n\nEnd.", encoding="utf-8")
    doc = read_document(path)
    streamed = list(iter_segments(iter_document_text(path, chapters=True), TOK, 64, chapter_aligned=True))
    assert [s.ids for s in streamed] == [s.ids for s in iter_segments(doc, TOK, 64, chapter_aligned=True)]
    assert streamed[-1].chapter_index == 1


def test_invalid_segment_length() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        list(iter_segments("text", TOK, 0))
