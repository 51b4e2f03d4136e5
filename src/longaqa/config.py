"""Typed configuration: one dataclass per concern, loaded from YAML, overridden by ``--set``.

A config file has up to four sections, ``model``, ``loss``, ``data`` and ``train``; every key is a
field below. Unknown keys are an error that lists the valid ones. The resolved config (every field,
defaults included) is written beside every checkpoint as ``config.yaml``.

Defaults follow the paper; where the authors' code departs from it, the departure is an option whose
docstring says so (see ``docs/authors_variant.md`` and ``configs/presets/authors.yaml``).
"""

from __future__ import annotations

import dataclasses
import math
import reprlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, get_args, get_origin, get_type_hints

import yaml

from longaqa.errors import LongAQAError

# The choices of every choice field: each field is typed with one of these, and validated against it.
Norm = Literal["post", "pre"]
QueryInit = Literal["learned", "resample"]
SpreadIs = Literal["std", "variance"]
Head = Literal["weight_score", "single_score", "mean_pool", "additive"]
AttKL = Literal["self_cross", "cross_self"]
AttReduction = Literal["mean", "sum"]
Layout = Literal["rg", "fisv", "logo", "generic"]
Subscores = Literal["auto", "none", "holistic", "rg", "rg_artistic", "fisv"]
VideoTermsFrom = Literal["queries", "background"]
BackgroundRule = Literal["densest", "recurrent", "adaptive", "learned"]
LocalCentre = Literal["none", "mean", "background", "both"]
LocalCentreStatistic = Literal["mean", "median"]
LearnedTeacher = Literal["densest", "adaptive", "recurrent", "ubiquity", "consensus"]
ForcingClips = Literal["all", "agree", "foreground"]
TrainCrop = Literal["random", "center"]
EvalView = Literal["full", "center_crop", "random_crop"]
Scheduler = Literal["none", "step", "cosine"]
SchedulerInterval = Literal["epoch", "iter"]
Selection = Literal["last", "val", "best-test"]
Device = Literal["auto", "cpu", "cuda"]
Precision = Literal["fp32", "bf16", "auto"]
CpuMalloc = Literal["reuse", "system"]

HEADS: tuple[str, ...] = get_args(Head)


