"""The additive head: parts that add up to the judges' sub-scores, locality, sub-score loading and
training, explanations with parts, truth files with partial fields and faithfulness."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from longaqa.config import DataConfig, load_config
from longaqa.data import load_split
from longaqa.data.dataset import VideoSample
from longaqa.data.subscores import load_subscores
from longaqa.errors import LongAQAError
from longaqa.interpret.agreement import read_truth, truth_agreement
from longaqa.interpret.explanation import explain_video, read_explanation, write_explanation
from longaqa.interpret.perturbation import faithfulness, leave_one_out_effects
from longaqa.losses import Criterion
from longaqa.models import build_model, model_from_config
from longaqa.sheets import FISV_SHEET, HOLISTIC_SHEET, RG_ARTISTIC_SHEET, RG_SHEET, SINGLE_SHEET, score_sheet
from tests.conftest import SHARED, TINY, train_tiny_additive

RG_LABELS = SHARED / "data" / "rg_labels"
FISV_LABELS = SHARED / "data" / "fisv_labels"
needs_rg = pytest.mark.skipif(not RG_LABELS.is_dir(), reason="shared RG label files absent")
needs_fisv = pytest.mark.skipif(not FISV_LABELS.is_dir(), reason="shared Fis-V label files absent")


def additive_model(sheet=RG_SHEET, window=2, divisor=25.0, **overrides):
    cfg = load_config(None, [*TINY, "model.head=additive", f"model.local_window={window}",
                             "model.local_hidden=8", *[f"{k}={v}" for k, v in overrides.items()]])
    torch.manual_seed(0)
    return build_model(cfg.model, sheet, divisor).eval()


@pytest.mark.parametrize("sheet", [RG_SHEET, RG_ARTISTIC_SHEET, FISV_SHEET, SINGLE_SHEET, HOLISTIC_SHEET],
                         ids=lambda s: s.name)
def test_parts_sum_to_subscores_and_total(sheet):
    model = additive_model(sheet)
    x = torch.randn(3, 12, 32)
    lengths = torch.tensor([12, 9, 5])
    with torch.no_grad():
        out = model(x, lengths)
    parts, video = out.clip_parts.double(), out.video_terms.double()
    assert (parts >= 0).all() and (video >= 0).all()
    assert (parts[1, 9:] == 0).all() and (parts[2, 5:] == 0).all()  # padded clips add nothing
    sums = dict(zip(sheet.clip_parts, parts.sum(1).unbind(-1)))
    sums.update(zip(sheet.video_terms, video.unbind(-1)))
    for name, (constant, sources) in sheet.subscores.items():
        expected = constant / 25.0 + sum(sign * sums[src] for src, sign in sources)
        torch.testing.assert_close(out.subscores[name].double(), expected, rtol=1e-5, atol=1e-6)
    total = sheet.constant / 25.0 + out.clip_contributions.double().sum(1) + video @ torch.tensor(
        sheet.video_signs, dtype=torch.float64)
    torch.testing.assert_close(out.pred.double(), total, rtol=1e-5, atol=1e-6)
    if sheet.columns == "rg":  # total = D + E - P, as on the score sheet
        s = out.subscores
        torch.testing.assert_close(out.pred, s["difficulty"] + s["execution"] - s["penalty"])
    if sheet is RG_ARTISTIC_SHEET:  # E = 10 - located deductions - the routine's artistry term
        artistry = video[:, sheet.video_terms.index("artistry")]
        torch.testing.assert_close(out.subscores["execution"].double(),
                                   10 / 25.0 - sums["deduction"] - artistry, rtol=1e-5, atol=1e-6)


STRICT = {"model.local_background": "false"}  # parts from the window alone: locality is exact


@pytest.mark.parametrize("window,contrast", [(0, False), (1, False), (3, False), (1, True), (3, True)])
def test_a_clip_moves_only_the_parts_within_the_window(window, contrast):
    model = additive_model(window=window, **STRICT, **{"model.local_contrast": str(contrast).lower()})
    x = torch.randn(2, 12, 32)
    lengths = torch.tensor([12, 10])
    k = 5
    y = x.clone()
    y[:, k] += 3.0 * torch.randn(32)
    with torch.no_grad():
        a, b = model(x, lengths).clip_parts, model(y, lengths).clip_parts
    far = (torch.arange(12) - k).abs() > window
    assert torch.equal(a[:, far], b[:, far])  # exactly: nothing outside the window enters a part
    # with contrast a part can be exactly 0 before and after (relu), so ask only that some part moved
    assert not torch.equal(a[:, ~far], b[:, ~far]) if contrast else not torch.equal(a[:, k], b[:, k])


def test_with_local_contrast_a_clip_like_its_neighbours_earns_nothing():
    model = additive_model(window=2, **STRICT, **{"model.local_contrast": "true"})
    assert all(layer.bias is None for layer in model.head.local.own if isinstance(layer, torch.nn.Linear))
    routine = torch.randn(32).expand(1, 10, 32).clone()  # every clip alike
    with torch.no_grad():
        alike = model(routine, torch.tensor([10])).clip_parts
        routine[0, 4] += 3.0 * torch.randn(32)  # one clip stands out: only its window can earn
        parts = model(routine, torch.tensor([10])).clip_parts
    assert alike.abs().max() < 1e-6  # 0 up to the rounding of a mean of equal embeddings
    assert parts[0, (torch.arange(10) - 4).abs() > 2].abs().max() < 1e-6 and (parts >= 0).all()
    assert parts.max() > 1e-3
    with pytest.raises(LongAQAError, match="local_contrast needs model.local_window >= 1"):
        load_config(None, [*TINY, "model.head=additive", "model.local_window=0", "model.local_contrast=true",
                           "model.local_background=false"])
    with pytest.raises(LongAQAError, match="set model.local_background=false"):
        load_config(None, [*TINY, "model.head=additive", "model.local_contrast=true"])


def test_the_loss_uses_every_subscore():
    model = additive_model()
    cfg = load_config(None, [*TINY, "model.head=additive", "loss.subscore_weights={penalty: 0.5}"]).loss
    criterion = Criterion(cfg, 16)
    x, lengths = torch.randn(4, 12, 32), torch.full((4,), 12)
    target = torch.rand(4)
    out = model(x, lengths)
    labels = {k: v.detach().clone() for k, v in out.subscores.items()}  # sub-score terms start at 0
    terms = criterion(out, target, labels)
    for name, weight in (("difficulty", 1.0), ("execution", 1.0), ("penalty", 0.5)):
        assert float(terms[f"mse_{name}"].detach()) == 0.0
        changed = dict(labels, **{name: labels[name] + 1.0})  # each column moves the loss by its weight
        moved = float(criterion(out, target, changed)["loss"].detach()) - float(terms["loss"].detach())
        assert moved == pytest.approx(weight, rel=1e-4)
    weighted = terms["mse_difficulty"] + terms["mse_execution"] + 0.5 * terms["mse_penalty"]
    torch.testing.assert_close(terms["subscores_weighted"], weighted)
    torch.testing.assert_close(terms["loss"], terms["mse_weighted"] + terms["attention_weighted"] + weighted)


@needs_rg
def test_real_rg_labels_give_subscores_that_add_up():
    for split in ("train", "test"):
        subs = load_subscores(DataConfig(layout="rg", class_name="Ball"), RG_LABELS, split, RG_SHEET)
        assert len(subs) == {"train": 200, "test": 50}[split]
        assert set(next(iter(subs.values()))) == {"difficulty", "execution", "penalty"}


@needs_fisv
def test_real_fisv_labels_subscores_and_total(tmp_path):
    for name in ("train_dataset.txt", "test_dataset.txt"):
        (tmp_path / name).write_bytes((FISV_LABELS / name).read_bytes())
    subs = load_subscores(DataConfig(layout="fisv"), tmp_path, "test", FISV_SHEET)
    assert len(subs) == 100 and set(subs["2"]) == {"TES", "PCS", "deductions"}
    from longaqa.data.fisv import load_fisv_split

    totals = dict(load_fisv_split(tmp_path, "test", "total"))
    assert totals["2"] == pytest.approx(28.88 + 27.08 - 1)  # first row of the release: 2 28.88 27.08 1


@needs_rg
def test_rg_row_that_does_not_add_up_is_reported_with_file_and_line(tmp_path):
    lines = (RG_LABELS / "train.txt").read_text().splitlines()
    fields = lines[3].split("\t")
    fields[3] = f"{float(fields[3]) + 1:.2f}"  # total no longer D + E - P
    lines[3] = "\t".join(fields)
    (tmp_path / "train.txt").write_text("\n".join(lines) + "\n")
    with pytest.raises(LongAQAError, match=r"train\.txt.*line 4"):
        load_subscores(DataConfig(layout="rg", class_name="Ball"), tmp_path, "train", RG_SHEET)
    from longaqa.data.rg import load_rg_split  # training on the total alone reads it as before

    assert len(load_rg_split(tmp_path, "train", "Ball", "total")) == 200


def test_sheet_choice_errors():
    with pytest.raises(LongAQAError, match="logo layout has no rg"):
        score_sheet(DataConfig(layout="logo", subscores="rg"))
    with pytest.raises(LongAQAError, match="data.target"):
        score_sheet(DataConfig(layout="rg", target="difficulty"))
    assert score_sheet(DataConfig(layout="rg", target="difficulty", subscores="none")) is SINGLE_SHEET
    assert score_sheet(DataConfig(layout="logo")) is HOLISTIC_SHEET  # one total with a holistic mark
    assert score_sheet(DataConfig(layout="rg", subscores="rg_artistic")) is RG_ARTISTIC_SHEET
    assert score_sheet(DataConfig(layout="generic", subscores="rg_artistic")) is RG_ARTISTIC_SHEET
    for layout in ("fisv", "logo"):
        with pytest.raises(LongAQAError, match=f"{layout} layout has no rg_artistic sub-score columns"):
            score_sheet(DataConfig(layout=layout, subscores="rg_artistic"))
    assert score_sheet(DataConfig(layout="generic")) is HOLISTIC_SHEET
    assert score_sheet(DataConfig(layout="logo", subscores="none")) is SINGLE_SHEET
    # the holistic sheet needs no sub-score column: any layout, any target
    for layout, target in (("logo", "total"), ("generic", "total"), ("rg", "execution"), ("fisv", "PCS")):
        assert score_sheet(DataConfig(layout=layout, target=target, subscores="holistic")) is HOLISTIC_SHEET


def test_generic_layout_lacking_subscore_columns_is_a_clear_error(tmp_path):
    (tmp_path / "feats").mkdir()
    (tmp_path / "labels.csv").write_text("name,score,split\na,1.0,train\n")
    cfg = DataConfig(layout="generic", features_dir="feats", subscores="rg")
    with pytest.raises(LongAQAError, match=r"labels\.csv.*difficulty, execution, penalty"):
        load_subscores(cfg, tmp_path, "train", score_sheet(cfg))


def test_generic_layout_with_subscore_columns(tmp_path):
    (tmp_path / "feats").mkdir()
    rows = ["name,score,split,difficulty,execution,penalty", "a,15.0,train,8.0,7.5,0.5", "b,12.0,test,6,6,0"]
    (tmp_path / "labels.csv").write_text("\n".join(rows) + "\n")
    for name in ("a", "b"):
        np.save(tmp_path / "feats" / f"{name}.npy", np.ones((4, 8), np.float32))
    cfg = DataConfig(layout="generic", features_dir="feats", subscores="rg", score_divisor=2.0)
    (sample,) = load_split(cfg, tmp_path, "train", 8, sheet=score_sheet(cfg))
    assert sample.subscores == {"difficulty": 4.0, "execution": 3.75, "penalty": 0.25}
    (tmp_path / "labels.csv").write_text("\n".join([rows[0], "a,16.0,train,8.0,7.5,0.5", rows[2]]) + "\n")
    with pytest.raises(LongAQAError, match="do not add up"):
        load_split(cfg, tmp_path, "train", 8, sheet=score_sheet(cfg))


def test_explanation_writes_parts_that_add_up(tmp_path):
    cfg = load_config(None, [*TINY, "model.head=additive", "model.local_hidden=8"])
    model = model_from_config(cfg).eval()
    features = np.random.default_rng(0).normal(size=(10, 32)).astype(np.float32)
    expl = explain_video(model, cfg, "v", features, 14.0)
    folder = write_explanation(expl, tmp_path / "v")
    with (folder / "clips.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0])[:6] == ["clip", "start_s", "end_s", "weight", "score", "contribution"]
    assert {"difficulty", "deduction"} <= set(rows[0])
    assert rows[0]["weight"] == "" and rows[0]["score"] == ""
    summary = json.loads((folder / "explanation.json").read_text())
    contributions = [float(r["contribution"]) for r in rows]
    assert sum(contributions) + summary["video_level"] == pytest.approx(summary["pred"], abs=1e-4)
    for r in rows:  # contribution = difficulty - deduction per clip
        d, ded = float(r["difficulty"]), float(r["deduction"])
        assert float(r["contribution"]) == pytest.approx(d - ded, abs=1e-5 * max(1.0, d, ded))  # 6 digits
    d, ded = (sum(float(r[k]) for r in rows) for k in ("difficulty", "deduction"))
    assert d == pytest.approx(summary["subscores"]["difficulty"], rel=1e-4)
    assert 10 - ded == pytest.approx(summary["subscores"]["execution"], rel=1e-4)
    back = read_explanation(folder)
    assert back.additive and set(back.clip_parts) == {"difficulty", "deduction"}
    np.testing.assert_allclose(back.clip_contribution, expl.clip_contribution, rtol=1e-5, atol=1e-6)
    # the background prior (on by default): each clip's foreground, last column; a clip at 0 earns nothing
    assert list(rows[0])[-1] == "foreground"
    foreground = np.array([float(r["foreground"]) for r in rows])
    assert ((foreground >= 0) & (foreground <= 1)).all()
    for r, f in zip(rows, foreground):
        if f == 0:
            assert float(r["difficulty"]) == 0 and float(r["deduction"]) == 0
    np.testing.assert_allclose(back.clip_foreground, foreground)
    # how clearly the background won: at most 1, the same number written and read back
    assert summary["background_margin"] <= 1 and back.background_margin == summary["background_margin"]
    memory = model.input_proj(torch.as_tensor(features)[None])
    assert summary["background_margin"] == pytest.approx(
        float(model.head.local.background_margin(memory, torch.ones(1, 10, dtype=torch.bool))[0]))
    strict = load_config(None, [*TINY, "model.head=additive", "model.local_hidden=8", "model.local_background=false"])
    plain_expl = explain_video(model_from_config(strict).eval(), strict, "v", features, 14.0)
    plain = write_explanation(plain_expl, tmp_path / "p")
    assert "foreground" not in (plain / "clips.csv").read_text().splitlines()[0]
    assert read_explanation(plain).clip_foreground is None and read_explanation(plain).background_margin is None


def test_truth_with_partial_fields(tmp_path):
    cfg = load_config(None, [*TINY, "model.head=additive", "model.local_hidden=8"])
    model = model_from_config(cfg).eval()
    features = np.random.default_rng(1).normal(size=(10, 32)).astype(np.float32)
    expl = explain_video(model, cfg, "v", features)
    np.savez(tmp_path / "only_difficulty.npz", difficulty=expl.clip_parts["difficulty"].astype(np.float32))
    truth = read_truth(tmp_path / "only_difficulty.npz")
    assert set(truth) == {"difficulty"}
    result = truth_agreement([(expl, truth)])
    assert result["fields"] == ["difficulty"] and result["difficulty_spearman"] == pytest.approx(1.0)
    reverse = {"deduction": -expl.clip_parts["deduction"], "contribution": expl.clip_contribution}
    result = truth_agreement([(expl, reverse)])
    assert result["deduction_spearman"] == pytest.approx(-1.0)
    assert result["contribution_spearman"] == pytest.approx(1.0)
    np.savez(tmp_path / "zero_d.npz", difficulty=np.array(1.0), contribution=np.array(2.0))
    with pytest.raises(LongAQAError, match="1-d"):
        read_truth(tmp_path / "zero_d.npz")
    np.savez(tmp_path / "none.npz", other=np.ones(10))
    with pytest.raises(LongAQAError, match="none of the per-clip fields"):
        read_truth(tmp_path / "none.npz")


def test_faithfulness_is_exact_without_context_or_video_terms():
    """Window 0 and one part per clip: hiding clip k removes exactly its contribution."""
    model = additive_model(SINGLE_SHEET, window=0, divisor=1.0, **STRICT)
    x = np.random.default_rng(2).normal(size=(9, 32)).astype(np.float32)
    with torch.no_grad():
        contribution = model(torch.from_numpy(x)[None], torch.tensor([9])).clip_contributions[0].numpy()
    np.testing.assert_allclose(leave_one_out_effects(model, x, 1.0), contribution, rtol=1e-4, atol=1e-6)
    result = faithfulness(model, [x], {"c": [contribution], "reversed": [-contribution]}, 1.0)
    assert result["c"]["r"] == pytest.approx(1.0) and result["c"]["slope"] == pytest.approx(1.0, rel=1e-3)
    assert result["reversed"]["r"] == pytest.approx(-1.0)


def test_calibrate_starts_parts_near_their_typical_values():
    model = additive_model()
    samples = [VideoSample(f"v{i}", torch.randn(10, 32), 0.6,
                           {"difficulty": 0.32, "execution": 0.3, "penalty": 0.02}) for i in range(4)]
    scales = model.head.calibrate(samples)
    assert scales["difficulty"] == pytest.approx(0.032)
    assert scales["deduction"] == pytest.approx((10 / 25 - 0.3) / 10)
    assert scales["penalty"] == pytest.approx(0.02)


def test_calibrate_shares_a_total_that_no_subscore_splits():
    model = additive_model(HOLISTIC_SHEET, divisor=1.0)
    samples = [VideoSample(f"v{i}", torch.randn(10, 32), 0.8) for i in range(4)]
    scales = model.head.calibrate(samples)
    assert scales["impression"] == pytest.approx(0.4)  # half the total's mean to the video term
    assert scales["contribution"] == pytest.approx(0.04)  # half to the clips, per clip
    single = additive_model(SINGLE_SHEET, divisor=1.0).head.calibrate(samples)
    assert single["contribution"] == pytest.approx(0.08)  # the only source of the total


def test_holistic_sheet_trains_and_explains_the_impression_apart(tmp_path):
    from longaqa.cli import main
    from longaqa.data.generators import write_generated

    data = write_generated("swimming_heldout", tmp_path / "data", num_train=12, num_test=6, feature_dim=32,
                           min_clips=28, max_clips=30)
    run = tmp_path / "run"
    args = ["train", "--data-root", str(data), "--out", str(run)]
    for item in [*TINY, "model.head=additive", "model.local_hidden=8", "model.num_queries=30",
                 "data.layout=generic", "data.class_name=", "data.features_dir=features", "data.score_divisor=100",
                 "data.subscores=holistic"]:
        args += ["--set", item]
    assert main(args) == 0
    assert main(["explain", str(run), "--split", "test", "--no-plots", "--out", str(tmp_path / "expl")]) == 0
    folders = [p for p in (tmp_path / "expl").iterdir() if (p / "explanation.json").is_file()]
    assert len(folders) == 6
    for folder in folders:
        summary = json.loads((folder / "explanation.json").read_text())
        assert set(summary["video_terms"]) == {"impression"} and summary["video_terms"]["impression"] >= 0
        assert summary["video_level"] == pytest.approx(summary["video_terms"]["impression"], abs=1e-4)
        with (folder / "clips.csv").open() as fh:
            contributions = [float(r["contribution"]) for r in csv.DictReader(fh)]
        assert sum(contributions) + summary["video_level"] == pytest.approx(summary["pred"], abs=1e-3)


def test_train_explain_on_generated_rg_routines(tmp_path, capsys):
    from longaqa.cli import main

    run = train_tiny_additive(tmp_path)
    metrics = json.loads((run / "metrics.json").read_text())
    assert set(metrics["subscores"]) == {"difficulty", "execution", "penalty"}
    epochs = (run / "epochs.csv").read_text().splitlines()[0]
    assert "train_mse_difficulty" in epochs and "train_mse_execution" in epochs
    capsys.readouterr()
    assert main(["explain", str(run), "--no-plots", "--out", str(tmp_path / "ex")]) == 0
    folder = next(p for p in (tmp_path / "ex").iterdir() if p.is_dir())
    assert "deduction" in (folder / "clips.csv").read_text().splitlines()[0]
    # the videos whose background barely won are named in explain's note, and only they
    from longaqa.models.background import FRAGILE_MARGIN

    summaries = [json.loads(p.read_text()) for p in (tmp_path / "ex").glob("*/explanation.json")]
    assert len(summaries) == 8 and all("background_margin" in s for s in summaries)
    fragile = [s["name"] for s in summaries if s["background_margin"] < FRAGILE_MARGIN]
    out = capsys.readouterr().out
    assert ("background won by a margin below" in out) == bool(fragile)
    assert all(name in out for name in fragile) or len(fragile) > 5
    assert main(["interpretability", str(run)]) == 0
    result = json.loads((run / "interpretability.json").read_text())
    assert {"difficulty", "deduction", "contribution"} <= set(result["truth"]["fields"])
    assert set(result["faithfulness"]) == {"contribution", "centred_contribution"}


def test_subscore_columns_only_read_by_the_additive_head(tmp_path):
    path = Path(tmp_path)
    assert path.is_dir()  # the other heads' configs read RG files as before: no sub-score check
    cfg = load_config(None, [*TINY])
    from longaqa.sheets import training_sheet

    assert training_sheet(cfg) is None
    assert training_sheet(load_config(None, [*TINY, "model.head=additive"])) is RG_SHEET


@needs_rg
def test_additive_config_on_the_real_rg_release_layout(tmp_path):
    """configs/rg/ball_additive.yaml trains on the real label files; explanations add up to D and 10 - E."""
    from longaqa.cli import main

    root = tmp_path / "rg"
    (root / "swintx_avg_fps25_clip32").mkdir(parents=True)
    rng = np.random.default_rng(0)
    for split in ("train", "test"):
        text = (RG_LABELS / f"{split}.txt").read_text()
        (root / f"{split}.txt").write_text(text)
        for line in text.splitlines()[1:]:
            name = line.split()[0]
            if name.startswith("Ball_"):
                feats = rng.normal(size=(int(rng.integers(10, 13)), 32)).astype(np.float32)
                np.save(root / "swintx_avg_fps25_clip32" / f"{name}.npy", feats)
    run = tmp_path / "run"
    config = Path(__file__).resolve().parents[1] / "configs" / "rg" / "ball_additive.yaml"
    args = ["train", "--config", str(config), "--data-root", str(tmp_path), "--out", str(run)]
    for item in [*TINY, "train.epochs=1", "model.num_layers=1", "model.local_hidden=8"]:
        args += ["--set", item]
    assert main(args) == 0
    assert json.loads((run / "metrics.json").read_text())["n"] == 50
    assert main(["explain", str(run), "--no-plots", "--out", str(tmp_path / "ex")]) == 0
    folder = tmp_path / "ex" / "Ball_022"
    with (folder / "clips.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    summary = json.loads((folder / "explanation.json").read_text())
    d, ded = (sum(float(r[k]) for r in rows) for k in ("difficulty", "deduction"))
    assert d == pytest.approx(summary["subscores"]["difficulty"], rel=1e-4)
    assert 10 - ded == pytest.approx(summary["subscores"]["execution"], rel=1e-4, abs=1e-4)
    assert summary["true"] == pytest.approx(16.70)  # Ball_022's total in test.txt


def test_report_shows_the_parts_and_the_measured_agreement_of_the_head(tmp_path):
    from longaqa.interpret.report import MEASURED_FILE, write_report

    cfg = load_config(None, [*TINY, "model.head=additive", "model.local_hidden=8"])
    model = model_from_config(cfg).eval()
    routine = routine_with_standouts()[0].numpy()  # 14 background clips, 2 that stand apart
    expl = explain_video(model, cfg, "v", routine, 12.0)
    page = write_report(None, [expl], tmp_path / "r.html").read_text()
    assert "clips that earned most" in page and "clips with the most deduction" in page
    assert "14 of 16 seen clips are the routine's background" in page and ">foreground</th>" in page
    assert "video-level" in page
    assert f"background margin {expl.background_margin:.2f}" in page and "barely won" not in page  # clear
    tied = np.stack([np.ones(32) if t % 2 else -np.ones(32) for t in range(16)]).astype(np.float32)
    tied += 0.05 * np.random.default_rng(0).normal(size=tied.shape).astype(np.float32)  # two kinds, alternating
    fragile = explain_video(model, cfg, "w", tied, 12.0)
    assert fragile.background_margin < 0.15
    assert "The background barely won" in write_report(None, [fragile], tmp_path / "f.html").read_text()
    measured = json.loads(MEASURED_FILE.read_text())  # written by bench/explanation_truth.py
    assert "how far to trust these explanations (additive head)" in page
    assert measured["command"] in page


def test_with_local_competition_a_clip_moves_only_parts_within_twice_the_window():
    model = additive_model(window=2, **STRICT, **{"model.local_competition": "true"})
    assert model.head.local.salience is not None
    torch.nn.init.normal_(model.head.local.salience.weight)  # trained salience: clips differ
    x = torch.randn(1, 14, 32)
    y = x.clone()
    y[:, 6] += 3.0
    with torch.no_grad():
        a, b = model(x, torch.tensor([14])).clip_parts, model(y, torch.tensor([14])).clip_parts
    far = (torch.arange(14) - 6).abs() > 4
    assert torch.equal(a[:, far], b[:, far]) and not torch.equal(a[:, ~far], b[:, ~far])


def routine_with_standouts(length=16, standouts=(4, 11), seed=0):
    """One video (1, T, 32): clips near one background vector, and clips far from it at ``standouts``."""
    g = torch.Generator().manual_seed(seed)
    base = torch.randn(32, generator=g)
    x = base + 0.1 * torch.randn(length, 32, generator=g)
    for k in standouts:
        x[k] = base + 3.0 * torch.randn(32, generator=g)
    return x[None]


def test_background_margin_is_high_for_one_kind_of_background_and_low_for_two():
    """The margin says how clearly the background won: one dense kind of connecting movement with a few
    standouts wins clearly (near 1); two equally dense, equally spread kinds tie (near 0)."""
    local = additive_model(window=2).head.local
    valid = torch.ones(1, 16, dtype=torch.bool)
    one = local.background_margin(routine_with_standouts(), valid)
    g = torch.Generator().manual_seed(1)
    a, b = torch.randn(32, generator=g), torch.randn(32, generator=g)
    two = torch.stack([a if t % 2 else b for t in range(16)]) + 0.05 * torch.randn(16, 32, generator=g)
    tied = local.background_margin(two[None], valid)
    assert one.item() > 0.9 and tied.item() < 0.2


def test_background_clips_earn_nothing_and_standouts_earn():
    """local_background (the default): the routine's dense clips are background (foreground 0, no
    parts at all), the clips far from them are foreground (1) and earn."""
    model = additive_model(window=2)
    x = routine_with_standouts()
    local = model.head.local
    foreground = local.foreground(model.input_proj(x), torch.ones(1, 16, dtype=torch.bool))[0]
    standout = torch.zeros(16, dtype=torch.bool)
    standout[[4, 11]] = True
    assert torch.equal(foreground[standout], torch.ones(2)) and torch.equal(foreground[~standout], torch.zeros(14))
    with torch.no_grad():
        parts = model(x, torch.tensor([16])).clip_parts[0]  # (T, P)
    assert (parts[~standout] == 0).all() and (parts[standout] > 0).all()


def test_foreground_is_scale_free_and_ignores_padding():
    local = additive_model().head.local
    x = routine_with_standouts(seed=1)
    valid = torch.ones(1, 16, dtype=torch.bool)
    foreground = local.foreground(x, valid)
    torch.testing.assert_close(local.foreground(7.0 * x, valid), foreground)
    padded = torch.cat([x, 5.0 * torch.randn(1, 6, 32)], 1)  # six padding clips of garbage
    longer = torch.cat([valid, torch.zeros(1, 6, dtype=torch.bool)], 1)
    out = local.foreground(padded, longer)
    torch.testing.assert_close(out[:, :16], foreground)
    assert (out[:, 16:] == 0).all()


def test_with_the_background_locality_is_exact_given_the_background():
    """A part is value(clip) x gate(window) x foreground(video): changing clip k moves, outside k's window,
    only the foreground factor, never the rest (exactly)."""
    model = additive_model(window=2)
    x = torch.randn(1, 14, 32)
    y = x.clone()
    y[:, 6] += 3.0 * torch.randn(32)
    valid = torch.ones(1, 14, dtype=torch.bool)
    with torch.no_grad():
        a, b = model(x, torch.tensor([14])).clip_parts[0], model(y, torch.tensor([14])).clip_parts[0]
        fa = model.head.local.foreground(model.input_proj(x), valid)[0]
        fb = model.head.local.foreground(model.input_proj(y), valid)[0]
    far = ((torch.arange(14) - 6).abs() > 2) & (fa > 0) & (fb > 0)
    assert far.sum() >= 3  # enough clips to compare on
    torch.testing.assert_close(a[far] / fa[far, None], b[far] / fb[far, None], rtol=1e-5, atol=0)
    assert (a[fa == 0] == 0).all() and (b[fb == 0] == 0).all()


def test_a_long_dense_element_is_not_taken_for_the_background():
    """The connecting movement recurs all routine long; one long element (a step sequence) is dense in
    one stretch only. Here the element has more clips, and tighter ones, than the connecting movement,
    so density alone would call it the background; its coverage of the timeline says otherwise."""
    g = torch.Generator().manual_seed(0)
    x = torch.empty(24, 32)
    connecting, element = [0, 3, 6, 9, 19, 21, 22, 23], list(range(10, 19))
    standouts = [t for t in range(24) if t not in connecting + element]
    x[connecting] = torch.randn(32, generator=g) + 0.1 * torch.randn(len(connecting), 32, generator=g)
    x[element] = torch.randn(32, generator=g) + 0.02 * torch.randn(len(element), 32, generator=g)
    x[standouts] = torch.randn(len(standouts), 32, generator=g)
    local = additive_model().head.local
    valid = torch.ones(1, 24, dtype=torch.bool)
    d2 = torch.cdist(x, x).square()
    density = torch.exp(-d2 / (0.25 * d2.sum() / (24 * 23))).sum(1)
    assert density.argmax() in element  # density alone points at the element
    foreground = local.foreground(x[None], valid)[0]
    assert (foreground[connecting] == 0).all() and (foreground[element] == 1).all()
    assert (foreground[standouts] == 1).all()


def routine_with_three_kinds_of_connecting_movement(seed=0):
    """One video (1, 45, 32): elements of 2-3 clips, each of its own kind and performed once, between
    stretches of connecting movement of three kinds, each in four stretches all routine long. Returns the
    video and the indices of the connecting clips."""
    g = torch.Generator().manual_seed(seed)
    kinds = torch.randn(3, 32, generator=g)
    x, connecting, t = [], [], 0
    for stretch in range(12):
        for _ in range(1 + stretch % 2):  # connecting movement, 1-2 clips, kind by stretch
            x.append(kinds[stretch % 3] + 0.1 * torch.randn(32, generator=g))
            connecting.append(t)
            t += 1
        if stretch < 11:  # an element of its own kind, 2-3 clips
            element = torch.randn(32, generator=g)
            for _ in range(2 + stretch % 2):
                x.append(element + 0.1 * torch.randn(32, generator=g))
                t += 1
    return torch.stack(x)[None], connecting


def test_the_recurrent_rule_finds_connecting_movement_of_several_kinds():
    """model.background_rule=recurrent: every kind of clip that recurs over the timeline about as much
    as the most recurrent one is background, however many kinds; elements performed once are not."""
    x, connecting = routine_with_three_kinds_of_connecting_movement()
    T = x.shape[1]
    is_connecting = torch.zeros(T, dtype=torch.bool)
    is_connecting[connecting] = True
    valid = torch.ones(1, T, dtype=torch.bool)
    local = additive_model(**{"model.background_rule": "recurrent"}).head.local
    foreground = local.foreground(x, valid)[0]
    assert (foreground[is_connecting] < 0.25).all() and (foreground[~is_connecting] == 1).all()
    densest = additive_model().head.local.foreground(x, valid)[0]  # one kind only: two thirds stay foreground
    assert (densest[is_connecting] > 0.5).sum() >= len(connecting) // 2


def test_the_recurrent_rule_is_scale_free_ignores_padding_and_hiding_a_clip_keeps_the_background():
    x, connecting = routine_with_three_kinds_of_connecting_movement(seed=1)
    T = x.shape[1]
    local = additive_model(**{"model.background_rule": "recurrent"}).head.local
    valid = torch.ones(1, T, dtype=torch.bool)
    foreground = local.foreground(x, valid)
    torch.testing.assert_close(local.foreground(7.0 * x, valid), foreground)
    padded = torch.cat([x, 5.0 * torch.randn(1, 6, 32)], 1)
    out = local.foreground(padded, torch.cat([valid, torch.zeros(1, 6, dtype=torch.bool)], 1))
    torch.testing.assert_close(out[:, :T], foreground)
    assert (out[:, T:] == 0).all()
    hidden = valid.clone()
    is_connecting = torch.zeros(T, dtype=torch.bool)
    is_connecting[connecting] = True
    for k in (connecting[4], connecting[5] + 1):  # hide a connecting clip, then an element's clip
        hidden[0] = True
        hidden[0, k] = False
        after = local.foreground(x, hidden)[0]
        assert after[k] == 0 and (after[is_connecting] < 0.5).all() and (after[~is_connecting & hidden[0]] > 0.5).all()


def test_the_adaptive_rule_is_the_densest_where_it_wins_clearly_and_the_recurrent_where_it_ties():
    """model.background_rule=adaptive: a video whose background wins clearly (margin near 1) gets the
    densest rule's foreground exactly; one where kinds of connecting movement nearly tie (margin just
    above 0.15), almost all the recurrent rule's (the blend's weight on the densest rule under 0.1)."""
    from longaqa.models.background import background_rule, recurrent_rule

    local = additive_model(**{"model.background_rule": "adaptive"}).head.local
    clear = routine_with_standouts()
    valid = torch.ones(1, 16, dtype=torch.bool)
    assert background_rule(clear, valid)[1].item() > 0.3
    torch.testing.assert_close(local.foreground(clear, valid), background_rule(clear, valid)[0], rtol=0, atol=0)
    x, _ = routine_with_three_kinds_of_connecting_movement()
    valid = torch.ones(1, x.shape[1], dtype=torch.bool)
    densest, margin = background_rule(x, valid)
    sure = (margin - 0.15) / 0.15
    assert 0 < sure.item() < 0.1
    torch.testing.assert_close(local.foreground(x, valid), sure * densest + (1 - sure) * recurrent_rule(x, valid))


def test_background_rule_must_be_one_of_the_rules():
    with pytest.raises(LongAQAError, match="background_rule"):
        load_config(None, [*TINY, "model.head=additive", "model.background_rule=clusters"])


@pytest.mark.parametrize("length", [1, 2, 3])
def test_foreground_of_very_short_or_constant_routines_is_finite(length):
    """One clip, two, three, and clips all alike: the rule stays finite and in [0, 1] (no 0/0), and
    a routine whose clips are all alike is all background."""
    local = additive_model().head.local
    valid = torch.zeros(2, 5, dtype=torch.bool)
    valid[:, :length] = True
    x = torch.randn(2, 5, 32)
    x[1, :] = x[1, :1]  # every clip of video 1 alike
    foreground = local.foreground(x, valid)
    assert torch.isfinite(foreground).all() and ((foreground >= 0) & (foreground <= 1)).all()
    assert (foreground[1] == 0).all() and (foreground[:, length:] == 0).all()


def test_video_terms_read_from_the_background_never_move_with_a_clip_that_earns():
    """With model.video_terms_from=background the impression is read from the background clips: hiding
    a clip that earns (a standout) moves the prediction by that clip's contribution alone, exactly."""
    model = additive_model(HOLISTIC_SHEET, window=0, divisor=1.0, **{"model.video_terms_from": "background"})
    assert model.head.video_from == "background"
    x = routine_with_standouts(length=20, standouts=(4, 11, 15))
    with torch.no_grad():
        out = model(x, torch.tensor([20]))
    contribution = out.clip_contributions[0].numpy()
    effects = leave_one_out_effects(model, x[0].numpy(), 1.0)
    for k in (4, 11, 15):
        assert contribution[k] > 0
        assert effects[k] == pytest.approx(contribution[k], rel=1e-4, abs=1e-6)
    # read from the decoded queries (the default), the impression moves with the standout
    queries = additive_model(HOLISTIC_SHEET, window=0, divisor=1.0)
    assert queries.head.video_from == "queries"
    with torch.no_grad():
        own = queries(x, torch.tensor([20])).clip_contributions[0].numpy()
    moved = leave_one_out_effects(queries, x[0].numpy(), 1.0)
    assert max(abs(moved[k] - own[k]) for k in (4, 11, 15)) > 1e-4


