"""Generators of judged routines with per-clip truth, one module per scoring model (docs/generators.md).

Each generator draws one fixed "sport" per seed (element types, embeddings, feature map), then
routines from it, and writes them in a public release layout (``rg`` or ``fisv``) or the generic one
(:mod:`longaqa.data.generators.release`), plus ``truth/<name>.npz``: float32 per-clip arrays of length T.
Truth fields, where they apply: ``difficulty`` (difficulty value credited to the clip),
``deduction`` (execution or fall deduction located on the clip), ``tes`` (skating: base + GOE),
``contribution`` (the clip's additive share of the total), plus ``element_type`` (-1 off elements);
``multiplicative`` keeps its own ``weight``, ``quality`` and ``contribution``; ``aerobic_heldout``,
``icedance_heldout``, ``acro_heldout``, ``trampoline_heldout``, ``moguls_heldout``, ``pairs_heldout``,
``beam_heldout``, ``rggroup_heldout``, ``dressage_heldout``, ``bars_heldout``, ``pommel_heldout``,
``rings_heldout``, ``pbars_heldout``, ``hbar_heldout``, ``diving_heldout``, ``tumbling_heldout``,
``surfing_heldout``, ``teamgym_heldout`` and ``synchro_heldout`` add ``segment`` (what the clip shows: an
int code of the kind of connecting movement, element or part of the run, per kind in docs/generators.md).

``write_generated(kind, root, ...)`` is the one entry point; ``GENERATORS`` lists the kinds.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from longaqa.data.generators import (
    acro_heldout,
    aerobic_heldout,
    bars_heldout,
    beam_heldout,
    diving_heldout,
    dressage_heldout,
    floor_heldout,
    hbar_heldout,
    icedance_heldout,
    moguls_heldout,
    multiplicative,
    pairs_heldout,
    pbars_heldout,
    pommel_heldout,
    rg_additive,
    rg_heldout,
    rggroup_heldout,
    rings_heldout,
    skating,
    skating_heldout,
    surfing_heldout,
    swimming_heldout,
    synchro_heldout,
    teamgym_heldout,
    trampoline_heldout,
    tumbling_heldout,
)
from longaqa.data.generators.release import GenerationSizes
from longaqa.errors import LongAQAError


@dataclass(frozen=True)
class GeneratorInfo:
    writer: Callable[[str | Path, GenerationSizes], Path]
    """``writer(root, sizes) -> root``, ``sizes`` a :class:`~longaqa.data.generators.release.GenerationSizes`
    (seed, num_train, num_test, feature_dim, min_clips, max_clips, class_name)."""
    layout: Literal["rg", "fisv", "generic"]
    """The layout written (``data.layout`` to train on it; ``generic`` also needs
    ``data.features_dir=features data.class_name=``)."""
    held_out: bool
    """True when the generator is kept out of model design (its source is not to be read by designers)."""
    description: str
    default_clips: tuple[int, int]
    """Clips per video when ``min_clips``/``max_clips`` are not given."""
    score_divisor: float | None = None
    """``data.score_divisor`` to train on it when the layout's usual one does not suit its scale
    (None: RG 25, Fis-V 43, generic 100)."""
    subscores: str | None = None
    """``data.subscores`` for the additive head when the layout's own sheet does not fit its columns
    (None: ``auto``). ``acro_heldout``: ``holistic``, since its RG-layout E column holds 2 x E + A, which
    the RG sheet's 10 - deductions cannot reach."""


