"""Decoding with PyAV: resampling to 25 fps against hand-computed frame indices, and bad files."""

from __future__ import annotations

from fractions import Fraction

import pytest

pytest.importorskip("av", reason="PyAV is not installed (the 'video' extra; `make test-video` runs this)")

from longaqa.errors import LongAQAError  # noqa: E402
from longaqa.video.decode import ResampledVideo, VideoDecodeError  # noqa: E402
from longaqa.video.synthetic import write_video  # noqa: E402


def indices(video: ResampledVideo, start: int = 0, stop: int | None = None) -> list[int]:
    """Source frame index of every output frame (the pattern writes it into pixel (0, 0))."""
    return [int(f[0, 0, 0]) for f in video.frames(start, stop)]


def test_25fps_passes_through(tmp_path):
    v = ResampledVideo(write_video(tmp_path / "a.avi", 100, fps=25))
    assert v.info.num_frames == 100 and v.info.duration_s == pytest.approx(4.0)
    assert (v.info.width, v.info.height) == (96, 64)
    assert indices(v) == list(range(100))
    assert indices(v, 2, 98) == list(range(2, 98))


def test_30fps_keeps_the_frame_on_screen(tmp_path):
    # 50 frames at 30 fps last 5/3 s -> ceil(25 * 5/3) = 42 frames; frame k shows source floor(1.2 k)
    v = ResampledVideo(write_video(tmp_path / "b.avi", 50, fps=30))
    assert v.info.num_frames == 42
    assert indices(v) == [int(k * 6 // 5) for k in range(42)]


def test_50fps_drops_every_other_frame(tmp_path):
    v = ResampledVideo(write_video(tmp_path / "c.avi", 100, fps=50))
    assert v.info.num_frames == 50
    assert indices(v) == list(range(0, 100, 2))


def test_ntsc_rate_and_lossy_codec(tmp_path):
    # 60 frames at 30000/1001 fps last 2.002 s -> ceil(50.05) = 51 frames
    v = ResampledVideo(write_video(tmp_path / "d.mp4", 60, fps=Fraction(30000, 1001), codec="libx264"))
    assert v.info.num_frames == 51
    frames = list(v.frames())
    assert len(frames) == 51 and frames[0].shape == (64, 96, 3)


def test_12_5fps_repeats_each_frame_twice(tmp_path):
    v = ResampledVideo(write_video(tmp_path / "e.avi", 20, fps=12.5))
    assert indices(v) == [k // 2 for k in range(40)]


def test_missing_file(tmp_path):
    with pytest.raises(VideoDecodeError, match="not found"):
        ResampledVideo(tmp_path / "nope.mp4")


def test_corrupt_file_is_a_clear_error(tmp_path):
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 8)
    with pytest.raises(VideoDecodeError, match=r"bad\.mp4: cannot open as a video"):
        ResampledVideo(bad)
    text = tmp_path / "notes.avi"
    text.write_text("this is not a video\n")
    with pytest.raises(LongAQAError, match="notes.avi"):
        ResampledVideo(text)


def test_truncated_mp4_is_a_clear_error(tmp_path):
    good = write_video(tmp_path / "good.mp4", 60, codec="libx264")
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(good.read_bytes()[: good.stat().st_size // 2])  # the index (moov) is lost
    with pytest.raises(VideoDecodeError, match="cut.mp4"):
        ResampledVideo(cut)


def test_zero_length_video(tmp_path):
    empty = write_video(tmp_path / "empty.avi", 0)
    with pytest.raises(VideoDecodeError, match="zero-length"):
        ResampledVideo(empty)


def test_target_rate_must_be_positive(tmp_path):
    with pytest.raises(LongAQAError, match="frame rate"):
        ResampledVideo(write_video(tmp_path / "a.avi", 3), fps=0)


def test_variable_frame_rate_shows_the_frame_on_screen(tmp_path):
    import av
    import numpy as np

    times_ms = [0, 40, 200, 240, 250, 400]  # six frames with irregular gaps
    path = tmp_path / "vfr.mkv"
    container = av.open(str(path), "w")
    stream = container.add_stream("libx264", rate=1000)
    stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
    stream.time_base = stream.codec_context.time_base = Fraction(1, 1000)
    for i, t in enumerate(times_ms):
        frame = av.VideoFrame.from_ndarray(np.full((48, 64, 3), 40 * i, np.uint8), format="rgb24")
        frame.pts, frame.time_base = t, Fraction(1, 1000)
        for packet in stream.encode(frame):
            container.mux(packet)
    for packet in stream.encode():
        container.mux(packet)
    container.close()
    v = ResampledVideo(path)
    # output frame k at 40 k ms shows the last source frame at or before it; the video lasts 401 ms
    assert v.info.num_frames == 11
    assert [round(int(f[0, 0, 0]) / 40) for f in v.frames()] == [0, 1, 1, 1, 1, 2, 3, 4, 4, 4, 5]


def test_without_packet_timestamps_frames_are_counted_by_decoding(tmp_path, monkeypatch):
    from fractions import Fraction as F

    path = write_video(tmp_path / "b.avi", 50, fps=30)
    monkeypatch.setattr(ResampledVideo, "_packet_times", lambda self, container, stream: ([], F(0)))
    v = ResampledVideo(path)
    assert v.info.num_frames == 42
    assert indices(v) == [int(k * 6 // 5) for k in range(42)]
