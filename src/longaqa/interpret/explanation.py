"""Explanations as data: one video's prediction broken down per clip and per query, with the maps.

Letters: Q valid queries, T clips in the video, W clips the model saw (the window), L layers.

:func:`explain_video` runs a model once on one video and returns a :class:`VideoExplanation`;
:func:`write_explanation` stores it in a folder (``clips.csv``, ``queries.csv``, ``attention.npz``,
``explanation.json``) and :func:`read_explanation` reads it back, so plots and reports are drawn from
files, never from the model.

Score units: ``pred``, ``score`` and ``contribution`` are on the raw score scale (the model's output
times ``data.score_divisor``); weights sum to 1.
"""

from __future__ import annotations

import csv
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from longaqa.checkpoint import atomic_write
from longaqa.config import Config
from longaqa.data.dataset import crop_start
from longaqa.errors import LongAQAError, short_path
from longaqa.interpret.mapping import DEFAULT_MAPPING, queries_to_clips
from longaqa.interpret.variation import video_variation
from longaqa.losses import correlation_log_probs
from longaqa.numbers import format_number

CLIPS_FILE = "clips.csv"
QUERIES_FILE = "queries.csv"
ATTENTION_FILE = "attention.npz"
SUMMARY_FILE = "explanation.json"
CLIP_COLUMNS = ["clip", "start_s", "end_s", "weight", "score", "contribution", "centred_contribution"]
OPTIONAL_CLIP_COLUMNS = ("centred_contribution",)
FOREGROUND_COLUMN = "foreground"
"""clips.csv's last column with the additive head's background prior: the clip's foreground in [0, 1]."""
"""Added later (and computed from the others): files written before it lack it and still read."""
QUERY_COLUMNS = ["query", "weight", "score", "contribution", "peak_clip"]
VIEWS = ("full", "center_crop")


@dataclass
class VideoExplanation:
    """One video's explanation.

    Per clip (T,): ``clip_weight``, ``clip_score``, ``clip_contribution`` (clips outside the window the
    model saw: weight 0, score NaN, contribution 0). Per query (Q,): ``query_weight``, ``query_score``,
    ``query_contribution``, ``query_peak_clip`` (the clip, in video numbering, its last-layer
    cross-attention peaks on). Per layer: ``self_attention`` (Q, Q) and ``cross_attention`` (Q, W)
    head-averaged probabilities, ``ls`` and ``lc`` (Q, Q) the attention loss's L_S and L_C.
    ``window_start``: first clip the model saw. ``mapping``: ``index`` or ``attention``.

    The additive head (``mapping`` ``clip``: it scores clips directly) has no weights or scores (NaN):
    ``clip_parts`` holds its parts per clip by name (raw scale, e.g. ``difficulty``, ``deduction``),
    ``clip_contribution`` their signed sum, ``video_terms`` its video-level terms (e.g. ``penalty``)
    and ``video_level`` everything not in a clip (the sheet's constant plus the signed video terms), so
    that ``clip_contribution.sum() + video_level == pred``; ``subscores`` its predicted sub-scores;
    ``clip_foreground`` (with its background prior, ``model.local_background``) how far each clip stands
    apart from the routine's background, in [0, 1] (0: background, earns nothing; NaN: not seen), and
    ``background_margin`` how clearly that background won over the next best kind of clip (near 0: the
    foreground is fragile; docs/additive.md, "Several kinds of connecting movement").
    """

    name: str
    pred: float
    true: float | None
    clip_seconds: float
    window_start: int
    mapping: str
    clip_weight: np.ndarray
    clip_score: np.ndarray
    clip_contribution: np.ndarray
    query_weight: np.ndarray
    query_score: np.ndarray
    query_contribution: np.ndarray
    query_peak_clip: np.ndarray
    self_attention: list[np.ndarray] = field(default_factory=list)
    cross_attention: list[np.ndarray] = field(default_factory=list)
    ls: list[np.ndarray] = field(default_factory=list)
    lc: list[np.ndarray] = field(default_factory=list)
    clip_parts: dict[str, np.ndarray] = field(default_factory=dict)
    video_terms: dict[str, float] = field(default_factory=dict)
    video_level: float = 0.0
    subscores: dict[str, float] = field(default_factory=dict)
    clip_foreground: np.ndarray | None = None
    background_margin: float | None = None

    @property
    def additive(self) -> bool:
        return self.mapping == "clip"

    @property
    def num_clips(self) -> int:
        return len(self.clip_weight)

    @property
    def clip_centred_contribution(self) -> np.ndarray:
        """Per clip ``weight * (score - pred)``: how far the clip pulls the prediction above (> 0) or
        below (< 0) the routine's level. The prediction is a weighted *average* of clip scores (the
        weights sum to 1), so removing clip ``k`` and renormalising moves it by
        ``-weight_k (score_k - pred) / (1 - weight_k)``: this, not ``contribution``, ranks the clips by
        what hiding them does to the score (docs/interpretability.md, deletion and insertion). Sums to 0
        over the clips when the clip weights sum to 1; 0 outside the window. For the additive head,
        whose clips add their contribution to the score, it is the contribution."""
        if self.additive:
            return self.clip_contribution.copy()
        centred = self.clip_weight * (self.clip_score - self.pred)
        return np.where(np.isfinite(centred), centred, 0.0)

    def seen_clips_by(self, values: np.ndarray) -> np.ndarray:
        """The clips the model saw, ordered by ``values`` (one per clip), largest first; ties keep clip order."""
        seen = np.arange(self.num_clips)[self.window]
        return seen[np.argsort(-np.asarray(values)[seen], kind="stable")]

    @property
    def window(self) -> slice:
        """The clips the model saw, in video numbering."""
        width = self.cross_attention[-1].shape[1] if self.cross_attention else self.num_clips
        return slice(self.window_start, self.window_start + width)

    def clip_times(self) -> tuple[np.ndarray, np.ndarray]:
        """Start and end seconds of every clip: ``clip_frames / fps`` per clip, from the video's start."""
        start = np.arange(self.num_clips) * self.clip_seconds
        return start, start + self.clip_seconds


