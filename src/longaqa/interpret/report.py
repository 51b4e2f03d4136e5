"""One self-contained HTML report (images inlined as base64 PNG, no scripts, no network).

:func:`write_report` takes explanations (data) and draws everything from them; the video pipeline
calls it for one video with clip thumbnails.
"""

from __future__ import annotations

import base64
import html
import json
import os
from pathlib import Path

import numpy as np

from longaqa.checkpoint import atomic_write
from longaqa.errors import LongAQAError, short_path
from longaqa.interpret.explanation import VideoExplanation
from longaqa.interpret.run import LEARNED_LOW_MARGIN, learns_foreground, run_config
from longaqa.interpret.variation import NEARLY_CONSTANT, video_variation
from longaqa.models.background import FRAGILE_MARGIN
from longaqa.numbers import format_number

CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"
"""Content security policy: nothing is loaded from anywhere; images are inline data."""
STYLE = """
body { font-family: sans-serif; margin: 1.5em auto; max-width: 1200px; color: #222; background: #fff; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; border-bottom: 1px solid #ccc; padding-bottom: .2em; }
table { border-collapse: collapse; margin: .5em 0; font-size: .85em; }
th, td { border: 1px solid #ccc; padding: .2em .5em; text-align: right; }
th { background: #f0f0f0; } td.name, th.name { text-align: left; }
img.plot { max-width: 100%; display: block; margin: .5em 0; }
img.thumb { height: 48px; vertical-align: middle; }
section.video { border: 1px solid #ddd; border-radius: 6px; padding: .5em 1em; margin: 1em 0; }
.cols { display: flex; gap: 2em; flex-wrap: wrap; }
nav a { margin-right: .6em; }
p.note { background: #fff4d6; border-left: 4px solid #e0a800; padding: .3em .6em; }
"""


def _img(png: bytes, alt: str, cls: str = "plot") -> str:
    data = base64.b64encode(png).decode("ascii")
    return f'<img class="{cls}" alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


def _num(value) -> str:
    if isinstance(value, float) or value is None:
        return format_number(value, ".4g")
    return html.escape(str(value))


def _table(header: list[str], rows: list[list], name_cols: int = 0) -> str:
    head = "".join(f'<th class="{"name" if i < name_cols else ""}">{html.escape(h)}</th>' for i, h in enumerate(header))
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="{"name" if i < name_cols else ""}">{c if isinstance(c, _Raw) else _num(c)}</td>'
            for i, c in enumerate(row)
        )
        + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


class _Raw(str):
    """Cell content that is already HTML."""


def _read_json(path: Path) -> dict | None:
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise LongAQAError(f"{path}: not valid JSON ({exc})") from None


def _run_info(run) -> tuple[str, dict, dict | None]:
    """Title, metrics and interpretability results of a run folder (or a bare title for anything else)."""
    if isinstance(run, (str, Path)) and Path(run).is_dir():
        run = Path(run)
        return run.name, _read_json(run / "metrics.json") or {}, _read_json(run / "interpretability.json")
    return type(run).__name__ if run is not None else "longaqa", {}, None


