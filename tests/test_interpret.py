"""longaqa.interpret: skipping index, query->clip mapping, explanations, perturbation, truth agreement,
and the explain / interpretability / report commands end to end on the tiny synthetic routines."""

from __future__ import annotations

import csv
import json
import shutil

import numpy as np
import pytest
import torch

try:  # tests/ is a package in some checkouts and a plain folder in others
    from .conftest import TINY
except ImportError:
    from conftest import TINY

from longaqa.cli import main
from longaqa.config import load_config
from longaqa.errors import LongAQAError
from longaqa.interpret.agreement import read_truth, truth_agreement
from longaqa.interpret.explanation import (
    CLIP_COLUMNS,
    QUERY_COLUMNS,
    explain_video,
    read_explanation,
    write_explanation,
)
from longaqa.interpret.mapping import queries_to_clips, resolve_mapping
from longaqa.interpret.perturbation import (
    DELETION_GRID,
    curve_area,
    order_curves,
    perturbation_curves,
    ranked_perturbation_curves,
)
from longaqa.interpret.skipping import band_mass, model_skipping_index, skipping_index, uniform_band_mass
from longaqa.losses import correlation_log_probs
from longaqa.models import build_model

# ---------------------------------------------------------------- skipping index


def test_skipping_index_extremes():
    q = 10
    assert skipping_index(np.eye(q)) == pytest.approx(0.0)
    assert skipping_index(np.full((q, q), 1 / q)) == pytest.approx(1.0)
    # all mass on the far corner: attention avoids the diagonal, index above 1
    far = np.zeros((q, q))
    far[np.arange(q), q - 1 - np.arange(q)] = 1.0
    far[4, 5] = far[5, 4] = 0.0  # anti-diagonal meets the band in the middle
    far[4, 0] = far[5, 9] = 1.0
    assert skipping_index(far) > 1.0


def test_band_mass_against_direct_sum():
    rng = np.random.default_rng(0)
    a = rng.random((7, 7))
    a /= a.sum(1, keepdims=True)
    direct = np.mean([sum(a[i, j] for j in range(7) if abs(i - j) <= 2) for i in range(7)])
    assert band_mass(a, 2) == pytest.approx(direct)
    assert uniform_band_mass(7, 2) == pytest.approx(np.mean([min(i + 2, 6) - max(i - 2, 0) + 1 for i in range(7)]) / 7)
    # a smoothed diagonal lies between the extremes
    smooth = 0.5 * np.eye(7) + 0.5 / 7
    assert 0.0 < skipping_index(smooth, 2) < 1.0
    assert np.isnan(skipping_index(np.eye(2), 1))  # band covers everything: undefined


# ---------------------------------------------------------------- mapping


def test_mapping_index_and_attention():
    w = np.array([0.2, 0.3, 0.5])
    s = np.array([1.0, 2.0, 4.0])
    cw, cs, cc, used = queries_to_clips(w, s, np.eye(3), "auto")
    assert used == "index"
    np.testing.assert_allclose(cc, w * s)
    cw2, cs2, cc2, used = queries_to_clips(w, s, np.eye(3))  # attention, the default: same on a diagonal
    assert used == "attention"
    np.testing.assert_allclose(cc2, cc)
    np.testing.assert_allclose(cs2, cs)
    cross = np.array([[0.5, 0.5, 0.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.25, 0.75]])
    cw, cs, cc, used = queries_to_clips(w, s, cross)
    assert used == "attention"
    np.testing.assert_allclose(cw, [0.1, 0.1, 0.3, 0.125, 0.375])
    np.testing.assert_allclose(cc, cw * cs)
    assert cc.sum() == pytest.approx((w * s).sum())
    np.testing.assert_allclose(cs, [1.0, 1.0, 2.0, 4.0, 4.0])
    cw, cs, cc, _ = queries_to_clips(w, s, np.array([[1.0, 0], [1.0, 0], [1.0, 0]]))
    assert np.isnan(cs[1]) and cw[1] == 0 and cc[1] == 0  # nobody looks at clip 1
    with pytest.raises(LongAQAError, match="one query per clip"):
        resolve_mapping("index", 3, 5)
    with pytest.raises(LongAQAError, match="mapping must be one of"):
        resolve_mapping("nearest", 3, 3)


