"""``swimming_heldout``: team artistic swimming free routines, one total per routine, generic layout.

Held out from model design (docs/generators.md): whoever designs the model should not read this
module. The LOGO release (REFERENCE.md section 1) gives one total per routine and no sub-scores; this
generator writes the same kind of label, in the generic layout (``labels.csv`` + ``features/``).

The rules, as generated here (artistic-swimming-like, on LOGO's scale of about 100):

* A team free routine has five **hybrids** (five types), four **acrobatics** (four types:
  airborne, balance, platform, combined) and one **cadence**, in a random order, with swimming
  patterns (transitions, at least one clip) between and around them. Each element has a **declared
  difficulty** (DD, to 0.05) drawn from its type's range; better teams declare harder elements.
* **Execution**: five judges mark each element 0-10 to 0.25 around its true execution (skill, minus
  a little for harder elements, plus element-to-element variation); the panel takes the mean of the
  middle three. Element score = credited DD x panel mark x 0.19.
* **Base mark**: now and then (more for hard elements and weaker teams) an element is not performed
  as declared: its credited DD falls to half the declared DD (to 0.05) and its marks drop.
* **Synchronisation errors**, each located on one clip (elements and patterns alike), more frequent
  for weaker teams and longer routines: minor 0.1, obvious 0.3, major 1.0, deducted from the total.
* **Artistic impression** is holistic: three components (choreography, musical interpretation,
  performance) marked 0-10 to 0.25 by five judges for the whole routine, from two video-level
  properties, the team's **unison** and its **presentation** (both follow skill); the middle three's
  means, weighted 1.4, 1.2 and 1.4, are summed.
* Total = sum of element scores - synchronisation deductions + artistic impression (in hundredths,
  written to 2 decimals). The label is that total alone.

Element lengths scale with the routine (at 160 clips: hybrids 8 clips, acrobatics 3, the cadence 6),
at least one clip each; the rest is swimming patterns.

Features: a latent of 40 dimensions per clip holds the element type's embedding (10 types) or the
pattern embedding, the team's style vector (with its presentation), AR(1) noise (rho 0.85) and:

* execution, *per family* (hybrids, acrobatics, cadence each have a direction), with a triangular
  profile over the element's clips (strongest at its middle, mean 1): (mark - 7.5) / 1.5 x 0.5;
* the declared DD relative to its type's mean, along one difficulty direction on the element's clips;
* a base mark, along a failure direction on every clip of the failed element;
* a synchronisation error, along a synchro direction on its clip, 0.8 + 2 x its size;
* unison, on every clip (a little noisy per clip), along a unison direction.

Per-clip truth (``truth/<name>.npz``): ``difficulty`` (credited DD spread over the element's clips),
``deduction`` (synchronisation deductions on their clips), ``contribution`` (the element score
spread over its clips minus the deduction; sums to total - artistic impression) and
``element_type`` (-1 on patterns). The artistic impression has no per-clip share.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np

from longaqa.data.generators.latent import FeatureMap, ar1_noise, orthonormal_directions
from longaqa.data.generators.release import DEFAULT_SIZES, GenerationSizes, JudgedVideo, write_generic_release

KIND = "swimming_heldout"
DEFAULT_CLIPS = (130, 190)
"""Team routines of about 2:45-4:00 at 25 fps in 32-frame clips."""
FEWEST_CLIPS = 24

# Element types: name, family, DD range (hundredths)
TYPES = (
    ("front pike hybrid", "hybrid", (250, 420)),
    ("back layout hybrid", "hybrid", (270, 450)),
    ("ballet leg hybrid", "hybrid", (220, 380)),
    ("spin hybrid", "hybrid", (300, 520)),
    ("twist hybrid", "hybrid", (280, 480)),
    ("airborne", "acrobatic", (330, 560)),
    ("balance", "acrobatic", (260, 430)),
    ("platform", "acrobatic", (240, 400)),
    ("combined", "acrobatic", (380, 620)),
    ("cadence", "cadence", (120, 220)),
)
FAMILIES = ("hybrid", "acrobatic", "cadence")
DURATION = {"hybrid": 8, "acrobatic": 3, "cadence": 6}
"""Clips per element in a routine of 160 clips (scaled with the routine's length)."""
ELEMENT_FACTOR = 0.19
JUDGES = 5
SYNCHRO_SIZES = (np.array([10, 30, 100]), np.array([0.7, 0.25, 0.05]))  # hundredths, probabilities
SYNCHRO_RATE = 2.0
"""Expected synchronisation errors in 160 clips for an average team."""
COMPONENTS = {
    # component: weight, mean mark, weight of unison, weight of presentation
    "choreography": (1.4, 8.0, 0.35, 0.3),
    "musical interpretation": (1.2, 7.9, 0.3, 0.35),
    "performance": (1.4, 8.1, 0.4, 0.3),
}
RANK = 40


def trimmed_mean(marks: np.ndarray) -> np.ndarray:
    """The panel's mark: the mean of the judges' marks without the highest and the lowest (last axis)."""
    return np.sort(marks, axis=-1)[..., 1:-1].mean(axis=-1)


def panel_mark(true_mark: float, rng: np.random.Generator, spread: float = 0.35) -> float:
    """Five judges mark to 0.25 around ``true_mark``, clipped to 0-10; the middle three's mean."""
    marks = np.clip(np.round((true_mark + rng.normal(0, spread, JUDGES)) * 4) / 4, 0, 10)
    return float(trimmed_mean(marks))


def triangle(n: int) -> np.ndarray:
    """A triangular profile over ``n`` clips, peaked at the middle, with mean 1: ``(n,)``."""
    profile = 1.0 - np.abs(np.linspace(-1, 1, n + 2)[1:-1]) + 0.1
    return profile / profile.mean()


class SwimmingSport:
    """One fixed sport per seed: type embeddings, signal directions, the feature map."""

    def __init__(self, seed: int, feature_dim: int):
        rng = np.random.default_rng([seed, 0])
        basis = orthonormal_directions(rng, RANK)
        (self.difficulty_direction, self.failure_direction, self.synchro_direction,
         self.unison_direction, self.presentation_direction) = basis[:5]
        self.execution_direction = dict(zip(FAMILIES, basis[5:8]))
        self.content = basis[8:]  # types, patterns and styles
        scale = 2.0 / np.sqrt(len(self.content))
        self.type_embedding = rng.normal(size=(len(TYPES), len(self.content))) @ self.content * scale
        self.pattern_embedding = rng.normal(size=len(self.content)) @ self.content * scale
        self.feature_map = FeatureMap(rng, RANK, feature_dim)

    def layout(self, kinds: list[int], length: int, rng: np.random.Generator) -> list[tuple[int, int]]:
        """``(start, end)`` clips of each element, with patterns (at least one clip) between and around."""
        durations = np.array([max(1, round(DURATION[TYPES[k][1]] * length / 160)) for k in kinds])
        while durations.sum() + len(kinds) + 1 > length:  # short routines: shrink the longest element
            durations[durations.argmax()] -= 1
        free = length - durations.sum() - (len(kinds) + 1)
        gaps = 1 + rng.multinomial(free, rng.dirichlet(np.full(len(kinds) + 1, 2.0)))
        starts = gaps[:-1].cumsum() + np.concatenate([[0], durations[:-1].cumsum()])
        return [(int(s), int(s + d)) for s, d in zip(starts, durations)]

    def element(self, kind: int, skill: float, rng: np.random.Generator) -> tuple[int, int, float, bool]:
        """One element's declared DD, credited DD (hundredths), panel mark and whether it got a base mark."""
        low, high = TYPES[kind][2]
        position = np.clip(0.5 + 0.08 * skill + rng.normal(0, 0.15), 0, 1)  # better teams declare harder
        declared = int(round((low + position * (high - low)) / 5)) * 5
        hardness = (declared - 350) / 120
        failed = rng.random() < 1 / (1 + np.exp(3.2 + 0.8 * skill - 0.6 * hardness))
        true_mark = 7.6 + 0.35 * skill - 0.25 * hardness + rng.normal(0, 0.4) - (2.0 if failed else 0.0)
        credited = int(round(declared / 2 / 5)) * 5 if failed else declared
        return declared, credited, panel_mark(float(np.clip(true_mark, 0, 10)), rng), failed

    def routine(self, name: str, length: int, rng: np.random.Generator) -> JudgedVideo:
        skill = float(np.clip(rng.normal(), -2.5, 2.5))
        unison = 0.75 * skill + 0.66 * rng.normal()
        presentation = 0.7 * skill + 0.71 * rng.normal()
        hybrids = [int(k) for k in rng.choice(5, size=5, replace=False)]
        acrobatics = [5 + int(k) for k in rng.choice(4, size=4, replace=False)]
        kinds = [*hybrids, *acrobatics, 9]
        kinds = [kinds[i] for i in rng.permutation(len(kinds))]

        element_type = np.full(length, -1)
        difficulty, share = np.zeros(length), np.zeros(length)  # points per clip
        latent = np.zeros((length, RANK))
        elements = 0  # hundredths
        for kind, (start, end) in zip(kinds, self.layout(kinds, length, rng)):
            declared, credited, mark, failed = self.element(kind, skill, rng)
            score = int(round(credited * mark * ELEMENT_FACTOR))  # hundredths
            n = end - start
            element_type[start:end] = kind
            difficulty[start:end] = credited / 100 / n
            share[start:end] = score / 100 / n
            elements += score
            family = TYPES[kind][1]
            low, high = TYPES[kind][2]
            shown = 0.5 * (mark - 7.5) / 1.5 * triangle(n)
            latent[start:end] += shown[:, None] * self.execution_direction[family]
            latent[start:end] += 0.6 * (declared - (low + high) / 2) / (high - low) * self.difficulty_direction
            latent[start:end] += 1.5 * failed * self.failure_direction

        deduction, synchro = self.synchro_errors(skill, length, rng)
        latent += (np.where(deduction > 0, 0.8, 0.0) + 2 * deduction)[:, None] * self.synchro_direction
        artistic = self.artistic_impression(unison, presentation, rng)
        latent += self.appearance(element_type, unison, presentation, rng)
        features = self.feature_map.features(latent, rng, isotropic_std=0.05)
        return JudgedVideo(
            name=name,
            features=features,
            truth={
                "difficulty": difficulty,
                "deduction": deduction,
                "contribution": share - deduction,
                "element_type": element_type.astype(np.float64),
            },
            marks={"elements": elements, "synchro": synchro, "artistic": artistic,
                   "total": elements - synchro + artistic},
            video={"skill": skill, "unison": unison, "presentation": presentation},
        )

    def synchro_errors(self, skill: float, length: int, rng: np.random.Generator) -> tuple[np.ndarray, int]:
        """Per-clip synchronisation deductions in points ``(T,)`` and their total in hundredths."""
        count = rng.poisson(SYNCHRO_RATE * length / 160 * np.exp(-0.6 * skill))
        sizes, p = SYNCHRO_SIZES
        shift = np.exp(-0.3 * skill * np.arange(len(p)))  # weaker teams make bigger errors
        drawn = rng.choice(sizes, size=count, p=p * shift / (p * shift).sum())
        deduction = np.zeros(length)
        for size, where in zip(drawn, rng.integers(0, length, size=count)):
            deduction[where] += size / 100
        return deduction, int(drawn.sum())

    def artistic_impression(self, unison: float, presentation: float, rng: np.random.Generator) -> int:
        """The holistic artistic impression in hundredths: three weighted components of the whole routine."""
        total = 0
        for weight, mean, w_unison, w_presentation in COMPONENTS.values():
            mark = panel_mark(float(np.clip(mean + w_unison * unison + w_presentation * presentation, 0, 10)), rng)
            total += int(round(weight * round(100 * mark)))
        return total

    def appearance(self, element_type: np.ndarray, unison: float, presentation: float,
                   rng: np.random.Generator) -> np.ndarray:
        """What is performed, the team's style and unison, and AR(1) noise: ``(T, R)``."""
        length = len(element_type)
        pattern = element_type < 0
        embedding = np.where(pattern[:, None], self.pattern_embedding, self.type_embedding[element_type])
        style = rng.normal(size=len(self.content)) @ self.content * 2.0 / np.sqrt(len(self.content))
        style = style + 0.6 * presentation * self.presentation_direction
        shown_unison = 0.4 * (unison + rng.normal(0, 0.4, length))
        latent = embedding + style + shown_unison[:, None] * self.unison_direction
        return latent + ar1_noise(rng, length, RANK, 0.85) * 0.8 / np.sqrt(RANK)


def generate(seed: int, count: int, feature_dim: int, min_clips: int, max_clips: int) -> Iterator[JudgedVideo]:
    """``count`` routines of one sport, named ``team_001`` ... in order."""
    sport = SwimmingSport(seed, feature_dim)
    rng = np.random.default_rng([seed, 1])
    for i in range(1, count + 1):
        yield sport.routine(f"team_{i:03d}", int(rng.integers(min_clips, max_clips + 1)), rng)


def write_swimming_heldout(root: str | Path, sizes: GenerationSizes = DEFAULT_SIZES) -> Path:
    """Write ``sizes.num_train + sizes.num_test`` routines in the generic layout plus ``truth/``; returns
    ``root``.

    The first ``sizes.num_train`` (``team_001`` ...) are ``train``, the rest ``test``;
    ``sizes.class_name`` is not used (the generic layout has no classes).
    """
    min_clips, max_clips = sizes.clip_range(KIND, DEFAULT_CLIPS, FEWEST_CLIPS)
    videos = generate(sizes.seed, sizes.num_train + sizes.num_test, sizes.feature_dim, min_clips, max_clips)
    return write_generic_release(root, videos, sizes.num_train)
