"""FIG-like aerobic gymnastics routines, one total per routine (generic layout); held out from model design.

Whoever designs the model should not read this module (docs/generators.md says what a user needs).
What follows is for after the model is designed.

The sport (one per seed)
    One event per seed: individual women, individual men, mixed pair or trio. 28 difficulty element
    types, seven in each FIG group (dynamic strength, static strength, jumps and leaps, balance and
    flexibility), each with a value in tenths (0.1-1.0) and a typical length (dynamic strength and
    jumps 1-2 clips, static strength 2-3, balance and flexibility 1-3; an instance may be a clip
    longer or shorter, 1-4 clips).

A routine
    The routine lasts about 1:20 (a normal draw around 80 s); the clip count follows the duration
    (at the default range, T = duration / 1.28 s) and a duration outside 80 +- 5 s is a time fault.
    Opening and closing poses (one clip each); up to ten difficulty elements (fewer in short videos),
    at least one of each group, no type repeated; lifts for pairs and trios (two as a rule, rarely
    one or three); aerobic movement pattern sequences (AMP, 2 or more clips each) filling about 55-70%
    of the clips left; the rest are links of one or more clips placed between the units, which come in
    a random order.

Latents (per routine)
    skill ~ N(0, 1); a difficulty level, an execution level and five artistic criteria (musicality,
    aerobic content, general content / choreography, space or partnership, artistry / presentation),
    each skill plus its own noise. The difficulty level sets the values aimed at (types drawn near a
    target value); the execution level, with how far an element lies above the target, sets how often
    and how badly it faults.

Marks (integer hundredths)
    D: the credited values of the recognised elements, summed and halved (steps of 0.05). An element
    with a fall is not recognised; one with a large fault is not recognised with a group-dependent
    probability, or else sometimes credited 0.1 lower (a downgrade).
    E: 10 minus the execution deductions. Faults on element clips (0.1 / 0.2 / 0.3, falls 0.5), on AMP
    clips (mostly 0.1), links and lifts, and synchronisation faults (pairs and trios, 0.1). Four
    judges each see each fault, sometimes a step smaller or larger, sometimes not at all (small
    faults); falls are always 0.5. The two judges with the middle totals are averaged (steps of 0.05);
    the per-clip truth is their mean deduction on that clip.
    A: four judges mark each criterion to 0.1 out of 2.0 around its true level; the mean of the two
    middle totals (steps of 0.05). Holistic: no per-clip share.
    Penalty (video level): time fault 0.2, line faults 0.1 each, attire 0.2, a group without a
    recognised element 0.5 per group, a third lift 0.5.
    Total = A + E + D - Penalty.

Features (rank-40 latent per clip, one random map per seed)
    Content: an embedding per element type (a random part plus a part along a "power" direction in
    proportion to the value), per segment kind (pose, link, AMP, lift). An element not recognised has
    its embedding shrunk and a downgrade shows the credited value on the power direction. Within
    elements and AMP sequences, a phase (cos, sin of the position in the unit).
    Execution: faults show non-linearly ((sum of sizes / 0.1) ** 0.6) along a type-specific direction
    (the group's fault direction plus a random part inside the content subspace); a quarter of faults
    show at 30% strength (hidden from the camera); a third of each fault's signal spills to the
    element's neighbouring clips; a clean-amplitude term follows the execution level on every element
    clip. AMP faults, link/lift faults, falls and synchronisation faults each have their own direction.
    Artistic: aerobic content shows as a noisy level on AMP clips, general content on links, space on
    AMP and link clips (individuals) or synchrony on every clip (pairs, trios), presentation on every
    clip; musicality does not show. A nuisance style vector (the athlete's look), AR(1) noise
    (rho 0.75) and isotropic feature noise.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from longaqa.data.generators import latent, release

KIND = "aerobic_heldout"
DEFAULT_CLIPS = (56, 70)
"""About 72-90 s at 1.28 s a clip: a senior routine of 1:20 +- 5 s, with room for a time fault."""
FEWEST_CLIPS = 16
CLIP_SECONDS = release.CLIP_FRAMES / release.FPS

EVENTS = ("individual_women", "individual_men", "mixed_pair", "trio")
GROUPS = ("dynamic_strength", "static_strength", "jumps_leaps", "balance_flexibility")
TYPES_PER_GROUP = 7
NUM_TYPES = len(GROUPS) * TYPES_PER_GROUP
MAX_ELEMENTS = 10
CRITERIA = ("musicality", "aerobic_content", "general_content", "space_partnership", "presentation")

# segment codes (truth "segment")
POSE, LINK, AMP, LIFT, ELEMENT = 0, 1, 2, 3, 4

RANK = 40
CONTENT = slice(0, 14)
POWER, PHASE_C, PHASE_S, PRESENTATION, AEROBIC, FLUENCY, SPACE = 14, 15, 16, 17, 18, 19, 20
GROUP_FAULT = slice(21, 25)
AMP_FAULT, OTHER_FAULT, FALL_DIR, SYNC_FAULT = 25, 26, 27, 28
NUISANCE = slice(29, 33)

E_JUDGES = 4
A_JUDGES = 4
FALL_TENTHS = 5
SHOWS_AMP, SHOWS_FALL, SHOWS_OTHER, SHOWS_SYNC = -1, -2, -3, -4
CRITERION_MEAN = 1.57


@dataclass
class Sport:
    event: int
    values: np.ndarray  # (K,) element values in tenths
    groups: np.ndarray  # (K,) group index
    base_length: np.ndarray  # (K,) clips
    type_embedding: np.ndarray  # (K, R)
    segment_embedding: np.ndarray  # (4, R): pose, link, AMP, lift
    fault_direction: np.ndarray  # (K, R)
    directions: np.ndarray  # (R, R)
    feature_map: latent.FeatureMap

    @property
    def pairs(self) -> bool:
        return self.event >= 2


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v)


def _draw_sport(seed: int, feature_dim: int) -> Sport:
    rng = np.random.default_rng([seed, 0xAE20])
    event = int(rng.choice(len(EVENTS), p=[0.35, 0.25, 0.2, 0.2]))
    values = []
    for _ in GROUPS:
        while True:
            v = np.sort(rng.choice(np.arange(1, 11), TYPES_PER_GROUP, replace=False))
            if v[0] <= 3 and v[-1] >= 9:
                break
        values.append(rng.permutation(v))
    values = np.concatenate(values).astype(np.int64)
    groups = np.repeat(np.arange(len(GROUPS)), TYPES_PER_GROUP)
    length_range = np.array([[1, 2], [2, 3], [1, 2], [1, 3]])
    base_length = rng.integers(length_range[groups, 0], length_range[groups, 1] + 1)
    dirs = latent.orthonormal_directions(rng, RANK)
    content = dirs[CONTENT]
    group_centre = rng.normal(size=(len(GROUPS), content.shape[0])) @ content
    type_embedding = (
        0.9 * group_centre[groups] + 1.3 * rng.normal(size=(NUM_TYPES, content.shape[0])) @ content
    ) / np.sqrt(content.shape[0]) * 2.0
    type_embedding += (0.6 + 1.4 * values[:, None] / 10) * dirs[POWER]
    segment_embedding = 2.0 * rng.normal(size=(4, content.shape[0])) @ content / np.sqrt(content.shape[0])
    fault_direction = np.stack([
        _unit(dirs[GROUP_FAULT][g] + 0.8 * _unit(rng.normal(size=content.shape[0]) @ content)) for g in groups
    ])
    feature_map = latent.FeatureMap(rng, RANK, feature_dim)
    return Sport(event, values, groups, base_length, type_embedding, segment_embedding, fault_direction, dirs,
                 feature_map)


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _split(rng: np.random.Generator, total: int, parts: int, least: int) -> np.ndarray:
    """``parts`` non-negative integers, each at least ``least``, summing to ``total``."""
    rest = total - least * parts
    return least + rng.multinomial(rest, np.full(parts, 1 / parts))


@dataclass
class _Layout:
    segment: np.ndarray  # (T,) segment codes
    unit: np.ndarray  # (T,) element instance index on element clips, -1 elsewhere
    position: np.ndarray  # (T,) position within the unit
    unit_length: np.ndarray  # (T,) length of the unit the clip belongs to
    element_types: np.ndarray  # (n,) type per element instance
    element_start: np.ndarray  # (n,)
    element_length: np.ndarray  # (n,)
    lifts: int


def _choose_elements(sport: Sport, rng: np.random.Generator, count: int, target: float) -> np.ndarray:
    weight = np.exp(-0.5 * ((sport.values / 10 - target) / 0.2) ** 2) + 1e-3
    chosen = []
    for g in rng.permutation(len(GROUPS)):  # at least one of each group
        idx = np.flatnonzero(sport.groups == g)
        chosen.append(int(rng.choice(idx, p=weight[idx] / weight[idx].sum())))
    rest = np.setdiff1d(np.arange(NUM_TYPES), chosen)
    more = rng.choice(rest, count - len(chosen), replace=False, p=weight[rest] / weight[rest].sum())
    return rng.permutation(np.array(chosen + [int(k) for k in more]))


def _layout(sport: Sport, rng: np.random.Generator, clips: int, target: float) -> _Layout:
    inner = clips - 2  # opening and closing poses
    count = int(min(MAX_ELEMENTS, max(len(GROUPS), round(inner / 6))))
    types = _choose_elements(sport, rng, count, target)
    lengths = np.clip(sport.base_length[types] + (rng.random(count) < 0.3) * rng.choice([-1, 1], count), 1, 4)
    lifts = 0
    if sport.pairs:
        lifts = int(rng.choice([1, 2, 3], p=[0.2, 0.76, 0.04]))
    lift_lengths = list(rng.integers(2, 4, lifts))
    least_free = max(2, round(0.3 * inner))
    while lengths.sum() + sum(lift_lengths) > inner - least_free:
        if lengths.max() > 1:
            lengths[np.argmax(lengths)] -= 1
        elif lift_lengths:
            lift_lengths.pop()
        else:
            break
    free = inner - int(lengths.sum()) - sum(lift_lengths)
    amp_total = int(round(free * rng.uniform(0.55, 0.7)))
    amps = max(1, int(round(amp_total / 4.5)))
    amp_lengths = _split(rng, amp_total, amps, min(2, amp_total // amps)) if amp_total > 0 else np.zeros(0, int)
    units = [(ELEMENT, i, int(n)) for i, n in enumerate(lengths)]
    units += [(LIFT, -1, int(n)) for n in lift_lengths] + [(AMP, -1, int(n)) for n in amp_lengths if n > 0]
    order = rng.permutation(len(units))
    link_clips = _split(rng, free - amp_total, len(units) + 1, 0)
    segment, unit, position, unit_length = [POSE], [-1], [0], [1]
    start = np.zeros(count, int)

    def put(code, index, n):
        segment.extend([code] * n)
        unit.extend([index] * n)
        position.extend(range(n))
        unit_length.extend([n] * n)

    for gap, u in zip(link_clips[:-1], order):
        put(LINK, -1, int(gap))
        code, index, n = units[u]
        if code == ELEMENT:
            start[index] = len(segment)
        put(code, index, n)
    put(LINK, -1, int(link_clips[-1]))
    put(POSE, -1, 1)
    assert len(segment) == clips
    return _Layout(np.array(segment), np.array(unit), np.array(position), np.array(unit_length), types, start,
                   lengths, len(lift_lengths))


def _judge(rng: np.random.Generator, tenths: np.ndarray) -> np.ndarray:
    """Each E judge's deduction (tenths) for each fault of true size ``tenths``: ``(E_JUDGES, n)``."""
    n = len(tenths)
    bias = rng.normal(0, 0.04, size=(E_JUDGES, 1))
    u = rng.random((E_JUDGES, n))
    miss = np.where(tenths == 1, 0.15, 0.03)
    down = 0.1 - bias
    up = 0.1 + bias
    seen = np.where(u < miss, 0, np.where(u < miss + down, tenths - 1, np.where(u > 1 - up, tenths + 1, tenths)))
    seen = np.clip(seen, 0, 3)
    return np.where(tenths >= FALL_TENTHS, FALL_TENTHS, seen).astype(np.int64)


