"""DETR-style transformer decoder (no encoder) that returns what its attention did.

Every layer returns its self- and cross-attention *outputs* (after the output projection, before the
residual), which the attention loss compares, and, when asked, the head-averaged attention
probability maps, which explanations draw.

Batch-shared work: a ``tgt`` with batch size 1 stands for queries that are identical for every sample
(learned queries). A layer then computes whatever does not yet depend on the sample once (the
self-attention, and, where no dropout intervenes, the norm and the cross-attention query projection)
and broadcasts to the memory's batch size at the first per-sample step. Outputs are those of the
same layer given the queries expanded to the batch (fp tolerance), random dropout draws included.

Letters: B batch, Q queries, T clips (memory), D d_model, H heads.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn


class MultiHeadAttention(nn.Module):
    """Multi-head attention on fused scaled-dot-product attention.

    ``key_valid`` (B, K), or (B, Q, K) per query, marks keys that may be attended to. Maps are computed
    explicitly only when ``need_weights`` is set; otherwise the fused kernel runs, except on CPU: there,
    for this model's shapes (tens of queries, head width 256), torch's fused CPU kernel is slower than the explicit
    three batched matmuls (forward + backward, one thread, B=48, Q=K=68: fp32 164 vs 155 ms, bf16 435
    vs 122 ms; ``bench/RESULTS.md``), so the explicit form runs there. A ``query`` of batch size 1
    with keys of batch size B is projected once and broadcast (the output has batch size B).

    The explicit form works head by head on column slices of the projections (:meth:`explicit`), which
    batched matmuls read in place: the usual ``(B, H, L, D/H)`` layout would copy q, k, v and the output
    forward and their gradients backward (``python bench/attention_layout.py``).
    """

    def __init__(self, d_model: int, num_heads: int, dropout: float = 0.0):
        super().__init__()
        self.num_heads = num_heads
        self.dropout = dropout
        self.q_proj = nn.Linear(d_model, d_model)
        self.k_proj = nn.Linear(d_model, d_model)
        self.v_proj = nn.Linear(d_model, d_model)
        self.out_proj = nn.Linear(d_model, d_model)

    def _split(self, x: torch.Tensor) -> torch.Tensor:
        B, L, D = x.shape
        return x.view(B, L, self.num_heads, D // self.num_heads).transpose(1, 2)  # (B, H, L, D/H)

    def forward(
        self,
        query: torch.Tensor,
        key: torch.Tensor,
        value: torch.Tensor,
        key_valid: torch.Tensor | None = None,
        need_weights: bool = False,
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        B = max(query.shape[0], key.shape[0])
        q, k, v = self.q_proj(query), self.k_proj(key), self.v_proj(value)  # (1 or B, Q, D), (B, K, D)
        if q.shape[0] != B:  # a batch-shared query meets per-sample keys
            q = q.expand(B, -1, -1)
        p = self.dropout if self.training else 0.0
        if need_weights or q.device.type == "cpu":
            out, maps = self.explicit(q, k, v, key_valid, p, need_weights)
        else:
            mask = None if key_valid is None else self._head_mask(key_valid)[:, None]  # (B, 1, 1 or Q, K)
            out = F.scaled_dot_product_attention(self._split(q), self._split(k), self._split(v),
                                                 attn_mask=mask, dropout_p=p)
            out, maps = out.transpose(1, 2).flatten(2), None  # (B, Q, D)
        return self.out_proj(out), maps

    @staticmethod
    def _head_mask(key_valid: torch.Tensor) -> torch.Tensor:
        """(B, 1, K) for keys per sample, (B, Q, K) for keys per sample and query."""
        return key_valid[:, None, :] if key_valid.dim() == 2 else key_valid

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

        One head at a time on column slices (views with row stride D, which batched matmuls take as
        they are), so nothing is copied but the final concatenation; the gradients of the slices are
        gathered by one concatenation each. Logits and softmax in fp32 also under bf16 autocast (as the
        fused kernels do): bf16 logits cost accuracy (bench/RESULTS.md, bf16 accuracy); the maps are small.
        """
        width = q.shape[-1] // self.num_heads
        mask = None if key_valid is None else ~self._head_mask(key_valid)  # True: hidden
        outs, probs_all = [], []
        for q_h, k_h, v_h in zip(q.split(width, -1), k.split(width, -1), v.split(width, -1)):
            logits = torch.bmm(q_h, k_h.transpose(1, 2)).float() / (width ** 0.5)  # (B, Q, K)
            if mask is not None:
                logits = logits.masked_fill(mask, float("-inf"))
            probs = logits.softmax(-1)
            outs.append(torch.bmm((F.dropout(probs, p) if p else probs).to(v_h.dtype), v_h))  # (B, Q, D/H)
            if need_weights:
                probs_all.append(probs)
        maps = torch.stack(probs_all, 1).mean(1) if need_weights else None  # (B, Q, K), mean over heads
        return torch.cat(outs, -1), maps


