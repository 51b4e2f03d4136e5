"""``skating_heldout``: ladies' free skating judged by ISU-like rules (before 2018-19), held out from model design.

Whoever designs a model should not read this module; it is for readers after the design. It writes the
Fis-V layout and the same truth fields as ``skating``, with a structure of its own on purpose.

The rules (REFERENCE.md section 5), as generated here:

* A **free skating** programme (4 min +- 10 s: about 180-200 clips with the start and the final pose)
  has the twelve elements of a well-balanced ladies' free programme: seven jump elements (a solo
  axel, three solo jumps, three jump combinations, one of them sometimes of three jumps), three spins
  of different kinds (a spin in one position: LSp or CCSp; a flying spin: FCSp or FSSp; a combination
  spin: CCoSp or FCCoSp), a step sequence and a choreographic sequence (ChSq1, a fixed base value of
  2.0 and no level). Skill sets how many different triples the skater has (0-5, the easier ones more
  often); her best ones open the combinations (a 3-3 for the good ones), and doubles fill the rest.
  Base values are the ISU scale of those seasons; spins and steps have levels 1-4.
* **Order**: jumps anywhere, better skaters back-loading more of them into the second half; the step
  sequence near the middle, the choreographic sequence later, the combination spin most often last.
* **Bonus**: a jump element that starts in the second half of the *music* gets its base value x 1.1.
  The music starts after a few clips of the skater taking her place and ends before the final pose
  and the bows (clips off elements, -1 like connecting skating).
* **Under-rotation** ("<"): now and then a triple (more often a hard one, less often for better
  skaters) is called under-rotated: it earns 70% of its base value and the judges grade it lower.
* **GOE**: nine judges grade an element -3..+3 around its true execution (skill, the skater's form
  on the day, a little less for harder jumps, a per-judge bias, element-to-element variation); each
  grade is worth a fixed number of points per step from the scale of values (a double 0.3, 2A 0.5, a
  triple 0.7, 3A 1.0, spins and steps +0.5 / -0.3, the choreographic sequence +0.7 / -0.5; a
  combination takes its most valuable jump's), and the panel's GOE is the mean over the middle seven.
* **Falls**: mostly on hard jumps, on under-rotated ones, for weaker skaters and on bad days; rarely
  in a spin or a sequence. Every judge grades -3, and the fall costs 1.0 (the first and second), 2.0
  (the third and fourth) or 3.0 (any later), placed on the clip of the fall. A fall inside a
  combination ends it: the jumps after the fall are not performed and earn nothing.
* TES = the sum over elements of base (with bonus) + GOE; deductions = the falls' deductions.
* **PCS**, holistic: five components marked to 0.25 by nine judges, middle seven averaged, summed,
  x 1.6 (the ladies' free skating factor). The marks come from three whole-programme properties: the
  skater's **skating quality** (speed, edges, flow), her **artistry**, and her **reputation** (which
  judges know and the video does not show); all follow skill; falls lower performance and
  interpretation a little. So PCS correlates with TES but is not a sum over clips.

Features: a latent of 64 dimensions per clip, mapped by one fixed random matrix per sport:

* content: a jump element shows its preparation (glide mixed with its take-off) and then **one clip
  per jump** with that jump's own embedding (a take-off embedding per jump kind, plus a revolution
  direction for doubles vs triples): a combination's clips look like its jumps, one after the other;
  a spin shows a spinning embedding plus its positions in turn (a flying spin starts with a flying
  entry); the step sequence and the choreographic sequence look like connecting skating with their
  own moves (turns and steps; spirals, spread eagles and Ina Bauers) drawn per clip; connecting
  skating is glide with, now and then, a move drawn per clip (better skaters' transitions hold more
  moves); the start and the final pose have a pose embedding;
* execution along one direction per **family** (jumps, spins, step and choreographic sequences), not
  per type, and saturating (1.5 tanh(grade / 2)): a jump shows it mostly on its landing clip (a
  little in its preparation), a spin on every clip, a sequence per clip with local variation;
* levels of spins and steps along one level direction; an under-rotation along a rotation direction
  on the jump's clip;
* a fall on its clip along a fall direction, and on the next clip along a recovery direction (getting
  up) plus some of the fall direction;
* skating quality on every skating clip (noisy), artistry on connecting skating and the
  choreographic sequence, and a little of it in the video's style; the style is the venue's
  embedding (one of eight per sport) plus the skater's own;
* clips straddle element boundaries: each clip's latent mixes in 10% of each neighbour's; then AR(1)
  noise (correlation 0.7) and a little isotropic noise on the features.

Per-clip truth (``truth/<id>.npz``), as for ``skating``: ``difficulty`` (base value with bonus and
under-rotation, spread over the element's clips), ``goe``, ``tes`` = difficulty + goe (sums to TES),
``deduction`` (the fall's deduction on its clip), ``contribution`` = tes - deduction and
``element_type`` (-1 off elements).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from longaqa.data.generators.latent import FeatureMap, ar1_noise, orthonormal_directions
from longaqa.data.generators.release import DEFAULT_SIZES, GenerationSizes, JudgedVideo, write_fisv_release

KIND = "skating_heldout"
DEFAULT_CLIPS = (180, 200)
"""Ladies' free skating, 4 min +- 10 s of music plus the start and the final pose, in 32-frame clips at 25 fps."""
FEWEST_CLIPS = 32
REFERENCE_CLIPS = 190
"""Element lengths are drawn in clips of a programme of this length, then scaled with the programme's."""

