"""The temporal-skipping index: how far a self-attention map is from the diagonal structure.

Letters: B batch, Q queries.

The paper calls *temporal skipping* the collapse of the decoder's self-attention into smooth,
averaged rows (its Figure 2a) instead of a clear diagonal (Figure 2c), and proposes the attention
loss against it. This module turns that picture into a number.

For a row-stochastic map ``A`` (Q, Q) and a band half-width ``b`` (default 1: a query and its two
neighbours), the *band mass* is the mean over rows of ``sum_{|i-j| <= b} A[i, j]``. Uniform attention
has band mass ``u = mean_i |{j : |i-j| <= b}| / Q`` (about ``(2b+1)/Q``); a perfectly diagonal map has 1.
The index is::

    skipping_index = 1 - (band_mass - u) / (1 - u)

0 means all attention lies on the band (no skipping); 1 means no more mass near the diagonal than
uniform attention (full skipping); above 1 means attention avoids the diagonal. It is computed per
layer on the head-averaged self-attention probabilities, over each video's valid queries only, and
averaged over videos; ``skipping_index`` is the mean over layers.
"""

from __future__ import annotations

import numpy as np
import torch

DEFAULT_BANDWIDTH = 1


def band_mass(attention: np.ndarray, bandwidth: int = DEFAULT_BANDWIDTH) -> float:
    """Mean over rows of the attention mass within ``bandwidth`` of the diagonal; ``attention`` (Q, Q)."""
    a = np.asarray(attention, dtype=np.float64)
    q = a.shape[0]
    idx = np.arange(q)
    band = np.abs(idx[:, None] - idx[None, :]) <= bandwidth  # (Q, Q)
    return float((a * band).sum(1).mean())


def uniform_band_mass(num_queries: int, bandwidth: int = DEFAULT_BANDWIDTH) -> float:
    idx = np.arange(num_queries)
    band = np.abs(idx[:, None] - idx[None, :]) <= bandwidth
    return float(band.sum(1).mean() / num_queries)


def skipping_index(attention: np.ndarray, bandwidth: int = DEFAULT_BANDWIDTH) -> float:
    """The temporal-skipping index of one (Q, Q) row-stochastic map (see the module docstring).

    NaN when the band covers every entry (Q <= bandwidth + 1), where the index is undefined.
    """
    a = np.asarray(attention, dtype=np.float64)
    u = uniform_band_mass(a.shape[0], bandwidth)
    if u >= 1.0:
        return float("nan")
    return 1.0 - (band_mass(a, bandwidth) - u) / (1.0 - u)


@torch.no_grad()
def model_skipping_index(
    model,
    samples,
    batch_size: int,
    device: torch.device,
    crop_to_queries: bool = False,
    bandwidth: int = DEFAULT_BANDWIDTH,
) -> dict[str, float]:
    """Skipping index of ``model`` over ``samples`` (``VideoSample``s): ``skipping_index`` (mean over
    layers) and ``skipping_index_layer{n}`` (1-based), each averaged over videos.

    Only the inputs are used, never the scores. Videos are seen whole (``crop_to_queries`` False) or
    centre-cropped to the query count; each map is cut to the video's valid queries.
    """
    from longaqa.data.dataset import iterate_batches

    was_training = model.training
    model.eval()
    per_layer: list[list[float]] = []
    crop = model.num_queries if crop_to_queries else None
    try:
        for batch in iterate_batches(samples, batch_size, False, None, crop, "center"):
            lengths = batch.lengths
            out = model(batch.clip_features.to(device), lengths.to(device), need_weights=True)
            maps = [m.float().cpu().numpy() for m in out.self_attn_maps]  # per layer (B, Q, Q)
            if not per_layer:
                per_layer = [[] for _ in maps]
            for i, length in enumerate(lengths.tolist()):
                q = min(int(length), model.num_queries)
                if out.query_valid is None:
                    q = model.num_queries
                for n, m in enumerate(maps):
                    value = skipping_index(m[i, :q, :q], bandwidth)
                    if np.isfinite(value):
                        per_layer[n].append(value)
    finally:
        model.train(was_training)
    result = {}
    layer_means = [float(np.mean(v)) if v else float("nan") for v in per_layer]
    result["skipping_index"] = float(np.mean(layer_means)) if layer_means else float("nan")
    for n, value in enumerate(layer_means, start=1):
        result[f"skipping_index_layer{n}"] = value
    return result