# ---------------------------------------------------------------- explanations


@pytest.fixture(scope="module")
def tiny(tiny_overrides_module):
    torch.manual_seed(0)
    cfg = load_config(None, tiny_overrides_module + ["model.dropout=0.0"])
    return cfg, build_model(cfg.model).eval()


@pytest.fixture(scope="module")
def tiny_overrides_module():
    return list(TINY)


@pytest.mark.parametrize("mapping", ["auto", "attention"])
@pytest.mark.parametrize("num_clips,view", [(8, "full"), (12, "full"), (17, "full"), (17, "center_crop")])
def test_explanation_adds_up(tiny, num_clips, view, mapping):
    cfg, model = tiny
    x = torch.randn(num_clips, cfg.model.input_dim)
    expl = explain_video(model, cfg, "v", x, true=10.0, view=view, mapping=mapping)
    with torch.no_grad():
        seen = x if view == "full" or num_clips <= 12 else x[2:14]
        pred = float(model(seen[None], torch.tensor([len(seen)])).pred[0]) * cfg.data.score_divisor
    assert expl.pred == pytest.approx(pred, rel=1e-5)
    assert expl.num_clips == num_clips
    # clip contributions add up to the prediction and weights to 1, whatever the mapping
    assert expl.clip_contribution.sum() == pytest.approx(expl.pred, rel=1e-4)
    assert expl.clip_weight.sum() == pytest.approx(1.0, rel=1e-5)
    assert expl.query_contribution.sum() == pytest.approx(expl.pred, rel=1e-4)
    # centred contributions sum to 0 and are 0 outside the window
    centred = expl.clip_centred_contribution
    assert centred.sum() == pytest.approx(0.0, abs=1e-4 * abs(expl.pred))
    outside = np.ones(num_clips, bool)
    outside[expl.window] = False
    assert (centred[outside] == 0).all()
    q = min(num_clips, 12)
    one_to_one = num_clips <= 12 or view == "center_crop"
    assert expl.mapping == ("index" if one_to_one and mapping == "auto" else "attention")
    assert explain_video(model, cfg, "v", x, view=view).mapping == "attention"  # the default
    assert len(expl.self_attention) == cfg.model.num_layers
    for s, c, ls, lc in zip(expl.self_attention, expl.cross_attention, expl.ls, expl.lc):
        assert s.shape == (q, q) and ls.shape == (q, q) and lc.shape == (q, q)
        assert c.shape == (q, min(num_clips, 12) if view == "center_crop" else num_clips)
        for m in (s, c, ls, lc):
            np.testing.assert_allclose(m.sum(1), 1.0, rtol=1e-5)
    if view == "center_crop" and num_clips > 12:
        assert expl.window == slice(2, 14)
        assert np.isnan(expl.clip_score[:2]).all() and (expl.clip_weight[14:] == 0).all()


def test_ls_lc_are_the_attention_loss_distributions(tiny):
    cfg, model = tiny
    x = torch.randn(12, cfg.model.input_dim)
    expl = explain_video(model, cfg, "v", x)
    with torch.no_grad():
        out = model(x[None], torch.tensor([12]), need_weights=True)
    tau = cfg.loss.temperature_for(cfg.model.d_model)
    for n in range(cfg.model.num_layers):
        ls = correlation_log_probs(out.self_attn_outputs[n], tau, None).exp()[0].numpy()
        np.testing.assert_allclose(expl.ls[n], ls, rtol=1e-5)
        np.testing.assert_allclose(expl.self_attention[n], out.self_attn_maps[n][0].numpy(), rtol=1e-5)


