"""``hbar_heldout``: FIG-like men's artistic gymnastics horizontal bar (high bar), held out from model design.

Written from the public FIG men's Code of Points (horizontal bar), independently of the models.

* A routine (about 28-40 clips of 1.28 s) is the lift to the bar (mount), 10-13 elements joined by
  connecting giant swings (and now and then a brief adjustment), a wind-up giant and a dismount with its
  landing, then the salute. Element groups: I long hang swings with and without turns (1 clip),
  II flight elements, releases (2 clips: release, catch), III in-bar and close-bar elements (1 clip,
  2 clips from D up), IV dismounts (2 clips: flight, landing). Values A = 0.1 ... G = 0.7.
* **D** = the dismount + the 9 highest other credited values, at most 4 per element group
  (``GROUP_LIMIT``), each value spread evenly over its element's clips; + element group requirements
  (0.5 each for I-III when a counted element fulfils it, on the clips of that group's highest counted
  element; the dismount's 0.5 from D, 0.3 from C, on the dismount's clips); + **connection value** for
  direct connections of counted elements: flight + flight C+D or D+D 0.1, D+E or higher 0.2; an
  element of group I or III of D or more directly into a flight element of D or more 0.1. A
  connection's CV lies half on the last clip of the first element and half on the first clip of the
  second (the junction: the catch clip and the next release clip).
* A missed release is a fall: 1.0 on the fall clip (which replaces the catch), the element is not
  credited, a remount clip follows (re-grasp, kip) and a planned connection is broken. An in-bar
  element finishing more than 45 degrees off the handstand is not credited (and deducted 0.5).
* **E** = 10 - deductions, each on the clip where its fault happens: form (bent arms or legs, legs
  apart) 0.1/0.3/0.5 on element clips, handstand deviations on in-bar and turning elements (last
  clip), release amplitude (release clip), catches with bent arms or too close to the bar (catch clip),
  form in connecting giants 0.1/0.3 (the giant's clip), an empty swing 0.5 (its own clip), the
  dismount's form and height (flight clip), landing steps, hops, hand touches and falls (landing clip).
  Four E judges each see a fault one ladder step lower or higher now and then; the panel deducts the
  mean of the middle two (multiples of 0.05; falls and empty swings are not misjudged).
* **Penalty**: rare video-level neutral deductions (about 4 % of routines).
* A gymnast-level **skill** picks harder elements and more connections and lowers fault rates, so D and
  E correlate positively.

Features (rank ``RANK`` latent per clip, one fixed random map to ``feature_dim``): the element type's or
the clip kind's embedding, a style vector and AR(1) noise per video, a small skill shift on every clip,
and faults shown in ways a one-clip linear read-out sees badly: form, handstand and catch faults along
their direction with a random sign per fault; a release's amplitude fault only as the difference between
its release clip and its catch clip (a per-release nuisance height is on both); giant form faults as a
sine ripple over the clip and its neighbours; landing faults linearly. Distractors: some clean clips
(grip changes on giants, turns and adjustments) carry a form-like signal and are not deducted.

Per-clip truth: ``difficulty`` (sums to D, CV and group requirements included), ``deduction`` (sums to
10 - E), ``contribution`` = difficulty - deduction (sums to Total + Penalty - 10), ``element_type``
(catalogue index, -1 off elements: mount, giants, adjustments, empty swings, falls, remounts, salute)
and ``segment`` (``SEGMENTS``).
"""

from __future__ import annotations

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

KIND = "hbar_heldout"
DEFAULT_CLIPS = (28, 40)
"""35-50 s at 25 fps in 32-frame clips."""
FEWEST_CLIPS = 20

