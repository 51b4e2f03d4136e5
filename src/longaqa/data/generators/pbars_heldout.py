"""``pbars_heldout``: men's artistic gymnastics parallel bars routines judged by FIG-like rules (held out).

Held out from model design: written without looking at the models, to test them on a sport they were
not shaped on. The rules, as generated here (after the FIG men's Code of Points, the 2017-2024 cycles):

* A routine is a mount (run-in, jump or kip to support), 9-13 elements from three element groups
  (I: in support or through support on both rails, II: starting in upper-arm position, III: long swings
  in hang and underswings), swings, handstands shown between elements and brief stops, then a dismount
  (group IV) and its landing. Element values A 0.1 ... F 0.6.
* **D** = the dismount's value + the 9 highest values of the other recognised elements, at most
  ``GROUP_LIMIT`` from one element group (a repeated element is valued once), + the element group
  requirements: 0.5 for each of groups I-III shown by a counted element, and for the dismount group
  0.5 for a D dismount or higher, 0.3 for a C, 0 below. Parallel bars have no connection value.
  An element with a fall, or ending more than 45 degrees off the handstand, is not recognised.
  The D panel counts the elements in the way that gives the highest D.
* **E** = 10 - execution deductions, every one located on a clip: handstand angle deviation, bent
  arms, body form breaks, legs apart, feet touching the bars or hitting the mat, stops, extra swings,
  the dismount's height and form, landing steps, hand touches and falls (1.0), falls off the bars
  (1.0, then a remount). The parallel bars code has no whole-exercise (artistry, rhythm) deduction:
  nothing in E is video-level. Four judges grade each fault from what they see; the clip's
  deduction is the mean of the middle two grades, so E moves in steps of 0.05.
* **Penalty**: now and then a neutral deduction (0.1 or 0.3) that belongs to no clip.
* Total = D + E - Penalty, from the parts in hundredths.

Per-clip truth (``truth/<name>.npz``): ``difficulty`` (each counted element's value, plus the group
requirement it fulfils, spread evenly over its clips: sums to D), ``deduction`` (sums to 10 - E),
``contribution`` = difficulty - deduction (sums to Total + Penalty - 10), ``element_type`` (index into
``ELEMENTS``; -1 off elements) and ``segment`` (``SEGMENTS``). See docs/generators.md.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from longaqa.data.generators.release import (
    DEFAULT_SIZES,
    GenerationSizes,
    JudgedVideo,
    check_class_name,
    write_rg_release,
)

KIND = "pbars_heldout"
DEFAULT_CLIPS = (28, 40)
"""36-51 s in 32-frame clips at 25 fps (parallel bars routines last about 35-50 s)."""
FEWEST_CLIPS = 20
"""A mount, 9 elements, a dismount, its landing and room for a fall's remount and extra swings."""
RANK = 48

# -- segments: what a clip shows -------------------------------------------------------------------
MOUNT, SWING, HANDSTAND, PAUSE, GROUP_I, GROUP_II, GROUP_III, DISMOUNT, LANDING, REMOUNT = range(10)
SEGMENTS = {
    MOUNT: "mount: run-in and jump or kip to support",
    SWING: "swing between elements (in support or hang; an extra swing is one)",
    HANDSTAND: "a handstand shown or held between elements",
    PAUSE: "a brief stop in support (planned, or a hesitation)",
    GROUP_I: "element of group I (in support or through support)",
    GROUP_II: "element of group II (starting in upper-arm position)",
    GROUP_III: "element of group III (long swing in hang, underswing)",
    DISMOUNT: "the dismount (group IV), take-off and flight",
    LANDING: "the dismount's landing and the salute",
    REMOUNT: "after a fall off the bars: standing up and remounting",
}
CONNECTORS = (SWING, HANDSTAND, PAUSE)


@dataclass(frozen=True)
class ElementType:
    name: str
    group: int  # 1-3, 4: dismount
    value: int  # hundredths
    clips: int  # usual length in clips
    to_handstand: bool = False  # ends in (or swings through) a handstand that must be reached
    straddle: bool = False  # the element's own position has the legs apart (no fault)


