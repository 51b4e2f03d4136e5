"""Video Swin-B as torchvision's ``swin3d_b``, and the original Video-Swin checkpoint's key names.

The public RG / Fis-V features come from ``swin_base_patch244_window877_kinetics600_22k.pth`` of
the Video-Swin-Transformer release (an mmaction2 checkpoint: ``{"meta", "state_dict"}`` with keys
``backbone.patch_embed.proj.weight``, ``backbone.layers.<i>.blocks.<j>.attn.qkv.weight``,
``backbone.layers.<i>.downsample.reduction.weight``, ``backbone.norm.weight``,
``cls_head.fc_cls.weight``, ...). torchvision's ``swin3d_b`` is the same network with other
names: stage ``i``'s blocks are ``features.<2i>.<j>``, the patch merging after stage ``i`` is
``features.<2i+1>``, the MLP's two linears are ``mlp.0``/``mlp.3`` (``patch_embed.*`` and ``norm.*``
keep their names).
:func:`convert_video_swin_state_dict` renames one into the other, so both files load
(``longaqa.video.backbones.load_backbone_weights``).

Letters: B batch, C channels, T frames, H height, W width.
"""

from __future__ import annotations

import re

import torch
from torch import nn

from longaqa.errors import LongAQAError

SWIN_B = dict(patch_size=[2, 4, 4], embed_dim=128, depths=[2, 2, 18, 2], num_heads=[4, 8, 16, 32],
              window_size=[8, 7, 7], stochastic_depth_prob=0.0)
"""The Swin-B configuration (torchvision's ``swin3d_b``; Video-Swin's ``patch244_window877``)."""

SWIN_TINY_TEST = dict(patch_size=[2, 4, 4], embed_dim=8, depths=[1, 1, 1, 1], num_heads=[1, 1, 2, 2],
                      window_size=[8, 7, 7], stochastic_depth_prob=0.0)
"""A randomly initialised, cheap network of the same structure (64-d features), for tests."""

_BLOCK = re.compile(r"^layers\.(\d+)\.blocks\.(\d+)\.(.+)$")
_DOWNSAMPLE = re.compile(r"^layers\.(\d+)\.downsample\.(.+)$")
_BLOCK_PARTS = {"mlp.fc1.": "mlp.0.", "mlp.fc2.": "mlp.3."}


class SwinFeatures(nn.Module):
    """torchvision's ``SwinTransformer3d`` without its classifier: clips -> pooled features."""

    def __init__(self, config: dict | None = None):
        super().__init__()
        from torchvision.models.video.swin_transformer import SwinTransformer3d

        cfg = dict(SWIN_B if config is None else config)
        self.net = SwinTransformer3d(num_classes=400, **cfg)
        self.feature_dim = cfg["embed_dim"] * 2 ** (len(cfg["depths"]) - 1)

    def forward(self, clips: torch.Tensor) -> torch.Tensor:
        """``clips`` (B, C, T, H, W), ImageNet-normalised -> (B, feature_dim), averaged over T', H', W'."""
        net = self.net
        x = net.patch_embed(clips)  # (B, T/2, H/4, W/4, C0)
        x = net.pos_drop(x)
        x = net.features(x)  # (B, T', H', W', C)
        x = net.norm(x)
        return x.mean(dim=(1, 2, 3))  # (B, C)


def is_video_swin_state_dict(state: dict[str, torch.Tensor]) -> bool:
    """True for the original Video-Swin key names (with or without the ``backbone.`` prefix)."""
    return any(k.startswith(("backbone.layers.", "layers.0.blocks.")) for k in state)


def convert_video_swin_state_dict(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Rename an original Video-Swin (mmaction2) state dict to torchvision ``SwinTransformer3d`` keys.

    The classifier (``cls_head.*``: 600 Kinetics-600 classes, or 400) is dropped: features do not
    use it. Unknown keys raise :class:`LongAQAError` listing them, so a different checkpoint is never
    half-loaded silently.
    """
    out: dict[str, torch.Tensor] = {}
    unknown: list[str] = []
    for key, value in state.items():
        if key.startswith(("cls_head.", "head.")):
            continue
        name = key[len("backbone."):] if key.startswith("backbone.") else key
        if name.startswith(("patch_embed.", "norm.")):
            out[name] = value
        elif m := _BLOCK.match(name):
            stage, block, rest = int(m[1]), int(m[2]), m[3]
            for old, new in _BLOCK_PARTS.items():
                if rest.startswith(old):
                    rest = new + rest[len(old):]
            out[f"features.{2 * stage}.{block}.{rest}"] = value
        elif m := _DOWNSAMPLE.match(name):
            out[f"features.{2 * int(m[1]) + 1}.{m[2]}"] = value
        else:
            unknown.append(key)
    if unknown:
        raise LongAQAError(
            f"not a Video-Swin checkpoint: {len(unknown)} unrecognised keys, e.g. {', '.join(unknown[:5])}"
        )
    return out
