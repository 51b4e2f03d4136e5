"""Score sheets: how a benchmark's judges add the marks up (REFERENCE.md section 5).

The additive head (``model.head: additive``) predicts, for every clip, one non-negative *part* per
additive sub-score, and, for the whole video, non-negative *video terms* for what judges mark on the
whole performance. A sheet says which parts and terms there are and how the label files' sub-scores
and the total are made from them::

    RG (FIG):   difficulty = sum_clips difficulty          execution = 10 - sum_clips deduction
                penalty    = video term penalty            total     = difficulty + execution - penalty
    rg_artistic: as RG, but execution = 10 - sum_clips deduction - video term artistry (the E panel's
                faults of the whole routine, marked on no clip)
    Fis-V (ISU): TES       = sum_clips tes                 deductions = sum_clips deduction (falls)
                PCS        = video term pcs                total      = TES + PCS - deductions
    single:     total      = sum_clips contribution        (``data.subscores: none``)
    holistic:   total      = sum_clips contribution + video term impression   (LOGO, generic, ``holistic``)

A clip's *contribution* is its signed share of the total (RG ``difficulty - deduction``); the clips'
contributions plus the video-level terms (RG ``10 - penalty``, Fis-V ``PCS``) give the prediction.
Sheets are defined on the raw score scale; the model works on the divided one (``data.score_divisor``).
"""

from __future__ import annotations

from dataclasses import dataclass

from longaqa.config import DataConfig
from longaqa.errors import LongAQAError


@dataclass(frozen=True)
class ScoreSheet:
    """Parts per clip, terms per video and the sub-scores made of them (see the module docstring).

    ``subscores`` maps a label column to ``(constant, ((source, sign), ...))``, where a source is a
    clip part (summed over the clips) or a video term; ``total`` is made the same way.
    """

    name: str
    clip_parts: tuple[str, ...]
    video_terms: tuple[str, ...]
    subscores: dict[str, tuple[float, tuple[tuple[str, float], ...]]]
    total: tuple[float, tuple[tuple[str, float], ...]]
    columns: str | None = None
    """The release layout whose label columns hold the sub-scores (``rg``, ``fisv``; None: no sub-scores)."""
    start_shares: tuple[tuple[str, float], ...] = ()
    """How the head starts (``AdditiveHead.calibrate``) sources of a sub-score or of the total that no
    label splits: each named one gets this share of what is left (the others share the rest equally)."""
    holistic_terms: tuple[str, ...] = ()
    """Video terms marked on the whole performance from what every clip shows (``impression``, ``artistry``):
    the decoder reading them drops clips in training (``model.impression_clip_dropout``) so that no one
    clip carries them."""

    @property
    def clip_signs(self) -> tuple[float, ...]:
        """Sign of each clip part in the total: a clip's contribution is ``sum_p sign_p part_p``."""
        return tuple(self._sign(p) for p in self.clip_parts)

    @property
    def video_signs(self) -> tuple[float, ...]:
        return tuple(self._sign(v) for v in self.video_terms)

    @property
    def constant(self) -> float:
        """The total's constant on the raw scale (RG: the execution panel's 10)."""
        return self.total[0]

    def _sign(self, source: str) -> float:
        return dict(self.total[1]).get(source, 0.0)

    def subscore_names(self) -> tuple[str, ...]:
        return tuple(self.subscores)

    def reachable(self, name: str) -> tuple[float, float]:
        """The raw-scale range (low, high) that sub-score ``name`` (or ``"total"``) can take, parts and
        terms being non-negative: up to its constant when every source is subtracted (RG execution:
        at most 10), from it on when every source is added."""
        constant, sources = self.total if name == "total" else self.subscores[name]
        signs = {sign for _, sign in sources}
        return (constant if signs <= {1.0} else -float("inf"), constant if signs <= {-1.0} else float("inf"))


