#!/usr/bin/env bash
# The whole bundled-model recipe, from an empty checkout to the two checkpoints and their dev scores:
#   corpus (offline sources, reserved ones excluded) -> GSG windows -> train linear and delta
#   (same config, data, steps and seed; in parallel, one thread each) -> dev evaluation against
#   the lead and random baselines. Bundling is a separate, deliberate step (scripts/bundle_model.py).
# Usage: bash scripts/reproduce.sh            (about 2 hours on 2 CPU cores)
set -euo pipefail
cd "$(dirname "$0")/.."
python scripts/build_corpus.py --out data/corpus
python scripts/make_windows.py data/corpus
for rule in linear delta; do
  infinisum train configs/bundled.json --memory "$rule" --out-dir "runs/$rule" --quiet &
done
wait
python scripts/dev_set.py data/corpus/dev-windows.jsonl data/dev --per-kind 60
for kind in gsg pair; do
  infinisum compare "data/dev/$kind/docs" "data/dev/$kind/refs" -o "runs/compare-$kind" \
    --model runs/linear/checkpoint-best --model runs/delta/checkpoint-best --system lead --system random
done
