"""curves.png of the weight-score head: weight, score and contribution each on its own axis in its own
units (not min-max scaled, which drew a flat score line as a full swing), and the lift panel."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from longaqa.config import load_config
from longaqa.interpret.explanation import explain_video
from longaqa.interpret.plots import curves_figure, curves_png
from longaqa.models import model_from_config
from tests.conftest import TINY


@pytest.fixture(scope="module")
def expl():
    cfg = load_config(None, list(TINY))
    model = model_from_config(cfg).eval()
    features = np.random.default_rng(0).normal(size=(30, 32)).astype(np.float32)
    return explain_video(model, cfg, "v", features, 10.0)


def lines(ax) -> list[np.ndarray]:
    return [np.asarray(line.get_ydata(), dtype=float) for line in ax.get_lines()]


def test_each_value_on_its_own_axis_with_units(expl):
    fig = curves_figure(expl)
    weight_ax, score_ax, combined_ax, lift = fig.axes
    assert [ax.get_ylabel() for ax in fig.axes] == [
        "weight\n(fraction of total)", "score\n(score units)", "weight x score\n(score units)",
        "lift\n(score units)",
    ]
    np.testing.assert_allclose(lines(weight_ax)[0], expl.clip_weight)  # the values themselves
    np.testing.assert_allclose(lines(score_ax)[0], expl.clip_score)
    np.testing.assert_allclose(lines(score_ax)[1], [expl.pred, expl.pred])  # the predicted score, dashed
    np.testing.assert_allclose(lines(combined_ax)[0], expl.clip_contribution)
    assert expl.clip_weight.sum() == pytest.approx(1.0, abs=1e-6)  # so weight is a fraction of the total
    assert weight_ax.get_ylim()[0] == 0.0 and combined_ax.get_ylim()[0] == 0.0
    assert len(lift.patches) == expl.num_clips  # the lift bars are kept
    assert "sums to" in combined_ax.get_legend().get_texts()[0].get_text()
    assert curves_png(expl)[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_flat_score_is_drawn_flat(expl):
    """Scores varying by 0.1% fill at most a small part of their axis (min-max scaling filled all of it)."""
    ripple = 1.0 + 0.001 * np.sin(np.arange(expl.num_clips))
    flat = dataclasses.replace(expl, clip_score=np.full(expl.num_clips, expl.pred) * ripple)
    score_ax = curves_figure(flat).axes[1]
    lo, hi = score_ax.get_ylim()
    assert lo <= flat.clip_score.min() and flat.clip_score.max() <= hi
    assert (flat.clip_score.max() - flat.clip_score.min()) / (hi - lo) < 0.05
    assert hi - lo >= 0.2 * abs(expl.pred) * 0.999


def test_clips_outside_the_window_are_blank():
    cfg = load_config(None, list(TINY))
    features = np.random.default_rng(1).normal(size=(30, 32)).astype(np.float32)
    cropped = explain_video(model_from_config(cfg).eval(), cfg, "v", features, None, "center_crop")
    assert cropped.window == slice(9, 21)  # the middle 12 of 30 clips
    fig = curves_figure(cropped)
    seen = np.zeros(cropped.num_clips, dtype=bool)
    seen[cropped.window] = True
    assert np.isnan(lines(fig.axes[0])[0][~seen]).all() and np.isfinite(lines(fig.axes[0])[0][seen]).all()
