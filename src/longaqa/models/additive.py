"""The additive head (beyond the paper): per-clip parts of the judges' score sheet, summed over the
clips, plus video-level terms (docs/additive.md).

Letters: B batch, T clips, Q queries, P parts per clip, V video-level terms, D d_model.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from longaqa.models.background import (
    CONFIDENCE,
    RULES,
    UbiquityBank,
    adaptive_rule,
    background_rule,
    foreground,
    recurrent_rule,
    ubiquity_bank,
    ubiquity_rule,
)
from longaqa.models.heads import mlp

LOG2 = math.log(2.0)


def masked_mean(x: torch.Tensor, valid: torch.Tensor | None) -> torch.Tensor:
    """Mean of ``x`` (B, N, D) over the valid positions of ``valid`` (B, N) (all when None): (B, D)."""
    if valid is None:
        return x.mean(1)
    w = valid.to(x.dtype)[..., None]  # (B, N, 1)
    return (x * w).sum(1) / w.sum(1).clamp_min(1)


CENTRE_STATISTICS = ("mean", "median")
"""How ``LocalParts.centred`` summarises a video's clips into its centre (``model.local_centre_statistic``)."""


def weighted_median(x: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """Per dimension, the weighted median of ``x`` (B, N, D) over N with ``weight`` (B, N) >= 0: (B, D).

    The value at which the sorted values' cumulative weight first reaches half the total (the lower
    weighted median); where a row's weights are all 0, its plain median over every position.
    Moving or hiding one position of small weight moves it at most to a neighbouring order statistic.
    """
    weight = torch.where(weight.sum(1, keepdim=True) > 0, weight, torch.ones_like(weight))  # (B, N)
    values, order = x.sort(dim=1)  # (B, N, D)
    cum = weight[..., None].expand_as(x).gather(1, order).cumsum(1)  # (B, N, D)
    index = (cum < cum[:, -1:] / 2).sum(1, keepdim=True).clamp_max(x.shape[1] - 1)  # (B, 1, D)
    return values.gather(1, index).squeeze(1)


def window_sums(x: torch.Tensor, window: int) -> torch.Tensor:
    """Sum of ``x`` (B, T, C) over each clip's window ``t - window .. t + window`` (zeros beyond the
    video): (B, T, C)."""
    return F.pad(x.transpose(1, 2), (window, window)).unfold(2, 2 * window + 1, 1).sum(-1).transpose(1, 2)


BANK_TEACHERS = ("ubiquity", "consensus")
"""The learned foreground's teachers that compare each clip with every training video (:meth:`LocalParts.set_bank`)."""


@dataclass(frozen=True)
class LearnedOptions:
    """How the learned foreground (``background_rule: learned``) is fitted and used; the ``model.learned_*``
    keys of the config (``longaqa.config.ModelConfig``, docs/additive.md, "Options of the learned foreground")."""

    teacher: str = "densest"
    """The rule the network is fitted to: ``densest``, ``adaptive``, ``recurrent``, ``ubiquity`` or
    ``consensus`` (the product of the ``adaptive`` and ``ubiquity`` rules). The last two need the
    training videos (:meth:`LocalParts.set_bank`)."""
    dead_zone: float = 0.0
    """The network's output ``p`` becomes ``clamp((p - z) / (1 - 2 z), 0, 1)``."""
    forcing: bool = False
    """In training, the parts learn beside the teacher's foreground where the densest rule is sure."""
    forcing_until: float = 0.0
    """With ``forcing``: the share of training over which forcing fades linearly to none (0: full
    strength throughout)."""
    forcing_clips: str = "all"
    """With ``forcing``: which clips are forced: ``all``, ``agree`` (teacher and network on the same side of
    0.5) or ``foreground`` (both above 0.5)."""
    from_labels: bool = False
    """The parts' loss reaches the network's foreground too (else the parts see it without gradient)."""


class LocalOutput(NamedTuple):
    """What :class:`LocalParts` gives per batch."""

    parts: torch.Tensor
    """(B, T, P) non-negative parts, 0 on padding."""
    foreground: torch.Tensor | None
    """(B, T) in [0, 1] with the background prior, else None."""
    background_fit: torch.Tensor | None
    """(B,) the learned foreground's fit to its rule, in training only (else None)."""


class LocalParts(nn.Module):
    """Per-clip non-negative parts computed from the clips within ``window`` of each clip only.

    ``part = value(clip) * gate(window)``: a clip's own features give its value (``own``: an MLP
    of that clip alone, softplus), and the ``2 window + 1`` clips around it (zeros beyond the video and
    for hidden clips) give a gate in (0, 1) that can only lower it (an element that a fault elsewhere
    in it voids, a deduction that needs the neighbours to be seen). Nothing else enters, so a change to
    clip ``j`` can move the parts of clips ``j - window .. j + window`` and of no other clip, exactly
    (tested). ``part_scale`` (set by :meth:`AdditiveHead.calibrate`) starts parts at typical values.

    Why not one network of the window: only sums over clips are supervised, and a sum does not change
    when every clip's value moves to its neighbour, so a window network may credit a clip with the
    value of the clip beside it. Here values come from the clip itself. In training each neighbour's
    slot is also zeroed with probability ``context_dropout`` (never the clip's own), which keeps the
    gate from leaning on any one neighbour and prepares it for hidden clips (zeros), which is how
    deletion and faithfulness tests hide a clip.

    With ``compete`` (``model.local_competition``), the gate is also multiplied by the clip's share of
    its window's salience (:meth:`local_share`): clips compete with their neighbours for credit, as the
    paper head's softmax weights make clips compete over the whole video. Locality then reaches 2 x
    ``window`` clips (a neighbour's share depends on its own window).

    With ``contrast`` (``model.local_contrast``), a clip's value comes from how it stands out from its
    window (:meth:`local_contrast`: its embedding minus the mean of its valid neighbours') through a
    map with no bias that is exactly 0 at zero contrast: a clip like its neighbours (a transition
    among transitions) earns nothing, so a credit common to every clip has no place to sit. Locality
    stays ``window`` clips.

    With ``background`` > 0 (``model.local_background``, the share), every value is multiplied by the
    clip's foreground (:meth:`foreground`, :mod:`longaqa.models.background`): 0 for the routine's
    connecting movement, the densest kind of clip spread over the whole routine, so only clips that
    stand apart from it earn. Judges credit elements, which are many distinct kinds, not that movement.
    With ``centre`` (``model.local_centre``: ``mean``, ``background`` or ``both``) the network reads
    the clips centred on their video (:meth:`centred`): what shifts every clip of a routine alike
    drops out, and every part then also depends on that one per-video centre.
    Given the background (one per video), locality is ``window`` clips. ``background_rule``
    (``model.background_rule``) picks how the background is found: ``densest`` (one kind of connecting
    movement), ``recurrent`` or ``adaptive`` (several kinds; :mod:`longaqa.models.background`).
    """

    GATE_BIAS = 3.0
    """Gates start near 1 (sigmoid(3) = 0.95): a clip starts with its own value."""

    def __init__(self, d_model: int, hidden: int, window: int, num_parts: int, dropout: float,
                 context_dropout: float = 0.5, compete: bool = False, contrast: bool = False,
                 background: float = 0.0, background_confidence: bool = False,
                 background_parts: tuple[bool, ...] | None = None, background_rule: str = "densest",
                 centre: str = "none", learned: LearnedOptions = LearnedOptions(), centre_statistic: str = "mean"):
        super().__init__()
        if centre_statistic not in CENTRE_STATISTICS:
            raise ValueError(f"centre_statistic must be one of {CENTRE_STATISTICS}, got {centre_statistic!r}")
        self.centre = centre
        self.centre_statistic = centre_statistic
        self.learned = learned
        self.bank: UbiquityBank | None = None  # teacher ubiquity: the training videos (set_bank), not saved
        self.forcing_strength = 1.0  # set per epoch by set_training_progress with learned.forcing_until
        if background_rule not in RULES:
            raise ValueError(f"background_rule must be one of {RULES}, got {background_rule!r}")
        self.background_rule = background_rule
        self.window = window
        # which parts the foreground multiplies (None: all); the others are earned or lost on any clip
        self.register_buffer("background_parts", torch.tensor(background_parts if background_parts is not None
                                                              else [True] * num_parts), persistent=False)
        self.background_confidence = CONFIDENCE if background_confidence else None
        self.context_dropout = context_dropout
        self.contrast = contrast
        self.background_share = background
        self.embed = nn.Linear(d_model, hidden)
        self.embed_raw = nn.Linear(d_model, hidden, bias=False) if centre == "both" else None
        bias = not contrast  # no bias in `own`: zero contrast gives a value of exactly 0
        self.own = nn.Sequential(nn.Linear(hidden, hidden, bias=bias), nn.ReLU(),
                                 nn.Linear(hidden, num_parts, bias=bias))
        self.mix = nn.Linear(hidden * (2 * window + 1), hidden)
        self.gate = nn.Linear(hidden, num_parts)
        nn.init.zeros_(self.gate.weight)
        nn.init.constant_(self.gate.bias, self.GATE_BIAS)
        self.dropout = nn.Dropout(dropout)
        self.register_buffer("part_scale", torch.ones(num_parts))
        self.fg_net = (nn.Sequential(nn.Linear(d_model, hidden), nn.ReLU(), nn.Linear(hidden, 1))
                       if background_rule == "learned" and background > 0 else None)
        self.salience = nn.Linear(hidden, num_parts) if compete else None
        if self.salience is not None:  # starts with every clip alike
            nn.init.zeros_(self.salience.weight)
            nn.init.zeros_(self.salience.bias)

    def forward(self, clips: torch.Tensor, valid: torch.Tensor, raw: torch.Tensor | None = None) -> LocalOutput:
        """Parts (B, T, P), each clip's foreground (B, T) with ``local_background`` (else None), and
        in training with a learned foreground its fit to the rule (B,) (else None). ``raw``: the clip
        features before the model's input projection (B, T, Din), which the ``ubiquity`` teacher reads."""
        B, T, _ = clips.shape
        w = self.window
        mask = valid.to(clips.dtype)[..., None]  # (B, T, 1)
        fit = None
        if self.fg_net is not None:  # its fit to the rule needs gradient: not through no-grad `foreground`
            foreground, fit, forced = self.learned_foreground(clips, valid, raw)
            if forced is not None:  # training with teacher forcing: the parts learn beside the teacher
                foreground = forced
        else:
            foreground = self.foreground(clips, valid) if self.background_share else None  # (B, T)
        h = self.embed(self.centred(clips, valid, foreground))
        if self.embed_raw is not None:  # "both": the clip as given beside the clip centred on its background
            h = h + self.embed_raw(clips)
        h = self.dropout(torch.relu(h) * mask)  # (B, T, H)
        windows = F.pad(h, (0, 0, w, w)).unfold(1, 2 * w + 1, 1)  # (B, T, H, 2w+1)
        in_view = F.pad(mask, (0, 0, w, w)).unfold(1, 2 * w + 1, 1)  # (B, T, 1, 2w+1), 1 on valid clips
        if self.training and self.context_dropout > 0 and w > 0:
            keep = torch.rand(B, T, 1, 2 * w + 1, device=clips.device) >= self.context_dropout
            keep[..., w] = True  # the clip itself is always seen
            windows = windows * keep.to(windows.dtype)
            in_view = in_view * keep.to(in_view.dtype)
        if self.contrast:  # (B, T, P), from the clip against its window; 0 where it is like its neighbours
            value = torch.relu(self.own(self.local_contrast(h, mask, windows, in_view)).float())
        else:  # (B, T, P), from the clip alone
            value = F.softplus(self.own(h).float()) / LOG2
        if foreground is not None:  # only clips that stand apart from the routine's background earn
            value = value * torch.where(self.background_parts, foreground[..., None], 1.0)
        gate = torch.sigmoid(self.gate(torch.relu(self.mix(windows.reshape(B, T, -1)))).float())  # (B, T, P)
        if self.salience is not None:  # clips compete with their neighbours for credit
            gate = gate * self.local_share(h, valid, mask)
        return LocalOutput(value * gate * self.part_scale * mask, foreground, fit)

    def centred(self, clips: torch.Tensor, valid: torch.Tensor, foreground: torch.Tensor | None) -> torch.Tensor:
        """The clips as the local network reads them (B, T, D): as given (``centre`` none), minus the
        mean of the video's valid clips (``mean``) or of its background clips (``background`` and
        ``both``: weights 1 - foreground, so that hiding a clip that earns leaves the centre where it is;
        the video's mean without the prior). ``both`` adds the clips as given in :meth:`forward`. With
        ``centre_statistic`` ``median`` the centre is the weighted median per dimension
        (:func:`weighted_median`) instead of the weighted mean: hiding one clip moves it far less."""
        if self.centre == "none":
            return clips
        if self.centre in ("background", "both") and foreground is not None:
            weight = (1 - foreground).to(clips.dtype) * valid
        else:
            weight = valid.to(clips.dtype)
        if self.centre_statistic == "median":
            centre = weighted_median(clips, weight)
        else:
            centre = (clips * weight[..., None]).sum(1) / weight.sum(1, keepdim=True).clamp_min(1e-6)
        return clips - centre[:, None]

    def local_share(self, h: torch.Tensor, valid: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """``exp(s_t) / mean_{j within window of t} exp(s_j)`` per part, with ``s`` a salience from each
        clip alone (B, T, P): 1 when the window's clips are alike, above 1 for a clip that stands out."""
        w = self.window
        sal = self.salience(h).float().clamp(-30.0, 30.0)  # (B, T, P); no video-wide max: locality is exact
        e = sal.exp() * mask  # (B, T, P), 0 on hidden clips
        mean = window_sums(e, w) / window_sums(mask, w).clamp_min(1)
        return e / mean.clamp_min(1e-12)

    def set_bank(self, videos: list[torch.Tensor]) -> None:
        """Teacher ``ubiquity``: keep the training videos' clip features (each (T, Din)) as the bank its
        rule compares each clip with (:func:`longaqa.models.background.ubiquity_bank`). Called before
        training (a resumed run calls it again); not saved with the weights, and not needed outside
        training."""
        self.bank = ubiquity_bank(videos)

    def learned_foreground(self, clips: torch.Tensor, valid: torch.Tensor, raw: torch.Tensor | None = None
                           ) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor | None]:
        """``learned``: each clip's foreground from its own embedding minus its video's mean (B, T), by
        a small network fitted (``background_fit``, in training) to its teacher: the densest rule on the
        videos where its background wins clearly (margin ramp ``CONFIDENCE``), or with teacher
        ``adaptive`` the adaptive rule on every video (:class:`LearnedOptions`). The parts see it
        without gradient, unless ``from_labels``: then the parts' loss trains it too. Returns the
        foreground; in training, the fit per video (B,) (else None); in training with ``forcing``, the
        foreground the parts learn beside (B, T) (:meth:`forced`, else None)."""
        opts = self.learned
        centred = (clips - masked_mean(clips, valid)[:, None]).detach()
        logit = self.fg_net(centred).squeeze(-1).float()  # (B, T)
        fg = torch.sigmoid(logit)
        if not opts.from_labels:
            fg = fg.detach()
        if opts.dead_zone > 0:  # sure clips exactly 0 or 1
            fg = ((fg - opts.dead_zone) / (1 - 2 * opts.dead_zone)).clamp(0, 1)
        fit = forced = None
        if self.training and torch.is_grad_enabled():  # the teacher is needed for the fit only
            every_video = torch.ones(len(clips), device=clips.device)  # (B,)
            if (opts.teacher == "recurrent" or opts.teacher in BANK_TEACHERS) and not opts.forcing:  # no densest rule
                densest = margin = sure = None
            else:
                densest, margin = background_rule(clips, valid, self.background_share)
                sure = ((margin - CONFIDENCE[0]) / (CONFIDENCE[1] - CONFIDENCE[0])).clamp(0, 1)  # (B,)
            if opts.teacher == "adaptive":  # every video teaches: the recurrent rule where the densest is unsure
                teacher = adaptive_rule(clips, valid, self.background_share, (densest, margin))
                trust = every_video
            elif opts.teacher == "recurrent":  # every video teaches, every recurring kind is background
                teacher, trust = recurrent_rule(clips, valid), every_video
            elif opts.teacher in BANK_TEACHERS:  # every video teaches, against every training video
                if self.bank is None or raw is None:
                    raise RuntimeError(f"learned_teacher {opts.teacher} needs the training videos "
                                       "(LocalParts.set_bank) and the raw clip features in training")
                teacher, trust = ubiquity_rule(raw, valid, self.bank), every_video
                if opts.teacher == "consensus":  # foreground only where the routine's own rule agrees
                    teacher = teacher * adaptive_rule(clips, valid, self.background_share)
            else:
                teacher, trust = densest, sure
            loss = F.binary_cross_entropy_with_logits(logit, teacher, weight=trust[:, None] * valid, reduction="none")
            fit = loss.sum(1) / valid.sum(1).clamp_min(1)  # (B,)
            if opts.forcing and self.forcing_strength > 0:
                forced = self.forced(fg, teacher, sure) * valid
        return fg * valid, fit, forced

    def forced(self, fg: torch.Tensor, teacher: torch.Tensor, sure: torch.Tensor) -> torch.Tensor:
        """Teacher forcing (B, T): the teacher's foreground where the densest rule is sure (``sure`` (B,)
        on the margin ramp), the network's ``fg`` where it is not, blended between; with
        ``forcing_clips`` ``agree`` only on the clips where the two agree (same side of 0.5), with
        ``foreground`` only where both call the clip foreground; scaled by ``forcing_strength`` (1
        throughout, or fading with ``forcing_until``)."""
        share = sure[:, None] * self.forcing_strength  # (B, 1)
        clips = self.learned.forcing_clips
        if clips == "agree":
            share = share * ((teacher > 0.5) == (fg > 0.5)).to(fg.dtype)  # (B, T)
        elif clips == "foreground":
            share = share * ((teacher > 0.5) & (fg > 0.5)).to(fg.dtype)  # (B, T)
        return share * teacher + (1 - share) * fg

    def set_training_progress(self, done: float) -> None:
        """``done`` in [0, 1): the share of training's epochs before this one. With
        ``learned.forcing_until`` > 0 the forcing strength fades linearly from 1 at the start to 0 at
        that share; with 0 it stays 1."""
        until = self.learned.forcing_until
        self.forcing_strength = 1.0 if until == 0 else max(0.0, 1.0 - done / until)

    @torch.no_grad()
    def foreground(self, clips: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
        """How far each clip stands apart from its routine's background (B, T) in [0, 1]
        (:func:`longaqa.models.background.foreground` with ``background_share``; ``learned``:
        :meth:`learned_foreground`)."""
        if self.fg_net is not None:
            return self.learned_foreground(clips, valid)[0]
        return foreground(clips, valid, self.background_share, self.background_confidence, self.background_rule)

    @torch.no_grad()
    def background_margin(self, clips: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
        """How clearly each video's background wins (B,) (:func:`longaqa.models.background.background_rule`):
        near 0 another kind of clip would do as well, and the foreground is fragile."""
        return background_rule(clips, valid, self.background_share)[1]

    def local_contrast(self, h: torch.Tensor, mask: torch.Tensor, windows: torch.Tensor,
                       in_view: torch.Tensor) -> torch.Tensor:
        """``h_t`` minus the mean of ``h`` over the clips in view within ``window`` of ``t`` (``windows``
        (B, T, H, 2w+1), ``in_view`` (B, T, 1, 2w+1): valid and, in training, not hidden by context
        dropout), ``t`` itself excluded (B, T, H); 0 for hidden clips and for a clip with no neighbour in view.

        The clip is left out of its own mean so that the contrast says how it differs from what
        surrounds it, at the same scale whether 2 or 8 neighbours are in view (edges, hidden clips).
        The neighbours hidden by context dropout leave the mean as well, so that hiding a clip (how
        faithfulness is measured) is something training has seen."""
        count = in_view.sum(-1) - mask  # (B, T, 1) neighbours in view
        mean = (windows.sum(-1) - h) / count.clamp_min(1)  # (B, T, H); hidden slots hold zeros
        return (h - mean) * (mask * (count > 0).to(h.dtype))


class AdditiveHead(nn.Module):
    """Beyond the paper: the judges' sheet, clip by clip (``longaqa.sheets``, docs/additive.md).

    Per clip, non-negative parts (RG: difficulty value, execution deduction) from :class:`LocalParts`
    over the clip features (``memory``), summed over the valid clips; per video, non-negative terms
    (RG: penalty; Fis-V: PCS) from the mean of the decoded queries, which see the whole video, or with
    ``video_from="background"`` from the mean embedding of the background clips (weights 1 - foreground;
    all clips without the background prior): a clip that earns parts then leaves the terms as they are,
    so hiding it moves the prediction by its own contribution. The
    prediction and every sub-score are the sheet's signed sums of them plus its constant (RG: E's 10).
    """

    def __init__(self, d_model: int, hidden: list[int], sheet, score_divisor: float, window: int,
                 local_hidden: int, dropout: float, context_dropout: float = 0.5, compete: bool = False,
                 contrast: bool = False, background: float = 0.0, video_from: str = "queries",
                 background_confidence: bool = False, background_deductions: bool = True,
                 background_rule: str = "densest", centre: str = "none",
                 learned: LearnedOptions = LearnedOptions(), centre_statistic: str = "mean"):
        super().__init__()
        if video_from not in ("queries", "background"):
            raise ValueError(f"video_from must be queries or background, got {video_from!r}")
        self.sheet = sheet
        self.video_from = video_from
        self.score_divisor = score_divisor
        background_parts = tuple(background_deductions or sign > 0 for sign in sheet.clip_signs)
        self.local = LocalParts(d_model, local_hidden, window, len(sheet.clip_parts), dropout, context_dropout,
                                compete, contrast, background, background_confidence, background_parts,
                                background_rule, centre, learned, centre_statistic)
        self.video_mlp = mlp(d_model, hidden, len(sheet.video_terms)) if sheet.video_terms else None
        self.hide_check = False  # set from loss.lambda_hide: training then returns hide_leak
        self.spread_check = False  # set from loss.lambda_concentrate: training then returns credit_spread
        self.spread_window = 0  # loss.concentrate_window: credit_spread reads sums over 2 w + 1 clips
        self.aux_mlp: nn.Module | None = None  # enable_aux_total (loss.lambda_aux_total)
        self.register_buffer("video_scale", torch.ones(len(sheet.video_terms)))
        self.register_buffer("clip_signs", torch.tensor(sheet.clip_signs), persistent=False)
        self.register_buffer("video_signs", torch.tensor(sheet.video_signs), persistent=False)

    def forward(self, queries, query_mask, memory=None, clip_valid=None, raw_clips=None) -> dict:
        B, T, _ = memory.shape
        valid = clip_valid if clip_valid is not None else memory.new_ones(B, T, dtype=torch.bool)
        # (B, T, P), (B, T) or None, (B,) or None
        parts, foreground, background_fit = self.local(memory, valid, raw_clips)
        sums = parts.sum(1)  # (B, P)
        if self.video_mlp is not None:
            if self.video_from == "background":  # the connecting movement's clips: 1 - foreground
                share = valid.to(memory.dtype) if foreground is None else (1 - foreground).to(memory.dtype) * valid
                pooled = (memory * share[..., None]).sum(1) / share.sum(1, keepdim=True).clamp_min(1e-6)  # (B, D)
            else:
                pooled = masked_mean(queries, query_mask)  # (B, D)
            video = F.softplus(self.video_mlp(pooled).float()) / LOG2 * self.video_scale  # (B, V)
        else:
            video = parts.new_zeros(B, 0)
        values = {**dict(zip(self.sheet.clip_parts, sums.unbind(-1))),
                  **dict(zip(self.sheet.video_terms, video.unbind(-1)))}

        def combine(constant: float, sources) -> torch.Tensor:
            out = parts.new_full((B,), constant / self.score_divisor)
            for name, sign in sources:
                out = out + sign * values[name]
            return out

        leak = self.hide_leak(memory, valid) if self.training and self.hide_check else None
        spread = self.credit_spread(parts, valid) if self.training and self.spread_check else None
        aux = None
        if self.training and self.aux_mlp is not None:  # the whole video's total, for training only
            aux = self.aux_mlp(masked_mean(queries, query_mask)).squeeze(-1).float()
        return {
            "hide_leak": leak,
            "credit_spread": spread,
            "aux_total": aux,
            "background_fit": background_fit,
            "pred": combine(*self.sheet.total),
            "clip_parts": parts,
            "clip_contributions": parts @ self.clip_signs,  # (B, T)
            "clip_foreground": foreground,
            "video_terms": video,
            "subscores": {name: combine(*spec) for name, spec in self.sheet.subscores.items()},
        }

    def set_training_videos(self, samples) -> None:
        """Before training: with the learned foreground's ``ubiquity`` teacher, its bank of training
        videos (:meth:`LocalParts.set_bank`); else nothing."""
        if self.local.fg_net is not None and self.local.learned.teacher in BANK_TEACHERS:
            self.local.set_bank([s.features for s in samples])

    def enable_aux_total(self, hidden: list[int]) -> None:
        """Add the auxiliary total (``loss.lambda_aux_total``): an MLP of the mean decoded query, which in
        training predicts the total as the paper's head would, so that its error shapes the clip
        embeddings the parts read. It is not used outside training."""
        d_model = self.local.embed.in_features
        self.aux_mlp = mlp(d_model, hidden, 1)

    SPREAD_EPS = 1e-6
    """Added under the square root of :meth:`credit_spread` (divided scale), so that its gradient at a
    part of 0 stays finite (``1 / sqrt(eps)``)."""

    def credit_spread(self, parts: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
        """(B,): how evenly each video's credit parts (sign > 0 on the sheet: difficulty, TES) spread over
        its valid clips, ``sum_t sqrt(p_t) / sqrt(n sum_t p_t)``, averaged over the credit parts: 1 when
        every clip earns alike, ``1 / sqrt(n)`` when one clip earns all (``loss.lambda_concentrate``).
        Scale-free: it does not change the sums the labels fix, only how they spread, and its pull is
        strongest on the smallest credits (connecting movement that earns a little).

        With ``spread_window`` w > 0 (``loss.concentrate_window``) ``sqrt(p_t)`` becomes
        ``p_t / sqrt(S_t)``, ``S_t`` the credit of clips ``t - w .. t + w``, times ``sqrt(2 w + 1)`` (so
        that credit alike everywhere still reads 1): a stretch of credit within every one of its clips'
        windows then counts as the square root of its sum, however it splits over its clips, so the
        term prefers credit on few stretches (elements), not on few clips."""
        credit = self.clip_signs > 0  # (P,)
        if not bool(credit.any()):
            return parts.new_zeros(len(parts))
        p = parts[..., credit].float() * valid[..., None]  # (B, T, C), 0 on padding
        w = self.spread_window
        around = window_sums(p, w) if w > 0 else p  # (B, T, C)
        n = valid.sum(1, keepdim=True).clamp_min(1).to(p.dtype)  # (B, 1)
        roots = p / (around + self.SPREAD_EPS).sqrt() * math.sqrt(2 * w + 1)  # sqrt(p) with w = 0
        spread = roots.sum(1) / (n * p.sum(1) + self.SPREAD_EPS).sqrt()  # (B, C)
        return spread.mean(1)

    def hide_leak(self, memory: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
        """(B,): hide one random valid clip ``k`` per video and return how far that moves the summed
        contribution of the *other* clips (``loss.lambda_hide``). Both passes run without dropout, so
        they differ by the hidden clip alone; 0 when hiding ``k`` moves the clips' sum by exactly ``k``'s
        own contribution."""
        rows = torch.arange(len(valid), device=valid.device)
        k = torch.rand(valid.shape, device=valid.device).masked_fill(~valid, -1.0).argmax(1)  # (B,)
        hidden = valid.clone()
        hidden[rows, k] = False
        was_training = self.local.training
        self.local.eval()
        try:
            full = self.local(memory, valid).parts @ self.clip_signs  # (B, T)
            without = self.local(memory, hidden).parts @ self.clip_signs
        finally:
            self.local.train(was_training)
        return full.sum(1) - full[rows, k] - without.sum(1)

    @torch.no_grad()
    def calibrate(self, samples) -> dict[str, float]:
        """Start every part and term near its typical value on ``samples`` (training videos, divided
        scores). A part or term that is the only source of a sub-score (or of the total) gets that
        sub-score's mean minus its constant, per clip for a part; the total's other sources share what
        is left of its mean equally (the holistic sheet: half to the clips, half to the impression),
        or by the sheet's ``start_shares`` (``rg_artistic``: a tenth to the artistry term); returns the
        scales set, by name."""
        n = len(samples)
        mean_clips = sum(s.features.shape[0] for s in samples) / n
        means = [(self.sheet.total, sum(s.score for s in samples) / n)]
        if all(s.subscores for s in samples):
            means += [(spec, sum(s.subscores[k] for s in samples) / n) for k, spec in self.sheet.subscores.items()]
        floor = 1e-3 * max(abs(means[0][1]), 1e-6)  # a part no sub-score defines alone starts small
        values = {}
        for name in (*self.sheet.clip_parts, *self.sheet.video_terms):
            values[name] = next((sign * (mean - constant / self.score_divisor)
                                 for (constant, sources), mean in means
                                 for source, sign in sources if len(sources) == 1 and source == name), None)
        # sources of the total that nothing defines alone (holistic sheet: contribution and impression)
        # share what the defined ones leave of its mean equally
        (constant, sources), total_mean = means[0]
        undefined = [(name, sign) for name, sign in sources if values[name] is None]
        rest = total_mean - constant / self.score_divisor - sum(sign * values[n] for n, sign in sources
                                                                if values[n] is not None)
        shares = dict(self.sheet.start_shares)
        named = sum(shares.get(name, 0.0) for name, _ in undefined)
        others = sum(name not in shares for name, _ in undefined)
        for name, sign in undefined:
            share = shares[name] if name in shares else (1.0 - named) / others
            values[name] = sign * rest * share
        scales = {}
        for name, value in values.items():
            per_clip = name in self.sheet.clip_parts
            scales[name] = max(value or 0.0, floor) / (mean_clips if per_clip else 1.0)
        self.local.part_scale.copy_(torch.tensor([scales[p] for p in self.sheet.clip_parts]))
        self.video_scale.copy_(torch.tensor([scales[v] for v in self.sheet.video_terms]))
        return scales
