"""Count the tokens a training run fed the model, by replaying its (deterministic) batch stream.

    python scripts/tokens_seen.py configs/bundled.json --memory linear

Prints input tokens (document tokens read by the encoder) and target tokens (summary tokens the
decoder was trained on) over `steps` optimizer steps of one process, for the model card.
"""

from __future__ import annotations

import argparse
import json

from infinisum.tokenizer import load_tokenizer
from infinisum.training import TrainConfig, batches, load_examples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("config")
    parser.add_argument("--steps", type=int, default=None)
    args = parser.parse_args()
    cfg = TrainConfig.from_file(args.config)
    steps = args.steps or cfg.steps
    tokenizer = load_tokenizer(cfg.model.get("encoding", "infinisum-8k"))
    stream = batches(load_examples(cfg.train_file, tokenizer, cfg), cfg, seed=cfg.seed * 1000)
    inputs = targets = examples = 0
    kinds: dict[str, int] = {}
    for _ in range(steps):
        batch = next(stream)
        examples += len(batch)
        inputs += sum(len(e.input_ids) for e in batch)
        targets += sum(len(e.labels) for e in batch)
        for e in batch:
            kinds[e.kind] = kinds.get(e.kind, 0) + 1
    print(
        json.dumps(
            {"steps": steps, "examples": examples, "by_kind": kinds, "input_tokens": inputs, "target_tokens": targets}
        )
    )


if __name__ == "__main__":
    main()
