"""The summarization pipeline: document -> segments -> streaming encoder -> generate.

The text is read once, one segment at a time, through `model.stream_segment`; the only thing
carried between segments is the model's constant-size recurrent state (the compressive memories
plus the last segment's encoder states). `generate()` then decodes from that state.

With `per_chapter=True`, segments are aligned to chapter boundaries and a summary is generated from
the state at the end of every chapter; the stream then simply continues. Each chapter's summary
is therefore written from everything read *so far* (the memory covers chapters 1..k), without
reading anything twice.

`GenerationSettings` holds the decoding defaults shared by `summarize`, `evaluate`, `compare` and
the trainer's dev evaluation.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import torch

from infinisum.errors import DocumentError


@dataclass(frozen=True)
class GenerationSettings:
    """Decoding settings passed to `model.generate` (one place, shared by every caller)."""

    max_new_tokens: int = 160  # summary length ceiling, in tokens (also the baselines' budget)
    min_new_tokens: int = 40  # keeps beam search from stopping at a one-liner
    num_beams: int = 4  # beam search width; 1 = greedy
    no_repeat_ngram_size: int = 3  # no trigram twice: the classic cure for looping summaries
    length_penalty: float = 1.0  # beam score / length**penalty; 1.0 = neutral
    do_sample: bool = False  # deterministic by default, so evaluations are reproducible

    def __post_init__(self) -> None:
        if self.max_new_tokens < 1:
            raise ValueError(f"max_new_tokens must be >= 1, got {self.max_new_tokens}")
        if self.num_beams < 1:
            raise ValueError(f"num_beams must be >= 1, got {self.num_beams}")
        if self.min_new_tokens < 0:
            raise ValueError(f"min_new_tokens must be >= 0, got {self.min_new_tokens}")

    def generate_kwargs(self) -> dict:
        """Keyword arguments for `model.generate` (min length never above max length)."""
        kwargs = asdict(self)
        kwargs["min_new_tokens"] = min(self.min_new_tokens, self.max_new_tokens)
        if self.num_beams == 1:
            kwargs.pop("length_penalty")  # only meaningful for beam search
        return kwargs

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class SummaryPart:
    """One generated summary: of the whole document, or of the text up to a chapter's end."""

    text: str
    chapter_index: int | None = None
    chapter_title: str | None = None
    tokens_read: int = 0


@dataclass
class SummaryResult:
    """What `Summarizer.summarize` returns for one document."""

    source: str
    title: str | None
    parts: list[SummaryPart] = field(default_factory=list)
    n_tokens: int = 0
    n_segments: int = 0
    seconds: float = 0.0

    @property
    def text(self) -> str:
        """The final summary (after the whole document)."""
        return self.parts[-1].text if self.parts else ""

    def as_dict(self) -> dict:
        return {
            "source": self.source,
            "title": self.title,
            "summary": self.text,
            "chapters": [asdict(p) for p in self.parts if p.chapter_index is not None],
            "tokens": self.n_tokens,
            "segments": self.n_segments,
            "seconds": round(self.seconds, 3),
        }


Progress = Callable[[int, int], None]
"""Called after every segment with (tokens read so far, tokens in the document)."""


def count_document_tokens(document, tokenizer, chapter_aligned: bool = False) -> int:
    """Tokens in the document as the segmenter will see them."""
    from infinisum import segmenter

    return int(segmenter.count_tokens(document, tokenizer, chapter_aligned=chapter_aligned))


class Summarizer:
    """A loaded model + tokenizer + settings; `summarize(document)` runs the pipeline."""

    def __init__(self, model, tokenizer, settings: GenerationSettings | None = None) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.settings = settings or GenerationSettings()
        self.segment_length = int(model.config.segment_length)

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    @torch.inference_mode()
    def warm_up(self) -> None:
        """One throw-away segment + a 2-token generation: pays the libraries' one-time lazy setup
        (about 2-3 s here) up front, so the first document's timing is not inflated by it."""
        state = self.model.start_stream(1)
        ids = torch.full((1, self.segment_length), self.tokenizer.eos_id, dtype=torch.long, device=self.device)
        state = self.model.stream_segment(ids, torch.ones_like(ids, dtype=torch.bool), state)
        kwargs = {**self.settings.generate_kwargs(), "max_new_tokens": 2, "min_new_tokens": 0}
        self.model.generate(encoder_outputs=self.model.encoder_output(state), **kwargs)

    def generate_from(self, state) -> str:
        """Decode a summary from a stream state."""
        encoder_outputs = self.model.encoder_output(state)
        ids = self.model.generate(encoder_outputs=encoder_outputs, **self.settings.generate_kwargs())
        return self.tokenizer.decode(ids[0].tolist()).strip()

    @torch.inference_mode()
    def summarize(self, document, per_chapter: bool = False, progress: Progress | None = None) -> SummaryResult:
        """Stream `document` through the encoder and generate its summary (or one per chapter)."""
        from infinisum.segmenter import iter_segments

        start = time.perf_counter()
        total = count_document_tokens(document, self.tokenizer, chapter_aligned=per_chapter)
        if total == 0:
            raise DocumentError(f"{document.source}: no text to summarize")
        result = SummaryResult(source=str(document.source), title=document.title, n_tokens=total)
        device = self.device
        state = self.model.start_stream(1)
        read = 0
        if progress:
            progress(0, total)
        segments = iter_segments(document, self.tokenizer, self.segment_length, chapter_aligned=per_chapter)
        for segment in segments:
            ids = torch.tensor([segment.ids], dtype=torch.long, device=device)  # (1, N)
            mask = torch.zeros_like(ids, dtype=torch.bool)
            mask[:, : segment.n_tokens] = True
            state = self.model.stream_segment(ids, mask, state)
            read += segment.n_tokens
            result.n_segments += 1
            if progress:
                progress(read, total)
            if per_chapter and segment.ends_chapter:
                index = segment.chapter_index
                title = document.chapters[index].title if index < len(document.chapters) else None
                result.parts.append(SummaryPart(self.generate_from(state), index, title, read))
        if not per_chapter or not result.parts:
            result.parts.append(SummaryPart(self.generate_from(state), tokens_read=read))
        result.seconds = time.perf_counter() - start
        return result
