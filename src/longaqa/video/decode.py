"""Decoding a video with PyAV, resampled to a fixed frame rate, one frame at a time.

Resampling rule: output frame ``k`` is the source frame on screen at time ``t0 + k / fps``, where
``t0`` is the first frame's presentation time; the video lasts until the last frame's presentation
time plus its duration (ffmpeg's ``-r`` rounds to the nearest output frame instead, which can pick a
neighbour at 30 fps). So a 25 fps source is passed through unchanged, a 50 fps source loses every
other frame and a 30 fps source of 100 frames (3.33 s) gives 84 frames. The frame count at the
target rate is known before decoding (a demux pass that reads packet timestamps only), which lets
the clip plan drop leftover frames at the start while memory stays bounded: frames are decoded and
handed on one by one.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

from longaqa.errors import LongAQAError


class VideoDecodeError(LongAQAError):
    """A video file that cannot be opened or decoded (corrupt, not a video, no frames)."""


@dataclass(frozen=True)
class VideoInfo:
    """What the demux pass found. num_frames is the count at the target rate ``fps``."""

    path: Path
    width: int
    height: int
    fps: float
    source_fps: float | None
    duration_s: float
    num_frames: int


def require_av():
    """The ``av`` module, or a :class:`LongAQAError` saying how to install it."""
    try:
        import av
    except ImportError:
        raise LongAQAError(
            "decoding videos needs PyAV: install the 'video' extra (make setup-video; docs/video.md)"
        ) from None
    return av


def _open(path: Path):
    av = require_av()

    if not path.is_file():
        raise VideoDecodeError(f"{path}: video file not found")
    try:
        container = av.open(str(path))
    except (av.FFmpegError, OSError, ValueError) as exc:
        raise VideoDecodeError(f"{path}: cannot open as a video ({exc})") from None
    if not container.streams.video:
        container.close()
        raise VideoDecodeError(f"{path}: has no video stream")
    return container


def _to_fraction(value) -> Fraction | None:
    if value is None:
        return None
    try:
        f = Fraction(value)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    return f if f > 0 else None


class ResampledVideo:
    """A video file read as frames at ``fps`` frames per second (see the module docstring).

    Construction runs the demux pass and raises :class:`VideoDecodeError` naming the file for a
    missing file, a file that is not a video, a video without frames. :meth:`frames` decodes.
    """

    def __init__(self, path: str | Path, fps: float = 25.0):
        self.path = Path(path)
        if not fps > 0:
            raise LongAQAError(f"target frame rate must be positive, got {fps}")
        self.fps = Fraction(fps).limit_denominator(1001)
        container = _open(self.path)
        try:
            stream = container.streams.video[0]
            self._time_base = _to_fraction(stream.time_base) or Fraction(1, 90000)
            self._rate = _to_fraction(stream.average_rate) or _to_fraction(stream.guessed_rate)
            width, height = stream.codec_context.width, stream.codec_context.height
            times, last_duration = self._packet_times(container, stream)
        finally:
            container.close()
        if not times:  # no timestamps in the container: count by decoding (slow path)
            times, last_duration = self._decoded_times()
        if not times:
            raise VideoDecodeError(f"{self.path}: holds no video frames (zero-length video)")
        self._t0 = times[0]
        end = times[-1] + last_duration
        span = end - self._t0  # seconds, exact
        num_frames = math.ceil(span * self.fps)
        self.info = VideoInfo(
            path=self.path,
            width=int(width),
            height=int(height),
            fps=float(self.fps),
            source_fps=float(self._rate) if self._rate else None,
            duration_s=float(span),
            num_frames=int(num_frames),
        )

    def _default_duration(self, times: list[Fraction]) -> Fraction:
        if self._rate:
            return 1 / self._rate
        if len(times) > 1:
            gaps = sorted(b - a for a, b in zip(times, times[1:]))
            return gaps[len(gaps) // 2]
        return 1 / self.fps

    def _packet_times(self, container, stream) -> tuple[list[Fraction], Fraction]:
        import av

        pts_duration: dict[int, int] = {}
        try:
            for packet in container.demux(stream):
                if packet.size == 0 or packet.pts is None:
                    continue
                pts_duration[int(packet.pts)] = int(packet.duration or 0)
        except (av.FFmpegError, OSError, ValueError) as exc:
            raise VideoDecodeError(f"{self.path}: cannot read packets ({exc})") from None
        if not pts_duration:
            return [], Fraction(0)
        ordered = sorted(pts_duration)
        times = [p * self._time_base for p in ordered]
        last = pts_duration[ordered[-1]]
        return times, (last * self._time_base if last > 0 else self._default_duration(times))

    def _decoded_times(self) -> tuple[list[Fraction], Fraction]:
        times = [t for t, _ in self._decode()]
        times = sorted(set(times))
        return times, self._default_duration(times)

    def _decode(self) -> Iterator[tuple[Fraction, object]]:
        """Every decoded frame as (presentation time in seconds, ``av.VideoFrame``)."""
        import av

        container = _open(self.path)
        try:
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            rate = self._rate or Fraction(25)
            index = 0
            try:
                for frame in container.decode(stream):
                    t = frame.pts * self._time_base if frame.pts is not None else index / rate
                    index += 1
                    yield t, frame
            except (av.FFmpegError, OSError, ValueError) as exc:
                raise VideoDecodeError(f"{self.path}: decoding failed after {index} frames ({exc})") from None
        finally:
            container.close()

    def frames(self, start: int = 0, stop: int | None = None) -> Iterator[np.ndarray]:
        """Frames ``start .. stop-1`` at the target rate as RGB ``(H, W, 3)`` uint8 arrays.

        Exactly ``min(stop, num_frames) - start`` frames are yielded: a source frame that cannot be
        decoded is covered by the one before it, as a player would show it.
        """
        n = self.info.num_frames
        stop = n if stop is None else min(stop, n)
        k = 0  # next output frame index
        held = None  # the frame on screen (av.VideoFrame), converted to RGB only when it is used
        held_rgb: np.ndarray | None = None
        for t, frame in self._decode():
            # output frames strictly before this frame's time show the held (previous) frame
            first_k_here = math.ceil((t - self._t0) * self.fps)
            while held is not None and k < min(first_k_here, stop):
                if k >= start:
                    if held_rgb is None:
                        held_rgb = held.to_ndarray(format="rgb24")
                    yield held_rgb
                k += 1
            if k >= stop:
                return
            held, held_rgb = frame, None
        if held is None:
            raise VideoDecodeError(f"{self.path}: no frame could be decoded")
        while k < stop:
            if k >= start:
                if held_rgb is None:
                    held_rgb = held.to_ndarray(format="rgb24")
                yield held_rgb
            k += 1