TURN, FLIGHT, INBAR, DISMOUNT = 1, 2, 3, 4
CATALOGUE = (  # (name, element group, value in tenths of a point)
    ("giant swing backward with 1/2 turn", TURN, 1),
    ("hop 1/1 turn to mixed grip", TURN, 2),
    ("el-grip giant with 1/2 turn", TURN, 2),
    ("one-arm giant with 1/1 turn", TURN, 3),
    ("el-grip giant with hop 1/1 turn", TURN, 4),
    ("Yamawaki", FLIGHT, 3),
    ("Tkatchev straddled", FLIGHT, 3),
    ("Gienger", FLIGHT, 3),
    ("Tkatchev stretched", FLIGHT, 4),
    ("Kovacs", FLIGHT, 4),
    ("Tkatchev stretched with 1/2 turn", FLIGHT, 5),
    ("Kolman", FLIGHT, 5),
    ("Liukin", FLIGHT, 6),
    ("Cassina", FLIGHT, 7),
    ("Stalder to handstand", INBAR, 2),
    ("Endo to handstand", INBAR, 2),
    ("Stalder with 1/1 turn", INBAR, 3),
    ("Endo with 1/1 turn", INBAR, 3),
    ("Adler with 1/2 turn", INBAR, 3),
    ("Adler with 1/1 turn", INBAR, 4),
    ("Stalder with 1/1 turn to el-grip", INBAR, 4),
    ("Endo with 1/1 turn to el-grip", INBAR, 5),
    ("double salto backward tucked", DISMOUNT, 2),
    ("double salto backward stretched", DISMOUNT, 3),
    ("double salto backward stretched with 1/1 turn", DISMOUNT, 4),
    ("double salto backward stretched with 2/1 turn", DISMOUNT, 5),
    ("double salto backward stretched with 3/1 turn", DISMOUNT, 6),
)
GROUP = np.array([g for _, g, _ in CATALOGUE])
VALUE = np.array([v for _, _, v in CATALOGUE])  # tenths

SEGMENTS = ("mount", "giant", "adjustment", "empty swing", "turn", "release", "catch", "in-bar",
            "dismount flight", "landing", "fall", "remount", "salute")
"""``segment`` codes: the index in this tuple."""
(MOUNT, GIANT, ADJUST, EMPTY, TURN_CLIP, RELEASE, CATCH, INBAR_CLIP, FLIGHT_CLIP, LANDING, FALL, REMOUNT,
 SALUTE) = range(len(SEGMENTS))
ON_ELEMENT = (TURN_CLIP, RELEASE, CATCH, INBAR_CLIP, FLIGHT_CLIP, LANDING)

GROUP_LIMIT = 4
"""At most this many counted elements of one element group (the dismount apart)."""
COUNTED_OTHERS = 9
GROUP_BONUS = 50  # hundredths, groups I-III
LADDER = np.array([0, 10, 30, 50])
"""Execution fault sizes in hundredths: small, medium, large (index = ladder step)."""
FALL_POINTS, EMPTY_POINTS = 100, 50
PENALTIES = (np.array([0, 10, 30, 50]), np.array([0.958, 0.012, 0.025, 0.005]))
RANK = 48
CHANNELS = ("form", "handstand", "amplitude", "catch", "landing", "ripple", "fall", "skill", "grip")
UNIT = 0.6
"""Latent units per 0.1 point of a fault."""
SKILL_CHOICE = 0.45
"""A gymnast picks elements whose standardised value is near ``SKILL_CHOICE * skill`` ..."""
SKILL_FAULTS = 0.3
"""... and faults at ``exp(-SKILL_FAULTS * skill)`` times the base rates (harder elements: more faults)."""


