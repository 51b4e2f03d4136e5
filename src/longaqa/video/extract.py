"""Clip features of one video or a folder of videos: ``<name>.npy``, float32 ``(T, D)``.

One video: frames are decoded at ``fps`` (``decode``), cut into clips (``clips``), preprocessed
frame by frame on the backbone's device (``preprocess``) into a buffer of ``batch_clips`` clips,
and each full buffer goes through the backbone in one forward pass. Memory is bounded by that
buffer (``batch_clips`` x 32 x 3 x 224 x 224 floats, 19 MB per clip), whatever the video's length.

A folder: every video file in it (sorted by name), one ``.npy`` each, written atomically, so a run
that stops resumes where it stopped (existing outputs are skipped). A file that cannot be decoded
is reported and listed in ``failed.txt`` (``path<TAB>reason``) without stopping the run.
``extraction.json`` records the settings; resuming with other settings is refused. With several
processes (``longaqa.video.distributed``) process ``r`` of ``N`` takes videos ``r, r+N, ...``.

Letters: B clips in a batch, C channels, L frames per clip, T clips, D feature dim.
"""

from __future__ import annotations

import contextlib
import json
import queue
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TypeVar

import numpy as np
import torch
from tqdm.auto import tqdm

from longaqa.checkpoint import atomic_write
from longaqa.errors import LongAQAError
from longaqa.precision import autocast
from longaqa.video.backbones import Backbone
from longaqa.video.clips import ClipPlan, plan_clips
from longaqa.video.decode import ResampledVideo, VideoDecodeError, VideoInfo
from longaqa.video.preprocess import preprocess_frames

VIDEO_SUFFIXES = (".mp4", ".avi", ".mkv", ".mov", ".webm", ".m4v", ".mpg", ".mpeg", ".flv", ".wmv", ".ts")
SETTINGS_FILE = "extraction.json"
FAILED_FILE = "failed.txt"
Item = TypeVar("Item")


@dataclass
class ExtractOptions:
    """How clips are made and run. Defaults: the public releases (25 fps, 32-frame clips)."""

    fps: float = 25.0
    clip_frames: int = 32
    batch_clips: int = 4
    """Clips per backbone forward pass (memory: about 19 MB of input per clip)."""
    device: str = "cpu"
    precision: str = "fp32"
    """``fp32`` or ``bf16`` (autocast; faster on GPUs, features differ slightly)."""
    frame_chunk: int = 8
    """Frames preprocessed together (decoded frames are moved to the device in chunks)."""
    prefetch_frames: int = 32
    """Frames a background thread may decode ahead of the backbone (0: decode in the caller's
    thread). PyAV releases the GIL while decoding, so decoding overlaps the forward passes."""
    progress: bool = True
    thumbnail_height: int = 0
    """When > 0, keep one RGB thumbnail of this height per clip (its middle frame)."""

    def __post_init__(self) -> None:
        if self.precision not in ("fp32", "bf16"):
            raise LongAQAError(f"precision must be fp32 or bf16, got {self.precision!r}")
        for name in ("clip_frames", "batch_clips", "frame_chunk"):
            if getattr(self, name) < 1:
                raise LongAQAError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.prefetch_frames < 0:
            raise LongAQAError(f"prefetch_frames must be >= 0, got {self.prefetch_frames}")
        if not 0 < self.fps < float("inf"):
            raise LongAQAError(f"--fps must be a positive number of frames per second, got {self.fps:g}")


