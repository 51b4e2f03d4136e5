"""Generated judged routines (longaqa.data.generators): release layouts the real parsers read, score
sheets that add up, per-clip truth that sums to the sheet, determinism, and the CLI."""

from __future__ import annotations

import filecmp
import itertools
import json

import numpy as np
import pytest

from longaqa.cli import main
from longaqa.config import load_config
from longaqa.data import dataset_root, load_split
from longaqa.data.fisv import parse_fisv_labels
from longaqa.data.generators import GENERATORS, write_generated
from longaqa.data.generators import acro_heldout as acro_heldout_module
from longaqa.data.generators import aerobic_heldout as aerobic_heldout_module
from longaqa.data.generators import bars_heldout as bars_heldout_module
from longaqa.data.generators import beam_heldout as beam_heldout_module
from longaqa.data.generators import dressage_heldout as dressage_heldout_module
from longaqa.data.generators import floor_heldout as floor_heldout_module
from longaqa.data.generators import hbar_heldout as hbar_heldout_module
from longaqa.data.generators import icedance_heldout as icedance_heldout_module
from longaqa.data.generators import moguls_heldout as moguls_heldout_module
from longaqa.data.generators import pairs_heldout as pairs_heldout_module
from longaqa.data.generators import pbars_heldout as pbars_heldout_module
from longaqa.data.generators import pommel_heldout as pommel_heldout_module
from longaqa.data.generators import rggroup_heldout as rggroup_heldout_module
from longaqa.data.generators import rings_heldout as rings_heldout_module
from longaqa.data.generators import skating as skating_module
from longaqa.data.generators import skating_heldout as skating_heldout_module
from longaqa.data.generators import swimming_heldout as swimming_heldout_module
from longaqa.data.generators import trampoline_heldout as trampoline_heldout_module
from longaqa.data.generators.release import format_fisv_points, format_points
from longaqa.data.generic import parse_generic_labels
from longaqa.data.rg import parse_rg_labels
from longaqa.data.synthetic import RG_HEADER
from longaqa.data.validate import dataset_problems
from longaqa.errors import LongAQAError

FEATURES = "swintx_avg_fps25_clip32"
DIM = 64
SMALL = {
    "multiplicative": dict(min_clips=10, max_clips=14),
    "rg_additive": dict(min_clips=12, max_clips=18),
    "rg_linking": dict(min_clips=12, max_clips=18),
    "rg_linking_unique": dict(min_clips=12, max_clips=18),
    "rg_heldout": dict(min_clips=14, max_clips=22),
    "skating": dict(min_clips=24, max_clips=34),
    "skating_total": dict(min_clips=24, max_clips=34),
    "skating_heldout": dict(min_clips=40, max_clips=56),
    "swimming_heldout": dict(min_clips=28, max_clips=36),
    "aerobic_heldout": dict(min_clips=20, max_clips=26),
    "floor_heldout": dict(min_clips=24, max_clips=32),
    "icedance_heldout": dict(min_clips=36, max_clips=48),
    "acro_heldout": dict(min_clips=28, max_clips=36),
    "trampoline_heldout": dict(min_clips=20, max_clips=32),
    "moguls_heldout": dict(min_clips=20, max_clips=26),
    "pairs_heldout": dict(min_clips=36, max_clips=48),
    "beam_heldout": dict(min_clips=28, max_clips=36),
    "rggroup_heldout": dict(min_clips=28, max_clips=36),
    "dressage_heldout": dict(min_clips=36, max_clips=48),
    "bars_heldout": dict(min_clips=28, max_clips=36),
    "pommel_heldout": dict(min_clips=28, max_clips=36),
    "rings_heldout": dict(min_clips=28, max_clips=36),
    "pbars_heldout": dict(min_clips=28, max_clips=36),
    "hbar_heldout": dict(min_clips=28, max_clips=36),
    "diving_heldout": dict(min_clips=28, max_clips=36),
    "tumbling_heldout": dict(min_clips=28, max_clips=36),
    "surfing_heldout": dict(min_clips=28, max_clips=36),
    "teamgym_heldout": dict(min_clips=28, max_clips=36),
    "synchro_heldout": dict(min_clips=36, max_clips=48),
}
ADDITIVE_RG = ("rg_additive", "rg_linking", "rg_linking_unique", "rg_heldout", "floor_heldout", "pommel_heldout",
               "rings_heldout", "pbars_heldout", "hbar_heldout", "tumbling_heldout")
SKATING = ("skating", "skating_heldout", "pairs_heldout")
GENERIC_OVERRIDES = ["data.layout=generic", "data.features_dir=features", "data.class_name=", "data.score_divisor=100"]
"""What docs/generators.md tells a user to set to train on a generic-layout kind."""


def features_dir(kind: str) -> str:
    return "features" if GENERATORS[kind].layout == "generic" else FEATURES


GENERIC_PREFIX = {"skating_total": "programme", "swimming_heldout": "team", "aerobic_heldout": "aerobic",
                  "trampoline_heldout": "trampoline", "moguls_heldout": "moguls",
                  "diving_heldout": "diving", "surfing_heldout": "surfing"}
"""The generic kinds' video names: ``<prefix>_001`` ..."""


def first_video(kind: str) -> str:
    return {"rg": "Ball_001", "fisv": "1", "generic": f"{GENERIC_PREFIX.get(kind)}_001"}[GENERATORS[kind].layout]


def layout_overrides(kind: str) -> list[str]:
    layout = GENERATORS[kind].layout
    return GENERIC_OVERRIDES if layout == "generic" else [f"data.layout={layout}"]


def small(kind: str, root, seed: int = 1):
    return write_generated(kind, root, seed=seed, num_train=12, num_test=5, feature_dim=DIM, **SMALL[kind])


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> dict:
    return {kind: small(kind, tmp_path_factory.mktemp(kind)) for kind in GENERATORS}


def hundredths(text: str) -> int:
    return int(round(float(text) * 100))


def rg_rows(root) -> dict[str, list[list[str]]]:
    """The raw cells of each split's rows, header checked."""
    rows = {}
    for split in ("train", "test"):
        lines = (root / f"{split}.txt").read_text(encoding="utf-8").splitlines()
        assert lines[0] == RG_HEADER
        rows[split] = [line.split("\t") for line in lines[1:]]
    return rows


def truth(root, name: str) -> dict[str, np.ndarray]:
    with np.load(root / "truth" / f"{name}.npz", allow_pickle=False) as npz:
        return {key: npz[key] for key in npz.files}


def test_registry():
    assert set(GENERATORS) == {"multiplicative", "rg_additive", "rg_linking", "rg_linking_unique", "skating",
                               "skating_total",
                               "rg_heldout", "skating_heldout", "swimming_heldout", "aerobic_heldout", "floor_heldout",
                               "icedance_heldout", "acro_heldout", "trampoline_heldout", "moguls_heldout",
                               "pairs_heldout", "beam_heldout", "rggroup_heldout", "dressage_heldout",
                               "bars_heldout", "pommel_heldout", "rings_heldout", "pbars_heldout", "hbar_heldout",
                               "diving_heldout", "tumbling_heldout", "surfing_heldout",
                               "teamgym_heldout", "synchro_heldout"}
    assert {k: i.layout for k, i in GENERATORS.items()} == {
        "multiplicative": "rg", "rg_additive": "rg", "rg_linking": "rg", "rg_linking_unique": "rg", "skating": "fisv",
        "skating_total": "generic", "rg_heldout": "rg",
        "skating_heldout": "fisv", "swimming_heldout": "generic", "aerobic_heldout": "generic",
        "floor_heldout": "rg", "icedance_heldout": "fisv", "acro_heldout": "rg", "trampoline_heldout": "generic",
        "moguls_heldout": "generic", "pairs_heldout": "fisv", "beam_heldout": "rg",
        "rggroup_heldout": "rg", "dressage_heldout": "fisv", "bars_heldout": "rg", "pommel_heldout": "rg",
        "rings_heldout": "rg", "pbars_heldout": "rg", "hbar_heldout": "rg", "diving_heldout": "generic",
        "tumbling_heldout": "rg", "surfing_heldout": "generic", "teamgym_heldout": "rg",
        "synchro_heldout": "fisv"}
    assert [k for k, i in GENERATORS.items() if i.held_out] == [
        "rg_heldout", "skating_heldout", "swimming_heldout", "aerobic_heldout", "floor_heldout", "icedance_heldout",
        "acro_heldout", "trampoline_heldout", "moguls_heldout", "pairs_heldout", "beam_heldout",
        "rggroup_heldout", "dressage_heldout", "bars_heldout", "pommel_heldout", "rings_heldout", "pbars_heldout",
        "hbar_heldout", "diving_heldout", "tumbling_heldout", "surfing_heldout", "teamgym_heldout",
        "synchro_heldout"]
    assert set(GENERIC_PREFIX) == {k for k, i in GENERATORS.items() if i.layout == "generic"}
    from longaqa.commands.generate import KINDS

    assert all(f"{kind} ({info.layout}" in KINDS for kind, info in GENERATORS.items())


@pytest.mark.parametrize("kind", list(GENERATORS))
def test_real_parsers_read_the_files(generated, kind):
    root = generated[kind]
    layout = GENERATORS[kind].layout
    if layout == "rg":
        splits = {s: parse_rg_labels(root / f"{s}.txt") for s in ("train", "test")}
        names = {s: [lab.name for lab in labels] for s, labels in splits.items()}
        assert names["train"] == [f"Ball_{i:03d}" for i in range(1, 13)]
        assert names["test"] == [f"Ball_{i:03d}" for i in range(13, 18)]
        seconds = {lab.name: lab.seconds for labels in splits.values() for lab in labels}
    elif layout == "generic":
        splits = {s: parse_generic_labels(root / "labels.csv", s) for s in ("train", "test")}
        names = {s: [name for name, _ in labels] for s, labels in splits.items()}
        assert names["train"] + names["test"] == [f"{GENERIC_PREFIX[kind]}_{i:03d}" for i in range(1, 18)]
    else:
        splits = {s: parse_fisv_labels(root / f"{s}_dataset.txt") for s in ("train", "test")}
        names = {s: [row[0] for row in rows] for s, rows in splits.items()}
        assert sorted(int(n) for n in names["train"] + names["test"]) == list(range(1, 18))
        assert all(ids == sorted(ids, key=int) for ids in names.values())
        assert all(row[3] == int(row[3]) for rows in splits.values() for row in rows)
    assert (len(names["train"]), len(names["test"])) == (12, 5)
    low, high = SMALL[kind]["min_clips"], SMALL[kind]["max_clips"]
    for name in names["train"] + names["test"]:
        features = np.load(root / features_dir(kind) / f"{name}.npy")
        assert features.dtype == np.float32 and features.shape[1] == DIM and np.isfinite(features).all()
        assert low <= len(features) <= high
        if layout == "rg":
            assert seconds[name] == round(len(features) * 32 / 25)
        for key, values in truth(root, name).items():
            assert values.dtype == np.float32 and values.shape == (len(features),), key
    assert json.loads((root / "generator.json").read_text())["kind"] == kind


@pytest.mark.parametrize("kind", list(GENERATORS))
def test_the_repository_validator_accepts_the_dataset(generated, kind):
    cfg = load_config(None, [*layout_overrides(kind), f"model.input_dim={DIM}"])
    assert dataset_problems(cfg, generated[kind]) == []


@pytest.mark.parametrize("kind", [k for k, i in GENERATORS.items() if i.layout == "rg"])
def test_rg_rows_add_up_exactly(generated, kind):
    for rows in rg_rows(generated[kind]).values():
        for name, d, e, total, penalty, seconds in rows:
            for cell in (d, e, total, penalty):
                assert cell == format_points(hundredths(cell)), f"{name}: {cell} is not written with 2 decimals"
            assert hundredths(total) == hundredths(d) + hundredths(e) - hundredths(penalty), name
            assert seconds.isdigit()


@pytest.mark.parametrize("kind", ADDITIVE_RG)
def test_rg_truth_sums_to_the_sheet(generated, kind):
    root = generated[kind]
    for rows in rg_rows(root).values():
        for name, d, e, total, penalty, _ in rows:
            t = truth(root, name)
            assert {"difficulty", "deduction", "contribution", "element_type"} <= set(t)
            assert abs(t["difficulty"].sum() - float(d)) <= 0.006, name
            assert abs(t["deduction"].sum() - (10 - float(e))) <= 0.006, name
            assert abs(t["contribution"].sum() - (float(total) + float(penalty) - 10)) <= 0.006, name
            np.testing.assert_allclose(t["contribution"], t["difficulty"] - t["deduction"], atol=1e-6)
            assert (t["difficulty"] >= 0).all() and (t["deduction"] >= 0).all()
            assert (t["difficulty"][t["element_type"] < 0] == 0).all(), "transitions earn no difficulty"
            # judges' granularity: D to 0.1, E and penalties to 0.05
            assert hundredths(d) % 10 == 0 and hundredths(e) % 5 == 0 and hundredths(penalty) % 5 == 0


@pytest.mark.parametrize("kind", SKATING)
def test_skating_truth_sums_to_the_sheet(generated, kind):
    root = generated[kind]
    lines = (root / "train_dataset.txt").read_text().splitlines() + (root / "test_dataset.txt").read_text().splitlines()
    for line in lines:
        name, tes, pcs, deductions = line.split(" ")
        assert tes == format_fisv_points(hundredths(tes)) and pcs == format_fisv_points(hundredths(pcs))
        assert deductions.isdigit()
        t = truth(root, name)
        assert {"difficulty", "goe", "tes", "deduction", "contribution", "element_type"} <= set(t)
        assert abs(t["tes"].sum() - float(tes)) <= 0.006, name
        assert abs(t["deduction"].sum() - int(deductions)) <= 0.006, name
        assert abs(t["contribution"].sum() - (float(tes) - int(deductions))) <= 0.006, name
        np.testing.assert_allclose(t["tes"], t["difficulty"] + t["goe"], atol=1e-6)
        assert set(np.unique(t["deduction"])) <= {0.0, 1.0, 2.0, 3.0}  # ISU: later falls cost more
        assert (t["element_type"] >= 0).sum() > 0 and (t["tes"][t["element_type"] < 0] == 0).all()


def test_multiplicative_keeps_its_truth(generated):
    root = generated["multiplicative"]
    t = truth(root, "Ball_001")
    assert set(t) == {"weight", "quality", "contribution"}
    product = t["weight"] * t["quality"]  # contribution = scale x weight x quality
    scale = (t["contribution"] @ product) / (product @ product)
    np.testing.assert_allclose(t["contribution"], scale * product, atol=1e-5)


@pytest.mark.parametrize("kind", list(GENERATORS))
def test_same_seed_same_files(generated, kind, tmp_path):
    again = small(kind, tmp_path / "again")
    comparison = filecmp.dircmp(generated[kind], again)
    assert not comparison.left_only and not comparison.right_only
    for folder in (".", features_dir(kind), "truth"):
        names = sorted(p.name for p in (again / folder).iterdir() if p.is_file())
        if kind == "multiplicative" and folder == "truth":  # np.savez stamps the time: compare the arrays
            for name in names:
                a, b = truth(generated[kind], name[:-4]), truth(again, name[:-4])
                assert a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)
            continue
        _, mismatch, errors = filecmp.cmpfiles(generated[kind] / folder, again / folder, names, shallow=False)
        assert not mismatch and not errors, (folder, mismatch, errors)
    other = small(kind, tmp_path / "other", seed=2)
    first = f"{features_dir(kind)}/{first_video(kind)}.npy"
    assert not filecmp.cmp(generated[kind] / first, other / first, shallow=False)


def test_rg_additive_difficulty_and_execution_correlate_like_the_release(tmp_path):
    root = write_generated("rg_additive", tmp_path, seed=0, num_train=150, num_test=50, feature_dim=4)
    labels = parse_rg_labels(root / "train.txt") + parse_rg_labels(root / "test.txt")
    assert len(labels) == 200
    rho = np.corrcoef([lab.difficulty for lab in labels], [lab.execution for lab in labels])[0, 1]
    assert 0.5 <= rho <= 0.9


def test_rg_linking_is_rg_additive_with_three_kinds_of_connecting_movement(generated):
    plain, linking = generated["rg_additive"], generated["rg_linking"]
    assert (plain / "train.txt").read_text() == (linking / "train.txt").read_text()  # the same marks
    for path in sorted((plain / "truth").glob("*.npz")):
        a, b = truth(plain, path.stem), truth(linking, path.stem)
        assert all(np.array_equal(a[k], b[k]) for k in a)  # the same elements, faults and truth
        x = np.load(plain / FEATURES / f"{path.stem}.npy")
        y = np.load(linking / FEATURES / f"{path.stem}.npy")
        on = a["element_type"] >= 0
        np.testing.assert_array_equal(x[on], y[on])  # elements look the same
    # off the elements, the plain routines have one kind of clip and rg_linking three (up to noise)
    from longaqa.data.generators import rg_additive
    sport = rg_additive.RGAdditiveSport(1, DIM).with_linking_kinds(3)
    kinds = sport.linking_clips(np.array([-1, 0, -1, -1, 2, -1, 3, 3, -1] * 6), "v")
    assert len({tuple(np.round(k, 6)) for k in kinds}) == 3


def test_rg_linking_unique_performs_no_difficulty_twice(tmp_path):
    """Until all twelve types have been performed, no element type appears in two elements of a routine;
    rg_linking's routines repeat types often (skill picks them near the gymnast's level)."""
    repeats = {}
    for kind in ("rg_linking", "rg_linking_unique"):
        root = write_generated(kind, tmp_path / kind, seed=0, num_train=30, num_test=1, feature_dim=4,
                               min_clips=28, max_clips=36)
        repeats[kind] = 0
        for path in sorted((root / "truth").glob("*.npz")):
            types = truth(root, path.stem)["element_type"].astype(int)
            starts = types[(types >= 0) & (np.r_[-2, types[:-1]] != types)]  # one entry per element
            repeats[kind] += len(starts) - len(set(starts.tolist()))
            if kind == "rg_linking_unique" and len(starts) <= 12:
                assert len(set(starts.tolist())) == len(starts), path.stem
    assert repeats["rg_linking"] > 30 and repeats["rg_linking_unique"] == 0


def test_skating_total_is_the_skating_programmes_with_one_total(generated):
    fisv, generic = generated["skating"], generated["skating_total"]
    parts = {}
    for split in ("train", "test"):
        for line in (fisv / f"{split}_dataset.txt").read_text().splitlines():
            name, tes, pcs, ded = line.split()
            parts[name] = hundredths(tes) + hundredths(pcs) - 100 * int(ded)
    scores = dict(parse_generic_labels(generic / "labels.csv", None))
    assert len(scores) == len(parts) == 17
    for name, total in parts.items():  # the same programme: its features, truth and TES + PCS - deductions
        ours = f"programme_{int(name):03d}"
        assert hundredths(f"{scores[ours]:.2f}") == total
        np.testing.assert_array_equal(np.load(generic / "features" / f"{ours}.npy"),
                                      np.load(fisv / FEATURES / f"{name}.npy"))
        np.testing.assert_array_equal(truth(generic, ours)["contribution"], truth(fisv, name)["contribution"])


def test_skating_pcs_is_holistic_not_a_sum_over_clips():
    programmes = list(skating_module.generate(seed=0, count=300, feature_dim=4, min_clips=125, max_clips=175))
    pcs = np.array([p.marks["pcs"] for p in programmes]) / 100
    clip_sums = np.array([[1, len(p.features), *(p.truth[k].sum() for k in ("difficulty", "goe", "deduction"))]
                          for p in programmes])
    video_level = np.array([[p.video["flow"], p.video["presentation"]] for p in programmes])

    def r2(x):
        coef, *_ = np.linalg.lstsq(x, pcs, rcond=None)
        return 1 - (pcs - x @ coef).var() / pcs.var()

    assert r2(clip_sums) < 0.85  # per-clip sums leave much of PCS unexplained ...
    assert r2(np.c_[clip_sums, video_level]) > 0.95  # ... which the whole-programme properties explain
    tes = np.array([p.marks["tes"] for p in programmes])
    assert np.corrcoef(tes, pcs)[0, 1] > 0.5  # yet PCS follows skill, as in Fis-V


