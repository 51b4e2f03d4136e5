"""``moguls_heldout``: FIS-like freestyle skiing moguls runs, one total per run, held out from model design.

The rules (close to the FIS Freestyle judging handbook, simplified), as generated here:

* A run: the start gate, the **top** mogul section, **air 1**, the **middle** mogul section, **air 2**,
  the short **bottom** section to the finish line, then the finish area. The skier turns on almost
  every clip between the gate and the line.
* **Turns** (60 points): five turn judges each mark the whole run's turns out of 20 (to 0.1): a base
  mark for the technique seen all run long (absorption and extension, carving, the line), less
  deductions for located faults (upper body, sitting back, hands down, off the fall line, a large
  error, a fall). A judge's mark does not go below 0 (the last deductions then go unpunished). The
  highest and lowest marks are dropped; the middle three are summed.
* **Air** (20 points): two air judges mark each of the two jumps out of 10 (to 0.1) for air, form and
  landing; a judge's air score is the sum over jumps of DD x mark, each truncated to the hundredth;
  the panel's Air is the mean of the two judges' scores, truncated to the hundredth. The two jumps
  are different types, chosen near the skier's level from a DD table of our own in the range of the
  FIS moguls table (0.56 for a 360 to 0.98 for a cork 1080).
* **Speed** (20 points): from the run time t and the course's pace time P by the FIS formula of the
  7.5-point era scaled to 20 points: ``(13.625 - 8 t / P) x 20 / 7.5``, truncated to the hundredth,
  between 0 and 20 (15.00 at the pace time). A whole-run term: it belongs to no clip.
* **Falls**: a skier who falls in a mogul section and goes on gets a fall deduction from every turn
  judge on that clip and loses time; a fall on a jump's landing is the air judges' (a low landing
  mark) and costs time.
* **DNF**: now and then a skier crashes in a mogul section and leaves the course without crossing
  the line. FIS ranks such a run DNF; as the release must give a number, it records the sheet as it
  stood at the crash: turns credited for the part of the course skied (each judge's base mark is
  the technique of the clips skied over the whole course's turning clips, so the sections not skied
  earn nothing), the fall deducted, any jump not reached 0, and speed 0 (no time).
* Total = Turns + Air + Speed, in hundredths, written as one total per run (generic layout, as LOGO).

Features: a latent of 48 dimensions per clip holds the segment's embedding (start gate, mogul
sections, each jump type's flight, landing, finish area, off course), the skier's style vector, AR(1)
noise and, along their own directions: on turning clips the two technique latents (absorption and
line, smooth from clip to clip) of which the judges' turn quality is a *non-linear* (logistic)
function; each located fault, along its type's direction, by its size; each jump's form along the
jump type's own direction on its flight clip, and the landing along a landing direction; the
skier's pace, the same on every skiing clip.

Per-clip truth (``truth/<name>.npz``, exact in hundredths):
``difficulty`` (turning clips: the panel's turn base mark spread over the turning clips in proportion
to their turn quality; air clips: the jump's full value, 10 x DD (a mark of 10), spread evenly over
its clips), ``deduction`` (turning clips: the panel's deductions for the faults on
the clip; air clips: the jump's value lost, split between its flight and landing clip by the true form
and landing shortfall), ``contribution`` = difficulty - deduction (sums to Turns + Air; the total is
that plus Speed), ``element_type`` (the jump type on air clips, -1 elsewhere) and ``segment`` (0 start
gate, 1 top section, 2 air 1, 3 middle section, 4 air 2, 5 bottom section, 6 finish area, 7 off course
after a DNF crash).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from longaqa.data.generators.latent import FeatureMap, ar1_noise, orthonormal_directions
from longaqa.data.generators.release import DEFAULT_SIZES, GenerationSizes, JudgedVideo, write_generic_release

KIND = "moguls_heldout"
DEFAULT_CLIPS = (20, 32)
"""A run of about 20-35 s, plus the start gate and the finish area, in clips of 32 frames at 25 fps."""
FEWEST_CLIPS = 12
"""The start gate, three mogul sections (2 + 2 + 1 clips at least), two jumps and the finish area."""
CLIP_SECONDS = 32 / 25

START, TOP, AIR_1, MIDDLE, AIR_2, BOTTOM, FINISH, OFF_COURSE = range(8)
TURNING = (TOP, MIDDLE, BOTTOM)
AIRS = (AIR_1, AIR_2)

JUMPS = {
    # code: DD in hundredths (our own values, in the range of the FIS moguls table)
    "3": 56,     # 360
    "bT": 62,    # backflip, tucked
    "bL": 66,    # backflip, layout
    "bF": 75,    # back full
    "7o": 82,    # cork 720
    "7og": 85,   # cork 720 with a grab
    "bdF": 91,   # back double full
    "10o": 98,   # cork 1080
}
JUMP_TYPES = tuple(JUMPS)
DD = np.array(list(JUMPS.values()), dtype=np.int64)

FAULTS = (
    # name, smallest and largest size a judge deducts (tenths of a point out of 20), rate per turning clip
    ("upper body", 1, 4, 0.045),
    ("sitting back", 2, 6, 0.03),
    ("hands down", 4, 8, 0.014),
    ("off the fall line", 5, 12, 0.014),
    ("large error", 12, 25, 0.006),
    ("fall", 25, 45, 0.0025),
)
FALL = len(FAULTS) - 1
TURN_JUDGES = 5
AIR_JUDGES = 2
TURN_MARK = 200
"""A turn judge's best mark, in tenths of a point."""
QUALITY_FLOOR = 0.45
"""Turn quality is ``QUALITY_FLOOR + (1 - QUALITY_FLOOR) x sigmoid(technique)``: never nothing while skiing."""
TECHNIQUE_LEVEL = 0.75
"""An average skier's absorption and line latents."""
TECHNIQUE_MEAN = 0.83
"""The technique index of an average skier, tired a little (faults grow more likely below it)."""
DNF_RATE = 0.045
LANDING_FALL_RATE = 0.03
RANK = 48


