"""``trampoline_heldout``: FIG-like individual trampoline routines, held out from model design.

Whoever designs the model should not read this module (docs/generators.md): it is here to measure a
model and its explanations on structure nobody shaped them around.

The rules (after the FIG Trampoline Code of Points, simplified; my own reading):

* A routine is **ten skills performed back to back**, one contact with the bed between two skills,
  after a few **in-bounces** (straight jumps to gain height) and before the **stop** (the athlete
  lands on the tenth skill's last contact and must stand still). In-bounces and the stop take 10-25%
  of the clips; a skill takes 1-2 clips at the default sizes (``DEFAULT_CLIPS``), 1-3 at 27-40 clips,
  more clips going to the skills with the highest flights.
* **D** = the sum of the skills' difficulty values (DD), from the skill's somersault quarters,
  half twists and shape: 0.1 a quarter somersault plus 0.1 a completed somersault (single 0.5, double
  1.0, triple 1.5); 0.1 a half twist, doubled in a double somersault and tripled in a triple; 0.1 a
  somersault for a piked or straight shape in a somersault without twist (in multiple somersaults
  also with twist). Shaped jumps (tuck, pike, straddle) are worth 0.0, twist jumps 0.1 a half twist.
  A skill performed a second time in the routine is not valued (DD 0).
* **E** (out of 20: two judges' marks of 10): four judges deduct 0.0-0.5 in tenths for each skill's
  form (shape, kick-out, loss of height); per skill the two middle deductions are added. After the
  tenth skill the landing is judged the same way (0.1-0.3 for stability, 0.5 touching the bed with
  the hands, 1.0 a fall). E = 2.0 x the completed skills - those deductions.
* **T** (time of flight): the sum of the measured flight times of the completed skills, to the
  hundredth. It depends on the height of every jump, so it belongs to no one clip.
* **H** (horizontal displacement): each skill's landing is measured on the bed; 0.0 in the central
  zone, 0.1, 0.2 or 0.3 further out. H = 1.0 x the completed skills - those deductions (10 at most).
* **Penalties** (chair of judges, video level): 0.2 (attire, late start) or 0.3 (unauthorised coach
  signals), about one routine in twelve.
* **Interruption** (about one routine in eight, more for weaker athletes and on harder skills): a
  fall, a landing off the bed, or an intermediate straight jump during skill k. Only skills 1..k-1
  are valued (D, E, H and T pro rata as above); the interrupted skill and every clip after it earn
  and lose nothing.
* Total = D + E + T + H - penalty, in integer hundredths; ``labels.csv`` holds the total only.
* The athlete's level drives the skills chosen (harder for better athletes), form, height, travel
  and interruptions together, not perfectly.

Per-clip truth (``truth/trampoline_<NNN>.npz``, float32, each clip's values exact hundredths):
``difficulty`` (the skill's credited DD spread over its clips), ``deduction`` (the skill's form
deduction spread over its clips, its landing's displacement deduction on its last clip, the stop's
landing deduction on the first stop clip), ``contribution`` = difficulty + 3.00 per completed skill
(its share of E's 2.0 and H's 1.0, spread over its clips) - deduction, ``element_type`` (the skill
type, -1 off valued skills) and ``segment`` (0 in-bounce, 1 skill, 2 stop, 3 the interruption: the
failed skill or the straight jump, 4 after the interruption). So, exactly to the hundredth:
sum(contribution) = D + E + H and **total = sum(contribution) + T - penalty**.

How it differs
--------------
(1) Almost no connecting movement: ten short skills back to back, off-skill clips only at the start
(in-bounces) and the end (the stop), 10-25% of the clips. (2) The score has a whole-routine measured
mark, T, that shows in every clip as a global scale: the moving part of every skill clip (its type
embedding and form signal) is multiplied by that skill's flight time, in-bounces ramp up to the
routine's height. (3) Form faults show only half on the skill's clips; the other half shows on the
next clip (the landing and the next take-off, or the stop), where the truth does not locate it.
(4) Displacement shows as a signed 2-D landing offset on the skill's last clip, random in direction,
while its deduction depends on the distance only: no linear direction reads it. (5) Each completed
skill carries a located constant (3.00: its pro-rata share of E and H), so a clean easy skill is
worth more than an off-skill clip; a repeated skill is worth its constant but no difficulty. (6) An
interruption truncates the routine: an intermediate straight jump looks like an in-bounce, and all
later clips are worth nothing. (7) Skill embeddings are compositional (somersaults, twists, shape,
direction, plus a type-specific part), and a multi-clip skill has take-off, rotation and landing
phases. (8) A performer/venue style vector is shared by all clips of a routine.

Features: a latent of 32 dimensions per clip (content: embeddings, phases, style; one form direction,
one stop-landing direction, two displacement directions; AR(1) noise), mapped to ``feature_dim`` by a
fixed random matrix per seed, plus a little isotropic noise.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from longaqa.data.generators.latent import FeatureMap, ar1_noise, orthonormal_directions
from longaqa.data.generators.release import (
    DEFAULT_SIZES,
    GenerationSizes,
    JudgedVideo,
    write_generic_release,
)

KIND = "trampoline_heldout"
DEFAULT_CLIPS = (16, 26)
"""A routine of about 20-33 s (in-bounces, ten skills, the stop) in clips of 1.28 s, skills of 1-2 clips."""
SKILLS = 10
FEWEST_CLIPS = SKILLS + 2
"""Ten skills of one clip, one in-bounce and the stop."""
OFF_SHARE = (0.10, 0.25)
"""In-bounces and the stop: this share of the clips (rounded to whole clips) in a routine."""
PREFIX = "trampoline"

IN_BOUNCE, SKILL, STOP, INTERRUPTION, AFTER = range(5)
"""``segment`` codes."""
SHAPES = ("tuck", "pike", "straight", "straddle")
E_PER_SKILL = 200
"""E credit per completed skill, hundredths (two middle judges x 1.0)."""
H_PER_SKILL = 100
"""H credit per completed skill, hundredths."""
PENALTIES = (np.array([0, 20, 30]), np.array([0.92, 0.05, 0.03]))
LANDING = np.array([0, 10, 20, 30, 50, 100])
"""Landing faults after the tenth skill (per judge), hundredths: stability 0.1-0.3, hands 0.5, fall 1.0."""
INTERRUPTIONS = ("fall", "off the bed", "straight jump")
RANK = 32


@dataclass(frozen=True)
class Skill:
    somersaults: int  # whole somersaults (0: a jump)
    half_twists: int
    shape: str
    forward: bool

    @property
    def dd(self) -> int:
        """Difficulty value in hundredths (my reading of the FIG tariff)."""
        s, h = self.somersaults, self.half_twists
        if s == 0:
            return 10 * h  # shaped jumps 0.0, twist jumps 0.1 a half twist
        value = 10 * 4 * s + 10 * s  # quarters + a bonus per completed somersault
        value += 10 * h * (s if s >= 2 else 1)
        if self.shape in ("pike", "straight") and (h == 0 or s >= 2):
            value += 10 * s
        return value


def catalogue_grid() -> list[Skill]:
    """Every skill the sport may draw from."""
    grid = [Skill(0, 0, shape, False) for shape in ("tuck", "pike", "straddle")]
    grid += [Skill(0, 1, "straight", False), Skill(0, 2, "straight", False)]
    for forward in (False, True):
        twists = (1, 3, 5) if forward else (2, 4, 6)
        grid += [Skill(1, 0, shape, forward) for shape in ("tuck", "pike", "straight")]
        grid += [Skill(1, h, "straight", forward) for h in twists]
        grid += [Skill(2, 0, shape, forward) for shape in ("tuck", "pike", "straight")]
        grid += [Skill(2, h, shape, forward) for h in twists[:2] for shape in ("tuck", "pike")]
        grid += [Skill(3, 0, shape, forward) for shape in ("tuck", "pike")]
        grid += [Skill(3, twists[0], shape, forward) for shape in ("tuck", "pike")]
    return grid


def split_hundredths(total: int, n: int) -> np.ndarray:
    """``total`` hundredths over ``n`` clips as whole hundredths, the remainder on the first clips."""
    base, rest = divmod(int(total), n)
    out = np.full(n, base, dtype=np.int64)
    out[:rest] += 1
    return out


def middle_two(marks: np.ndarray) -> int:
    """The sum of the two middle of four judges' marks (hundredths)."""
    ordered = np.sort(marks)
    return int(ordered[1] + ordered[2])


