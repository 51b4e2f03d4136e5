"""Shared test fixtures: tiny configs and synthetic data built by the tests themselves."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

torch.set_num_threads(1)

SHARED = Path(__file__).resolve().parents[2] / "shared"
"""The workplace's shared folder (real public label files live in SHARED/data); may be absent."""


@pytest.fixture(scope="session")
def routines(tmp_path_factory) -> Path:
    """A small synthetic dataset in the public RG layout (class Ball), with truth/."""
    from longaqa.data.synthetic import RoutineSpec, write_routines

    root = tmp_path_factory.mktemp("routines")
    return write_routines(
        root, RoutineSpec(num_train=24, num_test=12, min_clips=10, max_clips=14, feature_dim=32, seed=3)
    )


TINY = [
    "model.input_dim=32",
    "model.d_model=16",
    "model.num_heads=2",
    "model.dim_feedforward=32",
    "model.num_queries=12",
    "model.head_hidden=[16,8]",
    "model.dropout=0.1",
    "train.batch_size=8",
    "train.epochs=2",
    "train.progress=false",
    "data.score_divisor=25",
]
"""``--set`` overrides for a tiny model matching the ``routines`` fixture."""


@pytest.fixture
def tiny_overrides() -> list[str]:
    return list(TINY)


def train_tiny_additive(root: Path) -> Path:
    """Generated rg_additive routines (16 train / 8 test, 10-12 clips, 32-d, with per-clip truth) under
    ``root / "data"``, and a tiny additive run trained on them: the run folder, ``root / "run"``."""
    from longaqa.cli import main
    from longaqa.data.generators import write_generated

    data = write_generated("rg_additive", root / "data", num_train=16, num_test=8, feature_dim=32,
                           min_clips=10, max_clips=12)
    run = root / "run"
    args = ["train", "--data-root", str(data), "--out", str(run)]
    for item in [*TINY, "model.head=additive", "model.local_hidden=8"]:
        args += ["--set", item]
    assert main(args) == 0
    return run