def _fault_sizes(rng: np.random.Generator, n: int, severity: float) -> np.ndarray:
    """Fault sizes in tenths (1 small, 2 medium, 3 large); ``severity`` shifts them up."""
    logits = np.array([1.2, 0.1 + 0.6 * severity, -1.2 + 1.0 * severity])
    p = np.exp(logits - logits.max())
    return rng.choice([1, 2, 3], n, p=p / p.sum())


@dataclass
class _Faults:
    """Faults: clip, true size (tenths), visibility, where it shows (an element type, or a negative code)."""
    clip: list = field(default_factory=list)
    size: list = field(default_factory=list)
    vis: list = field(default_factory=list)
    shows: list = field(default_factory=list)

    def add(self, clip: int, tenths: int, visible: float, shows: int) -> None:
        """Record one fault."""
        self.clip.append(int(clip))
        self.size.append(int(tenths))
        self.vis.append(visible)
        self.shows.append(int(shows))

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The faults as arrays: clip, size, visibility, where it shows."""
        return (np.array(self.clip, int), np.array(self.size, int), np.array(self.vis),
                np.array(self.shows, int))


def _visibility(rng: np.random.Generator) -> float:
    """Draw how visible a fault is: a quarter of faults are hard to see on camera."""
    return 0.3 if rng.random() < 0.25 else 1.0


def _element_faults(sport: Sport, rng: np.random.Generator, lay: _Layout, target: float, e_level: float,
                    faults: _Faults) -> tuple[np.ndarray, np.ndarray, np.ndarray, list]:
    """Draw the elements' falls and faults and what is recognised and credited."""
    credited = sport.values[lay.element_types].copy()
    recognised = np.ones(len(credited), bool)
    downgraded = np.zeros(len(credited), bool)
    fall_clips = []
    not_recognised_p = np.array([0.35, 0.55, 0.35, 0.55])
    fall_risk = np.array([0.3, -0.4, 0.5, 0.0])
    for i, k in enumerate(lay.element_types):
        g = sport.groups[k]
        gap = (sport.values[k] / 10 - target) / 0.2
        start, n = lay.element_start[i], lay.element_length[i]
        if rng.random() < _sigmoid(-4.6 + 0.8 * gap - 0.6 * e_level + fall_risk[g]):
            faults.add(start + n - 1, FALL_TENTHS, 1.0, SHOWS_FALL)
            fall_clips.append(start + n - 1)
            recognised[i] = False
        count = rng.poisson(np.exp(-0.45 + 0.25 * gap - 0.3 * e_level + 0.25 * sport.values[k] / 10))
        if count:
            sizes = _fault_sizes(rng, count, 0.4 * gap - 0.4 * e_level)
            where = start + rng.integers(0, n, count)
            if g == 2:  # jumps: most faults on the landing
                where = np.where(rng.random(count) < 0.6, start + n - 1, where)
            for c, size in zip(where, sizes):
                faults.add(c, size, _visibility(rng), k)
            if recognised[i] and (sizes == 3).any():
                if rng.random() < not_recognised_p[g]:
                    recognised[i] = False
                elif rng.random() < 0.4 and credited[i] > 1:
                    credited[i] -= 1
                    downgraded[i] = True
    credited = np.where(recognised, credited, 0)
    return credited, recognised, downgraded, fall_clips


