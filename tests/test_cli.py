"""End to end through the real command line: train, evaluate, errors as one line with exit code 2."""

from __future__ import annotations

import csv
import json
import subprocess
import sys

import pytest
import torch
from safetensors.torch import load_file

from longaqa.cli import main
from longaqa.config import load_config

from .conftest import TINY


def test_train_then_evaluate(routines, tmp_path, capsys):
    run = tmp_path / "run"
    code = main(["train", "--data-root", str(routines), "--out", str(run),
                 *sum((["--set", s] for s in TINY), []), "--set", "train.epochs=3"])
    assert code == 0
    trained = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    for name in ("config.yaml", "run.json", "weights.safetensors", "last.safetensors", "metrics.json",
                 "epochs.csv", "predictions.csv"):
        assert (run / name).is_file(), name
    assert any((run / "tensorboard").iterdir())
    rows = list(csv.DictReader((run / "epochs.csv").open()))
    assert [int(r["epoch"]) for r in rows] == [1, 2, 3]
    assert {"train_loss", "train_mse", "train_attention", "test_srcc", "lr"} <= set(rows[0])
    assert len(load_file(str(run / "weights.safetensors"))) > 10

    assert main(["evaluate", str(run)]) == 0
    evaluated = json.loads(capsys.readouterr().out)
    assert {"srcc", "rl2", "n", "selection"} <= set(evaluated)
    assert evaluated["n"] == 12 and evaluated["selection"] == "last"
    assert evaluated["srcc"] == pytest.approx(trained["srcc"], abs=1e-6)
    assert json.loads((run / "metrics.json").read_text())["srcc"] == pytest.approx(evaluated["srcc"])


def test_val_and_best_test_selection_are_labelled(routines, tmp_path, capsys):
    for selection in ("val", "best-test"):
        run = tmp_path / selection
        assert main(["train", "--data-root", str(routines), "--out", str(run),
                     *sum((["--set", s] for s in TINY), []), "--set", f"train.selection={selection}"]) == 0
        metrics = json.loads((run / "metrics.json").read_text())
        assert metrics["selection"] == selection
        assert ("note" in metrics) == (selection == "best-test")
    info = json.loads((tmp_path / "val" / "run.json").read_text())
    assert info["num_val"] == 5 and info["num_train"] == 19


@pytest.mark.parametrize("args, message", [
    (["--set", "train.epoch=1"], "unknown config key"),
    (["--set", "model.input_dim=64"], "does not match model.input_dim=64"),
    (["--set", "data.class_name=Hoop"], "Hoop"),
])
def test_user_errors_are_one_line_exit_2(routines, tmp_path, args, message):
    cmd = [sys.executable, "-m", "longaqa", "train", "--data-root", str(routines), "--out", str(tmp_path / "r"),
           *sum((["--set", s] for s in TINY), []), *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert message in proc.stderr and "Traceback" not in proc.stderr
    assert proc.stderr.startswith("longaqa: error:")


def test_missing_data_root_names_the_folder(tmp_path, capsys):
    code = main(["train", "--data-root", str(tmp_path / "nowhere"), "--out", str(tmp_path / "r")])
    assert code == 2
    assert "nowhere" in capsys.readouterr().err


def test_demo_trains_four_models(tmp_path, capsys):
    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out), "--set", "train.epochs=1", "--set", "train.progress=false",
                 "--seeds", "2"]) == 0
    printed = capsys.readouterr().out
    assert "paper model (weight-score head)" in printed and "mean-pooled baseline" in printed
    assert "5-clip cross-attention window" in printed and printed.count("clip scores vary by") == 2
    assert "seeds 0-1, mean ± std" in printed
    summary = json.loads((out / "summary.json").read_text())
    assert {"paper_srcc", "local_window_srcc", "single_score_srcc", "mean_pool_srcc", "selection"} <= set(summary)
    assert len(summary["paper_srcc_values"]) == 2
    assert summary["paper_srcc"] == pytest.approx(sum(summary["paper_srcc_values"]) / 2)
    assert summary["local_window_clip_score_variation"] >= 0 and summary["paper_clip_score_variation"] >= 0
    for k in (0, 1):
        assert load_config(out / "local_window" / f"seed{k}" / "config.yaml").model.cross_attention_window == 5
        assert load_config(out / "local_window" / f"seed{k}" / "config.yaml").train.seed == k
    assert (out / "routines" / "truth" / "Ball_001.npz").is_file()
    assert main(["demo", "--out", str(out)]) == 2  # refuses to overwrite without --force


def test_eval_every_keeps_metric_columns(routines, tmp_path):
    run = tmp_path / "sparse"
    assert main(["train", "--data-root", str(routines), "--out", str(run), *sum((["--set", s] for s in TINY), []),
                 "--set", "train.epochs=3", "--set", "train.eval_every=2", "--set", "train.tensorboard=false"]) == 0
    rows = list(csv.DictReader((run / "epochs.csv").open()))
    assert [r["epoch"] for r in rows] == ["1", "2", "3"]
    assert rows[0]["test_srcc"] == "" and rows[1]["test_srcc"] != "" and rows[2]["test_srcc"] != ""


