"""Segmenter: a document -> a lazy stream of fixed-length token segments for the encoder.

The encoder reads a book one segment of `segment_length` tokens at a time (its compressive
memory carries everything before). Text flows in paragraph by paragraph, is tokenized, and
leaves as `Segment`s; at most one paragraph plus one segment of tokens is held at a time, so a
1 GB text file streams with constant memory.

Token stream: every chapter is its paragraphs joined by "\\n\\n"; chapters are joined by
"\\n\\n" as well, so without chapter alignment the stream is exactly
`tokenizer.encode(document.text)`. With `chapter_aligned=True` every chapter starts a fresh
segment (its last segment is padded), so a summary can be emitted at each chapter boundary;
the stream is then the concatenation of `tokenizer.encode(chapter.text)` over chapters.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from infinisum.documents import ChapterStart, Document
from infinisum.tokenizer import Tokenizer

Source = Document | str | Iterable["str | ChapterStart"]

#: Paragraphs of one chapter are tokenized together, about this many characters at a time.
_BATCH_CHARS = 256 * 1024


@dataclass
class Segment:
    """One encoder input: `ids` is exactly segment_length long, padded with the pad id."""

    ids: list[int]
    n_tokens: int  # real tokens; ids[n_tokens:] are padding
    chapter_index: int  # chapter of the segment's first token (0-based)
    ends_chapter: bool  # a chapter ends inside this segment (always true for the document's last one)


def _items(source: Source) -> Iterator[str | ChapterStart]:
    """Any accepted source as a stream of ChapterStart markers and text chunks."""
    if isinstance(source, Document):
        for chapter in source.chapters:
            yield ChapterStart(chapter.title)
            yield from chapter.text.split("\n\n")
    elif isinstance(source, str):
        yield source
    else:
        yield from source


def _token_chunks(
    source: Source, tokenizer: Tokenizer, chapter_aligned: bool
) -> Iterator[tuple[int, list[int]] | None]:
    """(chapter index, token ids) per text chunk, with None marking the end of each chapter with text.

    Chapter indices count every ChapterStart (so they index `Document.chapters` even when a
    chapter is empty); text before the first ChapterStart is chapter 0.

    Chunks are prefixed with the "\\n\\n" separator exactly where the joined text has one.
    """
    chapter = -1  # index of the current chapter: one per ChapterStart, empty chapters included
    chapter_has_text = False  # the current chapter has tokens (so the next chunk needs a separator)
    any_text = False
    batch: list[str] = []
    batch_chars = 0

    def flush() -> Iterator[tuple[int, list[int]]]:
        nonlocal batch, batch_chars
        if batch:
            # One call per batch: GPT-2-style splitting never merges across the "\n\n" separators,
            # so encoding the joined batch equals encoding the paragraphs one by one.
            ids = tokenizer.encode("".join(batch))
            if ids:
                yield chapter, ids
        batch, batch_chars = [], 0

    for item in _items(source):
        if isinstance(item, ChapterStart):
            if chapter_has_text:
                yield from flush()
                yield None
            chapter += 1
            chapter_has_text = False
            continue
        if not item:
            continue
        if chapter < 0:
            chapter = 0
        separator = chapter_has_text or (any_text and not chapter_aligned)
        batch.append("\n\n" + item if separator else item)
        batch_chars += len(item)
        chapter_has_text = any_text = True
        if batch_chars >= _BATCH_CHARS:
            yield from flush()
    yield from flush()
    if chapter_has_text:
        yield None


def iter_segments(
    source: Source, tokenizer: Tokenizer, segment_length: int, chapter_aligned: bool = False
) -> Iterator[Segment]:
    """Fixed-length segments of a Document, a string, or a stream of paragraphs/ChapterStarts."""
    if segment_length < 1:
        raise ValueError(f"segment_length must be at least 1, got {segment_length}")
    pad = tokenizer.pad_id
    buf: list[int] = []  # tokens not yet emitted start at buf[pos] (at most one batch + one segment)
    pos = 0
    ends: list[int] = []  # indices into buf after which a chapter ends
    chapters: list[tuple[int, int]] = []  # (index into buf, chapter) where a chapter's tokens begin

    def chapter_at(index: int) -> int:
        return next(c for p, c in reversed(chapters) if p <= index)

    def emit() -> Segment:
        nonlocal pos, ends
        ids = buf[pos : pos + segment_length]
        chapter = chapter_at(pos)
        pos += len(ids)
        ends_here = any(e <= pos for e in ends)
        ends = [e for e in ends if e > pos]
        return Segment(ids + [pad] * (segment_length - len(ids)), len(ids), chapter, ends_here)

    for chunk in _token_chunks(source, tokenizer, chapter_aligned):
        if chunk is None:  # the current chapter ends after the last buffered token
            ends.append(len(buf))
            if chapter_aligned:
                while pos < len(buf):
                    yield emit()
            continue
        chapter, ids = chunk
        # Drop what was emitted (shifting the indices), then append the new tokens.
        keep = [(p - pos, c) for p, c in chapters if p >= pos]
        if pos < len(buf) and (not keep or keep[0][0] > 0):
            keep.insert(0, (0, chapter_at(pos)))
        chapters = keep
        ends = [e - pos for e in ends]
        del buf[:pos]
        pos = 0
        if not chapters or chapters[-1][1] != chapter:
            chapters.append((len(buf), chapter))
        buf.extend(ids)
        # Keep one full segment back until we know whether its chapter ends with it.
        while len(buf) - pos > segment_length:
            yield emit()
    while pos < len(buf):
        yield emit()


def count_tokens(source: Source, tokenizer: Tokenizer, chapter_aligned: bool = False) -> int:
    """Number of real tokens `iter_segments` would produce for `source` (streams, holds nothing)."""
    return sum(len(chunk[1]) for chunk in _token_chunks(source, tokenizer, chapter_aligned) if chunk is not None)


def count_chapter_tokens(source: Source, tokenizer: Tokenizer) -> list[int]:
    """Tokens per chapter (chapter-aligned stream)."""
    counts: list[int] = []
    for chunk in _token_chunks(source, tokenizer, chapter_aligned=True):
        if chunk is None:
            continue
        chapter, ids = chunk
        while len(counts) <= chapter:
            counts.append(0)
        counts[chapter] += len(ids)
    return counts


def segments_to_tensors(segments: list[Segment]):
    """(ids LongTensor (B, N), mask BoolTensor (B, N)); mask is True on real tokens."""
    import torch

    if not segments:
        raise ValueError("segments_to_tensors needs at least one segment")
    ids = torch.tensor([s.ids for s in segments], dtype=torch.long)  # (B, N)
    positions = torch.arange(ids.shape[1])  # (N,)
    mask = positions[None, :] < torch.tensor([s.n_tokens for s in segments])[:, None]  # (B, N)
    return ids, mask