ELEMENTS = (
    # group I: in support or through support on both rails
    ElementType("swing backward to handstand", 1, 10, 1, True),
    ElementType("press to handstand from straddle L-sit", 1, 20, 2, True, True),
    ElementType("stuetzkehre forward to handstand", 1, 30, 1, True),
    ElementType("salto forward piked to support", 1, 30, 1),
    ElementType("Healy", 1, 40, 1),
    ElementType("Diamidov", 1, 40, 1, True),
    ElementType("salto backward to handstand", 1, 40, 1, True),
    ElementType("double salto forward tucked to upper arm", 1, 50, 1),
    ElementType("Diamidov with 1/2 turn", 1, 50, 1, True),
    # group II: starting in upper-arm position
    ElementType("front uprise", 2, 10, 1),
    ElementType("back uprise to handstand", 2, 20, 1, True),
    ElementType("front uprise with straddle cut to support", 2, 20, 1, False, True),
    ElementType("peach basket to upper arm", 2, 30, 2),
    ElementType("salto forward from upper arm to upper arm", 2, 30, 1),
    ElementType("Belle", 2, 40, 2),
    ElementType("double salto backward piked to upper arm", 2, 50, 1),
    # group III: long swings in hang, underswings
    ElementType("long kip to support", 3, 10, 1),
    ElementType("underswing to handstand", 3, 30, 2, True),
    ElementType("giant swing backward to handstand", 3, 40, 2, True),
    ElementType("Bhavsar", 3, 40, 2, True, True),
    ElementType("Tippelt", 3, 40, 2, True),
    ElementType("giant swing backward with 1/2 turn to handstand", 3, 50, 2, True),
    ElementType("Bhavsar with 1/2 turn", 3, 50, 2, True, True),
    ElementType("underswing with double salto backward piked to upper arm", 3, 60, 2),
    # group IV: dismounts
    ElementType("salto backward stretched", 4, 10, 1),
    ElementType("salto backward stretched with 1/1 twist", 4, 20, 1),
    ElementType("double salto backward tucked", 4, 30, 1),
    ElementType("double salto backward piked", 4, 40, 2),
    ElementType("double salto backward tucked with 1/1 twist", 4, 50, 2),
    ElementType("double salto forward piked", 4, 50, 2),
    ElementType("double salto forward piked with 1/2 twist", 4, 60, 2),
)
GROUPS = np.array([e.group for e in ELEMENTS])
VALUES = np.array([e.value for e in ELEMENTS])
COUNTED_OTHERS = 9
"""Counted elements besides the dismount (10 in all)."""
GROUP_LIMIT = 5
"""At most this many counted elements from one element group."""
REQUIREMENT = 50
"""Element group requirement for each of groups I-III, hundredths."""


def dismount_requirement(value: int) -> int:
    """The dismount group's requirement: 0.5 for a D dismount or higher, 0.3 for a C, 0 below."""
    return 50 if value >= 40 else 30 if value >= 30 else 0


