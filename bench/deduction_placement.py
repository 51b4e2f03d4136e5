"""Where a head's deductions go, against where the truth puts them (a diagnostic of issue 14).

Trains one head on one generator at the settings of ``bench/explanation_truth.py`` (same data, same
model; one seed) and, over the test videos, measures:

- ``share_on_background``: the share of the true deduction that falls on clips the head calls
  background (foreground below 0.5), which the background prior lets lose nothing;
- ``rho_deduction``: the within-video Spearman of the head's per-clip deduction with the truth (as the
  bench measures it), and ``rho_deduction_foreground``: the same over the clips it calls foreground;
- per truth ``segment`` code (what the clip shows; docs/generators.md), the share of the true and of
  the predicted deduction, the number of clips and their mean foreground.

The first says whether the prior hides deductions; the others whether the head ranks them where it
looks. Needs a head with the background prior and a sheet with a per-clip deduction (RG or Fis-V layout).

    python bench/deduction_placement.py --generator beam_heldout --head additive_learned_adaptive
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


def placement(explanations, truths) -> dict:
    """The measures of the module docstring over ``(explanation, truth)`` of the test videos."""
    true_on_bg = true_all = 0.0
    rho_all, rho_fg = [], []
    segments: dict[int, list[float]] = {}
    for expl, truth in zip(explanations, truths):
        seen = expl.window
        true, pred = truth["deduction"][seen], expl.clip_parts["deduction"][seen]
        fg = expl.clip_foreground[seen]
        true_all += true.sum()
        true_on_bg += true[fg < 0.5].sum()
        for rhos, keep in ((rho_all, np.ones_like(fg, dtype=bool)), (rho_fg, fg >= 0.5)):
            if keep.sum() > 2 and np.std(true[keep]) > 0 and np.std(pred[keep]) > 0:
                rhos.append(spearman(pred[keep], true[keep]))
        if "segment" in truth:
            for code in np.unique(truth["segment"][seen]):
                on = truth["segment"][seen] == code
                acc = segments.setdefault(int(code), [0.0, 0.0, 0, 0.0])
                acc[0] += true[on].sum()
                acc[1] += pred[on].sum()
                acc[2] += int(on.sum())
                acc[3] += float(fg[on].sum())
    true_sum = sum(a[0] for a in segments.values()) or 1.0
    pred_sum = sum(a[1] for a in segments.values()) or 1.0
    return {
        "share_on_background": float(true_on_bg / true_all) if true_all > 0 else float("nan"),
        "rho_deduction": float(np.mean(rho_all)) if rho_all else float("nan"),
        "rho_deduction_foreground": float(np.mean(rho_fg)) if rho_fg else float("nan"),
        "segments": {code: {"true_share": round(a[0] / true_sum, 3), "pred_share": round(a[1] / pred_sum, 3),
                            "clips": a[2], "mean_foreground": round(a[3] / a[2], 2)}
                     for code, a in sorted(segments.items())},
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--generator", required=True, choices=list(GENERATORS))
    p.add_argument("--head", default="additive_learned_adaptive", choices=list(bench.HEADS))
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--epochs", type=int, default=100)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--out", help="also write the measures here (JSON)")
    args = p.parse_args()
    options = bench.HEADS[args.head]
    if "model.head=additive" not in options or "model.local_background=false" in options:
        sys.exit(f"{args.head}: needs an additive head with the background prior")
    layout = GENERATORS[args.generator].layout
    if layout == "generic":
        sys.exit(f"{args.generator}: the generic layout has no per-clip deduction part (one total per routine)")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        data, max_clips = bench.default_data(args.generator, work / "data")
        row = bench.run_one(args.generator, data, args.head, args.seed, args.epochs, max_clips, work,
                            [f"train.num_threads={args.threads}"], 256)
        run = work / f"{args.generator}_{args.head}_{args.seed}"
        cfg, model, _ = load_run_for_inference(run)
        samples, root = load_split_samples(cfg, run, None, "test")
        explanations = explain_samples(model, cfg, samples)
        truths = [read_truth(root / "truth" / f"{e.name}.npz", extra=("segment",)) for e in explanations]
    result = {"generator": args.generator, "head": args.head, "seed": args.seed,
              "bench_row": {k: round(v, 3) for k, v in row.items() if isinstance(v, float)},
              **placement(explanations, truths)}
    print(f"{args.generator}, {args.head}, seed {args.seed}: SRCC {row['srcc_total']:.3f}, "
          f"per-clip rho {row.get('rho_contribution', float('nan')):.3f}")
    print(f"share of the true deduction on clips the head calls background: {result['share_on_background']:.3f}")
    print(f"rho of deduction: all clips {result['rho_deduction']:.3f}, "
          f"foreground clips {result['rho_deduction_foreground']:.3f}")
    if result["segments"]:
        print("| segment | true share | predicted share | clips | mean foreground |\n|---|---|---|---|---|")
        for code, s in result["segments"].items():
            print(f"| {code} | {s['true_share']:.3f} | {s['pred_share']:.3f} | {s['clips']} | "
                  f"{s['mean_foreground']:.2f} |")
    if args.out:
        Path(args.out).write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
