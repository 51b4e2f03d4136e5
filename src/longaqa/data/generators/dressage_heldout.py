"""``dressage_heldout``: FEI-like dressage Grand Prix Freestyle to music, written in the Fis-V layout.

Held out from model design: written from the FEI freestyle rules as recalled, without reading the model.

The ride, as generated here:

* A freestyle is a **sequence of pieces**, each a stretch of one judged movement (``MOVEMENTS``): the
  entry with halt and salute, the walk tour (collected walk, extended walk, often collected walk again),
  a trot tour (half-passes right and left, extended trot), one or two piaffe-passage blocks (passage,
  transition into piaffe, piaffe, transition out, passage), a canter tour (half-passes right and left,
  extended canter, two-tempi and one-tempi changes, pirouettes right and left) and the final halt. Tours
  come in a random order; movements in a random order within a tour.
* **Nearly every clip is judged.** A movement may be ridden in several pieces (passage, piaffe, the
  collected walk, the two halts, the four transitions): one mark covers all of them. Short linking
  stretches (a change of rein in collected trot or canter) are judged with the movement they prepare:
  they carry its ``element_type`` but their own ``segment``. Only the clips of leaving the arena after
  the final salute (sometimes, on long rides) belong to no movement (``element_type`` -1).
* **Scaling**: at the default length (260-282 clips, about the FEI window of 5:30-6:00 at 1.28 s a clip) a
  ride has 18 required pieces and, by the rider's choreography, up to about 12 optional ones (a second
  piaffe-passage block, a second collected walk and passage, a second line of one-tempis, linking
  stretches, leaving the arena). Each optional piece is kept only from a length drawn per ride (60-250
  clips), so shorter videos show a scaled-down ride with fewer, shorter pieces; the 18 required pieces
  need at least ``FEWEST_CLIPS`` = 33 clips (2 for most, 1 for the final halt and each transition).
* **Technical marks**: five judges each mark every movement 0-10 in half points around the movement's
  true quality (horse, rider, harmony, the horse's aptitude for that movement, minus a little for a
  harder variant). **Faults** inside a movement are located on clips and cut each judge's mark: a
  break of gait (walk, trot, passage, extended canter; the mark at most 5), a mistake in the tempi
  changes (at most 6), a piaffe losing its rhythm or stepping back (at most 6), a pirouette too large
  (at most 6.5), an imprecision (halts, half-passes, transitions), a spell of **tension** (over the
  clips of a tense spell, in every movement it touches) and a **resistance** (the horse stops, naps or
  rears, at most 4). Coefficients: 2 for the collected and extended walk, passage, piaffe and each
  canter pirouette, 1 for the others; their sum is 22.
* **TES** (the TES column) is the technical percentage / 2, in points (out of 50): each movement earns
  ``50 x coefficient x mean judges' mark / (10 x 22)``, rounded to 0.01, and TES is the sum of those.
* **Credit over clips**: the mark the movement would have earned without its faults is spread over its
  clips by weight (1 a clip of the movement itself, 0.5 a linking clip); what each fault cost (the drop
  in the panel's credit when that fault is added, in ride order) sits on that fault's clips. So ``tes``
  on a fault clip is lowered, sometimes below 0, and ``tes`` sums to TES exactly (up to float32).
* **PCS** (the PCS column) is the artistic percentage / 2 (out of 50): five artistic marks (rhythm,
  energy and elasticity x3; harmony between horse and rider x3; choreography, use of arena and
  inventiveness x4; degree of difficulty x4; music and interpretation x4) by five judges, to 0.1, from
  whole-ride properties: the horse's paces, the horse-rider harmony, the share of the ride under
  tension, resistances, the choreography and music, the harder variants ridden (double pirouettes,
  piaffe pirouettes, one-tempis on a curve, counter-changes of hand in canter) and how well they came
  off. No clip carries any of it.
* **Deductions** (whole points on the same scale, as Fis-V's column): each resistance is an error of
  1 point, located on its first clip (``deduction``); the ride's time outside 5:30-6:00 (rides of 200
  clips or more: entry to final halt, 1.28 s a clip) and a late entry (more than 20 s after the music
  starts, before the video begins) cost 1 point each and are **not located**. So ``deduction`` sums to
  the located part only; the rest is in ``JudgedVideo.video["unlocated_deductions"]``.
* total = TES + PCS - deductions, the FEI freestyle percentage less deductions (typically 62-80).

Features: a latent of 56 dimensions per clip holds the segment's embedding, the ride's style (with the
choreography and music), the side of a half-pass or pirouette, AR(1) noise and these signals: the
movement's quality, *non-linearly* (a saturating curve of the mark) along a direction per gait family,
with a gain per horse and per segment; each fault along its kind's direction on its clips; tension on
every clip of a tense spell (and lowering the quality shown there); the harmony on every clip (noisy);
a harder variant on its clips; a resistance strongly on its clips.

Per-clip truth (``truth/<id>.npz``): ``tes`` (sums to TES), ``deduction`` (1.0 on each resistance's
first clip; sums to the located deductions), ``contribution`` = tes - deduction, ``element_type`` (the
movement code, ``MOVEMENTS``; -1 only when leaving the arena) and ``segment`` (``SEGMENTS``).
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

KIND = "dressage_heldout"
DEFAULT_CLIPS = (260, 282)
"""5:33-6:01 at 1.28 s a clip: a Grand Prix freestyle (5:30-6:00 from the entry to the final halt)."""
FEWEST_CLIPS = 33
"""The 18 required pieces at their shortest (2 clips; 1 for the final halt and each transition)."""
CLIP_SECONDS = 1.28
TIME_WINDOW_CLIPS = (258, 281)
"""Ride clips (entry to final halt) inside 5:30-6:00; outside it, a 1-point time fault."""
FULL_RIDE_CLIPS = 200
"""Shorter videos are scaled-down rides: no time fault."""

# Movements (the technical sheet's lines): code -> (name, coefficient, gait family, hardness, fault kind).
HALTS, CW, EW, THP_R, THP_L, ET, PASSAGE, PIAFFE, TRANS, CHP_R, CHP_L, EC, TWO, ONE, PIR_R, PIR_L = range(16)
MOVEMENTS = {
    HALTS: ("entry and final halt", 1, "halt", 0.0, "imprecision"),
    CW: ("collected walk", 2, "walk", 0.4, "break of gait"),
    EW: ("extended walk", 2, "walk", 0.2, "break of gait"),
    THP_R: ("half-pass right in trot", 1, "trot", 0.0, "imprecision"),
    THP_L: ("half-pass left in trot", 1, "trot", 0.0, "imprecision"),
    ET: ("extended trot", 1, "trot", 0.3, "break of gait"),
    PASSAGE: ("passage", 2, "collection", 0.3, "break of gait"),
    PIAFFE: ("piaffe", 2, "collection", 0.8, "piaffe fault"),
    TRANS: ("transitions passage-piaffe-passage", 1, "collection", 0.5, "imprecision"),
    CHP_R: ("half-pass right in canter", 1, "canter", 0.0, "imprecision"),
    CHP_L: ("half-pass left in canter", 1, "canter", 0.0, "imprecision"),
    EC: ("extended canter", 1, "canter", 0.1, "break of gait"),
    TWO: ("flying changes every second stride", 1, "changes", 0.5, "change mistake"),
    ONE: ("flying changes every stride", 1, "changes", 1.0, "change mistake"),
    PIR_R: ("canter pirouette right", 2, "pirouette", 0.7, "pirouette fault"),
    PIR_L: ("canter pirouette left", 2, "pirouette", 0.7, "pirouette fault"),
}
COEFFICIENT_SUM = sum(m[1] for m in MOVEMENTS.values())  # 22
SIDE = {THP_R: 1.0, CHP_R: 1.0, PIR_R: 1.0, THP_L: -1.0, CHP_L: -1.0, PIR_L: -1.0}

SEGMENTS = {
    0: "entry_halt_salute",
    1: "final_halt_salute",
    2: "collected_walk",
    3: "extended_walk",
    4: "trot_half_pass",
    5: "extended_trot",
    6: "passage",
    7: "piaffe",
    8: "transition_into_piaffe",
    9: "transition_out_of_piaffe",
    10: "canter_half_pass",
    11: "extended_canter",
    12: "two_tempi_changes",
    13: "one_tempi_changes",
    14: "canter_pirouette",
    15: "linking_collected_trot",
    16: "linking_collected_canter",
    17: "leaving_arena",
}
"""What a clip shows. 15 and 16 are judged with the movement they prepare; 17 is not judged."""
(S_ENTRY, S_HALT, S_CW, S_EW, S_THP, S_ET, S_PASSAGE, S_PIAFFE, S_INTO, S_OUT, S_CHP, S_EC, S_TWO, S_ONE, S_PIR,
 S_LINK_TROT, S_LINK_CANTER, S_EXIT) = range(18)
FAMILIES = ("halt", "walk", "trot", "collection", "canter", "changes", "pirouette")
SEGMENT_FAMILY = (0, 0, 1, 1, 2, 2, 3, 3, 3, 3, 4, 4, 5, 5, 6, 2, 4, -1)

FAULTS = {
    # kind: (lowest and highest true cut in marks, the most a judge gives with it)
    "break of gait": (1.5, 3.0, 5.0),
    "change mistake": (1.0, 2.5, 6.0),
    "piaffe fault": (1.0, 2.0, 6.0),
    "pirouette fault": (1.0, 2.0, 6.5),
    "imprecision": (0.5, 1.5, 10.0),
    "resistance": (2.5, 3.5, 4.0),
    "tension": (0.0, 0.0, 10.0),
}
FAULT_KINDS = tuple(FAULTS)
ERROR_POINTS = 1
"""Deduction per resistance, per late entry and for a time fault (whole points, as Fis-V's column)."""
LATE_ENTRY_RATE = 0.03
RESISTANCE_MOVEMENTS = (HALTS, CW, PASSAGE, PIAFFE, TRANS, TWO, ONE, PIR_R, PIR_L)

JUDGES = 5
ARTISTIC = {
    # mark: coefficient
    "rhythm, energy and elasticity": 3,
    "harmony between horse and rider": 3,
    "choreography, use of arena and inventiveness": 4,
    "degree of difficulty": 4,
    "music and interpretation": 4,
}
ARTISTIC_SUM = sum(ARTISTIC.values())  # 18
RANK = 56
LINKING_WEIGHT = 0.5


@dataclass
class Piece:
    """A stretch of the ride: one movement (or -1), what it shows, its length before scaling."""

    movement: int
    segment: int
    nominal: float
    minimum: int
    group: int = 0
    """0: required; otherwise the optional group it is kept or dropped with."""
    variant: bool = False
    """A harder variant (double pirouette, piaffe pirouette, one-tempis on a curve, counter-changes)."""


@dataclass
class Fault:
    movement: int
    kind: str
    clips: np.ndarray
    severity: float
    judge_cuts: np.ndarray  # (JUDGES,) marks


def _round_div(num: int, den: int) -> int:
    """``num / den`` rounded half up, for ``num >= 0``, ``den > 0``, exactly."""
    return (2 * num + den) // (2 * den)


def movement_credit(coefficient: int, half_marks_sum: int) -> int:
    """The TES credit in hundredths of a movement whose judges' marks sum to ``half_marks_sum`` / 2:
    50 x coefficient x mean mark / (10 x 22), rounded to 0.01."""
    return _round_div(50 * coefficient * half_marks_sum, COEFFICIENT_SUM)


def _sigmoid(x: float) -> float:
    return float(1 / (1 + np.exp(-x)))


def allocate(targets: np.ndarray, minima: np.ndarray, total: int) -> np.ndarray:
    """Integer lengths near ``targets``, each at least its minimum, summing to ``total``."""
    lengths = np.maximum(minima, np.floor(targets)).astype(int)
    while lengths.sum() < total:
        lengths[int(np.argmax(targets - lengths))] += 1
    while lengths.sum() > total:
        over = np.where(lengths > minima, lengths - targets, -np.inf)
        lengths[int(np.argmax(over))] -= 1
    return lengths


class DressageSport:
    """One fixed sport per seed: segment embeddings, quality, fault and ride directions, the feature map."""

    def __init__(self, seed: int, feature_dim: int):
        rng = np.random.default_rng([seed, 0])
        basis = orthonormal_directions(rng, RANK)
        (self.harmony_direction, self.tension_direction, self.variant_direction, self.choreography_direction,
         self.music_direction, self.side_direction) = basis[:6]
        self.quality_direction = basis[6 : 6 + len(FAMILIES)]
        start = 6 + len(FAMILIES)
        self.fault_direction = dict(zip(FAULT_KINDS, basis[start : start + len(FAULT_KINDS)]))
        self.content = basis[start + len(FAULT_KINDS) :]
        scale = 2.0 / np.sqrt(len(self.content))
        self.segment_embedding = rng.normal(size=(len(SEGMENTS), len(self.content))) @ self.content * scale
        self.segment_gain = rng.uniform(0.6, 1.4, len(SEGMENTS))
        self.feature_map = FeatureMap(rng, RANK, feature_dim)

    # -- the choreography -------------------------------------------------------------------------------
    def choreography(self, length: int, ambition: float, rng: np.random.Generator) -> list[Piece]:
        """The ride's pieces in order, the optional ones kept from a length drawn per ride."""
        keep_from: dict[int, float] = {}

        def group(chosen: bool, low: float, high: float) -> int | None:
            threshold = rng.uniform(low, high)  # drawn whether chosen or not: the same draws at every length
            if not chosen:
                return None
            keep_from[len(keep_from) + 1] = threshold
            return len(keep_from)

        def variant() -> bool:
            return bool(rng.random() < _sigmoid(ambition))

        def linked(pieces: list[Piece], link_segment: int) -> list[Piece]:
            out = []
            for piece in pieces:
                g = group(rng.random() < 0.6, 60, 200)
                if g is not None:
                    out.append(Piece(piece.movement, link_segment, 3.0, 1, g))
                out.append(piece)
            return out

        def piaffe_block(required: bool) -> list[Piece]:
            g_block = 0 if required else group(rng.random() < 0.75, 110, 220)
            if g_block is None:
                return []
            g_last = g_block if not required else group(rng.random() < 0.7, 70, 160)
            block = [Piece(PASSAGE, S_PASSAGE, 9.0, 2, g_block), Piece(TRANS, S_INTO, 1.0, 1, g_block),
                     Piece(PIAFFE, S_PIAFFE, 7.0, 2, g_block, variant()), Piece(TRANS, S_OUT, 1.0, 1, g_block)]
            if g_last is not None:
                block.append(Piece(PASSAGE, S_PASSAGE, 6.0, 2, g_last))
            return block

        trot = [Piece(THP_R, S_THP, 7.0, 2), Piece(THP_L, S_THP, 7.0, 2), Piece(ET, S_ET, 8.0, 2)]
        trot = linked([trot[i] for i in rng.permutation(len(trot))], S_LINK_TROT)
        first_block = piaffe_block(required=True)
        trot_tour = first_block + trot if rng.random() < 0.5 else trot + first_block

        g_walk = group(rng.random() < 0.7, 80, 180)
        walk_tour = [Piece(CW, S_CW, 10.0, 2), Piece(EW, S_EW, 15.0, 2)]
        if g_walk is not None:
            walk_tour.append(Piece(CW, S_CW, 6.0, 2, g_walk))

        canter = [Piece(CHP_R, S_CHP, 6.0, 2, 0, variant()), Piece(CHP_L, S_CHP, 6.0, 2), Piece(EC, S_EC, 8.0, 2),
                  Piece(TWO, S_TWO, 8.0, 2), Piece(ONE, S_ONE, 8.0, 2, 0, variant())]
        for movement in (PIR_R, PIR_L):
            double = variant()
            canter.append(Piece(movement, S_PIR, 2.5 * (1.6 if double else 1.0), 2, 0, double))
        canter = [canter[i] for i in rng.permutation(len(canter))]
        g_ones = group(rng.random() < 0.5, 140, 250)
        if g_ones is not None:
            where = int(rng.integers(1, len(canter) + 1))
            canter.insert(where, Piece(ONE, S_ONE, 6.0, 2, g_ones))
        canter_tour = linked(canter, S_LINK_CANTER)

        tours = [trot_tour, walk_tour, canter_tour]
        pieces = [Piece(HALTS, S_ENTRY, 6.0, 2)]
        for i in rng.permutation(3):
            pieces += tours[i]
        pieces += piaffe_block(required=False)
        pieces.append(Piece(HALTS, S_HALT, 3.0, 1))
        g_exit = group(rng.random() < 0.5, 100, 250)
        if g_exit is not None:
            pieces.append(Piece(-1, S_EXIT, 2.0, 1, g_exit))

        kept = {g for g, threshold in keep_from.items() if length >= threshold}
        while sum(p.minimum for p in pieces if p.group == 0 or p.group in kept) > length:
            kept.discard(max(kept, key=lambda g: keep_from[g]))
        return [p for p in pieces if p.group == 0 or p.group in kept]

    # -- one ride -----------------------------------------------------------------------------------------
    def ride(self, name: str, length: int, rng: np.random.Generator) -> JudgedVideo:
        horse = float(np.clip(rng.normal(), -2.5, 2.5))
        rider = float(np.clip(rng.normal(), -2.5, 2.5))
        harmony = 0.45 * horse + 0.45 * rider + 0.77 * rng.normal()
        tension = float(rng.normal())
        choreography = 0.3 * rider + 0.95 * rng.normal()
        music = 0.5 * choreography + 0.85 * rng.normal()
        gain = float(np.exp(rng.normal(0, 0.3)))  # how strongly this horse shows its quality
        aptitude = rng.normal(0, 0.35, len(MOVEMENTS))  # this horse's strengths and weaknesses
        judge_bias = rng.normal(0, 0.2, JUDGES)
        ambition = -0.6 + 0.7 * rider + 0.5 * horse + 0.3 * choreography

        pieces = self.choreography(length, ambition, rng)
        targets = np.array([p.nominal for p in pieces]) * np.exp(rng.normal(0, 0.2, len(pieces)))
        targets *= length / targets.sum()
        lengths = allocate(targets, np.array([p.minimum for p in pieces]), length)
        bounds = np.concatenate([[0], np.cumsum(lengths)])

        element_type = np.full(length, -1)
        segment = np.zeros(length, dtype=int)
        weight = np.zeros(length)
        variant_shown = np.zeros(length)
        for piece, start, end in zip(pieces, bounds[:-1], bounds[1:]):
            element_type[start:end] = piece.movement
            segment[start:end] = piece.segment
            if piece.movement >= 0:
                weight[start:end] = LINKING_WEIGHT if piece.segment in (S_LINK_TROT, S_LINK_CANTER) else 1.0
            variant_shown[start:end] = float(piece.variant)

        # tension spells: many clips, in whichever movements they fall
        tense = np.zeros(length)
        for _ in range(int(rng.poisson(max(0.0, 0.2 + 0.7 * tension)))):
            span = int(rng.integers(2, max(2, round(length / 25)) + 1))
            start = int(rng.integers(0, max(1, length - span + 1)))
            tense[start : start + span] = np.maximum(tense[start : start + span], rng.uniform(0.5, 1.5))
        tense[element_type < 0] = 0.0

        # true quality of each movement (the judges' mark before faults, without their noise)
        paces = 6.9 + 0.55 * horse + 0.35 * rider + 0.3 * harmony
        variants_in = np.zeros(len(MOVEMENTS))
        for piece in pieces:
            if piece.movement >= 0 and piece.variant:
                variants_in[piece.movement] = 1.0
        quality = paces + aptitude - 0.3 * variants_in + rng.normal(0, 0.3, len(MOVEMENTS))

        faults: list[Fault] = []
        deduction = np.zeros(length)
        for piece, start, end in zip(pieces, bounds[:-1], bounds[1:]):
            if piece.movement < 0 or piece.segment in (S_LINK_TROT, S_LINK_CANTER):
                continue
            _, _, _, hardness, kind = MOVEMENTS[piece.movement]
            p = _sigmoid(-2.8 + hardness - 0.6 * rider - 0.3 * harmony + 0.4 * tension + 0.5 * piece.variant)
            if rng.random() < p:
                span = 2 if kind == "break of gait" and end - start >= 3 and rng.random() < 0.5 else 1
                at = int(rng.integers(start, end - span + 1))
                low, high, _ = FAULTS[kind]
                severity = float(rng.uniform(low, high))
                cuts = np.maximum(0.0, severity + rng.normal(0, 0.25, JUDGES))
                faults.append(Fault(piece.movement, kind, np.arange(at, at + span), severity, cuts))
        errors = 0
        if rng.random() < _sigmoid(-3.0 + 0.9 * tension - 0.4 * harmony):
            candidates = [(p, s, e) for p, s, e in zip(pieces, bounds[:-1], bounds[1:])
                          if p.movement in RESISTANCE_MOVEMENTS and p.segment not in (S_LINK_TROT, S_LINK_CANTER)]
            for _ in range(1 + int(rng.random() < 0.15)):
                piece, start, end = candidates[int(rng.integers(len(candidates)))]
                span = 2 if end - start >= 2 and rng.random() < 0.5 else 1
                at = int(rng.integers(start, end - span + 1))
                low, high, _ = FAULTS["resistance"]
                severity = float(rng.uniform(low, high))
                cuts = np.maximum(0.0, severity + rng.normal(0, 0.25, JUDGES))
                faults.append(Fault(piece.movement, "resistance", np.arange(at, at + span), severity, cuts))
                deduction[at] += ERROR_POINTS
                errors += 1
        for movement in MOVEMENTS:
            clips = np.flatnonzero((element_type == movement) & (tense > 0))
            if len(clips):
                share = min(1.0, 2.0 * len(clips) / int((element_type == movement).sum()))
                severity = float(0.9 * tense[clips].mean() * share)
                cuts = severity * np.maximum(0.0, 1 + rng.normal(0, 0.2, JUDGES))
                faults.append(Fault(movement, "tension", clips, severity, cuts))
        faults.sort(key=lambda f: (int(f.clips[0]), f.movement))

        # the panel, movement by movement; each fault's cost is the credit it took, in ride order
        tes = np.zeros(length)
        credits = 0
        marks = {}
        for movement, (_, coefficient, _, _, _) in MOVEMENTS.items():
            noise = judge_bias + rng.normal(0, 0.3, JUDGES)
            own = [f for f in faults if f.movement == movement]

            def panel(with_faults: list[Fault], q: float = quality[movement], noise: np.ndarray = noise) -> int:
                marks_ = q + noise - sum((f.judge_cuts for f in with_faults), np.zeros(JUDGES))
                cap = min((FAULTS[f.kind][2] for f in with_faults), default=10.0)
                return int(np.clip(np.round(2 * np.minimum(marks_, cap)), 0, 20).sum())

            clean = movement_credit(coefficient, panel([]))
            where = element_type == movement
            tes[where] += clean / 100 * weight[where] / weight[where].sum()
            before = clean
            for k, fault in enumerate(own):
                after = movement_credit(coefficient, panel(own[: k + 1]))
                tes[fault.clips] -= (before - after) / 100 / len(fault.clips)
                before = after
            credits += before
            marks[f"mark_{movement}"] = panel(own) / 2 / JUDGES
            marks[f"clean_mark_{movement}"] = panel([]) / 2 / JUDGES

        # artistic marks: the whole ride
        tension_load = float(tense.sum() / length)
        located = [f for f in faults if f.kind not in ("tension", "resistance")]
        variant_faults = sum(1 for f in located if variants_in[f.movement])
        n_variants = sum(1 for p in pieces if p.variant)
        artistic = np.array([
            7.0 + 0.8 * horse + 0.3 * rider + 0.3 * harmony - 2.0 * tension_load,
            7.0 + 0.9 * harmony + 0.2 * rider - 3.0 * tension_load - 0.6 * errors - 0.1 * len(located),
            7.0 + 0.7 * choreography + 0.3 * rider + (0.15 if any(p.segment == S_PIAFFE and p.group for p in pieces)
                                                        else 0.0),
            6.6 + 0.35 * n_variants + 0.3 * rider + 0.3 * horse - 0.4 * variant_faults,
            7.0 + 0.7 * music + 0.3 * choreography,
        ])
        judged = artistic[:, None] + 0.5 * judge_bias[None, :] + rng.normal(0, 0.25, (len(ARTISTIC), JUDGES))
        tenths = np.clip(np.round(10 * judged), 0, 100).astype(int)  # (marks, judges)
        weighted = int(sum(c * int(t.sum()) for c, t in zip(ARTISTIC.values(), tenths)))
        pcs = _round_div(5000 * weighted, 10 * JUDGES * 10 * ARTISTIC_SUM)  # artistic % / 2, hundredths

        ride_clips = int((element_type >= 0).sum())
        time_fault = length >= FULL_RIDE_CLIPS and not TIME_WINDOW_CLIPS[0] <= ride_clips <= TIME_WINDOW_CLIPS[1]
        late_entry = bool(rng.random() < LATE_ENTRY_RATE)
        unlocated = ERROR_POINTS * (int(time_fault) + int(late_entry))

        # features
        side = np.array([SIDE.get(int(m), 0.0) for m in element_type])
        family = np.array([SEGMENT_FAMILY[s] for s in segment])
        shown_quality = np.where(weight == 1.0, quality[np.maximum(element_type, 0)], paces) - 0.8 * tense
        curve = np.tanh((shown_quality - 7.0) / 1.2) * gain * self.segment_gain[segment]
        curve[family < 0] = 0.0
        style = rng.normal(size=len(self.content)) @ self.content * 2.0 / np.sqrt(len(self.content))
        style = style + 0.6 * choreography * self.choreography_direction + 0.6 * music * self.music_direction
        latent = self.segment_embedding[segment] + style  # (T, R)
        latent += curve[:, None] * self.quality_direction[np.maximum(family, 0)]
        latent += 0.5 * side[:, None] * self.side_direction
        latent += variant_shown[:, None] * self.variant_direction
        latent += (tense + 0.2 * tension)[:, None] * self.tension_direction
        latent += 0.5 * (harmony + rng.normal(0, 0.4, length))[:, None] * self.harmony_direction
        for fault in faults:
            if fault.kind != "tension":
                strength = 3.0 if fault.kind == "resistance" else fault.severity
                latent[fault.clips] += strength * self.fault_direction[fault.kind]
        latent += ar1_noise(rng, length, RANK, 0.8) * 0.8 / np.sqrt(RANK)
        features = self.feature_map.features(latent, rng, isotropic_std=0.05)

        return JudgedVideo(
            name=name,
            features=features,
            truth={
                "tes": tes,
                "deduction": deduction,
                "contribution": tes - deduction,
                "element_type": element_type.astype(np.float64),
                "segment": segment.astype(np.float64),
            },
            marks={"tes": int(credits), "pcs": int(pcs), "deductions": 100 * (errors * ERROR_POINTS + unlocated)},
            video={"horse": horse, "rider": rider, "harmony": harmony, "tension": tension,
                   "choreography": choreography, "music": music, "errors": float(errors),
                   "time_fault": float(time_fault), "late_entry": float(late_entry),
                   "unlocated_deductions": float(unlocated), "faults": float(len(located)),
                   "variants": float(n_variants), "tension_load": tension_load, **marks},
        )


def generate(seed: int, count: int, feature_dim: int, min_clips: int, max_clips: int) -> Iterator[JudgedVideo]:
    """``count`` rides of one sport, with numeric ids ``1`` ... ``count`` as in Fis-V."""
    sport = DressageSport(seed, feature_dim)
    rng = np.random.default_rng([seed, 1])
    for i in range(1, count + 1):
        yield sport.ride(str(i), int(rng.integers(min_clips, max_clips + 1)), rng)


def write_dressage_heldout(root: str | Path, sizes: GenerationSizes = DEFAULT_SIZES) -> Path:
    """Write ``sizes.num_train + sizes.num_test`` rides in the Fis-V layout plus ``truth/``; returns ``root``.

    The test ids are drawn among all ids (as in Fis-V); ``sizes.class_name`` is not used.
    """
    min_clips, max_clips = sizes.clip_range(KIND, DEFAULT_CLIPS, FEWEST_CLIPS)
    count = sizes.num_train + sizes.num_test
    test_ids = np.random.default_rng([sizes.seed, 2]).choice(count, size=sizes.num_test, replace=False) + 1
    videos = generate(sizes.seed, count, sizes.feature_dim, min_clips, max_clips)
    return write_fisv_release(root, videos, {str(i) for i in test_ids})
