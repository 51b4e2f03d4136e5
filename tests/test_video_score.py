"""``longaqa score``: a generated video -> features -> prediction -> explanation -> HTML report."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import torch

pytest.importorskip("av", reason="PyAV is not installed (the 'video' extra; `make test-video` runs this)")
pytest.importorskip("torchvision", reason="torchvision is not importable here (`make test-video` runs this)")

from longaqa.cli import main  # noqa: E402
from longaqa.config import load_config  # noqa: E402
from longaqa.data.dataset import VideoSample  # noqa: E402
from longaqa.training import fit  # noqa: E402
from longaqa.video.backbones import build_backbone  # noqa: E402
from longaqa.video.synthetic import write_video  # noqa: E402

TINY_RUN = ["model.input_dim=64", "model.d_model=16", "model.num_heads=2", "model.dim_feedforward=32",
            "model.num_queries=8", "model.head_hidden=[16,8]", "model.dropout=0.1", "train.batch_size=8",
            "train.epochs=2", "train.progress=false", "train.tensorboard=false", "data.score_divisor=25"]


@pytest.fixture(scope="module")
def scored(tmp_path_factory):
    """A tiny run trained on random 64-d features, tiny swin weights, a 6-clip video, and the score."""
    root = tmp_path_factory.mktemp("score")
    g = torch.Generator().manual_seed(0)
    lengths = torch.randint(5, 10, (16,), generator=g).tolist()
    samples = [VideoSample(f"v{i}", torch.randn(n, 64, generator=g), float(torch.rand(1, generator=g)))
               for i, n in enumerate(lengths)]
    run = root / "run"
    fit(load_config(None, TINY_RUN), run, data=(samples[:12], samples[12:]))
    torch.manual_seed(1)
    weights = root / "swin3d_tiny.pth"
    torch.save(build_backbone("swin3d_b", None, tiny=True).module.net.state_dict(), weights)
    video = write_video(root / "my routine.mp4", 200, fps=25, codec="libx264", width=128, height=72)
    out = root / "scored"
    code = main(["score", str(video), "--run", str(run), "--weights", str(weights), "--tiny",
                 "--out", str(out), "--device", "cpu", "--no-progress"])
    return code, out, video, weights, run


def test_score_writes_features_score_and_report(scored):
    code, out, video, _, _ = scored
    assert code == 0
    summary = json.loads((out / "score.json").read_text())
    assert np.isfinite(summary["score"])
    assert summary["num_clips"] == 6 and summary["dropped_frames"] == [4, 4]  # 200 = 6*32 + 8
    assert summary["clip_start_s"][:2] == [0.16, 1.44]
    # the clips that lift and lower the score most, with their times in the video
    lifts, lowers = summary["lifts_most"], summary["lowers_most"]
    assert 1 <= len(lifts) <= 3 and 1 <= len(lowers) <= 3
    values = [c["centred_contribution"] for c in lifts]
    assert values == sorted(values, reverse=True) and min(values) > 0
    assert max(c["centred_contribution"] for c in lowers) < 0
    assert all(summary["clip_start_s"][c["clip"]] == c["start_s"] for c in lifts + lowers)
    assert np.load(out / "my routine.npy").shape == (6, 64)
    explanation = json.loads((out / "explanation.json").read_text())
    assert explanation["pred"] == pytest.approx(summary["score"])
    html = (out / "report.html").read_text()
    assert f"{summary['score']:.3f}" in html
    # a thumbnail frame beside every clip's weight and score (the all-clips table has one per clip)
    assert len(re.findall(r'<img class="thumb"', html)) >= 6


def test_score_report_opens_in_a_browser(scored, tmp_path):
    _, out, _, _, _ = scored
    browser = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if browser is None:
        pytest.skip("no headless Chromium on this machine (apt-get install chromium)")
    cmd = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
           f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom", (out / "report.html").as_uri()]
    dom = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert dom.returncode == 0, dom.stderr[-2000:]
    summary = json.loads((out / "score.json").read_text())
    assert "longaqa score: my routine.mp4" in dom.stdout
    assert f"{summary['score']:.3f}" in dom.stdout and dom.stdout.count('class="thumb"') >= 6


def test_score_refuses_a_backbone_of_another_width(scored, capsys):
    _, _, video, weights, run = scored
    code = main(["score", str(video), "--run", str(run), "--weights", str(weights), "--backbone", "i3d",
                 "--tiny", "--device", "cpu"])
    assert code == 2
    err = capsys.readouterr().err
    assert "expects 64-d clip features" in err or "does not fit i3d" in err
    assert main(["score", str(Path(video).with_name("absent.mp4")), "--run", str(run), "--weights",
                 str(weights)]) == 2
    assert "absent.mp4: video file not found" in capsys.readouterr().err
