"""``tumbling_heldout``: FIG-like power tumbling in the RG layout, held out from model design.

The rules, as generated here (docs/generators.md has the full description):

* A video shows a presentation to the judges, then **passes** (two in 21-47 clips, one more per 16
  clips beyond that), each a run-up, **8 elements** performed back to back and a landing, with a walk
  back between passes (and after the last). A clip is 32 frames (1.28 s): links (round-off, flic-flac,
  whip) take 1 clip, single somersaults 1-2, double somersaults 1-3, triple somersaults 2-3.
* **D** = the tariffs of the credited elements plus bonuses: links 0.1-0.2; single somersaults 0.5,
  +0.1 piked or straight, +0.1 per half twist; doubles 2.0, +0.2 per shape step, +0.2 per half twist;
  triples 4.5, +0.5 piked, +0.3 per half twist. Bonus: +0.2 for a multiple somersault performed
  directly after a somersault, +0.1 for a twisting element directly after a twisting element. An
  element landed in a fall earns nothing, nor does a multiple somersault already credited in the video.
* **E** = 10 - execution deductions. Each element is judged 0.0-0.5 (body position, loss of height and
  rhythm, lateral deviation) by four judges in tenths; the panel deducts the mean of the middle two.
  The landing of a pass costs 0.0-0.3 the same way, a fall 1.0. A fall (or a stop on the feet) ends the
  pass: each of its elements not performed costs 0.5, on the clip where the pass ended. E stays >= 0.
* **Penalty** (no clip): landing outside the landing area (0.1 or 0.3 per pass), a coach's
  interference (0.5).

Per-clip truth: ``difficulty`` (sums to D), ``deduction`` (sums to 10 - E), ``contribution`` =
difficulty - deduction (sums to Total + Penalty - 10), ``element_type`` (-1 off elements) and
``segment`` (:data:`SEGMENTS`).
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
    check_class_name,
    write_rg_release,
)

KIND = "tumbling_heldout"
DEFAULT_CLIPS = (28, 36)
"""A final's two passes with the run-ups and the walk back between them: 36-46 s."""
ELEMENTS_PER_PASS = 8
FEWEST_CLIPS = 2 * (1 + ELEMENTS_PER_PASS + 1) + 1
"""Two passes of a 1-clip run-up, 8 one-clip elements and a landing, and one clip of walk between them."""
CLIPS_PER_PASS = 16
"""Videos of ``3 x CLIPS_PER_PASS`` clips or more hold one pass more per ``CLIPS_PER_PASS`` clips."""

SEGMENTS = {"presentation": 0, "run_up": 1, "element": 2, "landing": 3, "fall": 4, "walk": 5}
"""``segment`` codes: what each clip shows."""
PRESENTATION, RUN_UP, ELEMENT, LANDING, FALL, WALK = range(6)

LINKS = (("round-off", 10), ("flic-flac", 10), ("whip", 20))
"""Links: no somersault, tariff in hundredths. Every pass opens with the round-off."""
ROUND_OFF, FLIC_FLAC, WHIP = range(3)
SHAPES = ("tuck", "pike", "straight")
SOMERSAULT_CANDIDATES = {
    # somersaults: every (shape, half twists) a seed may draw from; the first is always drawn
    1: [(0, 0), (1, 0), (2, 0), (2, 1), (2, 2), (2, 3), (2, 4), (2, 6)],
    2: [(0, 0), (1, 0), (2, 0), (0, 2), (1, 2), (2, 2), (0, 4), (2, 4)],
    3: [(0, 0), (1, 0), (0, 2), (1, 2)],
}
TYPES_DRAWN = {1: 6, 2: 5, 3: 2}
"""Element types per seed in each somersault family."""
CLIP_LENGTHS = {0: ([1], [1.0]), 1: ([1, 2], [0.8, 0.2]), 2: ([1, 2, 3], [0.2, 0.65, 0.15]), 3: ([2, 3], [0.5, 0.5])}
"""Clips an element takes, by somersaults: the lengths and their chances."""

