"""Evaluation metrics: pure functions of numpy arrays."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import stats


def spearman(pred: Sequence[float], true: Sequence[float]) -> float:
    """Spearman's rank correlation (paper eq. 7 on ranks), via scipy. NaN when either side is constant."""
    pred, true = np.asarray(pred, dtype=np.float64), np.asarray(true, dtype=np.float64)
    if len(pred) < 2 or np.ptp(pred) == 0 or np.ptp(true) == 0:
        return float("nan")
    return float(stats.spearmanr(pred, true).statistic)


def relative_l2(pred: Sequence[float], true: Sequence[float]) -> float:
    """Relative L2 distance (paper eq. 8): mean(((|y - y_hat|) / (max_true - min_true))^2).

    The range is taken over the evaluated split's true scores. Papers print it x100; this is not x100.
    """
    pred, true = np.asarray(pred, dtype=np.float64), np.asarray(true, dtype=np.float64)
    span = float(true.max() - true.min())
    if span == 0:
        return float("nan")
    return float(np.mean((np.abs(pred - true) / span) ** 2))


def mse(pred: Sequence[float], true: Sequence[float]) -> float:
    pred, true = np.asarray(pred, dtype=np.float64), np.asarray(true, dtype=np.float64)
    return float(np.mean((pred - true) ** 2))


def mean_correlation(rhos: Sequence[float]) -> float:
    """Class average of correlations as a plain mean (as the paper does)."""
    return float(np.mean(np.asarray(rhos, dtype=np.float64)))


def fisher_z_mean(rhos: Sequence[float]) -> float:
    """Class average through Fisher's z: tanh(mean(arctanh(rho))) (as several later papers do)."""
    r = np.clip(np.asarray(rhos, dtype=np.float64), -0.9999999, 0.9999999)
    return float(np.tanh(np.mean(np.arctanh(r))))


def regression_metrics(pred: Sequence[float], true: Sequence[float]) -> dict[str, float]:
    """``srcc``, ``rl2`` (eq. 8, not x100), ``mse`` and ``n`` for one evaluated split."""
    return {
        "srcc": spearman(pred, true),
        "rl2": relative_l2(pred, true),
        "mse": mse(pred, true),
        "n": len(true),
    }


# --- the temporal-skipping index of a self-attention map ------------------------------------------
#
# The paper calls *temporal skipping* the collapse of the decoder's self-attention into smooth,
# averaged rows (its Figure 2a) instead of a clear diagonal (Figure 2c), and proposes the attention
# loss against it. For a row-stochastic map ``A`` (Q, Q) and a band half-width ``b`` (default 1: a
# query and its two neighbours), the *band mass* is the mean over rows of ``sum_{|i-j| <= b} A[i, j]``.
# Uniform attention has band mass ``u = mean_i |{j : |i-j| <= b}| / Q`` (about ``(2b+1)/Q``); a
# perfectly diagonal map has 1. The index is ``1 - (band_mass - u) / (1 - u)``: 0 means all attention
# lies on the band (no skipping); 1 means no more mass near the diagonal than uniform attention (full
# skipping); above 1 means attention avoids the diagonal. ``longaqa.engine.model_skipping_index``
# computes it over a model's outputs.

DEFAULT_BANDWIDTH = 1


def band_mass(attention: np.ndarray, bandwidth: int = DEFAULT_BANDWIDTH) -> float:
    """Mean over rows of the attention mass within ``bandwidth`` of the diagonal; ``attention`` (Q, Q)."""
    a = np.asarray(attention, dtype=np.float64)
    q = a.shape[0]
    idx = np.arange(q)
    band = np.abs(idx[:, None] - idx[None, :]) <= bandwidth  # (Q, Q)
    return float((a * band).sum(1).mean())


def uniform_band_mass(num_queries: int, bandwidth: int = DEFAULT_BANDWIDTH) -> float:
    idx = np.arange(num_queries)
    band = np.abs(idx[:, None] - idx[None, :]) <= bandwidth
    return float(band.sum(1).mean() / num_queries)


def skipping_index(attention: np.ndarray, bandwidth: int = DEFAULT_BANDWIDTH) -> float:
    """The temporal-skipping index of one (Q, Q) row-stochastic map (see above).

    NaN when the band covers every entry (Q <= bandwidth + 1), where the index is undefined.
    """
    a = np.asarray(attention, dtype=np.float64)
    u = uniform_band_mass(a.shape[0], bandwidth)
    if u >= 1.0:
        return float("nan")
    return 1.0 - (band_mass(a, bandwidth) - u) / (1.0 - u)
