"""No lost work: checkpoints, --resume, refusing existing runs, SIGINT, SIGKILL, non-finite losses.

The kill tests run the real command line in a subprocess on CPU (one thread) and compare the resumed
run with an uninterrupted one: metrics, selected and last weights, and the epoch log must be identical.
"""

from __future__ import annotations

import csv
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from longaqa.checkpoint import load_checkpoint, save_checkpoint
from longaqa.config import load_config
from longaqa.engine import NonFiniteLoss
from longaqa.errors import LongAQAError
from longaqa.training import CHECKPOINT_FILE, TrainingInterrupted, fit

DETERMINISTIC = ["train.num_threads=1", "train.device=cpu", "train.tensorboard=false",
                 "train.checkpoint_every=1"]


def read_log(run: Path) -> list[dict[str, str]]:
    with (run / "epochs.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    for row in rows:
        row.pop("train_seconds")  # wall time differs between runs
    return rows


def assert_same_run(a: Path, b: Path) -> None:
    assert json.loads((a / "metrics.json").read_text()) == json.loads((b / "metrics.json").read_text())
    assert (a / "predictions.csv").read_text() == (b / "predictions.csv").read_text()
    for name in ("weights.safetensors", "last.safetensors"):
        wa, wb = load_file(str(a / name)), load_file(str(b / name))
        assert wa.keys() == wb.keys()
        for key in wa:
            assert torch.equal(wa[key], wb[key]), f"{name}:{key} differs"
    assert read_log(a) == read_log(b)


def cli(*args: str, **kwargs) -> subprocess.Popen:
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "OMP_NUM_THREADS": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "longaqa", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, env=env, **kwargs,
    )


def set_args(overrides: list[str]) -> list[str]:
    return [arg for item in overrides for arg in ("--set", item)]


def log_rows(run: Path) -> int:
    try:
        return max(0, len((run / "epochs.csv").read_text().splitlines()) - 1)
    except FileNotFoundError:
        return 0


