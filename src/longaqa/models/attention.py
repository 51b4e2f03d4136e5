"""Multi-head attention that can also return its head-averaged probability maps.

Letters: B batch, Q queries, K keys, D d_model, H heads.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class MultiHeadAttention(nn.Module):
    """Multi-head attention: torch's fused ``scaled_dot_product_attention``, or, when the maps are
    asked for (explanations), the same attention written out head by head (:meth:`explicit`).

    ``key_valid`` (B, K), or (B, Q, K) per query, marks the keys that may be attended to.
    """

    use_fused = True
    """False: always the explicit form (batched matmuls), e.g. under ``torch.func.vmap``, which has no
    batching rule for some fused kernels and would loop over the batched dimension (``longaqa.group``)."""

    def __init__(self, d_model: int, num_heads: int, dropout: float = 0.0):
        super().__init__()
        self.num_heads = num_heads
        self.dropout = dropout
        self.q_proj = nn.Linear(d_model, d_model)
        self.k_proj = nn.Linear(d_model, d_model)
        self.v_proj = nn.Linear(d_model, d_model)
        self.out_proj = nn.Linear(d_model, d_model)

    def forward(
        self,
        query: torch.Tensor,
        key: torch.Tensor,
        value: torch.Tensor,
        key_valid: torch.Tensor | None = None,
        need_weights: bool = False,
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """``query`` (B, Q, D), ``key`` and ``value`` (B, K, D) -> (output (B, Q, D), maps (B, Q, K) or None)."""
        q, k, v = self.q_proj(query), self.k_proj(key), self.v_proj(value)
        p = self.dropout if self.training else 0.0
        if need_weights or not self.use_fused:
            out, maps = self.explicit(q, k, v, key_valid, p, need_weights)
        else:
            out, maps = self.fused(q, k, v, key_valid, p), None
        return self.out_proj(out), maps

    @staticmethod
    def _head_mask(key_valid: torch.Tensor) -> torch.Tensor:
        """(B, 1, K) for keys per sample, (B, Q, K) for keys per sample and query."""
        return key_valid[:, None, :] if key_valid.dim() == 2 else key_valid

    def _split(self, x: torch.Tensor) -> torch.Tensor:
        B, L, D = x.shape
        return x.view(B, L, self.num_heads, D // self.num_heads).transpose(1, 2)  # (B, H, L, D/H)

    def fused(
        self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, key_valid: torch.Tensor | None, p: float
    ) -> torch.Tensor:
        """Attention from projected ``q`` (B, Q, D), ``k``, ``v`` (B, K, D) by torch's kernel: (B, Q, D)."""
        mask = None if key_valid is None else self._head_mask(key_valid)[:, None]  # (B, 1, 1 or Q, K)
        out = F.scaled_dot_product_attention(self._split(q), self._split(k), self._split(v),
                                             attn_mask=mask, dropout_p=p)  # (B, H, Q, D/H)
        return out.transpose(1, 2).flatten(2)

    def explicit(
        self,
        q: torch.Tensor,
        k: torch.Tensor,
        v: torch.Tensor,
        key_valid: torch.Tensor | None,
        p: float,
        need_weights: bool,
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Attention from projected ``q`` (B, Q, D), ``k``, ``v`` (B, K, D): ((B, Q, D), maps or None).

        One head at a time on column slices of the projections (views that batched matmuls read in
        place). Logits and softmax in fp32, also under bf16 autocast, as the fused kernels compute them.
        """
        width = q.shape[-1] // self.num_heads
        hidden = None if key_valid is None else ~self._head_mask(key_valid)
        outs, probs_all = [], []
        for q_h, k_h, v_h in zip(q.split(width, -1), k.split(width, -1), v.split(width, -1)):
            logits = torch.bmm(q_h, k_h.transpose(1, 2)).float() / (width ** 0.5)  # (B, Q, K)
            if hidden is not None:
                logits = logits.masked_fill(hidden, float("-inf"))
            probs = logits.softmax(-1)
            outs.append(torch.bmm((F.dropout(probs, p) if p else probs).to(v_h.dtype), v_h))  # (B, Q, D/H)
            if need_weights:
                probs_all.append(probs)
        maps = torch.stack(probs_all, 1).mean(1) if need_weights else None  # (B, Q, K), mean over heads
        return torch.cat(outs, -1), maps
