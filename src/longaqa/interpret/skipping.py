"""The temporal-skipping index: how far a self-attention map is from the diagonal structure.

The paper calls *temporal skipping* the collapse of the decoder's self-attention into smooth,
averaged rows (its Figure 2a) instead of a clear diagonal (Figure 2c), and proposes the attention
loss against it. The index of one map (0: all attention within ``bandwidth`` of the diagonal; 1: no
more than uniform attention) is defined in :mod:`longaqa.metrics`, and computed over a model's outputs
by :func:`longaqa.engine.model_skipping_index` (training logs it every evaluation). Both are named here
for the interpretability commands.
"""

from __future__ import annotations

from longaqa.engine import model_skipping_index
from longaqa.metrics import DEFAULT_BANDWIDTH, band_mass, skipping_index, uniform_band_mass

__all__ = ["DEFAULT_BANDWIDTH", "band_mass", "model_skipping_index", "skipping_index", "uniform_band_mass"]
