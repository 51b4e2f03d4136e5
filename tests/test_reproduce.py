"""``longaqa reproduce``: the table grids, the authors' preset, and tables produced on generated data."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from longaqa.cli import main
from longaqa.config import load_config
from longaqa.errors import LongAQAError
from longaqa.reproduce import (
    AUTHORS_DEPARTURES,
    TABLES,
    default_configs_dir,
    plan,
    resolve_tables,
    with_paper_numbers,
)

try:  # tests/ as a package or as rootdir-inserted modules: both work
    from .release_layouts import write_release_root
except ImportError:
    from release_layouts import write_release_root

CONFIGS = default_configs_dir()
TINY = [
    "model.input_dim=32", "model.d_model=16", "model.num_heads=2", "model.dim_feedforward=32",
    "model.num_queries=12", "model.head_hidden=[16,8]", "train.epochs=2", "train.batch_size=8",
    "train.progress=false", "train.tensorboard=false",
]


def _sets(overrides: list[str]) -> list[str]:
    return [a for s in overrides for a in ("--set", s)]


@pytest.fixture(scope="module")
def release(tmp_path_factory) -> Path:
    return write_release_root(tmp_path_factory.mktemp("releases"))


def test_every_table_plans_with_the_shipped_configs(tmp_path):
    cells = plan(resolve_tables("all"), CONFIGS, str(tmp_path), tmp_path / "out", 2, [])
    assert {c.table for c in cells} == set(TABLES)
    per_table = {t: sum(c.table == t for c in cells) for t in TABLES}
    assert per_table == {"table1": 12, "table2": 4, "table3": 32, "table4": 32, "table5": 32, "authors": 112}
    # a cell shared by tables is one run: Table 1's RG "Ours" is Table 3's last row
    runs = {(c.table, c.row.name, c.column.name, c.seed): c.run_dir for c in cells}
    assert runs[("table1", "Ours", "Hoop", 1)] == runs[("table3", "+ query init (Ours)", "Hoop", 1)]
    assert runs[("table3", "Baseline", "Hoop", 1)] != runs[("table3", "+ attention loss", "Hoop", 1)]
    assert runs[("table1", "Ours", "Hoop", 0)] != runs[("table1", "Ours", "Hoop", 1)]
    with pytest.raises(LongAQAError, match="unknown table 'table9'"):
        resolve_tables("table9")


def test_the_papers_numbers_are_read_from_the_configs_folder_and_checked(tmp_path):
    tables = {t.name: t for t in with_paper_numbers(resolve_tables("all"), CONFIGS)}
    assert {t.paper_source for t in tables.values()} >= {"Table 1", "Table 2", "Table 3", "Table 4", "Table 5"}
    ours = tables["table1"].rows[0].paper
    assert ours["Ball"] == {"srcc": 0.823} and ours["avg:Fis-V"] == {"srcc": 0.788}
    assert tables["table2"].rows[0].paper["I3D"] == {"srcc": 0.593, "rl2_x100": 1.22}
    assert [r.paper["avg:RG"]["srcc"] for r in tables["table4"].rows] == [0.758, 0.778, 0.751, 0.824]
    assert all(not r.paper for r in tables["authors"].rows[1:-1])  # the departures alone: no number
    assert all(not r.paper for t in TABLES.values() for r in t.rows)  # the definitions hold no numbers

    def refused(text: str, match: str) -> None:
        (tmp_path / "paper").mkdir(exist_ok=True)
        (tmp_path / "paper" / "paper_numbers.csv").write_text(text)
        with pytest.raises(LongAQAError, match=match):
            with_paper_numbers(resolve_tables("all"), tmp_path)

    good = (CONFIGS / "paper" / "paper_numbers.csv").read_text()
    refused(good.replace(",Baseline,", ",Basline,"), r"line 14: table3: row 'Basline' is not one of Baseline")
    refused(good.replace(",Ribbon,", ",Ribon,", 1), "line 5: table1: benchmark 'Ribon' is not one of Ball")
    refused(good.replace(",rl2_x100,", ",rl2,", 1), "table2: metric 'rl2' is not one of srcc, rl2_x100")
    refused(good.replace("0.780", "high"), "table2: value 'high' is not a number")
    refused(good.replace("table5,", "table6,", 1), "unknown table 'table6'")
    refused(good + "table1,Table 1,Ours,Ball,srcc,0.8\n", "table1: Ours Ball srcc given twice")
    refused(good.replace("table4,Table 4,no PE", "table4,Table 3,no PE"), "table table4 needs lines with one source")
    (tmp_path / "paper" / "paper_numbers.csv").unlink()
    with pytest.raises(LongAQAError, match="paper_numbers.csv: the paper's numbers cannot be read"):
        with_paper_numbers(resolve_tables("1"), tmp_path)


def test_table_rows_change_what_their_table_says():
    ball = load_config(CONFIGS / "rg/ball.yaml")
    baseline = load_config([CONFIGS / "rg/ball.yaml", CONFIGS / "paper/table3/baseline.yaml"])
    m = baseline.model
    assert (baseline.loss.lambda_att, m.query_pe, m.query_init_spread) == (0, False, 1)
    assert ball.loss.lambda_att > 0 and ball.model.query_pe
    rows = (CONFIGS / "paper/table4").glob("*.yaml")
    pe = {f.stem: load_config([CONFIGS / "rg/ball.yaml", f]).model for f in rows}
    assert {k: (m.query_pe, m.memory_pe) for k, m in pe.items()} == {
        "none": (False, False), "memory": (False, True), "query_memory": (True, True), "query": (True, False)
    }
    for v in (0.5, 1, 3, 5):
        layered = load_config([CONFIGS / "rg/ball.yaml", CONFIGS / f"paper/table5/variance_{v}.yaml"])
        assert layered.model.query_init_spread == v


def test_authors_preset_is_every_departure_and_each_is_its_own_change():
    ball = load_config(CONFIGS / "rg/ball.yaml").to_dict()
    files = [CONFIGS / f"authors/{name}.yaml" for name, _ in AUTHORS_DEPARTURES]
    assert sorted(files) == sorted((CONFIGS / "authors").glob("*.yaml"))
    for f in files:
        assert load_config([CONFIGS / "rg/ball.yaml", f]).to_dict() != ball, f"{f.name} changes nothing"
    preset = load_config([CONFIGS / "rg/ball.yaml", CONFIGS / "presets/authors.yaml"])
    assert preset.to_dict() == load_config([CONFIGS / "rg/ball.yaml", *files]).to_dict()
    assert load_config(CONFIGS / "authors_variant/rg_ball.yaml").to_dict() == preset.to_dict()
    m, loss, t, d = preset.model, preset.loss, preset.train, preset.data
    assert (m.query_init, m.query_resample_eval, m.query_init_spread, m.query_pos_adds_content) == (
        "resample", True, 2.0, True)
    assert (m.norm, m.self_attn_residual, m.padding_mask, m.attention_dropout) == ("pre", False, False, 0.7)
    assert (d.eval_view, loss.att_temperature, loss.att_kl, loss.att_reduction) == (
        "random_crop", "d", "cross_self", "sum")
    assert (loss.prediction_noise_std, t.scheduler, t.step_size, t.scheduler_interval, t.selection) == (
        0.05, "step", 400, "iter", "best-test")
    fisv = load_config(CONFIGS / "authors_variant/fisv_tes.yaml")
    logo = load_config(CONFIGS / "authors_variant/logo.yaml")
    assert (fisv.model.query_init_spread, fisv.train.batch_size, fisv.data.layout) == (5.0, 32, "fisv")
    assert load_config(CONFIGS / "fisv/tes.yaml").train.batch_size == 48  # the paper's; 32 is the authors'
    assert load_config(CONFIGS / "authors_variant/fisv_pcs.yaml").train.batch_size == 32
    assert (logo.model.query_init_spread, logo.loss.prediction_noise_std) == (0.5, 0.0)


def test_reproduce_table1_on_generated_releases(release, tmp_path, capsys):
    out = tmp_path / "out"
    args = ["reproduce", "table1", "--data-root", str(release), "--seeds", "2", "--out", str(out),
            *_sets(TINY)]
    assert main(args) == 0, capsys.readouterr().err
    printed = capsys.readouterr()
    assert "12 runs, 0 already finished, 12 to train" in printed.err
    assert printed.out.split() == [str(out / "table1.md"), str(out / "table1.csv")]
    rows = list(csv.DictReader((out / "table1.csv").open()))
    lines = {(r["benchmark"], r["kind"]): r for r in rows if r["metric"] == "srcc"}
    extra = {(r["benchmark"], r["metric"]) for r in rows if r["metric"] != "srcc"}
    assert ("TES", "mse_raw") in extra and ("Ball", "rl2_x100") in extra and ("RG avg", "mse") not in extra
    assert set(lines) == {*((c, "cell") for c in ("Ball", "Clubs", "Hoop", "Ribbon", "TES", "PCS")),
                          ("RG avg", "mean"), ("RG avg", "fisher_z"), ("Fis-V avg", "mean"),
                          ("Fis-V avg", "fisher_z")}
    assert lines[("Ball", "cell")]["paper"] == "0.823" and lines[("RG avg", "mean")]["paper"] == "0.842"
    assert lines[("Fis-V avg", "mean")]["paper"] == "0.788" and lines[("RG avg", "fisher_z")]["paper"] == ""
    assert {r["selection"] for r in rows} == {"last"} and {r["n_seeds"] for r in rows} == {"2"}
    # the cell line is the mean over seeds of the run folders' metrics; the average is over classes
    def srcc(column: str) -> list[float]:
        found = sorted((out / "runs" / column).glob("*/seed*/metrics.json"))
        return [json.loads(p.read_text())["srcc"] for p in found]

    assert float(lines[("Ball", "cell")]["mean"]) == pytest.approx(np.mean(srcc("rg-ball")), abs=1e-5)
    rg = [np.mean(srcc(f"rg-{c}")) for c in ("ball", "clubs", "hoop", "ribbon")]
    assert float(lines[("RG avg", "mean")]["mean"]) == pytest.approx(np.mean(rg), abs=1e-5)
    md = (out / "table1.md").read_text()
    assert "| Ball | " in md and "RG avg (plain mean, as the paper)" in md and "RG avg (Fisher z)" in md
    assert "`last` = last epoch (nothing selected on the test set)" in md and "best-test" not in md

    # finished cells are skipped, and Table 3's "Ours" row reuses Table 1's RG runs
    assert main(args) == 0
    assert "12 runs, 12 already finished, 0 to train" in capsys.readouterr().err
    assert main(["reproduce", "table3", "--data-root", str(release), "--seeds", "2", "--out", str(out),
                 "--dry-run", *_sets(TINY)]) == 0
    listing = capsys.readouterr().out.splitlines()
    assert len(listing) == 32
    assert all(line.endswith("todo") is False for line in listing if "(Ours)" in line)
    assert sum("| done |" in line for line in listing) == 8

    # a run whose SRCC was undefined on its test split (metrics.json: null, issue 15) is summarised as nan
    first = sorted((out / "runs" / "rg-ball").glob("*/seed*/metrics.json"))[0]
    first.write_text(json.dumps({**json.loads(first.read_text()), "srcc": None}))
    assert main(args) == 0, capsys.readouterr().err
    rows = list(csv.DictReader((out / "table1.csv").open()))
    assert [r["mean"] for r in rows if (r["benchmark"], r["metric"]) == ("Ball", "srcc")] == ["nan"]


def test_reproduce_table2_best_test_is_labelled(release, tmp_path, capsys):
    out = tmp_path / "out"
    code = main(["reproduce", "2", "--data-root", str(release), "--seeds", "1", "--out", str(out),
                 *_sets([*TINY, "train.selection=best-test"])])
    assert code == 0, capsys.readouterr().err
    rows = list(csv.DictReader((out / "table2.csv").open()))
    assert {(r["benchmark"], r["metric"]) for r in rows} == {
        (b, m) for b in ("VST", "I3D") for m in ("srcc", "rl2_x100", "mse", "mse_raw")}
    assert {r["selection"] for r in rows} == {"best-test"}
    paper = {(r["benchmark"], r["metric"]): r["paper"] for r in rows}
    assert paper[("I3D", "rl2_x100")] == "1.22" and paper[("VST", "srcc")] == "0.78"
    md = (out / "table2.md").read_text()
    assert "best-test: best epoch ON THE TEST SET" in md and "**best-test** (selected on test)" in md

    # an interrupted cell (no metrics.json yet) is continued from its checkpoint, to the same result
    (metrics,) = (out / "runs" / "logo_i3d").glob("*/seed0/metrics.json")
    before = json.loads(metrics.read_text())
    metrics.unlink()
    assert main(["reproduce", "table2", "--data-root", str(release), "--seeds", "1", "--out", str(out),
                 *_sets([*TINY, "train.selection=best-test"])]) == 0
    assert "was left unfinished; continuing it" in capsys.readouterr().err
    after = json.loads(metrics.read_text())
    assert (after["srcc"], after["epoch"]) == (before["srcc"], before["epoch"])


def test_reproduce_refuses_missing_data_before_training(tmp_path, capsys):
    (tmp_path / "rg").mkdir()
    code = main(["reproduce", "table1", "--data-root", str(tmp_path), "--seeds", "1",
                 "--out", str(tmp_path / "o")])
    assert code == 2
    err = capsys.readouterr().err
    assert "data missing for reproduce" in err and "swintx_avg_fps25_clip32" in err and "fisv" in err
    assert not (tmp_path / "o").exists()


def test_query_resample_eval_makes_test_predictions_random():
    """The authors' departure: queries redrawn at evaluation too; the package default keeps one draw."""
    import torch

    from longaqa.models import build_model

    x = torch.randn(2, 12, 32)
    for resample_eval, differ in ((False, False), (True, True)):
        sets = [*TINY, "model.query_init=resample", f"model.query_resample_eval={resample_eval}"]
        cfg = load_config(None, sets)
        model = build_model(cfg.model).eval()
        with torch.no_grad():
            a, b = model(x).pred, model(x).pred
        assert (not torch.allclose(a, b)) is differ


