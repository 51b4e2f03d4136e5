"""``surfing_heldout``: WSL-like surfing heats, one surfer's heat per video, in the generic layout.

HELD OUT FROM MODEL DESIGN: people who design the model must not read this module (docs/generators.md
describes what a user may know).

A video is one continuous film of one surfer's heat: paddling out, waiting in the line-up, then waves
ridden, each followed by paddling back and waiting again. The rules, as generated here:

* **Waves**: 3-8 per heat (more in longer heats: at most ``(T - 3) // 4``). A ride is 2-5 clips: the
  take-off, 0-3 manoeuvres (turns and carves, tube rides, aerials; 12 types in three families), and its
  end: a completed finish or a fall (a failed attempt at one more manoeuvre; it earns nothing).
* **A wave's score** (0.0-10.0): what the judges reward (commitment and degree of difficulty, innovation
  and progression, variety, combination of major manoeuvres, speed, power and flow) is built as
  non-negative *credits* per clip: the take-off (commitment, larger in bigger surf); each manoeuvre its
  type's difficulty x a size factor x a sigmoid of its execution (a repeated type within the wave earns
  half: variety); a combination bonus on two consecutive well-executed major manoeuvres (difficulty of
  at least 2.0); a flow credit on every clip ridden (the wave's speed, power and flow); a small credit
  for a completed finish. The wave's true score is ``10 x (1 - exp(-credits / 5))``. Five judges mark it
  to 0.1 (a shared panel impression plus each judge's own noise); the highest and the lowest are dropped
  and the wave scores the mean of the middle three, rounded to 0.01.
* **Heat total** = the best wave + the second-best wave (0-20). Ties go to the earlier wave. About one
  heat in twenty has an interference: the second-best wave counts half (rounded down to 0.01).
* **Conditions**: each heat has a wave size (2-12 ft) and a chop (onshore wind); bigger surf raises the
  credit of take-offs and manoeuvres and favours tube rides, small surf favours aerials, chop lowers
  execution and flow and favours aerials a little.
* **Skill**: a latent per surfer drives the waves chosen (better potential), the manoeuvres tried (near
  the surfer's level), execution, flow and falls; each wave also has its own potential.

Per-clip truth (``truth/<name>.npz``): ``contribution`` (each counted wave's counted score shared over
its clips in proportion to their credits; 0 on uncounted waves and off waves; sums to the total),
``element_type`` (per clip of a wave: 0 take-off, 1-12 the manoeuvre types, 13 completed finish, 14
fall; -1 off waves), ``element`` (the wave's index in the heat, from 0; -1 off waves) and ``segment``
(:data:`SEGMENTS`).

Features: a latent of :data:`RANK` dimensions per clip holds the segment's or manoeuvre type's embedding,
the heat's wave size and chop (every clip), the surfer's style, AR(1) noise (stronger in chop), each
clip's execution *squashed* (tanh) along its own type's direction, a fall direction, and the ride's flow
both as a noisy speed signal and as how smoothly a motion sub-space moves from one ridden clip to the
next. A fixed random map with a tanh hidden layer takes it to ``feature_dim``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from longaqa.data.generators.latent import FeatureMap, ar1_noise, orthonormal_directions
from longaqa.data.generators.release import DEFAULT_SIZES, GenerationSizes, JudgedVideo, write_generic_release

KIND = "surfing_heldout"
DEFAULT_CLIPS = (28, 36)
"""Clips per heat film (32 frames at 25 fps each)."""
FEWEST_CLIPS = 12
"""Three rides of two clips, the paddle out and a wait, a paddle after each ride, and one clip to spare."""
FEWEST_WAVES, MOST_WAVES = 3, 8
JUDGES = 5
INTERFERENCE_RATE = 0.05

SEGMENTS = {"paddle": 0, "wait": 1, "take-off": 2, "manoeuvre": 3, "tube": 4, "aerial": 5, "finish": 6, "fall": 7}
TURNS = ("bottom turn", "cutback", "carve", "snap", "re-entry", "floater", "layback")
TUBES = ("tube ride", "deep tube")
AERIALS = ("air", "air reverse", "full rotation")
MANOEUVRES = (*TURNS, *TUBES, *AERIALS)
ELEMENT_TYPES = ("take-off", *MANOEUVRES, "completed finish", "fall")
TAKE_OFF, FINISH, FALL = 0, len(ELEMENT_TYPES) - 2, len(ELEMENT_TYPES) - 1
FAMILY_SEGMENT = {"turn": SEGMENTS["manoeuvre"], "tube": SEGMENTS["tube"], "aerial": SEGMENTS["aerial"]}
MAJOR = 2.0
"""A manoeuvre of at least this difficulty is major (it can earn the combination bonus)."""
SCORE_SCALE = 5.0
"""true score = 10 x (1 - exp(-credits / SCORE_SCALE))."""
RANK = 48
HIDDEN = 32


@dataclass(frozen=True)
class Ocean:
    """The heat's conditions: they affect every clip's features and every wave's score."""

    size_ft: float
    chop: float

    @property
    def size_z(self) -> float:
        """The wave size, standardised (about -1.4 at 2 ft, +1.7 at 12 ft)."""
        return (float(np.log(self.size_ft)) - 1.49) / 0.58

    @property
    def size_factor(self) -> float:
        """How much bigger surf raises the credit of commitment (take-offs, manoeuvres)."""
        return float((self.size_ft / 5.0) ** 0.4)


