"""``rg_heldout``: FIG-like rhythmic-gymnastics routines with a structure of their own, held out.

This generator is kept out of model design: whoever designs the model does not read this module, so
that a model tuned on the other generators can be checked on a sport it was not shaped around. Only
docs/generators.md (layout, truth fields) is for them. It was written independently of
``rg_additive``; what differs from it:

* **Gymnast**: two skills, ambition (the values attempted) and cleanliness (execution), correlated
  about 0.9, instead of one; D and E correlate about 0.6-0.7.
* **Elements** last 3-9 clips (transitions 1-3). An element is one of 10 base types worth 0.2-1.0
  plus 0-3 apparatus criteria worth 0.1 each, which the gymnast adds to it (more with ambition).
* **Recognition** is graded: a large fault (0.5 or more) during an element voids it (0 credited);
  a medium fault (0.3) voids its criteria only (the base value is credited).
* **Faults** span 1-3 neighbouring clips; the deduction is spread evenly over the span. Transitions
  carry small connection faults (0.1-0.2) too. Each fault is graded by three judges around its true
  size; the panel's deduction is their mean rounded to 0.05.
* **Penalties** 0.05-0.6, about one video in six.
* **Features**: a latent of 32 dimensions. Execution is *non-linear*: a fault's intensity (the total
  true size of the faults covering the clip) passes, with a small code of the element type, through a
  fixed random tanh MLP whose output (minus its value for a clean clip) is added to the latent, and
  the clip's noise grows with the intensity (temporal jitter). Apparatus criteria show along a
  criteria direction, their count times it. The noise is AR(1) with correlation 0.6, plus a slow
  per-video drift (a camera zoom: a ramp along a random direction) and Student-t isotropic noise.

Rules kept from FIG, as in the other RG generators: D = sum of credited values; E = 10 - deductions
(multiples of 0.05, E >= 0); Total = D + E - Penalty, computed from the rounded parts.

Per-clip truth (``truth/<name>.npz``): ``difficulty`` (sums to D), ``deduction`` (sums to 10 - E,
transitions included), ``contribution`` = difficulty - deduction and ``element_type`` (the base type,
-1 on transitions).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np

from longaqa.data.generators.latent import FeatureMap, ar1_noise, orthonormal_directions
from longaqa.data.generators.release import (
    DEFAULT_SIZES,
    GenerationSizes,
    JudgedVideo,
    check_class_name,
    write_rg_release,
)

KIND = "rg_heldout"
DEFAULT_CLIPS = (68, 77)
FEWEST_CLIPS = 6

NUM_TYPES = 10
TYPE_VALUES = (20, 100)
"""Base values of the element types, hundredths: spread evenly over this range."""
CRITERION = 10
"""Value of one apparatus criterion, hundredths."""
SIZES = np.array([10, 20, 30, 50, 80])
"""True fault sizes, hundredths: small, medium (two), large, loss of the apparatus."""
PENALTIES = (np.array([0, 5, 10, 30, 50, 60]), np.array([0.82, 0.05, 0.03, 0.06, 0.02, 0.02]))
RANK = 32
CODE = 4
"""Dimensions of the element-type code fed to the execution MLP."""
HIDDEN = 16


class RGHeldoutSport:
    """One fixed sport per seed: types and values, embeddings, the execution MLP and the feature map."""

    def __init__(self, seed: int, feature_dim: int):
        rng = np.random.default_rng([seed, 10])
        self.value = rng.permutation(np.round(np.linspace(*TYPE_VALUES, NUM_TYPES) / 10).astype(np.int64) * 10)
        basis = orthonormal_directions(rng, RANK)
        self.criteria_direction = basis[0]
        content = basis[1:]
        self.type_embedding = rng.normal(size=(NUM_TYPES, len(content))) @ content * 1.8 / np.sqrt(RANK)
        self.transition_embedding = rng.normal(size=len(content)) @ content * 1.8 / np.sqrt(RANK)
        self.content = content
        self.type_code = rng.normal(size=(NUM_TYPES + 1, CODE))  # last row: transitions
        self.w_in = rng.normal(size=(1 + CODE, HIDDEN)) * np.r_[3.0, np.full(CODE, 0.5)][:, None]
        self.b_in = rng.normal(size=HIDDEN) * 0.5
        self.w_out = rng.normal(size=(HIDDEN, RANK)) * 0.6 / np.sqrt(HIDDEN)
        self.feature_map = FeatureMap(rng, RANK, feature_dim)

    def execution_signal(self, intensity: np.ndarray, code: np.ndarray) -> np.ndarray:
        """What a fault of ``intensity`` (points) looks like on a clip of a type with ``code``: ``(T, R)``."""
        faulty = np.tanh(np.c_[intensity, code] @ self.w_in + self.b_in)
        clean = np.tanh(np.c_[np.zeros_like(intensity), code] @ self.w_in + self.b_in)
        return (faulty - clean) @ self.w_out

    def routine(self, name: str, length: int, rng: np.random.Generator) -> JudgedVideo:
        ambition, noise = np.clip(rng.normal(size=2), -2.5, 2.5)
        cleanliness = 0.9 * ambition + 0.44 * noise
        standardised = (self.value - self.value.mean()) / self.value.std()
        choice = np.exp(-0.5 * ((standardised - 0.7 * ambition) / 0.7) ** 2)
        choice /= choice.sum()

        element_type = np.full(length, -1)
        criteria = np.zeros(length)
        difficulty = np.zeros(length)
        intensity = np.zeros(length)  # true size of the faults covering each clip, points
        deduction = np.zeros(length)  # hundredths, possibly fractional where a fault is spread
        faults: list[tuple[int, int, int]] = []  # (start, end, true size in hundredths)
        credited = 0
        t = int(rng.integers(1, 4))
        while t + 3 <= length:
            kind = int(rng.choice(NUM_TYPES, p=choice))
            end = min(length, t + int(rng.integers(3, 10)))
            n_criteria = int(np.clip(rng.poisson(np.exp(0.3 + 0.4 * ambition)), 0, 3))
            element_faults = []
            for _ in range(rng.poisson(np.exp(0.55 + 0.25 * standardised[kind] - 0.4 * cleanliness))):
                severity = np.exp(np.array([1.6, 0.8, 0.2, -1.2, -2.6]) - 0.2 * cleanliness * np.arange(5))
                size = int(rng.choice(SIZES, p=severity / severity.sum()))
                span = int(rng.integers(1, 4))
                start = int(rng.integers(t, max(t + 1, end - span + 1)))
                element_faults.append((start, min(end, start + span), size))
            worst = max((f[2] for f in element_faults), default=0)
            value = 0 if worst >= 50 else int(self.value[kind]) + (0 if worst >= 30 else CRITERION * n_criteria)
            element_type[t:end] = kind
            criteria[t:end] = n_criteria
            difficulty[t:end] = value / 100 / (end - t)
            credited += value
            faults += element_faults
            gap = int(rng.integers(1, 4))
            if end < length and rng.random() < 0.5 / (1 + np.exp(cleanliness)):  # a connection fault
                faults.append((end, min(length, end + gap), int(rng.choice([10, 20], p=[0.8, 0.2]))))
            t = end + gap

        total_deduction = 0
        for start, end, size in faults:
            judged = size + rng.choice([-10, 0, 10], size=3, p=[0.2, 0.6, 0.2])
            panel = int(round(np.maximum(judged, 0).mean() / 5)) * 5
            panel = min(panel, 1000 - total_deduction)  # E cannot go below 0
            total_deduction += panel
            deduction[start:end] += panel / (end - start)
            intensity[start:end] += size / 100
        penalty = int(rng.choice(PENALTIES[0], p=PENALTIES[1]))

        on_element = element_type >= 0
        embedding = np.where(on_element[:, None], self.type_embedding[element_type], self.transition_embedding)
        style = rng.normal(size=len(self.content)) @ self.content * 1.5 / np.sqrt(RANK)
        drift = np.linspace(-1, 1, length)[:, None] * rng.normal(size=RANK) * 0.6 / np.sqrt(RANK)
        jitter = 1 + 1.5 * np.minimum(intensity / 0.3, 2)
        latent = embedding + style + drift + criteria[:, None] * 0.8 * self.criteria_direction  # (T, R)
        latent += self.execution_signal(intensity, self.type_code[np.where(on_element, element_type, NUM_TYPES)])
        latent += ar1_noise(rng, length, RANK, 0.6) * (0.7 / np.sqrt(RANK)) * jitter[:, None]
        features = self.feature_map.features(latent, rng, isotropic_std=0.0)
        features += (0.05 * rng.standard_t(5, size=features.shape)).astype(np.float32)

        deduction_points = deduction / 100
        return JudgedVideo(
            name=name,
            features=features,
            truth={
                "difficulty": difficulty,
                "deduction": deduction_points,
                "contribution": difficulty - deduction_points,
                "element_type": element_type.astype(np.float64),
            },
            marks={"difficulty": credited, "execution": 1000 - total_deduction, "penalty": penalty},
            video={"ambition": float(ambition), "cleanliness": float(cleanliness)},
        )


def generate(
    seed: int, count: int, feature_dim: int, min_clips: int, max_clips: int, class_name: str
) -> Iterator[JudgedVideo]:
    sport = RGHeldoutSport(seed, feature_dim)
    rng = np.random.default_rng([seed, 11])
    for i in range(1, count + 1):
        yield sport.routine(f"{class_name}_{i:03d}", int(rng.integers(min_clips, max_clips + 1)), rng)


def write_rg_heldout(root: str | Path, sizes: GenerationSizes = DEFAULT_SIZES) -> Path:
    """Write ``sizes.num_train + sizes.num_test`` routines in the RG layout plus ``truth/``; returns ``root``."""
    min_clips, max_clips = sizes.clip_range(KIND, DEFAULT_CLIPS, FEWEST_CLIPS)
    check_class_name(sizes.class_name)
    videos = generate(sizes.seed, sizes.num_train + sizes.num_test, sizes.feature_dim, min_clips, max_clips,
                      sizes.class_name)
    return write_rg_release(root, videos, sizes.num_train)
