"""``rings_heldout``: FIG-like men's artistic gymnastics still rings, held out from model design.

The rules (FIG Men's Artistic Gymnastics Code of Points of 2017-2024, still rings), as generated here:

* A routine of about 40-55 s (clips of 1.28 s): the **mount** (a jump or lift to the still hang), then
  elements of the four element groups joined by swings and brief pauses, then the **dismount** and its
  **landing**. I: kip and swing elements and swings to handstand (A-D); II: strength elements and hold
  elements (L-sit, levers, cross, L-cross, planche, inverted cross, Maltese, Victorian, press to
  handstand; A-E); III: swings to a strength hold (Azarian, back uprise to planche or Maltese ...; C-F);
  IV: dismounts (double and triple saltos backward, with twists; B-F). A = 0.1 ... F = 0.6.
  A strength hold must be shown for 2 s: one or two clips of nearly static posture after the clip that
  pulls, lowers or presses into it (group II) or swings into it (group III).
* **D** = the dismount + the 9 highest-valued other recognised elements, at most 5 from one element
  group, + the element group requirements: 0.5 for each of groups I-III fulfilled by a counted element,
  and for group IV by the dismount's value (C: 0.3, D or more: 0.5). The D panel counts in the gymnast's
  favour (the best element of each group first). Rings have no connection value in the men's code.
  An element performed beyond the counted ones, a repeated one, or one not recognised (a fall, a hold
  of under 1 s, an angle or arm bend beyond 45 degrees) earns no difficulty; its faults still cost E.
* **E** = 10 - execution deductions, each on the judges' ladder: small 0.1, medium 0.3, large 0.5,
  fall 1.0. Holds: angle deviations of the body or arms, bent arms, a hold shorter than 2 s (1.5-2 s
  small, 1-1.5 s medium, under 1 s large and not recognised), swinging of the cables during the hold
  (small or medium; likelier after a swing into the hold). Swing elements: form (legs apart, bent
  knees, piking), amplitude (a handstand not reached), bent arms; rarely a fall from the rings with a
  remount. Links: an extra swing 0.3 (a full intermediate swing 0.5), a grip adjustment in a pause
  0.1. Dismount: form and height in the salto; landing: a small step 0.1 (sometimes two), a large
  step or hop 0.3, a hand support 0.5, a fall 1.0 (the dismount still counts: the feet land first).
  Five E judges each see a fault one ladder step lower or higher now and then; the panel deducts the
  mean of the middle three, to 0.05 (the RG layout's granularity). Every deduction sits on the clip(s)
  where it happens.
* **Penalty** (neutral deductions, video level): stepping out of the landing area after a large step,
  a support or a fall (0.1 one foot, 0.3 both feet), and rarely 0.3 for not presenting to the panel.
* Total = D + E - Penalty, from the rounded parts.

Per-clip truth (``truth/<name>.npz``): ``difficulty`` (a counted element's value, plus the group
requirement it fulfils, spread evenly over its clips; sums to D), ``deduction`` (sums to 10 - E),
``contribution`` = difficulty - deduction (sums to Total + Penalty - 10), ``element_type`` (index into
``ELEMENTS``, -1 off elements) and ``segment`` (``SEGMENTS``: what the clip shows).

Features (latent of 48 dimensions, mapped to ``feature_dim``): the element type's embedding plus a
phase (segment) embedding, or the segment's embedding off elements; the video's style; a motion level
(swings high, holds low); opposite phases on consecutive clips of one movement (a hold: one posture);
AR(1) noise scaled by that motion, shared between the clips of one hold so a clean hold is still.
Execution shows non-linearly: posture faults of a hold shift every hold clip along a direction that
depends on the element type; a short or trembling hold shows as motion and clip-to-clip change within
the hold; swinging of the cables and extra swings as an oscillation of alternating sign
over neighbouring clips; landing faults on the last clips; falls as a large shift on their clips.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
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

KIND = "rings_heldout"
DEFAULT_CLIPS = (32, 44)
"""About 41-56 s at 25 fps in 32-frame clips."""
FEWEST_CLIPS = 16
"""A mount, a few elements and a dismount with its landing."""

SEGMENTS = {
    0: "mount (jump or lift to the still hang)",
    1: "swing transition (connecting swing, no element; also the swing before the dismount)",
    2: "strength hold (the static phase of a group II or III element)",
    3: "swing element (group I)",
    4: "swing into a strength hold (the dynamic phase of a group III element)",
    5: "dismount flight",
    6: "landing",
    7: "pause or adjustment (no element)",
    8: "strength movement (pulling, lowering or pressing into a group II hold)",
    9: "remount after a fall from the rings (no element)",
}
MOUNT, SWING, HOLD, SWING_ELEMENT, SWING_TO_HOLD, FLIGHT, LANDING, PAUSE, PRESS, REMOUNT = range(10)

ELEMENTS = (
    # name, element group, value in hundredths (A = 10 ... F = 60)
    ("dislocate", 1, 10), ("inlocate", 1, 10), ("kip to support", 1, 10),
    ("back uprise to handstand", 1, 20), ("Yamawaki", 1, 20),
    ("forward giant swing to handstand", 1, 30), ("backward giant swing to handstand", 1, 30),
    ("Guczoghy (back uprise with salto backward to handstand)", 1, 40),
    ("L-sit", 2, 10), ("back lever", 2, 10), ("front lever", 2, 20), ("cross", 2, 20),
    ("press to handstand", 2, 20), ("L-cross", 2, 30), ("planche", 2, 30), ("inverted cross", 2, 40),
    ("Maltese", 2, 40), ("Victorian", 2, 50),
    ("Azarian", 3, 30), ("forward uprise to cross", 3, 30), ("back uprise to L-cross", 3, 30),
    ("back uprise to planche", 3, 40), ("Yamawaki to L-cross", 3, 40), ("back uprise to Maltese", 3, 50),
    ("kip backward to Maltese", 3, 60),
    ("double salto backward tucked", 4, 20), ("double salto backward piked", 4, 30),
    ("double salto backward stretched", 4, 40), ("double salto backward tucked with 2/1 twist", 4, 40),
    ("double salto backward stretched with 1/1 twist", 4, 50), ("triple salto backward tucked", 4, 50),
    ("double salto backward stretched with 2/1 twist", 4, 60),
)
GROUP = np.array([g for _, g, _ in ELEMENTS])
VALUE = np.array([v for _, _, v in ELEMENTS])
COUNTED_OTHERS = 9
"""Elements counted besides the dismount."""
PER_GROUP = 5
"""At most this many counted elements from one element group."""
GROUP_REQUIREMENT = 50
"""Hundredths for each of groups I-III fulfilled; group IV: ``DISMOUNT_REQUIREMENT`` by value."""
DISMOUNT_REQUIREMENT = {10: 0, 20: 0, 30: 30}
"""Dismount group credit by the dismount's value (D or more: 50)."""

