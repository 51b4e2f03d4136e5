"""``diving_heldout``: a diver's whole series in an individual diving final, World Aquatics-like (held out).

The rules, as generated here:

* A video is one diver's series in one of four individual finals, drawn per video: women's 3 m
  springboard or 10 m platform (5 dives, each from a different group) and men's 3 m springboard (6 dives:
  the five springboard groups plus one group repeated with another dive) or 10 m platform (6 dives, one
  from each of the six groups). A men's series needs at least 30 clips; a shorter video is a women's.
* Dive groups: 1 forward, 2 back, 3 reverse, 4 inward, 5 twisting, 6 armstand (platform only). A dive is
  its group, half-somersaults, half-twists and position (A straight, B pike, C tuck, D free). Its
  **degree of difficulty** (DD) follows a simplified table in the spirit of the World Aquatics one:
  somersaults (faster beyond 3.5), position, twists, the group's take-off, board height.
  Each seed draws a repertoire of up to three dives per group and apparatus (the element types).
* Divers pick, per group, dives whose DD is near their level (better divers dive harder).
* **Judging**: seven judges each award 0-10 in half points; the two highest and two lowest awards are
  cancelled (with five judges: one of each) and the dive scores DD x the sum of the three remaining
  awards (the current rule; the older x 0.6 convention over five awards is not used). Awards follow the
  dive's true quality, a combination of four phase qualities (approach, take-off, flight, entry; the
  entry weighs most, and one bad phase drags the whole dive), plus per-judge bias and noise.
* Now and then (about 1 dive in 100, more for hard dives and weaker divers) a dive fails: every judge
  awards 0 and it scores 0.
* Total = the sum of the dives' scores (exact, in hundredths).

Per-clip truth (``truth/<name>.npz``): ``contribution`` (each dive's score over its judged clips, the
approach to the entry, in the judges' phase weights, each phase's share evenly over its clips: sums to
the total), ``difficulty`` (the dive's DD spread the same way, so contribution = difficulty x the sum of
the three counted awards on every clip; sums to the series' summed DD, no label column),
``element_type`` (the dive type, -1 off dives) and ``segment`` (:data:`SEGMENTS`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from longaqa.data.generators.latent import FeatureMap, ar1_noise, orthonormal_directions
from longaqa.data.generators.release import (
    DEFAULT_SIZES,
    GenerationSizes,
    JudgedVideo,
    write_generic_release,
)

KIND = "diving_heldout"
DEFAULT_CLIPS = (28, 36)
"""A series of 5-6 dives cut together: each dive's walk, approach, flight, entry and surfacing."""
FEWEST_CLIPS = 25
"""A women's series of five dives at its shortest: approach, take-off, flight, entry, surfacing each."""
PREFIX = "diving"

SEGMENTS = {"walk": 0, "approach": 1, "take-off": 2, "flight": 3, "entry": 4, "surface": 5, "wait": 6}
"""``segment`` codes: walking out, stance or running approach (the handstand for armstand dives), the
take-off, the flight, the entry, surfacing and leaving the pool, waiting for the next dive."""
WALK, APPROACH, TAKE_OFF, FLIGHT, ENTRY, SURFACE, WAIT = range(7)
PHASES = (APPROACH, TAKE_OFF, FLIGHT, ENTRY)
PHASE_WEIGHTS = np.array([0.15, 0.20, 0.30, 0.35])
"""How much each judged phase weighs in the dive's quality; the dive's score is spread in these shares."""
JUDGES = 7
COUNTED = 3
"""Awards that count after cancelling the highest and the lowest (two each with 7 judges, one with 5)."""

SPRINGBOARD, PLATFORM = 0, 1
EVENTS = (
    # name, apparatus, dives, the DD a diver of average skill aims at
    ("women's 3 m springboard", SPRINGBOARD, 5, 2.95),
    ("women's 10 m platform", PLATFORM, 5, 3.0),
    ("men's 3 m springboard", SPRINGBOARD, 6, 3.4),
    ("men's 10 m platform", PLATFORM, 6, 3.4),
)
MEN_FEWEST = 30
"""A men's series (six dives) needs this many clips."""

