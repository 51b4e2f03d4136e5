"""Explanations against the truth: the paper's weight-score head and the additive head, side by side.

For every generator of judged routines (``longaqa.data.generators``; the held-out one reported apart),
generates one dataset, trains both heads on it with each seed, and measures on the test videos:
test SRCC of the total and of each sub-score the head predicts, the within-video Spearman of every
per-clip field with the truth (``contribution``, ``difficulty``, ``deduction``, ``tes``, ``weight``,
``quality`` as each side has them), and faithfulness (Pearson r over a video's clips between hiding
clip k and its stated contribution, mean over videos). Prints mean +- std over the seeds, writes
the raw numbers to ``--out`` (JSON) and a markdown table beside it.

Both heads get the same small model (configs/demo.yaml: d_model 128, 2 layers; one query per clip,
so the paper head sees whole videos too; the additive head's local network 64 wide) and the same
data; selection ``last`` (no test-set choice). To fit 40 trainings in a CPU session the datasets are
smaller than the releases (defaults: 120 train / 40 test videos of 28-36 clips (RG layout) or 36-48
(Fis-V layout), 256-d features); every size is an option.

    python bench/explanation_truth.py                    # 4 generators x 2 heads x 5 seeds
    python bench/explanation_truth.py --seeds 1 --epochs 5 --generators rg_additive   # a quick look
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from longaqa.config import load_config
from longaqa.data.generators import GENERATORS, write_generated
from longaqa.interpret.agreement import ELEMENT_FIELDS, read_truth, truth_agreement
from longaqa.interpret.perturbation import faithfulness
from longaqa.interpret.run import explain_samples, load_run_for_inference, load_split_samples
from longaqa.training import fit

ROOT = Path(__file__).resolve().parents[1]


def additive(*options: str) -> list[str]:
    """The additive head on the bench's model (its local network 64 wide), plus ``options``."""
    return ["model.head=additive", "model.local_hidden=64", *options]


def learned(*options: str) -> list[str]:
    """The additive head with a learned foreground (``model.background_rule=learned``), plus ``options``."""
    return additive("model.background_rule=learned", *options)


