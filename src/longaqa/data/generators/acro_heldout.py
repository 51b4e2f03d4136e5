"""FIG-like acrobatic gymnastics pair routines (senior), in the RG layout, held out from model design.

Whoever designs the model should not read this module (docs/generators.md); what follows is for after
the model is designed.

The sport (rules close to the FIG Acrobatic Gymnastics Code of Points, simplified)
----------------------------------------------------------------------------------

Each routine is one senior pair (women's, men's or mixed pair, drawn per routine with odds drawn per
seed) in one routine type (balance, dynamic or combined, likewise), about 2:30 of music with the
entrance pose and the closing salute around it. The real sheet is D + 2 x E + A - penalties:

* **D** (difficulty) = the sum of the values of the recognised elements (value points from the
  generator's table of difficulty) divided by 100; seniors have no maximum. Pair elements: balance
  elements (a static hold of at least 3 s; values 6-60), dynamic elements (tosses, flights, catches,
  salto dismounts to the floor; values 10-62). Individual elements: both partners perform the same
  skill together (balance and flexibility holds of 2 s, agility, tumbling; values 1-12 per partner),
  credited once per partner who performs it. A pair element is not recognised after a fall in it, a
  loss of balance (the top steps down or puts a hand down) or, for a balance, a hold under 3 s; a
  partner's individual element is not recognised after a fall or a hold under 2 s.
* **E** (execution) out of 10, doubled on the sheet. Four judges; each perceives each located fault
  with noise and takes it on the ladder (0.1 small, 0.2 medium, 0.3 large, 0.5 very large; a fall
  1.0 per partner who falls, unanimous); E = 10 minus the mean of the two middle judges' totals (so
  2 x E moves in steps of 0.1). Faults: mount technique, balance instability (wobble) and the top's
  body line in holds, holds short of 3 s (0.3; 0.5 under 2 s), losses of balance (0.5), dismount
  landings; flight amplitude, body shape, catches and landings in dynamic elements, and the base's
  throw; each partner's form, landings and short holds in individual elements and the pair's
  synchronisation in them; posture and synchronisation slips in the choreography; falls.
* **A** (artistry) out of 10, holistic: four judges mark the whole routine (choreography, partnership,
  expression, musicality) from the pair's artistry, a little lower after falls; the mean of the two
  middle marks (steps of 0.05). It belongs to no clip.
* **Penalty** (chair of judges, line and time judges; video level): each specific requirement of the
  routine type not met by a recognised pair element 1.0 (balance: a top inverted, a flexibility
  position, a base on the floor, a top in support; dynamic: a salto, a twist, a flight to the floor, a
  catch; combined: inverted, flexibility, salto, catch), each partner's required individual element
  not recognised 0.3 (balance: a balance, a flexibility and an agility element; dynamic: three
  tumbling elements; combined: a balance and a tumbling element), a step out of the floor area on a
  landing 0.1, time over 2:30 0.1 per second (about one routine in twenty, 1-3 s), music or attire 0.3.

RG columns: D = difficulty value / 100 (hundredths are the value points), E column = 2 x E + A,
Penalty as above, Total = D + E column - Penalty exactly.

Skill drives ambition (the values chosen; men's pairs lean to strength elements, women's to
flexibility), consistency (how faults grow with an element's value beyond the pair's level),
artistry and partnership (synchronisation), each only partly.

Per-clip truth (floats of length T): ``difficulty`` (a recognised element's credited value / 100 spread
evenly over the element's own clips: the hold clips of a balance, the flight clips of a dynamic
element, the clips of an individual element; sums to D), ``deduction`` (the mean of the two middle
judges' deductions on the clip, x 2 as E enters the total; sums to 2 x (10 - E) = 20 + A - E column),
``contribution`` = difficulty - deduction (sums to D + 2E - 20 = Total + Penalty - A - 20),
``element_type`` (catalogue index on the element's own clips, -1 elsewhere: mounts, dismounts and
preparations are not element clips) and ``segment`` (0 presentation pose or salute, 1 choreography and
dance, 2 walking or repositioning, 3 mount into a balance or preparation for a toss, 4 dismount from a
balance or recovery after a dynamic element, 5 balance hold, 6 dynamic element, 7 individual element).

Structure: presentation, then the blocks in an order drawn per pair, with connecting movement between
them (choreography, then repositioning before the next element; none between two balances performed
in series, where the second is entered straight from the first); the closing salute. A balance is a
mount (1-3 clips), a hold (3-5 clips), a dismount (1-2); a dynamic element a preparation (1-3), the
flight (1-2), often a recovery clip; an individual element 1-2 clips. When a video is shorter than
the routine the pair drops optional elements first, then lengths shrink (down to 28 clips).

Features: a rank-48 latent per clip. What is shown: a segment embedding, the skill's embedding (family +
requirement tags + value + its own part) on its clips, previewed on mounts and preparations and fading
on dismounts, the pair's category and a style vector. How well, each in its own form: wobble as a
signed sway of random sign plus a saturating motion energy; the top's body line and a dynamic
element's shape as a contraction of the skill's own embedding (the element looks less like itself)
plus a shape direction; holds short of 3 s as the hold clip blending into the dismount's look; flight
amplitude as a height against the nominal; catches and landings, throws and mount strain saturating;
falls along a fall direction with a residue on the next clip; a desynchronised individual element as
its clip blended with the clip before (one partner still in the previous movement); steps out of
bounds; the choreography's expression on choreography clips; posture slips. Execution signals are
scaled by a per-video camera visibility. AR(1) noise is quieter on static holds; a motion-energy level
per segment; a 3-tap temporal overlap of neighbouring clips; ``latent.FeatureMap`` to ``feature_dim``.

How it differs from the other generators
----------------------------------------

* The E column is not 10 minus deductions: it is twice the execution mark plus a holistic artistry
  mark that no clip carries, so the E column is about 25 and the total about 27; D is small (about 1-3)
  beside it. The located part of the sheet (D + 2E - 20) is a small fraction of the total.
* A truth ``deduction`` is doubled (as execution enters the total); falls cost 2.0 per partner.
* A pair of performers: individual elements are credited per partner, and their synchronisation is a
  fault of its own, shown as a temporal blend rather than along a direction.
* Requirement penalties follow from located events (an element lost to a fall can also cost the
  requirement's 1.0), yet they have no per-clip share.
* Static holds last several clips with quiet features; wobble shows as sign-random sway (its mean over
  clips is zero) and as motion energy; short holds show as a look, not as a signal direction.
* Long routines (110-124 clips) whose element clips are a minority (about 20% on average, 7-36% per
  routine), with mounts, dismounts and preparations that carry faults but no difficulty.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from longaqa.data.generators import latent, release

KIND = "acro_heldout"
DEFAULT_CLIPS = (110, 124)
"""141-159 s at 1.28 s a clip: a 2:30 routine with the entrance pose and the closing salute."""
FEWEST_CLIPS = 28
CLIP_SECONDS = release.CLIP_FRAMES / release.FPS

RANK = 48
JUDGES = 4

PAIR_BALANCE, PAIR_DYNAMIC, INDIVIDUAL = range(3)
WOMEN, MEN, MIXED = range(3)
BALANCE_ROUTINE, DYNAMIC_ROUTINE, COMBINED_ROUTINE = range(3)

# segments (the truth's ``segment``); 5-7 are the element clips
PRESENTATION, CHOREOGRAPHY, REPOSITION, ENTRY, EXIT, HOLD, FLIGHT, INDIVIDUAL_SKILL = range(8)
SEGMENTS = 8
MOTION = np.array([-0.6, 0.4, 0.0, 0.3, 0.2, -1.0, 1.3, 0.9])
"""Motion energy of each segment (static holds the quietest)."""

# signal directions (rows of the sport's orthonormal basis); the rest hold what is shown
D_SWAY, D_MOTION, D_FALL, D_HEIGHT, D_SHAPE, D_CATCH, D_LANDING, D_EXPRESSION = range(8)
D_POSTURE, D_STRAIN, D_OUT, D_THROW = 8, 9, 10, 11
CONTENT = 12


@dataclass(frozen=True)
class Skill:
    name: str
    family: int
    value: int
    """Value points (per partner for individual elements); D = the credited sum / 100."""
    tags: frozenset[str]
    strength: float
    """How much power it takes (men's pairs lean to strength, women's to flexibility)."""


def _skill(name: str, family: int, value: int, tags: str, strength: float) -> Skill:
    return Skill(name, family, value, frozenset(tags.split()), strength)


B, D, I = PAIR_BALANCE, PAIR_DYNAMIC, INDIVIDUAL
CATALOGUE: tuple[Skill, ...] = (
    _skill("top stand on base's thighs", B, 6, "low_base", 0.2),
    _skill("top stand on base's shoulders", B, 10, "", 0.3),
    _skill("top straddle support on base's hands", B, 14, "support", 0.6),
    _skill("top arabesque on base's hands", B, 16, "flexibility", 0.3),
    _skill("top handstand on base's knees, base lying", B, 16, "inverted low_base", 0.4),
    _skill("top needle scale on base's shoulder", B, 20, "flexibility", 0.3),
    _skill("top planche on base's feet, base lying", B, 24, "support low_base", 0.8),
    _skill("top handstand on base's shoulders", B, 26, "inverted", 0.5),
    _skill("top split on base's raised hands", B, 28, "flexibility", 0.5),
    _skill("hand-to-hand handstand", B, 32, "inverted", 0.7),
    _skill("top flag on base's raised hand", B, 36, "support flexibility", 0.8),
    _skill("top one-arm handstand on base's hand, base lying", B, 40, "inverted low_base", 0.8),
    _skill("top handstand on base's head", B, 42, "inverted", 0.6),
    _skill("press to hand-to-hand handstand", B, 48, "inverted support", 0.9),
    _skill("top one-arm handstand on base's raised hand", B, 60, "inverted", 1.0),
    _skill("toss to stand on base's shoulders", D, 10, "catch", 0.5),
    _skill("back salto tucked from base's hands to floor", D, 14, "salto to_floor", 0.5),
    _skill("front salto tucked from base's hands to floor", D, 16, "salto to_floor", 0.5),
    _skill("toss with full twist to cradle catch", D, 20, "twist catch", 0.6),
    _skill("back salto stretched to floor", D, 22, "salto to_floor", 0.6),
    _skill("back salto with full twist to floor", D, 28, "salto twist to_floor", 0.7),
    _skill("back salto tucked to catch on base's shoulders", D, 30, "salto catch", 0.7),
    _skill("toss to hand-to-hand handstand catch", D, 34, "catch", 0.8),
    _skill("toss with double twist to cradle catch", D, 36, "twist catch", 0.8),
    _skill("double back salto tucked to floor", D, 40, "salto to_floor", 0.8),
    _skill("back salto with double twist to floor", D, 44, "salto twist to_floor", 0.8),
    _skill("front salto to hand-to-hand catch", D, 48, "salto catch", 0.9),
    _skill("double back salto piked to floor", D, 52, "salto to_floor", 0.9),
    _skill("double back salto with full twist to floor", D, 62, "salto twist to_floor", 1.0),
    _skill("handstand (2 s)", I, 2, "balance hold", 0.4),
    _skill("elbow lever (2 s)", I, 4, "balance hold", 0.7),
    _skill("straddle press to handstand (2 s)", I, 6, "balance hold", 0.8),
    _skill("one-arm handstand (2 s)", I, 9, "balance hold", 0.9),
    _skill("front split", I, 1, "flexibility", 0.1),
    _skill("needle scale (2 s)", I, 2, "flexibility hold", 0.2),
    _skill("scorpion (2 s)", I, 3, "flexibility hold", 0.2),
    _skill("split handstand (2 s)", I, 4, "flexibility hold", 0.5),
    _skill("back walkover", I, 1, "agility", 0.2),
    _skill("back handspring", I, 2, "agility", 0.4),
    _skill("valdez to handstand", I, 3, "agility", 0.4),
    _skill("round-off flic-flac", I, 3, "agility", 0.5),
    _skill("back salto tucked", I, 3, "tumbling", 0.5),
    _skill("back salto stretched", I, 4, "tumbling", 0.6),
    _skill("front salto stretched with full twist", I, 6, "tumbling", 0.7),
    _skill("back salto with double twist", I, 8, "tumbling", 0.8),
    _skill("double back salto tucked", I, 10, "tumbling", 0.9),
    _skill("double back salto piked", I, 12, "tumbling", 1.0),
)
del B, D, I
FAMILY = np.array([s.family for s in CATALOGUE])
VALUE = np.array([s.value for s in CATALOGUE])
STRENGTH = np.array([s.strength for s in CATALOGUE])
TAGS = tuple(sorted({t for s in CATALOGUE for t in s.tags}))

PAIR_REQUIREMENTS: dict[int, tuple[tuple[int, str], ...]] = {
    BALANCE_ROUTINE: ((PAIR_BALANCE, "inverted"), (PAIR_BALANCE, "flexibility"), (PAIR_BALANCE, "low_base"),
                      (PAIR_BALANCE, "support")),
    DYNAMIC_ROUTINE: ((PAIR_DYNAMIC, "salto"), (PAIR_DYNAMIC, "twist"), (PAIR_DYNAMIC, "to_floor"),
                      (PAIR_DYNAMIC, "catch")),
    COMBINED_ROUTINE: ((PAIR_BALANCE, "inverted"), (PAIR_BALANCE, "flexibility"), (PAIR_DYNAMIC, "salto"),
                       (PAIR_DYNAMIC, "catch")),
}
INDIVIDUAL_REQUIREMENTS: dict[int, tuple[str, ...]] = {
    BALANCE_ROUTINE: ("balance", "flexibility", "agility"),
    DYNAMIC_ROUTINE: ("tumbling", "tumbling", "tumbling"),
    COMBINED_ROUTINE: ("balance", "tumbling"),
}
EXTRA_ELEMENTS = {BALANCE_ROUTINE: (PAIR_BALANCE,) * 4, DYNAMIC_ROUTINE: (PAIR_DYNAMIC,) * 4,
                  COMBINED_ROUTINE: (PAIR_BALANCE, PAIR_DYNAMIC, PAIR_BALANCE, PAIR_DYNAMIC)}
"""The optional pair elements a pair may add to the requirements (a short video drops them again, the
last performed first)."""

MISSING_PAIR_REQUIREMENT, MISSING_INDIVIDUAL, OUT_OF_BOUNDS, MUSIC_OR_ATTIRE = 100, 30, 10, 30
LADDER = ((0.05, 0), (0.15, 1), (0.25, 2), (0.4, 3), (math.inf, 5))
"""Perceived size (points) below the bound -> deduction in tenths."""
FALL_TENTHS = 10


def _sigmoid(x: float) -> float:
    return float(1.0 / (1.0 + np.exp(-x)))


@dataclass
class _Sport:
    directions: np.ndarray  # (R, R)
    segment_embedding: np.ndarray  # (SEGMENTS, R)
    skill_embedding: np.ndarray  # (K, R)
    category_embedding: np.ndarray  # (3, R)
    category_odds: np.ndarray  # (3,)
    routine_odds: np.ndarray  # (3,)
    feature_map: latent.FeatureMap


def _draw_sport(rng: np.random.Generator, feature_dim: int) -> _Sport:
    directions = latent.orthonormal_directions(rng, RANK)
    content = directions[CONTENT:]
    width = len(content)

    def vectors(count: int, scale: float) -> np.ndarray:
        return rng.normal(size=(count, width)) @ content * (scale / np.sqrt(width))

    segment_embedding = vectors(SEGMENTS, 1.5)
    family = vectors(3, 1.3)
    tag_axes = vectors(len(TAGS), 0.6)
    value_axis = vectors(1, 0.9)[0]
    own = vectors(len(CATALOGUE), 0.8)
    top = np.array([VALUE[FAMILY == f].max() for f in range(3)])[FAMILY]
    tagged = np.array([[t in s.tags for t in TAGS] for s in CATALOGUE], float)
    skill_embedding = family[FAMILY] + own + tagged @ tag_axes + (VALUE / top)[:, None] * value_axis
    category_embedding = vectors(3, 0.5)
    category_odds = rng.dirichlet([4.0, 3.0, 4.0])
    routine_odds = rng.dirichlet([4.0, 4.0, 3.0])
    return _Sport(directions, segment_embedding, skill_embedding, category_embedding, category_odds,
                  routine_odds, latent.FeatureMap(rng, RANK, feature_dim))


@dataclass
class _Pair:
    category: int
    routine: int
    skill: float
    ambition: float
    consistency: float
    artistry: float
    partnership: float
    walk_share: float
    visibility: float


def _draw_pair(sport: _Sport, rng: np.random.Generator) -> _Pair:
    category = int(rng.choice(3, p=sport.category_odds))
    routine = int(rng.choice(3, p=sport.routine_odds))
    skill = float(rng.normal())
    return _Pair(category, routine, skill,
                 ambition=0.85 * skill + 0.53 * float(rng.normal()),
                 consistency=0.8 * skill + 0.6 * float(rng.normal()),
                 artistry=0.7 * skill + 0.71 * float(rng.normal()),
                 partnership=0.6 * skill + 0.8 * float(rng.normal()),
                 walk_share=float(rng.uniform(0.15, 0.45)),
                 visibility=float(rng.uniform(0.7, 1.2)))


@dataclass
class _Block:
    """One element as performed: its clips, what it is credited and how it went."""

    family: int
    skill: int
    required: bool
    series: bool = False  # a balance entered straight from the balance before (no dismount, no mount)
    entry: list[int] = field(default_factory=list)
    clips: list[int] = field(default_factory=list)
    exit: list[int] = field(default_factory=list)
    recognised: bool = True
    credited_partners: int = 2  # individual elements: partners whose part is recognised
    falls: int = 0


def _level(pair: _Pair, skill_index: int) -> tuple[float, float]:
    """The value the pair typically performs in the skill's family, and the spread of its choices."""
    family, tags = FAMILY[skill_index], CATALOGUE[skill_index].tags
    if family == PAIR_BALANCE:
        return 28.0 + 8.0 * pair.ambition, 9.0
    if family == PAIR_DYNAMIC:
        return 30.0 + 9.0 * pair.ambition, 10.0
    if "tumbling" in tags:
        return 5.5 + 2.6 * pair.ambition, 2.5
    return 2.6 + 1.5 * pair.ambition, 1.5


