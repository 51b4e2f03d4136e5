"""In-memory datasets of clip features and the batching views (crop, pad, mask).

Letters: B batch, T clips, D feature dim, Q queries.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch


@dataclass
class VideoSample:
    """One video: its name, clip features ``(T, D)`` and its score (already divided by the divisor);
    ``subscores``: the judges' sub-scores (divided alike) when the additive head trains on them."""

    name: str
    features: torch.Tensor
    score: float
    subscores: dict[str, float] | None = None


@dataclass
class Batch:
    clip_features: torch.Tensor  # (B, T, D), zero-padded
    lengths: torch.Tensor  # (B,) valid clips
    scores: torch.Tensor  # (B,)
    names: list[str]
    subscores: dict[str, torch.Tensor] | None = None  # name -> (B,), when every sample has them


def crop_start(length: int, size: int, mode: str, generator: torch.Generator | None) -> int:
    """Start of a window of ``size`` clips in a video of ``length`` clips (``random`` or ``center``)."""
    if length <= size:
        return 0
    if mode == "random":
        return int(torch.randint(0, length - size + 1, (1,), generator=generator))
    return (length - size) // 2


def collate(
    samples: list[VideoSample],
    crop_to: int | None = None,
    crop_mode: str = "center",
    generator: torch.Generator | None = None,
) -> Batch:
    """Crop each video to ``crop_to`` clips (when longer, if given), zero-pad to the longest, mask."""
    views = []
    for s in samples:
        x = s.features
        if crop_to is not None and x.shape[0] > crop_to:
            start = crop_start(x.shape[0], crop_to, crop_mode, generator)
            x = x[start : start + crop_to]
        views.append(x)
    lengths = torch.tensor([v.shape[0] for v in views], dtype=torch.long)
    padded = torch.nn.utils.rnn.pad_sequence(views, batch_first=True)  # (B, T, D)
    scores = torch.tensor([s.score for s in samples], dtype=torch.float32)
    subscores = None
    if all(s.subscores for s in samples):
        subscores = {k: torch.tensor([s.subscores[k] for s in samples], dtype=torch.float32)
                     for k in samples[0].subscores}
    return Batch(padded, lengths, scores, [s.name for s in samples], subscores)


def iterate_batches(
    samples: list[VideoSample],
    batch_size: int,
    shuffle: bool,
    generator: torch.Generator | None,
    crop_to: int | None,
    crop_mode: str,
):
    order = torch.randperm(len(samples), generator=generator) if shuffle else torch.arange(len(samples))
    for i in range(0, len(samples), batch_size):
        idx = order[i : i + batch_size].tolist()
        yield collate([samples[j] for j in idx], crop_to, crop_mode, generator)


def samples_on_device(samples: list[VideoSample], device: torch.device) -> list[VideoSample]:
    """The same videos with their features on ``device`` (a new list; ``samples`` is left as it is).

    Batches of such samples are cropped and padded where the features are, so a GPU step copies
    nothing from the host but a few scalars per video.
    """
    return [VideoSample(s.name, s.features.to(device), s.score, s.subscores) for s in samples]


def carve_validation(samples: list[VideoSample], fraction: float, seed: int):
    """Split ``samples`` into (train, val) with a seeded permutation; val gets ``round(fraction*n)``."""
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(samples))
    n_val = max(1, int(round(fraction * len(samples))))
    val_idx = set(order[:n_val].tolist())
    train = [s for i, s in enumerate(samples) if i not in val_idx]
    val = [s for i, s in enumerate(samples) if i in val_idx]
    return train, val
