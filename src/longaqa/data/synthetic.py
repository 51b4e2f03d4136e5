"""Synthetic judged routines: clip features with a known per-clip truth.

Design (see docs/synthetic.md):

* A routine is a sequence of *elements* separated by short *transitions*. Each element is one of
  ``num_element_types`` types; a type has a fixed difficulty in [0.2, 1] (transitions: 0.05) and lasts
  2-5 clips.
* Each athlete (video) has two skills, for easy and for hard elements (correlated 0.3), plus an
  appearance/style vector (camera, costume, venue) that shifts every clip of the video alike.
  An element's execution quality is ``sigmoid(skill mix + noise)`` in (0, 1), varying slightly
  from clip to clip; now and then an element fails (a fall: quality near 0).
* Per clip: ``weight`` = difficulty of the element being performed, ``quality`` = execution,
  ``contribution`` = weight x quality. The routine's total is ``scale * sum(contribution)``, rounded
  like a judge's mark.
* Features have a low effective rank, like real backbone outputs: a latent of ``rank`` dims holding
  the element type's embedding, the quality along one shared direction, the video's style vector and
  temporally correlated AR(1) noise, mapped to ``feature_dim`` by a fixed random matrix, plus a little
  isotropic noise.

Because the total sums products of per-clip difficulty and quality, and the athletes' quality on
hard and easy elements differ, averaging clip features (which averages types and qualities
separately) loses the information a per-clip weight x score model can use.

The output uses the public RG layout (``train.txt``/``test.txt`` with the release's mixed header,
``swintx_avg_fps25_clip32/<Class>_<NNN>.npy``) plus ``truth/<name>.npz`` with float arrays
``weight``, ``quality`` and ``contribution`` of length T.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

RG_HEADER = "Video_Name\tDifficulty_Score    Execution_Score Total_Score\tPenalty\tVideo_length"


@dataclass
class RoutineSpec:
    num_train: int = 200
    num_test: int = 50
    class_name: str = "Ball"
    min_clips: int = 60
    max_clips: int = 76
    feature_dim: int = 1024
    rank: int = 24
    num_element_types: int = 12
    style_scale: float = 1.0
    noise_scale: float = 0.4
    label_noise: float = 0.1
    seed: int = 0
    clip_frames: int = 32
    fps: float = 25.0


@dataclass
class Routine:
    name: str
    features: np.ndarray  # (T, feature_dim) float32
    weight: np.ndarray  # (T,)
    quality: np.ndarray  # (T,)
    contribution: np.ndarray  # (T,)
    difficulty_score: float
    execution_score: float
    total: float


class RoutineGenerator:
    """Draws routines from one fixed 'sport' (element types, embeddings, feature map) per seed."""

    def __init__(self, spec: RoutineSpec):
        self.spec = spec
        rng = np.random.default_rng(spec.seed)
        r = spec.rank
        self.type_difficulty = rng.uniform(0.2, 1.0, spec.num_element_types)
        self.type_embedding = rng.normal(0, 1, (spec.num_element_types, r)) / np.sqrt(r) * 2.0
        self.transition_embedding = rng.normal(0, 1, r) / np.sqrt(r) * 2.0
        self.quality_direction = rng.normal(0, 1, r)
        self.quality_direction *= 2.0 / np.linalg.norm(self.quality_direction)
        # element types and styles live beside the quality direction, not along it
        self.type_embedding = self._orthogonal(self.type_embedding)
        self.transition_embedding = self._orthogonal(self.transition_embedding)
        self.projection = rng.normal(0, 1, (r, spec.feature_dim)) / np.sqrt(r)
        self.scale = 20.0 / ((spec.min_clips + spec.max_clips) / 2 * 0.6 * 0.5)

    def _orthogonal(self, x: np.ndarray) -> np.ndarray:
        u = self.quality_direction / np.linalg.norm(self.quality_direction)
        return x - (x @ u)[..., None] * u

    def routine(self, name: str, rng: np.random.Generator) -> Routine:
        s = self.spec
        T = int(rng.integers(s.min_clips, s.max_clips + 1))
        skill_easy = rng.normal()
        skill_hard = rng.normal()
        # connecting movements are visible but barely scored: their quality is unrelated to the mark
        transition_quality = 1 / (1 + np.exp(-1.5 * rng.normal()))
        style = self._orthogonal(rng.normal(0, 1, s.rank) / np.sqrt(s.rank) * 2.0 * s.style_scale)

        weight = np.empty(T)
        quality = np.empty(T)
        latent = np.empty((T, s.rank))
        t = 0
        while t < T:
            n_trans = int(rng.integers(1, 4))
            end = min(T, t + n_trans)
            weight[t:end] = 0.05
            quality[t:end] = np.clip(transition_quality + rng.normal(0, 0.03, end - t), 0, 1)
            latent[t:end] = self.transition_embedding
            t = end
            if t >= T:
                break
            kind = int(rng.integers(s.num_element_types))
            d = self.type_difficulty[kind]
            end = min(T, t + int(rng.integers(2, 6)))
            logit = 1.5 * ((1 - d) * skill_easy + d * skill_hard) + rng.normal(0, 0.5)
            q = 1 / (1 + np.exp(-logit))
            if rng.random() < 0.05:
                q = 0.05  # a fall
            n = end - t
            weight[t:end] = d
            quality[t:end] = np.clip(q + rng.normal(0, 0.03, n), 0, 1)
            latent[t:end] = self.type_embedding[kind]
            t = end
        latent += (quality - 0.5)[:, None] * self.quality_direction
        latent += style
        noise = np.empty((T, s.rank))
        noise[0] = rng.normal(0, 1, s.rank)
        for i in range(1, T):  # AR(1), correlation 0.8 between consecutive clips
            noise[i] = 0.8 * noise[i - 1] + 0.6 * rng.normal(0, 1, s.rank)
        latent += noise / np.sqrt(s.rank) * 2.0 * s.noise_scale
        features = latent @ self.projection + rng.normal(0, 0.05, (T, s.feature_dim))

        contribution = weight * quality
        total = self.scale * contribution.sum() + rng.normal(0, s.label_noise)
        difficulty_score = self.scale * weight.sum() * 0.5
        total = round(float(total), 2)
        return Routine(
            name=name,
            features=features.astype(np.float32),
            weight=weight,
            quality=quality,
            contribution=contribution * self.scale,
            difficulty_score=round(float(difficulty_score), 2),
            execution_score=round(total - float(difficulty_score), 2),
            total=total,
        )


def write_routines(root: str | Path, spec: RoutineSpec | None = None) -> Path:
    """Generate routines and write them in the public RG layout plus ``truth/``. Returns ``root``."""
    spec = spec or RoutineSpec()
    root = Path(root)
    (root / "swintx_avg_fps25_clip32").mkdir(parents=True, exist_ok=True)
    (root / "truth").mkdir(exist_ok=True)
    generator = RoutineGenerator(spec)
    rng = np.random.default_rng(spec.seed + 1)
    names = [f"{spec.class_name}_{i:03d}" for i in range(1, spec.num_train + spec.num_test + 1)]
    rows = {"train": [], "test": []}
    for i, name in enumerate(names):
        routine = generator.routine(name, rng)
        np.save(root / "swintx_avg_fps25_clip32" / f"{name}.npy", routine.features)
        np.savez(
            root / "truth" / f"{name}.npz",
            weight=routine.weight.astype(np.float32),
            quality=routine.quality.astype(np.float32),
            contribution=routine.contribution.astype(np.float32),
        )
        seconds = round(len(routine.features) * spec.clip_frames / spec.fps)
        row = (
            f"{name}\t{routine.difficulty_score:.2f}\t{routine.execution_score:.2f}\t"
            f"{routine.total:.2f}\t0.00\t{seconds}"
        )
        rows["train" if i < spec.num_train else "test"].append(row)
    for split, lines in rows.items():
        (root / f"{split}.txt").write_text("\n".join([RG_HEADER, *lines]) + "\n", encoding="utf-8")
    return root