def _pick(rng: np.random.Generator, pair: _Pair, family: int, tag: str | None, used: set[int]) -> int:
    """Choose a skill of ``family`` (with ``tag``) near the pair's level, not already in the routine."""
    pool = [k for k in np.flatnonzero(FAMILY == family) if tag is None or tag in CATALOGUE[k].tags]
    fresh = [k for k in pool if k not in used]
    pool = np.array(fresh or pool)
    target, spread = _level(pair, int(pool[0]))
    lean = {WOMEN: -0.9, MEN: 1.2, MIXED: 0.4}[pair.category]
    flexible = np.array([("flexibility" in CATALOGUE[k].tags) * (pair.category == WOMEN) for k in pool])
    logits = -0.5 * ((VALUE[pool] - target) / spread) ** 2 + lean * STRENGTH[pool] + 0.6 * flexible
    weights = np.exp(logits - logits.max())
    choice = int(rng.choice(pool, p=weights / weights.sum()))
    used.add(choice)
    return choice


def _plan(rng: np.random.Generator, pair: _Pair) -> list[_Block]:
    """The routine the pair declares, in the order performed."""
    used: set[int] = set()
    pair_blocks = [_Block(f, _pick(rng, pair, f, tag, used), True) for f, tag in PAIR_REQUIREMENTS[pair.routine]]
    extras = rng.binomial(len(EXTRA_ELEMENTS[pair.routine]), _sigmoid(1.0 + 0.9 * pair.ambition))
    pair_blocks += [_Block(f, _pick(rng, pair, f, None, used), False) for f in EXTRA_ELEMENTS[pair.routine][:extras]]
    blocks = [pair_blocks[i] for i in rng.permutation(len(pair_blocks))]
    for tag in INDIVIDUAL_REQUIREMENTS[pair.routine]:
        block = _Block(INDIVIDUAL, _pick(rng, pair, INDIVIDUAL, tag, used), True)
        blocks.insert(int(rng.integers(1, len(blocks) + 1)), block)
    for before, block in zip(blocks[:-1], blocks[1:]):
        if before.family == block.family == PAIR_BALANCE and rng.random() < 0.45:
            block.series = True
    return blocks


