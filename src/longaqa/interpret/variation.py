"""How much a video's per-clip values vary: a check of an explanation that needs no truth.

The weight-score head predicts ``sum_k weight_k * score_k`` with weights that sum to 1. It can fit
the marks while giving every clip nearly the same score, the video's total: the weights then carry all
the variation and the per-clip *scores* say nothing about the clips (on the demo the median is 0.07%,
README). A reader of ``clips.csv`` should know when that happened, so explanations and reports state it.

The relative variation of a video's values is ``std(x) / mean(|x|)`` over the clips the model saw
(0 when all are equal). Scores below :data:`NEARLY_CONSTANT` (1%) are called nearly constant.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

NEARLY_CONSTANT = 0.01
"""Relative variation under which a video's clip scores are reported as nearly constant."""

CLIP_VALUES = {"weight": "clip_weight", "score": "clip_score", "contribution": "clip_contribution"}


class ClipValues(Protocol):
    """What this module reads of a :class:`longaqa.interpret.explanation.VideoExplanation` (which uses
    this module, so it is not imported here): the per-clip values and the window of clips the model saw."""

    clip_weight: np.ndarray
    clip_score: np.ndarray
    clip_contribution: np.ndarray

    @property
    def window(self) -> slice: ...


def relative_variation(values: np.ndarray) -> float:
    """``std / mean(|x|)`` of the finite values; NaN when there are none or all are 0."""
    x = np.asarray(values, dtype=np.float64)
    x = x[np.isfinite(x)]
    scale = float(np.mean(np.abs(x))) if x.size else 0.0
    return float(np.std(x) / scale) if scale > 0 else float("nan")


def video_variation(expl: ClipValues) -> dict[str, float]:
    """Relative variation of the clip weights, scores and contributions the model saw in one video."""
    seen = expl.window
    return {key: relative_variation(getattr(expl, attr)[seen]) for key, attr in CLIP_VALUES.items()}


def scores_nearly_constant(expl: ClipValues) -> bool:
    return bool(video_variation(expl)["score"] < NEARLY_CONSTANT)


def constant_scores_note(nearly_constant: int, total: int) -> str | None:
    """A sentence for the reader when clip scores are nearly constant in some videos, else None."""
    if not nearly_constant:
        return None
    return (f"note: in {nearly_constant} of {total} video(s) the per-clip scores vary by less than "
            f"{NEARLY_CONSTANT:.0%} (std / mean |score|): there the scores do not tell clips apart; "
            "read the weights and contributions")


def variation_summary(explanations: list[ClipValues]) -> dict:
    """Medians over videos of the relative variation of clip weights, scores and contributions, and
    how many videos have nearly constant clip scores.

    Keys: ``weight_median``, ``score_median``, ``contribution_median``, ``nearly_constant_scores``
    (count), ``n_videos``, ``threshold`` (:data:`NEARLY_CONSTANT`).
    """
    per_video = [video_variation(e) for e in explanations]
    result: dict = {}
    for key in CLIP_VALUES:
        values = [v[key] for v in per_video if np.isfinite(v[key])]
        result[f"{key}_median"] = float(np.median(values)) if values else float("nan")
    result["nearly_constant_scores"] = sum(v["score"] < NEARLY_CONSTANT for v in per_video)
    result["n_videos"] = len(per_video)
    result["threshold"] = NEARLY_CONSTANT
    return result