def _video_section(expl: VideoExplanation, thumbs: list[bytes] | None, top_k: int, learned: bool = False) -> str:
    from longaqa.interpret.plots import attention_png, curves_png

    start, end = expl.clip_times()
    order = expl.seen_clips_by(expl.clip_contribution)
    centred = expl.clip_centred_contribution
    lift_order = expl.seen_clips_by(centred)

    parts = {k: v for k, v in expl.clip_parts.items() if k != "contribution"}  # the additive head's

    def row(t: int) -> list:
        cells: list = [
            int(t),
            round(float(start[t]), 2),
            round(float(end[t]), 2),
            "" if expl.additive else float(expl.clip_weight[t]),
            "" if expl.additive else float(expl.clip_score[t]),
            float(expl.clip_contribution[t]),
            float(centred[t]),
            *(float(v[t]) for v in parts.values()),
            *([] if expl.clip_foreground is None else [float(expl.clip_foreground[t])]),
        ]
        if thumbs is not None:
            cells.append(_Raw(_img(thumbs[t], f"clip {t}", "thumb")) if t < len(thumbs) else "")
        return cells

    header = ["clip", "start_s", "end_s", "weight", "score", "contribution", "centred_contribution",
              *parts, *([] if expl.clip_foreground is None else ["foreground"])]
    header += ["frame"] if thumbs is not None else []
    k = min(top_k, len(order))
    true = "" if expl.true is None else f" &middot; true <b>{expl.true:.3f}</b>"
    score_variation = video_variation(expl)["score"]
    variation = "" if not np.isfinite(score_variation) else f" &middot; clip scores vary by {score_variation:.2%}"
    note = ""
    if expl.additive:
        return _additive_section(expl, header, row, parts, k, true, learned)
    if score_variation < NEARLY_CONSTANT:
        note = ('<p class="note">The clip scores of this video are nearly constant: they do not tell clips '
                "apart. Read the weights and contributions.</p>")
    anchor = html.escape(expl.name, quote=True)
    return f"""
<section class="video" id="video-{anchor}" data-video="{anchor}">
<h2>{html.escape(expl.name)}</h2>
<p>predicted <b>{expl.pred:.3f}</b>{true} &middot; {expl.num_clips} clips of {expl.clip_seconds:.2f} s
&middot; clips {expl.window.start}-{expl.window.stop - 1} seen
&middot; {html.escape(expl.mapping)} mapping{variation}</p>
{note}
{_img(curves_png(expl), f"{expl.name}: weight, score, contribution and lift over time")}
<div class="cols">
<div><h3>top {k} clips by contribution</h3>{_table(header, [row(t) for t in order[:k]])}</div>
<div><h3>bottom {k} clips by contribution</h3>{_table(header, [row(t) for t in order[::-1][:k]])}</div>
</div>
<div class="cols">
<div><h3>{k} clips that lift the score most</h3>{_table(header, [row(t) for t in lift_order[:k]])}</div>
<div><h3>{k} clips that lower the score most</h3>{_table(header, [row(t) for t in lift_order[::-1][:k]])}</div>
</div>
{_img(attention_png(expl), f"{expl.name}: attention maps")}
<details><summary>all clips</summary>{_table(header, [row(t) for t in range(expl.num_clips)])}</details>
</section>"""


def check_report_path(path: Path) -> None:
    """Refuse, before any work, a report path that is a folder or sits in a folder that cannot be written."""
    path = Path(path)
    try:  # is_dir() too raises for a name too long for the file system
        if path.is_dir():
            raise LongAQAError(f"--out {path}: is a folder; give the report's file name (e.g. {path / 'report.html'})")
        parent = path.parent if str(path.parent) else Path(".")
        if parent.exists() and not os.access(parent, os.W_OK):
            raise LongAQAError(f"--out {path}: the folder {parent} is not writable")
    except OSError as exc:
        raise LongAQAError(f"--out {short_path(path)}: cannot be written ({exc.strerror})") from None


MEASURED_FILE = Path(__file__).with_name("measured_agreement.json")
"""Written by ``python bench/explanation_truth.py --write-package-table``: each head's agreement with
the truth on the generators of docs/generators.md, shown in every report beside the run's own."""


IGNORED_BENCH_OPTIONS = ("model.local_hidden",)
"""Bench head overrides that only size its small model: not a difference of configuration."""


def _option(cfg, key: str):
    section, name = key.split(".", 1)
    return getattr(getattr(cfg, section), name)


def measured_head(heads: dict[str, list[str]], run_cfg) -> tuple[str | None, list[str]]:
    """The bench head (``heads``: name -> its ``KEY=VALUE`` overrides of the defaults) whose measurement
    best describes a run of config ``run_cfg``, and the options the run sets otherwise (``KEY=VALUE``,
    the run's values): the head that differs from the run in the fewest of the options that any head
    sets (ties: the one with fewer overrides). None when no head has the run's ``model.head``."""
    from longaqa.config import load_config

    configs = {name: load_config(None, [o for o in overrides if o.split("=")[0] not in IGNORED_BENCH_OPTIONS])
               for name, overrides in heads.items()}
    keys = sorted({o.split("=")[0] for overrides in heads.values() for o in overrides} - set(IGNORED_BENCH_OPTIONS))
    same_head = [n for n, c in configs.items() if c.model.head == run_cfg.model.head]
    if not same_head:
        return None, []

    def differs(name: str) -> list[str]:
        return [f"{k}={_option(run_cfg, k)}" for k in keys if _option(configs[name], k) != _option(run_cfg, k)]

    best = min(same_head, key=lambda n: (len(differs(n)), len(heads[n])))  # ties: the plainer head
    return best, differs(best)


