"""``pommel_heldout``: men's artistic gymnastics pommel horse routines judged by FIG-like rules (RG layout).

Held out from model design: written from the FIG Code of Points for men's artistic gymnastics (the
2017-2024 codes, as recalled), not from the model. The scoring model, as generated here:

* **The routine** is continuous swing: a mount (a jump into the first circles), then valued elements
  one after another, linked now and then by plain double-leg circles that earn nothing, a dismount and
  its landing. Elements come from the four element groups (EG) of the apparatus: I single-leg swings
  and scissors (also scissors to handstand), II circles and flairs with or without spindles and
  handstands, Russian wendeswings, flops and combined elements, III side and cross travels (Czech
  travel, Magyar, Sivado, flair travels), IV dismounts. Each of the 28 element types has a value A-F
  (0.1-0.6) and a length of 1-3 clips. About 75-80% of a routine's clips belong to valued elements,
  10-15% are linking circles, the rest mount, landing and any fall with its remount.
* **D** = the values of the *counted* elements + the element group requirements. The D panel counts
  the dismount and the 9 highest-valued other recognised elements, at most 5 from one element group, a
  repeated element once. EG I, II and III give 0.5 each when a counted element of the group is present;
  the dismount group gives 0.5 for a D dismount or harder, 0.3 for a C dismount, 0 below (without a
  recognised dismount, 9 elements count). An element other than the dismount with a large fault (0.5)
  of angle in cross support (travels, Russians), of bent arms or of the handstand (handstand elements),
  or on which the gymnast falls, is not recognised and earns nothing. Per clip: an element's value is
  split over its clips in whole hundredths; each group requirement is credited to the clips of the first
  counted element of its group in routine order (the dismount group to the dismount's clips). Elements
  performed but not counted (below the 10 highest, over the group limit, repeated) earn nothing.
* **E** = 10 - the execution deductions, all located on clips: form faults of the element family (bent
  arms, legs apart or bent, piked hips / lack of extension in circles and flairs, lack of amplitude in
  scissors, angular deviation in cross support, handstand deviation), 0.1 / 0.3 / 0.5; touching (0.1)
  or hitting (0.5) the horse; a hesitation (0.1) or stop (0.3) in the swing, on a linking circle or an
  element; a fall off the horse (1.0, on the fall clip, followed by 2-4 remount clips, compressed from
  the real pause); on the landing clip: a small (0.1) or large (0.3) step, an oblique landing (0.1 /
  0.3) or a fall (1.0 alone; the clip stays a landing and the dismount stays recognised). Four E
  judges each see a form fault a step lower (a small one: missed) or higher now and then, miss a touch
  now and then and see every fall; the panel's deduction is the mean of the two middle judges' totals,
  and each clip's truth is the mean of those two judges' deductions at that clip, so E moves in steps
  of 0.05 and the clips sum to 10 - E exactly.
  No whole-routine E deduction is modelled (the Code's short-exercise rule for too few counted elements
  does not arise: every routine holds at least ten elements and counts eight to ten), so nothing of
  10 - E is unlocated (``video["unlocated_deduction"]`` is 0).
* **Penalty**: neutral deductions (presentation to the panel, attire, the coach), 0.1 or 0.3 in about
  one routine in 12, on no clip.
* Total = D + E - Penalty from the rounded parts; D 4.5-6.7, E 6.4-9.3, total 11.4-15.7 (5-95%).
* The gymnast's **skill** picks the element values (better gymnasts harder), and with the gymnast's
  **amplitude** (the height and extension of the swing, a whole-routine trait) sets how often and how
  badly he faults; harder elements fault and fall more.

Features: a latent of 44 dimensions per clip holds the element type's embedding (or the mount's,
linking circles', landing's, fall's, remount's), the routine's style, AR(1) noise and: the gymnast's
amplitude on every swinging clip with a per-family gain; each clip's form faults through a saturating
function, with a gain and scale of the element family's own along its own direction; touches and hits,
hesitations, falls and landing faults each along their own direction. A fixed random matrix per seed
maps it to ``feature_dim``.

Per-clip truth (``truth/<name>.npz``): ``difficulty`` (sums to D), ``deduction`` (sums to 10 - E),
``contribution`` = difficulty - deduction (sums to Total + Penalty - 10), ``element_type`` (-1 off
elements: mount, linking circles, landing, fall, remount) and ``segment`` (:data:`SEGMENTS`).
"""

from __future__ import annotations

from collections.abc import Iterator
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

