"""``longaqa demo``: generate judged routines, train the paper's model, a variant beyond the paper and
two baselines over several seeds (on a GPU each model's seeds as one group, ``longaqa.group``), evaluate them,
print their test SRCCs (mean ± std over seeds), how much the weight-score models' clip scores vary,
and where the outputs are (``OUT/<model>/seed<k>/`` run folders and ``OUT/<model>/seeds.json``)."""

from __future__ import annotations

import json
from pathlib import Path

DEFAULT_CONFIG = Path(__file__).resolve().parents[3] / "configs" / "demo.yaml"

MODELS = {
    "paper": ("paper model (weight-score head)", []),
    "local_window": ("paper model, 5-clip cross-attention window", ["model.cross_attention_window=5"]),
    "single_score": ("decoder + single-score head", ["model.head=single_score"]),
    "mean_pool": ("mean-pooled baseline (no decoder)", ["model.head=mean_pool"]),
}
"""What the demo trains: the paper's model; the same with each query's cross-attention limited to the
clips within 5 of its own (``model.cross_attention_window``, beyond the paper: docs/interpretability.md);
the same decoder with a single-score head (mean over the decoded clips + MLP); and the conventional
baseline (mean of the clip features + MLP)."""

WEIGHT_SCORE_MODELS = ("paper", "local_window")
"""Models whose per-clip scores the demo checks for collapse (``longaqa.interpret.variation``)."""


def register(sub) -> None:
    p = sub.add_parser("demo", help="train and evaluate on generated judged routines (a few minutes on CPU)")
    p.add_argument("--out", default="demo_out", help="output folder (default: demo_out)")
    p.add_argument("--config", default=str(DEFAULT_CONFIG), help="demo config (default: configs/demo.yaml)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    p.add_argument("--force", action="store_true", help="replace an existing demo output folder")
    p.add_argument("--seeds", type=int, default=5, metavar="N",
                   help="seeds per model (default 5), as one group per model on a GPU (docs/groups.md); "
                   "results are mean ± std")
    p.set_defaults(func=run)


def run(args) -> int:
    import shutil
    import time

    from longaqa.config import load_config
    from longaqa.data.synthetic import RoutineSpec, write_routines
    from longaqa.errors import LongAQAError
    from longaqa.group import seeds
    from longaqa.group.train import mean_std
    from longaqa.numbers import plus_minus

    if args.seeds < 1:
        raise LongAQAError(f"--seeds must be >= 1, got {args.seeds}")
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise LongAQAError(f"--out {out}: exists and is not a folder; choose another --out")
    data_dir = out / "routines"
    cfg = load_config(args.config, args.overrides)
    for _, extra in MODELS.values():  # every model's config is valid before anything is removed or written
        load_config(args.config, [*args.overrides, *extra, f"data.root={data_dir.resolve()}"])
    if out.exists() and any(out.iterdir()):
        if not args.force:
            raise LongAQAError(f"{out}: already exists; pass --force to replace it or choose another --out")
        for entry in demo_entries(out):
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
    try:
        out.mkdir(parents=True, exist_ok=True)
        (out / MARKER).write_text("written by longaqa demo; longaqa demo --force may replace this folder\n")
    except OSError as exc:
        raise LongAQAError(f"--out {out}: cannot write the demo folder ({exc.strerror})") from None
    start = time.perf_counter()
    spec = RoutineSpec(feature_dim=cfg.model.input_dim, seed=cfg.train.seed, **DEMO_ROUTINES)
    write_routines(data_dir, spec)
    print(f"generated {spec.num_train} + {spec.num_test} routines in {data_dir}")

    results = {}
    for name, (label, extra) in MODELS.items():
        run_cfg = load_config(args.config, [*args.overrides, *extra, f"data.root={data_dir.resolve()}"])
        print(f"training the {label}, {args.seeds} seed(s) x {run_cfg.train.epochs} epochs ...", flush=True)
        results[name] = seeds.fit_seeds(run_cfg, out / name, args.seeds, quiet=True)
    variation = {name: [clip_score_variation(Path(run)) for run in results[name]["runs"]]
                 for name in WEIGHT_SCORE_MODELS}
    elapsed = time.perf_counter() - start
    summary: dict = {"seeds": args.seeds, "first_seed": cfg.train.seed}
    for name, r in results.items():
        for metric in ("srcc", "rl2_x100"):  # <name>_<metric>: the mean over seeds; _std: ddof 1
            summary[f"{name}_{metric}"] = r[metric]["mean"]
            summary[f"{name}_{metric}_std"] = r[metric]["std"]
            summary[f"{name}_{metric}_values"] = r[metric]["values"]
    for name, values in variation.items():
        summary[f"{name}_clip_score_variation"], summary[f"{name}_clip_score_variation_std"] = mean_std(values)
    summary.update(selection=results["paper"]["selection"], seconds=round(elapsed, 1))
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    for name, (label, _) in MODELS.items():
        print(f"test SRCC  {label:<44} {plus_minus(results[name]['srcc']['mean'], results[name]['srcc']['std'])}")
    for name in WEIGHT_SCORE_MODELS:
        mean, std = mean_std(variation[name])
        shown = plus_minus(mean * 100, std * 100, "6.2f")
        print(f"clip scores vary by {shown} % (median over test videos)  {MODELS[name][0]}")
    last = cfg.train.seed + args.seeds - 1
    shown = f"seeds {cfg.train.seed}-{last}, mean ± std" if args.seeds > 1 else f"seed {cfg.train.seed}"
    print(f"(selection: {summary['selection']}, {shown}; {elapsed:.0f} s)")
    runs = ", ".join(str(out / n) for n in MODELS)
    print(f"outputs: run folders {runs} (seed<k>/ each, seeds.json); routines {data_dir}; {out / 'summary.json'}")
    return 0


MARKER = ".longaqa-demo"
"""File the demo writes into its output folder: ``--force`` replaces only a folder that holds it."""

DEMO_NAMES = {MARKER, "routines", "summary.json", *MODELS}
"""Everything the demo writes into its output folder."""


def demo_entries(out: Path) -> list[Path]:
    """The entries of an existing demo folder, for ``--force`` to remove; a folder that a demo did not
    write (no marker, or anything the demo does not write) is refused, naming what it holds."""
    from longaqa.errors import LongAQAError

    entries = sorted(out.iterdir())
    names = {e.name for e in entries}
    foreign = sorted(names - DEMO_NAMES)
    if foreign or not names & {MARKER, "summary.json"}:  # summary.json: a demo folder from before the marker
        shown = ", ".join(repr(n[:60]) for n in foreign[:3])
        shown += f" and {len(foreign) - 3} more" if len(foreign) > 3 else ""
        held = f"it holds {shown}, which the demo does not write" if foreign else f"it has no {MARKER} marker"
        raise LongAQAError(
            f"{out}: not a folder written by longaqa demo ({held}); --force replaces only a demo's own "
            "output folder: choose another --out"
        )
    return entries


def clip_score_variation(run_dir: Path) -> float:
    """Median over the test videos of std / mean |score| of a run's per-clip scores."""
    from longaqa.interpret.run import explain_samples, load_run_for_inference, load_split_samples
    from longaqa.interpret.variation import variation_summary

    cfg, model, _ = load_run_for_inference(run_dir)
    samples, _ = load_split_samples(cfg, run_dir, None, "test")
    return variation_summary(explain_samples(model, cfg, samples))["score_median"]


DEMO_ROUTINES = dict(num_train=200, num_test=50, min_clips=40, max_clips=52)
"""Routine lengths of the demo (shorter than RG's 68-77 clips so that it runs in minutes)."""
