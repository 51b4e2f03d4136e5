"""Frame preprocessing of the public RG / Fis-V feature releases.

Every frame: resize so the short side is 256 (aspect kept, bilinear with antialiasing as PIL does),
centre-crop 224 high x 300 wide (zero-padded where the frame is smaller, as torchvision's
CenterCrop does), resize (squash) to 224 x 224, scale to [0, 1], normalise with a per-channel
mean / std (ImageNet's for Video Swin). As in a PIL pipeline, the resized images are 8-bit: on the
CPU the resizes run on uint8 tensors (torch's fast path there, bench/RESULTS.md), elsewhere in
float and rounded to whole levels. Letters: N frames, H height, W width, C = 3 channels.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
UNIT_RANGE_MEAN = (0.5, 0.5, 0.5)
"""With std 0.5 this maps [0, 1] to [-1, 1], the input range of the converted Kinetics I3D."""
UNIT_RANGE_STD = (0.5, 0.5, 0.5)


@dataclass(frozen=True)
class Preprocess:
    """Sizes and normalisation of the frame preprocessing (defaults: the public releases)."""

    short_side: int = 256
    crop_height: int = 224
    crop_width: int = 300
    out_size: int = 224
    mean: tuple[float, float, float] = IMAGENET_MEAN
    std: tuple[float, float, float] = IMAGENET_STD


def resize(frames: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """(N, C, H, W) -> (N, C, *size), bilinear with antialiasing; uint8 stays uint8 (rounded)."""
    if tuple(frames.shape[-2:]) == tuple(size):
        return frames
    if frames.dtype == torch.uint8 and frames.device.type != "cpu":
        x = F.interpolate(frames.float(), size=size, mode="bilinear", align_corners=False, antialias=True)
        return x.round_().clamp_(0, 255).to(torch.uint8)
    if frames.dtype == torch.uint8:
        frames = frames.contiguous(memory_format=torch.channels_last)  # the uint8 kernel's layout
    return F.interpolate(frames, size=size, mode="bilinear", align_corners=False, antialias=True)


def resize_short_side(frames: torch.Tensor, short_side: int) -> torch.Tensor:
    """(N, C, H, W) -> short side ``short_side``, long side rounded down as torchvision does."""
    h, w = frames.shape[-2:]
    if h <= w:
        size = (short_side, int(short_side * w / h))
    else:
        size = (int(short_side * h / w), short_side)
    return resize(frames, size)


def center_crop(frames: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """(N, C, H, W) -> (N, C, height, width); zero-padded (centred) where the frame is smaller."""
    h, w = frames.shape[-2:]
    if h < height or w < width:
        pad_h, pad_w = max(height - h, 0), max(width - w, 0)
        frames = F.pad(frames, (pad_w // 2, (pad_w + 1) // 2, pad_h // 2, (pad_h + 1) // 2))
        h, w = frames.shape[-2:]
    top = int(round((h - height) / 2.0))
    left = int(round((w - width) / 2.0))
    return frames[..., top : top + height, left : left + width]


def preprocess_frames(frames: np.ndarray | torch.Tensor, spec: Preprocess = Preprocess()) -> torch.Tensor:
    """RGB frames (N, H, W, C) uint8 -> normalised clip tensor (C, N, out, out) float32."""
    x = torch.as_tensor(frames)
    if x.ndim != 4 or x.shape[-1] != 3 or x.dtype != torch.uint8:
        raise ValueError(f"expected uint8 frames of shape (N, H, W, 3), got {x.dtype} {tuple(x.shape)}")
    x = x.permute(0, 3, 1, 2)  # (N, C, H, W) uint8
    x = resize_short_side(x, spec.short_side)
    x = center_crop(x, spec.crop_height, spec.crop_width)  # (N, C, 224, 300)
    x = resize(x, (spec.out_size, spec.out_size))  # (N, C, 224, 224)
    x = x.float().div_(255.0)  # [0, 1]
    mean = torch.tensor(spec.mean, dtype=x.dtype).view(1, 3, 1, 1)
    std = torch.tensor(spec.std, dtype=x.dtype).view(1, 3, 1, 1)
    x = (x - mean) / std
    return x.permute(1, 0, 2, 3).contiguous()  # (C, N, out, out)
