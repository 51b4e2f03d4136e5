"""Deletion and insertion curves: does removing the clips an explanation ranks first move the score?

Letters: W clips the model saw, K steps.

For one video, clips are ordered by predicted contribution (largest first) and, as a control, in
random orders. *Deletion*: hide the first ``k`` clips of the order (``k`` from 0 to W-1); *insertion*:
show only the first ``k`` clips (``k`` from 1 to W). Hiding is masking: the hidden clips are removed from
the cross-attention keys (``QueryAQA.forward(clip_mask=...)``), the queries stay, so no feature value
is invented. At least one clip is always visible, since attention over nothing is undefined.

Each curve is the predicted score (raw scale) against the fraction of clips hidden (deletion) or
shown (insertion), taken on a fixed grid of 20 fractions so videos of different lengths can be averaged.
Its area is the trapezoid area over that grid divided by the grid's span: the curve's mean height, in
score units. A faithful explanation gives a *lower* deletion area and a *higher* insertion area than
random orders; ``gap`` is the difference in that favourable direction (positive is better).
"""

from __future__ import annotations

import numpy as np
import torch

DELETION_GRID = np.linspace(0.0, 0.95, 20)
"""Fractions of clips hidden at which deletion curves are compared."""
INSERTION_GRID = np.linspace(0.05, 1.0, 20)
"""Fractions of clips shown at which insertion curves are compared."""


def curve_area(fractions: np.ndarray, values: np.ndarray) -> float:
    """Trapezoid area under ``values`` over ``fractions``, divided by the span: the mean height."""
    fractions, values = np.asarray(fractions, float), np.asarray(values, float)
    span = fractions[-1] - fractions[0]
    trapezoid = getattr(np, "trapezoid", None) or np.trapz  # numpy < 2 names it trapz
    return float(trapezoid(values, fractions) / span) if span > 0 else float(values.mean())


@torch.no_grad()
def masked_predictions(model, features: torch.Tensor, masks: torch.Tensor, batch_size: int = 64) -> np.ndarray:
    """Predictions (model scale) of one video's features (W, Din) under each mask of ``masks`` (K, W)."""
    model.eval()
    width = features.shape[0]
    preds = []
    for i in range(0, masks.shape[0], batch_size):
        m = masks[i : i + batch_size]  # (k, W)
        x = features[None].expand(m.shape[0], -1, -1)  # (k, W, Din)
        lengths = torch.full((m.shape[0],), width, dtype=torch.long)
        preds.append(model(x, lengths, clip_mask=m).pred.float().cpu())
    return torch.cat(preds).numpy().astype(np.float64)


def order_curves(model, features: torch.Tensor, order: np.ndarray, divisor: float) -> tuple[np.ndarray, np.ndarray]:
    """Deletion and insertion curves of one clip ``order`` (W,), on DELETION_GRID and INSERTION_GRID.

    At grid fraction ``f``, deletion hides ``min(round(f W), W - 1)`` clips and insertion shows
    ``max(round(f W), 1)``.
    """
    width = features.shape[0]
    rank = np.empty(width, dtype=np.int64)
    rank[np.asarray(order)] = np.arange(width)  # position of each clip in the order
    rank_t = torch.from_numpy(rank)
    hidden = torch.from_numpy(np.minimum(np.rint(DELETION_GRID * width), width - 1).astype(np.int64))
    shown = torch.from_numpy(np.maximum(np.rint(INSERTION_GRID * width), 1).astype(np.int64))
    delete_masks = rank_t[None, :] >= hidden[:, None]  # (K, W): row k hides the first hidden[k] clips
    insert_masks = rank_t[None, :] < shown[:, None]  # (K, W): row k shows the first shown[k] clips
    preds = masked_predictions(model, features, torch.cat([delete_masks, insert_masks])) * divisor
    return preds[: len(DELETION_GRID)], preds[len(DELETION_GRID) :]


def perturbation_curves(
    model,
    videos: list[tuple[np.ndarray, np.ndarray]],
    divisor: float,
    num_random: int = 5,
    seed: int = 0,
) -> dict:
    """Mean deletion and insertion curves and areas over ``videos``.

    Each video is ``(features (W, Din) the model saw, contribution (W,) per clip)``. Returns
    ``{"deletion": {...}, "insertion": {...}, "num_random": n, "n_videos": n}`` where each part has
    ``fractions``, ``curve`` (by contribution), ``curve_random`` (mean of ``num_random`` seeded random
    orders per video), ``auc``, ``auc_random`` and ``gap``.
    """
    features = [f for f, _ in videos]
    return ranked_perturbation_curves(model, features, {"": [c for _, c in videos]}, divisor, num_random, seed)[""]