GROUP_ADJUST = {1: 0.0, 2: 0.5, 3: 0.6, 4: 0.5, 6: 0.7}
"""DD added for the group's take-off (back, reverse and inward take off standing backwards or inwards)."""
CANDIDATES = {
    # group: (base group for twisting dives, half-somersaults, half-twists, position); platform-only marked
    1: [(1, 5, 0, "B"), (1, 5, 0, "C"), (1, 7, 0, "B"), (1, 7, 0, "C"), (1, 9, 0, "C"), (1, 9, 0, "B")],
    2: [(2, 5, 0, "B"), (2, 5, 0, "C"), (2, 7, 0, "B"), (2, 7, 0, "C"), (2, 3, 0, "A")],
    3: [(3, 5, 0, "B"), (3, 5, 0, "C"), (3, 7, 0, "B"), (3, 7, 0, "C"), (3, 3, 0, "A")],
    4: [(4, 5, 0, "B"), (4, 5, 0, "C"), (4, 7, 0, "B"), (4, 7, 0, "C"), (4, 3, 0, "B")],
    5: [(1, 5, 2, "B"), (1, 5, 4, "B"), (1, 5, 6, "B"), (2, 5, 3, "B"), (2, 5, 5, "B"), (2, 3, 5, "D"),
        (3, 3, 5, "D"), (3, 3, 7, "D"), (3, 5, 3, "B")],
    6: [(2, 6, 0, "C"), (2, 6, 0, "B"), (3, 6, 0, "C"), (1, 4, 0, "B"), (2, 4, 3, "D"), (2, 4, 5, "D")],
}
REPERTOIRE_PER_GROUP = 3
POSITIONS = "ABCD"
RANK = 56
HIDDEN = 24
"""Width of the feature map's non-linear (tanh) part."""


@dataclass(frozen=True)
class DiveType:
    """One dive on one apparatus: its code (e.g. ``5154B``), DD in tenths and flight length in clips."""

    code: str
    apparatus: int
    group: int
    half_somersaults: int
    half_twists: int
    position: str
    dd_tenths: int
    flight_clips: int


def degree_of_difficulty(group: int, base: int, half_soms: int, half_twists: int, position: str,
                         apparatus: int) -> int:
    """DD in tenths from a simplified table: somersaults, position, twists, the group's take-off, height."""
    dd = 0.45 + 0.32 * half_soms + 0.03 * max(0, half_soms - 5) ** 2
    extra = max(0, half_soms - 4)
    dd += {"A": 0.3 + 0.1 * extra, "B": 0.1 + 0.05 * extra, "C": 0.0, "D": 0.0}[position]
    adjust = GROUP_ADJUST[6 if group == 6 else base]
    dd += 0.26 * half_twists + (adjust / 2 if group == 5 else adjust)
    if apparatus == PLATFORM and group == 1:
        dd -= 0.1
    return int(np.clip(round(dd * 10), 12, 41))


def dive_code(group: int, base: int, half_soms: int, half_twists: int, position: str) -> str:
    """The dive's number and letter as on a dive sheet: ``107B``, ``5154B``, ``626C``, ``6245D``."""
    if group == 5:
        return f"5{base}{half_soms}{half_twists}{position}"
    if group == 6:
        return f"6{base}{half_soms}{half_twists}{position}" if half_twists else f"6{base}{half_soms}{position}"
    return f"{group}0{half_soms}{position}"


def catalogue(apparatus: int) -> dict[int, list[DiveType]]:
    """Every candidate dive of an apparatus, by group (4.5 somersaults and armstand on the platform only)."""
    groups = (1, 2, 3, 4, 5, 6) if apparatus == PLATFORM else (1, 2, 3, 4, 5)
    out: dict[int, list[DiveType]] = {}
    for group in groups:
        out[group] = []
        for base, soms, twists, position in CANDIDATES[group]:
            if apparatus == SPRINGBOARD and soms >= 9 and position == "B":
                continue  # 109B: a platform dive
            flight = 1 + apparatus + int(soms >= 9 or twists >= 6)
            dd = degree_of_difficulty(group, base, soms, twists, position, apparatus)
            out[group].append(DiveType(dive_code(group, base, soms, twists, position), apparatus, group, soms,
                                       twists, position, dd, min(flight, 3)))
    return out


def panel_halves(awards_halves: np.ndarray) -> int:
    """The panel's sum in half points: the three middle awards of 7 (or 5) judges' awards in half points."""
    awards = np.sort(np.asarray(awards_halves, dtype=np.int64))
    if len(awards) not in (5, 7):
        raise ValueError(f"a diving panel has 5 or 7 judges, got {len(awards)}")
    cancelled = (len(awards) - COUNTED) // 2
    return int(awards[cancelled: cancelled + COUNTED].sum())