def test_every_shipped_config_parses():
    files = sorted(CONFIGS.rglob("*.yaml"))
    assert len(files) >= 30
    for f in files:
        load_config(f)  # raises LongAQAError on an unknown key or a bad value


def test_reproduce_names_a_missing_label_file_before_training(release, tmp_path, capsys):
    import shutil

    data = tmp_path / "data"
    shutil.copytree(release / "logo", data / "logo")
    (data / "logo" / "test_split3.pkl").unlink()
    out = str(tmp_path / "o")
    code = main(["reproduce", "table2", "--data-root", str(data), "--seeds", "1", "--out", out])
    assert code == 2
    assert "test_split3.pkl: LOGO test split not found" in capsys.readouterr().err
    assert not (tmp_path / "o" / "runs").exists()


def test_identity_ignores_keys_added_later_at_their_old_behaviour():
    """A key added after cells were first hashed (at the value that behaves as before) and runtime
    keys leave a cell's identity unchanged; any other value changes it."""
    from longaqa.config import load_config
    from longaqa.reproduce import identity

    base = identity(load_config(None, []), None)
    assert identity(load_config(None, ["model.cross_attention_window=0", "train.cpu_malloc=system"]), None) == base
    assert identity(load_config(None, ["model.cross_attention_window=3"]), None) != base
    # the identity a default config had before either key existed
    assert base == identity_without(load_config(None, []), {"model": ["cross_attention_window"],
                                                            "train": ["cpu_malloc"]})


