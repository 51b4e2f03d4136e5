"""Clip plan, frame preprocessing and the compact I3D: torch only, so these run in every venv."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch

from longaqa.errors import LongAQAError
from longaqa.video.clips import plan_clips
from longaqa.video.i3d import InceptionI3d, same_padding
from longaqa.video.preprocess import (
    IMAGENET_MEAN,
    IMAGENET_STD,
    Preprocess,
    center_crop,
    preprocess_frames,
    resize_short_side,
)


@pytest.mark.parametrize(
    "frames, clips, start, dropped_end",
    [
        (100, 3, 2, 2),  # 100 = 3*32 + 4: two dropped at each end
        (96, 3, 0, 0),
        (64, 2, 0, 0),
        (33, 1, 0, 1),  # an odd leftover: the extra frame goes at the end
        (95, 2, 15, 16),  # 95 = 2*32 + 31
        (31, 0, 15, 16),
        (0, 0, 0, 0),
        (1700, 53, 2, 2),  # a 68 s RG routine: 1700 frames at 25 fps -> 53 clips
    ],
)
def test_plan_clips_hand_cases(frames, clips, start, dropped_end):
    plan = plan_clips(frames, 32)
    assert (plan.num_clips, plan.start, plan.dropped_end) == (clips, start, dropped_end)
    assert plan.start + plan.num_clips * 32 + plan.dropped_end == frames


def test_clip_of_and_span():
    plan = plan_clips(100, 32)
    assert [plan.clip_of(f) for f in (0, 1, 2, 33, 34, 97, 98, 99)] == [None, None, 0, 0, 1, 2, None, None]
    assert plan.clip_span(0) == (2, 34) and plan.clip_span(2) == (66, 98)


def test_plan_clips_rejects_bad_lengths():
    with pytest.raises(LongAQAError):
        plan_clips(10, 0)
    with pytest.raises(LongAQAError):
        plan_clips(-1, 32)


def test_resize_short_side_keeps_aspect_like_torchvision():
    x = torch.zeros(1, 3, 1080, 1920)
    assert resize_short_side(x, 256).shape[-2:] == (256, 455)  # int(256 * 1920 / 1080)
    x = torch.zeros(1, 3, 640, 360)  # portrait
    assert resize_short_side(x, 256).shape[-2:] == (455, 256)


def test_center_crop_pads_small_frames_with_zeros():
    x = torch.ones(1, 3, 256, 256)
    out = center_crop(x, 224, 300)  # wider than the frame: 22 zero columns each side
    assert out.shape[-2:] == (224, 300)
    assert out[..., :22].abs().sum() == 0 and out[..., 278:].abs().sum() == 0
    assert bool((out[..., 22:278] == 1).all())
    x = torch.arange(10.0).view(1, 1, 1, 10).expand(1, 1, 4, 10)
    assert center_crop(x, 2, 4)[0, 0, 0].tolist() == [3, 4, 5, 6]


def test_preprocess_constant_frame_is_normalised_by_hand():
    frames = np.full((5, 360, 640, 3), 128, dtype=np.uint8)  # 16:9, wide enough for 224 x 300
    out = preprocess_frames(frames)
    assert out.shape == (3, 5, 224, 224) and out.dtype == torch.float32
    expected = (128 / 255 - np.array(IMAGENET_MEAN)) / np.array(IMAGENET_STD)
    np.testing.assert_allclose(out.mean(dim=(1, 2, 3)).numpy(), expected, atol=1e-5)
    np.testing.assert_allclose(out.std(dim=(1, 2, 3)).numpy(), 0, atol=1e-5)


def test_preprocess_crops_the_centre_then_squashes():
    # left half black, right half white at 256 x 512: the 224 x 300 centre crop is half and half
    frames = np.zeros((1, 256, 512, 3), dtype=np.uint8)
    frames[:, :, 256:] = 255
    spec = Preprocess(mean=(0.0, 0.0, 0.0), std=(1.0, 1.0, 1.0))
    out = preprocess_frames(frames, spec)[0, 0]  # (224, 224)
    assert float(out[:, :100].max()) == 0.0 and float(out[:, 124:].min()) == pytest.approx(1.0)
    assert float(out.mean()) == pytest.approx(0.5, abs=1e-3)


def test_same_padding_hand_cases():
    assert same_padding(224, 7, 2) == (2, 3)  # TF SAME: total 5
    assert same_padding(32, 7, 2) == (2, 3)
    assert same_padding(56, 3, 1) == (1, 1)
    assert same_padding(4, 2, 2) == (0, 0)
    assert same_padding(7, 3, 2) == (1, 1)


def test_i3d_has_the_public_names_and_a_1024d_output():
    model = InceptionI3d()
    state = model.state_dict()
    assert state["Conv3d_1a_7x7.conv3d.weight"].shape == (64, 3, 7, 7, 7)
    assert state["Mixed_3b.b1b.conv3d.weight"].shape == (128, 96, 3, 3, 3)
    assert state["Mixed_5c.b3b.bn.running_var"].shape == (128,)
    assert state["logits.conv3d.weight"].shape == (400, 1024, 1, 1, 1)
    assert "Conv3d_1a_7x7.conv3d.bias" not in state and model.feature_dim == 1024
    tiny = InceptionI3d(width=0.125).eval()
    with torch.no_grad():
        y = tiny(torch.randn(2, 3, 16, 56, 56))
    assert y.shape == (2, 128) and torch.isfinite(y).all()


def test_uint8_resizes_match_a_float_pipeline_within_one_level():
    rng = np.random.default_rng(0)
    frames = rng.integers(0, 256, size=(2, 180, 320, 3), dtype=np.uint8)
    spec = Preprocess(mean=(0.0, 0.0, 0.0), std=(1.0, 1.0, 1.0))
    fast = preprocess_frames(frames, spec)  # (C, N, 224, 224), uint8 resizes
    x = torch.from_numpy(frames).permute(0, 3, 1, 2).float()
    x = torch.nn.functional.interpolate(x, size=(256, 455), mode="bilinear", antialias=True).round()
    x = center_crop(x, 224, 300)
    x = torch.nn.functional.interpolate(x, size=(224, 224), mode="bilinear", antialias=True).round() / 255
    assert float((fast - x.permute(1, 0, 2, 3)).abs().max()) <= 2 / 255 + 1e-6
    assert float((fast - x.permute(1, 0, 2, 3)).abs().mean()) < 0.2 / 255


def test_extract_without_pyav_says_how_to_install(monkeypatch, tmp_path, capsys):
    import sys

    from longaqa.cli import main

    monkeypatch.setitem(sys.modules, "av", None)  # as if PyAV were not installed
    video = tmp_path / "v.mp4"
    video.write_bytes(b"")
    assert main(["extract", str(video), "--weights", "w.pth", "--out", str(tmp_path / "out")]) == 2
    assert "needs PyAV: install the 'video' extra" in capsys.readouterr().err
    assert main(["score", str(video), "--run", str(tmp_path), "--weights", "w.pth"]) == 2
    assert "needs PyAV" in capsys.readouterr().err


def test_prefetch_keeps_order_passes_errors_and_stops_early():
    import threading

    from longaqa.video.extract import prefetch

    assert list(prefetch(iter(range(100)), 4)) == list(range(100))

    def failing():
        yield from range(3)
        raise LongAQAError("broken.mp4: decoding failed after 3 frames")

    got = []
    with pytest.raises(LongAQAError, match="broken.mp4"):
        for x in prefetch(failing(), 2):
            got.append(x)
    assert got == [0, 1, 2]

    closed = threading.Event()

    def endless():
        try:
            i = 0
            while True:
                yield i
                i += 1
        finally:
            closed.set()

    stream = prefetch(endless(), 3)
    assert [next(stream) for _ in range(5)] == [0, 1, 2, 3, 4]
    stream.close()  # the consumer stops early: the thread stops and closes the generator
    assert closed.wait(5)
    assert not any(t.name == "longaqa-decode" and t.is_alive() for t in threading.enumerate())


@pytest.mark.slow
def test_process_group_ends_cleanly_under_torchrun(tmp_path):
    # the sharding's process group (gloo) under this venv's torch: gather, barrier, destroy, exit 0
    import os
    import subprocess
    import sys

    script = tmp_path / "group.py"
    script.write_text(
        "from longaqa.video.distributed import finish, gather, init_distributed\n"
        "ctx = init_distributed('cpu')\n"
        "assert ctx.initialized and ctx.world_size == 2\n"
        "assert gather(ctx, {'rank': ctx.rank}) == [{'rank': 0}, {'rank': 1}]\n"
        "finish(ctx)\n"
        "import sys\n"
        "sys.stdout.write(f'done {ctx.rank}\\n')  # one write: atomic on a pipe, unlike print's pieces\n"
        "sys.stdout.flush()\n"
    )
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2", str(script)]
    proc = subprocess.run(cmd, env=dict(os.environ, OMP_NUM_THREADS="1"), capture_output=True, text=True,
                          timeout=180)
    assert proc.returncode == 0, proc.stderr[-3000:]
    # the two ranks share one stdout pipe
    assert sorted(re.findall(r"done (\d)", proc.stdout)) == ["0", "1"]
