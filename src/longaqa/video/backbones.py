"""The clip backbones by name, and reading their weight files (a local file, or with
``--weights torchvision`` torchvision's checksum-verified Kinetics-400 ``swin3d_b`` file, fetched into
torch's cache when missing).

``swin3d_b``: Video Swin-B (torchvision), ImageNet mean/std input, 1024-d. Accepts torchvision's
own weight files (e.g. ``swin3d_b_1k-24f7c7c6.pth``, Kinetics-400) and the original Video-Swin
checkpoint of the public releases (``swin_base_patch244_window877_kinetics600_22k.pth``).
``i3d``: Inception-v1 I3D, [-1, 1] input, 1024-d; accepts the converted Kinetics weights
(``rgb_imagenet.pt``). ``tiny=True`` builds a small network of the same structure, fed 56 x 56
frames (:data:`TINY_PREPROCESS`), for tests and smoke runs (its features mean nothing).
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from longaqa.errors import LongAQAError
from longaqa.video.preprocess import IMAGENET_MEAN, IMAGENET_STD, UNIT_RANGE_MEAN, UNIT_RANGE_STD, Preprocess

BACKBONES = ("swin3d_b", "i3d")
TORCHVISION = "torchvision"
"""``--weights torchvision``: torchvision's ``Swin3D_B_Weights.KINETICS400_V1`` from torch's cache."""
CLASSIFIER_PREFIXES = ("head.", "logits.", "cls_head.", "fc.")
TINY_PREPROCESS = dict(short_side=64, crop_height=56, crop_width=75, out_size=56)
"""The releases' geometry scaled by 1/4 (tiny backbones only)."""


@dataclass
class Backbone:
    """A clip network ``(B, C, T, 224, 224) -> (B, feature_dim)`` with the preprocessing it expects."""

    name: str
    module: nn.Module
    feature_dim: int
    preprocess: Preprocess
    weights: str
    """The weight file it was loaded from, or ``random`` (random initialisation)."""


def read_weight_file(path: str | Path) -> dict[str, torch.Tensor]:
    """A state dict from a ``.pth``/``.pt`` (read with ``weights_only``) or ``.safetensors`` file.

    Unwraps ``{"state_dict": ...}`` / ``{"model": ...}`` and a DataParallel ``module.`` prefix.
    """
    path = Path(path)
    if not path.is_file():
        raise LongAQAError(f"{path}: backbone weights file not found (download it first; see docs/video.md)")
    try:
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file

            state = load_file(str(path))
        else:
            state = torch.load(str(path), map_location="cpu", weights_only=True)
    except (RuntimeError, OSError, ValueError, EOFError, zipfile.BadZipFile, Exception) as exc:
        raise LongAQAError(f"{path}: not a readable weights file ({type(exc).__name__}: {exc})") from None
    for key in ("state_dict", "model"):
        if isinstance(state, dict) and isinstance(state.get(key), dict):
            state = state[key]
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise LongAQAError(f"{path}: expected a state dict of tensors")
    if state and all(k.startswith("module.") for k in state):
        state = {k[len("module."):]: v for k, v in state.items()}
    return state


def load_checked(module: nn.Module, state: dict[str, torch.Tensor], source: str, what: str) -> None:
    """Load ``state`` into ``module`` ignoring classifiers; anything else missing or odd is an error."""
    state = {k: v for k, v in state.items() if not k.startswith(CLASSIFIER_PREFIXES)}
    expected = {k: v for k, v in module.state_dict().items() if not k.startswith(CLASSIFIER_PREFIXES)}
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    shapes = sorted(f"{k} {tuple(state[k].shape)} vs {tuple(expected[k].shape)}"
                    for k in set(state) & set(expected) if state[k].shape != expected[k].shape)
    if missing or unexpected or shapes:
        parts = []
        if missing:
            parts.append(f"{len(missing)} keys missing (e.g. {', '.join(missing[:4])})")
        if unexpected:
            parts.append(f"{len(unexpected)} unexpected (e.g. {', '.join(unexpected[:4])})")
        if shapes:
            parts.append(f"{len(shapes)} of another shape (e.g. {'; '.join(shapes[:3])})")
        raise LongAQAError(f"{source}: does not fit {what}: " + ", ".join(parts))
    module.load_state_dict(state, strict=False)


