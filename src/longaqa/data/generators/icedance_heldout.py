"""``icedance_heldout``: ISU-like ice dance free dances, written in the Fis-V layout; held out from model design.

Whoever designs a model should not read this module (docs/generators.md): it is kept out of model
design so that a model shaped on the other generators can be checked on a sport it was not shaped
around. What follows is for after the model is designed.

The rules (ISU Judging System for ice dance, the seasons with GOE -5..+5), as generated here:

* A senior **free dance** has the required elements, in an order drawn per couple:

  - dance lifts: three different short lifts (stationary ``StaLi``, straight line ``SlLi``, curve
    ``CuLi``, rotational ``RoLi``), or one short lift and one combination lift (``CoLi``) of two other
    kinds, its base value the sum of its two lifts';
  - one dance spin: a spin (``Sp``) or a combination spin (``CoSp``);
  - one set of synchronised twizzles (``SyTw``), levelled per partner;
  - one step sequence in hold, one long pattern (diagonal ``DiSt``, circular ``CiSt`` or serpentine
    ``SeSt``);
  - one one-foot step sequence (``OFSt``), levelled per partner;
  - three different choreographic elements among five (lift ``ChLi``, spinning movement ``ChSp``,
    twizzling movement ``ChTw``, character step sequence ``ChSt``, sliding movement ``ChSl``), each
    with the fixed base value 1.10 and no level.

* **Levels** (1-4) follow the couple's skill and its strength in the element's family; a fall in an
  element costs it a level. Partnered elements (twizzles, one-foot steps) have one level per partner
  and the base value is the sum of the two partners' values.
* **GOE**: nine judges each grade an element -5..+5 around its true execution, which follows skill,
  the couple's strength in the family, and per family one of the couple's whole-programme qualities
  (unison for lifts, spins and twizzles, skating quality for steps, expression for choreographic
  elements); each grade is turned into points by the element's scale (10% of the base value per grade;
  0.53 per grade for choreographic elements), the highest and lowest are dropped and the mean of the
  other seven, rounded to 0.01, is the GOE. A fall caps every grade at -3 (one partner) or makes it -5
  (both); an extended lift loses about 1.5 grades.
* **Deductions** (whole points, the Fis-V ``deductions`` column): 1 per fall of one partner, 2 per fall
  of both, located on the fall's clip (in an element or in the connecting skating); 1 per extended
  lift, on the lift's extra clip; and, located on no clip, 1 for a costume or prop violation and 1 for
  a time violation.
* TES = the sum over elements of base + GOE.
* **PCS**: five components (skating skills, transitions, performance, composition, interpretation)
  marked to 0.25 by nine judges for the *whole programme* from three couple-level qualities (skating
  quality, unison, expression; each follows skill); per component the mean without the highest and the
  lowest mark, times the free dance factor 1.2, summed. PCS has no per-clip share.

Clips: the elements take their nominal lengths at 150 clips (short lifts 4-5, combination lift 9,
spin 3-5, twizzles 8, the step sequence in hold 26-28, the one-foot sequence 13, choreographic
elements 4-12), scaled with the programme's length (not below a few clips), an extended lift one clip
more; the rest, at least one clip before, between and after the elements, is **connecting movement**
of three kinds (``segment`` 0 stroking and crossovers, 1 dance holds and hold changes, 2 choreographic
transitions and poses), drawn clip by clip from the couple's own mix, runs persisting; the first and the
last clip are poses (2).

Features: a latent of 56 dimensions per clip, mapped to ``feature_dim`` by one fixed random matrix per
sport, holds the element type's embedding (a combination lift also shows its two lifts' embeddings, one
per half) or the connecting kind's embedding, the couple's style vector, AR(1) noise and these signals:

* execution, along one direction per *family*, as 1.2 tanh(true grade / 3) times a per-family profile:
  lifts show it weakly on the entry clip and fully on the held clips; spins increasingly towards the end;
  twizzles with heavy per-clip noise (visible only over the element's clips); step sequences with a
  random per-clip emphasis and some noise; choreographic elements on every clip, where the couple's
  expression also shows;
* levels, along one direction per family: on the middle clip of a lift, every clip of spins and
  twizzles, every third clip of a step sequence (choreographic elements have none);
* a fall along a fall direction on its clip (stronger when both fall), getting up on the next clip;
  an extended lift's extra clip along a strain direction;
* on connecting clips, the couple's skating quality (stroking), unison (holds) or expression (poses),
  a little noisy per clip.

Per-clip truth (``truth/<id>.npz``): ``difficulty`` (base value spread over the element's clips; sums to
the base values), ``goe`` (sums to the GOEs), ``tes`` = difficulty + goe (sums to TES), ``deduction``
(falls and extended lifts on their clips; with the non-located deductions it sums to the deductions
column), ``contribution`` = tes - deduction, ``element_type`` (the index in ``CATALOGUE``, -1 off
elements) and ``segment`` (0 stroking, 1 holds, 2 poses, 3 lift, 4 spin, 5 twizzles, 6 step sequence,
7 choreographic element).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from longaqa.data.generators.latent import FeatureMap, ar1_noise, orthonormal_directions
from longaqa.data.generators.release import DEFAULT_SIZES, GenerationSizes, JudgedVideo, write_fisv_release

KIND = "icedance_heldout"
DEFAULT_CLIPS = (135, 170)
"""A free dance of 4:00 +- 0:10 at 1.28 s a clip, less the part before the music and after the final pose."""
FEWEST_CLIPS = 32
NOMINAL_CLIPS = 150
"""The programme length at which elements take their nominal number of clips."""


@dataclass(frozen=True)
class ElementKind:
    code: str
    family: str
    values: tuple[int, ...]
    """Base value by level 1-4 in hundredths (per partner when ``partnered``); one value: no level;
    empty: the sum of its parts (the combination lift)."""
    clips: int
    """Clips in a programme of ``NOMINAL_CLIPS`` clips."""
    fewest: int = 1
    """Clips it keeps in the shortest programmes."""
    partnered: bool = False


CHOREO_VALUE = (110,)
CATALOGUE = (
    ElementKind("StaLi", "lift", (300, 350, 400, 450), 4),
    ElementKind("SlLi", "lift", (300, 350, 400, 450), 5),
    ElementKind("CuLi", "lift", (300, 350, 400, 450), 4),
    ElementKind("RoLi", "lift", (300, 350, 400, 450), 4),
    ElementKind("CoLi", "lift", (), 9, fewest=2),
    ElementKind("Sp", "spin", (245, 295, 345, 395), 3),
    ElementKind("CoSp", "spin", (295, 345, 395, 445), 5),
    ElementKind("SyTw", "twizzles", (195, 245, 295, 330), 8, fewest=2, partnered=True),
    ElementKind("DiSt", "steps", (495, 595, 695, 795), 26, fewest=3),
    ElementKind("CiSt", "steps", (495, 595, 695, 795), 28, fewest=3),
    ElementKind("SeSt", "steps", (495, 595, 695, 795), 27, fewest=3),
    ElementKind("OFSt", "steps", (220, 280, 330, 380), 13, fewest=2, partnered=True),
    ElementKind("ChLi", "choreo", CHOREO_VALUE, 6),
    ElementKind("ChSp", "choreo", CHOREO_VALUE, 4),
    ElementKind("ChTw", "choreo", CHOREO_VALUE, 5),
    ElementKind("ChSt", "choreo", CHOREO_VALUE, 12, fewest=2),
    ElementKind("ChSl", "choreo", CHOREO_VALUE, 4),
)
INDEX = {kind.code: i for i, kind in enumerate(CATALOGUE)}
SHORT_LIFTS = ("StaLi", "SlLi", "CuLi", "RoLi")
STEP_PATTERNS = ("DiSt", "CiSt", "SeSt")
CHOREO = ("ChLi", "ChSp", "ChTw", "ChSt", "ChSl")
FAMILIES = ("lift", "spin", "twizzles", "steps", "choreo")
SEGMENTS = ("stroking", "holds", "poses", "lift", "spin", "twizzles", "steps", "choreographic")
"""``segment`` codes: 0-2 connecting movement, 3-7 the element's family."""
FAMILY_SEGMENT = {family: 3 + i for i, family in enumerate(FAMILIES)}
POSE = 2

