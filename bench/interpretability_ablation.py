"""Interpretability with and without the attention loss on synthetic routines (same seeds).

Generates routines with per-clip truth (``longaqa.data.synthetic``), trains the same model with the
paper's loss and with ``loss.lambda_att=0`` on each seed, runs ``longaqa interpretability`` on every
run and prints a markdown table (also written to ``OUT/summary.md`` and ``OUT/summary.json``).
Finished runs in ``OUT`` are reused, and so are their ``interpretability.json`` files (the same
measurement ``longaqa interpretability RUN_DIR`` makes) unless ``--remeasure``.

    python bench/interpretability_ablation.py --out OUT --seeds 0 1 --epochs 80
    python bench/interpretability_ablation.py --out OUT --seeds 0 1 --variant-set loss.att_temperature=1
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

MODEL = [
    "model.input_dim=1024",
    "model.d_model=128",
    "model.num_heads=4",
    "model.dim_feedforward=256",
    "model.num_queries=68",
    "model.head_hidden=[128,64]",
    "model.dropout=0.3",
    "train.batch_size=32",
    "train.lr=5e-4",
    "train.progress=false",
    "train.tensorboard=false",
    "train.num_threads=1",
    "data.score_divisor=25",
]
"""A small paper-shaped model (RG query count, full-sequence evaluation) that trains in minutes on CPU."""


def _fmt(key: str, value) -> str:
    if not isinstance(value, float):
        return str(value)
    return f"{value:.4f}" if key.startswith("skipping") else f"{value:.3f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--epochs", type=int, default=80)
    parser.add_argument("--data-seed", type=int, default=0, help="RoutineSpec seed (200 train / 50 test)")
    parser.add_argument("--set", dest="extra", action="append", default=[], help="extra override for all runs")
    parser.add_argument(
        "--variant-set",
        action="append",
        default=[],
        help="override for the attention-loss runs only (named att+...)",
    )
    parser.add_argument("--num-random", type=int, default=5)
    parser.add_argument("--mapping", default="attention", choices=["auto", "index", "attention"])
    parser.add_argument("--remeasure", action="store_true", help="ignore saved interpretability.json files")
    args = parser.parse_args()

    from longaqa.cli import main as cli
    from longaqa.data.synthetic import RoutineSpec, write_routines
    from longaqa.interpret.run import interpretability_file, interpretability_run

    out = Path(args.out)
    data = out / "data"
    if not (data / "test.txt").is_file():
        write_routines(data, RoutineSpec(seed=args.data_seed))
    suffix = "".join(f"+{s.split('=')[0].split('.')[-1]}" for s in args.variant_set)
    variants = {f"att{suffix}": ["loss.lambda_att=1", *args.variant_set], "noatt": ["loss.lambda_att=0"]}
    rows = []
    for seed in args.seeds:
        for name, sets in variants.items():
            run = out / f"{name}_s{seed}"
            if not (run / "metrics.json").is_file():
                overrides = [*MODEL, f"train.epochs={args.epochs}", f"train.seed={seed}", *sets, *args.extra]
                code = cli(
                    [
                        "train",
                        "--data-root",
                        str(data),
                        "--out",
                        str(run),
                        *[a for o in overrides for a in ("--set", o)],
                    ]
                )
                if code:
                    raise SystemExit(code)
            metrics = json.loads((run / "metrics.json").read_text())
            saved = run / interpretability_file("test", args.mapping)
            result = json.loads(saved.read_text()) if saved.is_file() else None
            stale = result is None or result.get("mapping_mode") != args.mapping
            if stale or result.get("num_random") != args.num_random or args.remeasure:
                result = interpretability_run(run, data, num_random=args.num_random, mapping=args.mapping)
            by_mapping, nan = result.get("truth_by_mapping", {}), float("nan")
            rows.append(
                {
                    "run": run.name,
                    "variant": name,
                    "seed": seed,
                    "srcc": metrics["srcc"],
                    "contribution_rho": result["truth"]["contribution_spearman"],
                    "weight_rho": result["truth"]["weight_spearman"],
                    "score_rho": result["truth"]["score_spearman"],
                    "deletion_auc": result["deletion"]["auc"],
                    "deletion_auc_random": result["deletion"]["auc_random"],
                    "insertion_auc": result["insertion"]["auc"],
                    "insertion_auc_random": result["insertion"]["auc_random"],
                    "skipping_index": result["skipping_index"]["mean"],
                    "skipping_index_ls": result["skipping_index"]["ls_mean"],
                    "contribution_rho_index_mapped": by_mapping.get("index", {}).get("contribution_spearman", nan),
                    "contribution_rho_attention_mapped": by_mapping.get("attention", {}).get(
                        "contribution_spearman", nan
                    ),
                    "mapping_attention": result["mapping"]["attention"],
                }
            )
    keys = list(rows[0])
    lines = ["| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
    for r in rows:
        lines.append("| " + " | ".join(_fmt(k, r[k]) for k in keys) + " |")
    for name in variants:
        sel = [r for r in rows if r["variant"] == name]
        means = [_fmt(k, float(np.mean([r[k] for r in sel]))) if isinstance(sel[0][k], float) else "" for k in keys]
        lines.append("| " + " | ".join([f"mean {name}", "", "", *means[3:]]) + " |")
    table = "\n".join(lines)
    stem = "summary" if args.mapping == "attention" else f"summary_{args.mapping}"
    (out / f"{stem}.md").write_text(table + "\n")
    (out / f"{stem}.json").write_text(json.dumps(rows, indent=2) + "\n")
    print(table)


if __name__ == "__main__":
    main()