@dataclass(eq=False)
class Element:
    """One performed element: its catalogue index, outcome and its clips in the routine."""

    kind: int
    missed: bool = False
    devalued: bool = False
    empty_after: bool = False
    remounts: int = 1
    faults: list[tuple[int, str, int]] = field(default_factory=list)
    """(clip offset in the element's unit, channel, size): the size a ladder step 1-3 (0.1/0.3/0.5), or
    hundredths for the ``fall`` and ``empty`` channels."""
    start: int = -1

    @property
    def group(self) -> int:
        return int(GROUP[self.kind])

    @property
    def value(self) -> int:
        return int(VALUE[self.kind])

    def segments(self) -> list[int]:
        """The clip kinds of the element's unit: its own clips, then a fall, remount, empty swing."""
        own = {TURN: [TURN_CLIP], INBAR: [INBAR_CLIP] * (2 if self.value >= 4 else 1),
               DISMOUNT: [FLIGHT_CLIP, LANDING], FLIGHT: [RELEASE, CATCH]}[self.group]
        if self.missed:
            own = [RELEASE, FALL] + [REMOUNT] * self.remounts
        return own + ([EMPTY] if self.empty_after else [])

    @property
    def own_clips(self) -> list[int]:
        """Routine clips that belong to the element itself (``element_type`` set)."""
        return [self.start + i for i, s in enumerate(self.segments()) if s in ON_ELEMENT]

    @property
    def credited(self) -> bool:
        return not (self.missed or self.devalued)


def panel(steps: np.ndarray, rng: np.random.Generator, misjudge: float = 0.15) -> np.ndarray:
    """Hundredths the E panel deducts for faults of true ladder steps 1..3: four judges, each one step
    off now and then, the mean of the middle two."""
    slips = rng.choice([-1, 0, 1], size=(len(steps), 4), p=[misjudge, 1 - 2 * misjudge, misjudge])
    seen = np.sort(LADDER[np.clip(steps[:, None] + slips, 0, len(LADDER) - 1)], axis=1)
    return (seen[:, 1] + seen[:, 2]) // 2


def connection_value(first: Element, second: Element) -> int:
    """CV in hundredths for ``first`` directly into ``second`` (both counted)."""
    if second.group != FLIGHT:
        return 0
    low, high = sorted((first.value, second.value))
    if first.group == FLIGHT:
        return 20 if low >= 4 and high >= 5 else 10 if low >= 3 and high >= 4 else 0
    return 10 if first.group in (TURN, INBAR) and low >= 4 else 0


def counted_elements(elements: list[Element]) -> list[Element]:
    """The dismount (when credited) + the 9 highest other credited values, at most 4 per group."""
    dismount = [e for e in elements if e.group == DISMOUNT and e.credited]
    others = sorted((e for e in elements if e.group != DISMOUNT and e.credited), key=lambda e: -e.value)
    chosen: list[Element] = []
    for e in others:
        if len(chosen) < COUNTED_OTHERS and sum(c.group == e.group for c in chosen) < GROUP_LIMIT:
            chosen.append(e)
    return chosen + dismount[:1]


