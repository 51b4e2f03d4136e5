"""``synchro_heldout``: ISU-like synchronized skating free skating, in the Fis-V layout; held out from
model design (docs/generators.md).

The rules, as generated here (ISU synchronized skating, simplified but with its structure):

* A team of 16 skaters skates a programme of ten required team elements, one of each type
  (intersection, block, circle, wheel, line, move element, pair element, twizzle element, creative
  element, no-hold element) in a random order, each spanning 2-6 consecutive clips, with connecting
  (choreographic) skating between them, an opening pose before the first and a closing pose after
  the last. Connecting skating is not an element: it earns nothing in TES and is judged in PCS.
* **Level**: the team attempts 1-4 of an element's four features (ambition follows skill); each
  attempted feature is confirmed or not (skill, unison, the type's hardness); the level is the number
  confirmed (0 = Base). The base value depends on the type and the level.
* **GOE**: nine judges grade each element -5..+5 (integers) around its true execution (skill, the
  team's unison over the element's clips -- its worst clips weigh most -- ambition, a fall); the
  panel's grade is the mean without the highest and the lowest grade; the GOE value is that grade /
  10 x the base value (rounded to 0.01). Element score = base + GOE value; TES = the sum of the scores.
* **Falls**: an incident in which k skaters fall (k = 1-3) costs k points (-1 for one skater, -2 for
  two in the same incident ...), located on its clip; on an element it also costs the element a
  feature and pulls every judge's grade down. Falls also happen in connecting skating (deduction only).
* **Interruptions**: now and then (more often after a multi-skater fall) the programme stops on one
  connecting clip: a 1-point deduction located there.
* **PCS**: composition, presentation and skating skills, each marked 0.25-10 (steps of 0.25) by nine
  judges for the whole programme, trimmed mean, x 2.0 each, summed. They follow video-level properties
  (skill, the team's choreography, its mean unison, its speed, falls), not a sum over clips.
* Total = TES + PCS - deductions; the Fis-V columns are TES, PCS and deductions (whole points).

Features: a latent of 64 dimensions per clip, mapped to ``feature_dim`` by one fixed random map.
Elements show their type's embedding, faded by the clip's unison (a team out of unison looks less like
the figure), a phase direction (entry, body, exit), a type-specific level shift (convex in the level),
a type-specific execution direction (in ``tanh``), a unison direction and a blur growing with the square
of the lack of unison. Connecting clips show the team's own choreography (each team a mix of six
motifs with its own offset) with its quality in ``tanh`` times unison. A fall shows on its clip (growing
with the skaters down), an interruption on its clip; style, speed and presentation sit in a per-video
vector; AR(1) noise on top.
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
    write_fisv_release,
)

KIND = "synchro_heldout"
DEFAULT_CLIPS = (36, 48)
"""About 36-48 clips of 32 frames at 25 fps."""


@dataclass(frozen=True)
class ElementType:
    code: str
    name: str
    base: tuple[int, int, int, int, int]
    """Base value in hundredths by level: Base, 1, 2, 3, 4."""
    clips: tuple[int, int]
    """Typical clips (fewest, most) in a programme of 42 clips."""
    hardness: float
    """How hard its features are to confirm and how often a skater falls in it (0-1)."""


ELEMENTS = (
    ElementType("I", "intersection", (250, 375, 500, 625, 750), (2, 3), 0.6),
    ElementType("B", "block", (200, 300, 400, 500, 600), (3, 5), 0.2),
    ElementType("C", "circle", (200, 300, 400, 500, 600), (3, 5), 0.2),
    ElementType("W", "wheel", (225, 350, 475, 600, 725), (3, 6), 0.4),
    ElementType("L", "line", (200, 300, 400, 500, 600), (3, 5), 0.3),
    ElementType("ME", "move element", (200, 300, 400, 525, 650), (3, 4), 0.5),
    ElementType("PaE", "pair element", (250, 350, 450, 575, 700), (2, 3), 0.8),
    ElementType("TwE", "twizzle element", (250, 375, 500, 650, 800), (2, 4), 1.0),
    ElementType("CrE", "creative element", (150, 250, 350, 450, 550), (2, 4), 0.3),
    ElementType("NHE", "no-hold element", (225, 325, 425, 550, 675), (3, 5), 0.4),
)
FEATURES_PER_ELEMENT = 4

SEGMENTS = ("opening", "connecting", "entry", "body", "exit", "fall", "interruption", "closing")
"""``segment`` codes: 0 opening pose, 1 connecting skating, 2 an element's first clip, 3 its middle
clips, 4 its last clip, 5 a clip with a fall (on an element or in connecting skating), 6 an
interruption (a connecting clip), 7 closing pose."""
OPENING, CONNECTING, ENTRY, BODY, EXIT, FALL, INTERRUPTION, CLOSING = range(len(SEGMENTS))
FEWEST_CLIPS = 2 * len(ELEMENTS) + len(ELEMENTS) + 1
"""Every element on at least 2 clips, a connecting clip between elements, the opening and closing poses."""

JUDGES = 9
GOE_RANGE = 5
PCS_FACTOR = 2.0
COMPONENTS = {
    # component: mean mark, weights of skill, choreography, presentation, unison, speed; minus per skater down
    "composition": (6.4, 0.25, 0.7, 0.1, 0.4, 0.0, 0.10),
    "presentation": (6.5, 0.2, 0.2, 0.7, 0.6, 0.0, 0.30),
    "skating skills": (6.3, 0.4, 0.0, 0.0, 0.3, 0.5, 0.15),
}
MOTIFS = 6
RANK = 64


def trimmed_mean(marks: np.ndarray) -> np.ndarray:
    """The panel's mark: the mean of the judges' marks without the highest and the lowest (last axis)."""
    return np.sort(marks, axis=-1)[..., 1:-1].mean(axis=-1)


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


@dataclass
class Team:
    """Video-level properties of one team's programme."""

    skill: float
    ambition: float  # how many features it attempts (follows skill)
    choreography: float
    unison: float  # the team's usual unison (0-1)
    speed: float
    presentation: float
    motif_weights: np.ndarray  # (MOTIFS,) how often each connecting motif appears in its choreography


