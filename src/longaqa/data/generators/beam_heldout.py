"""``beam_heldout``: FIG-like women's artistic gymnastics balance beam exercises, held out from model design.

The rules (FIG WAG Code of Points, 2022-2024 cycle, simplified; docs/generators.md), as generated here:

* An exercise: an approach and **mount**, then, in a drawn order, an **acro series** (2-3 connected flight
  elements, one a salto), a **dance series** (2 different connected leaps/jumps, one with a 180 degree
  split), a **turn** and, as length allows, single acro elements forward/sideward and backward, more
  leaps/jumps, a second turn and a mixed series (an acro element connected to a leap), and the
  **dismount**. Between them: walking steps, poses/holds, low choreography and preparations before each
  acro element; a **fall** off the beam is followed by a clip or two of the gymnast **remounting**.
* **D** = the difficulty values (DV, A = 0.1 ... H = 0.8) of the 8 highest-valued recognised elements,
  each type valued once, with at most 5 acrobatic (mount and dismount included, the dismount always
  counted) and at least 3 dance elements (leaps, jumps, turns), plus four composition requirements
  (CR, 0.5 each: dance series, turn, acro series, acro elements forward/sideward and backward) and
  connection value (CV, 0.1 or 0.2 per directly connected pair, by the two values). An element with a
  serious fault (a turn not completed, a leap far short of its split) or a fall before the feet land is
  not recognised and earns nothing. An element landed and then fallen from keeps its DV (as in WAG) but
  earns no CV, and a fall on the first element of a connection breaks it.
* **E** = 10 - execution deductions (ladder 0.1, 0.3, 0.5 for faults, 1.0 per fall), each located on
  its clip: body shape, height and split on the element's clips, landing faults on its last clip, balance
  checks (wobbles) on any clip, a pause before an element on the preparation; five judges each see a
  fault a step lower or higher now and then and the median counts. Then the artistry deductions for the
  whole exercise (presentation 0-0.3, rhythm 0.1, variety 0.1), on no clip.
* **Penalty** (neutral deductions, on no clip): time over 90 s (0.1; the time of a fall excluded), coach
  on the podium (0.5), attire (0.1), failure to present to the panel (0.3).
* Total = D + E - Penalty in hundredths, exactly.

Per-clip truth (``truth/<name>.npz``), all whole hundredths: ``difficulty`` (DV of counted elements spread
over their clips, CV over the two connected elements' clips, each CR over the clips that earn it; sums
to D), ``deduction`` (located execution deductions; sums to 10 - E - artistry), ``contribution`` =
difficulty - deduction (sums to Total - 10 + artistry + penalty), ``element_type`` (catalogue index, -1
off elements) and ``segment`` (``SEGMENTS``).

Features: a latent of ``RANK`` dimensions per clip: the element type's embedding (family plus type) or the
connecting kind's, a take-off/landing phase, the gymnast's style, AR(1) noise, blurred one clip into the
next; execution faults along a direction of each element type's own, saturating in the fault's size;
landing faults along a landing direction; balance as a 2-d sway whose amplitude (not its sign) grows with
the wobble; a fall along its own direction; artistry on the choreography clips. Letters: T clips, R rank.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from longaqa.data.generators.latent import FeatureMap, ar1_noise, orthonormal_directions
from longaqa.data.generators.release import (
    CLIP_FRAMES,
    DEFAULT_SIZES,
    FPS,
    GenerationSizes,
    JudgedVideo,
    check_class_name,
    write_rg_release,
)

KIND = "beam_heldout"
DEFAULT_CLIPS = (55, 72)
"""A beam exercise lasts up to 90 s (plus approach, salute and any remount): 70-92 s in 1.28 s clips."""
FEWEST_CLIPS = 24
"""Mount, acro series, dance series, turn and dismount with their gaps, plus three falls' remounts."""
RANK = 48

SEGMENTS = {
    "walk": 0, "pose": 1, "preparation": 2, "choreography": 3, "approach": 4, "remount": 5,
    "mount": 6, "acro_backward": 7, "acro_forward": 8, "leap_jump": 9, "turn": 10, "dismount": 11,
}
"""``segment`` codes: 0-5 off elements (connecting movement, approach to the springboard, remount after a
fall), 6-11 the element families."""
CONNECTING = ("walk", "pose", "choreography")


