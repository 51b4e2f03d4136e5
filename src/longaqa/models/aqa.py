"""The paper's model: clip features -> learnable positional queries -> decoder -> regression head.

Letters: B batch, T clips, Din feature dim, Q queries, D d_model.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from longaqa.models.decoder import Decoder
from longaqa.models.position import sine_encoding


@dataclass
class AQAOutput:
    """Everything that explains a prediction, as data.

    pred (B,): predicted score. weights, scores (B, Q): per-query weight (sums to 1 over valid
    queries) and score; ``weights * scores`` are the per-query contributions (None for the additive
    head, which has no per-query weights). With the additive head: clip_parts (B, T, P) the per-clip
    parts of its score sheet (0 on padded and hidden clips), clip_contributions (B, T) their signed
    sum, video_terms (B, V) and subscores (name -> (B,)); with its background prior, clip_foreground
    (B, T) in [0, 1] (0: the clip is the routine's background and earns nothing). query_valid (B, Q)
    and clip_valid (B, T): masks (None when padding is not masked; the fast path also leaves query_valid
    None when no video is shorter than Q clips). self_attn_outputs and cross_attn_outputs: per layer (B, Q, D), used by
    the attention loss. self_attn_maps (B, Q, Q) and cross_attn_maps (B, Q, T): per layer,
    head-averaged probabilities, only with ``need_weights``. fastpath: made by the CPU fast paths of
    ``longaqa.models.fastpath`` (``model.fastpath``), whose attention
    outputs may be broadcast over the batch; the criterion then takes the loss's fast path too.
    """

    pred: torch.Tensor
    weights: torch.Tensor | None
    scores: torch.Tensor | None
    query_valid: torch.Tensor | None
    clip_valid: torch.Tensor | None
    self_attn_outputs: list[torch.Tensor]
    cross_attn_outputs: list[torch.Tensor]
    self_attn_maps: list[torch.Tensor] | None = None
    cross_attn_maps: list[torch.Tensor] | None = None
    clip_parts: torch.Tensor | None = None
    clip_contributions: torch.Tensor | None = None
    video_terms: torch.Tensor | None = None
    subscores: dict[str, torch.Tensor] | None = None
    clip_foreground: torch.Tensor | None = None
    hide_leak: torch.Tensor | None = None
    """(B,), additive head in training with ``loss.lambda_hide``: what hiding one clip moved the other
    clips' summed contribution by (``AdditiveHead.hide_leak``)."""
    credit_spread: torch.Tensor | None = None
    """(B,), additive head in training with ``loss.lambda_concentrate``: how evenly its credit parts
    spread over the clips (``AdditiveHead.credit_spread``)."""
    aux_total: torch.Tensor | None = None
    """(B,), additive head in training with ``loss.lambda_aux_total``: the auxiliary total from the decoded
    queries (``AdditiveHead.enable_aux_total``); never part of ``pred``."""
    background_fit: torch.Tensor | None = None
    """(B,), additive head with ``background_rule: learned``, in training: its foreground network's fit
    to the densest rule (``LocalParts.learned_foreground``)."""
    fastpath: bool = False

    @property
    def contributions(self) -> torch.Tensor | None:
        return None if self.weights is None else self.weights * self.scores


def length_mask(lengths: torch.Tensor, size: int) -> torch.Tensor:
    """(B, size) bool: True at the first ``lengths[b]`` positions of row b (the clips, or the queries
    of those clips, that exist; the rest is padding)."""
    return torch.arange(size, device=lengths.device)[None] < lengths[:, None]


class QueryAQA(nn.Module):
    """Decoder-only transformer with learnable, positionally encoded queries (one per clip)."""

    def __init__(
        self,
        input_dim: int,
        d_model: int,
        num_queries: int,
        decoder: Decoder,
        head: nn.Module,
        query_init: str = "learned",
        query_init_std: float = 1.0,
        query_pe: bool = True,
        memory_pe: bool = False,
        query_pos_adds_content: bool = False,
        padding_mask: bool = True,
        query_resample_eval: bool = False,
        cross_attention_window: int = 0,
        decoder_clip_dropout: float = 0.0,
    ):
        super().__init__()
        self.cross_attention_window = cross_attention_window
        self.decoder_clip_dropout = decoder_clip_dropout
        self.query_resample_eval = query_resample_eval
        self.input_proj = nn.Linear(input_dim, d_model) if input_dim != d_model else nn.Identity()
        self.num_queries = num_queries
        self.d_model = d_model
        self.query_init = query_init
        self.query_init_std = query_init_std
        self.query_pe = query_pe
        self.memory_pe = memory_pe
        self.query_pos_adds_content = query_pos_adds_content
        self.padding_mask = padding_mask
        if query_init == "learned":
            self.query_embed = nn.Parameter(torch.randn(num_queries, d_model) * query_init_std)
        else:  # "resample": redrawn every training forward; one fixed draw for evaluation
            self.register_buffer("query_eval", torch.randn(num_queries, d_model) * query_init_std)
        self.register_buffer("query_pos_table", sine_encoding(num_queries, d_model), persistent=False)
        self.decoder = decoder
        self.head = head
        self.sees_whole_video = hasattr(head, "sheet")
        """Trained on whole videos, not crops: the additive head's parts sum to the whole video's marks."""

    def forward(
        self,
        clip_features: torch.Tensor,
        lengths: torch.Tensor | None = None,
        need_weights: bool = False,
        clip_mask: torch.Tensor | None = None,
    ) -> AQAOutput:
        """``clip_features`` (B, T, Din), zero-padded after ``lengths`` (B,) valid clips.

        ``clip_mask`` (B, T) bool, optional: False hides a clip from cross-attention (the queries stay);
        used by the deletion/insertion tests of ``longaqa.interpret``. Keep at least one clip per video.
        """
        B, T, _ = clip_features.shape
        device = clip_features.device
        memory = self.input_proj(clip_features)  # (B, T, D)
        if torch.is_autocast_enabled(device.type):  # cast once, not in each layer's k/v projection
            memory = memory.to(torch.get_autocast_dtype(device.type))
        clip_valid, query_valid, cross_valid = self.masks(B, T, lengths, clip_mask, device)
        if self.training and self.decoder_clip_dropout > 0:
            cross_valid = self.drop_clips_from_decoder(B, T, clip_valid, cross_valid, device)

        content = self.query_content(B)  # (1 or B, Q, D)
        query_pos = self.query_pos_table[None] if self.query_pe else None  # (1, Q, D)
        if self.query_pos_adds_content:  # authors' code: PE plus batch item 0's content
            extra = content[:1]
            query_pos = extra if query_pos is None else query_pos + extra
        memory_pos = sine_encoding(T, self.d_model, device=device)[None] if self.memory_pe else None

        decoded, per_layer = self.decode(
            content, memory, query_pos, memory_pos, query_valid, cross_valid, need_weights
        )  # (B, Q, D)
        raw = {"raw_clips": clip_features} if self.sees_whole_video else {}  # the additive head's teachers read them
        head_out = self.head(decoded, query_valid, memory=memory, clip_valid=clip_valid, **raw)
        return AQAOutput(
            pred=head_out["pred"],
            weights=head_out.get("weights"),
            scores=head_out.get("scores"),
            clip_parts=head_out.get("clip_parts"),
            clip_contributions=head_out.get("clip_contributions"),
            video_terms=head_out.get("video_terms"),
            clip_foreground=head_out.get("clip_foreground"),
            hide_leak=head_out.get("hide_leak"),
            credit_spread=head_out.get("credit_spread"),
            aux_total=head_out.get("aux_total"),
            background_fit=head_out.get("background_fit"),
            subscores=head_out.get("subscores"),
            query_valid=query_valid,
            clip_valid=clip_valid,
            self_attn_outputs=[p["self_attn_output"] for p in per_layer],
            cross_attn_outputs=[p["cross_attn_output"] for p in per_layer],
            self_attn_maps=[p["self_attn_map"] for p in per_layer] if need_weights else None,
            cross_attn_maps=[p["cross_attn_map"] for p in per_layer] if need_weights else None,
        )

    def masks(
        self, B: int, T: int, lengths: torch.Tensor | None, clip_mask: torch.Tensor | None, device: torch.device
    ) -> tuple[torch.Tensor | None, torch.Tensor | None, torch.Tensor | None]:
        """(clip_valid (B, T), query_valid (B, Q), cross_valid): the clips that exist and are not hidden,
        the queries whose clip exists, and the keys each query may attend to ((B, T), or (B, Q, T) with a
        ``cross_attention_window``). None where nothing is masked."""
        clip_valid = query_valid = None
        if self.padding_mask and lengths is not None:
            lengths = lengths.to(device)
            clip_valid = length_mask(lengths, T)  # (B, T)
            # one query per clip: a query whose clip does not exist takes no part
            query_valid = length_mask(lengths, self.num_queries)  # (B, Q)
        if clip_mask is not None:
            clip_mask = clip_mask.to(device=device, dtype=torch.bool)
            clip_valid = clip_mask if clip_valid is None else clip_valid & clip_mask  # (B, T)
        cross_valid = clip_valid
        if self.cross_attention_window > 0:
            cross_valid = self.local_keys(B, T, lengths, clip_valid, device)  # (B, Q, T)
        return clip_valid, query_valid, cross_valid

    def drop_clips_from_decoder(self, B: int, T: int, clip_valid, cross_valid, device) -> torch.Tensor:
        """In training, hide each clip from the decoder's cross-attention with probability
        ``decoder_clip_dropout`` (the head's own view of the clips, ``clip_valid``, is untouched): what the
        decoder reads (the additive head's video-level terms) learns not to hang on any one clip, which is
        how hiding a clip is measured. Every video, and every query's window, keeps at least one clip."""
        base = clip_valid if clip_valid is not None else torch.ones(B, T, dtype=torch.bool, device=device)
        kept = base & (torch.rand(B, T, device=device) >= self.decoder_clip_dropout)  # (B, T)
        kept = torch.where(kept.any(1, keepdim=True), kept, base)
        if cross_valid is None or cross_valid.dim() == 2:
            return kept
        windowed = cross_valid & kept[:, None, :]  # (B, Q, T)
        return torch.where(windowed.any(-1, keepdim=True), windowed, cross_valid)

    def query_content(self, batch_size: int) -> torch.Tensor:
        """The queries' content: ``(1, Q, D)`` when shared by the batch, ``(B, Q, D)`` when resampled."""
        if self.query_init == "learned":
            return self.query_embed[None]
        if self.training or self.query_resample_eval:  # the latter: authors' code, random at test
            return torch.randn(
                batch_size, self.num_queries, self.d_model, device=self.query_eval.device
            ) * self.query_init_std
        return self.query_eval[None]

    def decode(self, content, memory, query_pos, memory_pos, query_valid, cross_valid, need_weights):
        """The decoder on the queries ``content`` (1 or B, Q, D), expanded to the batch: (B, Q, D), per layer."""
        tgt = content.expand(memory.shape[0], -1, -1)  # (B, Q, D)
        return self.decoder(tgt, memory, query_pos, memory_pos, query_valid, cross_valid, need_weights)

    def local_keys(
        self,
        B: int,
        T: int,
        lengths: torch.Tensor | None,
        clip_valid: torch.Tensor | None,
        device: torch.device,
    ) -> torch.Tensor:
        """(B, Q, T) bool: the clips within ``cross_attention_window`` of each query's own clip.

        Query k's clip is clip k when the video has at most Q clips, else ``round(k (T_b - 1) / (Q - 1))``
        (the queries spread over the video); queries past the last clip take the last one. A query whose
        whole window is hidden (``clip_mask``) falls back to every visible clip.
        """
        Q = self.num_queries
        n = lengths.to(device) if lengths is not None else torch.full((B,), T, device=device)  # (B,)
        k = torch.arange(Q, device=device, dtype=torch.float32)[None]  # (1, Q)
        spread = torch.round(k * (n[:, None] - 1).float() / max(Q - 1, 1))  # (B, Q)
        own = torch.where(n[:, None] > Q, spread, torch.minimum(k, (n[:, None] - 1).float()))  # (B, Q)
        t = torch.arange(T, device=device, dtype=torch.float32)
        local = (t[None, None, :] - own[:, :, None]).abs() <= self.cross_attention_window  # (B, Q, T)
        if clip_valid is None:
            return local
        local = local & clip_valid[:, None, :]
        empty = ~local.any(-1, keepdim=True)  # (B, Q, 1)
        return torch.where(empty, clip_valid[:, None, :], local)
