"""Accuracy effect of bf16 autocast: fp32 and bf16 training of the same model on synthetic routines.

    python bench/precision.py [--seeds 0 1 2 3] [--epochs 40] [--out /tmp/precision] [--json out.json]
                              [--paper-size]

Each seed generates its own routines (public RG layout, ``longaqa.data.synthetic``) and trains the
paper's model, narrowed so that the runs take minutes on a CPU, once per precision from the same
initialisation and data order. Reported: test SRCC and relative L2 per run, and the bf16 - fp32
difference per seed, its mean and standard deviation, next to the spread between seeds (the noise the
difference is judged against). Finished runs in ``--out`` are read back, not retrained.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from longaqa.config import load_config
from longaqa.data import load_train_test
from longaqa.data.synthetic import RoutineSpec, write_routines
from longaqa.training import fit

MODEL = [  # the paper's model, narrowed: 1024 -> 128 wide, same depth, queries, dropout and heads
    "model.input_dim=128", "model.d_model=128", "model.dim_feedforward=128", "model.head_hidden=[64,32]",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3])
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--lr", type=float, default=5e-4)
    parser.add_argument("--out", default="precision_runs", help="folder for the routines and run folders")
    parser.add_argument("--paper-size", action="store_true",
                        help="the paper's model as configured by default (1024-d features and d_model) "
                             "instead of the 128-wide one; much slower")
    parser.add_argument("--set", dest="overrides", action="append", default=[], help="config override")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    out = Path(args.out)
    results: dict[str, dict[int, dict]] = {"fp32": {}, "bf16": {}}
    model, width = ([], 1024) if args.paper_size else (MODEL, 128)
    for seed in args.seeds:
        data_dir = out / f"routines_{seed}"
        if not (data_dir / "train.txt").exists():
            write_routines(data_dir, RoutineSpec(feature_dim=width, seed=seed))
        for precision in ("fp32", "bf16"):
            cfg = load_config(None, [
                *model, f"train.epochs={args.epochs}", f"train.lr={args.lr}", f"train.seed={seed}",
                f"train.precision={precision}", "train.progress=false", "train.tensorboard=false",
                "train.device=cpu", "data.score_divisor=25", f"data.root={data_dir.resolve()}",
                *args.overrides,
            ])
            run = out / f"run_{precision}_{seed}"
            if (run / "metrics.json").is_file():  # finished earlier: rerunning the script resumes
                metrics, seconds = json.loads((run / "metrics.json").read_text()), float("nan")
            else:
                data = load_train_test(cfg.data, None, cfg.model.input_dim)
                start = time.perf_counter()
                metrics = fit(cfg, run, data=data)
                seconds = time.perf_counter() - start
            results[precision][seed] = {"srcc": metrics["srcc"], "rl2": metrics["rl2"], "seconds": seconds}
            print(f"seed {seed} {precision}: SRCC {metrics['srcc']:.4f}, R-l2 {metrics['rl2']:.4f} "
                  f"({seconds:.0f} s)", flush=True)

    print()
    summary = {}
    for metric in ("srcc", "rl2"):
        diffs = [results["bf16"][s][metric] - results["fp32"][s][metric] for s in args.seeds]
        fp32 = [results["fp32"][s][metric] for s in args.seeds]
        bf16 = [results["bf16"][s][metric] for s in args.seeds]
        sd = statistics.stdev if len(args.seeds) > 1 else (lambda v: float("nan"))
        summary[metric] = {
            "fp32_mean": statistics.mean(fp32), "fp32_sd_over_seeds": sd(fp32),
            "bf16_mean": statistics.mean(bf16), "bf16_sd_over_seeds": sd(bf16),
            "diff_mean": statistics.mean(diffs), "diff_sd": sd(diffs), "diffs": diffs,
        }
        s = summary[metric]
        print(f"{metric}: fp32 {s['fp32_mean']:.4f} (sd over seeds {s['fp32_sd_over_seeds']:.4f}), "
              f"bf16 {s['bf16_mean']:.4f} (sd {s['bf16_sd_over_seeds']:.4f}); bf16 - fp32 per seed "
              f"{', '.join(f'{d:+.4f}' for d in diffs)}: mean {s['diff_mean']:+.4f}, sd {s['diff_sd']:.4f}")
    if args.json:
        Path(args.json).write_text(json.dumps({"runs": results, "summary": summary}, indent=2))


if __name__ == "__main__":
    main()
