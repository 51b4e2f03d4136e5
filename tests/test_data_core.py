"""Feature reading, RG and Fis-V label parsing (real public files where shared has them)."""

from __future__ import annotations

import numpy as np
import pytest

from longaqa.config import DataConfig
from longaqa.data import load_train_test
from longaqa.data.features import read_features
from longaqa.data.fisv import load_fisv_split, parse_fisv_labels
from longaqa.data.rg import CLASSES, parse_rg_labels
from longaqa.data.synthetic import RG_HEADER
from longaqa.errors import LongAQAError

from .conftest import SHARED

RG_LABELS = SHARED / "data" / "rg_labels"
FISV_LABELS = SHARED / "data" / "fisv_labels"


@pytest.mark.skipif(not RG_LABELS.is_dir(), reason="shared/data/rg_labels not present on this machine")
def test_real_rg_labels():
    train, test = parse_rg_labels(RG_LABELS / "train.txt"), parse_rg_labels(RG_LABELS / "test.txt")
    assert len(train) + len(test) == 1000
    for cls in CLASSES:
        assert sum(lab.class_name == cls for lab in train) == 200
        assert sum(lab.class_name == cls for lab in test) == 50
    first = train[0]
    assert first.name == "Ball_001" and first.total == pytest.approx(18.80)
    assert all(abs(lab.difficulty + lab.execution - lab.penalty - lab.total) < 0.02 for lab in train)


@pytest.mark.skipif(not FISV_LABELS.is_dir(), reason="shared/data/fisv_labels not present on this machine")
def test_real_fisv_labels():
    train = parse_fisv_labels(FISV_LABELS / "train_dataset.txt")
    test = load_fisv_split(FISV_LABELS, "test", "PCS")
    assert len(train) == 400 and len(test) == 100
    assert train[0] == ("1", 28.71, 29.36, 1.0)
    assert test[0] == ("2", 27.08)


def test_rg_header_and_malformed_rows(tmp_path):
    path = tmp_path / "train.txt"
    path.write_text(RG_HEADER + "\nBall_001\t10.5\t8.3\t18.8\t0.00\t92\nBall_002\t7.2\t4.2\n"
                    "Ball_003\tx\t1\t2\t0\t90\n")
    with pytest.raises(LongAQAError) as err:
        parse_rg_labels(path)
    msg = str(err.value)
    assert str(path) in msg and "line 3" in msg and "line 4" in msg and "non-numeric" in msg


def test_fisv_malformed_and_missing(tmp_path):
    (tmp_path / "train.txt").write_text("1 28.7 29.3 1\n2 30.1\n")
    with pytest.raises(LongAQAError, match="line 2"):
        load_fisv_split(tmp_path, "train", "TES")
    with pytest.raises(LongAQAError, match="test.txt or test_dataset.txt"):
        load_fisv_split(tmp_path, "test", "TES")