def explanation_view(cfg: Config, view: str | None) -> str:
    """The view to explain with: the run's ``data.eval_view`` unless given (``random_crop`` -> centre)."""
    chosen = view or cfg.data.eval_view
    if chosen == "random_crop":
        chosen = "center_crop"
    if chosen not in VIEWS:
        raise LongAQAError(f"view must be one of {', '.join(VIEWS)}; got {chosen!r}")
    return chosen


@torch.no_grad()
def explain_video(
    model,
    cfg: Config,
    name: str,
    features: np.ndarray | torch.Tensor,
    true: float | None = None,
    view: str | None = None,
    mapping: str = DEFAULT_MAPPING,
    device: torch.device | str = "cpu",
) -> VideoExplanation:
    """Run ``model`` (eval mode) on one video's clip features ``(T, Din)`` and explain its prediction.

    ``true`` is the raw-scale label when known. ``view``: ``full`` or ``center_crop`` (default: the
    run's ``data.eval_view``). ``mapping``: how queries become clips (see ``longaqa.interpret.mapping``).
    """
    x = torch.as_tensor(np.asarray(features, dtype=np.float32))  # (T, Din)
    if x.ndim != 2 or x.shape[0] == 0:
        raise LongAQAError(f"{name}: clip features must have shape (T, D) with T >= 1, got {tuple(x.shape)}")
    num_clips = x.shape[0]
    chosen = explanation_view(cfg, view)
    start = 0
    if chosen == "center_crop" and num_clips > model.num_queries:
        start = crop_start(num_clips, model.num_queries, "center", None)
        x = x[start : start + model.num_queries]
    width = x.shape[0]
    model.eval()
    out = model(x[None].to(device), torch.tensor([width], device=device), need_weights=True)
    q = model.num_queries if out.query_valid is None else int(out.query_valid[0].sum())
    divisor = cfg.data.score_divisor

    self_maps, cross_maps, ls, lc = _maps(out, cfg, q, width)

    def in_video(seen: np.ndarray, fill: float) -> np.ndarray:  # (W,) values of the seen clips -> (T,)
        values = np.full(num_clips, fill)
        values[start : start + width] = seen
        return values

    common = dict(
        name=name,
        pred=float(out.pred[0]) * divisor,
        true=None if true is None else float(true),
        clip_seconds=cfg.data.clip_frames / cfg.data.fps,
        window_start=start,
        query_peak_clip=cross_maps[-1].argmax(1) + start,
        self_attention=self_maps,
        cross_attention=cross_maps,
        ls=ls,
        lc=lc,
    )
    if out.clip_parts is not None:  # the additive head: parts per clip, video terms, no weights
        expl = _additive_explanation(common, out, model.head.sheet, divisor, q, width, num_clips, in_video)
        if expl.clip_foreground is not None:  # the rule sees the clip embeddings, as in the forward pass
            with torch.no_grad():
                memory = model.input_proj(x[None].to(device))
                expl.background_margin = float(model.head.local.background_margin(
                    memory, torch.ones(1, width, dtype=torch.bool, device=device))[0])
        return expl
    weights = out.weights[0, :q].float().cpu().numpy().astype(np.float64)  # (Q,)
    scores = out.scores[0, :q].float().cpu().numpy().astype(np.float64) * divisor  # (Q,)
    w_clip, s_clip, c_clip, used = queries_to_clips(weights, scores, cross_maps[-1], mapping)
    return VideoExplanation(
        **common,
        mapping=used,
        clip_weight=in_video(w_clip, 0.0),
        clip_score=in_video(s_clip, np.nan),
        clip_contribution=in_video(c_clip, 0.0),
        query_weight=weights,
        query_score=scores,
        query_contribution=weights * scores,
    )