@dataclass(frozen=True)
class ElementType:
    name: str
    family: str  # a SEGMENTS key from "mount" on
    value: int  # DV in hundredths
    direction: str = ""  # acro: "fwd" (forward or sideward) or "bwd"
    flight: bool = False
    salto: bool = False
    split: bool = False  # dance: shows a 180 degree split

    @property
    def acro(self) -> bool:
        return self.family in ("mount", "acro_backward", "acro_forward", "dismount")


def _catalogue() -> tuple[ElementType, ...]:
    """The element types with DVs close to the WAG beam tables."""
    mounts = [ElementType("squat-through mount", "mount", 10), ElementType("press to handstand mount", "mount", 20),
              ElementType("round-off mount", "mount", 30, "bwd", True),
              ElementType("front salto mount", "mount", 40, "fwd", True, True),
              ElementType("free cartwheel mount", "mount", 50, "fwd", True, True)]
    bwd = [ElementType("back walkover", "acro_backward", 10, "bwd"),
           ElementType("back handspring", "acro_backward", 20, "bwd", True),
           ElementType("Onodi", "acro_backward", 30, "bwd", True),
           ElementType("back salto tucked", "acro_backward", 30, "bwd", True, True),
           ElementType("layout step-out", "acro_backward", 30, "bwd", True, True),
           ElementType("back layout", "acro_backward", 40, "bwd", True, True),
           ElementType("back layout full twist", "acro_backward", 60, "bwd", True, True)]
    fwd = [ElementType("front walkover", "acro_forward", 10, "fwd"),
           ElementType("front handspring", "acro_forward", 30, "fwd", True),
           ElementType("front aerial", "acro_forward", 40, "fwd", True, True),
           ElementType("side aerial", "acro_forward", 40, "fwd", True, True),
           ElementType("front salto tucked", "acro_forward", 40, "fwd", True, True),
           ElementType("front salto piked", "acro_forward", 50, "fwd", True, True)]
    leaps = [ElementType("split leap", "leap_jump", 10, split=True), ElementType("straddle jump", "leap_jump", 10,
             split=True), ElementType("tuck jump", "leap_jump", 10), ElementType("split jump", "leap_jump", 20,
             split=True), ElementType("switch leap", "leap_jump", 30, split=True),
             ElementType("split ring jump", "leap_jump", 30, split=True), ElementType("sheep jump", "leap_jump", 40),
             ElementType("switch leap half turn", "leap_jump", 40, split=True),
             ElementType("switch ring leap", "leap_jump", 50, split=True)]
    turns = [ElementType("full turn", "turn", 10), ElementType("full turn in back attitude", "turn", 20),
             ElementType("double wolf turn", "turn", 30), ElementType("double turn", "turn", 40),
             ElementType("triple turn", "turn", 60)]
    dismounts = [ElementType("back salto tucked dismount", "dismount", 10, "bwd", True, True),
                 ElementType("layout dismount", "dismount", 20, "bwd", True, True),
                 ElementType("layout full twist dismount", "dismount", 30, "bwd", True, True),
                 ElementType("double twist dismount", "dismount", 40, "bwd", True, True),
                 ElementType("double back tucked dismount", "dismount", 50, "bwd", True, True),
                 ElementType("double pike dismount", "dismount", 60, "bwd", True, True)]
    return tuple(mounts + bwd + fwd + leaps + turns + dismounts)


CATALOGUE = _catalogue()
DANCE = ("leap_jump", "turn")
COUNTED, MAX_ACRO, MIN_DANCE = 8, 5, 3
CR_VALUE = 50
LADDER = np.array([0, 10, 30, 50])
"""Execution fault sizes in hundredths (0: not seen by a judge)."""
SEVERITY_LOGITS = np.array([1.6, 0.0, -2.2])
CHECKS = {  # per family: what the judges watch, each a chance of a fault ("landing" faults on the last clip)
    "mount": ("shape",),
    "acro_backward": ("shape", "height", "landing"),
    "acro_forward": ("shape", "height", "landing"),
    "leap_jump": ("split", "shape", "landing"),
    "turn": ("posture", "rotation"),
    "dismount": ("shape", "landing", "landing"),
}
NOT_RECOGNISED_BY = ("split", "rotation")
"""A 0.5 fault of these checks means the element is not recognised (leap short of its split, turn not completed)."""
FALL_BASE = {"mount": 0.005, "acro_backward": 0.025, "acro_forward": 0.03, "leap_jump": 0.012, "turn": 0.018,
             "dismount": 0.012}