def test_skating_heldout_labels_look_like_free_skating(tmp_path):
    root = write_generated("skating_heldout", tmp_path, seed=0, num_train=120, num_test=40, feature_dim=4)
    rows = parse_fisv_labels(root / "train_dataset.txt") + parse_fisv_labels(root / "test_dataset.txt")
    assert len(rows) == 160
    tes, pcs, deductions = (np.array([row[i] for row in rows]) for i in (1, 2, 3))
    assert 40 <= tes.mean() <= 70 and 35 <= pcs.mean() <= 70  # free skating: about twice Fis-V's short programme
    assert 0.6 <= np.corrcoef(tes, pcs)[0, 1] <= 0.95
    assert (deductions == 0).mean() >= 0.5 and (deductions <= 1).mean() >= 0.8  # most programmes: 0 or 1 fall
    low, high = GENERATORS["skating_heldout"].default_clips
    for name, *_ in rows:
        t = truth(root, name)
        assert low <= len(t["element_type"]) <= high
        assert len(np.unique(t["element_type"][t["element_type"] >= 0])) >= 10  # a free programme's elements


def test_skating_heldout_pcs_is_holistic_not_a_sum_over_clips():
    programmes = list(skating_heldout_module.generate(seed=0, count=300, feature_dim=4, min_clips=180, max_clips=200))
    pcs = np.array([p.marks["pcs"] for p in programmes]) / 100
    clip_sums = np.array([[1, len(p.features), *(p.truth[k].sum() for k in ("difficulty", "goe", "deduction"))]
                          for p in programmes])
    coef, *_ = np.linalg.lstsq(clip_sums, pcs, rcond=None)
    assert 1 - (pcs - clip_sums @ coef).var() / pcs.var() < 0.85  # per-clip sums leave much of PCS unexplained
    tes = np.array([p.marks["tes"] for p in programmes])
    assert np.corrcoef(tes, pcs)[0, 1] > 0.5


REFUSED_SIZES = [  # (kind, write_generated arguments, the error's message) for the held-out generators
    ("swimming_heldout", dict(min_clips=10, max_clips=40), "min_clips must be at least 24 for swimming_heldout"),
    ("swimming_heldout", dict(min_clips=40, max_clips=30), "max_clips"),
    ("aerobic_heldout", dict(min_clips=10, max_clips=40), "min_clips must be at least 16 for aerobic_heldout"),
    ("aerobic_heldout", dict(min_clips=40, max_clips=30), "max_clips"),
    ("aerobic_heldout", dict(feature_dim=0), "feature_dim must be at least 1"),
    ("floor_heldout", dict(min_clips=12, max_clips=40), "min_clips must be at least 24 for floor_heldout"),
    ("floor_heldout", dict(min_clips=60, max_clips=50), "max_clips"),
    ("floor_heldout", dict(class_name="a/b"), "class_name"),
    ("icedance_heldout", dict(min_clips=20, max_clips=48), "min_clips must be at least 32 for icedance_heldout"),
    ("icedance_heldout", dict(min_clips=48, max_clips=36), "max_clips"),
    ("icedance_heldout", dict(num_train=0), "num_train must be at least 1"),
    ("acro_heldout", dict(min_clips=20, max_clips=40), "min_clips must be at least 28 for acro_heldout"),
    ("acro_heldout", dict(min_clips=60, max_clips=50), "max_clips"),
    ("acro_heldout", dict(num_test=0), "num_test must be at least 1"),
    ("acro_heldout", dict(class_name="Big Ball"), "class_name"),
    ("trampoline_heldout", dict(min_clips=11, max_clips=20), "min_clips must be at least 12 for trampoline_heldout"),
    ("trampoline_heldout", dict(min_clips=30, max_clips=20), "max_clips"),
    ("trampoline_heldout", dict(feature_dim=0), "feature_dim must be at least 1"),
    ("trampoline_heldout", dict(num_train=0), "num_train must be at least 1"),
    ("moguls_heldout", dict(min_clips=11, max_clips=20), "min_clips must be at least 12 for moguls_heldout"),
    ("moguls_heldout", dict(min_clips=30, max_clips=20), "max_clips"),
    ("moguls_heldout", dict(feature_dim=0), "feature_dim must be at least 1"),
    ("moguls_heldout", dict(num_test=0), "num_test must be at least 1"),
    ("pairs_heldout", dict(min_clips=32, max_clips=48), "min_clips must be at least 33 for pairs_heldout"),
    ("pairs_heldout", dict(min_clips=48, max_clips=36), "max_clips"),
    ("pairs_heldout", dict(feature_dim=0), "feature_dim must be at least 1"),
    ("pairs_heldout", dict(num_test=0), "num_test must be at least 1"),
    ("beam_heldout", dict(min_clips=23, max_clips=36), "min_clips must be at least 24 for beam_heldout"),
    ("beam_heldout", dict(min_clips=36, max_clips=28), "max_clips"),
    ("beam_heldout", dict(feature_dim=0), "feature_dim must be at least 1"),
    ("beam_heldout", dict(class_name="Big Ball"), "class_name"),
    ("rggroup_heldout", dict(min_clips=23, max_clips=36), "min_clips must be at least 24 for rggroup_heldout"),
    ("rggroup_heldout", dict(min_clips=36, max_clips=28), "max_clips"),
    ("rggroup_heldout", dict(feature_dim=0), "feature_dim must be at least 1"),
    ("rggroup_heldout", dict(class_name="Big Ball"), "class_name"),
    ("dressage_heldout", dict(min_clips=32, max_clips=48), "min_clips must be at least 33 for dressage_heldout"),
    ("dressage_heldout", dict(min_clips=48, max_clips=36), "max_clips"),
    ("dressage_heldout", dict(feature_dim=0), "feature_dim must be at least 1"),
    ("dressage_heldout", dict(num_train=0), "num_train must be at least 1"),
    ("bars_heldout", dict(min_clips=19, max_clips=36), "min_clips must be at least 20 for bars_heldout"),
    ("bars_heldout", dict(min_clips=36, max_clips=28), "max_clips"),
    ("bars_heldout", dict(feature_dim=0), "feature_dim must be at least 1"),
    ("bars_heldout", dict(class_name="Big Ball"), "class_name"),
    ("pommel_heldout", dict(min_clips=23, max_clips=36), "min_clips must be at least 24 for pommel_heldout"),
    ("pommel_heldout", dict(min_clips=36, max_clips=28), r"max_clips \(28\) is below min_clips \(36\)"),
    ("pommel_heldout", dict(feature_dim=0), "feature_dim must be at least 1"),
    ("rings_heldout", dict(min_clips=15, max_clips=36), "min_clips must be at least 16 for rings_heldout"),
    ("rings_heldout", dict(min_clips=36, max_clips=28), r"max_clips \(28\) is below min_clips \(36\)"),
    ("rings_heldout", dict(feature_dim=0), "feature_dim must be at least 1"),
    ("rings_heldout", dict(num_train=0), "num_train must be at least 1"),
    ("rings_heldout", dict(class_name="Big Ball"), "class_name"),
    ("pbars_heldout", dict(min_clips=19, max_clips=36), "min_clips must be at least 20 for pbars_heldout"),
    ("pbars_heldout", dict(min_clips=36, max_clips=28), r"max_clips \(28\) is below min_clips \(36\)"),
    ("pbars_heldout", dict(feature_dim=0), "feature_dim must be at least 1"),
    ("pbars_heldout", dict(num_train=0), "num_train must be at least 1"),
    ("pbars_heldout", dict(num_test=0), "num_test must be at least 1"),
    ("pbars_heldout", dict(class_name="Big Ball"), "class_name"),
    ("hbar_heldout", dict(min_clips=19, max_clips=36), "min_clips must be at least 20 for hbar_heldout"),
    ("hbar_heldout", dict(min_clips=36, max_clips=28), r"max_clips \(28\) is below min_clips \(36\)"),
    ("hbar_heldout", dict(feature_dim=0), "feature_dim must be at least 1"),
    ("hbar_heldout", dict(num_train=0), "num_train must be at least 1"),
    ("hbar_heldout", dict(num_test=0), "num_test must be at least 1"),
    ("hbar_heldout", dict(class_name="Big Ball"), "class_name"),
    ("diving_heldout", dict(min_clips=24, max_clips=36), "min_clips must be at least 25 for diving_heldout"),
    ("diving_heldout", dict(min_clips=36, max_clips=28), r"max_clips \(28\) is below min_clips \(36\)"),
    ("diving_heldout", dict(feature_dim=0), "feature_dim must be at least 1"),
    ("diving_heldout", dict(num_train=0), "num_train must be at least 1"),
    ("diving_heldout", dict(num_test=0), "num_test must be at least 1"),
    ("tumbling_heldout", dict(min_clips=20, max_clips=36), "min_clips must be at least 21 for tumbling_heldout"),
    ("tumbling_heldout", dict(min_clips=36, max_clips=28), r"max_clips \(28\) is below min_clips \(36\)"),
    ("tumbling_heldout", dict(feature_dim=0), "feature_dim must be at least 1"),
    ("tumbling_heldout", dict(num_train=0), "num_train must be at least 1"),
    ("tumbling_heldout", dict(num_test=0), "num_test must be at least 1"),
    ("tumbling_heldout", dict(class_name="Big Ball"), "class_name"),
    ("surfing_heldout", dict(min_clips=11, max_clips=36), "min_clips must be at least 12 for surfing_heldout"),
    ("surfing_heldout", dict(min_clips=36, max_clips=28), r"max_clips \(28\) is below min_clips \(36\)"),
    ("surfing_heldout", dict(feature_dim=0), "feature_dim must be at least 1"),
    ("surfing_heldout", dict(num_train=0), "num_train must be at least 1"),
    ("surfing_heldout", dict(num_test=0), "num_test must be at least 1"),
    ("teamgym_heldout", dict(min_clips=11, max_clips=36), "min_clips must be at least 12 for teamgym_heldout"),
    ("teamgym_heldout", dict(min_clips=36, max_clips=28), r"max_clips \(28\) is below min_clips \(36\)"),
    ("teamgym_heldout", dict(feature_dim=0), "feature_dim must be at least 1"),
    ("teamgym_heldout", dict(num_train=0), "num_train must be at least 1"),
    ("teamgym_heldout", dict(num_test=0), "num_test must be at least 1"),
    ("teamgym_heldout", dict(class_name="Big Ball"), "class_name"),
    ("synchro_heldout", dict(min_clips=30, max_clips=48), "min_clips must be at least 31 for synchro_heldout"),
    ("synchro_heldout", dict(min_clips=48, max_clips=36), r"max_clips \(36\) is below min_clips \(48\)"),
    ("synchro_heldout", dict(feature_dim=0), "feature_dim must be at least 1"),
    ("synchro_heldout", dict(num_train=0), "num_train must be at least 1"),
    ("synchro_heldout", dict(num_test=0), "num_test must be at least 1"),
]


@pytest.mark.parametrize("kind, kwargs, message", REFUSED_SIZES)
def test_held_out_generators_refuse_sizes_they_cannot_honour(tmp_path, kind, kwargs, message):
    with pytest.raises(LongAQAError, match=message):
        write_generated(kind, tmp_path, **kwargs)
    assert not any(tmp_path.iterdir())


def test_unknown_kind_and_bad_sizes_are_user_errors(tmp_path):
    with pytest.raises(LongAQAError, match="choose one of: multiplicative, rg_additive, rg_linking, "
                       "rg_linking_unique, skating, skating_total, rg_heldout, skating_heldout, swimming_heldout, "
                       "aerobic_heldout, floor_heldout, icedance_heldout, acro_heldout, trampoline_heldout, "
                       "moguls_heldout, pairs_heldout, beam_heldout, rggroup_heldout, dressage_heldout, "
                       "bars_heldout, pommel_heldout, rings_heldout, pbars_heldout, hbar_heldout"):
        write_generated("diving", tmp_path)
    with pytest.raises(LongAQAError, match="max_clips"):
        write_generated("rg_additive", tmp_path, min_clips=20, max_clips=10)
    with pytest.raises(LongAQAError, match="min_clips must be at least"):
        write_generated("skating", tmp_path, min_clips=5, max_clips=10)
    with pytest.raises(LongAQAError, match="min_clips must be at least 32 for skating_heldout"):
        write_generated("skating_heldout", tmp_path, min_clips=20, max_clips=40)
    with pytest.raises(LongAQAError, match="num_test must be at least 1"):
        write_generated("skating_heldout", tmp_path, num_test=0)
    with pytest.raises(LongAQAError, match="class_name"):
        write_generated("rg_heldout", tmp_path, class_name="Big Ball")
    assert not any(tmp_path.iterdir())


def test_cli_writes_a_folder_and_refuses_a_non_empty_one(tmp_path, capsys):
    out = tmp_path / "fisv"
    args = ["generate", "--kind", "skating", "--out", str(out), "--seed", "3", "--num-train", "6",
            "--num-test", "2", "--feature-dim", "16", "--min-clips", "20", "--max-clips", "24"]
    assert main(args) == 0
    assert "wrote 6 + 2 skating videos" in capsys.readouterr().out
    assert len(parse_fisv_labels(out / "train_dataset.txt")) == 6
    assert len(list((out / "truth").glob("*.npz"))) == 8
    assert np.load(out / FEATURES / "1.npy").shape[1] == 16
    assert main(args) == 2
    assert "already exists" in capsys.readouterr().err
    assert main(["generate", "--kind", "nope", "--out", str(tmp_path / "x")]) == 2
    assert "choose one of" in capsys.readouterr().err


@pytest.mark.parametrize("kind", list(GENERIC_PREFIX))
def test_generic_kinds_read_through_the_loader(generated, kind):
    root = generated[kind]
    cfg = load_config(None, [*GENERIC_OVERRIDES, f"model.input_dim={DIM}"])
    lines = (root / "labels.csv").read_text(encoding="utf-8").splitlines()
    assert lines[0] == "name,score,split"
    written = {}
    for line in lines[1:]:
        name, score, split = line.split(",")
        assert score == format_points(hundredths(score)), f"{name}: {score} is not written with 2 decimals"
        written[name] = (float(score), split)
    data_root = dataset_root(cfg.data, root)
    for split, count in (("train", 12), ("test", 5)):
        samples = load_split(cfg.data, data_root, split, DIM)
        assert len(samples) == count
        for sample in samples:
            assert written[sample.name] == (pytest.approx(sample.score * 100), split)
            assert sample.features.shape[1] == DIM
            assert SMALL[kind]["min_clips"] <= sample.features.shape[0] <= SMALL[kind]["max_clips"]


def test_swimming_heldout_truth_sums_to_the_total_less_the_holistic_part(generated):
    root = generated["swimming_heldout"]
    scores = dict(parse_generic_labels(root / "labels.csv", None))
    for name, score in scores.items():
        t = truth(root, name)
        assert {"difficulty", "deduction", "contribution", "element_type"} <= set(t)
        assert (t["element_type"] >= 0).sum() > 0 and (t["difficulty"][t["element_type"] < 0] == 0).all()
        assert (t["difficulty"] >= 0).all() and (t["deduction"] >= 0).all()
        assert 20 <= score - t["contribution"].sum() <= 45, name  # the artistic impression has no per-clip share
    # the module's own marks: contributions sum to total - artistic impression, up to the labels' rounding
    for routine in swimming_heldout_module.generate(seed=1, count=40, feature_dim=4, min_clips=28, max_clips=36):
        marks = routine.marks
        assert marks["total"] == marks["elements"] - marks["synchro"] + marks["artistic"]
        contribution = routine.truth["contribution"].astype(np.float32).sum()
        assert abs(contribution - (marks["total"] - marks["artistic"]) / 100) <= 0.006, routine.name
        assert abs(routine.truth["deduction"].sum() - marks["synchro"] / 100) <= 0.006, routine.name


def test_swimming_heldout_totals_look_like_a_routine_total(tmp_path):
    root = write_generated("swimming_heldout", tmp_path, seed=0, num_train=150, num_test=50, feature_dim=4)
    scores = np.array([score for _, score in parse_generic_labels(root / "labels.csv", None)])
    assert len(scores) == 200
    assert 70 <= scores.mean() <= 90 and 4 <= scores.std() <= 12 and scores.min() >= 40 and scores.max() <= 110
    low, high = GENERATORS["swimming_heldout"].default_clips
    for name in ("team_001", "team_200"):
        assert low <= len(truth(root, name)["element_type"]) <= high


def test_aerobic_heldout_truth_sums_to_the_total_less_the_holistic_part(generated):
    root = generated["aerobic_heldout"]
    scores = dict(parse_generic_labels(root / "labels.csv", None))
    for name, score in scores.items():
        t = truth(root, name)
        assert {"difficulty", "deduction", "contribution", "element_type", "segment"} <= set(t)
        on_elements = t["element_type"] >= 0
        assert on_elements.sum() > 0 and (t["difficulty"][~on_elements] == 0).all()
        assert ((t["segment"] == 4) == on_elements).all()
        assert (t["difficulty"] >= 0).all() and (t["deduction"] >= 0).all()
        np.testing.assert_allclose(t["contribution"], t["difficulty"] - t["deduction"], atol=1e-6)
        assert 3 <= score - t["contribution"].sum() <= 21, name  # A + 10 - penalty: A has no per-clip share
    # the module's own marks: total = A + E + D - P (D already halved), contributions sum to D + E - 10
    for routine in aerobic_heldout_module.generate(seed=1, count=40, feature_dim=4, min_clips=20, max_clips=26):
        marks, t = routine.marks, routine.truth
        assert marks["total"] == marks["artistic"] + marks["execution"] + marks["difficulty"] - marks["penalty"]
        assert marks["difficulty"] % 5 == 0 and marks["execution"] % 5 == 0 and marks["artistic"] % 5 == 0
        assert abs(t["difficulty"].astype(np.float32).sum() - marks["difficulty"] / 100) <= 0.006, routine.name
        assert abs(t["deduction"].astype(np.float32).sum() - (10 - marks["execution"] / 100)) <= 0.006, routine.name
        rest = (marks["total"] - marks["artistic"] + marks["penalty"]) / 100 - 10
        assert abs(t["contribution"].astype(np.float32).sum() - rest) <= 0.006, routine.name


def test_aerobic_heldout_totals_look_like_aerobic_totals(tmp_path):
    root = write_generated("aerobic_heldout", tmp_path, seed=0, num_train=150, num_test=50, feature_dim=4)
    scores = np.array([score for _, score in parse_generic_labels(root / "labels.csv", None)])
    assert len(scores) == 200
    assert 16 <= scores.mean() <= 22 and 1 <= scores.std() <= 3.5 and scores.min() >= 5 and scores.max() <= 27
    low, high = GENERATORS["aerobic_heldout"].default_clips
    for name in ("aerobic_001", "aerobic_200"):
        assert low <= len(truth(root, name)["element_type"]) <= high
    routines = list(aerobic_heldout_module.generate(seed=0, count=300, feature_dim=4, min_clips=low, max_clips=high))
    skill = np.array([r.video["skill"] for r in routines])
    marks = {k: np.array([r.marks[k] for r in routines]) / 100 for k in ("artistic", "execution", "difficulty")}
    assert 6.5 <= marks["artistic"].mean() <= 9 and 7 <= marks["execution"].mean() <= 9.5
    assert 1.5 <= marks["difficulty"].mean() <= 5  # D: up to ten elements' values, halved
    for part, values in marks.items():  # skill drives D, E and A together, but not perfectly
        assert 0.4 <= np.corrcoef(skill, values)[0, 1] <= 0.95, part
    assert 0.3 <= np.corrcoef(marks["difficulty"], marks["execution"])[0, 1] <= 0.85


