"""Extraction: features equal a by-hand pipeline, batching does not matter, folders resume and list
failures, the CLI, and torchrun with 2 CPU processes writes the same files as 1 process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

pytest.importorskip("av", reason="PyAV is not installed (the 'video' extra; `make test-video` runs this)")
pytest.importorskip("torchvision", reason="torchvision is not importable here (`make test-video` runs this)")

from longaqa.cli import main  # noqa: E402
from longaqa.commands.extract import SOME_FAILED  # noqa: E402
from longaqa.errors import LongAQAError  # noqa: E402
from longaqa.video.backbones import build_backbone  # noqa: E402
from longaqa.video.decode import ResampledVideo, VideoDecodeError  # noqa: E402
from longaqa.video.extract import (  # noqa: E402
    FAILED_FILE,
    SETTINGS_FILE,
    ExtractOptions,
    extract_all,
    extract_video,
    find_videos,
)
from longaqa.video.preprocess import preprocess_frames  # noqa: E402
from longaqa.video.synthetic import write_video  # noqa: E402


@pytest.fixture(scope="module")
def tiny_swin():
    torch.manual_seed(0)
    return build_backbone("swin3d_b", None, tiny=True)


@pytest.fixture(scope="module")
def tiny_weights(tmp_path_factory, tiny_swin) -> Path:
    path = tmp_path_factory.mktemp("weights") / "swin3d_tiny.pth"
    torch.save(tiny_swin.module.net.state_dict(), path)
    return path


@pytest.fixture(scope="module")
def videos(tmp_path_factory) -> Path:
    """A folder: 100 frames at 25 fps (3 clips), 50 at 30 fps (1 clip), 70 frames in H.264, a corrupt file."""
    root = tmp_path_factory.mktemp("videos")
    write_video(root / "a_routine.avi", 100, fps=25)
    write_video(root / "b_routine.avi", 50, fps=30)
    write_video(root / "c_routine.mp4", 70, fps=25, codec="libx264")
    (root / "d_broken.mp4").write_bytes(b"\x00" * 64 + b"garbage" * 100)
    (root / "notes.txt").write_text("not a video\n")
    return root


def opts(**kw) -> ExtractOptions:
    return ExtractOptions(**({"progress": False, "device": "cpu"} | kw))


def test_features_equal_the_pipeline_by_hand(videos, tiny_swin):
    result = extract_video(videos / "a_routine.avi", tiny_swin, opts(batch_clips=2, thumbnail_height=24))
    assert result.features.shape == (3, 64) and result.features.dtype == np.float32
    assert (result.plan.num_clips, result.plan.start, result.plan.dropped_end) == (3, 2, 2)
    np.testing.assert_allclose(result.clip_times()[:, 0], [2 / 25, 34 / 25, 66 / 25])
    # by hand: frames 2..97 at 25 fps, preprocessed, 32 per clip, one forward pass
    frames = np.stack(list(ResampledVideo(videos / "a_routine.avi").frames()))[2:98]
    assert [int(f[0, 0, 0]) for f in frames[[0, 31, 32, 95]]] == [2, 33, 34, 97]
    clips = preprocess_frames(frames, tiny_swin.preprocess)  # (C, 96, 56, 56)
    clips = clips.view(3, 3, 32, 56, 56).transpose(0, 1)  # (T, C, L, H, W)
    with torch.no_grad():
        expected = tiny_swin.module(clips).numpy()
    np.testing.assert_allclose(result.features, expected, rtol=1e-4, atol=1e-5)
    # one thumbnail per clip: the clip's middle frame, 24 pixels high
    assert len(result.thumbnails) == 3 and result.thumbnails[0].shape == (24, 36, 3)
    assert 0 < result.backbone_seconds <= result.seconds


def test_batching_and_chunking_do_not_change_features(videos, tiny_swin):
    a = extract_video(videos / "a_routine.avi", tiny_swin, opts(batch_clips=1, frame_chunk=5))
    b = extract_video(videos / "a_routine.avi", tiny_swin, opts(batch_clips=8, frame_chunk=32))
    np.testing.assert_allclose(a.features, b.features, rtol=1e-4, atol=1e-5)


def test_i3d_extraction(videos):
    i3d = build_backbone("i3d", None, tiny=True)
    result = extract_video(videos / "b_routine.avi", i3d, opts())
    assert result.features.shape == (1, 128) and np.isfinite(result.features).all()


def test_too_short_and_broken_videos_are_clear_errors(tmp_path, tiny_swin):
    short = write_video(tmp_path / "short.avi", 31)
    with pytest.raises(VideoDecodeError, match=r"short.avi: 31 frames at 25 fps .* shorter than one 32-fr"):
        extract_video(short, tiny_swin, opts())
    empty = write_video(tmp_path / "empty.avi", 0)
    with pytest.raises(VideoDecodeError, match="empty.avi: holds no video frames"):
        extract_video(empty, tiny_swin, opts())


def test_memory_stays_bounded_on_a_long_video(tmp_path, tiny_swin, monkeypatch):
    # decoded frames are dropped as soon as they are preprocessed: whatever the video's length, at
    # most one chunk (8 frames) plus the frame being read are alive, so memory does not grow with it
    import weakref

    alive: dict[int, weakref.ref] = {}  # numpy arrays are not hashable: keyed by id, dropped when freed
    most = 0
    original = ResampledVideo.frames

    def watched(self, start=0, stop=None):
        nonlocal most
        for frame in original(self, start, stop):
            key = id(frame)
            if key not in alive:
                alive[key] = weakref.ref(frame, lambda _, key=key: alive.pop(key, None))
            most = max(most, len(alive))
            yield frame

    monkeypatch.setattr(ResampledVideo, "frames", watched)
    long = write_video(tmp_path / "long.mp4", 1000, fps=25, width=64, height=48, codec="libx264")
    result = extract_video(long, tiny_swin, opts(batch_clips=4, frame_chunk=8, prefetch_frames=0))
    assert result.features.shape == (31, 64)  # 1000 = 31 * 32 + 8: 4 frames dropped at each end
    assert result.plan.start == 4
    assert most <= 9, f"{most} decoded frames alive at once"
    most = 0  # with a decoding thread: at most 16 more, waiting in its queue
    again = extract_video(long, tiny_swin, opts(batch_clips=4, frame_chunk=8, prefetch_frames=16))
    np.testing.assert_allclose(again.features, result.features, rtol=1e-4, atol=1e-5)
    assert most <= 9 + 16 + 1, f"{most} decoded frames alive at once"


def test_find_videos(videos, tmp_path):
    assert [p.name for p in find_videos(videos)] == ["a_routine.avi", "b_routine.avi", "c_routine.mp4",
                                                     "d_broken.mp4"]
    assert find_videos(videos / "b_routine.avi") == [videos / "b_routine.avi"]
    with pytest.raises(LongAQAError, match="no such video file or folder"):
        find_videos(tmp_path / "missing")
    (tmp_path / "x.mp4").write_bytes(b"")
    (tmp_path / "x.avi").write_bytes(b"")
    with pytest.raises(LongAQAError, match="would both write x.npy"):
        find_videos(tmp_path)


def test_folder_run_resumes_and_lists_failures(videos, tiny_swin, tmp_path):
    out = tmp_path / "features"
    report = extract_all(find_videos(videos), out, tiny_swin, opts())
    assert sorted(Path(p).name for p in report.written) == ["a_routine.avi", "b_routine.avi", "c_routine.mp4"]
    assert [Path(p).name for p, _ in report.failed] == ["d_broken.mp4"]
    assert "cannot open as a video" in report.failed[0][1]
    assert np.load(out / "c_routine.npy").shape == (2, 64)  # 70 frames -> 2 clips
    assert json.loads((out / SETTINGS_FILE).read_text())["backbone"] == "swin3d_b"
    # a second run resumes: finished files are skipped, untouched
    mtime = (out / "a_routine.npy").stat().st_mtime_ns
    (out / "b_routine.npy").unlink()  # as if the first run had stopped before this one
    again = extract_all(find_videos(videos), out, tiny_swin, opts())
    assert [Path(p).name for p in again.written] == ["b_routine.avi"]
    assert len(again.skipped) == 2 and (out / "a_routine.npy").stat().st_mtime_ns == mtime
    # other settings in the same folder are refused
    with pytest.raises(LongAQAError, match="other settings .*clip_frames"):
        extract_all(find_videos(videos), out, tiny_swin, opts(clip_frames=16))


def test_extract_cli(videos, tiny_weights, tmp_path, capsys):
    out = tmp_path / "cli"
    args = ["extract", str(videos), "--backbone", "swin3d_b", "--weights", str(tiny_weights), "--tiny",
            "--out", str(out), "--device", "cpu", "--no-progress"]
    assert main(args) == SOME_FAILED  # one video could not be extracted
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["written"] == 3 and summary["failed"] == 1 and summary["clips"] == 3 + 1 + 2
    assert summary["frames"] == 32 * 6 and summary["frames_per_second"] > 0
    failed = (out / FAILED_FILE).read_text().splitlines()
    assert len(failed) == 1 and failed[0].startswith(str(videos / "d_broken.mp4") + "\t")
    assert main(args) == SOME_FAILED  # resumes: nothing left to do but the broken file, still failing
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["skipped_existing"] == 3
    one_good = ["extract", str(videos / "a_routine.avi"), *args[2:]]  # nothing failed: exit 0
    assert main(one_good) == 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["failed"] == 0
    assert main(["extract", str(videos), "--weights", str(tmp_path / "none.pth"), "--out", str(out)]) == 2
    assert "none.pth: backbone weights file not found" in capsys.readouterr().err


@pytest.mark.slow
def test_torchrun_two_processes_write_the_same_files(videos, tiny_weights, tmp_path):
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONUNBUFFERED="1")

    def extract(out: Path, nproc: int) -> subprocess.CompletedProcess:
        cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={nproc}",
               "-m", "longaqa", "extract", str(videos), "--weights", str(tiny_weights), "--tiny",
               "--out", str(out), "--device", "cpu", "--no-progress"]
        return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)

    one, two = extract(tmp_path / "one", 1), extract(tmp_path / "two", 2)
    # the broken video: every process exits 3, which torchrun reports (and exits 1)
    for done in (one, two):
        assert done.returncode == 1 and f"exitcode  : {SOME_FAILED}" in done.stderr, done.stderr[-3000:]
        assert "1 video(s) could not be extracted" in done.stderr, done.stderr[-3000:]
    summary = json.loads(two.stdout.strip().splitlines()[-1])
    assert summary["processes"] == 2 and summary["written"] == 3 and summary["failed"] == 1
    names = sorted(p.name for p in (tmp_path / "one").iterdir())
    assert names == sorted(p.name for p in (tmp_path / "two").iterdir())
    assert names == ["a_routine.npy", "b_routine.npy", "c_routine.npy", "extraction.json", "failed.txt"]
    for name in names:
        assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "two" / name).read_bytes(), name