def _preferred_lengths(rng: np.random.Generator, blocks: list[_Block]) -> tuple[np.ndarray, np.ndarray]:
    """Each block's (entry, own clips, exit) lengths as the pair would like them, and their minima."""
    pref, low = np.zeros((len(blocks), 3), int), np.zeros((len(blocks), 3), int)
    for b, block in enumerate(blocks):
        value = VALUE[block.skill]
        following = b + 1 < len(blocks) and blocks[b + 1].series
        if block.family == PAIR_BALANCE:
            entry = 1 if block.series else int(rng.choice([1, 2, 3], p=[0.3, 0.5, 0.2]))
            hold = math.ceil(float(rng.uniform(3.3, 5.6)) / CLIP_SECONDS)
            exit_ = 0 if following else int(rng.choice([1, 2], p=[0.6, 0.4]))
            pref[b], low[b] = (entry, hold, exit_), (1, 2, 0 if following else 1)
        elif block.family == PAIR_DYNAMIC:
            flight = 2 if value >= 30 or rng.random() < 0.3 else 1
            pref[b] = (int(rng.choice([1, 2, 3], p=[0.35, 0.45, 0.2])), flight, int(rng.random() < 0.6))
            low[b] = (1, 1, 0)
        else:
            long_ = "hold" in CATALOGUE[block.skill].tags or value >= 6
            pref[b], low[b] = (0, 2 if long_ and rng.random() < 0.8 else 1, 0), (0, 1, 0)
    return pref, low