@dataclass
class Ride:
    """One wave ridden: per clip its element type, segment, credit and shown execution."""

    types: list[int]
    segments: list[int]
    credit: np.ndarray
    """The judges' criteria as non-negative points per clip; 0 on a fall clip."""
    shown: np.ndarray
    """Execution per clip as the features show it (tanh); 0 on a fall clip."""
    flow: float
    attempted: int
    """On a fall, the element type that was attempted; else -1."""
    marks: np.ndarray
    """The five judges' marks in tenths of a point."""
    score: int
    """Hundredths of a point: the middle three judges' mean."""


def sigmoid(x: float | np.ndarray) -> float | np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def panel_score(marks_tenths: np.ndarray) -> int:
    """A wave's score in hundredths: the mean of the five judges' marks (tenths) without the highest and
    the lowest, rounded to 0.01 (three tenths never average to an exact half hundredth)."""
    middle = int(np.sort(np.asarray(marks_tenths, dtype=np.int64))[1:-1].sum())
    return int(round(middle * 10 / 3))


def counted_scores(scores: list[int], interference: bool) -> list[int]:
    """What each wave adds to the heat total (hundredths): the best and the second-best wave (ties to the
    earlier wave), the second halved and rounded down with an interference; every other wave 0."""
    if len(scores) < 2:
        raise ValueError("a heat needs at least two waves to count two")
    order = sorted(range(len(scores)), key=lambda i: (-scores[i], i))
    counted = [0] * len(scores)
    counted[order[0]] = scores[order[0]]
    counted[order[1]] = scores[order[1]] // 2 if interference else scores[order[1]]
    return counted


def judge_wave(true_score: float, rng: np.random.Generator) -> np.ndarray:
    """Five judges' marks in tenths (0-100): the true score, the panel's shared impression, each judge's
    own noise."""
    impression = rng.normal(0, 0.25)
    marks = np.round((true_score + impression + rng.normal(0, 0.35, JUDGES)) * 10)
    return np.clip(marks, 0, 100).astype(np.int64)


def gap_segments(length: int, opening: bool, rng: np.random.Generator) -> list[int]:
    """The off-wave clips of one gap: paddling (out, or back after a ride), then waiting in the line-up.
    The opening gap has at least one clip of each; a gap after a ride starts with paddling."""
    share = rng.uniform(0.3, 0.6)
    paddle = max(1, round(length * share))
    if opening:
        paddle = min(paddle, length - 1)
    return [SEGMENTS["paddle"]] * paddle + [SEGMENTS["wait"]] * (length - paddle)


def heat_layout(ride_lengths: list[int], length: int, rng: np.random.Generator) -> tuple[list[int], np.ndarray]:
    """The start clip of each ride and the off-wave segment of every clip (-1 on rides): the opening gap
    (at least 2 clips), then each ride followed by a gap of at least 1 clip."""
    n = len(ride_lengths)
    free = length - sum(ride_lengths) - (n + 2)
    if free < 0:
        raise ValueError(f"{n} rides of {sum(ride_lengths)} clips do not fit in {length} clips")
    gaps = np.array([2] + [1] * n) + rng.multinomial(free, rng.dirichlet(np.full(n + 1, 2.0)))
    segment = np.full(length, -1)
    starts, pos = [], 0
    for i, gap in enumerate(gaps):
        segment[pos : pos + gap] = gap_segments(int(gap), i == 0, rng)
        pos += int(gap)
        if i < n:
            starts.append(pos)
            pos += ride_lengths[i]
    return starts, segment