# Base values in hundredths (ISU scale of values before 2018-19); spins and steps by level 1-4.
JUMP_BASE = {"2T": 130, "2S": 130, "2Lo": 180, "2F": 190, "2Lz": 210, "2A": 330,
             "3T": 410, "3S": 420, "3Lo": 510, "3F": 530, "3Lz": 600, "3A": 850}
TRIPLES = ("3T", "3S", "3Lo", "3F", "3Lz")
TRIPLE_POPULARITY = np.array([0.26, 0.22, 0.16, 0.18, 0.18])
SPIN_BASE = {"LSp": (150, 190, 240, 270), "CCSp": (200, 230, 280, 320), "FCSp": (190, 230, 280, 320),
             "FSSp": (200, 230, 260, 300), "CCoSp": (200, 250, 300, 350), "FCCoSp": (200, 250, 300, 350)}
SPIN_GROUPS = (("LSp", "CCSp"), ("FCSp", "FSSp"), ("CCoSp", "FCCoSp"))
"""A spin in one position, a flying spin, a combination spin: one of each."""
SPIN_POSITIONS = {"LSp": ("layback",), "CCSp": ("camel",), "FCSp": ("camel",), "FSSp": ("sit",),
                  "CCoSp": ("camel", "sit", "upright"), "FCCoSp": ("camel", "sit", "upright")}
STEP_BASE = (180, 260, 330, 390)
CHOREO_BASE = 200
UNDER_ROTATED = 0.7
SECOND_HALF_BONUS = 1.1

SOLO_TYPES = ("2Lo", "2F", "2Lz", "2A", "3T", "3S", "3Lo", "3F", "3Lz", "3A")
COMBO_TYPES = tuple(f"{j}+COMBO" for j in ("2F", "2Lz", "2A", "3T", "3S", "3Lo", "3F", "3Lz", "3A"))
ELEMENT_TYPES = (*SOLO_TYPES, *COMBO_TYPES, *SPIN_BASE, "StSq", "ChSq1")
"""``element_type`` indexes this list; a combination's type is named after its first jump."""

JUDGES = 9
PCS_FACTOR = 1.6
COMPONENTS = {
    # component: mean mark, weight of skating quality, of artistry, of reputation, per fall
    "skating skills": (6.7, 0.85, 0.10, 0.35, 0.0),
    "transitions": (6.4, 0.75, 0.30, 0.35, 0.0),
    "performance": (6.7, 0.30, 0.75, 0.35, -0.25),
    "composition": (6.7, 0.35, 0.70, 0.35, 0.0),
    "interpretation": (6.8, 0.20, 0.85, 0.35, -0.15),
}
RANK = 64
MOVES = ("crossovers", "three-turns", "mohawks", "counters", "spread eagle", "spiral", "ina bauer")
STEP_MOVES = MOVES[1:4]
CHOREO_MOVES = MOVES[4:]