def test_floor_heldout_labels_look_like_floor_scores(tmp_path):
    root = write_generated("floor_heldout", tmp_path, seed=0, num_train=150, num_test=50, feature_dim=4)
    labels = parse_rg_labels(root / "train.txt") + parse_rg_labels(root / "test.txt")
    assert len(labels) == 200
    d, e, p = (np.array([getattr(lab, k) for lab in labels]) for k in ("difficulty", "execution", "penalty"))
    assert 4.3 <= d.mean() <= 5.8 and d.min() >= 2.0 and d.max() <= 8.0  # a women's floor D (DV + CR + CV)
    assert 7.0 <= e.mean() <= 8.3 and e.min() >= 3.0 and e.max() <= 9.8
    assert (p == 0).mean() >= 0.6 and (np.round(p * 100) % 10 == 0).all()  # neutral deductions: 0.1, 0.3 ...
    assert 0.4 <= np.corrcoef(d, e)[0, 1] <= 0.85
    low, high = GENERATORS["floor_heldout"].default_clips
    for lab in labels[:20]:
        t = truth(root, lab.name)
        assert low <= len(t["element_type"]) <= high
        on_elements = t["element_type"] >= 0
        assert len(np.unique(t["element_type"][on_elements])) >= 8  # acro lines, leaps and turns
        assert on_elements.mean() <= 0.5  # most of a floor routine is choreography between elements
    routines = list(floor_heldout_module.generate(seed=0, count=300, feature_dim=4, min_clips=low, max_clips=high))
    skill = np.array([r.video["skill"] for r in routines])
    for mark in ("difficulty", "execution"):  # skill drives D and E together, not perfectly
        values = np.array([r.marks[mark] for r in routines])
        assert 0.4 <= np.corrcoef(skill, values)[0, 1] <= 0.95, mark


def fisv_lines(root) -> list[list[str]]:
    return [line.split(" ") for split in ("train", "test")
            for line in (root / f"{split}_dataset.txt").read_text().splitlines()]


def test_icedance_heldout_truth_sums_to_the_sheet(generated):
    root = generated["icedance_heldout"]
    for name, tes, pcs, deductions in fisv_lines(root):
        assert tes == format_fisv_points(hundredths(tes)) and pcs == format_fisv_points(hundredths(pcs))
        assert deductions.isdigit()
        t = truth(root, name)
        assert set(t) == {"difficulty", "goe", "tes", "deduction", "contribution", "element_type", "segment"}
        assert abs(t["tes"].sum() - float(tes)) <= 0.006, name
        np.testing.assert_allclose(t["tes"], t["difficulty"] + t["goe"], atol=1e-6)
        np.testing.assert_allclose(t["contribution"], t["tes"] - t["deduction"], atol=1e-6)
        unlocated = int(deductions) - t["deduction"].sum()  # costume, time: located on no clip
        assert abs(unlocated - round(unlocated)) <= 0.006 and 0 <= round(unlocated) <= 2, name
        assert set(np.unique(t["deduction"])) <= {0.0, 1.0, 2.0, 3.0}  # falls of one or both, extended lifts
        on = t["element_type"] >= 0
        assert (t["tes"][~on] == 0).all() and (t["difficulty"][on] > 0).all()
        assert ((t["segment"] >= 3) == on).all() and set(np.unique(t["segment"])) <= set(range(8))
        assert t["segment"][0] == t["segment"][-1] == 2  # opening and closing poses
        assert len(np.unique(t["element_type"][on])) in (9, 10)  # the free dance's required elements
    # the module's own marks: located + unlocated deductions, TES the sum of base + GOE over elements
    for dance in icedance_heldout_module.generate(seed=1, count=60, feature_dim=4, min_clips=36, max_clips=48):
        marks, t = dance.marks, dance.truth
        assert marks["deductions"] == marks["located_deductions"] + marks["unlocated_deductions"]
        assert marks["deductions"] % 100 == 0 and marks["unlocated_deductions"] % 100 == 0
        assert abs(t["deduction"].astype(np.float32).sum() - marks["located_deductions"] / 100) <= 0.006
        assert abs(t["tes"].astype(np.float32).sum() - marks["tes"] / 100) <= 0.006, dance.name
        elements = t["element_type"][t["element_type"] >= 0].astype(int)
        choreo = [k for k in np.unique(elements) if icedance_heldout_module.CATALOGUE[k].family == "choreo"]
        assert len(choreo) == 3
        for k in choreo:  # choreographic elements: the fixed base value 1.10
            assert abs(t["difficulty"][t["element_type"] == k].sum() - 1.10) <= 1e-6


def test_icedance_heldout_labels_look_like_free_dance_scores(tmp_path):
    root = write_generated("icedance_heldout", tmp_path, seed=0, num_train=120, num_test=40, feature_dim=4)
    rows = parse_fisv_labels(root / "train_dataset.txt") + parse_fisv_labels(root / "test_dataset.txt")
    assert len(rows) == 160
    tes, pcs, deductions = (np.array([row[i] for row in rows]) for i in (1, 2, 3))
    assert 42 <= tes.mean() <= 58 and 5 <= tes.std() <= 13 and tes.min() >= 15 and tes.max() <= 80
    assert 38 <= pcs.mean() <= 52 and pcs.max() <= 60  # five components x the free dance factor 1.2
    assert 0.6 <= np.corrcoef(tes, pcs)[0, 1] <= 0.95
    assert (deductions == 0).mean() >= 0.7 and deductions.max() <= 6
    low, high = GENERATORS["icedance_heldout"].default_clips
    connecting = []
    for name, *_ in rows[:40]:
        t = truth(root, name)
        assert low <= len(t["element_type"]) <= high
        segments = t["segment"].astype(int)
        connecting.append((segments < 3).mean())
        assert len(np.unique(segments[segments < 3])) >= 2  # several kinds of connecting movement
        steps = t["element_type"] == t["element_type"][segments == 6][0]
        assert steps.sum() >= 10  # a step sequence is one long pattern
    assert 0.3 <= np.mean(connecting) <= 0.6  # connecting movement: a large share of the clips
    dances = list(icedance_heldout_module.generate(seed=0, count=300, feature_dim=4, min_clips=low, max_clips=high))
    skill = np.array([d.video["skill"] for d in dances])
    for mark in ("tes", "pcs"):  # skill drives both, not perfectly
        values = np.array([d.marks[mark] for d in dances])
        assert 0.6 <= np.corrcoef(skill, values)[0, 1] <= 0.98, mark
    falls = np.array([d.marks["located_deductions"] for d in dances])
    assert np.corrcoef(skill, falls > 0)[0, 1] < 0  # better couples fall less


def test_icedance_heldout_fewest_clips_hold_every_required_element():
    """The fewest clips it accepts are enough for every required element with connecting movement around it."""
    for dance in icedance_heldout_module.generate(seed=2, count=40, feature_dim=4, min_clips=32, max_clips=32):
        on = dance.truth["element_type"] >= 0
        assert len(on) == 32 and not on[0] and not on[-1]
        assert len(np.unique(dance.truth["element_type"][on])) in (9, 10)


def test_acro_heldout_truth_sums_to_the_sheet(generated):
    root = generated["acro_heldout"]
    for rows in rg_rows(root).values():
        for name, d, e, total, penalty, _ in rows:
            t = truth(root, name)
            assert set(t) == {"difficulty", "deduction", "contribution", "element_type", "segment"}
            assert abs(t["difficulty"].sum() - float(d)) <= 0.006, name
            np.testing.assert_allclose(t["contribution"], t["difficulty"] - t["deduction"], atol=1e-6)
            assert (t["difficulty"] >= 0).all() and (t["deduction"] >= 0).all()
            on = t["element_type"] >= 0
            assert ((t["segment"] >= 5) == on).all() and set(np.unique(t["segment"])) <= set(range(8))
            assert (t["difficulty"][~on] == 0).all(), "mounts, dismounts and connecting movement earn no difficulty"
            assert t["segment"][0] == t["segment"][-1] == 0  # the presentation pose and the closing salute
            # E column = 2 x execution + artistry: the artistry left over is a mark out of 10 in steps of 0.05
            artistry = float(e) - (20 - t["deduction"].sum())
            assert abs(artistry * 20 - round(artistry * 20)) <= 0.12 and 5 <= artistry <= 10, name
            rest = float(total) + float(penalty) - artistry - 20  # D + 2E - 20
            assert abs(t["contribution"].sum() - rest) <= 0.012, name
            assert hundredths(penalty) % 10 == 0
    # the module's own marks: the located deductions are 2 x (10 - E); the contributions sum to D + 2E - 20
    for routine in acro_heldout_module.generate(seed=1, count=60, feature_dim=4, min_clips=28, max_clips=36):
        marks, t = routine.marks, routine.truth
        assert marks["execution"] == 2 * marks["execution_panel"] + marks["artistry"]
        assert marks["execution_panel"] % 5 == 0 and marks["artistry"] % 5 == 0
        assert abs(t["difficulty"].astype(np.float32).sum() - marks["difficulty"] / 100) <= 0.006, routine.name
        located = 2 * (10 - marks["execution_panel"] / 100)
        assert abs(t["deduction"].astype(np.float32).sum() - located) <= 0.006, routine.name
        total = marks["difficulty"] + marks["execution"] - marks["penalty"]
        rest = (total + marks["penalty"] - marks["artistry"]) / 100 - 20
        assert abs(t["contribution"].astype(np.float32).sum() - rest) <= 0.006, routine.name


def test_acro_heldout_labels_look_like_acro_pair_scores(tmp_path):
    root = write_generated("acro_heldout", tmp_path, seed=0, num_train=150, num_test=50, feature_dim=4)
    labels = parse_rg_labels(root / "train.txt") + parse_rg_labels(root / "test.txt")
    assert len(labels) == 200
    d, e, p, total = (np.array([getattr(lab, k) for lab in labels])
                      for k in ("difficulty", "execution", "penalty", "total"))
    assert 1.5 <= d.mean() <= 2.6 and d.min() >= 0.0 and d.max() <= 5.0  # difficulty value / 100
    assert 22 <= e.mean() <= 27 and e.max() <= 30  # 2 x E + A
    assert 23 <= total.mean() <= 29 and 1.5 <= total.std() <= 4
    assert (p == 0).mean() >= 0.6 and (np.round(p * 100) % 10 == 0).all()
    low, high = GENERATORS["acro_heldout"].default_clips
    connecting = []
    for lab in labels[:40]:
        t = truth(root, lab.name)
        assert low <= len(t["element_type"]) <= high
        segments = t["segment"].astype(int)
        connecting.append((segments < 5).mean())
        assert (segments == 1).sum() >= 10  # choreography between the elements
        holds = np.flatnonzero(segments == 5)
        for run in np.split(holds, np.flatnonzero(np.diff(holds) != 1) + 1) if len(holds) else []:
            assert len(run) >= 2  # a static hold of at least 3 s
    assert 0.6 <= np.mean(connecting) <= 0.9  # most of a routine is not an element
    routines = list(acro_heldout_module.generate(seed=0, count=300, feature_dim=4, min_clips=low, max_clips=high))
    skill = np.array([r.video["skill"] for r in routines])
    marks = {k: np.array([r.marks[k] for r in routines]) / 100 for k in ("difficulty", "execution_panel", "artistry")}
    assert 7.0 <= marks["execution_panel"].mean() <= 9.0 and 8.0 <= marks["artistry"].mean() <= 9.0
    for part, values in marks.items():  # skill drives D, E and A together, not perfectly
        assert 0.4 <= np.corrcoef(skill, values)[0, 1] <= 0.95, part
    assert 0.2 <= np.corrcoef(marks["difficulty"], marks["execution_panel"])[0, 1] <= 0.8
    falls = np.array([r.video["falls"] for r in routines])
    assert 0.03 <= (falls > 0).mean() <= 0.25 and np.corrcoef(skill, falls > 0)[0, 1] < 0
    assert set(np.array([r.video["routine"] for r in routines]).astype(int)) == {0, 1, 2}


def test_acro_heldout_fewest_clips_hold_every_required_element():
    """The fewest clips it accepts still hold every required element, with connecting movement between them."""
    for routine in acro_heldout_module.generate(seed=2, count=60, feature_dim=4, min_clips=28, max_clips=28):
        t = routine.truth
        on = t["element_type"] >= 0
        assert len(on) == 28 and not on[0] and not on[-1]
        required = {0: 7, 1: 7, 2: 6}[int(routine.video["routine"])]  # pair requirements + individual elements
        assert len(np.unique(t["element_type"][on])) >= required


def trampoline_routines(seed: int, count: int, min_clips: int, max_clips: int, feature_dim: int = 4) -> list:
    return list(trampoline_heldout_module.generate(seed=seed, count=count, feature_dim=feature_dim,
                                                   min_clips=min_clips, max_clips=max_clips))


def whole_hundredths(values: np.ndarray) -> np.ndarray:
    cents = np.round(values.astype(np.float64) * 100)
    assert np.abs(values.astype(np.float64) * 100 - cents).max() <= 1e-3, "not whole hundredths"
    return cents.astype(np.int64)


def test_trampoline_heldout_truth_sums_to_the_total_exactly(generated):
    root = generated["trampoline_heldout"]
    scores = dict(parse_generic_labels(root / "labels.csv", None))
    routines = trampoline_routines(1, 17, feature_dim=DIM, **SMALL["trampoline_heldout"])
    assert [r.name for r in routines] == list(scores)
    for routine in routines:  # the written files against the module's marks, to the hundredth
        t, marks = truth(root, routine.name), routine.marks
        assert set(t) == {"difficulty", "deduction", "contribution", "element_type", "segment"}
        assert hundredths(f"{scores[routine.name]:.2f}") == marks["total"]
        contribution = int(whole_hundredths(t["contribution"]).sum())
        assert marks["total"] == contribution + marks["flight"] - marks["penalty"], routine.name
    for lo, hi in ((12, 12), (16, 26), (28, 36)):  # interrupted routines and every layout among them
        for routine in trampoline_routines(3, 150, lo, hi):
            marks, t = routine.marks, routine.truth
            difficulty, deduction, contribution = (whole_hundredths(t[k].astype(np.float32))
                                                   for k in ("difficulty", "deduction", "contribution"))
            assert marks["total"] == (marks["difficulty"] + marks["execution"] + marks["flight"]
                                      + marks["displacement"] - marks["penalty"])
            assert marks["total"] == contribution.sum() + marks["flight"] - marks["penalty"], routine.name
            assert difficulty.sum() == marks["difficulty"] and (difficulty >= 0).all() and (deduction >= 0).all()
            completed = int(routine.video["completed"])
            constant = contribution - difficulty + deduction  # 3.00 per completed skill, on its own clips
            skill = t["segment"] == 1
            assert constant.sum() == 300 * completed and (constant[~skill] == 0).all() and (constant[skill] > 0).all()
            assert deduction.sum() == 300 * completed - marks["execution"] - marks["displacement"]
            assert ((t["element_type"] >= 0) == skill).all() and (difficulty[~skill] == 0).all()
            assert difficulty.sum() % 10 == 0  # difficulty values are tenths
            assert marks["penalty"] in (0, 20, 30) or marks["total"] == 0  # never more than the rest


def test_trampoline_heldout_interrupted_routines_credit_nothing_after_the_interruption():
    routines = trampoline_routines(0, 300, 16, 26)
    interrupted = [r for r in routines if r.video["interrupted"]]
    assert 0.05 <= len(interrupted) / len(routines) <= 0.25  # a minority
    for routine in interrupted:
        t, marks = routine.truth, routine.marks
        segment = t["segment"].astype(int)
        first = int(np.flatnonzero(segment == 3)[0])
        assert set(segment[first:]) <= {3, 4} and 2 not in segment  # no stop after an interruption
        for key in ("difficulty", "deduction", "contribution"):
            assert (t[key][first:] == 0).all(), (routine.name, key)
        assert (t["element_type"][first:] == -1).all()
        completed = int(routine.video["completed"])
        assert 0 <= completed < 10
        assert marks["execution"] <= 200 * completed and marks["displacement"] <= 100 * completed
        if completed == 0:
            assert marks["total"] == 0
    complete = [r for r in routines if not r.video["interrupted"]]
    assert all(r.video["completed"] == 10 and 3 not in r.truth["segment"] and 4 not in r.truth["segment"]
               for r in complete)
    totals = {flag: np.mean([r.marks["total"] for r in group]) for flag, group in (("cut", interrupted),
                                                                                    ("whole", complete))}
    assert totals["cut"] < totals["whole"] - 500


@pytest.mark.parametrize("clips", [(16, 26), (28, 36), (12, 14), (40, 50)])
def test_trampoline_heldout_in_bounces_and_stop_are_a_small_share(clips):
    for routine in trampoline_routines(2, 80, *clips):
        segment = routine.truth["segment"].astype(int)
        assert clips[0] <= len(segment) <= clips[1]
        assert segment[0] == 0  # the in-bounces open every routine
        if routine.video["interrupted"]:
            continue
        off = np.isin(segment, (0, 2))
        assert 0.10 <= off.mean() <= 0.25, routine.name
        assert segment[-1] == 2 and (np.diff(segment) >= 0).all()  # in-bounces, skills, stop
        skills = int((segment == 1).sum())
        if len(segment) <= 26:
            assert 10 <= skills <= 20  # ten skills of 1-2 clips
        constant = whole_hundredths(routine.truth["contribution"] - routine.truth["difficulty"]
                                    + routine.truth["deduction"])
        assert constant.sum() == 3000


def test_trampoline_heldout_totals_look_like_trampoline_scores():
    routines = trampoline_routines(0, 300, *GENERATORS["trampoline_heldout"].default_clips)
    whole = [r for r in routines if not r.video["interrupted"]]
    marks = {k: np.array([r.marks[k] for r in whole]) / 100
             for k in ("total", "difficulty", "execution", "flight", "displacement")}
    assert 45 <= marks["total"].mean() <= 60 and marks["total"].max() <= 75
    assert 8 <= marks["difficulty"].mean() <= 15 and marks["difficulty"].max() <= 22
    assert 15 <= marks["execution"].mean() <= 18 and marks["execution"].max() <= 20
    assert 13 <= marks["flight"].mean() <= 18 and 9 <= marks["displacement"].mean() <= 10
    skill = np.array([r.video["skill"] for r in whole])
    for part in ("difficulty", "execution", "flight"):  # the level drives them together, not perfectly
        assert 0.4 <= np.corrcoef(skill, marks[part])[0, 1] <= 0.95, part
    score_divisor = GENERATORS["trampoline_heldout"].score_divisor
    assert 0.7 <= np.mean([r.marks["total"] for r in routines]) / 100 / score_divisor <= 1.3


def test_trampoline_heldout_is_deterministic():
    first, again = trampoline_routines(5, 6, 16, 26, 8), trampoline_routines(5, 6, 16, 26, 8)
    for a, b in zip(first, again):
        assert a.name == b.name and a.marks == b.marks and np.array_equal(a.features, b.features)
        assert all(np.array_equal(a.truth[k], b.truth[k]) for k in a.truth)
    other = trampoline_routines(6, 6, 16, 26, 8)
    assert not all(a.marks == b.marks for a, b in zip(first, other))


def moguls_runs(seed: int, count: int, min_clips: int, max_clips: int, feature_dim: int = 4) -> list:
    return list(moguls_heldout_module.generate(seed=seed, count=count, feature_dim=feature_dim,
                                               min_clips=min_clips, max_clips=max_clips))


MOGULS_TURNING, MOGULS_AIRS, MOGULS_OFF_COURSE = (1, 3, 5), (2, 4), 7


