"""``rg_additive``: rhythmic-gymnastics routines judged by FIG-like rules, execution linear in the features.

The rules (REFERENCE.md section 5), as generated here:

* A routine alternates short **transitions** (1-2 clips) and **elements** (2-4 clips). An element is
  one of 12 types in four families (body difficulties, dynamic elements with rotation, apparatus
  difficulties, dance steps); each type has a difficulty **value** of 0.1-1.0 points, drawn per seed.
* **D** = the sum of the values of the *recognised* elements. An element with a serious fault (a
  fault of 0.5 or more) is not recognised and earns 0. An element's value is spread evenly over its
  clips (per-clip ``difficulty``).
* **E** = 10 - the execution deductions. Each fault happens at one clip of an element; its true size
  is on the judges' ladder 0.1 (small), 0.2-0.3 (medium), 0.5 (large), 0.7 and 1.0 (apparatus drop).
  Four judges each see it one step lower or higher now and then (or miss a small one), and the panel
  deducts the mean of the middle two: deductions are multiples of 0.05, like E in the release.
* **Penalty**: now and then a video-level penalty (0.05, 0.1, 0.3, 0.6) that belongs to no clip.
* Total = D + E - Penalty, computed from the rounded parts.
* The gymnast's **skill** drives both the element types chosen (better gymnasts pick higher values)
  and how often and how badly they fault, so that D and E correlate about 0.7, as in each RG class.

Features: a latent of 24 dimensions per clip holds the element type's embedding (or the transition's),
the video's style vector, AR(1) noise (correlation 0.8 between neighbouring clips) and, along one
execution direction orthogonal to the types and the style, minus the true size of the faults at that
clip: execution shows *linearly*. A fixed random matrix maps it to ``feature_dim``, plus a little
isotropic noise.

Per-clip truth (``truth/<name>.npz``): ``difficulty`` (sums to D), ``deduction`` (sums to 10 - E),
``contribution`` = difficulty - deduction (sums to Total + Penalty - 10) and ``element_type`` (the
type index, -1 on transitions).
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

KIND = "rg_additive"
DEFAULT_CLIPS = (68, 77)
"""The RG release: 88-99 s at 25 fps in 32-frame clips."""
FEWEST_CLIPS = 4

FAMILIES = (
    # family, number of types, lowest and highest value in tenths of a point
    ("body difficulty", 7, 3, 10),
    ("dynamic element with rotation", 2, 3, 7),
    ("apparatus difficulty", 2, 2, 4),
    ("dance steps", 1, 3, 3),
)
LADDER = np.array([0, 10, 20, 30, 50, 70, 100])
"""The judges' fault sizes in hundredths of a point (0: not seen)."""
SEVERITY_LOGITS = np.array([2.0, 0.9, 0.3, -1.2, -2.4, -3.2])
"""How likely each true fault size (0.1 ... 1.0) is, before skill shifts it."""
SERIOUS = 50
"""A fault of at least this many hundredths makes its element not recognised."""
PENALTIES = (np.array([0, 5, 10, 30, 60]), np.array([0.84, 0.07, 0.02, 0.05, 0.02]))
"""Video-level penalties in hundredths and how often each is given (about 1 video in 6, as in RG)."""
RANK = 24

# How skill shapes a routine (tuned so that D and E correlate 0.68-0.75 over seeds, E about 6.6 +- 1.5):
CHOICE_GAIN = 0.6
"""A gymnast picks element types whose standardised value is near ``CHOICE_GAIN * skill`` ..."""
CHOICE_WIDTH = 0.5
"""... within about this many standard deviations of the values."""
CHECKS = 8
"""Chances per element for a fault (amplitude, shape, handling, balance ...), each with probability ..."""
FAULT_RATE = 0.17
"""... ``FAULT_RATE * exp(0.3 * standardised value) * (1 - FAULT_SKILL * skill)`` (harder: more faults)."""
FAULT_SKILL = 0.4
SEVERITY_SKILL = 0.15
"""Skill shifts each fault toward the small end of the ladder by this much per step (in logits)."""