def _other_faults(sport: Sport, rng: np.random.Generator, seg: np.ndarray, e_level: float, criteria_z: np.ndarray,
                  faults: _Faults) -> None:
    """Draw the faults on AMP, link and lift clips and the synchronisation faults."""
    T = len(seg)
    u = rng.random(T)
    amp_p = _sigmoid(-1.9 - 0.35 * e_level - 0.3 * criteria_z[1])
    link_p = _sigmoid(-2.9 - 0.3 * e_level)
    lift_p = _sigmoid(-1.0 - 0.4 * e_level)
    p = np.select([seg == AMP, seg == LINK, seg == LIFT], [amp_p, link_p, lift_p], 0.0)
    for c in np.flatnonzero(u < p):
        size = int(rng.choice([1, 2], p=[0.85, 0.15])) if seg[c] != LIFT else int(_fault_sizes(rng, 1, -0.5)[0])
        faults.add(c, size, _visibility(rng), SHOWS_AMP if seg[c] == AMP else SHOWS_OTHER)
    if sport.pairs:
        sync_p = _sigmoid(-3.1 - 0.5 * criteria_z[3])
        for c in np.flatnonzero((rng.random(T) < sync_p) & (seg != POSE)):
            faults.add(c, 1, 1.0, SHOWS_SYNC)