GENERATORS: dict[str, GeneratorInfo] = {
    "multiplicative": GeneratorInfo(
        multiplicative.write_multiplicative, "rg", False,
        "total = scale x sum of clip difficulty x quality (longaqa.data.synthetic)", multiplicative.DEFAULT_CLIPS),
    "rg_additive": GeneratorInfo(
        rg_additive.write_rg_additive, "rg", False,
        "FIG-like D + E - penalty; recognised element values, located execution faults, linear features",
        rg_additive.DEFAULT_CLIPS),
    "rg_linking": GeneratorInfo(
        rg_additive.write_rg_linking, "rg", False,
        "the rg_additive routines with three kinds of connecting movement instead of one",
        rg_additive.DEFAULT_CLIPS),
    "rg_linking_unique": GeneratorInfo(
        rg_additive.write_rg_linking_unique, "rg", False,
        "the rg_linking routines with no difficulty performed twice (FIG: a repeated difficulty is not valued)",
        rg_additive.DEFAULT_CLIPS),
    "skating": GeneratorInfo(
        skating.write_skating, "fisv", False,
        "ISU-like TES (base + GOE, late-jump bonus) with located falls; holistic PCS; Fis-V layout",
        skating.DEFAULT_CLIPS),
    "skating_total": GeneratorInfo(
        skating.write_skating_total, "generic", False,
        "the skating programmes with one total per programme (TES + PCS - deductions, the PCS inside it)",
        skating.DEFAULT_CLIPS, score_divisor=43.0),
    "rg_heldout": GeneratorInfo(
        rg_heldout.write_rg_heldout, "rg", True,
        "FIG-like D + E - penalty with its own structure, held out from model design",
        rg_heldout.DEFAULT_CLIPS),
    "skating_heldout": GeneratorInfo(
        skating_heldout.write_skating_heldout, "fisv", True,
        "ISU-like free skating (TES, falls, holistic PCS) with its own structure, held out from model design",
        skating_heldout.DEFAULT_CLIPS),
    "swimming_heldout": GeneratorInfo(
        swimming_heldout.write_swimming_heldout, "generic", True,
        "artistic-swimming-like team routines, one total per routine (as LOGO), held out from model design",
        swimming_heldout.DEFAULT_CLIPS),
    "aerobic_heldout": GeneratorInfo(
        aerobic_heldout.write_aerobic_heldout, "generic", True,
        "FIG-like aerobic gymnastics (A + E + D/2 - penalties), one total per routine, held out from model design",
        aerobic_heldout.DEFAULT_CLIPS, score_divisor=25.0),
    "floor_heldout": GeneratorInfo(
        floor_heldout.write_floor_heldout, "rg", True,
        "FIG-like women's artistic gymnastics floor (D + E - neutral deductions), held out from model design",
        floor_heldout.DEFAULT_CLIPS),
    "icedance_heldout": GeneratorInfo(
        icedance_heldout.write_icedance_heldout, "fisv", True,
        "ISU-like ice dance free dances (TES with levels and GOE, falls, holistic PCS), held out from model design",
        icedance_heldout.DEFAULT_CLIPS),
    "acro_heldout": GeneratorInfo(
        acro_heldout.write_acro_heldout, "rg", True,
        "FIG-like acrobatic gymnastics pairs (D + 2E + A - penalties, 2E + A in the E column), held out from "
        "model design", acro_heldout.DEFAULT_CLIPS, score_divisor=35.0, subscores="holistic"),
    "trampoline_heldout": GeneratorInfo(
        trampoline_heldout.write_trampoline_heldout, "generic", True,
        "FIG-like individual trampoline (D + E + T + H - penalties, ten skills back to back, interrupted "
        "routines), one total per routine, held out from model design",
        trampoline_heldout.DEFAULT_CLIPS, score_divisor=50.0),
    "moguls_heldout": GeneratorInfo(
        moguls_heldout.write_moguls_heldout, "generic", True,
        "FIS-like freestyle skiing moguls (turns 60 + air 20 + speed 20, falls and DNF runs), one total per "
        "run, held out from model design", moguls_heldout.DEFAULT_CLIPS, score_divisor=100.0),
    "pairs_heldout": GeneratorInfo(
        pairs_heldout.write_pairs_heldout, "fisv", True,
        "ISU-like pair skating free skates (TES with levels and GOE, unison, falls of one or both partners, "
        "holistic PCS), held out from model design", pairs_heldout.DEFAULT_CLIPS),
    "beam_heldout": GeneratorInfo(
        beam_heldout.write_beam_heldout, "rg", True,
        "FIG-like women's artistic gymnastics balance beam (D: 8 counted values + CR + CV; E: located faults, "
        "wobbles and falls, whole-exercise artistry; neutral deductions), held out from model design",
        beam_heldout.DEFAULT_CLIPS),
    "rggroup_heldout": GeneratorInfo(
        rggroup_heldout.write_rggroup_heldout, "rg", True,
        "FIG-like rhythmic gymnastics group routines (five gymnasts; D: body difficulties in unison, exchanges, "
        "collaborations, dance steps; E: located technical faults, drops with recovery, whole-routine artistic "
        "faults; penalties), held out from model design", rggroup_heldout.DEFAULT_CLIPS, score_divisor=30.0),
    "dressage_heldout": GeneratorInfo(
        dressage_heldout.write_dressage_heldout, "fisv", True,
        "FEI-like dressage Grand Prix freestyle (technical marks x coefficients over a fully judged ride, "
        "located faults and resistances, holistic artistic marks, percentages / 2), held out from model design",
        dressage_heldout.DEFAULT_CLIPS, score_divisor=100.0),
    "bars_heldout": GeneratorInfo(
        bars_heldout.write_bars_heldout, "rg", True,
        "FIG-like women's artistic gymnastics uneven bars (D: 8 counted values + CR + CV; E: located faults, "
        "intermediate swings, landings and falls with remounts, whole-exercise rhythm; neutral deductions), "
        "held out from model design", bars_heldout.DEFAULT_CLIPS),
    "pommel_heldout": GeneratorInfo(
        pommel_heldout.write_pommel_heldout, "rg", True,
        "FIG-like men's artistic gymnastics pommel horse (D: the dismount + 9 highest values, at most 5 per "
        "element group, + group requirements; E: located form faults, touches, hesitations, falls with "
        "remounts and landings; neutral deductions), held out from model design",
        pommel_heldout.DEFAULT_CLIPS),
    "rings_heldout": GeneratorInfo(
        rings_heldout.write_rings_heldout, "rg", True,
        "FIG-like men's artistic gymnastics still rings (D: the dismount + 9 highest values, at most 5 per "
        "element group, + group requirements; E: located hold, swing and landing faults, 2 s holds, cable "
        "swing, falls with remounts; neutral deductions), held out from model design",
        rings_heldout.DEFAULT_CLIPS),
    "pbars_heldout": GeneratorInfo(
        pbars_heldout.write_pbars_heldout, "rg", True,
        "FIG-like men's artistic gymnastics parallel bars (D: the dismount + the 9 highest other values, at most 5 "
        "per element group, + group requirements, no connection value; E: all located: handstand angles, form "
        "breaks, extra swings, stops, touches, landings, falls with remounts; neutral deductions), held out from "
        "model design", pbars_heldout.DEFAULT_CLIPS),
    "hbar_heldout": GeneratorInfo(
        hbar_heldout.write_hbar_heldout, "rg", True,
        "FIG-like men's artistic gymnastics horizontal bar (D: the dismount + the 9 highest other values, at most 4 "
        "per element group, + group requirements + connection value for direct release connections; E: located "
        "form, handstand, release and catch faults, giant form, empty swings, landings, missed releases as falls "
        "with remounts; neutral deductions), held out from model design", hbar_heldout.DEFAULT_CLIPS),
    "diving_heldout": GeneratorInfo(
        diving_heldout.write_diving_heldout, "generic", True,
        "World Aquatics-like diving series (5-6 dives of an individual final, each DD x the 3 counted awards of "
        "7 judges, failed dives score 0), one total per series, held out from model design",
        diving_heldout.DEFAULT_CLIPS, score_divisor=400.0),
    "tumbling_heldout": GeneratorInfo(
        tumbling_heldout.write_tumbling_heldout, "rg", True,
        "FIG-like power tumbling (passes of 8 elements; D: tariffs + connection bonuses; E: located element, "
        "landing and fall deductions, incomplete passes; neutral penalties), held out from model design",
        tumbling_heldout.DEFAULT_CLIPS, score_divisor=35.0),
    "surfing_heldout": GeneratorInfo(
        surfing_heldout.write_surfing_heldout, "generic", True,
        "WSL-like surfing heats (one surfer's heat filmed whole; waves of take-off, manoeuvres and a finish or "
        "fall, each the middle three of 5 judges' marks 0-10; total = the best two waves), one total per heat, "
        "held out from model design", surfing_heldout.DEFAULT_CLIPS, score_divisor=20.0),
    "teamgym_heldout": GeneratorInfo(
        teamgym_heldout.write_teamgym_heldout, "rg", True,
        "UEG-like TeamGym floor programmes (6-12 gymnasts; D: the 8 highest credited group element values + "
        "composition requirements; E: located form, synchronisation, landing, fall and formation deductions, "
        "whole-programme artistry; neutral penalties), held out from model design",
        teamgym_heldout.DEFAULT_CLIPS),
    "synchro_heldout": GeneratorInfo(
        synchro_heldout.write_synchro_heldout, "fisv", True,
        "ISU-like synchronized skating free skating (16 skaters; TES of ten team elements with levels and GOE of "
        "9 judges, unison, falls of 1-3 skaters, interruptions, holistic PCS), held out from model design",
        synchro_heldout.DEFAULT_CLIPS),
}


def write_generated(
    kind: str,
    root: str | Path,
    *,
    seed: int = 0,
    num_train: int = 200,
    num_test: int = 50,
    feature_dim: int = 1024,
    min_clips: int | None = None,
    max_clips: int | None = None,
    class_name: str = "Ball",
) -> Path:
    """Write a generated dataset of ``kind`` under ``root`` (plus ``generator.json``); returns ``root``.

    ``min_clips``/``max_clips`` default to the generator's release-like range (``default_clips``).
    The same arguments give the same files.
    """
    if kind not in GENERATORS:
        raise LongAQAError(f"unknown generator {kind!r}; choose one of: {', '.join(GENERATORS)}")
    info = GENERATORS[kind]
    sizes = GenerationSizes(seed=seed, num_train=num_train, num_test=num_test, feature_dim=feature_dim,
                            min_clips=min_clips, max_clips=max_clips, class_name=class_name)
    root = info.writer(root, sizes)
    provenance = {"kind": kind, "layout": info.layout, **dataclasses.asdict(sizes)}
    (root / "generator.json").write_text(json.dumps(provenance, indent=2) + "\n", encoding="utf-8")
    return root