# -- faults ------------------------------------------------------------------------------------------
LADDERS = {
    # kind: (thresholds on the fault's latent, deductions in hundredths at or above each)
    "handstand": ((1.0, 2.0, 3.0), (10, 30, 50)),  # latent = angle off the handstand / 15 degrees
    "bent_arms": ((1.0, 2.0, 3.0), (10, 30, 50)),
    "form": ((1.0, 2.0, 3.0), (10, 30, 50)),  # body form break: pike, arch, hollow in a swing or salto
    "legs": ((1.0, 2.0), (10, 30)),  # legs apart or knees bent
    "touch": ((1.5, 3.0), (30, 50)),  # feet touch the bars (0.3), hit the mat (0.5)
    "stop": ((1.0, 2.0), (10, 30)),  # stop or hesitation in support
    "extra_swing": ((2.0,), (30,)),  # an intermediate (empty) swing
    "height": ((1.0, 2.0), (10, 30)),  # dismount: height and extension
    "landing": ((0.5, 1.0, 1.6, 2.3), (10, 20, 30, 50)),  # steps and hops, large step, hands on the mat
}
FALL = 100
LANDING_FALL = 3.2
"""A landing latent at or above this is a fall (1.0, seen by every judge)."""
FAULT_KINDS = (*LADDERS, "fall")
SPREAD_KINDS = ("form", "legs", "bent_arms")
"""Form breaks show partly on their clip and partly on the next one."""
LATENT_MEDIAN = {  # median of each latent at average skill (1.0: the first threshold)
    "handstand": 1.04, "bent_arms": 0.65, "form": 0.95, "legs": 0.84, "touch": 0.3, "stop": 0.8,
    "extra_swing": 0.3, "height": 0.85, "landing": 0.65, "swing_form": 0.55, "mount": 0.6,
}
GAP_GAIN, SKILL_GAIN, AMPLITUDE_GAIN = 0.05, 0.035, 0.03
"""How a fault latent's median grows per tenth of element value above the gymnast's level and shrinks with
his skill and amplitude."""
FALL_RATE = 0.002
"""Chance of a fall off the bars per element at the gymnast's level (at most one per routine)."""
EXTRA_SWING_RATE = 0.015
"""Chance of an extra swing after an element, for an average gymnast."""
SPREAD = {"landing": 0.75, "touch": 0.7, "stop": 0.4, "extra_swing": 0.4, "swing_form": 0.35, "mount": 0.35,
          "height": 0.3}
"""Log-normal spread (sd of the log) of the latents (0.25 where not given): the element checks are
narrow, so most elements show something below the first threshold and many a 0.1."""
JUDGES = 4
JUDGE_NOISE = 0.18
PENALTIES = (np.array([0, 10, 30]), np.array([0.92, 0.06, 0.02]))


@dataclass
class Block:
    """A stretch of the routine: one segment of ``clips`` clips (an element, a connector ...)."""

    segment: int
    clips: int
    type: int = -1  # element type on element and dismount blocks
    extra: bool = False  # an extra swing (a fault)
    fall: bool = False  # the element ended in a fall off the bars
    start: int = 0


@dataclass
class Check:
    """One thing the judges look at on one clip: its latent and what the panel deducted."""

    kind: str
    clip: int
    latent: float
    group: int  # 0 off elements, 1-4 as the element groups
    block: int  # index of the block it belongs to
    deduction: int = 0  # hundredths


@dataclass
class Performed:
    """One performed element (the dismount included) and what the D panel made of it."""

    type: int
    block: int
    start: int
    stop: int
    recognised: bool = True
    counted: bool = False
    requirement: int = 0  # hundredths of a group requirement credited on it

    @property
    def group(self) -> int:
        return ELEMENTS[self.type].group

    @property
    def value(self) -> int:
        return ELEMENTS[self.type].value

    @property
    def credit(self) -> int:
        return (self.value if self.counted else 0) + self.requirement


@dataclass
class Routine:
    """A drawn and judged routine; ``generate`` yields it beside its :class:`JudgedVideo`."""

    name: str
    blocks: list[Block]
    checks: list[Check]
    elements: list[Performed]
    skill: float
    amplitude: float
    penalty: int
    segment: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    element_type: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    @property
    def length(self) -> int:
        return len(self.segment)


# -- drawing a routine -------------------------------------------------------------------------------
def level_of(skill: float) -> float:
    """The element value (in tenths) a gymnast of this skill builds his routine around."""
    return 3.2 + 0.65 * skill


