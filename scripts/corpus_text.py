"""Pure text helpers for the corpus builder: examples, splitting, chunking and gap-sentence selection.

Nothing here touches the file system or the network, so every function is deterministic and
cheap to test (tests/test_corpus.py). `build_corpus.py` reads the sources and calls these.

Gap-sentence generation (GSG) follows PEGASUS (Zhang et al., 2020, arXiv:1912.08777), strategy
"Ind-Orig": every sentence is scored on its own by ROUGE-1 F1 against the rest of the document
(rouge-score's tokenizer with the Porter stemmer), the top m are removed from the document and
become the target, in document order.
"""

from __future__ import annotations

import functools
import hashlib
import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass

import punkt
from nltk.stem import porter
from rouge_score import tokenize as rouge_tokenize

MAX_DOC_CHARS = 30_000  # documents are cut at a paragraph boundary below this many characters
DEV_FRACTION = 0.04  # share of every (source, kind) stratum that goes to the dev split


@dataclass(frozen=True)
class Example:
    """One line of the corpus JSONL."""

    id: str  # unique, stable across rebuilds, e.g. "man:cp.1" or "austen:emma#03"
    source: str  # key into sources.json, e.g. "man", "debian-descriptions"
    kind: str  # "pair" (real summary) or "gsg" (gap sentences as summary)
    document: str
    summary: str
    group: str = ""  # split unit: examples of one group always land in the same split (not written)

    def to_json_dict(self) -> dict[str, str]:
        """The fields written to JSONL, in a fixed order."""
        d = asdict(self)
        d.pop("group")
        return d


# ---------------------------------------------------------------------------------------------
# normalisation and paragraphs
# ---------------------------------------------------------------------------------------------

_PUNCT_MAP = str.maketrans(
    {
        "\u2010": "-",  # groff's hyphen
        "\u2011": "-",
        "\u2212": "-",  # minus sign (troff \-)
        "\u2018": "'",
        "\u2019": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u00a0": " ",
        "\u00ad": "",  # soft hyphen
    }
)


def normalize_punctuation(text: str) -> str:
    """Map typographic hyphens, quotes and spaces that renderers add to their ASCII forms."""
    return text.translate(_PUNCT_MAP)


def clean_paragraph(text: str) -> str:
    """Join the lines of one paragraph with single spaces."""
    return " ".join(text.split())


def paragraphs_of(text: str) -> list[str]:
    """Split text at blank lines into whitespace-normalised, non-empty paragraphs."""
    return [p for p in (clean_paragraph(b) for b in re.split(r"\n\s*\n", text)) if p]


def word_count(text: str) -> int:
    return len(text.split())


def cap_at_paragraph(paragraphs: Sequence[str], max_chars: int = MAX_DOC_CHARS) -> list[str]:
    """The longest prefix of paragraphs whose "\\n\\n"-joined length is at most max_chars.

    A first paragraph that alone is too long is cut at the last sentence end (or space) that fits,
    so the result is never empty for non-empty input.
    """
    kept: list[str] = []
    size = 0
    for p in paragraphs:
        extra = len(p) + (2 if kept else 0)
        if size + extra > max_chars:
            if not kept:
                head = p[:max_chars]
                cut = max(head.rfind(". "), head.rfind(" "))
                kept.append(head[: cut + 1].rstrip() if cut > 0 else head)
            break
        kept.append(p)
        size += extra
    return kept


def join_paragraphs(paragraphs: Iterable[str]) -> str:
    return "\n\n".join(paragraphs)


# ---------------------------------------------------------------------------------------------
# dev split
# ---------------------------------------------------------------------------------------------


def stable_hash(key: str) -> int:
    """A platform- and run-independent 64-bit hash of a string (Python's hash() is salted)."""
    return int.from_bytes(hashlib.sha256(key.encode("utf-8")).digest()[:8], "big")


def split_dev(examples: Sequence[Example], fraction: float = DEV_FRACTION) -> tuple[list[Example], list[Example]]:
    """Deterministic stratified split into (train, dev).

    Within every (source, kind) stratum the groups are ordered by stable_hash(group) and the first
    ceil(fraction * n_groups) groups go to dev, so every stratum has at least one dev group, and all
    examples of a group (e.g. a man page's pair and its GSG chunks) stay together. Groups that are
    already in dev through one stratum are in dev for every stratum. Input order is preserved.
    """
    strata: dict[tuple[str, str], set[str]] = {}
    for ex in examples:
        strata.setdefault((ex.source, ex.kind), set()).add(ex.group or ex.id)
    dev_groups: set[str] = set()
    for key in sorted(strata):
        groups = sorted(strata[key], key=lambda g: (stable_hash(g), g))
        dev_groups.update(groups[: math.ceil(fraction * len(groups))])
    train = [ex for ex in examples if (ex.group or ex.id) not in dev_groups]
    dev = [ex for ex in examples if (ex.group or ex.id) in dev_groups]
    return train, dev