# How the gymnast's skill (standard normal) shapes the routine
TARGET = {1: 0.22, 2: 0.27, 3: 0.38, 4: 0.36}
"""The value (points) a gymnast of average skill picks in each group ..."""
VALUE_GAIN = 0.07
"""... shifted by this much per standard deviation of skill, ..."""
VALUE_WIDTH = 0.11
"""... within about this many points."""
AFTER = {0: (1.0, 0.7, 1.0), 1: (0.6, 1.0, 1.2), 2: (1.0, 0.8, 0.7), 3: (1.0, 1.0, 0.4)}
"""Weights of the next element's group (I, II, III) after one of group 1-3 (0: after the mount or a remount)."""

LADDER = np.array([0, 10, 30, 50])
"""The E judges' ladder in hundredths (0: not seen); a fall is 100, never misjudged."""
FALL = 4
"""The ladder step of a fall."""
SEVERITY_LOGITS = np.array([2.3, 0.3, -2.2])
SEVERITY_SKILL = 0.2
DIFF_GAIN = 3.0
"""Faults grow likelier by ``exp(DIFF_GAIN * (value - the gymnast's level))`` ..."""
FAULT_SKILL = 0.15
"""... and by ``exp(-FAULT_SKILL * skill)`` (the factor kept within 0.6-2.0)."""
CHECKS = {
    # segment: (fault kind, base probability, largest step)
    HOLD: (("angle", 0.3, 3), ("bent arms", 0.22, 3), ("cable swing", 0.13, 2)),
    PRESS: (("bent arms in press", 0.2, 2),),
    SWING_ELEMENT: (("form", 0.38, 2), ("amplitude", 0.25, 3), ("bent arms in swing", 0.12, 2)),
    SWING_TO_HOLD: (("form", 0.26, 2),),
    FLIGHT: (("salto form", 0.38, 2), ("height", 0.22, 2)),
}
POSTURE = ("angle", "bent arms")
"""Hold faults shown over the whole hold (deduction spread over its clips)."""
BEYOND_45 = 0.35
"""Share of large posture faults beyond 45 degrees: the element is not recognised."""
CABLE_AFTER_SWING = 2.2
"""Cable swing is this much likelier in a hold reached by a swing (group III)."""
FALL_RATE = 0.005
"""Chance of a fall from the rings per swing element (group I or III), before difficulty and skill."""
EXTRA_SWING = 0.05
FULL_SWING = 0.3
"""Share of extra swings that are full intermediate swings (large)."""
GRIP_ADJUST = 0.5
LANDING_CUTS = np.array([-0.35, 0.65, 1.75, 2.3])
"""Landing outcome: clean, small step, large step or hop, hand support, fall (a latent's cut points)."""
LANDING_STEPS = (0, 1, 2, 3, FALL)
FAULT_KINDS = ("angle", "bent arms", "cable swing", "hold short", "bent arms in press", "form", "amplitude",
               "bent arms in swing", "salto form", "height", "extra swing", "grip", "fall", "landing step",
               "landing support", "landing fall")

