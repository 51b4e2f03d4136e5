"""Agreement of explanations with per-clip truth (synthetic routines: ``truth/<name>.npz``).

For every video with truth, Spearman's rho between predicted and true per-clip values over the clips
the model saw: ``contribution`` (predicted clip contribution vs true weight x quality),
``weight`` (predicted clip weight vs true difficulty) and ``score`` (predicted clip score vs true
execution quality), and ``score_elements``: ``score`` over the clips whose true weight is above the
video's lowest, i.e. without the transitions of the synthetic routines, whose score the mark barely
depends on. Each is averaged over videos as a plain mean and through Fisher's z; videos where a side
is constant (rho undefined) are left out and counted.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from longaqa.errors import LongAQAError
from longaqa.interpret.explanation import VideoExplanation
from longaqa.metrics import fisher_z_mean, spearman

TRUTH_KEYS = ("weight", "quality", "contribution")
PAIRS = {
    "contribution": ("clip_contribution", "contribution"),
    "weight": ("clip_weight", "weight"),
    "score": ("clip_score", "quality"),
}


def read_truth(path: str | Path) -> dict[str, np.ndarray]:
    """Read one ``truth/<name>.npz`` (float arrays ``weight``, ``quality``, ``contribution`` of length T)."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as npz:
            missing = [k for k in TRUTH_KEYS if k not in npz.files]
            if missing:
                raise LongAQAError(f"{path}: truth file lacks {', '.join(missing)}")
            truth = {k: np.asarray(npz[k], dtype=np.float64) for k in TRUTH_KEYS}
    except (OSError, ValueError) as exc:
        raise LongAQAError(f"{path}: not a readable truth .npz ({exc})") from None
    lengths = {len(v) for v in truth.values()}
    if len(lengths) != 1:
        raise LongAQAError(f"{path}: truth arrays have different lengths {sorted(lengths)}")
    return truth


def truth_agreement(pairs: list[tuple[VideoExplanation, dict[str, np.ndarray]]]) -> dict:
    """Per-clip agreement over ``(explanation, truth)`` pairs; see the module docstring.

    Returns ``{"n_videos": n, "<key>_spearman": mean, "<key>_spearman_fisher_z": z-mean,
    "<key>_n": videos used}`` for key in contribution, weight, score, score_elements.
    """
    rhos: dict[str, list[float]] = {k: [] for k in (*PAIRS, "score_elements")}
    for expl, truth in pairs:
        if len(truth["weight"]) != expl.num_clips:
            raise LongAQAError(f"{expl.name}: truth has {len(truth['weight'])} clips, the features {expl.num_clips}")
        seen = expl.window
        for key, (pred_attr, true_key) in PAIRS.items():
            pred = getattr(expl, pred_attr)[seen]
            true = truth[true_key][seen]
            ok = np.isfinite(pred)
            rho = spearman(pred[ok], true[ok])
            if np.isfinite(rho):
                rhos[key].append(rho)
        weight, score = truth["weight"][seen], expl.clip_score[seen]
        elements = np.isfinite(score) & (weight > weight.min())
        rho = spearman(score[elements], truth["quality"][seen][elements])
        if np.isfinite(rho):
            rhos["score_elements"].append(rho)
    result: dict = {"n_videos": len(pairs)}
    for key, values in rhos.items():
        result[f"{key}_spearman"] = float(np.mean(values)) if values else float("nan")
        result[f"{key}_spearman_fisher_z"] = fisher_z_mean(values) if values else float("nan")
        result[f"{key}_n"] = len(values)
    return result