@dataclass(frozen=True)
class Timeline:
    """A routine's clips: where each skill starts, and the per-clip codes and credit (hundredths)."""

    starts: np.ndarray
    segment: np.ndarray
    element_type: np.ndarray
    difficulty: np.ndarray
    deduction: np.ndarray
    constant: np.ndarray
    skill_of_clip: np.ndarray
    credited: np.ndarray

    @classmethod
    def empty(cls, length: int, starts: np.ndarray) -> Timeline:
        return cls(
            starts=starts,
            segment=np.full(length, IN_BOUNCE, dtype=np.int64),
            element_type=np.full(length, -1, dtype=np.int64),
            difficulty=np.zeros(length, dtype=np.int64),
            deduction=np.zeros(length, dtype=np.int64),
            constant=np.zeros(length, dtype=np.int64),
            skill_of_clip=np.full(length, -1, dtype=np.int64),
            credited=np.zeros(SKILLS, dtype=np.int64),
        )

    def truth(self) -> dict[str, np.ndarray]:
        """The per-clip truth arrays, in points."""
        contribution = self.difficulty + self.constant - self.deduction
        return {
            "difficulty": self.difficulty / 100,
            "deduction": self.deduction / 100,
            "contribution": contribution / 100,
            "element_type": self.element_type.astype(np.float64),
            "segment": self.segment.astype(np.float64),
        }