def compose(rng: np.random.Generator, skill: float, count: int) -> tuple[list[int], int]:
    """The element types of a routine (``count`` from groups I-III, no repeats) and its dismount.

    One of each group I-III first (now and then a weaker gymnast leaves group II out), the rest by
    preference for values near the gymnast's level."""
    level = level_of(skill)
    weight = np.exp(-0.5 * ((VALUES / 10 - level) / 1.0) ** 2)
    available = GROUPS <= 3
    if rng.random() < 0.03 * np.exp(-skill):
        available &= GROUPS != 2
    chosen = []
    for group in (1, 2, 3):
        pool = available & (GROUPS == group)
        if pool.any():
            chosen.append(int(rng.choice(len(ELEMENTS), p=weight * pool / (weight * pool).sum())))
            available[chosen[-1]] = False
    while len(chosen) < count and available.any():
        chosen.append(int(rng.choice(len(ELEMENTS), p=weight * available / (weight * available).sum())))
        available[chosen[-1]] = False
    order = [chosen[i] for i in rng.permutation(len(chosen))]
    dismount_weight = np.exp(-0.5 * ((VALUES / 10 - level - 0.6) / 0.9) ** 2) * (GROUPS == 4)
    return order, int(rng.choice(len(ELEMENTS), p=dismount_weight / dismount_weight.sum()))


def plan_blocks(rng: np.random.Generator, types: list[int], dismount: int, skill: float) -> list[Block]:
    """Mount, elements with the connectors after them (handstands, swings, stops, extra swings, a
    remount after a fall), a swing into the dismount now and then, the dismount and its landing."""
    level = level_of(skill)
    blocks = [Block(MOUNT, 1)]
    fallen = False
    for kind in types:
        element = ELEMENTS[kind]
        fall = not fallen and rng.random() < FALL_RATE * np.exp(0.5 * (element.value / 10 - level) - 0.3 * skill)
        fallen |= fall
        blocks.append(Block(GROUP_I + element.group - 1, element.clips + int(rng.random() < 0.15), kind, fall=fall))
        if fall:
            blocks.append(Block(REMOUNT, 1 + int(rng.random() < 0.5)))
            continue
        if element.to_handstand and rng.random() < 0.5:
            blocks.append(Block(HANDSTAND, 1))
        if rng.random() < 0.3:
            blocks.append(Block(SWING, 1))
        if element.group <= 2 and rng.random() < 0.06:
            blocks.append(Block(PAUSE, 1))
        if rng.random() < EXTRA_SWING_RATE * np.exp(-0.4 * skill):
            blocks.append(Block(SWING, 1, extra=True))
    if rng.random() < 0.3:
        blocks.append(Block(SWING, 1))
    blocks.append(Block(DISMOUNT, ELEMENTS[dismount].clips, dismount))
    blocks.append(Block(LANDING, 1))
    return blocks


def fit_blocks(rng: np.random.Generator, blocks: list[Block], length: int) -> list[Block]:
    """Make the blocks last exactly ``length`` clips: drop connectors, shorten long elements, drop extra
    swings (too long); add swings, handstands and stops after elements (too short)."""
    while sum(b.clips for b in blocks) > length:
        plain = [i for i, b in enumerate(blocks) if b.segment in CONNECTORS and not b.extra]
        long = [i for i, b in enumerate(blocks) if b.clips > 1]
        extra = [i for i, b in enumerate(blocks) if b.extra]
        if plain:
            del blocks[int(rng.choice(plain))]
        elif long:
            blocks[int(rng.choice(long))].clips -= 1
        else:
            del blocks[int(rng.choice(extra))]
    while sum(b.clips for b in blocks) < length:
        _add_connector(rng, blocks)
    return blocks


def _add_connector(rng: np.random.Generator, blocks: list[Block]) -> None:
    """One more connector clip after an element, in the gap that has the fewest so far."""
    gaps = []  # (connectors already there, index after the element, index after its connectors)
    for i, b in enumerate(blocks):
        if b.segment in (GROUP_I, GROUP_II, GROUP_III) and not b.fall:
            end = i + 1
            while end < len(blocks) and blocks[end].segment in CONNECTORS:
                end += 1
            gaps.append((end - i - 1, i, end))
    fewest = min(g[0] for g in gaps)
    _, i, end = gaps[int(rng.choice([k for k, g in enumerate(gaps) if g[0] == fewest]))]
    element = ELEMENTS[blocks[i].type]
    if element.to_handstand and (i + 1 >= len(blocks) or blocks[i + 1].segment != HANDSTAND):
        blocks.insert(i + 1, Block(HANDSTAND, 1))
    elif element.group <= 2 and rng.random() < 0.2:
        blocks.insert(end, Block(PAUSE, 1))
    else:
        blocks.insert(end, Block(SWING, 1))