CHOREO_GOE_STEP = 53
"""GOE points per grade of a choreographic element, in hundredths (others: 10% of the base value)."""
JUDGES = 9
FALL_LOGIT = {"lift": -6.2, "spin": -6.0, "twizzles": -4.7, "steps": -5.1, "choreo": -5.8}
"""Log-odds of a fall in an element of the family for a couple of average skill."""
BOTH_FALL = {"lift": 0.6, "spin": 0.3, "twizzles": 0.2, "steps": 0.2, "choreo": 0.2}
"""Probability that a fall in the family is a fall of both partners."""
CONNECTING_FALL_LOGIT = -4.2
EXTENDED_LIFT_LOGIT = -4.2
COSTUME_VIOLATION, TIME_VIOLATION = 0.03, 0.02
PCS_FACTOR = 1.2
COMPONENTS = {
    # component: mean mark, weight of skating quality, unison, expression
    "skating skills": (7.5, 0.75, 0.25, 0.0),
    "transitions": (7.3, 0.5, 0.45, 0.0),
    "performance": (7.5, 0.1, 0.35, 0.6),
    "composition": (7.4, 0.35, 0.1, 0.55),
    "interpretation": (7.5, 0.0, 0.25, 0.75),
}
RANK = 56


def trimmed_mean(marks: np.ndarray) -> np.ndarray:
    """The panel's mark: the mean of the judges' marks without the highest and the lowest (last axis)."""
    return np.sort(marks, axis=-1)[..., 1:-1].mean(axis=-1)


