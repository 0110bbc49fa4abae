"""Merge `devsearch eval --json` outputs of several folds into the markdown tables of docs/ranking.md.

Each file is named eval-<variant>-<fold>.json; its "devise" model is shown as "DeViSE (<variant>
loss)", its baselines as they are (give --baselines to one variant per fold). The measures are the
mean over the folds, weighted by each fold's number of images.

Run: python scripts/eval_report.py runs/eval-*-a.json runs/eval-*-b.json
"""
from __future__ import annotations

import json
import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from devsearch.training.evaluation import MODEL_NAMES, markdown_table  # noqa: E402


def main(paths: list[Path]) -> None:
    totals: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    weights: dict[str, float] = defaultdict(float)
    folds: dict[str, dict] = {}
    for path in paths:
        variant, fold = path.stem.split("-")[1:3]
        result = json.loads(path.read_text())
        folds.setdefault(fold, result)
        for key, measures in result["models"].items():
            name = f"{MODEL_NAMES[key]} ({variant} loss)" if key == "devise" else MODEL_NAMES[key]
            weights[name] += result["images"]
            for measure, value in measures.items():
                totals[name][measure] += value * result["images"]
    merged = {name: {m: v / weights[name] for m, v in measures.items()} for name, measures in totals.items()}
    order = sorted(merged, key=lambda n: (not n.startswith("DeViSE ("), n))
    combined = {
        "images": sum(r["images"] for r in folds.values()),
        "labels": max(r["labels"] for r in folds.values()),
        "zeroshot_labels": [z for r in folds.values() for z in r["zeroshot_labels"]],
        "models": {name: merged[name] for name in order},
    }
    print(f"{len(folds)} folds; per fold: " + "; ".join(
        f"{fold}: {r['images']} photos evaluated, {r['excluded_training_images']} trained on and skipped"
        for fold, r in sorted(folds.items())))
    print(markdown_table(combined))
    print("```json")
    print(json.dumps({"models": combined["models"]}, indent=1))
    print("```")


if __name__ == "__main__":
    main([Path(p) for p in sys.argv[1:]])
