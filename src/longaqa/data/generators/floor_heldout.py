"""FIG-like women's artistic gymnastics floor exercise, in the RG layout, held out from model design.

Whoever designs the model should not read this module (docs/generators.md); what follows is for after
the model is designed.

Scoring (rules close to the FIG Women's Artistic Gymnastics Code of Points, floor exercise):

* **D** = DV + CR + CV, all in tenths.

  - DV: the values (A 0.1 ... J 1.0) of the counting elements: the dismount (the main salto of the
    last acrobatic line) always counts, then the other best acrobatic elements up to five acrobatic
    in all, then the best dance elements up to eight elements in all (at least three dance elements
    count whenever three are recognised). An element ending in a crash (a fall not landed feet
    first) is not recognised; an element with a twist, turn or split short of its definition is
    credited one value lower (an A is then not recognised).
  - CR: four composition requirements, 0.5 each, met by recognised elements: a dance passage of two
    different leaps connected, one reaching its 180-degree split; a salto with at least a full twist;
    a double salto; a forward and a backward salto.
  - CV: two saltos connected directly in a line (both D or higher 0.2; C + D, or B + E or higher
    0.1), two leaps connected in the dance passage (both C or higher 0.1, both D or higher 0.2), two
    turns connected (D or higher with B or higher 0.1). A connection is lost when an element is not
    recognised, when it breaks (rhythm) or, for leaps, when the first lands badly or falls.

* **E** = 10 - the E panel's deductions. Four judges; each perceives every fault's physical size
  with its own noise and takes it on the ladder (small 0.1, medium 0.3, large 0.5 for hand support,
  fall 1.0, unanimous); E = 10 minus the mean of the two middle judges' totals (steps of 0.05, a
  concession to the release's two decimals; the real panel keeps thousandths). Faults: landings
  (steps, lunge, deep landing, hands, falls), body shape and height in the air, twists short,
  leaps short of the split, heavy leap landings, turn balance (and a rare fall), broken rhythm in a
  connection, round-off/flic-flac entries, posture in the choreography, and artistry: four whole
  routine items (composition, musicality, expression, quality of movement; 0.1 or 0.3 each) and
  music and movement not ending together (0.1).

* **Penalty** (neutral, video level): out of bounds on acro landings (0.1 one foot, 0.3 both feet
  or body), overtime past 90 s (0.1), attire or music (0.3), not presenting to the panel (0.3).

Per-clip truth: ``difficulty`` holds each counting element's value, its CR shares (each CR on the
first element performed that fulfils it) and its CV shares (a connection's value split between the
connected elements), each spread evenly over the element's clips; sums to D. ``deduction`` holds the
middle two judges' mean deduction per clip: located faults on their clip, the artistry items spread
over the choreography clips in proportion to how weak each looked (the features show it), the music
ending on the final pose; sums to 10 - E. ``contribution`` = difficulty - deduction (sums to
D + E - 10 = Total + Penalty - 10). ``element_type`` is the catalogue index, -1 off elements
(poses, choreography, run-ups, round-off/flic-flac entries). Out-of-bounds landings show in the
features but, being penalty, are in no truth field.

Structure: opening pose, choreography, three or four acrobatic lines (a run-up clip, an entry clip,
one clip per salto in flight, a landing clip belonging to the last salto), a dance passage of two
leaps, one or two further leaps, one or two turns (sometimes connected), choreography between
everything, the dismount line last, a final pose. Skill drives ambition (difficulty chosen),
consistency (how faults grow with difficulty beyond capability) and artistry, each only partly.

Features: a rank-40 latent per clip. What is performed: a segment embedding per kind of clip and a
catalogue embedding per element (family + salto count + twist + body shape + its own part). How
well, each as a *physical* quantity rather than the deduction: the twist actually turned, the split
actually reached, the turn's rotation (against the nominal one the embedding encodes), height,
landing instability (saturating), a fall direction, body-shape faults along a per-family direction
with a per-element gain, turn balance, posture, per-segment choreography quality, run-up power,
out-of-bounds steps. Execution signals are scaled by a per-video camera visibility. A per-video
style vector, AR(1) noise and a leak of each clip into the one before (elements are not aligned with
clip boundaries) complete it; the fixed random map of ``latent.FeatureMap`` gives ``feature_dim``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from longaqa.data.generators import latent, release

KIND = "floor_heldout"
DEFAULT_CLIPS = (55, 72)
"""70-92 s at 1.28 s a clip: a floor routine (at most 90 s) with its opening and final poses."""
FEWEST_CLIPS = 24

RANK = 40
JUDGES = 4

# families
BACK, DOUBLE, FORWARD, LEAP, TURN = range(5)
ACRO_FAMILIES = (BACK, DOUBLE, FORWARD)

# name, family, value (A=1 ... J=10), saltos, half twists (turns: half turns), shape (0 tuck, 1 pike,
# 2 stretched, -1 none), 180 split (leaps)
CATALOGUE: tuple[tuple[str, int, int, int, int, int, bool], ...] = (
    ("salto bwd stretched", BACK, 1, 1, 0, 2, False),
    ("salto bwd stretched 1/1", BACK, 2, 1, 2, 2, False),
    ("salto bwd stretched 2/1", BACK, 3, 1, 4, 2, False),
    ("salto bwd stretched 5/2", BACK, 4, 1, 5, 2, False),
    ("salto bwd stretched 3/1", BACK, 5, 1, 6, 2, False),
    ("double salto bwd tucked", DOUBLE, 3, 2, 0, 0, False),
    ("double salto bwd piked", DOUBLE, 4, 2, 0, 1, False),
    ("double salto bwd stretched", DOUBLE, 5, 2, 0, 2, False),
    ("double salto bwd tucked 1/1", DOUBLE, 5, 2, 2, 0, False),
    ("double salto bwd piked 1/1", DOUBLE, 6, 2, 2, 1, False),
    ("double salto bwd stretched 1/1", DOUBLE, 7, 2, 2, 2, False),
    ("double salto bwd tucked 2/1", DOUBLE, 8, 2, 4, 0, False),
    ("double salto bwd tucked 3/1", DOUBLE, 10, 2, 6, 0, False),
    ("salto fwd tucked", FORWARD, 1, 1, 0, 0, False),
    ("salto fwd stretched", FORWARD, 2, 1, 0, 2, False),
    ("salto fwd stretched 1/1", FORWARD, 3, 1, 2, 2, False),
    ("salto fwd stretched 3/2", FORWARD, 4, 1, 3, 2, False),
    ("salto fwd stretched 2/1", FORWARD, 5, 1, 4, 2, False),
    ("double salto fwd tucked", FORWARD, 5, 2, 0, 0, False),
    ("double salto fwd piked", FORWARD, 6, 2, 0, 1, False),
    ("split leap", LEAP, 1, 0, 0, -1, True),
    ("tour jete", LEAP, 2, 0, 1, -1, True),
    ("sheep jump", LEAP, 3, 0, 0, -1, False),
    ("switch leap", LEAP, 3, 0, 0, -1, True),
    ("split leap 1/1", LEAP, 3, 0, 2, -1, True),
    ("switch ring leap", LEAP, 4, 0, 0, -1, True),
    ("switch leap 1/2", LEAP, 4, 0, 1, -1, True),
    ("tour jete 1/2", LEAP, 4, 0, 2, -1, True),
    ("switch leap 1/1", LEAP, 5, 0, 2, -1, True),
    ("2/1 turn", TURN, 2, 0, 4, -1, False),
    ("2/1 wolf turn", TURN, 3, 0, 4, -1, False),
    ("3/1 turn", TURN, 4, 0, 6, -1, False),
    ("2/1 turn leg held up", TURN, 4, 0, 4, -1, False),
    ("3/1 wolf turn", TURN, 5, 0, 6, -1, False),
    ("4/1 turn", TURN, 6, 0, 8, -1, False),
)
FAMILY = np.array([e[1] for e in CATALOGUE])
VALUE = np.array([e[2] for e in CATALOGUE])
SALTOS = np.array([e[3] for e in CATALOGUE])
HALF_TWISTS = np.array([e[4] for e in CATALOGUE])
SHAPE = np.array([e[5] for e in CATALOGUE])
SPLIT = np.array([e[6] for e in CATALOGUE])

# clip kinds
OPENING, CHOREO, RUNUP, ENTRY, FLIGHT, LANDING, LEAP_CLIP, TURN_CLIP, FINAL = range(9)

# signal directions (rows of the sport's orthonormal basis); the rest hold what is performed
D_LANDING, D_FALL, D_FORM0, D_TWIST, D_HEIGHT, D_SPLIT, D_ROTATION, D_BALANCE = 0, 1, 2, 5, 6, 7, 8, 9
D_ARTISTRY, D_POWER, D_POSTURE, D_OUT, D_ENTRY = 10, 11, 12, 13, 14
CONTENT = 15

# fault ladders: thresholds on the perceived physical size -> deduction in hundredths; judge noise
LADDERS = {
    "landing": ((0.6, 1.2, 1.9), (0, 10, 30, 50), 0.16),
    "form": ((0.5, 1.2), (0, 10, 30), 0.16),
    "height": ((1.0, 1.8), (0, 10, 30), 0.2),
    "twist": ((20.0, 45.0), (0, 10, 30), 7.0),
    "split": ((5.0, 20.0), (0, 10, 30), 3.5),
    "leap_landing": ((0.8, 1.6), (0, 10, 30), 0.18),
    "balance": ((0.7, 1.5), (0, 10, 30), 0.18),
    "posture": ((0.8, 1.8), (0, 10, 30), 0.2),
    "rhythm": ((0.5,), (0, 10), 0.15),
    "entry": ((1.0,), (0, 10), 0.2),
    "artistry": ((0.5, 1.3), (0, 10, 30), 0.22),
    "music_end": ((0.5,), (0, 10), 0.15),
}
LADDER_NAMES = tuple(LADDERS)
FALL = 100


@dataclass
class _Sport:
    directions: np.ndarray  # (R, R)
    kind_embedding: np.ndarray  # (9, R)
    type_embedding: np.ndarray  # (E, R)
    form_gain: np.ndarray  # (E,)
    feature_map: latent.FeatureMap


def _draw_sport(rng: np.random.Generator, feature_dim: int) -> _Sport:
    directions = latent.orthonormal_directions(rng, RANK)
    content = directions[CONTENT:]
    width = len(content)

    def vectors(count: int, scale: float) -> np.ndarray:
        return rng.normal(size=(count, width)) @ content * (scale / np.sqrt(width))

    kind_embedding = vectors(9, 1.6)
    family = vectors(5, 1.4)
    salto_axis, twist_axis, own = vectors(1, 1.0)[0], vectors(1, 1.0)[0], vectors(len(CATALOGUE), 0.9)
    shape = vectors(3, 0.6)
    type_embedding = (family[FAMILY] + 0.45 * SALTOS[:, None] * salto_axis
                      + 0.12 * HALF_TWISTS[:, None] * twist_axis + own
                      + np.where(SHAPE[:, None] >= 0, shape[np.maximum(SHAPE, 0)], 0.0))
    form_gain = rng.uniform(0.6, 1.4, size=len(CATALOGUE))
    return _Sport(directions, kind_embedding, type_embedding, form_gain,
                  latent.FeatureMap(rng, RANK, feature_dim))


@dataclass
class _Element:
    type: int
    clips: list[int] = field(default_factory=list)
    recognised: bool = True
    downgraded: bool = False
    fall: bool = False
    credit: float = 0.0  # DV + CR + CV shares in tenths, spread over its clips


@dataclass
class _Routine:
    """What the gymnast plans, in the order performed: blocks of ("line", [types]) / ("passage", [a, b])
    / ("leap", [a]) / ("turns", [a] or [a, b])."""
    blocks: list[tuple[str, list[int]]]


def _pick(rng: np.random.Generator, pool: np.ndarray, target: float, used: set[int]) -> int:
    pool = np.array([k for k in pool if k not in used]) if not used.issuperset(pool) else pool
    weights = np.exp(-0.5 * ((VALUE[pool] - target) / 0.75) ** 2) + 1e-9
    choice = int(rng.choice(pool, p=weights / weights.sum()))
    used.add(choice)
    return choice


def _levels(ambition: float) -> tuple[float, float]:
    """The letters of her typical main salto and dance element."""
    return 4.3 + 1.35 * ambition, 2.9 + 0.9 * ambition


def _pools() -> tuple[dict[int, np.ndarray], np.ndarray, np.ndarray]:
    """The element pools the plan draws from: by family, twisting back saltos, single front saltos."""
    in_family = {f: np.flatnonzero(FAMILY == f) for f in range(5)}
    twisting_back = np.flatnonzero((FAMILY == BACK) & (HALF_TWISTS >= 2))
    single_fronts = in_family[FORWARD][SALTOS[in_family[FORWARD]] == 1]
    return in_family, twisting_back, single_fronts


def _plan_lines(rng: np.random.Generator, ambition: float, level: float, used: set[int]) -> list[list[int]]:
    """Draw the acrobatic lines, in the order performed."""
    in_family, twisting_back, single_fronts = _pools()
    lines_count = 4 if rng.random() < 1 / (1 + np.exp(-(0.8 + 1.6 * ambition))) else 3
    plans: list[list[int]] = []
    # a double salto (the hardest pass, usually first)
    plans.append([_pick(rng, in_family[DOUBLE], level + 0.9 + 0.4 * rng.normal(), used)])
    # a twisting back salto, often through to a front salto
    line = [_pick(rng, twisting_back, level - 0.4 + 0.5 * rng.normal(), used)]
    if rng.random() < 0.6:
        line.append(_pick(rng, single_fronts, level - 2.2, used))
    plans.append(line)
    # a forward line unless she already has a front salto (weak gymnasts now and then leave it out)
    has_forward = any(FAMILY[k] == FORWARD for p in plans for k in p)
    if not has_forward and rng.random() > 1 / (1 + np.exp(3.0 + 1.5 * ambition)):
        line = [_pick(rng, in_family[FORWARD], level - 0.7 + 0.5 * rng.normal(), used)]
        if SALTOS[line[0]] == 1 and rng.random() < 0.4:
            line.append(_pick(rng, single_fronts, level - 2.0, used))
        plans.append(line)
    while len(plans) < lines_count:
        family = DOUBLE if rng.random() < 0.6 else BACK
        pool = in_family[family] if family == DOUBLE else twisting_back
        line = [_pick(rng, pool, level - 0.3 + 0.5 * rng.normal(), used)]
        if family == BACK and rng.random() < 0.35:
            line.append(_pick(rng, single_fronts, level - 2.2, used))
        plans.append(line)
    # the hardest line first, the dismount last (most often a double salto of middling value)
    first = int(np.argmax([VALUE[p[0]] for p in plans]))
    rest = [p for i, p in enumerate(plans) if i != first]
    doubles = [i for i, p in enumerate(rest) if FAMILY[p[-1]] == DOUBLE]
    last = int(rng.choice(doubles)) if doubles and rng.random() < 0.75 else int(rng.integers(len(rest)))
    middle = [p for i, p in enumerate(rest) if i != last]
    order = [int(i) for i in rng.permutation(len(middle))]
    return [plans[first], *(middle[i] for i in order), rest[last]]


def _plan_dance(rng: np.random.Generator, dance_level: float, used: set[int]) -> list[tuple[str, list[int]]]:
    """Draw the dance blocks: the passage, further leaps and the turns."""
    in_family, _, _ = _pools()
    leaps = in_family[LEAP]
    split_leaps = leaps[SPLIT[leaps]]
    passage = [_pick(rng, split_leaps, dance_level + 0.3 * rng.normal(), used),
               _pick(rng, leaps, dance_level - 0.3 + 0.5 * rng.normal(), used)]
    dance: list[tuple[str, list[int]]] = [("passage", passage)]
    for _ in range(int(rng.choice([1, 2], p=[0.45, 0.55]))):
        dance.append(("leap", [_pick(rng, leaps, dance_level + 0.6 * rng.normal(), used)]))
    turns = [_pick(rng, in_family[TURN], dance_level + 0.4 + 0.6 * rng.normal(), used)]
    if rng.random() < 0.55:
        turns.append(_pick(rng, in_family[TURN], dance_level - 0.4 + 0.6 * rng.normal(), used))
        if rng.random() < 0.5:  # connected as one turn combination
            dance.append(("turns", turns))
        else:
            dance.extend([("turns", [turns[0]]), ("turns", [turns[1]])])
    else:
        dance.append(("turns", turns))
    return dance


def _plan_at_least_nine(rng: np.random.Generator, lines: list[list[int]], dance: list[tuple[str, list[int]]],
                        level: float, dance_level: float, used: set[int]) -> None:
    """Add elements until at least nine are planned."""
    in_family, _, single_fronts = _pools()
    leaps = in_family[LEAP]
    # at least nine elements planned: a through-front salto on a twisting line, else another leap
    while sum(map(len, lines)) + sum(len(b[1]) for b in dance) < 9:
        open_lines = [i for i, p in enumerate(lines) if len(p) == 1 and FAMILY[p[0]] == BACK]
        if open_lines and rng.random() < 0.5:
            lines[open_lines[0]] = [*lines[open_lines[0]], _pick(rng, single_fronts, level - 2.2, used)]
        else:
            dance.insert(1, ("leap", [_pick(rng, leaps, dance_level + 0.6 * rng.normal(), used)]))


def _needed(lines_: list[list[int]], dance_: list) -> int:
    """The clips the planned blocks need."""
    acro = sum(3 + len(p) for p in lines_)
    blocks = len(lines_) + len(dance_)
    return 2 + acro + sum(len(b[1]) for b in dance_) + blocks - 1


def _plan_fit(lines: list[list[int]], dance: list[tuple[str, list[int]]], clips: int) -> None:
    """Drop what a short routine can spare until the plan fits the clips."""
    # too few clips: drop what a short routine can spare, in this order
    while _needed(lines, dance) + 2 > clips:
        extra = [i for i, b in enumerate(dance) if b[0] == "leap"]
        if extra:
            del dance[extra[-1]]
            continue
        turn_blocks = [i for i, b in enumerate(dance) if b[0] == "turns"]
        if len(turn_blocks) > 1 or (turn_blocks and len(dance[turn_blocks[0]][1]) > 1):
            i = turn_blocks[-1]
            if len(dance[i][1]) > 1:
                dance[i] = ("turns", dance[i][1][:1])
            else:
                del dance[i]
            continue
        if len(lines) > 3:
            del lines[-2]
            continue
        doubled = [i for i, p in enumerate(lines) if len(p) > 1]
        if doubled:
            lines[doubled[-1]] = lines[doubled[-1]][:1]
            continue
        break


def _plan_order(rng: np.random.Generator, lines: list[list[int]], dance: list[tuple[str, list[int]]]
                ) -> list[tuple[str, list[int]]]:
    """Place the dance blocks between the lines."""
    # dance blocks go between the lines (now and then before the first)
    slots: list[list[tuple[str, list[int]]]] = [[] for _ in lines]
    for block in [dance[i] for i in rng.permutation(len(dance))]:
        slot = 0 if rng.random() < 0.12 else int(rng.integers(1, len(lines)))
        slots[slot].append(block)
    blocks: list[tuple[str, list[int]]] = []
    for slot, line in zip(slots, lines, strict=True):
        blocks.extend(slot)
        blocks.append(("line", line))
    return blocks


def _plan(rng: np.random.Generator, ambition: float, clips: int) -> _Routine:
    """Plan the routine: lines, dance blocks, at least nine elements, fitted to the clips, in order."""
    level, dance_level = _levels(ambition)
    used: set[int] = set()
    lines = _plan_lines(rng, ambition, level, used)
    dance = _plan_dance(rng, dance_level, used)
    _plan_at_least_nine(rng, lines, dance, level, dance_level, used)
    _plan_fit(lines, dance, clips)
    return _Routine(_plan_order(rng, lines, dance))



def _ladder(name: str, perceived: np.ndarray) -> np.ndarray:
    thresholds, values, _ = LADDERS[name]
    return np.asarray(values)[np.searchsorted(np.asarray(thresholds), perceived, side="right")]


def _sigmoid(x: float) -> float:
    return float(1 / (1 + np.exp(-x)))
@dataclass
class _Performed:
    """What the clips show and the faults made, filled in step by step."""
    signal: np.ndarray  # (T, R)
    vis: float
    faults: list[tuple[int, str, float, bool]] = field(default_factory=list)  # clip, ladder, true size, fall
    out_of_bounds: int = 0
    broken: set[int] = field(default_factory=set)  # elements after which a connection breaks


def _lay_out(rng: np.random.Generator, routine: _Routine, clips: int
             ) -> tuple[np.ndarray, np.ndarray, list[_Element], list[tuple[str, list[int]]]]:
    """Lay the blocks on the clips."""
    kind: list[int] = [OPENING]
    owner: list[int] = [-1]  # element index per clip
    elements: list[_Element] = []
    block_elements: list[tuple[str, list[int]]] = []
    structural = 2 + sum((3 + len(b[1])) if b[0] == "line" else len(b[1]) for b in routine.blocks)
    gaps = len(routine.blocks) + 1  # before each block, and before the final pose
    spare = clips - structural
    # at least a clip of choreography between blocks (the plan leaves room for it)
    minimum = np.r_[0 if rng.random() < 0.3 else 1, np.ones(gaps - 2, int), 0]
    weights = rng.dirichlet(np.r_[2.0, np.full(gaps - 2, 3.0), 0.6])
    gap = minimum + rng.multinomial(spare - minimum.sum(), weights)
    for (block, types), before in zip(routine.blocks, gap[:-1], strict=True):
        kind += [CHOREO] * int(before)
        owner += [-1] * int(before)
        indices = []
        if block == "line":
            kind += [RUNUP, ENTRY]
            owner += [-1, -1]
            for i, k in enumerate(types):
                elements.append(_Element(k))
                indices.append(len(elements) - 1)
                kind.append(FLIGHT)
                owner.append(len(elements) - 1)
                if i == len(types) - 1:
                    kind.append(LANDING)
                    owner.append(len(elements) - 1)
        else:
            for k in types:
                elements.append(_Element(k))
                indices.append(len(elements) - 1)
                kind.append(LEAP_CLIP if block in ("passage", "leap") else TURN_CLIP)
                owner.append(len(elements) - 1)
        block_elements.append((block, indices))
    kind += [CHOREO] * int(gap[-1]) + [FINAL]
    owner += [-1] * int(gap[-1]) + [-1]
    kind_arr, owner_arr = np.array(kind), np.array(owner)
    assert len(kind_arr) == clips
    for t, e in enumerate(owner):
        if e >= 0:
            elements[e].clips.append(t)
    return kind_arr, owner_arr, elements, block_elements


def _perform_acro(sport: _Sport, rng: np.random.Generator, done: _Performed, el: _Element, e: int, risk: float,
                  block: str, position: int) -> None:
    """Perform an acrobatic element: form, height, twist, rhythm, landing."""
    signal, dirs, vis = done.signal, sport.directions, done.vis
    k = el.type
    family = FAMILY[k]
    first, last = el.clips[0], el.clips[-1]
    form = max(0.0, rng.normal(0.4 + 0.6 * risk, 0.35))
    height = max(0.0, rng.normal(0.5 + 0.7 * risk, 0.4))
    done.faults += [(first, "form", form, False), (first, "height", height, False)]
    form_dir = D_FORM0 + ACRO_FAMILIES.index(family)
    signal[first] += dirs[form_dir] * vis * sport.form_gain[k] * np.tanh(form / 1.3) * 1.4
    signal[first] += dirs[D_HEIGHT] * (1.0 - 0.45 * height) * 0.8
    nominal = 180.0 * HALF_TWISTS[k]
    if HALF_TWISTS[k] > 0:
        short = min(nominal, max(0.0, rng.normal(-5 + 55 * risk, 18 + 10 * risk)))
        done.faults.append((first, "twist", short, False))
        el.downgraded |= short >= 90
        signal[first] += dirs[D_TWIST] * (nominal - short) / 360.0
    if position > 0 and block == "line" and e - 1 in done.broken:
        done.faults.append((first, "rhythm", 1.0, False))
    if last != first:  # the line's last salto lands
        landing = max(0.0, rng.normal(0.7 + 0.9 * risk, 0.45 + 0.55 * risk))
        el.fall = landing >= 2.4
        if el.fall and rng.random() < 0.25:
            el.recognised = False  # not landed feet first
        done.faults.append((last, "landing", landing, el.fall))
        signal[last] += dirs[D_LANDING] * vis * 1.5 * np.tanh(landing / 1.4)
        signal[last] += dirs[D_FALL] * (2.2 if el.fall else 0.0)
        if rng.random() < _sigmoid(-4.3 + 1.3 * landing):
            done.out_of_bounds += 30 if landing > 1.6 and rng.random() < 0.5 else 10
            signal[last] += dirs[D_OUT] * 1.2
    elif rng.random() < 0.06 + 0.2 * risk:  # the take-off into the next salto breaks
        done.broken.add(e)


def _perform_leap(sport: _Sport, rng: np.random.Generator, done: _Performed, el: _Element, e: int, risk: float
                  ) -> None:
    """Perform a leap: split, landing, height."""
    signal, dirs, vis = done.signal, sport.directions, done.vis
    k = el.type
    first = el.clips[0]
    short = max(0.0, rng.normal(2 + 16 * risk, 6 + 4 * risk)) if SPLIT[k] else 0.0
    heavy = max(0.0, rng.normal(0.4 + 0.6 * risk, 0.4))
    height = max(0.0, rng.normal(0.4 + 0.7 * risk, 0.4))
    if SPLIT[k]:
        done.faults.append((first, "split", short, False))
        el.downgraded |= short > 20
        signal[first] += dirs[D_SPLIT] * (180.0 - short) / 90.0
    done.faults += [(first, "leap_landing", heavy, False), (first, "height", height, False)]
    signal[first] += dirs[D_LANDING] * vis * 0.9 * np.tanh(heavy / 1.4)
    signal[first] += dirs[D_HEIGHT] * (1.0 - 0.45 * height) * 0.8
    if heavy >= 1.2:
        done.broken.add(e)


def _perform_turn(sport: _Sport, rng: np.random.Generator, done: _Performed, el: _Element, e: int, risk: float
                  ) -> None:
    """Perform a turn: rotation and balance."""
    signal, dirs, vis = done.signal, sport.directions, done.vis
    k = el.type
    first = el.clips[0]
    short = max(0.0, rng.normal(-20 + 70 * risk, 25))
    balance = max(0.0, rng.normal(0.35 + 0.8 * risk, 0.45 + 0.2 * risk))
    fell = balance >= 2.6
    done.faults.append((first, "balance", balance, fell))
    el.downgraded |= short >= 90
    el.fall = fell
    signal[first] += dirs[D_ROTATION] * (180.0 * HALF_TWISTS[k] - short) / 540.0
    signal[first] += dirs[D_BALANCE] * vis * 1.3 * np.tanh(balance / 1.3) + dirs[D_FALL] * (2.2 * fell)
    if balance >= 1.2 or fell:
        done.broken.add(e)


def _perform_entry(sport: _Sport, rng: np.random.Generator, done: _Performed, entry: int, consistency: float,
                   skill: float) -> None:
    """Perform a line's run-up and entry."""
    dirs = sport.directions
    slip = max(0.0, rng.normal(0.1 + 0.3 * _sigmoid(-consistency), 0.4))
    done.faults.append((entry, "entry", slip, False))
    done.signal[entry] += dirs[D_ENTRY] * done.vis * np.tanh(slip)
    done.signal[entry - 1] += dirs[D_POWER] * (0.6 * skill + 0.6 * rng.normal())