def _judge_execution(rng: np.random.Generator, f_clip: np.ndarray, f_size: np.ndarray, T: int
                     ) -> tuple[np.ndarray, int]:
    """Judge execution: the two E judges with the middle totals, averaged."""
    seen = _judge(rng, f_size) if len(f_size) else np.zeros((E_JUDGES, 0), int)
    middle = np.argsort(seen.sum(axis=1), kind="stable")[1:3]
    per_fault = 5 * seen[middle].sum(axis=0)  # hundredths
    deduction_h = np.zeros(T, np.int64)
    np.add.at(deduction_h, f_clip, per_fault)
    execution = 1000 - int(deduction_h.sum())
    return deduction_h, execution


def _judge_difficulty(lay: _Layout, credited: np.ndarray, T: int) -> tuple[np.ndarray, int]:
    """Judge difficulty: the credited values, spread over each element's clips."""
    difficulty = np.zeros(T)
    for i in range(len(credited)):
        s, n = lay.element_start[i], lay.element_length[i]
        difficulty[s:s + n] = credited[i] * 0.05 / n
    d_mark = 5 * int(credited.sum())
    return difficulty, d_mark


def _judge_artistic(rng: np.random.Generator, true_criteria: np.ndarray) -> int:
    """Judge the artistic mark: the mean of the two middle A judges' totals."""
    a_bias = rng.normal(0, 0.05, size=(A_JUDGES, 1))
    marks_a = np.clip(np.round((true_criteria + a_bias + rng.normal(0, 0.07, (A_JUDGES, len(CRITERIA)))) * 10),
                      0, 20).astype(np.int64)
    a_totals = np.sort(marks_a.sum(axis=1))
    return 5 * int(a_totals[1] + a_totals[2])


