"""Models. :func:`build_model` is the one place where the config meets constructors."""

from __future__ import annotations

from longaqa.config import ModelConfig
from longaqa.models.aqa import AQAOutput, QueryAQA
from longaqa.models.baseline import MeanPoolAQA
from longaqa.models.decoder import Decoder
from longaqa.models.heads import SingleScoreHead, WeightScoreHead

__all__ = ["AQAOutput", "MeanPoolAQA", "QueryAQA", "build_model"]


def build_model(cfg: ModelConfig) -> QueryAQA | MeanPoolAQA:
    if cfg.head == "mean_pool":
        return MeanPoolAQA(cfg.input_dim, cfg.d_model, cfg.num_queries, list(cfg.head_hidden), cfg.dropout)
    decoder = Decoder(
        num_layers=cfg.num_layers,
        final_norm=cfg.d_model if cfg.norm == "pre" else None,
        d_model=cfg.d_model,
        num_heads=cfg.num_heads,
        dim_feedforward=cfg.dim_feedforward,
        dropout=cfg.dropout,
        attention_dropout=cfg.attention_dropout,
        norm_first=cfg.norm == "pre",
        self_attn_residual=cfg.self_attn_residual,
    )
    head_cls = WeightScoreHead if cfg.head == "weight_score" else SingleScoreHead
    return QueryAQA(
        input_dim=cfg.input_dim,
        d_model=cfg.d_model,
        num_queries=cfg.num_queries,
        decoder=decoder,
        head=head_cls(cfg.d_model, list(cfg.head_hidden)),
        query_init=cfg.query_init,
        query_init_std=cfg.query_init_std,
        query_resample_eval=cfg.query_resample_eval,
        query_pe=cfg.query_pe,
        memory_pe=cfg.memory_pe,
        query_pos_adds_content=cfg.query_pos_adds_content,
        padding_mask=cfg.padding_mask,
        share_batch_work=cfg.share_batch_work,
        cross_attention_window=cfg.cross_attention_window,
    )