def logistic(x: float) -> float:
    return float(1 / (1 + np.exp(-x)))


@dataclass
class Couple:
    """What the judges and the features see of one couple (latent, for tests: ``JudgedVideo.video``)."""

    skill: float
    skating: float
    unison: float
    expression: float
    strength: dict[str, float]
    """Per family: better or worse than skill alone says."""
    mix: np.ndarray
    """Shares of the three kinds of connecting movement."""


@dataclass
class Performed:
    """One element as performed and judged (points in hundredths)."""

    kind: int
    parts: tuple[int, ...] = ()
    """A combination lift's two short lifts."""
    extended: bool = False
    start: int = 0
    end: int = 0
    levels: tuple[int, ...] = ()
    base: int = 0
    execution: float = 0.0
    """True execution in GOE grades (after a fall or an extended lift)."""
    goe: int = 0
    fall_clip: int = -1
    fall_points: int = 0

    @property
    def family(self) -> str:
        return CATALOGUE[self.kind].family


def draw_couple(rng: np.random.Generator) -> Couple:
    skill = float(np.clip(rng.normal(), -2.5, 2.5))
    return Couple(
        skill=skill,
        skating=0.8 * skill + 0.6 * rng.normal(),
        unison=0.7 * skill + 0.71 * rng.normal(),
        expression=0.7 * skill + 0.71 * rng.normal(),
        strength={family: 0.45 * rng.normal() for family in FAMILIES},
        mix=rng.dirichlet(np.full(len(SEGMENTS[:3]), 1.5)),
    )


def choose_elements(couple: Couple, rng: np.random.Generator) -> list[Performed]:
    """The required elements of a free dance, in the couple's order; extended lifts decided here."""
    lifts = [SHORT_LIFTS[i] for i in rng.permutation(len(SHORT_LIFTS))[:3]]
    if rng.random() < 0.5:
        chosen = [Performed(INDEX[code]) for code in lifts]
    else:
        chosen = [Performed(INDEX[lifts[0]]), Performed(INDEX["CoLi"], parts=(INDEX[lifts[1]], INDEX[lifts[2]]))]
    chosen.append(Performed(INDEX["CoSp" if rng.random() < 0.5 else "Sp"]))
    chosen.append(Performed(INDEX["SyTw"]))
    chosen.append(Performed(INDEX[STEP_PATTERNS[int(rng.integers(len(STEP_PATTERNS)))]]))
    chosen.append(Performed(INDEX["OFSt"]))
    chosen += [Performed(INDEX[CHOREO[i]]) for i in sorted(rng.permutation(len(CHOREO))[:3])]
    for element in chosen:
        if element.family == "lift":
            element.extended = bool(rng.random() < logistic(EXTENDED_LIFT_LOGIT - 0.8 * couple.skill))
    return [chosen[i] for i in rng.permutation(len(chosen))]


def place_elements(elements: list[Performed], length: int, rng: np.random.Generator) -> None:
    """Set each element's ``start`` and ``end``, with connecting movement (at least one clip) around each."""
    kinds = [CATALOGUE[e.kind] for e in elements]
    durations = np.array([max(k.fewest, round(k.clips * length / NOMINAL_CLIPS)) for k in kinds])
    fewest = np.array([k.fewest for k in kinds])
    extra = np.array([int(e.extended) for e in elements])
    while durations.sum() + extra.sum() + len(elements) + 1 > length:  # short programmes: shrink the longest
        room = np.where(durations > fewest, durations, 0)
        if not room.any():
            raise ValueError(f"{length} clips cannot hold a free dance")  # FEWEST_CLIPS rules this out
        durations[room.argmax()] -= 1
    durations = durations + extra
    free = length - durations.sum() - (len(elements) + 1)
    gaps = 1 + rng.multinomial(free, rng.dirichlet(np.full(len(elements) + 1, 2.5)))
    starts = gaps[:-1].cumsum() + np.concatenate([[0], durations[:-1].cumsum()])
    for element, start, duration in zip(elements, starts, durations):
        element.start, element.end = int(start), int(start + duration)


