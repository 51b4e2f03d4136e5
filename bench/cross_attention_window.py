"""Does a local cross-attention window keep the clip scores from collapsing? Demo model, several seeds.

    python bench/cross_attention_window.py --data-root demo_out/routines --out OUT [--windows 0 2 5] [--seeds 0 1 2]

Trains ``configs/demo.yaml`` on the demo's routines (``make demo`` writes them to demo_out/routines)
with ``model.cross_attention_window`` = each of ``--windows`` (0 is the paper: global attention) and
each seed, then runs ``longaqa interpretability`` on the test split. Prints, per run, the test SRCC,
the per-clip agreement with the truth (Spearman's rho of contributions, weights, scores, and scores
on the elements alone, without transitions), the
median relative variation of clip scores and weights, and the deletion/insertion gaps with clips
ranked by contribution and by centred contribution (weight * (score - pred)); then the means per
window. Finished runs in OUT are reused.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

CONFIG = Path(__file__).resolve().parents[1] / "configs" / "demo.yaml"
COLUMNS = ("srcc", "contribution", "weight", "score", "score_elements", "score_var", "weight_var", "deletion_gap",
           "insertion_gap", "deletion_gap_centred", "insertion_gap_centred")


def longaqa(*args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "longaqa", *args], capture_output=True, text=True)
    if done.returncode:
        sys.exit(f"longaqa {' '.join(args)} failed:\n{done.stderr[-2000:]}")
    return done.stdout


def measure(data_root: str, run: Path, window: int, seed: int, num_random: int) -> dict[str, float]:
    if not (run / "metrics.json").is_file():
        longaqa("train", "--config", str(CONFIG), "--data-root", data_root, "--out", str(run),
                "--set", f"model.cross_attention_window={window}", "--set", f"train.seed={seed}",
                "--set", "train.progress=false", "--set", "train.tensorboard=false")
    srcc = json.loads((run / "metrics.json").read_text())["srcc"]
    interp = json.loads(longaqa("interpretability", str(run), "--data-root", data_root,
                                "--num-random", str(num_random)))
    truth, variation = interp["truth"], interp["variation"]
    return {
        "srcc": srcc,
        "contribution": truth["contribution_spearman"],
        "weight": truth["weight_spearman"],
        "score": truth["score_spearman"],
        "score_elements": truth["score_elements_spearman"],
        "score_var": variation["score_median"],
        "weight_var": variation["weight_median"],
        "deletion_gap": interp["deletion"]["gap"],
        "insertion_gap": interp["insertion"]["gap"],
        "deletion_gap_centred": interp["deletion_centred"]["gap"],
        "insertion_gap_centred": interp["insertion_centred"]["gap"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-root", required=True, help="the demo's routines (demo_out/routines)")
    parser.add_argument("--out", required=True)
    parser.add_argument("--windows", type=int, nargs="+", default=[0, 2, 5])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--num-random", type=int, default=2, help="random orders per video (deletion/insertion)")
    args = parser.parse_args()
    out = Path(args.out)
    results: dict[int, list[dict[str, float]]] = {}
    print("| window | seed | " + " | ".join(COLUMNS) + " |")
    print("|---" * (len(COLUMNS) + 2) + "|")
    for window in args.windows:
        for seed in args.seeds:
            row = measure(args.data_root, out / f"window{window}_seed{seed}", window, seed, args.num_random)
            results.setdefault(window, []).append(row)
            print(f"| {window} | {seed} | " + " | ".join(f"{row[c]:.4f}" for c in COLUMNS) + " |", flush=True)
    for window, rows in results.items():
        print(f"| {window} | mean | " + " | ".join(f"{statistics.mean(r[c] for r in rows):.4f}" for c in COLUMNS)
              + " |")


if __name__ == "__main__":
    main()