def trimmed_mean(marks: np.ndarray) -> np.ndarray:
    """The panel's mark: the mean without the highest and the lowest judge (last axis)."""
    return np.sort(marks, axis=-1)[..., 1:-1].mean(axis=-1)


def sigmoid(x: float) -> float:
    return float(1 / (1 + np.exp(-x)))


def goe_step(element: Element, jumps: tuple[str, ...]) -> tuple[int, int]:
    """Points per grade (hundredths), positive and negative, from the scale of values."""
    if element.family == "jump":
        top = max(jumps, key=JUMP_BASE.get)  # a combination is graded on its most valuable jump
        step = 100 if top == "3A" else 70 if top[0] == "3" else 50 if top == "2A" else 30
        return step, step
    return (70, 50) if element.family == "choreo" else (50, 30)


@dataclass
class Element:
    """One planned element: ISU code, family, its jumps (jump elements) and its preferred place (0-1)."""

    code: str
    family: str  # "jump", "spin", "steps" or "choreo"
    jumps: tuple[str, ...] = ()
    place: float = 0.0

    @property
    def type_index(self) -> int:
        name = self.code if len(self.jumps) < 2 else f"{self.jumps[0]}+COMBO"
        return ELEMENT_TYPES.index(name)


@dataclass
class Judged:
    """What the panels made of one performed element."""

    credited: int  # base value with bonus and under-rotation, hundredths
    goe: int  # hundredths
    grade: float  # true execution in GOE grades (-3 on a fall)
    form: float  # the execution as it looks apart from a fall, in GOE grades
    jumps: tuple[str, ...] = ()  # the jumps performed (a fall ends a combination)
    under_rotated: tuple[bool, ...] = ()
    level: int = 0  # spins and steps, 1-4
    fall_offset: int | None = None  # the fall's clip within the element
    clip_of_jump: list[int] = field(default_factory=list)  # each performed jump's clip within the element


def plan_elements(skill: float, rng: np.random.Generator) -> list[Element]:
    """The twelve elements of a well-balanced ladies' free programme, in the skater's order."""
    n_triples = int(np.clip(round(3.2 + 1.1 * skill + rng.normal(0, 0.6)), 0, 5))
    chosen = rng.choice(len(TRIPLES), size=n_triples, replace=False, p=TRIPLE_POPULARITY / TRIPLE_POPULARITY.sum())
    triples = sorted((TRIPLES[i] for i in chosen), key=JUMP_BASE.get, reverse=True)
    combo_firsts = (triples + ["2A", "2Lz", "2F"])[:3]  # the best triples open the combinations
    solos = ([str(j) for j in rng.permutation(triples)] + ["2Lz", "2F", "2Lo"])[:3]  # each triple twice at most
    combos = []
    for i, first in enumerate(combo_firsts):
        if first[0] == "3" and i == 0 and skill + rng.normal(0, 0.7) > 0.0:
            combos.append((first, "3T"))
        elif first[0] == "3" and i > 0 and rng.random() < 0.35:
            combos.append((first, "2T", "2Lo"))
        else:
            combos.append((first, "2T"))
    axel = "3A" if skill > 1.6 and rng.random() < 0.35 else "2A"
    back_loading = float(np.clip(0.25 + 0.15 * skill, 0.05, 0.6))

    def jump_place() -> float:
        return 0.5 + 0.5 * rng.random() if rng.random() < back_loading else 0.9 * rng.random()

    elements = [Element(j, "jump", (j,), jump_place()) for j in (axel, *solos)]
    elements += [Element("+".join(c), "jump", c, jump_place()) for c in combos]
    for group in SPIN_GROUPS:
        spin = group[int(rng.integers(len(group)))]
        last = group is SPIN_GROUPS[-1] and rng.random() < 0.7
        elements.append(Element(spin, "spin", place=1.0 if last else float(rng.random())))
    elements.append(Element("StSq", "steps", place=float(np.clip(rng.normal(0.45, 0.12), 0, 1))))
    elements.append(Element("ChSq1", "choreo", place=float(np.clip(rng.normal(0.72, 0.1), 0, 1))))
    return sorted(elements, key=lambda e: e.place)


