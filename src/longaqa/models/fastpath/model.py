"""The model's fast subclasses: the same parameters, names and outputs (fp tolerance) as
``longaqa.models``, built by ``build_model`` when ``model.fastpath`` is on.

- Batch-shared work (``model.share_batch_work``). Learned queries are identical for every sample, so
  they enter the decoder once, ``tgt`` (1, Q, D). A layer computes what does not yet depend on the
  sample once (the self-attention, and, where no dropout intervenes, the norm and the cross-attention
  query projection) and broadcasts to the memory's batch size B at the first per-sample step.
  Outputs are those of the plain path given the queries expanded to the batch, random dropout draws
  included. In evaluation without autograd the first self-attention block depends on no input and is
  cached (:meth:`FastQueryAQA.cached_query_prefix`).
- Attention on CPU: the explicit per-head matmuls (``MultiHeadAttention.explicit``) instead of the
  fused kernel, which is slower on CPU for this model's shapes (tens of queries, head width 256).
- Dropout masks and residual adds of :mod:`longaqa.models.fastpath.dropout`.
- Masks dropped when a batch has no padding (one read of ``lengths`` from the device).

Letters: B batch, Q queries, T clips (memory), D d_model.
"""

from __future__ import annotations

import torch

from longaqa.models.aqa import AQAOutput, QueryAQA
from longaqa.models.attention import MultiHeadAttention
from longaqa.models.decoder import Decoder, DecoderLayer, with_pos
from longaqa.models.fastpath.dropout import Dropout


class FastAttention(MultiHeadAttention):
    """On CPU always the explicit form; a ``query`` of batch size 1 with keys of batch size B is
    projected once and broadcast (the output has batch size B)."""

    def forward(self, query, key, value, key_valid=None, need_weights=False):
        B = max(query.shape[0], key.shape[0])
        q, k, v = self.q_proj(query), self.k_proj(key), self.v_proj(value)  # (1 or B, Q, D), (B, K, D)
        if q.shape[0] != B:  # a batch-shared query meets per-sample keys
            q = q.expand(B, -1, -1)
        p = self.dropout if self.training else 0.0
        if need_weights or q.device.type == "cpu":
            out, maps = self.explicit(q, k, v, key_valid, p, need_weights)
        else:
            out, maps = self.fused(q, k, v, key_valid, p), None
        return self.out_proj(out), maps