def dive_score_hundredths(dd_tenths: int, awards_halves: np.ndarray) -> int:
    """DD x the sum of the counted awards, in hundredths of a point (exact: 0.1 x 0.5 = 0.05)."""
    return dd_tenths * panel_halves(awards_halves) * 5


@dataclass
class Dive:
    """One performed dive: its type index, phase qualities, awards (half points) and score (hundredths)."""

    kind: int
    quality: np.ndarray  # (4,) approach, take-off, flight, entry
    failed: bool
    awards: np.ndarray  # (JUDGES,) half points
    score: int
    spans: dict[int, tuple[int, int]] = field(default_factory=dict)  # phase segment -> (start, end) clips


def _softplus(x: np.ndarray | float) -> np.ndarray:
    """log(1 + exp(x)), without overflow."""
    return np.logaddexp(0.0, x)


class DivingSport:
    """One fixed sport per seed: the repertoire of dive types, embeddings, quality directions, feature map."""

    def __init__(self, seed: int, feature_dim: int):
        rng = np.random.default_rng([seed, 0])
        self.types: list[DiveType] = []
        for apparatus in (SPRINGBOARD, PLATFORM):
            for dives in catalogue(apparatus).values():
                picked = rng.choice(len(dives), size=min(REPERTOIRE_PER_GROUP, len(dives)), replace=False)
                self.types.extend(dives[i] for i in sorted(picked))
        basis = orthonormal_directions(rng, RANK)
        self.approach_direction, self.height_direction, self.distance_direction = basis[0], basis[1], basis[2]
        self.flight_direction = dict(zip(POSITIONS, basis[3:7]))  # flight quality shows per position
        self.angle_plane, self.splash_direction, self.crash_direction = basis[7:9], basis[9], basis[10]
        self.content = basis[11:]
        self.type_embedding = self.embed(rng, len(self.types))
        self.segment_embedding = self.embed(rng, len(SEGMENTS))
        self.group_embedding = self.embed(rng, 7)
        self.position_embedding = dict(zip(POSITIONS, self.embed(rng, len(POSITIONS))))
        self.apparatus_embedding = self.embed(rng, 2)
        self.twist_direction = self.embed(rng, 1)[0]
        self.mix = rng.normal(size=(RANK, HIDDEN)) * 1.5 / np.sqrt(RANK)
        self.feature_map = FeatureMap(rng, RANK + HIDDEN, feature_dim)

    def embed(self, rng: np.random.Generator, count: int) -> np.ndarray:
        """``count`` random vectors in the content subspace, of norm about 2."""
        return rng.normal(size=(count, len(self.content))) @ self.content * 2.0 / np.sqrt(len(self.content))

    def choose_dives(self, event: int, target: float, rng: np.random.Generator) -> list[int]:
        """The series' dive types in the order performed: one per group (men's springboard repeats one)."""
        _, apparatus, count, _ = EVENTS[event]
        groups = sorted({t.group for t in self.types if t.apparatus == apparatus})
        chosen = [int(g) for g in rng.permutation(groups)[:count]]
        if count > len(chosen):
            chosen.append(int(rng.choice(chosen)))
        picked: list[int] = []
        for group in chosen:
            options = [i for i, t in enumerate(self.types)
                       if t.apparatus == apparatus and t.group == group and i not in picked]
            options = options or [i for i, t in enumerate(self.types) if t.apparatus == apparatus and t.group == group]
            dd = np.array([self.types[i].dd_tenths / 10 for i in options])
            p = np.exp(-0.5 * ((dd - target) / 0.3) ** 2) + 1e-9
            picked.append(options[int(rng.choice(len(options), p=p / p.sum()))])
        return [picked[i] for i in rng.permutation(len(picked))]

    def judge(self, kind: int, aptitude: np.ndarray, skill: float, target: float, bias: np.ndarray,
              rng: np.random.Generator) -> Dive:
        """Perform and judge one dive: phase qualities, a rare failure, seven judges' awards, the score."""
        dd = self.types[kind].dd_tenths / 10
        strain = dd - target
        quality = aptitude + rng.normal(0, 0.5) + rng.normal(0, 0.45, len(PHASES)) - 0.8 * strain
        failed = bool(rng.random() < 1 / (1 + np.exp(4.7 + 0.5 * skill - 1.5 * strain)))
        if failed:  # a slip on the take-off or lost rotation: a crash into the water
            quality[2:] = -3.5
            awards = np.zeros(JUDGES, dtype=np.int64)
        else:
            combined = PHASE_WEIGHTS @ quality - 0.4 * _softplus(-quality.min() - 1.0)
            true_award = 10 / (1 + np.exp(-(1.3 + 0.8 * combined)))
            seen = true_award + bias + rng.normal(0, 0.4, JUDGES)
            awards = np.clip(np.round(2 * seen), 0, 20).astype(np.int64)
        return Dive(kind, quality, failed, awards, dive_score_hundredths(self.types[kind].dd_tenths, awards))

    def layout(self, dives: list[Dive], length: int, rng: np.random.Generator) -> np.ndarray:
        """Fill each dive's ``spans`` and return the ``segment`` code of every clip: per dive, walk,
        approach, take-off, flight, entry, surfacing, wait (walks and waits share the spare clips)."""
        n = len(dives)
        flights = [self.types[d.kind].flight_clips for d in dives]
        approach = [1] * n
        while sum(approach) + sum(flights) + 3 * n > length and max(flights) > 1:
            flights[int(np.argmax(flights))] -= 1  # short videos: the longest flights first lose a clip
        slack = length - (sum(approach) + sum(flights) + 3 * n)
        if slack < 0:
            raise ValueError(f"{n} dives do not fit in {length} clips")
        walks = [min(slack, 1)] + [0] * (n - 1)  # the video opens on the diver walking out
        longer = [i for i, d in enumerate(dives) if _longer_approach(self.types[d.kind])]
        weights = rng.dirichlet(np.r_[np.full(2 * n, 2.0), np.full(len(longer), 3.0)])
        extra = rng.multinomial(slack - walks[0], weights)  # walks, waits, longer approaches
        for slot, i in enumerate(longer):
            approach[i] += int(extra[2 * n + slot])
        segment: list[int] = []
        for i, dive in enumerate(dives):
            segment += [WALK] * (walks[i] + int(extra[i]))
            for phase, clips in zip(PHASES, (approach[i], 1, flights[i], 1)):
                dive.spans[phase] = (len(segment), len(segment) + clips)
                segment += [phase] * clips
            segment += [SURFACE] + [WAIT] * int(extra[n + i])
        return np.array(segment, dtype=np.int64)


