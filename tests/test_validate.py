"""Dataset validation before training: every problem at once, one line each, naming its file."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from longaqa.config import load_config
from longaqa.data.validate import check_dataset, dataset_problems, split_message
from longaqa.errors import LongAQAError

FEATURES = "swintx_avg_fps25_clip32"


@pytest.fixture
def broken(routines, tmp_path):
    """A copy of the synthetic routines that the tests below damage."""
    return shutil.copytree(routines, tmp_path / "data")


def test_clean_dataset_has_no_problems(routines, tiny_overrides):
    assert dataset_problems(load_config(None, tiny_overrides), routines) == []


def test_every_problem_reported_at_once(broken, tiny_overrides):
    cfg = load_config(None, tiny_overrides)
    feats = broken / FEATURES
    (feats / "Ball_001.npy").unlink()  # missing
    np.save(feats / "Ball_002.npy", np.full((5, 32), np.nan, dtype=np.float32))  # NaN
    np.save(feats / "Ball_003.npy", np.zeros((5, 16), dtype=np.float32))  # wrong D
    np.save(feats / "Ball_004.npy", np.zeros(32, dtype=np.float32))  # 1-D
    (feats / "Ball_005.npy").write_bytes(b"not an array")
    data = (feats / "Ball_006.npy").read_bytes()
    (feats / "Ball_006.npy").write_bytes(data[: len(data) // 2])  # truncated
    train = (broken / "train.txt").read_text().splitlines()
    test = (broken / "test.txt").read_text().splitlines()
    train.append(train[7])  # duplicate (Ball_007)
    train.append("Ball_777\t1\t2\tnan\t0\t30")  # non-finite score
    test.append(train[8])  # overlap (Ball_008)
    (broken / "train.txt").write_text("\n".join(train) + "\n")
    (broken / "test.txt").write_text("\n".join(test) + "\n")

    problems = dataset_problems(cfg, broken)
    expected = {
        "Ball_001.npy: feature file not found",
        "Ball_002.npy: 160 NaN or infinite values",
        "Ball_003.npy: feature dimension 16 does not match model.input_dim=32",
        "Ball_004.npy: expected clip features of shape (T, D), got shape (32,)",
        "Ball_005.npy: not a readable .npy array",
        "Ball_006.npy: truncated .npy file",
        "train.txt: video 'Ball_007' is listed 2 times",
        "train.txt: video 'Ball_777' has a non-finite score (nan)",
        "test.txt: video 'Ball_008' is also in the train split",
        "Ball_777.npy: feature file not found",
    }
    for fragment in expected:
        assert sum(fragment in line for line in problems) == 1, (fragment, problems)
    assert len(problems) == len(expected)
    assert all(str(broken) in line for line in problems)  # every line names its file
    with pytest.raises(LongAQAError, match=r"10 problem\(s\) in the dataset; nothing was trained") as info:
        check_dataset(cfg, broken)
    assert len(str(info.value).splitlines()) == 11


def test_malformed_label_rows_one_line_each(broken, tiny_overrides):
    rows = (broken / "train.txt").read_text().splitlines()
    rows[2] = "Ball_002\t1.0\t2.0"
    rows[4] = "Ball_004\tx\t2\t3\t0\t30"
    (broken / "train.txt").write_text("\n".join(rows) + "\n")
    problems = dataset_problems(load_config(None, tiny_overrides), broken)
    assert problems == [
        f"{broken / 'train.txt'}: line 3: expected 6 fields (name and 5 numbers), got 3",
        f"{broken / 'train.txt'}: line 5: non-numeric score in 'Ball_004\\tx\\t2\\t3\\t0\\t30'",
    ]


def test_missing_folders_and_files(broken, tiny_overrides, tmp_path):
    cfg = load_config(None, tiny_overrides)
    assert "dataset folder not found" in dataset_problems(cfg, tmp_path / "nowhere")[0]
    (broken / "test.txt").unlink()
    shutil.rmtree(broken / FEATURES)
    problems = dataset_problems(cfg, broken)
    assert any("test.txt: RG label file not found" in line for line in problems)
    assert any(f"{FEATURES}: feature folder not found" in line for line in problems)


def test_unsafe_names_are_not_opened(broken, tiny_overrides):
    rows = (broken / "train.txt").read_text().splitlines()
    rows.append("../../etc/passwd\t1\t2\t3\t0\t30")
    (broken / "train.txt").write_text("\n".join(rows) + "\n")
    problems = dataset_problems(load_config(None, tiny_overrides), broken)
    assert problems == [f"{broken / 'train.txt'}: video name '../../etc/passwd' is not a file name"]


def test_split_message_formats():
    assert split_message("a.txt: malformed label rows: line 2: x; y; line 9: z") == [
        "a.txt: line 2: x; y", "a.txt: line 9: z",
    ]
    assert split_message("malformed LOGO labels: a.pkl: one; b.pkl: two") == ["a.pkl: one", "b.pkl: two"]
    assert split_message("plain: message") == ["plain: message"]


def test_cli_train_reports_dataset_problems_without_traceback(broken, tiny_overrides, tmp_path, capsys):
    from longaqa.cli import main

    (broken / FEATURES / "Ball_001.npy").unlink()
    (broken / FEATURES / "Ball_030.npy").write_bytes(b"junk")
    args = [arg for item in tiny_overrides for arg in ("--set", item)]
    code = main(["train", "--data-root", str(broken), *args, "--out", str(tmp_path / "run")])
    err = capsys.readouterr().err
    assert code == 2
    assert "Traceback" not in err
    assert err.startswith("longaqa: error: 2 problem(s) in the dataset")
    assert "Ball_001.npy: feature file not found" in err and "Ball_030.npy: not a readable" in err
    assert not (tmp_path / "run").exists()  # the folder it created for the run is gone again
    (tmp_path / "kept").mkdir()  # a folder the user made stays
    assert main(["train", "--data-root", str(broken), *args, "--out", str(tmp_path / "kept")]) == 2
    assert (tmp_path / "kept").is_dir()
