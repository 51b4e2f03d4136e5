"""explain and report: outputs replaced whole or not at all; bad --out refused before any work."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from longaqa.cli import main
from longaqa.config import load_config
from longaqa.errors import LongAQAError
from longaqa.interpret import explanation as explanation_module
from longaqa.interpret.explanation import explain_video, write_explanation
from longaqa.interpret.report import write_report
from longaqa.models import model_from_config
from tests.conftest import TINY


@pytest.fixture
def expl():
    cfg = load_config(None, list(TINY))
    model = model_from_config(cfg).eval()
    return explain_video(model, cfg, "v", np.random.default_rng(0).normal(size=(10, 32)).astype(np.float32), 10.0)


def test_a_failed_write_keeps_the_previous_explanation(expl, tmp_path, monkeypatch):
    folder = write_explanation(expl, tmp_path / "v")
    before = {p.name: p.read_bytes() for p in folder.iterdir()}

    def disk_full(writer, *args):
        writer.writerow(["clip"])
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(explanation_module, "_write_clips", disk_full)
    with pytest.raises(LongAQAError, match="clips.csv: could not be written.*previous version is kept"):
        write_explanation(expl, folder)
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before  # no half file, no temp file


def test_a_failed_report_keeps_the_previous_page(expl, tmp_path, monkeypatch):
    out = write_report(None, [expl], tmp_path / "r.html")
    page = out.read_bytes()
    monkeypatch.setattr(os, "fsync", lambda fd: (_ for _ in ()).throw(OSError(28, "No space left on device")))
    with pytest.raises(LongAQAError, match="r.html: could not be written"):
        write_report(None, [expl], out)
    assert out.read_bytes() == page and [p.name for p in tmp_path.iterdir()] == ["r.html"]


def test_output_paths_refused_in_one_line(expl, tmp_path, capsys):
    a_file = tmp_path / "file.txt"
    a_file.write_text("keep me")
    with pytest.raises(LongAQAError, match="is a file, not a folder"):
        write_explanation(expl, a_file)
    assert a_file.read_text() == "keep me"
    with pytest.raises(LongAQAError, match="is a folder"):
        write_report(None, [expl], tmp_path)
    assert main(["report", str(tmp_path / "no_run"), "--out", str(tmp_path)]) == 2  # before reading the run
    assert "is a folder" in capsys.readouterr().err


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_read_only_folder_is_one_clear_error(expl, tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        with pytest.raises(LongAQAError, match="not writable|could not"):
            write_explanation(expl, locked / "v")
    finally:
        locked.chmod(0o700)


@pytest.fixture(scope="module")
def long_name_data(routines, tmp_path_factory):
    """A trained tiny run and a copy of its dataset whose test split lists a 300-character video name."""
    import shutil

    root = tmp_path_factory.mktemp("long_name")
    data = Path(shutil.copytree(routines, root / "data"))
    with (data / "test.txt").open("a", encoding="utf-8") as fh:
        fh.write("Ball_" + "x" * 300 + "\t1\t2\t3\t0\t30\n")
    args = [a for item in [*TINY, "train.epochs=1", "train.tensorboard=false"] for a in ("--set", item)]
    assert main(["train", "--data-root", str(routines), *args, "--quiet", "--out", str(root / "run")]) == 0
    return root / "run", data


@pytest.mark.parametrize("command", [
    ["explain", "--out", "{tmp}/explained"],
    ["interpretability", "--num-random", "1"],
    ["report", "--out", "{tmp}/report.html"],
])
def test_a_300_character_video_name_is_one_line(long_name_data, command, tmp_path, capsys):
    run, data = long_name_data
    argv = [command[0], str(run), "--data-root", str(data), *(a.format(tmp=tmp_path) for a in command[1:])]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("longaqa: error: ") and err.count("\n") == 1 and "Traceback" not in err
    assert "characters): cannot be read (File name too long); check the label files' video names" in err
    assert len(err) < 400  # the name is cut short
    assert not (tmp_path / "explained").exists() and not (tmp_path / "report.html").exists()


@pytest.mark.parametrize("command, out", [
    (["explain", "--features", "{feature}"], "x" * 300),
    (["report"], "x" * 300 + ".html"),
])
def test_an_out_name_too_long_is_one_line(long_name_data, routines, command, out, tmp_path, capsys):
    run, _ = long_name_data
    feature = next((routines / "swintx_avg_fps25_clip32").glob("*.npy"))
    argv = [command[0], str(run), *(a.format(feature=feature) for a in command[1:]), "--out", str(tmp_path / out)]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("longaqa: error: ") and err.count("\n") == 1 and "(File name too long)" in err
    assert "characters)" in err and len(err) < 400
