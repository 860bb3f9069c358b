#!/usr/bin/env bash
# The whole bundled-model recipe, from an empty checkout to the two checkpoints and their dev scores:
#   corpus (offline sources, reserved ones excluded) -> GSG windows -> train linear and delta
#   (same config, data, steps and seed; in parallel, one thread each) -> dev evaluation against
#   the lead and random baselines. Bundling is a separate, deliberate step (scripts/bundle_model.py).
# Usage: bash scripts/reproduce.sh            (about 2 hours on 2 CPU cores)
set -euo pipefail
cd "$(dirname "$0")/.."
pip install ".[corpus]"
python scripts/build_corpus.py --out data/corpus
python scripts/make_windows.py data/corpus
for rule in linear delta; do
  infinisum train configs/bundled.json --memory "$rule" --out-dir "runs/$rule" --quiet &
done
wait
python scripts/dev_set.py data/corpus/dev-windows.jsonl data/dev --per-kind 60
mkdir -p runs/models  # compare names each system after its folder
ln -sfn ../linear/checkpoint-best runs/models/linear
ln -sfn ../delta/checkpoint-best runs/models/delta
infinisum compare data/dev/gsg/docs data/dev/gsg/refs -o runs/compare-gsg \
  --model runs/models/linear --model runs/models/delta --system lead --system random
infinisum compare data/dev/pair/docs data/dev/pair/refs -o runs/compare-pair --max-length 24 --min-length 2 \
  --model runs/models/linear --model runs/models/delta --system lead --system random
