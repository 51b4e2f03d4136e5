"""``longaqa extract VIDEO_OR_FOLDER --backbone swin3d_b|i3d --weights FILE --out DIR``.

Writes ``DIR/<name>.npy`` (float32 ``(T, 1024)``) per video with the public releases'
preprocessing; see ``longaqa.video.extract`` and docs/video.md. Runs under
``torchrun --nproc_per_node=N`` as well (videos are sharded over the processes).
"""

from __future__ import annotations

import json
import sys


def add_backbone_arguments(p) -> None:
    """Options shared by ``extract`` and ``score``."""
    p.add_argument("--backbone", default="swin3d_b", choices=["swin3d_b", "i3d"],
                   help="clip network (default: swin3d_b, the backbone of the RG / Fis-V releases)")
    p.add_argument("--weights", required=True, metavar="FILE|torchvision",
                   help="local backbone weights: torchvision's swin3d_b file, the original Video-Swin "
                        "checkpoint, or the converted I3D rgb_imagenet.pt (docs/video.md); 'torchvision': "
                        "torchvision's checksum-verified Kinetics-400 swin3d_b weights from torch's cache, "
                        "downloaded there when missing")
    p.add_argument("--device", default="auto", help="auto (cuda:LOCAL_RANK when available), cpu or cuda[:N]")
    p.add_argument("--batch-clips", type=int, default=4, help="clips per backbone forward pass (default 4)")
    p.add_argument("--precision", default="fp32", choices=["fp32", "bf16"])
    p.add_argument("--fps", type=float, default=25.0,
                   help="frame rate the video is resampled to (default 25)")
    p.add_argument("--clip-frames", type=int, default=32, help="frames per clip (default 32)")
    p.add_argument("--tiny", action="store_true",
                   help="a small network of the same structure (tests and smoke runs; not for real features)")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")


SOME_FAILED = 3
"""Exit code when the run finished but some videos could not be extracted (listed in ``failed.txt``);
0 when every video was written or already there, 2 for a user error before any work."""


def register(sub) -> None:
    p = sub.add_parser("extract", help="clip features (.npy per video) of a video file or folder")
    p.add_argument("source", metavar="VIDEO_OR_FOLDER")
    add_backbone_arguments(p)
    p.add_argument("--out", required=True, help="folder for <name>.npy files (a rerun resumes)")
    p.set_defaults(func=run)


def run(args) -> int:
    from pathlib import Path

    from longaqa.errors import LongAQAError
    from longaqa.video.backbones import build_backbone
    from longaqa.video.decode import require_av
    from longaqa.video.distributed import finish, gather, init_distributed
    from longaqa.video.extract import ExtractOptions, ExtractReport, extract_all, find_videos, write_failures

    options = ExtractOptions(fps=args.fps, clip_frames=args.clip_frames, batch_clips=args.batch_clips,
                             precision=args.precision, progress=not args.no_progress)
    if Path(args.out).exists() and not Path(args.out).is_dir():
        raise LongAQAError(f"--out {args.out}: exists and is not a folder; choose a folder for the .npy files")
    require_av()
    from longaqa.threads import set_torch_threads

    set_torch_threads()  # torch's default, capped at the cores this process may use
    videos = find_videos(args.source)
    ctx = init_distributed(args.device)
    failed = True
    try:
        options.device = str(ctx.device)
        backbone = build_backbone(args.backbone, args.weights, tiny=args.tiny)
        backbone.module.to(ctx.device)
        report = extract_all(videos, args.out, backbone, options, ctx.rank, ctx.world_size)
        total = ExtractReport()  # every process gets every report, so all return the same code
        for r in gather(ctx, report):
            total.merge(r)
        if ctx.is_main:
            write_failures(args.out, total.failed)
            summary = {
                "videos": len(videos),
                "written": len(total.written),
                "skipped_existing": len(total.skipped),
                "failed": len(total.failed),
                "processes": ctx.world_size,
                "clips": total.clips,
                "frames": total.frames,
                "seconds": round(total.seconds, 3),
                "frames_per_second": round(total.frames / total.seconds, 3) if total.seconds else None,
                "backbone_seconds": round(total.backbone_seconds, 3),
            }
            print(json.dumps(summary))
            if total.failed:
                print(f"longaqa: {len(total.failed)} video(s) could not be extracted; see "
                      f"{args.out}/failed.txt", file=sys.stderr)
        failed = False
    finally:
        finish(ctx, failed)
    return SOME_FAILED if total.failed else 0