@dataclass
class ModelConfig:
    input_dim: int = 1024
    """Dimension D of the clip features. A linear projection to ``d_model`` is added when they differ."""
    d_model: int = 1024
    """Width of the decoder (paper: 1024)."""
    num_queries: int = 68
    """Learnable queries, one per clip: 68 RG, 136 Fis-V, 48 LOGO."""
    num_layers: int = 2
    num_heads: int = 4
    dim_feedforward: int = 1024
    dropout: float = 0.7
    """Dropout on the residual branches and inside the FFN (paper: 0.7)."""
    attention_dropout: float = 0.0
    """Dropout on attention probabilities. DETR and the authors' code reuse ``dropout`` (0.7) here;
    the paper does not say, and 0.7 on probabilities makes the attention loss very noisy, so 0.0."""
    norm: Norm = "post"
    """``post`` (DETR's default layer, the paper's 'DETR-style') or ``pre`` (authors' code: pre-norm
    layers plus a final LayerNorm)."""
    query_pe: bool = True
    """Sine positional encoding of the query index, added to q/k of self- and q of cross-attention."""
    memory_pe: bool = False
    """Sine positional encoding of the clip index, added to the keys of cross-attention."""
    query_init: QueryInit = "learned"
    """``learned``: query content is a parameter drawn once from N(0, spread). ``resample``: redrawn
    from N(0, spread) on every training forward (authors' code); evaluation then uses one fixed draw,
    so it stays deterministic."""
    query_resample_eval: bool = False
    """With ``query_init: resample``, redraw the queries at evaluation too, as the authors' code does
    (test predictions are then random). False: one fixed draw for evaluation."""
    query_init_spread: float = 1.0
    """Spread of the query initialisation (the paper's Table 5 'variance': 0.5, 1, 3, 5)."""
    query_init_spread_is: SpreadIs = "std"
    """How ``query_init_spread`` is read: ``std`` (as the authors' code passes it, the default) or
    ``variance`` (std = sqrt(spread), the paper's word)."""
    query_pos_adds_content: bool = False
    """Authors' code: the query positional input is the sine PE plus the query content of batch item 0."""
    self_attn_residual: bool = True
    """False reproduces the authors' residual bug (the query skip path after self-attention is dropped)."""
    padding_mask: bool = True
    """Mask zero-padded clips out of cross-attention keys and queries without a clip out of everything.
    False reproduces the authors' code (padding is attended to)."""
    cross_attention_window: int = 0
    """Beyond the paper. 0 (the paper): every query attends to every clip. W > 0: query k attends only
    to the clips within W of its own clip (clip k, or clip k scaled to the video when it is longer than
    the query count), so a query's output, and with it its clip score, cannot summarise the whole
    video (see docs/interpretability.md: with global attention the clip scores can collapse to the
    video's total)."""
    head: Head = "weight_score"
    """``weight_score`` (paper), ``single_score`` (the decoder, then the mean over its outputs and an MLP),
    ``mean_pool`` (no decoder: the mean of the clip features and an MLP, the conventional baseline) or
    ``additive`` (beyond the paper, docs/additive.md): every clip gets one non-negative part per additive
    sub-score of the benchmark's score sheet (RG: difficulty value and execution deduction), computed
    from the clips within ``local_window`` of it only, summed over the clips; holistic terms (RG penalty,
    Fis-V PCS) come from the decoder as video-level terms. Trains on every sub-score of the label files."""
    local_window: int = 4
    """Additive head: a clip's parts see the clips within this many of it on each side (and nothing else),
    so changing one clip's features moves only the parts of the clips within this distance."""
    local_hidden: int = 256
    """Additive head: width of the local network that turns a window of clips into parts."""
    local_competition: bool = False
    """Additive head: clips also compete with their neighbours for credit (``LocalParts.local_share``);
    measured in bench/RESULTS.md ("Explanations against the truth"). Locality then reaches 2 x window."""
    local_contrast: bool = False
    """Additive head: a clip's value comes from its contrast with its window (its embedding minus the
    mean of its valid neighbours') through a map that is 0 at zero contrast, so a clip like its
    neighbours earns nothing (``LocalParts.local_contrast``); needs ``local_window`` >= 1. Measured in
    bench/RESULTS.md ("local contrast (issue 14)")."""
    local_centre: LocalCentre = "none"
    """Additive head: what the local network reads (``LocalParts.centred``). ``none``: each clip's
    embedding. ``mean``: minus the mean embedding of its video's valid clips, so that what shifts every
    clip of a routine alike (a performer's build, the venue, the camera) drops out; ``background``:
    minus the mean of the video's background clips (weights 1 - foreground, ``local_background``;
    without it, the video's mean), so that a clip that earns never moves the centre; ``both``: the
    clip as given plus the clip centred on its background (two linear maps, summed), for sports where
    quality shows in every clip alike. Parts then also depend on the centre, which hiding one clip moves
    by 1/n of that clip's offset (measured: docs/additive.md, "Centred clips"). ``configs/rg/*_additive.yaml``
    set ``both`` (docs/additive.md, "The RG configs read each clip centred on its background")."""
    local_centre_statistic: LocalCentreStatistic = "mean"
    """Additive head with ``local_centre``: the centre is the (weighted) ``mean`` of the video's clips,
    or their weighted ``median`` per dimension, which hiding one clip moves at most to a neighbouring
    value instead of by 1/n of its offset (``longaqa.models.additive.weighted_median``; measured:
    docs/additive.md, "Centred clips"). Without a centre (``local_centre: none``) it changes nothing."""
    local_background: bool = True
    """Additive head: only clips that stand apart from the routine's *background* earn parts
    (``longaqa.models.background``): the background is the densest, most spread neighbourhood of clips
    (``background_share`` of them), the connecting movement every routine is full of, where elements are
    many distinct kinds. A clip's parts then depend on its window and on this one per-video reference:
    locality is exact given the background (tested), and hiding one clip barely moves it (a median).
    Sums over clips cannot say which clips earned; this is the prior that says it (docs/additive.md,
    measured in bench/RESULTS.md, "Explanations against the truth"). False: strict locality, parts
    from the window alone."""
    video_terms_from: VideoTermsFrom = "queries"
    """Additive head: what its video-level terms are read from. ``queries``: the mean of the decoded
    queries, which see the whole video (RG penalty, Fis-V PCS, the holistic sheet's impression);
    ``background``: the mean clip embedding of the routine's connecting movement (weights
    1 - foreground, ``local_background``), so that the clips that earn parts never move the terms
    (measured in docs/additive.md, "One total with a holistic mark": faithful, but a weaker total)."""
    impression_clip_dropout: float = 0.5
    """Additive head, ``holistic`` sheet, terms read from ``queries``: in training each clip is hidden
    from the decoder's cross-attention (not from the parts) with this probability, so that the
    impression learns not to hang on any one clip and hiding a clip moves the prediction by about its
    own contribution (docs/additive.md). 0: off. The other sheets' terms are read without it."""
    background_share: float = 0.25
    """Additive head with ``local_background``: share of a video's valid clips that form its background."""
    background_deductions: bool = True
    """Additive head with ``local_background``: the foreground also gates the parts taken off the total
    (RG execution deductions, Fis-V fall deductions), so background clips lose nothing either. False:
    only credit (difficulty, TES, contribution) needs the foreground; deductions can sit on any clip, as
    an E panel deducts for artistic faults in the connecting movement too (REFERENCE.md section 5)."""
    background_confidence: bool = False
    """Additive head with ``local_background``: trust the background only as far as it wins over the
    best rival neighbourhood (``longaqa.models.background.CONFIDENCE``); where it does not, every clip
    is foreground. Tried for routines whose connecting movement is several kinds of clip and measured
    worse (docs/additive.md, "Several kinds of connecting movement"); off."""
    background_rule: BackgroundRule = "densest"
    """Additive head with ``local_background``: how the background is found
    (``longaqa.models.background``). ``densest``: the densest, most spread neighbourhood of clips, one
    kind of connecting movement. ``recurrent``: every kind of clip that recurs over the timeline about
    as much as the most recurrent one (``recurrent_rule``), for connecting movement of several kinds;
    ``background_share`` and ``background_confidence`` then do not apply. ``adaptive``: the densest rule
    where its background wins clearly (margin from 0.3 on), the recurrent rule where it does not (up to
    0.15), blended between (``adaptive_rule``) (docs/additive.md, "Several kinds of connecting movement").
    ``learned``: each clip's foreground from a small network of that clip minus its video's mean,
    fitted in training to the densest rule on the videos where that rule wins clearly (margin ramp
    0.15-0.3; ``learned_teacher`` picks another teacher), so that kinds of connecting movement found in
    some videos are known in all, and hiding a clip moves the others' foreground only through the mean
    (``LocalParts.learned_foreground``;
    docs/additive.md, "A learned foreground")."""
    learned_teacher: LearnedTeacher = "densest"
    """Additive head, ``background_rule: learned``: the rule its network is fitted to. ``densest``: the
    densest rule, on the videos where its background wins clearly (margin ramp 0.15-0.3); ``adaptive``:
    the ``adaptive`` rule (the densest where it wins clearly, the recurrent rule where it does not) on
    every video, so that routines whose connecting movement is several kinds of clip teach too;
    ``recurrent``: the recurrent rule on every video, which calls every kind of clip that recurs all
    routine long background, so that a kind is labelled alike in every video; ``ubiquity``: a clip is
    foreground as far as few training routines hold a clip like it (``background.ubiquity_rule``):
    every routine holds the connecting movement, while each kind of element is performed in some
    routines only, so this teacher compares each clip with every training video, not only with its
    own (docs/additive.md, "Connecting movement is in every routine"); ``consensus``: the product of the
    ``adaptive`` and ``ubiquity`` foregrounds, so a clip is background where either rule calls it so."""
    learned_teacher_forcing: bool = False
    """Additive head, ``background_rule: learned``: in training the parts are multiplied by the
    teacher's foreground (the rule the network is fitted to) on the videos where the densest rule wins
    clearly (its margin ramp 0.15-0.3), by the network's where it does not, blended between; at
    inference always by the network's. False: the network's in training too, so the parts learn beside
    a foreground that starts flat (0.5 everywhere) and moves while it is fitted. Measured (docs/additive.md,
    "Options of the learned foreground"): better totals, a worse per-clip account where connecting
    movement is several kinds of clip. ``learned_teacher_forcing_until`` and
    ``learned_teacher_forcing_clips`` shape it; configs/fisv/additive.yaml sets it with ``agree`` clips
    (docs/additive.md, "The Fis-V config forces on agreeing clips")."""
    learned_teacher_forcing_until: float = 0.0
    """Additive head, ``learned_teacher_forcing``: a share of the training epochs in (0, 1] over which the
    forcing fades linearly, from full strength in the first epoch to none at that share (the network's
    foreground from there on), so that the parts start beside a sure foreground and end beside the one
    they are used with. 0: full strength throughout (no fade)."""
    learned_teacher_forcing_clips: ForcingClips = "all"
    """Additive head, ``learned_teacher_forcing``: which clips take the teacher's foreground. ``all``:
    every clip of the videos where the densest rule wins clearly. ``agree``: only the clips where the
    teacher and the network fall on the same side of 0.5, so that where the network has learned that a
    kind of clip is connecting movement and the densest rule (one kind only) says otherwise, the
    network's holds. ``foreground``: only the clips that both call foreground, raised to the teacher's
    value; every clip the network calls background keeps the network's foreground, so the parts learn
    their values beside the foreground they are used with at inference."""
    learned_foreground_dead_zone: float = 0.0
    """Additive head, ``background_rule: learned``: the network's output ``p`` becomes the foreground
    ``clamp((p - z) / (1 - 2 z), 0, 1)`` with this ``z`` in [0, 0.5): clips it is fairly sure of are
    exactly background (or foreground), so they earn nothing and a small move of the video's mean does
    not move them. 0: ``p`` itself. Measured with 0.2 (docs/additive.md, "Options of the learned
    foreground"): closer to the truth where connecting movement is one kind of clip, less faithful where
    it is several; not shipped."""
    learned_foreground_from_labels: bool = False
    """Additive head, ``background_rule: learned``: the parts' loss (the sub-scores and the total) also
    trains the foreground network, beside its fit to the teacher, so that the labels can move which
    clips earn where the teacher's rule is wrong (elements the densest kind of clip). False: the parts
    see the foreground without gradient, and only the teacher trains it (docs/additive.md, "The
    foreground learned from the labels")."""
    local_context_dropout: float = 0.5
    """Additive head, training only: probability of hiding each neighbour in a clip's window (never the
    clip itself), so that a clip's part is carried by its own features (see ``LocalParts``)."""
    head_hidden: list[int] = field(default_factory=lambda: [512, 256])
    """Hidden widths of the head MLPs (3 layers: d_model -> 512 -> 256 -> 1)."""
    fastpath: bool = True
    """Speed only, results unchanged within fp tolerance: the model and loss run the CPU fast paths of
    ``longaqa.models.fastpath`` (batch-shared query work, dropout masks from numpy, hand-written backward
    passes). Dropout draws differ from the plain path's. False: the plain model, which runs under
    ``torch.func`` transforms (``vmap`` over stacked parameters)."""
    share_batch_work: bool = True
    """Speed only, with ``fastpath``, results unchanged: learned queries enter the decoder once per
    batch, so the work that is identical for every sample (the first self-attention; with dropout off
    also its norm and the cross-attention query projection) is computed once. False: every sample
    recomputes it."""

    def __post_init__(self) -> None:
        _check_choices("model", self)
        if self.local_window < 0:
            raise LongAQAError(f"model.local_window must be >= 0, got {self.local_window}")
        if self.local_contrast and self.local_window < 1:
            raise LongAQAError("model.local_contrast needs model.local_window >= 1 (a clip's contrast is with "
                               "its neighbours)")
        if self.local_contrast and self.local_background:
            raise LongAQAError("model.local_contrast and model.local_background (on by default) are two "
                               "choices of what a clip's value is measured against: with local_contrast, "
                               "set model.local_background=false")
        if not 0.0 <= self.learned_foreground_dead_zone < 0.5:
            raise LongAQAError("model.learned_foreground_dead_zone must be in [0, 0.5), got "
                               f"{self.learned_foreground_dead_zone}")
        if not 0.0 <= self.learned_teacher_forcing_until <= 1.0:
            raise LongAQAError("model.learned_teacher_forcing_until must be in [0, 1] (0: no fade), got "
                               f"{self.learned_teacher_forcing_until}")
        if not 0.0 < self.background_share <= 1.0:
            raise LongAQAError(f"model.background_share must be in (0, 1], got {self.background_share}")
        if not 0.0 <= self.impression_clip_dropout < 1.0:
            raise LongAQAError(f"model.impression_clip_dropout must be in [0, 1), got {self.impression_clip_dropout}")
        _positive("model.local_hidden", self.local_hidden)
        if not 0.0 <= self.local_context_dropout < 1.0:
            raise LongAQAError(f"model.local_context_dropout must be in [0, 1), got {self.local_context_dropout}")
        for name in ("input_dim", "d_model", "num_queries", "num_heads", "dim_feedforward"):
            _positive(f"model.{name}", getattr(self, name))
        if self.cross_attention_window < 0:
            raise LongAQAError(f"model.cross_attention_window must be >= 0, got {self.cross_attention_window}")
        if self.num_layers < 1:
            raise LongAQAError(f"model.num_layers must be >= 1, got {self.num_layers}")
        if self.d_model % self.num_heads:
            raise LongAQAError(
                f"model.d_model ({self.d_model}) must be divisible by model.num_heads ({self.num_heads})"
            )
        if self.d_model % 2:
            raise LongAQAError(f"model.d_model must be even for the sine encoding, got {self.d_model}")
        for name in ("dropout", "attention_dropout"):
            if not 0.0 <= getattr(self, name) < 1.0:
                raise LongAQAError(f"model.{name} must be in [0, 1), got {getattr(self, name)}")
        _positive("model.query_init_spread", self.query_init_spread)
        if any(width < 1 for width in self.head_hidden):
            raise LongAQAError(f"model.head_hidden widths must be >= 1, got {_short(self.head_hidden)}")

    @property
    def query_init_std(self) -> float:
        if self.query_init_spread_is == "variance":
            return math.sqrt(self.query_init_spread)
        return self.query_init_spread


