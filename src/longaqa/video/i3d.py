"""The Inception-v1 I3D (Carreira & Zisserman, 2017): 1024-d clip features.

A compact implementation whose module names match the widely used PyTorch conversion of the
DeepMind Kinetics weights (``rgb_imagenet.pt``: keys such as ``Conv3d_1a_7x7.conv3d.weight``,
``Mixed_3b.b1b.bn.running_mean``, ``logits.conv3d.bias``), so that file loads as it is. Those
weights expect frames scaled to [-1, 1]. Convolutions and max-pools use TensorFlow's "SAME"
padding, computed from the input size as the original does.

Letters: B batch, C channels, T frames, H height, W width.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

Triple = tuple[int, int, int]


def same_padding(size: int, kernel: int, stride: int) -> tuple[int, int]:
    """TensorFlow 'SAME' padding (before, after) of one dimension."""
    total = max(kernel - stride, 0) if size % stride == 0 else max(kernel - size % stride, 0)
    return total // 2, total - total // 2


def _pad_same(x: torch.Tensor, kernel: Triple, stride: Triple) -> torch.Tensor:
    pt = same_padding(x.shape[2], kernel[0], stride[0])
    ph = same_padding(x.shape[3], kernel[1], stride[1])
    pw = same_padding(x.shape[4], kernel[2], stride[2])
    return F.pad(x, (*pw, *ph, *pt))


class Unit3D(nn.Module):
    """Conv3d (no bias) + BatchNorm3d + ReLU with 'SAME' padding; the logits unit has a bias, no BN."""

    def __init__(self, in_channels: int, out_channels: int, kernel: Triple = (1, 1, 1),
                 stride: Triple = (1, 1, 1), batch_norm: bool = True, relu: bool = True, bias: bool = False):
        super().__init__()
        self.kernel, self.stride, self.relu = kernel, stride, relu
        self.conv3d = nn.Conv3d(in_channels, out_channels, kernel, stride, padding=0, bias=bias)
        self.bn = nn.BatchNorm3d(out_channels, eps=0.001, momentum=0.01) if batch_norm else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv3d(_pad_same(x, self.kernel, self.stride))
        if self.bn is not None:
            x = self.bn(x)
        return F.relu(x) if self.relu else x


class MaxPool3dSame(nn.Module):
    """Max-pool with 'SAME' zero padding (inputs are post-ReLU, so zeros never win wrongly)."""

    def __init__(self, kernel: Triple, stride: Triple):
        super().__init__()
        self.kernel, self.stride = kernel, stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.max_pool3d(_pad_same(x, self.kernel, self.stride), self.kernel, self.stride)


class InceptionModule(nn.Module):
    """Four branches: 1x1; 1x1 -> 3x3x3; 1x1 -> 3x3x3; max-pool -> 1x1; concatenated on C."""

    def __init__(self, in_channels: int, widths: list[int]):
        super().__init__()
        self.b0 = Unit3D(in_channels, widths[0])
        self.b1a = Unit3D(in_channels, widths[1])
        self.b1b = Unit3D(widths[1], widths[2], (3, 3, 3))
        self.b2a = Unit3D(in_channels, widths[3])
        self.b2b = Unit3D(widths[3], widths[4], (3, 3, 3))
        self.b3a = MaxPool3dSame((3, 3, 3), (1, 1, 1))
        self.b3b = Unit3D(in_channels, widths[5])
        self.out_channels = widths[0] + widths[2] + widths[4] + widths[5]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.b0(x), self.b1b(self.b1a(x)), self.b2b(self.b2a(x)), self.b3b(self.b3a(x))], 1)


# (name, widths [b0, b1a, b1b, b2a, b2b, b3b]) of the nine inception modules, in order
INCEPTION_WIDTHS: list[tuple[str, list[int]]] = [
    ("Mixed_3b", [64, 96, 128, 16, 32, 32]),
    ("Mixed_3c", [128, 128, 192, 32, 96, 64]),
    ("Mixed_4b", [192, 96, 208, 16, 48, 64]),
    ("Mixed_4c", [160, 112, 224, 24, 64, 64]),
    ("Mixed_4d", [128, 128, 256, 24, 64, 64]),
    ("Mixed_4e", [112, 144, 288, 32, 64, 64]),
    ("Mixed_4f", [256, 160, 320, 32, 128, 128]),
    ("Mixed_5b", [256, 160, 320, 32, 128, 128]),
    ("Mixed_5c", [384, 192, 384, 48, 128, 128]),
]


class InceptionI3d(nn.Module):
    """I3D up to ``Mixed_5c``, average-pooled to one ``feature_dim`` vector per clip.

    ``width`` scales every channel count (1.0: the real network, 1024-d; smaller values build a
    cheap network of the same shape for tests). ``num_classes`` keeps the ``logits`` unit so that the
    public weight file loads strictly; :meth:`forward` does not use it.
    """

    def __init__(self, width: float = 1.0, num_classes: int = 400):
        super().__init__()

        def w(c: int) -> int:
            return max(1, int(round(c * width)))

        self.Conv3d_1a_7x7 = Unit3D(3, w(64), (7, 7, 7), (2, 2, 2))
        self.MaxPool3d_2a_3x3 = MaxPool3dSame((1, 3, 3), (1, 2, 2))
        self.Conv3d_2b_1x1 = Unit3D(w(64), w(64))
        self.Conv3d_2c_3x3 = Unit3D(w(64), w(192), (3, 3, 3))
        self.MaxPool3d_3a_3x3 = MaxPool3dSame((1, 3, 3), (1, 2, 2))
        channels = w(192)
        pools = {"Mixed_4b": ("MaxPool3d_4a_3x3", (3, 3, 3), (2, 2, 2)),
                 "Mixed_5b": ("MaxPool3d_5a_2x2", (2, 2, 2), (2, 2, 2))}
        self.order: list[str] = ["Conv3d_1a_7x7", "MaxPool3d_2a_3x3", "Conv3d_2b_1x1", "Conv3d_2c_3x3",
                                 "MaxPool3d_3a_3x3"]
        for name, widths in INCEPTION_WIDTHS:
            if name in pools:
                pool_name, kernel, stride = pools[name]
                setattr(self, pool_name, MaxPool3dSame(kernel, stride))
                self.order.append(pool_name)
            module = InceptionModule(channels, [w(c) for c in widths])
            setattr(self, name, module)
            self.order.append(name)
            channels = module.out_channels
        self.feature_dim = channels
        self.logits = Unit3D(channels, num_classes, batch_norm=False, relu=False, bias=True)

    def forward(self, clips: torch.Tensor) -> torch.Tensor:
        """``clips`` (B, C, T, H, W) in [-1, 1] -> (B, feature_dim): Mixed_5c averaged over T, H, W."""
        x = clips
        for name in self.order:
            x = getattr(self, name)(x)
        return x.mean(dim=(2, 3, 4))  # (B, feature_dim)
