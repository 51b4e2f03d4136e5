"""Nothing lost, nothing mixed (issue 15): demo --force, concurrent runs in one folder, evaluations of
other data, configs that would exhaust memory."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from longaqa.cli import main

from .conftest import TINY


def sets(items: list[str]) -> list[str]:
    return [arg for item in items for arg in ("--set", item)]


# --- demo --force ------------------------------------------------------------------------------------


@pytest.mark.parametrize("extra", [[], ["--set", "train.epochs=0"]], ids=["foreign-folder", "bad-config"])
def test_demo_force_never_removes_what_a_demo_did_not_write(tmp_path, capsys, extra):
    """--force on a folder the demo did not write is refused; on a demo folder, a bad config is refused
    before anything is removed. Either way every file is kept."""
    out = tmp_path / "here"
    out.mkdir()
    (out / "thesis.tex").write_text("years of work")
    if extra:  # a real demo folder (marker and the demo's names only), then a config error
        (out / "thesis.tex").unlink()
        (out / ".longaqa-demo").write_text("")
        (out / "summary.json").write_text("{}")
    before = sorted(p.name for p in out.iterdir())
    assert main(["demo", "--out", str(out), "--force", *extra]) == 2
    err = capsys.readouterr().err
    assert err.startswith("longaqa: error: ") and err.count("\n") == 1
    assert ("train.epochs" in err) if extra else ("not a folder written by longaqa demo" in err)
    assert sorted(p.name for p in out.iterdir()) == before


def test_demo_force_replaces_its_own_folder(tmp_path, capsys, monkeypatch):
    import longaqa.commands.demo as demo
    import longaqa.group.seeds as seeds

    def fake_fit_seeds(cfg, out_dir, n, *args, **kwargs):
        (Path(out_dir) / "seed0").mkdir(parents=True)
        value = {"mean": 0.5, "std": None, "values": [0.5]}
        return {"runs": [str(Path(out_dir) / "seed0")], "srcc": value, "rl2_x100": value, "selection": "last"}

    monkeypatch.setattr(seeds, "fit_seeds", fake_fit_seeds)
    monkeypatch.setattr(demo, "clip_score_variation", lambda run_dir: 0.1)
    monkeypatch.setattr(demo, "DEMO_ROUTINES", dict(num_train=4, num_test=2, min_clips=10, max_clips=12))
    out = tmp_path / "demo_out"
    assert main(["demo", "--out", str(out)]) == 0
    assert (out / ".longaqa-demo").is_file() and (out / "summary.json").is_file()
    (out / "paper" / "stale.txt").write_text("from the previous demo")
    assert main(["demo", "--out", str(out)]) == 2  # no --force: refused
    assert main(["demo", "--out", str(out), "--force"]) == 0
    assert not (out / "paper" / "stale.txt").exists() and (out / "summary.json").is_file()


# --- one run per folder, nothing written before the start is checked --------------------------------


def train_args(routines: Path, out: Path, *extra: str) -> list[str]:
    return ["train", "--data-root", str(routines), *sets(TINY + ["train.device=cpu", "train.num_threads=1",
                                                                 "train.tensorboard=false"]),
            *extra, "--out", str(out)]


def test_a_second_train_on_a_busy_run_folder_is_refused_and_sigkill_frees_it(routines, tmp_path, capsys):
    """Two trainings in one folder would mix their config, epoch rows and weights: the folder is locked
    (an OS lock, so a SIGKILLed run frees it) and the second start is refused with the first's pid."""
    run = tmp_path / "run"
    argv = train_args(routines, run, "--set", "train.epochs=100000", "--set", "train.checkpoint_seconds=0")
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "longaqa", *argv], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True, env=env)
    try:
        deadline = time.monotonic() + 120
        while not (run / "epochs.csv").is_file():  # training: past every check, writing the folder
            assert proc.poll() is None, proc.stderr.read()
            assert time.monotonic() < deadline, "the training subprocess did not start"
            time.sleep(0.02)
        capsys.readouterr()
        for second in (train_args(routines, run), ["train", "--resume", str(run)]):
            assert main(second) == 2
            err = capsys.readouterr().err
            assert err.startswith("longaqa: error: ") and err.count("\n") == 1
            assert f"another longaqa process (process {proc.pid}) is training in this run folder" in err
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
    # killed before its first checkpoint: --resume restarts it (the lock went with the process)
    assert main(["train", "--resume", str(run), "--set", "train.epochs=1"]) == 0
    assert json.loads((run / "metrics.json").read_text())["epoch"] == 1