@dataclass
class LossConfig:
    lambda_reg: float = 1.0
    lambda_att: float = 1.0
    att_temperature: str = "1"
    """Divisor tau of ``softmax(A A^T / tau)``: ``1`` (the paper's eq. 1-2, which write none: the
    default), ``sqrt_d``, ``d`` (the authors' code) or a number. Measured on the synthetic routines
    (docs/interpretability.md), ``d`` makes both distributions almost uniform and the loss vanish
    (about 2e-5), so the attention loss then has no effect."""
    att_kl: AttKL = "self_cross"
    """``self_cross``: KL(L_S || L_C) as the paper's eq. 3; ``cross_self``: KL(L_C || L_S) (authors)."""
    att_reduction: AttReduction = "mean"
    """How rows (queries) and samples are reduced: ``mean`` (lambda independent of batch size and
    query count) or ``sum`` (authors). Layers are always summed, as eq. 3."""
    att_detach_target: bool = False
    """Detach the distribution that plays the target in the KL (the authors do not)."""
    prediction_noise_std: float = 0.0
    """Authors' code adds N(0, 0.05) to predictions before the MSE on RG and Fis-V (not in the paper)."""
    lambda_subscores: float = 1.0
    """Additive head: weight of each sub-score's MSE (RG difficulty, execution, penalty; Fis-V TES, PCS,
    deductions), beside ``lambda_reg`` on the total. All on the divided scale (``data.score_divisor``)."""
    subscore_weights: dict[str, float] = field(default_factory=dict)
    """Per sub-score weights that replace ``lambda_subscores`` for the names given, e.g.
    ``{penalty: 0.5}``; a name the score sheet lacks is an error."""
    lambda_hide: float = 0.0
    """Additive head: weight of the *hiding* term (beyond the paper; 0: off). In each training step one
    random clip per video is hidden (as padding) from the local network, and the term is the mean
    square of how far that moves the other clips' summed contribution (their parts through the hidden
    clip's window, the background and the centre, ``AdditiveHead.hide_leak``): 0 when hiding a clip
    moves the prediction by exactly its own contribution, which is what faithfulness measures. On the
    divided scale, as the MSE."""
    lambda_concentrate: float = 0.0
    """Additive head: weight of the *concentration* term (beyond the paper; 0: off): the mean over
    videos of how evenly the clips' credit parts (difficulty, TES) spread over the clips
    (``AdditiveHead.credit_spread``: 1 when every clip earns alike, ``1 / sqrt(n)`` when one clip of
    ``n`` earns all). Judges credit a few elements and nothing of the connecting movement; the labels
    fix only the sums, and this term, scale-free, prefers sums carried by few clips: its pull is
    strongest on small credits (docs/additive.md, "Concentrating the credit")."""
    lambda_background_fit: float = 1.0
    """Additive head, ``model.background_rule: learned``: weight of the foreground network's fit to its
    teacher (``background_fit``, a mean binary cross-entropy per clip). With
    ``model.learned_foreground_from_labels`` a small weight lets the labels, whose loss is far smaller
    on the divided scale, move the foreground away from the teacher's rule."""
    concentrate_window: int = 0
    """Additive head, with ``lambda_concentrate``: measure the spread on the credit summed over each
    clip's ``2 w + 1`` clips (this ``w``) instead of clip by clip, so that the term prefers credit on
    few stretches of clips (elements) and is indifferent to how an element's credit splits over its
    clips. 0: clip by clip."""
    lambda_aux_total: float = 0.0
    """Additive head: weight of an *auxiliary total* (beyond the paper; 0: off). A second small network
    predicts the total from the decoded queries, which see the whole video as the paper's head does; its
    MSE against the label, on the divided scale, trains it and through it the clip embeddings that the
    per-clip parts read. It is never part of the prediction or the explanation."""

    def __post_init__(self) -> None:
        _check_choices("loss", self)
        self.att_temperature = str(self.att_temperature)
        for name in ("lambda_reg", "lambda_att", "prediction_noise_std"):
            if not getattr(self, name) >= 0:
                raise LongAQAError(f"loss.{name} must be >= 0, got {getattr(self, name)}")
        if not self.lambda_hide >= 0:
            raise LongAQAError(f"loss.lambda_hide must be >= 0, got {self.lambda_hide}")
        if not self.lambda_concentrate >= 0:
            raise LongAQAError(f"loss.lambda_concentrate must be >= 0, got {self.lambda_concentrate}")
        if not self.lambda_background_fit >= 0:
            raise LongAQAError(f"loss.lambda_background_fit must be >= 0, got {self.lambda_background_fit}")
        if self.concentrate_window < 0:
            raise LongAQAError(f"loss.concentrate_window must be >= 0, got {self.concentrate_window}")
        if not self.lambda_aux_total >= 0:
            raise LongAQAError(f"loss.lambda_aux_total must be >= 0, got {self.lambda_aux_total}")
        if not self.lambda_subscores >= 0 or any(not v >= 0 for v in self.subscore_weights.values()):
            raise LongAQAError("loss.lambda_subscores and loss.subscore_weights must be >= 0")
        self.temperature_for(1024)  # validates

    def temperature_for(self, d_model: int) -> float:
        t = self.att_temperature
        if t == "d":
            return float(d_model)
        if t == "sqrt_d":
            return math.sqrt(d_model)
        try:
            value = float(t)
        except ValueError:
            raise LongAQAError(
                f"loss.att_temperature must be 'd', 'sqrt_d' or a positive number, got {_short(t)}"
            ) from None
        if not 0 < value < math.inf:
            raise LongAQAError(f"loss.att_temperature must be a positive finite number, got {_short(t)}")
        return value


