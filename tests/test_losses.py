"""The attention loss against a hand computation, and the criterion's named terms."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from longaqa.config import LossConfig
from longaqa.losses import Criterion, attention_loss, correlation_log_probs
from longaqa.models.aqa import AQAOutput


def softmax_rows(m: np.ndarray) -> np.ndarray:
    e = np.exp(m - m.max(1, keepdims=True))
    return e / e.sum(1, keepdims=True)


def hand_kl(a_s: np.ndarray, a_c: np.ndarray, tau: float, direction: str) -> np.ndarray:
    """Per-row KL for one sample, written out with numpy."""
    ls, lc = softmax_rows(a_s @ a_s.T / tau), softmax_rows(a_c @ a_c.T / tau)
    p, q = (ls, lc) if direction == "self_cross" else (lc, ls)
    return (p * np.log(p / q)).sum(1)


@pytest.mark.parametrize("direction", ["self_cross", "cross_self"])
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_attention_loss_matches_hand_computation(direction, reduction):
    rng = np.random.default_rng(0)
    layers = [(rng.normal(size=(2, 4, 3)), rng.normal(size=(2, 4, 3))) for _ in range(2)]
    tau = 3.0
    expected = 0.0
    for a_s, a_c in layers:
        rows = np.stack([hand_kl(a_s[b], a_c[b], tau, direction) for b in range(2)])
        expected += rows.mean() if reduction == "mean" else rows.sum()
    got = attention_loss(
        [torch.tensor(s, dtype=torch.float32) for s, _ in layers],
        [torch.tensor(c, dtype=torch.float32) for _, c in layers],
        tau, direction, reduction,
    )
    assert got.item() == pytest.approx(expected, rel=1e-5)


def test_attention_loss_ignores_queries_without_clips():
    rng = np.random.default_rng(1)
    a_s, a_c = rng.normal(size=(1, 5, 3)), rng.normal(size=(1, 5, 3))
    valid = torch.tensor([[True, True, True, False, False]])
    got = attention_loss([torch.tensor(a_s, dtype=torch.float32)], [torch.tensor(a_c, dtype=torch.float32)],
                         2.0, query_valid=valid)
    expected = hand_kl(a_s[0, :3], a_c[0, :3], 2.0, "self_cross").mean()
    assert got.item() == pytest.approx(expected, rel=1e-5)


def test_attention_loss_zero_when_maps_agree_and_detach():
    a = torch.randn(2, 4, 8, requires_grad=True)
    assert attention_loss([a], [a.detach().clone()], 8.0).item() == pytest.approx(0.0, abs=1e-6)
    s, c = torch.randn(2, 4, 8, requires_grad=True), torch.randn(2, 4, 8, requires_grad=True)
    attention_loss([s], [c], 8.0, detach_target=True).backward()
    assert s.grad is None and c.grad is not None


def _output(pred, a_s, a_c):
    return AQAOutput(pred=pred, weights=torch.full((2, 3), 1 / 3), scores=torch.zeros(2, 3), query_valid=None,
                     clip_valid=None, self_attn_outputs=[a_s], cross_attn_outputs=[a_c])


@pytest.mark.parametrize(("lambda_reg", "lambda_att"), [(2.0, 0.5), (0.5, 3.0)])
def test_criterion_named_terms_and_weights(lambda_reg, lambda_att):
    """Total = lambda_reg * MSE + lambda_att * attention, with A_S != A_C so that the attention term is
    not 0 and each lambda is checked against a hand computation."""
    rng = np.random.default_rng(2)
    a_s, a_c = rng.normal(size=(2, 3, 4)), rng.normal(size=(2, 3, 4))
    # default loss: tau 1, KL(L_S || L_C), mean over rows and samples
    att = np.stack([hand_kl(a_s[b], a_c[b], 1.0, "self_cross") for b in range(2)]).mean()
    assert att > 0.05
    mse = (1.0**2 + 2.0**2) / 2  # predictions (1, 2) against targets (0, 0)
    crit = Criterion(LossConfig(lambda_reg=lambda_reg, lambda_att=lambda_att), d_model=4).eval()
    out = _output(torch.tensor([1.0, 2.0]), torch.tensor(a_s, dtype=torch.float32),
                  torch.tensor(a_c, dtype=torch.float32))
    terms = crit(out, torch.tensor([0.0, 0.0]))
    assert set(terms) == {"loss", "mse", "attention", "mse_weighted", "attention_weighted"}
    assert terms["mse"].item() == pytest.approx(mse)
    assert terms["attention"].item() == pytest.approx(att, rel=1e-5)
    assert terms["mse_weighted"].item() == pytest.approx(lambda_reg * mse)
    assert terms["attention_weighted"].item() == pytest.approx(lambda_att * att, rel=1e-5)
    assert terms["loss"].item() == pytest.approx(lambda_reg * mse + lambda_att * att, rel=1e-5)


def test_temperature_choices():
    assert LossConfig(att_temperature="d").temperature_for(1024) == 1024
    assert LossConfig(att_temperature="sqrt_d").temperature_for(1024) == 32
    assert LossConfig(att_temperature="1").temperature_for(1024) == 1


def test_correlation_is_fp32_under_bf16_autocast():
    """With tau = 1 the logits are squared norms (about d_model): rounded to bf16 they would be off by
    whole units (up to 0.78 in log-probability on this input before the fix), so the loss must not
    follow autocast."""
    torch.manual_seed(0)
    a = torch.randn(2, 10, 128, requires_grad=True)
    ref = correlation_log_probs(a, 1.0, None)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        got = correlation_log_probs(a, 1.0, None)
    assert got.dtype == torch.float32
    torch.testing.assert_close(got, ref)
