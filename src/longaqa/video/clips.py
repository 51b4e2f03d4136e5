"""Splitting a video's frames into non-overlapping clips, as the public feature releases did.

At the target frame rate a video has ``N`` frames. It is cut into ``T = N // L`` clips of ``L``
frames (L = 32); the ``N - T*L`` leftover frames are dropped from both ends, ``leftover // 2`` at the
start and the rest at the end. Example: 100 frames -> 3 clips, frames 2..97, 2 dropped at each end.
"""

from __future__ import annotations

from dataclasses import dataclass

from longaqa.errors import LongAQAError


@dataclass(frozen=True)
class ClipPlan:
    """Which frames of a video become which clip.

    num_frames: frames at the target rate. clip_frames: frames per clip. num_clips: T.
    start: index of the first kept frame (= frames dropped at the start). Frames
    ``[start + c*clip_frames, start + (c+1)*clip_frames)`` form clip ``c``.
    """

    num_frames: int
    clip_frames: int
    num_clips: int
    start: int

    @property
    def stop(self) -> int:
        """One past the last kept frame."""
        return self.start + self.num_clips * self.clip_frames

    @property
    def dropped_end(self) -> int:
        return self.num_frames - self.stop

    def clip_of(self, frame: int) -> int | None:
        """The clip that frame index ``frame`` belongs to, or None when the frame is dropped."""
        if frame < self.start or frame >= self.stop:
            return None
        return (frame - self.start) // self.clip_frames

    def clip_span(self, clip: int) -> tuple[int, int]:
        """First frame and one-past-last frame of clip ``clip``."""
        first = self.start + clip * self.clip_frames
        return first, first + self.clip_frames


def plan_clips(num_frames: int, clip_frames: int = 32) -> ClipPlan:
    """The clip plan of a video with ``num_frames`` frames (see the module docstring)."""
    if clip_frames < 1:
        raise LongAQAError(f"clip length must be >= 1 frame, got {clip_frames}")
    if num_frames < 0:
        raise LongAQAError(f"a video cannot have {num_frames} frames")
    num_clips = num_frames // clip_frames
    leftover = num_frames - num_clips * clip_frames
    return ClipPlan(num_frames, clip_frames, num_clips, leftover // 2)
