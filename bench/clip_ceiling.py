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
  ``--num-train``, the sums do not say which clip earned;
- ``sum_codebook``: sums again, through kinds of clip (a judges' code values each element by its
  kind): k-means of the training clips, each minus its video's mean (16, 32 or 64 kinds), ridge from a
  video's count of clips of each kind to its summed fields, each clip read as its kind's value;
- ``sum_runs``: as ``sum_codebook``, but a run of consecutive clips of one kind counts once (an element
  is valued once, whatever its length), each of its clips reading the value over the run's length;
- ``sum_true_elements``: sums given the true elements (the truth's ``element_type`` runs): ridge from a
  video's count of elements of each kind to its summed fields, each element's value shared evenly over
  its clips. Not a reader of the features: what sums teach once the elements are known.

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
from longaqa.interpret.agreement import element_units, read_truth  # noqa: E402
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
    return [(window_inputs(s.features.numpy(), window),
             read_truth(root / "truth" / f"{s.name}.npz", extra=("element_type",))) for s in samples]


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
        pred = predict(x, truth) if getattr(predict, "reads_truth", False) else predict(x)
        for i, field in enumerate(fields):
            rho = spearman(pred[:, i], truth[field])
            if np.isfinite(rho):
                rhos[field].append(rho)
    return {f: float(np.mean(v)) if v else float("nan") for f, v in rhos.items()}


def summed(pairs: list[tuple[np.ndarray, dict]], fields: list[str]) -> np.ndarray:
    """(videos, fields): each field summed over a video's clips (what the label file gives)."""
    return np.stack([[t[f].sum() for f in fields] for _, t in pairs])


def ridge(a: np.ndarray, b: np.ndarray, penalty: float | np.ndarray) -> np.ndarray:
    """argmin ||a x - b||^2 + x' diag(penalty) x (``penalty`` a number or one per column of ``a``)."""
    return np.linalg.solve(a.T @ a + np.diag(np.broadcast_to(penalty, a.shape[1])), a.T @ b)


def validation_error(predict, x: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean((predict(x) - y) ** 2 / (y.var(axis=0) + 1e-12)))


def fit_ridge(train, val, fields):
    """Ridge on standardised inputs; the penalty with the lowest validation error, refitted on all."""
    def solve(pairs, penalty):
        x, y = stack(pairs, fields)
        mean, scale = x.mean(0), x.std(0) + 1e-6
        z = np.c_[(x - mean) / scale, np.ones(len(x))]
        coef = ridge(z, y, np.r_[np.full(z.shape[1] - 1, penalty), 0.0])  # the intercept unpenalised
        return lambda q: np.c_[(q - mean) / scale, np.ones(len(q))] @ coef

    xv, yv = stack(val, fields)
    best = min(RIDGE_PENALTIES, key=lambda p: validation_error(solve(train, p), xv, yv))
    return solve(train + val, best), {"penalty": best}


def fit_sum_ridge(train, val, fields):
    """Ridge from a video's summed window inputs to its summed fields; applied to each clip's inputs."""
    def sums(pairs):
        return np.stack([x.sum(0) for x, _ in pairs]), summed(pairs, fields)

    def solve(pairs, penalty):
        x, y = sums(pairs)
        mean, scale = x.mean(0), x.std(0) + 1e-6
        coef = ridge((x - mean) / scale, y - y.mean(0), penalty)
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
        tr, te = (train, test) if not name.startswith("sum_") else (own_clip(train, window), own_clip(test, window))
        predict, chosen = READERS[name](tr[:cut], tr[cut:], fields)
        row[name] = {"rho": within_video_rho(predict, te, fields), "chosen": chosen}
    return row


def fit_sum_true_elements(train, val, fields):
    """Sums, given the true elements (the truth's ``element_type`` runs: each element's kind and
    clips): ridge from a video's count of elements of each kind to its summed fields, each element's
    value shared evenly over its clips, 0 off elements. What sums teach once the elements are known."""
    kinds = int(max(t["element_type"].max() for _, t in train + val)) + 1

    def shares(truth):
        types = truth["element_type"].astype(np.int64)
        unit = element_units(truth, slice(None))  # one per element, one per clip off elements
        return types, np.where(types >= 0, 1.0 / np.bincount(unit)[unit], 0.0)

    def counts(pairs):
        rows = []
        for _, t in pairs:
            types, share = shares(t)
            on = types >= 0
            rows.append(np.bincount(types[on], weights=share[on], minlength=kinds))
        return np.stack(rows)

    def solve(pairs, penalty):
        return ridge(counts(pairs), summed(pairs, fields), penalty)

    yv = summed(val, fields)
    cv = counts(val)
    best = min(RIDGE_PENALTIES + (0.01, 0.1), key=lambda p: float(np.mean((cv @ solve(train, p) - yv) ** 2)))
    value = solve(train + val, best)

    def predict(_x, truth):
        types, share = shares(truth)
        return np.where(types[:, None] >= 0, value[np.clip(types, 0, None)] * share[:, None], 0.0)
    predict.reads_truth = True  # the elements come from the truth, not from the features
    return predict, {"penalty": best}


def fit_sum_runs(train, val, fields):
    """As ``sum_codebook``, but a run of consecutive clips of one kind counts once (an element is valued
    once, whatever its length), and each clip of a run reads its kind's value over the run's length."""
    return fit_sum_codebook(train, val, fields, by_runs=True)


def fit_sum_codebook(train, val, fields, sizes=(16, 32, 64), seed: int = 0, by_runs: bool = False):
    """Sums again, through kinds of clip: k-means of the training clips (each clip alone), then ridge
    from a video's count of clips of each kind to its summed fields; a clip is read as its kind's value.
    The number of kinds and the penalty chosen on the validation videos."""
    from scipy.cluster.vq import kmeans2

    # each clip minus its video's mean: what shifts a whole routine (the athlete's style) is not a kind
    clips = np.concatenate([x - x.mean(0) for x, _ in train])
    mean, scale = clips.mean(0), clips.std(0) + 1e-6

    def kinds(centres, x):
        z = (x - x.mean(0) - mean) / scale
        return np.argmin(((z[:, None, :] - centres[None]) ** 2).sum(-1), axis=1)

    def weights(centres, x):
        """(T,) each clip's share of one count: 1, or 1 / the length of its run of one kind."""
        kind = kinds(centres, x)
        if not by_runs:
            return kind, np.ones(len(kind))
        run = np.cumsum(np.r_[True, kind[1:] != kind[:-1]])
        return kind, 1.0 / np.bincount(run)[run]

    def counts(centres, pairs):
        return np.stack([np.bincount(*weights(centres, x), minlength=len(centres)) for x, _ in pairs])

    def solve(centres, pairs, penalty):
        value = ridge(counts(centres, pairs), summed(pairs, fields), penalty)

        def predict(q):
            kind, share = weights(centres, q)
            return value[kind] * share[:, None]
        return predict

    yv = summed(val, fields)
    best, best_err = None, np.inf
    for k in sizes:
        centres, _ = kmeans2((clips - mean) / scale, k, seed=seed, minit="++")
        for penalty in RIDGE_PENALTIES:
            predict = solve(centres, train, penalty)
            err = float(np.mean((np.stack([predict(x).sum(0) for x, _ in val]) - yv) ** 2 / (yv.var(0) + 1e-12)))
            if err < best_err:
                best, best_err = (centres, penalty, k), err
    centres, penalty, k = best
    return solve(centres, train + val, penalty), {"kinds": k, "penalty": penalty}


READERS = {"ridge": fit_ridge, "mlp": fit_mlp, "sum_ridge": fit_sum_ridge, "sum_codebook": fit_sum_codebook,
           "sum_runs": fit_sum_runs, "sum_true_elements": fit_sum_true_elements}


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
