"""The additive head's concentration term (``loss.lambda_concentrate``, ``AdditiveHead.credit_spread``)
and its foreground trained by the labels (``model.learned_foreground_from_labels``)."""

from __future__ import annotations

import math

import pytest
import torch

from longaqa.config import load_config
from longaqa.errors import LongAQAError
from longaqa.losses import Criterion
from longaqa.models import build_model, model_from_config
from longaqa.sheets import RG_SHEET
from tests.conftest import TINY


def additive(*overrides: str):
    cfg = load_config(None, [*TINY, "model.head=additive", "model.local_window=2", "model.local_hidden=8",
                             *overrides])
    torch.manual_seed(0)
    return build_model(cfg.model, RG_SHEET, 25.0)


def test_credit_spread_is_one_when_every_clip_earns_alike_and_one_over_root_n_for_one_clip():
    head = additive().head
    valid = torch.tensor([[True] * 6 + [False] * 2, [True] * 8])  # (2, 8)
    parts = torch.zeros(2, 8, 2)  # RG sheet: difficulty (credit), deduction (not credit)
    parts[0, :6, 0] = 0.3  # the first video: six valid clips earn alike
    parts[1, 5, 0] = 2.0  # the second: one clip of 8 earns all
    parts[..., 1] = torch.rand(2, 8) * valid  # deductions do not enter
    spread = head.credit_spread(parts, valid)
    torch.testing.assert_close(spread, torch.tensor([1.0, 1 / math.sqrt(8)]), atol=2e-3, rtol=0)
    parts[0, 6:, 0] = 5.0  # what padding holds is not read
    torch.testing.assert_close(head.credit_spread(parts, valid), spread)


def test_credit_spread_prefers_few_clips_at_equal_sums_and_ignores_scale():
    head = additive().head
    valid = torch.ones(1, 10, dtype=torch.bool)
    even = torch.zeros(1, 10, 2)
    even[0, :, 0] = 0.1
    few = torch.zeros(1, 10, 2)
    few[0, :2, 0] = 0.5  # the same sum on two clips
    assert head.credit_spread(few, valid) < head.credit_spread(even, valid)
    torch.testing.assert_close(head.credit_spread(few * 10, valid), head.credit_spread(few, valid), atol=1e-3, rtol=0)


def test_credit_spread_over_windows_is_indifferent_to_the_split_within_a_stretch():
    """``loss.concentrate_window`` w: each clip's credit over the square root of its window's; an
    element's credit split evenly over 3 clips or all on its middle clip reads alike (w = 2: the element
    lies within each of its clips' windows), while credit off it still costs."""
    head = additive().head
    valid = torch.ones(1, 12, dtype=torch.bool)
    split, middle, leaked = torch.zeros(3, 1, 12, 2).unbind(0)
    split[0, 4:7, 0] = 0.2
    middle[0, 5, 0] = 0.6
    leaked[0, 5, 0] = 0.5
    leaked[0, 10, 0] = 0.1  # a little credit on a clip of connecting movement
    head.spread_window = 2
    spreads = [float(head.credit_spread(p, valid)) for p in (split, middle, leaked)]
    assert abs(spreads[0] - spreads[1]) < 1e-4 and spreads[2] > spreads[1] + 0.1
    head.spread_window = 0  # clip by clip the split costs more than one clip
    assert float(head.credit_spread(split, valid)) > float(head.credit_spread(middle, valid)) + 0.1
    with pytest.raises(LongAQAError, match="loss.concentrate_window must be >= 0"):
        load_config(None, [*TINY, "model.head=additive", "loss.concentrate_window=-1"])
    cfg = load_config(None, [*TINY, "model.head=additive", "loss.lambda_concentrate=1", "loss.concentrate_window=2"])
    assert model_from_config(cfg).head.spread_window == 2


def test_concentration_term_enters_the_loss_in_training_only():
    x, lengths = torch.randn(4, 12, 32), torch.tensor([12, 12, 9, 7])
    cfg = load_config(None, [*TINY, "model.head=additive", "loss.lambda_concentrate=0.5"])
    model = model_from_config(cfg).train()
    assert model.head.spread_check
    out = model(x, lengths)
    assert out.credit_spread.shape == (4,)
    assert ((out.credit_spread > 0) & (out.credit_spread <= 1 + 1e-4)).all()
    labels = {k: v.detach() for k, v in out.subscores.items()}
    terms = Criterion(cfg.loss, cfg.model.d_model)(out, torch.rand(4), labels)
    torch.testing.assert_close(terms["concentrate"], out.credit_spread.mean())
    expected = (terms["mse_weighted"] + terms["attention_weighted"] + terms["subscores_weighted"]
                + 0.5 * terms["concentrate"])
    torch.testing.assert_close(terms["loss"], expected)
    terms["loss"].backward()
    assert model.head.local.own[0].weight.grad.abs().sum() > 0
    with torch.no_grad():
        assert model.eval()(x, lengths).credit_spread is None
    assert not model_from_config(load_config(None, [*TINY, "model.head=additive"])).head.spread_check


def test_concentration_option_is_checked():
    with pytest.raises(LongAQAError, match="loss.lambda_concentrate must be >= 0"):
        load_config(None, [*TINY, "model.head=additive", "loss.lambda_concentrate=-1"])
    with pytest.raises(LongAQAError, match="loss.lambda_concentrate needs model.head=additive"):
        load_config(None, [*TINY, "model.head=weight_score", "loss.lambda_concentrate=1"])


@pytest.mark.parametrize("from_labels", [False, True])
def test_the_labels_train_the_learned_foreground_only_when_asked(from_labels):
    """``model.learned_foreground_from_labels``: the parts' loss reaches the foreground network; without
    it only the teacher's fit does."""
    model = additive("model.background_rule=learned",
                     f"model.learned_foreground_from_labels={str(from_labels).lower()}").train()
    x, lengths = torch.randn(3, 10, 32), torch.tensor([10, 9, 8])
    out = model(x, lengths)
    out.pred.sum().backward()  # the parts' side alone, without the teacher's fit
    grad = model.head.local.fg_net[0].weight.grad
    reached = grad is not None and bool(grad.abs().sum() > 0)
    assert reached == from_labels


def test_the_foreground_fit_is_weighted_by_lambda_background_fit():
    model = additive("model.background_rule=learned").train()
    out = model(torch.randn(2, 10, 32), torch.tensor([10, 8]))
    for weight in (1.0, 0.01):
        cfg = load_config(None, [*TINY, "model.head=additive", f"loss.lambda_background_fit={weight}"])
        terms = Criterion(cfg.loss, 16)(out, torch.rand(2))
        torch.testing.assert_close(terms["background_fit_weighted"], weight * out.background_fit.mean())
        torch.testing.assert_close(terms["loss"], terms["mse_weighted"] + terms["attention_weighted"]
                                   + terms["background_fit_weighted"])
    with pytest.raises(LongAQAError, match="loss.lambda_background_fit must be >= 0"):
        load_config(None, [*TINY, "model.head=additive", "loss.lambda_background_fit=-1"])
