"""Is a head's per-clip difficulty a function of the element's kind, as a code of points makes it?
(a diagnostic of issue 14)

Trains one head on one generator at the settings of ``bench/explanation_truth.py`` (same data, same
model; one seed) and, over the clips of the test videos that the truth places on elements (its
``element_type`` >= 0), measures for one part (``--part``, default ``difficulty``):

- ``rho``: the within-video Spearman of the head's part with the truth's (as the bench measures it);
- ``rho_kind_means``: across the kinds of element seen in the test videos, the Spearman of the head's
  mean per-clip part with the truth's: does the head value the kinds in the right order?
- ``within_kind_share``: the share of the variance of the head's part over element clips that lies
  within kinds (0: a function of the kind alone; 1: the kind explains none of it), beside the same
  share for the truth;
- ``rho_kind_smoothed``: the within-video Spearman once each element clip's part is replaced by its
  kind's mean over the test videos (other clips kept). If it is far above ``rho``, the head's values
  per kind are right and its per-clip noise is what loses the ranking; if not, the values per kind
  are wrong;
- ``share_off_elements``: the share of the head's part on clips off elements, against the truth's;
- ``rho_off_zeroed``: the within-video Spearman once the head's part is set to 0 on every clip off
  elements (element clips kept): what knowing which clips are elements alone would give;
- ``foreground_auc``: with the background prior, how well the head's foreground tells element clips
  from the others (ROC AUC over the clips of each test video, mean over videos; 0.5 is chance, below
  0.5 the prior is upside down).

    python bench/kind_consistency.py --generator floor_heldout --head additive_learned_centre_hide
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import explanation_truth as bench  # noqa: E402

from longaqa.data.generators import GENERATORS  # noqa: E402
from longaqa.interpret.agreement import read_truth  # noqa: E402
from longaqa.interpret.run import explain_samples, load_run_for_inference, load_split_samples  # noqa: E402
from longaqa.metrics import spearman  # noqa: E402


def within_video_rho(pairs: list[tuple[np.ndarray, np.ndarray]]) -> float:
    """Mean over videos of the Spearman of predicted with true (videos where either is constant left out)."""
    rhos = [spearman(p, t) for p, t in pairs if np.std(p) > 0 and np.std(t) > 0]
    return float(np.mean(rhos)) if rhos else float("nan")


def within_share(values: np.ndarray, kinds: np.ndarray) -> float:
    """The share of the variance of ``values`` that lies within groups of equal ``kinds``."""
    total = values.var()
    if total == 0:
        return float("nan")
    means = {k: values[kinds == k].mean() for k in np.unique(kinds)}
    return float(np.mean((values - np.array([means[k] for k in kinds])) ** 2) / total)


def foreground_auc(pairs: list[tuple[np.ndarray, np.ndarray]]) -> float:
    """Mean over videos of the ROC AUC of the foreground (first) for element clips (second, bool)."""
    from scipy.stats import mannwhitneyu

    aucs = []
    for fg, on in pairs:
        if 0 < on.sum() < len(on):
            aucs.append(mannwhitneyu(fg[on], fg[~on]).statistic / (on.sum() * (~on).sum()))
    return float(np.mean(aucs)) if aucs else float("nan")


def consistency(rows: list[tuple[np.ndarray, np.ndarray, np.ndarray]]) -> dict:
    """The measures of the module docstring over ``(head part, true part, element_type)`` per test video."""
    on = [k >= 0 for _, _, k in rows]
    pred = np.concatenate([p[m] for (p, _, _), m in zip(rows, on)])
    true = np.concatenate([t[m] for (_, t, _), m in zip(rows, on)])
    kinds = np.concatenate([k[m] for (_, _, k), m in zip(rows, on)])
    seen = np.unique(kinds)
    pred_mean = {k: pred[kinds == k].mean() for k in seen}
    true_mean = np.array([true[kinds == k].mean() for k in seen])
    smoothed = [(np.where(k >= 0, np.array([pred_mean.get(int(j), 0.0) for j in k]), p), t) for p, t, k in rows]
    pred_all = np.concatenate([p for p, _, _ in rows])
    true_all = np.concatenate([t for _, t, _ in rows])
    off = ~np.concatenate(on)
    return {
        "rho": within_video_rho([(p, t) for p, t, _ in rows]),
        "rho_kind_means": float(spearman(np.array([pred_mean[k] for k in seen]), true_mean)),
        "within_kind_share": within_share(pred, kinds),
        "within_kind_share_truth": within_share(true, kinds),
        "rho_kind_smoothed": within_video_rho(smoothed),
        "rho_off_zeroed": within_video_rho([(np.where(k >= 0, p, 0.0), t) for p, t, k in rows]),
        "share_off_elements": float(pred_all[off].sum() / max(pred_all.sum(), 1e-12)),
        "share_off_elements_truth": float(true_all[off].sum() / max(true_all.sum(), 1e-12)),
        "kinds_seen": int(len(seen)),
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--generator", required=True, choices=list(GENERATORS))
    p.add_argument("--head", default="additive_learned_centre_hide", choices=list(bench.HEADS))
    p.add_argument("--part", default="difficulty", help="the per-clip part and truth field to compare")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--epochs", type=int, default=100)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--set", nargs="*", default=[], help="config overrides after the head's")
    p.add_argument("--out", help="also write the measures here (JSON)")
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        data, max_clips = bench.default_data(args.generator, work / "data")
        row = bench.run_one(args.generator, data, args.head, args.seed, args.epochs, max_clips, work,
                            [f"train.num_threads={args.threads}", *args.set], 256)
        run = work / f"{args.generator}_{args.head}_{args.seed}"
        cfg, model, _ = load_run_for_inference(run)
        samples, root = load_split_samples(cfg, run, None, "test")
        explanations = explain_samples(model, cfg, samples)
        rows, foregrounds = [], []
        for e in explanations:
            truth = read_truth(root / "truth" / f"{e.name}.npz", extra=("element_type",))
            if args.part not in e.clip_parts or args.part not in truth or "element_type" not in truth:
                sys.exit(f"{args.generator}: the head or the truth has no per-clip {args.part!r} or element_type")
            seen = e.window
            rows.append((e.clip_parts[args.part][seen], truth[args.part][seen],
                         truth["element_type"][seen].astype(np.int64)))
            if e.clip_foreground is not None:
                foregrounds.append((e.clip_foreground[seen], rows[-1][2] >= 0))
    result = {"command": "python bench/kind_consistency.py " + " ".join(sys.argv[1:]),
              "generator": args.generator, "head": args.head, "seed": args.seed, "part": args.part,
              "set": args.set, "bench_row": {k: round(v, 3) for k, v in row.items() if isinstance(v, float)},
              **consistency(rows), "foreground_auc": foreground_auc(foregrounds)}
    print(json.dumps({k: (round(v, 3) if isinstance(v, float) else v) for k, v in result.items()
                      if k != "bench_row"}))
    if args.out:
        Path(args.out).write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
