"""Write a fixed sample of the dev split as `infinisum evaluate` folders: DOCS/<id>.txt and REFS/<id>.txt.

Two sets, because the corpus has two kinds of target: `gsg` (multi-sentence: the gap sentences of a
~600-word window, see make_windows.py) and `pair` (one-line synopses / NAME lines / titles).

    python scripts/dev_set.py data/corpus/dev-windows.jsonl data/dev --per-kind 60
    infinisum compare data/dev/gsg/docs data/dev/gsg/refs -o runs/compare-gsg --system lead --system random
"""

from __future__ import annotations

import argparse
import json
import random
import re
from pathlib import Path


def safe_id(example_id: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", example_id)[:80]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dev_file")
    parser.add_argument("out_dir")
    parser.add_argument("--per-kind", type=int, default=60)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    lines = Path(args.dev_file).read_text(encoding="utf-8").splitlines()
    rows = [json.loads(line) for line in lines if line.strip()]
    rng = random.Random(args.seed)
    for kind in ("gsg", "pair"):
        pool = sorted((r for r in rows if r["kind"] == kind), key=lambda r: r["id"])
        picked = rng.sample(pool, min(args.per_kind, len(pool)))
        docs, refs = Path(args.out_dir, kind, "docs"), Path(args.out_dir, kind, "refs")
        docs.mkdir(parents=True, exist_ok=True)
        refs.mkdir(parents=True, exist_ok=True)
        for r in picked:
            name = safe_id(r["id"]) + ".txt"
            (docs / name).write_text(r["document"] + "\n", encoding="utf-8")
            (refs / name).write_text(r["summary"] + "\n", encoding="utf-8")
        print(f"{kind}: {len(picked)} documents in {docs.parent}")


if __name__ == "__main__":
    main()