def test_explanation_files_round_trip(tiny, tmp_path):
    cfg, model = tiny
    expl = explain_video(model, cfg, "Ball_001", torch.randn(15, cfg.model.input_dim), view="center_crop")
    folder = write_explanation(expl, tmp_path / "Ball_001")
    with (folder / "clips.csv").open() as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == CLIP_COLUMNS and len(rows) == 16
    assert float(rows[2][1]) == pytest.approx(32 / 25) and float(rows[2][2]) == pytest.approx(2 * 32 / 25)
    with (folder / "queries.csv").open() as fh:
        assert next(csv.reader(fh)) == QUERY_COLUMNS
    with np.load(folder / "attention.npz") as npz:
        assert {"self_attn_1", "cross_attn_2", "ls_1", "lc_2", "window_start"} <= set(npz.files)
    back = read_explanation(folder)
    assert back.name == "Ball_001" and back.window == expl.window and back.mapping == expl.mapping
    np.testing.assert_allclose(back.clip_contribution, expl.clip_contribution, rtol=1e-5)
    np.testing.assert_allclose(back.cross_attention[1], expl.cross_attention[1], rtol=1e-6)
    np.testing.assert_allclose(back.clip_centred_contribution, expl.clip_centred_contribution, atol=1e-5)
    written = np.array([float(r[-1]) for r in rows[1:]])  # the file's centred_contribution column
    np.testing.assert_allclose(written, expl.clip_centred_contribution, atol=1e-5)
    # a clips.csv written before the centred column was added still reads
    with (folder / "clips.csv").open("w", newline="") as fh:
        csv.writer(fh).writerows(row[:-1] for row in rows)
    old = read_explanation(folder)
    np.testing.assert_allclose(old.clip_centred_contribution, expl.clip_centred_contribution, atol=1e-5)
    (folder / "clips.csv").write_text("clip,start\n0,0\n")
    with pytest.raises(LongAQAError, match="clips.csv: expected columns"):
        read_explanation(folder)
    with pytest.raises(LongAQAError, match="not an explanation folder"):
        read_explanation(tmp_path)


# ---------------------------------------------------------------- perturbation and truth


def test_perturbation_curves_endpoints(tiny):
    cfg, model = tiny
    x = torch.randn(10, cfg.model.input_dim)
    with torch.no_grad():
        full = float(model(x[None], torch.tensor([10])).pred[0]) * 25
    order = np.arange(10)
    deletion, insertion = order_curves(model, x, order, 25.0)
    assert deletion[0] == pytest.approx(full, rel=1e-5)  # nothing hidden
    assert insertion[-1] == pytest.approx(full, rel=1e-5)  # everything shown
    # hiding clips equals never having them in the keys: compare to masking by hand
    with torch.no_grad():
        mask = torch.ones(1, 10, dtype=torch.bool)
        mask[0, :5] = False
        half = float(model(x[None], torch.tensor([10]), clip_mask=mask).pred[0]) * 25
    assert deletion[int(np.argmin(np.abs(DELETION_GRID - 0.5)))] == pytest.approx(half, rel=1e-5)
    result = perturbation_curves(model, [(x.numpy(), np.arange(10.0)[::-1])], 25.0, num_random=2)
    for key in ("deletion", "insertion"):
        part = result[key]
        assert len(part["curve"]) == len(part["fractions"]) == 20
        assert part["auc"] == pytest.approx(curve_area(np.array(part["fractions"]), np.array(part["curve"])))
    assert result["deletion"]["gap"] == pytest.approx(result["deletion"]["auc_random"] - result["deletion"]["auc"])
    assert curve_area(np.array([0.0, 1.0]), np.array([1.0, 3.0])) == pytest.approx(2.0)


def test_truth_agreement_perfect_and_errors(tiny, tmp_path):
    cfg, model = tiny
    expl = explain_video(model, cfg, "v", torch.randn(12, cfg.model.input_dim))
    truth = {
        "weight": expl.clip_weight * 3,
        "quality": expl.clip_score + 1,
        "contribution": expl.clip_contribution,
    }
    result = truth_agreement([(expl, truth)])
    assert result["contribution_spearman"] == pytest.approx(1.0)
    assert result["weight_spearman"] == pytest.approx(1.0)
    assert result["score_spearman"] == pytest.approx(1.0)
    assert result["score_elements_spearman"] == pytest.approx(1.0)
    # transitions (the lowest true weight) are left out of score_elements: scores there may disagree
    transitions = np.zeros(expl.num_clips, dtype=bool)
    transitions[::3] = True
    mixed = dict(truth, weight=np.where(transitions, 0.05, 0.5),
                 quality=np.where(transitions, -expl.clip_score, expl.clip_score))
    result = truth_agreement([(expl, mixed)])
    assert result["score_elements_spearman"] == pytest.approx(1.0) and result["score_elements_n"] == 1
    assert result["score_spearman"] < 0.9
    reversed_truth = {k: -v for k, v in truth.items()}
    assert truth_agreement([(expl, reversed_truth)])["contribution_spearman"] == pytest.approx(-1.0)
    with pytest.raises(LongAQAError, match="truth has 3 clips"):
        truth_agreement([(expl, {k: v[:3] for k, v in truth.items()})])
    partial = tmp_path / "partial.npz"  # any subset of the fields is a truth file (weight alone here)
    np.savez(partial, weight=np.ones(3))
    assert set(read_truth(partial)) == {"weight"}
    bad = tmp_path / "bad.npz"
    np.savez(bad, something_else=np.ones(3))
    with pytest.raises(LongAQAError, match="bad.npz: truth file holds none of the per-clip fields"):
        read_truth(bad)
    (tmp_path / "junk.npz").write_text("not a zip")
    with pytest.raises(LongAQAError, match="junk.npz: not a readable truth"):
        read_truth(tmp_path / "junk.npz")