KIND = "pommel_heldout"
DEFAULT_CLIPS = (31, 42)
"""About 40-54 s at 1.28 s a clip: a pommel horse routine from the mount to the landing, with a little
before and after."""
FEWEST_CLIPS = 24
"""About 31 s: the mount, nine elements and the dismount at their usual lengths, and the landing, with
room to spare for linking circles or a fall; a clip is kept for each of the nine elements however the
routine goes, so every routine holds at least ten elements."""

SEGMENTS = {
    0: "mount (jump into the first circles)",
    1: "linking circles (earn nothing)",
    2: "scissors and single-leg swings (EG I)",
    3: "circles, flairs and spindles (EG II)",
    4: "handstand elements (scissors or flairs through handstand; EG I or II)",
    5: "Russian wendeswings, flops and combined elements (EG II)",
    6: "side and cross travels (EG III)",
    7: "dismount (EG IV)",
    8: "landing",
    9: "fall off the horse",
    10: "remount after a fall",
}
MOUNT, LINKING, SCISSORS, CIRCLES, HANDSTAND, RUSSIAN, TRAVEL, DISMOUNT, LANDING, FALL, REMOUNT = range(11)

ELEMENTS = (
    # name, element group (1-4), segment, value in hundredths, clips
    ("scissor forward", 1, SCISSORS, 10, 1),
    ("scissor backward", 1, SCISSORS, 10, 1),
    ("scissor with 1/2 turn", 1, SCISSORS, 20, 1),
    ("scissor backward to handstand", 1, HANDSTAND, 30, 2),
    ("scissor to handstand with turn", 1, HANDSTAND, 40, 2),
    ("circle on one pommel", 2, CIRCLES, 10, 1),
    ("flair on the pommels", 2, CIRCLES, 20, 1),
    ("spindle in circles", 2, CIRCLES, 30, 1),
    ("flair with spindle", 2, CIRCLES, 40, 2),
    ("flair to handstand", 2, HANDSTAND, 40, 2),
    ("flair to handstand with 1/1 turn", 2, HANDSTAND, 50, 2),
    ("Russian wendeswing 720 on one pommel", 2, RUSSIAN, 30, 1),
    ("Russian wendeswing 1080 on the leather", 2, RUSSIAN, 40, 2),
    ("flop", 2, RUSSIAN, 40, 2),
    ("combined element (flop and Russian)", 2, RUSSIAN, 50, 3),
    ("combined flair element with Russian and handstand", 2, RUSSIAN, 60, 3),
    ("side travel (Kehre)", 3, TRAVEL, 10, 1),
    ("Czech travel", 3, TRAVEL, 20, 1),
    ("flair travel 3/3 in side support", 3, TRAVEL, 40, 2),
    ("Magyar travel", 3, TRAVEL, 40, 3),
    ("Sivado travel", 3, TRAVEL, 40, 3),
    ("Magyar with spindle", 3, TRAVEL, 50, 3),
    ("travel 3/3 with spindles", 3, TRAVEL, 60, 3),
    ("circle dismount to side stand", 4, DISMOUNT, 10, 1),
    ("flair dismount", 4, DISMOUNT, 20, 1),
    ("handstand dismount", 4, DISMOUNT, 30, 2),
    ("handstand dismount with 1/1 turn", 4, DISMOUNT, 40, 2),
    ("flair travel 3/3 to handstand dismount with turn", 4, DISMOUNT, 50, 2),
)
NAMES = tuple(e[0] for e in ELEMENTS)
GROUP = np.array([e[1] for e in ELEMENTS])
FAMILY = np.array([e[2] for e in ELEMENTS])
VALUE = np.array([e[3] for e in ELEMENTS])
CLIPS = np.array([e[4] for e in ELEMENTS])
DISMOUNTS = np.flatnonzero(GROUP == 4)
SWING_ELEMENTS = np.flatnonzero(GROUP < 4)

MAX_COUNTED = 10
"""Counted elements, the dismount among them (without a recognised dismount, 9)."""
MAX_PER_GROUP = 5
SWING_PLANNED = MAX_COUNTED - 1
"""Elements before the dismount that every routine holds at the least (a clip is kept for each)."""
GROUP_REQUIREMENT = 50
"""EG I-III: 0.5 each."""


def dismount_requirement(value: int) -> int:
    """EG IV in hundredths: 0.5 for a D dismount or harder, 0.3 for a C, 0 below."""
    return 50 if value >= 40 else 30 if value == 30 else 0