_RANDOM_POOL: ThreadPoolExecutor | None = None
RANDOM_CHUNK_WORDS = 1 << 17  # counts above this are drawn in two chunks, on two threads


def _forget_random_pool() -> None:  # a forked child has none of its parent's threads
    global _RANDOM_POOL
    _RANDOM_POOL = None


os.register_at_fork(after_in_child=_forget_random_pool)


def random_words(count: int, consume: Callable[[np.ndarray, int], None]) -> None:
    """Draw ``count`` uniform 64-bit words (every bit uniform) for CPU dropout masks, in chunks, and
    call ``consume(words, offset)`` on each chunk (``words`` int64, ``offset`` its first word's index)
    on the thread that drew it.

    Drawn by numpy's PCG64, seeded by one draw from torch's default generator, so ``torch.manual_seed``
    and a restored RNG state (``--resume``) reproduce them. Above ``RANDOM_CHUNK_WORDS`` words the two
    halves come from two streams (``SeedSequence([seed, 0])`` and ``[seed, 1]``), drawn and consumed
    at once by this thread and one helper thread (numpy releases the GIL while it draws and in its
    element-wise loops; with one torch thread, both on this thread). The split depends on ``count``
    only, not on the machine or the thread count. For a (48, 68, 1024) mask's 836k words: about
    1.3 ms, against 1.9 ms on one thread and 4.1 ms with torch's CPU generator (mt19937;
    ``python bench/dropout_masks.py``).
    """
    global _RANDOM_POOL
    seed = int(torch.randint(0, 2**62, (1,)))
    if count <= RANDOM_CHUNK_WORDS:
        consume(np.random.PCG64([seed, 0]).random_raw(count).view(np.int64), 0)
        return
    half = count // 2

    def draw(part: int) -> None:
        consume(np.random.PCG64([seed, part]).random_raw(count - half if part else half).view(np.int64),
                half * part)

    if torch.get_num_threads() < 2:  # the same two streams, one after the other: the same words
        draw(0)
        draw(1)
        return
    if _RANDOM_POOL is None:
        _RANDOM_POOL = ThreadPoolExecutor(1, thread_name_prefix="longaqa-dropout")
    second = _RANDOM_POOL.submit(draw, 1)  # one helper thread; this thread draws the first half
    draw(0)
    second.result()  # re-raises the helper's error here