def reference_duration(element: Element, rng: np.random.Generator) -> int:
    """The element's length in clips of a :data:`REFERENCE_CLIPS`-clip programme."""
    if element.family == "jump":
        return len(element.jumps) + int(rng.integers(1, 3))  # preparation, then a clip per jump
    if element.family == "spin":
        return int(rng.integers(6, 10))
    return int(rng.integers(24, 31)) if element.family == "steps" else int(rng.integers(14, 21))


def lay_out(durations: list[int], length: int, rng: np.random.Generator) -> tuple[list[tuple[int, int]], int, int]:
    """``(start, end)`` clips of each element, and the clips where the music starts and ends.

    Before the music the skater takes her place, after it she holds the final pose and bows; between
    the music's start, the elements and its end there is at least one clip of connecting skating.
    """
    scale = length / REFERENCE_CLIPS
    lead = max(1, round(int(rng.integers(2, 5)) * scale))
    ending = max(1, round(int(rng.integers(2, 4)) * scale))
    clips = np.maximum(1, np.round(np.array(durations) * scale)).astype(int)
    room = length - lead - ending - (len(clips) + 1)
    while clips.sum() > room:  # short programmes: shrink the longest element
        clips[clips.argmax()] -= 1
    gaps = 1 + rng.multinomial(room - clips.sum(), rng.dirichlet(np.full(len(clips) + 1, 2.0)))
    starts = lead + gaps[:-1].cumsum() + np.concatenate([[0], clips[:-1].cumsum()])
    return [(int(s), int(s + n)) for s, n in zip(starts, clips)], lead, length - ending


def panel_goe(grade: float, step: tuple[int, int], fell: bool, rng: np.random.Generator,
              bias: np.ndarray) -> int:
    """Nine judges' grades (-3..+3) around the true ``grade`` (each with her ``bias``), in points:
    the mean of the middle seven judges' values, in hundredths."""
    grades = np.full(JUDGES, -3.0) if fell else np.clip(np.round(grade + bias + rng.normal(0, 0.55, JUDGES)), -3, 3)
    points = np.where(grades > 0, grades * step[0], grades * step[1])  # in the grades' order
    return int(round(trimmed_mean(points)))