def _longer_approach(dive: DiveType) -> bool:
    """Whether the dive's approach may take more than a clip: an armstand's held handstand, or a running
    approach and hurdle on the springboard (forward and reverse take-offs)."""
    take_off = int(dive.code[1]) if dive.group == 5 else dive.group
    return dive.group == 6 or (dive.apparatus == SPRINGBOARD and take_off in (1, 3))


PHASE_GAIN = {APPROACH: 0.6, TAKE_OFF: 0.8, FLIGHT: 1.0, ENTRY: 0.5}
"""How strongly each phase shows the dive type's appearance."""


def _series(sport: DivingSport, name: str, length: int, rng: np.random.Generator) -> JudgedVideo:
    """One diver's series of ``length`` clips: event, dives, judging, layout, truth and features."""
    event = int(rng.integers(len(EVENTS) if length >= MEN_FEWEST else 2))
    _, apparatus, _, base_dd = EVENTS[event]
    skill = float(np.clip(rng.normal(), -2.5, 2.5))
    target = base_dd + 0.25 * skill
    aptitude = 0.5 * skill + 0.45 * rng.normal(size=len(PHASES))  # the diver's strong and weak phases
    bias = rng.normal(0, 0.2, JUDGES)  # each judge's leniency over the series
    dives = [sport.judge(kind, aptitude, skill, target, bias, rng) for kind in sport.choose_dives(event, target, rng)]
    segment = sport.layout(dives, length, rng)
    features = _features(sport, dives, segment, apparatus, rng)
    return JudgedVideo(
        name=name,
        features=features,
        truth=_truth(sport, dives, segment),
        marks={"total": int(sum(d.score for d in dives))},
        video={"skill": skill, "event": float(event), "dives": float(len(dives)),
               "failed": float(sum(d.failed for d in dives)),
               "dd_sum": sum(sport.types[d.kind].dd_tenths for d in dives) / 10},
    )