def load_backbone_weights(name: str, module: nn.Module, path: str | Path) -> None:
    """Load a weight file into a backbone built by :func:`build_backbone` (key names converted)."""
    state = read_weight_file(path)
    if name == "swin3d_b":
        from longaqa.video.swin import convert_video_swin_state_dict, is_video_swin_state_dict

        if is_video_swin_state_dict(state):
            state = convert_video_swin_state_dict(state)
        load_checked(module.net, state, str(path), "swin3d_b")
    else:
        load_checked(module, state, str(path), "i3d")


def fetch_to_torch_cache(url: str, what: str, progress: bool = True) -> Path:
    """The file at ``url`` in torch's cache (``torch.hub.get_dir()/checkpoints``, as torchvision and timm
    keep their weights), downloaded there when missing and checked against the SHA-256 prefix in its
    name (``name-<hex>.pth``), as ``torch.hub.load_state_dict_from_url(check_hash=True)`` does. Offline,
    or when the download fails, one error names the file to place and where."""
    import urllib.parse

    from torch import hub

    filename = Path(urllib.parse.urlparse(url).path).name
    target = Path(hub.get_dir()) / "checkpoints" / filename
    if target.is_file():
        return target
    match = hub.HASH_REGEX.search(filename)
    place = f"download {url} on a machine that can and place it at {target}, or pass --weights FILE"
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        hub.download_url_to_file(url, str(target), match.group(1) if match else None, progress=progress)
    except RuntimeError as exc:  # the hash check: download_url_to_file keeps no file then
        raise LongAQAError(f"{what}: the download of {url} does not match its checksum ({exc}); {place}") from None
    except (OSError, ValueError) as exc:  # URLError, HTTPError and socket errors are OSErrors
        reason = getattr(exc, "reason", None) or getattr(exc, "strerror", None) or exc
        raise LongAQAError(f"{what}: could not download {url} ({reason}); {place}") from None
    return target


def torchvision_weights(name: str, tiny: bool = False) -> Path:
    """torchvision's Kinetics-400 weights of ``name`` (``Swin3D_B_Weights.KINETICS400_V1``) in torch's
    cache: see :func:`fetch_to_torch_cache`."""
    if name != "swin3d_b":
        raise LongAQAError(f"--weights {TORCHVISION}: torchvision has weights for swin3d_b only; "
                           f"give --backbone {name} a weight file (docs/video.md)")
    if tiny:
        raise LongAQAError(f"--weights {TORCHVISION} fits the full swin3d_b only; drop --tiny")
    try:
        from torchvision.models.video import Swin3D_B_Weights
    except ImportError as exc:
        raise LongAQAError(
            f"--weights {TORCHVISION} needs torchvision ({exc}); install the 'video' extra (docs/video.md)"
        ) from None
    return fetch_to_torch_cache(Swin3D_B_Weights.KINETICS400_V1.url, f"--weights {TORCHVISION}")


def build_backbone(name: str, weights: str | Path | None, tiny: bool = False) -> Backbone:
    """The backbone ``name`` in eval mode on the CPU, with ``weights`` (None: random initialisation;
    ``"torchvision"``: torchvision's Kinetics-400 swin3d_b weights, :func:`torchvision_weights`)."""
    if weights is not None and str(weights) == TORCHVISION:
        weights = torchvision_weights(name, tiny)
    if name == "swin3d_b":
        try:
            from longaqa.video.swin import SWIN_B, SWIN_TINY_TEST, SwinFeatures

            module: nn.Module = SwinFeatures(SWIN_TINY_TEST if tiny else SWIN_B)
        except ImportError as exc:
            raise LongAQAError(
                f"the swin3d_b backbone needs torchvision ({exc}); install the 'video' extra (docs/video.md)"
            ) from None
        spec = Preprocess(mean=IMAGENET_MEAN, std=IMAGENET_STD, **(TINY_PREPROCESS if tiny else {}))
    elif name == "i3d":
        from longaqa.video.i3d import InceptionI3d

        module = InceptionI3d(width=0.125 if tiny else 1.0)
        spec = Preprocess(mean=UNIT_RANGE_MEAN, std=UNIT_RANGE_STD, **(TINY_PREPROCESS if tiny else {}))
    else:
        raise LongAQAError(f"unknown backbone {name!r}; choose one of {', '.join(BACKBONES)}")
    if weights is not None:
        load_backbone_weights(name, module, weights)
    module.eval()
    for p in module.parameters():
        p.requires_grad_(False)
    return Backbone(name, module, int(module.feature_dim), spec, str(weights) if weights else "random")
