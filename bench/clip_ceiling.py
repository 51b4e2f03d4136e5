"""How well could any window reader rank the clips, given the per-clip truth to learn from? (issue 14)

The additive head learns its per-clip parts from sums over clips (the judges' sub-scores). This
diagnostic asks the question beneath: **with the per-clip truth itself as training labels**, how well
does a reader of the same information (each clip's features and those within ``--window`` clips of it,
the RG configs' ``model.local_window``) rank a test video's clips? Where even this reader stays below the
bar's 0.5, no head trained on sums at these sizes can be expected to reach it: the features do not
carry enough of the per-clip truth, and the gap is the generator's noise, not the head's.

It is a reference, not a bound: a reader with per-clip labels and the same inputs could be beaten by
one that reads further, and a head trained on sums gets no per-clip labels at all.

Readers, each fitted on the training videos of the bench's dataset (``--num-train``, default 120, and
40 test videos at the bench's clips per video, 256-d features, data seed 0), with their one setting chosen on the
last fifth of the training videos (never on the test videos):

- ``ridge``: ridge regression on the window's features (concatenated, zero beyond the video's ends,
  plus one indicator per slot); the penalty chosen from a grid;
- ``mlp``: a two-layer network (256 wide, GELU) on the same inputs, trained with Adam on the squared
  error of the standardised fields; the epoch chosen by the validation error;
- ``sum_ridge``: no per-clip labels, as a head gets none: ridge regression of each field's **sum over
  a video's clips** (what the label file gives: D, 10 - E, the total) on the sum of its clips'
  features (each clip alone, as the head's value reads it), then read clip by clip. The simplest
  reader trained on sums; where it ranks the clips far worse than ``ridge`` and does not gain with
  ``--num-train``, the sums do not say which clip earned.

For each truth field the generator writes (``contribution``, ``difficulty``, ``deduction``, ``tes``),
prints the within-video Spearman on the test videos (mean over videos, as ``longaqa interpretability``
measures it) and writes them to ``--out`` (JSON).

    python bench/clip_ceiling.py --generators floor_heldout pbars_heldout --out /tmp/ceiling.json
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import explanation_truth as bench  # noqa: E402

from longaqa.data import load_split  # noqa: E402
from longaqa.data.generators import GENERATORS  # noqa: E402
from longaqa.interpret.agreement import read_truth  # noqa: E402
from longaqa.metrics import spearman  # noqa: E402

FIELDS = ("contribution", "difficulty", "deduction", "tes")
RIDGE_PENALTIES = (1.0, 10.0, 100.0, 1e3, 1e4, 1e5)


def window_inputs(features: np.ndarray, window: int) -> np.ndarray:
    """``(T, (2w+1) x (D+1))``: each clip's window of features, zero beyond the ends, with a 1/0 slot flag."""
    length, dim = features.shape
    padded = np.zeros((length + 2 * window, dim + 1), dtype=np.float32)
    padded[window:window + length, :dim] = features
    padded[window:window + length, dim] = 1.0
    return np.concatenate([padded[s:s + length] for s in range(2 * window + 1)], axis=1)


def videos(kind: str, root: Path, split: str, max_clips: int, window: int) -> list[tuple[np.ndarray, dict]]:
    """One split's videos as (window inputs, truth) pairs."""
    cfg = bench.bench_config(kind, "paper", 0, 1, max_clips, [], 256)
    samples = load_split(cfg.data, root, split, 256)
    return [(window_inputs(s.features.numpy(), window), read_truth(root / "truth" / f"{s.name}.npz"))
            for s in samples]


def own_clip(pairs: list[tuple[np.ndarray, dict]], window: int) -> list[tuple[np.ndarray, dict]]:
    """The pairs with only each clip's own slot of its window inputs."""
    width = pairs[0][0].shape[1] // (2 * window + 1)
    return [(x[:, window * width:(window + 1) * width], t) for x, t in pairs]