class FastDecoderLayer(DecoderLayer):
    """A decoder layer whose ``tgt`` may have batch size 1 (queries shared by the batch)."""

    attention_type = FastAttention
    dropout_type = Dropout

    def residual(self, tgt: torch.Tensor, branch: torch.Tensor) -> torch.Tensor:
        return self.dropout.add_to(tgt, branch)

    def shared_self_attention_block(
        self,
        tgt: torch.Tensor,
        query_pos: torch.Tensor | None,
        query_valid: torch.Tensor | None,
        need_weights: bool,
        batch: int,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        """Self-attention over the queries with its residual and norm: (tgt, self_out, self_map).

        ``tgt`` (1 or B, Q, D); the results keep batch size 1 while nothing differs per sample.
        """
        if tgt.shape[0] != batch and (
            query_valid is not None or (self.training and self.self_attn.dropout > 0)
        ):  # the self-attention differs per sample: no sharing
            tgt = tgt.expand(batch, -1, -1)
        x = self.norm1(tgt) if self.norm_first else tgt
        qk = with_pos(x, query_pos)
        self_out, self_map = self.self_attn(qk, qk, x, query_valid, need_weights)  # (1 or B, Q, D)
        if self.training and self.dropout.p > 0 and tgt.shape[0] != batch:  # per-sample dropout draws
            tgt = tgt.expand(batch, -1, -1)
        if self.self_attn_residual:
            tgt = self.dropout.add_to(tgt, self_out.expand_as(tgt))
        else:  # authors' code: the self-attention output replaces the queries
            tgt = self.dropout(self_out.expand_as(tgt))
        if not self.norm_first:
            tgt = self.norm1(tgt)
        return tgt, self_out, self_map

    def forward(self, tgt, memory, query_pos, memory_pos, query_valid, clip_valid, need_weights=False,
                prefix=None):
        """As :meth:`DecoderLayer.forward`; ``prefix``: the result of :meth:`shared_self_attention_block`
        for these inputs, when the caller has it."""
        batch = memory.shape[0]
        if prefix is None:
            prefix = self.shared_self_attention_block(tgt, query_pos, query_valid, need_weights, batch)
        tgt, self_out, self_map = prefix
        tgt, cross_out, cross_map = self.cross_attention_block(
            tgt, memory, query_pos, memory_pos, clip_valid, need_weights
        )  # (B, Q, D) from here on
        tgt = self.feed_forward_block(tgt)
        return tgt, {
            "self_attn_output": self_out.expand(batch, -1, -1),
            "cross_attn_output": cross_out,
            "self_attn_map": None if self_map is None else self_map.expand(batch, -1, -1),
            "cross_attn_map": cross_map,
        }


class FastDecoder(Decoder):
    layer_type = FastDecoderLayer

    def forward(self, tgt, memory, query_pos, memory_pos, query_valid, clip_valid, need_weights=False,
                prefix=None):
        """As :meth:`Decoder.forward`; ``prefix``: the first layer's self-attention block, when the caller
        has it (see :meth:`FastDecoderLayer.forward`)."""
        per_layer = []
        for i, layer in enumerate(self.layers):
            tgt, info = layer(tgt, memory, query_pos, memory_pos, query_valid, clip_valid, need_weights,
                              prefix if i == 0 else None)
            per_layer.append(info)
        if self.final_norm is not None:
            tgt = self.final_norm(tgt)
        return tgt, per_layer


class FastQueryAQA(QueryAQA):
    """:class:`QueryAQA` on a :class:`FastDecoder`, sharing the batch's query work when
    ``share_batch_work`` is set."""

    def __init__(self, *args, share_batch_work: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self.share_batch_work = share_batch_work
        self._query_prefix: tuple | None = None  # (key, prefix): see cached_query_prefix

    def forward(self, clip_features, lengths=None, need_weights=False, clip_mask=None) -> AQAOutput:
        out = super().forward(clip_features, lengths, need_weights, clip_mask)
        out.fastpath = True
        return out

    def masks(self, B, T, lengths, clip_mask, device):
        """As :meth:`QueryAQA.masks`, with no query mask when no video is shorter than Q clips and no
        cross-attention mask when none is shorter than T (and no clip is hidden)."""
        clip_valid, query_valid, cross_valid = super().masks(B, T, lengths, clip_mask, device)
        if self.padding_mask and lengths is not None:
            shortest = int(lengths.min())  # one read from the device for both masks
            if shortest >= self.num_queries:
                query_valid = None
            if shortest >= T and clip_mask is None and self.cross_attention_window == 0:
                cross_valid = None
        return clip_valid, query_valid, cross_valid

    def decode(self, content, memory, query_pos, memory_pos, query_valid, cross_valid, need_weights):
        B = memory.shape[0]
        # shared queries enter the decoder once, (1, Q, D); it broadcasts them where they start to differ
        tgt = content if self.share_batch_work else content.expand(B, -1, -1)
        prefix = None
        if (self.share_batch_work and self.query_init == "learned" and not self.training
                and not torch.is_grad_enabled() and query_valid is None and not need_weights):
            prefix = self.cached_query_prefix(tgt, query_pos, B)
        return self.decoder(tgt, memory, query_pos, memory_pos, query_valid, cross_valid, need_weights, prefix)

    def train(self, mode: bool = True):
        # Optimizers may update parameters in place without bumping their version counters (fused
        # Adam does not), so the evaluation cache below is dropped whenever the mode changes.
        self._query_prefix = None
        return super().train(mode)

    def cached_query_prefix(self, tgt: torch.Tensor, query_pos: torch.Tensor | None, batch: int):
        """The first decoder layer's self-attention block, which in evaluation depends on no input.

        Computed once and reused while the parameters it reads are unchanged: the cache key holds
        each one's storage and version counter (bumped by ``load_state_dict`` and most in-place
        updates) and the autocast state, and ``train()``/``eval()`` drop it (fused Adam updates in
        place without bumping versions). Used only without autograd.
        """
        layer = self.decoder.layers[0]
        device = tgt.device
        sources = [self.query_embed, self.query_pos_table, *layer.self_attn.parameters(),
                   *layer.norm1.parameters()]
        key = (
            tuple((t.data_ptr(), t._version) for t in sources),
            torch.is_autocast_enabled(device.type),
            torch.get_autocast_dtype(device.type),
            torch.is_inference_mode_enabled(),
        )
        if self._query_prefix is None or self._query_prefix[0] != key:
            self._query_prefix = (key, layer.shared_self_attention_block(tgt, query_pos, None, False, batch))
        return self._query_prefix[1]