@dataclass
class JudgedElement:
    kind: int
    start: int
    end: int
    level: int
    base: int  # hundredths
    goe: int  # hundredths
    grade: float  # true execution, -5..5
    grades: np.ndarray  # the nine judges' grades
    fall_clip: int = -1
    fallen: int = 0  # skaters down in the incident


class SynchroSport:
    """One fixed sport per seed: type embeddings, directions, choreography motifs, the feature map."""

    def __init__(self, seed: int, feature_dim: int):
        rng = np.random.default_rng([seed, 0])
        basis = orthonormal_directions(rng, RANK)
        n = len(ELEMENTS)
        (self.unison_direction, self.blur_direction, self.fall_direction, self.interruption_direction,
         self.choreo_direction, self.speed_direction, self.presentation_direction) = basis[:7]
        self.goe_direction = basis[7 : 7 + n]
        self.level_direction = basis[7 + n : 7 + 2 * n]
        self.phase_direction = basis[7 + 2 * n : 12 + 2 * n]  # entry, body, exit, opening, closing
        self.content = basis[12 + 2 * n :]
        scale = 2.0 / np.sqrt(len(self.content))
        self.type_embedding = rng.normal(size=(n, len(self.content))) @ self.content * scale
        self.motifs = rng.normal(size=(MOTIFS, len(self.content))) @ self.content * scale
        self.feature_map = FeatureMap(rng, RANK, feature_dim)

    def team(self, rng: np.random.Generator) -> Team:
        skill = float(np.clip(rng.normal(), -2.5, 2.5))
        return Team(
            skill=skill,
            ambition=float(0.6 * skill + 0.8 * rng.normal()),
            choreography=float(0.5 * skill + 0.87 * rng.normal()),
            unison=float(sigmoid(1.7 + 0.5 * skill + 0.3 * rng.normal())),
            speed=float(0.6 * skill + 0.8 * rng.normal()),
            presentation=float(0.5 * skill + 0.87 * rng.normal()),
            motif_weights=rng.dirichlet(np.full(MOTIFS, 0.4)),
        )

    def layout(self, length: int, rng: np.random.Generator) -> list[tuple[int, int, int]]:
        """``(kind, start, end)`` of the ten elements in programme order, connecting clips between them
        and at least one clip before the first and after the last (the poses)."""
        order = rng.permutation(len(ELEMENTS))
        scale = length / 42
        durations = np.array([int(np.clip(round(rng.integers(ELEMENTS[k].clips[0], ELEMENTS[k].clips[1] + 1)
                                                  * scale), 2, 6)) for k in order])
        while durations.sum() + len(order) + 1 > length:
            durations[durations.argmax()] -= 1
        free = length - durations.sum() - (len(order) + 1)
        gaps = 1 + rng.multinomial(free, rng.dirichlet(np.full(len(order) + 1, 2.5)))
        starts = gaps[:-1].cumsum() + np.concatenate([[0], durations[:-1].cumsum()])
        return [(int(k), int(s), int(s + d)) for k, s, d in zip(order, starts, durations)]

    def unison_track(self, team: Team, length: int, rng: np.random.Generator) -> np.ndarray:
        """The team's unison on each clip (0-1): AR(1) around its usual level, tiring towards the end."""
        logit = np.log(team.unison / (1 - team.unison))
        drift = 0.6 * ar1_noise(rng, length, 1, 0.75)[:, 0] - 0.5 * np.linspace(0, 1, length) ** 2
        return sigmoid(logit + drift)

    def judge_element(self, kind: int, start: int, end: int, team: Team, unison: np.ndarray,
                      rng: np.random.Generator) -> JudgedElement:
        """Level, fall, judges' grades and GOE of one element."""
        element = ELEMENTS[kind]
        shown = unison[start:end]
        worst = -np.log(np.mean(np.exp(-8 * shown))) / 8  # a soft minimum: the worst clips weigh most
        attempted = int(np.clip(round(2.8 + 0.8 * team.ambition + rng.normal(0, 0.6)), 1, FEATURES_PER_ELEMENT))
        confirm = sigmoid(1.9 + 0.7 * team.skill - 1.0 * element.hardness + 3.0 * (worst - 0.8))
        level = int((rng.random(attempted) < confirm).sum())
        fall_logit = -4.4 - 0.6 * team.skill + 1.2 * element.hardness + 0.25 * attempted - 3.0 * (worst - 0.8)
        fallen = int(rng.choice([1, 2, 3], p=[0.75, 0.2, 0.05])) if rng.random() < sigmoid(fall_logit) else 0
        skill_here = 0.8 * team.skill + rng.normal(0, 0.5)
        grade = 0.6 + 1.1 * skill_here + 8.0 * (worst - 0.8) - 0.3 * (attempted - 2.5) - 0.4 * element.hardness
        fall_clip = -1
        if fallen:
            level = max(0, level - 1)
            grade -= 2.0 + fallen
            fall_clip = int(rng.integers(start + 1, end)) if end - start > 1 else start
        grade = float(np.clip(grade, -GOE_RANGE, GOE_RANGE))
        grades = np.clip(np.round(grade + rng.normal(0, 0.7, JUDGES)), -GOE_RANGE, GOE_RANGE)
        base = element.base[level]
        goe = int(round(trimmed_mean(grades) / 10 * base))
        return JudgedElement(kind, start, end, level, base, goe, grade, grades, fall_clip, fallen)

    def pcs(self, team: Team, unison: np.ndarray, skaters_down: int, rng: np.random.Generator) -> int:
        """PCS in hundredths: three components, nine judges each, trimmed mean, x the factor."""
        total = 0
        for mean, w_skill, w_choreo, w_pres, w_unison, w_speed, per_fall in COMPONENTS.values():
            mark = (mean + w_skill * team.skill + w_choreo * np.tanh(team.choreography) + w_pres * team.presentation
                    + w_speed * team.speed + w_unison * (unison.mean() - 0.8) * 4 - per_fall * skaters_down)
            judged = np.clip(np.round((mark + rng.normal(0, 0.3, JUDGES)) * 4) / 4, 0.25, 10)
            total += int(round(100 * trimmed_mean(judged)))
        return int(round(PCS_FACTOR * total))

    def programme(self, name: str, length: int, rng: np.random.Generator) -> JudgedVideo:
        team = self.team(rng)
        unison = self.unison_track(team, length, rng)
        elements = [self.judge_element(k, s, e, team, unison, rng) for k, s, e in self.layout(length, rng)]
        segment, element_type, element_id = self.segments(elements, length)
        deduction = np.zeros(length)
        for element in elements:
            if element.fallen:
                deduction[element.fall_clip] += element.fallen
                segment[element.fall_clip] = FALL
                unison[max(0, element.fall_clip - 1) : element.fall_clip + 2] *= 0.7  # the lines break
        self.incidents_off_elements(team, segment, deduction, elements, rng)
        truth = self.truth(elements, length, segment, element_type, element_id, deduction)
        tes = sum(e.base + e.goe for e in elements)
        pcs = self.pcs(team, unison, int(deduction[segment == FALL].sum()), rng)
        features = self.features(team, elements, unison, segment, element_type, deduction, rng)
        return JudgedVideo(
            name=name, features=features, truth=truth,
            marks={"tes": int(tes), "pcs": pcs, "deductions": 100 * int(round(deduction.sum()))},
            video={"skill": team.skill, "choreography": team.choreography, "unison": float(unison.mean()),
                   "speed": team.speed, "presentation": team.presentation},
        )

    @staticmethod
    def segments(elements: list[JudgedElement], length: int) -> tuple[np.ndarray, ...]:
        """``segment``, ``element_type`` and ``element`` per clip before any incident."""
        segment = np.full(length, CONNECTING)
        element_type, element_id = np.full(length, -1), np.full(length, -1)
        for i, e in enumerate(elements):
            segment[e.start : e.end] = BODY
            segment[e.start], segment[e.end - 1] = ENTRY, EXIT
            element_type[e.start : e.end], element_id[e.start : e.end] = e.kind, i
        segment[0], segment[-1] = OPENING, CLOSING
        return segment, element_type, element_id

    @staticmethod
    def incidents_off_elements(team: Team, segment: np.ndarray, deduction: np.ndarray,
                               elements: list[JudgedElement], rng: np.random.Generator) -> None:
        """Falls in connecting skating and interruptions, each on a connecting clip (in place)."""
        if rng.random() < sigmoid(-3.5 - 0.6 * team.skill):
            free = np.flatnonzero(segment == CONNECTING)
            if len(free):
                where = int(rng.choice(free))
                deduction[where] += 1
                segment[where] = FALL
        multi = sum(e.fallen >= 2 for e in elements)
        if rng.random() < 0.04 + 0.25 * multi:
            free = np.flatnonzero(segment == CONNECTING)
            if len(free):
                where = int(rng.choice(free))
                deduction[where] += 1
                segment[where] = INTERRUPTION

    @staticmethod
    def truth(elements: list[JudgedElement], length: int, segment: np.ndarray, element_type: np.ndarray,
              element_id: np.ndarray, deduction: np.ndarray) -> dict[str, np.ndarray]:
        difficulty, goe, level = np.zeros(length), np.zeros(length), np.full(length, -1.0)
        for e in elements:
            n = e.end - e.start
            difficulty[e.start : e.end] = e.base / 100 / n
            goe[e.start : e.end] = e.goe / 100 / n
            level[e.start : e.end] = e.level
        tes = difficulty + goe
        return {"difficulty": difficulty, "goe": goe, "tes": tes, "deduction": deduction.astype(float),
                "contribution": tes - deduction, "element_type": element_type.astype(float),
                "element": element_id.astype(float), "segment": segment.astype(float), "level": level}

    def features(self, team: Team, elements: list[JudgedElement], unison: np.ndarray, segment: np.ndarray,
                 element_type: np.ndarray, deduction: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        length = len(unison)
        latent = self.connecting_latent(team, unison, rng)  # (T, R), replaced on element clips
        for e in elements:
            u = unison[e.start : e.end, None]
            shape = (e.level / FEATURES_PER_ELEMENT) ** 1.5 * 2.0 - 0.7
            latent[e.start : e.end] = (self.type_embedding[e.kind] * (0.55 + 0.45 * u)
                                       + shape * self.level_direction[e.kind]
                                       + 1.2 * np.tanh(e.grade / 2.5) * self.goe_direction[e.kind])
        phase = {ENTRY: 0, BODY: 1, EXIT: 2, OPENING: 3, CLOSING: 4}
        for code, row in phase.items():
            latent[segment == code] += self.phase_direction[row]
        latent += (2.0 * (unison[:, None] - 0.75) * self.unison_direction
                   + 4.0 * (1 - unison[:, None]) ** 2 * self.blur_direction)
        falls = np.where(segment == FALL, np.sqrt(deduction), 0.0)
        latent += 2.5 * falls[:, None] * self.fall_direction
        latent += 2.5 * (segment == INTERRUPTION)[:, None] * self.interruption_direction
        style = rng.normal(size=len(self.content)) @ self.content * 1.5 / np.sqrt(len(self.content))
        latent += style + 0.5 * team.speed * self.speed_direction
        latent += 0.5 * team.presentation * self.presentation_direction
        latent += ar1_noise(rng, length, RANK, 0.8) * 0.8 / np.sqrt(RANK)
        return self.feature_map.features(latent, rng, isotropic_std=0.05)

    def connecting_latent(self, team: Team, unison: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Connecting skating: the team's own mix of motifs and offset, its quality in ``tanh`` x unison."""
        length = len(unison)
        offset = rng.normal(size=len(self.content)) @ self.content * 1.0 / np.sqrt(len(self.content))
        motif = rng.choice(MOTIFS, size=length, p=team.motif_weights)
        quality = np.tanh(team.choreography + rng.normal(0, 0.3, length)) * unison
        return self.motifs[motif] + offset + 1.5 * quality[:, None] * self.choreo_direction


def generate(seed: int, count: int, feature_dim: int, min_clips: int, max_clips: int) -> Iterator[JudgedVideo]:
    """``count`` programmes of one sport, with numeric ids ``1`` ... ``count`` as in Fis-V."""
    sport = SynchroSport(seed, feature_dim)
    rng = np.random.default_rng([seed, 1])
    for i in range(1, count + 1):
        yield sport.programme(str(i), int(rng.integers(min_clips, max_clips + 1)), rng)


def write_synchro_heldout(root: str | Path, sizes: GenerationSizes = DEFAULT_SIZES) -> Path:
    """Write ``sizes.num_train + sizes.num_test`` programmes in the Fis-V layout plus ``truth/``; returns
    ``root``. The test ids are drawn among all ids; ``sizes.class_name`` is not used."""
    min_clips, max_clips = sizes.clip_range(KIND, DEFAULT_CLIPS, FEWEST_CLIPS)
    count = sizes.num_train + sizes.num_test
    test_ids = np.random.default_rng([sizes.seed, 2]).choice(count, size=sizes.num_test, replace=False) + 1
    videos = generate(sizes.seed, count, sizes.feature_dim, min_clips, max_clips)
    return write_fisv_release(root, videos, {str(i) for i in test_ids})