class HighBarSport:
    """One fixed sport per seed: embeddings, fault directions and the feature map."""

    def __init__(self, seed: int, feature_dim: int):
        rng = np.random.default_rng([seed, 0])
        basis, _ = np.linalg.qr(rng.normal(size=(RANK, RANK)))
        self.direction = {name: basis[:, i] for i, name in enumerate(CHANNELS)}
        content = basis[:, len(CHANNELS):].T  # (R - channels, R)
        scale = 2.0 / np.sqrt(len(content))
        self.type_embedding = rng.normal(size=(len(CATALOGUE), len(content))) @ content * scale
        self.segment_embedding = rng.normal(size=(len(SEGMENTS), len(content))) @ content * scale
        nudge = rng.normal(size=len(content)) @ content
        self.segment_embedding[EMPTY] = self.segment_embedding[GIANT] + 0.6 * nudge / np.linalg.norm(nudge)
        self.content = content
        self.feature_map = rng.normal(size=(RANK, feature_dim)) / np.sqrt(RANK)

    def routine(self, name: str, length: int, rng: np.random.Generator) -> JudgedVideo:
        """One judged routine of ``length`` clips."""
        skill = float(np.clip(rng.normal(), -2.5, 2.5))
        elements, direct = _compose(skill, rng)
        for e in elements:
            _outcome(e, skill, rng)
        elements, direct = _fit(elements, direct, length)
        segment = _layout(elements, direct, length, rng)
        fault_clip, fault_channel, fault_size, deduction = _judge(elements, segment, skill, rng)
        difficulty, d_total = _difficulty(elements, direct, length)
        element_type = np.full(length, -1)
        for e in elements:
            element_type[e.own_clips] = e.kind
        features = self.features(elements, segment, element_type, skill,
                                 (fault_clip, fault_channel, fault_size), rng)
        penalty = int(rng.choice(PENALTIES[0], p=PENALTIES[1]))
        points = deduction / 100
        return JudgedVideo(
            name=name, features=features,
            truth={"difficulty": difficulty, "deduction": points, "contribution": difficulty - points,
                   "element_type": element_type.astype(np.float64), "segment": segment.astype(np.float64)},
            marks={"difficulty": d_total, "execution": 1000 - int(deduction.sum()), "penalty": penalty},
            video={"skill": skill, "falls": float(sum(c == "fall" for c in fault_channel))})

    def features(self, elements, segment, element_type, skill, faults, rng) -> np.ndarray:
        """(T, feature_dim) float32: embeddings, style, skill, noise and the faults' signals."""
        length = len(segment)
        latent = np.where(element_type[:, None] >= 0, self.type_embedding[np.maximum(element_type, 0)], 0.0)
        latent = latent + self.segment_embedding[segment] * np.where(element_type >= 0, 0.5, 1.0)[:, None]
        latent += (rng.normal(size=len(self.content)) @ self.content) * 1.5 / np.sqrt(len(self.content))
        latent += 0.4 * skill * self.direction["skill"]
        latent += _fault_signals(self.direction, elements, segment, faults, rng)
        latent += _distractors(self.direction, segment, faults[0], rng)
        latent += _ar1(rng, length, RANK, 0.8) * 0.8 / np.sqrt(RANK)
        features = latent @ self.feature_map + 0.05 * rng.normal(size=(length, self.feature_map.shape[1]))
        return features.astype(np.float32)


def _preference(group: int, skill: float) -> np.ndarray:
    """Choice probabilities of the group's elements: better gymnasts pick higher values."""
    values = VALUE[GROUP == group].astype(float)
    spread = (values - values.mean()) / values.std()
    weight = np.exp(-0.5 * ((spread - SKILL_CHOICE * skill) / 0.8) ** 2)
    return weight / weight.sum()


def _compose(skill: float, rng: np.random.Generator) -> tuple[list[Element], list[bool]]:
    """Elements in performance order and ``direct[i]``: element i flows directly into element i + 1."""
    count = {TURN: int(rng.integers(2, 4)), FLIGHT: int(np.clip(rng.integers(3, 5) + (skill > 0.8), 3, 5)),
             INBAR: int(rng.integers(3, 5)), DISMOUNT: 1}
    picked = {g: [int(k) for k in np.flatnonzero(GROUP == g)[rng.choice(
        int(np.sum(GROUP == g)), size=n, replace=False, p=_preference(g, skill))]] for g, n in count.items()}
    chance = 1 / (1 + np.exp(-(0.2 + 0.9 * skill)))
    blocks, releases = [], picked[FLIGHT]
    while releases:  # releases, two by two directly when the gymnast connects them
        size = 2 if len(releases) >= 2 and rng.random() < chance else 1
        blocks.append(releases[:size])
        releases = releases[size:]
    for k in picked[TURN] + picked[INBAR]:
        strong = [b for b in blocks if GROUP[b[0]] == FLIGHT and VALUE[b[0]] >= 4]
        if VALUE[k] >= 4 and strong and rng.random() < chance:
            strong[0].insert(0, k)  # an in-bar or turning element of D+ straight into a release
        else:
            blocks.append([k])
    order = [blocks[i] for i in rng.permutation(len(blocks))] + [picked[DISMOUNT]]
    elements, direct = [], []
    for block in order:
        elements += [Element(k) for k in block]
        direct += [True] * (len(block) - 1) + [False]
    return elements, direct