RANK = 48
CONTENT = 32
"""Latent dimensions for types, segments and style; the rest carry faults, motion and cable swing."""
MOTION = np.array([0.6, 1.0, 0.08, 1.2, 1.1, 1.4, 0.5, 0.2, 0.4, 0.6])
"""Motion level per segment (the latent along the motion direction)."""
JITTER = np.array([0.8, 1.0, 0.2, 1.0, 1.0, 1.0, 0.7, 0.4, 0.6, 0.9])
"""Scale of the AR(1) noise per segment: a hold is nearly static."""
SHIFT = np.array([0.0, 0.8, 1.4, 1.8])
"""Latent shift of a posture or form fault by its true step."""


@dataclass
class Performed:
    """One element performed: its type, the clips it covers and how its hold and swing went."""

    type: int
    hold_s: float = math.nan
    fell: bool = False
    clips: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    @property
    def group(self) -> int:
        return int(GROUP[self.type])

    @property
    def value(self) -> int:
        return int(VALUE[self.type])


@dataclass
class Fault:
    """An execution fault: its true ladder step, the clips its deduction sits on, the panel's deduction."""

    kind: str
    clips: tuple[int, ...]
    step: int
    owner: int = -1
    breaks: bool = False
    hundredths: int = 0


@dataclass
class Plan:
    """What each clip shows: ``segment`` (T,), ``owner`` (T,) index into ``elements`` or -1."""

    segment: np.ndarray
    owner: np.ndarray
    elements: list[Performed]

    @property
    def element_type(self) -> np.ndarray:
        types = np.array([e.type for e in self.elements])
        return np.where(self.owner >= 0, types[np.clip(self.owner, 0, None)], -1)


def severity(rng: np.random.Generator, skill: float, top: int) -> int:
    """A fault's true ladder step (1 small ... ``top``), better gymnasts toward the small end."""
    logits = SEVERITY_LOGITS[:top] - SEVERITY_SKILL * skill * np.arange(top)
    p = np.exp(logits - logits.max())
    return 1 + int(rng.choice(top, p=p / p.sum()))