FALL = 100
NEUTRAL = (("coach on the podium", 50, 0.01), ("attire", 10, 0.02), ("no presentation to the panel", 30, 0.01))
OVERTIME, TIME_LIMIT = 10, 90.0
CLIP_SECONDS = CLIP_FRAMES / FPS


@dataclass(eq=False)
class Performed:
    """One element as performed: its type, clips, connection to the previous element and what happened."""

    kind: int
    clips: int
    connected: bool = False  # directly connected to the previous element of its series
    recognised: bool = True
    fall: bool = False
    remount: int = 0  # clips of remounting after a fall off the beam
    faults: list[tuple[int, str, int, int]] = field(default_factory=list)  # (clip offset, check, step, hundredths)
    start: int = -1  # its first clip, once laid out

    @property
    def type(self) -> ElementType:
        return CATALOGUE[self.kind]

    def span(self) -> range:
        return range(self.start, self.start + self.clips)


@dataclass
class Block:
    """Elements performed together (a series or a single element) and whether it may be left out when short."""

    elements: list[Performed]
    optional: bool = False


@dataclass
class Gymnast:
    skill: float
    balance: float  # steadiness on the beam
    artistry: float
    tempo: float


def panel(steps: np.ndarray, rng: np.random.Generator, misjudge: float = 0.15) -> np.ndarray:
    """Hundredths deducted for faults of true ladder ``steps`` (1..3): the median of five judges, each of
    whom sees a fault one step lower or higher with probability ``misjudge``."""
    slips = rng.choice([-1, 0, 1], size=(len(steps), 5), p=[misjudge, 1 - 2 * misjudge, misjudge])
    seen = LADDER[np.clip(steps[:, None] + slips, 0, len(LADDER) - 1)]
    return np.median(seen, axis=1).astype(np.int64)


def spread(hundredths_: int, clips: list[int], into: np.ndarray) -> None:
    """Add whole hundredths evenly over ``clips`` (the remainder one hundredth at a time on the first ones)."""
    share, extra = divmod(hundredths_, len(clips))
    for i, clip in enumerate(clips):
        into[clip] += share + (1 if i < extra else 0)


def connection_value(a: ElementType, b: ElementType) -> int:
    """CV in hundredths for a direct connection of ``a`` and ``b``: 0.2 for D + D or more (C + D between two
    acro elements), 0.1 for C + C or more or B + D or more, else nothing."""
    low, high = sorted((a.value, b.value))
    if low >= 40 or (low >= 30 and high >= 40 and a.acro and b.acro):
        return 20
    if low >= 30 or (low >= 20 and high >= 40):
        return 10
    return 0


def counted_elements(elements: list[Performed]) -> list[Performed]:
    """The elements whose DV counts: recognised, each type once (its first), the dismount, the 3 best dance
    elements, then the best others up to 8 with at most 5 acro elements."""
    seen, candidates = set(), []
    for element in elements:
        if element.recognised and element.kind not in seen:
            seen.add(element.kind)
            candidates.append(element)
    candidates.sort(key=lambda e: -e.type.value)  # stable: equal values in the order performed
    chosen = [e for e in candidates if e.type.family == "dismount"][:1]
    chosen += [e for e in candidates if e.type.family in DANCE][:MIN_DANCE]
    for element in candidates:
        if len(chosen) == COUNTED:
            break
        acro = sum(e.type.acro for e in chosen)
        if all(element is not c for c in chosen) and not (element.type.acro and acro >= MAX_ACRO):
            chosen.append(element)
    return chosen