def test_moguls_heldout_speed_follows_the_pace_time_formula():
    speed = moguls_heldout_module.speed_points
    assert speed(2500, 2500) == 1500  # at the pace time: 15.00 of 20
    assert speed(2200, 2500) == 1756  # (13.625 - 8 x 0.88) x 20 / 7.5 = 17.56
    assert speed(1500, 2500) == 2000 and speed(4300, 2500) == 0  # between 0 and 20
    times = np.arange(1500, 4000, 7)
    assert (np.diff([speed(t, 2500) for t in times]) <= 0).all()  # slower, fewer points


def test_moguls_heldout_truth_sums_to_the_total_exactly(generated):
    root = generated["moguls_heldout"]
    scores = dict(parse_generic_labels(root / "labels.csv", None))
    runs = moguls_runs(1, 17, feature_dim=DIM, **SMALL["moguls_heldout"])
    assert [r.name for r in runs] == list(scores)
    for run in runs:  # the written files against the module's marks, to the hundredth
        t, marks = truth(root, run.name), run.marks
        assert set(t) == {"difficulty", "deduction", "contribution", "element_type", "segment"}
        assert hundredths(f"{scores[run.name]:.2f}") == marks["total"]
        assert marks["total"] == int(whole_hundredths(t["contribution"]).sum()) + marks["speed"], run.name
    for lo, hi in ((12, 12), (20, 32), (34, 40)):
        for run in moguls_runs(3, 120, lo, hi):
            marks, t = run.marks, run.truth
            difficulty, deduction, contribution = (whole_hundredths(t[k].astype(np.float32))
                                                   for k in ("difficulty", "deduction", "contribution"))
            segment = t["segment"].astype(int)
            turning, air = np.isin(segment, MOGULS_TURNING), np.isin(segment, MOGULS_AIRS)
            assert marks["total"] == marks["turns"] + marks["air"] + marks["speed"]
            assert marks["total"] == contribution.sum() + marks["speed"], run.name  # speed: no clip's
            assert (contribution == difficulty - deduction).all()
            assert (difficulty >= 0).all() and (deduction >= 0).all()
            assert contribution[turning].sum() == marks["turns"] and marks["turns"] % 10 == 0  # marks to 0.1
            assert contribution[air].sum() == marks["air"] and 0 <= marks["speed"] <= 2000
            assert (contribution[~(turning | air)] == 0).all()  # start gate, finish area, off course
            assert ((t["element_type"] >= 0) == air).all()
            for kind in np.unique(t["element_type"][air]).astype(int):  # a jump's value: 10 x DD
                assert difficulty[t["element_type"] == kind].sum() == 10 * moguls_heldout_module.DD[kind]
            assert 0 <= marks["turns"] <= 6000 and 0 <= marks["air"] <= 2000


def test_moguls_heldout_runs_follow_the_course():
    for lo, hi in ((12, 12), (20, 32), (34, 40)):
        for run in moguls_runs(2, 100, lo, hi):
            segment = run.truth["segment"].astype(int)
            assert lo <= len(segment) <= hi and segment[0] == 0  # the start gate opens every run
            assert (np.diff(segment) >= 0).all()  # top, air 1, middle, air 2, bottom, finish: in order
            if run.video["dnf"]:
                assert segment[-1] == MOGULS_OFF_COURSE and 1 <= (segment == MOGULS_OFF_COURSE).sum() <= 4
            else:
                assert set(segment) == set(range(7)) and segment[-1] == 6
                assert np.isin(segment, MOGULS_TURNING).mean() >= 0.55  # the skier turns on most clips


def test_moguls_heldout_turn_credit_is_dense():
    """Every turning clip carries its share of the turns (its turn quality over the run's), lowered on
    the clips where faults happen; most clips of a run carry a positive contribution."""
    shares = []
    for run in moguls_runs(4, 200, 20, 32):
        t = run.truth
        turning = np.isin(t["segment"].astype(int), MOGULS_TURNING)
        credit = t["difficulty"][turning]
        assert (credit > 0).all(), run.name
        floor = moguls_heldout_module.QUALITY_FLOOR
        assert credit.max() <= credit.min() / floor + 0.011  # turn quality lies in [floor, 1]
        if not run.video["dnf"]:
            shares.append((t["contribution"] > 0).mean())
            assert abs(credit.sum() - run.marks["turns"] / 100 - t["deduction"][turning].sum()) <= 0.01
    assert np.mean(shares) >= 0.8 and np.min(shares) >= 0.6


def test_moguls_heldout_falls_and_dnf_score_as_documented():
    runs = moguls_runs(0, 500, 20, 32)
    dnf = [r for r in runs if r.video["dnf"]]
    fell = [r for r in runs if not r.video["dnf"] and r.video["falls"]]
    clean = [r for r in runs if not (r.video["dnf"] or r.video["falls"] or r.video["landing_falls"])]
    assert 0.02 <= len(dnf) / len(runs) <= 0.12 and 0.02 <= len(fell) / len(runs) <= 0.15
    for run in dnf:  # the sheet at the crash: nothing after it, no jump not reached, no time
        t, marks = run.truth, run.marks
        segment = t["segment"].astype(int)
        off = segment == MOGULS_OFF_COURSE
        crash = int(np.flatnonzero(~off)[-1])
        assert segment[crash] in MOGULS_TURNING and t["deduction"][crash] >= 4.0  # a fall, on its clip
        for key in ("difficulty", "deduction", "contribution"):
            assert (t[key][off] == 0).all(), (run.name, key)
        assert marks["speed"] == 0 and run.video["run_time"] == 0
        jumps = len(np.unique(segment[np.isin(segment, MOGULS_AIRS)]))
        assert marks["air"] <= 1000 * jumps  # a jump not reached scores 0
    for run in fell:  # a fall costs a large deduction on one clip
        assert run.truth["deduction"].max() >= 4.0
    total = {name: np.mean([r.marks["total"] for r in group]) / 100
             for name, group in (("dnf", dnf), ("fell", fell), ("clean", clean))}
    assert total["dnf"] < total["fell"] - 10 and total["fell"] < total["clean"] - 8
    credit = {name: np.mean([r.truth["difficulty"][np.isin(r.truth["segment"], MOGULS_TURNING)].sum()
                             for r in group]) for name, group in (("dnf", dnf), ("clean", clean))}
    assert credit["dnf"] < 0.9 * credit["clean"]  # the sections not skied earn no turn credit
    for run in runs:  # a fall on a jump's landing: a low mark for that jump
        for kind in np.unique(run.truth["element_type"][run.truth["element_type"] >= 0]).astype(int):
            on = run.truth["element_type"] == kind
            value = run.truth["difficulty"][on].sum()
            assert 0 <= run.truth["contribution"][on].sum() <= value + 1e-4


def test_moguls_heldout_totals_look_like_moguls_scores(tmp_path):
    root = write_generated("moguls_heldout", tmp_path, seed=0, num_train=150, num_test=50, feature_dim=4)
    scores = np.array([score for _, score in parse_generic_labels(root / "labels.csv", None)])
    assert len(scores) == 200
    assert 62 <= scores.mean() <= 78 and 7 <= scores.std() <= 18 and scores.min() >= 0 and scores.max() <= 100
    assert 0.55 <= scores.mean() / GENERATORS["moguls_heldout"].score_divisor <= 0.85
    low, high = GENERATORS["moguls_heldout"].default_clips
    for name in ("moguls_001", "moguls_200"):
        assert low <= len(truth(root, name)["segment"]) <= high
    runs = [r for r in moguls_runs(0, 400, low, high) if not r.video["dnf"]]
    marks = {k: np.array([r.marks[k] for r in runs]) / 100 for k in ("total", "turns", "air", "speed")}
    assert 66 <= marks["total"].mean() <= 80 and marks["total"].max() <= 95  # finishers
    assert 38 <= marks["turns"].mean() <= 50 and 9 <= marks["air"].mean() <= 15 and 12 <= marks["speed"].mean() <= 17
    skill = np.array([r.video["skill"] for r in runs])
    for part in ("turns", "air", "speed"):  # the skier's level drives them together, not perfectly
        assert 0.4 <= np.corrcoef(skill, marks[part])[0, 1] <= 0.95, part
    pace = np.array([r.video["run_time"] / r.video["pace_time"] for r in runs])
    assert np.corrcoef(pace, marks["speed"])[0, 1] < -0.95  # speed is the run time against the pace
    lengths = np.array([len(r.features) for r in runs])
    assert abs(np.corrcoef(lengths, marks["speed"])[0, 1]) < 0.3  # ... not the video's length


def test_moguls_heldout_is_deterministic():
    first, again = moguls_runs(5, 6, 20, 26, 8), moguls_runs(5, 6, 20, 26, 8)
    for a, b in zip(first, again):
        assert a.name == b.name and a.marks == b.marks and np.array_equal(a.features, b.features)
        assert a.truth.keys() == b.truth.keys() and all(np.array_equal(a.truth[k], b.truth[k]) for k in a.truth)
    other = moguls_runs(6, 6, 20, 26, 8)
    assert not all(a.marks == b.marks for a, b in zip(first, other))


def pairs_programmes(seed: int, count: int, min_clips: int, max_clips: int, feature_dim: int = 4) -> list:
    return list(pairs_heldout_module.generate(seed=seed, count=count, feature_dim=feature_dim,
                                              min_clips=min_clips, max_clips=max_clips))


PAIRS_TRUTH = {"difficulty", "goe", "tes", "deduction", "contribution", "element_type", "segment"}
PAIRS_POSE, PAIRS_TWIST, PAIRS_LIFT, PAIRS_THROW, PAIRS_JUMPS, PAIRS_STEPS, PAIRS_CHOREO = 3, 4, 5, 6, 7, 11, 12
PAIRS_COUNTS = {4: 1, 5: 3, 6: 2, 7: 2, 8: 1, 9: 1, 10: 1, 11: 1, 12: 1}
"""Elements per segment code in every programme: twist, three lifts, two throws, solo jump and combination,
death spiral, pair spin, side-by-side spin, step sequence, choreographic sequence."""


def element_runs(element_type: np.ndarray) -> list[tuple[int, int]]:
    """(start, stop) of each element: elements are separated by connecting skating (-1)."""
    on = np.r_[False, element_type >= 0, False]
    edges = np.flatnonzero(on[1:] != on[:-1])
    return list(zip(edges[::2].tolist(), edges[1::2].tolist()))


def test_pairs_heldout_truth_sums_to_the_sheet_exactly(generated):
    root = generated["pairs_heldout"]
    for name, tes, pcs, deductions in fisv_lines(root):
        assert tes == format_fisv_points(hundredths(tes)) and pcs == format_fisv_points(hundredths(pcs))
        t = truth(root, name)
        assert set(t) == PAIRS_TRUTH
        difficulty, goe, clip_tes, deduction, contribution = (whole_hundredths(t[k]) for k in
                                                              ("difficulty", "goe", "tes", "deduction", "contribution"))
        assert clip_tes.sum() == hundredths(tes) and deduction.sum() == 100 * int(deductions), name
        total = hundredths(tes) + hundredths(pcs) - 100 * int(deductions)  # the segment score, to the hundredth
        assert contribution.sum() + hundredths(pcs) == total, name
        assert (contribution == clip_tes - deduction).all() and (difficulty + goe == clip_tes).all()
        on, segment = t["element_type"] >= 0, t["segment"].astype(int)
        assert ((segment >= 4) == on).all() and set(segment.tolist()) <= set(range(13))
        assert (clip_tes[~on] == 0).all() and (difficulty[on] > 0).all()
        assert segment[0] == segment[-1] == PAIRS_POSE
        assert len(element_runs(t["element_type"])) == 13 and set(np.unique(deduction)) <= {0, 100, 200}
    for lo, hi in ((33, 33), (36, 48), (180, 195)):  # the module's marks against its truth, every length
        for programme in pairs_programmes(3, 40, lo, hi):
            marks, t = programme.marks, programme.truth
            clip_tes, deduction, contribution = (whole_hundredths(t[k].astype(np.float32))
                                                 for k in ("tes", "deduction", "contribution"))
            assert marks["tes"] == clip_tes.sum() and marks["deductions"] == deduction.sum()
            assert marks["tes"] + marks["pcs"] - marks["deductions"] == contribution.sum() + marks["pcs"]


def test_pairs_heldout_reads_through_the_fisv_loader(generated):
    from longaqa.sheets import FISV_SHEET

    root = generated["pairs_heldout"]
    cfg = load_config(None, ["data.layout=fisv", "data.score_divisor=43", f"model.input_dim={DIM}"])
    rows = {row[0]: row[1:] for split in ("train", "test") for row in parse_fisv_labels(root / f"{split}_dataset.txt")}
    for split, count in (("train", 12), ("test", 5)):
        samples = load_split(cfg.data, dataset_root(cfg.data, root), split, DIM, sheet=FISV_SHEET)
        assert len(samples) == count
        for sample in samples:
            tes, pcs, deductions = rows[sample.name]
            t = truth(root, sample.name)
            assert sample.score * 43 == pytest.approx(tes + pcs - deductions, abs=1e-4)
            assert sample.subscores["TES"] * 43 == pytest.approx(t["tes"].sum(), abs=0.006)
            assert sample.subscores["deductions"] * 43 == pytest.approx(t["deduction"].sum(), abs=1e-4)
            assert sample.features.shape == (len(t["segment"]), DIM)


def test_pairs_heldout_falls_are_deducted_on_their_clip():
    both = 0
    for programme in pairs_programmes(0, 300, 36, 48) + pairs_programmes(1, 100, 180, 195):
        t = programme.truth
        deduction, goe, difficulty = (whole_hundredths(t[k]) for k in ("deduction", "goe", "difficulty"))
        segment = t["segment"].astype(int)
        assert deduction.sum() == programme.marks["deductions"] == 100 * programme.video["falls"]
        runs = element_runs(t["element_type"])
        for clip in np.flatnonzero(deduction).tolist():
            if t["element_type"][clip] < 0:  # a fall in the connecting skating: one partner, no element
                assert deduction[clip] == 100 and segment[clip] in (0, 1)
                continue
            start, stop = next(run for run in runs if run[0] <= clip < run[1])
            assert (deduction[start:stop] > 0).sum() == 1  # one fall per element, on one clip
            if segment[clip] in (PAIRS_TWIST, PAIRS_LIFT, PAIRS_THROW, PAIRS_JUMPS):
                assert clip == stop - 1  # on the landing (a lift: the set-down)
            base = difficulty[start:stop].sum()  # a fall: every judge -5, half the reference value off
            assert -base // 2 - 1 <= goe[start:stop].sum() <= -base / 5
            if deduction[clip] == 200:  # both partners at once: side by side, or a lift
                assert segment[clip] in (PAIRS_LIFT, PAIRS_JUMPS, 10, PAIRS_STEPS, PAIRS_CHOREO)
                both += 1
        assert int(programme.video["both_falls"]) == (deduction == 200).sum()
    assert both >= 10


@pytest.mark.parametrize("clips", [(180, 195), (36, 48), (33, 33)])
def test_pairs_heldout_long_elements_span_several_clips(clips):
    for programme in pairs_programmes(2, 60, *clips):
        t = programme.truth
        segment = t["segment"].astype(int)
        runs = element_runs(t["element_type"])
        lengths = {code: sorted(stop - start for start, stop in runs if segment[start] == code)
                   for code in PAIRS_COUNTS}
        assert {code: len(v) for code, v in lengths.items()} == PAIRS_COUNTS
        assert clips[0] <= len(segment) <= clips[1] and segment[0] == segment[-1] == PAIRS_POSE
        short = lengths[PAIRS_TWIST] + lengths[PAIRS_THROW] + lengths[PAIRS_JUMPS]
        if clips[0] >= 180:  # about 1.3 s a clip: a step sequence of 28-38 s, lifts of 8-12 s, throws of 3-5 s
            assert lengths[PAIRS_STEPS][0] >= 14 and lengths[PAIRS_CHOREO][0] >= 10
            assert lengths[PAIRS_LIFT][0] >= 4 and max(short) <= 7
            assert 0.3 <= (segment < 4).mean() <= 0.6  # connecting skating: a large share
        else:  # shortened, the long ones still longest
            assert lengths[PAIRS_STEPS][0] >= 3 and lengths[PAIRS_CHOREO][0] >= 2 and lengths[PAIRS_LIFT][0] >= 2
        assert lengths[PAIRS_STEPS][0] >= max(short) and lengths[PAIRS_STEPS][0] > 1
        if clips == (33, 33):  # the fewest clips: every element at its fewest, one clip between
            assert short == [1] * len(short) and (segment < 4).sum() == 14


def test_pairs_heldout_second_half_bonus_goes_to_the_last_jump_and_throw():
    called_base, half_up = pairs_heldout_module.called_base, pairs_heldout_module.half_up
    bonuses = 0
    for programme in pairs_programmes(3, 150, 36, 80):
        t = programme.truth
        segment, difficulty = t["segment"].astype(int), whole_hundredths(t["difficulty"])
        for code in (PAIRS_JUMPS, PAIRS_THROW):
            runs = [run for run in element_runs(t["element_type"]) if segment[run[0]] == code]
            for j, (start, stop) in enumerate(runs):
                plain = {called_base(int(t["element_type"][start]), 0, short)[0] for short in (False, True)}
                bonus = j == len(runs) - 1 and 2 * start >= len(segment)
                assert difficulty[start:stop].sum() in ({half_up(v * 1.1) for v in plain} if bonus else plain)
                bonuses += bonus
    assert bonuses >= 50


def test_pairs_heldout_partners_out_of_unison_lose_goe_and_blur_their_motion():
    m = pairs_heldout_module
    sport, rng = m.PairsSport(0, 4), np.random.default_rng(0)
    element = sport.plan_element("sbs_spin", m.CODES["CCoSp"], 0.4, m.draw_couple(rng), rng)
    element.falls, element.start, element.stop = 0, 0, 6
    layout = m.Layout(segment=np.full(6, 10), element_of=np.zeros(6, dtype=int), phase=(np.arange(6) + 0.5) / 6)
    goe, motion = {}, {}
    for lag in (0.0, 0.2, 0.45):
        layout.lag = np.full(6, lag)
        m.judge_element(element, layout, np.random.default_rng(1))
        goe[lag] = element.goe
        motion[lag] = np.linalg.norm(sport.motion([element], layout), axis=1).mean()
    assert goe[0.0] > goe[0.2] > goe[0.45]
    assert motion[0.0] > motion[0.2] > motion[0.45]  # the two partners' movement no longer adds up


def test_pairs_heldout_labels_look_like_pairs_free_skates(tmp_path):
    root = write_generated("pairs_heldout", tmp_path, seed=0, num_train=120, num_test=40, feature_dim=4)
    rows = parse_fisv_labels(root / "train_dataset.txt") + parse_fisv_labels(root / "test_dataset.txt")
    assert len(rows) == 160
    tes, pcs, deductions = (np.array([row[i] for row in rows]) for i in (1, 2, 3))
    assert 52 <= tes.mean() <= 66 and 6 <= tes.std() <= 15 and tes.min() >= 20 and tes.max() <= 100
    assert 52 <= pcs.mean() <= 64 and pcs.min() >= 30 and pcs.max() <= 80  # five components x 1.6
    assert 0.6 <= np.corrcoef(tes, pcs)[0, 1] <= 0.95
    assert (deductions == 0).mean() >= 0.5 and (deductions <= 2).mean() >= 0.9
    low, high = GENERATORS["pairs_heldout"].default_clips
    assert all(low <= len(truth(root, name)["segment"]) <= high for name, *_ in rows[:20])
    programmes = pairs_programmes(0, 300, low, high)
    skill = np.array([p.video["skill"] for p in programmes])
    for mark in ("tes", "pcs"):  # skill drives both, not perfectly
        assert 0.6 <= np.corrcoef(skill, [p.marks[mark] for p in programmes])[0, 1] <= 0.98, mark
    assert np.corrcoef(skill, [p.video["falls"] > 0 for p in programmes])[0, 1] < 0  # better couples fall less