def draw_displacement(level: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Each landing's offset on the bed (metres) and its displacement deduction (hundredths)."""
    # displacement: each landing's offset on the bed (metres), travelling a little from contact to contact
    spread = float(np.clip(0.32 - 0.05 * level + rng.normal(0, 0.05), 0.12, 0.6))
    offsets = np.zeros((SKILLS, 2))
    for i in range(SKILLS):
        offsets[i] = (0.4 * offsets[i - 1] if i else 0) + rng.normal(0, spread, 2)
    zone = np.minimum(3, np.floor(np.maximum(np.abs(offsets[:, 0]) / 0.55, np.abs(offsets[:, 1]) / 0.45)))
    displacement = (10 * zone).astype(np.int64)
    return offsets, displacement


def draw_landing(level: float, rng: np.random.Generator) -> tuple[int, int]:
    """The landing after the tenth skill: (index into ``LANDING``, its deduction in hundredths)."""
    landing_logits = np.array([1.2, 1.0, 0.0, -1.0, -2.6, -3.4]) + np.array([0, 0, -0.4, -0.8, -1.0, -1.0]) * level
    landing_p = np.exp(landing_logits) / np.exp(landing_logits).sum()
    landing_step = int(rng.choice(len(LANDING), p=landing_p))
    if landing_step <= 3:  # stability: each judge may see a step more or less
        steps = np.clip(landing_step + rng.choice([-1, 0, 1], size=4, p=[0.15, 0.7, 0.15]), 0, 3)
        landing = middle_two(LANDING[steps])
    else:
        landing = 2 * int(LANDING[landing_step])
    return landing_step, landing


def compute_marks(credited: np.ndarray, form: np.ndarray, displacement: np.ndarray, flights: np.ndarray,
                  landing: int, completed: int, interrupted: bool, rng: np.random.Generator) -> dict[str, int]:
    """The routine's marks (hundredths), drawing the penalty."""
    d_mark = int(credited.sum())
    e_mark = E_PER_SKILL * completed - int(form[:completed].sum()) - (0 if interrupted else landing)
    h_mark = H_PER_SKILL * completed - int(displacement[:completed].sum())
    t_mark = int(round(100 * float(flights[:completed].sum())))
    penalty = int(rng.choice(PENALTIES[0], p=PENALTIES[1]))
    penalty = min(penalty, d_mark + e_mark + t_mark + h_mark)  # a total is not negative
    total = d_mark + e_mark + t_mark + h_mark - penalty
    return {"total": total, "difficulty": d_mark, "execution": e_mark, "flight": t_mark,
            "displacement": h_mark, "penalty": penalty}


class TrampolineSport:
    """One fixed sport per seed: the skills drawn, their embeddings, the directions and the feature map."""

    def __init__(self, seed: int, feature_dim: int):
        rng = np.random.default_rng([seed, 0])
        grid = catalogue_grid()
        jumps = [k for k in grid if k.somersaults == 0]
        by_count = {s: [k for k in grid if k.somersaults == s] for s in (1, 2, 3)}
        picks = {1: 8, 2: 10, 3: 6}
        chosen = list(jumps)
        for s, n in picks.items():
            idx = rng.choice(len(by_count[s]), size=n, replace=False)
            chosen += [by_count[s][i] for i in sorted(idx)]
        self.skills = chosen
        self.dd = np.array([k.dd for k in chosen], dtype=np.int64)
        basis = orthonormal_directions(rng, RANK)
        self.form_direction = basis[0]
        self.landing_direction = basis[1]
        self.offset_directions = basis[2:4]
        content = basis[4:]
        scale = 2.0 / np.sqrt(RANK)

        def draw(n: int | None = None) -> np.ndarray:
            shape = (content.shape[0],) if n is None else (n, content.shape[0])
            return rng.normal(size=shape) @ content * scale

        somersault_part = draw(4)
        twist_part = draw(1)[0] * 0.5
        shape_part = draw(len(SHAPES))
        forward_part = draw(1)[0]
        own = draw(len(chosen))
        self.type_embedding = np.stack([
            0.8 * somersault_part[k.somersaults] + twist_part * k.half_twists
            + 0.6 * shape_part[SHAPES.index(k.shape)] + 0.6 * forward_part * k.forward + 0.7 * own[i]
            for i, k in enumerate(chosen)])
        self.phase = draw(3) * 0.5  # take-off, rotation, landing
        self.in_bounce = draw()
        self.stop = draw()
        self.interruption = draw(len(INTERRUPTIONS))
        self.after = draw()
        self.style_scale = scale
        self.content = content
        self.feature_map = FeatureMap(rng, RANK, feature_dim)

    def layout(self, length: int, flights: np.ndarray, rng: np.random.Generator) -> tuple[int, int, np.ndarray]:
        """(in-bounce clips, stop clips, clips per skill) for a routine of ``length`` clips."""
        cap = -(-(length - int(np.floor(OFF_SHARE[1] * length))) // SKILLS)  # clips a skill may need
        low = max(2, int(np.ceil(OFF_SHARE[0] * length)), length - SKILLS * cap)
        high = min(int(np.floor(OFF_SHARE[1] * length)), length - SKILLS)
        off = int(np.clip(round(rng.uniform(*OFF_SHARE) * length), low, high))
        stop = 1 if off <= 3 else int(rng.integers(1, 3))
        skill_clips = length - off
        base, extra = divmod(skill_clips, SKILLS)
        clips = np.full(SKILLS, base, dtype=np.int64)
        clips[np.argsort(-(flights + rng.normal(0, 0.02, SKILLS)))[:extra]] += 1  # the highest flights
        return off - stop, stop, clips

    def routine(self, name: str, length: int, rng: np.random.Generator) -> JudgedVideo:
        level = float(np.clip(rng.normal(), -2.5, 2.5))
        target = float(np.clip(1.15 + 0.32 * level + rng.normal(0, 0.25), 0.2, 2.2))
        plan, repeated = self.draw_plan(target, rng)
        height, flights = self.draw_flights(level, plan, rng)
        inb, stop_clips, clips = self.layout(length, flights, rng)
        fault, form = self.draw_form(level, target, plan, rng)
        offsets, displacement = draw_displacement(level, rng)
        landing_step, landing = draw_landing(level, rng)
        interrupted, stop_at, kind = self.draw_interruption(level, target, plan, rng)
        completed = stop_at
        timeline = self.place_on_timeline(length, inb, clips, plan, stop_at, form, displacement, landing,
                                          interrupted)
        marks = compute_marks(timeline.credited, form, displacement, flights, landing, completed, interrupted, rng)
        features = self.features(length, timeline.segment, timeline.skill_of_clip, plan, clips, timeline.starts,
                                 flights, fault, offsets, landing_step, height, inb, kind, rng)
        return JudgedVideo(
            name=name,
            features=features,
            truth=timeline.truth(),
            marks=marks,
            video={"skill": level, "height": height, "interrupted": float(interrupted),
                   "completed": float(completed), "interruption": float(kind), "repeated": float(repeated >= 0)},
        )

    def draw_plan(self, target: float, rng: np.random.Generator) -> tuple[np.ndarray, int]:
        """The ten skills performed (indices into ``self.skills``) and the index of a repeated one (-1: none)."""
        dd_points = self.dd / 100
        weight = np.exp(-0.5 * ((dd_points - target) / 0.4) ** 2) + 1e-4
        plan = rng.choice(len(self.skills), size=SKILLS, replace=False, p=weight / weight.sum())
        repeated = -1
        if rng.random() < 0.06:  # performs one skill a second time: not valued the second time
            repeated = int(rng.integers(3, SKILLS))
            plan[repeated] = plan[int(rng.integers(0, repeated))]
        return plan, repeated

    def draw_flights(self, level: float, plan: np.ndarray, rng: np.random.Generator) -> tuple[float, np.ndarray]:
        """The routine's height and each skill's flight time (seconds)."""
        somersaults = np.array([self.skills[k].somersaults for k in plan])
        height = float(np.clip(1.55 + 0.13 * level + rng.normal(0, 0.12), 1.1, 2.0))  # seconds of flight
        flights = height * (1 - 0.008 * np.arange(SKILLS)) * np.exp(rng.normal(0, 0.025, SKILLS))
        flights += 0.03 * (somersaults - 1)
        return height, flights

    def draw_form(self, level: float, target: float, plan: np.ndarray,
                  rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """Each skill's true form fault (points) and its judged form deduction (hundredths)."""
        dd_points = self.dd / 100
        # form: each judge sees the skill's true fault (points) give or take, in tenths up to 0.5
        form_level = 0.75 * level + 0.66 * rng.normal()  # how clean this athlete is, beside the level
        mu = np.clip(0.17 - 0.06 * form_level + 0.08 * (dd_points[plan] - target), 0.02, 0.45)
        fault = np.clip(mu * rng.gamma(4.0, 0.25, SKILLS), 0, 0.5)
        judged = np.clip(np.round((fault[:, None] + rng.normal(0, 0.06, (SKILLS, 4))) * 10), 0, 5) * 10
        form = np.array([middle_two(j) for j in judged.astype(np.int64)])  # hundredths per skill
        return fault, form

    def draw_interruption(self, level: float, target: float, plan: np.ndarray,
                          rng: np.random.Generator) -> tuple[bool, int, int]:
        """(interrupted, index of the interrupted skill or ``SKILLS``, interruption kind or -1)."""
        dd_points = self.dd / 100
        interrupted = rng.random() < float(np.clip(0.10 * np.exp(-0.6 * level), 0.02, 0.4))
        stop_at = SKILLS  # index of the interrupted skill; SKILLS: none
        kind = -1
        if interrupted:
            risk = np.exp(1.2 * (dd_points[plan] - target)) * (1 + 0.15 * np.arange(SKILLS))
            stop_at = int(rng.choice(SKILLS, p=risk / risk.sum()))
            kind = int(rng.choice(len(INTERRUPTIONS), p=[0.4, 0.3, 0.3]))
        return interrupted, stop_at, kind

    def place_on_timeline(self, length: int, inb: int, clips: np.ndarray, plan: np.ndarray, stop_at: int,
                          form: np.ndarray, displacement: np.ndarray, landing: int,
                          interrupted: bool) -> Timeline:
        """Lay the skills out clip by clip and spread their credit and deductions over their clips."""
        tl = Timeline.empty(length, inb + np.concatenate([[0], np.cumsum(clips)[:-1]]))
        tl.segment[inb + clips.sum():] = STOP
        seen: set[int] = set()
        for i in range(SKILLS):
            a, b = int(tl.starts[i]), int(tl.starts[i] + clips[i])
            tl.skill_of_clip[a:b] = i
            if i > stop_at:
                tl.segment[a:b] = AFTER
                continue
            if i == stop_at:
                tl.segment[a:b] = INTERRUPTION
                continue
            k = int(plan[i])
            tl.segment[a:b] = SKILL
            tl.element_type[a:b] = k
            tl.credited[i] = 0 if k in seen else self.dd[k]
            seen.add(k)
            tl.difficulty[a:b] += split_hundredths(tl.credited[i], b - a)
            tl.deduction[a:b] += split_hundredths(form[i], b - a)
            tl.deduction[b - 1] += displacement[i]
            tl.constant[a:b] += split_hundredths(E_PER_SKILL + H_PER_SKILL, b - a)
        stop_start = inb + int(clips.sum())
        if interrupted:
            tl.segment[stop_start:] = AFTER
        else:
            tl.deduction[stop_start] += landing
        return tl

    def features(self, length, segment, skill_of_clip, plan, clips, starts, flights, fault, offsets,
                 landing_step, height, inb, kind, rng) -> np.ndarray:
        latent = np.zeros((length, RANK))
        for t in range(length):
            seg, i = int(segment[t]), int(skill_of_clip[t])
            if seg == IN_BOUNCE:  # straight jumps rising to the routine's height
                latent[t] = self.in_bounce * (0.5 + 0.5 * (t + 1) / max(inb, 1)) * height / 1.55
            elif seg == SKILL:
                j = t - int(starts[i])
                moving = self.type_embedding[plan[i]] + self.phase[min(2, 3 * j // int(clips[i]))]
                moving = moving - 0.5 * (fault[i] / 0.1 * 0.5) * self.form_direction
                latent[t] = moving * flights[i] / 1.55
                if t == int(starts[i] + clips[i]) - 1:  # the landing contact: where on the bed
                    latent[t] += 1.5 * offsets[i] @ self.offset_directions
            elif seg == STOP:
                latent[t] = self.stop - 0.5 * (LANDING[landing_step] / 10) * self.landing_direction
            elif seg == INTERRUPTION:
                shown = self.in_bounce if kind == 2 else 0.5 * self.type_embedding[plan[i]]
                latent[t] = shown + self.interruption[kind]
            else:
                latent[t] = self.after
            if t > 0 and segment[t - 1] == SKILL and seg != AFTER:  # the rest of the form fault shows next
                prev = int(skill_of_clip[t - 1])
                if int(starts[prev] + clips[prev]) - 1 == t - 1:
                    latent[t] -= 0.5 * (fault[prev] / 0.1 * 0.5) * self.form_direction
        style = rng.normal(size=self.content.shape[0]) @ self.content * self.style_scale
        latent += style
        latent += ar1_noise(rng, length, RANK, 0.8) * 0.8 / np.sqrt(RANK)
        return self.feature_map.features(latent, rng, isotropic_std=0.05)


def generate(
    seed: int, count: int, feature_dim: int, min_clips: int, max_clips: int, class_name: str = PREFIX
) -> Iterator[JudgedVideo]:
    """``count`` routines of one sport, named ``trampoline_001`` ... (``class_name`` is not used)."""
    sport = TrampolineSport(seed, feature_dim)
    rng = np.random.default_rng([seed, 1])
    for i in range(1, count + 1):
        length = int(rng.integers(min_clips, max_clips + 1))
        yield sport.routine(f"{PREFIX}_{i:03d}", length, rng)


def write_trampoline_heldout(root: str | Path, sizes: GenerationSizes = DEFAULT_SIZES) -> Path:
    """Write ``sizes.num_train + sizes.num_test`` routines in the generic layout plus ``truth/``;
    returns ``root``. ``sizes.class_name`` is not used."""
    min_clips, max_clips = sizes.clip_range(KIND, DEFAULT_CLIPS, FEWEST_CLIPS)
    videos = generate(sizes.seed, sizes.num_train + sizes.num_test, sizes.feature_dim, min_clips, max_clips)
    return write_generic_release(root, videos, sizes.num_train)
