"""The conventional AQA baseline: average the clip features, regress one score with an MLP.

No decoder and no queries: this is what the paper's introduction contrasts its model with. It
returns an :class:`AQAOutput` like the paper's model (uniform weights over the valid clips, the
video's score for every clip, no attention) so that every command can run on it.

Letters: B batch, T clips, Din feature dim, D d_model.
"""

from __future__ import annotations

import torch
from torch import nn

from longaqa.models.aqa import AQAOutput, length_mask
from longaqa.models.heads import mlp


class MeanPoolAQA(nn.Module):
    def __init__(self, input_dim: int, d_model: int, num_queries: int, hidden: list[int], dropout: float):
        super().__init__()
        self.num_queries = num_queries  # training crops to this many clips, as for the paper's model
        self.input_proj = nn.Linear(input_dim, d_model)
        self.dropout = nn.Dropout(dropout)
        self.score_mlp = mlp(d_model, hidden)

    def forward(
        self, clip_features: torch.Tensor, lengths: torch.Tensor | None = None, need_weights: bool = False
    ) -> AQAOutput:
        B, T, _ = clip_features.shape
        if lengths is None:
            lengths = torch.full((B,), T, device=clip_features.device)
        clip_valid = length_mask(lengths.to(clip_features.device), T)  # (B, T)
        valid = clip_valid.to(clip_features.dtype)  # (B, T)
        weights = valid / valid.sum(1, keepdim=True)  # (B, T)
        pooled = (self.input_proj(clip_features) * weights[..., None]).sum(1)  # (B, D)
        pred = self.score_mlp(self.dropout(pooled)).squeeze(-1)  # (B,)
        return AQAOutput(
            pred=pred,
            weights=weights,
            scores=pred[:, None].expand(B, T),
            query_valid=clip_valid,
            clip_valid=clip_valid,
            self_attn_outputs=[],
            cross_attn_outputs=[],
            self_attn_maps=[] if need_weights else None,
            cross_attn_maps=[] if need_weights else None,
        )