def stack(pairs: list[tuple[np.ndarray, dict]], fields: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """All clips of ``pairs`` as one input matrix and one target matrix (one column per field)."""
    return (np.concatenate([x for x, _ in pairs]),
            np.concatenate([np.stack([t[f] for f in fields], axis=1) for _, t in pairs]))


def within_video_rho(predict, pairs: list[tuple[np.ndarray, dict]], fields: list[str]) -> dict[str, float]:
    """Mean over videos of the within-video Spearman of each field (NaN videos, a constant side, left out)."""
    rhos: dict[str, list[float]] = {f: [] for f in fields}
    for x, truth in pairs:
        pred = predict(x)
        for i, field in enumerate(fields):
            rho = spearman(pred[:, i], truth[field])
            if np.isfinite(rho):
                rhos[field].append(rho)
    return {f: float(np.mean(v)) if v else float("nan") for f, v in rhos.items()}


def validation_error(predict, x: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean((predict(x) - y) ** 2 / (y.var(axis=0) + 1e-12)))


def fit_ridge(train, val, fields):
    """Ridge on standardised inputs; the penalty with the lowest validation error, refitted on all."""
    def solve(pairs, penalty):
        x, y = stack(pairs, fields)
        mean, scale = x.mean(0), x.std(0) + 1e-6
        z = np.c_[(x - mean) / scale, np.ones(len(x))]
        reg = penalty * np.eye(z.shape[1])
        reg[-1, -1] = 0.0
        coef = np.linalg.solve(z.T @ z + reg, z.T @ y)
        return lambda q: np.c_[(q - mean) / scale, np.ones(len(q))] @ coef

    xv, yv = stack(val, fields)
    best = min(RIDGE_PENALTIES, key=lambda p: validation_error(solve(train, p), xv, yv))
    return solve(train + val, best), {"penalty": best}


def fit_sum_ridge(train, val, fields):
    """Ridge from a video's summed window inputs to its summed fields; applied to each clip's inputs."""
    def sums(pairs):
        return (np.stack([x.sum(0) for x, _ in pairs]),
                np.stack([[t[f].sum() for f in fields] for _, t in pairs]))

    def solve(pairs, penalty):
        x, y = sums(pairs)
        mean, scale = x.mean(0), x.std(0) + 1e-6
        z = (x - mean) / scale
        reg = penalty * np.eye(z.shape[1])
        coef = np.linalg.solve(z.T @ z + reg, z.T @ (y - y.mean(0)))
        lengths = np.array([len(q) for q, _ in pairs], dtype=np.float64)
        # the sums' offset, shared out per clip: y.mean over videos / mean clips per video
        per_clip = (y.mean(0) - (mean / scale) @ coef) / lengths.mean()
        return lambda q: (q / scale) @ coef + per_clip

    xv, yv = sums(val)
    best = min(RIDGE_PENALTIES, key=lambda p: float(np.mean(
        (np.stack([solve(train, p)(x).sum(0) for x, _ in val]) - yv) ** 2 / (yv.var(0) + 1e-12))))
    return solve(train + val, best), {"penalty": best}


def fit_mlp(train, val, fields, epochs: int = 200, seed: int = 0):
    """A two-layer network; the epoch with the lowest validation error is kept (its weights)."""
    torch.manual_seed(seed)
    x, y = (torch.from_numpy(a).float() for a in stack(train, fields))
    xv, yv = (torch.from_numpy(a).float() for a in stack(val, fields))
    mean, scale = x.mean(0), x.std(0) + 1e-6
    ymean, yscale = y.mean(0), y.std(0) + 1e-6
    net = torch.nn.Sequential(torch.nn.Linear(x.shape[1], 256), torch.nn.GELU(), torch.nn.Dropout(0.2),
                              torch.nn.Linear(256, y.shape[1]))
    opt = torch.optim.AdamW(net.parameters(), lr=1e-3, weight_decay=1e-2)
    best, best_state, best_epoch = float("inf"), None, 0
    for epoch in range(epochs):
        net.train()
        for idx in torch.randperm(len(x)).split(256):
            opt.zero_grad()
            loss = torch.mean((net((x[idx] - mean) / scale) - (y[idx] - ymean) / yscale) ** 2)
            loss.backward()
            opt.step()
        net.eval()
        with torch.no_grad():
            err = float(torch.mean((net((xv - mean) / scale) - (yv - ymean) / yscale) ** 2))
        if err < best:
            best, best_epoch = err, epoch + 1
            best_state = {k: v.clone() for k, v in net.state_dict().items()}
    net.load_state_dict(best_state)

    def predict(q: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return (net((torch.from_numpy(q).float() - mean) / scale) * yscale + ymean).numpy()
    return predict, {"epoch": best_epoch}


def ceiling(kind: str, window: int, num_train: int, readers: list[str], work: Path) -> dict:
    layout = GENERATORS[kind].layout
    clips = bench.DEFAULT_CLIPS[layout]
    data = bench.write_generated(kind, work / kind, seed=0, num_train=num_train, num_test=40, feature_dim=256,
                                 min_clips=clips[0], max_clips=clips[1])
    max_clips = clips[1]
    train = videos(kind, data, "train", max_clips, window)
    test = videos(kind, data, "test", max_clips, window)
    fields = [f for f in FIELDS if f in test[0][1]]
    cut = int(len(train) * 0.8)
    row: dict = {"layout": layout, "held_out": GENERATORS[kind].held_out, "fields": fields}
    for name in readers:
        # the sum reader sees each clip alone: shifted windows sum to nearly the same video sum, so from
        # sums a window reader cannot tell a clip's own features from its neighbours' (the head's value,
        # likewise, reads the clip itself)
        tr, te = (train, test) if name != "sum_ridge" else (own_clip(train, window), own_clip(test, window))
        predict, chosen = READERS[name](tr[:cut], tr[cut:], fields)
        row[name] = {"rho": within_video_rho(predict, te, fields), "chosen": chosen}
    return row


READERS = {"ridge": fit_ridge, "mlp": fit_mlp, "sum_ridge": fit_sum_ridge}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--generators", nargs="+", required=True, choices=list(GENERATORS))
    p.add_argument("--window", type=int, default=4, help="clips each side a reader sees (the configs' 4)")
    p.add_argument("--num-train", type=int, default=120, help="training videos (the bench's 120)")
    p.add_argument("--readers", nargs="+", default=list(READERS), choices=list(READERS))
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--out", help="also write the figures here (JSON)")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    start, results = time.time(), {}
    with tempfile.TemporaryDirectory() as tmp:
        for kind in args.generators:
            results[kind] = row = ceiling(kind, args.window, args.num_train, args.readers, Path(tmp))
            for name in args.readers:
                print(f"{kind:18s} {name:5s} " + ", ".join(f"rho_{f} {v:.3f}" for f, v in row[name]["rho"].items())
                      + f"  ({row[name]['chosen']})", flush=True)
    if args.out:
        meta = {"command": "python bench/clip_ceiling.py " + " ".join(sys.argv[1:]),
                "seconds": round(time.time() - start, 1), "window": args.window,
                "num_train": args.num_train}
        Path(args.out).write_text(json.dumps({"meta": meta, "results": results}, indent=2) + "\n")


if __name__ == "__main__":
    main()