def test_impression_clip_dropout_hides_clips_from_the_decoder_only_in_training():
    model = additive_model(HOLISTIC_SHEET, divisor=1.0, **{"model.impression_clip_dropout": 0.9})
    plain = additive_model(HOLISTIC_SHEET, divisor=1.0, **{"model.impression_clip_dropout": 0.0})
    plain.load_state_dict(model.state_dict())
    assert model.decoder_clip_dropout == 0.9 and plain.decoder_clip_dropout == 0.0
    # only the holistic sheet's impression, read from the queries, is trained so
    assert additive_model(RG_SHEET, **{"model.impression_clip_dropout": 0.9}).decoder_clip_dropout == 0.0
    assert additive_model(HOLISTIC_SHEET, **{"model.impression_clip_dropout": 0.9,
                                             "model.video_terms_from": "background"}).decoder_clip_dropout == 0.0
    x, lengths = torch.randn(3, 12, 32), torch.tensor([12, 7, 1])
    with torch.no_grad():  # evaluation: nothing hidden
        torch.testing.assert_close(model(x, lengths).pred, plain(x, lengths).pred)
    valid = torch.arange(12)[None] < lengths[:, None]
    torch.manual_seed(0)
    for _ in range(20):
        kept = model.drop_clips_from_decoder(3, 12, valid, valid, torch.device("cpu"))
        assert not (kept & ~valid).any() and kept.any(1).all()  # a subset of the clips, never empty
    assert kept.sum() < valid.sum()
    windowed = torch.zeros(3, 12, 12, dtype=torch.bool)
    windowed[:, torch.arange(12), torch.arange(12)] = True  # each query sees one clip
    windowed &= valid[:, None, :]
    kept = model.drop_clips_from_decoder(3, 12, valid, windowed, torch.device("cpu"))
    assert torch.equal(kept.any(-1), windowed.any(-1))  # no query loses its last clip
    model.train()
    torch.manual_seed(0)
    out = model(x, lengths)  # the parts still see every valid clip
    assert torch.isfinite(out.pred).all() and (out.clip_parts[0] > 0).any()
    with pytest.raises(LongAQAError, match="impression_clip_dropout"):
        load_config(None, ["model.impression_clip_dropout=1.0"])