@dataclass
class VideoFeatures:
    """One video's clip features (T, D), how they were cut, and where the time went."""

    name: str
    features: np.ndarray
    plan: ClipPlan
    info: VideoInfo
    seconds: float
    """Wall time of the whole extraction (decode, preprocess, backbone)."""
    backbone_seconds: float
    """Time inside the backbone's forward passes alone."""
    thumbnails: list[np.ndarray] | None = None

    def clip_times(self) -> np.ndarray:
        """(T, 2) start and end second of every clip in the video (dropped frames accounted for)."""
        starts = (self.plan.start + np.arange(self.plan.num_clips) * self.plan.clip_frames) / self.info.fps
        return np.stack([starts, starts + self.plan.clip_frames / self.info.fps], axis=1)


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _thumbnail(frame: np.ndarray, height: int) -> np.ndarray:
    x = torch.from_numpy(np.ascontiguousarray(frame)).permute(2, 0, 1)[None].float()  # (1, C, H, W)
    h, w = x.shape[-2:]
    size = (height, max(1, round(w * height / h)))
    x = torch.nn.functional.interpolate(x, size=size, mode="bilinear", antialias=True, align_corners=False)
    return x[0].permute(1, 2, 0).round().clamp(0, 255).to(torch.uint8).numpy()