RG_SHEET = ScoreSheet(
    name="rg",
    clip_parts=("difficulty", "deduction"),
    video_terms=("penalty",),
    subscores={
        "difficulty": (0.0, (("difficulty", 1.0),)),
        "execution": (10.0, (("deduction", -1.0),)),
        "penalty": (0.0, (("penalty", 1.0),)),
    },
    total=(10.0, (("difficulty", 1.0), ("deduction", -1.0), ("penalty", -1.0))),
    columns="rg",
)
RG_ARTISTIC_SHEET = ScoreSheet(
    name="rg_artistic",
    clip_parts=("difficulty", "deduction"),
    video_terms=("penalty", "artistry"),
    subscores={
        "difficulty": (0.0, (("difficulty", 1.0),)),
        "execution": (10.0, (("deduction", -1.0), ("artistry", -1.0))),
        "penalty": (0.0, (("penalty", 1.0),)),
    },
    total=(10.0, (("difficulty", 1.0), ("deduction", -1.0), ("penalty", -1.0), ("artistry", -1.0))),
    columns="rg",
    start_shares=(("artistry", 0.1),),
    holistic_terms=("artistry",),
)
"""The RG sheet with the E panel's deductions in two places (REFERENCE.md section 5: it deducts for
artistic and technical faults): technical faults located on clips, and a video-level ``artistry`` term
for faults of the whole routine (composition, rhythm, expression), which no clip carries. The labels
give only 10 - E, their sum, so the split comes from the model (docs/additive.md, "Faults of the whole
routine"); the artistry term starts at a tenth of it, the located deductions at the rest."""
FISV_SHEET = ScoreSheet(
    name="fisv",
    clip_parts=("tes", "deduction"),
    video_terms=("pcs",),
    subscores={
        "TES": (0.0, (("tes", 1.0),)),
        "PCS": (0.0, (("pcs", 1.0),)),
        "deductions": (0.0, (("deduction", 1.0),)),
    },
    total=(0.0, (("tes", 1.0), ("pcs", 1.0), ("deduction", -1.0))),
    columns="fisv",
)
SINGLE_SHEET = ScoreSheet(
    name="single",
    clip_parts=("contribution",),
    video_terms=(),
    subscores={},
    total=(0.0, (("contribution", 1.0),)),
)
HOLISTIC_SHEET = ScoreSheet(
    name="holistic",
    clip_parts=("contribution",),
    video_terms=("impression",),
    subscores={},
    total=(0.0, (("contribution", 1.0), ("impression", 1.0))),
    holistic_terms=("impression",),
)
"""One total with a holistic mark in it (LOGO's artistic impression, a PCS in the same column): per-clip
contributions plus one video-level ``impression`` term. The label gives only their sum, so the split
between them comes from the model, not from the labels (docs/additive.md, "One total with a holistic mark")."""
SHEETS = {s.name: s for s in (RG_SHEET, RG_ARTISTIC_SHEET, FISV_SHEET, SINGLE_SHEET, HOLISTIC_SHEET)}


def score_sheet(cfg: DataConfig) -> ScoreSheet:
    """The sheet the additive head uses for ``cfg`` (``data.subscores``; docs/additive.md).

    ``auto``: RG and Fis-V their own sheet (the target must then be ``total``), LOGO and the generic
    layout ``holistic``; ``none``: one part per clip summing to the target; ``holistic``: one part per
    clip plus a video-level impression term summing to the target (any layout); ``rg``/``fisv``: that
    sheet, for the generic layout whose CSV has the sub-score columns; ``rg_artistic``: the RG sheet
    with a video-level artistry deduction in E (the RG layout, or a generic CSV with the RG columns).
    """
    choice = cfg.subscores
    if choice == "none":
        return SINGLE_SHEET
    if choice == "auto":
        choice = {"rg": "rg", "fisv": "fisv"}.get(cfg.layout, "holistic")
    if choice == "single":
        return SINGLE_SHEET
    if choice == "holistic":
        return HOLISTIC_SHEET
    if cfg.layout not in (SHEETS[choice].columns, "generic"):
        raise LongAQAError(
            f"data.subscores={cfg.subscores!r}: the {cfg.layout} layout has no {choice} sub-score columns; "
            f"use auto or none"
        )
    if cfg.target != "total":
        raise LongAQAError(
            f"data.subscores={cfg.subscores!r} decomposes the total (sheet {choice}), but data.target is "
            f"{cfg.target!r}: set data.target=total, or data.subscores=none for per-clip parts of {cfg.target}"
        )
    return SHEETS[choice]


def training_sheet(cfg) -> ScoreSheet | None:
    """The sheet whose sub-scores a run of ``cfg`` (a :class:`longaqa.config.Config`) loads and trains
    on: the additive head's, else None (the other heads train on the target alone)."""
    return score_sheet(cfg.data) if cfg.model.head == "additive" else None
