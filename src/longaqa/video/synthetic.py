"""Small generated videos (PyAV encodes them) for tests, benchmarks and a first try of the pipeline.

:func:`write_video` encodes frames of a moving pattern whose first pixel holds the frame index
(``index % 256`` in every channel), so with the lossless ``png`` codec a test can tell which source
frame it got back after resampling.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np


def pattern_frame(index: int, height: int, width: int) -> np.ndarray:
    """(H, W, 3) uint8: a bar sweeping across a gradient, pixel (0, 0) = ``index % 256``."""
    y = np.broadcast_to(np.linspace(0, 255, height, dtype=np.float32)[:, None], (height, width))
    x = np.broadcast_to(np.linspace(0, 255, width, dtype=np.float32)[None, :], (height, width))
    image = np.stack([(y + 3 * index) % 256, (x + 5 * index) % 256, np.full((height, width), 128.0)], axis=-1)
    bar = (index * 4) % width
    image[:, bar : bar + max(1, width // 16)] = 255
    image[0, 0] = index % 256
    return image.astype(np.uint8)


def write_video(
    path: str | Path,
    num_frames: int,
    fps: float | Fraction = 25,
    width: int = 96,
    height: int = 64,
    codec: str = "png",
) -> Path:
    """Encode ``num_frames`` pattern frames at ``fps`` into ``path``; ``num_frames=0`` gives a video
    stream without frames. ``png`` (in .avi / .mov) is lossless; ``libx264`` (yuv420p) is typical."""
    import av

    path = Path(path)
    container = av.open(str(path), "w")
    try:
        rate = Fraction(fps).limit_denominator(1001)
        stream = container.add_stream(codec, rate=rate)
        stream.width, stream.height = width, height
        stream.pix_fmt = "rgb24" if codec == "png" else "yuv420p"
        for i in range(num_frames):
            frame = av.VideoFrame.from_ndarray(pattern_frame(i, height, width), format="rgb24")
            for packet in stream.encode(frame):
                container.mux(packet)
        if num_frames:
            for packet in stream.encode():
                container.mux(packet)
        else:
            container.start_encoding()  # header and trailer only
    finally:
        container.close()
    return path
