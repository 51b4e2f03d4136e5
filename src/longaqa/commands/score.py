"""``longaqa score VIDEO --run RUN_DIR --weights FILE [--out DIR]``: one video to an explained score.

Extracts the video's clip features with the backbone (as ``longaqa extract``), predicts with the
run's selected weights, explains the prediction per clip (``longaqa.interpret``) and writes, in
``DIR`` (default ``score_<video name>``)::

    <name>.npy          the clip features (T, D)
    score.json          the score (raw scale), clip count, clip times, timings, inputs
    clips.csv, queries.csv, attention.npz, explanation.json   the explanation (longaqa.interpret)
    report.html         self-contained report with a thumbnail frame beside every clip
"""

from __future__ import annotations

import json
from pathlib import Path

from longaqa.commands.extract import add_backbone_arguments

REPORT_FILE = "report.html"
SCORE_FILE = "score.json"
THUMBNAIL_HEIGHT = 72


def register(sub) -> None:
    p = sub.add_parser("score", help="score one video with a trained run and write an explained HTML report")
    p.add_argument("video", metavar="VIDEO")
    p.add_argument("--run", required=True, metavar="RUN_DIR", help="run folder made by longaqa train")
    add_backbone_arguments(p)
    p.add_argument("--out", help="output folder (default: score_<video name>)")
    p.add_argument("--view", choices=["full", "center_crop"],
                   help="what the model sees of a long video (default: the run's data.eval_view)")
    p.set_defaults(func=run)


def png_bytes(image) -> bytes:
    """An RGB uint8 array (H, W, 3) as PNG bytes."""
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(image).save(buf, format="PNG", optimize=True)
    return buf.getvalue()


def run(args) -> int:
    from longaqa.errors import LongAQAError
    from longaqa.interpret import explain_video, write_explanation, write_report
    from longaqa.training import load_run
    from longaqa.video.backbones import build_backbone
    from longaqa.video.decode import require_av
    from longaqa.video.distributed import choose_device
    from longaqa.video.extract import ExtractOptions, extract_video, save_features

    require_av()
    video = Path(args.video)
    if not video.is_file():
        raise LongAQAError(f"{video}: video file not found")
    cfg, model, metadata = load_run(args.run)
    out = Path(args.out) if args.out else Path(f"score_{video.stem}")
    device = choose_device(args.device, 0)
    backbone = build_backbone(args.backbone, args.weights, tiny=args.tiny)
    if backbone.feature_dim != cfg.model.input_dim:
        raise LongAQAError(
            f"{args.run}: the run expects {cfg.model.input_dim}-d clip features, the {args.backbone}"
            f"{' (tiny)' if args.tiny else ''} backbone gives {backbone.feature_dim}-d"
        )
    if (args.fps, args.clip_frames) != (cfg.data.fps, cfg.data.clip_frames):
        raise LongAQAError(
            f"{args.run}: the run was trained on {cfg.data.clip_frames}-frame clips at {cfg.data.fps:g} fps; "
            f"got --clip-frames {args.clip_frames} --fps {args.fps:g}"
        )
    backbone.module.to(device)
    options = ExtractOptions(fps=args.fps, clip_frames=args.clip_frames, batch_clips=args.batch_clips,
                             device=str(device), precision=args.precision, progress=not args.no_progress,
                             thumbnail_height=THUMBNAIL_HEIGHT)
    result = extract_video(video, backbone, options)
    out.mkdir(parents=True, exist_ok=True)
    save_features(result.features, out / f"{result.name}.npy")

    model.to(device)
    expl = explain_video(model, cfg, result.name, result.features, view=args.view, device=device)
    write_explanation(expl, out)
    thumbs = [png_bytes(t) for t in result.thumbnails or []]
    report = write_report(args.run, [expl], out / REPORT_FILE, thumbnails={result.name: thumbs},
                          title=f"longaqa score: {video.name}")
    times = result.clip_times()
    summary = {
        "video": str(video),
        "score": expl.pred,
        "num_clips": int(result.plan.num_clips),
        "frames": int(result.info.num_frames),
        "fps": result.info.fps,
        "dropped_frames": [int(result.plan.start), int(result.plan.dropped_end)],
        "clip_start_s": [round(float(t), 3) for t in times[:, 0]],
        "run": str(args.run),
        "run_weights": metadata.get("selection", ""),
        "backbone": args.backbone,
        "backbone_weights": backbone.weights,  # the file read (for --weights torchvision, in torch's cache)
        "extract_seconds": round(result.seconds, 3),
        "backbone_seconds": round(result.backbone_seconds, 3),
        "report": str(report),
        **lift_summary(expl, times[:, 0], times[:, 1]),
    }
    if expl.additive:  # the additive head: its sheet's sub-scores and what the whole video earned
        summary.update(subscores=expl.subscores, video_terms=expl.video_terms, video_level=expl.video_level,
                       parts_sum={k: float(v.sum()) for k, v in expl.clip_parts.items()})
        if expl.background_margin is not None:  # how clearly the background won (docs/additive.md)
            summary["background_margin"] = expl.background_margin
    (out / SCORE_FILE).write_text(json.dumps(summary, indent=2) + "\n")
    print(json.dumps({k: summary[k] for k in ("video", "score", "num_clips", "report", "subscores", "background_margin")
                      if k in summary}))
    return 0


LIFT_CLIPS = 3
"""Clips listed in score.json's ``lifts_most`` and ``lowers_most``."""


def lift_summary(expl, start_s, end_s) -> dict[str, list[dict]]:
    """The clips that lift and lower the score most (centred contribution ``weight * (score - pred)``,
    docs/interpretability.md; the additive head: the contribution), each with its times in the video
    and that value in score units."""
    centred = expl.clip_centred_contribution
    order = expl.seen_clips_by(centred)

    def item(t: int) -> dict:
        return {"clip": int(t), "start_s": round(float(start_s[t]), 3), "end_s": round(float(end_s[t]), 3),
                "centred_contribution": float(centred[t])}

    k = min(LIFT_CLIPS, len(order))
    return {"lifts_most": [item(t) for t in order[:k] if centred[t] > 0],
            "lowers_most": [item(t) for t in order[::-1][:k] if centred[t] < 0]}
