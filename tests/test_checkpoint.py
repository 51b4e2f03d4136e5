"""Atomic writes, resumable checkpoint packing, weights mismatch messages, output-folder checks."""

from __future__ import annotations

import errno
import json
import random

import numpy as np
import pytest
import torch

from longaqa.checkpoint import (
    atomic_write,
    check_output_folder,
    load_checkpoint,
    load_weights,
    save_checkpoint,
    save_weights,
)
from longaqa.errors import LongAQAError


def test_atomic_write_keeps_previous_file_on_failure(tmp_path):
    path = tmp_path / "metrics.json"
    atomic_write(path, lambda tmp: tmp.write_text("old"))

    def full_disk(tmp):
        tmp.write_text("half")
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(LongAQAError, match="metrics.json: could not be written .no space left on device."):
        atomic_write(path, full_disk)
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["metrics.json"]  # no temporary left behind
    assert path.stat().st_mode & 0o777 != 0o600  # usual permissions, not mkstemp's private ones


def test_checkpoint_round_trip_is_exact(tmp_path):
    model = torch.nn.Linear(3, 2)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.1)
    model(torch.randn(4, 3)).sum().backward()
    optimizer.step()
    state = {
        "epoch": 7, "best_value": -float("inf"), "best_epoch": None,
        "model": model.state_dict(), "optimizer": optimizer.state_dict(),
        "rng": {"torch": torch.get_rng_state(), "numpy": np.random.get_state(), "python": random.getstate()},
        "nested": {"tuple": (1, 2.5, "x"), "list": [np.arange(3, dtype=np.uint32), True]},
    }
    save_checkpoint(tmp_path / "c.safetensors", state)
    loaded = load_checkpoint(tmp_path / "c.safetensors")
    assert loaded["epoch"] == 7 and loaded["best_value"] == -float("inf") and loaded["best_epoch"] is None
    assert loaded["optimizer"]["state"].keys() == {0, 1}  # int keys survive
    for key, value in optimizer.state_dict()["state"][0].items():
        assert torch.equal(loaded["optimizer"]["state"][0][key], value)
    assert loaded["optimizer"]["param_groups"][0]["betas"] == (0.9, 0.999)
    np.testing.assert_array_equal(loaded["rng"]["numpy"][1], np.random.get_state()[1])
    assert loaded["rng"]["python"] == random.getstate()
    assert loaded["nested"]["tuple"] == (1, 2.5, "x")
    assert loaded["nested"]["list"][0].dtype == np.uint32
    new = torch.optim.Adam(torch.nn.Linear(3, 2).parameters(), lr=0.1)
    new.load_state_dict(loaded["optimizer"])  # loads as-is into a fresh optimizer


def test_load_checkpoint_refuses_weights_only_and_garbage(tmp_path):
    save_weights(torch.nn.Linear(2, 2), tmp_path / "w.safetensors")
    with pytest.raises(LongAQAError, match="not a longaqa training checkpoint"):
        load_checkpoint(tmp_path / "w.safetensors")
    (tmp_path / "g.safetensors").write_bytes(b"\x00" * 10)
    with pytest.raises(LongAQAError, match="g.safetensors: not a readable safetensors file"):
        load_checkpoint(tmp_path / "g.safetensors")
    with pytest.raises(LongAQAError, match="checkpoint not found"):
        load_checkpoint(tmp_path / "none.safetensors")


def test_weights_mismatch_names_config_keys_and_tensors(tmp_path):
    small, large = torch.nn.Linear(2, 3), torch.nn.Linear(2, 4)
    save_weights(small, tmp_path / "w.safetensors", {"model_config": json.dumps({"d_model": 3, "x": 1})})
    with pytest.raises(LongAQAError) as info:
        load_weights(large, tmp_path / "w.safetensors", {"d_model": 4, "x": 1})
    message = str(info.value)
    assert "trained with model.d_model: 3 -> 4 (file -> current)" in message
    assert "shape (file vs model): bias (3,) vs (4,), weight (3, 2) vs (4, 2)" in message
    assert "model.x" not in message


def test_check_output_folder(tmp_path):
    check_output_folder(tmp_path / "new" / "run", 1)
    assert (tmp_path / "new" / "run").is_dir() and not list((tmp_path / "new" / "run").iterdir())
    with pytest.raises(LongAQAError, match=r"MiB free, the run needs about \d+\.\d MiB"):
        check_output_folder(tmp_path, 1 << 62)


def test_weights_files_get_usual_permissions(tmp_path):
    """safetensors recreates the file it writes: permissions are set after writing, not before."""
    from longaqa.checkpoint import save_weights

    path = tmp_path / "weights.safetensors"
    save_weights(torch.nn.Linear(2, 2), path)
    assert path.stat().st_mode & 0o777 != 0o600
