"""Temporal sine positional encoding (the 1-D analogue of DETR's sine encoding)."""

from __future__ import annotations

import math

import torch


def sine_encoding(length: int, dim: int, temperature: float = 10000.0, device=None) -> torch.Tensor:
    """Sine/cosine encoding of positions ``0..length-1``: a ``(length, dim)`` float tensor.

    Channel ``2i`` holds ``sin(t / temperature^(2i/dim))`` and ``2i+1`` the cosine, as in
    "Attention is all you need". ``dim`` must be even.
    """
    position = torch.arange(length, dtype=torch.float32, device=device)[:, None]  # (L, 1)
    freq = torch.exp(
        torch.arange(0, dim, 2, dtype=torch.float32, device=device) * (-math.log(temperature) / dim)
    )  # (dim/2,)
    enc = torch.zeros(length, dim, device=device)
    enc[:, 0::2] = torch.sin(position * freq)
    enc[:, 1::2] = torch.cos(position * freq)
    return enc