def _perform(sport: _Sport, rng: np.random.Generator, clips: int, kind_arr: np.ndarray, elements: list[_Element],
             block_elements: list[tuple[str, list[int]]], levels: tuple[float, float], consistency: float,
             skill: float) -> _Performed:
    """Draw the physical execution of each element and the faults it makes."""
    level, dance_level = levels
    done = _Performed(np.zeros((clips, RANK)), float(rng.uniform(0.7, 1.2)))  # vis: how visible execution is
    for block, indices in block_elements:
        for position, e in enumerate(indices):
            el = elements[e]
            k = el.type
            family = FAMILY[k]
            # faults grow as consistency falls and as the element goes beyond her own level
            beyond = VALUE[k] - (level if family in ACRO_FAMILIES else dance_level)
            risk = _sigmoid(-0.7 - 0.8 * consistency + 0.3 * beyond)
            done.signal[el.clips] += (sport.type_embedding[k]
                                      * np.where(kind_arr[el.clips] == LANDING, 0.5, 1.0)[:, None])
            if family in ACRO_FAMILIES:
                _perform_acro(sport, rng, done, el, e, risk, block, position)
            elif family == LEAP:
                _perform_leap(sport, rng, done, el, e, risk)
            else:  # turn
                _perform_turn(sport, rng, done, el, e, risk)
        if block == "line":
            _perform_entry(sport, rng, done, int(elements[indices[0]].clips[0]) - 1, consistency, skill)
    for el in elements:
        if el.downgraded and VALUE[el.type] == 1:
            el.recognised = False
    return done