def wait_for(predicate, proc: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if proc.poll() is not None:
            return
        assert time.monotonic() < deadline, "timed out waiting for the training subprocess"
        time.sleep(0.005)


@pytest.mark.parametrize("scheduler", ["step", "cosine"])
def test_interrupted_in_process_then_resumed_matches_uninterrupted(routines, tiny_overrides, tmp_path,
                                                                   monkeypatch, scheduler):
    overrides = tiny_overrides + DETERMINISTIC + [
        "train.epochs=4", "train.selection=val", f"train.scheduler={scheduler}", "train.step_size=2",
        "train.scheduler_interval=iter",
    ]
    cfg = load_config(None, overrides)
    fit(cfg, tmp_path / "a", routines)

    import longaqa.training as training

    real = training.train_one_epoch
    calls = {"n": 0}

    def interrupted_in_epoch_3(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(training, "train_one_epoch", interrupted_in_epoch_3)
    with pytest.raises(TrainingInterrupted, match="during epoch 3.*epoch 2"):
        fit(cfg, tmp_path / "b", routines)
    assert load_checkpoint(tmp_path / "b" / CHECKPOINT_FILE)["epoch"] == 2
    monkeypatch.setattr(training, "train_one_epoch", real)
    fit(cfg, tmp_path / "b", routines, resume=True)
    assert_same_run(tmp_path / "a", tmp_path / "b")


def test_existing_run_refused_and_resume_rules(routines, tiny_overrides, tmp_path):
    overrides = tiny_overrides + DETERMINISTIC
    fit(load_config(None, overrides), tmp_path / "run", routines)
    with pytest.raises(LongAQAError, match="already holds a run.*--resume"):
        fit(load_config(None, overrides), tmp_path / "run", routines)
    with pytest.raises(LongAQAError, match="already complete"):
        fit(load_config(None, overrides), tmp_path / "run", routines, resume=True)
    with pytest.raises(LongAQAError, match=r"model.d_model: 16 -> 32\).*may only change"):
        fit(load_config(None, overrides + ["model.d_model=32"]), tmp_path / "run", routines, resume=True)
    with pytest.raises(LongAQAError, match="past train.epochs=1"):
        fit(load_config(None, overrides + ["train.epochs=1"]), tmp_path / "run", routines, resume=True)
    with pytest.raises(LongAQAError, match="not a run folder"):
        fit(load_config(None, overrides), tmp_path / "nothing", routines, resume=True)
    # a config key added to longaqa after the checkpoint was written is accepted at its default
    state = load_checkpoint(tmp_path / "run" / CHECKPOINT_FILE)
    del state["config"]["model"]["memory_pe"]
    save_checkpoint(tmp_path / "run" / CHECKPOINT_FILE, state)
    # extending appends to the log without duplicating rows
    fit(load_config(None, overrides + ["train.epochs=3"]), tmp_path / "run", routines, resume=True)
    assert [row["epoch"] for row in read_log(tmp_path / "run")] == ["1", "2", "3"]
    assert load_config(tmp_path / "run" / "config.yaml").train.epochs == 3


def backdate_event_files(folder: Path) -> None:
    """Give the event files in ``folder`` whole-second timestamps in the past, in the order they were
    written, as files of an earlier process have. TensorBoard reads event files in name order, and
    names of one process within one second differ only by a counter ("...9" sorts after "...10"),
    so without this the purge of the stale event depends on how many writers the test session made."""
    files = sorted(folder.glob("events.out.tfevents.*"), key=lambda f: f.stat().st_mtime_ns)
    now = int(time.time())
    for age, path in zip(range(len(files) * 10, 0, -10), files):
        parts = path.name.split(".")  # events, out, tfevents, <seconds>, <host...>, <pid>, <counter>
        parts[3] = f"{now - age:010d}"
        path.rename(path.with_name(".".join(parts)))


def test_resume_extension_equals_longer_run(routines, tiny_overrides, tmp_path):
    overrides = tiny_overrides + DETERMINISTIC + ["train.selection=best-test", "train.tensorboard=true"]
    fit(load_config(None, overrides + ["train.epochs=3"]), tmp_path / "long", routines)
    fit(load_config(None, overrides + ["train.epochs=2"]), tmp_path / "short", routines)
    # a row written after the last checkpoint (as when killed between the two) is dropped on resume
    with (tmp_path / "short" / "epochs.csv").open("a") as fh:
        fh.write("3,0.5,1.0\n4,0.5")
    from torch.utils.tensorboard import SummaryWriter

    with SummaryWriter(str(tmp_path / "short" / "tensorboard")) as writer:
        writer.add_scalar("train/loss", 99.0, 3)
    backdate_event_files(tmp_path / "short" / "tensorboard")
    fit(load_config(None, overrides + ["train.epochs=3"]), tmp_path / "short", routines, resume=True)
    assert_same_run(tmp_path / "long", tmp_path / "short")

    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(tmp_path / "short" / "tensorboard"))
    events.Reload()
    loss = events.Scalars("train/loss")
    assert [e.step for e in loss] == [1, 2, 3] and loss[-1].value != 99.0  # the stale event is purged


def test_non_finite_loss_stops_and_keeps_last_good_checkpoint(routines, tiny_overrides, tmp_path,
                                                               monkeypatch):
    import longaqa.training as training

    real = training.train_one_epoch
    calls = {"n": 0}

    def nan_in_epoch_3(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise NonFiniteLoss("non-finite training loss (loss=nan)")
        return real(*args, **kwargs)

    monkeypatch.setattr(training, "train_one_epoch", nan_in_epoch_3)
    run = tmp_path / "run"
    cfg = load_config(None, tiny_overrides + DETERMINISTIC + ["train.epochs=4"])
    expected = r"epoch 3: non-finite training loss.*last good checkpoint \(epoch 2\)"
    with pytest.raises(NonFiniteLoss, match=expected):
        fit(cfg, run, routines)
    assert load_checkpoint(run / CHECKPOINT_FILE)["epoch"] == 2
    assert not (run / "metrics.json").exists()


def test_exploding_features_give_a_clear_error(tmp_path, tiny_overrides, routines):
    """A real non-finite loss (features so large the forward overflows), no checkpoint yet."""
    from longaqa.data import load_train_test

    cfg = load_config(None, tiny_overrides + DETERMINISTIC)
    train, test = load_train_test(cfg.data, routines, cfg.model.input_dim)
    for sample in train:
        sample.features = sample.features * 1e38
    with pytest.raises(NonFiniteLoss, match="epoch 1: non-finite.*no checkpoint had been written yet"):
        fit(cfg, tmp_path / "run", data=(train, test))


def test_unwritable_and_full_output_reported_before_training(routines, tiny_overrides, tmp_path, monkeypatch):
    cfg = load_config(None, tiny_overrides + DETERMINISTIC)
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(LongAQAError, match="cannot create the run folder"):
        fit(cfg, blocker / "run", routines)

    import shutil

    from longaqa import checkpoint

    usage = shutil.disk_usage(tmp_path)
    monkeypatch.setattr(checkpoint.shutil, "disk_usage", lambda p: usage._replace(free=1024))
    with pytest.raises(LongAQAError, match=r"only 0.0 MiB free, the run needs about"):
        fit(cfg, tmp_path / "full", routines)
    assert not (tmp_path / "full" / "epochs.csv").exists()


def test_sigkill_at_random_moments_then_resume_matches_uninterrupted(routines, tiny_overrides, tmp_path):
    """Kill the real CLI twice with SIGKILL at random moments, resume each time, compare."""
    epochs = 24
    overrides = tiny_overrides + DETERMINISTIC + [
        f"train.epochs={epochs}", "train.selection=val", "train.scheduler=step", "train.step_size=5",
    ]
    fit(load_config(None, overrides), tmp_path / "a", routines)

    seed = int.from_bytes(os.urandom(4), "little")
    rng = random.Random(seed)
    run = tmp_path / "b"
    base = ["train", "--data-root", str(routines), *set_args(overrides)]
    kills = []
    for attempt in range(2):
        after_rows = rng.randint(0, epochs - 8)  # leaves time for the jitter below
        jitter = rng.uniform(0.0, 0.15)
        args = base + (["--out", str(run)] if attempt == 0 else ["--resume", str(run)])
        proc = cli(*args)
        wait_for(lambda: (run / "config.yaml").exists() and log_rows(run) >= after_rows, proc)  # noqa: B023
        time.sleep(jitter)
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            kills.append((after_rows, round(jitter, 3), log_rows(run)))
        out, err = proc.communicate(timeout=120)
        assert proc.returncode in (0, -signal.SIGKILL), f"seed {seed}: {err}"
        if proc.returncode == 0:
            break
    proc = cli("train", "--resume", str(run))
    out, err = proc.communicate(timeout=300)
    if proc.returncode == 2 and "already complete" in err:
        pass  # the last kill came after the run had finished
    else:
        assert proc.returncode == 0, f"seed {seed}, kills {kills}: {err}"
    assert kills, f"seed {seed}: the run finished before it could be killed"
    assert_same_run(tmp_path / "a", run)


def test_sigint_saves_and_exits_cleanly_then_resumes(routines, tiny_overrides, tmp_path):
    overrides = tiny_overrides + DETERMINISTIC + ["train.epochs=20", "train.checkpoint_every=7"]
    fit(load_config(None, overrides), tmp_path / "a", routines)
    run = tmp_path / "b"
    proc = cli("train", "--data-root", str(routines), *set_args(overrides), "--out", str(run))
    wait_for(lambda: log_rows(run) >= 2, proc)
    assert proc.poll() is None, "run finished before SIGINT"
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    assert "checkpoint saved; continue with: longaqa train --resume" in err
    stopped = load_checkpoint(run / CHECKPOINT_FILE)["epoch"]
    assert stopped == log_rows(run) and stopped < 20  # saved at once, not at the next multiple of 7
    proc = cli("train", "--resume", str(run))
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    assert_same_run(tmp_path / "a", run)


def test_cli_refuses_existing_out_and_bad_resume_arguments(routines, tiny_overrides, tmp_path):
    from longaqa.cli import main

    run = tmp_path / "run"
    args = ["train", "--data-root", str(routines), *set_args(tiny_overrides + DETERMINISTIC),
            "--out", str(run)]
    assert main(args) == 0
    assert main(args) == 2
    assert main(["train", "--resume", str(run), "--config", "x.yaml"]) == 2
    assert main(["train", "--resume", str(tmp_path / "elsewhere")]) == 2
    assert main(["train"]) == 2


def test_sigterm_in_process_then_second_sigint_stops_at_once(routines, tiny_overrides, tmp_path,
                                                              monkeypatch):
    """SIGTERM (e.g. a cluster's preemption notice) finishes the epoch and saves; a second Ctrl-C
    during an epoch stops at once and keeps the previous checkpoint."""
    import longaqa.training as training

    overrides = tiny_overrides + DETERMINISTIC + ["train.epochs=4"]
    cfg = load_config(None, overrides)
    fit(cfg, tmp_path / "a", routines)
    real = training.train_one_epoch
    calls = {"n": 0}

    def signal_in_epoch_2(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            os.kill(os.getpid(), signal.SIGTERM)
        return real(*args, **kwargs)

    monkeypatch.setattr(training, "train_one_epoch", signal_in_epoch_2)
    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(TrainingInterrupted, match="SIGTERM: stopped after epoch 2/4, checkpoint saved"):
        fit(cfg, tmp_path / "b", routines)
    assert load_checkpoint(tmp_path / "b" / CHECKPOINT_FILE)["epoch"] == 2
    assert signal.getsignal(signal.SIGTERM) is before  # handlers restored

    def two_ctrl_c_in_epoch_3(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            os.kill(os.getpid(), signal.SIGINT)
            os.kill(os.getpid(), signal.SIGINT)
        return real(*args, **kwargs)

    calls["n"] = 0
    monkeypatch.setattr(training, "train_one_epoch", two_ctrl_c_in_epoch_3)
    expected = r"interrupted during epoch 3; the last good checkpoint \(epoch 2\)"
    with pytest.raises(TrainingInterrupted, match=expected):
        fit(cfg, tmp_path / "c", routines)
    monkeypatch.setattr(training, "train_one_epoch", real)
    fit(cfg, tmp_path / "b", routines, resume=True)
    fit(cfg, tmp_path / "c", routines, resume=True)
    assert_same_run(tmp_path / "a", tmp_path / "b")
    assert_same_run(tmp_path / "a", tmp_path / "c")


@pytest.mark.parametrize(
    "every, seconds, kept", [("0", "1e-9", 2), ("0", "0", None), ("2", "0", 2), ("0", "3600", None)]
)
def test_checkpoint_by_epochs_or_seconds(routines, tiny_overrides, tmp_path, monkeypatch, every, seconds,
                                         kept):
    import longaqa.training as training

    real = training.train_one_epoch
    calls = {"n": 0}

    def interrupted_in_epoch_3(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(training, "train_one_epoch", interrupted_in_epoch_3)
    overrides = tiny_overrides + DETERMINISTIC + [
        "train.epochs=4", f"train.checkpoint_every={every}", f"train.checkpoint_seconds={seconds}"]
    with pytest.raises(TrainingInterrupted):
        fit(load_config(None, overrides), tmp_path / "run", routines)
    path = tmp_path / "run" / CHECKPOINT_FILE
    assert (load_checkpoint(path)["epoch"] if path.exists() else None) == kept
