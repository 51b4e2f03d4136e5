"""The additive head's background prior (docs/additive.md, "The background prior"): which clips of a
routine are its connecting movement, found from the clip features alone, without gradient.

Letters: B batch, T clips, D features, K neighbours.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
import torch.nn.functional as F

MARGIN = (0.5, 0.8)
"""Foreground ramp, in units of the video's root-mean-square distance between clips: a clip up to 0.5
of it from the background's centre is background (0), from 0.8 on it is foreground (1), linear between."""

TIMELINE_BINS = 8
"""The routine's timeline, cut in this many equal stretches, for the background's coverage of it."""

FRAGILE_MARGIN = 0.15
"""Below this background margin (:func:`background_rule`) a video's per-clip account is flagged as
fragile: on generated routines such videos' explanations were far less faithful (bench/RESULTS.md,
"Per-video trust: the background margin")."""

RECURRENCE = (0.5, 0.8)
"""``model.background_rule: recurrent``: foreground ramp on a clip's recurrence relative to the video's
most recurrent clip (:func:`recurrent_rule`): from 0.8 of it on a clip is background (0), up to 0.5 of it
foreground (1), linear between."""

RECURRENCE_BANDWIDTH = 0.25
"""``recurrent``: two clips are alike by ``exp(-|x_i - x_j|^2 / (0.25 s))``, ``s`` the video's mean
squared distance between clips (the densest rule's density kernel)."""

CONFIDENCE = (0.15, 0.3)
"""``model.background_confidence`` (off by default; tried and measured worse, docs/additive.md): the
prior's confidence ramp on the background's *margin* (1 - the best score among the clips it leaves in
the foreground / the background's own score): up to 0.15 every clip is foreground, from 0.3 on the
foreground is the rule's, linear between."""


RULES = ("densest", "recurrent", "adaptive", "learned")
"""``model.background_rule``: :func:`background_rule` (one kind of connecting movement, the default),
:func:`recurrent_rule` (several kinds) or :func:`adaptive_rule` (the first where its background wins
clearly, the second where it does not)."""

ADAPTIVE = (0.15, 0.3)
"""``model.background_rule: adaptive``: up to a densest-rule margin of 0.15 the foreground is the
recurrent rule's, from 0.3 on the densest rule's, a linear blend between (the margin bins of
``FRAGILE_MARGIN`` and bench/RESULTS.md, "Per-video trust")."""


@torch.no_grad()
def foreground(clips: torch.Tensor, valid: torch.Tensor, share: float = 0.25,
               confidence: tuple[float, float] | None = None, rule: str = "densest") -> torch.Tensor:
    """How far each clip stands apart from its routine's background (B, T) in [0, 1], 0 on invalid clips.

    The background is found from the clip features, without gradient (what is background is not
    learned), by a scale-free rule. With ``s`` the video's mean squared distance between valid clips,
    each clip's *neighbourhood* is itself and its nearest clips, ``share`` of the valid ones. The
    background is the neighbourhood of the clip with the highest density (``sum_j
    exp(-|x_t - x_j|^2 / (s / 4))``) times its neighbourhood's coverage of the timeline (the share of
    ``TIMELINE_BINS`` stretches it has a clip in): connecting movement is the densest kind of
    clip *and* recurs all routine long, where one long element (a step sequence) is dense in one
    stretch only. ``b`` is the background's median (per feature: hiding one clip barely moves it);
    a clip's foreground is ``clamp((|x_t - b| / sqrt(s) - 0.5) / 0.3, 0, 1)`` (``MARGIN``).

    With a ``confidence`` ramp (``CONFIDENCE``), the foreground is trusted only as far as the
    background wins (:func:`background_rule`'s margin, ramped to ``c``): ``1 - c (1 - f)``.

    ``rule="recurrent"`` uses :func:`recurrent_rule` instead (``share`` and ``confidence`` unused),
    ``rule="adaptive"`` :func:`adaptive_rule` (``confidence`` unused)."""
    if rule == "recurrent":
        return recurrent_rule(clips, valid) * valid
    if rule == "adaptive":
        return adaptive_rule(clips, valid, share)
    fg, margin = background_rule(clips, valid, share)
    if confidence is not None:
        sure = ((margin - confidence[0]) / (confidence[1] - confidence[0])).clamp(0, 1)  # (B,)
        fg = 1 - sure[:, None] * (1 - fg)
    return fg * valid