@dataclass
class DataConfig:
    layout: Layout = "rg"
    """``rg``, ``fisv``, ``logo`` or ``generic`` (see docs/data.md)."""
    root: str = "."
    """Dataset folder, relative to ``--data-root`` when that is given."""
    features_dir: str = "swintx_avg_fps25_clip32"
    """Folder of ``<name>.npy`` clip features inside ``root``."""
    class_name: str = ""
    """RG: the class (name prefix) to train on: Ball, Clubs, Hoop or Ribbon. Empty: every class."""
    target: str = "total"
    """Which label column is the score: RG ``total`` | ``difficulty`` | ``execution``; Fis-V ``TES`` | ``PCS``
    | ``total`` (TES + PCS - deductions, the segment score)."""
    subscores: Subscores = "auto"
    """Which score sheet the additive head decomposes the target into (docs/additive.md): ``auto``, the
    benchmark's own (RG: D + E - penalty; Fis-V: TES + PCS - deductions; LOGO and the generic layout:
    ``holistic``), trained on every sub-score
    column; ``none``: one additive part per clip summing to the target, trained on the target alone;
    ``holistic``: as ``none`` plus one video-level ``impression`` term (a holistic mark in the total,
    as LOGO's artistic impression);
    ``rg``/``fisv``: that benchmark's sheet, for the generic layout (its CSV then needs the columns
    ``difficulty,execution,penalty`` or ``TES,PCS,deductions``); ``rg_artistic``: the RG sheet with the
    E panel's faults of the whole routine in a video-level ``artistry`` term beside the located ones.
    Only the additive head reads sub-scores; other heads train on the target as the paper."""
    score_divisor: float = 1.0
    """Scores are divided by this before training (RG 25, Fis-V 43 as the authors, LOGO 100)."""
    train_crop: TrainCrop = "random"
    """At training, videos longer than the query count are cropped: ``random`` or ``center``."""
    eval_view: EvalView = "full"
    """At evaluation: ``full`` (whole sequence with mask, as GDLT), ``center_crop`` (deterministic crop
    to the query count) or ``random_crop`` (authors' code: random crop at test time too)."""
    val_fraction: float = 0.2
    """Fraction of train carved out (seeded) as validation when ``train.selection`` is ``val``."""
    clip_frames: int = 32
    fps: float = 25.0
    """Frames per clip and frames per second of the features (for clip times in explanations)."""

    def __post_init__(self) -> None:
        _check_choices("data", self)
        _positive("data.score_divisor", self.score_divisor)
        _positive("data.clip_frames", self.clip_frames)
        _positive("data.fps", self.fps)
        if not 0.0 < self.val_fraction < 1.0:
            raise LongAQAError(f"data.val_fraction must be in (0, 1), got {self.val_fraction}")