def test_read_features_errors(tmp_path):
    good = tmp_path / "good.npy"
    np.save(good, np.ones((5, 8), dtype=np.float32))
    assert read_features(good, 8).shape == (5, 8)
    with pytest.raises(LongAQAError, match="not found"):
        read_features(tmp_path / "missing.npy")
    with pytest.raises(LongAQAError, match="dimension 8 does not match model.input_dim=16"):
        read_features(good, 16)
    bad = tmp_path / "nan.npy"
    np.save(bad, np.array([[1.0, np.nan], [np.inf, 0.0]], dtype=np.float32))
    with pytest.raises(LongAQAError, match="2 NaN or infinite"):
        read_features(bad)
    flat = tmp_path / "flat.npy"
    np.save(flat, np.ones(4))
    with pytest.raises(LongAQAError, match="shape"):
        read_features(flat)
    junk = tmp_path / "junk.npy"
    junk.write_bytes(b"not numpy at all")
    with pytest.raises(LongAQAError, match="junk.npy"):
        read_features(junk)
    obj = tmp_path / "obj.npy"
    np.save(obj, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(LongAQAError, match="obj.npy"):
        read_features(obj)


def test_load_train_test_reports_every_problem(routines, tmp_path):
    import shutil

    root = tmp_path / "copy"
    shutil.copytree(routines, root)
    (root / "swintx_avg_fps25_clip32" / "Ball_002.npy").unlink()
    np.save(root / "swintx_avg_fps25_clip32" / "Ball_003.npy", np.ones((4, 7), dtype=np.float32))
    cfg = DataConfig(root=str(root), class_name="Ball")
    with pytest.raises(LongAQAError) as err:
        load_train_test(cfg, None, 32)
    msg = str(err.value)
    assert "Ball_002.npy: feature file not found" in msg and "Ball_003.npy: feature dimension 7" in msg


def test_empty_split_and_overlap(routines, tmp_path):
    cfg = DataConfig(root=str(routines), class_name="Hoop")
    with pytest.raises(LongAQAError, match="Hoop"):
        load_train_test(cfg, None, 32)
    import shutil

    root = tmp_path / "overlap"
    shutil.copytree(routines, root)
    train_line = (root / "train.txt").read_text().splitlines()[1]
    with (root / "test.txt").open("a") as fh:
        fh.write(train_line + "\n")
    with pytest.raises(LongAQAError, match="both train and test"):
        load_train_test(DataConfig(root=str(root)), None, 32)


def test_synthetic_truth_matches_labels(routines):
    labels = parse_rg_labels(routines / "train.txt")
    assert (routines / "train.txt").read_text().splitlines()[0] == RG_HEADER
    for lab in labels[:5]:
        truth = np.load(routines / "truth" / f"{lab.name}.npz")
        feats = np.load(routines / "swintx_avg_fps25_clip32" / f"{lab.name}.npy")
        assert truth["weight"].shape == truth["quality"].shape == truth["contribution"].shape == (len(feats),)
        assert np.allclose(truth["contribution"].sum(), lab.total, atol=0.6)


def test_features_move_to_the_device_only_when_they_fit(monkeypatch, capsys):
    """train.features_on_device: the splits move (as new lists, the given ones untouched) when they take
    at most half of the device's free memory; else they stay where they are, with a note. Features
    already on the device (a group's shared data) are not counted. The device query is faked and the
    device is ``meta``, so that the rule and a real move are tested without a GPU."""
    import torch

    from longaqa import training
    from longaqa.data.dataset import VideoSample

    train = [VideoSample(f"v{i}", torch.randn(5, 4), 1.0) for i in range(3)]  # 3 x 80 bytes
    test = [VideoSample("t", torch.randn(7, 4), 2.0)]  # 112 bytes: 352 in all
    device = torch.device("meta")
    monkeypatch.setattr(torch.cuda, "mem_get_info", lambda device: (704, 10_000))
    moved_train, moved_test = training.features_to_gpu(device, train, test)
    assert moved_train is not train and [s.name for s in moved_train] == ["v0", "v1", "v2"]
    assert all(s.features.device.type == "meta" for s in moved_train + moved_test)
    assert moved_test[0].features.shape == (7, 4) and moved_test[0].score == 2.0
    assert train[0].features.device.type == "cpu"  # the given lists are untouched
    assert capsys.readouterr().err == ""
    monkeypatch.setattr(torch.cuda, "mem_get_info", lambda device: (703, 10_000))
    kept_train, kept_test = training.features_to_gpu(device, train, test)
    assert kept_train is train and kept_test is test
    assert "stay in host memory" in capsys.readouterr().err
    monkeypatch.setattr(torch.cuda, "mem_get_info", lambda device: (0, 10_000))
    there = training.features_to_gpu(device, moved_train, moved_test)  # nothing left to move: no note
    assert there[0] is moved_train and capsys.readouterr().err == ""