CONNECTION_BONUS = 20
"""A multiple somersault directly after a credited somersault."""
TWIST_BONUS = 10
"""A twisting element (a full twist or more) directly after a credited twisting element."""
FALL_DEDUCTION = 100
MISSING_DEDUCTION = 50
"""Each element of a pass not performed after a fall or a stop."""
MAX_EXECUTION = 1000
OUT_OF_AREA = (np.array([10, 30]), np.array([0.7, 0.3]))
"""Landing outside the landing area: one foot or both, and how often each."""
COACH = 50

# How an athlete performs (tuned so that, over seeds 0-5, D is 8.0-8.5 +- 4.1-4.8, E 7.6-7.7 +- 1.4-1.5
# and D, E correlate 0.41-0.52):
LEVEL_SKILL, QUALITY_SKILL = 0.85, 0.75
"""Difficulty level and execution quality = this x skill + noise (0.5, 0.65)."""
CHOICE_WIDTH = 0.6
CHOICE_GAIN = 0.6
"""Athletes choose somersaults near CHOICE_GAIN x level in standardised tariff ..."""
FINISH_LIFT = 0.6
"""... the last element of a pass about this many standard deviations harder ..."""
MIDDLE_DROP = 0.4
"""... and somersaults inside the pass this many easier."""
FAULT_BASE = -1.2
"""Logit of each fault check (3 for body position, 2 for height, 2 for lateral deviation) ..."""
FAULT_HARDNESS, FAULT_QUALITY = 0.35, 0.8
"""... + FAULT_HARDNESS x the element's standardised tariff - FAULT_QUALITY x quality."""
RHYTHM_DECAY = 0.6
"""Loss of height carries over to the next elements (raising their height faults) with this decay."""
FALL_BASE, STOP_BASE = -4.4, -6.0
LANDING_LOGITS = np.array([1.0, 0.8, 0.0, -1.4])
"""Landing faults of 0.0 (stuck) to 0.3 (hands on the mat) before quality shifts them."""
MISJUDGE = 0.15

# Features
RANK = 32
FAULT_DIMS = 8
"""The first FAULT_DIMS latent directions hold the faults; the rest, what is performed and the style."""
HIDDEN = 48
POSITION_GAIN, POSITION_SPREAD = 0.45, 0.15
"""Latent units per tenth of a body-position fault on the element's middle clip, and on each neighbour."""
RHYTHM_GAIN, DRIFT_DECAY = 0.4, 0.75
LATERAL_GAIN = 0.5
LANDING_GAIN, OUT_GAIN = 0.5, 0.6


def sigmoid(x: float) -> float:
    return float(1.0 / (1.0 + np.exp(-x)))


def tariff(somersaults: int, shape: int, half_twists: int) -> int:
    """FIG-like tariff of a somersault element in hundredths of a point."""
    if somersaults == 1:
        return 50 + 10 * min(shape, 1) + 10 * half_twists
    if somersaults == 2:
        return 200 + 20 * shape + 20 * half_twists
    return 450 + 50 * shape + 30 * half_twists


def panel_deduction(true_tenths: int, rng: np.random.Generator, top: int = 5) -> int:
    """Four judges see ``true_tenths`` one tenth lower or higher now and then (within 0..top); the panel
    deducts the mean of the middle two, in hundredths (a multiple of 0.05)."""
    slips = rng.choice([-1, 0, 1], size=4, p=[MISJUDGE, 1 - 2 * MISJUDGE, MISJUDGE])
    seen = np.sort(np.clip(true_tenths + slips, 0, top))
    return int(5 * (seen[1] + seen[2]))


@dataclass(frozen=True)
class ElementType:
    """A tumbling element: somersaults (0 for a link), shape (0 tuck, 1 pike, 2 straight), half twists."""

    name: str
    somersaults: int
    shape: int
    half_twists: int
    value: int
    """Tariff in hundredths."""


@dataclass
class Athlete:
    skill: float
    level: float
    """Standardised difficulty the athlete goes for."""
    quality: float
    """How cleanly the athlete performs."""


@dataclass
class PassResult:
    """How one pass went: per element fault components in tenths (position, height, lateral) and panel
    deductions in hundredths, where it ended and what the ending clip costs."""

    components: np.ndarray  # (8, 3)
    panel: np.ndarray  # (8,)
    signs: np.ndarray  # (8,) the side of a lateral deviation
    performed: int = ELEMENTS_PER_PASS
    fell: bool = False
    landing_tenths: int = 0
    ending: int = 0
    out_of_area: bool = False


