"""torch's CPU threads: train.num_threads when set, else torch's default capped at the process's cores."""

from __future__ import annotations

import os

import pytest
import torch

from longaqa import threads
from longaqa.cli import main
from tests.conftest import TINY


@pytest.fixture
def one_core(monkeypatch):
    """The process may run on one core (as under ``taskset -c 0``); torch's pool starts at 2 threads."""
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0}, raising=False)
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    yield
    torch.set_num_threads(before)


def test_default_is_capped_at_the_usable_cores(one_core):
    assert threads.usable_cores() == 1
    assert threads.set_torch_threads(0) == 1 and torch.get_num_threads() == 1


def test_an_explicit_count_is_kept(one_core):
    assert threads.set_torch_threads(3) == 3  # train.num_threads: the user's choice


def test_below_the_cap_is_left_alone(monkeypatch):
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(64)), raising=False)
    before = torch.get_num_threads()
    assert threads.set_torch_threads(0) == before


def test_without_sched_getaffinity_all_cores(monkeypatch):
    monkeypatch.delattr(os, "sched_getaffinity", raising=False)
    assert threads.usable_cores() == (os.cpu_count() or 1)


def test_train_and_evaluate_cap_the_threads(one_core, routines, tmp_path):
    sets = [a for item in [*TINY, "train.epochs=1", "train.tensorboard=false"] for a in ("--set", item)]
    assert main(["train", "--data-root", str(routines), *sets, "--quiet", "--out", str(tmp_path / "run")]) == 0
    assert torch.get_num_threads() == 1
    torch.set_num_threads(2)
    assert main(["evaluate", str(tmp_path / "run")]) == 0
    assert torch.get_num_threads() == 1