@torch.no_grad()
def background_rule(clips: torch.Tensor, valid: torch.Tensor, share: float = 0.25
                    ) -> tuple[torch.Tensor, torch.Tensor]:
    """The rule of :func:`foreground`: each clip's foreground (B, T) and the background's **margin**
    (B,), ``1 - rival / best``: ``best`` the background's score (density x timeline coverage), ``rival``
    the best score among the clips it leaves in the foreground (foreground >= 0.5). Near 0, another
    kind of clip would make as good a background, and hiding one clip can hand it the background;
    near 1, the background is clear."""
    x = clips.detach().float()
    pair, d2, count, scale = _distances(x, valid)
    density = (torch.exp(-d2 / (0.25 * scale.clamp_min(1e-12))[:, None, None]) * pair).sum(2)  # (B, T)
    size = torch.ceil(share * count).long()  # (B,) clips in a neighbourhood
    order = d2.masked_fill(~pair, float("inf")).argsort(2)  # (B, T, T) clip indices, nearest first
    in_hood = torch.arange(order.shape[2], device=x.device) < size[:, None, None]  # (B, 1, T)
    score = density * timeline_coverage(order, in_hood, valid)
    seed = score.masked_fill(~valid, -1.0).argmax(1)  # (B,)
    hood = order[torch.arange(len(x), device=x.device), seed]  # (B, T)
    background = torch.zeros_like(valid).scatter(1, hood, in_hood[:, 0]) & valid  # (B, T)
    centre = torch.where(background[..., None], x, torch.nan).nanmedian(1).values  # (B, D)
    distance = (x - centre[:, None]).norm(dim=-1) / scale.clamp_min(1e-12).sqrt()[:, None]  # (B, T)
    low, high = MARGIN
    fg = ((distance - low) / (high - low)).clamp(0, 1) * valid  # (B, T)
    best = score.gather(1, seed[:, None])[:, 0]  # (B,)
    rival = score.masked_fill(~valid | (fg < 0.5), 0.0).max(1).values  # (B,)
    return fg, 1 - rival / best.clamp_min(1e-12)


@torch.no_grad()
def adaptive_rule(clips: torch.Tensor, valid: torch.Tensor, share: float = 0.25,
                  densest: tuple[torch.Tensor, torch.Tensor] | None = None) -> torch.Tensor:
    """``model.background_rule: adaptive``: foreground (B, T) by the densest rule where its background
    wins clearly (:func:`background_rule`'s margin from ``ADAPTIVE[1]`` on), by the recurrent rule where
    it does not (up to ``ADAPTIVE[0]``), blended linearly between. Where two kinds of clip tie for the
    densest, hiding one clip can hand the background from one to the other and flip every clip of both;
    the recurrent rule has no single winner to hand over. The blend moves with the margin, so a hidden
    clip that moves the margin a little moves the foreground a little. ``densest``: :func:`background_rule`'s
    output for these clips, when the caller has it already."""
    densest, margin = densest if densest is not None else background_rule(clips, valid, share)
    sure = ((margin - ADAPTIVE[0]) / (ADAPTIVE[1] - ADAPTIVE[0])).clamp(0, 1)[:, None]  # (B, 1)
    return (sure * densest + (1 - sure) * recurrent_rule(clips, valid)) * valid


UBIQUITY_DIMS = 64
"""``learned_teacher: ubiquity``: the training clips are compared in a fixed random projection to this
many dimensions, so that comparing a batch with every training clip stays cheap (a random projection
keeps distances close, which is all the rule uses)."""