@pytest.mark.parametrize("native", [False, True])
def test_precision_auto_follows_the_hardware_and_is_recorded(routines, tmp_path, capsys, monkeypatch, native):
    """``train.precision=auto`` trains in bf16 where the device multiplies bf16 natively, else fp32;
    the choice is printed and kept in run.json, and evaluate uses it again."""
    import longaqa.engine as engine

    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: native)
    monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda: native)
    used = []
    real = engine.autocast
    monkeypatch.setattr(engine, "autocast", lambda device, precision: used.append(precision) or real(device, precision))
    run = tmp_path / "run"
    assert main(["train", "--data-root", str(routines), "--out", str(run), *sum((["--set", s] for s in TINY), []),
                 "--set", "train.epochs=1", "--set", "train.device=cpu", "--set", "train.precision=auto"]) == 0
    expected = "bf16" if native else "fp32"
    assert f"train.precision auto: {expected} on cpu" in capsys.readouterr().err
    assert json.loads((run / "run.json").read_text())["precision"] == expected
    assert used and set(used) == {expected}
    used.clear()
    assert main(["evaluate", str(run)]) == 0
    assert used and set(used) == {expected}


def test_precision_choices_are_checked():
    from longaqa.errors import LongAQAError

    with pytest.raises(LongAQAError, match="fp32, bf16, auto"):
        load_config(None, ["train.precision=fp16"])


@pytest.mark.parametrize("quiet", [False, True])
def test_train_prints_one_line_per_epoch_unless_quiet(routines, tmp_path, capsys, quiet):
    """On a terminal or not (here: captured), train says how far it is: epoch, losses, test metrics,
    seconds and time left, on stderr (stdout keeps the final JSON alone); --quiet silences it."""
    import re

    argv = ["train", "--data-root", str(routines), "--out", str(tmp_path / "run"),
            *sum((["--set", s] for s in TINY), []), "--set", "train.epochs=3", "--set", "train.tensorboard=false",
            *(["--quiet"] if quiet else [])]
    assert main(argv) == 0
    out, err = capsys.readouterr()
    json.loads(out)
    lines = [line for line in err.splitlines() if line.startswith("epoch ")]
    if quiet:
        assert lines == []
        return
    assert len(lines) == 3, err
    pattern = r"epoch {}/3  loss [-0-9.e]+ \(mse [-0-9.e]+, attention [-0-9.e]+\)  test srcc [-0-9.]+ mse [-0-9.e]+  "
    for i, line in enumerate(lines, start=1):
        assert re.match(pattern.format(i), line), line
    assert "ETA" in lines[0] and lines[-1].endswith("done")


COMMAND_FLAG = r"(?:^|\blongaqa\s+|\s)({commands})\s+([^`\n]*)"


def documented_flags() -> list[tuple[str, str, str]]:
    """``(file, command, --flag)`` for every flag written after a longaqa command in the code of the
    README and docs/*.md (fenced blocks and inline code, e.g. ``explain --max-videos``)."""
    import re
    from pathlib import Path

    from longaqa.cli import build_parser

    commands = sorted(subparsers(build_parser()))
    command_flag = re.compile(COMMAND_FLAG.format(commands="|".join(commands)))
    repo = Path(__file__).resolve().parents[1]
    found = []
    for path in [repo / "README.md", *sorted((repo / "docs").glob("*.md"))]:
        text = path.read_text(encoding="utf-8")
        fenced = re.findall(r"```[a-z]*\n(.*?)```", text, flags=re.S)
        indented = re.findall(r"^ {4}(\S.*)$", text, flags=re.M)
        prose = re.sub(r"```.*?```", "", text, flags=re.S)
        inline = [code.replace("\n", " ") for code in re.findall(r"`([^`]+)`", prose)]
        for code in [line for block in fenced for line in block.splitlines()] + indented + inline:
            for command, rest in command_flag.findall(code):
                for flag in re.findall(r"(?<![\w-])--[a-z][a-z0-9-]*", rest.split(" longaqa ")[0]):
                    found.append((path.name, command, flag))
        # "Options of `a`, `b` and `c`: `--x ...`, `--y` ... ." applies every flag to every command named
        for named, options in re.findall(r"[Oo]ptions of ((?:`[a-z]+`(?:, | and )?)+): (.*?)\.(?:\s|$)",
                                         prose.replace("\n", " ")):
            for command in re.findall(r"`([a-z]+)`", named):
                for flag in re.findall(r"`(--[a-z][a-z0-9-]*)", options):
                    found.append((path.name, command, flag))
        # a table of commands, then "Common options: `--x`, `--y` ...;": every command of the table
        for table, options in re.findall(r"((?:^\|[^\n]*\n)+)\n[Cc]ommon options: (.*?)\n\n", prose, flags=re.M | re.S):
            options = re.sub(r"\([^()]*\)", "", options).split(";")[0]  # asides in parentheses left out
            for command in set(re.findall(r"`longaqa ([a-z]+)", table)) & set(commands):
                for flag in re.findall(r"`(--[a-z][a-z0-9-]*)", options):
                    found.append((path.name, command, flag))
    return found


def subparsers(parser) -> dict:
    import argparse

    return next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices


def test_every_flag_in_the_docs_exists():
    """A flag the docs show (e.g. ``explain --max-videos``) that the command refuses is a dead end."""
    from longaqa.cli import build_parser

    parsers = subparsers(build_parser())
    found = documented_flags()
    assert len(found) > 40 and {c for _, c, _ in found} >= {"train", "explain", "report", "extract", "reproduce"}
    missing = sorted({f"{name}: {command} {flag}" for name, command, flag in found
                      if flag not in parsers[command]._option_string_actions})
    assert not missing, "flags in the docs that the command lacks:\n" + "\n".join(missing)