def _choreography(sport: _Sport, rng: np.random.Generator, done: _Performed, kind_arr: np.ndarray,
                  artistry: float, consistency: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Draw the choreography: posture faults and the quality the artistry items judge."""
    clips = len(kind_arr)
    dirs = sport.directions
    choreo = np.flatnonzero((kind_arr == CHOREO) | (kind_arr == OPENING))
    quality = np.zeros(clips)
    segment_id = np.cumsum(np.r_[1, np.diff(choreo) != 1]) if len(choreo) else np.zeros(0, int)
    per_segment = artistry + 0.6 * rng.normal(size=segment_id.max(initial=0) + 1)
    quality[choreo] = per_segment[segment_id] + 0.25 * rng.normal(size=len(choreo))
    done.signal[choreo] += dirs[D_ARTISTRY] * quality[choreo, None] * 0.7
    slips = rng.random(len(choreo)) < 0.015 + 0.05 * _sigmoid(-1.5 * consistency)
    for t in choreo[slips]:
        size = float(rng.uniform(0.7, 2.1))
        done.faults.append((int(t), "posture", size, False))
        done.signal[t] += dirs[D_POSTURE] * done.vis * np.tanh(size)
    artistry_items = np.maximum(0.0, 0.7 - 0.3 * artistry + 0.4 * rng.normal(size=4))
    music_end = float(rng.random() < 0.06 + 0.16 * _sigmoid(-artistry))
    return choreo, quality, artistry_items, music_end


def _judge_execution(sport: _Sport, rng: np.random.Generator, done: _Performed, clips: int, choreo: np.ndarray,
                     quality: np.ndarray, artistry_items: np.ndarray, music_end: float) -> tuple[int, np.ndarray]:
    """Judge execution: each E judge perceives each fault's size and takes it on the ladder."""
    faults = done.faults
    located = np.array([f[0] for f in faults], int)
    ladder = np.array([LADDER_NAMES.index(f[1]) for f in faults])
    size = np.array([f[2] for f in faults])
    fall = np.array([f[3] for f in faults])
    noise = np.array([LADDERS[n][2] for n in LADDER_NAMES])[ladder]
    perceived = size + noise * rng.normal(size=(JUDGES, len(faults)))
    taken = np.zeros((JUDGES, len(faults)), int)
    for i, n in enumerate(LADDER_NAMES):
        cols = ladder == i
        if cols.any():
            taken[:, cols] = _ladder(n, perceived[:, cols])
    taken = np.where(fall, FALL, np.minimum(taken, 50))
    per_clip = np.zeros((JUDGES, clips), int)
    for j in range(JUDGES):
        np.add.at(per_clip[j], located, taken[j])
    judged = per_clip.astype(float)
    if len(choreo):
        weakness = np.logaddexp(0.0, 1.0 - quality[choreo])  # softplus: weaker clips carry more
        share = weakness / weakness.sum()
        items = _ladder("artistry", artistry_items + LADDERS["artistry"][2] * rng.normal(size=(JUDGES, 4)))
        judged[:, choreo] += items.sum(axis=1)[:, None] * share
    end = _ladder("music_end", music_end + LADDERS["music_end"][2] * rng.normal(size=JUDGES))
    judged[:, -1] += end
    done.signal[-1] += sport.directions[D_ARTISTRY] * (-1.2 * music_end)
    totals = np.rint(judged.sum(axis=1)).astype(int)  # whole hundredths, multiples of 10
    middle = np.argsort(totals, kind="stable")[1:3]
    execution = 1000 - int(totals[middle].sum()) // 2
    deduction = judged[middle].mean(axis=0) / 100
    return execution, deduction


def _credit_values(elements: list[_Element], block_elements: list[tuple[str, list[int]]]) -> dict[int, int]:
    """Credit the counting elements' values; returns each recognised element's credited value."""
    credited = {e: VALUE[el.type] - int(el.downgraded) for e, el in enumerate(elements) if el.recognised}
    acro = sorted((e for e in credited if FAMILY[elements[e].type] in ACRO_FAMILIES),
                  key=lambda e: (-credited[e], e))
    dance = sorted((e for e in credited if FAMILY[elements[e].type] in (LEAP, TURN)),
                   key=lambda e: (-credited[e], e))
    dismount = block_elements[-1][1][0]
    counting = [dismount] if dismount in credited else []
    counting += [e for e in acro if e != dismount][:5 - len(counting)]
    counting += dance[:8 - len(counting)]
    for e in counting:
        elements[e].credit += credited[e]
    return credited


def _credit_requirements(elements: list[_Element], block_elements: list[tuple[str, list[int]]],
                         credited: dict[int, int], broken: set[int]) -> bool:
    """Credit the composition requirements; returns whether the dance passage met its requirement."""
    order = sorted(credited)

    def fulfil(test) -> None:
        for e in order:
            if test(e):
                elements[e].credit += 5
                return

    passage = next(ix for b, ix in block_elements if b == "passage")
    a, b = passage
    if (a in credited and b in credited and a not in broken and not elements[a].fall
            and any(SPLIT[elements[e].type] and not elements[e].downgraded for e in passage)):
        for e in passage:
            elements[e].credit += 2.5
        passage_ok = True
    else:
        passage_ok = False
    half_twists = {e: HALF_TWISTS[elements[e].type] - (1 if elements[e].downgraded else 0) for e in credited}
    fulfil(lambda e: FAMILY[elements[e].type] in ACRO_FAMILIES and half_twists[e] >= 2)
    fulfil(lambda e: SALTOS[elements[e].type] >= 2)
    if any(FAMILY[elements[e].type] == FORWARD for e in credited) and any(
            FAMILY[elements[e].type] in (BACK, DOUBLE) for e in credited):
        forward = next(e for e in order if FAMILY[elements[e].type] == FORWARD)
        backward = next(e for e in order if FAMILY[elements[e].type] in (BACK, DOUBLE))
        elements[forward].credit += 2.5
        elements[backward].credit += 2.5
    return passage_ok


def _credit_connections(elements: list[_Element], block_elements: list[tuple[str, list[int]]],
                        credited: dict[int, int], broken: set[int], passage_ok: bool) -> None:
    """Credit the connection values."""
    for block, indices in block_elements:
        for a, b in zip(indices[:-1], indices[1:], strict=True):
            if a not in credited or b not in credited or a in broken or elements[a].fall or elements[b].fall:
                continue
            low, high = sorted((credited[a], credited[b]))
            if block == "line":
                value = 2 if low >= 4 else 1 if (low >= 3 and high >= 4) or (low >= 2 and high >= 5) else 0
            elif block == "passage":
                value = (2 if low >= 4 else 1 if low >= 3 else 0) if passage_ok else 0
            else:
                value = 1 if low >= 2 and high >= 4 else 0
            elements[a].credit += value / 2
            elements[b].credit += value / 2


def _judge_difficulty(elements: list[_Element], block_elements: list[tuple[str, list[int]]], broken: set[int],
                      clips: int) -> tuple[np.ndarray, float]:
    """Judge difficulty: counting elements, composition requirements, connections (tenths)."""
    credited = _credit_values(elements, block_elements)
    passage_ok = _credit_requirements(elements, block_elements, credited, broken)
    _credit_connections(elements, block_elements, credited, broken, passage_ok)
    difficulty = np.zeros(clips)
    for el in elements:
        difficulty[el.clips] += el.credit / 10 / len(el.clips)
    d_tenths = sum(el.credit for el in elements)
    assert abs(d_tenths - round(d_tenths)) < 1e-9
    return difficulty, d_tenths


def _neutral_penalty(rng: np.random.Generator, clips: int, out_of_bounds: int) -> int:
    """Draw the neutral deductions (video level)."""
    seconds = (clips - 1.5) * release.CLIP_FRAMES / release.FPS - float(rng.uniform(0.0, 2.0))
    penalty = out_of_bounds + (10 if seconds > 90.0 else 0)
    penalty += 30 if rng.random() < 0.02 else 0  # attire or music
    penalty += 30 if rng.random() < 0.01 else 0  # not presenting to the panel
    return penalty


def _features(sport: _Sport, rng: np.random.Generator, signal: np.ndarray, kind_arr: np.ndarray) -> np.ndarray:
    """Build the features: the clip latent with style, noise and a leak into the clip before."""
    R = RANK
    clips = len(kind_arr)
    dirs = sport.directions
    style = rng.normal(size=R - CONTENT) @ dirs[CONTENT:] * (0.35 * np.sqrt(3.0 / (R - CONTENT)))
    signal += sport.kind_embedding[kind_arr] + style
    signal += 0.22 * latent.ar1_noise(rng, clips, R, 0.7)
    leak = rng.uniform(0.0, 0.35, size=clips - 1)[:, None]
    mixed = signal.copy()
    mixed[:-1] = (1 - leak) * signal[:-1] + leak * signal[1:]
    return sport.feature_map.features(mixed, rng, 0.05)


def _routine(sport: _Sport, rng: np.random.Generator, clips: int, name: str) -> release.JudgedVideo:
    """Draw one gymnast's routine, judge it and build its features."""
    skill = float(rng.normal())
    ambition = 0.9 * skill + 0.44 * float(rng.normal())
    consistency = 0.9 * skill + 0.44 * float(rng.normal())
    artistry = 0.6 * skill + 0.8 * float(rng.normal())
    routine = _plan(rng, ambition, clips)
    kind_arr, owner_arr, elements, block_elements = _lay_out(rng, routine, clips)
    done = _perform(sport, rng, clips, kind_arr, elements, block_elements, _levels(ambition), consistency, skill)
    choreo, quality, artistry_items, music_end = _choreography(sport, rng, done, kind_arr, artistry, consistency)
    execution, deduction = _judge_execution(sport, rng, done, clips, choreo, quality, artistry_items, music_end)
    difficulty, d_tenths = _judge_difficulty(elements, block_elements, done.broken, clips)
    penalty = _neutral_penalty(rng, clips, done.out_of_bounds)
    features = _features(sport, rng, done.signal, kind_arr)

    element_type = np.full(clips, -1)
    element_type[owner_arr >= 0] = [elements[e].type for e in owner_arr[owner_arr >= 0]]
    truth = {"difficulty": difficulty, "deduction": deduction, "contribution": difficulty - deduction,
             "element_type": element_type.astype(float)}
    marks = {"difficulty": int(round(d_tenths)) * 10, "execution": execution, "penalty": int(penalty)}
    video = {"skill": skill, "ambition": ambition, "consistency": consistency, "artistry": artistry,
             "falls": float(sum(el.fall for el in elements))}
    return release.JudgedVideo(name, features, {k: v.astype(np.float32) for k, v in truth.items()}, marks, video)


def generate(
    seed: int, count: int, feature_dim: int, min_clips: int, max_clips: int, class_name: str = "Ball"
) -> Iterator[release.JudgedVideo]:
    """``count`` floor routines ``<class_name>_001`` ... of one sport drawn from ``seed``."""
    sport_seed, routine_seed = np.random.SeedSequence([seed, 0x466C6F6F72]).spawn(2)
    sport = _draw_sport(np.random.default_rng(sport_seed), feature_dim)
    rng = np.random.default_rng(routine_seed)
    for i in range(count):
        clips = int(rng.integers(min_clips, max_clips + 1))
        yield _routine(sport, rng, clips, f"{class_name}_{i + 1:03d}")


def write_floor_heldout(root: str | Path, sizes: release.GenerationSizes = release.DEFAULT_SIZES) -> Path:
    """Write ``sizes.num_train + sizes.num_test`` floor routines in the RG layout under ``root``; returns
    ``root``."""
    min_clips, max_clips = sizes.clip_range(KIND, DEFAULT_CLIPS, FEWEST_CLIPS)
    release.check_class_name(sizes.class_name)
    videos = generate(sizes.seed, sizes.num_train + sizes.num_test, sizes.feature_dim, min_clips, max_clips,
                      sizes.class_name)
    return release.write_rg_release(root, videos, sizes.num_train)