def judge_jumps(element: Element, start: int, n: int, half: float, skill: float, day: float,
                rng: np.random.Generator, bias: np.ndarray) -> Judged:
    """A jump element over ``n`` clips from ``start``: under-rotations, a fall, base with bonus, GOE."""
    planned = element.jumps
    clip_of_jump = [n - len(planned) + i if n >= len(planned) else i * n // len(planned) for i in range(len(planned))]
    hardness = (max(JUMP_BASE[j] for j in planned) - 450) / 250
    under = tuple(j[0] == "3" and rng.random() < sigmoid(-2.8 + 0.8 * (JUMP_BASE[j] - 450) / 250 - 0.8 * skill)
                  for j in planned)
    fell = rng.random() < sigmoid(-3.1 + 0.6 * hardness - 0.6 * skill - 0.5 * day + 0.8 * any(under))
    performed = len(planned)
    if fell:  # on the last jump more often; a fall ends the combination
        performed = performed if performed == 1 or rng.random() < 0.6 else int(rng.integers(1, performed))
    jumps, under = planned[:performed], under[:performed]
    base = sum(round(JUMP_BASE[j] * UNDER_ROTATED) if u else JUMP_BASE[j] for j, u in zip(jumps, under))
    credited = round(base * SECOND_HALF_BONUS) if start + clip_of_jump[0] >= half else base  # by the take-off
    form = float(np.clip(0.8 * skill + 0.6 + 0.5 * day - 0.3 * hardness + rng.normal(0, 0.55) - 1.2 * any(under),
                         -3, 3))
    goe = panel_goe(form, goe_step(element, jumps), fell, rng, bias)
    return Judged(credited, goe, -3.0 if fell else form, form, jumps, under,
                  fall_offset=clip_of_jump[performed - 1] if fell else None, clip_of_jump=clip_of_jump[:performed])


def judge_other(element: Element, n: int, skill: float, day: float, artistry: float,
                rng: np.random.Generator, bias: np.ndarray) -> Judged:
    """A spin, the step sequence or the choreographic sequence over ``n`` clips: level, a rare fall, GOE."""
    fell = rng.random() < sigmoid(-5.5 - 0.5 * skill)
    if element.family == "choreo":
        level, base = 0, CHOREO_BASE
        grade = 0.5 * skill + 0.5 * artistry + 0.4 * day + 0.6 + rng.normal(0, 0.5)
    else:
        level = int(np.clip(round(2.6 + 0.9 * skill + rng.normal(0, 0.7)), 1, 4))
        base = (SPIN_BASE[element.code] if element.family == "spin" else STEP_BASE)[level - 1]
        grade = 0.7 * skill + 0.4 * day + 0.6 + rng.normal(0, 0.5)
    form = float(np.clip(grade, -3, 3))
    goe = panel_goe(form, goe_step(element, ()), fell, rng, bias)
    return Judged(base, goe, -3.0 if fell else form, form, level=level,
                  fall_offset=int(rng.integers(n)) if fell else None)


def panel_pcs(quality: float, artistry: float, reputation: float, falls: int, rng: np.random.Generator) -> int:
    """Five components marked to 0.25 by nine judges, middle seven averaged, summed, x 1.6 (hundredths)."""
    marks = np.array([mean + w_q * quality + w_a * artistry + w_r * reputation + per_fall * falls
                      for mean, w_q, w_a, w_r, per_fall in COMPONENTS.values()])  # (5,)
    judged = np.clip(np.round((marks[:, None] + rng.normal(0, 0.3, (len(marks), JUDGES))) * 4) / 4, 0.25, 10)
    return round(PCS_FACTOR * np.round(100 * trimmed_mean(judged)).sum())


def fall_deduction(nth: int) -> int:
    """The ``nth`` fall's deduction in hundredths (1-2: 1.0, 3-4: 2.0, later 3.0)."""
    return 100 if nth <= 2 else 200 if nth <= 4 else 300


def shown_execution(grade: float) -> float:
    """How strongly a grade shows: saturating, as a backbone sees clean and very clean alike."""
    return 1.5 * np.tanh(grade / 2)


class FreeSkatingSport:
    """One fixed sport per seed: embeddings, directions, venues and the feature map."""

    def __init__(self, seed: int, feature_dim: int):
        rng = np.random.default_rng([seed, 0])
        basis = orthonormal_directions(rng, RANK)
        names = ("skating", "artistry", "jump", "spin", "sequence", "level", "rotation", "fall", "recovery")
        self.direction = dict(zip(names, basis[: len(names)]))  # each (R,)
        content = basis[len(names) :]  # (C, R)

        def embedding() -> np.ndarray:  # (R,)
            return rng.normal(size=len(content)) @ content * 2.0 / np.sqrt(len(content))

        self.glide, self.pose, self.spinning, self.flying_entry = embedding(), embedding(), embedding(), embedding()
        self.steps, self.choreo, self.revolution = embedding(), embedding(), embedding()
        self.move = {m: embedding() for m in MOVES}
        self.position = {p: embedding() for p in ("camel", "sit", "upright", "layback")}
        take_off = {kind: embedding() for kind in ("T", "S", "Lo", "F", "Lz", "A")}
        self.jump = {j: take_off[j[1:]] + 0.35 * (int(j[0]) - 2.5) * self.revolution for j in JUMP_BASE}
        self.venues = np.array([embedding() for _ in range(8)])  # (8, R)
        self.feature_map = FeatureMap(rng, RANK, feature_dim)

    def jump_clips(self, judged: Judged, n: int) -> np.ndarray:
        """``(n, R)``: preparation, then each performed jump on its clip, execution on the landing."""
        shown = shown_execution(judged.form)
        latent = np.tile(0.7 * self.glide + 0.4 * self.jump[judged.jumps[0]], (n, 1))
        latent += 0.15 * shown * self.direction["jump"]  # speed into the jump
        for jump, under, clip in zip(judged.jumps, judged.under_rotated, judged.clip_of_jump):
            latent[clip] = self.jump[jump] + 0.3 * shown * self.direction["jump"]
            latent[clip] -= 1.0 * under * self.direction["rotation"]
        landing = judged.clip_of_jump[-1]
        if judged.fall_offset is None:
            latent[landing] += 0.3 * shown * self.direction["jump"]
        else:  # no landing to show: the fall instead
            latent[landing] += 3.0 * self.direction["fall"] - 0.3 * shown * self.direction["jump"]
        return latent

    def other_clips(self, element: Element, judged: Judged, n: int, artistry: float,
                    rng: np.random.Generator) -> np.ndarray:
        """``(n, R)`` for a spin, the step sequence or the choreographic sequence."""
        shown = shown_execution(judged.form)
        if element.family == "spin":
            positions = SPIN_POSITIONS[element.code]
            latent = np.array([self.spinning + self.position[positions[c * len(positions) // n]] for c in range(n)])
            if element.code[0] == "F":
                latent[0] += self.flying_entry - 0.5 * self.spinning
            latent += 0.5 * (shown + rng.normal(0, 0.2, (n, 1))) * self.direction["spin"]
        else:
            moves = STEP_MOVES if element.family == "steps" else CHOREO_MOVES
            own = self.steps if element.family == "steps" else self.choreo
            drawn = rng.choice(len(moves), size=n)
            latent = np.array([0.6 * own + 0.4 * self.glide + 0.7 * self.move[moves[m]] for m in drawn])
            latent += 0.45 * (shown + rng.normal(0, 0.5, (n, 1))) * self.direction["sequence"]
            if element.family == "choreo":
                latent += (0.5 * artistry + rng.normal(0, 0.3, (n, 1))) * self.direction["artistry"]
        latent += 0.35 * (judged.level - 2.5) * (judged.level > 0) * self.direction["level"]
        if judged.fall_offset is not None:
            latent[judged.fall_offset] += 3.0 * self.direction["fall"]
        return latent

    def connecting_clips(self, n: int, quality: float, artistry: float, rng: np.random.Generator) -> np.ndarray:
        """``(n, R)`` connecting skating: glide, and a move now and then (more for better skaters)."""
        with_move = rng.random(n) < sigmoid(0.8 * quality - 0.4)
        drawn = rng.choice(len(MOVES), size=n)
        latent = np.array([self.glide + (0.7 * self.move[MOVES[m]] if w else 0) for m, w in zip(drawn, with_move)])
        latent += (0.3 * artistry + rng.normal(0, 0.3, (n, 1))) * self.direction["artistry"]
        return latent

    def programme(self, name: str, length: int, rng: np.random.Generator) -> JudgedVideo:
        skill = float(np.clip(rng.normal(), -2.5, 2.5))
        day = float(rng.normal(0, 0.6))  # the skater's form on the day: execution and falls, not PCS
        quality = 0.8 * skill + 0.6 * rng.normal()
        artistry = 0.65 * skill + 0.76 * rng.normal()
        reputation = 0.6 * skill + 0.8 * rng.normal()
        elements = plan_elements(skill, rng)
        spans, music_start, music_end = lay_out([reference_duration(e, rng) for e in elements], length, rng)
        half = (music_start + music_end) / 2
        bias = rng.normal(0, 0.2, JUDGES)  # each judge's leaning on this programme

        truth = {k: np.zeros(length) for k in ("difficulty", "goe", "deduction")}
        element_type = np.full(length, -1)
        latent = self.connecting_clips(length, quality, artistry, rng)  # (T, R), elements overwrite their clips
        latent[:music_start] = latent[music_end:] = self.pose
        on_skating = np.ones(length, bool)
        on_skating[:music_start] = on_skating[music_end:] = False
        tes = falls = deductions = 0
        for element, (start, end) in zip(elements, spans):
            if element.family == "jump":
                judged = judge_jumps(element, start, end - start, half, skill, day, rng, bias)
                if judged.fall_offset is not None:
                    end = start + judged.fall_offset + 1  # the rest of the combination is not skated
                latent[start:end] = self.jump_clips(judged, end - start)
            else:
                judged = judge_other(element, end - start, skill, day, artistry, rng, bias)
                latent[start:end] = self.other_clips(element, judged, end - start, artistry, rng)
            element_type[start:end] = element.type_index
            truth["difficulty"][start:end] = judged.credited / 100 / (end - start)
            truth["goe"][start:end] = judged.goe / 100 / (end - start)
            tes += judged.credited + judged.goe
            if judged.fall_offset is not None:
                falls += 1
                where = start + judged.fall_offset
                truth["deduction"][where] = fall_deduction(falls) / 100
                deductions += fall_deduction(falls)
                if where + 1 < length:  # getting up
                    latent[where + 1] += 2.0 * self.direction["recovery"] + 1.0 * self.direction["fall"]
        pcs = panel_pcs(quality, artistry, reputation, falls, rng)
        features = self.features(latent, on_skating, quality, artistry, rng)
        truth["tes"] = truth["difficulty"] + truth["goe"]
        truth["contribution"] = truth["tes"] - truth["deduction"]
        truth["element_type"] = element_type.astype(np.float64)
        return JudgedVideo(name=name, features=features, truth=truth,
                           marks={"tes": int(tes), "pcs": int(pcs), "deductions": int(deductions)},
                           video={"skill": skill, "day": day, "quality": quality, "artistry": artistry,
                                  "reputation": reputation})

    def features(self, latent: np.ndarray, on_skating: np.ndarray, quality: float, artistry: float,
                 rng: np.random.Generator) -> np.ndarray:
        """``(T, R)`` content -> ``(T, F)`` features: skating quality, style, boundary mixing, noise."""
        length = len(latent)
        latent = latent + on_skating[:, None] * (0.4 * quality + rng.normal(0, 0.25, (length, 1))) \
            * self.direction["skating"]
        own_style = rng.normal(size=RANK) * 0.5 / np.sqrt(RANK)
        latent += self.venues[rng.integers(len(self.venues))] + own_style + 0.15 * artistry * self.direction["artistry"]
        padded = np.concatenate([latent[:1], latent, latent[-1:]])  # (T + 2, R)
        latent = 0.8 * latent + 0.1 * (padded[:-2] + padded[2:])  # a clip straddles its neighbours
        latent += ar1_noise(rng, length, RANK, 0.7) / np.sqrt(RANK)
        return self.feature_map.features(latent, rng, isotropic_std=0.05)


def generate(seed: int, count: int, feature_dim: int, min_clips: int, max_clips: int) -> Iterator[JudgedVideo]:
    """``count`` programmes of one sport, with numeric ids ``1`` ... ``count`` as in Fis-V."""
    sport = FreeSkatingSport(seed, feature_dim)
    rng = np.random.default_rng([seed, 1])
    for i in range(1, count + 1):
        yield sport.programme(str(i), int(rng.integers(min_clips, max_clips + 1)), rng)


def write_skating_heldout(root: str | Path, sizes: GenerationSizes = DEFAULT_SIZES) -> Path:
    """Write ``sizes.num_train + sizes.num_test`` programmes in the Fis-V layout plus ``truth/``; returns
    ``root``.

    The test ids are drawn among all ids (as in Fis-V); ``sizes.class_name`` is not used (Fis-V names
    videos by number).
    """
    min_clips, max_clips = sizes.clip_range(KIND, DEFAULT_CLIPS, FEWEST_CLIPS)
    count = sizes.num_train + sizes.num_test
    test_ids = np.random.default_rng([sizes.seed, 2]).choice(count, size=sizes.num_test, replace=False) + 1
    videos = generate(sizes.seed, count, sizes.feature_dim, min_clips, max_clips)
    return write_fisv_release(root, videos, {str(i) for i in test_ids})
