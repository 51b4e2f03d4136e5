"""Losses: MSE regression plus the paper's attention loss (eq. 1-3, 6).

Letters: B batch, Q queries, D d_model.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from longaqa.config import LossConfig
from longaqa.models.aqa import AQAOutput
from longaqa.models.fastpath.gram import correlation_log_probs as fast_correlation_log_probs


def correlation_log_probs(
    attn_output: torch.Tensor, temperature: float, query_valid: torch.Tensor | None
) -> torch.Tensor:
    """``log softmax(A A^T / tau)`` row-wise (eq. 1-2): ``(B, Q, Q)``; invalid query columns get -inf.

    Always in fp32: under bf16 autocast the product would be rounded to bf16 (8 significant bits), and
    with tau = 1 the logits are squared norms of the order of d_model, so the rounding error (about
    0.4%, i.e. whole logit units) would reshape the distributions the KL compares.
    """
    a = attn_output.float()  # (B, Q, D)
    with torch.autocast(a.device.type, enabled=False):
        gram = a @ a.transpose(1, 2) / temperature  # (B, Q, Q)
    if query_valid is not None:
        gram = gram.masked_fill(~query_valid[:, None, :], float("-inf"))
    return gram.log_softmax(-1)


def attention_loss(
    self_outputs: list[torch.Tensor],
    cross_outputs: list[torch.Tensor],
    temperature: float,
    direction: str = "self_cross",
    reduction: str = "mean",
    detach_target: bool = False,
    query_valid: torch.Tensor | None = None,
    fastpath: bool = False,
) -> torch.Tensor:
    """Sum over layers of KL between the self- and cross-attention correlation distributions (eq. 3).

    ``direction`` ``self_cross`` is KL(L_S || L_C) (paper); ``cross_self`` is KL(L_C || L_S) (authors).
    The first distribution of the KL is the "target"; ``detach_target`` stops its gradient.
    ``reduction`` ``mean`` averages the per-row KL over the valid rows of all samples; ``sum`` sums it.
    ``fastpath``: the correlation of ``longaqa.models.fastpath.gram`` (same values).
    """
    correlation = fast_correlation_log_probs if fastpath else correlation_log_probs
    total = self_outputs[0].new_zeros((), dtype=torch.float32)
    for a_self, a_cross in zip(self_outputs, cross_outputs):
        log_s = correlation(a_self, temperature, query_valid)
        log_c = correlation(a_cross, temperature, query_valid)
        log_p, log_q = (log_s, log_c) if direction == "self_cross" else (log_c, log_s)
        if detach_target:
            log_p = log_p.detach()
        p = log_p.exp()  # exactly 0 on masked columns
        if query_valid is not None:  # zero masked columns and rows without -inf - -inf = nan
            pair = query_valid[:, :, None] & query_valid[:, None, :]
            log_p, log_q = log_p.masked_fill(~pair, 0.0), log_q.masked_fill(~pair, 0.0)
            p = p.masked_fill(~pair, 0.0)
        terms = p * (log_p - log_q)  # (B, Q, Q)
        row_kl = terms.sum(-1)  # (B, Q)
        if reduction == "sum":
            total = total + row_kl.sum()
        elif query_valid is None:
            total = total + row_kl.mean()
        else:
            total = total + row_kl.sum() / query_valid.sum()
    return total


class Criterion(nn.Module):
    """``lambda_reg * MSE + lambda_att * attention loss`` (eq. 6), returning every term by name.

    Returned keys: ``loss`` (the weighted total to backpropagate), ``mse`` and ``attention``
    (unweighted), ``mse_weighted`` and ``attention_weighted``. When the model predicts sub-scores (the
    additive head) and the batch has their labels, also ``mse_<name>`` per sub-score (unweighted) and
    ``subscores_weighted``: the sum of each times its weight (``loss.subscore_weights``, else
    ``loss.lambda_subscores``), added to ``loss``. With ``loss.lambda_hide`` and a model that returns
    ``hide_leak`` (the additive head in training): ``hide`` (its mean square) and ``hide_weighted``.
    With ``loss.lambda_concentrate`` and a model that returns ``credit_spread``: ``concentrate`` (its
    mean) and ``concentrate_weighted``.
    With ``loss.lambda_aux_total`` and a model that returns ``aux_total``: ``aux_total`` (its MSE against
    the target) and ``aux_total_weighted``.
    """

    def __init__(self, cfg: LossConfig, d_model: int):
        super().__init__()
        self.cfg = cfg
        self.temperature = cfg.temperature_for(d_model)

    WEIGHTED_TERMS = ("mse_weighted", "attention_weighted", "subscores_weighted", "hide_weighted",
                      "concentrate_weighted", "background_fit_weighted", "aux_total_weighted")
    """The terms whose sum is ``loss``."""

    def averages_over(self, key: str) -> str:
        """What term ``key`` is a mean over, for rescaling a batch's slice (``longaqa.distributed``):
        ``query_rows`` (the attention terms: valid query rows), ``sum`` (the attention terms with
        ``loss.att_reduction=sum``: no mean), or ``samples`` (every other term)."""
        if key.startswith("attention"):
            return "sum" if self.cfg.att_reduction == "sum" else "query_rows"
        return "samples"

    @staticmethod
    def units(batch, num_queries: int, padding_mask: bool = True) -> dict[str, int]:
        """How many of each averaged unit ``batch`` holds: samples, and query rows (one query per clip
        up to ``num_queries``; every query of every sample when padded queries are not masked)."""
        samples = len(batch.names)
        rows = int(batch.lengths.clamp(max=num_queries).sum()) if padding_mask else samples * num_queries
        return {"samples": samples, "query_rows": rows}

    def total(self, terms: dict):
        """``loss`` from the weighted terms in ``terms`` (tensors or numbers)."""
        return sum(terms[key] for key in self.WEIGHTED_TERMS if key in terms)

    def subscore_weight(self, name: str) -> float:
        return self.cfg.subscore_weights.get(name, self.cfg.lambda_subscores)

    def forward(
        self, out: AQAOutput, target: torch.Tensor, subscores: dict[str, torch.Tensor] | None = None
    ) -> dict[str, torch.Tensor]:
        pred = out.pred.float()
        if self.training and self.cfg.prediction_noise_std > 0:
            pred = pred + torch.randn_like(pred) * self.cfg.prediction_noise_std
        mse = F.mse_loss(pred, target.float())
        if self.cfg.lambda_att > 0 and out.self_attn_outputs:
            att = attention_loss(
                out.self_attn_outputs,
                out.cross_attn_outputs,
                self.temperature,
                self.cfg.att_kl,
                self.cfg.att_reduction,
                self.cfg.att_detach_target,
                out.query_valid,
                out.fastpath,
            )
        else:
            att = mse.new_zeros(())
        terms = {
            "mse": mse,
            "attention": att,
            "mse_weighted": self.cfg.lambda_reg * mse,
            "attention_weighted": self.cfg.lambda_att * att,
        }
        terms["loss"] = terms["mse_weighted"] + terms["attention_weighted"]
        if out.subscores and subscores:
            weighted = mse.new_zeros(())
            for name, predicted in out.subscores.items():
                term = F.mse_loss(predicted.float(), subscores[name].to(predicted.device).float())
                terms[f"mse_{name}"] = term
                weighted = weighted + self.subscore_weight(name) * term
            terms["subscores_weighted"] = weighted
            terms["loss"] = terms["loss"] + weighted
        if out.background_fit is not None:  # the learned foreground's own fit (no gradient to the parts)
            terms["background_fit"] = out.background_fit.float().mean()
            terms["background_fit_weighted"] = self.cfg.lambda_background_fit * terms["background_fit"]
            terms["loss"] = terms["loss"] + terms["background_fit_weighted"]
        if out.hide_leak is not None and self.cfg.lambda_hide > 0:
            terms["hide"] = out.hide_leak.float().square().mean()
            terms["hide_weighted"] = self.cfg.lambda_hide * terms["hide"]
            terms["loss"] = terms["loss"] + terms["hide_weighted"]
        if out.credit_spread is not None and self.cfg.lambda_concentrate > 0:
            terms["concentrate"] = out.credit_spread.float().mean()
            terms["concentrate_weighted"] = self.cfg.lambda_concentrate * terms["concentrate"]
            terms["loss"] = terms["loss"] + terms["concentrate_weighted"]
        if out.aux_total is not None and self.cfg.lambda_aux_total > 0:
            terms["aux_total"] = F.mse_loss(out.aux_total.float(), target.float())
            terms["aux_total_weighted"] = self.cfg.lambda_aux_total * terms["aux_total"]
            terms["loss"] = terms["loss"] + terms["aux_total_weighted"]
        return terms
