"""Numeric precision: ``train.precision`` resolved for a device, and the autocast context it runs under."""

from __future__ import annotations

import contextlib

import torch


def native_bf16(device: torch.device) -> bool:
    """Whether ``device`` multiplies bf16 matrices natively (where bf16 autocast pays)."""
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported(including_emulation=False)
    if device.type == "cpu":
        checks = ("_is_amx_tile_supported", "_is_avx512_bf16_supported")
        return any(getattr(torch.cpu, name, lambda: False)() for name in checks)
    return False


def resolve_precision(precision: str, device: torch.device) -> str:
    """``train.precision`` as run on ``device``: ``auto`` becomes ``bf16`` or ``fp32`` (see :func:`native_bf16`)."""
    if precision != "auto":
        return precision
    return "bf16" if native_bf16(device) else "fp32"


def autocast(device: torch.device, precision: str, cache_enabled: bool | None = None):
    """bf16 autocast on ``device`` when ``precision`` is ``bf16``, else a context that does nothing.
    ``cache_enabled=False`` for a CUDA graph capture, where autocast's cast cache must be off."""
    if precision == "bf16":
        return torch.autocast(device_type=device.type, dtype=torch.bfloat16, cache_enabled=cache_enabled)
    return contextlib.nullcontext()