def test_with_background_deductions_off_background_clips_lose_but_never_earn():
    """model.background_deductions=false: the foreground gates credit (difficulty) only; a background
    clip can still carry an execution deduction (an artistic fault in the connecting movement)."""
    x = routine_with_standouts()
    standout = torch.zeros(16, dtype=torch.bool)
    standout[[4, 11]] = True
    model = additive_model(window=2, **{"model.background_deductions": "false"})
    assert model.head.local.background_parts.tolist() == [True, False]  # difficulty gated, deduction not
    with torch.no_grad():
        parts = model(x, torch.tensor([16])).clip_parts[0]  # (T, P): difficulty, deduction
    assert (parts[~standout, 0] == 0).all() and (parts[standout, 0] > 0).all()
    assert (parts[~standout, 1] > 0).all()
    gated = additive_model(window=2)  # the default: background clips neither earn nor lose
    assert gated.head.local.background_parts.tolist() == [True, True]
    with torch.no_grad():
        assert (gated(x, torch.tensor([16])).clip_parts[0][~standout] == 0).all()


def test_calibrate_splits_the_execution_deductions_between_clips_and_the_artistry_term():
    """``rg_artistic``: 10 - E is the located deductions plus the artistry term; no label splits them:
    the artistry term starts at a tenth of their mean, the located deductions at the rest (per clip)."""
    model = additive_model(RG_ARTISTIC_SHEET, divisor=1.0)
    samples = [VideoSample(f"v{i}", torch.randn(10, 32), 13.0,
                           subscores={"difficulty": 5.0, "execution": 8.4, "penalty": 0.4}) for i in range(4)]
    scales = model.head.calibrate(samples)
    assert scales["difficulty"] == pytest.approx(0.5) and scales["penalty"] == pytest.approx(0.4)
    assert scales["artistry"] == pytest.approx(0.16)
    assert scales["deduction"] == pytest.approx(0.144)