@pytest.mark.parametrize("bad", [
    ["--set", "train.weight_decay=-1"],
    ["--set", "model.head_hidden=[-1]"],
    ["--set", "train.num_threads=-1"],
    ["--set", "model.input_dim=64"],  # found by the dataset check
], ids=["weight_decay", "head_hidden", "num_threads", "input_dim"])
def test_a_refused_start_leaves_nothing_and_the_corrected_rerun_works(routines, tmp_path, capsys, bad):
    run = tmp_path / "run"
    assert main(train_args(routines, run, *bad)) == 2
    err = capsys.readouterr().err
    assert err.startswith("longaqa: error: ") and "Traceback" not in err
    assert not run.exists()  # no config.yaml or run.json that would make the rerun "already hold a run"
    assert main(train_args(routines, run)) == 0
    assert sorted(p.name for p in run.iterdir() if not p.name.startswith(".")) == [
        "checkpoint.safetensors", "config.yaml", "epochs.csv", "last.safetensors", "metrics.json",
        "predictions.csv", "run.json", "weights.safetensors"]


def test_train_out_reuses_a_folder_without_a_checkpoint(routines, tmp_path, capsys):
    """What an earlier start left before its first checkpoint (config, run.json, epoch rows) does not
    block a new run there, and its rows do not mix with the new ones; a checkpoint or weights do."""
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.yaml").write_text("train:\n  weight_decay: -1\n")
    (run / "run.json").write_text("{}")
    (run / "epochs.csv").write_text("epoch,train_loss\n1,9.9\n2,9.8\n3,9.7\n")
    assert main(train_args(routines, run, "--set", "train.epochs=2")) == 0
    rows = (run / "epochs.csv").read_text().splitlines()
    assert [r.split(",")[0] for r in rows[1:]] == ["1", "2"] and "9.7" not in rows[-1]
    assert "weight_decay: 1.0e-05" in (run / "config.yaml").read_text()
    assert main(train_args(routines, run)) == 2
    assert "already holds a run" in capsys.readouterr().err


# --- evaluations of other data, undefined metrics --------------------------------------------------


def strict_json(path: Path) -> dict:
    """JSON as the standard has it: NaN and Infinity are refused."""
    def refuse(name):
        raise AssertionError(f"{path} holds {name}, which is not JSON")
    return json.loads(path.read_text(), parse_constant=refuse)


@pytest.fixture(scope="module")
def trained(routines, tmp_path_factory) -> Path:
    run = tmp_path_factory.mktemp("trained") / "run"
    assert main(train_args(routines, run)) == 0
    return run


def test_evaluate_on_other_data_keeps_the_runs_files_and_names_where_it_wrote(routines, trained, tmp_path, capsys):
    import shutil

    run = Path(shutil.copytree(trained, tmp_path / "run"))
    assert strict_json(run / "metrics.json")["data_root"] == str(routines.resolve())
    kept = {name: (run / name).read_bytes() for name in ("metrics.json", "predictions.csv")}
    other = Path(shutil.copytree(routines, tmp_path / "other"))
    rows = (other / "test.txt").read_text().splitlines()
    (other / "test.txt").write_text("\n".join(rows[:6]) + "\n")  # the header and 5 videos
    capsys.readouterr()
    assert main(["evaluate", str(run), "--data-root", str(other)]) == 0
    printed, err = capsys.readouterr()
    assert {name: (run / name).read_bytes() for name in kept} == kept
    [folder] = (run / "evaluations").iterdir()
    assert folder.name.startswith("other-") and str(folder / "metrics.json") in err
    metrics = strict_json(folder / "metrics.json")
    assert metrics["n"] == 5 and metrics["data_root"] == str(other.resolve())
    assert json.loads(printed) == metrics
    assert len((folder / "predictions.csv").read_text().splitlines()) == 6
    # on the run's own dataset, evaluate rewrites the run's files, with the same numbers
    assert main(["evaluate", str(run)]) == 0
    assert strict_json(run / "metrics.json") == json.loads(kept["metrics.json"])


@pytest.mark.parametrize("edit", ["equal-scores", "one-video"])
def test_undefined_metrics_are_null_with_a_note(routines, trained, tmp_path, capsys, edit):
    """SRCC and relative L2 are undefined when every test score is equal or there is one test video:
    metrics.json stays valid JSON (null, not NaN) and says why, and so does the printed line."""
    import shutil

    other = Path(shutil.copytree(routines, tmp_path / f"data_{edit}"))
    rows = (other / "test.txt").read_text().splitlines()
    if edit == "equal-scores":
        rows = [rows[0]] + ["\t".join([r.split("\t")[0], "7", "8", "15", "0", "90"]) for r in rows[1:]]
    else:
        rows = rows[:2]
    (other / "test.txt").write_text("\n".join(rows) + "\n")
    capsys.readouterr()
    for argv, path in (
        (["evaluate", str(trained), "--data-root", str(other)], None),
        (train_args(other, tmp_path / "run"), tmp_path / "run" / "metrics.json"),
    ):
        assert main(argv) == 0
        printed, err = capsys.readouterr()
        path = path or next((trained / "evaluations").glob(f"data_{edit}-*")) / "metrics.json"
        metrics = strict_json(path)
        assert metrics["srcc"] is None and "srcc" in metrics["note"] and "undefined (null)" in metrics["note"]
        assert json.loads(printed.strip().splitlines()[-1], parse_constant=float) == metrics
        assert "note: srcc" in err
