"""Metrics against scipy and hand-computed values."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from longaqa.metrics import fisher_z_mean, mean_correlation, mse, regression_metrics, relative_l2, spearman


def test_spearman_matches_scipy_and_hand_values():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=50), rng.normal(size=50)
    assert spearman(a, b) == pytest.approx(stats.spearmanr(a, b).statistic)
    assert spearman([1, 2, 3, 4], [10, 20, 30, 40]) == pytest.approx(1.0)
    assert spearman([1, 2, 3, 4], [4, 3, 2, 1]) == pytest.approx(-1.0)
    # ranks (1,2,3) vs (1,3,2): 1 - 6*2/(3*8) = 0.5
    assert spearman([1, 2, 3], [1, 3, 2]) == pytest.approx(0.5)
    assert math.isnan(spearman([1, 1, 1], [1, 2, 3]))


def test_relative_l2_equation_8():
    true = np.array([10.0, 12.0, 20.0])  # range 10
    pred = np.array([11.0, 12.0, 17.0])
    expected = ((1 / 10) ** 2 + 0 + (3 / 10) ** 2) / 3
    assert relative_l2(pred, true) == pytest.approx(expected)
    assert relative_l2(true, true) == 0.0


def test_mse_and_bundle():
    assert mse([1, 2], [2, 4]) == pytest.approx(2.5)
    m = regression_metrics([1, 2, 3], [1, 2, 4])
    assert set(m) == {"srcc", "rl2", "mse", "n"} and m["n"] == 3 and m["srcc"] == pytest.approx(1.0)


def test_class_averages():
    rhos = [0.823, 0.852, 0.837, 0.857]
    assert mean_correlation(rhos) == pytest.approx(0.84225)
    # atanh(r) = ln((1 + r) / (1 - r)) / 2: atanh(0.5) = ln(3) / 2, atanh(0.8) = ln(9) / 2 = ln(3);
    # mean z = 3 ln(3) / 4; tanh(z) = (e^2z - 1) / (e^2z + 1) with e^2z = 3^1.5 = sqrt(27) = 5.196152:
    # 4.196152 / 6.196152 = 0.677219 (the plain mean is 0.65)
    assert fisher_z_mean([0.5, 0.8]) == pytest.approx(0.677219, abs=1e-6)
    # the same for -0.5 and -0.8 (atanh is odd), and for 0.5 and -0.5 (z cancels to 0)
    assert fisher_z_mean([-0.5, -0.8]) == pytest.approx(-0.677219, abs=1e-6)
    assert fisher_z_mean([0.5, -0.5]) == pytest.approx(0.0, abs=1e-12)
    assert fisher_z_mean([0.5, 0.5]) == pytest.approx(0.5)
    # Fisher's z weights high correlations more: above the plain mean for spread values
    assert fisher_z_mean([0.2, 0.9]) > mean_correlation([0.2, 0.9])