def panel(step: int, rng: np.random.Generator, misjudge: float = 0.12) -> int:
    """The E panel's deduction in hundredths for a fault of true ``step``: five judges, each a step off
    now and then; the mean of the middle three, to 0.05. Falls are 1.0."""
    if step >= FALL:
        return 100
    slips = rng.choice([-1, 0, 1], size=5, p=[misjudge, 1 - 2 * misjudge, misjudge])
    seen = np.sort(LADDER[np.clip(step + slips, 0, len(LADDER) - 1)])
    return 5 * int(round(seen[1:4].sum() / 15))


class RingsSport:
    """One fixed sport per seed: embeddings, fault directions and the feature map."""

    def __init__(self, seed: int, feature_dim: int):
        rng = np.random.default_rng([seed, 0])
        basis = orthonormal_directions(rng, RANK)
        content, faults = basis[:CONTENT], basis[CONTENT:RANK - 2]
        self.motion_direction, self.cable_direction = basis[RANK - 2], basis[RANK - 1]
        scale = 2.0 / np.sqrt(RANK)
        self.type_embedding = rng.normal(size=(len(ELEMENTS), CONTENT)) @ content * scale
        self.segment_embedding = rng.normal(size=(len(SEGMENTS), CONTENT)) @ content * scale
        self.content = content
        shared = rng.normal(size=(len(FAULT_KINDS), faults.shape[0])) @ faults
        self.kind_direction = shared / np.linalg.norm(shared, axis=1, keepdims=True)  # (K, R)
        tilt = rng.normal(size=(len(ELEMENTS), len(FAULT_KINDS), faults.shape[0])) @ faults
        tilt /= np.linalg.norm(tilt, axis=2, keepdims=True)
        direction = 0.5 * self.kind_direction[None] + tilt  # a fault looks different on each element type
        self.fault_direction = direction / np.linalg.norm(direction, axis=2, keepdims=True)  # (types, K, R)
        self.feature_map = FeatureMap(rng, RANK, feature_dim)
        phase = rng.normal(size=(len(SEGMENTS), CONTENT)) @ content * 0.4 * scale
        self.phase_embedding = phase * ~np.isin(np.arange(len(SEGMENTS)), [HOLD, PAUSE])[:, None]

    # -- composing a routine -------------------------------------------------------------------------
    def choose_group(self, previous: int, counts: np.ndarray, rng: np.random.Generator) -> int:
        """The next element's group (1-3): alternating swing and strength, every group at least once,
        rarely more than ``PER_GROUP`` of one."""
        weights = np.array(AFTER[previous], dtype=float)
        weights *= np.where(counts[1:4] == 0, 2.5, 1.0) * np.where(counts[1:4] >= PER_GROUP, 0.25, 1.0)
        return 1 + int(rng.choice(3, p=weights / weights.sum()))

    def choose_type(self, group: int, used: set[int], skill: float, rng: np.random.Generator) -> int:
        """An element type of ``group`` near the gymnast's level, not yet performed while any is left."""
        types = np.flatnonzero(GROUP == group)
        target = TARGET[group] + VALUE_GAIN * skill
        weights = np.exp(-0.5 * ((VALUE[types] / 100 - target) / VALUE_WIDTH) ** 2) + 1e-3
        fresh = np.array([t not in used for t in types])
        if fresh.any():
            weights = weights * fresh
        return int(rng.choice(types, p=weights / weights.sum()))

    def level(self, kind: int, skill: float) -> float:
        """How far the element is above the gymnast's level: the factor on his fault rates."""
        target = TARGET[int(GROUP[kind])] + VALUE_GAIN * skill
        return float(np.clip(np.exp(DIFF_GAIN * (VALUE[kind] / 100 - target) - FAULT_SKILL * skill), 0.6, 2.0))

    def element_block(self, kind: int, skill: float, rng: np.random.Generator) -> tuple[list[int], Performed]:
        """The segments of one element of groups I-III (a fall adds a remount clip) and how it went."""
        group, hardness = int(GROUP[kind]), self.level(kind, skill)
        performed = Performed(kind)
        if group == 1:
            segments = [SWING_ELEMENT] * (2 if rng.random() < 0.35 else 1)
        else:
            segments = [PRESS] * (2 if rng.random() < 0.15 else 1) if group == 2 else [SWING_TO_HOLD]
        if group != 2 and rng.random() < min(0.2, FALL_RATE * hardness):
            performed.fell = True
            return [*segments[:1], REMOUNT], performed
        if group != 1:
            short = rng.random() < min(0.5, 0.07 * hardness)
            performed.hold_s = float(rng.uniform(0.7, 2.0) if short else rng.uniform(2.0, 3.3))
            segments += [HOLD] * (2 if performed.hold_s >= 2.3 else 1)
        return segments, performed

    def gap_block(self, previous: int, group: int, rng: np.random.Generator) -> list[int]:
        """Connecting clips before an element of ``group`` after one of ``previous`` (0: mount or remount)."""
        u = rng.random()
        if previous == 0:
            return [] if u < 0.7 else [SWING]
        if previous in (2, 3):  # from a hold
            if group == 2:
                return [] if u < 0.55 else [PAUSE] if u < 0.8 else [SWING]
            return [SWING] if u < 0.75 else [SWING, SWING] if u < 0.85 else []
        if group == 2:  # from a swing or a handstand
            return [] if u < 0.6 else [PAUSE] if u < 0.8 else [SWING]
        return [] if u < 0.6 else [SWING]

    def compose(self, length: int, skill: float, rng: np.random.Generator) -> Plan:
        """A routine of exactly ``length`` clips: mount, elements with their links, dismount and landing."""
        head = [(MOUNT, -1)] * (2 if rng.random() < 0.3 else 1)
        dismount = Performed(self.choose_type(4, set(), skill, rng))
        tail_segments = [SWING, FLIGHT, *[LANDING] * (2 if rng.random() < 0.5 else 1)]
        budget = length - len(head) - len(tail_segments)
        pieces: list[list[tuple[int, int]]] = []
        elements: list[Performed] = []
        counts, used, previous, filled = np.zeros(5, dtype=np.int64), set(), 0, 0
        while True:
            group = self.choose_group(previous, counts, rng)
            kind = self.choose_type(group, used, skill, rng)
            segments, performed = self.element_block(kind, skill, rng)
            gap = self.gap_block(previous, group, rng)
            if filled + len(gap) + len(segments) > budget:
                break
            owner = len(elements)
            elements.append(performed)
            pieces += [[(s, -1) for s in gap], [(s, -1 if s == REMOUNT else owner) for s in segments]]
            filled += len(gap) + len(segments)
            counts[group] += 1
            used.add(kind)
            previous = 0 if performed.fell else group
        for _ in range(budget - filled):  # the clips left over: longer links here and there
            pieces.insert(int(rng.integers(len(pieces) + 1)), [(SWING if rng.random() < 0.75 else PAUSE, -1)])
        elements.append(dismount)
        tail = [(s, -1 if s == SWING else len(elements) - 1) for s in tail_segments]
        clips = np.array(head + [c for piece in pieces for c in piece] + tail)
        plan = Plan(segment=clips[:, 0], owner=clips[:, 1], elements=elements)
        for i, element in enumerate(elements):
            element.clips = np.flatnonzero(plan.owner == i)
        return plan

    # -- judging -------------------------------------------------------------------------------------
    def judge_element(self, i: int, plan: Plan, skill: float, rng: np.random.Generator) -> list[Fault]:
        """The execution faults of element ``i``, each on the clip(s) where it happens."""
        element = plan.elements[i]
        hardness, clips = self.level(element.type, skill), element.clips
        faults = [Fault("fall", (int(clips[-1]),), FALL, i, breaks=True)] if element.fell else []
        for segment, checks in CHECKS.items():
            where = clips[plan.segment[clips] == segment]
            if not len(where):
                continue
            for kind, base, top in checks:
                boost = CABLE_AFTER_SWING if kind == "cable swing" and element.group == 3 else 1.0
                if rng.random() >= min(0.85, base * boost * hardness):
                    continue
                step = severity(rng, skill, top)
                if kind in POSTURE:
                    on = tuple(int(c) for c in where)
                elif kind == "cable swing":
                    on = (int(where[0]),)
                else:
                    on = (int(rng.choice(where)),)
                breaks = kind in POSTURE and step == 3 and rng.random() < BEYOND_45
                faults.append(Fault(kind, on, step, i, breaks))
        if not math.isnan(element.hold_s) and element.hold_s < 2.0:
            step = 1 if element.hold_s >= 1.5 else 2 if element.hold_s >= 1.0 else 3
            hold = clips[plan.segment[clips] == HOLD]
            faults.append(Fault("hold short", (int(hold[-1]),), step, i, breaks=step == 3))
        return faults

    def judge_links(self, plan: Plan, skill: float, rng: np.random.Generator) -> list[Fault]:
        """Faults on connecting clips: an extra swing (0.3, a full intermediate swing 0.5), a grip adjustment in a
        pause (0.1)."""
        faults = []
        for clip in np.flatnonzero(plan.owner < 0):
            if plan.segment[clip] == SWING and rng.random() < EXTRA_SWING * np.exp(-FAULT_SKILL * skill):
                faults.append(Fault("extra swing", (int(clip),), 3 if rng.random() < FULL_SWING else 2))
            elif plan.segment[clip] == PAUSE and rng.random() < GRIP_ADJUST:
                faults.append(Fault("grip", (int(clip),), 1))
        return faults

    def judge_landing(self, plan: Plan, skill: float, rng: np.random.Generator) -> tuple[list[Fault], int]:
        """The landing's faults on the landing clips, and the neutral deduction (hundredths) it may bring."""
        dismount = len(plan.elements) - 1
        clips = plan.elements[dismount].clips
        landing = clips[plan.segment[clips] == LANDING]
        quality = rng.normal() - 0.35 * skill + DIFF_GAIN * (plan.elements[dismount].value / 100 - TARGET[4])
        outcome = int(np.searchsorted(LANDING_CUTS, quality))
        faults = []
        if outcome in (1, 2):
            faults.append(Fault("landing step", (int(landing[0]),), LANDING_STEPS[outcome], dismount))
            if outcome == 1 and rng.random() < 0.3:  # a second small step
                faults.append(Fault("landing step", (int(landing[-1]),), 1, dismount))
        elif outcome == 3:
            faults.append(Fault("landing support", (int(landing[0]),), 3, dismount))
        elif outcome == 4:
            faults.append(Fault("landing fall", (int(landing[0]),), FALL, dismount))
        penalty = 0
        if outcome >= 2 and rng.random() < 0.3:  # stepping out of the landing area
            penalty = 10 if rng.random() < 0.6 else 30
        if rng.random() < 0.015:  # not presenting to the D panel before or after the exercise
            penalty += 30
        return faults, penalty

    # -- the D panel ---------------------------------------------------------------------------------
    @staticmethod
    def credit(elements: list[Performed], recognised: np.ndarray) -> np.ndarray:
        """Hundredths credited to each element: value if counted, plus the group requirement it fulfils."""
        credit = np.zeros(len(elements), dtype=np.int64)
        seen, candidates = set(), []
        for i, element in enumerate(elements[:-1]):
            if recognised[i] and element.type not in seen:  # a repeated element is not valued
                candidates.append(i)
            seen.add(element.type)
        candidates.sort(key=lambda i: (-elements[i].value, i))
        counted, per_group = [], np.zeros(5, dtype=np.int64)
        for group in (1, 2, 3):  # the best element of each group first: it brings its requirement too
            best = next((i for i in candidates if elements[i].group == group), None)
            if best is not None and len(counted) < COUNTED_OTHERS:
                counted.append(best)
                per_group[group] += 1
                credit[best] += GROUP_REQUIREMENT
        for i in candidates:
            if len(counted) < COUNTED_OTHERS and i not in counted and per_group[elements[i].group] < PER_GROUP:
                counted.append(i)
                per_group[elements[i].group] += 1
        credit[counted] += VALUE[[elements[i].type for i in counted]] if counted else 0
        value = elements[-1].value
        credit[-1] = value + DISMOUNT_REQUIREMENT.get(value, GROUP_REQUIREMENT)
        return credit

    # -- the features --------------------------------------------------------------------------------
    def fault_shifts(self, plan: Plan, faults: list[Fault], rng: np.random.Generator):
        """``(T, R)`` latent shifts of the faults, ``(T,)`` extra motion and per-element unsteadiness."""
        length = len(plan.segment)
        shift, motion = np.zeros((length, RANK)), np.zeros(length)
        unsteady = np.zeros(len(plan.elements))
        types = plan.element_type
        for fault in faults:
            k, first = FAULT_KINDS.index(fault.kind), fault.clips[0]
            direction = self.fault_direction[types[first], k] if types[first] >= 0 else self.kind_direction[k]
            if fault.kind in ("cable swing", "extra swing"):  # an oscillation over neighbouring clips
                amplitude = (0.0, 0.9, 1.5, 2.0)[fault.step] * rng.choice([-1.0, 1.0])
                for lag, factor in enumerate((1.0, -0.7, 0.4)):
                    if first + lag < length:
                        shift[first + lag] += factor * amplitude * self.cable_direction
                motion[first] += 0.6 if fault.kind == "extra swing" else 0.0
            elif fault.kind == "hold short":
                motion[first] += 0.35 * fault.step
            elif fault.step >= FALL or fault.kind in ("landing support", "grip"):
                size = {FALL: 2.2, 3: 1.6, 1: 0.8}[fault.step]
                shift[first] += size * direction
                if first + 1 < length:
                    shift[first + 1] += 0.5 * size * direction
            else:
                for clip in fault.clips:
                    shift[clip] += SHIFT[fault.step] * direction
            if fault.owner >= 0 and fault.kind in ("cable swing", "hold short", "bent arms"):
                unsteady[fault.owner] += fault.step
        return shift, motion, unsteady

    def phase_shift(self, plan: Plan) -> np.ndarray:
        """``(T, R)``: consecutive clips of one movement (a swing element, a press, a run of link swings)
        show opposite phases (up and down, forward and back); a hold or a pause shows one posture."""
        segment, owner = plan.segment, plan.owner
        new_run = np.r_[True, (segment[1:] != segment[:-1]) | (owner[1:] != owner[:-1])]
        clips = np.arange(len(segment))
        start = np.maximum.accumulate(np.where(new_run, clips, 0))
        sign = np.where((clips - start) % 2 == 0, -1.0, 1.0)
        return sign[:, None] * self.phase_embedding[segment]

    def still_holds(self, noise: np.ndarray, plan: Plan, unsteady: np.ndarray, rng: np.random.Generator) -> None:
        """A hold's clips share their noise (a static posture) up to a tremble that grows with its faults."""
        for i, element in enumerate(plan.elements):
            hold = element.clips[plan.segment[element.clips] == HOLD]
            for n, clip in enumerate(hold):
                tremble = (0.04 + 0.22 * unsteady[i]) / np.sqrt(RANK)
                if n:
                    noise[clip] = noise[hold[n - 1]]
                noise[clip] += rng.normal(size=RANK) * tremble

    def render(self, plan: Plan, faults: list[Fault], rng: np.random.Generator) -> np.ndarray:
        """``(T, feature_dim)`` float32 features of a judged routine."""
        segment, types = plan.segment, plan.element_type
        latent = self.segment_embedding[segment].copy()
        on = types >= 0
        latent[on] = self.type_embedding[types[on]] + 0.6 * self.segment_embedding[segment[on]]
        latent += rng.normal(size=CONTENT) @ self.content * 1.6 / np.sqrt(RANK)  # the video's style
        shift, motion, unsteady = self.fault_shifts(plan, faults, rng)
        latent += shift + (MOTION[segment] + motion)[:, None] * self.motion_direction + self.phase_shift(plan)
        noise = ar1_noise(rng, len(segment), RANK, 0.8) * 0.8 / np.sqrt(RANK) * JITTER[segment][:, None]
        self.still_holds(noise, plan, unsteady, rng)
        return self.feature_map.features(latent + noise, rng, isotropic_std=0.05)

    # -- one routine ---------------------------------------------------------------------------------
    def routine(self, name: str, length: int, rng: np.random.Generator) -> JudgedVideo:
        """One judged routine of ``length`` clips: plan, faults, panels, features and truth."""
        skill = float(np.clip(rng.normal(), -2.5, 2.5))
        plan = self.compose(length, skill, rng)
        faults = [f for i in range(len(plan.elements)) for f in self.judge_element(i, plan, skill, rng)]
        landing, penalty = self.judge_landing(plan, skill, rng)
        faults += landing + self.judge_links(plan, skill, rng)
        for fault in faults:
            fault.hundredths = panel(fault.step, rng)
        cap_deductions(faults)
        recognised = np.ones(len(plan.elements), dtype=bool)
        recognised[[f.owner for f in faults if f.breaks]] = False
        credit = self.credit(plan.elements, recognised)
        difficulty, deduction = np.zeros(length), np.zeros(length)
        for element, hundredths in zip(plan.elements, credit):
            difficulty[element.clips] += hundredths / 100 / len(element.clips)
        for fault in faults:
            np.add.at(deduction, list(fault.clips), fault.hundredths / 100 / len(fault.clips))
        features = self.render(plan, faults, rng)
        marks = {"difficulty": int(credit.sum()), "execution": 1000 - sum(f.hundredths for f in faults),
                 "penalty": penalty}
        truth = {"difficulty": difficulty, "deduction": deduction, "contribution": difficulty - deduction,
                 "element_type": plan.element_type.astype(np.float64), "segment": plan.segment.astype(np.float64)}
        video = {"skill": skill, "performed": float(len(plan.elements)), "counted": float((credit > 0).sum()),
                 "recognised": float(recognised.sum())}
        return JudgedVideo(name=name, features=features, truth=truth, marks=marks, video=video)