def _measured_agreement(videos: list[VideoExplanation], run_cfg=None) -> str:
    """What this head's explanations measured on generated routines with truth (bench), or ''. With the
    run's config, the measured head that matches it (``measured_head``), and what it does not match."""
    if not MEASURED_FILE.is_file() or not videos:
        return ""
    measured = json.loads(MEASURED_FILE.read_text())
    head = "additive" if videos[0].additive else "paper"
    caveat = ""
    if run_cfg is not None and measured.get("heads"):
        head, unmeasured = measured_head(measured["heads"], run_cfg)
        if head is None:
            return (f"<h2>how far to trust these explanations</h2><p class=\"note\">model.head="
                    f"{html.escape(run_cfg.model.head)} was not measured against per-clip truth "
                    "(bench/explanation_truth.py).</p>")
        if unmeasured:
            caveat = ("<p class=\"note\">This run sets " + html.escape(", ".join(unmeasured)) + ", which no "
                      f"measured head does: below is the nearest measured one, {html.escape(head)} ("
                      + html.escape(" ".join(measured["heads"][head])) + "), not this run's configuration.</p>")
    rows = [[kind + (" (held out)" if r.get("held_out") else ""), r.get(f"{head}_rho_contribution", ""),
             r.get(f"{head}_faithfulness", ""), r.get(f"{head}_srcc_total", "")]
            for kind, r in measured["generators"].items()]
    return (f"<h2>how far to trust these explanations ({head} head)</h2><p>Measured on generated routines "
            f"with per-clip truth, mean over {measured.get('head_seeds', {}).get(head, measured['seeds'])} seeds "
            f"(<code>{html.escape(measured['command'])}"
            "</code>, bench/RESULTS.md). On your own data there is no truth: this is what the same head "
            "did where there was.</p>" + caveat
            + _table(["generator", "per-clip contribution rho", "faithfulness r", "test SRCC"], rows, name_cols=1))


def _additive_section(expl: VideoExplanation, header, row, parts: dict, k: int, true: str,
                      learned: bool = False) -> str:
    """One video of the additive head: its sheet's parts per clip, the clips that earned and lost most
    (``learned``: the run's foreground is learned, and its margin is its teacher's)."""
    from longaqa.interpret.plots import attention_png, curves_png

    def fmt(values: dict) -> str:
        return ", ".join(f"{html.escape(n)} {v:.3f}" for n, v in values.items())

    order = expl.seen_clips_by(expl.clip_contribution)
    tables = [(f"{k} clips that earned most (contribution)", order[:k]),
              (f"{k} clips that lost most (contribution)", order[::-1][:k])]
    tables += [(f"{k} clips with the most {html.escape(name)}", expl.seen_clips_by(values)[:k])
               for name, values in parts.items()]
    blocks = "".join(f"<div><h3>{title}</h3>{_table(header, [row(t) for t in clips])}</div>" for title, clips in tables)
    anchor = html.escape(expl.name, quote=True)
    sums = {name: float(values.sum()) for name, values in parts.items()}
    background = ""
    if expl.clip_foreground is not None:  # the background prior (model.local_background)
        seen = expl.clip_foreground[expl.window]
        background = (f" &middot; {int(np.sum(seen == 0))} of {len(seen)} seen clips are the routine's background "
                      "(foreground 0: connecting movement, they earn nothing)")
    if expl.background_margin is not None:
        background += f" &middot; background margin {expl.background_margin:.2f}"
        if expl.background_margin < FRAGILE_MARGIN and learned:
            background += (f'</p><p class="note">The densest rule barely won here (margin below {FRAGILE_MARGIN}): '
                           f"{html.escape(LEARNED_LOW_MARGIN)}. Check the foreground column against the video.")
        elif expl.background_margin < FRAGILE_MARGIN:
            background += (f'</p><p class="note">The background barely won (margin below {FRAGILE_MARGIN}): another '
                           "kind of clip would serve almost as well, so which clips earn is fragile. On generated "
                           "routines, videos like this had far less faithful explanations (mean per-video "
                           "faithfulness 0.23-0.62 against 0.73-0.98 above a margin of 0.3; bench/RESULTS.md). "
                           "Check the foreground column against the video.")
    return f"""
<section class="video" id="video-{anchor}" data-video="{anchor}">
<h2>{html.escape(expl.name)}</h2>
<p>predicted <b>{expl.pred:.3f}</b>{true} &middot; {expl.num_clips} clips of {expl.clip_seconds:.2f} s
&middot; additive head: per-clip parts summed ({fmt(sums)}), video-level {expl.video_level:.3f}
({fmt(expl.video_terms) or "constant only"}); predicted sub-scores: {fmt(expl.subscores) or "none"}{background}</p>
{_img(curves_png(expl), f"{expl.name}: per-clip parts and contribution over time")}
<div class="cols">{blocks}</div>
{_img(attention_png(expl), f"{expl.name}: attention maps")}
<details><summary>all clips</summary>{_table(header, [row(t) for t in range(expl.num_clips)])}</details>
</section>"""