def _gaps_needed(blocks: list[_Block]) -> int:
    """Connecting clips needed at least: one between blocks, none into a balance performed in series."""
    return sum(1 for block in blocks[1:] if not block.series)


def _fit(rng: np.random.Generator, blocks: list[_Block], clips: int) -> tuple[list[_Block], np.ndarray, np.ndarray]:
    """Drop optional elements, then shorten, until the routine fits ``clips`` with connecting movement.

    Returns the blocks kept, their (entry, own, exit) lengths and the (presentation, salute) lengths."""
    pref, low = _preferred_lengths(rng, blocks)
    ends, ends_low = np.array([int(rng.choice([1, 2])), int(rng.choice([1, 2]))]), np.array([1, 1])
    while True:
        connecting = max(_gaps_needed(blocks), int(round(0.3 * clips)))
        budget = clips - connecting
        optional = [b for b, block in enumerate(blocks) if not block.required]
        if optional and (0.75 * (pref.sum() + ends.sum()) > budget
                         or low.sum() + ends_low.sum() + _gaps_needed(blocks) > clips):
            drop = optional[-1]
            if drop + 1 < len(blocks):
                blocks[drop + 1].series = False  # the balance after it (if any) now has a mount of its own
            if blocks[drop].series:
                pref[drop - 1, 2], low[drop - 1, 2] = 1, 1  # and the balance before it a dismount
            blocks, pref, low = blocks[:drop] + blocks[drop + 1:], np.delete(pref, drop, 0), np.delete(low, drop, 0)
            continue
        break
    lengths = np.concatenate([pref.ravel(), ends])
    minima = np.concatenate([low.ravel(), ends_low])
    budget = clips - max(_gaps_needed(blocks), int(round(0.3 * clips)))
    if budget < minima.sum():
        budget = clips - _gaps_needed(blocks)
    while lengths.sum() > budget:
        slack = (lengths - minima).astype(float)
        lengths[int(rng.choice(len(lengths), p=slack / slack.sum()))] -= 1
    return blocks, lengths[:-2].reshape(-1, 3), lengths[-2:]


