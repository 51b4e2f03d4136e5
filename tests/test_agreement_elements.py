"""Agreement with the truth per element (``longaqa.interpret.agreement``, "Per element"): which clips
form an element, split-invariance, and the truth files that say so."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from longaqa.config import load_config
from longaqa.errors import LongAQAError
from longaqa.interpret.agreement import element_units, read_truth, truth_agreement
from longaqa.interpret.explanation import explain_video
from longaqa.models import build_model
from tests.conftest import TINY, train_tiny_additive


@pytest.fixture(scope="module")
def explanation():
    torch.manual_seed(0)
    cfg = load_config(None, [*TINY, "model.dropout=0.0"])
    model = build_model(cfg.model).eval()
    return explain_video(model, cfg, "v", torch.randn(12, cfg.model.input_dim))


def test_units_from_element_type_runs():
    types = np.array([-1, 2, 2, -1, 3, 3, 3, 2, -1, -1])
    assert element_units({"element_type": types}, slice(None)).tolist() == [0, 1, 1, 2, 3, 3, 3, 4, 5, 6]
    # the clips the model saw only: a run cut by the window is still one unit
    assert element_units({"element_type": types}, slice(2, 6)).tolist() == [0, 1, 2, 2]


def test_units_from_element_ids_join_clips_of_one_id_anywhere():
    ids = np.array([0, 0, -1, 1, 0, -1])
    assert element_units({"element": ids}, slice(None)).tolist() == [0, 0, 1, 2, 0, 3]
    # ``element`` wins over ``element_type`` when both are given
    both = {"element": ids, "element_type": np.zeros(6)}
    assert element_units(both, slice(None)).tolist() == [0, 0, 1, 2, 0, 3]
    assert element_units({"contribution": np.ones(6)}, slice(None)) is None


def test_per_element_agreement_does_not_depend_on_how_an_element_is_split(explanation):
    expl = explanation
    n = expl.num_clips
    element = np.array([0, 0, 0, -1, 1, 1, -1, 2, 2, 2, 2, -1])[:n]
    units = element_units({"element": element}, slice(None))
    pred = np.asarray(expl.clip_contribution, dtype=np.float64)
    # a truth with the explanation's element means, but each element's total on its first clip only
    means = np.bincount(units, weights=pred) / np.bincount(units)
    moved = np.zeros(n)
    for u in np.unique(units):
        clips = np.flatnonzero(units == u)
        moved[clips[0]] = means[u] * len(clips)
    result = truth_agreement([(expl, {"contribution": moved, "element": element.astype(float)})])
    assert result["contribution_per_element_spearman"] == pytest.approx(1.0)
    assert result["contribution_per_element_n"] == 1
    assert "contribution_per_element" in result["fields"]
    assert result["contribution_spearman"] < 0.99  # per clip, the moved split disagrees
    # without element information, no per-element key
    plain = truth_agreement([(expl, {"contribution": moved})])
    assert "contribution_per_element_spearman" not in plain and "contribution_per_element" not in plain["fields"]


def test_truth_files_with_elements(tmp_path):
    good = tmp_path / "good.npz"
    np.savez(good, contribution=np.ones(4), element=np.array([0, 0, -1, 1]), segment=np.zeros(4))
    truth = read_truth(good, extra=("element", "element_type"))
    assert set(truth) == {"contribution", "element"}
    bad = tmp_path / "bad.npz"
    np.savez(bad, contribution=np.ones(4), element=np.array([0, 0.5, -1, 1]))
    with pytest.raises(LongAQAError, match="bad.npz: element must hold whole numbers"):
        read_truth(bad, extra=("element",))
    nan = tmp_path / "nan.npz"
    np.savez(nan, contribution=np.ones(4), element_type=np.array([0, np.nan, -1, 1]))
    with pytest.raises(LongAQAError, match="nan.npz: element_type must hold whole numbers"):
        read_truth(nan, extra=("element_type",))


def test_interpretability_reports_per_element_agreement(tmp_path):
    """End to end: a generated dataset (its truth has ``element_type``), a short run, ``interpretability``."""
    from longaqa.cli import main

    run = train_tiny_additive(tmp_path)
    assert main(["interpretability", str(run), "--num-random", "1"]) == 0
    truth = json.loads((run / "interpretability.json").read_text())["truth"]
    assert {"contribution_per_element", "difficulty_per_element", "deduction_per_element"} <= set(truth["fields"])
    assert -1.0 <= truth["contribution_per_element_spearman"] <= 1.0
    assert 1 <= truth["contribution_per_element_n"] <= 8