def test_model_skipping_index_matches_explanations(tiny):
    from longaqa.data.dataset import VideoSample

    cfg, model = tiny
    samples = [VideoSample(f"v{i}", torch.randn(n, cfg.model.input_dim), 0.5) for i, n in enumerate((8, 12, 16))]
    got = model_skipping_index(model, samples, batch_size=2, device=torch.device("cpu"))
    per_video = [explain_video(model, cfg, s.name, s.features, view="full") for s in samples]
    for n in (1, 2):
        expected = np.mean([skipping_index(e.self_attention[n - 1]) for e in per_video])
        assert got[f"skipping_index_layer{n}"] == pytest.approx(expected, rel=1e-4)
    assert got["skipping_index"] == pytest.approx((got["skipping_index_layer1"] + got["skipping_index_layer2"]) / 2)


# ---------------------------------------------------------------- commands end to end


@pytest.fixture(scope="module")
def trained_run(routines, tmp_path_factory, tiny_overrides_module):
    run = tmp_path_factory.mktemp("interpret") / "run"
    code = main(
        [
            "train",
            "--data-root",
            str(routines),
            "--out",
            str(run),
            "--set",
            "train.tensorboard=false",
            *[a for o in tiny_overrides_module for a in ("--set", o)],
        ]
    )
    assert code == 0
    return run