def _outcome(e: Element, skill: float, rng: np.random.Generator) -> None:
    """Draw the element's faults (clip offset, channel, ladder step or fixed hundredths)."""
    rate = np.exp(-SKILL_FAULTS * skill + 0.2 * (e.value - 3.5))

    def steps(p: list[float]) -> int:
        return 1 + int(rng.choice(3, p=p))

    own = len(e.segments())
    if e.group == FLIGHT and rng.random() < 0.025 * rate:
        e.missed, e.remounts = True, int(rng.integers(1, 3))
        e.faults.append((1, "fall", FALL_POINTS))
        return
    if rng.random() < 0.36 * rate and e.group != DISMOUNT:
        e.faults.append((int(rng.integers(own)), "form", steps([0.7, 0.25, 0.05])))
    if e.group in (INBAR, TURN) and rng.random() < (0.45 if e.group == INBAR else 0.25) * rate:
        step = steps([0.6, 0.32, 0.08])
        e.faults.append((own - 1, "handstand", step))
        e.devalued = e.group == INBAR and step == 3
    if e.group == FLIGHT:
        if rng.random() < 0.3 * rate:
            e.faults.append((0, "amplitude", steps([0.75, 0.25, 0.0])))
        if rng.random() < 0.35 * rate:
            step = steps([0.65, 0.3, 0.05])
            e.faults.append((1, "catch", step))
            e.empty_after = step >= 2 and rng.random() < 0.4
    if e.group == DISMOUNT:
        _landing(e, rate, rng)
    if e.empty_after:
        e.faults.append((len(e.segments()) - 1, "empty", EMPTY_POINTS))


def _landing(e: Element, rate: float, rng: np.random.Generator) -> None:
    """The dismount's form and height (flight clip) and its landing (landing clip)."""
    if rng.random() < 0.3 * rate:
        e.faults.append((0, "form", 1 + int(rng.choice(3, p=[0.7, 0.27, 0.03]))))
    if rng.random() < 0.2 * rate:
        e.faults.append((0, "amplitude", 1 + int(rng.choice(2, p=[0.8, 0.2]))))
    stuck = 1 / (1 + np.exp(-(-0.3 + 0.7 * np.log(1 / rate))))
    if rng.random() < 0.05 * rate:
        e.faults.append((1, "fall", FALL_POINTS))  # landed feet first: the dismount is still credited
    elif rng.random() > stuck:
        outcome = rng.choice(4, p=[0.5, 0.22, 0.2, 0.08])  # a small step, two, a large step or hop, hands
        steps = ([1], [1, 1], [2], [2])[outcome]
        e.faults += [(1, "landing", s) for s in steps]


def _unit_lengths(elements: list[Element]) -> int:
    return sum(len(e.segments()) for e in elements)


def _fit(elements: list[Element], direct: list[bool], length: int) -> tuple[list[Element], list[bool]]:
    """Drop the lowest-valued blocks (never the dismount) until the routine fits ``length`` clips:
    mount, the units, one giant at each gap that is not a direct connection (a missed release breaks
    its connection), the wind-up giant before the dismount."""
    while True:
        gaps = sum(not d or e.missed for d, e in zip(direct[:-1], elements[:-1]))
        if 1 + _unit_lengths(elements) + gaps <= length or len(elements) <= 1:
            return elements, direct
        starts = [i for i in range(len(elements)) if i == 0 or not direct[i - 1]]
        blocks = [(s, next(j for j in range(s, len(elements)) if not direct[j]) + 1) for s in starts[:-1]]
        s, end = min(blocks, key=lambda b: sum(e.value for e in elements[b[0]:b[1]]))
        elements, direct = elements[:s] + elements[end:], direct[:s] + direct[end:]


