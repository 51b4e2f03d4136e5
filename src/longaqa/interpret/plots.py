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


def _unit(values: np.ndarray) -> np.ndarray:
    """Min-max to [0, 1] over the finite values (the paper normalises its curves this way)."""
    v = np.asarray(values, dtype=np.float64)
    ok = np.isfinite(v)
    if not ok.any():
        return v
    lo, hi = v[ok].min(), v[ok].max()
    return np.where(ok, (v - lo) / (hi - lo), np.nan) if hi > lo else np.where(ok, 0.5, np.nan)


def curves_png(expl: VideoExplanation, path: str | Path | None = None) -> bytes:
    """Weight, score and weighted-score (contribution) per clip over time, each scaled to [0, 1]
    (Figures 1 and 4); clips outside the window the model saw are left blank. Below, in score units,
    each clip's centred contribution ``weight * (score - pred)``: bars above 0 are clips that lift the
    score above the routine's level, bars below 0 clips that lower it."""
    if expl.additive:
        return _parts_png(expl, path)
    start, end = expl.clip_times()
    mid = (start + end) / 2
    seen = np.zeros(expl.num_clips, dtype=bool)
    seen[expl.window] = True
    fig = _figure(figsize=(10, 5.2))
    ax, lift = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [3, 2]})
    for values, color, label, style in (  # weight dashed and last: visible where it follows the product
        (expl.clip_score, SCORE_COLOR, "score", "-"),
        (expl.clip_contribution, COMBINED_COLOR, "weight x score", "-"),
        (expl.clip_weight, WEIGHT_COLOR, "weight", "--"),
    ):
        v = np.where(seen, values, np.nan)
        ax.plot(mid, _unit(v), color=color, label=label, lw=1.6, ls=style)
    true = "" if expl.true is None else f", true {expl.true:.2f}"
    ax.set_title(f"{expl.name}: predicted {expl.pred:.2f}{true} ({expl.mapping} mapping)")
    ax.set_ylabel("normalised value")
    ax.set_ylim(-0.05, 1.05)
    ax.set_xlim(0, end[-1])
    ax.legend(loc="upper right", ncol=3, fontsize=8)
    ax.grid(alpha=0.3)
    centred = expl.clip_centred_contribution
    colors = np.where(centred >= 0, WEIGHT_COLOR, LOWER_COLOR)
    lift.bar(mid[seen], centred[seen], width=expl.clip_seconds * 0.9, color=colors[seen])
    lift.axhline(0.0, color="grey", lw=0.8)
    lift.set_ylabel("lift (score units)", fontsize=9)
    lift.set_xlabel("time (s)")
    lift.set_title("weight x (score - predicted): above 0 lifts the score, below 0 lowers it", fontsize=9)
    lift.grid(alpha=0.3)
    fig.tight_layout()
    return _save(fig, path)


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