def prefetch(items: Iterator[Item], size: int) -> Iterator[Item]:
    """Run ``items`` in a background thread, at most ``size`` ahead; its exceptions are re-raised here.

    Stopping early (the consumer raises or is closed) stops the thread at its next item.
    """
    q: queue.Queue = queue.Queue(maxsize=size)
    stop = threading.Event()
    done = object()

    def produce() -> None:
        try:
            for item in items:
                while not stop.is_set():
                    try:
                        q.put((item, None), timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            q.put((done, None))
        except BaseException as exc:  # handed to the consumer
            q.put((done, exc))
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()  # a generator's cleanup (e.g. closing the video file) runs now, in this thread

    thread = threading.Thread(target=produce, name="longaqa-decode", daemon=True)
    thread.start()
    try:
        while True:
            item, error = q.get()
            if item is done:
                if error is not None:
                    raise error
                return
            yield item
    finally:
        stop.set()
        while thread.is_alive():  # unblock a producer waiting on a full queue
            with contextlib.suppress(queue.Empty):
                q.get_nowait()
            thread.join(timeout=0.05)


@torch.no_grad()
def extract_video(
    path: str | Path,
    backbone: Backbone,
    options: ExtractOptions | None = None,
    on_clip: Callable[[int, int], None] | None = None,
) -> VideoFeatures:
    """Clip features of one video. ``on_clip(done, total)`` is called after each backbone batch.

    Raises :class:`VideoDecodeError` (a :class:`LongAQAError`) naming the file when it cannot be
    decoded or is shorter than one clip.
    """
    path = Path(path)
    options = options or ExtractOptions()
    started = time.perf_counter()
    video = ResampledVideo(path, options.fps)
    plan = plan_clips(video.info.num_frames, options.clip_frames)
    if plan.num_clips == 0:
        raise VideoDecodeError(
            f"{path}: {video.info.num_frames} frames at {options.fps:g} fps ({video.info.duration_s:.2f} s) "
            f"is shorter than one {options.clip_frames}-frame clip"
        )
    batches = _ClipBatches(backbone, plan, options, on_clip)
    thumbs: list[np.ndarray] | None = [] if options.thumbnail_height > 0 else None
    frames = video.frames(plan.start, plan.stop)
    if options.prefetch_frames:
        frames = prefetch(frames, options.prefetch_frames)
    with contextlib.closing(frames):  # an error below also stops the decoding thread and the file
        for index, frame in enumerate(frames):
            if thumbs is not None and index % plan.clip_frames == plan.clip_frames // 2:
                thumbs.append(_thumbnail(frame, options.thumbnail_height))
            batches.add(frame, index % plan.clip_frames)
    batches.finish(path)
    return VideoFeatures(
        name=path.stem,
        features=batches.out,
        plan=plan,
        info=video.info,
        seconds=time.perf_counter() - started,
        backbone_seconds=batches.backbone_seconds,
        thumbnails=thumbs,
    )


class _ClipBatches:
    """Decoded frames into a ``(B, C, L, size, size)`` buffer, clip by clip, preprocessed in chunks of
    ``options.frame_chunk`` frames (a chunk never straddles clips); the backbone runs on every full
    buffer of ``options.batch_clips`` clips and writes its features into ``out`` (T, D)."""

    def __init__(self, backbone: Backbone, plan, options: ExtractOptions,
                 on_clip: Callable[[int, int], None] | None):
        self.backbone, self.plan, self.on_clip = backbone, plan, on_clip
        self.device = torch.device(options.device)
        self.cast = autocast(self.device, options.precision)
        self.L, self.B = plan.clip_frames, min(options.batch_clips, plan.num_clips)
        size = backbone.preprocess.out_size
        self.buffer = torch.empty(self.B, 3, self.L, size, size, device=self.device)  # (B, C, L, H, W)
        self.out = np.empty((plan.num_clips, backbone.feature_dim), dtype=np.float32)  # (T, D)
        self.chunk_size = max(1, min(options.frame_chunk, self.L))
        self.chunk: list[np.ndarray] = []
        self.filled = 0  # frames written into the buffer
        self.done = 0  # clips whose features are computed
        self.backbone_seconds = 0.0

    def add(self, frame: np.ndarray, position: int) -> None:
        """One frame, at ``position`` within its clip."""
        self.chunk.append(frame)
        if len(self.chunk) == self.chunk_size or position == self.L - 1:
            self.flush_chunk()
        if self.filled == self.B * self.L:
            self.run_batch(self.B)

    def flush_chunk(self) -> None:
        frames = torch.from_numpy(np.stack(self.chunk)).to(self.device)  # (n, H, W, C) uint8
        x = preprocess_frames(frames, self.backbone.preprocess)  # (C, n, size, size)
        n = x.shape[1]
        b, f = divmod(self.filled, self.L)
        self.buffer[b, :, f : f + n] = x
        self.filled += n
        self.chunk.clear()

    def run_batch(self, count: int) -> None:
        _sync(self.device)
        t0 = time.perf_counter()
        with self.cast:
            feats = self.backbone.module(self.buffer[:count])  # (count, D)
        feats = feats.float().cpu().numpy()
        _sync(self.device)
        self.backbone_seconds += time.perf_counter() - t0
        self.out[self.done : self.done + count] = feats
        self.done += count
        self.filled = 0
        if self.on_clip is not None:
            self.on_clip(self.done, self.plan.num_clips)

    def finish(self, path: Path) -> None:
        """The last, partly filled batch; every clip of the plan must have its features."""
        if self.chunk:
            self.flush_chunk()
        if self.filled:
            if self.filled % self.L:
                raise VideoDecodeError(f"{path}: decoding stopped inside clip {self.done + self.filled // self.L}")
            self.run_batch(self.filled // self.L)
        if self.done != self.plan.num_clips:
            raise VideoDecodeError(f"{path}: decoded {self.done} of {self.plan.num_clips} clips")


def find_videos(path: str | Path) -> list[Path]:
    """``path`` itself when it is a file; else the video files directly inside the folder, sorted."""
    path = Path(path)
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise LongAQAError(f"{path}: no such video file or folder")
    videos = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in VIDEO_SUFFIXES)
    if not videos:
        raise LongAQAError(f"{path}: holds no video files ({', '.join(VIDEO_SUFFIXES)})")
    stems: dict[str, Path] = {}
    for v in videos:
        if v.stem in stems:
            raise LongAQAError(f"{path}: {stems[v.stem].name} and {v.name} would both write {v.stem}.npy")
        stems[v.stem] = v
    return videos


def save_features(array: np.ndarray, path: Path) -> None:
    """Write ``array`` as ``path`` (.npy) atomically: a stopped run never leaves half a file."""

    def write(tmp: Path) -> None:
        with tmp.open("wb") as fh:
            np.save(fh, array)

    atomic_write(path, write)


def is_complete(path: Path) -> bool:
    """An existing, readable 2-D float32 ``.npy`` (what a finished extraction wrote)."""
    if not path.is_file():
        return False
    try:
        array = np.load(path, mmap_mode="r", allow_pickle=False)
    except (ValueError, OSError, EOFError):
        return False
    return array.ndim == 2 and array.shape[0] > 0 and array.dtype == np.float32


def extraction_settings(backbone: Backbone, options: ExtractOptions) -> dict:
    """What determines the features (recorded in ``extraction.json``; a resume must match it)."""
    return {
        "backbone": backbone.name,
        "weights": Path(backbone.weights).name,
        "feature_dim": backbone.feature_dim,
        "fps": options.fps,
        "clip_frames": options.clip_frames,
        "preprocess": asdict(backbone.preprocess),
        "precision": options.precision,
    }


def check_settings(out_dir: Path, settings: dict, write: bool) -> None:
    path = out_dir / SETTINGS_FILE
    if path.is_file():
        try:
            previous = json.loads(path.read_text())
        except json.JSONDecodeError as exc:
            raise LongAQAError(f"{path}: not valid JSON ({exc}); remove it to start afresh") from None
        # JSON turns tuples into lists: compare through the same round trip
        if previous != json.loads(json.dumps(settings)):
            changed = sorted(k for k in set(previous) | set(settings)
                             if previous.get(k) != json.loads(json.dumps(settings)).get(k))
            raise LongAQAError(
                f"{out_dir}: holds features made with other settings ({', '.join(changed)}); "
                "use another --out or remove the folder"
            )
    elif write:
        atomic_write(path, lambda tmp: tmp.write_text(json.dumps(settings, indent=2) + "\n"))


@dataclass
class ExtractReport:
    """What one process did. ``failed``: (path, reason). Times in seconds, frames at the target rate."""

    written: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    frames: int = 0
    clips: int = 0
    seconds: float = 0.0
    backbone_seconds: float = 0.0

    def merge(self, other: ExtractReport) -> None:
        self.written += other.written
        self.skipped += other.skipped
        self.failed += other.failed
        self.frames += other.frames
        self.clips += other.clips
        self.seconds = max(self.seconds, other.seconds)
        self.backbone_seconds += other.backbone_seconds


def extract_all(
    videos: list[Path],
    out_dir: str | Path,
    backbone: Backbone,
    options: ExtractOptions | None = None,
    rank: int = 0,
    world_size: int = 1,
) -> ExtractReport:
    """Extract this process's share of ``videos`` into ``out_dir``; see the module docstring."""
    out = Path(out_dir)
    options = options or ExtractOptions()
    out.mkdir(parents=True, exist_ok=True)
    check_settings(out, extraction_settings(backbone, options), write=rank == 0)
    mine = videos[rank::world_size]
    report = ExtractReport()
    started = time.perf_counter()
    position = 2 * rank if world_size > 1 else 0
    bar = tqdm(mine, desc=f"videos[{rank}]" if world_size > 1 else "videos", unit="video",
               disable=not options.progress, position=position, file=sys.stderr)
    for path in bar:
        target = out / f"{path.stem}.npy"
        if is_complete(target):
            report.skipped.append(str(path))
            continue
        clip_bar = tqdm(desc=path.name[:40], unit="clip", leave=False, disable=not options.progress,
                        position=position + 1, file=sys.stderr)

        def on_clip(done: int, total: int, clip_bar=clip_bar) -> None:
            clip_bar.total = total
            clip_bar.n = done
            clip_bar.refresh()

        try:
            result = extract_video(path, backbone, options, on_clip)
        except LongAQAError as exc:
            reason = str(exc).removeprefix(f"{path}: ")
            report.failed.append((str(path), reason))
            tqdm.write(f"longaqa: skipped {path}: {reason}", file=sys.stderr)
            continue
        finally:
            clip_bar.close()
        save_features(result.features, target)
        report.written.append(str(path))
        report.frames += result.plan.num_clips * result.plan.clip_frames
        report.clips += result.plan.num_clips
        report.backbone_seconds += result.backbone_seconds
    report.seconds = time.perf_counter() - started
    return report


def write_failures(out_dir: str | Path, failed: list[tuple[str, str]]) -> None:
    """``failed.txt``: a ``path<TAB>reason`` line per video that could not be extracted (removed if none)."""
    path = Path(out_dir) / FAILED_FILE
    if not failed:
        path.unlink(missing_ok=True)
        return
    lines = "".join(f"{p}\t{' '.join(reason.split())}\n" for p, reason in sorted(failed))
    atomic_write(path, lambda tmp: tmp.write_text(lines))