@dataclass
class Plan:
    """Planned clips: presentation, per pass its run-up, element lengths and the walk after it."""

    presentation: int
    run_ups: list[int]
    elements: list[list[int]]
    walks: list[int]

    def total(self) -> int:
        return self.presentation + sum(self.run_ups) + sum(map(sum, self.elements)) + len(self.run_ups) + sum(
            self.walks)

    def shorten_one(self) -> None:
        """One clip less: presentation first, then walks, run-ups, and the longest elements."""
        floors = [1] * (len(self.walks) - 1) + [0]
        if self.presentation > 0:
            self.presentation -= 1
        elif any(w > f for w, f in zip(self.walks, floors)):
            p = int(np.argmax([w - f for w, f in zip(self.walks, floors)]))
            self.walks[p] -= 1
        elif max(self.run_ups) > 1:
            self.run_ups[int(np.argmax(self.run_ups))] -= 1
        else:
            p = int(np.argmax([max(lengths) for lengths in self.elements]))
            self.elements[p][int(np.argmax(self.elements[p]))] -= 1

    def lengthen(self, extra: int, rng: np.random.Generator) -> None:
        """``extra`` clips more, spread over the presentation, run-ups and walks (mostly the walks)."""
        n = len(self.run_ups)
        weights = np.array([1.0] + [1.0] * n + [2.0] * n)
        added = rng.multinomial(extra, weights / weights.sum())
        self.presentation += int(added[0])
        self.run_ups = [r + int(a) for r, a in zip(self.run_ups, added[1:n + 1])]
        self.walks = [w + int(a) for w, a in zip(self.walks, added[n + 1:])]


@dataclass
class Layout:
    """What each clip shows, and where each performed element and each pass's ending is."""

    segment: list[int] = field(default_factory=list)
    element_type: list[int] = field(default_factory=list)
    elements: list[tuple[int, int, list[int]]] = field(default_factory=list)
    """(pass, slot, clips) of each performed element."""
    endings: list[int] = field(default_factory=list)
    run_ups: list[list[int]] = field(default_factory=list)

    def add(self, segment: int, element_type: int, count: int) -> list[int]:
        start = len(self.segment)
        self.segment += [segment] * count
        self.element_type += [element_type] * count
        return list(range(start, start + count))


