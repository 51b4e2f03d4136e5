"""Grouped vs lone runs with dropout on: the distribution of test results over seeds, and wall time.

    python bench/group_vs_lone.py [--seeds 5] [--epochs 40] [--set KEY=VALUE ...] [--out DIR] [--json F]

The demo's routines and model (configs/demo.yaml, dropout 0.3 there), trained at seeds 0..N-1 twice:
one lone run after another (``longaqa.training.fit``, the CPU fast paths on) and as one group
(``longaqa.group``). With dropout on the two are different draws (the group draws its masks from one
generator), so the comparison is of distributions: mean ± std of the test SRCC and MSE each way, and
Welch's t-test of the SRCCs (scipy). Both ways also print their wall time (the same machine, one
after the other).
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path

from scipy import stats

from longaqa.commands.demo import DEFAULT_CONFIG, DEMO_ROUTINES
from longaqa.config import load_config
from longaqa.data.synthetic import RoutineSpec, write_routines
from longaqa.group.seeds import fit_seeds
from longaqa.group.train import mean_std
from longaqa.training import fit


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seeds", type=int, default=5)
    p.add_argument("--epochs", type=int, default=40)
    p.add_argument("--set", dest="overrides", action="append", default=[])
    p.add_argument("--out", help="keep the runs here (default: a temporary folder, removed)")
    p.add_argument("--json")
    args = p.parse_args()
    out = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="group_vs_lone_"))
    data = out / "routines"
    base = load_config(DEFAULT_CONFIG, [f"train.epochs={args.epochs}", "train.progress=false",
                                        "train.tensorboard=false", *args.overrides])
    if not data.is_dir():
        write_routines(data, RoutineSpec(feature_dim=base.model.input_dim, seed=0, **DEMO_ROUTINES))
    cfg = load_config(DEFAULT_CONFIG, [f"train.epochs={args.epochs}", "train.progress=false",
                                       "train.tensorboard=false", f"data.root={data.resolve()}", *args.overrides])
    results = {}
    start = time.perf_counter()
    lone = []
    for k in range(args.seeds):
        c = load_config(DEFAULT_CONFIG, [f"train.epochs={args.epochs}", "train.progress=false",
                                         "train.tensorboard=false", f"data.root={data.resolve()}",
                                         f"train.seed={cfg.train.seed + k}", *args.overrides])
        lone.append(fit(c, out / "lone" / f"seed{c.train.seed}", quiet=True))
    results["lone"] = {"seconds": time.perf_counter() - start, "srcc": [m["srcc"] for m in lone],
                       "mse": [m["mse"] for m in lone]}
    start = time.perf_counter()
    summary = fit_seeds(cfg, out / "group", args.seeds, quiet=True)
    results["group"] = {"seconds": time.perf_counter() - start, "srcc": summary["srcc"]["values"],
                        "mse": summary["mse"]["values"]}
    print(f"{args.seeds} seeds, {args.epochs} epochs, demo routines and model, dropout {cfg.model.dropout}")
    for way, r in results.items():
        srcc, mse = mean_std(r["srcc"]), mean_std(r["mse"])
        print(f"{way:<6} test SRCC {srcc[0]:.3f} ± {srcc[1]:.3f}   test MSE {mse[0]:.4f} ± {mse[1]:.4f}   "
              f"{r['seconds']:.0f} s   (SRCC per seed: {', '.join(f'{v:.3f}' for v in r['srcc'])})")
    t = stats.ttest_ind(results["lone"]["srcc"], results["group"]["srcc"], equal_var=False)
    results["welch_p_srcc"] = float(t.pvalue)
    print(f"Welch's t-test of the SRCCs, lone vs group: t = {t.statistic:.2f}, p = {t.pvalue:.2f}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    if not args.out:
        shutil.rmtree(out)


if __name__ == "__main__":
    main()