def identity_without(cfg, removed: dict[str, list[str]]) -> str:
    import hashlib
    import json

    d = cfg.to_dict()
    for section, keys in removed.items():
        for key in keys:
            del d[section][key]
    from longaqa.reproduce import RUNTIME_KEYS

    d["train"] = {k: v for k, v in d["train"].items() if k not in (*RUNTIME_KEYS["train"], "seed")}
    d["_data_root"] = None
    return hashlib.sha256(json.dumps(d, sort_keys=True).encode()).hexdigest()[:10]


def test_reproduce_goes_on_when_a_cells_srcc_is_undefined(release, tmp_path, capsys, monkeypatch):
    """A run whose SRCC is undefined (all test scores equal: null in metrics.json, issue 15) is logged
    and summarised as nan instead of stopping the table with a traceback."""
    import longaqa.training as training

    def fake_fit(cfg, out_dir, *args, **kwargs):
        metrics = {"srcc": None, "rl2": None, "rl2_x100": None, "mse": 0.5, "mse_raw": 2.0, "n": 1,
                   "split": "test", "selection": "last", "epoch": 1}
        Path(out_dir).mkdir(parents=True, exist_ok=True)
        (Path(out_dir) / "metrics.json").write_text(json.dumps(metrics))
        return metrics

    monkeypatch.setattr(training, "fit", fake_fit)
    out = tmp_path / "out"
    assert main(["reproduce", "table1", "--data-root", str(release), "--seeds", "1", "--out", str(out),
                 *_sets(TINY)]) == 0
    assert "seed 0: srcc nan" in capsys.readouterr().err
    rows = list(csv.DictReader((out / "table1.csv").open()))
    assert {r["mean"] for r in rows if r["metric"] == "srcc"} == {"nan"}