def test_pairs_heldout_pcs_is_holistic_not_a_sum_over_clips():
    programmes = pairs_programmes(0, 300, 180, 195)
    pcs = np.array([p.marks["pcs"] for p in programmes]) / 100
    clip_sums = np.array([[1, len(p.features), *(p.truth[k].sum() for k in ("difficulty", "goe", "deduction"))]
                          for p in programmes])
    whole = np.array([[1, *(p.video[k] for k in ("skill", "flow", "presentation", "composition", "falls", "unison"))]
                      for p in programmes])

    def r2(x):
        coef, *_ = np.linalg.lstsq(x, pcs, rcond=None)
        return 1 - (pcs - x @ coef).var() / pcs.var()

    assert r2(clip_sums) < 0.85  # per-clip sums leave much of PCS unexplained ...
    assert r2(whole) > 0.9  # ... which whole-programme properties explain


def beam_exercises(seed: int, count: int, min_clips: int, max_clips: int, feature_dim: int = 4) -> list:
    return list(beam_heldout_module.generate(seed=seed, count=count, feature_dim=feature_dim,
                                             min_clips=min_clips, max_clips=max_clips))


BEAM_TRUTH = {"difficulty", "deduction", "contribution", "element_type", "segment"}
BEAM = beam_heldout_module.SEGMENTS


def test_beam_heldout_truth_sums_to_the_sheet_exactly(generated):
    root = generated["beam_heldout"]
    for rows in rg_rows(root).values():
        for name, d, e, total, penalty, _ in rows:
            t = truth(root, name)
            assert set(t) == BEAM_TRUTH
            difficulty, deduction, contribution = (whole_hundredths(t[k]) for k in
                                                   ("difficulty", "deduction", "contribution"))
            assert (contribution == difficulty - deduction).all()
            assert difficulty.sum() == hundredths(d), name
            artistry = 1000 - hundredths(e) - deduction.sum()  # whole-exercise: on no clip
            assert 0 <= artistry <= 50 and artistry % 10 == 0, name
            assert contribution.sum() + 1000 - artistry - hundredths(penalty) == hundredths(total), name
            on = t["element_type"] >= 0
            assert ((t["segment"] >= BEAM["mount"]) == on).all() and (difficulty[~on] == 0).all()
            assert hundredths(d) % 10 == 0 and hundredths(e) % 10 == 0 and hundredths(penalty) % 10 == 0
    for lo, hi in ((24, 24), (28, 36), (55, 72)):  # the module's marks against its truth, every length
        for exercise in beam_exercises(3, 60, lo, hi):
            marks, t = exercise.marks, exercise.truth
            contribution = whole_hundredths(t["contribution"].astype(np.float32))
            total = marks["difficulty"] + marks["execution"] - marks["penalty"]
            assert contribution.sum() + 1000 - exercise.video["artistry"] - marks["penalty"] == total


def test_beam_heldout_reads_through_the_rg_loader(generated):
    from longaqa.sheets import RG_SHEET

    root = generated["beam_heldout"]
    cfg = load_config(None, ["data.layout=rg", "data.score_divisor=25", f"model.input_dim={DIM}"])
    labels = {lab.name: lab for split in ("train", "test") for lab in parse_rg_labels(root / f"{split}.txt")}
    for split, count in (("train", 12), ("test", 5)):
        samples = load_split(cfg.data, dataset_root(cfg.data, root), split, DIM, sheet=RG_SHEET)
        assert len(samples) == count
        for sample in samples:
            lab = labels[sample.name]
            assert lab.total == pytest.approx(lab.difficulty + lab.execution - lab.penalty, abs=1e-6)
            assert sample.score * 25 == pytest.approx(lab.total, abs=1e-4)
            for key in ("difficulty", "execution", "penalty"):
                assert sample.subscores[key] * 25 == pytest.approx(getattr(lab, key), abs=1e-4)
            assert sample.features.shape == (len(truth(root, sample.name)["segment"]), DIM)


def test_beam_heldout_falls_are_deducted_on_their_clip():
    m = beam_heldout_module
    fallen = m.Performed(kind=0, clips=2, fall=True, remount=1, start=3)
    located = m.Located(8)
    located.add_elements([m.Block([fallen])])
    assert located.deduction.tolist() == [0, 0, 0, 0, 100, 0, 0, 0] and located.fall[4] == 1.0
    remounts = 0
    for exercise in beam_exercises(0, 200, 55, 72) + beam_exercises(1, 100, 28, 36):
        deduction, segment = whole_hundredths(exercise.truth["deduction"]), exercise.truth["segment"].astype(int)
        starts = np.flatnonzero((segment == BEAM["remount"]) & (np.r_[-1, segment[:-1]] != BEAM["remount"]))
        for start in starts:  # a remount follows the clip of a fall off the beam, on an element
            assert exercise.truth["element_type"][start - 1] >= 0 and deduction[start - 1] >= 100
            assert segment[start - 1] != BEAM["dismount"]
        falls = exercise.video["falls"]  # a fall on the dismount's landing has no remount
        assert len(starts) <= falls <= len(starts) + 1
        remounts += len(starts)
    assert remounts >= 30


def test_beam_heldout_counts_at_most_eight_elements():
    m = beam_heldout_module
    names = {t.name: i for i, t in enumerate(m.CATALOGUE)}
    performed = [m.Performed(names[n], 1) for n in (
        "front salto mount", "back handspring", "layout step-out", "back layout full twist", "front aerial",
        "side aerial", "front salto piked", "split leap", "switch leap", "double turn", "full turn",
        "double pike dismount")]
    performed.append(m.Performed(names["switch leap"], 1))  # a repeated type is valued once
    counted = m.counted_elements(performed)
    assert len(counted) == 8 and len({e.kind for e in counted}) == 8
    assert sum(e.type.acro for e in counted) == 5 and sum(not e.type.acro for e in counted) == 3
    assert any(e.type.family == "dismount" for e in counted)
    assert all(e.type.name != "back handspring" for e in counted)  # the lowest acro values are left out
    for exercise in beam_exercises(2, 200, 55, 72):
        assert exercise.video["counted"] <= 8
        assert exercise.marks["difficulty"] <= 8 * 70 + 4 * 50 + 200  # 8 values, 4 CRs, CV


def test_beam_heldout_connection_value_follows_the_values():
    m = beam_heldout_module
    by = {t.name: t for t in m.CATALOGUE}
    assert m.connection_value(by["back handspring"], by["back layout"]) == 10  # B + D
    assert m.connection_value(by["layout step-out"], by["back layout"]) == 20  # C + D, both acro
    assert m.connection_value(by["switch leap"], by["sheep jump"]) == 10  # C + D, dance
    assert m.connection_value(by["split leap"], by["switch leap"]) == 0  # A + C


@pytest.mark.parametrize("clips", [(28, 28), (28, 36), (36, 36)])
def test_beam_heldout_works_at_bench_lengths(clips):
    for exercise in beam_exercises(4, 60, *clips):
        segment = exercise.truth["segment"].astype(int)
        assert clips[0] <= len(segment) <= clips[1]
        assert segment[0] == BEAM["approach"] or segment[0] in (BEAM["walk"], BEAM["pose"], BEAM["choreography"])
        present = set(segment.tolist())
        assert {BEAM["mount"], BEAM["acro_backward"], BEAM["leap_jump"], BEAM["turn"], BEAM["dismount"]} <= present
        assert (segment < BEAM["mount"]).sum() >= 5  # connecting movement between the elements
        assert np.isfinite(exercise.features).all()


def test_beam_heldout_labels_look_like_beam_scores(tmp_path):
    root = write_generated("beam_heldout", tmp_path, seed=0, num_train=150, num_test=50, feature_dim=4)
    labels = parse_rg_labels(root / "train.txt") + parse_rg_labels(root / "test.txt")
    d, e, p, total = (np.array([getattr(lab, k) for lab in labels]) for k in ("difficulty", "execution", "penalty",
                                                                             "total"))
    assert 4.5 <= d.mean() <= 6.0 and d.min() >= 1.5 and d.max() <= 7.5  # DV of 8 + CR (2.0) + CV
    assert 7.0 <= e.mean() <= 8.2 and e.max() <= 9.9
    assert 11.0 <= total.mean() <= 14.5 and total.max() <= 17.0
    assert (p == 0).mean() >= 0.85
    assert 0.3 <= np.corrcoef(d, e)[0, 1] <= 0.85
    low, high = GENERATORS["beam_heldout"].default_clips
    falls = [r.video["falls"] for r in beam_exercises(0, 200, low, high)]
    assert 0.1 <= np.mean(np.array(falls) > 0) <= 0.45  # a fall in some exercises, not most
    for lab in labels[:20]:
        t = truth(root, lab.name)
        assert low <= len(t["segment"]) <= high
        assert (t["element_type"] >= 0).mean() <= 0.5  # most of an exercise is connecting movement


def group_routines(seed: int, count: int, min_clips: int, max_clips: int, feature_dim: int = 4) -> list:
    return list(rggroup_heldout_module.generate(seed=seed, count=count, feature_dim=feature_dim,
                                                min_clips=min_clips, max_clips=max_clips))


GROUP = rggroup_heldout_module.SEGMENTS


def test_rggroup_heldout_truth_sums_to_the_sheet_exactly(generated):
    root = generated["rggroup_heldout"]
    for rows in rg_rows(root).values():
        for name, d, e, total, penalty, _ in rows:
            t = truth(root, name)
            assert set(t) == {"difficulty", "deduction", "contribution", "element_type", "segment"}
            difficulty, deduction, contribution = (whole_hundredths(t[k]) for k in
                                                   ("difficulty", "deduction", "contribution"))
            assert (contribution == difficulty - deduction).all() and (deduction >= 0).all()
            assert difficulty.sum() == hundredths(d), name
            artistic = 1000 - hundredths(e) - deduction.sum()  # whole-routine: on no clip
            assert 0 <= artistic <= 300 and artistic % 10 == 0, name
            assert contribution.sum() + 1000 - artistic - hundredths(penalty) == hundredths(total), name
            on = t["element_type"] >= 0
            assert ((t["segment"] >= GROUP["body_difficulty"]) == on).all() and (difficulty[~on] == 0).all()
    for lo, hi in ((24, 24), (28, 36), (105, 117)):  # the module's marks against its truth, every length
        for routine in group_routines(3, 40, lo, hi):
            marks = routine.marks
            contribution = whole_hundredths(routine.truth["contribution"].astype(np.float32))
            total = marks["difficulty"] + marks["execution"] - marks["penalty"]
            assert contribution.sum() + 1000 - routine.video["artistic"] - marks["penalty"] == total


def test_rggroup_heldout_reads_through_the_rg_loader(generated):
    root = generated["rggroup_heldout"]
    cfg = load_config(None, ["data.layout=rg", "data.score_divisor=30", f"model.input_dim={DIM}"])
    labels = {lab.name: lab for split in ("train", "test") for lab in parse_rg_labels(root / f"{split}.txt")}
    for split, count in (("train", 12), ("test", 5)):
        samples = load_split(cfg.data, dataset_root(cfg.data, root), split, DIM)
        assert len(samples) == count
        for sample in samples:
            lab = labels[sample.name]
            assert lab.total == pytest.approx(lab.difficulty + lab.execution - lab.penalty, abs=1e-6)
            assert sample.score * 30 == pytest.approx(lab.total, abs=1e-4)


def test_rggroup_heldout_drops_are_deducted_on_their_clip_then_recovered():
    m = rggroup_heldout_module
    routine = m.Routine(10)
    chance = 1e9  # every fault happens: a drop at the catch, an imprecise throw
    largest = m.GroupSport.faults(routine, m.CATALOGUE[4], np.arange(3, 7), chance, np.zeros(10),
                                  np.random.default_rng(0))
    assert routine.drop[6] > 0 and routine.deduction[6] >= 50 and largest >= 50
    assert routine.deduction[[0, 1, 2, 7, 8, 9]].sum() == 0
    recovered = 0
    for routine in group_routines(0, 150, 105, 117) + group_routines(1, 100, 28, 36):
        deduction, segment = whole_hundredths(routine.truth["deduction"]), routine.truth["segment"].astype(int)
        starts = np.flatnonzero((segment == GROUP["recovery"]) & (np.r_[-1, segment[:-1]] != GROUP["recovery"]))
        for start in starts:  # recovery follows the element on which the apparatus fell, its drop deducted
            element = routine.truth["element_type"][start - 1]
            assert element >= 0
            clips = np.flatnonzero(routine.truth["element_type"][:start] == element)
            assert deduction[clips].max() >= 50
        recovered += len(starts)
        assert len(starts) <= routine.video["drops"]
    assert recovered >= 30


def test_rggroup_heldout_exchanges_are_valued_on_the_throw_and_the_catch():
    for routine in group_routines(2, 60, 105, 117):
        segment, difficulty = routine.truth["segment"].astype(int), whole_hundredths(routine.truth["difficulty"])
        assert (difficulty[segment == GROUP["flight"]] == 0).all()
        assert (difficulty[segment == GROUP["throw"]] > 0).any() and (difficulty[segment == GROUP["catch"]] > 0).any()


@pytest.mark.parametrize("clips", [(28, 28), (28, 36), (36, 36)])
def test_rggroup_heldout_works_at_bench_lengths(clips):
    for routine in group_routines(4, 60, *clips):
        segment = routine.truth["segment"].astype(int)
        assert clips[0] <= len(segment) <= clips[1]
        assert segment[0] == segment[-1] == GROUP["pose"]
        assert {GROUP["body_difficulty"], GROUP["throw"], GROUP["catch"], GROUP["collaboration"],
                GROUP["dance_steps"]} <= set(segment.tolist())
        assert (segment < GROUP["body_difficulty"]).sum() >= 5  # connecting movement between elements
        assert np.isfinite(routine.features).all()


def test_rggroup_heldout_totals_look_like_group_scores(tmp_path):
    root = write_generated("rggroup_heldout", tmp_path, seed=0, num_train=150, num_test=50, feature_dim=4)
    labels = parse_rg_labels(root / "train.txt") + parse_rg_labels(root / "test.txt")
    d, e, p, total = (np.array([getattr(lab, k) for lab in labels]) for k in ("difficulty", "execution", "penalty",
                                                                             "total"))
    assert 10.0 <= d.mean() <= 15.0 and d.max() <= 22.0
    assert 6.0 <= e.mean() <= 8.0 and e.max() <= 9.7
    assert 16.0 <= total.mean() <= 23.0 and total.max() <= GENERATORS["rggroup_heldout"].score_divisor
    assert (p == 0).mean() >= 0.7
    assert 0.4 <= np.corrcoef(d, e)[0, 1] <= 0.9
    low, high = GENERATORS["rggroup_heldout"].default_clips
    for lab in labels[:20]:
        assert low <= len(truth(root, lab.name)["segment"]) <= high


def dressage_rides(seed: int = 0, count: int = 40, feature_dim: int = 4, min_clips: int = 36, max_clips: int = 48):
    return list(dressage_heldout_module.generate(seed=seed, count=count, feature_dim=feature_dim,
                                                 min_clips=min_clips, max_clips=max_clips))


DRESSAGE = dressage_heldout_module


def test_dressage_heldout_truth_sums_to_the_sheet_exactly(generated):
    root = generated["dressage_heldout"]
    lines = (root / "train_dataset.txt").read_text().splitlines() + (root / "test_dataset.txt").read_text().splitlines()
    assert len(lines) == 17
    for line in lines:
        name, tes, pcs, deductions = line.split(" ")
        assert tes == format_fisv_points(hundredths(tes)) and pcs == format_fisv_points(hundredths(pcs))
        assert deductions.isdigit()
        t = truth(root, name)
        assert set(t) == {"tes", "deduction", "contribution", "element_type", "segment"}
        assert abs(t["tes"].sum() - float(tes)) <= 0.006, name
        unlocated = int(deductions) - t["deduction"].sum()  # time and late entry belong to no clip
        assert unlocated in (0.0, 1.0, 2.0), name
        np.testing.assert_allclose(t["contribution"], t["tes"] - t["deduction"], atol=1e-6)
        assert set(np.unique(t["deduction"])) <= {0.0, 1.0, 2.0}
        assert set(np.unique(t["segment"]).astype(int)) <= set(DRESSAGE.SEGMENTS)
        assert ((t["element_type"] < 0) == (t["segment"] == 17)).all()
    for ride in dressage_rides(seed=1, count=60, min_clips=36, max_clips=300):
        t, marks = ride.truth, ride.marks
        assert abs(t["tes"].astype(np.float32).sum() - marks["tes"] / 100) <= 0.006
        assert t["deduction"].sum() + ride.video["unlocated_deductions"] == marks["deductions"] / 100
        assert ride.video["unlocated_deductions"] == ride.video["time_fault"] + ride.video["late_entry"]
        assert marks["deductions"] % 100 == 0


def test_dressage_heldout_reads_through_the_fisv_loader(generated):
    from longaqa.data.fisv import load_fisv_split

    root = generated["dressage_heldout"]
    rows = {name: (tes, pcs, ded) for split in ("train", "test")
            for name, tes, pcs, ded in parse_fisv_labels(root / f"{split}_dataset.txt")}
    for split in ("train", "test"):
        for target in ("TES", "PCS", "total"):
            loaded = load_fisv_split(root, split, target)
            assert len(loaded) == (12 if split == "train" else 5)
            for name, score in loaded:
                tes, pcs, ded = rows[name]
                expected = {"TES": tes, "PCS": pcs, "total": tes + pcs - ded}[target]
                assert score == pytest.approx(expected)
                assert np.load(root / FEATURES / f"{name}.npy").shape[1] == DIM


@pytest.mark.parametrize("clips", [(33, 33), (36, 36), (36, 48), (48, 48)])
def test_dressage_heldout_works_at_bench_lengths(clips):
    low, high = clips
    for ride in dressage_rides(seed=3, count=30, min_clips=low, max_clips=high):
        t = ride.truth
        assert low <= len(ride.features) <= high and ride.features.shape[1] == 4
        assert set(np.unique(t["element_type"]).astype(int)) == set(DRESSAGE.MOVEMENTS)  # every movement shown
        assert (t["element_type"] >= 0).all()  # the whole ride is judged
        assert abs(t["tes"].sum() - ride.marks["tes"] / 100) <= 0.006
        assert 15 <= ride.marks["tes"] / 100 <= 50 and 20 <= ride.marks["pcs"] / 100 <= 50


def test_dressage_heldout_totals_look_like_freestyle_percentages(tmp_path):
    root = write_generated("dressage_heldout", tmp_path, seed=0, num_train=150, num_test=50, feature_dim=4)
    rows = parse_fisv_labels(root / "train_dataset.txt") + parse_fisv_labels(root / "test_dataset.txt")
    tes, pcs, ded = (np.array(column) for column in list(zip(*rows))[1:])
    total = tes + pcs - ded
    assert 28 <= tes.mean() <= 37 and 30 <= pcs.mean() <= 40 and tes.max() <= 50 and pcs.max() <= 50
    assert 60 <= total.mean() <= 75 and total.max() <= GENERATORS["dressage_heldout"].score_divisor
    assert np.corrcoef(tes, pcs)[0, 1] > 0.6  # good horses and riders score well in both
    assert (ded == 0).mean() >= 0.8 and (ded == np.round(ded)).all()
    low, high = GENERATORS["dressage_heldout"].default_clips
    judged = []
    for name, *_ in rows:
        t = truth(root, name)
        assert low <= len(t["tes"]) <= high
        judged.append((t["element_type"] >= 0).mean())
    assert min(judged) >= 0.98 and np.mean(judged) >= 0.99  # only leaving the arena is not judged