@dataclass
class TrainConfig:
    epochs: int = 100
    batch_size: int = 48
    lr: float = 1e-4
    weight_decay: float = 1e-5
    scheduler: Scheduler = "none"
    """``none``, ``step`` (StepLR) or ``cosine`` (to zero over all steps)."""
    step_size: int = 400
    gamma: float = 0.1
    scheduler_interval: SchedulerInterval = "epoch"
    """Step the scheduler every ``epoch`` or every ``iter`` (authors: StepLR(400, 0.1) per iteration)."""
    seed: int = 0
    selection: Selection = "last"
    """Which weights are reported: ``last`` epoch, best on a seeded ``val`` split carved from train, or
    ``best-test`` (selects on the test set; for comparison with the paper only, labelled as such)."""
    eval_every: int = 1
    """Evaluate (val/test metrics and the temporal-skipping index in epochs.csv) every N epochs and
    after the last. Only ``selection`` val and best-test use these numbers to pick weights."""
    device: Device = "auto"
    """``auto`` (cuda if available), ``cpu`` or ``cuda``."""
    precision: Precision = "fp32"
    """``fp32``, ``bf16`` autocast, or ``auto``: bf16 where the hardware multiplies bf16 natively (a
    CUDA GPU with bf16 support; a CPU with AMX or AVX512-BF16), else fp32. bf16 measured no accuracy
    cost (docs/speed.md); the default stays fp32, the paper's precision, so that results and
    ``reproduce``'s cells do not depend on the machine (``auto`` does: its run.json records the choice)."""
    num_threads: int = 0
    """torch intra-op threads; 0: torch's default, capped at the cores this process may use (longaqa.threads)."""
    cpu_malloc: CpuMalloc = "reuse"
    """On a CPU: ``reuse`` keeps freed memory in the process (glibc malloc thresholds raised, see
    ``longaqa.allocator``), which spares each step tens of thousands of page faults and keeps the
    process at its peak memory until it exits; ``system`` leaves malloc as it is. Results do not change."""
    features_on_device: bool = True
    """On a GPU, move every split's clip features to it once, before the first epoch, when they take
    at most half of its free memory (else they stay in host memory, with a note): batches are then
    cropped and padded on the GPU instead of on the host and copied each step. Results do not change."""
    tensorboard: bool = True
    progress: bool = True
    checkpoint_every: int = 0
    """Write the resumable checkpoint (``checkpoint.safetensors``: model, optimizer, scheduler, RNG
    states, epoch, best metric) every N epochs; 0: only as ``checkpoint_seconds`` says. It is always
    written after the last epoch and on SIGINT/SIGTERM; ``train --resume`` continues from it."""
    checkpoint_seconds: float = 120.0
    """Also write it after an epoch when this many seconds have passed since the last one (0: off).
    A checkpoint of the paper's model holds its weights, Adam's two moments and the best weights (a few
    hundred MiB; ``bench/checkpoint_write.py`` measures size and write time), so one per epoch would
    dominate short GPU epochs; when it is written never changes the result."""

    def __post_init__(self) -> None:
        _check_choices("train", self)
        for name in ("epochs", "batch_size", "eval_every", "step_size"):
            _positive(f"train.{name}", getattr(self, name))
        _positive("train.lr", self.lr)
        _positive("train.gamma", self.gamma)
        if not self.weight_decay >= 0:
            raise LongAQAError(f"train.weight_decay must be >= 0, got {self.weight_decay}")
        if self.num_threads < 0:
            raise LongAQAError(f"train.num_threads must be >= 0 (0: torch's default), got {self.num_threads}")
        if self.checkpoint_every < 0 or self.checkpoint_seconds < 0:
            raise LongAQAError(
                f"train.checkpoint_every and train.checkpoint_seconds must be >= 0, got "
                f"{self.checkpoint_every} and {self.checkpoint_seconds}"
            )