def panel_deductions(true_sizes: np.ndarray, rng: np.random.Generator, misjudge: float = 0.15) -> np.ndarray:
    """What the E panel deducts for faults of the given true ladder steps (1..6), in hundredths.

    Four judges each see a fault one ladder step lower or higher with probability ``misjudge`` each;
    the panel takes the mean of the middle two.
    """
    slips = rng.choice([-1, 0, 1], size=(len(true_sizes), 4), p=[misjudge, 1 - 2 * misjudge, misjudge])
    steps = true_sizes[:, None] + slips
    seen = np.sort(LADDER[np.clip(steps, 0, len(LADDER) - 1)], axis=1)  # (faults, 4 judges)
    return (seen[:, 1] + seen[:, 2]) // 2


class RGAdditiveSport:
    """One fixed sport per seed: element types and values, embeddings and the feature map."""

    def __init__(self, seed: int, feature_dim: int):
        rng = np.random.default_rng([seed, 0])
        # values spread evenly over each family's range, in an order drawn per seed: hundredths
        spread = [rng.permutation(np.round(np.linspace(lo, hi, n))) * 10 for _, n, lo, hi in FAMILIES]
        self.value = np.concatenate(spread).astype(np.int64)
        basis = orthonormal_directions(rng, RANK)
        self.execution_direction = basis[0]
        self.content = basis[1:]  # types and styles live beside the execution direction
        self.type_embedding = rng.normal(size=(len(self.value), RANK - 1)) @ self.content * 2.0 / np.sqrt(RANK)
        self.transition_embedding = rng.normal(size=RANK - 1) @ self.content * 2.0 / np.sqrt(RANK)
        self.feature_map = FeatureMap(rng, RANK, feature_dim)
        self.linking = None  # (K, R): kinds of connecting movement (rg_linking); None: one kind
        self.unique_elements = False  # rg_linking_unique: a difficulty is performed once per routine
        self.seed = seed

    def routine(self, name: str, length: int, rng: np.random.Generator) -> JudgedVideo:
        skill = float(np.clip(rng.normal(), -2.5, 2.5))
        standardised = (self.value - self.value.mean()) / self.value.std()
        preferred = np.exp(-0.5 * ((standardised - CHOICE_GAIN * skill) / CHOICE_WIDTH) ** 2)
        choice = preferred / preferred.sum()

        element_type = np.full(length, -1)
        difficulty = np.zeros(length)  # points
        deduction = np.zeros(length, dtype=np.int64)  # hundredths
        fault_size = np.zeros(length)  # true sizes, points: what the features show
        credited = 0
        t = int(rng.integers(1, 3))
        while t + 2 <= length:  # room for an element of 2 clips at least
            kind = int(rng.choice(len(self.value), p=choice))
            if self.unique_elements:  # FIG: a repeated difficulty is not valued, so gymnasts do not repeat one
                choice[kind] = 0.0
                choice = choice / choice.sum() if choice.sum() > 0 else preferred / preferred.sum()
            end = min(length, t + int(rng.integers(2, 5)))
            chance = np.clip(FAULT_RATE * np.exp(0.3 * standardised[kind]) * (1 - FAULT_SKILL * skill), 0.02, 0.9)
            n_faults = int(rng.binomial(CHECKS, chance))
            severity = np.exp(SEVERITY_LOGITS - SEVERITY_SKILL * skill * np.arange(len(SEVERITY_LOGITS)))
            steps = 1 + rng.choice(len(SEVERITY_LOGITS), size=n_faults, p=severity / severity.sum())
            where = rng.integers(t, end, size=n_faults)
            np.add.at(fault_size, where, LADDER[steps] / 100)
            np.add.at(deduction, where, panel_deductions(steps, rng))
            element_type[t:end] = kind
            if not (LADDER[steps] >= SERIOUS).any():
                difficulty[t:end] = self.value[kind] / 100 / (end - t)
                credited += int(self.value[kind])
            t = end + int(rng.integers(1, 3))
        excess = deduction.sum() - 1000  # E cannot go below 0: the last faults go unpunished
        for clip in range(length - 1, -1, -1):
            if excess <= 0:
                break
            taken = min(excess, deduction[clip])
            deduction[clip] -= taken
            excess -= taken
        penalty = int(rng.choice(PENALTIES[0], p=PENALTIES[1]))

        linking = self.transition_embedding if self.linking is None else self.linking_clips(element_type, name)
        embedding = np.where(element_type[:, None] >= 0, self.type_embedding[element_type], linking)
        style = rng.normal(size=RANK - 1) @ self.content * 2.0 / np.sqrt(RANK)
        latent = embedding + style  # (T, R)
        latent -= (fault_size / 0.1 * 0.5)[:, None] * self.execution_direction
        latent += ar1_noise(rng, length, RANK, 0.8) * 0.8 / np.sqrt(RANK)
        features = self.feature_map.features(latent, rng, isotropic_std=0.05)

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
            marks={"difficulty": credited, "execution": 1000 - int(deduction.sum()), "penalty": penalty},
            video={"skill": skill},
        )


    def with_linking_kinds(self, kinds: int) -> RGAdditiveSport:
        """Connecting movement of ``kinds`` kinds (rg_linking), each as distinct as two element types;
        drawn from their own random streams, so the routines' other draws stay those of rg_additive."""
        rng = np.random.default_rng([self.seed, 3])
        self.linking = rng.normal(size=(kinds, RANK - 1)) @ self.content * 2.0 / np.sqrt(RANK)
        return self

    def linking_clips(self, element_type: np.ndarray, name: str) -> np.ndarray:
        """(T, R): each stretch of connecting movement (a run of clips off elements) is one kind, drawn
        per stretch from a stream of the video's own (its name)."""
        rng = np.random.default_rng([self.seed, 4, *name.encode()])
        off = element_type < 0
        starts = np.flatnonzero(off & ~np.r_[False, off[:-1]])  # first clip of each stretch
        stretch = np.cumsum(np.isin(np.arange(len(off)), starts)) - 1  # (T,) stretch index, -1 before the first
        kinds = rng.integers(len(self.linking), size=max(len(starts), 1))
        return self.linking[kinds[np.clip(stretch, 0, None)]]


