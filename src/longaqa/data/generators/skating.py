"""``skating``: short programmes judged by ISU-like rules (before 2018-19), written in the Fis-V layout.

The rules (REFERENCE.md section 5), as generated here:

* A programme has the seven technical elements of a ladies' short programme, in a random order:
  an axel (2A or 3A), a solo triple jump, a jump combination, three spins (layback, flying camel,
  change-foot combination spin) and a step sequence. Skill picks the jumps (better skaters try harder
  ones) and the levels of spins and steps (1-4), each with the ISU base value of those seasons.
* Jumps that start in the second half of the programme get a 1.1 bonus on their base value.
* **GOE**: five judges each grade an element -3..+3 around its true execution (skill, minus a little
  for harder elements, plus element-to-element variation); the panel takes the mean of the middle
  three, and the GOE in points is that mean x 0.1 x the base value (rounded to 0.01).
* **Falls**: now and then (mostly on hard jumps, less often for better skaters) the skater falls:
  every judge grades -3 and a 1.0 deduction falls on that clip (a jump's landing clip).
* TES = the sum over elements of base + GOE; deductions = 1 per fall (whole points, as in Fis-V).
* **PCS**: five programme components (skating skills, transitions, performance, composition,
  interpretation) marked by five judges to 0.25 for the *whole programme*, from two video-level
  properties: the **flow** of the skating between elements and the skater's **presentation**; both
  correlate with skill, so PCS correlates with TES, but PCS is not a sum over clips. The middle three
  judges' mean per component, summed, x 0.8 (the ladies' short programme factor).

Features: a latent of 48 dimensions per clip holds the element type's embedding (18 types: 7 solo
jumps, 7 combinations, 3 spins, the step sequence) or the transition embedding, the video's style
vector, AR(1) noise and these signals along their own directions:

* execution, *type-specifically*: each element type has its own GOE direction, along which every clip
  of the element shows the element's true execution (in GOE grades);
* levels of spins and steps, each type along its own level direction;
* a fall, along a fall direction on the fall clip;
* flow, on every transition clip (the quality of the skating between elements, a little noisy);
* presentation, in the video's style vector (the same on every clip).

Per-clip truth (``truth/<id>.npz``): ``difficulty`` (base value with bonus; sums to the base values),
``goe`` (sums to the GOEs), ``tes`` = difficulty + goe (sums to TES), ``deduction`` (1.0 on each fall
clip; sums to the deductions column), ``contribution`` = tes - deduction (sums to TES - deductions;
PCS has no per-clip share) and ``element_type`` (-1 between elements).
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
    write_fisv_release,
    write_generic_release,
)

KIND = "skating"
DEFAULT_CLIPS = (125, 175)
"""Fis-V: about 125-175 clips of 32 frames at 25 fps."""
FEWEST_CLIPS = 16

# Base values in hundredths (ISU communication of the Fis-V seasons); spins and steps by level 1-4.
AXELS = {"2A": 330, "3A": 850}
SOLO_JUMPS = {"3T": 430, "3S": 440, "3Lo": 510, "3F": 530, "3Lz": 600}
COMBINATIONS = {"3T+2T": 560, "3S+2T": 570, "3F+2T": 660, "3Lz+2T": 730, "3T+3T": 860, "3F+3T": 960, "3Lz+3T": 1030}
SPINS = {"LSp": (150, 190, 240, 270), "FCSp": (200, 230, 280, 320), "CCoSp": (200, 250, 300, 350)}
STEP_SEQUENCE = {"StSq": (180, 260, 330, 390)}
JUMP_BASE = {**AXELS, **SOLO_JUMPS, **COMBINATIONS}
LEVELLED_BASE = {**SPINS, **STEP_SEQUENCE}
JUMP_TYPES = tuple(JUMP_BASE)
LEVELLED_TYPES = tuple(LEVELLED_BASE)
ELEMENT_TYPES = (*JUMP_TYPES, *LEVELLED_TYPES)
DURATION = {**{n: 2 for n in (*AXELS, *SOLO_JUMPS)}, **{n: 3 for n in COMBINATIONS}, **{n: 7 for n in SPINS},
            "StSq": 22}
"""Clips per element in a programme of 150 clips (scaled with the programme's length)."""

SECOND_HALF_BONUS = 1.1
GOE_STEP = 0.1
"""GOE in points per grade, as a fraction of the base value."""
JUDGES = 5
PCS_FACTOR = 0.8
COMPONENTS = {
    # component: mean mark, weight of flow, weight of presentation
    "skating skills": (6.8, 1.1, 0.2),
    "transitions": (6.6, 1.2, 0.0),
    "performance": (6.9, 0.2, 1.1),
    "composition": (6.8, 0.6, 0.7),
    "interpretation": (6.9, 0.1, 1.1),
}
RANK = 48


def trimmed_mean(marks: np.ndarray) -> np.ndarray:
    """The panel's mark: the mean of the judges' marks without the highest and the lowest (last axis)."""
    return np.sort(marks, axis=-1)[..., 1:-1].mean(axis=-1)


def _ambition(options: dict[str, int], skill: float, rng: np.random.Generator) -> str:
    """Pick among ``options`` by base value: a skater tries elements near her level."""
    names = list(options)
    base = np.array([options[n] for n in names], dtype=float)
    z = (base - base.mean()) / base.std()
    p = np.exp(-0.5 * ((z - 0.8 * skill) / 0.6) ** 2)
    return names[int(rng.choice(len(names), p=p / p.sum()))]


class SkatingSport:
    """One fixed sport per seed: type embeddings, GOE and level directions, the feature map."""

    def __init__(self, seed: int, feature_dim: int):
        rng = np.random.default_rng([seed, 0])
        basis = orthonormal_directions(rng, RANK)
        self.flow_direction, self.presentation_direction, self.fall_direction = basis[0], basis[1], basis[2]
        n_types = len(ELEMENT_TYPES)
        self.goe_direction = basis[3 : 3 + n_types]  # (types, R)
        self.level_direction = dict(zip(LEVELLED_TYPES, basis[3 + n_types : 3 + n_types + len(LEVELLED_TYPES)]))
        self.content = basis[3 + n_types + len(LEVELLED_TYPES) :]  # types and styles
        scale = 2.0 / np.sqrt(len(self.content))
        self.type_embedding = rng.normal(size=(n_types, len(self.content))) @ self.content * scale
        self.transition_embedding = rng.normal(size=len(self.content)) @ self.content * scale
        self.feature_map = FeatureMap(rng, RANK, feature_dim)

    def layout(self, elements: list[str], length: int, rng: np.random.Generator) -> list[tuple[int, int]]:
        """``(start, end)`` clips of each element, with transitions (at least one clip) between and around."""
        durations = np.array([max(1, round(DURATION[e] * length / 150)) for e in elements])
        while durations.sum() + len(elements) + 1 > length:  # short programmes: shrink the longest element
            durations[durations.argmax()] -= 1
        free = length - durations.sum() - (len(elements) + 1)
        gaps = 1 + rng.multinomial(free, rng.dirichlet(np.full(len(elements) + 1, 3.0)))
        starts = gaps[:-1].cumsum() + np.concatenate([[0], durations[:-1].cumsum()])
        return [(int(s), int(s + d)) for s, d in zip(starts, durations)]

    def programme(self, name: str, length: int, rng: np.random.Generator) -> JudgedVideo:
        skill = float(np.clip(rng.normal(), -2.5, 2.5))
        flow = 0.8 * skill + 0.6 * rng.normal()
        presentation = 0.7 * skill + 0.71 * rng.normal()
        axel = "3A" if skill > 1.8 and rng.random() < 0.5 else "2A"
        elements = [axel, _ambition(SOLO_JUMPS, skill, rng), _ambition(COMBINATIONS, skill, rng),
                    *SPINS, *STEP_SEQUENCE]
        elements = [elements[i] for i in rng.permutation(len(elements))]

        element_type = np.full(length, -1)
        difficulty, goe = np.zeros(length), np.zeros(length)  # points
        deduction = np.zeros(length)
        execution = np.zeros(length)  # true execution in GOE grades, shown along the type's GOE direction
        fall_shown = np.zeros(length)
        level_shown = np.zeros((length, RANK))
        tes = falls = 0  # hundredths, count
        jump_bases = np.array(list(JUMP_BASE.values()), dtype=float)
        for element, (start, end) in zip(elements, self.layout(elements, length, rng)):
            kind = ELEMENT_TYPES.index(element)
            if element in LEVELLED_TYPES:
                level = int(np.clip(round(2.5 + skill + rng.normal(0, 0.7)), 1, 4))
                base = LEVELLED_BASE[element][level - 1]
                level_shown[start:end] = (level - 2.5) * self.level_direction[element]
                fall_logit = -4.5 - 0.5 * skill
            else:
                base = JUMP_BASE[element]
                fall_logit = -2.6 + 0.5 * (base - jump_bases.mean()) / jump_bases.std() - 0.9 * skill
            hardness = (base - 450) / 250
            true_grade = 0.9 * skill - 0.25 * hardness + rng.normal(0, 0.5)
            fell = rng.random() < 1 / (1 + np.exp(-fall_logit))
            if fell:
                true_grade = -3.0
                where = end - 1 if element in JUMP_TYPES else int(rng.integers(start, end))
                deduction[where] += 1.0
                fall_shown[where] = 1.0
                falls += 1
            grades = np.clip(np.round(true_grade + rng.normal(0, 0.6, JUDGES)), -3, 3)
            credited = round(base * SECOND_HALF_BONUS) if element in JUMP_TYPES and start >= length / 2 else base
            goe_points = round(trimmed_mean(grades) * GOE_STEP * base)  # hundredths
            n = end - start
            element_type[start:end] = kind
            difficulty[start:end] = credited / 100 / n
            goe[start:end] = goe_points / 100 / n
            execution[start:end] = np.clip(true_grade, -3, 3)
            tes += credited + goe_points

        marks = [mean + w_flow * flow + w_pres * presentation for mean, w_flow, w_pres in COMPONENTS.values()]
        judged = np.clip(np.round((np.array(marks)[:, None] + rng.normal(0, 0.25, (len(marks), JUDGES))) * 4) / 4,
                         0.25, 10)
        pcs = round(PCS_FACTOR * np.round(100 * trimmed_mean(judged)).sum())  # hundredths

        transition = element_type < 0
        embedding = np.where(transition[:, None], self.transition_embedding, self.type_embedding[element_type])
        style = rng.normal(size=len(self.content)) @ self.content * 2.0 / np.sqrt(len(self.content))
        style = style + 0.6 * presentation * self.presentation_direction
        latent = embedding + style + level_shown  # (T, R)
        latent += 0.5 * execution[:, None] * self.goe_direction[np.maximum(element_type, 0)]
        latent += 3.0 * fall_shown[:, None] * self.fall_direction
        shown_flow = np.where(transition, flow + rng.normal(0, 0.3, length), 0.0)
        latent += 0.5 * shown_flow[:, None] * self.flow_direction
        latent += ar1_noise(rng, length, RANK, 0.8) * 0.8 / np.sqrt(RANK)
        features = self.feature_map.features(latent, rng, isotropic_std=0.05)

        clip_tes = difficulty + goe
        return JudgedVideo(
            name=name,
            features=features,
            truth={
                "difficulty": difficulty,
                "goe": goe,
                "tes": clip_tes,
                "deduction": deduction,
                "contribution": clip_tes - deduction,
                "element_type": element_type.astype(np.float64),
            },
            marks={"tes": int(tes), "pcs": int(pcs), "deductions": 100 * falls},
            video={"skill": skill, "flow": flow, "presentation": presentation},
        )


def generate(seed: int, count: int, feature_dim: int, min_clips: int, max_clips: int) -> Iterator[JudgedVideo]:
    """``count`` programmes of one sport, with numeric ids ``1`` ... ``count`` as in Fis-V."""
    sport = SkatingSport(seed, feature_dim)
    rng = np.random.default_rng([seed, 1])
    for i in range(1, count + 1):
        yield sport.programme(str(i), int(rng.integers(min_clips, max_clips + 1)), rng)


def write_skating(root: str | Path, sizes: GenerationSizes = DEFAULT_SIZES) -> Path:
    """Write ``sizes.num_train + sizes.num_test`` programmes in the Fis-V layout plus ``truth/``; returns
    ``root``.

    The test ids are drawn among all ids (as in Fis-V, where they interleave); ``sizes.class_name`` is
    not used (Fis-V names videos by number).
    """
    min_clips, max_clips = sizes.clip_range(KIND, DEFAULT_CLIPS, FEWEST_CLIPS)
    count = sizes.num_train + sizes.num_test
    test_ids = np.random.default_rng([sizes.seed, 2]).choice(count, size=sizes.num_test, replace=False) + 1
    videos = generate(sizes.seed, count, sizes.feature_dim, min_clips, max_clips)
    return write_fisv_release(root, videos, {str(i) for i in test_ids})


def write_skating_total(root: str | Path, sizes: GenerationSizes = DEFAULT_SIZES) -> Path:
    """The same programmes as :func:`write_skating` (same sizes, same features and truth), written
    in the generic layout with one total per programme, TES + PCS - deductions, as a release that gives
    only the total (LOGO) would: the holistic PCS is inside the total and nothing says how much. Names
    are ``programme_001`` ... (Fis-V id 1 ...); the first ``sizes.num_train`` are ``train``. A design kind:
    the additive head's ``holistic`` sheet was designed on it (docs/additive.md)."""
    min_clips, max_clips = sizes.clip_range(KIND, DEFAULT_CLIPS, FEWEST_CLIPS)
    videos = []
    for video in generate(sizes.seed, sizes.num_train + sizes.num_test, sizes.feature_dim, min_clips, max_clips):
        marks = video.marks
        video.marks = {**marks, "total": marks["tes"] + marks["pcs"] - marks["deductions"]}
        video.name = f"programme_{int(video.name):03d}"  # Fis-V id 7 is programme_007
        videos.append(video)
    return write_generic_release(root, videos, sizes.num_train)