def _layout(elements: list[Element], direct: list[bool], length: int, rng: np.random.Generator) -> np.ndarray:
    """Place the elements; the slack goes to extra giants, a second mount clip and the salute."""
    breaks = [not d or e.missed for d, e in zip(direct, elements)][:-1]
    fixed = 1 + _unit_lengths(elements) + sum(breaks)
    slack = length - fixed
    salute = int(slack >= 1 and rng.random() < 0.8)
    mount = 1 + int(slack - salute >= 1 and rng.random() < 0.5)
    extra = rng.multinomial(slack - salute - mount + 1, np.ones(len(breaks) + 1) / (len(breaks) + 1))
    segment = [MOUNT] * mount + [GIANT] * int(extra[0])
    for i, e in enumerate(elements):
        e.start = len(segment)
        segment += e.segments()
        if i < len(breaks):
            gap = (1 if breaks[i] else 0) + int(extra[i + 1])
            segment += [ADJUST if rng.random() < 0.1 else GIANT for _ in range(gap)]
    segment += [SALUTE] * salute
    assert len(segment) == length, (len(segment), length)
    return np.array(segment)


def _judge(elements: list[Element], segment: np.ndarray, skill: float, rng: np.random.Generator):
    """Place every fault on its clip and let the panel judge it; ``deduction`` in hundredths per clip.

    Giants get form faults here (a 0.1 or 0.3 on the giant's clip)."""
    clips, channels, sizes = [], [], []
    for e in elements:
        for offset, channel, size in e.faults:
            clips.append(e.start + offset)
            channels.append(channel)
            sizes.append(size)
    rate = np.exp(-SKILL_FAULTS * skill)
    for t in np.flatnonzero(segment == GIANT):
        if rng.random() < 0.12 * rate:
            clips.append(int(t))
            channels.append("ripple")
            sizes.append(1 + int(rng.random() < 0.15))
    fixed = np.array([c in ("fall", "empty") for c in channels], dtype=bool)
    judged = np.array(sizes, dtype=np.int64)
    if (~fixed).any():
        judged[~fixed] = panel(judged[~fixed], rng)
    deduction = np.zeros(len(segment), dtype=np.int64)
    np.add.at(deduction, np.array(clips, dtype=np.int64), judged)
    _cap(deduction)
    sizes_ = np.array(sizes, dtype=np.int64)
    true_points = np.where(fixed, sizes_, LADDER[np.clip(sizes_, 0, 3)]) / 100
    return np.array(clips, dtype=np.int64), channels, true_points, deduction


def _cap(deduction: np.ndarray) -> None:
    """E cannot go below 0: the last faults go unpunished."""
    excess = int(deduction.sum()) - 1000
    for clip in range(len(deduction) - 1, -1, -1):
        if excess <= 0:
            return
        taken = min(excess, int(deduction[clip]))
        deduction[clip] -= taken
        excess -= taken


def _difficulty(elements: list[Element], direct: list[bool], length: int) -> tuple[np.ndarray, int]:
    """Per-clip difficulty (points) and D (hundredths): counted values, group requirements, CV."""
    difficulty = np.zeros(length)
    total = 0

    def credit(clips: list[int], hundredths: int) -> None:
        nonlocal total
        difficulty[clips] += hundredths / 100 / len(clips)
        total += hundredths

    counted = counted_elements(elements)
    for e in counted:
        credit(e.own_clips, e.value * 10)
    for group in (TURN, FLIGHT, INBAR):
        members = [e for e in counted if e.group == group]
        if members:
            credit(max(members, key=lambda e: e.value).own_clips, GROUP_BONUS)
    for e in counted:
        if e.group == DISMOUNT and e.value >= 3:
            credit(e.own_clips, 50 if e.value >= 4 else 30)
    ids = {id(e) for e in counted}
    for i in range(len(elements) - 1):
        first, second = elements[i], elements[i + 1]
        if direct[i] and id(first) in ids and id(second) in ids and connection_value(first, second):
            credit([first.own_clips[-1], second.own_clips[0]], connection_value(first, second))
    return difficulty, total