def connections(blocks: list[Block]) -> list[tuple[Performed, Performed]]:
    """Directly connected pairs that hold: both recognised and no fall on the first."""
    pairs = []
    for block in blocks:
        for first, second in zip(block.elements, block.elements[1:]):
            if second.connected and first.recognised and second.recognised and not first.fall:
                pairs.append((first, second))
    return pairs


def composition_requirements(blocks: list[Block], elements: list[Performed]) -> list[list[int]]:
    """The clips of each CR met (one list per CR): the dance series pair, the first turn, the acro series pair,
    and the element completing acro in both directions (forward/sideward and backward)."""
    met = []
    pairs = connections(blocks)
    dance = [(a, b) for a, b in pairs if a.type.family == "leap_jump" == b.type.family and a.kind != b.kind
             and (a.type.split or b.type.split)]
    acro = [(a, b) for a, b in pairs if a.type.flight and b.type.flight and (a.type.salto or b.type.salto)
            and "dismount" not in (a.type.family, b.type.family)]
    for found in (dance, acro):
        if found:
            met.append([*found[0][0].span(), *found[0][1].span()])
    turns = [e for e in elements if e.recognised and e.type.family == "turn"]
    if turns:
        met.append(list(turns[0].span()))
    directions: set[str] = set()
    for element in sorted(elements, key=lambda e: e.start):
        if element.recognised and element.type.direction and element.type.family != "dismount":
            directions.add(element.type.direction)
            if len(directions) == 2:
                met.append(list(element.span()))
                break
    return met


def difficulty_per_clip(blocks: list[Block], length: int) -> np.ndarray:
    """D located on the clips, in hundredths: counted DVs, CVs and CRs (sums to D)."""
    elements = [e for block in blocks for e in block.elements]
    difficulty = np.zeros(length, dtype=np.int64)
    for element in counted_elements(elements):
        spread(element.type.value, list(element.span()), difficulty)
    for first, second in connections(blocks):
        if not second.fall:
            value = connection_value(first.type, second.type)
            if value:
                spread(value, [*first.span(), *second.span()], difficulty)
    for clips in composition_requirements(blocks, elements):
        spread(CR_VALUE, clips, difficulty)
    return difficulty