def cap_deductions(faults: list[Fault]) -> None:
    """E cannot go below 0: the last faults go unpunished (only in absurdly long routines)."""
    excess = sum(f.hundredths for f in faults) - 1000
    for fault in reversed(faults):
        if excess <= 0:
            break
        taken = min(excess, fault.hundredths)
        fault.hundredths -= taken
        excess -= taken


def generate(
    seed: int, count: int, feature_dim: int, min_clips: int, max_clips: int, class_name: str = "Ball"
) -> Iterator[JudgedVideo]:
    """``count`` routines of one sport, named ``<class_name>_001`` ..."""
    sport = RingsSport(seed, feature_dim)
    rng = np.random.default_rng([seed, 1])
    for i in range(1, count + 1):
        length = int(rng.integers(min_clips, max_clips + 1))
        yield sport.routine(f"{class_name}_{i:03d}", length, rng)


def write_rings_heldout(root: str | Path, sizes: GenerationSizes = DEFAULT_SIZES) -> Path:
    """Write ``sizes.num_train + sizes.num_test`` rings routines in the RG layout plus ``truth/``; returns ``root``."""
    min_clips, max_clips = sizes.clip_range(KIND, DEFAULT_CLIPS, FEWEST_CLIPS)
    check_class_name(sizes.class_name)
    videos = generate(sizes.seed, sizes.num_train + sizes.num_test, sizes.feature_dim, min_clips, max_clips,
                      sizes.class_name)
    return write_rg_release(root, videos, sizes.num_train)