HEADS = {
    "paper": ["model.head=weight_score"],
    "additive": additive(),  # the layout's own sheet (data.subscores auto)
    "additive_compete": additive("model.local_competition=true", "model.local_background=false"),
    "additive_contrast": additive("model.local_contrast=true", "model.local_background=false"),
    "additive_confidence": additive("model.background_confidence=true"),
    "additive_deduct_anywhere": additive("model.background_deductions=false"),
    # connecting movement of several kinds: every kind that recurs over the timeline is background
    "additive_recurrent": additive("model.background_rule=recurrent"),
    # the densest rule where its background wins clearly, the recurrent rule where it does not
    "additive_adaptive": additive("model.background_rule=adaptive"),
    # clips centred on their video's mean (what shifts a whole routine drops out), with and without the prior
    "additive_centred": additive("model.local_centre=mean", "model.local_background=false"),
    "additive_centred_prior": additive("model.local_centre=mean"),
    "additive_centred_bg": additive("model.local_centre=background"),
    # trained to be faithful: hiding one clip must move the others' summed contribution by nothing
    "additive_hide": additive("loss.lambda_hide=1"),
    "additive_centred_hide": additive("model.local_centre=background", "loss.lambda_hide=1"),
    "additive_centred_both": additive("model.local_centre=both"),
    # a learned foreground (the shipped configs: learned_adaptive) and its measured options
    "additive_learned": learned(),
    "additive_both_learned": learned("model.local_centre=both"),
    "additive_bg_learned": learned("model.local_centre=background"),
    "additive_learned_dz": learned("model.learned_foreground_dead_zone=0.2"),
    "additive_learned_adaptive": learned("model.learned_teacher=adaptive"),
    "additive_learned_recurrent": learned("model.learned_teacher=recurrent"),
    "additive_learned_recurrent_agree": learned("model.learned_teacher=recurrent", "model.learned_teacher_forcing=true",
                                                "model.learned_teacher_forcing_clips=agree"),
    "additive_learned_adaptive_dz": learned("model.learned_teacher=adaptive", "model.learned_foreground_dead_zone=0.2"),
    "additive_learned_forced": learned("model.learned_teacher=adaptive", "model.learned_teacher_forcing=true"),
    # forcing that fades to none over the first half of training; forcing only where teacher and network
    # agree, or only where both call the clip foreground
    "additive_learned_forced_fade": learned("model.learned_teacher=adaptive", "model.learned_teacher_forcing=true",
                                            "model.learned_teacher_forcing_until=0.5"),
    "additive_learned_forced_agree": learned("model.learned_teacher=adaptive", "model.learned_teacher_forcing=true",
                                             "model.learned_teacher_forcing_clips=agree"),
    "additive_learned_forced_fg": learned("model.learned_teacher=adaptive", "model.learned_teacher_forcing=true",
                                          "model.learned_teacher_forcing_clips=foreground"),
    # the RG configs' head with deductions on any clip (an E panel deducts in the connecting movement too)
    "additive_learned_deduct_anywhere": learned("model.learned_teacher=adaptive", "model.background_deductions=false"),
    # the RG configs' head on the rg_artistic sheet: E's faults of the whole routine in a video-level term
    "additive_learned_artistic": learned("model.learned_teacher=adaptive", "data.subscores=rg_artistic"),
    "additive_learned_artistic_bg": learned("model.learned_teacher=adaptive", "data.subscores=rg_artistic",
                                            "model.video_terms_from=background"),
    # the RG configs' head with an auxiliary total from the decoded queries (training only)
    "additive_learned_aux": learned("model.learned_teacher=adaptive", "loss.lambda_aux_total=1"),
    # ... and each clip read both as given and centred on its video's background (model.local_centre=both)
    "additive_learned_aux_both": learned("model.learned_teacher=adaptive", "loss.lambda_aux_total=1",
                                         "model.local_centre=both"),
    # the RG configs' head without the auxiliary total
    "additive_learned_centre": learned("model.learned_teacher=adaptive", "model.local_centre=both"),
    # ... trained against the leak of hiding one clip into the others' parts (loss.lambda_hide)
    "additive_learned_centre_hide": learned("model.learned_teacher=adaptive", "model.local_centre=both",
                                            "loss.lambda_hide=100"),
    # ... trained to carry its credit on few clips (loss.lambda_concentrate): judges credit elements only
    "additive_learned_centre_hide_conc": learned("model.learned_teacher=adaptive", "model.local_centre=both",
                                                 "loss.lambda_hide=100", "loss.lambda_concentrate=0.01"),
    "additive_learned_centre_hide_conc3": learned("model.learned_teacher=adaptive", "model.local_centre=both",
                                                  "loss.lambda_hide=100", "loss.lambda_concentrate=0.003"),
    # ... the same over stretches of 5 clips (loss.concentrate_window): few elements, however each splits
    "additive_learned_centre_hide_conc_w2": learned("model.learned_teacher=adaptive", "model.local_centre=both",
                                                    "loss.lambda_hide=100", "loss.lambda_concentrate=0.03",
                                                    "loss.concentrate_window=2"),
    "additive_learned_centre_hide_conc_w2_lo": learned("model.learned_teacher=adaptive", "model.local_centre=both",
                                                       "loss.lambda_hide=100", "loss.lambda_concentrate=0.01",
                                                       "loss.concentrate_window=2"),
    # ... its foreground fitted to how few training routines hold a clip like it (model.learned_teacher)
    "additive_learned_ubiquity": learned("model.learned_teacher=ubiquity", "model.local_centre=both",
                                         "loss.lambda_hide=100"),
    # ... its foreground fitted to where both the adaptive and the ubiquity rule see foreground
    "additive_learned_consensus": learned("model.learned_teacher=consensus", "model.local_centre=both",
                                          "loss.lambda_hide=100"),
    # ... with the centre a weighted median, which hiding one clip barely moves (model.local_centre_statistic)
    "additive_learned_aux_median": learned("model.learned_teacher=adaptive", "loss.lambda_aux_total=1",
                                           "model.local_centre=both", "model.local_centre_statistic=median"),
    "additive_window": additive("model.local_background=false"),
    "additive_total": additive("data.subscores=none"),  # total only
    # one total with a holistic mark: per-clip contributions plus a video-level impression term
    "additive_holistic": additive("data.subscores=holistic"),
}
LAYOUT = {  # the data section each release layout trains with
    "rg": ["data.layout=rg", "data.class_name=Ball", "data.score_divisor=25", "data.target=total"],
    "fisv": ["data.layout=fisv", "data.class_name=", "data.score_divisor=43", "data.target=total"],
    # one total per routine (LOGO-like): the additive head's holistic sheet (data.subscores auto), one part
    # per clip plus a video-level impression term; additive_total: the single sheet, one part per clip
    "generic": ["data.layout=generic", "data.class_name=", "data.features_dir=features", "data.score_divisor=100"],
}