def _lay_out(rng: np.random.Generator, pair: _Pair, blocks: list[_Block], lengths: np.ndarray, ends: np.ndarray,
             clips: int) -> np.ndarray:
    """Place the blocks and the connecting movement on the clips; returns the segment of every clip."""
    free = clips - int(lengths.sum()) - int(ends.sum())
    opens = [b for b in range(1, len(blocks)) if not blocks[b].series]
    gaps = np.zeros(len(blocks) + 1, int)
    gaps[opens] = 1
    slots = [0, *opens, len(blocks)]
    share = rng.dirichlet(np.full(len(slots), 2.0))
    gaps[slots] += rng.multinomial(free - len(opens), share)
    segment: list[int] = [PRESENTATION] * int(ends[0])
    for b, block in enumerate([*blocks, None]):
        walk = int(rng.binomial(gaps[b], pair.walk_share)) if gaps[b] > 1 else int(rng.random() < pair.walk_share)
        walk = min(walk, int(gaps[b]))
        segment += [CHOREOGRAPHY] * (int(gaps[b]) - walk) + [REPOSITION] * walk
        if block is None:
            break
        own = {PAIR_BALANCE: HOLD, PAIR_DYNAMIC: FLIGHT, INDIVIDUAL: INDIVIDUAL_SKILL}[block.family]
        start = len(segment)
        entry, body, exit_ = (int(x) for x in lengths[b])
        block.entry = list(range(start, start + entry))
        block.clips = list(range(start + entry, start + entry + body))
        block.exit = list(range(start + entry + body, start + entry + body + exit_))
        segment += [ENTRY] * entry + [own] * body + [EXIT] * exit_
    segment += [PRESENTATION] * int(ends[1])
    assert len(segment) == clips
    return np.array(segment)


@dataclass
class _Performed:
    """What the performance left: located faults (clip, size in points, partners falling), feature signals,
    clips blended with another look, and the penalties' causes."""

    signal: np.ndarray  # (T, R)
    faults: list[tuple[int, float, int]] = field(default_factory=list)
    blends: list[tuple[int, int, float]] = field(default_factory=list)  # (clip, look of segment / -1 clip before, w)
    shape: dict[int, float] = field(default_factory=dict)  # clip -> how much less its skill looks like itself
    out_of_bounds: int = 0


def _fault(rng: np.random.Generator, base: float, risk_gain: float, risk: float, spread: float) -> float:
    return max(0.0, float(rng.normal(base + risk_gain * risk, spread)))


