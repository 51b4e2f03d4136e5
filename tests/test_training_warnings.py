"""What training did silently before: cropping long videos at random, and an unused data.class_name.
Each is one warning line on stderr, once per run, --quiet or not."""

from __future__ import annotations

import numpy as np
import pytest

from longaqa.cli import main
from tests.conftest import TINY

try:  # tests/ as a package or as rootdir-inserted modules: both work
    from .release_layouts import FEATURES, write_fisv
except ImportError:
    from release_layouts import FEATURES, write_fisv

CROP = "training videos are longer than model.num_queries="
CLASS = "is set but the "


def train(data, tmp_path, capsys, *overrides: str) -> list[str]:
    """Train a tiny model (2 epochs, --quiet); the warning lines it printed."""
    sets = [a for item in [*TINY, "train.tensorboard=false", *overrides] for a in ("--set", item)]
    capsys.readouterr()
    assert main(["train", "--data-root", str(data), *sets, "--quiet", "--out", str(tmp_path / "run")]) == 0
    return [line for line in capsys.readouterr().err.splitlines() if line.startswith("longaqa: warning: ")]


def test_random_crop_of_long_videos_is_said_once(routines, tmp_path, capsys):
    lengths = [np.load(routines / FEATURES / f"{line.split()[0]}.npy").shape[0]
               for line in (routines / "train.txt").read_text().splitlines()[1:]]
    longer = [n for n in lengths if n > 12]  # TINY: model.num_queries=12
    assert 0 < len(longer) < len(lengths)
    warnings = train(routines, tmp_path, capsys)
    assert warnings == [
        f"longaqa: warning: {len(longer)} of {len(lengths)} {CROP}12 clips (up to {max(longer)}): training sees "
        "a random window of 12 clips of each (data.train_crop=random; data.train_crop=center takes the middle "
        "window; the additive head, model.head: additive, trains on whole videos)"
    ]


def test_center_crop_is_named(routines, tmp_path, capsys):
    (warning,) = train(routines, tmp_path, capsys, "data.train_crop=center")
    assert "training sees the middle window of 12 clips of each (data.train_crop=center;" in warning


@pytest.mark.parametrize("overrides", [["model.num_queries=14"], ["model.head=additive"]])
def test_no_crop_warning_when_nothing_is_cropped(routines, tmp_path, capsys, overrides):
    """14 queries cover the longest video (14 clips); the additive head trains on whole videos. (These
    synthetic routines' E column goes above 10 now and then, which the additive head's rg sheet is
    warned about: not a crop warning.)"""
    warnings = train(routines, tmp_path, capsys, *overrides)
    assert not [w for w in warnings if CROP in w]
    additive = "model.head=additive" in overrides
    assert all("execution above 10" in w for w in warnings) and (warnings != []) == additive


def test_class_name_unused_by_the_layout(tmp_path, capsys):
    data = write_fisv(tmp_path / "fisv", 10, 4, clips=(8, 12))  # no video longer than 12 clips
    warnings = train(data, tmp_path, capsys, "data.layout=fisv", "data.class_name=Ball")
    assert warnings == [
        "longaqa: warning: data.class_name='Ball' is set but the fisv layout has no classes: it is ignored "
        "(only the rg layout selects videos by class)"
    ]


def test_class_name_used_by_rg_is_not_warned(routines, tmp_path, capsys):
    assert not any(CLASS in w for w in train(routines, tmp_path, capsys, "data.class_name=Ball"))