def lay_out(blocks: list[Block]) -> tuple[np.ndarray, np.ndarray, list[Performed]]:
    """Per-clip ``segment`` and ``element_type`` and the performed elements, block starts set."""
    segment, element_type, performed, start = [], [], [], 0
    for index, block in enumerate(blocks):
        block.start = start
        segment += [block.segment] * block.clips
        element_type += [block.type] * block.clips
        if block.type >= 0:
            performed.append(Performed(block.type, index, start, start + block.clips))
        start += block.clips
    return np.array(segment), np.array(element_type), performed


def draw_latent(rng: np.random.Generator, kind: str, gap: float, skill: float, amplitude: float) -> float:
    """A check's latent (how far off the ideal it is, 1.0 at the ladder's first threshold): log-normal,
    its median larger for elements above the gymnast's level, smaller for better and more amplitude-rich
    gymnasts, so most checks show something below the first threshold."""
    median = LATENT_MEDIAN[kind] * np.exp(GAP_GAIN * gap - SKILL_GAIN * skill - AMPLITUDE_GAIN * amplitude)
    return float(median * np.exp(SPREAD.get(kind, 0.25) * rng.normal()))


def element_checks(rng: np.random.Generator, blocks: list[Block], index: int, skill: float,
                   amplitude: float) -> list[Check]:
    """What the judges look at on an element (or the dismount and its landing) and where it shows."""
    block, element = blocks[index], ELEMENTS[blocks[index].type]
    gap = element.value / 10 - level_of(skill)
    first, last = block.start, block.start + block.clips - 1
    group = element.group

    def draw(kind: str, clip: int) -> Check:
        return Check(kind, clip, draw_latent(rng, kind, gap, skill, amplitude), group, index)

    def anywhere() -> int:
        return int(rng.integers(first, last + 1))

    if group == 4:
        landing = blocks[index + 1].start
        return [draw("height", last), draw("legs", anywhere()), draw("form", anywhere()), draw("landing", landing)]
    checks = [draw("bent_arms", last), draw("legs", anywhere()), draw("form", anywhere())]
    if group >= 2:
        checks.append(draw("touch", anywhere()))
    if block.fall:
        checks.append(Check("fall", last, 4.0, group, index))
    elif element.to_handstand:
        after = blocks[index + 1] if index + 1 < len(blocks) else None
        checks.append(draw("handstand", after.start if after and after.segment == HANDSTAND else last))
    return checks


def connector_checks(rng: np.random.Generator, blocks: list[Block], index: int, skill: float,
                     amplitude: float) -> list[Check]:
    """Faults off elements: form in the mount, form and extra swings in swings, stops in pauses."""
    block = blocks[index]
    clip = block.start
    if block.segment == MOUNT:
        return [Check("form", clip, draw_latent(rng, "mount", 0, skill, amplitude), 0, index)]
    if block.segment == SWING:
        rhythm = 2.2 + float(rng.exponential(0.4)) if block.extra else draw_latent(rng, "extra_swing", 0, skill,
                                                                                      amplitude)
        form = draw_latent(rng, "swing_form", 0, skill, amplitude)
        return [Check("extra_swing", clip, rhythm, 0, index), Check("form", clip, form, 0, index)]
    if block.segment == PAUSE:
        return [Check("stop", clip, draw_latent(rng, "stop", 0, skill, amplitude), 0, index)]
    return []  # handstands (the element's angle shows there), landings (judged with the dismount), remounts