class BeamSport:
    """One fixed sport per seed: embeddings of element types and connecting kinds, directions, the feature map."""

    def __init__(self, seed: int, feature_dim: int):
        rng = np.random.default_rng([seed, 0])
        basis = orthonormal_directions(rng, RANK)
        self.sway, self.landing_direction, self.fall_direction, self.artistry_direction = (
            basis[0:2], basis[2], basis[3], basis[4])
        execution, content = basis[5:11], basis[11:]  # (6, R), (R - 11, R)
        self.content = content
        scale = 2.0 / np.sqrt(RANK)
        family = {name: rng.normal(size=len(content)) @ content * scale for name in SEGMENTS}
        self.segment_embedding = np.stack([family[name] for name in SEGMENTS])  # (S, R)
        own = rng.normal(size=(len(CATALOGUE), len(content))) @ content * scale * 0.6
        self.type_embedding = np.stack([family[t.family] for t in CATALOGUE]) + own  # (K, R)
        self.phase = rng.normal(size=(2, len(content))) @ content * scale * 0.5  # take-off, landing
        family_axis = {name: rng.normal(size=len(execution)) for name in CHECKS}
        directions = np.stack([family_axis[t.family] + 0.6 * rng.normal(size=len(execution)) for t in CATALOGUE])
        directions /= np.linalg.norm(directions, axis=1, keepdims=True)
        self.execution = directions @ execution  # (K, R): where each type's faults show
        self.feature_map = FeatureMap(rng, RANK, feature_dim)
        values = np.array([t.value for t in CATALOGUE], dtype=float)
        self.standardised = np.zeros(len(CATALOGUE))
        for name in CHECKS:  # each type's value, standardised within its family
            members = [i for i, t in enumerate(CATALOGUE) if t.family == name]
            self.standardised[members] = (values[members] - values[members].mean()) / values[members].std()

    def choose(self, families: tuple[str, ...], skill: float, rng: np.random.Generator,
               where=lambda t: True, avoid: tuple[int, ...] = ()) -> int:
        """An element type of ``families`` meeting ``where``: better gymnasts pick higher values; types in
        ``avoid`` (already performed) are rarely picked again."""
        members = [i for i, t in enumerate(CATALOGUE) if t.family in families and where(t)]
        z = self.standardised[members]
        weight = np.exp(-0.5 * ((z - 0.8 * skill) / 0.7) ** 2) * np.where(np.isin(members, avoid), 0.1, 1.0)
        return int(members[rng.choice(len(members), p=weight / weight.sum())])

    def routine(self, name: str, length: int, rng: np.random.Generator) -> JudgedVideo:
        """One judged exercise of ``length`` clips."""
        gymnast = draw_gymnast(rng)
        blocks = self.plan(gymnast, rng)
        for block in blocks:
            for element in block.elements:
                self.perform(element, gymnast, rng)
        blocks = fit(blocks, length, rng)
        segment, element_type, gaps = layout(blocks, length, rng)
        located = Located(length)
        located.add_elements(blocks)
        located.add_connecting(segment, gaps, gymnast, rng)
        difficulty = difficulty_per_clip(blocks, length)
        artistry = artistry_deductions(blocks, gymnast, rng)
        penalty = neutral_deductions(segment, rng)
        features = self.features(segment, element_type, blocks, located, gymnast, rng)
        deduction = capped(located.deduction, 1000 - artistry)
        falls = sum(e.fall for b in blocks for e in b.elements)
        return JudgedVideo(
            name=name, features=features,
            truth={"difficulty": difficulty / 100, "deduction": deduction / 100,
                   "contribution": (difficulty - deduction) / 100, "element_type": element_type.astype(np.float64),
                   "segment": segment.astype(np.float64)},
            marks={"difficulty": int(difficulty.sum()), "execution": 1000 - int(deduction.sum()) - artistry,
                   "penalty": penalty},
            video={"skill": gymnast.skill, "falls": float(falls), "artistry": float(artistry),
                   "counted": float(len(counted_elements([e for b in blocks for e in b.elements])))})

    def plan(self, gymnast: Gymnast, rng: np.random.Generator) -> list[Block]:
        """Mount, the middle blocks in a drawn order (acro series, dance series and a turn always; the
        optional ones dropped first when the exercise is short), dismount."""
        skill, done = gymnast.skill, []

        def pick(families, where=lambda t: True, in_series: bool = False) -> Performed:
            kind = self.choose(families, skill, rng, where, tuple(done))
            done.append(kind)
            return Performed(kind, 1 if in_series else element_clips(CATALOGUE[kind], rng))

        series = [pick(("acro_backward",), lambda t: t.flight, True) for _ in range(int(rng.integers(2, 4)))]
        if not any(e.type.salto for e in series):
            series[-1] = pick(("acro_backward",), lambda t: t.salto, True)
        dance = [pick(("leap_jump",), lambda t: t.split), pick(("leap_jump",))]
        middle = [Block(series), Block(dance), Block([pick(("turn",))])]
        middle += [Block([pick(("acro_forward",))], True), Block([pick(("leap_jump",))], True),
                   Block([pick(("acro_backward",), lambda t: t.salto)], True), Block([pick(("turn",))], True),
                   Block([pick(("acro_forward",), lambda t: t.flight), pick(("leap_jump",))], True),
                   Block([pick(("leap_jump",))], True)]
        for block in middle:
            for element in block.elements[1:]:
                element.connected = True
        order = rng.permutation(len(middle))
        return [Block([pick(("mount",))]), *[middle[i] for i in order], Block([pick(("dismount",))])]

    def perform(self, element: Performed, gymnast: Gymnast, rng: np.random.Generator) -> None:
        """Draw the element's faults (judged by the panel), a fall, whether it is recognised, its remount."""
        kind, family = element.kind, element.type.family
        hardness = self.standardised[kind] - gymnast.skill
        rate = float(np.clip(0.25 * np.exp(0.25 * hardness), 0.05, 0.6))
        severity = np.exp(SEVERITY_LOGITS + 0.3 * np.minimum(hardness, 2.0) * np.arange(len(SEVERITY_LOGITS)))
        for check in CHECKS[family]:
            if rng.random() < rate:
                step = 1 + int(rng.choice(len(SEVERITY_LOGITS), p=severity / severity.sum()))
                offset = element.clips - 1 if check == "landing" else int(rng.integers(element.clips))
                element.faults.append((offset, check, step, int(panel(np.array([step]), rng)[0])))
                if step == 3 and check in NOT_RECOGNISED_BY:
                    element.recognised = False
        p_fall = float(np.clip(FALL_BASE[family] * np.exp(0.6 * hardness - 0.3 * gymnast.balance), 0.003, 0.4))
        if rng.random() < p_fall:
            element.fall = True
            element.faults = [f for f in element.faults if f[1] != "landing"]  # the fall replaces them
            landed = rng.random() < (0.35 if family == "turn" else 0.6)  # feet first: the element is recognised
            element.recognised = element.recognised and landed
            element.remount = 0 if family == "dismount" else int(rng.integers(1, 3))

    def features(self, segment: np.ndarray, element_type: np.ndarray, blocks: list[Block], located: Located,
                 gymnast: Gymnast, rng: np.random.Generator) -> np.ndarray:
        """(T, F) features: content blurred into the next clip, the gymnast's style, noise, and how each kind of
        quality shows (see the module docstring)."""
        length = len(segment)
        on = element_type >= 0
        content = np.where(on[:, None], self.type_embedding[np.maximum(element_type, 0)],
                           self.segment_embedding[segment])  # (T, R)
        for block in blocks:
            for element in block.elements:
                if element.clips > 1:
                    content[element.start] += self.phase[0]
                    content[element.start + element.clips - 1] += self.phase[1]
        content[1:] = 0.8 * content[1:] + 0.2 * content[:-1]  # motion carries over a clip boundary
        style = rng.normal(size=len(self.content)) @ self.content * 1.6 / np.sqrt(RANK)
        latent = content + style * (1 + 0.2 * gymnast.tempo)
        shape = 1.8 * (1 - np.exp(-located.shape / 0.25))  # saturating: a 0.5 fault is not 5 x a 0.1
        latent -= shape[:, None] * self.execution[np.maximum(element_type, 0)] * on[:, None]
        latent -= (np.sqrt(located.landing / 0.1) * 0.7)[:, None] * self.landing_direction
        wobble = 1.2 * np.sqrt(located.wobble / 0.1)
        amplitude = wobble + 0.25 * rng.rayleigh(size=length) * np.exp(-0.3 * gymnast.balance)
        amplitude[1:] += 0.5 * wobble[:-1]  # the sway dies down over the next clip
        angle = rng.uniform(0, 2 * np.pi, size=length)
        latent += np.stack([amplitude * np.cos(angle), amplitude * np.sin(angle)], axis=1) @ self.sway
        latent += (2.5 * located.fall + 0.8 * (segment == SEGMENTS["remount"]))[:, None] * self.fall_direction
        expressive = np.isin(segment, [SEGMENTS["choreography"], SEGMENTS["pose"], SEGMENTS["leap_jump"]])
        latent += (0.6 * gymnast.artistry * expressive)[:, None] * self.artistry_direction
        latent += ar1_noise(rng, length, RANK, 0.8) * 0.7 / np.sqrt(RANK)
        return self.feature_map.features(latent, rng, isotropic_std=0.05)


