"""PNG figures drawn from explanation data only (matplotlib, Agg backend; no display needed).

Every function returns the PNG as bytes and, when ``path`` is given, also writes it there.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from longaqa.interpret.explanation import VideoExplanation

WEIGHT_COLOR, SCORE_COLOR, COMBINED_COLOR = "#2ca02c", "#ff7f0e", "#1f77b4"  # the paper's Figure 1
LOWER_COLOR = "#d62728"  # clips that lower the score (centred contribution below 0)


def _figure(*args, **kwargs):
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    return Figure(*args, **kwargs)


def _save(fig, path: str | Path | None) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    data = buffer.getvalue()
    if path is not None:
        Path(path).write_bytes(data)
    return data


def _score_limits(values: np.ndarray, level: float) -> tuple[float, float]:
    """y-limits of the score panel: the values and the predicted ``level``, spanning at least 20% of the
    score's scale, so that scores that barely vary are drawn as the flat line they are."""
    v = np.asarray(values, dtype=np.float64)
    v = np.append(v[np.isfinite(v)], level)
    lo, hi = float(v.min()), float(v.max())
    scale = max(abs(level), float(np.abs(v).mean()), 1e-6)
    half = max((hi - lo) / 2 * 1.15, 0.1 * scale)
    centre = (lo + hi) / 2
    return centre - half, centre + half


def curves_figure(expl: VideoExplanation):
    """The figure of :func:`curves_png` (a matplotlib ``Figure``): four panels sharing the time axis,
    each in its own units, never rescaled:

    1. weight per clip, a fraction of the total (the clips' weights sum to 1), from 0;
    2. score per clip in score units, with the predicted score as a dashed line;
    3. weight x score (the clip's contribution) in score units, from 0 (they sum to the prediction);
    4. the centred contribution ``weight * (score - pred)`` as bars: above 0 clips that lift the score
       above the routine's level, below 0 clips that lower it.

    Clips outside the window the model saw are left blank."""
    start, end = expl.clip_times()
    mid = (start + end) / 2
    seen = np.zeros(expl.num_clips, dtype=bool)
    seen[expl.window] = True
    fig = _figure(figsize=(10, 8.4))
    weight_ax, score_ax, combined_ax, lift = fig.subplots(4, 1, sharex=True)
    weight = np.where(seen, expl.clip_weight, np.nan)
    score = np.where(seen, expl.clip_score, np.nan)
    combined = np.where(seen, expl.clip_contribution, np.nan)
    true = "" if expl.true is None else f", true {expl.true:.2f}"
    weight_ax.set_title(f"{expl.name}: predicted {expl.pred:.2f}{true} ({expl.mapping} mapping)")

    weight_ax.plot(mid, weight, color=WEIGHT_COLOR, lw=1.6, label="weight")
    weight_ax.set_ylim(0.0, max(float(np.nanmax(weight)) if np.isfinite(weight).any() else 0.0, 1e-6) * 1.15)
    weight_ax.set_ylabel("weight\n(fraction of total)", fontsize=9)

    score_ax.plot(mid, score, color=SCORE_COLOR, lw=1.6, label="score")
    score_ax.axhline(expl.pred, color="grey", lw=1.0, ls="--", label=f"predicted {expl.pred:.2f}")
    score_ax.set_ylim(*_score_limits(score, expl.pred))
    score_ax.set_ylabel("score\n(score units)", fontsize=9)

    combined_ax.plot(mid, combined, color=COMBINED_COLOR, lw=1.6,
                     label=f"weight x score (sums to {np.nansum(combined):.2f})")
    finite = combined[np.isfinite(combined)]
    lo, hi = (min(0.0, float(finite.min())), max(0.0, float(finite.max()))) if finite.size else (0.0, 1.0)
    pad = max(hi - lo, 1e-6) * 0.15
    combined_ax.set_ylim(lo - (pad if lo < 0 else 0.0), hi + pad)
    combined_ax.set_ylabel("weight x score\n(score units)", fontsize=9)

    for ax in (weight_ax, score_ax, combined_ax):
        ax.legend(loc="upper right", fontsize=8)
        ax.grid(alpha=0.3)
    weight_ax.set_xlim(0, end[-1])

    centred = expl.clip_centred_contribution
    colors = np.where(centred >= 0, WEIGHT_COLOR, LOWER_COLOR)
    lift.bar(mid[seen], centred[seen], width=expl.clip_seconds * 0.9, color=colors[seen])
    lift.axhline(0.0, color="grey", lw=0.8)
    lift.set_ylabel("lift\n(score units)", fontsize=9)
    lift.set_xlabel("time (s)")
    lift.set_title("weight x (score - predicted): above 0 lifts the score, below 0 lowers it", fontsize=9)
    lift.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def curves_png(expl: VideoExplanation, path: str | Path | None = None) -> bytes:
    """Weight, score and weighted score (contribution) per clip over time (Figures 1 and 4), each on its
    own axis in its own units (:func:`curves_figure`), and the lift of each clip below. The additive
    head: its parts per clip in score units instead."""
    if expl.additive:
        return _parts_png(expl, path)
    return _save(curves_figure(expl), path)