def _interpretability_rows(interp: dict) -> list[list]:
    """The measures of an ``interpretability.json`` as (name, value) rows of the report's table."""
    rows = []
    if interp.get("truth"):
        t = interp["truth"]
        rows += [
            [f"per-clip {k} vs truth (Spearman, mean over videos)", t[f"{k}_spearman"]]
            for k in ("contribution", "weight", "score", "difficulty", "deduction", "tes")
            if f"{k}_spearman" in t
        ]
        if "score_elements_spearman" in t:
            rows.append(["per-clip score vs truth, elements only (no transitions)", t["score_elements_spearman"]])
    for key in ("deletion", "insertion"):
        if key in interp:
            part = interp[key]
            rows += [
                [f"{key} area (by contribution)", part["auc"]],
                [f"{key} area (random order)", part["auc_random"]],
            ]
        if f"{key}_centred" in interp:
            rows.append([f"{key} area (by centred contribution)", interp[f"{key}_centred"]["auc"]])
    for key, part in (interp.get("faithfulness") or {}).items():
        rows.append([f"faithfulness of {key}: r(hiding clip k, its {key}), mean over videos", part["r"]])
    if "variation" in interp:
        v = interp["variation"]
        rows += [
            ["per-clip score variation (std / mean |score|, median over videos)", v["score_median"]],
            ["per-clip weight variation (median over videos)", v["weight_median"]],
            [f"videos with nearly constant clip scores (< {v['threshold']:.0%})",
             f"{v['nearly_constant_scores']} of {v['n_videos']}"],
        ]
    if "skipping_index" in interp:
        rows.append(
            [
                "temporal-skipping index (self-attention, mean over layers)",
                interp["skipping_index"]["mean"],
            ]
        )
    return rows


def write_report(
    run_dir_or_model,
    videos: list[VideoExplanation],
    out_html: str | Path,
    thumbnails: dict[str, list[bytes]] | None = None,
    metrics: dict | None = None,
    interpretability: dict | None = None,
    title: str | None = None,
    top_k: int = 5,
) -> Path:
    """Write one self-contained HTML report and return its path.

    ``run_dir_or_model``: a run folder (its ``metrics.json`` and ``interpretability.json`` are shown
    when present) or anything else (a model, None: only the title is used). ``videos``: the
    explanations to show, one view each. ``thumbnails``: optional PNG bytes per video name, one per
    clip (shown beside the clip tables). ``metrics``/``interpretability`` override what the run
    folder holds.
    """
    from longaqa.interpret.plots import perturbation_png, scatter_png

    name, run_metrics, run_interp = _run_info(run_dir_or_model)
    cfg = run_config(run_dir_or_model)
    learned = learns_foreground(cfg)
    metrics = metrics if metrics is not None else run_metrics
    interp = interpretability if interpretability is not None else run_interp
    title = title or f"longaqa report: {name}"
    parts = [f"<h1>{html.escape(title)}</h1>"]

    if metrics:
        keys = [k for k in ("srcc", "rl2_x100", "mse", "mse_raw", "n", "split", "selection", "epoch") if k in metrics]
        parts.append("<h2>metrics</h2>" + _table(keys, [[metrics[k] for k in keys]]))
    if interp:
        rows = _interpretability_rows(interp)
        parts.append("<h2>interpretability</h2>" + _table(["measure", "value"], rows, name_cols=1))
        if "deletion" in interp and "insertion" in interp:
            parts.append(_img(perturbation_png(interp), "deletion and insertion curves"))

    parts.append(_measured_agreement(videos, cfg))
    labelled = [v for v in videos if v.true is not None]
    if len(labelled) >= 2:
        parts.append(
            "<h2>predicted vs true</h2>"
            + _img(
                scatter_png([v.pred for v in labelled], [v.true for v in labelled], title=f"{len(labelled)} videos"),
                "predicted vs true scores",
            )
        )
    if videos:
        links = " ".join(
            f'<a href="#video-{html.escape(v.name, quote=True)}">{html.escape(v.name)}</a>' for v in videos
        )
        parts.append(f"<h2>videos ({len(videos)})</h2><nav>{links}</nav>")
    for v in videos:
        parts.append(_video_section(v, (thumbnails or {}).get(v.name) if thumbnails is not None else None, top_k,
                                    learned))

    page = (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        f"<title>{html.escape(title)}</title><style>{STYLE}</style></head><body>\n"
        + "\n".join(parts)
        + "\n</body></html>\n"
    )
    out = Path(out_html)
    out.parent.mkdir(parents=True, exist_ok=True)
    check_report_path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(out, lambda tmp: tmp.write_text(page, encoding="utf-8"))  # never half a report
    return out
