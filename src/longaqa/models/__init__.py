"""Models. :func:`build_model` is the one place where the config meets constructors."""

from __future__ import annotations

from longaqa.config import Config, ModelConfig
from longaqa.models.additive import AdditiveHead, LearnedOptions
from longaqa.models.aqa import AQAOutput, QueryAQA
from longaqa.models.baseline import MeanPoolAQA
from longaqa.models.decoder import Decoder
from longaqa.models.fastpath.model import FastDecoder, FastQueryAQA
from longaqa.models.heads import SingleScoreHead, WeightScoreHead

__all__ = ["AQAOutput", "MeanPoolAQA", "QueryAQA", "build_model", "model_from_config", "set_training_progress"]


def build_model(
    cfg: ModelConfig, sheet=None, score_divisor: float = 1.0, fastpath: bool | None = None
) -> QueryAQA | MeanPoolAQA:
    """The model ``cfg`` describes. The additive head also needs the score ``sheet``
    (``longaqa.sheets.score_sheet(cfg.data)``, one part per clip when None) and ``data.score_divisor``;
    :func:`model_from_config` passes both. ``fastpath`` (default ``cfg.fastpath``): the subclasses of
    ``longaqa.models.fastpath.model`` (the same parameters and state dict keys)."""
    if cfg.head == "mean_pool":
        return MeanPoolAQA(cfg.input_dim, cfg.d_model, cfg.num_queries, list(cfg.head_hidden), cfg.dropout)
    fast = cfg.fastpath if fastpath is None else fastpath
    decoder_clip_dropout = 0.0
    decoder = (FastDecoder if fast else Decoder)(
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
    if cfg.head == "additive":
        from longaqa.sheets import SINGLE_SHEET

        sheet = sheet or SINGLE_SHEET
        if sheet.holistic_terms and cfg.video_terms_from == "queries":
            decoder_clip_dropout = cfg.impression_clip_dropout  # the impression must not hang on one clip
        head = AdditiveHead(cfg.d_model, list(cfg.head_hidden), sheet, score_divisor,
                            cfg.local_window, cfg.local_hidden, cfg.dropout, cfg.local_context_dropout,
                            cfg.local_competition, cfg.local_contrast,
                            cfg.background_share if cfg.local_background else 0.0, cfg.video_terms_from,
                            cfg.background_confidence, cfg.background_deductions, cfg.background_rule,
                            cfg.local_centre, LearnedOptions(
                                teacher=cfg.learned_teacher, dead_zone=cfg.learned_foreground_dead_zone,
                                forcing=cfg.learned_teacher_forcing, forcing_until=cfg.learned_teacher_forcing_until,
                                forcing_clips=cfg.learned_teacher_forcing_clips,
                                from_labels=cfg.learned_foreground_from_labels), cfg.local_centre_statistic)
    else:
        head = (WeightScoreHead if cfg.head == "weight_score" else SingleScoreHead)(cfg.d_model, list(cfg.head_hidden))
    fast_only = dict(share_batch_work=cfg.share_batch_work) if fast else {}
    return (FastQueryAQA if fast else QueryAQA)(
        input_dim=cfg.input_dim,
        d_model=cfg.d_model,
        num_queries=cfg.num_queries,
        decoder=decoder,
        head=head,
        query_init=cfg.query_init,
        query_init_std=cfg.query_init_std,
        query_resample_eval=cfg.query_resample_eval,
        query_pe=cfg.query_pe,
        memory_pe=cfg.memory_pe,
        query_pos_adds_content=cfg.query_pos_adds_content,
        padding_mask=cfg.padding_mask,
        cross_attention_window=cfg.cross_attention_window,
        decoder_clip_dropout=decoder_clip_dropout,
        **fast_only,
    )


def model_from_config(cfg: Config, fastpath: bool | None = None) -> QueryAQA | MeanPoolAQA:
    """:func:`build_model` with what the additive head reads from the data section."""
    if cfg.model.head != "additive":
        return build_model(cfg.model, fastpath=fastpath)
    from longaqa.sheets import score_sheet

    model = build_model(cfg.model, score_sheet(cfg.data), cfg.data.score_divisor, fastpath)
    model.head.hide_check = cfg.loss.lambda_hide > 0  # training then measures what hiding a clip moves
    model.head.spread_check = cfg.loss.lambda_concentrate > 0  # ... and how evenly credit spreads
    model.head.spread_window = cfg.loss.concentrate_window
    if cfg.loss.lambda_aux_total > 0:  # a total from the whole video, for training only
        model.head.enable_aux_total(list(cfg.model.head_hidden))
    return model


def set_training_progress(model, done: float) -> None:
    """Tell ``model``'s modules (a DDP wrapper's too) that ``done`` in [0, 1) of training's epochs are
    behind: each module with a ``set_training_progress`` method (e.g. the learned foreground's forcing
    schedule) gets it. Called before every training epoch, so a resumed run follows the same schedule."""
    for module in model.modules():
        if hasattr(module, "set_training_progress"):
            module.set_training_progress(done)