def ride_credits(difficulty: np.ndarray, execution: np.ndarray, types: list[int], flow: float,
                 ocean: Ocean) -> np.ndarray:
    """Per clip of a ride, the points the judges' criteria give it (>= 0). ``difficulty`` and ``execution``
    are per clip (difficulty 0 off manoeuvres); ``types`` the clips' element types."""
    credit = np.zeros(len(types))
    seen: set[int] = set()
    for i, kind in enumerate(types):
        if kind == TAKE_OFF:
            credit[i] = 0.5 * ocean.size_factor * sigmoid(1.5 * execution[i])
        elif kind == FINISH:
            credit[i] = 0.4 * sigmoid(1.5 * execution[i])
        elif kind != FALL:
            variety = 0.5 if kind in seen else 1.0
            credit[i] = difficulty[i] * ocean.size_factor * sigmoid(1.5 * execution[i]) * variety
            seen.add(kind)
    for i in range(len(types) - 1):  # combination of two consecutive well-executed major manoeuvres
        pair = slice(i, i + 2)
        if all(TAKE_OFF < t < FINISH for t in types[pair]) and (difficulty[pair] >= MAJOR).all() \
                and (execution[pair] > 0).all():
            bonus = 0.3 * credit[pair].min()
            credit[pair] += bonus / 2
    ridden = np.array([t != FALL for t in types])
    credit[ridden] += 0.35 * sigmoid(1.5 * flow)
    return credit


