"""``rggroup_heldout``: FIG-like rhythmic gymnastics GROUP routines (five gymnasts), held out from model design.

The rules, close to the 2017-2024 FIG group code, as generated here (docs/generators.md):

* A routine opens and closes on a pose in formation; between its elements the group moves from one
  formation to the next (travelling steps and runs, or apparatus handling in unison).
* **D** = the values of the valued elements: body difficulties (DB, performed by all five at once, valued
  only if all five perform it), exchanges (DE: each gymnast throws her apparatus to a partner; the throw
  and the catch are what the value rests on: 0.2 + 0.1 per criterion), collaborations (C: gymnasts
  working together with risk, 2-5 clips, 0.1-1.0 by criteria) and dance steps combinations (0.3).
  An element performed with a serious fault (0.3 or more) by any gymnast is not valued.
* **E** = 10 - artistic faults (whole routine: unity, character, music; on no clip) - technical faults on
  their clips: loss of apparatus (0.5 without travel, 0.7 after one or two steps, 1.0 further), followed
  by one or two clips of recovery; collision between gymnasts (0.3); imprecise trajectory (0.1-0.3);
  a gymnast out of sync (0.1); a gymnast short of the body difficulty's shape (0.3).
* **Penalty**: time, floor area, coach, now and then; on no clip. Total = D + E - Penalty.

Features: a latent of ``RANK`` dimensions per clip: what the clip shows (element type and phase, or the
kind of connecting movement), the group's style, AR(1) noise, and how quality shows: the spread of the
five gymnasts' timing along a unison direction (squared: unison shows non-linearly), apparatus control
per element family (a saturating function of the fault on its own direction per family), drops and
collisions on their own directions. Letters: T clips, R latent rank.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
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

KIND = "rggroup_heldout"
DEFAULT_CLIPS = (105, 117)
"""A group routine lasts 2:15-2:30; at 32 frames / 25 fps per clip, 105-117 clips."""
FEWEST_CLIPS = 24
"""Room for the four required families (DB, DE, C, dance steps) between an opening and a closing pose."""
GYMNASTS = 5
RANK = 40

SEGMENTS = {
    "pose": 0,  # opening or closing pose in formation
    "travel": 1,  # travelling to the next formation (runs, steps)
    "handling": 2,  # apparatus handling in unison between elements
    "recovery": 3,  # retrieving a dropped apparatus
    "body_difficulty": 4,
    "throw": 5,  # exchange: the throws
    "flight": 6,  # exchange: apparatus in flight, gymnasts moving under it
    "catch": 7,  # exchange: the catches
    "collaboration": 8,
    "dance_steps": 9,
}
"""``segment`` codes: 0-3 connecting movement (off elements), 4-9 elements."""


@dataclass(frozen=True)
class ElementType:
    name: str
    family: str  # "DB", "DE", "C" or "S"
    base: int  # hundredths: the value with no criteria
    criteria: int  # criteria that may each add 0.1


CATALOGUE = (
    ElementType("jump in unison", "DB", 40, 2),
    ElementType("balance in unison", "DB", 40, 2),
    ElementType("rotation in unison", "DB", 30, 3),
    ElementType("split leap in unison", "DB", 50, 1),
    ElementType("exchange by throws, all five at once", "DE", 20, 4),
    ElementType("exchange in sub-groups", "DE", 20, 3),
    ElementType("exchange in chain", "DE", 20, 4),
    ElementType("collaboration with rotation under a throw", "C", 30, 7),
    ElementType("collaboration lifting a gymnast", "C", 40, 5),
    ElementType("collaboration passing over an apparatus", "C", 20, 5),
    ElementType("collaboration rebound off a partner", "C", 30, 7),
    ElementType("dance steps combination", "S", 30, 0),
)
FAMILIES = ("DB", "DE", "C", "S")
FAMILY_WEIGHTS = np.array([0.26, 0.24, 0.42, 0.08])
SHORTEST = {"DB": 1, "DE": 3, "C": 2, "S": 4}
"""Clips per element, fewest (an exchange: throw, flight, catch) ..."""
LONGEST = {"DB": 2, "DE": 4, "C": 5, "S": 6}
"""... and most."""
DROP_SIZES = (np.array([50, 70, 100]), np.array([0.5, 0.35, 0.15]))
"""Loss of apparatus: without travel, after 1-2 steps, further (hundredths) and how often each."""
SERIOUS = 30
OUT_OF_SYNC = 0.6
"""A gymnast is out of sync (0.1) on an element whose timing spread (beats) exceeds this on a clip."""
PENALTIES = (np.array([0, 5, 10, 20, 30, 50]), np.array([0.8, 0.06, 0.04, 0.02, 0.05, 0.03]))
"""Time (0.05 per second), floor area (0.3), coach (0.5), in hundredths, and how often each."""


@dataclass
class Routine:
    """Per-clip arrays being filled (hundredths for marks)."""

    length: int

    def __post_init__(self) -> None:
        t = self.length
        self.segment = np.full(t, SEGMENTS["travel"])
        self.element_type = np.full(t, -1)
        self.difficulty = np.zeros(t, dtype=np.int64)
        self.deduction = np.zeros(t, dtype=np.int64)
        self.control = np.zeros(t)  # apparatus-control fault size (points) shown on the clip
        self.drop = np.zeros(t)
        self.collision = np.zeros(t)

    def credit(self, clips: np.ndarray, value: int) -> None:
        """Spread ``value`` hundredths over ``clips`` (the remainder on the first ones)."""
        share, rest = divmod(value, len(clips))
        self.difficulty[clips] += share
        self.difficulty[clips[:rest]] += 1


class GroupSport:
    """One fixed sport per seed: embeddings, quality directions and the feature map."""

    def __init__(self, seed: int, feature_dim: int):
        rng = np.random.default_rng([seed, 0])
        basis = orthonormal_directions(rng, RANK)
        self.unison_direction, self.drop_direction, self.collision_direction = basis[:3]
        self.control_direction = dict(zip(FAMILIES, basis[3:7]))
        content = basis[7:]
        scale = 2.0 / np.sqrt(RANK)
        self.type_embedding = rng.normal(size=(len(CATALOGUE), len(content))) @ content * scale
        self.segment_embedding = rng.normal(size=(len(SEGMENTS), len(content))) @ content * scale
        self.content = content
        self.feature_map = FeatureMap(rng, RANK, feature_dim)

    def routine(self, name: str, length: int, rng: np.random.Generator) -> JudgedVideo:
        """One group routine of ``length`` clips, judged."""
        skill = float(np.clip(rng.normal(), -2.5, 2.5))
        unity = float(np.clip(0.5 + 0.25 * skill + 0.15 * rng.normal(), 0.05, 1.0))
        offsets = ar1_noise(rng, length, GYMNASTS, 0.85) * (0.25 + 0.6 * (1 - unity))  # (T, 5) timing, beats
        spread = offsets.std(axis=1)  # (T,)
        r = Routine(length)
        r.segment[[0, -1]] = SEGMENTS["pose"]
        drops = self.perform(r, skill, spread, rng)
        artistic = int(np.clip(10 * np.round(rng.normal(12 - 4 * skill - 3 * unity, 2.0)), 30, 300))
        technical = int(r.deduction.sum())
        artistic = min(artistic, max(0, 1000 - technical))
        excess = technical - 1000  # E cannot go below 0: the last faults go unpunished
        for clip in range(length - 1, -1, -1):
            if excess <= 0:
                break
            taken = min(excess, int(r.deduction[clip]))
            r.deduction[clip] -= taken
            excess -= taken
        penalty = int(rng.choice(PENALTIES[0], p=PENALTIES[1]))
        features = self.features(r, spread, rng)
        difficulty, deduction = r.difficulty / 100, r.deduction / 100
        return JudgedVideo(
            name=name,
            features=features,
            truth={"difficulty": difficulty, "deduction": deduction, "contribution": difficulty - deduction,
                   "element_type": r.element_type.astype(np.float64), "segment": r.segment.astype(np.float64)},
            marks={"difficulty": int(r.difficulty.sum()), "execution": 1000 - artistic - int(r.deduction.sum()),
                   "penalty": penalty},
            video={"skill": skill, "unity": unity, "artistic": artistic, "drops": drops},
        )

    def perform(self, r: Routine, skill: float, spread: np.ndarray, rng: np.random.Generator) -> int:
        """Fill ``r`` with connecting movement and elements; returns the number of drops."""
        required = [str(f) for f in rng.permutation(FAMILIES)]  # every family at least once
        t, drops = 1, 0
        while True:
            t += self.connect(r, t, 1 if required else int(rng.integers(1, 3)), rng)
            family = required.pop(0) if required else str(rng.choice(FAMILIES, p=FAMILY_WEIGHTS))
            kind = int(rng.choice([i for i, e in enumerate(CATALOGUE) if e.family == family]))
            room = r.length - 1 - t - sum(1 + SHORTEST[f] for f in required)  # the required ones still fit
            clips = min(self.element_clips(family, rng), room)
            if clips < SHORTEST[family]:
                break
            t, dropped = self.element(r, kind, t, clips, room, skill, spread, rng)
            drops += dropped
        r.segment[t:r.length - 1] = np.where(np.arange(t, r.length - 1) % 2, SEGMENTS["handling"], SEGMENTS["travel"])
        return drops

    @staticmethod
    def element_clips(family: str, rng: np.random.Generator) -> int:
        return int(rng.integers(SHORTEST[family], LONGEST[family] + 1))

    @staticmethod
    def connect(r: Routine, t: int, clips: int, rng: np.random.Generator) -> int:
        """Connecting movement from clip ``t``: one kind per stretch; returns the clips used."""
        clips = max(0, min(clips, r.length - 1 - t))
        r.segment[t:t + clips] = SEGMENTS["travel"] if rng.random() < 0.6 else SEGMENTS["handling"]
        return clips

    def element(self, r: Routine, kind: int, t: int, clips: int, room: int, skill: float, spread: np.ndarray,
                rng: np.random.Generator) -> tuple[int, int]:
        """Perform element ``kind`` on clips ``t .. t + clips`` (recovery within ``room`` clips);
        returns (the next free clip, drops)."""
        e = CATALOGUE[kind]
        where = np.arange(t, t + clips)
        r.element_type[where] = kind
        if e.family == "DE":
            r.segment[where] = SEGMENTS["flight"]
            r.segment[where[0]], r.segment[where[-1]] = SEGMENTS["throw"], SEGMENTS["catch"]
            valued_on = where[[0, -1]]  # one throw and one catch
        else:
            r.segment[where] = SEGMENTS[{"DB": "body_difficulty", "C": "collaboration", "S": "dance_steps"}[e.family]]
            valued_on = where
        ambition = 1 / (1 + np.exp(-(0.8 * skill + 1.0)))
        criteria = int(rng.binomial(e.criteria, ambition)) if e.criteria else 0
        value = e.base + 10 * criteria
        risk = 0.012 + 0.008 * criteria  # more criteria, more risk
        faults = self.faults(r, e, where, risk * np.exp(-0.6 * skill), spread, rng)
        if e.family == "DB":  # valued only if all five perform it with its shape
            missed = rng.random(GYMNASTS) < 0.006 * np.exp(-0.7 * skill) + 0.03 * spread[where].max() ** 2
            if missed.any():
                clip = int(rng.choice(where))
                r.deduction[clip] += 30
                r.control[clip] += 0.3
                faults = max(faults, 30)
        if faults < SERIOUS:
            r.credit(valued_on, value)
        end = t + clips
        if r.drop[where].any() and clips < room:  # retrieval clips after a drop
            recovery = min(int(rng.integers(1, 3)), room - clips)
            r.segment[end:end + recovery] = SEGMENTS["recovery"]
            end += recovery
        return end, int((r.drop[where] > 0).sum())

    @staticmethod
    def faults(r: Routine, e: ElementType, where: np.ndarray, chance: float, spread: np.ndarray,
               rng: np.random.Generator) -> int:
        """Technical faults of one element on its clips; returns the largest (hundredths)."""
        largest = 0
        if e.family != "S" or rng.random() < 0.3:  # loss of apparatus: at a catch when exchanging
            if rng.random() < chance * (1.6 if e.family == "DE" else 1.0):
                clip = int(where[-1] if e.family == "DE" else rng.choice(where))
                size = int(rng.choice(DROP_SIZES[0], p=DROP_SIZES[1]))
                r.deduction[clip] += size
                r.drop[clip] += size / 100
                largest = max(largest, size)
        if e.family == "C" and rng.random() < 0.6 * chance:  # collision between gymnasts
            clip = int(rng.choice(where))
            r.deduction[clip] += 30
            r.collision[clip] += 1.0
            largest = max(largest, 30)
        if e.family in ("DE", "C") and rng.random() < 2.5 * chance:  # imprecise trajectory: on the throw
            size = int(rng.choice([10, 20, 30], p=[0.6, 0.3, 0.1]))
            clip = int(where[0])
            r.deduction[clip] += size
            r.control[clip] += size / 100
            largest = max(largest, size)
        worst = int(where[np.argmax(spread[where])])
        if spread[worst] > OUT_OF_SYNC:  # a gymnast out of sync
            r.deduction[worst] += 10
            largest = max(largest, 10)
        return largest

    def features(self, r: Routine, spread: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """``(T, F)`` features of the judged routine."""
        on = r.element_type >= 0
        latent = self.segment_embedding[r.segment]  # (T, R)
        latent[on] += self.type_embedding[r.element_type[on]]
        latent += rng.normal(size=len(self.content)) @ self.content * 2.0 / np.sqrt(RANK)  # group style
        latent += (1.5 * spread**2)[:, None] * self.unison_direction
        for family, direction in self.control_direction.items():
            mine = np.isin(r.element_type, [i for i, e in enumerate(CATALOGUE) if e.family == family])
            latent -= (mine * np.tanh(3 * r.control))[:, None] * direction
        latent -= (r.control * (~on))[:, None] * self.control_direction["DB"]
        latent += np.sqrt(r.drop)[:, None] * 1.5 * self.drop_direction
        latent += r.collision[:, None] * self.collision_direction
        latent += ar1_noise(rng, r.length, RANK, 0.8) * 0.7 / np.sqrt(RANK)
        return self.feature_map.features(latent, rng, isotropic_std=0.05)


def generate(seed: int, count: int, feature_dim: int, min_clips: int, max_clips: int,
             class_name: str = "Ball") -> Iterator[JudgedVideo]:
    """``count`` group routines of one sport, named ``<class_name>_001`` ..."""
    sport = GroupSport(seed, feature_dim)
    rng = np.random.default_rng([seed, 1])
    for i in range(1, count + 1):
        length = int(rng.integers(min_clips, max_clips + 1))
        yield sport.routine(f"{class_name}_{i:03d}", length, rng)


def write_rggroup_heldout(root: str | Path, sizes: GenerationSizes = DEFAULT_SIZES) -> Path:
    """Write ``sizes.num_train + sizes.num_test`` group routines in the RG layout plus ``truth/``."""
    min_clips, max_clips = sizes.clip_range(KIND, DEFAULT_CLIPS, FEWEST_CLIPS)
    check_class_name(sizes.class_name)
    videos = generate(sizes.seed, sizes.num_train + sizes.num_test, sizes.feature_dim, min_clips, max_clips,
                      sizes.class_name)
    return write_rg_release(root, videos, sizes.num_train)