def test_dressage_heldout_credit_is_mark_times_coefficient():
    assert DRESSAGE.COEFFICIENT_SUM == 22
    double = {code for code, (_, coefficient, *_) in DRESSAGE.MOVEMENTS.items() if coefficient == 2}
    assert double == {DRESSAGE.CW, DRESSAGE.EW, DRESSAGE.PASSAGE, DRESSAGE.PIAFFE, DRESSAGE.PIR_R, DRESSAGE.PIR_L}
    for ride in dressage_rides(seed=4, count=20, min_clips=36, max_clips=120):
        t = ride.truth
        for code, (_, coefficient, *_) in DRESSAGE.MOVEMENTS.items():
            mark = ride.video[f"mark_{code}"]
            assert round(mark * 10, 6) == round(mark * 10) and 0 <= mark <= 10  # five judges' half points
            credit = t["tes"][t["element_type"] == code].sum()
            assert abs(credit - 50 * coefficient * mark / 220) <= 0.006, (code, mark)


def test_dressage_heldout_located_faults_lower_their_movement_on_their_clips():
    dropped = partial = resisted = 0
    for ride in dressage_rides(seed=5, count=80, min_clips=40, max_clips=280):
        t, video = ride.truth, ride.video
        linking = np.isin(t["segment"], (15, 16))
        for code, (_, coefficient, *_) in DRESSAGE.MOVEMENTS.items():
            where = t["element_type"] == code
            weight = np.where(linking, 0.5, 1.0)[where]
            clean = DRESSAGE.movement_credit(coefficient, round(video[f"clean_mark_{code}"] * 10)) / 100
            loss = clean * weight / weight.sum() - t["tes"][where]  # what faults cost, clip by clip
            assert (loss >= -1e-5).all()
            credit = DRESSAGE.movement_credit(coefficient, round(video[f"mark_{code}"] * 10)) / 100
            assert abs(loss.sum() - (clean - credit)) <= 0.006
            if video[f"mark_{code}"] < video[f"clean_mark_{code}"]:
                dropped += 1
                assert (loss > 1e-5).any()
                partial += int((loss > 1e-5).sum() < where.sum())  # on the fault's clips, not all of them
        for at in np.flatnonzero(t["deduction"]):  # a resistance: 1 point on its clip, the mark at most 4
            code = int(t["element_type"][at])
            assert video[f"mark_{code}"] <= 4.0
            resisted += 1
    assert dropped >= 20 and partial >= 0.8 * dropped and resisted >= 1


def test_dressage_heldout_pcs_is_holistic_not_a_sum_over_clips():
    rides = dressage_rides(seed=6, count=300, min_clips=36, max_clips=48)
    pcs = np.array([r.marks["pcs"] / 100 for r in rides])
    choreography = np.array([r.video["choreography"] for r in rides])
    sums = np.array([r.truth["contribution"].sum() for r in rides])
    # the clips' truth explains part of PCS (good horses and riders score well in both), not all of it:
    # the rest follows whole-ride properties such as the choreography
    residual = pcs - np.polyval(np.polyfit(sums, pcs, 1), sums)
    assert 0.3 <= 1 - residual.var() / pcs.var() <= 0.85
    assert np.corrcoef(residual, choreography)[0, 1] > 0.5
    assert 20 <= pcs.min() and pcs.max() <= 50


# --- bars_heldout ---------------------------------------------------------------------------------

BARS = bars_heldout_module
BARS_ELEMENT_SEGMENTS = (1, 4, 5, 6, 7, 8)
"""The segment codes of valued elements (mount, circling, pirouette, release, transition, dismount)."""


def bars_videos(count: int, min_clips: int, max_clips: int, seed: int = 1, feature_dim: int = DIM):
    return list(BARS.generate(seed, count, feature_dim, min_clips, max_clips))


def check_bars_video(video) -> None:
    """One routine's truth against its sheet, exactly in hundredths."""
    t = video.truth
    d, e, p = video.marks["difficulty"], video.marks["execution"], video.marks["penalty"]
    rhythm = hundredths(str(video.video["rhythm"]))
    assert int(round(t["difficulty"].sum() * 100)) == d, video.name
    assert int(round(t["deduction"].sum() * 100)) + rhythm == 1000 - e, video.name
    assert int(round(t["contribution"].sum() * 100)) == d + e - p + p + rhythm - 1000, video.name
    np.testing.assert_allclose(t["contribution"], t["difficulty"] - t["deduction"], atol=1e-9)
    assert (t["difficulty"] >= 0).all() and (t["deduction"] >= 0).all()
    on = t["element_type"] >= 0
    assert (t["difficulty"][~on] == 0).all(), "no credit off valued elements"
    assert set(np.unique(t["segment"]).astype(int)) <= set(BARS.SEGMENTS)
    assert (np.isin(t["segment"], BARS_ELEMENT_SEGMENTS) == on).all()
    assert d % 10 == 0 and e % 5 == 0 and p % 10 == 0 and rhythm in (0, 10, 20, 30)


def test_bars_heldout_truth_sums_to_the_sheet_exactly(generated):
    root = generated["bars_heldout"]
    videos = {v.name: v for v in bars_videos(17, **SMALL["bars_heldout"])}  # what write_generated wrote
    rows = rg_rows(root)
    assert len(rows["train"]) == 12 and len(rows["test"]) == 5
    for name, d, e, total, penalty, _ in rows["train"] + rows["test"]:
        video = videos[name]
        assert (hundredths(d), hundredths(e), hundredths(penalty)) == (
            video.marks["difficulty"], video.marks["execution"], video.marks["penalty"])
        t = truth(root, name)
        assert set(t) == {"difficulty", "deduction", "contribution", "element_type", "segment"}
        for key, values in t.items():
            np.testing.assert_array_equal(values, video.truth[key].astype(np.float32))
        np.testing.assert_array_equal(np.load(root / FEATURES / f"{name}.npy"), video.features)
        check_bars_video(video)
        # the file's sums: D, the located deductions + the whole-exercise rhythm = 10 - E, the total
        assert abs(t["difficulty"].sum() - float(d)) <= 0.006
        assert abs(t["deduction"].sum() + video.video["rhythm"] - (10 - float(e))) <= 0.006
        assert abs(t["contribution"].sum() - (float(total) + float(penalty) + video.video["rhythm"] - 10)) <= 0.006


def test_bars_heldout_reads_through_the_rg_loader(generated):
    from longaqa.data.rg import load_rg_split

    root = generated["bars_heldout"]
    rows = {row[0]: row for rows in rg_rows(root).values() for row in rows}
    for target, column in (("difficulty", 1), ("execution", 2), ("total", 3)):
        for split, count in (("train", 12), ("test", 5)):
            labels = load_rg_split(root, split, "Ball", target)
            assert len(labels) == count
            assert all(score == float(rows[name][column]) for name, score in labels)
    cfg = load_config(None, ["data.layout=rg", "data.class_name=Ball", "data.score_divisor=25",
                             f"model.input_dim={DIM}"])
    for split, count in (("train", 12), ("test", 5)):
        samples = load_split(cfg.data, dataset_root(cfg.data, root), split, DIM)
        assert len(samples) == count
        for sample in samples:
            assert sample.score * 25 == pytest.approx(float(rows[sample.name][3]))
            assert sample.features.shape[1] == DIM and 28 <= sample.features.shape[0] <= 36


@pytest.mark.parametrize("clips", [BARS.FEWEST_CLIPS, 28, 32, 36])
def test_bars_heldout_works_at_bench_lengths(clips):
    for video in bars_videos(60, clips, clips, seed=3, feature_dim=8):
        assert video.features.shape == (clips, 8) and video.features.dtype == np.float32
        assert all(values.shape == (clips,) for values in video.truth.values())
        check_bars_video(video)
        segment = video.truth["segment"]
        assert segment[np.isin(segment, BARS_ELEMENT_SEGMENTS)][0] == 1, "the routine starts with the mount"
        assert 8 in segment and (9 in segment or 11 in segment), "it ends with the dismount and its landing"


def test_bars_heldout_labels_look_like_bars_scores():
    videos = bars_videos(400, *BARS.DEFAULT_CLIPS, seed=0, feature_dim=8)
    d = np.array([v.marks["difficulty"] for v in videos]) / 100
    e = np.array([v.marks["execution"] for v in videos]) / 100
    p = np.array([v.marks["penalty"] for v in videos]) / 100
    total = d + e - p
    assert 4.5 <= d.mean() <= 6.2 and d.max() <= 8.0
    assert 7.2 <= e.mean() <= 8.5
    assert 11 <= np.median(total) <= 15 and 9.5 <= np.percentile(total, 5) and np.percentile(total, 95) <= 16
    assert 0.8 <= (p == 0).mean() <= 0.97
    assert 0.15 <= np.corrcoef(d, e)[0, 1] <= 0.8  # better gymnasts: harder and cleaner
    falls = np.array([v.video["falls"] for v in videos])
    assert 0.04 <= (falls > 0).mean() <= 0.25
    located = sum(v.video["located"] for v in videos)
    assert 0.85 <= located / (10 * len(videos) - e.sum()) <= 0.99  # the rest is the whole-exercise rhythm
    elements = np.concatenate([v.truth["element_type"] >= 0 for v in videos])
    assert 0.35 <= elements.mean() <= 0.6  # about half the clips show a valued element
    assert all(v.video["counted"] == 8 for v in videos if v.video["recognised"] >= 8)


def bars_judged(names, linked=(), falls=(), serious=()):
    """Judge a made-up clean routine of the named elements: ``linked`` the indices connected to the next,
    ``falls`` and ``serious`` those that end in a fall or finish far short of handstand."""
    sport = BARS.BarsSport(0, 8)
    index = {e.name: i for i, e in enumerate(BARS.ELEMENTS)}
    kinds = [index[name] for name in names]
    connected = [i in linked for i in range(len(kinds))]
    events = [dict(faults=[3] if i in serious else [], serious=i in serious, fall=i in falls, swing=False,
                   landing=[]) for i in range(len(kinds))]
    rng = np.random.default_rng(0)
    parts = sport.layout(kinds, connected, events, rng)
    length = sum(part.clips for part in parts)
    video = sport.judge("Ball_001", length, kinds, connected, events, parts, 0.0, 0.0, 5.0, rng)
    check_bars_video(video)
    credit = {name: int(round(video.truth["difficulty"][video.truth["element_type"] == k].sum() * 100))
              for name, k in zip(names, kinds)}
    return video, credit


ROUTINE = ["glide kip", "stalder to handstand", "Shaposhnikova", "giant circle backward with 1/2 turn (blind change)",
           "Healy (forward pirouette on one arm, 1/1)", "Ricna (stalder Tkachev)", "Pak salto (stretched, HB to LB)",
           "clear hip circle to handstand", "Van Leeuwen (toe-on Shaposhnikova with 1/2 turn)", "Tkachev straddled",
           "double salto backward stretched with 1/1 twist"]


def test_bars_heldout_counts_only_the_eight_highest_values():
    video, credit = bars_judged(ROUTINE)
    # values: the dismount (E) and the 7 highest others: VL E, Shaposh, Healy, Ricna, Pak D, Tkachev C, one B
    assert video.video["values"] == pytest.approx(0.5 + 0.5 + 0.4 * 4 + 0.3 + 0.2)
    assert video.video["cr"] == pytest.approx(2.5) and video.video["cv"] == 0
    assert video.marks["difficulty"] == 310 + 250
    # the mount (A) and two of the three B elements are performed but not counted: no credit on their clips
    assert credit["glide kip"] == 0
    assert sorted(credit[n] for n in ROUTINE[1:4:2] + ["clear hip circle to handstand"]) == [0, 0, 20]
    assert credit["Healy (forward pirouette on one arm, 1/1)"] == 40 + 50 + 50  # value, grips and turn CRs
    assert credit["double salto backward stretched with 1/1 twist"] == 50 + 50  # value, dismount CR
    # a value not recognised (far short of handstand) lets the next highest in
    video, credit = bars_judged(ROUTINE, serious=(4,))
    assert credit["Healy (forward pirouette on one arm, 1/1)"] == 0
    assert sorted(credit[n] for n in ROUTINE[1:4:2] + ["clear hip circle to handstand"]) == [0, 20, 20]
    assert video.video["values"] == pytest.approx(0.5 + 0.5 + 0.4 * 3 + 0.3 + 0.2 * 2)
    assert video.video["cr"] == pytest.approx(1.5)  # the Healy was the only turn and the only other grip


def test_bars_heldout_connection_value_sits_on_the_connected_elements():
    element = {e.name: e for e in BARS.ELEMENTS}
    cv = BARS.connection_value
    assert cv(element["Ricna (stalder Tkachev)"], element["Pak salto (stretched, HB to LB)"]) == 20
    assert cv(element["Tkachev straddled"], element["Pak salto (stretched, HB to LB)"]) == 10
    assert cv(element["Tkachev straddled"], element["flight backward piked from HB to LB"]) == 0
    assert cv(element["Healy (forward pirouette on one arm, 1/1)"], element["Ricna (stalder Tkachev)"]) == 10
    assert cv(element["stalder to handstand"], element["Shaposhnikova"]) == 0
    assert cv(element["stalder with 1/1 turn"], element["double salto backward stretched"]) == 10
    plain, alone = bars_judged(ROUTINE)
    linked, together = bars_judged(ROUTINE, linked=(5,))  # Ricna directly into the Pak salto
    assert linked.marks["difficulty"] == plain.marks["difficulty"] + 20 and linked.video["cv"] == pytest.approx(0.2)
    for name in ("Ricna (stalder Tkachev)", "Pak salto (stretched, HB to LB)"):
        assert together[name] == alone[name] + 10
    assert {n: c for n, c in together.items() if n not in ("Ricna (stalder Tkachev)",
                                                           "Pak salto (stretched, HB to LB)")} == {
        n: c for n, c in alone.items() if n not in ("Ricna (stalder Tkachev)", "Pak salto (stretched, HB to LB)")}
    # no linking part between the connected elements
    segment, element_type = linked.truth["segment"], linked.truth["element_type"]
    ricna = np.flatnonzero(element_type == BARS.ELEMENTS.index(element["Ricna (stalder Tkachev)"]))
    assert element_type[ricna[-1] + 1] == BARS.ELEMENTS.index(element["Pak salto (stretched, HB to LB)"])
    assert segment[ricna[-1] + 1] == 7
    # a fall on the Ricna breaks the connection and takes the Ricna's value and CR
    fell, credit = bars_judged(ROUTINE, linked=(5,), falls=(5,))
    assert credit["Ricna (stalder Tkachev)"] == 0 and fell.video["cv"] == 0


def test_bars_heldout_falls_cost_one_point_on_their_clip_and_remount_follows():
    seen = {"element": 0, "dismount": 0}
    for video in bars_videos(300, *BARS.DEFAULT_CLIPS, seed=2, feature_dim=8):
        t = video.truth
        segment = t["segment"].astype(int)
        for clip in np.flatnonzero(segment == 11):
            assert t["deduction"][clip] == pytest.approx(1.0) and t["difficulty"][clip] == 0
            assert t["element_type"][clip] == -1
            before = segment[clip - 1]
            if before == 8:  # a fall on the dismount's landing: the dismount keeps its value
                seen["dismount"] += 1
                assert t["difficulty"][clip - 1] > 0 and (clip == len(segment) - 1 or segment[clip + 1] == 0)
                continue
            seen["element"] += 1
            assert before in (4, 5, 6, 7), "a fall ends an element"
            failed = t["element_type"][clip - 1]
            assert t["difficulty"][t["element_type"] == failed].sum() == 0, "the element is not recognised"
            after = segment[clip + 1:]
            remount = int(np.argmax(after != 12))
            assert 2 <= remount <= 4 and after[remount] == 2, "remount clips, then a kip and cast"
            assert t["deduction"][clip + 1:clip + 1 + remount].sum() == 0
        assert video.video["falls"] == (segment == 11).sum()
    assert seen["element"] >= 5 and seen["dismount"] >= 1


def test_bars_heldout_is_deterministic():
    a = bars_videos(5, 28, 36, seed=4)
    b = bars_videos(5, 28, 36, seed=4)
    for x, y in zip(a, b):
        assert np.array_equal(x.features, y.features) and x.marks == y.marks
        assert all(np.array_equal(x.truth[k], y.truth[k]) for k in x.truth)


# -- pommel_heldout ------------------------------------------------------------------------------------
POMMEL = pommel_heldout_module


def pommel_routines(count: int, clips: tuple[int, int], seed: int = 0, dim: int = 8):
    return list(POMMEL.generate(seed, count, dim, *clips))


def pommel_runs(t: dict[str, np.ndarray]) -> list[tuple[int, int, int]]:
    """``(type, start, end)`` of each performed element (a run of clips of one type)."""
    kinds = t["element_type"].astype(int)
    runs, start = [], 0
    for clip in range(1, len(kinds) + 1):
        if clip == len(kinds) or kinds[clip] != kinds[start]:
            if kinds[start] >= 0:
                runs.append((int(kinds[start]), start, clip))
            start = clip
    return runs


def test_pommel_heldout_truth_sums_to_the_sheet_exactly(generated):
    root = generated["pommel_heldout"]
    for rows in rg_rows(root).values():
        for name, d, e, total, penalty, _ in rows:
            t = truth(root, name)
            assert set(t) == {"difficulty", "deduction", "contribution", "element_type", "segment"}
            assert round(float(t["difficulty"].astype(np.float64).sum()) * 100) == hundredths(d), name
            assert round(float(t["deduction"].astype(np.float64).sum()) * 100) == 1000 - hundredths(e), name
            assert (round(float(t["contribution"].astype(np.float64).sum()) * 100)
                    == hundredths(total) + hundredths(penalty) - 1000), name
            assert set(np.unique(t["segment"]).astype(int)) <= set(POMMEL.SEGMENTS)
            off = np.isin(t["segment"], [POMMEL.MOUNT, POMMEL.LINKING, POMMEL.LANDING, POMMEL.FALL, POMMEL.REMOUNT])
            assert ((t["element_type"] < 0) == off).all(), name
            assert hundredths(penalty) in (0, 10, 30)
    for video in pommel_routines(40, (28, 36)):  # nothing of 10 - E is left off the clips
        assert video.video["unlocated_deduction"] == 0.0
        assert round(video.truth["deduction"].sum() * 100) == 1000 - video.marks["execution"]
        assert round(video.truth["difficulty"].sum() * 100) == video.marks["difficulty"]


def test_pommel_heldout_reads_through_the_rg_loader(generated):
    from longaqa.data.rg import load_rg_split

    root = generated["pommel_heldout"]
    rows = {row[0]: row for split in rg_rows(root).values() for row in split}
    for split, count in (("train", 12), ("test", 5)):
        loaded = load_rg_split(root, split, "Ball", "total")
        assert len(loaded) == count
        for name, total in loaded:
            assert hundredths(str(total)) == hundredths(rows[name][3])
            features = np.load(root / FEATURES / f"{name}.npy")
            assert features.shape == (len(truth(root, name)["segment"]), DIM)
        assert [d for _, d in load_rg_split(root, split, "Ball", "difficulty")] == [
            float(rows[name][1]) for name, _ in loaded]


@pytest.mark.parametrize("clips", [(POMMEL.FEWEST_CLIPS, POMMEL.FEWEST_CLIPS), (28, 28), (28, 36), (36, 36)])
def test_pommel_heldout_works_at_bench_lengths(clips):
    for video in pommel_routines(40, clips, seed=3):
        t, length = video.truth, len(video.features)
        assert clips[0] <= length <= clips[1] and video.features.dtype == np.float32
        segment = t["segment"].astype(int)
        assert segment[0] == POMMEL.MOUNT and segment[-1] == POMMEL.LANDING
        runs = pommel_runs(t)
        assert POMMEL.GROUP[runs[-1][0]] == 4 and runs[-1][2] == length - 1  # the dismount, then the landing
        assert len(runs) >= POMMEL.MAX_COUNTED  # room is kept for nine elements and the dismount
        assert round(t["difficulty"].sum() * 100) == video.marks["difficulty"]
        assert 0 <= video.marks["execution"] <= 1000