# -- judging -----------------------------------------------------------------------------------------
def panel_deduction(check: Check, rng: np.random.Generator) -> int:
    """The deduction (hundredths) for one check: each of four judges grades the latent he sees on the
    fault's ladder; the panel deducts the mean of the middle two grades (a multiple of 0.05)."""
    if check.kind == "fall" or (check.kind == "landing" and check.latent >= LANDING_FALL):
        return FALL
    thresholds, sizes = LADDERS[check.kind]
    seen = check.latent + rng.normal(0.0, JUDGE_NOISE, size=JUDGES)
    grades = np.sort(np.array([0, *sizes])[np.searchsorted(thresholds, seen, side="right")])
    return int(grades[JUDGES // 2 - 1] + grades[JUDGES // 2]) // 2


def recognise(elements: list[Performed], checks: list[Check]) -> None:
    """An element with a fall, or whose handstand both middle judges saw more than 45 degrees off, is not
    recognised (earns no value and fulfils no requirement)."""
    failed = {c.block for c in checks
              if c.kind == "fall" or (c.kind == "handstand" and c.deduction == LADDERS["handstand"][1][-1])}
    for element in elements:
        element.recognised = element.block not in failed


def _best_count(candidates: list[Performed]) -> list[Performed]:
    """The counted others: for each set of groups to be represented, the best element of each, then the
    highest values within the group limit; the choice with the highest value + requirements wins."""
    ranked = sorted(candidates, key=lambda e: (-e.value, e.start))
    best, best_score = [], -1
    for size in range(4):
        for forced_groups in itertools.combinations((1, 2, 3), size):
            chosen = [next((e for e in ranked if e.group == g), None) for g in forced_groups]
            if None in chosen:
                continue
            for element in ranked:
                per_group = sum(c.group == element.group for c in chosen)
                if len(chosen) < COUNTED_OTHERS and element not in chosen and per_group < GROUP_LIMIT:
                    chosen.append(element)
            score = sum(e.value for e in chosen) + REQUIREMENT * len({e.group for e in chosen})
            if score > best_score:
                best, best_score = chosen, score
    return best


def count_difficulty(elements: list[Performed]) -> int:
    """Mark the counted elements and the requirements they fulfil; returns D in hundredths.

    The dismount (the last group IV element) counts with its requirement; among the other recognised
    elements, each type valued once, the 9 that give the highest value + requirements, at most
    ``GROUP_LIMIT`` per group. Each group I-III requirement is credited on its first counted element."""
    seen, candidates = set(), []
    for element in elements:
        if element.group <= 3 and element.recognised and element.type not in seen:
            seen.add(element.type)
            candidates.append(element)
    for element in _best_count(candidates):
        element.counted = True
    for group in (1, 2, 3):
        first = next((e for e in elements if e.counted and e.group == group), None)
        if first is not None:
            first.requirement = REQUIREMENT
    dismount = [e for e in elements if e.group == 4][-1]
    dismount.counted = dismount.recognised
    dismount.requirement = dismount_requirement(dismount.value) if dismount.recognised else 0
    return sum(e.credit for e in elements)


def judge(rng: np.random.Generator, routine: Routine) -> tuple[np.ndarray, np.ndarray, dict[str, int]]:
    """Per-clip difficulty (points) and deduction (hundredths), and the score sheet in hundredths."""
    for check in routine.checks:
        check.deduction = panel_deduction(check, rng)
    recognise(routine.elements, routine.checks)
    d_score = count_difficulty(routine.elements)
    difficulty = np.zeros(routine.length)
    for element in routine.elements:
        difficulty[element.start:element.stop] += element.credit / 100 / (element.stop - element.start)
    deduction = np.zeros(routine.length, dtype=np.int64)
    for check in routine.checks:
        deduction[check.clip] += check.deduction
    excess = int(deduction.sum()) - 1000  # E does not go below 0: the last faults go unpunished
    for clip in range(routine.length - 1, -1, -1):
        taken = min(max(excess, 0), int(deduction[clip]))
        deduction[clip] -= taken
        excess -= taken
    marks = {"difficulty": d_score, "execution": 1000 - int(deduction.sum()), "penalty": routine.penalty}
    return difficulty, deduction, marks


def draw_routine(rng: np.random.Generator, name: str, length: int) -> Routine:
    """A gymnast, his routine laid out over ``length`` clips, and every check the judges will make."""
    skill = float(np.clip(rng.normal(), -2.5, 2.5))
    amplitude = float(0.6 * skill + 0.8 * rng.normal())
    count = int(np.clip(round((length - 4) / 2.5) + rng.integers(-1, 2), 9, min(13, length - 8)))
    types, dismount = compose(rng, skill, count)
    blocks = fit_blocks(rng, plan_blocks(rng, types, dismount, skill), length)
    segment, element_type, elements = lay_out(blocks)
    checks = []
    for index, block in enumerate(blocks):
        if block.type >= 0:
            checks += element_checks(rng, blocks, index, skill, amplitude)
        else:
            checks += connector_checks(rng, blocks, index, skill, amplitude)
    penalty = int(rng.choice(PENALTIES[0], p=PENALTIES[1]))
    return Routine(name, blocks, checks, elements, skill, amplitude, penalty, segment, element_type)


# -- features ----------------------------------------------------------------------------------------
def _units(rng: np.random.Generator, *shape: int) -> np.ndarray:
    vectors = rng.normal(size=(*shape, RANK))
    return vectors / np.linalg.norm(vectors, axis=-1, keepdims=True)


MOTION = {MOUNT: 0.8, SWING: 1.0, HANDSTAND: 0.1, PAUSE: 0.0, GROUP_I: 1.0, GROUP_II: 1.0, GROUP_III: 1.2,
          DISMOUNT: 1.3, LANDING: 0.2, REMOUNT: 0.5}
"""How much a segment moves: handstands, stops and landings are all still, faults or not."""


class PBarsSport:
    """One sport per seed: embeddings of element types and segments, the directions along which each
    fault shows (per element group), the gymnast's amplitude direction and the feature map."""

    def __init__(self, seed: int, feature_dim: int):
        rng = np.random.default_rng([seed, 0])
        group_vector = _units(rng, 5)  # 0: off elements, 1-3: groups, 4: dismounts
        own = _units(rng, len(ELEMENTS))
        mixed = 0.6 * group_vector[GROUPS] + 0.8 * own
        self.type_embedding = 2.0 * mixed / np.linalg.norm(mixed, axis=1, keepdims=True)
        self.segment_embedding = 2.0 * _units(rng, len(SEGMENTS))
        self.phase = 0.5 * _units(rng, 5)  # first clip against the later clips of an element, per group
        self.motion, self.amplitude = _units(rng, 2)
        self.main = self._fault_directions(rng)  # (kinds, 5 groups, R): the saturating response
        self.curve = self._fault_directions(rng)  # the quadratic response
        self.feature_map = rng.normal(size=(RANK, feature_dim)) / np.sqrt(RANK)
        self.bias = 0.1 * rng.normal(size=feature_dim)

    @staticmethod
    def _fault_directions(rng: np.random.Generator) -> np.ndarray:
        """Per fault kind, a direction shared by the groups mixed with one of each group's own."""
        shared, own = _units(rng, len(FAULT_KINDS)), _units(rng, len(FAULT_KINDS), 5)
        mixed = 0.6 * shared[:, None] + 0.8 * own
        return mixed / np.linalg.norm(mixed, axis=-1, keepdims=True)

    def content(self, routine: Routine) -> np.ndarray:
        """(T, R): what is performed: the element type (with its phase) or the segment, and how it moves."""
        latent = np.where(routine.element_type[:, None] >= 0, self.type_embedding[routine.element_type],
                          self.segment_embedding[routine.segment])
        for element in routine.elements:
            if element.stop - element.start > 1:
                latent[element.start] += self.phase[element.group]
                latent[element.start + 1:element.stop] -= self.phase[element.group]
            if ELEMENTS[element.type].straddle:  # a straddled position looks like legs apart, and is no fault
                latent[element.start:element.stop] += 0.9 * self.main[FAULT_KINDS.index("legs"), element.group]
        latent += np.array([MOTION[s] for s in routine.segment])[:, None] * 0.8 * self.motion
        return latent

    def execution(self, routine: Routine) -> np.ndarray:
        """(T, R): every check's latent, seen whether judged a fault or not: saturating (tanh) along one
        direction of its kind and group, quadratic along another; form breaks spill into the next clip."""
        latent = np.zeros((routine.length, RANK))
        for check in routine.checks:
            kind = FAULT_KINDS.index(check.kind)
            x = min(check.latent, 4.0)
            response = 1.2 * np.tanh(x / 1.5) * self.main[kind, check.group] + 0.12 * x**2 * self.curve[
                kind, check.group]
            if check.kind in SPREAD_KINDS and check.clip + 1 < routine.length:
                latent[check.clip] += 0.65 * response
                latent[check.clip + 1] += 0.35 * response
            else:
                latent[check.clip] += response
        return latent

    def features(self, routine: Routine, rng: np.random.Generator) -> np.ndarray:
        """(T, feature_dim) float32: content + execution + the video's style and the gymnast's amplitude
        (on every clip) + AR(1) noise, through the fixed map, plus a little isotropic noise."""
        style = 1.0 * _units(rng)[0]
        latent = self.content(routine) + self.execution(routine) + style
        latent += 0.35 * routine.amplitude * self.amplitude
        latent += _ar1(rng, routine.length, 0.7, 0.2)
        features = latent @ self.feature_map + self.bias
        features += 0.05 * rng.normal(size=features.shape)
        return features.astype(np.float32)


def _ar1(rng: np.random.Generator, length: int, rho: float, std: float) -> np.ndarray:
    """(length, R) AR(1) noise with correlation ``rho`` between neighbouring clips, ``std`` per dimension."""
    noise = rng.normal(size=(length, RANK)) * std
    for t in range(1, length):
        noise[t] = rho * noise[t - 1] + np.sqrt(1 - rho**2) * noise[t]
    return noise


# -- writing -----------------------------------------------------------------------------------------
def generate(seed: int, count: int, feature_dim: int, min_clips: int, max_clips: int,
             class_name: str = "Ball") -> Iterator[tuple[Routine, JudgedVideo]]:
    """``count`` judged routines of one sport, named ``<class_name>_001`` ..., each with its video."""
    sport = PBarsSport(seed, feature_dim)
    rng = np.random.default_rng([seed, 1])
    for i in range(1, count + 1):
        length = int(rng.integers(min_clips, max_clips + 1))
        routine = draw_routine(rng, f"{class_name}_{i:03d}", length)
        difficulty, deduction, marks = judge(rng, routine)
        points = deduction / 100
        truth = {
            "difficulty": difficulty,
            "deduction": points,
            "contribution": difficulty - points,
            "element_type": routine.element_type.astype(np.float64),
            "segment": routine.segment.astype(np.float64),
        }
        video = JudgedVideo(routine.name, sport.features(routine, rng), truth, marks,
                            {"skill": routine.skill, "amplitude": routine.amplitude})
        yield routine, video


def write_pbars_heldout(root: str | Path, sizes: GenerationSizes = DEFAULT_SIZES) -> Path:
    """Write ``sizes.num_train + sizes.num_test`` routines in the RG layout plus ``truth/``; returns ``root``."""
    min_clips, max_clips = sizes.clip_range(KIND, DEFAULT_CLIPS, FEWEST_CLIPS)
    check_class_name(sizes.class_name)
    videos = (video for _, video in generate(sizes.seed, sizes.num_train + sizes.num_test, sizes.feature_dim,
                                             min_clips, max_clips, sizes.class_name))
    return write_rg_release(root, videos, sizes.num_train)