DEFAULT_CLIPS = {"fisv": (36, 48), "rg": (28, 36), "generic": (28, 36)}
"""Clips per video at the bench's default sizes, per layout (``--fisv-clips``, ``--rg-clips``)."""


def default_data(kind: str, root: Path) -> tuple[Path, int]:
    """Generator ``kind``'s dataset at the bench's default sizes (120 train / 40 test videos, 256-d
    features, data seed 0) written under ``root``, and its most clips per video: what the one-generator
    diagnostics (bench/deduction_placement.py, bench/seed_ensemble.py) train on."""
    clips = DEFAULT_CLIPS[GENERATORS[kind].layout]
    data = write_generated(kind, root, seed=0, num_train=120, num_test=40, feature_dim=256,
                           min_clips=clips[0], max_clips=clips[1])
    return data, clips[1]


def bench_config(kind: str, head: str, seed: int, epochs: int, max_clips: int, extra: list[str],
                 feature_dim: int):
    """The config one bench run of ``head`` on generator ``kind`` trains with (configs/demo.yaml, the
    kind's layout, scale and sheet, the head's options, then ``extra``)."""
    info = GENERATORS[kind]
    divisor = [f"data.score_divisor={info.score_divisor}"] if info.score_divisor else []  # the kind's scale
    if info.subscores and head.startswith("additive"):  # the kind's sheet, unless the head names one
        divisor.append(f"data.subscores={info.subscores}")
    overrides = [*LAYOUT[info.layout], *divisor, *HEADS[head], f"model.num_queries={max_clips}",
                 f"train.seed={seed}", f"train.epochs={epochs}", "train.tensorboard=false",
                 "train.progress=false", f"train.eval_every={epochs}", "train.checkpoint_seconds=0", *extra]
    return load_config(ROOT / "configs" / "demo.yaml", [f"model.input_dim={feature_dim}", *overrides])


def run_one(kind: str, data: Path, head: str, seed: int, epochs: int, max_clips: int, work: Path,
            extra: list[str], feature_dim: int) -> dict:
    cfg = bench_config(kind, head, seed, epochs, max_clips, extra, feature_dim)
    run = work / f"{kind}_{head}_{seed}"
    metrics = fit(cfg, run, data_root=data, quiet=True)
    # what `longaqa interpretability` measures on the test split, without its deletion curves
    cfg, model, _ = load_run_for_inference(run)
    samples, root = load_split_samples(cfg, run, None, "test")
    explanations = explain_samples(model, cfg, samples)
    truth = truth_agreement([(e, read_truth(root / "truth" / f"{e.name}.npz", extra=ELEMENT_FIELDS))
                             for e in explanations])
    features = [s.features.numpy()[e.window] for s, e in zip(samples, explanations)]
    faithful = faithfulness(model, features, {"c": [e.clip_contribution[e.window] for e in explanations]},
                            cfg.data.score_divisor)["c"]
    margins = background_margins(model, features)
    row = {"srcc_total": metrics["srcc"]}
    for name, m in (metrics.get("subscores") or {}).items():
        row[f"srcc_{name}"] = m["srcc"]
    for field in truth["fields"]:
        row[f"rho_{field}"] = truth[f"{field}_spearman"]
    row["faithfulness"] = faithful["r"]
    row["faithfulness_slope"] = faithful["slope"]
    if margins is not None:  # per test video: the background's margin and the explanation's faithfulness
        row["videos"] = [[m, r] for m, r in zip(margins, faithful["per_video"])]
    shares = [element_share(e, read_truth(root / "truth" / f"{e.name}.npz", extra=("element_type",)))
              for e in explanations]
    shares = [v for v in shares if v is not None]
    if shares:  # where the head puts its credit: on the elements, as judges do, or on the transitions
        row["credit_on_elements"] = float(np.mean(shares))
        row["truth_clips_elements"] = float(np.mean([f for _, f in [element_fraction(root, e) for e in explanations]]))
    return row