def ranked_perturbation_curves(
    model,
    features: list[np.ndarray],
    rankings: dict[str, list[np.ndarray]],
    divisor: float,
    num_random: int = 5,
    seed: int = 0,
) -> dict[str, dict]:
    """:func:`perturbation_curves` for several clip rankings of the same videos: ``rankings`` maps a
    name to one attribution (W,) per video (largest first). The random orders, the control every
    ranking is compared with, are drawn and run once; returns one result per name."""
    rng = np.random.default_rng(seed)
    xs = [torch.as_tensor(np.asarray(f, dtype=np.float32)) for f in features]
    d_rnd, i_rnd = [], []
    for x in xs:
        rd, ri = [], []
        for _ in range(num_random):
            d, i = order_curves(model, x, rng.permutation(x.shape[0]), divisor)
            rd.append(d)
            ri.append(i)
        d_rnd.append(np.mean(rd, 0))
        i_rnd.append(np.mean(ri, 0))
    results = {}
    for name, attributions in rankings.items():
        d_exp, i_exp = [], []
        for x, attribution in zip(xs, attributions):
            attribution = np.nan_to_num(np.asarray(attribution, dtype=np.float64), nan=-np.inf)
            d, i = order_curves(model, x, np.argsort(-attribution, kind="stable"), divisor)
            d_exp.append(d)
            i_exp.append(i)
        result: dict = {"n_videos": len(xs), "num_random": num_random}
        for key, grid, exp, rnd, sign in (
            ("deletion", DELETION_GRID, d_exp, d_rnd, -1.0),
            ("insertion", INSERTION_GRID, i_exp, i_rnd, 1.0),
        ):
            curve, curve_random = np.mean(exp, 0), np.mean(rnd, 0)
            auc, auc_random = curve_area(grid, curve), curve_area(grid, curve_random)
            result[key] = {
                "fractions": [round(float(f), 4) for f in grid],
                "curve": [float(v) for v in curve],
                "curve_random": [float(v) for v in curve_random],
                "auc": auc,
                "auc_random": auc_random,
                "gap": sign * (auc - auc_random),
            }
        results[name] = result
    return results


def leave_one_out_masks(width: int) -> torch.Tensor:
    """(width + 1, width) bool clip masks: row 0 hides nothing, row k + 1 hides clip k."""
    masks = torch.ones(width + 1, width, dtype=torch.bool)
    masks[1:] &= ~torch.eye(width, dtype=torch.bool)
    return masks


def leave_one_out_effects(model, features: np.ndarray, divisor: float) -> np.ndarray:
    """Per clip ``k`` of one video's features (W, Din): prediction with every clip minus prediction
    with clip ``k`` hidden (masked out as padding), raw scale: what the clip adds to the score."""
    x = torch.as_tensor(np.asarray(features, dtype=np.float32))
    preds = masked_predictions(model, x, leave_one_out_masks(x.shape[0])) * divisor
    return preds[0] - preds[1:]


def faithfulness(model, features: list[np.ndarray], attributions: dict[str, list[np.ndarray]],
                 divisor: float) -> dict[str, dict]:
    """Does hiding clip ``k`` change the prediction by about its stated contribution?

    For every video, :func:`leave_one_out_effects` and each attribution (W,) in ``attributions``
    (name -> one per video) are compared by Pearson's r over the clips; the result per name has
    ``r`` (mean over videos), ``r_fisher_z``, ``n`` (videos where r is defined), ``slope`` (median
    over videos of the least-squares slope of effect on attribution: 1 when the stated contributions
    have the right size) and ``per_video`` (each video's r, in the order given; NaN where undefined).
    Videos with a single clip are skipped.
    """
    from longaqa.metrics import fisher_z_mean

    per_name: dict[str, tuple[list[float], list[float]]] = {name: ([], []) for name in attributions}
    per_video = {name: [float("nan")] * len(features) for name in attributions}
    for i, x in enumerate(features):
        if len(x) < 2:
            continue
        effect = leave_one_out_effects(model, x, divisor)
        for name, values in attributions.items():
            a = np.nan_to_num(np.asarray(values[i], dtype=np.float64))
            if np.std(a) > 0 and np.std(effect) > 0:
                per_video[name][i] = float(np.corrcoef(a, effect)[0, 1])
                per_name[name][0].append(per_video[name][i])
                per_name[name][1].append(float(np.polyfit(a, effect, 1)[0]))
    result = {}
    for name, (rs, slopes) in per_name.items():
        result[name] = {
            "r": float(np.mean(rs)) if rs else float("nan"),
            "r_fisher_z": fisher_z_mean(rs) if rs else float("nan"),
            "slope": float(np.median(slopes)) if slopes else float("nan"),
            "n": len(rs),
            "per_video": per_video[name],
        }
    return result