def _additive_explanation(common: dict, out, sheet, divisor: float, q: int, width: int, num_clips: int,
                          in_video) -> VideoExplanation:
    """The additive head's explanation: its sheet's parts per clip (``in_video`` places the seen
    clips' values in the whole video), its video-level terms and sub-scores; no weights or scores."""
    parts = out.clip_parts[0, :width].float().cpu().numpy().astype(np.float64) * divisor  # (W, P)
    video = out.video_terms[0].float().cpu().numpy().astype(np.float64) * divisor  # (V,)
    nan_q = np.full(q, np.nan)
    return VideoExplanation(
        **common,
        mapping="clip",
        clip_weight=np.full(num_clips, np.nan),
        clip_score=np.full(num_clips, np.nan),
        clip_contribution=in_video(parts @ np.asarray(sheet.clip_signs), 0.0),
        query_weight=nan_q,
        query_score=nan_q.copy(),
        query_contribution=nan_q.copy(),
        clip_parts={part: in_video(parts[:, p], 0.0) for p, part in enumerate(sheet.clip_parts)},
        video_terms=dict(zip(sheet.video_terms, video.tolist())),
        video_level=sheet.constant + float(np.dot(video, np.asarray(sheet.video_signs, dtype=np.float64))),
        subscores={k: float(v[0]) * divisor for k, v in (out.subscores or {}).items()},
        clip_foreground=None if out.clip_foreground is None else in_video(
            out.clip_foreground[0, :width].float().cpu().numpy().astype(np.float64), np.nan),
    )


def _fmt(value: float) -> str:
    return format_number(value, ".6g")