def _fault_signals(direction: dict, elements: list[Element], segment: np.ndarray, faults, rng) -> np.ndarray:
    """(T, R) latent signals of the faults (see the module docstring), with the releases' nuisance height."""
    clips, channels, points = faults
    signal = np.zeros((len(segment), RANK))
    height = {}
    for e in elements:
        if e.group == FLIGHT:
            height[e.start] = rng.normal() * 1.2
            signal[e.start] += height[e.start] * direction["amplitude"]
            if not e.missed:
                signal[e.start + 1] += height[e.start] * direction["amplitude"]
    for t, channel, size in zip(clips, channels, points):
        units = size / 0.1 * UNIT
        if channel in ("form", "handstand", "catch"):
            signal[t] += rng.choice([-1.0, 1.0]) * units * direction[channel]
        elif channel == "amplitude" and segment[t] == RELEASE:
            signal[t + 1] -= units * direction["amplitude"]  # the catch lower than the release promised
        elif channel == "amplitude":  # the dismount's height
            signal[t] -= units * direction["amplitude"]
        elif channel == "ripple":
            phase = rng.uniform(0, 2 * np.pi)
            for k in (-1, 0, 1):
                if 0 <= t + k < len(segment):
                    signal[t + k] += units * (1.0 if k == 0 else 0.5) * np.sin(phase + k * 2 * np.pi / 3) * \
                        direction["ripple"] * np.sqrt(2)
        elif channel == "landing":
            signal[t] += units * direction["landing"]
        elif channel == "fall":
            signal[t] += 3.0 * direction["fall"]
    return signal


def _distractors(direction: dict, segment: np.ndarray, fault_clips: np.ndarray, rng) -> np.ndarray:
    """Clean giants, turns and adjustments that look faulty (a grip change): a form-like signal, not
    deducted."""
    signal = np.zeros((len(segment), RANK))
    candidates = np.flatnonzero(np.isin(segment, (GIANT, TURN_CLIP, ADJUST)) & ~np.isin(
        np.arange(len(segment)), fault_clips))
    for t in candidates[rng.random(len(candidates)) < 0.12]:
        signal[t] += rng.choice([-1.0, 1.0]) * 3 * UNIT * direction["form"] + 0.6 * direction["grip"]
    return signal


def _ar1(rng: np.random.Generator, length: int, rank: int, rho: float) -> np.ndarray:
    """(length, rank) AR(1) noise of unit variance, correlation ``rho`` between neighbouring clips."""
    noise = rng.normal(size=(length, rank))
    for t in range(1, length):
        noise[t] = rho * noise[t - 1] + np.sqrt(1 - rho**2) * noise[t]
    return noise


def generate(seed: int, count: int, feature_dim: int, min_clips: int, max_clips: int,
             class_name: str) -> Iterator[JudgedVideo]:
    """``count`` routines of one sport, named ``<class_name>_001`` ..."""
    sport = HighBarSport(seed, feature_dim)
    rng = np.random.default_rng([seed, 1])
    for i in range(1, count + 1):
        length = int(rng.integers(min_clips, max_clips + 1))
        yield sport.routine(f"{class_name}_{i:03d}", length, rng)


def write_hbar_heldout(root: str | Path, sizes: GenerationSizes = DEFAULT_SIZES) -> Path:
    """Write ``sizes.num_train + sizes.num_test`` routines in the RG layout plus ``truth/``; returns ``root``."""
    min_clips, max_clips = sizes.clip_range(KIND, DEFAULT_CLIPS, FEWEST_CLIPS)
    check_class_name(sizes.class_name)
    videos = generate(sizes.seed, sizes.num_train + sizes.num_test, sizes.feature_dim, min_clips, max_clips,
                      sizes.class_name)
    return write_rg_release(root, videos, sizes.num_train)
