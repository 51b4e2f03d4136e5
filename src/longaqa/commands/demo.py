"""``longaqa demo``: generate judged routines, train the paper's model and the single-score baseline,
evaluate both, print both SRCCs and where the outputs are."""

from __future__ import annotations

import json
from pathlib import Path

DEFAULT_CONFIG = Path(__file__).resolve().parents[3] / "configs" / "demo.yaml"

BASELINE_OVERRIDES = ["model.head=single_score"]
"""The baseline differs from the paper's model only by its head (mean over clips + MLP)."""


def register(sub) -> None:
    p = sub.add_parser("demo", help="train and evaluate on generated judged routines (a few minutes on CPU)")
    p.add_argument("--out", default="demo_out", help="output folder (default: demo_out)")
    p.add_argument("--config", default=str(DEFAULT_CONFIG), help="demo config (default: configs/demo.yaml)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    p.add_argument("--force", action="store_true", help="replace an existing demo output folder")
    p.set_defaults(func=run)


def run(args) -> int:
    import shutil
    import time

    from longaqa.config import load_config
    from longaqa.data.synthetic import RoutineSpec, write_routines
    from longaqa.errors import LongAQAError
    from longaqa.training import fit

    out = Path(args.out)
    if out.exists() and any(out.iterdir()):
        if not args.force:
            raise LongAQAError(f"{out}: already exists; pass --force to replace it or choose another --out")
        shutil.rmtree(out)
    cfg = load_config(args.config, args.overrides)
    start = time.perf_counter()
    data_dir = out / "routines"
    spec = RoutineSpec(feature_dim=cfg.model.input_dim, seed=cfg.train.seed, **DEMO_ROUTINES)
    write_routines(data_dir, spec)
    print(f"generated {spec.num_train} + {spec.num_test} routines in {data_dir}")

    results = {}
    for name, extra in (("paper", []), ("baseline", BASELINE_OVERRIDES)):
        run_cfg = load_config(args.config, [*args.overrides, *extra, f"data.root={data_dir.resolve()}"])
        print(f"training {name} model ({run_cfg.model.head} head, {run_cfg.train.epochs} epochs) ...")
        results[name] = fit(run_cfg, out / name)
    elapsed = time.perf_counter() - start
    summary = {
        "paper_srcc": results["paper"]["srcc"],
        "baseline_srcc": results["baseline"]["srcc"],
        "paper_rl2_x100": results["paper"]["rl2_x100"],
        "baseline_rl2_x100": results["baseline"]["rl2_x100"],
        "selection": results["paper"]["selection"],
        "seconds": round(elapsed, 1),
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(f"test SRCC  paper model (weight-score head): {summary['paper_srcc']:.3f}")
    print(f"test SRCC  single-score baseline:           {summary['baseline_srcc']:.3f}")
    print(f"(selection: {summary['selection']}; {elapsed:.0f} s)")
    print(f"outputs: {out}/paper and {out}/baseline (run folders), {data_dir} (routines), {out}/summary.json")
    return 0


DEMO_ROUTINES = dict(num_train=200, num_test=50, min_clips=40, max_clips=52)
"""Routine lengths of the demo (shorter than RG's 68-77 clips so that it runs in minutes)."""
