"""Extractive baselines under the model's length budget: `lead` and `random`.

A model is only worth its parameters if it beats copying sentences out of the book. Both baselines
return whole sentences (the last one cut at a word boundary if it would overflow) until the budget
is spent; the budget is counted with the same tokenizer and the same `max_new_tokens` as the
model's summaries, so the comparison is like for like.

- `lead`: the first sentences of the document (the classic news baseline; weak on books, which is
  the point of showing it).
- `random`: sentences drawn uniformly from the whole document with a fixed seed, kept in document
  order.
"""

from __future__ import annotations

import random as _random
from collections.abc import Callable

from infinisum.rouge import split_sentences

SYSTEMS = ("lead", "random")
"""Names accepted by `--system`."""

_LEAD_WINDOW = 20_000  # characters split at a time for `lead`; grows until the budget is filled

CountTokens = Callable[[str], int]


def _fit(sentence: str, room: int, count_tokens: CountTokens) -> str:
    """The longest word prefix of `sentence` that fits in `room` tokens ('' if none)."""
    words = sentence.split()
    lo, hi = 0, len(words)  # binary search on the number of words
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if count_tokens(" ".join(words[:mid])) <= room:
            lo = mid
        else:
            hi = mid - 1
    return " ".join(words[:lo])


def _take(sentences: list[str], budget: int, count_tokens: CountTokens) -> list[int | tuple[int, str]]:
    """Walk `sentences` in order, keeping those that fit; the first overflow is cut, then stop."""
    kept: list[int | tuple[int, str]] = []
    used = 0
    for i, sentence in enumerate(sentences):
        cost = count_tokens(sentence if not kept else " " + sentence)
        if used + cost <= budget:
            kept.append(i)
            used += cost
            continue
        part = _fit(sentence, budget - used - (1 if kept else 0), count_tokens)
        if part:
            kept.append((i, part))
        break
    return kept


def lead(text: str, budget: int, count_tokens: CountTokens) -> str:
    """The document's first sentences, up to `budget` tokens."""
    window = _LEAD_WINDOW
    while True:
        sentences = split_sentences(text[:window])
        complete = window >= len(text)
        if not complete:
            sentences = sentences[:-1]  # the last one may be cut by the window
        kept = _take(sentences, budget, count_tokens)
        overflowed = kept and isinstance(kept[-1], tuple)
        if complete or overflowed or len(kept) < len(sentences):
            return " ".join(sentences[k] if isinstance(k, int) else k[1] for k in kept)
        window *= 4


def random(text: str, budget: int, count_tokens: CountTokens, seed: int = 0) -> str:
    """Sentences drawn at random (fixed seed) until `budget` tokens, printed in document order."""
    sentences = split_sentences(text)
    order = list(range(len(sentences)))
    _random.Random(seed).shuffle(order)
    chosen: list[int] = []
    used = 0
    for i in order:
        cost = count_tokens(" " + sentences[i])
        if used + cost > budget:
            continue  # try a shorter one; the budget is a ceiling, not a target
        chosen.append(i)
        used += cost
        if budget - used < 4:
            break
    return " ".join(sentences[i] for i in sorted(chosen))


def run_baseline(name: str, text: str, budget: int, count_tokens: CountTokens, seed: int = 0) -> str:
    """Dispatch by name (`lead` or `random`)."""
    if name == "lead":
        return lead(text, budget, count_tokens)
    if name == "random":
        return random(text, budget, count_tokens, seed=seed)
    raise ValueError(f"unknown baseline {name!r}; choose one of {', '.join(SYSTEMS)}")