def judge_element(element: Performed, couple: Couple, rng: np.random.Generator) -> None:
    """Levels, base value, a fall, the true execution and the panel's GOE of one element."""
    kind, family = CATALOGUE[element.kind], element.family
    strength = couple.strength[family]
    centre = 2.9 + 0.7 * couple.skill + 0.6 * strength + rng.normal(0, 0.7)
    parts = element.parts or (element.kind,)
    count = 2 if kind.partnered else len(parts)
    levels = [int(np.clip(round(centre + rng.normal(0, 0.4)), 1, 4)) for _ in range(count)]
    fell = rng.random() < logistic(FALL_LOGIT[family] - 0.8 * couple.skill - 0.3 * strength)
    if fell:
        levels = [max(1, level - 1) for level in levels]
        both = rng.random() < BOTH_FALL[family]
        element.fall_points = 200 if both else 100
        last = element.end - 1 - int(element.extended)
        element.fall_clip = last if family in ("lift", "spin") else int(rng.integers(element.start, last + 1))
    if len(kind.values) == 1:
        element.levels, element.base = (), kind.values[0]
    else:
        kinds = [CATALOGUE[p] for p in parts] if element.parts else [kind] * count
        element.levels = tuple(levels)
        element.base = sum(k.values[level - 1] for k, level in zip(kinds, levels))
    quality = {"lift": couple.unison, "spin": couple.unison, "twizzles": couple.unison,
               "steps": couple.skating, "choreo": couple.expression}[family]
    true_grade = 2.3 + 0.8 * couple.skill + strength + 0.35 * quality + rng.normal(0, 0.7)
    true_grade -= 1.5 * element.extended
    grades = np.clip(np.round(true_grade + rng.normal(0, 0.7, JUDGES)), -5, 5)
    if fell:
        grades = np.full(JUDGES, -5.0) if element.fall_points == 200 else np.minimum(grades, -3.0)
        true_grade = -5.0 if element.fall_points == 200 else min(true_grade, -3.5)
    element.execution = float(np.clip(true_grade, -5, 5))
    step = CHOREO_GOE_STEP if family == "choreo" else round(element.base / 10)
    element.goe = int(round(trimmed_mean(grades * step)))


def connecting_segments(length: int, elements: list[Performed], couple: Couple,
                        rng: np.random.Generator) -> np.ndarray:
    """The ``segment`` code of every clip: the element's family, or a kind of connecting movement drawn from
    the couple's mix (runs persist); the first and the last clip are poses."""
    segment = np.full(length, -1)
    for element in elements:
        segment[element.start : element.end] = FAMILY_SEGMENT[element.family]
    previous = -1
    for t in range(length):
        if segment[t] >= 0:
            previous = -1
            continue
        if previous < 0 or rng.random() > 0.6:
            previous = int(rng.choice(len(couple.mix), p=couple.mix))
        segment[t] = previous
    segment[0] = segment[-1] = POSE
    return segment


def programme_components(couple: Couple, rng: np.random.Generator) -> int:
    """PCS in hundredths: per component, nine judges' marks to 0.25, the trimmed mean, times the factor."""
    qualities = np.array([couple.skating, couple.unison, couple.expression])
    means = np.array([mean + np.dot(weights, qualities) for mean, *weights in COMPONENTS.values()])
    marks = means[:, None] + rng.normal(0, 0.3, (len(COMPONENTS), JUDGES))
    judged = np.clip(np.round(marks * 4) / 4, 0.25, 10.0)
    panel = np.round(100 * trimmed_mean(judged))  # hundredths per component
    return int(np.round(PCS_FACTOR * panel).sum())


def referee_deductions(rng: np.random.Generator) -> int:
    """Deductions located on no clip, in hundredths: a costume or prop violation, a time violation."""
    return 100 * int(rng.random() < COSTUME_VIOLATION) + 100 * int(rng.random() < TIME_VIOLATION)


