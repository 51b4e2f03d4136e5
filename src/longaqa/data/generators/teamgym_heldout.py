"""``teamgym_heldout``: UEG-like TeamGym floor programmes in the RG layout, held out from model design.

A team of 6-12 gymnasts performs a choreographed group programme to music on the floor area
(European Union of Gymnastics, TeamGym floor), as generated here:

* A programme is an **opening pose** (1 clip), then connecting stretches (**choreography** to the
  music, or a travelling **formation change** into a new formation, 1-2 clips) alternating with group
  **elements** (1-3 clips), then a **final pose** (1 clip). An element is one of 20 types in five
  families: balances / flexibility (4), jumps and leaps (5), turns (3), acrobatic elements (6) and
  lifts (2); values are drawn per seed from each family's range.
* **D** = the values of the *counted* elements + the **composition requirements**. An element is
  credited only when performed by all or all but one gymnast (two or more falls, or a lift that
  collapses: not credited). The 8 highest credited values count, each type once and at most 3 from one
  family. Each of the four requirements (a counted balance, jump/leap, turn and acrobatic element) is
  worth 0.5, located on the first counted element (in programme order) of its family. Everything in D
  is located: an element's value (and its requirement bonus) is spread evenly over its clips.
* **E** = 10 - located deductions - the **composition / artistry** deduction. Located (on the clip where
  it happens): form faults (by how many gymnasts: 1 -> 0.1, up to a third -> 0.2, more -> 0.3),
  synchronisation faults (the team's timing spread on that clip: 0.1 / 0.2 / 0.3), landing faults on
  the last clip of jumps, acrobatics and lifts (0.1 / 0.2 / 0.3 by how many gymnasts), falls (0.5 per
  gymnast, on the landing clip; a lift's collapse 0.5) and formation errors (spacing and lines, 0.1 or
  0.2, on formation changes and elements). Connecting choreography and poses are judged for form and
  synchronisation too. Four judges see each fault one step lower or higher now and then; the panel
  takes the mean of the middle two (falls are fixed at 0.5). The artistry deduction (music,
  expression, variety of the floor use; 0-1.0 in tenths) belongs to the whole programme, to no clip.
* **Penalty** (neutral: time, boundary, attire) belongs to no clip.
* Total = D + E - Penalty from the rounded parts. The team's latent skill shapes the element values
  chosen, the fault rates, the synchronisation and the artistry, not perfectly.

Features: each clip's latent (48 dimensions) has a content part (the segment's embedding: element
type, choreography motif, formation or pose; the team's style; fault directions specific to the
element type, landing family, formation; a fall direction; AR(1) noise), a team-motion part (the mean
over the gymnasts of the movement's trajectory at each gymnast's own timing) and a spread part (the
gymnasts' standard deviation around it): a synchronisation fault blurs the mean and raises the spread,
non-linearly. The latent, with a ``tanh`` layer of it, is mapped to ``feature_dim`` by one fixed random
matrix, plus a little isotropic noise.

Per-clip truth: ``difficulty`` (sums to D), ``deduction`` (sums to 10 - E - the artistry deduction),
``contribution`` = difficulty - deduction (sums to Total + Penalty - 10 + artistry), ``element_type``
(-1 off elements) and ``segment`` (:data:`SEGMENTS`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from longaqa.data.generators.latent import FeatureMap, ar1_noise
from longaqa.data.generators.release import (
    DEFAULT_SIZES,
    GenerationSizes,
    JudgedVideo,
    check_class_name,
    write_rg_release,
)

KIND = "teamgym_heldout"
DEFAULT_CLIPS = (28, 36)
FEWEST_CLIPS = 12
"""Opening pose, final pose and room for a few connecting stretches and elements."""

OPENING, CHOREOGRAPHY, FORMATION_CHANGE, FINAL = 0, 1, 2, 8
SEGMENTS = {"opening pose": OPENING, "choreography": CHOREOGRAPHY, "formation change": FORMATION_CHANGE,
            "balance": 3, "jump": 4, "turn": 5, "acrobatic": 6, "lift": 7, "final pose": FINAL}
"""The ``segment`` codes: what each clip shows (3-7: an element of that family)."""


@dataclass(frozen=True)
class Family:
    """A family of group elements and how it is performed."""

    name: str
    segment: int
    types: int
    lowest: int
    """Lowest value, hundredths."""
    highest: int
    lengths: tuple[int, int]
    """Typical element lengths in clips (lowest, highest)."""
    landing: bool
    """Whether the element lands (landing faults and falls on its last clip)."""
    weight: float
    """How often a team picks the family."""


FAMILIES = (
    Family("balance", 3, 4, 20, 80, (2, 3), False, 0.20),
    Family("jump", 4, 5, 20, 100, (1, 2), True, 0.25),
    Family("turn", 5, 3, 20, 80, (1, 2), False, 0.15),
    Family("acrobatic", 6, 6, 30, 140, (1, 3), True, 0.30),
    Family("lift", 7, 2, 40, 80, (2, 3), True, 0.10),
)
REQUIRED = ("balance", "jump", "turn", "acrobatic")
"""Composition requirements: a counted element of each family, worth ``REQUIREMENT`` each."""
REQUIREMENT = 50
COUNTED = 8
PER_FAMILY = 3
FALL = 50
"""A fall costs 0.5 per gymnast (a lift's collapse: 0.5)."""
SYNC_STEPS = np.array([0.10, 0.20, 0.35])
"""Timing spread (fractions of a movement) at which a synchronisation fault costs 0.1, 0.2, 0.3."""
FORMATIONS = 6
MOTIFS = 3
CONTENT, MOTION = 24, 12
RANK = CONTENT + 2 * MOTION
HIDDEN = 24


def _fault_step(count: int, team_size: int) -> int:
    """The ladder step (1-3) of a fault shown by ``count`` gymnasts (0: none)."""
    if count <= 0:
        return 0
    return 1 if count == 1 else 2 if count <= team_size / 3 else 3


def _panel(step: int, rng: np.random.Generator, misjudge: float = 0.12) -> int:
    """The E panel's deduction (hundredths) for a fault of true ladder step ``step`` (1-3): four judges
    each see it a step lower or higher with probability ``misjudge`` each; the mean of the middle two."""
    slips = rng.choice([-1, 0, 1], size=4, p=[misjudge, 1 - 2 * misjudge, misjudge])
    seen = np.sort(10 * np.clip(step + slips, 0, 3))
    return int((seen[1] + seen[2]) // 2)


@dataclass
class Team:
    """One video's team: latent skill, synchronisation, size and style."""

    skill: float
    sync: float
    size: int
    base_spread: float
    """Timing spread on clips without a synchronisation fault (below the first step)."""
    offsets: np.ndarray
    """(size,) each gymnast's standardised timing tendency."""


@dataclass
class Segment:
    """A stretch of clips ``[start, end)`` showing one thing (``code``: :data:`SEGMENTS`)."""

    code: int
    start: int
    end: int
    element_type: int = -1
    formation: int = 0
    motif: int = 0


@dataclass
class ClipRecord:
    """What happens on each clip (true sizes for the features, the panel's deductions for E)."""

    spread: np.ndarray
    form: np.ndarray
    landing: np.ndarray
    falls: np.ndarray
    formation_error: np.ndarray
    deduction: np.ndarray
    """Hundredths, integer."""

    @classmethod
    def empty(cls, length: int) -> ClipRecord:
        """Nothing happened yet on ``length`` clips."""
        return cls(*(np.zeros(length) for _ in range(5)), deduction=np.zeros(length, dtype=np.int64))


class TeamGymSport:
    """One fixed sport per seed: element types, values and lengths, embeddings, fault directions,
    movement trajectories and the feature map."""

    def __init__(self, seed: int, feature_dim: int):
        rng = np.random.default_rng([seed, 0])
        self.family = np.concatenate([np.full(f.types, i) for i, f in enumerate(FAMILIES)])
        values = [rng.permutation(np.round(np.linspace(f.lowest, f.highest, f.types) / 10) * 10) for f in FAMILIES]
        self.value = np.concatenate(values).astype(np.int64)
        self.typical_length = np.array([rng.integers(FAMILIES[k].lengths[0], FAMILIES[k].lengths[1] + 1)
                                        for k in self.family])
        types = len(self.value)
        scale = 2.0 / np.sqrt(CONTENT)
        self.type_embedding = rng.normal(size=(types, CONTENT)) * scale
        self.motif_embedding = rng.normal(size=(MOTIFS, CONTENT)) * scale
        self.formation_embedding = rng.normal(size=(FORMATIONS, CONTENT)) * scale
        self.pose_embedding = rng.normal(size=(2, CONTENT)) * scale
        self.form_direction = _unit(rng.normal(size=(types + 1, CONTENT)))  # the last: connecting movement
        self.landing_direction = _unit(rng.normal(size=(len(FAMILIES), CONTENT)))
        self.formation_direction = _unit(rng.normal(size=(FORMATIONS, CONTENT)))
        self.fall_direction = _unit(rng.normal(size=CONTENT))
        # trajectories of movements in the motion space: types, motifs, formation travel, poses
        movements = types + MOTIFS + 2
        self.amplitude = rng.normal(size=(movements, MOTION)) * 2.0 / np.sqrt(MOTION)
        self.frequency = rng.integers(1, 4, size=(movements, MOTION)).astype(float)
        self.phase = rng.uniform(size=(movements, MOTION))
        self.hidden = rng.normal(size=(RANK, HIDDEN)) * 1.5 / np.sqrt(RANK)
        self.feature_map = FeatureMap(rng, RANK + HIDDEN, feature_dim)
        self.standardised = (self.value - self.value.mean()) / self.value.std()

    def movement(self, segment: Segment) -> int:
        """The index of the segment's movement trajectory."""
        types = len(self.value)
        if segment.element_type >= 0:
            return segment.element_type
        if segment.code == CHOREOGRAPHY:
            return types + segment.motif
        return types + MOTIFS + (0 if segment.code == FORMATION_CHANGE else 1)

    def choose_type(self, team: Team, used: np.ndarray, rng: np.random.Generator) -> int:
        """An element type: the family by the team's habits (required families not yet shown preferred),
        then a type near the team's level, rarely one already performed."""
        weights = np.array([f.weight for f in FAMILIES])
        shown = np.bincount(self.family[used > 0], minlength=len(FAMILIES))
        for i, f in enumerate(FAMILIES):
            if f.name in REQUIRED and shown[i] == 0:
                weights[i] *= 3.0
        family = int(rng.choice(len(FAMILIES), p=weights / weights.sum()))
        members = np.flatnonzero(self.family == family)
        level = np.exp(-0.5 * ((self.standardised[members] - 0.7 * team.skill) / 0.6) ** 2)
        level = (level + 1e-3) * np.where(used[members] > 0, 0.15, 1.0)
        return int(members[rng.choice(len(members), p=level / level.sum())])

    def element_length(self, element_type: int, rng: np.random.Generator) -> int:
        """Clips of one performance of the type: its typical length, one more or less now and then (1-3)."""
        return int(np.clip(self.typical_length[element_type] + rng.choice([-1, 0, 1], p=[0.2, 0.6, 0.2]), 1, 3))

    def team(self, rng: np.random.Generator) -> Team:
        """A video's team: skill drives the values chosen, the fault rates and the artistry; the team's
        synchronisation follows it, not perfectly."""
        skill = float(np.clip(rng.normal(), -2.5, 2.5))
        sync = 0.7 * skill + 0.71 * float(rng.normal())
        size = int(rng.integers(6, 13))
        base_spread = float(np.clip(0.045 - 0.012 * sync + 0.008 * rng.normal(), 0.02, 0.07))
        return Team(skill, sync, size, base_spread, rng.normal(size=size))

    def routine(self, name: str, length: int, rng: np.random.Generator) -> JudgedVideo:
        """One judged programme of ``length`` clips."""
        team = self.team(rng)
        segments = plan_routine(self, team, length, rng)
        record = ClipRecord.empty(length)
        credited = [judge_segment(self, team, segment, record, rng) for segment in segments]
        cap_execution(record.deduction)
        difficulty, d_mark = self.difficulty(segments, credited, length)
        artistry = artistry_deduction(team, int(record.deduction.sum()), rng)
        penalty = neutral_penalty(rng)
        features = self.features(segments, record, team, rng)
        deduction = record.deduction / 100
        difficulty = difficulty / 100
        segment = np.zeros(length)
        element_type = np.full(length, -1.0)
        for s in segments:
            segment[s.start:s.end] = s.code
            element_type[s.start:s.end] = s.element_type
        return JudgedVideo(
            name=name, features=features,
            truth={"difficulty": difficulty, "deduction": deduction, "contribution": difficulty - deduction,
                   "element_type": element_type, "segment": segment},
            marks={"difficulty": d_mark, "execution": 1000 - int(record.deduction.sum()) - artistry,
                   "penalty": penalty},
            video={"skill": team.skill, "sync": team.sync, "team_size": float(team.size),
                   "artistry": artistry / 100, "base_spread": team.base_spread})

    def difficulty(self, segments: list[Segment], credited: list[bool], length: int) -> tuple[np.ndarray, int]:
        """Per-clip difficulty (hundredths, float) and D (hundredths): the 8 highest credited values, each
        type once and at most ``PER_FAMILY`` per family, plus ``REQUIREMENT`` per family in ``REQUIRED``
        with a counted element, located on the first such element of the programme."""
        elements = [s for s, ok in zip(segments, credited, strict=True) if ok and s.element_type >= 0]
        counted: list[Segment] = []
        per_family = np.zeros(len(FAMILIES), dtype=int)
        for s in sorted(elements, key=lambda s: (-self.value[s.element_type], s.start)):
            family = self.family[s.element_type]
            taken = any(c.element_type == s.element_type for c in counted)
            if len(counted) < COUNTED and not taken and per_family[family] < PER_FAMILY:
                counted.append(s)
                per_family[family] += 1
        difficulty = np.zeros(length)
        total = 0
        for s in counted:
            difficulty[s.start:s.end] += self.value[s.element_type] / (s.end - s.start)
            total += int(self.value[s.element_type])
        for name in REQUIRED:
            family = [f.name for f in FAMILIES].index(name)
            first = sorted((s for s in counted if self.family[s.element_type] == family), key=lambda s: s.start)
            if first:
                difficulty[first[0].start:first[0].end] += REQUIREMENT / (first[0].end - first[0].start)
                total += REQUIREMENT
        return difficulty, total

    def embedding(self, segment: Segment) -> np.ndarray:
        """The content embedding of what the segment shows."""
        if segment.element_type >= 0:
            return self.type_embedding[segment.element_type]
        if segment.code == CHOREOGRAPHY:
            return self.motif_embedding[segment.motif]
        if segment.code == FORMATION_CHANGE:
            return self.formation_embedding[segment.formation]
        return self.pose_embedding[0 if segment.code == OPENING else 1]

    def team_motion(self, segment: Segment, record: ClipRecord, team: Team,
                    rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """(clips, MOTION) twice: the mean over the gymnasts of the movement's trajectory at each one's
        own timing, and the gymnasts' standard deviation around it (the timing spread shows in both)."""
        m = self.movement(segment)
        clips = segment.end - segment.start
        mean, spread = np.zeros((clips, MOTION)), np.zeros((clips, MOTION))
        for i, c in enumerate(range(segment.start, segment.end)):
            jitter = 0.6 * team.offsets + 0.8 * rng.normal(size=team.size)
            timing = (i + 0.5) / clips + record.spread[c] * jitter  # (gymnasts,)
            angle = 2 * np.pi * (self.frequency[m] * timing[:, None] + self.phase[m])
            trajectory = self.amplitude[m] * np.cos(angle)  # (gymnasts, MOTION)
            mean[i], spread[i] = trajectory.mean(axis=0), 3.0 * trajectory.std(axis=0)
        return mean, spread

    def faults_shown(self, segment: Segment, record: ClipRecord) -> np.ndarray:
        """(clips, CONTENT): the true faults on the segment's clips along their own directions: form
        (the element type's, or connecting movement's), landing (the family's), falls, formation."""
        span = slice(segment.start, segment.end)
        form = self.form_direction[segment.element_type]  # -1: connecting movement
        shown = 2.0 * np.sqrt(record.form[span])[:, None] * form
        if segment.element_type >= 0:
            landing = self.landing_direction[self.family[segment.element_type]]
            shown += 2.0 * np.sqrt(record.landing[span])[:, None] * landing
        shown += 1.5 * np.log1p(record.falls[span])[:, None] * self.fall_direction
        shown += 0.8 * record.formation_error[span][:, None] * self.formation_direction[segment.formation]
        return shown

    def features(self, segments: list[Segment], record: ClipRecord, team: Team,
                 rng: np.random.Generator) -> np.ndarray:
        """(T, F) float32 features of a judged programme."""
        length = len(record.spread)
        content = np.zeros((length, CONTENT))
        motion, spread = np.zeros((length, MOTION)), np.zeros((length, MOTION))
        for segment in segments:
            span = slice(segment.start, segment.end)
            content[span] = self.embedding(segment) + self.faults_shown(segment, record)
            motion[span], spread[span] = self.team_motion(segment, record, team, rng)
        style = rng.normal(size=CONTENT) / np.sqrt(CONTENT)
        content += style + ar1_noise(rng, length, CONTENT, 0.8) * 0.8 / np.sqrt(CONTENT)
        motion += ar1_noise(rng, length, MOTION, 0.5) * 0.1 / np.sqrt(MOTION)
        spread += ar1_noise(rng, length, MOTION, 0.5) * 0.1 / np.sqrt(MOTION)
        latent = np.concatenate([content, motion, spread], axis=1)  # (T, RANK)
        hidden = np.tanh(latent @ self.hidden)  # (T, HIDDEN): the non-linear part of the map
        return self.feature_map.features(np.concatenate([latent, hidden], axis=1), rng, isotropic_std=0.05)


def _unit(vectors: np.ndarray) -> np.ndarray:
    """Each row (or the vector) scaled to unit length."""
    return vectors / np.linalg.norm(vectors, axis=-1, keepdims=True)


def _connector(start: int, end: int, formation: int, rng: np.random.Generator) -> Segment:
    """A connecting stretch: a formation change into a new formation (about a third) or choreography."""
    if rng.random() < 0.35:
        new = (formation + int(rng.integers(1, FORMATIONS))) % FORMATIONS
        return Segment(FORMATION_CHANGE, start, end, formation=new)
    return Segment(CHOREOGRAPHY, start, end, formation=formation, motif=int(rng.integers(MOTIFS)))


def plan_routine(sport: TeamGymSport, team: Team, length: int, rng: np.random.Generator) -> list[Segment]:
    """The programme's segments, in order, covering ``length`` clips: opening pose, connecting stretches
    (1-2 clips) alternating with elements (1-3 clips), a last connecting stretch, final pose."""
    formation = int(rng.integers(FORMATIONS))
    segments = [Segment(OPENING, 0, 1, formation=formation)]
    used = np.zeros(len(sport.value))
    t, end = 1, length - 1
    while end - t >= 3:
        connector = _connector(t, t + min(int(rng.choice([1, 2], p=[0.6, 0.4])), end - t - 2), formation, rng)
        segments.append(connector)
        formation, t = connector.formation, connector.end
        kind = sport.choose_type(team, used, rng)
        used[kind] += 1
        size = min(sport.element_length(kind, rng), end - t - 1)
        segments.append(Segment(FAMILIES[sport.family[kind]].segment, t, t + size, kind, formation))
        t += size
    connector = _connector(t, end, formation, rng)
    segments.append(connector)
    segments.append(Segment(FINAL, end, length, formation=connector.formation))
    return segments


def _synchronisation(record: ClipRecord, team: Team, segment: Segment, rate: float,
                     rng: np.random.Generator) -> None:
    """Each clip's timing spread: the team's base spread, or (with probability ``rate``) a fault whose
    spread falls in its step's band of ``SYNC_STEPS``, deducted on that clip."""
    for c in range(segment.start, segment.end):
        record.spread[c] = team.base_spread * rng.uniform(0.7, 1.3)
        if rng.random() < rate:
            step = int(rng.choice([1, 2, 3], p=[0.6, 0.3, 0.1]))
            high = SYNC_STEPS[step] if step < len(SYNC_STEPS) else 0.5
            record.spread[c] = rng.uniform(SYNC_STEPS[step - 1], high)
            record.deduction[c] += _panel(step, rng)


def _form(record: ClipRecord, team: Team, segment: Segment, chance: float, rng: np.random.Generator) -> None:
    """Form faults on each clip: each gymnast with probability ``chance``; deducted by how many."""
    for c in range(segment.start, segment.end):
        count = int(rng.binomial(team.size, chance))
        record.form[c] = count / team.size
        if count:
            record.deduction[c] += _panel(_fault_step(count, team.size), rng)


def _formation_error(record: ClipRecord, segment: Segment, chance: float, rng: np.random.Generator) -> None:
    """Now and then a spacing or lines error (0.1 or 0.2) on one clip of the segment."""
    if rng.random() < chance:
        c = int(rng.integers(segment.start, segment.end))
        step = int(rng.choice([1, 2], p=[0.7, 0.3]))
        record.formation_error[c] = step * rng.uniform(0.8, 1.2)
        record.deduction[c] += _panel(step, rng)


def _landing(sport: TeamGymSport, record: ClipRecord, team: Team, segment: Segment,
             rng: np.random.Generator) -> int:
    """Falls and landing faults on the element's last clip; returns how many gymnasts failed it
    (a lift that collapses fails the whole team)."""
    last, hard = segment.end - 1, sport.standardised[segment.element_type]
    if FAMILIES[sport.family[segment.element_type]].name == "lift":
        collapse = rng.random() < np.clip(0.04 * np.exp(0.5 * hard - 0.6 * team.skill), 0.005, 0.4)
        falls, failed = int(collapse), team.size if collapse else 0
    else:
        falls = int(rng.binomial(team.size, np.clip(0.006 * np.exp(0.6 * hard - 0.6 * team.skill), 0.001, 0.2)))
        failed = falls
    record.falls[last] = falls
    record.deduction[last] += FALL * falls
    steps = int(rng.binomial(team.size - falls, np.clip(0.05 * np.exp(0.3 * hard - 0.5 * team.skill), 0.002, 0.5)))
    record.landing[last] = steps / team.size
    if steps:
        record.deduction[last] += _panel(_fault_step(steps, team.size), rng)
    return failed


def judge_segment(sport: TeamGymSport, team: Team, segment: Segment, record: ClipRecord,
                  rng: np.random.Generator) -> bool:
    """Record the segment's faults on its clips; returns whether an element is credited (performed by
    all or all but one gymnast); connecting segments return False."""
    sync = np.exp(-0.6 * team.sync)
    if segment.element_type < 0:
        rate = {OPENING: 0.05, FINAL: 0.05, CHOREOGRAPHY: 0.12, FORMATION_CHANGE: 0.10}[segment.code]
        _synchronisation(record, team, segment, min(rate * sync, 0.6), rng)
        if segment.code in (CHOREOGRAPHY, FORMATION_CHANGE):
            _form(record, team, segment, float(np.clip(0.012 * np.exp(-0.5 * team.skill), 0.001, 0.2)), rng)
        if segment.code == FORMATION_CHANGE:
            _formation_error(record, segment, min(0.2 * np.exp(-0.5 * team.skill), 0.7), rng)
        return False
    hard = sport.standardised[segment.element_type]
    _synchronisation(record, team, segment, min(0.10 * sync, 0.6), rng)
    _form(record, team, segment, float(np.clip(0.025 * np.exp(0.35 * hard - 0.5 * team.skill), 0.002, 0.3)), rng)
    _formation_error(record, segment, min(0.12 * np.exp(-0.5 * team.skill), 0.6), rng)
    failed = 0
    if FAMILIES[sport.family[segment.element_type]].landing:
        failed = _landing(sport, record, team, segment, rng)
    return failed <= 1


def cap_execution(deduction: np.ndarray) -> None:
    """E cannot go below 0: located deductions beyond 10 points go unpunished, the last clips' first."""
    excess = int(deduction.sum()) - 1000
    for clip in range(len(deduction) - 1, -1, -1):
        if excess <= 0:
            break
        taken = min(excess, int(deduction[clip]))
        deduction[clip] -= taken
        excess -= taken


def artistry_deduction(team: Team, located: int, rng: np.random.Generator) -> int:
    """The whole programme's composition / artistry deduction (music, expression, variety of the floor
    use), hundredths in tenths of a point, 0-1.0, never taking E below 0."""
    tenths = int(np.clip(np.round(3.0 - 1.5 * team.skill + 1.2 * rng.normal()), 0, 10))
    return min(10 * tenths, max(0, 1000 - located))


def neutral_penalty(rng: np.random.Generator) -> int:
    """Neutral penalties (hundredths), belonging to no clip: time, boundary, attire."""
    time = int(rng.choice([0, 10, 30], p=[0.9, 0.07, 0.03]))
    boundary = 10 * int(rng.binomial(2, 0.05))
    attire = 30 if rng.random() < 0.02 else 0
    return time + boundary + attire


def generate(seed: int, count: int, feature_dim: int, min_clips: int, max_clips: int,
             class_name: str) -> Iterator[JudgedVideo]:
    """``count`` programmes of one sport, named ``<class_name>_001`` ..."""
    sport = TeamGymSport(seed, feature_dim)
    rng = np.random.default_rng([seed, 1])
    for i in range(1, count + 1):
        length = int(rng.integers(min_clips, max_clips + 1))
        yield sport.routine(f"{class_name}_{i:03d}", length, rng)


def write_teamgym_heldout(root: str | Path, sizes: GenerationSizes = DEFAULT_SIZES) -> Path:
    """Write ``sizes.num_train + sizes.num_test`` programmes in the RG layout plus ``truth/``; returns ``root``."""
    min_clips, max_clips = sizes.clip_range(KIND, DEFAULT_CLIPS, FEWEST_CLIPS)
    check_class_name(sizes.class_name)
    videos = generate(sizes.seed, sizes.num_train + sizes.num_test, sizes.feature_dim, min_clips, max_clips,
                      sizes.class_name)
    return write_rg_release(root, videos, sizes.num_train)
