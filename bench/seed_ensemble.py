"""Do the seeds of one head err alike? Explanations averaged over seeds against the seeds alone (issue 14).

Trains one head on one generator with each seed, at the settings of ``bench/explanation_truth.py``
(same data, same model), and measures on the test videos, for every seed alone and for the ensemble
(the seeds' predictions and per-clip contributions averaged; an average of additive explanations is
additive, and hiding a clip moves the ensemble by the average of what it moves each seed):

- ``srcc``: Spearman of the predicted total with the true one, over the test videos;
- ``rho``: within-video Spearman of the per-clip contribution with the truth's, mean over videos;
- ``faith``: within-video Pearson of the contribution with the effect of hiding the clip, mean over videos.

Where the ensemble's per-clip rho is well above the seeds' mean, the seeds' errors are noise that
averaging removes; where it is not, they share one bias that more seeds cannot fix.

    python bench/seed_ensemble.py --generator rg_linking --head additive_learned_aux
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
from longaqa.interpret.perturbation import leave_one_out_effects  # noqa: E402
from longaqa.interpret.run import explain_samples, load_run_for_inference, load_split_samples  # noqa: E402
from longaqa.metrics import spearman  # noqa: E402
from longaqa.training import fit  # noqa: E402


def member(cfg, run: Path, data: Path) -> tuple[list, list[np.ndarray], Path]:
    """Train one seed; its test explanations, each video's hiding effects, and the data root."""
    fit(cfg, run, data_root=data, quiet=True)
    cfg, model, _ = load_run_for_inference(run)
    samples, root = load_split_samples(cfg, run, None, "test")
    explanations = explain_samples(model, cfg, samples)
    effects = [leave_one_out_effects(model, s.features.numpy()[e.window], cfg.data.score_divisor)
               for s, e in zip(samples, explanations)]
    return explanations, effects, root


def measure(members: list[tuple[list, list[np.ndarray]]], truths: list[dict]) -> dict:
    """The three measures of the members' average (one member: that seed alone)."""
    first = members[0][0]
    preds = np.mean([[e.pred for e in expl] for expl, _ in members], axis=0)
    rhos, faith = [], []
    for v, truth in enumerate(truths):
        seen = first[v].window
        contribution = np.mean([expl[v].clip_contribution[seen] for expl, _ in members], axis=0)
        effect = np.mean([effects[v] for _, effects in members], axis=0)
        rhos.append(spearman(contribution, truth["contribution"][seen]))
        if np.std(contribution) > 0 and np.std(effect) > 0:
            faith.append(float(np.corrcoef(contribution, effect)[0, 1]))
    return {"srcc": spearman(preds, np.array([e.true for e in first])), "rho": float(np.nanmean(rhos)),
            "faith": float(np.mean(faith)) if faith else float("nan")}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--generator", required=True, choices=list(GENERATORS))
    p.add_argument("--head", default="additive_learned_aux", choices=list(bench.HEADS))
    p.add_argument("--seeds", type=int, default=5)
    p.add_argument("--epochs", type=int, default=100)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--out", help="also write the measures here (JSON)")
    args = p.parse_args()
    if args.seeds < 2:
        sys.exit("--seeds: an ensemble needs at least 2")
    members = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        data, max_clips = bench.default_data(args.generator, work / "data")
        for seed in range(args.seeds):
            cfg = bench.bench_config(args.generator, args.head, seed, args.epochs, max_clips,
                                     [f"train.num_threads={args.threads}"], 256)
            explanations, effects, root = member(cfg, work / f"seed{seed}", data)
            members.append((explanations, effects))
        truths = [read_truth(root / "truth" / f"{e.name}.npz") for e in members[0][0]]
    single = [measure([m], truths) for m in members]
    result = {"generator": args.generator, "head": args.head, "seeds": args.seeds, "single": single,
              "single_mean": {k: float(np.mean([s[k] for s in single])) for k in single[0]},
              "ensemble": measure(members, truths)}
    for name in ("single_mean", "ensemble"):
        print(f"{args.generator}, {args.head}, {name}: " + ", ".join(f"{k} {v:.3f}" for k, v in result[name].items()))
    if args.out:
        Path(args.out).write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