@dataclass
class Jump:
    """One jump as performed: its type, the true shortfall the air judges see (points of 10) and its clips."""

    kind: int
    form: float
    landing: float
    fell: bool
    clips: list[int] = field(default_factory=list)


@dataclass
class Skier:
    """The skier's level for this run."""

    skill: float
    absorption: float
    line: float
    pace_ratio: float
    """Clean run time over the pace time (below 1: faster than the pace)."""
    style: np.ndarray


@dataclass
class Sheet:
    """The run's per-clip truth in hundredths, and its marks."""

    difficulty: np.ndarray
    deduction: np.ndarray
    marks: dict[str, int] = field(default_factory=dict)


def spread(total: int, weights: np.ndarray) -> np.ndarray:
    """``total`` (an integer) split in proportion to ``weights`` into integers that sum to it exactly."""
    if len(weights) == 0:
        return np.zeros(0, dtype=np.int64)
    ideal = total * weights / weights.sum()
    parts = np.floor(ideal).astype(np.int64)
    order = np.argsort(-(ideal - parts), kind="stable")
    parts[order[: total - int(parts.sum())]] += 1  # largest remainders first
    return parts


def speed_points(run_time: int, pace_time: int) -> int:
    """Speed in hundredths from times in hundredths of a second: ``(13.625 - 8 t / P) x 20 / 7.5``,
    truncated, between 0 and 20 points (exact integer arithmetic)."""
    return int(min(max((109 * pace_time - 64 * run_time) * 100 // (3 * pace_time), 0), 2000))


def course_plan(length: int, rng: np.random.Generator) -> np.ndarray:
    """The segment code of each clip of a full run of ``length`` clips: ``(T,)``."""
    roomy = length >= 16  # shorter runs: each jump and the finish area on one clip
    finish = 2 if roomy and rng.random() < 0.5 else 1
    air = [2 if roomy and rng.random() < 0.6 else 1 for _ in AIRS]
    turning = length - 1 - finish - sum(air)
    bottom = max(1, int(round(turning * rng.uniform(0.12, 0.2))))
    top = max(2, int(round(turning * rng.uniform(0.38, 0.48))))
    middle = turning - top - bottom
    if middle < 2:
        top -= 2 - middle
        middle = 2
    counts = ((START, 1), (TOP, top), (AIR_1, air[0]), (MIDDLE, middle), (AIR_2, air[1]), (BOTTOM, bottom),
              (FINISH, finish))
    return np.concatenate([np.full(n, code) for code, n in counts])


def dnf_segments(length: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, int]:
    """A run that stops: the plan of the whole course (longer than the video), the video's segments
    (the plan up to the crash, then off course) and the crash clip, a turning clip 2-5 clips before the
    video's end."""
    plan = course_plan(length + int(rng.integers(3, max(4, length // 2) + 1)), rng)
    crash = next(c for c in range(length - 2, length - 6, -1) if plan[c] in TURNING)
    segments = np.concatenate([plan[: crash + 1], np.full(length - crash - 1, OFF_COURSE)])
    return plan, segments, crash


def technique(plan: np.ndarray, skier: Skier, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Absorption and line latents per clip of the plan (smooth from clip to clip, a little tired near
    the bottom): ``(T, 2)``; and the technique index 0.7 absorption + 0.5 line: ``(T,)``."""
    progress = np.linspace(0.0, 1.0, len(plan))
    drift = 0.45 * ar1_noise(rng, len(plan), 2, 0.85)
    latents = np.array([skier.absorption, skier.line]) + drift - 0.2 * progress[:, None] ** 2
    return latents, latents @ np.array([0.7, 0.5])


def turn_quality(index: np.ndarray) -> np.ndarray:
    """What the turn judges see of the technique, 0-1: a smooth, saturating function of its index."""
    return QUALITY_FLOOR + (1 - QUALITY_FLOOR) / (1 + np.exp(-index))


def draw_faults(skied: np.ndarray, index: np.ndarray, rng: np.random.Generator) -> list[tuple[int, int, int]]:
    """``(clip, fault type, true size in tenths)`` on the skied turning clips; faults come where the
    technique is poor, at most one of each type per clip, a fall and a large error not together."""
    faults = []
    for clip in np.flatnonzero(skied):
        chance = np.array([rate for *_, rate in FAULTS]) * np.exp(-0.6 * (index[clip] - TECHNIQUE_MEAN))
        happened = rng.random(len(FAULTS)) < np.minimum(chance, 0.5)
        if happened[FALL]:
            happened[FALL - 1] = False
        for kind in np.flatnonzero(happened):
            _, low, high, _ = FAULTS[kind]
            faults.append((int(clip), int(kind), int(rng.integers(low, high + 1))))
    return faults


def turn_panel(base: float, sizes: np.ndarray, rng: np.random.Generator) -> tuple[int, np.ndarray]:
    """The turn panel for a true base mark (points of 20) and faults of true ``sizes`` (tenths):
    ``(the counting judges' base marks summed, each fault's deduction by the counting judges)``, in
    tenths. Their difference is the Turns score."""
    marks = np.clip(np.round(10 * (base + rng.normal(0, 0.35, TURN_JUDGES))), 0, TURN_MARK).astype(np.int64)
    seen = np.round(sizes + rng.normal(0, 1, (TURN_JUDGES, len(sizes))) * (0.15 * sizes + 0.4))
    seen = np.maximum(seen, 0).astype(np.int64)  # (judges, faults)
    seen[(rng.random(seen.shape) < 0.15) & (sizes <= 3)] = 0  # a small fault missed now and then
    for judge in range(TURN_JUDGES):  # a mark is not below 0: the last deductions go unpunished
        excess = int(seen[judge].sum()) - int(marks[judge])
        for f in range(len(sizes) - 1, -1, -1):
            taken = min(max(excess, 0), int(seen[judge, f]))
            seen[judge, f] -= taken
            excess -= taken
    final = marks - seen.sum(axis=1)
    counting = np.argsort(final, kind="stable")[1:-1]  # drop the lowest and the highest
    return int(marks[counting].sum()), seen[counting].sum(axis=0)


def air_panel(jumps: list[Jump], rng: np.random.Generator) -> list[int]:
    """Each jump's share of Air (hundredths); the shares sum to the panel's Air exactly (the
    truncation of the judges' mean falls on the last jump)."""
    if not jumps:
        return []
    shortfall = np.array([j.form + j.landing for j in jumps])
    marks = np.clip(np.round(10 * (10 - shortfall + rng.normal(0, 0.3, (AIR_JUDGES, len(jumps))))), 0, 100)
    scores = DD[[j.kind for j in jumps]] * marks.astype(np.int64) // 10  # (judges, jumps) hundredths
    air = int(scores.sum()) // AIR_JUDGES
    shares = [int(scores[:, k].sum()) // AIR_JUDGES for k in range(len(jumps) - 1)]
    return [*shares, air - sum(shares)]


def choose_jumps(skill: float, rng: np.random.Generator) -> list[int]:
    """Two different jump types near the skier's level (better skiers try higher DDs)."""
    z = (DD - DD.mean()) / DD.std()
    preferred = np.exp(-0.5 * ((z - 0.8 * skill) / 0.7) ** 2)
    first = int(rng.choice(len(DD), p=preferred / preferred.sum()))
    preferred[first] = 0.0
    return [first, int(rng.choice(len(DD), p=preferred / preferred.sum()))]


def perform_jump(kind: int, skill: float, rng: np.random.Generator) -> Jump:
    """How a jump goes: the true air/form and landing shortfall (points of 10); harder jumps fault more."""
    hardness = (DD[kind] - 75) / 15
    form = float(np.clip(1.4 - 0.45 * skill + 0.3 * hardness + rng.normal(0, 0.45), 0.1, 6.0))
    landing = float(np.clip(0.45 - 0.15 * skill + 0.15 * hardness + abs(rng.normal(0, 0.35)), 0.0, 3.0))
    fell = bool(rng.random() < LANDING_FALL_RATE * np.exp(0.6 * hardness - 0.5 * skill))
    if fell:
        landing = float(rng.uniform(5.0, 7.0))
    return Jump(kind, form, landing, fell)


def place_jumps(segments: np.ndarray, jumps: list[Jump]) -> list[Jump]:
    """The jumps reached in the video, each given its clips (flight first, landing last)."""
    reached = []
    for code, jump in zip(AIRS, jumps):
        clips = np.flatnonzero(segments == code)
        if len(clips):
            jump.clips = [int(c) for c in clips]
            reached.append(jump)
    return reached


class MogulsSport:
    """One fixed sport per seed: segment and jump embeddings, signal directions, the feature map."""

    def __init__(self, seed: int, feature_dim: int):
        rng = np.random.default_rng([seed, 0])
        basis = orthonormal_directions(rng, RANK)
        self.absorption_direction, self.line_direction = basis[0], basis[1]
        self.pace_direction, self.landing_direction = basis[2], basis[3]
        self.fault_direction = basis[4 : 4 + len(FAULTS)]  # (faults, R)
        self.form_direction = basis[4 + len(FAULTS) : 4 + len(FAULTS) + len(DD)]  # (jump types, R)
        self.content = basis[4 + len(FAULTS) + len(DD) :]
        scale = 2.0 / np.sqrt(len(self.content))
        self.segment_embedding = rng.normal(size=(8, len(self.content))) @ self.content * scale
        moguls = rng.normal(size=len(self.content)) @ self.content * scale  # the three sections look alike
        for code in TURNING:
            self.segment_embedding[code] = moguls + 0.35 * self.segment_embedding[code]
        self.jump_embedding = rng.normal(size=(len(DD), len(self.content))) @ self.content * scale
        self.landing_embedding = rng.normal(size=len(self.content)) @ self.content * scale
        self.feature_map = FeatureMap(rng, RANK, feature_dim)

    def skier(self, rng: np.random.Generator) -> Skier:
        skill = float(np.clip(rng.normal(), -2.5, 2.5))
        return Skier(
            skill=skill,
            absorption=TECHNIQUE_LEVEL + 0.55 * skill + 0.25 * rng.normal(),
            line=TECHNIQUE_LEVEL + 0.45 * skill + 0.3 * rng.normal(),
            pace_ratio=float(np.clip(0.97 - 0.055 * skill + rng.normal(0, 0.04), 0.78, 1.3)),
            style=rng.normal(size=len(self.content)) @ self.content * 2.0 / np.sqrt(len(self.content)),
        )

    def run(self, name: str, length: int, rng: np.random.Generator) -> JudgedVideo:
        """One judged run of ``length`` clips."""
        skier = self.skier(rng)
        dnf = bool(rng.random() < DNF_RATE * np.exp(-0.5 * skier.skill))
        if dnf:
            plan, segments, crash = dnf_segments(length, rng)
        else:
            plan = segments = course_plan(length, rng)
            crash = -1
        latents, index = technique(plan, skier, rng)
        jumps = [perform_jump(kind, skier.skill, rng) for kind in choose_jumps(skier.skill, rng)]
        jumps = place_jumps(segments, jumps)
        sheet, faults = self.judge_turns(plan, segments, index, crash, rng)
        self.judge_air(sheet, jumps, rng)
        timing = self.time_run(sheet, segments, faults, jumps, skier, dnf, rng)
        features = self.features(segments, latents[:length], faults, jumps, skier, rng)
        element_type = np.full(length, -1)
        for jump in jumps:
            element_type[jump.clips] = jump.kind
        return JudgedVideo(
            name=name,
            features=features,
            truth={
                "difficulty": sheet.difficulty / 100,
                "deduction": sheet.deduction / 100,
                "contribution": (sheet.difficulty - sheet.deduction) / 100,
                "element_type": element_type.astype(np.float64),
                "segment": segments.astype(np.float64),
            },
            marks=sheet.marks,
            video={"skill": skier.skill, "dnf": float(dnf), "falls": float(sum(f[1] == FALL for f in faults)),
                   "landing_falls": float(sum(j.fell for j in jumps)), **timing},
        )

    def judge_turns(self, plan: np.ndarray, segments: np.ndarray, index: np.ndarray, crash: int,
                    rng: np.random.Generator) -> tuple[Sheet, list[tuple[int, int, int]]]:
        """The turn panel: each judge's base mark is the turn quality of the clips skied over all the
        course's turning clips (x 20); the faults' deductions sit on their clips."""
        length = len(segments)
        skied = np.isin(segments, TURNING)
        quality = turn_quality(index[:length])
        base = 20 * quality[skied].sum() / np.isin(plan, TURNING).sum()
        faults = draw_faults(skied, index, rng)
        if crash >= 0:  # a DNF: the crash is a fall, nothing else counts on that clip
            faults = [f for f in faults if f[0] != crash]
            faults.append((crash, FALL, int(rng.integers(FAULTS[FALL][1], FAULTS[FALL][2] + 1))))
        sizes = np.array([size for *_, size in faults], dtype=float)
        base_panel, deductions = turn_panel(base, sizes, rng)
        difficulty = np.zeros(length, dtype=np.int64)
        difficulty[skied] = spread(10 * base_panel, quality[skied])
        deduction = np.zeros(length, dtype=np.int64)
        np.add.at(deduction, [f[0] for f in faults], 10 * deductions)
        turns = 10 * base_panel - 10 * int(deductions.sum())
        return Sheet(difficulty, deduction, {"turns": turns}), faults

    def judge_air(self, sheet: Sheet, jumps: list[Jump], rng: np.random.Generator) -> None:
        """Each jump's value 10 x DD on its clips as difficulty, the value lost as deduction: on the
        flight clip for air and form, on the landing clip for the landing."""
        shares = air_panel(jumps, rng)
        for jump, share in zip(jumps, shares):
            value = 10 * int(DD[jump.kind])
            sheet.difficulty[jump.clips] += spread(value, np.ones(len(jump.clips)))
            lost = value - share
            if len(jump.clips) == 1:
                sheet.deduction[jump.clips[0]] += lost
                continue
            landing_part = int(round(lost * jump.landing / (jump.form + jump.landing)))
            sheet.deduction[jump.clips[0]] += lost - landing_part
            sheet.deduction[jump.clips[-1]] += landing_part
        sheet.marks["air"] = int(sum(shares))

    def time_run(self, sheet: Sheet, segments: np.ndarray, faults: list[tuple[int, int, int]], jumps: list[Jump],
                 skier: Skier, dnf: bool, rng: np.random.Generator) -> dict[str, float]:
        """Speed from the run time (the clips from the gate to the line) against the course's pace time;
        falls and large errors cost time. A DNF has no time and no speed."""
        if dnf:
            sheet.marks["speed"] = 0
        else:
            course = int(np.isin(segments, (*TURNING, *AIRS)).sum())
            run_time = int(round((course + rng.uniform(0.3, 1.1)) * CLIP_SECONDS * 100))  # hundredths of a s
            lost = sum(int(rng.integers(150, 351)) for f in faults if f[1] == FALL)
            lost += sum(int(rng.integers(30, 101)) for f in faults if f[1] == FALL - 1)
            lost += sum(int(rng.integers(100, 301)) for j in jumps if j.fell)
            clean = max(run_time - lost, run_time // 2)
            pace_time = int(round(clean / skier.pace_ratio))
            sheet.marks["speed"] = speed_points(run_time, pace_time)
        marks = sheet.marks
        marks["total"] = marks["turns"] + marks["air"] + marks["speed"]
        if dnf:
            return {"run_time": 0.0, "pace_time": 0.0}
        return {"run_time": run_time / 100, "pace_time": pace_time / 100}

    def features(self, segments: np.ndarray, latents: np.ndarray, faults: list[tuple[int, int, int]],
                 jumps: list[Jump], skier: Skier, rng: np.random.Generator) -> np.ndarray:
        """``(T, F)`` features from the per-clip latent described in the module docstring."""
        embedding = self.segment_embedding[segments]  # (T, R)
        for jump in jumps:  # a jump's flight shows its type; its landing, a landing of that type
            embedding[jump.clips] = self.jump_embedding[jump.kind]
            embedding[jump.clips[-1]] += (0.5 if len(jump.clips) == 1 else 1.0) * self.landing_embedding
        latent = embedding + skier.style
        turning = np.isin(segments, TURNING)[:, None]
        latent += turning * 0.6 * (latents[:, :1] - TECHNIQUE_LEVEL) * self.absorption_direction
        latent += turning * 0.6 * (latents[:, 1:] - TECHNIQUE_LEVEL) * self.line_direction
        skiing = np.isin(segments, (*TURNING, *AIRS))[:, None]
        latent += skiing * 0.5 * (0.97 - skier.pace_ratio) / 0.06 * self.pace_direction
        for clip, kind, size in faults:
            latent[clip] += 1.2 * size / 10 * self.fault_direction[kind]
        for jump in jumps:
            latent[jump.clips[0]] -= 0.6 * (jump.form - 1.4) * self.form_direction[jump.kind]
            latent[jump.clips[-1]] -= 0.6 * jump.landing * self.landing_direction
        latent += ar1_noise(rng, len(segments), RANK, 0.8) * 0.8 / np.sqrt(RANK)
        return self.feature_map.features(latent, rng, isotropic_std=0.05)


def generate(seed: int, count: int, feature_dim: int, min_clips: int, max_clips: int) -> Iterator[JudgedVideo]:
    """``count`` runs of one sport, named ``moguls_001`` ..."""
    sport = MogulsSport(seed, feature_dim)
    rng = np.random.default_rng([seed, 1])
    for i in range(1, count + 1):
        yield sport.run(f"moguls_{i:03d}", int(rng.integers(min_clips, max_clips + 1)), rng)


def write_moguls_heldout(root: str | Path, sizes: GenerationSizes = DEFAULT_SIZES) -> Path:
    """Write ``sizes.num_train + sizes.num_test`` runs in the generic layout (one total per run) plus
    ``truth/``; returns ``root``. ``sizes.class_name`` is not used (runs are ``moguls_001`` ...)."""
    min_clips, max_clips = sizes.clip_range(KIND, DEFAULT_CLIPS, FEWEST_CLIPS)
    videos = generate(sizes.seed, sizes.num_train + sizes.num_test, sizes.feature_dim, min_clips, max_clips)
    return write_generic_release(root, videos, sizes.num_train)
