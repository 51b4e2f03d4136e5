"""Deletion and insertion gaps of one run under four clip rankings: contribution, centred contribution,
weight and score.

    python bench/deletion_rankings.py RUN_DIR [RUN_DIR ...] --data-root DIR [--num-random 3] [--split test]

Which ranking do deletion and insertion curves reward for a weight-score model? Its prediction is a
weighted average of clip scores, so removing a clip moves it by ``-w (s - pred) / (1 - w)``: the
centred contribution ``w (s - pred)`` should do best, and the weight alone (difficulty, whatever the
execution) need not beat random orders. Uses ``longaqa.interpret.perturbation`` as ``longaqa
interpretability`` does (same masking, same seeded random orders for every ranking).
"""

from __future__ import annotations

import argparse

from longaqa.interpret.perturbation import ranked_perturbation_curves
from longaqa.interpret.run import explain_samples, load_run_for_inference, load_split_samples

RANKINGS = {
    "contribution w*s": lambda e: e.clip_contribution,
    "centred w*(s-pred)": lambda e: e.clip_centred_contribution,
    "weight w": lambda e: e.clip_weight,
    "score s": lambda e: e.clip_score,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", metavar="RUN_DIR")
    parser.add_argument("--data-root", required=True)
    parser.add_argument("--split", default="test")
    parser.add_argument("--num-random", type=int, default=3)
    args = parser.parse_args()
    for run in args.runs:
        cfg, model, _ = load_run_for_inference(run)
        samples, _ = load_split_samples(cfg, run, args.data_root, args.split)
        explanations = explain_samples(model, cfg, samples)
        features = [s.features.numpy()[e.window] for s, e in zip(samples, explanations)]
        rankings = {label: [rank(e)[e.window] for e in explanations] for label, rank in RANKINGS.items()}
        curves = ranked_perturbation_curves(model, features, rankings, cfg.data.score_divisor, args.num_random, 0)
        for label, c in curves.items():
            print(f"{run}  {label:20s} deletion area {c['deletion']['auc']:.3f} (random "
                  f"{c['deletion']['auc_random']:.3f}) gap {c['deletion']['gap']:+.3f}; insertion gap "
                  f"{c['insertion']['gap']:+.3f}", flush=True)


if __name__ == "__main__":
    main()