class Dropout(nn.Module):
    """Inverted dropout (zero with probability ``p``, scale the rest by ``1 / (1 - p)``), as
    ``nn.Dropout``; elsewhere than on CPU torch's fused kernel runs.

    On CPU, drawing the random numbers is most of dropout's cost (torch's generator runs on one
    thread), so the mask uses 16 random bits per element, four per 64-bit word from numpy's PCG64 on
    two threads (:func:`random_words`), instead of one 32-bit draw per element (``torch.rand``) or
    torch's Bernoulli kernel (``bench/RESULTS.md``). An element is kept when its 16 bits, read as a
    signed integer, reach ``threshold``: the keep rate is ``1 - p`` rounded to a multiple of 2^-16
    (``keep_rate``; 0.300003 for p = 0.7) and the kept elements are scaled by
    ``1 / keep_rate``, so the expectation of the output is exactly the input.
    """

    def __init__(self, p: float):
        super().__init__()
        self.p = p
        kept_codes = round((1.0 - p) * 65536)  # how many of the 2^16 codes keep an element
        self.threshold = 32768 - kept_codes  # int16 codes >= threshold are kept
        self.keep_rate = kept_codes / 65536
        self.scale = 1.0 / self.keep_rate if kept_codes else 0.0

    def _codes_to(self, out: torch.Tensor, scale: float | None) -> torch.Tensor:
        """Fill ``out`` (flat, a multiple of 4 long) from 16 random bits per element: kept or not
        (bool ``out``), or ``scale`` or 0 (float32 ``out``), on the threads that draw the bits."""
        if self.threshold <= -32768 or self.threshold >= 32768:  # p below 2^-17: all kept; within 2^-17 of 1: none
            kept = self.threshold <= -32768
            return out.fill_(kept if scale is None else (scale if kept else 0.0))
        flat = out.numpy()
        factor = None if scale is None else np.float32(scale)

        def consume(words: np.ndarray, offset: int) -> None:
            codes = words.view(np.int16)  # four codes per word
            target = flat[4 * offset:4 * offset + len(codes)]
            if factor is None:
                np.greater_equal(codes, self.threshold, out=target)
            else:
                np.multiply(np.greater_equal(codes, self.threshold), factor, out=target)

        random_words(len(flat) // 4, consume)
        return out

    def cpu_keep(self, shape: torch.Size) -> torch.Tensor:
        """bool: True (kept) or False (dropped) for every element of ``shape``, from 16 random bits each."""
        n = shape.numel()
        return self._codes_to(torch.empty(4 * ((n + 3) // 4), dtype=torch.bool), None)[:n].view(shape)

    def cpu_mask(self, shape: torch.Size, dtype: torch.dtype) -> torch.Tensor:
        """0 or ``1 / keep_rate`` (in ``dtype``; 0 or 1 for other dtypes than float32) per element.

        In float32 the mask is written by the threads that draw its bits, half each: comparing the
        codes and scaling them there takes one pass per half instead of three passes in torch."""
        if dtype != torch.float32:
            return self.cpu_keep(shape).to(dtype)
        n = shape.numel()
        return self._codes_to(torch.empty(4 * ((n + 3) // 4)), self.scale)[:n].view(shape)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0:
            return x
        if x.device.type != "cpu":
            return F.dropout(x, self.p, True)
        mask = self.cpu_mask(x.shape, x.dtype)
        if x.dtype == torch.float32:  # one multiply forward and backward
            return x * mask
        return x * mask * self.scale  # scale in fp32, not rounded to bf16

    def add_to(self, base: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """``base + dropout(x)`` (a residual connection); on CPU in fp32 one pass forward and one backward
        (:class:`MaskedResidual`)."""
        if (self.training and self.p > 0 and x.device.type == "cpu" and x.dtype == base.dtype == torch.float32
                and x.shape == base.shape):
            return MaskedResidual.apply(base, x, self.cpu_mask(x.shape, torch.float32))
        return base + self(x)

    def extra_repr(self) -> str:
        return f"p={self.p}"


class MaskedResidual(torch.autograd.Function):
    """``base + x * mask`` in one pass (``addcmul``), with the gradient of ``x`` in one multiply by the
    saved ``mask`` (autograd's own backward of ``addcmul`` scales and multiplies in two passes)."""

    @staticmethod
    def forward(ctx, base: torch.Tensor, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(mask)
        return torch.addcmul(base, x, mask)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        (mask,) = ctx.saved_tensors
        grad_x = grad * mask if ctx.needs_input_grad[1] else None
        return (grad if ctx.needs_input_grad[0] else None), grad_x, None


class DecoderLayer(nn.Module):
    """Self-attention over queries, cross-attention to clip features, FFN; post- or pre-norm."""

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
        self.self_attn = MultiHeadAttention(d_model, num_heads, attention_dropout)
        self.cross_attn = MultiHeadAttention(d_model, num_heads, attention_dropout)
        self.linear1 = nn.Linear(d_model, dim_feedforward)
        self.linear2 = nn.Linear(dim_feedforward, d_model)
        self.norm1 = nn.LayerNorm(d_model)
        self.norm2 = nn.LayerNorm(d_model)
        self.norm3 = nn.LayerNorm(d_model)
        self.dropout = Dropout(dropout)
        self.norm_first = norm_first
        self.self_attn_residual = self_attn_residual

    def self_attention_block(
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
        qk = x if query_pos is None else x + query_pos
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

    def forward(
        self,
        tgt: torch.Tensor,
        memory: torch.Tensor,
        query_pos: torch.Tensor | None,
        memory_pos: torch.Tensor | None,
        query_valid: torch.Tensor | None,
        clip_valid: torch.Tensor | None,
        need_weights: bool = False,
        prefix: tuple[torch.Tensor, torch.Tensor, torch.Tensor | None] | None = None,
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor | None]]:
        """``prefix``: the result of :meth:`self_attention_block` for these inputs, when the caller has it."""
        def with_pos(x, pos):
            return x if pos is None else x + pos

        batch = memory.shape[0]
        if prefix is None:
            prefix = self.self_attention_block(tgt, query_pos, query_valid, need_weights, batch)
        tgt, self_out, self_map = prefix

        # cross-attention: queries attend to the clip features
        x = self.norm2(tgt) if self.norm_first else tgt
        cross_out, cross_map = self.cross_attn(
            with_pos(x, query_pos), with_pos(memory, memory_pos), memory, clip_valid, need_weights
        )  # (B, Q, D)
        tgt = self.dropout.add_to(tgt, cross_out)  # (B, Q, D) from here on
        if not self.norm_first:
            tgt = self.norm2(tgt)

        # feed-forward
        x = self.norm3(tgt) if self.norm_first else tgt
        tgt = self.dropout.add_to(tgt, self.linear2(self.dropout(F.relu(self.linear1(x)))))
        if not self.norm_first:
            tgt = self.norm3(tgt)
        return tgt, {
            "self_attn_output": self_out.expand(batch, -1, -1),
            "cross_attn_output": cross_out,
            "self_attn_map": None if self_map is None else self_map.expand(batch, -1, -1),
            "cross_attn_map": cross_map,
        }


class Decoder(nn.Module):
    """A stack of decoder layers; pre-norm stacks end with a LayerNorm, as DETR's."""

    def __init__(self, num_layers: int, final_norm: int | None, **layer_kwargs):
        super().__init__()
        self.layers = nn.ModuleList(DecoderLayer(**layer_kwargs) for _ in range(num_layers))
        self.final_norm = nn.LayerNorm(final_norm) if final_norm else None

    def forward(self, tgt, memory, query_pos, memory_pos, query_valid, clip_valid, need_weights=False,
                prefix=None):
        """``prefix``: the first layer's self-attention block, when the caller has it (see DecoderLayer)."""
        per_layer = []
        for i, layer in enumerate(self.layers):
            tgt, info = layer(tgt, memory, query_pos, memory_pos, query_valid, clip_valid, need_weights,
                              prefix if i == 0 else None)
            per_layer.append(info)
        if self.final_norm is not None:
            tgt = self.final_norm(tgt)
        return tgt, per_layer