def write_explanation(expl: VideoExplanation, folder: str | Path) -> Path:
    """Write ``clips.csv``, ``queries.csv``, ``attention.npz`` and ``explanation.json`` into ``folder``.

    ``attention.npz`` keys, for layer ``n`` = 1..L: ``self_attn_{n}`` (Q, Q) and ``cross_attn_{n}``
    (Q, W) head-averaged attention probabilities (rows: queries; columns: queries or the W clips the
    model saw, starting at ``window_start``); ``ls_{n}`` and ``lc_{n}`` (Q, Q) the paper's L_S and L_C,
    ``softmax(A A^T / tau)`` of the self- and cross-attention outputs; plus ``window_start`` (scalar).
    """
    folder = make_output_folder(folder)
    start_s, end_s = expl.clip_times()
    parts = {k: v for k, v in expl.clip_parts.items() if k not in CLIP_COLUMNS}  # single sheet: none

    def clips_csv(tmp: Path) -> None:
        with tmp.open("w", newline="") as fh:
            _write_clips(csv.writer(fh), expl, start_s, end_s, parts)

    def queries_csv(tmp: Path) -> None:
        with tmp.open("w", newline="") as fh:
            _write_queries(csv.writer(fh), expl)

    # every file replaced whole (temp file + rename): a full disk never leaves half an explanation
    atomic_write(folder / CLIPS_FILE, clips_csv)
    atomic_write(folder / QUERIES_FILE, queries_csv)
    arrays: dict[str, np.ndarray] = {"window_start": np.array(expl.window_start)}
    for n, (s, c, ls, lc) in enumerate(zip(expl.self_attention, expl.cross_attention, expl.ls, expl.lc), 1):
        arrays[f"self_attn_{n}"] = s.astype(np.float32)
        arrays[f"cross_attn_{n}"] = c.astype(np.float32)
        arrays[f"ls_{n}"] = ls.astype(np.float32)
        arrays[f"lc_{n}"] = lc.astype(np.float32)

    def attention_npz(tmp: Path) -> None:
        with tmp.open("wb") as fh:  # a file object: np.savez would add .npz to the temp name
            np.savez_compressed(fh, **arrays)

    atomic_write(folder / ATTENTION_FILE, attention_npz)
    summary = {
        "name": expl.name,
        "pred": expl.pred,
        "true": expl.true,
        "clip_seconds": expl.clip_seconds,
        "window_start": expl.window_start,
        "mapping": expl.mapping,
        "num_clips": expl.num_clips,
        "num_queries": len(expl.query_weight),
        "num_layers": len(expl.self_attention),
        # relative variation of the seen clips' values (longaqa.interpret.variation); null if undefined
        "variation": {k: (v if np.isfinite(v) else None) for k, v in video_variation(expl).items()},
    }
    if expl.additive:  # clips.csv's contributions + video_level = pred
        summary.update(head="additive", parts=list(expl.clip_parts), video_terms=expl.video_terms,
                       video_level=expl.video_level, subscores=expl.subscores)
        if expl.background_margin is not None:
            summary["background_margin"] = expl.background_margin
    atomic_write(folder / SUMMARY_FILE, lambda tmp: tmp.write_text(json.dumps(summary, indent=2) + "\n"))
    return folder


def make_output_folder(folder: str | Path) -> Path:
    """``folder``, created if needed; an existing file there or an unwritable parent is one clear error."""
    folder = Path(folder)
    try:  # exists() too raises for a name too long for the file system
        if folder.exists() and not folder.is_dir():
            raise LongAQAError(f"--out {short_path(folder)}: is a file, not a folder")
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise LongAQAError(f"{short_path(folder)}: could not create the folder ({exc.strerror})") from None
    if not os.access(folder, os.W_OK):
        raise LongAQAError(f"{folder}: the folder is not writable")
    return folder


def _maps(out, cfg: Config, q: int, width: int) -> tuple[list, list, list, list]:
    """Per layer, for the first video of ``out``: self- and cross-attention maps and the attention
    loss's L_S and L_C (``softmax(A A^T / tau)``), as numpy arrays over the ``q`` valid queries."""
    self_maps = [m[0, :q, :q].float().cpu().numpy() for m in out.self_attn_maps]  # L x (Q, Q)
    cross_maps = [m[0, :q, :width].float().cpu().numpy() for m in out.cross_attn_maps]  # L x (Q, W)
    temperature = cfg.loss.temperature_for(cfg.model.d_model)
    ls, lc = [], []
    for a_self, a_cross in zip(out.self_attn_outputs, out.cross_attn_outputs):
        ls.append(correlation_log_probs(a_self, temperature, out.query_valid).exp()[0, :q, :q].cpu().numpy())
        lc.append(correlation_log_probs(a_cross, temperature, out.query_valid).exp()[0, :q, :q].cpu().numpy())
    return self_maps, cross_maps, ls, lc


def _write_clips(w, expl: VideoExplanation, start_s, end_s, parts: dict) -> None:
    foreground = [] if expl.clip_foreground is None else [FOREGROUND_COLUMN]
    w.writerow(CLIP_COLUMNS + list(parts) + foreground)
    centred = expl.clip_centred_contribution
    blank = expl.additive  # no weights or scores: left empty
    for t in range(expl.num_clips):
        w.writerow([
            t, f"{start_s[t]:.3f}", f"{end_s[t]:.3f}",
            "" if blank else _fmt(expl.clip_weight[t]),
            "" if blank else _fmt(expl.clip_score[t]),
            _fmt(expl.clip_contribution[t]),
            _fmt(centred[t]),
            *(_fmt(v[t]) for v in parts.values()),
            *([] if expl.clip_foreground is None else [_fmt(expl.clip_foreground[t])]),
        ])


