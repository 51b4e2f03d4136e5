"""Nothing lost, nothing mixed (issue 15): demo --force, concurrent runs in one folder, evaluations of
other data, configs that would exhaust memory."""

from __future__ import annotations

import json
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
    import longaqa.training as training

    def fake_fit(cfg, out_dir, *args, **kwargs):
        Path(out_dir).mkdir(parents=True)
        return {"srcc": 0.5, "rl2_x100": 1.0, "selection": "last"}

    monkeypatch.setattr(training, "fit", fake_fit)
    monkeypatch.setattr(demo, "clip_score_variation", lambda run_dir: 0.1)
    monkeypatch.setattr(demo, "DEMO_ROUTINES", dict(num_train=4, num_test=2, min_clips=10, max_clips=12))
    out = tmp_path / "demo_out"
    assert main(["demo", "--out", str(out)]) == 0
    assert (out / ".longaqa-demo").is_file() and (out / "summary.json").is_file()
    (out / "paper" / "stale.txt").write_text("from the previous demo")
    assert main(["demo", "--out", str(out)]) == 2  # no --force: refused
    assert main(["demo", "--out", str(out), "--force"]) == 0
    assert not (out / "paper" / "stale.txt").exists() and (out / "summary.json").is_file()