@dataclass
class Config:
    model: ModelConfig = field(default_factory=ModelConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    data: DataConfig = field(default_factory=DataConfig)
    train: TrainConfig = field(default_factory=TrainConfig)

    def __post_init__(self) -> None:
        loss, head = self.loss, self.model.head
        attention = loss.lambda_att > 0 and head != "mean_pool"  # mean_pool has no attention to train
        subscores = head == "additive" and (
            loss.lambda_subscores > 0 or any(v > 0 for v in loss.subscore_weights.values())
        )
        if loss.lambda_hide > 0 and head != "additive":
            raise LongAQAError(f"loss.lambda_hide needs model.head=additive (its per-clip parts), got {head}")
        if loss.lambda_concentrate > 0 and head != "additive":
            raise LongAQAError(f"loss.lambda_concentrate needs model.head=additive (its per-clip parts), got {head}")
        if loss.lambda_aux_total > 0 and head != "additive":
            raise LongAQAError(f"loss.lambda_aux_total needs model.head=additive, got {head}")
        if loss.lambda_reg == 0 and not attention and not subscores:
            raise LongAQAError(
                f"loss.lambda_reg is 0 and no other loss term is on (loss.lambda_att={loss.lambda_att:g}, "
                f"model.head={head}): nothing would be trained"
            )

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


SECTIONS = {"model": ModelConfig, "loss": LossConfig, "data": DataConfig, "train": TrainConfig}


def choices(annotation: Any) -> tuple[str, ...] | None:
    """The valid values of a ``Literal[...]`` field type, or None for any other type."""
    return get_args(annotation) if get_origin(annotation) is Literal else None


def _check_choices(section: str, values: Any) -> None:
    """Every ``Literal`` field of a section's dataclass holds one of its type's values."""
    for name, annotation in get_type_hints(type(values)).items():
        allowed = choices(annotation)
        value = getattr(values, name)
        if allowed is not None and value not in allowed:
            raise LongAQAError(f"{section}.{name} must be one of {', '.join(allowed)}; got {_short(value)}")


def _positive(key: str, value: float) -> None:
    if not value > 0:
        raise LongAQAError(f"{key} must be positive, got {_short(value)}")


_REPR = reprlib.Repr()
_REPR.maxstring = _REPR.maxother = _REPR.maxlong = 80
_REPR.maxlevel = 3


def _short(value: Any) -> str:
    """``repr(value)`` cut short (long strings, big numbers, deep or long containers): a message never
    formats an unbounded value (a YAML value can be huge)."""
    try:
        return _REPR.repr(value)
    except (ValueError, RecursionError):  # e.g. an int with more digits than str() allows
        return f"<{type(value).__name__}>"


class _NoAliasLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that refuses aliases (``*name``, and with them ``<<:`` merges): a few hundred
    bytes of nested aliases ("billion laughs") would otherwise expand to gigabytes when read."""

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.composer.ComposerError(
                None, None, f"YAML aliases are not allowed in a config (*{event.anchor[:40]})", event.start_mark
            )
        return super().compose_node(parent, index)


def _load_yaml(text: str) -> Any:
    """Safe YAML (no code, no aliases)."""
    try:
        return yaml.load(text, Loader=_NoAliasLoader)
    except ValueError as exc:  # e.g. an int of more than 4300 digits
        raise yaml.YAMLError(f"a value cannot be read ({str(exc)[:80]})") from None


def valid_keys() -> list[str]:
    return [f"{s}.{f.name}" for s, cls in SECTIONS.items() for f in dataclasses.fields(cls)]


def _coerce(key: str, value: Any, annotation: Any) -> Any:
    """Convert a YAML or ``--set`` value to the field's declared type, or raise a clear error."""
    origin = get_origin(annotation)
    try:
        if annotation is bool:
            if isinstance(value, bool):
                return value
            if isinstance(value, str) and value.lower() in ("true", "false", "yes", "no", "on", "off", "1", "0"):
                return value.lower() in ("true", "yes", "on", "1")
            if isinstance(value, int) and value in (0, 1):
                return bool(value)
            raise ValueError
        if annotation is int:
            if isinstance(value, bool):
                raise ValueError
            if isinstance(value, float) and not value.is_integer():
                raise ValueError
            out = int(value)
            if abs(out) >= 2**63:  # no setting needs more; and a huge int cannot even be printed
                raise ValueError
            return out
        if annotation is float:
            if isinstance(value, bool):
                raise ValueError
            out = float(value)
            if not math.isfinite(out):
                raise ValueError
            return out
        if annotation is str or choices(annotation) is not None:
            if isinstance(value, (dict, list)) or value is None:
                raise ValueError
            return str(value)
        if origin is dict:
            if isinstance(value, str):
                try:
                    value = _load_yaml(value)
                except yaml.YAMLError:
                    raise ValueError from None
            if not isinstance(value, dict):
                raise ValueError
            key_type, item = get_args(annotation)
            return {_coerce(key, k, key_type): _coerce(key, v, item) for k, v in value.items()}
        if origin is list:
            (item,) = get_args(annotation)
            if isinstance(value, str):
                try:
                    value = _load_yaml(value)
                except yaml.YAMLError:  # e.g. control characters
                    raise ValueError from None
            if not isinstance(value, list):
                raise ValueError
            return [_coerce(key, v, item) for v in value]
    except (TypeError, ValueError, OverflowError):  # OverflowError: float(10**400)
        pass
    else:
        raise AssertionError(f"unsupported config type {annotation} for {key}")
    name = "str" if choices(annotation) is not None else getattr(annotation, "__name__", str(annotation))
    raise LongAQAError(f"config key {key}: expected {name}, got {_short(value)}")


def _apply(raw: dict[str, Any], source: str) -> Config:
    sections: dict[str, Any] = {}
    for section, values in raw.items():
        if section not in SECTIONS:
            raise LongAQAError(
                f"{source}: unknown config section {_short(section)}; valid sections: {', '.join(SECTIONS)}"
            )
        if values is None:
            values = {}
        if not isinstance(values, dict):
            raise LongAQAError(f"{source}: section {section!r} must be a mapping, got {_short(values)}")
        cls = SECTIONS[section]
        hints = get_type_hints(cls)
        kwargs = {}
        for key, value in values.items():
            if key not in hints:
                raise LongAQAError(
                    f"{source}: unknown config key {section}.{key[:80] if isinstance(key, str) else _short(key)}; "
                    f"valid keys: {', '.join(valid_keys())}"
                )
            kwargs[key] = _named(source, _coerce, f"{section}.{key}", value, hints[key])
        sections[section] = _named(source, cls, **kwargs)
    return _named(source, Config, **sections)


def _named(source: str, build, *args, **kwargs):
    """``build(*args, **kwargs)``; a LongAQAError gets the config file's name in front."""
    try:
        return build(*args, **kwargs)
    except LongAQAError as exc:
        if source == "config":  # defaults and --set only: no file to name
            raise
        raise LongAQAError(f"{source}: {exc}") from None


def load_config(
    path: str | Path | Sequence[str | Path] | None = None, overrides: list[str] | None = None
) -> Config:
    """Load a YAML config (or the defaults when ``path`` is None) and apply ``KEY=VALUE`` overrides.

    Files are read with ``yaml.safe_load`` (no code execution). A file may name a ``base:`` file (or a
    list of them, merged in order), relative to itself, whose values it overrides. ``path`` may also be
    a list of files, each overriding the ones before it (a benchmark config, then a table row).
    """
    paths = [path] if isinstance(path, (str, Path)) else list(path or [])
    raw: dict[str, Any] = {}
    for layer in paths:  # several files: each overrides the ones before it (reproduce's table rows)
        _merge(raw, _read_yaml(Path(layer)))
    source = " + ".join(str(p) for p in paths) if paths else "config"
    for item in overrides or []:
        if "=" not in item:
            raise LongAQAError(f"--set expects KEY=VALUE (e.g. train.epochs=5), got {item!r}")
        key, value = item.split("=", 1)
        key = key.strip()
        if key.count(".") != 1:
            raise LongAQAError(f"--set {key}: unknown config key; valid keys: {', '.join(valid_keys())}")
        section, name = key.split(".")
        if section not in SECTIONS or name not in get_type_hints(SECTIONS[section]):
            raise LongAQAError(f"--set {key}: unknown config key; valid keys: {', '.join(valid_keys())}")
        try:
            parsed = _load_yaml(value) if value.strip() else ""
        except yaml.YAMLError:  # not YAML (e.g. control characters): keep it as a plain string
            parsed = value
        if parsed is None:
            parsed = value
        raw.setdefault(section, {})
        if raw[section] is None:
            raw[section] = {}
        raw[section][name] = parsed
    return _apply(raw, source)


def _read_yaml(path: Path, seen: tuple[Path, ...] = ()) -> dict[str, Any]:
    if not path.is_file():
        raise LongAQAError(f"{path}: config file not found")
    try:
        data = _load_yaml(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError, OSError, RecursionError) as exc:
        raise LongAQAError(f"{path}: not valid YAML ({str(exc).splitlines()[0]})") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise LongAQAError(f"{path}: a config must be a mapping of sections, got {type(data).__name__}")
    base = data.pop("base", None)
    if base is None:
        return data
    merged: dict[str, Any] = {}
    for item in base if isinstance(base, list) else [base]:  # a list of bases merges in order
        try:
            base_path = (path.parent / str(item)).resolve()
            found = base_path.is_file()
        except (OSError, ValueError):
            found = False
        if not found or isinstance(item, (dict, list)):
            raise LongAQAError(
                f"{path}: base file {_short(item)} not found (relative to {path.parent})"
            )
        if base_path in seen:
            raise LongAQAError(f"{path}: circular 'base:' reference to {base_path}")
        _merge(merged, _read_yaml(base_path, seen + (base_path,)))
    return _merge(merged, data)


def _merge(merged: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
    """Override ``merged`` section by section with ``data`` (in place); returns ``merged``."""
    for section, values in data.items():
        if isinstance(values, dict) and isinstance(merged.get(section), dict):
            merged[section] = {**merged[section], **values}
        else:
            merged[section] = values
    return merged


def save_config(cfg: Config, path: str | Path) -> None:
    Path(path).write_text(yaml.safe_dump(cfg.to_dict(), sort_keys=False), encoding="utf-8")


def flatten_config(tree: dict, prefix: str = "") -> dict[str, object]:
    """A nested config dict as ``{dotted key: value}``, e.g. ``{"model.d_model": 1024, ...}``."""
    out: dict[str, object] = {}
    for key, value in tree.items():
        if isinstance(value, dict):
            out.update(flatten_config(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


ABSENT = "<absent>"
"""Stands for a config key one side of :func:`config_differences` does not have."""


def config_differences(saved: dict[str, Any], current: dict[str, Any], prefix: str = "") -> list[
    tuple[str, Any, Any]
]:
    """``(dotted key, saved value, current value)`` for every leaf that differs between two nested
    config dicts; a key missing on one side has the value :data:`ABSENT`."""
    out = []
    for key in sorted(set(saved) | set(current), key=str):
        a, b = saved.get(key, ABSENT), current.get(key, ABSENT)
        name = f"{prefix}{key}"
        if isinstance(a, dict) and isinstance(b, dict):
            out.extend(config_differences(a, b, name + "."))
        elif a != b:
            out.append((name, a, b))
    return out


def format_differences(differences: list[tuple[str, Any, Any]]) -> str:
    return ", ".join(f"{key}: {a!r} -> {b!r}" for key, a, b in differences)