def _write_queries(w, expl: VideoExplanation) -> None:
    w.writerow(QUERY_COLUMNS)
    for k in range(len(expl.query_weight)):
        w.writerow([k, _fmt(expl.query_weight[k]), _fmt(expl.query_score[k]), _fmt(expl.query_contribution[k]),
                    int(expl.query_peak_clip[k])])


def _read_csv(path: Path, columns: list[str], optional: tuple[str, ...] = ()) -> dict[str, np.ndarray]:
    """The numeric ``columns`` of ``path``; trailing ``optional`` columns may be missing (older files)."""
    if not path.is_file():
        raise LongAQAError(f"{path}: not found (not an explanation folder?)")
    required = [c for c in columns if c not in optional]
    with path.open(newline="") as fh:
        reader = csv.DictReader(fh)
        fields = reader.fieldnames or []
        if fields[: len(columns)] != columns and fields != required:
            raise LongAQAError(f"{path}: expected columns {','.join(columns)}, got {reader.fieldnames}")
        rows = list(reader)
    try:  # an empty cell (the additive head's weight and score) reads as NaN
        return {c: np.array([float(r[c]) if r[c] != "" else np.nan for r in rows]) for c in fields}
    except ValueError as exc:
        raise LongAQAError(f"{path}: non-numeric value ({exc})") from None


def read_explanation(folder: str | Path) -> VideoExplanation:
    """Read back a folder written by :func:`write_explanation`."""
    folder = Path(folder)
    summary_path = folder / SUMMARY_FILE
    if not summary_path.is_file():
        raise LongAQAError(f"{folder}: not an explanation folder (no {SUMMARY_FILE})")
    try:
        summary = json.loads(summary_path.read_text())
    except json.JSONDecodeError as exc:
        raise LongAQAError(f"{summary_path}: not valid JSON ({exc})") from None
    clips = _read_csv(folder / CLIPS_FILE, CLIP_COLUMNS, OPTIONAL_CLIP_COLUMNS)
    queries = _read_csv(folder / QUERIES_FILE, QUERY_COLUMNS)
    try:
        with np.load(folder / ATTENTION_FILE, allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
    except (OSError, ValueError) as exc:
        raise LongAQAError(f"{folder / ATTENTION_FILE}: not a readable .npz ({exc})") from None
    layers = int(summary["num_layers"])
    try:
        maps = {
            key: [arrays[f"{key}_{n}"] for n in range(1, layers + 1)] for key in ("self_attn", "cross_attn", "ls", "lc")
        }
    except KeyError as exc:
        raise LongAQAError(f"{folder / ATTENTION_FILE}: missing array {exc}") from None
    return VideoExplanation(
        name=summary["name"],
        pred=float(summary["pred"]),
        true=summary["true"],
        clip_seconds=float(summary["clip_seconds"]),
        window_start=int(summary["window_start"]),
        mapping=summary["mapping"],
        clip_weight=clips["weight"],
        clip_score=clips["score"],
        clip_contribution=clips["contribution"],
        query_weight=queries["weight"],
        query_score=queries["score"],
        query_contribution=queries["contribution"],
        query_peak_clip=queries["peak_clip"].astype(int),
        self_attention=maps["self_attn"],
        cross_attention=maps["cross_attn"],
        ls=maps["ls"],
        lc=maps["lc"],
        clip_parts={p: clips[p] for p in summary.get("parts", []) if p in clips}
        | ({"contribution": clips["contribution"]} if summary.get("parts") == ["contribution"] else {}),
        video_terms={k: float(v) for k, v in summary.get("video_terms", {}).items()},
        video_level=float(summary.get("video_level", 0.0)),
        subscores={k: float(v) for k, v in summary.get("subscores", {}).items()},
        clip_foreground=clips.get(FOREGROUND_COLUMN),
        background_margin=summary.get("background_margin"),
    )