def _truth(sport: DivingSport, dives: list[Dive], segment: np.ndarray) -> dict[str, np.ndarray]:
    """Per-clip truth: each dive's DD and score over its judged clips in the phase weights."""
    length = len(segment)
    element_type = np.full(length, -1.0)
    difficulty, contribution = np.zeros(length), np.zeros(length)
    for dive in dives:
        dd = sport.types[dive.kind].dd_tenths / 10
        counted = panel_halves(dive.awards) / 2  # the sum of the three counted awards, in points
        for weight, phase in zip(PHASE_WEIGHTS, PHASES):
            start, end = dive.spans[phase]
            difficulty[start:end] = dd * weight / (end - start)
            contribution[start:end] = dd * weight / (end - start) * counted
            element_type[start:end] = dive.kind
    return {"contribution": contribution, "difficulty": difficulty, "element_type": element_type,
            "segment": segment.astype(np.float64)}


def _features(sport: DivingSport, dives: list[Dive], segment: np.ndarray, apparatus: int,
              rng: np.random.Generator) -> np.ndarray:
    """``(T, F)`` features: segment and type appearance, the diver's style, how each phase went, AR(1)
    noise, through a map with a non-linear (tanh) part."""
    length = len(segment)
    latent = sport.segment_embedding[segment] + sport.embed(rng, 1)[0] + sport.apparatus_embedding[apparatus]
    for dive in dives:
        _show_dive(sport, dive, latent, rng)
    latent += ar1_noise(rng, length, RANK, 0.8) * 0.8 / np.sqrt(RANK)
    wide = np.concatenate([latent, np.tanh(latent @ sport.mix)], axis=1)
    return sport.feature_map.features(wide, rng, isotropic_std=0.05)


def _show_dive(sport: DivingSport, dive: Dive, latent: np.ndarray, rng: np.random.Generator) -> None:
    """Add one dive's appearance and its phases' execution to ``latent`` (in place)."""
    kind = sport.types[dive.kind]
    q = dive.quality
    for phase, (start, end) in dive.spans.items():
        latent[start:end] += PHASE_GAIN[phase] * sport.type_embedding[dive.kind]
    start, end = dive.spans[APPROACH]
    latent[start:end] += sport.group_embedding[kind.group] + 0.6 * np.tanh(q[0]) * sport.approach_direction
    start, end = dive.spans[TAKE_OFF]
    distance = rng.normal() * 0.6 * np.exp(-0.5 * q[1])  # too near or too far from the board
    latent[start:end] += (0.7 * sport.group_embedding[kind.group] + 0.5 * q[1] * sport.height_direction
                          + 0.8 * abs(distance) * sport.distance_direction)
    start, end = dive.spans[FLIGHT]
    latent[start:end] += (sport.position_embedding[kind.position] + kind.half_twists / 4 * sport.twist_direction
                          + 0.5 * q[2] * sport.flight_direction[kind.position])
    entry = dive.spans[ENTRY][0]
    angle = rng.choice([-1.0, 1.0]) * 0.9 * float(_softplus(0.5 - q[3]))  # over- or under-rotated
    latent[entry] += 1.2 * (np.cos(angle) * sport.angle_plane[0] + np.sin(angle) * sport.angle_plane[1])
    splash = float(_softplus(-1.5 * q[3] - 0.5))  # a rip entry leaves almost none
    latent[entry] += splash * sport.splash_direction
    latent[entry + 1] += 0.7 * splash * sport.splash_direction  # the splash settles over the surfacing clip
    if dive.failed:
        latent[entry: entry + 2] += 3.0 * sport.crash_direction


def generate(seed: int, count: int, feature_dim: int, min_clips: int, max_clips: int) -> Iterator[JudgedVideo]:
    """``count`` series of one sport, named ``diving_001`` ..."""
    sport = DivingSport(seed, feature_dim)
    rng = np.random.default_rng([seed, 1])
    for i in range(1, count + 1):
        yield _series(sport, f"{PREFIX}_{i:03d}", int(rng.integers(min_clips, max_clips + 1)), rng)


def write_diving_heldout(root: str | Path, sizes: GenerationSizes = DEFAULT_SIZES) -> Path:
    """Write ``sizes.num_train + sizes.num_test`` series in the generic layout (one total per series) plus
    ``truth/``; returns ``root``. The first ``sizes.num_train`` are ``train``; ``class_name`` is not used."""
    min_clips, max_clips = sizes.clip_range(KIND, DEFAULT_CLIPS, FEWEST_CLIPS)
    videos = generate(sizes.seed, sizes.num_train + sizes.num_test, sizes.feature_dim, min_clips, max_clips)
    return write_generic_release(root, videos, sizes.num_train)