class UbiquityBank(NamedTuple):
    """The training videos' clips for :func:`ubiquity_rule` (N clips of V videos, k projected dimensions)."""

    projection: torch.Tensor
    """(D, k) the fixed random projection of a clip's features (each minus its video's mean)."""
    clips: torch.Tensor
    """(N, k) every training clip, projected."""
    video: torch.Tensor
    """(N,) long: each clip's video, 0 .. V - 1."""
    threshold: torch.Tensor
    """() squared distance under which a video holds a clip *like* a given one: the median, over every
    training clip and every other training video, of the squared distance to that video's nearest clip."""
    videos: int
    """V."""

    def to(self, device: torch.device) -> UbiquityBank:
        return UbiquityBank(self.projection.to(device), self.clips.to(device), self.video.to(device),
                            self.threshold.to(device), self.videos)


def _nearest_per_video(x: torch.Tensor, bank: UbiquityBank) -> torch.Tensor:
    """(M, V): the squared distance from each of the M projected clips ``x`` (M, k) to each bank video's
    nearest clip."""
    d2 = torch.cdist(x, bank.clips).square()  # (M, N)
    out = d2.new_full((len(x), bank.videos), float("inf"))
    return out.scatter_reduce(1, bank.video[None].expand_as(d2), d2, reduce="amin")


def ubiquity_bank(videos: list[torch.Tensor], dims: int = UBIQUITY_DIMS, seed: int = 0,
                  chunk: int = 1024) -> UbiquityBank:
    """The bank of :func:`ubiquity_rule` from the training videos' clip features (each (T, D))."""
    gen = torch.Generator().manual_seed(seed)
    dim = videos[0].shape[1]
    projection = torch.randn(dim, dims, generator=gen) / dims ** 0.5
    clips = torch.cat([(v.float() - v.float().mean(0)) @ projection for v in videos])  # (N, k)
    video = torch.cat([torch.full((len(v),), i, dtype=torch.long) for i, v in enumerate(videos)])
    bank = UbiquityBank(projection, clips, video, torch.tensor(0.0), len(videos))
    nearest = torch.cat([_nearest_per_video(clips[i:i + chunk], bank) for i in range(0, len(clips), chunk)])
    own = F.one_hot(video, len(videos)).bool()  # a clip's own video holds the clip itself
    return bank._replace(threshold=nearest[~own].median())


@torch.no_grad()
def ubiquity_rule(clips: torch.Tensor, valid: torch.Tensor, bank: UbiquityBank) -> torch.Tensor:
    """``learned_teacher: ubiquity``: foreground (B, T) in [0, 1] by how few training routines hold a
    clip like this one: ``1 - u``, ``u`` the share of the bank's videos (:func:`ubiquity_bank`) whose
    nearest clip lies within the bank's threshold (each clip minus its video's mean, projected).

    Every routine of a sport holds its connecting movement (run-ups, walks, steps); elements are chosen
    from a long code, and each kind is performed in some routines only. So connecting movement is
    ubiquitous across the training videos even where, within one routine, it is not the densest kind
    of clip (power tumbling's elements come back to back). A training clip's own video is in the bank,
    which adds ``1 / V`` to every such clip's ``u``."""
    if bank.clips.device != clips.device:
        bank = bank.to(clips.device)
    x = clips.detach().float()
    mask = valid.to(x.dtype)[..., None]  # (B, T, 1)
    mean = (x * mask).sum(1, keepdim=True) / mask.sum(1, keepdim=True).clamp_min(1)
    z = ((x - mean) @ bank.projection).reshape(-1, bank.projection.shape[1])  # (B T, k)
    near = (_nearest_per_video(z, bank) < bank.threshold).to(x.dtype).mean(1)  # (B T,)
    return (1 - near.reshape(valid.shape)) * valid


