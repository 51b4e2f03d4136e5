"""Low-rank clip features: a latent of ``rank`` dimensions per clip, mapped to ``feature_dim``.

Real backbone features (Video Swin, 1024-d) have a low effective rank and are correlated from clip to
clip. Every generator here builds a latent per clip (what is being performed, how well, the video's
style, AR(1) noise) and maps it to ``feature_dim`` through one fixed random matrix per sport, then
adds a little isotropic noise. Letters: T clips, R latent rank, F feature dimension.
"""

from __future__ import annotations

import numpy as np


def orthonormal_directions(rng: np.random.Generator, rank: int) -> np.ndarray:
    """A random orthonormal basis of the latent space, one direction per row: ``(R, R)``."""
    q, r = np.linalg.qr(rng.normal(size=(rank, rank)))
    return (q * np.sign(np.diag(r))).T


def ar1_noise(rng: np.random.Generator, length: int, dim: int, rho: float) -> np.ndarray:
    """Stationary AR(1) noise with unit variance per dimension and lag-1 correlation ``rho``: ``(T, dim)``."""
    noise = rng.normal(size=(length, dim))
    noise[1:] *= np.sqrt(1 - rho**2)  # the first row is already in the stationary distribution
    for t in range(1, length):
        noise[t] += rho * noise[t - 1]
    return noise


class FeatureMap:
    """The fixed random map from the latent to the features of one sport."""

    def __init__(self, rng: np.random.Generator, rank: int, feature_dim: int):
        self.rank = rank
        self.feature_dim = feature_dim
        self.projection = (rng.normal(size=(rank, feature_dim)) / np.sqrt(rank)).astype(np.float32)  # (R, F)

    def features(self, latent: np.ndarray, rng: np.random.Generator, isotropic_std: float) -> np.ndarray:
        """``(T, R)`` latent -> ``(T, F)`` float32 features with isotropic Gaussian noise added."""
        # einsum's own loop, not BLAS: this product is too small for threads, which under load (other
        # processes on the cores) made it 20x slower
        out = np.einsum("tr,rf->tf", latent.astype(np.float32), self.projection, optimize=False)  # (T, F)
        out += isotropic_std * rng.standard_normal(out.shape, dtype=np.float32)
        return out