def generate(
    seed: int, count: int, feature_dim: int, min_clips: int, max_clips: int, class_name: str,
    linking_kinds: int = 1, unique_elements: bool = False,
) -> Iterator[JudgedVideo]:
    """``count`` routines of one sport, named ``<class_name>_001`` ...; ``linking_kinds`` > 1: rg_linking;
    ``unique_elements``: each difficulty at most once per routine (rg_linking_unique)."""
    sport = RGAdditiveSport(seed, feature_dim)
    if linking_kinds > 1:
        sport.with_linking_kinds(linking_kinds)
    sport.unique_elements = unique_elements
    rng = np.random.default_rng([seed, 1])
    for i in range(1, count + 1):
        length = int(rng.integers(min_clips, max_clips + 1))
        yield sport.routine(f"{class_name}_{i:03d}", length, rng)


def write_rg_additive(root: str | Path, sizes: GenerationSizes = DEFAULT_SIZES) -> Path:
    """Write ``sizes.num_train + sizes.num_test`` routines in the RG layout plus ``truth/``; returns ``root``."""
    return _write(KIND, root, sizes)


LINKING_KINDS = 3
"""rg_linking: kinds of connecting movement (e.g. steps, apparatus handling, poses)."""


def write_rg_linking(root: str | Path, sizes: GenerationSizes = DEFAULT_SIZES) -> Path:
    """The rg_additive routines (same elements, faults, marks and truth for the same sizes) with
    connecting movement of ``LINKING_KINDS`` kinds instead of one: a design kind for the background
    prior, whose rule must find connecting movement that is not one dense kind of clip."""
    return _write("rg_linking", root, sizes, LINKING_KINDS)


def write_rg_linking_unique(root: str | Path, sizes: GenerationSizes = DEFAULT_SIZES) -> Path:
    """The rg_linking routines with the FIG rule that a difficulty is valued once: no element type is
    performed twice in a routine (until all twelve have been). Connecting movement then recurs all
    routine long and elements do not: a design kind for a background rule of several kinds."""
    return _write("rg_linking_unique", root, sizes, LINKING_KINDS, unique_elements=True)


def _write(kind: str, root: str | Path, sizes: GenerationSizes, linking_kinds: int = 1,
           unique_elements: bool = False) -> Path:
    """The routines of ``generate`` for ``sizes``, written in the RG layout (``kind`` names it in errors)."""
    min_clips, max_clips = sizes.clip_range(kind, DEFAULT_CLIPS, FEWEST_CLIPS)
    check_class_name(sizes.class_name)
    videos = generate(sizes.seed, sizes.num_train + sizes.num_test, sizes.feature_dim, min_clips, max_clips,
                      sizes.class_name, linking_kinds, unique_elements)
    return write_rg_release(root, videos, sizes.num_train)
