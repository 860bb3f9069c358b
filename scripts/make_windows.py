"""Cut the corpus's long gap-sentence (GSG) documents into training windows the bundled models can afford.

The corpus builder's GSG documents are 1,500-6,000 words with 3-4 gap sentences chosen from the whole
text; training reads at most `max_input_tokens` (1,024 in configs/bundled.json), so most of those targets
would come from text the model never sees. Each window here is ~WINDOW_WORDS words of consecutive
paragraphs (a few segments, so the memory is still needed) with its own gap sentences, 15% of its
sentences, chosen the same way (PEGASUS Ind-Orig, scripts/corpus_text.py). 15% rather than the
corpus's 3-4 sentences: the decoder, which must learn English from these targets alone, then sees
several times more target tokens for the same encoder compute. Pairs pass through unchanged. Splits are kept: windows
of a dev document stay in dev.

    python scripts/make_windows.py data/corpus            # writes train-windows.jsonl, dev-windows.jsonl
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from corpus_text import (  # noqa: E402
    GapSentences,
    paragraphs_of,
    select_gap_sentences,
    split_sentences,
    word_count,
)

WINDOW_WORDS = 600  # ~800 tokens of infinisum-8k: 3-4 segments of 256
GAP_RATIO = 0.15  # share of a window's sentences that become the target (PEGASUS used 30%)
MIN_GAPS = 2


def windows(paragraphs: list[str], max_words: int = WINDOW_WORDS) -> list[list[str]]:
    """Consecutive paragraphs, closed before a window would pass max_words (a longer paragraph stands alone)."""
    out, cur, words = [], [], 0
    for p in paragraphs:
        w = word_count(p)
        if cur and words + w > max_words:
            out.append(cur)
            cur, words = [], 0
        cur.append(p)
        words += w
    if cur and words >= max_words // 2:
        out.append(cur)
    return out


def gaps_for_window(paragraphs: list[str]) -> GapSentences | None:
    """Gap sentences for GAP_RATIO of the window's sentences, fewer if too few are candidates."""
    n_sentences = sum(len(split_sentences(p)) for p in paragraphs)
    for n in range(max(MIN_GAPS, round(GAP_RATIO * n_sentences)), MIN_GAPS - 1, -1):
        gsg = select_gap_sentences(paragraphs, n)
        if gsg is not None:
            return gsg
    return None


def window_examples(row: dict) -> list[dict]:
    result = []
    for k, window in enumerate(windows(paragraphs_of(row["document"]))):
        gsg = gaps_for_window(window)
        if gsg is not None:
            result.append({**row, "id": f"{row['id']}~w{k:02d}", "document": gsg.document, "summary": gsg.summary})
    return result


def main(corpus: str) -> None:
    root = Path(corpus)
    for split in ("train", "dev"):
        counts = {"pair": 0, "gsg": 0}
        tmp = root / f"{split}-windows.jsonl.tmp"
        with (root / f"{split}.jsonl").open(encoding="utf-8") as src, tmp.open("w", encoding="utf-8") as dst:
            for line in src:
                row = json.loads(line)
                rows = [row] if row["kind"] == "pair" else window_examples(row)
                for r in rows:
                    dst.write(json.dumps(r, ensure_ascii=False) + "\n")
                    counts[r["kind"]] += 1
        tmp.replace(root / f"{split}-windows.jsonl")
        print(f"{split}: {counts}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "data/corpus")