def test_pommel_heldout_totals_look_like_pommel_scores():
    videos = pommel_routines(300, POMMEL.DEFAULT_CLIPS, seed=1)
    d = np.array([v.marks["difficulty"] for v in videos]) / 100
    e = np.array([v.marks["execution"] for v in videos]) / 100
    p = np.array([v.marks["penalty"] for v in videos]) / 100
    total = d + e - p
    assert 5.0 <= d.mean() <= 6.4 and d.max() <= 7.0 and d.min() >= 2.5
    assert 7.3 <= e.mean() <= 8.6 and e.max() <= 10
    assert 12.5 <= np.median(total) <= 14.8
    assert np.mean((total >= 11) & (total <= 15.5)) >= 0.75
    assert 0.0 < np.mean(p > 0) <= 0.2
    assert 0.3 <= np.corrcoef(d, e)[0, 1] <= 0.85  # better gymnasts: harder and cleaner
    falls = np.array([v.video["falls"] for v in videos])
    assert 0.08 <= np.mean(falls > 0) <= 0.35
    assert e[falls > 0].mean() < e[falls == 0].mean() - 0.8
    share = np.mean([np.mean(v.truth["element_type"] >= 0) for v in videos])
    linking = np.mean([np.mean(v.truth["segment"] == POMMEL.LINKING) for v in videos])
    assert 0.7 <= share <= 0.9 and 0.05 <= linking <= 0.2


def test_pommel_heldout_counts_only_the_ten_highest_values():
    # the dismount and the nine highest others, at most five per group, a repeat once, unrecognised never
    types = [0, 1, 5, 6, 7, 8, 9, 10, 14, 15, 16, 17, 19, 21, 22, 15, 26]
    recognised = [True] * len(types)
    recognised[types.index(22)] = False  # the 0.6 travel was not recognised
    counted = POMMEL.counted_elements(types, recognised)
    kinds = [types[i] for i in counted]
    assert len(counted) == 10 and kinds[-1] == 26 and 22 not in kinds
    assert sum(POMMEL.GROUP[k] == 2 for k in kinds) == POMMEL.MAX_PER_GROUP  # EG II held to five
    assert kinds.count(15) == 1  # the repeat counts once
    assert sorted(POMMEL.VALUE[[k for k in kinds if POMMEL.GROUP[k] == 3]]) == [20, 40, 50]
    assert POMMEL.counted_elements([5, 6], [True, True]) == [0, 1]  # without a dismount, what there is
    # in generated routines: at most ten elements earn value, the rest of the D score is the requirements
    seen_uncounted = 0
    for video in pommel_routines(60, POMMEL.DEFAULT_CLIPS, seed=2):
        runs = pommel_runs(video.truth)
        credit = [round(video.truth["difficulty"][s:e].sum() * 100) for _, s, e in runs]
        earned = [(k, c) for (k, _, _), c in zip(runs, credit) if c > 0]
        assert 1 <= len(earned) <= POMMEL.MAX_COUNTED
        assert all(sum(POMMEL.GROUP[k] == g for k, _ in earned) <= POMMEL.MAX_PER_GROUP for g in (1, 2, 3))
        bonus = [c - POMMEL.VALUE[k] for k, c in earned]
        assert all(b in (0, 30, 50) for b in bonus)
        groups = {int(POMMEL.GROUP[k]) for k, _ in earned}
        dismount = [int(POMMEL.VALUE[k]) for k, _ in earned if POMMEL.GROUP[k] == 4]
        expected = 50 * len(groups - {4}) + sum(POMMEL.dismount_requirement(v) for v in dismount)
        assert sum(bonus) == expected
        seen_uncounted += len(runs) - len(earned)
    assert seen_uncounted > 60  # routines hold more elements than count


def test_pommel_heldout_falls_cost_one_point_on_their_clip_and_remount_follows():
    falls = 0
    for video in pommel_routines(200, POMMEL.DEFAULT_CLIPS, seed=4):
        t = video.truth
        segment = t["segment"].astype(int)
        for clip in np.flatnonzero(segment == POMMEL.FALL):
            falls += 1
            assert abs(t["deduction"][clip] - 1.0) < 1e-6 and t["difficulty"][clip] == 0
            kind = int(t["element_type"][clip - 1])
            assert kind >= 0 and POMMEL.GROUP[kind] < 4
            start = clip - 1
            while start > 0 and t["element_type"][start - 1] == kind:
                start -= 1
            assert (t["difficulty"][start:clip] == 0).all()  # the element he fell from earns nothing
            after = segment[clip + 1:]
            remount = int(np.argmax(after != POMMEL.REMOUNT))
            assert 2 <= remount <= 4 and after[remount] != POMMEL.FALL
        assert video.video["falls"] >= (segment == POMMEL.FALL).sum()
    assert falls >= 20


# -- rings_heldout -------------------------------------------------------------------------------------
RINGS = rings_heldout_module
RINGS_ELEMENT_SEGMENTS = {2, 3, 4, 5, 6, 8}
"""The segment codes of clips inside an element (docs/generators.md): holds, swing elements, swings into
a hold, dismount flight, landing, strength movement; 0, 1, 7 and 9 are mount, links, pauses and remounts."""


def rings_routines(count: int, seed: int = 1, min_clips: int = 32, max_clips: int = 44, feature_dim: int = 4):
    return list(RINGS.generate(seed, count, feature_dim, min_clips, max_clips))


def rings_runs(element_type: np.ndarray) -> list[np.ndarray]:
    """The clips of each element performed: maximal runs of one element type (types never repeat back to back)."""
    on = np.flatnonzero(element_type >= 0)
    return [run for run in np.split(on, np.flatnonzero((np.diff(on) > 1) | (np.diff(element_type[on]) != 0)) + 1)
            if len(run)]


def test_rings_heldout_truth_sums_to_the_sheet_exactly(generated):
    root = generated["rings_heldout"]
    for rows in rg_rows(root).values():
        for name, d, e, total, penalty, _ in rows:
            t = truth(root, name)
            assert set(t) == {"difficulty", "deduction", "contribution", "element_type", "segment"}
            assert hundredths(total) == hundredths(d) + hundredths(e) - hundredths(penalty), name
            assert round(float(t["difficulty"].sum(dtype=np.float64)) * 100) == hundredths(d), name
            assert round((10 - float(t["deduction"].sum(dtype=np.float64))) * 100) == hundredths(e), name
            assert round(float(t["contribution"].sum(dtype=np.float64)) * 100) == (
                hundredths(total) + hundredths(penalty) - 1000), name
            assert hundredths(d) % 10 == 0 and hundredths(e) % 5 == 0 and hundredths(penalty) % 10 == 0
            segment = t["segment"].astype(int)
            assert (segment == t["segment"]).all() and set(segment) <= set(RINGS.SEGMENTS)
            assert ((t["element_type"] >= 0) == np.isin(segment, list(RINGS_ELEMENT_SEGMENTS))).all(), name
            assert segment[0] == RINGS.MOUNT and segment[-1] == RINGS.LANDING, name


def test_rings_heldout_reads_through_the_rg_loader(generated):
    root = generated["rings_heldout"]
    rows = {row[0]: row for split_rows in rg_rows(root).values() for row in split_rows}
    for target, column in (("total", 3), ("difficulty", 1), ("execution", 2)):
        cfg = load_config(None, ["data.layout=rg", "data.class_name=Ball", f"data.target={target}",
                                 "data.score_divisor=1", f"model.input_dim={DIM}"])
        for split, count in (("train", 12), ("test", 5)):
            samples = load_split(cfg.data, dataset_root(cfg.data, root), split, DIM)
            assert len(samples) == count
            for sample in samples:
                assert sample.score == pytest.approx(float(rows[sample.name][column]))
                assert sample.features.shape == (len(truth(root, sample.name)["segment"]), DIM)


@pytest.mark.parametrize("clips", [dict(min_clips=28, max_clips=36), dict(min_clips=16, max_clips=16), {}])
def test_rings_heldout_works_at_bench_lengths_and_defaults(tmp_path, clips):
    root = write_generated("rings_heldout", tmp_path, seed=3, num_train=8, num_test=4, feature_dim=DIM, **clips)
    low, high = clips.get("min_clips", RINGS.DEFAULT_CLIPS[0]), clips.get("max_clips", RINGS.DEFAULT_CLIPS[1])
    assert RINGS.DEFAULT_CLIPS == (32, 44)
    for rows in rg_rows(root).values():
        for name, d, e, *_ in rows:
            t = truth(root, name)
            assert low <= len(t["segment"]) <= high
            assert np.load(root / FEATURES / f"{name}.npy").shape == (len(t["segment"]), DIM)
            assert abs(t["difficulty"].sum() - float(d)) <= 0.006
            assert abs(t["deduction"].sum() - (10 - float(e))) <= 0.006
            assert (t["segment"] == RINGS.FLIGHT).sum() == 1  # one dismount, at the end
            assert {RINGS.HOLD, RINGS.SWING_ELEMENT} <= set(t["segment"].astype(int)) or len(t["segment"]) < 28


def test_rings_heldout_scores_look_like_rings_scores():
    routines = rings_routines(300, seed=2)
    d, e, p = (np.array([r.marks[k] for r in routines]) / 100 for k in ("difficulty", "execution", "penalty"))
    total = d + e - p
    assert 4.5 <= np.median(d) <= 5.5 and np.percentile(d, 5) >= 3.5 and d.max() <= 7.0
    assert 7.6 <= np.median(e) <= 8.6 and np.percentile(e, 5) >= 6.0 and e.max() <= 9.9
    assert 12.0 <= np.median(total) <= 14.5 and np.percentile(total, 95) <= 15.5
    assert 0.02 <= (p > 0).mean() <= 0.2 and set(np.round(p * 100).astype(int)) <= {0, 10, 30, 40, 60}
    assert np.corrcoef(d, e)[0, 1] > 0.1  # better gymnasts perform harder and cleaner
    shorter = rings_routines(300, seed=2, min_clips=28, max_clips=36)
    assert np.mean([r.video["performed"] for r in shorter]) < np.mean([r.video["performed"] for r in routines])
    element_share = np.mean(np.concatenate([r.truth["element_type"] >= 0 for r in routines]))
    assert 0.6 <= element_share <= 0.85
    holds = np.concatenate([r.truth["segment"] == RINGS.HOLD for r in routines])
    assert 0.2 <= holds.mean() <= 0.4  # rings: strength holds of about 2 s are a large part of the routine


def test_rings_heldout_counts_only_the_ten_highest_values():
    for routine in rings_routines(300, seed=4, min_clips=28, max_clips=44):
        t = routine.truth
        credited, left = [], []
        for run in rings_runs(t["element_type"]):
            kind = int(t["element_type"][run[0]])
            group, value = int(RINGS.GROUP[kind]), int(RINGS.VALUE[kind])
            earned = int(round(t["difficulty"][run].sum() * 100))
            np.testing.assert_allclose(t["difficulty"][run], earned / 100 / len(run), atol=1e-6)
            (credited if earned else left).append((group, value, earned, float(t["deduction"][run].sum()), kind))
        dismount = credited[-1]
        assert dismount[0] == 4 and all(c[0] != 4 for c in credited[:-1] + left)
        assert dismount[2] == dismount[1] + {20: 0, 30: 30}.get(dismount[1], 50)  # group IV credit by value
        others = credited[:-1]
        assert len(others) <= 9 and routine.video["counted"] == len(credited)
        per_group = np.bincount([c[0] for c in others], minlength=4)
        assert per_group.max() <= RINGS.PER_GROUP == 5
        carriers = [c for c in others if c[2] == c[1] + 50]
        assert all(c[2] in (c[1], c[1] + 50) for c in others)
        assert sorted(c[0] for c in carriers) == sorted(set(c[0] for c in others))  # one requirement per group
        assert round(sum(c[2] for c in credited)) == routine.marks["difficulty"]
        plain = [c[1] for c in others if c not in carriers]
        kinds_counted = {c[4] for c in credited}
        for group, value, _, deducted, kind in left:
            if deducted >= 0.29 or kind in kinds_counted:  # maybe not recognised (or a repeat): earns nothing
                continue
            at_cap = per_group[group] == RINGS.PER_GROUP
            assert at_cap or (len(others) == 9 and value <= min(plain, default=0)), (group, value)


def test_rings_heldout_deductions_sit_on_the_clips_of_their_fault():
    routines = rings_routines(300, seed=5)
    landing_faulted = 0
    for routine in routines:
        t = routine.truth
        segment, deduction = t["segment"].astype(int), t["deduction"]
        assert (deduction[np.isin(segment, [RINGS.MOUNT, RINGS.REMOUNT])] == 0).all()
        landing_faulted += deduction[segment == RINGS.LANDING].sum() > 0
        for clip in np.flatnonzero(segment == RINGS.REMOUNT):  # a fall from the rings, on the element's last clip
            assert segment[clip - 1] in (RINGS.SWING_ELEMENT, RINGS.SWING_TO_HOLD) and deduction[clip - 1] >= 1.0
            assert t["difficulty"][clip - 1] == 0  # a fall: the element is not recognised
    assert 0.4 <= landing_faulted / len(routines) <= 0.9
    sport = RINGS.RingsSport(0, 4)
    rng = np.random.default_rng(0)
    for _ in range(100):
        skill = float(rng.normal())
        plan = sport.compose(40, skill, rng)
        for fault in sport.judge_landing(plan, skill, rng)[0]:
            assert all(plan.segment[c] == RINGS.LANDING for c in fault.clips)
        for i in range(len(plan.elements)):
            for fault in sport.judge_element(i, plan, skill, rng):
                assert all(plan.owner[c] == i for c in fault.clips), fault
                if fault.kind in ("angle", "bent arms", "cable swing", "hold short"):
                    assert all(plan.segment[c] == RINGS.HOLD for c in fault.clips), fault


def test_rings_heldout_holds_are_still_and_their_faults_show_as_motion():
    clean, faulted, moving = [], [], []
    for routine in rings_routines(200, seed=6, feature_dim=DIM):
        x, t = routine.features, routine.truth
        change = np.linalg.norm(np.diff(x, axis=0), axis=1)  # (T - 1,) from clip t - 1 to t
        segment, element, deduction = t["segment"], t["element_type"], t["deduction"]
        for clip in range(1, len(segment)):
            if segment[clip] == segment[clip - 1] == RINGS.HOLD and element[clip] == element[clip - 1]:
                (clean if deduction[clip - 1:clip + 1].sum() == 0 else faulted).append(change[clip - 1])
            elif segment[clip] == segment[clip - 1] == RINGS.SWING_ELEMENT and element[clip] == element[clip - 1]:
                moving.append(change[clip - 1])  # the two clips of one swing element: same element, in motion
    assert len(clean) > 100 and len(faulted) > 100 and len(moving) > 100
    assert np.median(clean) < 0.5 * np.median(moving)
    floor = 0.05 * np.sqrt(2 * DIM)  # the change that the features' isotropic noise (0.05) alone makes
    assert np.median(clean) < 1.2 * floor  # a clean hold: one static posture, clip after clip
    assert np.mean(faulted) > 1.3 * np.mean(clean)


def test_rings_heldout_is_deterministic(tmp_path):
    first = write_generated("rings_heldout", tmp_path / "a", seed=7, num_train=5, num_test=2, feature_dim=DIM)
    second = write_generated("rings_heldout", tmp_path / "b", seed=7, num_train=5, num_test=2, feature_dim=DIM)
    other = write_generated("rings_heldout", tmp_path / "c", seed=8, num_train=5, num_test=2, feature_dim=DIM)
    files = sorted(str(p.relative_to(first)) for p in first.rglob("*") if p.is_file())
    assert len(files) == 2 + 7 + 7 + 1
    match, mismatch, errors = filecmp.cmpfiles(first, second, files, shallow=False)
    assert mismatch == [] and errors == [] and len(match) == len(files)
    assert (first / "train.txt").read_bytes() != (other / "train.txt").read_bytes()


# -- pbars_heldout ---------------------------------------------------------------------------------------

PB = pbars_heldout_module
PB_ELEMENT_SEGMENTS = (PB.GROUP_I, PB.GROUP_II, PB.GROUP_III, PB.DISMOUNT)


def pbars_routines(seed: int = 0, count: int = 80, clips: tuple[int, int] = (28, 36)):
    """(routine, video) pairs straight from the generator, with a small feature dimension."""
    return list(PB.generate(seed, count, 4, *clips))


def test_pbars_heldout_truth_sums_to_the_sheet_exactly(generated):
    root = generated["pbars_heldout"]
    for rows in rg_rows(root).values():
        for name, d, e, total, penalty, _ in rows:
            t = truth(root, name)
            assert set(t) == {"difficulty", "deduction", "contribution", "element_type", "segment"}
            sums = {key: float(np.sum(t[key], dtype=np.float64)) for key in t}
            assert round(sums["difficulty"] * 100) == hundredths(d), name
            assert round(sums["deduction"] * 100) == 1000 - hundredths(e), name
            assert round(sums["contribution"] * 100) == hundredths(total) + hundredths(penalty) - 1000, name
            assert abs(sums["difficulty"] - float(d)) <= 1e-4 and abs(sums["deduction"] - (10 - float(e))) <= 1e-4
            # the panel's mean of the middle two grades: each clip's deduction is a multiple of 0.05
            np.testing.assert_allclose(t["deduction"] * 20, np.round(t["deduction"] * 20), atol=1e-4)
            segment = t["segment"].astype(int)
            assert set(segment) <= set(PB.SEGMENTS) and (t["segment"] == segment).all()
            assert segment[0] == PB.MOUNT and segment[-1] == PB.LANDING and segment[-2] == PB.DISMOUNT
            on_element = np.isin(segment, PB_ELEMENT_SEGMENTS)
            assert ((t["element_type"] >= 0) == on_element).all()
            assert (t["difficulty"][~on_element] == 0).all()
            assert hundredths(penalty) in (0, 10, 30)


def test_pbars_heldout_reads_through_the_rg_loader(generated):
    cfg = load_config(None, ["data.layout=rg", "data.class_name=Ball", f"model.input_dim={DIM}"])
    root = dataset_root(cfg.data, generated["pbars_heldout"])
    totals = {row[0]: float(row[3]) for rows in rg_rows(root).values() for row in rows}
    for split, count in (("train", 12), ("test", 5)):
        samples = load_split(cfg.data, root, split, DIM)
        assert len(samples) == count
        for sample in samples:
            assert tuple(sample.features.shape) == (len(truth(root, sample.name)["segment"]), DIM)
            assert abs(sample.score * cfg.data.score_divisor - totals[sample.name]) < 1e-6


@pytest.mark.parametrize("clips", [None, (28, 36), (20, 20)])
def test_pbars_heldout_works_at_bench_default_and_fewest_clips(tmp_path, clips):
    sizes = {} if clips is None else dict(min_clips=clips[0], max_clips=clips[1])
    root = write_generated("pbars_heldout", tmp_path, seed=4, num_train=8, num_test=3, feature_dim=8, **sizes)
    low, high = clips or PB.DEFAULT_CLIPS
    assert PB.DEFAULT_CLIPS == GENERATORS["pbars_heldout"].default_clips == (28, 40)
    for rows in rg_rows(root).values():
        for name, *_ in rows:
            t = truth(root, name)
            assert low <= len(t["segment"]) <= high
            segment = t["segment"].astype(int)
            element_starts = np.flatnonzero(np.isin(segment, (PB.GROUP_I, PB.GROUP_II, PB.GROUP_III))
                                            & (np.diff(t["element_type"], prepend=-2) != 0))
            assert len(element_starts) >= 9, name  # at least 9 elements besides the dismount
            assert (segment == PB.DISMOUNT).sum() >= 1 and (segment == PB.MOUNT).sum() == 1


