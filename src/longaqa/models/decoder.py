"""DETR-style transformer decoder (no encoder) that returns what its attention did.

Every layer returns its self- and cross-attention *outputs* (after the output projection, before the
residual), which the attention loss compares, and, when asked, the head-averaged attention
probability maps, which explanations draw.

Letters: B batch, Q queries, T clips (memory), D d_model.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from longaqa.models.attention import MultiHeadAttention


def with_pos(x: torch.Tensor, pos: torch.Tensor | None) -> torch.Tensor:
    return x if pos is None else x + pos


class DecoderLayer(nn.Module):
    """Self-attention over the queries, cross-attention to the clip features, feed-forward; each adds
    its dropped-out output to the queries (the residual) and is normed after (post-norm, DETR's
    default) or before (pre-norm)."""

    attention_type: type[nn.Module] = MultiHeadAttention
    dropout_type: type[nn.Module] = nn.Dropout
    """The modules this layer builds; ``longaqa.models.fastpath`` subclasses the layer to swap in its own."""

    def __init__(
        self,
        d_model: int,
        num_heads: int,
        dim_feedforward: int,
        dropout: float,
        attention_dropout: float,
        norm_first: bool,
        self_attn_residual: bool = True,
    ):
        super().__init__()
        self.self_attn = self.attention_type(d_model, num_heads, attention_dropout)
        self.cross_attn = self.attention_type(d_model, num_heads, attention_dropout)
        self.linear1 = nn.Linear(d_model, dim_feedforward)
        self.linear2 = nn.Linear(dim_feedforward, d_model)
        self.norm1 = nn.LayerNorm(d_model)
        self.norm2 = nn.LayerNorm(d_model)
        self.norm3 = nn.LayerNorm(d_model)
        self.dropout = self.dropout_type(dropout)
        self.norm_first = norm_first
        self.self_attn_residual = self_attn_residual

    def forward(
        self,
        tgt: torch.Tensor,
        memory: torch.Tensor,
        query_pos: torch.Tensor | None,
        memory_pos: torch.Tensor | None,
        query_valid: torch.Tensor | None,
        clip_valid: torch.Tensor | None,
        need_weights: bool = False,
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor | None]]:
        """``tgt`` (B, Q, D) queries, ``memory`` (B, T, D) clip features; ``query_pos`` and ``memory_pos``
        are added to the queries and keys of the attention; ``query_valid`` (B, Q) masks the
        self-attention's keys, ``clip_valid`` (B, T) or (B, Q, T) the cross-attention's.

        Returns the new ``tgt`` (B, Q, D) and ``self_attn_output``, ``cross_attn_output`` (B, Q, D),
        ``self_attn_map`` (B, Q, Q) and ``cross_attn_map`` (B, Q, T) (None without ``need_weights``).
        """
        tgt, self_out, self_map = self.self_attention_block(tgt, query_pos, query_valid, need_weights)
        tgt, cross_out, cross_map = self.cross_attention_block(
            tgt, memory, query_pos, memory_pos, clip_valid, need_weights
        )
        tgt = self.feed_forward_block(tgt)
        return tgt, {"self_attn_output": self_out, "cross_attn_output": cross_out,
                     "self_attn_map": self_map, "cross_attn_map": cross_map}

    def residual(self, tgt: torch.Tensor, branch: torch.Tensor) -> torch.Tensor:
        return tgt + self.dropout(branch)

    def self_attention_block(self, tgt, query_pos, query_valid, need_weights):
        x = self.norm1(tgt) if self.norm_first else tgt
        qk = with_pos(x, query_pos)
        self_out, self_map = self.self_attn(qk, qk, x, query_valid, need_weights)  # (B, Q, D)
        if self.self_attn_residual:
            tgt = self.residual(tgt, self_out)
        else:  # authors' code: the self-attention output replaces the queries
            tgt = self.dropout(self_out)
        if not self.norm_first:
            tgt = self.norm1(tgt)
        return tgt, self_out, self_map

    def cross_attention_block(self, tgt, memory, query_pos, memory_pos, clip_valid, need_weights):
        x = self.norm2(tgt) if self.norm_first else tgt
        cross_out, cross_map = self.cross_attn(
            with_pos(x, query_pos), with_pos(memory, memory_pos), memory, clip_valid, need_weights
        )  # (B, Q, D), (B, Q, T)
        tgt = self.residual(tgt, cross_out)
        if not self.norm_first:
            tgt = self.norm2(tgt)
        return tgt, cross_out, cross_map

    def feed_forward_block(self, tgt: torch.Tensor) -> torch.Tensor:
        x = self.norm3(tgt) if self.norm_first else tgt
        tgt = self.residual(tgt, self.linear2(self.dropout(F.relu(self.linear1(x)))))
        return tgt if self.norm_first else self.norm3(tgt)


class Decoder(nn.Module):
    """A stack of decoder layers; pre-norm stacks end with a LayerNorm, as DETR's."""

    layer_type: type[DecoderLayer] = DecoderLayer

    def __init__(self, num_layers: int, final_norm: int | None, **layer_kwargs):
        super().__init__()
        self.layers = nn.ModuleList(self.layer_type(**layer_kwargs) for _ in range(num_layers))
        self.final_norm = nn.LayerNorm(final_norm) if final_norm else None

    def forward(self, tgt, memory, query_pos, memory_pos, query_valid, clip_valid, need_weights=False):
        """As :meth:`DecoderLayer.forward`, with one dict per layer."""
        per_layer = []
        for layer in self.layers:
            tgt, info = layer(tgt, memory, query_pos, memory_pos, query_valid, clip_valid, need_weights)
            per_layer.append(info)
        if self.final_norm is not None:
            tgt = self.final_norm(tgt)
        return tgt, per_layer