@needs_rg
def test_the_rg_artistic_sheet_reads_the_real_rg_labels():
    cfg = DataConfig(layout="rg", class_name="Ball", subscores="rg_artistic")
    subs = load_subscores(cfg, RG_LABELS, "train", score_sheet(cfg))
    assert len(subs) == 200 and set(next(iter(subs.values()))) == {"difficulty", "execution", "penalty"}


def test_an_rg_artistic_explanation_shows_the_artistry_term_apart_and_adds_up(tmp_path):
    cfg = load_config(None, [*TINY, "model.head=additive", "model.local_hidden=8", "data.subscores=rg_artistic"])
    model = model_from_config(cfg).eval()
    expl = explain_video(model, cfg, "v", np.random.default_rng(0).normal(size=(10, 32)).astype(np.float32), 14.0)
    folder = write_explanation(expl, tmp_path / "v")
    summary = json.loads((folder / "explanation.json").read_text())
    with (folder / "clips.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert set(summary["video_terms"]) == {"penalty", "artistry"}
    contributions = sum(float(r["contribution"]) for r in rows)
    assert contributions + summary["video_level"] == pytest.approx(summary["pred"], abs=1e-4)
    located, artistry = sum(float(r["deduction"]) for r in rows), summary["video_terms"]["artistry"]
    assert 10 - located - artistry == pytest.approx(summary["subscores"]["execution"], rel=1e-4)


def test_the_auxiliary_total_trains_the_clip_embeddings_and_is_never_predicted():
    """``loss.lambda_aux_total``: in training the head also predicts the total from the decoded queries;
    its MSE is a loss term whose gradient reaches the input projection the parts read; at inference it is
    absent, and the prediction is the sheet's sum of parts and terms alone."""
    cfg = load_config(None, [*TINY, "model.head=additive", "model.local_hidden=8", "loss.lambda_aux_total=2"])
    torch.manual_seed(0)
    model = model_from_config(cfg).train()
    x, lengths, target = torch.randn(3, 12, 32), torch.full((3,), 12), torch.rand(3)
    out = model(x, lengths)
    assert out.aux_total is not None and out.aux_total.shape == (3,)
    terms = Criterion(cfg.loss, 16)(out, target)
    expected = torch.nn.functional.mse_loss(out.aux_total, target)
    torch.testing.assert_close(terms["aux_total"], expected)
    torch.testing.assert_close(terms["aux_total_weighted"], 2 * expected)
    model.zero_grad()
    terms["aux_total_weighted"].backward()
    assert model.input_proj.weight.grad.abs().sum() > 0
    assert all(p.grad is None or p.grad.abs().sum() == 0 for p in model.head.local.own.parameters())
    model.eval()
    with torch.no_grad():
        evaluated = model(x, lengths)
    assert evaluated.aux_total is None
    plain = load_config(None, [*TINY, "model.head=additive", "model.local_hidden=8"])
    torch.manual_seed(0)
    without = model_from_config(plain).eval()
    without.load_state_dict({k: v for k, v in model.state_dict().items() if not k.startswith("head.aux_mlp")})
    with torch.no_grad():
        torch.testing.assert_close(without(x, lengths).pred, evaluated.pred)
    with pytest.raises(LongAQAError, match="lambda_aux_total needs model.head=additive"):
        load_config(None, [*TINY, "model.head=weight_score", "loss.lambda_aux_total=1"])