def test_pbars_heldout_scores_look_like_parallel_bars_scores():
    pairs = pbars_routines(seed=0, count=300, clips=PB.DEFAULT_CLIPS)
    d = np.array([v.marks["difficulty"] for _, v in pairs]) / 100
    e = np.array([v.marks["execution"] for _, v in pairs]) / 100
    p = np.array([v.marks["penalty"] for _, v in pairs]) / 100
    total = d + e - p
    assert 5.2 <= d.mean() <= 6.0 and np.percentile(d, 5) >= 4.2 and np.percentile(d, 95) <= 6.8
    assert 7.9 <= e.mean() <= 8.6 and np.percentile(e, 10) >= 7.2 and np.percentile(e, 90) <= 9.1
    assert 13.0 <= total.mean() <= 14.5 and np.percentile(total, 10) >= 12.0 and np.percentile(total, 90) <= 15.5
    assert 0.2 <= np.corrcoef(d, e)[0, 1] <= 0.65  # better gymnasts: harder and cleaner
    falls = np.mean([any(c.deduction == PB.FALL for c in r.checks) for r, _ in pairs])
    assert 0.01 <= falls <= 0.15 and 0.02 <= (p > 0).mean() <= 0.2
    elements_share = np.mean([(r.element_type >= 0).mean() for r, _ in pairs])
    assert 0.5 <= elements_share <= 0.7


def _pbars_best_count(candidates) -> int:
    """Brute force: the highest value + group requirements of at most 9 elements, at most 5 per group."""
    for size in range(min(PB.COUNTED_OTHERS, len(candidates)), -1, -1):
        scores = [sum(e.value for e in chosen) + PB.REQUIREMENT * len({e.group for e in chosen})
                  for chosen in itertools.combinations(candidates, size)
                  if max([sum(e.group == g for e in chosen) for g in (1, 2, 3)]) <= PB.GROUP_LIMIT]
        if scores:
            return max(scores)
    return 0


def test_pbars_heldout_only_counted_elements_earn_difficulty():
    limited = uncounted = 0
    for routine, video in pbars_routines(seed=1, count=120):
        elements, difficulty = routine.elements, video.truth["difficulty"]
        dismount = elements[-1]
        assert dismount.group == 4 and all(e.group <= 3 for e in elements[:-1])
        assert dismount.counted and dismount.requirement == {10: 0, 20: 0, 30: 30}.get(dismount.value, 50)
        first_of_type = {}
        for e in elements[:-1]:
            first_of_type.setdefault(e.type, e)
        candidates = [e for e in first_of_type.values() if e.recognised]
        counted = [e for e in elements[:-1] if e.counted]
        assert len(counted) <= PB.COUNTED_OTHERS and all(e in candidates for e in counted)
        assert all(sum(e.group == g for e in counted) <= PB.GROUP_LIMIT for g in (1, 2, 3))
        assert video.marks["difficulty"] == dismount.credit + _pbars_best_count(candidates)
        assert sum(e.credit for e in counted) == _pbars_best_count(candidates)
        # each group's requirement sits on the group's first counted element
        holders = [e for e in elements[:-1] if e.requirement]
        assert all(e.counted and e.requirement == PB.REQUIREMENT for e in holders)
        firsts = [next(e for e in counted if e.group == g) for g in sorted({e.group for e in counted})]
        assert sorted(map(id, holders)) == sorted(map(id, firsts))
        for e in elements:
            assert difficulty[e.start:e.stop].sum() == pytest.approx(e.credit / 100, abs=1e-9)
            if not e.counted:
                assert e.credit == 0 and (difficulty[e.start:e.stop] == 0).all()
        uncounted += len(elements) - 1 - len(counted)
        highest = sorted(candidates, key=lambda e: -e.value)[:PB.COUNTED_OTHERS]  # without the limit
        limited += max(sum(e.group == g for e in highest) for g in (1, 2, 3)) > PB.GROUP_LIMIT
    assert uncounted > 100 and limited > 0  # elements that earn nothing, and the group limit, put to the test


def _pbars_fault_clips_ok(routine, check) -> bool:
    """Whether a check sits where its fault happens."""
    segment, clip = routine.segment, check.clip
    block = routine.blocks[check.block]
    inside = block.start <= clip < block.start + block.clips
    if check.kind == "landing":
        return segment[clip] == PB.LANDING and segment[clip - 1] == PB.DISMOUNT
    if check.kind == "height":
        return segment[clip] == PB.DISMOUNT and inside
    if check.kind in ("stop", "extra_swing"):
        return segment[clip] == {"stop": PB.PAUSE, "extra_swing": PB.SWING}[check.kind] and inside
    if check.kind == "fall":
        return inside and clip == block.start + block.clips - 1 and segment[clip + 1] == PB.REMOUNT
    if check.kind == "handstand":
        element = PB.ELEMENTS[block.type]
        last = block.start + block.clips - 1
        return element.to_handstand and (clip == last + 1 and segment[clip] == PB.HANDSTAND or (
            clip == last and segment[clip + 1] != PB.HANDSTAND))
    if check.kind == "touch":
        return segment[clip] in (PB.GROUP_II, PB.GROUP_III) and inside
    return inside and segment[clip] in (PB.MOUNT, PB.SWING, *PB_ELEMENT_SEGMENTS)


def test_pbars_heldout_deductions_sit_on_their_faults_clips():
    seen = set()
    for routine, video in pbars_routines(seed=2, count=150):
        per_clip = np.zeros(routine.length)
        for check in routine.checks:
            assert _pbars_fault_clips_ok(routine, check), (routine.name, check)
            per_clip[check.clip] += check.deduction / 100
            if check.deduction:
                seen.add(check.kind)
        np.testing.assert_allclose(video.truth["deduction"], per_clip, atol=1e-9)
        segment = routine.segment
        assert (video.truth["deduction"][segment == PB.REMOUNT] == 0).all()
        # a fall off the bars costs 1.0 and its element earns nothing
        for check in routine.checks:
            if check.kind == "fall":
                assert check.deduction == 100
                assert not next(e for e in routine.elements if e.block == check.block).recognised
        landing = [c for c in routine.checks if c.kind == "landing"]
        assert len(landing) == 1 and landing[0].clip == routine.length - 1
    assert seen >= {"landing", "handstand", "form", "legs", "bent_arms", "extra_swing", "stop", "height", "fall"}


def test_pbars_heldout_features_show_every_check_not_only_faults():
    sport = PB.PBarsSport(0, 8)
    routine, _ = pbars_routines(seed=3, count=1)[0]
    execution = sport.execution(routine)
    form = [c for c in routine.checks if c.kind == "form" and c.clip + 1 < routine.length]
    # a form break shows on its clip and, less, on the next one
    check = form[0]
    alone = PB.Routine(routine.name, routine.blocks, [check], routine.elements, 0.0, 0.0, 0,
                       routine.segment, routine.element_type)
    shown = sport.execution(alone)
    assert np.linalg.norm(shown[check.clip]) > np.linalg.norm(shown[check.clip + 1]) > 0
    assert np.count_nonzero(np.linalg.norm(shown, axis=1)) == 2
    # checks judged clean still show (sub-threshold latents): no clip with a check is blank
    clean = {c.clip for c in routine.checks if c.deduction == 0}
    assert clean and all(np.linalg.norm(execution[t]) > 0 for t in clean)
    # saturating: twice the latent shows less than twice as much along the kind's main direction
    main = sport.main[PB.FAULT_KINDS.index(check.kind), check.group]
    responses = []
    for latent in (1.0, 2.0):
        one = PB.Check(check.kind, check.clip, latent, check.group, check.block)
        shown = sport.execution(PB.Routine(routine.name, routine.blocks, [one], routine.elements, 0.0, 0.0, 0,
                                           routine.segment, routine.element_type))
        responses.append(shown[check.clip] @ main / 0.65)
    assert responses[1] != pytest.approx(2 * responses[0], rel=0.05)


def test_pbars_heldout_is_deterministic(tmp_path):
    first = write_generated("pbars_heldout", tmp_path / "a", seed=9, num_train=4, num_test=2, feature_dim=8)
    again = write_generated("pbars_heldout", tmp_path / "b", seed=9, num_train=4, num_test=2, feature_dim=8)
    other = write_generated("pbars_heldout", tmp_path / "c", seed=10, num_train=4, num_test=2, feature_dim=8)
    names = sorted(p.relative_to(first).as_posix() for p in first.rglob("*") if p.is_file())
    assert names == sorted(p.relative_to(again).as_posix() for p in again.rglob("*") if p.is_file())
    assert all((first / n).read_bytes() == (again / n).read_bytes() for n in names)
    assert (first / "train.txt").read_text() != (other / "train.txt").read_text()
    assert not np.array_equal(np.load(first / FEATURES / "Ball_001.npy"), np.load(other / FEATURES / "Ball_001.npy"))


# -- hbar_heldout ---------------------------------------------------------------------------------------
def hbar_routines(count: int = 300, seed: int = 0, clips: tuple[int, int] = (28, 36)) -> list:
    return list(hbar_heldout_module.generate(seed, count, 4, clips[0], clips[1], "Ball"))


def test_hbar_heldout_truth_sums_to_the_sheet_exactly(generated):
    root = generated["hbar_heldout"]
    for rows in rg_rows(root).values():
        for name, d, e, total, penalty, _ in rows:
            t = truth(root, name)
            assert set(t) == {"difficulty", "deduction", "contribution", "element_type", "segment"}
            assert all(v.dtype == np.float32 for v in t.values())
            assert abs(t["difficulty"].sum() - float(d)) < 1e-4, name
            assert abs(t["deduction"].sum() - (10 - float(e))) < 1e-4, name
            assert abs(t["contribution"].sum() - (float(total) + float(penalty) - 10)) < 1e-4, name
            segment = t["segment"].astype(int)
            assert set(segment) <= set(range(len(hbar_heldout_module.SEGMENTS)))
            on = np.isin(segment, hbar_heldout_module.ON_ELEMENT)
            assert ((t["element_type"] >= 0) == on).all(), name
            mount = np.flatnonzero(segment == hbar_heldout_module.MOUNT)
            assert list(mount) in ([0], [0, 1]), f"{name}: the mount opens the routine"
            assert segment[-1] in (hbar_heldout_module.LANDING, hbar_heldout_module.SALUTE), name
            assert (segment == hbar_heldout_module.LANDING).sum() == 1, "one dismount, landed once"


def test_hbar_heldout_reads_through_the_rg_loader(generated):
    root = generated["hbar_heldout"]
    cfg = load_config(None, ["data.layout=rg", "data.class_name=Ball"]).data
    rows = {row[0]: row for row in rg_rows(root)["train"]}
    samples = load_split(cfg, root, "train", DIM)
    assert len(samples) == 12 and all(s.features.shape[1] == DIM for s in samples)
    for sample in samples:
        assert sample.score == pytest.approx(float(rows[sample.name][3]) / cfg.score_divisor, abs=1e-6)
        assert len(sample.features) == len(truth(root, sample.name)["segment"])
    assert [lab.name for lab in parse_rg_labels(root / "test.txt")] == [f"Ball_{i:03d}" for i in range(13, 18)]


@pytest.mark.parametrize("clips", [(28, 28), (28, 36), (36, 36), (20, 20), None])
def test_hbar_heldout_works_at_bench_lengths_and_defaults(tmp_path, clips):
    sizes = {} if clips is None else dict(min_clips=clips[0], max_clips=clips[1])
    root = write_generated("hbar_heldout", tmp_path, seed=2, num_train=8, num_test=4, feature_dim=DIM, **sizes)
    low, high = clips or hbar_heldout_module.DEFAULT_CLIPS
    for rows in rg_rows(root).values():
        for name, d, _, _, _, seconds in rows:
            features = np.load(root / FEATURES / f"{name}.npy")
            assert features.dtype == np.float32 and low <= len(features) <= high
            assert int(seconds) == round(len(features) * 32 / 25)
            t = truth(root, name)
            assert abs(t["difficulty"].sum() - float(d)) < 1e-4 and float(d) >= 2.0


def test_hbar_heldout_scores_look_like_high_bar_scores():
    routines = hbar_routines()
    d = np.array([r.marks["difficulty"] for r in routines]) / 100
    e = np.array([r.marks["execution"] for r in routines]) / 100
    p = np.array([r.marks["penalty"] for r in routines]) / 100
    total = d + e - p
    assert 5.0 <= d.mean() <= 6.0 and np.percentile(d, 5) >= 4.0 and np.percentile(d, 95) <= 7.2
    assert 7.4 <= e.mean() <= 8.3 and np.percentile(e, 5) >= 5.8 and np.percentile(e, 95) <= 9.4
    assert 12.5 <= total.mean() <= 14.2 and np.percentile(total, 5) >= 10.5 and np.percentile(total, 95) <= 16.0
    assert 0.15 <= np.corrcoef(d, e)[0, 1] <= 0.7, "better gymnasts: harder and cleaner"
    assert 0.01 <= np.mean(p > 0) <= 0.1, "neutral deductions are rare"
    assert 0.05 <= np.mean([r.video["falls"] > 0 for r in routines]) <= 0.3
    inside = np.mean(np.concatenate([r.truth["element_type"] >= 0 for r in routines]))
    assert 0.4 <= inside <= 0.65


def hbar_element(name: str, start: int, **outcome):
    kind = [n for n, _, _ in hbar_heldout_module.CATALOGUE].index(name)
    element = hbar_heldout_module.Element(kind, **outcome)
    element.start = start
    return element


def test_hbar_heldout_only_counted_elements_earn_difficulty():
    m = hbar_heldout_module
    # five in-bar elements credited: at most 4 count; then Kovacs directly into Kolman, a missed Cassina,
    # a turn, a D dismount
    names = ["Endo to handstand", "Stalder to handstand", "Stalder with 1/1 turn", "Adler with 1/2 turn",
             "Adler with 1/1 turn", "Kovacs", "Kolman", "Cassina", "hop 1/1 turn to mixed grip",
             "double salto backward stretched with 1/1 turn"]
    elements, start = [], 1
    for name in names:
        elements.append(hbar_element(name, start, missed=name == "Cassina"))
        start += len(elements[-1].segments()) + (name != "Kovacs")
    direct = [name == "Kovacs" for name in names]
    counted = m.counted_elements(elements)
    assert [e.value for e in counted if e.group == m.INBAR] == [4, 3, 3, 2]
    left_out = [e for e in elements if e not in counted]
    assert len(left_out) == 2 and left_out[0] in elements[:2], "one B in-bar element over the group limit"
    assert elements[7] not in counted, "a missed release is not credited"
    difficulty, total = m._difficulty(elements, direct, start + 2)
    values = 4 + 3 + 3 + 2 + 4 + 5 + 2 + 4  # tenths: 4 in-bar, Kovacs, Kolman, the turn, the dismount
    assert total == values * 10 + 3 * 50 + 50 + 20, "counted values + EG I-III + the D dismount's 0.5 + CV 0.2"
    assert difficulty.sum() == pytest.approx(total / 100)
    assert difficulty[left_out[0].own_clips].sum() == 0 and difficulty[elements[7].own_clips].sum() == 0
    kovacs, kolman = elements[5], elements[6]
    assert kovacs.own_clips[-1] + 1 == kolman.own_clips[0], "directly connected"
    assert difficulty[kovacs.own_clips] == pytest.approx([0.2, 0.2 + 0.1])  # value, and half the CV on the catch
    assert difficulty[kolman.own_clips] == pytest.approx([0.25 + 0.5 / 2 + 0.1, 0.25 + 0.5 / 2])  # + EG II
    element_clips = np.zeros(start + 2, bool)
    for e in elements:
        element_clips[e.own_clips] = True
    assert (difficulty[~element_clips] == 0).all()
    assert m.connection_value(elements[5], elements[6]) == 20
    assert m.connection_value(hbar_element("Tkatchev straddled", 0), elements[5]) == 10
    assert m.connection_value(hbar_element("Tkatchev straddled", 0), hbar_element("Gienger", 0)) == 0
    assert m.connection_value(elements[4], elements[5]) == 10 and m.connection_value(elements[3], elements[5]) == 0


def test_hbar_heldout_routines_credit_only_counted_elements():
    m = hbar_heldout_module
    for r in hbar_routines(150, seed=4):
        t, segment = r.truth, r.truth["segment"].astype(int)
        assert (t["difficulty"][t["element_type"] < 0] == 0).all()
        for clip in np.flatnonzero(segment == m.FALL):  # a missed release: its release clip earns nothing
            assert segment[clip - 1] == m.RELEASE and t["difficulty"][clip - 1] == 0
            assert segment[clip + 1] == m.REMOUNT
        counted_groups = [m.GROUP[int(k)] for k in np.unique(t["element_type"][t["difficulty"] > 0])]
        assert all(counted_groups.count(g) <= m.GROUP_LIMIT for g in (m.TURN, m.FLIGHT, m.INBAR))
        assert r.marks["difficulty"] % 10 == 0


def test_hbar_heldout_deductions_lie_on_their_faults_clips():
    m = hbar_heldout_module
    seen = set()
    for r in hbar_routines(150, seed=5):
        deduction, segment = r.truth["deduction"], r.truth["segment"].astype(int)
        assert (deduction[np.isin(segment, (m.MOUNT, m.ADJUST, m.REMOUNT, m.SALUTE))] == 0).all()
        assert (deduction[segment == m.FALL] >= 1.0 - 1e-6).all()
        assert (np.abs(deduction[segment == m.EMPTY] - 0.5) < 1e-6).all()
        assert (deduction[segment == m.GIANT] <= 0.5 + 1e-6).all()
        hundredths_ = np.round(deduction * 100).astype(int)
        assert (hundredths_ % 5 == 0).all() and np.allclose(deduction * 100, hundredths_, atol=1e-3)
        seen |= set(segment[deduction > 0])
    assert {m.FALL, m.EMPTY, m.GIANT, m.RELEASE, m.CATCH, m.INBAR_CLIP, m.TURN_CLIP, m.LANDING,
            m.FLIGHT_CLIP} <= seen


def test_hbar_heldout_landing_fall_and_missed_release_are_judged_on_their_clip():
    m = hbar_heldout_module
    rng = np.random.default_rng(0)
    dismount = hbar_element("double salto backward stretched", 4, faults=[(1, "fall", 100), (0, "form", 1)])
    missed = hbar_element("Kovacs", 1, missed=True, faults=[(1, "fall", 100)])
    segment = np.array([m.MOUNT, *missed.segments(), *dismount.segments()])
    clips, channels, points, deduction = m._judge([missed, dismount], segment, 10.0, rng)
    assert deduction[2] == 100 and segment[2] == m.FALL and deduction[5] == 100 and segment[5] == m.LANDING
    assert deduction[4] in (5, 10, 20) and deduction[[0, 1, 3]].sum() == 0
    assert sorted(channels) == ["fall", "fall", "form"] and sorted(points) == pytest.approx([0.1, 1.0, 1.0])


def test_hbar_heldout_is_deterministic(tmp_path):
    a = write_generated("hbar_heldout", tmp_path / "a", seed=7, num_train=4, num_test=2, feature_dim=DIM)
    b = write_generated("hbar_heldout", tmp_path / "b", seed=7, num_train=4, num_test=2, feature_dim=DIM)
    c = write_generated("hbar_heldout", tmp_path / "c", seed=8, num_train=4, num_test=2, feature_dim=DIM)
    files = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file())
    assert all(filecmp.cmp(a / f, b / f, shallow=False) for f in files)
    assert not filecmp.cmp(a / "train.txt", c / "train.txt", shallow=False)