# ---------------------------------------------------------------------------------------------
# sentences and ROUGE-1
# ---------------------------------------------------------------------------------------------

_STEMMER = porter.PorterStemmer()


@functools.lru_cache(maxsize=200_000)
def _stem(token: str) -> str:
    return _STEMMER.stem(token) if len(token) > 3 else token  # rouge-score stems only > 3 chars


def rouge_tokens(text: str) -> list[str]:
    """Exactly rouge-score's tokenisation with use_stemmer=True, with a cache on the stemmer."""
    return [_stem(t) for t in rouge_tokenize.tokenize(text, None)]


def split_sentences(paragraph: str) -> list[str]:
    """Punkt (English) sentences of one paragraph."""
    return [s.strip() for s in punkt.sent_tokenize(paragraph) if s.strip()]


def rouge1_f(candidate: Counter, reference: Counter) -> float:
    """ROUGE-1 F1 between two bags of tokens (same formula as rouge_score.rouge_scorer)."""
    overlap = sum((candidate & reference).values())
    if overlap == 0:
        return 0.0
    precision = overlap / sum(candidate.values())
    recall = overlap / sum(reference.values())
    return 2 * precision * recall / (precision + recall)


@dataclass(frozen=True)
class GapSentences:
    """A GSG example: the document without the chosen sentences, and those sentences."""

    document: str
    summary: str
    chosen: tuple[tuple[int, int], ...]  # (paragraph index, sentence index) of each removed sentence


def select_gap_sentences(
    paragraphs: Sequence[str],
    n_gaps: int,
    min_words: int = 5,
    max_words: int = 50,
) -> GapSentences | None:
    """PEGASUS Ind-Orig: remove the n_gaps sentences with the highest ROUGE-1 F1 to the rest.

    Only sentences of min_words..max_words words are candidates (headings, option names and run-on
    lists make poor targets). Ties are broken by position, so the result is deterministic. Returns
    None when there are fewer than 2 * n_gaps candidate sentences.
    """
    sentences = [split_sentences(p) for p in paragraphs]
    flat = [(pi, si, s) for pi, sents in enumerate(sentences) for si, s in enumerate(sents)]
    bags = [Counter(rouge_tokens(s)) for _, _, s in flat]
    total = Counter()
    for bag in bags:
        total.update(bag)
    scored = []
    for i, (_pi, _si, s) in enumerate(flat):
        if not min_words <= word_count(s) <= max_words or not bags[i]:
            continue
        rest = total - bags[i]
        scored.append((-rouge1_f(bags[i], rest), i))
    if len(scored) < 2 * n_gaps:
        return None
    chosen = sorted(i for _, i in sorted(scored)[:n_gaps])
    chosen_set = set(chosen)
    summary = " ".join(flat[i][2] for i in chosen)
    kept_pars: list[str] = []
    i = 0
    for sents in sentences:
        kept: list[str] = []
        for s in sents:
            if i not in chosen_set:
                kept.append(s)
            i += 1
        if kept:
            kept_pars.append(" ".join(kept))
    return GapSentences(
        document=join_paragraphs(kept_pars),
        summary=summary,
        chosen=tuple((flat[i][0], flat[i][1]) for i in chosen),
    )


def gaps_for(words: int) -> int:
    """Number of gap sentences for a document of this many words (3, or 4 from 3,000 words)."""
    return 4 if words >= 3000 else 3


# ---------------------------------------------------------------------------------------------
# cutting long texts into documents
# ---------------------------------------------------------------------------------------------


def chunk_paragraphs(
    paragraphs: Sequence[str],
    starts: Sequence[bool],
    min_words: int = 1500,
    target_words: int = 3000,
    max_chars: int = MAX_DOC_CHARS - 2000,
) -> list[list[str]]:
    """Cut a long text into documents along chapter (preferably) or paragraph boundaries.

    `starts[i]` marks paragraph i as the start of a chapter. A document is closed at a chapter start
    once it has min_words words, at any paragraph once it has target_words * 1.5 words, and always
    before it would exceed max_chars characters (leaving room under MAX_DOC_CHARS). A final piece
    shorter than min_words / 2 words is merged into the previous document when it fits, else dropped.
    """
    docs: list[list[str]] = []
    cur: list[str] = []
    cur_words = 0
    cur_chars = 0
    for p, start in zip(paragraphs, starts):
        w = word_count(p)
        close = cur and (
            (start and cur_words >= min_words) or cur_words >= target_words * 1.5 or cur_chars + len(p) + 2 > max_chars
        )
        if close:
            docs.append(cur)
            cur, cur_words, cur_chars = [], 0, 0
        cur.append(p)
        cur_words += w
        cur_chars += len(p) + 2
    if cur:
        if cur_words >= min_words // 2:
            docs.append(cur)
        elif docs and sum(len(x) + 2 for x in docs[-1]) + cur_chars <= max_chars:
            docs[-1].extend(cur)
    return docs