def test_reproduce_in_groups_writes_the_same_run_folders(release, tmp_path, capsys):
    """--group 8: the RG classes x seeds of table 1 train as one group (the same model, loss and
    optimizer; other classes and seeds); every cell gets the run folder a lone run writes."""
    out = tmp_path / "out"
    args = ["reproduce", "table1", "--data-root", str(release), "--seeds", "2", "--out", str(out),
            *_sets(TINY), "--group", "8"]
    assert main(args) == 0, capsys.readouterr().err
    err = capsys.readouterr().err
    assert "12 runs, 0 already finished, 12 to train" in err and "(at most 8 runs each)" in err
    records = [json.loads(p.read_text()) for p in (out / "groups").glob("*.json")]
    assert sorted(len(r["runs"]) for r in records)[-1] == 8  # the four RG classes x two seeds
    assert all(r["epoch"] == 2 for r in records)
    lone = {"config.yaml", "run.json", "epochs.csv", "metrics.json", "predictions.csv", "weights.safetensors",
            "last.safetensors", "checkpoint.safetensors"}
    runs = sorted((out / "runs").glob("*/*/seed*"))
    assert len(runs) == 12
    for run in runs:
        assert lone <= {p.name for p in run.iterdir()}, run
    assert (out / "table1.md").is_file()
    assert main(args) == 0  # finished: nothing to train
    assert "12 runs, 12 already finished, 0 to train" in capsys.readouterr().err
    assert main([*args[:-1], "0"]) == 2  # --group 0
