"""Regression heads: the paper's weight-score head and a single-score baseline (the additive head,
beyond the paper, is ``longaqa.models.additive``).

Letters: B batch, Q queries, D d_model.
"""

from __future__ import annotations

import torch
from torch import nn


def mlp(in_dim: int, hidden: list[int], out_dim: int = 1) -> nn.Sequential:
    """A ReLU MLP ``in_dim -> hidden... -> out_dim`` with a linear output.

    The ReLUs are not in place: on the (B, Q, hidden) view of a linear layer's output an in-place
    ReLU makes autograd copy slices backward.
    """
    layers: list[nn.Module] = []
    dims = [in_dim, *hidden]
    for a, b in zip(dims[:-1], dims[1:]):
        layers += [nn.Linear(a, b), nn.ReLU()]
    layers.append(nn.Linear(dims[-1], out_dim))
    return nn.Sequential(*layers)


class WeightScoreHead(nn.Module):
    """Two parallel MLPs give every query a weight (softmax over the valid queries) and a score.

    The prediction is ``sum_k weight_k * score_k`` (paper eq. 4), the way judges weight each element's
    execution by its difficulty.
    """

    def __init__(self, d_model: int, hidden: list[int]):
        super().__init__()
        self.weight_mlp = mlp(d_model, hidden)
        self.score_mlp = mlp(d_model, hidden)

    def forward(self, queries: torch.Tensor, query_mask: torch.Tensor | None, memory=None,
                clip_valid=None) -> dict[str, torch.Tensor]:
        logits = self.weight_mlp(queries).squeeze(-1)  # (B, Q)
        if query_mask is not None:
            logits = logits.masked_fill(~query_mask, float("-inf"))
        weights = logits.softmax(dim=-1)  # (B, Q)
        scores = self.score_mlp(queries).squeeze(-1)  # (B, Q)
        contributions = weights * scores
        return {"pred": contributions.sum(-1), "weights": weights, "scores": scores}


class SingleScoreHead(nn.Module):
    """Baseline: mean of the decoder outputs over the valid queries, then an MLP to one score.

    For a uniform interface it also returns uniform weights and the sample score per query.
    """

    def __init__(self, d_model: int, hidden: list[int]):
        super().__init__()
        self.score_mlp = mlp(d_model, hidden)

    def forward(self, queries: torch.Tensor, query_mask: torch.Tensor | None, memory=None,
                clip_valid=None) -> dict[str, torch.Tensor]:
        B, Q, _ = queries.shape
        if query_mask is None:
            query_mask = torch.ones(B, Q, dtype=torch.bool, device=queries.device)
        valid = query_mask.to(queries.dtype)  # (B, Q)
        pooled = (queries * valid[..., None]).sum(1) / valid.sum(1, keepdim=True)  # (B, D)
        pred = self.score_mlp(pooled).squeeze(-1)  # (B,)
        weights = valid / valid.sum(1, keepdim=True)
        return {"pred": pred, "weights": weights, "scores": pred[:, None].expand(B, Q)}