def background_margins(model, features: list[np.ndarray]) -> list[float] | None:
    """Each video's background margin (``LocalParts.background_margin``, on the clip embeddings the
    model's rule sees), or None for a head without the background prior."""
    import torch

    local = getattr(getattr(model, "head", None), "local", None)
    if local is None or not local.background_share:
        return None
    with torch.no_grad():
        return [float(local.background_margin(model.input_proj(torch.as_tensor(x, dtype=torch.float32)[None]),
                                              torch.ones(1, len(x), dtype=torch.bool))[0]) for x in features]


MARGIN_BINS = (0.0, 0.15, 0.3, 1.01)
"""Background margin bins of the trust table (per-video faithfulness by how clearly the background won)."""


def margin_table(results: dict) -> str:
    """Per generator and head with the background prior: the test videos of every seed, binned by
    background margin, with their mean per-video faithfulness; and the Spearman of margin with it."""
    from scipy.stats import spearmanr

    lines = ["| generator | head | " + " | ".join(f"margin {lo:.2f}-{min(hi, 1):.2f}: videos, faithfulness"
                                                 for lo, hi in zip(MARGIN_BINS, MARGIN_BINS[1:]))
             + " | Spearman(margin, faithfulness) |", "|---|---|" + "---|" * len(MARGIN_BINS)]
    for kind, heads in results.items():
        for head, rows in heads.items():
            pairs = np.array([p for r in rows for p in r.get("videos", []) if math.isfinite(p[1])], dtype=float)
            if not len(pairs):
                continue
            cells = []
            for lo, hi in zip(MARGIN_BINS, MARGIN_BINS[1:]):
                sel = pairs[(pairs[:, 0] >= lo) & (pairs[:, 0] < hi), 1]
                cells.append(f"{len(sel)}, {sel.mean():.3f}" if len(sel) else "0, -")
            rho = spearmanr(pairs[:, 0], pairs[:, 1])[0] if len(pairs) > 2 else float("nan")
            lines.append(f"| {kind} | {head} | " + " | ".join(cells) + f" | {rho:.3f} |")
    return "\n".join(lines) if len(lines) > 2 else ""


def element_share(expl, truth: dict) -> float | None:
    """Fraction of a video's positive credit on element clips (truth ``element_type`` >= 0): the
    additive head's positive parts (difficulty, tes, contribution), the paper head's clip weights."""
    if "element_type" not in truth:
        return None
    on = truth["element_type"][expl.window] >= 0
    if expl.additive:
        part = next(k for k in ("difficulty", "tes", "contribution") if k in expl.clip_parts)
        credit = expl.clip_parts[part][expl.window]
    else:
        credit = expl.clip_weight[expl.window]
    total = float(np.sum(credit))
    return float(np.sum(credit[on]) / total) if total > 0 else None


def element_fraction(root: Path, expl) -> tuple[str, float]:
    """Fraction of a video's clips that are elements (the share a head that ignores them would give)."""
    kinds = read_truth(root / "truth" / f"{expl.name}.npz", extra=("element_type",))["element_type"]
    return expl.name, float(np.mean(kinds >= 0))


def fmt(values: list[float]) -> str:
    values = [v for v in values if v is not None and math.isfinite(v)]
    if not values:
        return "-"
    return f"{np.mean(values):.3f} ± {np.std(values, ddof=1) if len(values) > 1 else 0.0:.3f}"


def table(results: dict, seeds: int) -> str:
    lines = []
    for held_out in (False, True):
        kinds = [k for k in results if GENERATORS[k].held_out == held_out]
        if not kinds:
            continue
        lines.append(f"\n{'Held-out generator' if held_out else 'Design generators'} (mean ± std over {seeds} seeds)\n")
        for kind in kinds:
            keys = sorted({k for rows in results[kind].values() for r in rows for k, v in r.items()
                           if isinstance(v, (int, float))},
                          key=lambda k: (not k.startswith("srcc_total"), not k.startswith("srcc"), k))
            lines.append(f"{kind} ({GENERATORS[kind].layout} layout)\n")
            lines.append("| measure | " + " | ".join(results[kind]) + " |")
            lines.append("|---|" + "---|" * len(results[kind]))
            for key in keys:
                cells = [fmt([r.get(key) for r in rows]) for rows in results[kind].values()]
                lines.append(f"| {key} | " + " | ".join(cells) + " |")
            lines.append("")
    return "\n".join(lines)