def element_clips(element: ElementType, rng: np.random.Generator) -> int:
    """Clips an element takes on its own: a leap or jump 1, a dismount 2 (round-off, salto and landing), a
    mount 1-2, other acro elements and turns of D or more 1-2, easier ones 1."""
    if element.family == "dismount":
        return 2
    if element.family == "mount" or (element.family != "leap_jump" and element.value >= 40):
        return int(rng.integers(1, 3))
    return 1


def draw_gymnast(rng: np.random.Generator) -> Gymnast:
    """Skill drives difficulty, execution, balance and artistry together, not perfectly."""
    skill = float(np.clip(rng.normal(), -2.5, 2.5))
    balance = float(0.6 * skill + 0.8 * rng.normal())
    artistry = float(0.5 * skill + 0.85 * rng.normal())
    return Gymnast(skill, balance, artistry, float(rng.normal()))


def minimum_clips(blocks: list[Block]) -> int:
    """Clips the blocks need: their elements and remounts, one connecting clip before each block, the approach."""
    return 1 + sum(1 + sum(e.clips + e.remount for e in b.elements) for b in blocks[1:]) + sum(
        e.clips + e.remount for e in blocks[0].elements)


def fit(blocks: list[Block], length: int, rng: np.random.Generator) -> list[Block]:
    """Drop optional blocks (in a drawn order) until the exercise fits ``length`` clips, then shorten the
    remounts to one clip; at FEWEST_CLIPS or more the exercise then always fits (11 element clips, 5 gaps
    and at most 7 remounts)."""
    blocks = list(blocks)
    optional = [b for b in blocks if b.optional]
    for block in [optional[i] for i in rng.permutation(len(optional))]:
        if minimum_clips(blocks) <= length:
            break
        blocks.remove(block)
    if minimum_clips(blocks) > length:  # many falls in a short exercise: the remounts are quick
        for element in (e for b in blocks for e in b.elements):
            element.remount = min(element.remount, 1)
    if minimum_clips(blocks) > length:
        raise ValueError(f"{KIND}: an exercise needs {minimum_clips(blocks)} clips, got {length}")
    return blocks


