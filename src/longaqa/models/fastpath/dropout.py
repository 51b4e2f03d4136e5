"""Dropout for CPU training: masks from 16 random bits per element, drawn by numpy on two threads.

On CPU, drawing the random numbers is most of what dropout costs (torch's generator runs on one
thread); ``bench/dropout_masks.py`` measures the sources against each other. :class:`Dropout` has
``nn.Dropout``'s contract, and off the CPU it is ``F.dropout``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

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
    only, not on the machine or the thread count.
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
    torch's Bernoulli kernel. An element is kept when its 16 bits, read as a
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