def _fall(rng: np.random.Generator, done: _Performed, dirs: np.ndarray, clip: int, both: float) -> int:
    falls = 2 if rng.random() < both else 1
    done.faults.append((clip, 0.0, falls))
    done.signal[clip] += dirs[D_FALL] * (1.8 + 0.6 * falls) + dirs[D_MOTION] * 1.0
    if clip + 1 < len(done.signal):
        done.signal[clip + 1] += dirs[D_FALL] * 0.7
    return falls


def _perform_balance(sport: _Sport, rng: np.random.Generator, pair: _Pair, done: _Performed, block: _Block,
                     risk: float) -> None:
    """A balance: mount, hold (wobble, body line, short hold, loss of balance, fall), dismount."""
    dirs, vis, hold = sport.directions, pair.visibility, block.clips
    if block.entry:
        strain = _fault(rng, -0.03, 0.16, risk, 0.06)
        done.faults.append((block.entry[-1], strain, 0))
        done.signal[block.entry[-1]] += dirs[D_STRAIN] * vis * 1.2 * np.tanh(strain / 0.15)
    for t in rng.choice(hold, size=1 + int(len(hold) > 2 and rng.random() < 0.4), replace=False):
        wobble = _fault(rng, -0.03, 0.2, risk, 0.07)
        done.faults.append((int(t), wobble, 0))
        done.signal[t] += dirs[D_SWAY] * float(rng.choice([-1.0, 1.0])) * 2.2 * wobble * vis
        done.signal[t] += dirs[D_MOTION] * vis * 1.4 * np.tanh(wobble / 0.15)
    line = _fault(rng, -0.03, 0.17, risk, 0.07)
    middle = hold[len(hold) // 2]
    done.faults.append((middle, line, 0))
    for t in hold:
        done.shape[t] = 0.4 * np.tanh(line / 0.2)
        done.signal[t] += dirs[D_SHAPE] * vis * 0.8 * np.tanh(line / 0.2)
    if rng.random() < 0.06 * risk ** 1.3:
        block.falls = _fall(rng, done, dirs, int(rng.choice(hold)), 0.2)
        block.recognised = False
    elif rng.random() < 0.12 * risk:  # the top steps down or puts a hand down
        t = int(rng.choice(hold))
        done.faults.append((t, 0.5, 0))
        done.signal[t] += dirs[D_FALL] * 0.9 + dirs[D_MOTION] * vis * 0.8
        block.recognised = False
    elif rng.random() < 0.22 * risk:  # comes down before 3 s
        held = float(rng.uniform(1.2, 2.95))
        done.faults.append((hold[-1], 0.3 if held >= 2.0 else 0.5, 0))
        done.blends.append((hold[-1], EXIT, min(1.0, (3.0 - held) / CLIP_SECONDS + 0.3)))
        block.recognised = False
    if block.exit:
        landing = _fault(rng, -0.03, 0.14, risk, 0.06)
        done.faults.append((block.exit[0], landing, 0))
        done.signal[block.exit[0]] += dirs[D_LANDING] * vis * 1.1 * np.tanh(landing / 0.15)


def _perform_dynamic(sport: _Sport, rng: np.random.Generator, pair: _Pair, done: _Performed, block: _Block,
                     risk: float) -> None:
    """A dynamic element: the base's throw, the flight (amplitude, shape), the catch or landing, a fall."""
    dirs, vis = sport.directions, pair.visibility
    first, last = block.clips[0], block.clips[-1]
    tags = CATALOGUE[block.skill].tags
    throw = _fault(rng, -0.03, 0.1, risk, 0.05)
    done.faults.append((block.entry[-1], throw, 0))
    done.signal[block.entry[-1]] += dirs[D_THROW] * vis * 1.1 * np.tanh(throw / 0.12)
    height = _fault(rng, -0.02, 0.17, risk, 0.07)
    done.faults.append((first, height, 0))
    done.signal[first] += dirs[D_HEIGHT] * (1.0 - 1.8 * height) * 0.9
    shape = _fault(rng, -0.02, 0.16, risk, 0.07)
    done.faults.append((block.clips[len(block.clips) // 2], shape, 0))
    for t in block.clips:
        done.shape[t] = 0.35 * np.tanh(shape / 0.2)
        done.signal[t] += dirs[D_SHAPE] * vis * 0.7 * np.tanh(shape / 0.2)
    if rng.random() < 0.08 * risk ** 1.3:
        block.falls = _fall(rng, done, dirs, last, 0.35 if "catch" in tags else 0.1)
        block.recognised = False
    else:
        landing = _fault(rng, -0.02, 0.24, risk, 0.08)
        done.faults.append((last, landing, 0))
        direction = D_CATCH if "catch" in tags else D_LANDING
        done.signal[last] += dirs[direction] * vis * 1.3 * np.tanh(landing / 0.2)
    if "to_floor" in tags and rng.random() < 0.02 + 0.06 * risk:
        done.out_of_bounds += 1
        done.signal[last] += dirs[D_OUT] * vis * 1.2


def _perform_individual(sport: _Sport, rng: np.random.Generator, pair: _Pair, done: _Performed, block: _Block,
                        risk: float) -> None:
    """An individual element by both partners at once: each one's form, landing or hold; their synchrony."""
    dirs, vis = sport.directions, pair.visibility
    tags = CATALOGUE[block.skill].tags
    first, last = block.clips[0], block.clips[-1]
    block.credited_partners = 0
    for _ in range(2):
        own_risk = _sigmoid(np.log(risk / (1 - risk)) + 0.5 * float(rng.normal()))
        form = _fault(rng, -0.03, 0.16, own_risk, 0.06)
        done.faults.append((first, form, 0))
        done.shape[first] = done.shape.get(first, 0.0) + 0.2 * np.tanh(form / 0.2)
        done.signal[first] += dirs[D_SHAPE] * vis * 0.5 * np.tanh(form / 0.2)
        credited = True
        if "tumbling" in tags and rng.random() < 0.03 * own_risk:
            _fall(rng, done, dirs, last, 0.0)
            credited = False
        elif "tumbling" in tags or "agility" in tags:
            landing = _fault(rng, -0.03, 0.18, own_risk, 0.07)
            done.faults.append((last, landing, 0))
            done.signal[last] += dirs[D_LANDING] * vis * 0.8 * np.tanh(landing / 0.15)
        elif "hold" in tags and rng.random() < 0.08 * own_risk:  # held under 2 s
            done.faults.append((last, 0.3, 0))
            done.signal[last] += dirs[D_MOTION] * vis * 0.9
            credited = False
        block.credited_partners += int(credited)
    block.recognised = block.credited_partners > 0
    desync = _fault(rng, -0.02, 0.16, _sigmoid(-1.0 - pair.partnership), 0.05)
    done.faults.append((first, desync, 0))
    if first > 0:
        done.blends.append((first, -1, 0.55 * float(np.tanh(desync / 0.2))))
    if "tumbling" in tags and rng.random() < 0.025 + 0.04 * risk:
        done.out_of_bounds += 1
        done.signal[last] += dirs[D_OUT] * vis * 1.2


def _perform(sport: _Sport, rng: np.random.Generator, pair: _Pair, blocks: list[_Block], segment: np.ndarray
             ) -> _Performed:
    """Perform every element, then the choreography."""
    done = _Performed(np.zeros((len(segment), RANK)))
    perform = {PAIR_BALANCE: _perform_balance, PAIR_DYNAMIC: _perform_dynamic, INDIVIDUAL: _perform_individual}
    for block in blocks:
        level, spread = _level(pair, block.skill)
        risk = _sigmoid(-1.3 - 0.7 * pair.consistency + 1.0 * (VALUE[block.skill] - level) / spread)
        perform[block.family](sport, rng, pair, done, block, risk)
    dirs = sport.directions
    choreo = np.flatnonzero(segment == CHOREOGRAPHY)
    if len(choreo):
        run = np.cumsum(np.r_[1, np.diff(choreo) != 1])
        quality = pair.artistry + 0.5 * rng.normal(size=run.max() + 1)[run] + 0.3 * rng.normal(size=len(choreo))
        done.signal[choreo] += dirs[D_EXPRESSION] * 0.6 * quality[:, None]
        slips = rng.random(len(choreo)) < 0.008 + 0.03 * _sigmoid(-1.2 * pair.consistency)
        for t in choreo[slips]:
            size = float(rng.uniform(0.06, 0.24))
            done.faults.append((int(t), size, 0))
            done.signal[t] += dirs[D_POSTURE] * pair.visibility * 1.3 * np.tanh(size / 0.15)
    return done


def _judge_execution(rng: np.random.Generator, faults: list[tuple[int, float, int]], clips: int
                     ) -> tuple[int, np.ndarray]:
    """The E panel: each judge takes each fault on the ladder. Returns E in hundredths and the per-clip
    deduction as it enters the total (the middle two judges' mean, x 2), in points."""
    located = np.array([f[0] for f in faults], int)
    size = np.array([f[1] for f in faults])
    falls = np.array([f[2] for f in faults])
    perceived = size * (1 + 0.15 * rng.normal(size=(JUDGES, len(faults)))) + 0.03 * rng.normal(
        size=(JUDGES, len(faults)))
    tenths = np.zeros(perceived.shape, int)
    for bound, taken in reversed(LADDER):
        tenths[perceived < bound] = taken
    tenths = np.where(falls > 0, FALL_TENTHS * falls, tenths)
    per_clip = np.zeros((JUDGES, clips), int)
    for j in range(JUDGES):
        np.add.at(per_clip[j], located, tenths[j])
    totals = per_clip.sum(axis=1)
    middle = np.argsort(totals, kind="stable")[1:3]
    execution = 1000 - 5 * int(totals[middle].sum())  # 10 - the mean of two totals in tenths, in hundredths
    deduction = per_clip[middle].sum(axis=0) / 10.0  # 2 x the mean of the two, in points
    return execution, deduction


def _judge_artistry(rng: np.random.Generator, pair: _Pair, falls: int) -> int:
    """The A panel: a holistic mark for the whole routine; the mean of the two middle marks, in hundredths."""
    mark = 8.5 + 0.45 * pair.artistry - 0.15 * falls
    tenths = np.clip(np.rint(10 * (mark + 0.18 * rng.normal(size=JUDGES))), 50, 100).astype(int)
    return 5 * int(np.sort(tenths)[1:3].sum())


def _judge_difficulty(blocks: list[_Block], clips: int) -> tuple[int, np.ndarray]:
    """The credited value (value points = D in hundredths) and its spread over the elements' own clips."""
    difficulty = np.zeros(clips)
    total = 0
    for block in blocks:
        credited = 0 if not block.recognised else VALUE[block.skill] * (
            block.credited_partners if block.family == INDIVIDUAL else 1)
        total += int(credited)
        difficulty[block.clips] += credited / 100 / len(block.clips)
    return total, difficulty


def _penalty(rng: np.random.Generator, pair: _Pair, blocks: list[_Block], out_of_bounds: int) -> int:
    """Requirements not met, steps out of the area, time, music or attire (hundredths)."""
    penalty = 0
    for family, tag in PAIR_REQUIREMENTS[pair.routine]:
        if not any(b.recognised and b.family == family and tag in CATALOGUE[b.skill].tags for b in blocks):
            penalty += MISSING_PAIR_REQUIREMENT
    individual = [b for b in blocks if b.family == INDIVIDUAL]
    penalty += MISSING_INDIVIDUAL * sum(2 - b.credited_partners for b in individual)
    penalty += OUT_OF_BOUNDS * out_of_bounds
    if rng.random() < 0.05:
        penalty += 10 * int(rng.integers(1, 4))  # over 2:30
    if rng.random() < 0.02:
        penalty += MUSIC_OR_ATTIRE
    return penalty


def _features(sport: _Sport, rng: np.random.Generator, pair: _Pair, blocks: list[_Block], segment: np.ndarray,
              done: _Performed) -> np.ndarray:
    """The clip latent (what is shown, how well, the pair, noise) mapped to the features."""
    clips = len(segment)
    dirs = sport.directions
    look = sport.segment_embedding[segment].copy()
    for block in blocks:
        embedding = sport.skill_embedding[block.skill]
        for t in block.clips:
            look[t] = 0.5 * look[t] + (1.0 - done.shape.get(t, 0.0)) * embedding
        look[block.entry] += 0.5 * embedding
        look[block.exit] += 0.3 * embedding
    for t, target, weight in done.blends:
        if target >= 0:
            look[t] = (1 - weight) * look[t] + weight * sport.segment_embedding[target]
    style = rng.normal(size=RANK - CONTENT) @ dirs[CONTENT:] * (0.35 * np.sqrt(3.0 / (RANK - CONTENT)))
    mixed = look + done.signal + style + sport.category_embedding[pair.category]
    mixed += MOTION[segment][:, None] * dirs[D_MOTION]
    quiet = np.where(segment == HOLD, 0.1, 0.22)[:, None]
    mixed += quiet * latent.ar1_noise(rng, clips, RANK, 0.75)
    for t, target, weight in done.blends:
        if target < 0:
            mixed[t] = (1 - weight) * mixed[t] + weight * mixed[t - 1]
    overlap = mixed.copy()
    overlap[1:-1] = 0.7 * mixed[1:-1] + 0.15 * (mixed[:-2] + mixed[2:])
    return sport.feature_map.features(overlap, rng, 0.05)


def _routine(sport: _Sport, rng: np.random.Generator, clips: int, name: str) -> release.JudgedVideo:
    """Draw one pair's routine, judge it and build its features."""
    pair = _draw_pair(sport, rng)
    blocks, lengths, ends = _fit(rng, _plan(rng, pair), clips)
    segment = _lay_out(rng, pair, blocks, lengths, ends, clips)
    done = _perform(sport, rng, pair, blocks, segment)
    execution, deduction = _judge_execution(rng, done.faults, clips)
    falls = sum(f[2] for f in done.faults)
    artistry = _judge_artistry(rng, pair, falls)
    value, difficulty = _judge_difficulty(blocks, clips)
    penalty = _penalty(rng, pair, blocks, done.out_of_bounds)
    features = _features(sport, rng, pair, blocks, segment, done)

    element_type = np.full(clips, -1)
    for block in blocks:
        element_type[block.clips] = block.skill
    truth = {"difficulty": difficulty, "deduction": deduction, "contribution": difficulty - deduction,
             "element_type": element_type, "segment": segment}
    marks = {"difficulty": value, "execution": 2 * execution + artistry, "penalty": penalty,
             "execution_panel": execution, "artistry": artistry}
    video = {"skill": pair.skill, "ambition": pair.ambition, "consistency": pair.consistency,
             "artistry": pair.artistry, "partnership": pair.partnership, "category": float(pair.category),
             "routine": float(pair.routine), "falls": float(falls)}
    return release.JudgedVideo(name, features, {k: v.astype(np.float32) for k, v in truth.items()}, marks, video)


def generate(
    seed: int, count: int, feature_dim: int, min_clips: int, max_clips: int, class_name: str = "Ball"
) -> Iterator[release.JudgedVideo]:
    """``count`` pair routines ``<class_name>_001`` ... of one sport drawn from ``seed``."""
    sport_seed, routine_seed = np.random.SeedSequence([seed, 0x4163726F]).spawn(2)
    sport = _draw_sport(np.random.default_rng(sport_seed), feature_dim)
    rng = np.random.default_rng(routine_seed)
    for i in range(count):
        clips = int(rng.integers(min_clips, max_clips + 1))
        yield _routine(sport, rng, clips, f"{class_name}_{i + 1:03d}")


def write_acro_heldout(root: str | Path, sizes: release.GenerationSizes = release.DEFAULT_SIZES) -> Path:
    """Write ``sizes.num_train + sizes.num_test`` pair routines in the RG layout under ``root``; returns
    ``root``."""
    min_clips, max_clips = sizes.clip_range(KIND, DEFAULT_CLIPS, FEWEST_CLIPS)
    release.check_class_name(sizes.class_name)
    videos = generate(sizes.seed, sizes.num_train + sizes.num_test, sizes.feature_dim, min_clips, max_clips,
                      sizes.class_name)
    return release.write_rg_release(root, videos, sizes.num_train)
