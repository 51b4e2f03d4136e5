"""``pairs_heldout``: ISU-like pair skating free skates in the Fis-V layout, held out from model design.

The rules, as generated here (season 2019-20 of the ISU Judging System; docs/generators.md has the whole
description, the segment codes and the truth fields):

* A programme holds 13 elements in an order drawn per couple around the usual one: a twist lift,
  three lifts (hold groups 1-5, not all from group 5), two different throw jumps, a side-by-side solo
  jump, a side-by-side jump combination, a death spiral, a pair spin combination, a side-by-side spin
  combination, a step sequence and a choreographic sequence. Between them, connecting skating of four
  kinds (stroking and crossovers, transitions in a hold, the set-up glide before a twist, throw or
  lift, the opening and closing poses) earns no TES.
* **TES** = the sum over the elements of base value + GOE. Levels 1-4 set the base value of twists,
  lifts, death spirals, spins and the step sequence; the choreographic sequence has the fixed base
  3.00; a jump's is its value, a combination's the sum of its jumps', an under-rotated jump's 75%.
  The last side-by-side jump element and the last throw jump, when they start in the second half of
  the programme, get their base value x 1.1.
* **GOE**: nine judges grade -5..+5 around the element's true execution; each grade is worth 10% of
  the base value (a combination's: of its most valuable jump) per step; the panel takes the mean of
  the middle seven. A fall makes every grade -5; errors (under-rotation, a step-out, a partner's double,
  a poor catch, a lift held too long, a lost edge, a short spin, a stumble) lower it or the level;
  on side-by-side elements the partners' unison moves it.
* **Deductions**: 1.0 per partner who falls (a fall of both at once counts 2.0), on the clip of the
  fall; now and then a fall in the connecting skating.
* **PCS**: five components (skating skills, transitions, performance, composition, interpretation),
  each marked 0.25-10 in quarters by nine judges, the middle seven averaged, times the free-skate
  factor 1.6, summed. They follow the couple's skill and whole-programme traits, not any clip.

Features: a latent of ``RANK`` dimensions per clip: the element type as each partner performs it (half
each, so a partner's double shows half way), a motion orbit per element family on which the two
partners' phases differ by their lag (their unison: the orbit's amplitude shrinks as they drift apart),
a unison direction, the true execution through a family-specific non-linear function along a
direction of each element type, the level, error and fall directions on their clips, the skating's
glide between elements, the couple's style, AR(1) noise; mixed a little across segment boundaries.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from longaqa.data.generators.latent import FeatureMap, ar1_noise, orthonormal_directions
from longaqa.data.generators.release import DEFAULT_SIZES, GenerationSizes, JudgedVideo, write_fisv_release
from longaqa.errors import LongAQAError

KIND = "pairs_heldout"
DEFAULT_CLIPS = (180, 195)
"""A pairs free skate lasts 4:00 +- 10 s: 230-250 s in 32-frame clips at 25 fps (1.28 s each)."""


# ---------------------------------------------------------------------------------------------------
# The rule book: element types, families, errors, segment codes
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ElementType:
    """One element as the technical panel calls it."""

    code: str
    """The protocol abbreviation (``3Tw``, ``5ALi``, ``3LoTh``, ``3T+2T``, ``BoDs``, ``StSq`` ...)."""
    family: str
    values: tuple[int, ...]
    """Base value in hundredths: four levels (1-4) for the levelled families, else one value."""
    jumps: tuple[int, ...] = ()
    """Jumps and throws: the value of each jump, in order (a combination has two)."""
    popped: str | None = None
    """The call when the jump is performed one revolution short (a partner's double, a popped throw)."""
    choosable: bool = True
    """False: only ever called after a double or a pop."""
    group: int = 0
    """Lifts: the hold group, 1 (armpit) ... 5 (lasso)."""


def _jumps(family: str, values: dict[str, int], popped: dict[str, str], choosable: set[str]) -> list[ElementType]:
    return [ElementType(code, family, (value,), (value,), popped.get(code), code in choosable)
            for code, value in values.items()]


def _combinations() -> list[ElementType]:
    jump = {"1S": 40, "1A": 110, "2T": 130, "2S": 130, "2A": 330, "3T": 420, "3S": 430}
    popped = {"2S+2T": "1S+2T", "2A+2T": "1A+2T", "3T+2T": "2T+2T", "3S+2T": "2S+2T", "3T+3T": "3T+2T"}
    codes = ("1S+2T", "1A+2T", "2T+2T", "2S+2T", "2A+2T", "3T+2T", "3S+2T", "3T+3T")
    out = []
    for code in codes:
        first, second = (jump[part] for part in code.split("+"))
        out.append(ElementType(code, "combo", (first + second,), (first, second), popped.get(code), code in popped))
    return out


def _levelled(family: str, rows: dict[str, tuple[int, ...]], groups: dict[str, int] | None = None) -> list[ElementType]:
    return [ElementType(code, family, values, group=(groups or {}).get(code, 0)) for code, values in rows.items()]


CATALOGUE: tuple[ElementType, ...] = tuple(
    _levelled("twist", {"2Tw": (280, 310, 340, 370), "3Tw": (500, 540, 580, 620), "4Tw": (720, 760, 800, 840)})
    + _levelled("lift", {"1Li": (150, 180, 210, 240), "2Li": (200, 240, 280, 320), "3Li": (300, 340, 390, 430),
                         "4Li": (350, 400, 450, 500), "5TLi": (450, 500, 550, 600), "5SLi": (450, 500, 550, 600),
                         "5RLi": (450, 500, 550, 600), "5ALi": (500, 550, 600, 650)},
                {"1Li": 1, "2Li": 2, "3Li": 3, "4Li": 4, "5TLi": 5, "5SLi": 5, "5RLi": 5, "5ALi": 5})
    + _jumps("throw", {"2TTh": 250, "2STh": 250, "2LoTh": 280, "2FTh": 300, "2LzTh": 300, "3TTh": 440,
                       "3STh": 440, "3LoTh": 490, "3FTh": 530, "3LzTh": 530, "4STh": 780},
             {"3TTh": "2TTh", "3STh": "2STh", "3LoTh": "2LoTh", "3FTh": "2FTh", "3LzTh": "2LzTh", "4STh": "3STh"},
             {"2STh", "2LoTh", "2FTh", "2LzTh", "3TTh", "3STh", "3LoTh", "3FTh", "3LzTh", "4STh"})
    + _jumps("jump", {"1S": 40, "1Lz": 60, "1A": 110, "2T": 130, "2S": 130, "2Lo": 170, "2Lz": 210, "2A": 330,
                      "3T": 420, "3S": 430, "3Lo": 490},
             {"2S": "1S", "2Lz": "1Lz", "2A": "1A", "3T": "2T", "3S": "2S", "3Lo": "2Lo"},
             {"2S", "2Lz", "2A", "3T", "3S", "3Lo"})
    + _combinations()
    + _levelled("death_spiral", {"FiDs": (280, 300, 320, 350), "BiDs": (280, 300, 320, 350),
                                 "FoDs": (300, 320, 350, 380), "BoDs": (300, 320, 350, 380)})
    + _levelled("pair_spin", {"PCoSp": (300, 350, 400, 450)})
    + _levelled("sbs_spin", {"CCoSp": (200, 250, 300, 350)})
    + _levelled("steps", {"StSq": (180, 260, 330, 390)})
    + [ElementType("ChSq", "choreo", (300,))]
)
"""Every element type the panel can call; ``element_type`` in the truth is an index into it. Values are
close to the ISU scale of values of 2018-20 (Communications 2168, 2253), rounded: this generator's."""
CODES = {t.code: i for i, t in enumerate(CATALOGUE)}


@dataclass(frozen=True)
class Family:
    segment: int
    """The truth's ``segment`` code of its clips."""
    seconds: tuple[float, float]
    """Nominal duration in a full-length programme (drawn between these)."""
    fewest_clips: int
    positions: tuple[float, ...]
    """Where in the programme (0: start, 1: end) each required element of the family tends to come."""
    side_by_side: bool
    """Performed by both partners apart, in unison (else in a hold, or one partner throwing or lifting the other)."""
    fall_logit: float
    both_can_fall: bool
    shape: str
    """How execution shows in the features: ``landing``, ``lift``, ``spin`` or ``pattern``."""
    cycles: float
    """Motion cycles over the element (the orbit the partners' movement follows)."""


FAMILIES: dict[str, Family] = {
    "twist": Family(4, (3.0, 4.5), 1, (0.12,), False, -4.6, False, "landing", 1.0),
    "lift": Family(5, (8.0, 12.0), 2, (0.45, 0.7, 0.85), False, -5.0, True, "lift", 2.0),
    "throw": Family(6, (3.0, 5.0), 1, (0.3, 0.6), False, -2.3, False, "landing", 1.0),
    "jump": Family(7, (3.0, 4.0), 1, (0.2,), True, -2.8, True, "landing", 1.0),
    "combo": Family(7, (4.0, 6.0), 1, (0.3,), True, -2.8, True, "landing", 1.5),
    "death_spiral": Family(8, (6.0, 8.0), 1, (0.55,), False, -5.0, False, "spin", 1.5),
    "pair_spin": Family(9, (8.0, 11.0), 1, (0.5,), False, -5.5, False, "spin", 2.0),
    "sbs_spin": Family(10, (7.0, 10.0), 1, (0.4,), True, -5.0, True, "spin", 2.0),
    "steps": Family(11, (28.0, 38.0), 3, (0.45,), True, -4.5, True, "pattern", 4.0),
    "choreo": Family(12, (20.0, 30.0), 2, (0.9,), True, -5.0, True, "pattern", 3.0),
}
REQUIREMENTS = (("twist", 1), ("lift", 3), ("throw", 2), ("jump", 1), ("combo", 1), ("death_spiral", 1),
                ("pair_spin", 1), ("sbs_spin", 1), ("steps", 1), ("choreo", 1))
"""The programme's elements: 13 in all."""
STROKING, HOLDS, SET_UP, POSE = 0, 1, 2, 3
"""``segment`` codes of connecting skating; elements are 4 (twist) ... 12 (choreographic sequence)."""
SET_UP_BEFORE = ("twist", "throw", "lift")
SIDE_BY_SIDE_SEGMENTS = (STROKING, *sorted({f.segment for f in FAMILIES.values() if f.side_by_side}))
"""Segments where the partners skate apart, in unison: stroking, side-by-side jumps and spins, the sequences."""
FALL_SHOW = (0.0, 1.6, 2.6)
"""Size along the fall direction of a fall of no one, one partner, both."""
SHAPES = {
    # how a true execution grade q (-5..5) shows over an element's clips (phase in (0, 1)), per family shape
    "landing": lambda q, phase: 1.4 * np.tanh(q / 2) * (0.35 + 0.65 * phase**2),  # mostly on the landing
    "lift": lambda q, phase: (0.25 * q + 0.03 * q * abs(q)) * (0.6 + 0.4 * phase),  # grows as the lift travels
    "spin": lambda q, phase: 0.9 * np.sign(q) * abs(q / 2.5) ** 1.5 * np.full_like(phase, 0.8),
    "pattern": lambda q, phase: 0.8 * np.arcsinh(q) * (0.7 + 0.3 * np.sin(np.pi * phase)),
}
CONNECTING_SECONDS = ((2.0, 5.0), (4.0, 12.0))
"""Nominal seconds of the stretches of connecting skating: at the ends, and between two elements."""
FEWEST_CLIPS = sum(FAMILIES[f].fewest_clips * n for f, n in REQUIREMENTS) + sum(n for _, n in REQUIREMENTS) + 1
"""Every element at its fewest clips with one clip of connecting skating around each: 33."""


@dataclass(frozen=True)
class ErrorKind:
    name: str
    families: tuple[str, ...]
    logit: float
    """Chance: ``sigmoid(logit + ERROR_DIFFICULTY * z - ERROR_SKILL * skill)``, z the element's standardised value."""
    grades: float
    """GOE grades it costs."""
    level_loss: int = 0
    under_rotation: bool = False
    """The jump is called ``<``: 75% of its value (a combination: of its first jump)."""
    popped: bool = False
    """Called one revolution short (a partner's double on side-by-side jumps, a popped throw)."""
    longer: float = 0.0
    """Seconds it adds to the element."""
    shown: bool = True
    """Shows along the error direction on its clip (a double shows in what the partner performs instead)."""


ERRORS = (
    ErrorKind("under-rotated", ("throw", "jump", "combo"), -2.4, 2.0, under_rotation=True),
    ErrorKind("double", ("throw", "jump", "combo"), -3.2, 1.5, popped=True, shown=False),
    ErrorKind("step out", ("throw", "jump", "combo"), -2.7, 2.5),
    ErrorKind("poor catch", ("twist",), -2.0, 2.0),
    ErrorKind("held too long", ("lift",), -2.8, 2.0, longer=3.0),
    ErrorKind("lost edge", ("death_spiral",), -2.2, 1.5, level_loss=1),
    ErrorKind("short spin", ("pair_spin", "sbs_spin"), -2.4, 1.0, level_loss=1),
    ErrorKind("stumble", ("steps", "choreo"), -2.2, 2.0),
)

# How skill shapes a programme ("skill" below is the couple's technique):
TECHNIQUE_SPREAD, FORM_SPREAD = 0.55, 0.4
CHOICE_GAIN, CHOICE_WIDTH = 0.35, 0.7
"""A couple picks element types whose standardised value is near ``CHOICE_GAIN * skill``, within about
``CHOICE_WIDTH``."""
LEVEL_MEAN, LEVEL_SKILL, LEVEL_SPREAD = 3.1, 0.6, 0.8
GOE_MEAN, GOE_SKILL, GOE_STRETCH, GOE_SPREAD = 1.4, 0.45, 0.6, 0.9
"""True execution grade: ``GOE_MEAN + form + GOE_SKILL * skill - GOE_STRETCH * (z above the couple's level)``
+ noise, less the errors' grades."""
ERROR_DIFFICULTY, ERROR_SKILL = 0.8, 0.7
BOTH_FALL = 0.2
"""Share of falls on side-by-side elements and lifts where both partners go down."""
LOOSE_FALL = 0.03
"""Chance per programme of a fall in the connecting skating."""
UNISON_GOE, UNISON_REFERENCE = 6.0, 0.93
"""Side-by-side elements: GOE grades gained per unit of unison above the reference (unison = cos(pi x lag))."""
JUDGES, JUDGE_SPREAD = 9, 0.6
BONUS = 1.1
COMPONENTS = ("skating skills", "transitions", "performance", "composition", "interpretation")
PCS_FACTOR = 1.6
"""The pairs free-skate factor of the five components (2018-22)."""
PCS_MEAN, PCS_SKILL, PCS_JUDGE_SPREAD = 7.3, 0.6, 0.35
"""A component's true mark: ``PCS_MEAN + PCS_SKILL * skill`` + the couple's traits; each judge's spread."""
RANK = 48


def sigmoid(x: float) -> float:
    return float(1.0 / (1.0 + np.exp(-x)))


def half_up(x: np.ndarray | float) -> np.ndarray | int:
    """Rounded half up to a whole number (of hundredths, of quarters)."""
    out = np.floor(np.asarray(x, dtype=np.float64) + 0.5).astype(np.int64)
    return int(out) if out.ndim == 0 else out


def called_base(kind: int, level: int, under_rotated: bool) -> tuple[int, int]:
    """``(base value, GOE reference value)`` in hundredths of the element called ``kind`` at ``level``
    (1-4; ignored where there are no levels), before the second-half bonus."""
    element = CATALOGUE[kind]
    if not element.jumps:
        value = element.values[level - 1] if len(element.values) == 4 else element.values[0]
        return value, value
    jumps = list(element.jumps)
    if under_rotated:
        jumps[0] = half_up(jumps[0] * 0.75)
    return sum(jumps), max(jumps)


# ---------------------------------------------------------------------------------------------------
# One programme: the couple, its elements, the layout, the judging
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Couple:
    skill: float
    """The couple's level: drives the technique, the traits below and the PCS."""
    technique: float
    """The level of their elements: element choice, levels, execution, errors and falls (skill + its own part)."""
    form: float
    """The day's form: GOE grades gained or lost on every element."""
    lag: float
    """Typical phase lag between the partners on side-by-side skating, in motion cycles."""
    flow: float
    """Speed and glide of the skating (skating skills, transitions)."""
    presentation: float
    """Projection and carriage (performance, interpretation)."""
    composition: float
    """Design and use of the ice (composition, transitions, interpretation)."""
    holds: float
    """Share of the connecting skating done in a hold."""


def draw_couple(rng: np.random.Generator) -> Couple:
    """A couple: skill N(0, 1) clipped to +-2.5, the traits following it in part."""
    skill = float(np.clip(rng.normal(), -2.5, 2.5))
    noise = rng.normal(size=7)
    return Couple(skill=skill, technique=float(skill + TECHNIQUE_SPREAD * noise[5]), form=float(FORM_SPREAD * noise[6]),
                  lag=float(0.08 * np.exp(-0.2 * skill + 0.3 * noise[0])),
                  flow=float(0.6 * skill + 0.8 * noise[1]), presentation=float(0.5 * skill + 0.85 * noise[2]),
                  composition=float(0.4 * skill + 0.9 * noise[3]),
                  holds=0.2 + 0.6 * sigmoid(0.5 * skill + 0.5 * noise[4]))


@dataclass
class Element:
    """One element of a programme, from the plan to the panel's marks."""

    family: str
    kind: int
    """The catalogue index attempted."""
    called: int
    """The catalogue index the technical panel calls (after a partner's double or a pop)."""
    shown: tuple[int, int]
    """What each partner performed (catalogue indices): the features show half of each."""
    level: int
    """1-4; 0 where the family has no levels."""
    errors: tuple[ErrorKind, ...]
    falls: int
    """Partners who fell on it: 0, 1 or 2."""
    seconds: float
    order_key: float
    ease: float
    """The true execution grade before unison and falls (errors included)."""
    start: int = 0
    stop: int = 0
    bonus: bool = False
    quality: float = 0.0
    """The true execution grade the judges see, after unison and falls."""
    base: int = 0
    """Base value in hundredths, with the bonus."""
    goe: int = 0
    fall_clip: int = -1
    error_clip: int = -1

    @property
    def under_rotated(self) -> bool:
        return any(e.under_rotation for e in self.errors)

    @property
    def clips(self) -> int:
        return self.stop - self.start


@dataclass
class Layout:
    """What each clip shows: ``segment`` code, the element index (-1 off elements) and the phase in (0, 1)."""

    segment: np.ndarray  # (T,) int
    element_of: np.ndarray  # (T,) int
    phase: np.ndarray  # (T,) float
    lag: np.ndarray = field(default_factory=lambda: np.zeros(0))  # (T,) partners' phase lag, cycles

    @property
    def unison(self) -> np.ndarray:
        return np.cos(np.pi * self.lag)


class PairsSport:
    """One fixed sport per seed: standardised element values, embeddings, directions and the feature map."""

    def __init__(self, seed: int, feature_dim: int):
        rng = np.random.default_rng([seed, 0])
        self.z_value = self._standardised_values()
        basis = orthonormal_directions(rng, RANK)
        self.fall_direction, self.unison_direction, self.error_direction, self.glide_direction = basis[:4]
        quality_space, level_space, motion_space, content = basis[4:12], basis[12:16], basis[16:26], basis[26:]
        scale = 2.0 / np.sqrt(RANK)
        family_embedding = {f: rng.normal(size=len(content)) @ content * scale for f in FAMILIES}
        self.type_embedding = np.stack([family_embedding[t.family] + rng.normal(size=len(content)) @ content
                                        * 0.6 * scale for t in CATALOGUE])  # (K, R)
        self.connecting_embedding = rng.normal(size=(4, len(content))) @ content * scale  # (4, R)
        quality = rng.normal(size=(len(CATALOGUE), len(quality_space))) @ quality_space
        self.quality_direction = quality / np.linalg.norm(quality, axis=1, keepdims=True)  # (K, R)
        level = rng.normal(size=(len(FAMILIES), len(level_space))) @ level_space
        self.level_direction = dict(zip(FAMILIES, level / np.linalg.norm(level, axis=1, keepdims=True)))
        self.orbit = np.stack([orthonormal_directions(rng, len(motion_space))[:2] @ motion_space
                               for _ in range(13)])  # (segments, 2, R): the plane each segment's motion turns in
        self.phase_offset = rng.uniform(0, 2 * np.pi, size=len(CATALOGUE))
        self.content = content
        self.presentation_axis = content[0]
        self.feature_map = FeatureMap(rng, RANK, feature_dim)

    @staticmethod
    def _standardised_values() -> np.ndarray:
        """(K,) each choosable type's top value standardised within its family (0 for the others)."""
        z = np.zeros(len(CATALOGUE))
        for family in FAMILIES:
            members = [i for i, t in enumerate(CATALOGUE) if t.family == family and t.choosable]
            top = np.array([CATALOGUE[i].values[-1] for i in members], dtype=np.float64)
            if len(members) > 1:
                z[members] = (top - top.mean()) / top.std()
        return z

    def programme(self, name: str, length: int, rng: np.random.Generator) -> JudgedVideo:
        couple = draw_couple(rng)
        elements = self.plan_elements(couple, rng)
        layout = lay_out(elements, length, couple, rng)
        layout.lag = partner_lag(couple, layout, elements, rng)
        mark_bonus(elements, length)
        for element in elements:
            judge_element(element, layout, rng)
        loose_fall = draw_loose_fall(layout, rng)
        truth, tes = clip_truth(elements, layout, loose_fall)
        falls = sum(e.falls for e in elements) + (loose_fall >= 0)
        pcs = pcs_hundredths(couple, falls, side_by_side_unison(layout), rng)
        features = self.features(elements, layout, couple, loose_fall, rng)
        video = {"skill": couple.skill, "falls": float(falls), "lag": couple.lag, "flow": couple.flow,
                 "presentation": couple.presentation, "composition": couple.composition,
                 "both_falls": float(sum(e.falls == 2 for e in elements)), "loose_fall": float(loose_fall >= 0),
                 "unison": side_by_side_unison(layout)}
        return JudgedVideo(name=name, features=features, truth=truth,
                           marks={"tes": tes, "pcs": pcs, "deductions": 100 * falls}, video=video)

    # -- the plan ---------------------------------------------------------------------------------------

    def plan_elements(self, couple: Couple, rng: np.random.Generator) -> list[Element]:
        """The 13 elements, chosen by the couple's technique, in programme order."""
        elements = []
        for family, count in REQUIREMENTS:
            kinds = self.choose_kinds(family, count, couple.technique, rng)
            for kind, position in zip(kinds, FAMILIES[family].positions):
                elements.append(self.plan_element(family, kind, position, couple, rng))
        return sorted(elements, key=lambda e: e.order_key)

    def choose_kinds(self, family: str, count: int, skill: float, rng: np.random.Generator) -> list[int]:
        """``count`` different types of ``family`` near the couple's level; lifts: not all from group 5."""
        members = np.array([i for i, t in enumerate(CATALOGUE) if t.family == family and t.choosable])
        preferred = np.exp(-0.5 * ((self.z_value[members] - CHOICE_GAIN * skill) / CHOICE_WIDTH) ** 2) + 1e-6
        kinds = [int(k) for k in rng.choice(members, size=count, replace=False, p=preferred / preferred.sum())]
        if family == "lift" and all(CATALOGUE[k].group == 5 for k in kinds):
            lowest = min(range(count), key=lambda j: CATALOGUE[kinds[j]].values[-1])
            lower = np.array([CATALOGUE[k].group in (3, 4) for k in members])
            kinds[lowest] = int(rng.choice(members[lower], p=preferred[lower] / preferred[lower].sum()))
        return kinds

    def plan_element(self, family: str, kind: int, position: float, couple: Couple,
                     rng: np.random.Generator) -> Element:
        """Level, errors, falls and the true execution of one element, before the layout and the judges."""
        rules, z, skill = FAMILIES[family], float(self.z_value[kind]), couple.technique
        risk = ERROR_DIFFICULTY * z - ERROR_SKILL * skill
        errors = tuple(e for e in ERRORS if family in e.families and (CATALOGUE[kind].popped or not e.popped)
                       and rng.random() < sigmoid(e.logit + risk))
        falls = 0
        if rng.random() < sigmoid(rules.fall_logit + risk):
            falls = 2 if rules.both_can_fall and rng.random() < BOTH_FALL else 1
        called = CODES[CATALOGUE[kind].popped] if any(e.popped for e in errors) else kind
        shown = (kind, called) if rules.side_by_side else (called, called)
        level = 0
        if len(CATALOGUE[kind].values) == 4:
            level = int(np.clip(round(LEVEL_MEAN + LEVEL_SKILL * skill + rng.normal(0, LEVEL_SPREAD)), 1, 4))
            level = max(1, level - sum(e.level_loss for e in errors))
        ease = (GOE_MEAN + couple.form + GOE_SKILL * skill - GOE_STRETCH * max(0.0, z - CHOICE_GAIN * skill)
                + rng.normal(0, GOE_SPREAD) - sum(e.grades for e in errors))
        seconds = float(rng.uniform(*rules.seconds)) + sum(e.longer for e in errors)
        return Element(family=family, kind=kind, called=called, shown=shown, level=level, errors=errors,
                       falls=falls, seconds=seconds, order_key=position + float(rng.normal(0, 0.18)), ease=ease)

    # -- the features ---------------------------------------------------------------------------------

    def features(self, elements: list[Element], layout: Layout, couple: Couple, loose_fall: int,
                 rng: np.random.Generator) -> np.ndarray:
        """(T, F) float32 features of one programme."""
        length = len(layout.segment)
        latent = self.performed(elements, layout)  # (T, R)
        changes = np.flatnonzero(layout.segment[1:] != layout.segment[:-1]) + 1
        latent[changes] = 0.75 * latent[changes] + 0.25 * latent[changes - 1]  # a clip straddles the change
        latent += self.execution(elements, layout)
        together = np.isin(layout.segment, SIDE_BY_SIDE_SEGMENTS)  # the partners skate apart
        latent[together] += ((layout.unison[together] - 0.9) * 3.0)[:, None] * self.unison_direction
        connecting = layout.element_of < 0
        latent[connecting] += couple.flow * 0.5 * self.glide_direction
        if loose_fall >= 0:
            latent[loose_fall] += FALL_SHOW[1] * self.fall_direction
        style = rng.normal(size=len(self.content)) @ self.content * 1.5 / np.sqrt(RANK)  # the couple's look
        latent += style + couple.presentation * 0.5 * self.presentation_axis
        latent += ar1_noise(rng, length, RANK, 0.8) * 0.8 / np.sqrt(RANK)
        return self.feature_map.features(latent, rng, isotropic_std=0.05)

    def performed(self, elements: list[Element], layout: Layout) -> np.ndarray:
        """(T, R): what each clip shows (the element type as each partner performs it, half each, or the kind
        of connecting skating) and the partners' movement."""
        latent = np.zeros((len(layout.segment), RANK))
        connecting = layout.element_of < 0
        latent[connecting] = self.connecting_embedding[layout.segment[connecting]]
        for element in elements:
            first, second = element.shown
            latent[element.start:element.stop] = 0.5 * (self.type_embedding[first] + self.type_embedding[second])
        return latent + self.motion(elements, layout)

    def motion(self, elements: list[Element], layout: Layout) -> np.ndarray:
        """(T, R): each partner's movement on the orbit of the clip's segment. Skating apart (side by side)
        the second partner lags by the couple's lag, so the sum shrinks as they drift out of unison; in a
        hold the roles turn a quarter apart; a partner who falls stops moving on that clip."""
        length = len(layout.segment)
        cycles, offset, down = np.ones(length), np.zeros(length), np.zeros(length, dtype=np.int64)
        for element in elements:
            span = slice(element.start, element.stop)
            cycles[span] = FAMILIES[element.family].cycles
            offset[span] = self.phase_offset[element.called]
            if element.falls:
                down[element.fall_clip] = element.falls
        angle = 2 * np.pi * cycles * layout.phase + offset  # (T,)
        apart = np.isin(layout.segment, SIDE_BY_SIDE_SEGMENTS)
        second = np.where(apart, angle - 2 * np.pi * layout.lag, angle + np.pi / 2)
        first_amplitude = np.where(down >= 2, 0.0, 0.7)
        second_amplitude = np.where(down >= 1, 0.0, np.where(apart, 0.7, 0.5))
        plane = self.orbit[layout.segment]  # (T, 2, R)
        return sum(amplitude[:, None] * (np.cos(a)[:, None] * plane[:, 0] + np.sin(a)[:, None] * plane[:, 1])
                   for amplitude, a in ((first_amplitude, angle), (second_amplitude, second)))

    def execution(self, elements: list[Element], layout: Layout) -> np.ndarray:
        """(T, R): each element's true execution through its family's shape, along its type's direction;
        its level; its errors and falls on their clips."""
        out = np.zeros((len(layout.segment), RANK))
        for element in elements:
            family = FAMILIES[element.family]
            span = slice(element.start, element.stop)
            shown = SHAPES[family.shape](element.quality, layout.phase[span])  # (clips,)
            out[span] += shown[:, None] * self.quality_direction[element.called]
            if element.level:
                out[span] += (element.level - 2.5) * 0.4 * self.level_direction[element.family]
            if element.error_clip >= 0:
                out[element.error_clip] += 1.2 * self.error_direction
            if element.fall_clip >= 0:
                out[element.fall_clip] += FALL_SHOW[element.falls] * self.fall_direction
        return out


# ---------------------------------------------------------------------------------------------------
# Layout, unison, judging and the sheet
# ---------------------------------------------------------------------------------------------------


def allocate(seconds: np.ndarray, fewest: np.ndarray, length: int) -> np.ndarray:
    """Clips per item: at least ``fewest`` each, the rest shared in proportion to the nominal ``seconds``
    beyond that (largest remainders), exactly ``length`` in all."""
    spare = length - int(fewest.sum())
    desired = seconds * length / seconds.sum()
    weight = np.maximum(desired - fewest, 0.0)
    if spare == 0 or weight.sum() == 0:
        return fewest.copy()
    share = spare * weight / weight.sum()
    clips = fewest + np.floor(share).astype(np.int64)
    left = length - int(clips.sum())
    clips[np.argsort(-(share - np.floor(share)), kind="stable")[:left]] += 1
    return clips


def lay_out(elements: list[Element], length: int, couple: Couple, rng: np.random.Generator) -> Layout:
    """Clip spans of the elements (in programme order) and of the connecting skating around them:
    ``length`` clips, each element and stretch scaled from its nominal seconds, never below its fewest."""
    ends, between = CONNECTING_SECONDS
    gaps = [rng.uniform(*ends), *rng.uniform(*between, size=len(elements) - 1), rng.uniform(*ends)]
    seconds, fewest = [gaps[0]], [1]
    for element, gap in zip(elements, gaps[1:]):
        seconds += [element.seconds, gap]
        fewest += [FAMILIES[element.family].fewest_clips, 1]
    clips = allocate(np.array(seconds), np.array(fewest), length)
    bounds = np.concatenate([[0], np.cumsum(clips)])
    segment, element_of, phase = np.full(length, -1), np.full(length, -1), np.zeros(length)
    for item in range(len(clips)):
        start, stop = int(bounds[item]), int(bounds[item + 1])
        phase[start:stop] = (np.arange(stop - start) + 0.5) / (stop - start)
        if item % 2:
            element = elements[item // 2]
            element.start, element.stop = start, stop
            segment[start:stop], element_of[start:stop] = FAMILIES[element.family].segment, item // 2
    stretches = [(int(bounds[i]), int(bounds[i + 1])) for i in range(0, len(clips), 2)]
    fill_connecting(segment, stretches, elements, couple, rng)
    return Layout(segment, element_of, phase)


def fill_connecting(segment: np.ndarray, stretches: list[tuple[int, int]], elements: list[Element], couple: Couple,
                    rng: np.random.Generator) -> None:
    """Kinds of connecting skating, in place: runs of stroking and of transitions in a hold, a set-up glide
    before each twist, throw and lift, the opening and closing poses."""
    length = len(segment)
    for index, (start, stop) in enumerate(stretches):
        clip = start
        while clip < stop:
            run = int(rng.integers(1, 4 + length // 60))
            segment[clip:min(stop, clip + run)] = HOLDS if rng.random() < couple.holds else STROKING
            clip += run
        if index < len(elements) and elements[index].family in SET_UP_BEFORE:
            glide = min(stop - start, max(1, round(length / 90)))
            segment[stop - glide:stop] = SET_UP
        if index == 0:
            segment[start] = POSE
        if index == len(stretches) - 1:
            segment[stop - 1] = POSE


def partner_lag(couple: Couple, layout: Layout, elements: list[Element], rng: np.random.Generator) -> np.ndarray:
    """(T,) the partners' phase lag in motion cycles: the couple's, wandering from clip to clip, growing
    through each side-by-side element (more on some elements than others); 0.5 is full opposition."""
    lag = couple.lag * np.exp(0.35 * ar1_noise(rng, len(layout.segment), 1, 0.7)[:, 0])
    for element in elements:
        if FAMILIES[element.family].side_by_side:
            span = slice(element.start, element.stop)
            lag[span] *= (0.7 + 0.6 * layout.phase[span]) * np.exp(rng.normal(0, 0.3))
    return np.clip(lag, 0.0, 0.5)


def mark_bonus(elements: list[Element], length: int) -> None:
    """The last side-by-side jump element and the last throw jump get the bonus if they start in the
    second half of the programme."""
    for families in (("jump", "combo"), ("throw",)):
        last = [e for e in elements if e.family in families][-1]
        last.bonus = 2 * last.start >= length


def event_clip(element: Element, rng: np.random.Generator) -> int:
    """The clip of a fall or an error: the landing (or a lift's set-down) for jumps, throws, twists and
    lifts, any clip of the others."""
    if FAMILIES[element.family].shape in ("landing", "lift"):
        return element.stop - 1
    return int(rng.integers(element.start, element.stop))


def panel_goe(quality: float, fell: bool, reference: int, rng: np.random.Generator) -> int:
    """The panel's GOE in hundredths: nine judges grade -5..+5 around ``quality`` (all -5 after a fall), each
    grade worth 10% of the ``reference`` value; the mean of the middle seven."""
    grades = np.clip(np.rint(quality + rng.normal(0, JUDGE_SPREAD, JUDGES)), -5, 5)
    if fell:
        grades[:] = -5
    points = np.sort(half_up(grades * reference / 10))[1:-1]  # each judge's GOE in hundredths
    return half_up(points.sum() / len(points))


def judge_element(element: Element, layout: Layout, rng: np.random.Generator) -> None:
    """The element's true execution as the judges see it (unison, falls), its base value and GOE, and
    the clips of its fall and error, in place."""
    quality = element.ease
    if FAMILIES[element.family].side_by_side:
        quality += UNISON_GOE * (layout.unison[element.start:element.stop].mean() - UNISON_REFERENCE)
    element.quality = -5.0 if element.falls else float(np.clip(quality, -5, 5))
    base, reference = called_base(element.called, element.level, element.under_rotated)
    element.base = half_up(base * BONUS) if element.bonus else base
    element.goe = panel_goe(element.quality, element.falls > 0, reference, rng)
    element.fall_clip = event_clip(element, rng) if element.falls else -1
    element.error_clip = event_clip(element, rng) if any(e.shown for e in element.errors) else -1


def draw_loose_fall(layout: Layout, rng: np.random.Generator) -> int:
    """The clip of a fall in the connecting skating (stroking or transitions), -1 for none (most programmes)."""
    if rng.random() >= LOOSE_FALL:
        return -1
    candidates = np.flatnonzero(np.isin(layout.segment, (STROKING, HOLDS)))
    return int(rng.choice(candidates)) if len(candidates) else -1


def spread(total: int, clips: int) -> np.ndarray:
    """``total`` hundredths over ``clips`` clips in whole hundredths, the remainder on the first clips."""
    share, rest = divmod(total, clips)
    out = np.full(clips, share, dtype=np.int64)
    out[:rest] += 1
    return out


def clip_truth(elements: list[Element], layout: Layout, loose_fall: int) -> tuple[dict[str, np.ndarray], int]:
    """Per-clip truth (points, every value whole hundredths) and TES in hundredths."""
    length = len(layout.segment)
    difficulty, tes, deduction = (np.zeros(length, dtype=np.int64) for _ in range(3))
    element_type = np.full(length, -1)
    for element in elements:
        span = slice(element.start, element.stop)
        difficulty[span] = spread(element.base, element.clips)
        tes[span] = spread(element.base + element.goe, element.clips)
        element_type[span] = element.called
        if element.falls:
            deduction[element.fall_clip] += 100 * element.falls
    if loose_fall >= 0:
        deduction[loose_fall] += 100
    truth = {"difficulty": difficulty / 100, "goe": (tes - difficulty) / 100, "tes": tes / 100,
             "deduction": deduction / 100, "contribution": (tes - deduction) / 100,
             "element_type": element_type.astype(np.float64), "segment": layout.segment.astype(np.float64)}
    return truth, int(tes.sum())


def side_by_side_unison(layout: Layout) -> float:
    """The mean unison over the clips where the partners skate apart."""
    apart = np.isin(layout.segment, SIDE_BY_SIDE_SEGMENTS)
    return float(layout.unison[apart].mean()) if apart.any() else 1.0


def pcs_hundredths(couple: Couple, falls: int, unison: float, rng: np.random.Generator) -> int:
    """PCS in hundredths: five components marked in quarters (0.25-10) by nine judges, the middle seven
    averaged (to the hundredth), times the factor (to the hundredth), summed. Falls and the partners'
    unison weigh on performance and interpretation; nothing here is a sum over clips."""
    centre = PCS_MEAN + PCS_SKILL * couple.skill
    true = centre + np.array([
        0.45 * couple.flow,  # skating skills
        -0.2 + 0.3 * couple.flow + 0.3 * couple.composition,  # transitions
        0.45 * couple.presentation + 2.0 * (unison - UNISON_REFERENCE) - 0.3 * falls,  # performance
        0.45 * couple.composition,  # composition
        0.35 * couple.presentation + 0.15 * couple.composition - 0.2 * falls,  # interpretation
    ])
    quarters = np.clip(half_up((true[:, None] + rng.normal(0, PCS_JUDGE_SPREAD, (len(COMPONENTS), JUDGES))) * 4), 1, 40)
    middle = np.sort(quarters, axis=1)[:, 1:-1]  # (components, 7 judges)
    component = half_up(middle.sum(axis=1) * 100 / (4 * middle.shape[1]))  # hundredths
    return int(half_up(component * PCS_FACTOR).sum())



# ---------------------------------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------------------------------


def generate(seed: int, count: int, feature_dim: int, min_clips: int, max_clips: int) -> Iterator[JudgedVideo]:
    """``count`` programmes of one sport, named ``1`` ... (Fis-V ids), of ``min_clips``-``max_clips`` clips."""
    if min_clips < FEWEST_CLIPS or max_clips < min_clips:
        raise LongAQAError(f"generator {KIND}: clips {min_clips}-{max_clips}; min_clips must be at least "
                           f"{FEWEST_CLIPS} and max_clips at least min_clips")
    sport = PairsSport(seed, feature_dim)
    rng = np.random.default_rng([seed, 1])
    for i in range(1, count + 1):
        length = int(rng.integers(min_clips, max_clips + 1))
        yield sport.programme(str(i), length, rng)


def draw_test_ids(seed: int, count: int, num_test: int) -> set[str]:
    """The test split: ``num_test`` ids drawn among ``1`` ... ``count`` (they interleave, as in Fis-V)."""
    rng = np.random.default_rng([seed, 2])
    return {str(int(i) + 1) for i in rng.choice(count, size=num_test, replace=False)}


def write_pairs_heldout(root: str | Path, sizes: GenerationSizes = DEFAULT_SIZES) -> Path:
    """Write ``sizes.num_train + sizes.num_test`` programmes in the Fis-V layout plus ``truth/``; returns ``root``."""
    min_clips, max_clips = sizes.clip_range(KIND, DEFAULT_CLIPS, FEWEST_CLIPS)
    count = sizes.num_train + sizes.num_test
    videos = generate(sizes.seed, count, sizes.feature_dim, min_clips, max_clips)
    return write_fisv_release(root, videos, draw_test_ids(sizes.seed, count, sizes.num_test))