LADDER = np.array([0, 10, 30, 50])
"""The E judges' fault sizes in hundredths (0: not seen): small, medium, large."""
TOUCH, HIT, FALL_OFF = 10, 50, 100
PENALTIES = (np.array([0, 10, 30]), np.array([0.92, 0.03, 0.05]))
E_JUDGES = 4
MISJUDGE = 0.12
"""Chance that a judge sees a fault one step lower, and the same one step higher."""

# What the E judges look for: (name, segments, chance per element (once, at one of its clips) or per clip off
# elements, severity logits for 0.1 / 0.3 / 0.5, whether the gymnast's amplitude lowers the chance)
CHECKS = (
    ("legs apart or bent", (MOUNT, LINKING, CIRCLES, RUSSIAN, TRAVEL, SCISSORS), 0.12, (1.6, -0.4, -9.0), True),
    ("piked hips, lack of extension", (LINKING, CIRCLES, RUSSIAN, TRAVEL), 0.16, (1.2, 0.0, -9.0), True),
    ("lack of amplitude in scissors", (SCISSORS,), 0.36, (1.0, 0.2, -1.4), True),
    ("angular deviation in cross support", (TRAVEL, RUSSIAN), 0.26, (1.0, -0.1, -2.4), False),
    ("bent arms", (HANDSTAND, DISMOUNT), 0.19, (1.0, 0.0, -2.0), False),
    ("handstand deviation or strength", (HANDSTAND, DISMOUNT), 0.26, (1.0, 0.1, -2.6), False),
    ("hesitation or stop in the swing", (LINKING, CIRCLES, HANDSTAND, TRAVEL), 0.03, (1.0, -0.3, -9.0), False),
    ("step on landing", (LANDING,), 0.6, (1.1, -0.2, -9.0), False),
    ("oblique landing", (LANDING,), 0.2, (1.4, -0.6, -9.0), False),
)
HESITATION, LANDING_CHECKS = 6, (7, 8)
NOT_RECOGNISED_BY = (3, 4, 5)
"""Checks whose large fault (0.5) leaves an element not recognised (cross support, handstands; not the
dismount, which is then still a dismount)."""
TOUCH_RATE, HIT_RATE = 0.035, 0.007
FALL_LOGIT = -4.4
"""Per element, before its value and the gymnast's skill move it (about one routine in five falls)."""
LANDING_FALL_LOGIT = -4.3
RANK = 44

# How the gymnast shapes a routine
CHOICE_GAIN, CHOICE_WIDTH = 0.7, 0.65
FAULT_SKILL, FAULT_AMPLITUDE, FAULT_VALUE = 0.15, 0.15, 0.3
SEVERITY_SKILL = 0.25


def split_hundredths(total: int, clips: int) -> np.ndarray:
    """``total`` hundredths over ``clips`` clips in whole hundredths, the remainder on the first clips."""
    base, rest = divmod(int(total), clips)
    return np.array([base + (i < rest) for i in range(clips)], dtype=np.int64)


def counted_elements(types: list[int], recognised: list[bool]) -> list[int]:
    """Indices (into the performed elements, in routine order) of those the D panel counts: the last
    recognised dismount and the 9 highest-valued other recognised elements, at most ``MAX_PER_GROUP``
    from one group, each element type once (ties: the earlier)."""
    counted = []
    dismounts = [i for i, (k, ok) in enumerate(zip(types, recognised)) if ok and GROUP[k] == 4]
    if dismounts:
        counted.append(dismounts[-1])
    others = [i for i, (k, ok) in enumerate(zip(types, recognised)) if ok and GROUP[k] < 4]
    others.sort(key=lambda i: (-VALUE[types[i]], i))
    per_group = {1: 0, 2: 0, 3: 0}
    seen = set()
    for i in others:
        if len(counted) - bool(dismounts) == MAX_COUNTED - 1:
            break
        k = types[i]
        if k in seen or per_group[GROUP[k]] == MAX_PER_GROUP:
            continue
        seen.add(k)
        per_group[GROUP[k]] += 1
        counted.append(i)
    return sorted(counted)


