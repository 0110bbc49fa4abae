#!/usr/bin/env bash
# Reproduce the evaluation table of docs/ranking.md: DeViSE heads trained on emoji + Tux Paint (half of the
# Tux Paint photo labels held out), evaluated on the held-out Tux Paint photos against ConSE and
# the paper's controls. Two folds: each half of the photo labels is held out once.
# Usage: scripts/reproduce_eval.sh [DATASETS_DIR] [OUT_DIR]     (about 30 min on 2 CPU cores)
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${1:-../shared/datasets}
OUT=${2:-runs}
EMOJI=$DATA/emoji
TUX=$DATA/tuxpaint-objects
mkdir -p "$OUT"
python scripts/holdout_labels.py "$TUX" --where kind=photo --fraction 0.5 --seed 0 > "$OUT/holdout-a.txt"
python scripts/holdout_labels.py "$TUX" --where kind=photo --fraction 0.5 --seed 0 --complement > "$OUT/holdout-b.txt"
for fold in a b; do
  for loss in cosine hinge; do
    devsearch train "$EMOJI" "$TUX" --holdout-labels "$OUT/holdout-$fold.txt" --augment flip --loss "$loss" \
      --epochs 30 --seed 0 --out "$OUT/devise-$loss-$fold"
  done
  devsearch eval "$TUX" --where kind=photo --model "$OUT/devise-cosine-$fold" --baselines --json > "$OUT/eval-cosine-$fold.json"
  devsearch eval "$TUX" --where kind=photo --model "$OUT/devise-hinge-$fold" --json > "$OUT/eval-hinge-$fold.json"
done
python scripts/eval_report.py "$OUT"/eval-*-a.json "$OUT"/eval-*-b.json