def write_package_table(results: dict, meta: dict) -> None:
    """Means per generator and head of the measures a report shows (longaqa.interpret.report), and the
    seeds each head was measured with (``head_seeds``: the fewest over the generators)."""
    from longaqa.interpret.report import MEASURED_FILE

    table = {}
    for kind, heads in results.items():
        row: dict = {"held_out": GENERATORS[kind].held_out}
        for head, rows in heads.items():
            for key in ("rho_contribution", "faithfulness", "srcc_total"):
                values = [r[key] for r in rows if key in r and math.isfinite(r[key])]
                row[f"{head}_{key}"] = round(float(np.mean(values)), 3) if values else None
        table[kind] = row
    heads = sorted({head for row in results.values() for head in row})
    seeds = {h: min(len(by_head[h]) for by_head in results.values() if h in by_head) for h in heads}
    MEASURED_FILE.write_text(json.dumps({"command": meta["command"], "seeds": meta["seeds"], "head_seeds": seeds,
                                         "epochs": meta["epochs"], "heads": {h: HEADS[h] for h in heads},
                                         "generators": table}, indent=2) + "\n")
    print(f"written: {MEASURED_FILE}")


def merge_saved(saved: list[dict], join_seeds: bool = False, mixed_seeds: bool = False) -> tuple[dict, dict]:
    """The results of several ``--out`` files as one (generator -> head -> rows) and their meta: the
    commands joined by ``; ``, the seconds summed; the seeds and epochs must agree. A generator and head
    measured in several files keeps the last file's rows (a re-measured head replaces its earlier run).

    With ``join_seeds`` the files are one measurement split by seed (``--first-seed``): their seed
    ranges must not overlap, a generator and head's rows are joined in seed order, and the meta's
    ``seeds`` is the total. With ``mixed_seeds`` files of different seed counts merge (the meta's
    ``seeds`` is the most; the package table then says each head's own count)."""
    results: dict = {}
    if join_seeds:
        saved = sorted(saved, key=lambda one: one["meta"].get("first_seed", 0))
        ranges = [(one["meta"].get("first_seed", 0), one["meta"]["seeds"]) for one in saved]
        if any(start < prev + count for (prev, count), (start, _) in zip(ranges, ranges[1:])):
            sys.exit(f"the saved files' seeds overlap ({ranges}): they cannot be joined")
        for one in saved:
            for kind, heads in one["results"].items():
                for head, rows in heads.items():
                    results.setdefault(kind, {}).setdefault(head, []).extend(rows)
        keys = ("epochs",)
    else:
        for one in saved:
            for kind, heads in one["results"].items():
                results.setdefault(kind, {}).update(heads)
        keys = ("epochs",) if mixed_seeds else ("seeds", "epochs")
    for key in keys:
        if len({one["meta"][key] for one in saved}) > 1:
            sys.exit(f"the saved files differ in {key}: they are not one measurement")
    meta = {**saved[0]["meta"], "command": "; ".join(one["meta"]["command"] for one in saved),
            "seconds": round(sum(one["meta"]["seconds"] for one in saved), 1)}
    if join_seeds:
        meta["seeds"] = sum(one["meta"]["seeds"] for one in saved)
    elif mixed_seeds:
        meta["seeds"] = max(one["meta"]["seeds"] for one in saved)
    return results, meta


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--generators", nargs="*", default=list(GENERATORS))
    p.add_argument("--heads", nargs="*", default=["paper", "additive"], choices=list(HEADS),
                   help="additive_total: the additive head trained on the total alone (one part per clip)")
    p.add_argument("--seeds", type=int, default=5)
    p.add_argument("--first-seed", type=int, default=0,
                   help="train seeds FIRST_SEED .. FIRST_SEED + SEEDS - 1 (join files with --join-seeds)")
    p.add_argument("--epochs", type=int, default=100)
    p.add_argument("--num-train", type=int, default=120)
    p.add_argument("--num-test", type=int, default=40)
    p.add_argument("--feature-dim", type=int, default=256)
    p.add_argument("--rg-clips", type=int, nargs=2, default=list(DEFAULT_CLIPS["rg"]), metavar=("MIN", "MAX"),
                   help="clips per video of the RG- and generic-layout generators (the RG release: 68-77)")
    p.add_argument("--fisv-clips", type=int, nargs=2, default=list(DEFAULT_CLIPS["fisv"]), metavar=("MIN", "MAX"),
                   help="clips per video of the Fis-V-layout generators (the release: 125-175)")
    p.add_argument("--data-seed", type=int, default=0, help="seed of the generated datasets")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="config override for the additive head's runs (e.g. model.local_window=2)")
    p.add_argument("--write-package-table", action="store_true",
                   help="also write the means to src/longaqa/interpret/measured_agreement.json (shown in reports)")
    p.add_argument("--threads", type=int, default=0, help="train.num_threads for every run (0: torch's default)")
    p.add_argument("--out", default=str(ROOT / "bench" / "results" / "explanation_truth.json"))
    p.add_argument("--tabulate", nargs="+", metavar="JSON", help="print (and with --write-package-table, "
                   "store) the table of saved --out files (several: their runs merged, e.g. two halves run "
                   "side by side) instead of running")
    p.add_argument("--mixed-seeds", action="store_true", help="with --tabulate: files measured with different "
                   "seed counts merge; the package table records each head's own count")
    p.add_argument("--join-seeds", action="store_true", help="with --tabulate: the files are one "
                   "measurement split by seed (--first-seed); join each generator and head's rows")
    args = p.parse_args()
    if args.tabulate:
        results, meta = merge_saved([json.loads(Path(f).read_text()) for f in args.tabulate], args.join_seeds,
                                    args.mixed_seeds)
        print(f"`{meta['command']}` ({meta['seconds']} s)")
        print(table(results, meta["seeds"]))
        trust = margin_table(results)
        if trust:
            print("\nPer-video faithfulness by background margin (test videos of every seed)\n\n" + trust)
        if args.write_package_table:
            write_package_table(results, meta)
        return
    unknown = [k for k in args.generators if k not in GENERATORS]
    if unknown:
        sys.exit(f"unknown generator(s) {unknown}; valid: {list(GENERATORS)}")
    results: dict = {}
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for kind in args.generators:
            clips = args.fisv_clips if GENERATORS[kind].layout == "fisv" else args.rg_clips  # shorter: CPU time
            data = write_generated(kind, work / kind, seed=args.data_seed, num_train=args.num_train,
                                   num_test=args.num_test, feature_dim=args.feature_dim, min_clips=clips[0],
                                   max_clips=clips[1])
            results[kind] = {}
            for head in args.heads:
                rows = []
                for seed in range(args.first_seed, args.first_seed + args.seeds):
                    extra = (args.set if head.startswith("additive") else []) + [f"train.num_threads={args.threads}"]
                    rows.append(run_one(kind, data, head, seed, args.epochs, clips[1], work, extra,
                                        args.feature_dim))
                    print(f"{kind:16s} {head:9s} seed {seed}: " + ", ".join(
                        f"{k} {v:.3f}" for k, v in rows[-1].items() if k != "videos"), file=sys.stderr, flush=True)
                results[kind][head] = rows
    text = table(results, args.seeds)
    trust = margin_table(results)
    if trust:
        text += "\nPer-video faithfulness by background margin (test videos of every seed)\n\n" + trust + "\n"
    print(text)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    meta = {"command": " ".join(["python", "bench/explanation_truth.py", *sys.argv[1:]]),
            "seconds": round(time.perf_counter() - start, 1), "epochs": args.epochs, "seeds": args.seeds,
            "first_seed": args.first_seed}
    out.write_text(json.dumps({"meta": meta, "results": results}, indent=2) + "\n")
    out.with_suffix(".md").write_text(f"`{meta['command']}` ({meta['seconds']} s)\n{text}\n")
    if args.write_package_table:
        write_package_table(results, meta)
    print(f"\nwritten: {out} and {out.with_suffix('.md')} ({meta['seconds']} s)")


if __name__ == "__main__":
    main()