def test_training_logs_skipping_index(trained_run):
    with (trained_run / "epochs.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 2
    for row in rows:
        assert 0.0 <= float(row["skipping_index"]) < 2.0
        assert float(row["skipping_index_layer1"]) >= 0.0


def test_explain_new_video_from_checkpoint_alone(trained_run, routines, tmp_path, capsys):
    alone = tmp_path / "checkpoint"
    alone.mkdir()
    for name in ("config.yaml", "weights.safetensors"):
        shutil.copy(trained_run / name, alone / name)
    video = tmp_path / "new_video.npy"
    np.save(video, np.random.default_rng(0).normal(size=(19, 32)).astype(np.float32))
    assert main(["explain", str(alone), "--features", str(video), "--out", str(tmp_path / "out")]) == 0
    folder = tmp_path / "out" / "new_video"
    for name in (
        "clips.csv",
        "queries.csv",
        "attention.npz",
        "explanation.json",
        "curves.png",
        "attention.png",
    ):
        assert (folder / name).stat().st_size > 0, name
    expl = read_explanation(folder)
    assert expl.num_clips == 19 and expl.true is None
    assert expl.clip_contribution.sum() == pytest.approx(expl.pred, rel=1e-4)
    assert (folder / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_explain_features_prints_each_videos_score(trained_run, tmp_path, capsys):
    rng = np.random.default_rng(1)
    paths = []
    for name, clips in (("first", 9), ("second", 15)):
        paths.append(tmp_path / f"{name}.npy")
        np.save(paths[-1], rng.normal(size=(clips, 32)).astype(np.float32))
    capsys.readouterr()
    assert main(["explain", str(trained_run), "--features", *map(str, paths), "--out", str(tmp_path / "o")]) == 0
    lines = capsys.readouterr().out.splitlines()
    preds = {name: read_explanation(tmp_path / "o" / name).pred for name in ("first", "second")}
    assert lines[:2] == [f"{name}: predicted score {pred:.3f}" for name, pred in preds.items()]
    assert lines[2] == f"explained 2 video(s) into {tmp_path / 'o'}"


def test_report_of_feature_files(trained_run, tmp_path, capsys):
    rng = np.random.default_rng(2)
    paths = []
    for name in ("clip_a", "clip_b"):
        paths.append(tmp_path / f"{name}.npy")
        np.save(paths[-1], rng.normal(size=(11, 32)).astype(np.float32))
    out = tmp_path / "new.html"
    capsys.readouterr()
    assert main(["report", str(trained_run), "--features", *map(str, paths), "--out", str(out)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(": predicted score ")[0] for line in lines[:2]] == ["clip_a", "clip_b"]
    assert lines[2] == f"wrote {out}"
    page = out.read_text()
    assert page.count('<section class="video"') == 2 and "2 feature file(s)" in page
    assert 'id="video-clip_a"' in page and "predicted vs true" not in page and "<script" not in page
    for line in lines[:2]:  # the printed score is the one the page shows
        assert f"predicted <b>{line.split(': predicted score ')[1]}</b>" in page
    default = trained_run / "report_features.html"
    assert main(["report", str(trained_run), "--features", str(paths[0])]) == 0 and default.is_file()
    default.unlink()
    assert main(["report", str(trained_run), "--features", str(paths[0]), "--measure"]) == 2
    assert "--measure measures a split" in capsys.readouterr().err
    np.save(tmp_path / "wrong.npy", np.zeros((4, 7), np.float32))
    assert main(["report", str(trained_run), "--features", str(paths[0]), str(tmp_path / "wrong.npy"),
                 "--out", str(tmp_path / "none.html")]) == 2
    assert "wrong.npy: feature dimension 7" in capsys.readouterr().err and not (tmp_path / "none.html").exists()


def test_explain_bad_inputs(trained_run, tmp_path, capsys):
    wrong = tmp_path / "wrong.npy"
    np.save(wrong, np.zeros((5, 7), dtype=np.float32))
    assert main(["explain", str(trained_run), "--features", str(wrong), "--out", str(tmp_path / "o")]) == 2
    assert "wrong.npy: feature dimension 7 does not match model.input_dim=32" in capsys.readouterr().err
    assert main(["explain", str(trained_run), "--features", str(tmp_path / "nope.npy"), "--out", str(tmp_path)]) == 2
    assert "nope.npy: feature file not found" in capsys.readouterr().err
    assert main(["explain", str(tmp_path), "--features", str(wrong), "--out", str(tmp_path / "o")]) == 2
    assert "not a run folder" in capsys.readouterr().err
    assert main(["explain", str(trained_run), "--split", "val", "--out", str(tmp_path / "o")]) == 2
    assert "--split must be one of train, test" in capsys.readouterr().err
    np.save(tmp_path / "good.npy", np.zeros((5, 32), dtype=np.float32))
    out = tmp_path / "nothing"
    assert (
        main(
            [
                "explain",
                str(trained_run),
                "--features",
                str(tmp_path / "good.npy"),
                str(wrong),
                "--out",
                str(out),
            ]
        )
        == 2
    )
    assert not out.exists()  # every file is checked before anything is written


def test_explain_split_and_interpretability(trained_run, routines, tmp_path, capsys):
    assert (
        main(
            [
                "explain",
                str(trained_run),
                "--data-root",
                str(routines),
                "--split",
                "test",
                "--out",
                str(tmp_path / "expl"),
                "--no-plots",
            ]
        )
        == 0
    )
    folders = sorted(p.name for p in (tmp_path / "expl").iterdir() if p.is_dir())
    assert len(folders) == 12 and folders[0] == "Ball_025"
    expl = read_explanation(tmp_path / "expl" / "Ball_025")
    assert expl.true is not None
    assert not (tmp_path / "expl" / "Ball_025" / "curves.png").exists()
    assert not (tmp_path / "expl" / "predicted_vs_true.png").exists()
    capsys.readouterr()
    assert main(["interpretability", str(trained_run), "--num-random", "2", "--max-videos", "4"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["n_videos"] == 4 and result["truth"]["n_videos"] == 4
    for key in ("contribution_spearman", "weight_spearman", "score_spearman"):
        assert -1.0 <= result["truth"][key] <= 1.0
    for key in ("deletion", "insertion"):
        assert np.isfinite(result[key]["auc"]) and np.isfinite(result[key]["auc_random"])
        # ranked by centred contribution: the same random orders, another ranking
        assert result[f"{key}_centred"]["auc_random"] == result[key]["auc_random"]
        assert np.isfinite(result[f"{key}_centred"]["auc"])
    assert len(result["skipping_index"]["per_layer"]) == 2
    variation = result["variation"]
    assert variation["n_videos"] == 4 and 0 <= variation["nearly_constant_scores"] <= 4
    assert variation["weight_median"] >= 0 and variation["score_median"] >= 0
    by_mapping = result["truth_by_mapping"]
    assert sum(part["n_videos"] for part in by_mapping.values()) == 4
    assert set(by_mapping) == {"attention"} and result["mapping_mode"] == "attention"
    assert (
        main(["interpretability", str(trained_run), "--num-random", "1", "--max-videos", "4", "--mapping", "auto"]) == 0
    )
    auto = json.loads(capsys.readouterr().out)
    assert auto["mapping"]["index"] >= 1 and (trained_run / "interpretability_auto.json").is_file()
    assert sum(part["n_videos"] for part in auto["truth_by_mapping"].values()) == 4
    assert json.loads((trained_run / "interpretability.json").read_text()) == result
    assert main(["interpretability", str(trained_run), "--truth", str(tmp_path / "none")]) == 2
    assert "truth folder not found" in capsys.readouterr().err


def test_report_command(trained_run, tmp_path, capsys):
    out = tmp_path / "report.html"
    assert main(["report", str(trained_run), "--max-videos", "2", "--out", str(out)]) == 0
    page = out.read_text()
    assert page.count('<section class="video"') == 2
    assert "predicted vs true" in page and "http://" not in page and "https://" not in page
    assert "<script" not in page
    saved = trained_run / "interpretability.json"
    kept = saved.read_text() if saved.is_file() else None
    saved.write_text("{not json")
    try:
        assert main(["report", str(trained_run), "--max-videos", "2", "--out", str(out)]) == 2
        assert "interpretability.json: not valid JSON" in capsys.readouterr().err
    finally:
        saved.write_text(kept) if kept is not None else saved.unlink()


def test_explain_split_writes_predicted_vs_true(trained_run, routines, tmp_path, monkeypatch):
    from longaqa.interpret import plots
    from longaqa.interpret.run import explain_run

    monkeypatch.setattr(plots, "curves_png", lambda expl, path=None: b"")  # per-video plots tested above
    monkeypatch.setattr(plots, "attention_png", lambda expl, path=None: b"")
    folders = explain_run(trained_run, tmp_path, data_root=routines, split="test")
    assert len(folders) == 12
    assert (tmp_path / "predicted_vs_true.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# ---------------------------------------------------------------- variation of clip values


def test_relative_variation_values():
    from longaqa.interpret.variation import relative_variation

    assert relative_variation(np.array([2.0, 2.0, 2.0])) == 0.0
    assert relative_variation(np.array([1.0, 2.0, 3.0, np.nan])) == pytest.approx(np.std([1, 2, 3]) / 2.0)
    assert relative_variation(np.array([-1.0, 1.0])) == pytest.approx(1.0)  # scale is mean |x|, not |mean|
    assert np.isnan(relative_variation(np.array([0.0, 0.0])))
    assert np.isnan(relative_variation(np.array([np.nan])))


def test_nearly_constant_clip_scores_are_flagged(tiny, tmp_path):
    """A video whose clip scores are all the same gets a note in explanation.json's variation, the
    explain note, the summary and the HTML report; one whose scores vary does not."""
    from longaqa.interpret.run import count_constant_scores, read_summaries
    from longaqa.interpret.variation import NEARLY_CONSTANT, constant_scores_note, variation_summary

    cfg, model = tiny
    varying = explain_video(model, cfg, "varying", torch.randn(12, cfg.model.input_dim))
    constant = explain_video(model, cfg, "constant", torch.randn(12, cfg.model.input_dim))
    constant.clip_score = np.full_like(constant.clip_score, 7.0)
    varying.clip_score = np.linspace(1.0, 2.0, varying.num_clips)

    summary = variation_summary([varying, constant])
    assert summary["nearly_constant_scores"] == 1 and summary["n_videos"] == 2
    assert summary["threshold"] == NEARLY_CONSTANT
    folders = [write_explanation(e, tmp_path / e.name) for e in (varying, constant)]
    assert json.loads((folders[1] / "explanation.json").read_text())["variation"]["score"] == 0.0
    assert count_constant_scores(read_summaries(folders)) == (1, 2)
    assert "in 1 of 2 video(s)" in constant_scores_note(1, 2)
    assert constant_scores_note(0, 2) is None

    from longaqa.interpret import write_report

    page = write_report(None, [varying, constant], tmp_path / "r.html").read_text()
    assert page.count('class="note"') == 1
    sections = page.split('<section class="video"')
    assert "nearly constant" not in sections[1] and "nearly constant" in sections[2]
    assert "clip scores vary by 0.00%" in sections[2]


def test_centred_contribution_is_the_leave_one_out_change_of_a_weighted_average():
    """For pred = sum_k w_k s_k with sum_k w_k = 1, dropping clip k and renormalising the other weights
    changes the prediction by -w_k (s_k - pred) / (1 - w_k): the centred contribution's sign and order,
    which the plain contribution w_k s_k does not give (a high-weight clip with a low score lowers an
    average that drops it, and the contribution ranks it first)."""
    from longaqa.interpret.explanation import VideoExplanation

    w = np.array([0.5, 0.2, 0.2, 0.1])
    s = np.array([4.0, 9.0, 8.0, 7.0])
    pred = float(w @ s)
    expl = VideoExplanation("v", pred, None, 1.28, 0, "index", w, s, w * s, w, s, w * s, np.arange(4))
    for k in range(4):
        keep = np.arange(4) != k
        without = float(w[keep] @ s[keep] / w[keep].sum())
        assert without - pred == pytest.approx(-expl.clip_centred_contribution[k] / (1 - w[k]))
    assert np.argmax(expl.clip_contribution) == 0  # ranked first by contribution
    assert expl.clip_centred_contribution[0] < 0  # yet dropping it raises the prediction


def test_several_rankings_share_one_set_of_random_orders(tiny):
    """Each ranking's result equals perturbation_curves run for it alone (same seed): the random
    orders are drawn and run once for all of them."""
    cfg, model = tiny
    features = [torch.randn(n, cfg.model.input_dim).numpy() for n in (7, 10)]
    rankings = {"a": [np.arange(7.0), np.arange(10.0)[::-1]], "b": [np.arange(7.0)[::-1], np.ones(10)]}
    together = ranked_perturbation_curves(model, features, rankings, 25.0, num_random=2, seed=3)
    for name, attributions in rankings.items():
        alone = perturbation_curves(model, list(zip(features, attributions)), 25.0, num_random=2, seed=3)
        for key in ("deletion", "insertion"):
            np.testing.assert_allclose(together[name][key]["curve"], alone[key]["curve"], rtol=1e-6)
            np.testing.assert_allclose(together[name][key]["curve_random"], alone[key]["curve_random"], rtol=1e-6)
    assert together["a"]["deletion"]["curve"] != together["b"]["deletion"]["curve"]


def test_videos_whose_background_barely_won_are_named_in_a_note():
    """explain's note: the videos whose background margin is below FRAGILE_MARGIN, by name (the first
    five, then a count); none without the additive head's background prior or when every margin is clear."""
    from longaqa.interpret.run import fragile_note, fragile_videos
    from longaqa.models.background import FRAGILE_MARGIN

    summaries = [{"name": f"v{i}", "background_margin": m}
                 for i, m in enumerate([0.05, 0.9, FRAGILE_MARGIN, 0.1, 0.0, 0.02, 0.11, 0.14])]
    summaries.append({"name": "paper_head"})  # no margin: not an additive head with the prior
    names = fragile_videos(summaries)
    assert names == ["v0", "v3", "v4", "v5", "v6", "v7"]
    note = fragile_note(names, len(summaries))
    assert note.startswith(f"note: in 6 of 9 video(s) the background won by a margin below {FRAGILE_MARGIN}")
    assert "v0, v3, v4, v5, v6 and 1 more" in note
    assert fragile_note(fragile_videos(summaries[1:3] + summaries[-1:]), 3) is None