@torch.no_grad()
def recurrent_rule(clips: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    """Foreground (B, T) in [0, 1] by **recurrence**, for connecting movement of several kinds.

    Connecting movement recurs all routine long, kind by kind; an element is performed once (FIG: a
    repeated difficulty is not valued; ISU: repeated jumps are limited), in one stretch of a few clips.
    A clip's *recurrence* is the share of the timeline's ``TIMELINE_BINS`` stretches holding a clip
    like it, not counting the clips within a tenth of the timeline of it (its own element or stretch): per
    stretch, the soft OR ``1 - prod_j (1 - k_tj)`` of the likenesses ``k_tj = exp(-|x_t - x_j|^2 /
    (RECURRENCE_BANDWIDTH s))``. Relative to the video's most recurrent clip, from ``RECURRENCE[1]``
    on a clip is background (0), up to ``RECURRENCE[0]`` foreground (1). Every kind that recurs about
    as much as the most recurrent one is background, so no one kind must be the densest, and hiding a
    clip moves only the recurrence of clips like it. A repeated element type recurs too, and is
    background if it recurs as much as the connecting movement."""
    x = clips.detach().float()
    T = valid.shape[1]
    pair, d2, _, scale = _distances(x, valid)
    like = torch.exp(-d2 / (RECURRENCE_BANDWIDTH * scale.clamp_min(1e-12))[:, None, None]) * pair  # (B, T, T)
    index = torch.arange(T, device=x.device)
    stretch, span = timeline_stretch(valid)  # (B, T), (B,)
    apart = (index[:, None] - index[None]).abs()[None] > torch.ceil(span / 10)[:, None, None]  # (B, T, T)
    like = like * apart
    in_stretch = F.one_hot(stretch, TIMELINE_BINS).to(x.dtype) * valid[..., None]  # (B, T, bins)
    missed = torch.einsum("btj,bjk->btk", torch.log1p(-like.clamp(max=1 - 1e-6)), in_stretch)  # (B, T, bins)
    recurrence = (1 - missed.exp()).mean(-1)  # (B, T)
    top = recurrence.masked_fill(~valid, 0.0).amax(1, keepdim=True).clamp_min(1e-12)  # (B, 1)
    low, high = RECURRENCE
    return ((high - recurrence / top) / (high - low)).clamp(0, 1) * valid


def timeline_stretch(valid: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Each clip's stretch of the timeline (B, T), ``0 .. TIMELINE_BINS - 1``, and the timeline's length
    in clips (B,); the timeline runs from the first to the last valid clip (clips outside it: the nearest
    end stretch), so hiding a clip inside it moves neither."""
    first, span = _timeline(valid)
    index = torch.arange(valid.shape[1], device=valid.device)
    return (((index[None] - first[:, None]) * TIMELINE_BINS) // span[:, None]).clamp(0, TIMELINE_BINS - 1), span


def timeline_coverage(order: torch.Tensor, in_hood: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    """Per clip, the share of the timeline's stretches that its neighbourhood (clip indices ``order``
    (B, T, K), nearest first; those where ``in_hood`` (B, 1, K)) has a clip in (B, T). The timeline
    runs from the first to the last valid clip, so a hidden clip inside it does not move the stretches."""
    bins = TIMELINE_BINS
    first, span = _timeline(valid)
    stretch = ((order - first[:, None, None]) * bins) // span[:, None, None]  # (B, T, K)
    stretch = torch.where(in_hood, stretch.clamp(0, bins - 1), bins)  # outside the neighbourhood: bin `bins`
    hit = torch.zeros(*order.shape[:2], bins + 1, device=order.device).scatter(2, stretch, 1.0)  # (B, T, bins+1)
    return hit[..., :bins].sum(-1) / bins


def _timeline(valid: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The first valid clip (B,) and the clips from it to the last valid one (B,), at least 1."""
    index = torch.arange(valid.shape[1], device=valid.device)
    first = torch.where(valid, index, valid.shape[1]).min(1).values  # (B,)
    return first, (torch.where(valid, index, -1).max(1).values - first + 1).clamp_min(1)


def _distances(x: torch.Tensor, valid: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """Valid pairs (B, T, T), squared distances between clips (B, T, T; 0 off the valid pairs), valid
    clips per video (B,, at least 1) and the mean squared distance between valid clips (B,)."""
    pair = valid[:, :, None] & valid[:, None, :]  # (B, T, T)
    d2 = torch.cdist(x, x).square() * pair  # (B, T, T)
    count = valid.sum(1).clamp_min(1)  # (B,)
    return pair, d2, count, d2.sum((1, 2)) / (count * (count - 1)).clamp_min(1)
