"""Extraction speed: frames per second of ``longaqa extract`` next to the backbone's own forward time.

    .venv-video/bin/python bench/video_extract.py [--backbone swin3d_b] [--clips 2]
        [--width 1280 --height 720] [--source-fps 30] [--batch-clips 2] [--threads 2] [--tiny]
        [--device cpu] [--json out.json]

Writes a generated H.264 video (``--clips`` x 32 frames at 25 fps after resampling, at
``--source-fps``), extracts it with a randomly initialised backbone (speed does not depend on the
weights), and reports: ``frames_per_second`` (frames kept / wall time of the whole extraction),
``backbone_seconds`` (the forward passes inside that extraction), ``overhead_ratio`` (extraction
wall time / backbone time; 1.0 = decoding and preprocessing cost nothing), and a decode-only and
preprocess-only pass over the same frames for the breakdown.
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from longaqa.video.backbones import build_backbone
from longaqa.video.decode import ResampledVideo
from longaqa.video.extract import ExtractOptions, extract_video
from longaqa.video.preprocess import preprocess_frames
from longaqa.video.synthetic import write_video


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backbone", default="swin3d_b", choices=["swin3d_b", "i3d"])
    parser.add_argument("--tiny", action="store_true", help="the small test network (56 x 56 input)")
    parser.add_argument("--clips", type=int, default=2)
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--height", type=int, default=720)
    parser.add_argument("--source-fps", type=float, default=30.0)
    parser.add_argument("--batch-clips", type=int, default=2)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--precision", default="fp32", choices=["fp32", "bf16"])
    parser.add_argument("--json", help="also write the result here")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    backbone = build_backbone(args.backbone, None, tiny=args.tiny)
    backbone.module.to(args.device)
    with tempfile.TemporaryDirectory() as tmp:
        # enough source frames for exactly --clips clips at 25 fps
        seconds = args.clips * 32 / 25
        video = write_video(Path(tmp) / "bench.mp4", int(round(seconds * args.source_fps)),
                            fps=args.source_fps, width=args.width, height=args.height, codec="libx264")
        options = ExtractOptions(batch_clips=args.batch_clips, device=args.device, precision=args.precision,
                                 progress=False)
        size = backbone.preprocess.out_size
        with torch.no_grad():  # warm-up: first-call allocations and kernel selection
            backbone.module(torch.zeros(1, 3, 8, size, size, device=args.device))
        result = extract_video(video, backbone, options)
        frames = result.plan.num_clips * result.plan.clip_frames

        t0 = time.perf_counter()
        decoded = list(ResampledVideo(video).frames(result.plan.start, result.plan.stop))
        decode_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        for i in range(0, len(decoded), 8):
            chunk = torch.from_numpy(np.stack(decoded[i : i + 8])).to(args.device)
            preprocess_frames(chunk, backbone.preprocess)
        preprocess_s = time.perf_counter() - t0

    out = {
        "backbone": args.backbone + (" (tiny)" if args.tiny else ""),
        "device": args.device,
        "precision": args.precision,
        "torch_threads": torch.get_num_threads(),
        "cpu": platform.processor() or platform.machine(),
        "video": f"{args.width}x{args.height} H.264 at {args.source_fps:g} fps",
        "clips": result.plan.num_clips,
        "frames": frames,
        "extract_seconds": round(result.seconds, 3),
        "frames_per_second": round(frames / result.seconds, 3),
        "backbone_seconds": round(result.backbone_seconds, 3),
        "backbone_frames_per_second": round(frames / result.backbone_seconds, 3),
        "overhead_ratio": round(result.seconds / result.backbone_seconds, 3),
        "decode_only_seconds": round(decode_s, 3),
        "preprocess_only_seconds": round(preprocess_s, 3),
    }
    print(json.dumps(out))
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