def gap_kinds(size: int, before: str, rng: np.random.Generator) -> list[str]:
    """The connecting clips of one gap: a Markov run of walks, poses and choreography, ending in a
    preparation before an acro element (two now and then, a pause)."""
    kinds: list[str] = []
    preparation = 0
    if before in ("acro_backward", "acro_forward", "dismount", "mount"):
        preparation = 1 + int(size >= 3 and rng.random() < 0.3)
    current = str(rng.choice(CONNECTING))
    for _ in range(size - preparation):
        if rng.random() > 0.55:
            current = str(rng.choice(CONNECTING))
        kinds.append(current)
    kinds += ["approach" if before == "mount" else "preparation"] * preparation
    return kinds


def layout(blocks: list[Block], length: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, list]:
    """Place the blocks on ``length`` clips: ``segment`` and ``element_type`` per clip, and the gaps (start,
    kinds) of connecting movement; each element's ``start`` is set. Spare clips go to the gaps."""
    weights = np.r_[0.3, np.ones(len(blocks) - 1), 0.3]  # before the mount, between blocks, the final pose
    extra = rng.multinomial(length - minimum_clips(blocks), weights / weights.sum())
    segment = np.zeros(length, dtype=np.int64)
    element_type = np.full(length, -1)
    gaps, t = [], 0
    for i, block in enumerate(blocks):
        kinds = gap_kinds(int(extra[i]) + 1, block.elements[0].type.family, rng)
        gaps.append((t, kinds))
        segment[t:t + len(kinds)] = [SEGMENTS[k] for k in kinds]
        t += len(kinds)
        for element in block.elements:
            element.start = t
            segment[t:t + element.clips] = SEGMENTS[element.type.family]
            element_type[t:t + element.clips] = element.kind
            t += element.clips
            segment[t:t + element.remount] = SEGMENTS["remount"]
            t += element.remount
    segment[t:] = SEGMENTS["pose"]  # the final pose and salute
    gaps.append((t, ["pose"] * (length - t)))
    return segment, element_type, gaps


class Located:
    """Execution deductions located on clips (hundredths), and the true fault sizes the features show (points)."""

    def __init__(self, length: int):
        self.deduction = np.zeros(length, dtype=np.int64)
        self.shape, self.landing, self.wobble, self.fall = (np.zeros(length) for _ in range(4))

    def add_elements(self, blocks: list[Block]) -> None:
        for element in (e for b in blocks for e in b.elements):
            for offset, check, step, judged in element.faults:
                clip = element.start + offset
                self.deduction[clip] += judged
                size = LADDER[step] / 100
                if check == "landing":  # a landing fault is a step or a balance check: it sways too
                    self.landing[clip] += size
                    self.wobble[clip] += 0.5 * size
                else:
                    self.shape[clip] += size
            if element.fall:
                last = element.start + element.clips - 1
                self.deduction[last] += FALL
                self.fall[last] = 1.0

    def add_connecting(self, segment: np.ndarray, gaps: list, gymnast: Gymnast, rng: np.random.Generator) -> None:
        """Balance checks on any clip off the elements (more likely just after a landing) and a pause of
        over 2 s before an element (two preparation clips)."""
        off = segment < SEGMENTS["mount"]
        after_landing = np.r_[False, ~off[:-1]] & off
        chance = 0.05 * np.exp(-0.35 * gymnast.balance) * np.where(after_landing, 2.0, 1.0)
        for clip in np.flatnonzero(off & (segment != SEGMENTS["remount"]) & (rng.random(len(segment)) < chance)):
            severity = np.exp(np.array([1.5, -0.2, -2.0]))
            step = 1 + int(rng.choice(3, p=severity / severity.sum()))
            self.deduction[clip] += int(panel(np.array([step]), rng)[0])
            self.wobble[clip] += LADDER[step] / 100
        for start, kinds in gaps:
            if kinds[-2:] == ["preparation", "preparation"] and rng.random() < 0.4 * np.exp(-0.3 * gymnast.skill):
                self.deduction[start + len(kinds) - 1] += 10


