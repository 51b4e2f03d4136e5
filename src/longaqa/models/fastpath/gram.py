"""The attention loss's correlation (``longaqa.losses.correlation_log_probs``) with a hand-written
backward and without repeating the work of a batch-shared attention output.

Letters: B batch, Q queries, D d_model.
"""

from __future__ import annotations

import torch


class Gram(torch.autograd.Function):
    """``a @ a^T`` for ``a`` (B, Q, D), with the backward ``(G + G^T) @ a``: one batched matmul instead
    of autograd's two, and no transposed copy or strided sum of the two halves of the gradient."""

    @staticmethod
    def forward(ctx, a: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(a)
        return torch.bmm(a, a.transpose(1, 2))

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:
        (a,) = ctx.saved_tensors
        return torch.bmm(grad + grad.transpose(1, 2), a)


def correlation_log_probs(
    attn_output: torch.Tensor, temperature: float, query_valid: torch.Tensor | None
) -> torch.Tensor:
    """As ``longaqa.losses.correlation_log_probs`` (``(B, Q, Q)``, in fp32), with :class:`Gram`; an
    ``attn_output`` broadcast over the batch (batch stride 0: the batch-shared first self-attention)
    is multiplied once, not once per sample."""
    B = attn_output.shape[0]
    shared = B > 1 and attn_output.stride(0) == 0
    a = (attn_output[:1] if shared else attn_output).float()
    with torch.autocast(a.device.type, enabled=False):
        gram = Gram.apply(a) / temperature  # (1 or B, Q, Q)
    if query_valid is None:
        log_probs = gram.log_softmax(-1)
        return log_probs.expand(B, -1, -1) if shared else log_probs
    gram = gram.expand(B, -1, -1).masked_fill(~query_valid[:, None, :], float("-inf"))
    return gram.log_softmax(-1)