def _parts_png(expl: VideoExplanation, path: str | Path | None = None) -> bytes:
    """The additive head: each part per clip as bars in score units (deductions below 0), and the
    clip contributions; the video-level terms in the title. Values are not rescaled."""
    start, end = expl.clip_times()
    mid = (start + end) / 2
    fig = _figure(figsize=(10, 4.8))
    ax = fig.subplots(1, 1)
    parts = {k: v for k, v in expl.clip_parts.items() if k != "contribution"}
    width = expl.clip_seconds * 0.9
    colors = [WEIGHT_COLOR, LOWER_COLOR, SCORE_COLOR]
    for i, (name, values) in enumerate(parts.items()):
        sign = -1.0 if name == "deduction" else 1.0
        ax.bar(mid, sign * values, width=width, color=colors[i % len(colors)], alpha=0.6,
               label=f"{name} ({'-' if sign < 0 else '+'}, sum {values.sum():.2f})")
    ax.plot(mid, expl.clip_contribution, color=COMBINED_COLOR, lw=1.4,
            label=f"contribution (sum {expl.clip_contribution.sum():.2f})")
    ax.axhline(0.0, color="grey", lw=0.8)
    true = "" if expl.true is None else f", true {expl.true:.2f}"
    terms = ", ".join(f"{k} {v:.2f}" for k, v in expl.video_terms.items())
    ax.set_title(f"{expl.name}: predicted {expl.pred:.2f}{true} = clips {expl.clip_contribution.sum():.2f}"
                 f" + video-level {expl.video_level:.2f}{' (' + terms + ')' if terms else ''}", fontsize=9)
    ax.set_ylabel("score units per clip")
    ax.set_xlabel("time (s)")
    ax.set_xlim(0, end[-1])
    ax.legend(loc="upper right", fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return _save(fig, path)


def attention_png(expl: VideoExplanation, path: str | Path | None = None) -> bytes:
    """Per layer: self-attention (Q x Q), cross-attention (Q x clips), L_S and L_C (Figure 2)."""
    layers = len(expl.self_attention)
    fig = _figure(figsize=(13, 3.2 * layers))
    rows = [
        ("self-attention", expl.self_attention, "query"),
        ("cross-attention", expl.cross_attention, "clip"),
        ("L_S", expl.ls, "query"),
        ("L_C", expl.lc, "query"),
    ]
    for n in range(layers):
        for j, (title, maps, xlabel) in enumerate(rows):
            ax = fig.add_subplot(layers, len(rows), n * len(rows) + j + 1)
            m = maps[n]
            extent = None
            if xlabel == "clip":
                extent = (
                    expl.window_start - 0.5,
                    expl.window_start + m.shape[1] - 0.5,
                    m.shape[0] - 0.5,
                    -0.5,
                )
            image = ax.imshow(m, cmap="viridis", aspect="auto", interpolation="nearest", extent=extent)
            fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04, format="%.4g")
            ax.set_title(f"layer {n + 1}: {title}", fontsize=9)
            ax.set_xlabel(xlabel, fontsize=8)
            ax.set_ylabel("query", fontsize=8)
            ax.tick_params(labelsize=7)
    fig.tight_layout()
    return _save(fig, path)


def scatter_png(pred: list[float], true: list[float], path: str | Path | None = None, title: str = "") -> bytes:
    """Predicted vs true scores with the identity line."""
    pred, true = np.asarray(pred, float), np.asarray(true, float)
    fig = _figure(figsize=(4.6, 4.4))
    ax = fig.add_subplot()
    ax.scatter(true, pred, s=18, alpha=0.8, color=COMBINED_COLOR)
    if len(true):
        lo, hi = float(min(true.min(), pred.min())), float(max(true.max(), pred.max()))
        ax.plot([lo, hi], [lo, hi], color="grey", lw=1, ls="--")
    ax.set_xlabel("true score")
    ax.set_ylabel("predicted score")
    ax.set_title(title or "predicted vs true", fontsize=10)
    ax.grid(alpha=0.3)
    return _save(fig, path)


def perturbation_png(result: dict, path: str | Path | None = None) -> bytes:
    """Deletion and insertion curves (by contribution, by centred contribution where given, and random
    orders) from ``perturbation_curves`` results."""
    fig = _figure(figsize=(9, 3.2))
    for j, key in enumerate(("deletion", "insertion")):
        part = result[key]
        ax = fig.add_subplot(1, 2, j + 1)
        ax.plot(
            part["fractions"],
            part["curve"],
            color=COMBINED_COLOR,
            label=f"by contribution (area {part['auc']:.2f})",
        )
        if f"{key}_centred" in result:
            centred = result[f"{key}_centred"]
            ax.plot(
                centred["fractions"],
                centred["curve"],
                color=COMBINED_COLOR,
                ls=":",
                label=f"by centred contribution (area {centred['auc']:.2f})",
            )
        ax.plot(
            part["fractions"],
            part["curve_random"],
            color="grey",
            ls="--",
            label=f"random (area {part['auc_random']:.2f})",
        )
        ax.set_xlabel("fraction of clips " + ("hidden" if key == "deletion" else "shown"))
        ax.set_ylabel("predicted score")
        ax.set_title(key, fontsize=10)
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
    fig.tight_layout()
    return _save(fig, path)
