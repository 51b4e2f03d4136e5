"""explain and report: outputs replaced whole or not at all; bad --out refused before any work."""

from __future__ import annotations

import os

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
