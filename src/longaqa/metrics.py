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
