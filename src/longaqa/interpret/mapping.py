"""From queries to clips: how per-query weights and scores become per-clip values.

Letters: Q valid queries, T clips the model saw.

The model has one query per clip position, so one could read query ``k`` as clip ``k`` (``index``;
only possible when a video has no more clips than queries and the model saw them all). The default,
``attention``, spreads each query's weight and contribution over the clips in proportion to where
that query looked: its row of the last decoder layer's cross-attention. It works whether or not
queries and clips are one-to-one (a video longer than the query count seen whole, or a model whose
queries ignore the video length), and equals ``index`` when the cross-attention is diagonal.
``auto`` is ``index`` when one-to-one, else ``attention``. With ``C`` the (Q, T) cross-attention
probabilities (rows sum to 1)::

    clip_weight[t]       = sum_q weight[q] * C[q, t]                  (sums to 1 over clips)
    clip_contribution[t] = sum_q weight[q] * score[q] * C[q, t]        (sums to the prediction)
    clip_score[t]        = clip_contribution[t] / clip_weight[t]       (a weighted mean of query scores)

so ``weight * score = contribution`` holds per clip and the clip contributions still add up to the
predicted score, as the query contributions do.
"""

from __future__ import annotations

import numpy as np

from longaqa.errors import LongAQAError

MAPPINGS = ("auto", "index", "attention")
DEFAULT_MAPPING = "attention"
"""On synthetic routines with per-clip truth, trained queries do not stay on their own clip: the
``index`` reading does not agree with the truth while the ``attention`` reading does (the figures are in
docs/interpretability.md). When cross-attention is diagonal the two coincide."""


def resolve_mapping(mode: str, num_queries: int, num_clips: int) -> str:
    """``auto`` becomes ``index`` when queries and clips are one-to-one, else ``attention``."""
    if mode not in MAPPINGS:
        raise LongAQAError(f"mapping must be one of {', '.join(MAPPINGS)}; got {mode!r}")
    if mode == "auto":
        return "index" if num_queries == num_clips else "attention"
    if mode == "index" and num_queries != num_clips:
        raise LongAQAError(f"mapping 'index' needs one query per clip, got {num_queries} queries for {num_clips} clips")
    return mode


def queries_to_clips(
    weights: np.ndarray, scores: np.ndarray, cross_attention: np.ndarray, mode: str = DEFAULT_MAPPING
) -> tuple[np.ndarray, np.ndarray, np.ndarray, str]:
    """Per-clip ``(weight, score, contribution, mapping used)`` from per-query ``weights``, ``scores`` (Q,).

    ``cross_attention`` (Q, T): the last layer's head-averaged cross-attention probabilities. A clip
    no query looks at gets weight 0, contribution 0 and score NaN.
    """
    weights = np.asarray(weights, dtype=np.float64)  # (Q,)
    scores = np.asarray(scores, dtype=np.float64)  # (Q,)
    cross = np.asarray(cross_attention, dtype=np.float64)  # (Q, T)
    used = resolve_mapping(mode, len(weights), cross.shape[1])
    if used == "index":
        return weights.copy(), scores.copy(), weights * scores, used
    clip_weight = weights @ cross  # (T,)
    clip_contribution = (weights * scores) @ cross  # (T,)
    with np.errstate(invalid="ignore", divide="ignore"):
        clip_score = np.where(clip_weight > 0, clip_contribution / clip_weight, np.nan)
    return clip_weight, clip_score, clip_contribution, used