class SurfingSport:
    """One fixed sport per seed: manoeuvre difficulties, embeddings, quality directions, the feature map."""

    def __init__(self, seed: int, feature_dim: int):
        rng = np.random.default_rng([seed, 0])
        turns = rng.permutation(np.linspace(0.8, 2.4, len(TURNS)))
        tubes = np.sort(rng.uniform(2.4, 3.8, len(TUBES)))
        aerials = np.sort(rng.uniform(2.6, 4.4, len(AERIALS)))
        self.difficulty = np.concatenate([[0.0], turns, tubes, aerials, [0.0, 0.0]])  # per element type
        self.family = ["turn"] * len(TURNS) + ["tube"] * len(TUBES) + ["aerial"] * len(AERIALS)
        basis = orthonormal_directions(rng, RANK)
        self.size_direction, self.chop_direction, self.speed_direction = basis[0], basis[1], basis[2]
        self.fall_direction, self.paddle_direction = basis[3], basis[4]
        self.motion = basis[5:9]  # (4, R): how the surfer moves along the wave, smooth with good flow
        n_types = len(ELEMENT_TYPES)
        self.execution_direction = basis[9 : 9 + n_types]  # (types, R): each type shows execution its own way
        self.content = basis[9 + n_types :]
        scale = 2.0 / np.sqrt(len(self.content))
        self.type_embedding = rng.normal(size=(n_types, len(self.content))) @ self.content * scale
        self.off_embedding = rng.normal(size=(2, len(self.content))) @ self.content * scale  # paddle, wait
        self.mix = rng.normal(size=(RANK, HIDDEN)) * 2.5 / np.sqrt(RANK)
        self.feature_map = FeatureMap(rng, RANK + HIDDEN, feature_dim)

    def choose_manoeuvre(self, skill: float, ocean: Ocean, rng: np.random.Generator) -> int:
        """A manoeuvre's element type (1-12): the family by the conditions and the surfer, then a type near
        the surfer's level."""
        logits = {"turn": 1.0, "tube": -1.0 + 0.6 * ocean.size_z - 0.5 * ocean.chop + 0.3 * skill,
                  "aerial": -1.2 - 0.6 * ocean.size_z + 0.2 * ocean.chop + 0.6 * skill}
        weights = np.exp(np.array(list(logits.values())))
        family = list(logits)[int(rng.choice(len(logits), p=weights / weights.sum()))]
        options = [i for i, f in enumerate(self.family) if f == family]
        d = self.difficulty[[1 + i for i in options]]
        z = (d - 2.2) / 1.0
        p = np.exp(-0.5 * ((z - 0.7 * skill) / 0.8) ** 2)
        return 1 + options[int(rng.choice(len(options), p=p / p.sum()))]

    def ride(self, n_manoeuvres: int, potential: float, skill: float, ocean: Ocean,
             rng: np.random.Generator) -> Ride:
        """One wave ridden: the take-off, ``n_manoeuvres`` manoeuvres, then a finish or a fall; judged."""
        manoeuvres = [self.choose_manoeuvre(skill, ocean, rng) for _ in range(n_manoeuvres)]
        attempted = self.choose_manoeuvre(skill, ocean, rng)
        fall_logit = (-1.0 - 0.7 * skill - 0.4 * potential + 0.35 * (self.difficulty[attempted] - MAJOR)
                      + 0.3 * ocean.chop)
        fell = bool(rng.random() < sigmoid(fall_logit))
        types = [TAKE_OFF, *manoeuvres, FALL if fell else FINISH]
        difficulty = self.difficulty[types]
        execution = np.zeros(len(types))
        execution[0] = 0.5 * skill + 0.4 * potential + rng.normal(0, 0.6)
        execution[1:-1] = (0.8 * skill + 0.5 * potential - 0.35 * (difficulty[1:-1] - MAJOR) - 0.3 * ocean.chop
                           + rng.normal(0, 0.6, n_manoeuvres))
        finish = 0.5 * skill + 0.3 * potential + rng.normal(0, 0.6)
        execution[-1] = 0.0 if fell else finish
        flow = float(0.6 * skill + 0.5 * potential - 0.3 * ocean.chop + rng.normal(0, 0.5))
        credit = ride_credits(difficulty, execution, types, flow, ocean)
        marks = judge_wave(10.0 * (1.0 - np.exp(-credit.sum() / SCORE_SCALE)), rng)
        end = SEGMENTS["fall"] if fell else SEGMENTS["finish"]
        segments = [SEGMENTS["take-off"], *(FAMILY_SEGMENT[self.family[t - 1]] for t in manoeuvres), end]
        shown = np.tanh(execution)
        shown[-1] = 0.0 if fell else shown[-1]
        return Ride(types=types, segments=segments, credit=credit, shown=shown, flow=flow,
                    attempted=attempted if fell else -1, marks=marks, score=panel_score(marks))

    def heat(self, name: str, length: int, rng: np.random.Generator) -> JudgedVideo:
        """One surfer's heat of ``length`` clips, its total the best two waves."""
        skill = float(np.clip(rng.normal(), -2.5, 2.5))
        ocean = Ocean(size_ft=float(np.exp(rng.uniform(np.log(2.0), np.log(12.0)))),
                      chop=float(np.clip(rng.normal(), -2.0, 2.0)))
        capacity = max(FEWEST_WAVES, min(MOST_WAVES, (length - 3) // 4))
        n = int(rng.integers(FEWEST_WAVES, capacity + 1))
        potential = 0.3 * skill + rng.normal(size=n)
        k = np.clip(np.round(1.4 + 0.8 * potential + 0.3 * skill + rng.normal(0, 0.6, n)), 0, 3).astype(int)
        while (k + 2).sum() > length - (n + 2):  # short heats: shorten the longest ride
            k[k.argmax()] -= 1
        rides = [self.ride(int(k[w]), float(potential[w]), skill, ocean, rng) for w in range(n)]
        starts, off_segment = heat_layout([len(r.types) for r in rides], length, rng)
        interference = bool(rng.random() < INTERFERENCE_RATE)
        counted = counted_scores([r.score for r in rides], interference)
        features = self.features(rides, starts, off_segment, skill, ocean, rng)
        video = {"skill": skill, "wave_size_ft": ocean.size_ft, "chop": ocean.chop,
                 "interference": float(interference), "waves": float(n)}
        for w, ride in enumerate(rides):
            video[f"wave_{w}_score"] = ride.score / 100
            video[f"wave_{w}_counted"] = counted[w] / 100
            video.update({f"wave_{w}_judge_{j}": m / 10 for j, m in enumerate(ride.marks)})
        return JudgedVideo(name=name, features=features, truth=heat_truth(rides, starts, counted, off_segment),
                           marks={"total": int(sum(counted))}, video=video)

    def ride_latent(self, ride: Ride, rng: np.random.Generator) -> np.ndarray:
        """``(clips, R)``: what each clip of a ride shows (type, squashed execution, fall, speed, motion)."""
        types = np.array(ride.types)
        latent = self.type_embedding[types] + 0.9 * ride.shown[:, None] * self.execution_direction[types]
        fell = types == FALL
        if fell.any():
            latent[fell] += 2.5 * self.fall_direction + 0.5 * self.type_embedding[ride.attempted]
        speed = ride.flow + rng.normal(0, 0.4, len(types))
        latent[~fell] += 0.4 * speed[~fell, None] * self.speed_direction
        smoothness = 0.2 + 0.75 * sigmoid(1.5 * ride.flow)  # good flow: the motion changes little clip to clip
        latent += 0.8 * ar1_noise(rng, len(types), len(self.motion), float(smoothness)) @ self.motion
        return latent

    def features(self, rides: list[Ride], starts: list[int], off_segment: np.ndarray, skill: float,
                 ocean: Ocean, rng: np.random.Generator) -> np.ndarray:
        """``(T, F)`` float32 features of a heat (``off_segment``: -1 on rides)."""
        length = len(off_segment)
        latent = np.zeros((length, RANK))
        off = off_segment >= 0
        latent[off] = self.off_embedding[off_segment[off]]
        latent[off_segment == SEGMENTS["paddle"]] += 0.3 * skill * self.paddle_direction
        for ride, start in zip(rides, starts):
            latent[start : start + len(ride.types)] += self.ride_latent(ride, rng)
        style = rng.normal(size=len(self.content)) @ self.content * 1.5 / np.sqrt(len(self.content))
        latent += style + 0.7 * ocean.size_z * self.size_direction + 0.7 * ocean.chop * self.chop_direction
        latent += ar1_noise(rng, length, RANK, 0.7) * 0.7 / np.sqrt(RANK) * (1 + 0.2 * max(ocean.chop, 0.0))
        hidden = np.tanh(latent @ self.mix)  # the non-linear part of the map
        return self.feature_map.features(np.concatenate([latent, hidden], axis=1), rng, isotropic_std=0.05)


def heat_truth(rides: list[Ride], starts: list[int], counted: list[int],
               off_segment: np.ndarray) -> dict[str, np.ndarray]:
    """Per-clip truth: each counted wave's counted score shared over its clips by their credits."""
    length = len(off_segment)
    contribution = np.zeros(length)
    element_type = np.full(length, -1.0)
    element = np.full(length, -1.0)
    segment = off_segment.astype(np.float64)
    for w, (ride, start) in enumerate(zip(rides, starts)):
        clips = slice(start, start + len(ride.types))
        element_type[clips] = ride.types
        element[clips] = w
        segment[clips] = ride.segments
        if counted[w]:
            contribution[clips] = counted[w] / 100 * ride.credit / ride.credit.sum()
    return {"contribution": contribution, "element_type": element_type, "element": element, "segment": segment}


def generate(seed: int, count: int, feature_dim: int, min_clips: int, max_clips: int) -> Iterator[JudgedVideo]:
    """``count`` heats of one sport, named ``surfing_001`` ...; the same arguments give the same heats."""
    sport = SurfingSport(seed, feature_dim)
    lengths = np.random.default_rng([seed, 1]).integers(min_clips, max_clips + 1, size=count)
    for i in range(count):
        yield sport.heat(f"surfing_{i + 1:03d}", int(lengths[i]), np.random.default_rng([seed, 2, i]))


def write_surfing_heldout(root: str | Path, sizes: GenerationSizes = DEFAULT_SIZES) -> Path:
    """Write ``sizes.num_train + sizes.num_test`` heats in the generic layout plus ``truth/``; returns
    ``root``. Labels are the heat totals (0-20); the first ``sizes.num_train`` are ``train``;
    ``sizes.class_name`` is not used."""
    min_clips, max_clips = sizes.clip_range(KIND, DEFAULT_CLIPS, FEWEST_CLIPS)
    videos = generate(sizes.seed, sizes.num_train + sizes.num_test, sizes.feature_dim, min_clips, max_clips)
    return write_generic_release(root, videos, sizes.num_train)