class IceDanceSport:
    """One fixed sport per seed: element and connecting embeddings, signal directions, the feature map."""

    def __init__(self, seed: int, feature_dim: int):
        rng = np.random.default_rng([seed, 0])
        basis = orthonormal_directions(rng, RANK)
        n = len(FAMILIES)
        self.goe_direction = dict(zip(FAMILIES, basis[:n]))
        self.level_direction = dict(zip(FAMILIES, basis[n : 2 * n]))
        self.fall_direction, self.recovery_direction, self.strain_direction = basis[2 * n : 2 * n + 3]
        self.quality_direction = basis[2 * n + 3 : 2 * n + 6]  # skating quality, unison, expression
        self.content = basis[2 * n + 6 :]  # element and connecting kinds, styles
        self.scale = 2.0 / np.sqrt(len(self.content))
        self.type_embedding = rng.normal(size=(len(CATALOGUE), len(self.content))) @ self.content * self.scale
        self.connecting_embedding = rng.normal(size=(3, len(self.content))) @ self.content * self.scale
        self.feature_map = FeatureMap(rng, RANK, feature_dim)

    def programme(self, name: str, length: int, rng: np.random.Generator) -> JudgedVideo:
        couple = draw_couple(rng)
        elements = choose_elements(couple, rng)
        place_elements(elements, length, rng)
        for element in elements:
            judge_element(element, couple, rng)
        segment = connecting_segments(length, elements, couple, rng)
        connecting_fall = self._connecting_fall(segment, couple, rng)
        pcs = programme_components(couple, rng)
        unlocated = referee_deductions(rng)
        truth = programme_truth(elements, segment, connecting_fall)
        latent = self._element_latent(elements, couple, length, rng)
        latent += self._connecting_latent(segment, couple, connecting_fall, rng)
        latent += ar1_noise(rng, length, RANK, 0.8) * 0.8 / np.sqrt(RANK)
        located = int(round(100 * truth["deduction"].sum()))
        return JudgedVideo(
            name=name,
            features=self.feature_map.features(latent, rng, isotropic_std=0.05),
            truth=truth,
            marks={"tes": sum(e.base + e.goe for e in elements), "pcs": pcs, "deductions": located + unlocated,
                   "located_deductions": located, "unlocated_deductions": unlocated},
            video={"skill": couple.skill, "skating": couple.skating, "unison": couple.unison,
                   "expression": couple.expression},
        )

    @staticmethod
    def _connecting_fall(segment: np.ndarray, couple: Couple, rng: np.random.Generator) -> tuple[int, int]:
        """``(clip, hundredths)`` of a fall in the connecting movement, ``(-1, 0)`` without one."""
        if rng.random() >= logistic(CONNECTING_FALL_LOGIT - 0.7 * couple.skill):
            return -1, 0
        clips = np.flatnonzero(segment[1:-1] < 3) + 1
        if len(clips) == 0:
            return -1, 0
        return int(rng.choice(clips)), 200 if rng.random() < 0.15 else 100

    def _element_latent(self, elements: list[Performed], couple: Couple, length: int,
                        rng: np.random.Generator) -> np.ndarray:
        """The element clips' latent (type embeddings, execution, levels, falls, strain) plus the style."""
        style = rng.normal(size=len(self.content)) @ self.content * self.scale
        latent = np.tile(style, (length, 1))
        for element in elements:
            start, end = element.start, element.end
            latent[start:end] += self.type_embedding[element.kind]
            if element.parts:  # a combination lift shows its two lifts, one per half
                middle = (start + end) // 2
                latent[start:middle] += 0.7 * self.type_embedding[element.parts[0]]
                latent[middle:end] += 0.7 * self.type_embedding[element.parts[1]]
            shown = 1.2 * np.tanh(element.execution / 3) * execution_profile(element, rng)
            latent[start:end] += shown[:, None] * self.goe_direction[element.family]
            if element.levels:
                level = (np.mean(element.levels) - 2.5) * 0.6
                latent[start:end] += (level * level_profile(element))[:, None] * self.level_direction[element.family]
            if element.family == "choreo":
                latent[start:end] += 0.4 * couple.expression * self.quality_direction[2]
            if element.extended:
                latent[end - 1] += 2.0 * self.strain_direction
            if element.fall_clip >= 0:
                self._show_fall(latent, element.fall_clip, element.fall_points)
        return latent

    def _show_fall(self, latent: np.ndarray, clip: int, points: int) -> None:
        latent[clip] += (2.5 if points == 100 else 3.5) * self.fall_direction
        if clip + 1 < len(latent):
            latent[clip + 1] += 1.5 * self.recovery_direction

    def _connecting_latent(self, segment: np.ndarray, couple: Couple, fall: tuple[int, int],
                           rng: np.random.Generator) -> np.ndarray:
        """The connecting clips' latent: the kind's embedding and the couple quality it shows."""
        latent = np.zeros((len(segment), RANK))
        connecting = segment < 3
        kinds = segment[connecting]
        latent[connecting] = self.connecting_embedding[kinds]
        qualities = np.array([couple.skating, couple.unison, couple.expression])
        shown = 0.6 * (qualities[kinds] + rng.normal(0, 0.3, len(kinds)))
        latent[connecting] += shown[:, None] * self.quality_direction[kinds]
        if fall[0] >= 0:
            self._show_fall(latent, *fall)
        return latent