def passes_for(length: int) -> int:
    """Passes in a video of ``length`` clips."""
    return max(2, length // CLIPS_PER_PASS)


def draw_athlete(rng: np.random.Generator) -> Athlete:
    skill = float(np.clip(rng.normal(), -2.5, 2.5))
    level = LEVEL_SKILL * skill + 0.5 * float(rng.normal())
    quality = QUALITY_SKILL * skill + 0.65 * float(rng.normal())
    return Athlete(skill, level, quality)


def fit_plan(lengths: list[list[int]], length: int, rng: np.random.Generator) -> Plan:
    """Natural run-ups (2-3 clips) and walks (2-4), then shortened or lengthened to exactly ``length``."""
    n = len(lengths)
    plan = Plan(1, [int(rng.integers(2, 4)) for _ in range(n)], [list(x) for x in lengths],
                [int(rng.integers(2, 5)) for _ in range(n - 1)] + [1])
    for _ in range(plan.total() - length):
        plan.shorten_one()
    if plan.total() < length:
        plan.lengthen(length - plan.total(), rng)
    return plan


def build_layout(plan: Plan, types: list[list[int]], results: list[PassResult]) -> Layout:
    """The clips in order. After a fall or a stop the pass's next planned clip shows the ending, and the
    rest of its planned clips the walk back."""
    layout = Layout()
    layout.add(PRESENTATION, -1, plan.presentation)
    for p, (kinds, lengths, result) in enumerate(zip(types, plan.elements, results)):
        layout.run_ups.append(layout.add(RUN_UP, -1, plan.run_ups[p]))
        for k in range(result.performed):
            layout.elements.append((p, k, layout.add(ELEMENT, kinds[k], lengths[k])))
        layout.endings += layout.add(FALL if result.fell else LANDING, -1, 1)
        layout.add(WALK, -1, sum(lengths[result.performed:]) + plan.walks[p])
    return layout


def split_deduction(amount: int, components: np.ndarray, clips: int) -> np.ndarray:
    """An element's panel deduction (hundredths, a multiple of 5) over its clips, in multiples of 5:
    body position on the middle clip, loss of height evenly over all, lateral deviation on the last."""
    position, height, lateral = (float(c) for c in components)
    weights = np.full(clips, height / clips)
    weights[clips // 2] += position
    weights[-1] += lateral
    if weights.sum() == 0:
        weights[clips // 2] = 1.0
    share = amount // 5 * weights / weights.sum()
    units = np.floor(share + 1e-9).astype(np.int64)
    order = np.argsort(-(share - units), kind="stable")
    units[order[: amount // 5 - int(units.sum())]] += 1
    return units * 5


def cap_deductions(deduction: np.ndarray) -> np.ndarray:
    """E cannot go below 0: the last deductions of the video go unpunished."""
    excess = int(deduction.sum()) - MAX_EXECUTION
    for clip in range(len(deduction) - 1, -1, -1):
        if excess <= 0:
            break
        taken = min(excess, int(deduction[clip]))
        deduction[clip] -= taken
        excess -= taken
    return deduction


class TumblingSport:
    """One fixed sport per seed: the element types, embeddings, fault directions and feature map."""

    def __init__(self, seed: int, feature_dim: int):
        rng = np.random.default_rng([seed, 0])
        self.types = [ElementType(name, 0, 0, 0, value) for name, value in LINKS]
        for somersaults, candidates in SOMERSAULT_CANDIDATES.items():
            drawn = [0, *sorted(1 + rng.choice(len(candidates) - 1, TYPES_DRAWN[somersaults] - 1, replace=False))]
            for shape, twists in (candidates[i] for i in drawn):
                name = f"{('single', 'double', 'triple')[somersaults - 1]} {SHAPES[shape]} {twists / 2:g} twists"
                self.types.append(ElementType(name, somersaults, shape, twists, tariff(somersaults, shape, twists)))
        log_value = np.log([t.value for t in self.types])
        self.hardness = (log_value - log_value.mean()) / log_value.std()
        self.somersaults = np.array([t.somersaults for t in self.types])
        self.seed = seed
        self._draw_features(rng, feature_dim)

    def _draw_features(self, rng: np.random.Generator, feature_dim: int) -> None:
        """Embeddings built from the element's make-up (somersaults, shape, twists) plus its own part;
        type-specific body-position fault directions; a fixed non-linear map to the features."""
        basis = orthonormal_directions(rng, RANK)
        faults, self.content = basis[:FAULT_DIMS], basis[FAULT_DIMS:]
        scale = 2.0 / np.sqrt(RANK)
        parts = rng.normal(size=(4 + len(SHAPES) + 1, RANK - FAULT_DIMS)) @ self.content * scale
        own = rng.normal(size=(len(self.types), RANK - FAULT_DIMS)) @ self.content * scale
        self.type_embedding = np.stack([
            parts[t.somersaults] + 0.5 * parts[4 + t.shape] * (t.somersaults > 0)
            + 0.25 * t.half_twists * parts[-1] + 0.6 * own[j] for j, t in enumerate(self.types)])
        self.segment_embedding = rng.normal(size=(len(SEGMENTS), RANK - FAULT_DIMS)) @ self.content * scale
        self.take_off, self.touch_down, self.run_direction = rng.normal(size=(3, RANK - FAULT_DIMS)) @ self.content * (
            scale / 2)
        directions = rng.normal(size=(len(self.types), 4))
        self.position_directions = (directions / np.linalg.norm(directions, axis=1, keepdims=True)) @ faults[:4]
        self.rhythm_direction, self.lateral_direction, self.landing_direction, self.out_direction = faults[4:]
        self.mix = rng.normal(size=(RANK, HIDDEN)) * 2.0 / np.sqrt(RANK)
        self.bias = rng.normal(size=HIDDEN) * 0.5
        self.feature_map = FeatureMap(rng, HIDDEN, feature_dim)

    def pick(self, candidates: np.ndarray, target: float, rng: np.random.Generator, avoid: set[int]) -> int:
        """One of ``candidates`` (type indices), near ``target`` in standardised tariff; ``avoid``: rarely."""
        weights = np.exp(-0.5 * ((self.hardness[candidates] - target) / CHOICE_WIDTH) ** 2) + 1e-6
        weights *= np.where(np.isin(candidates, list(avoid)), 0.1, 1.0)
        return int(rng.choice(candidates, p=weights / weights.sum()))

    def choose_pass(self, level: float, rng: np.random.Generator, avoid: set[int]) -> list[int]:
        """A round-off, six links or somersaults (more somersaults for higher levels), a finishing element.
        Multiple somersaults in ``avoid`` (already in the video) or already in the pass are rarely chosen
        again (a repeated one earns nothing)."""
        middle = np.flatnonzero((self.somersaults >= 1) & (self.somersaults <= 2))
        finishers = np.flatnonzero(self.somersaults >= 1)
        kinds = [ROUND_OFF]
        somersault_slots = set(1 + rng.choice(6, size=int(rng.binomial(3, sigmoid(level - 0.8))), replace=False))
        for slot in range(1, ELEMENTS_PER_PASS - 1):
            if slot in somersault_slots:
                kinds.append(self.pick(middle, CHOICE_GAIN * level - MIDDLE_DROP, rng, avoid | self.multiples(kinds)))
            else:
                kinds.append(WHIP if rng.random() < 0.35 else FLIC_FLAC)
        kinds.append(self.pick(finishers, CHOICE_GAIN * level + FINISH_LIFT, rng, avoid | self.multiples(kinds)))
        return kinds

    def multiples(self, kinds: list[int]) -> set[int]:
        """The multiple somersaults among ``kinds``."""
        return {k for k in kinds if self.somersaults[k] >= 2}

    def clip_length(self, kind: int, rng: np.random.Generator) -> int:
        lengths, chances = CLIP_LENGTHS[int(self.somersaults[kind])]
        return int(rng.choice(lengths, p=chances))

    def faults(self, kind: int, quality: float, rhythm: float, rng: np.random.Generator) -> np.ndarray:
        """True fault components in tenths: body position (0-3), loss of height (0-2), lateral (0-2)."""
        base = FAULT_BASE + FAULT_HARDNESS * self.hardness[kind] - FAULT_QUALITY * quality
        twists = self.types[kind].half_twists
        return np.array([rng.binomial(3, sigmoid(base)), rng.binomial(2, sigmoid(base - 0.4 + 0.5 * rhythm)),
                         rng.binomial(2, sigmoid(base - 0.8 + 0.2 * twists))])

    def fall_chance(self, kind: int, slot: int, quality: float) -> float:
        if self.somersaults[kind] == 0:
            return 0.002
        last = 0.4 if slot == ELEMENTS_PER_PASS - 1 else 0.0
        return sigmoid(FALL_BASE + 0.9 * self.hardness[kind] - 0.9 * quality + last)

    def perform(self, kinds: list[int], quality: float, rng: np.random.Generator) -> PassResult:
        """Judge a pass element by element until it ends: after the 8th, on a fall, or on a stop."""
        result = PassResult(np.zeros((ELEMENTS_PER_PASS, 3), dtype=np.int64),
                            np.zeros(ELEMENTS_PER_PASS, dtype=np.int64), rng.choice([-1.0, 1.0], ELEMENTS_PER_PASS))
        rhythm = 0.0
        for k, kind in enumerate(kinds):
            result.components[k] = self.faults(kind, quality, rhythm, rng)
            result.panel[k] = panel_deduction(min(int(result.components[k].sum()), 5), rng)
            rhythm = RHYTHM_DECAY * rhythm + result.components[k, 1]
            if rng.random() < self.fall_chance(kind, k, quality):
                result.performed, result.fell = k + 1, True
                break
            if k < ELEMENTS_PER_PASS - 1 and rng.random() < sigmoid(STOP_BASE + 0.6 * rhythm - 0.5 * quality):
                result.performed = k + 1
                break
        if result.fell:
            result.ending = FALL_DEDUCTION
        else:
            shift = quality - 0.3 * self.hardness[kinds[result.performed - 1]]
            logits = LANDING_LOGITS - 0.5 * shift * np.arange(len(LANDING_LOGITS))
            chances = np.exp(logits) / np.exp(logits).sum()
            result.landing_tenths = int(rng.choice(len(LANDING_LOGITS), p=chances))
            result.ending = panel_deduction(result.landing_tenths, rng, top=len(LANDING_LOGITS) - 1)
        result.ending += MISSING_DEDUCTION * (ELEMENTS_PER_PASS - result.performed)
        return result

    def credit(self, types: list[list[int]], results: list[PassResult]) -> list[list[int]]:
        """Per pass, per performed element, its credited tariff plus bonus in hundredths."""
        credited_multiples: set[int] = set()
        credits = []
        for kinds, result in zip(types, results):
            row: list[int] = []
            for k in range(result.performed):
                element = self.types[kinds[k]]
                fell_here = result.fell and k == result.performed - 1
                repeated = element.somersaults >= 2 and kinds[k] in credited_multiples
                if fell_here or repeated:
                    row.append(0)
                    continue
                value = element.value
                before = self.types[kinds[k - 1]] if k > 0 and row[k - 1] > 0 else None
                if before is not None and before.somersaults >= 1 and element.somersaults >= 2:
                    value += CONNECTION_BONUS
                if before is not None and before.half_twists >= 2 and element.half_twists >= 2:
                    value += TWIST_BONUS
                if element.somersaults >= 2:
                    credited_multiples.add(kinds[k])
                row.append(value)
            credits.append(row)
        return credits

    def penalties(self, results: list[PassResult], rng: np.random.Generator) -> int:
        """Neutral deductions in hundredths: landings outside the area (likelier after a lateral deviation
        on the last element) and, now and then (more often after a fall), a coach's interference."""
        total = 0
        for result in results:
            if result.fell:
                continue
            lateral = int(result.components[result.performed - 1, 2])
            if rng.random() < sigmoid(-3.2 + 0.9 * lateral):
                result.out_of_area = True
                total += int(rng.choice(OUT_OF_AREA[0], p=OUT_OF_AREA[1]))
        if rng.random() < 0.01 + 0.08 * any(r.fell for r in results):
            total += COACH
        return total

    def routine(self, name: str, length: int, rng: np.random.Generator) -> JudgedVideo:
        athlete = draw_athlete(rng)
        types: list[list[int]] = []
        for _ in range(passes_for(length)):
            types.append(self.choose_pass(athlete.level, rng, self.multiples(sum(types, []))))
        plan = fit_plan([[self.clip_length(k, rng) for k in kinds] for kinds in types], length, rng)
        results = [self.perform(kinds, athlete.quality, rng) for kinds in types]
        credits = self.credit(types, results)
        penalty = self.penalties(results, rng)
        layout = build_layout(plan, types, results)

        difficulty = np.zeros(length)
        deduction = np.zeros(length, dtype=np.int64)
        for p, k, clips in layout.elements:
            difficulty[clips] = credits[p][k] / 100 / len(clips)
            deduction[clips] += split_deduction(int(results[p].panel[k]), results[p].components[k], len(clips))
        for p, clip in enumerate(layout.endings):
            deduction[clip] += results[p].ending
        deduction = cap_deductions(deduction)
        features = self.features(layout, results, rng)

        points = deduction / 100
        return JudgedVideo(
            name=name,
            features=features,
            truth={"difficulty": difficulty, "deduction": points, "contribution": difficulty - points,
                   "element_type": np.array(layout.element_type, dtype=np.float64),
                   "segment": np.array(layout.segment, dtype=np.float64)},
            marks={"difficulty": sum(map(sum, credits)), "execution": MAX_EXECUTION - int(deduction.sum()),
                   "penalty": penalty},
            video={"skill": athlete.skill, "level": athlete.level, "quality": athlete.quality,
                   "passes": float(len(types)), "falls": float(sum(r.fell for r in results)),
                   "missing": float(sum(ELEMENTS_PER_PASS - r.performed for r in results))},
        )

    def rhythm_drift(self, layout: Layout, results: list[PassResult]) -> np.ndarray:
        """(T,) loss of height spread over each element's clips and carried on, decaying, to the clips
        after it (until the next run-up)."""
        length = len(layout.segment)
        height = np.zeros(length)
        for p, k, clips in layout.elements:
            height[clips] += results[p].components[k, 1] / len(clips)
        drift = np.zeros(length)
        level = 0.0
        for t in range(length):
            level = 0.0 if layout.segment[t] == RUN_UP else DRIFT_DECAY * level + height[t]
            drift[t] = level
        return drift

    def content_latent(self, layout: Layout, drift: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """(T, R): what each clip shows (element embeddings lose amplitude as height drifts away), the
        take-off and touch-down of long elements, the run-ups' build-up of speed, and the video's style."""
        element_type = np.array(layout.element_type)
        on_element = element_type >= 0
        latent = self.segment_embedding[np.array(layout.segment)]
        amplitude = np.clip(1.0 - 0.12 * drift, 0.5, 1.0)[:, None]
        latent[on_element] = (self.type_embedding[element_type[on_element]] * amplitude[on_element])
        for _, _, clips in layout.elements:
            if len(clips) > 1:
                latent[clips[0]] += self.take_off
                latent[clips[-1]] += self.touch_down
        for clips in layout.run_ups:
            latent[clips] += np.linspace(0.0, 2.0, len(clips) + 1)[1:, None] * self.run_direction
        return latent + rng.normal(size=RANK - FAULT_DIMS) @ self.content * 1.5 / np.sqrt(RANK)

    def fault_latent(self, layout: Layout, results: list[PassResult], drift: np.ndarray) -> np.ndarray:
        """(T, R): body-position faults along the element type's own direction (spilling onto the
        neighbouring clips), lateral deviations to one side or the other (carrying on to the next clip),
        the height drift, and landing faults and landings outside the area."""
        length = len(layout.segment)
        out = np.outer(RHYTHM_GAIN * drift, self.rhythm_direction)
        for p, k, clips in layout.elements:
            position, _, lateral = results[p].components[k]
            direction = self.position_directions[layout.element_type[clips[0]]]
            peak = clips[len(clips) // 2]
            out[peak] += POSITION_GAIN * position * direction
            for near in (peak - 1, peak + 1):
                if 0 <= near < length:
                    out[near] += POSITION_SPREAD * position * direction
            side = results[p].signs[k] * LATERAL_GAIN * lateral * self.lateral_direction
            out[clips[-1]] += side
            if clips[-1] + 1 < length:
                out[clips[-1] + 1] += 0.5 * side
        for p, clip in enumerate(layout.endings):
            out[clip] += LANDING_GAIN * results[p].landing_tenths * self.landing_direction
            out[clip] += OUT_GAIN * results[p].out_of_area * self.out_direction
        return out

    def features(self, layout: Layout, results: list[PassResult], rng: np.random.Generator) -> np.ndarray:
        """(T, F): the latent, AR(1) noise, then a fixed non-linear map (tanh layer) to the features."""
        drift = self.rhythm_drift(layout, results)
        latent = self.content_latent(layout, drift, rng) + self.fault_latent(layout, results, drift)
        latent += ar1_noise(rng, len(layout.segment), RANK, 0.8) * 0.8 / np.sqrt(RANK)
        hidden = np.tanh(latent @ self.mix + self.bias)
        return self.feature_map.features(hidden, rng, isotropic_std=0.05)


def generate(seed: int, count: int, feature_dim: int, min_clips: int, max_clips: int,
             class_name: str) -> Iterator[JudgedVideo]:
    """``count`` videos of one sport, named ``<class_name>_001`` ..."""
    sport = TumblingSport(seed, feature_dim)
    rng = np.random.default_rng([seed, 1])
    for i in range(1, count + 1):
        length = int(rng.integers(min_clips, max_clips + 1))
        yield sport.routine(f"{class_name}_{i:03d}", length, rng)


def write_tumbling_heldout(root: str | Path, sizes: GenerationSizes = DEFAULT_SIZES) -> Path:
    """Write ``sizes.num_train + sizes.num_test`` videos in the RG layout plus ``truth/``; returns ``root``."""
    min_clips, max_clips = sizes.clip_range(KIND, DEFAULT_CLIPS, FEWEST_CLIPS)
    check_class_name(sizes.class_name)
    videos = generate(sizes.seed, sizes.num_train + sizes.num_test, sizes.feature_dim, min_clips, max_clips,
                      sizes.class_name)
    return write_rg_release(root, videos, sizes.num_train)