def _penalty(sport: Sport, rng: np.random.Generator, lay: _Layout, recognised: np.ndarray, duration: float,
             skill: float) -> int:
    """Draw and assess the penalties (video level)."""
    penalty = 20 * int(abs(duration - 80.0) > 5.0)
    penalty += 10 * int(rng.poisson(0.15 * np.exp(-0.5 * skill)))
    penalty += 20 * int(rng.random() < 0.02)
    groups_recognised = set(sport.groups[lay.element_types[recognised]].tolist())
    penalty += 50 * (len(GROUPS) - len(groups_recognised))
    penalty += 50 * max(0, lay.lifts - 2)
    return penalty


def _content_latent(sport: Sport, lay: _Layout, recognised: np.ndarray, downgraded: np.ndarray
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Build the content part of the latent: what is performed, and where in its unit; also the type per clip."""
    dirs = sport.directions
    seg = lay.segment
    T = len(seg)
    lat = np.zeros((T, RANK))
    on_el = seg == ELEMENT
    el_type = np.full(T, -1)
    el_type[on_el] = lay.element_types[lay.unit[on_el]]
    shrink = np.where(recognised, 1.0, 0.6)
    lat[on_el] = sport.type_embedding[el_type[on_el]] * shrink[lay.unit[on_el], None]
    lat[on_el] -= 0.14 * downgraded[lay.unit[on_el], None] * dirs[POWER]  # credited 0.1 lower
    off = ~on_el
    lat[off] = sport.segment_embedding[np.select([seg == POSE, seg == LINK, seg == AMP], [0, 1, 2], 3)[off]]
    phased = on_el | (seg == AMP)
    angle = np.pi * (lay.position + 0.5) / lay.unit_length
    lat[phased] += 0.8 * (np.cos(angle[phased])[:, None] * dirs[PHASE_C]
                          + np.sin(angle[phased])[:, None] * dirs[PHASE_S])
    return lat, el_type


def _execution_latent(sport: Sport, lay: _Layout, lat: np.ndarray, e_level: float, f_clip: np.ndarray,
                      f_size: np.ndarray, f_vis: np.ndarray, f_dir: np.ndarray) -> None:
    """Add execution to the latent: non-linear, type-specific, partly hidden, spilling to neighbours."""
    dirs = sport.directions
    T = len(lat)
    for i, k in enumerate(lay.element_types):
        s, n = lay.element_start[i], lay.element_length[i]
        lat[s:s + n] += 0.3 * e_level * sport.fault_direction[k]
    load = np.zeros((T, NUM_TYPES + 4))  # per clip, per fault direction: visible size in tenths
    column = np.where(f_dir >= 0, f_dir, NUM_TYPES + (-f_dir - 1))
    np.add.at(load, (f_clip, column), f_vis * f_size)
    for i, k in enumerate(lay.element_types):  # a third of each element fault spills to its neighbouring clips
        s, n = lay.element_start[i], lay.element_length[i]
        own = load[s:s + n, k].copy()
        spill = np.zeros(n)
        spill[1:] += own[:-1]
        spill[:-1] += own[1:]
        load[s:s + n, k] = own + spill / 3
    amplitude = 1.1 * load ** 0.6
    fault_dirs = np.concatenate([sport.fault_direction, dirs[[AMP_FAULT, FALL_DIR, OTHER_FAULT, SYNC_FAULT]]])
    fault_dirs[NUM_TYPES + 1] *= -2.5 / 1.1 / FALL_TENTHS ** 0.6  # falls: a large positive spike
    lat -= amplitude @ fault_dirs


def _artistic_latent(sport: Sport, rng: np.random.Generator, seg: np.ndarray, lat: np.ndarray,
                     true_criteria: np.ndarray) -> None:
    """Add the artistic criteria that show to the latent."""
    dirs = sport.directions
    T = len(seg)
    aer, gen, space, pres = true_criteria[1:] - CRITERION_MEAN
    on_amp, on_link = seg == AMP, seg == LINK
    lat[on_amp] += (3.0 * aer + 0.3 * rng.normal(size=on_amp.sum()))[:, None] * dirs[AEROBIC]
    lat[on_link] += (3.0 * gen + 0.3 * rng.normal(size=on_link.sum()))[:, None] * dirs[FLUENCY]
    if sport.pairs:
        lat += (2.5 * space + 0.25 * rng.normal(size=T))[:, None] * dirs[SPACE]
    else:
        moving = on_amp | on_link
        lat[moving] += (3.0 * space + 0.3 * rng.normal(size=moving.sum()))[:, None] * dirs[SPACE]
    lat += 2.5 * pres * dirs[PRESENTATION]


def _routine(sport: Sport, rng: np.random.Generator, index: int, min_clips: int, max_clips: int
             ) -> release.JudgedVideo:
    """Draw one athlete's routine, judge it and build its features."""
    skill = rng.normal()
    d_level = 0.8 * skill + 0.6 * rng.normal()
    e_level = 0.75 * skill + 0.66 * rng.normal()
    talent = rng.normal()  # artistic gifts beyond skill, shared by the criteria
    criteria_z = 0.6 * skill + 0.5 * talent + 0.62 * rng.normal(size=len(CRITERIA))
    duration = 80.0 + 2.3 * rng.normal()
    low, high = DEFAULT_CLIPS
    frac = (duration / CLIP_SECONDS - low) / (high - low)
    clips = int(np.clip(round(min_clips + frac * (max_clips - min_clips)), min_clips, max_clips))
    target = float(np.clip(0.6 + 0.16 * d_level, 0.2, 1.0))
    lay = _layout(sport, rng, clips, target)
    T = clips
    seg = lay.segment

    faults = _Faults()
    credited, recognised, downgraded, fall_clips = _element_faults(sport, rng, lay, target, e_level, faults)
    true_criteria = np.clip(CRITERION_MEAN + 0.18 * criteria_z, 0.9, 1.95)
    _other_faults(sport, rng, seg, e_level, criteria_z, faults)
    f_clip, f_size, f_vis, f_dir = faults.arrays()

    deduction_h, execution = _judge_execution(rng, f_clip, f_size, T)
    difficulty, d_mark = _judge_difficulty(lay, credited, T)
    artistic = _judge_artistic(rng, true_criteria)
    penalty = _penalty(sport, rng, lay, recognised, duration, skill)
    total = artistic + execution + d_mark - penalty

    # features
    lat, el_type = _content_latent(sport, lay, recognised, downgraded)
    _execution_latent(sport, lay, lat, e_level, f_clip, f_size, f_vis, f_dir)
    _artistic_latent(sport, rng, seg, lat, true_criteria)
    dirs = sport.directions
    lat += (0.8 * rng.normal(size=NUISANCE.stop - NUISANCE.start)) @ dirs[NUISANCE]
    lat += 0.3 * latent.ar1_noise(rng, T, RANK, 0.75) @ dirs
    features = sport.feature_map.features(lat, rng, 0.1)

    truth = {
        "difficulty": difficulty,
        "deduction": deduction_h / 100.0,
        "contribution": difficulty - deduction_h / 100.0,
        "element_type": el_type.astype(np.float64),
        "segment": seg.astype(np.float64),
    }
    marks = {"total": total, "difficulty": d_mark, "execution": execution, "artistic": artistic,
             "penalty": penalty}
    video = {"skill": float(skill), "event": float(sport.event), "difficulty_level": float(d_level),
             "execution_level": float(e_level), "duration_s": float(duration), "artistic": artistic / 100,
             "difficulty": d_mark / 100, "execution": execution / 100, "penalty": penalty / 100,
             "falls": float(len(fall_clips)), **{c: float(v) for c, v in zip(CRITERIA, true_criteria)}}
    return release.JudgedVideo(f"aerobic_{index:03d}", features, truth, marks, video)


def generate(seed: int, count: int, feature_dim: int, min_clips: int, max_clips: int
             ) -> Iterator[release.JudgedVideo]:
    """``count`` routines of one seed's event; the same arguments give the same routines."""
    sport = _draw_sport(seed, feature_dim)
    for i in range(count):
        rng = np.random.default_rng([seed, 0xAE21, i])
        yield _routine(sport, rng, i + 1, min_clips, max_clips)


def write_aerobic_heldout(root: str | Path, sizes: release.GenerationSizes = release.DEFAULT_SIZES) -> Path:
    """Write ``sizes.num_train + sizes.num_test`` routines in the generic layout (``aerobic_001`` ...; the
    first ``sizes.num_train`` are ``train``); ``sizes.class_name`` is not used."""
    min_clips, max_clips = sizes.clip_range(KIND, DEFAULT_CLIPS, FEWEST_CLIPS)
    videos = generate(sizes.seed, sizes.num_train + sizes.num_test, sizes.feature_dim, min_clips, max_clips)
    return release.write_generic_release(root, videos, sizes.num_train, total_key="total")