def execution_profile(element: Performed, rng: np.random.Generator) -> np.ndarray:
    """How strongly each clip of the element shows its execution (family-specific; some of it noise)."""
    n = element.end - element.start
    family = element.family
    if family == "lift":
        profile = np.ones(n)
        profile[0] = 0.3 if n > 1 else 1.0
        if element.extended:
            profile[-1] = 0.0
        return profile
    if family == "spin":
        return np.linspace(0.4, 1.3, n)
    if family == "twizzles":
        return 1.0 + rng.normal(0, 0.9, n)
    if family == "steps":
        return 0.5 + rng.exponential(0.5, n) + rng.normal(0, 0.4, n)
    return np.ones(n)


def level_profile(element: Performed) -> np.ndarray:
    """Which clips of a levelled element show its level."""
    n = element.end - element.start
    profile = np.zeros(n)
    if element.family == "lift":
        profile[(n - int(element.extended)) // 2] = 1.0
    elif element.family == "steps":
        profile[::3] = 1.0
    else:
        profile[:] = 1.0
    return profile


def programme_truth(elements: list[Performed], segment: np.ndarray, connecting_fall: tuple[int, int]
                    ) -> dict[str, np.ndarray]:
    """Per-clip truth: base and GOE spread over each element's clips, located deductions on their clips."""
    length = len(segment)
    difficulty, goe, deduction = np.zeros(length), np.zeros(length), np.zeros(length)
    element_type = np.full(length, -1)
    for element in elements:
        n = element.end - element.start
        difficulty[element.start : element.end] = element.base / 100 / n
        goe[element.start : element.end] = element.goe / 100 / n
        element_type[element.start : element.end] = element.kind
        if element.fall_clip >= 0:
            deduction[element.fall_clip] += element.fall_points / 100
        if element.extended:
            deduction[element.end - 1] += 1.0
    if connecting_fall[0] >= 0:
        deduction[connecting_fall[0]] += connecting_fall[1] / 100
    tes = difficulty + goe
    return {
        "difficulty": difficulty,
        "goe": goe,
        "tes": tes,
        "deduction": deduction,
        "contribution": tes - deduction,
        "element_type": element_type.astype(np.float64),
        "segment": segment.astype(np.float64),
    }


def generate(seed: int, count: int, feature_dim: int, min_clips: int, max_clips: int) -> Iterator[JudgedVideo]:
    """``count`` free dances of one sport, with numeric ids ``1`` ... ``count`` as in Fis-V."""
    sport = IceDanceSport(seed, feature_dim)
    rng = np.random.default_rng([seed, 1])
    for i in range(1, count + 1):
        yield sport.programme(str(i), int(rng.integers(min_clips, max_clips + 1)), rng)


def write_icedance_heldout(root: str | Path, sizes: GenerationSizes = DEFAULT_SIZES) -> Path:
    """Write ``sizes.num_train + sizes.num_test`` free dances in the Fis-V layout plus ``truth/``; returns
    ``root``. The test ids are drawn among all ids (as in Fis-V); ``sizes.class_name`` is not used."""
    min_clips, max_clips = sizes.clip_range(KIND, DEFAULT_CLIPS, FEWEST_CLIPS)
    count = sizes.num_train + sizes.num_test
    test_ids = np.random.default_rng([sizes.seed, 2]).choice(count, size=sizes.num_test, replace=False) + 1
    videos = generate(sizes.seed, count, sizes.feature_dim, min_clips, max_clips)
    return write_fisv_release(root, videos, {str(i) for i in test_ids})