class PommelSport:
    """One fixed sport per seed: embeddings, execution directions and gains, the feature map."""

    def __init__(self, seed: int, feature_dim: int):
        rng = np.random.default_rng([seed, 0])
        basis = orthonormal_directions(rng, RANK)
        self.amplitude_direction = basis[0]
        self.fault_direction = basis[1:12]  # one per segment code (mount ... remount)
        self.contact_direction, self.tempo_direction, self.fall_direction = basis[12], basis[13], basis[14]
        self.content = basis[15:]
        scale = 2.0 / np.sqrt(len(self.content))
        self.type_embedding = rng.normal(size=(len(ELEMENTS), len(self.content))) @ self.content * scale
        self.segment_embedding = rng.normal(size=(len(SEGMENTS), len(self.content))) @ self.content * scale
        self.amplitude_gain = rng.uniform(0.3, 1.1, size=len(SEGMENTS))
        self.amplitude_gain[[LANDING, FALL, REMOUNT]] = 0.0  # no swing there
        self.fault_gain = rng.uniform(1.0, 2.2, size=len(SEGMENTS))
        self.fault_scale = rng.uniform(0.12, 0.45, size=len(SEGMENTS))  # points where the shown fault bends
        self.feature_map = FeatureMap(rng, RANK, feature_dim)

    # -- the routine's plan -------------------------------------------------------------------------
    def plan(self, length: int, skill: float, rng: np.random.Generator) -> list[tuple[str, int, int]]:
        """Blocks in order: ``(what, element type or -1, clips)``, ``what`` one of mount, link, element,
        fail (an element attempt that ends in a fall), fall, remount, dismount, landing."""
        z = (VALUE - VALUE[SWING_ELEMENTS].mean()) / VALUE[SWING_ELEMENTS].std()
        preferred = np.exp(-0.5 * ((z - CHOICE_GAIN * skill) / CHOICE_WIDTH) ** 2)
        preferred[DISMOUNTS] = 0.0
        dz = (VALUE[DISMOUNTS] - 30) / 14
        p_dismount = np.exp(-0.5 * ((dz - 0.9 * skill - 0.3) / 0.7) ** 2)
        dismount = int(DISMOUNTS[rng.choice(len(DISMOUNTS), p=p_dismount / p_dismount.sum())])
        budget = length - 1 - int(CLIPS[dismount]) - 1
        forced = dict(zip(np.sort(rng.choice(6, size=3, replace=False)).tolist(), rng.permutation([1, 2, 3]).tolist()))
        choice = preferred.copy()
        link_p = np.clip(0.30 - 0.06 * skill, 0.1, 0.5)
        blocks: list[tuple[str, int, int]] = [("mount", -1, 1)]
        retry, n = -1, 0
        while budget > 0:
            if retry >= 0:
                k = retry
            else:
                p = choice * (GROUP == forced[n]) if n in forced else choice
                if p.sum() <= 0:
                    choice = preferred.copy()
                    p = choice * (GROUP == forced[n]) if n in forced else choice
                k = int(rng.choice(len(ELEMENTS), p=p / p.sum()))
            retry = -1
            links = int(rng.random() < link_p) + int(rng.random() < 0.15 * link_p)
            fall_logit = FALL_LOGIT + 0.55 * z[k] - 0.6 * skill
            falls = rng.random() < 1 / (1 + np.exp(-fall_logit))
            remount = int(rng.integers(2, 5))
            cost = links + int(CLIPS[k]) + (1 + remount if falls else 0)
            room = budget - max(0, SWING_PLANNED - 1 - n)  # keep a clip for each element still to come
            if cost > room:
                links, falls = 0, False
                if CLIPS[k] > room:
                    fitting = choice * (CLIPS <= max(room, 1))
                    if fitting.sum() <= 0:
                        fitting = preferred * (CLIPS <= max(room, 1))
                    if fitting.sum() <= 0:
                        break
                    k = int(rng.choice(len(ELEMENTS), p=fitting / fitting.sum()))
            blocks += [("link", -1, 1)] * links
            if falls:
                blocks += [("fail", k, int(CLIPS[k])), ("fall", -1, 1), ("remount", -1, remount)]
                budget -= links + int(CLIPS[k]) + 1 + remount
                if rng.random() < 0.6:
                    retry = k  # he tries it again after the remount
            else:
                blocks.append(("element", k, int(CLIPS[k])))
                choice[k] = 0.0  # no value for a repeat: gymnasts do not plan one
                budget -= links + int(CLIPS[k])
            n += 1
        for _ in range(budget):  # clips left over: more linking circles between elements
            where = int(rng.integers(1, len(blocks) + 1))
            blocks.insert(where, ("link", -1, 1))
        blocks += [("dismount", dismount, int(CLIPS[dismount])), ("landing", -1, 1)]
        return blocks

    # -- one routine ------------------------------------------------------------------------------
    def routine(self, name: str, length: int, rng: np.random.Generator) -> JudgedVideo:
        skill = float(np.clip(rng.normal(), -2.5, 2.5))
        amplitude = float(0.75 * skill + 0.66 * rng.normal())
        blocks = self.plan(length, skill, rng)

        segment = np.zeros(length, dtype=np.int64)
        element_type = np.full(length, -1)
        performed: list[tuple[int, int, int]] = []  # (type, start, end)
        attempt_failed: list[bool] = []
        t = 0
        for what, k, n in blocks:
            if what in ("element", "fail", "dismount"):
                segment[t:t + n] = FAMILY[k]
                element_type[t:t + n] = k
                performed.append((k, t, t + n))
                attempt_failed.append(what == "fail")
            else:
                segment[t:t + n] = {"mount": MOUNT, "link": LINKING, "fall": FALL, "remount": REMOUNT,
                                    "landing": LANDING}[what]
            t += n
        assert t == length, (t, length)

        # -- execution: true faults, then the judges --------------------------------------------------
        z = (VALUE - VALUE[SWING_ELEMENTS].mean()) / VALUE[SWING_ELEMENTS].std()
        clip_z = np.where(element_type >= 0, z[np.maximum(element_type, 0)], -0.5)
        faults: list[tuple[int, int, int]] = []  # (clip, check (-1 touch/hit, -2 fall), true hundredths)
        where = {start: (start, end) for _, start, end in performed}
        starts = [clip for clip in range(length) if element_type[clip] < 0 or clip in where]
        for clip in starts:  # each element is judged once per check, every other clip on its own
            start, end = where.get(clip, (clip, clip + 1))
            seg = int(segment[clip])
            for c, (_, segs, rate, logits, by_amplitude) in enumerate(CHECKS):
                if seg not in segs:
                    continue
                chance = rate * np.exp(FAULT_VALUE * clip_z[clip] - FAULT_SKILL * skill
                                       - (FAULT_AMPLITUDE * amplitude if by_amplitude else 0.0))
                if rng.random() < min(chance, 0.9):
                    w = np.exp(np.array(logits) - SEVERITY_SKILL * skill * np.arange(3))
                    at = int(rng.integers(start, end))
                    faults.append((at, c, int(LADDER[1 + rng.choice(3, p=w / w.sum())])))
        for clip in range(length):
            seg = int(segment[clip])
            if seg in (MOUNT, LINKING, SCISSORS, CIRCLES, HANDSTAND, RUSSIAN, TRAVEL, DISMOUNT):
                u = rng.random()
                touch = TOUCH_RATE * np.exp(-0.3 * skill)
                hit = HIT_RATE * np.exp(0.4 * clip_z[clip] - 0.4 * skill)
                if u < hit:
                    faults.append((clip, -1, HIT))
                elif u < hit + touch:
                    faults.append((clip, -1, TOUCH))
            if seg == FALL:
                faults.append((clip, -2, FALL_OFF))
        landing_fall = rng.random() < 1 / (1 + np.exp(-(LANDING_FALL_LOGIT - 0.6 * skill)))
        if landing_fall:
            faults = [f for f in faults if not (segment[f[0]] == LANDING and f[1] in LANDING_CHECKS)]
            faults.append((length - 1, -2, FALL_OFF))

        recognised = []
        for (k, start, end), failed in zip(performed, attempt_failed):
            large = GROUP[k] < 4 and any(start <= f[0] < end and f[1] in NOT_RECOGNISED_BY and f[2] >= 50
                                         for f in faults)
            recognised.append(not failed and not large)

        judged = np.zeros((E_JUDGES, length), dtype=np.int64)  # hundredths per judge and clip
        fault_shown = np.zeros(length)  # form faults, true points
        contact_shown = np.zeros(length)
        tempo_shown = np.zeros(length)
        fall_shown = np.zeros(length)
        for clip, check, size in faults:
            if check == -2:
                judged[:, clip] += size
                fall_shown[clip] = 1.0
                continue
            if check == -1:
                seen = np.where(rng.random(E_JUDGES) < (0.15 if size == TOUCH else 0.02), 0, size)
                judged[:, clip] += seen
                contact_shown[clip] += 1.0 if size == TOUCH else 2.5
                continue
            step = int(np.searchsorted(LADDER, size))
            slips = rng.choice([-1, 0, 1], size=E_JUDGES, p=[MISJUDGE, 1 - 2 * MISJUDGE, MISJUDGE])
            judged[:, clip] += LADDER[np.clip(step + slips, 0, len(LADDER) - 1)]
            if check == HESITATION:
                tempo_shown[clip] += size / 10
            else:
                fault_shown[clip] += size / 100
        totals = judged.sum(axis=1)
        middle = np.argsort(totals, kind="stable")[1:3]
        deduction = judged[middle].sum(axis=0) // 2  # each judge in tenths: the mean of two is whole hundredths
        excess = int(deduction.sum()) - 1000  # E cannot go below 0: the last faults go unpunished
        for clip in range(length - 1, -1, -1):
            if excess <= 0:
                break
            taken = min(excess, int(deduction[clip]))
            deduction[clip] -= taken
            excess -= taken

        # -- difficulty: counted elements and group requirements ---------------------------------------
        types = [k for k, _, _ in performed]
        counted = counted_elements(types, recognised)
        difficulty = np.zeros(length, dtype=np.int64)  # hundredths
        met = set()
        for i in counted:
            k, start, end = performed[i]
            credit = int(VALUE[k])
            if GROUP[k] == 4:
                credit += dismount_requirement(int(VALUE[k]))
            elif GROUP[k] not in met:
                met.add(int(GROUP[k]))
                credit += GROUP_REQUIREMENT
            difficulty[start:end] += split_hundredths(credit, end - start)
        d_score = int(difficulty.sum())
        penalty = int(rng.choice(PENALTIES[0], p=PENALTIES[1]))

        # -- features ---------------------------------------------------------------------------------
        embedding = np.where(element_type[:, None] >= 0, self.type_embedding[np.maximum(element_type, 0)],
                             self.segment_embedding[segment])
        style = rng.normal(size=len(self.content)) @ self.content * 2.0 / np.sqrt(len(self.content))
        latent = embedding + style  # (T, R)
        shown_amplitude = self.amplitude_gain[segment] * (0.6 * amplitude + 0.25 * rng.normal(size=length))
        latent += shown_amplitude[:, None] * self.amplitude_direction
        bent = self.fault_gain[segment] * (1 - np.exp(-fault_shown / self.fault_scale[segment]))
        latent -= bent[:, None] * self.fault_direction[segment]
        latent -= contact_shown[:, None] * self.contact_direction
        latent -= 1.2 * np.sqrt(tempo_shown)[:, None] * self.tempo_direction
        latent += 3.0 * fall_shown[:, None] * self.fall_direction
        latent += ar1_noise(rng, length, RANK, 0.8) * 0.8 / np.sqrt(RANK)
        features = self.feature_map.features(latent, rng, isotropic_std=0.05)

        difficulty_points = difficulty / 100
        deduction_points = deduction / 100
        falls = int(sum(1 for f in faults if f[1] == -2))
        return JudgedVideo(
            name=name,
            features=features,
            truth={
                "difficulty": difficulty_points,
                "deduction": deduction_points,
                "contribution": difficulty_points - deduction_points,
                "element_type": element_type.astype(np.float64),
                "segment": segment.astype(np.float64),
            },
            marks={"difficulty": d_score, "execution": 1000 - int(deduction.sum()), "penalty": penalty},
            video={"skill": skill, "amplitude": amplitude, "falls": float(falls),
                   "elements": float(len(performed)), "counted": float(len(counted)),
                   "unlocated_deduction": 0.0},
        )


def generate(seed: int, count: int, feature_dim: int, min_clips: int, max_clips: int,
             class_name: str = "Ball") -> Iterator[JudgedVideo]:
    """``count`` routines of one sport, named ``<class_name>_001`` ..."""
    sport = PommelSport(seed, feature_dim)
    rng = np.random.default_rng([seed, 1])
    for i in range(1, count + 1):
        length = int(rng.integers(min_clips, max_clips + 1))
        yield sport.routine(f"{class_name}_{i:03d}", length, rng)


def write_pommel_heldout(root: str | Path, sizes: GenerationSizes = DEFAULT_SIZES) -> Path:
    """Write ``sizes.num_train + sizes.num_test`` routines in the RG layout plus ``truth/``; returns ``root``."""
    min_clips, max_clips = sizes.clip_range(KIND, DEFAULT_CLIPS, FEWEST_CLIPS)
    check_class_name(sizes.class_name)
    videos = generate(sizes.seed, sizes.num_train + sizes.num_test, sizes.feature_dim, min_clips, max_clips,
                      sizes.class_name)
    return write_rg_release(root, videos, sizes.num_train)