def capped(deduction: np.ndarray, most: int) -> np.ndarray:
    """E cannot go below 0: deductions past ``most`` hundredths go unpunished, the last clips' first."""
    deduction = deduction.copy()
    excess = int(deduction.sum()) - most
    for clip in range(len(deduction) - 1, -1, -1):
        if excess <= 0:
            break
        taken = min(excess, int(deduction[clip]))
        deduction[clip] -= taken
        excess -= taken
    return deduction


def artistry_deductions(blocks: list[Block], gymnast: Gymnast, rng: np.random.Generator) -> int:
    """Whole-exercise artistry deductions in hundredths: presentation (0-0.3), lack of rhythm (0.1),
    insufficient variety of leaps and jumps (0.1: all of them without a split, or all the same type)."""
    presentation = int(np.clip(np.round(1.6 - gymnast.artistry + 0.4 * rng.normal()), 0, 3)) * 10
    rhythm = 10 if gymnast.tempo + 0.5 * rng.normal() < -1.0 else 0
    leaps = [e.type for b in blocks for e in b.elements if e.type.family == "leap_jump"]
    variety = 10 if len({t.name for t in leaps}) < 2 or not any(t.split for t in leaps) else 0
    return presentation + rhythm + variety


def neutral_deductions(segment: np.ndarray, rng: np.random.Generator) -> int:
    """Neutral deductions in hundredths: over 90 s from the mount to the dismount's landing (the time of a fall
    and remount excluded), and now and then coach presence, attire or no presentation."""
    on_beam = np.flatnonzero(segment >= SEGMENTS["mount"])
    timed = segment[on_beam[0]:on_beam[-1] + 1]
    seconds = np.sum(timed != SEGMENTS["remount"]) * CLIP_SECONDS
    penalty = OVERTIME if seconds > TIME_LIMIT else 0
    for _, value, chance in NEUTRAL:
        penalty += value if rng.random() < chance else 0
    return penalty


def generate(
    seed: int, count: int, feature_dim: int = 1024, min_clips: int = DEFAULT_CLIPS[0],
    max_clips: int = DEFAULT_CLIPS[1], class_name: str = "Ball",
) -> Iterator[JudgedVideo]:
    """``count`` exercises of one sport, named ``<class_name>_001`` ..."""
    sport = BeamSport(seed, feature_dim)
    rng = np.random.default_rng([seed, 1])
    for i in range(1, count + 1):
        length = int(rng.integers(min_clips, max_clips + 1))
        yield sport.routine(f"{class_name}_{i:03d}", length, rng)


def write_beam_heldout(root: str | Path, sizes: GenerationSizes = DEFAULT_SIZES) -> Path:
    """Write ``sizes.num_train + sizes.num_test`` exercises in the RG layout plus ``truth/``; returns ``root``."""
    min_clips, max_clips = sizes.clip_range(KIND, DEFAULT_CLIPS, FEWEST_CLIPS)
    check_class_name(sizes.class_name)
    videos = generate(sizes.seed, sizes.num_train + sizes.num_test, sizes.feature_dim, min_clips, max_clips,
                      sizes.class_name)
    return write_rg_release(root, videos, sizes.num_train)
