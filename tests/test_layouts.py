"""Loaders of the public layouts (RG, Fis-V, LOGO) and the generic CSV layout, on fixture files built
here byte for byte like the releases, on malformed fixtures, and on the real label files when shared."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest

from longaqa.cli import main
from longaqa.config import DataConfig
from longaqa.data import load_labels, load_train_test
from longaqa.data.fisv import parse_fisv_labels
from longaqa.data.rg import parse_rg_labels
from longaqa.errors import LongAQAError

try:  # tests/ as a package or as rootdir-inserted modules: both work
    from .release_layouts import FEATURES, RG_HEADER, write_fisv, write_logo, write_rg
except ImportError:
    from release_layouts import FEATURES, RG_HEADER, write_fisv, write_logo, write_rg

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
"""The workplace's shared folder (real public label files in SHARED/data); may be absent."""
RG_LABELS = SHARED / "data" / "rg_labels"
FISV_LABELS = SHARED / "data" / "fisv_labels"
TINY_1024 = [
    "model.d_model=16", "model.num_heads=2", "model.dim_feedforward=32", "model.num_queries=8",
    "model.head_hidden=[16,8]", "train.epochs=1", "train.progress=false", "train.tensorboard=false",
]
"""``--set`` for a tiny model on 1024-d features: the shipped configs stay as they are otherwise."""


# --- RG ---------------------------------------------------------------------------------------------

def test_rg_fixture_bytes_and_parse(tmp_path):
    root = write_rg(tmp_path / "rg", {"Ball": (3, 2), "Hoop": (2, 1)})
    raw = (root / "train.txt").read_bytes()
    header = b"Video_Name\tDifficulty_Score    Execution_Score Total_Score\tPenalty\tVideo_length\n"
    assert raw.startswith(header)
    assert raw.count(b"\n") == 6 and b"\tBall" not in raw and b"Ball_001\t" in raw
    labels = parse_rg_labels(root / "train.txt")
    assert [lab.class_name for lab in labels] == ["Ball"] * 3 + ["Hoop"] * 2
    first = raw.split(b"\n")[1].split(b"\t")
    assert labels[0].total == pytest.approx(float(first[3]))  # column 4 is the total

    cfg = DataConfig(layout="rg", root="rg", class_name="hoop", score_divisor=25.0)
    train, test = load_train_test(cfg, tmp_path, input_dim=32)  # --data-root DIR, data.root=rg
    assert [s.name for s in train] == ["Hoop_006", "Hoop_007"] and [s.name for s in test] == ["Hoop_008"]
    assert train[0].score == pytest.approx(labels[3].total / 25.0)
    assert train[0].features.shape[1] == 32


def test_rg_targets_and_unknown_class(tmp_path):
    root = write_rg(tmp_path, {"Ball": (2, 1)})
    d = load_labels(DataConfig(layout="rg", target="difficulty"), root, "train")
    assert d[0][1] == parse_rg_labels(root / "train.txt")[0].difficulty
    with pytest.raises(LongAQAError, match=r"train.txt: no videos of class 'Clubs'.*classes present: Ball"):
        load_labels(DataConfig(layout="rg", class_name="Clubs"), root, "train")


@pytest.mark.parametrize("name", ["../Ball_900", "Ball/Ball_900", "Ball_9\\00", ".."])
def test_rg_class_name_refuses_names_with_path_separators(tmp_path, name):
    """With data.class_name set, such a row was dropped silently (its class never matched)."""
    root = write_rg(tmp_path, {"Ball": (3, 1)})
    with (root / "train.txt").open("a", encoding="utf-8") as fh:
        fh.write(f"{name}\t7.0\t6.0\t13.0\t0.0\t90\n")
    with pytest.raises(LongAQAError) as err:
        load_labels(DataConfig(layout="rg", class_name="Ball"), root, "train")
    message = str(err.value)
    assert message.startswith(f"{root / 'train.txt'}: malformed label rows: line 5: video name {name!r}")
    assert "path separator" in message and "data.class_name='Ball'" in message
    assert len(load_labels(DataConfig(layout="rg", class_name="Ball"), root, "test")) == 1  # clean split


def test_rg_class_name_path_separator_through_train_cli(tmp_path, capsys):
    root = write_rg(tmp_path / "rg", {"Ball": (3, 1)})
    with (root / "train.txt").open("a", encoding="utf-8") as fh:
        fh.write("../../etc/Ball_900\t7.0\t6.0\t13.0\t0.0\t90\n")
    args = [a for item in [*TINY_1024, "model.input_dim=32", "data.class_name=Ball"] for a in ("--set", item)]
    code = main(["train", "--data-root", str(root), *args, "--quiet", "--out", str(tmp_path / "run")])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    assert f"{root / 'train.txt'}: line 5: video name '../../etc/Ball_900' is not a file name" in err
    assert not (tmp_path / "run" / "weights.safetensors").exists()


def test_rg_missing_label_file_says_where(tmp_path):
    root = write_rg(tmp_path / "rg", {"Ball": (2, 1)})
    (root / "test.txt").unlink()
    with pytest.raises(LongAQAError, match=r"rg/test.txt: RG label file not found \(the RG release has"):
        load_train_test(DataConfig(layout="rg", root="rg"), tmp_path, 32)


@pytest.mark.skipif(not (RG_LABELS / "train.txt").is_file(),
                    reason=f"real RG labels not shared at {RG_LABELS}")
def test_real_rg_label_files():
    train, test = parse_rg_labels(RG_LABELS / "train.txt"), parse_rg_labels(RG_LABELS / "test.txt")
    assert len(train) + len(test) == 1000
    for labels, per_class in ((train, 200), (test, 50)):
        counts = {c: sum(lab.class_name == c for lab in labels) for c in ("Ball", "Clubs", "Hoop", "Ribbon")}
        assert counts == dict.fromkeys(counts, per_class)
    assert not {lab.name for lab in train} & {lab.name for lab in test}
    assert all(abs(lab.difficulty + lab.execution - lab.penalty - lab.total) < 0.011 for lab in train + test)


@pytest.mark.skipif(not (FISV_LABELS / "train_dataset.txt").is_file(),
                    reason=f"real Fis-V labels not shared at {FISV_LABELS}")
def test_real_fisv_label_files():
    train = parse_fisv_labels(FISV_LABELS / "train_dataset.txt")
    test = parse_fisv_labels(FISV_LABELS / "test_dataset.txt")
    assert (len(train), len(test)) == (400, 100)
    assert not {r[0] for r in train} & {r[0] for r in test}
    assert all(0 < tes < 150 and 0 < pcs < 100 for _, tes, pcs, _ in train + test)


# --- Fis-V ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("published", [True, False])
def test_fisv_fixture(tmp_path, published):
    root = write_fisv(tmp_path / "fisv", 4, 2, published_names=published)
    label_file = root / ("train_dataset.txt" if published else "train.txt")
    first = label_file.read_text().splitlines()[0].split(" ")
    assert len(first) == 4
    for target, column in (("TES", 1), ("PCS", 2)):
        cfg = DataConfig(layout="fisv", root="fisv", target=target, score_divisor=43.0)
        train, test = load_train_test(cfg, tmp_path, 32)
        assert (len(train), len(test)) == (4, 2)
        assert train[0].name == first[0] and train[0].score == pytest.approx(float(first[column]) / 43.0)


def test_fisv_missing_label_file_says_where(tmp_path):
    (tmp_path / FEATURES).mkdir()
    with pytest.raises(LongAQAError, match=r"expected train.txt or train_dataset.txt"):
        load_labels(DataConfig(layout="fisv", target="TES"), tmp_path, "train")


# --- LOGO -------------------------------------------------------------------------------------------

def test_logo_fixture(tmp_path):
    root = write_logo(tmp_path / "logo", 5, 3)
    anno = pickle.loads((root / "anno_dict.pkl").read_bytes())
    for features_dir in ("vst_features", "i3d_features"):
        cfg = DataConfig(layout="logo", root="logo", features_dir=features_dir, score_divisor=100.0)
        train, test = load_train_test(cfg, tmp_path, 32)
        assert (len(train), len(test)) == (5, 3)
        assert train[0].name == "WorldChampionship2019_free_final_1"
        assert train[0].features.shape == (48, 32)
        assert train[0].score == pytest.approx(anno[("WorldChampionship2019_free_final", 1)][1] / 100)


class Payload:
    """Not plain data: a LOGO pickle naming it must be refused, not imported."""

    def __reduce__(self):
        return (print, ("this must never run",))


@pytest.mark.parametrize("target", ["anno_dict.pkl", "test_split3.pkl"])
def test_logo_pickle_with_an_object_is_refused(tmp_path, target, capsys):
    root = write_logo(tmp_path, 3, 2)
    obj = {("E", 1): ["free", Payload()]} if target == "anno_dict.pkl" else [("E", 1), Payload()]
    (root / target).write_bytes(pickle.dumps(obj))
    with pytest.raises(LongAQAError, match=rf"{target}: refused to load pickled builtins.print"):
        load_labels(DataConfig(layout="logo", features_dir="vst_features"), root, "test")
    assert "must never run" not in capsys.readouterr().out


def test_logo_malformed(tmp_path):
    root = write_logo(tmp_path, 3, 2)
    cfg = DataConfig(layout="logo", features_dir="vst_features")
    (root / "test_split3.pkl").write_bytes(pickle.dumps([("Olympics2016_tech_prelim", 99), "oops"]))
    with pytest.raises(LongAQAError) as err:
        load_labels(cfg, root, "test")
    assert "no annotation for ('Olympics2016_tech_prelim', 99)" in str(err.value)
    assert "entry 1 is 'oops'" in str(err.value)
    anno = pickle.loads((root / "anno_dict.pkl").read_bytes())
    anno[("WorldChampionship2019_free_final", 1)][1] = "n/a"
    (root / "anno_dict.pkl").write_bytes(pickle.dumps(anno))
    with pytest.raises(LongAQAError, match="no numeric score at item 1"):
        load_labels(cfg, root, "train")
    (root / "train_split3.pkl").unlink()
    with pytest.raises(LongAQAError, match=r"train_split3.pkl: LOGO train split not found \(expected"):
        load_labels(cfg, root, "train")


# --- generic ----------------------------------------------------------------------------------------

def _generic(root: Path, names: list[str], text: str, file: str = "labels.csv") -> Path:
    (root / "features").mkdir(parents=True, exist_ok=True)
    for name in names:
        np.save(root / "features" / f"{name}.npy", np.ones((5, 8), np.float32))
    (root / file).write_text(text)
    return root


def test_generic_with_split_column(tmp_path):
    text = "Name,Score,Split,judge\na,1.5,train,x\nb,2,train,y\nc,3,TEST,z\n"
    root = _generic(tmp_path, ["a", "b", "c"], text)
    cfg = DataConfig(layout="generic", features_dir="features")
    train, test = load_train_test(cfg, root, 8)
    assert [(s.name, s.score) for s in train] == [("a", 1.5), ("b", 2.0)] and test[0].name == "c"


def test_generic_split_files(tmp_path):
    root = _generic(tmp_path, ["a", "b"], "name,score\na,1\n", "train.csv")
    (root / "test.csv").write_text("name,score\nb,2\n")
    train, test = load_train_test(DataConfig(layout="generic", features_dir="features"), root, 8)
    assert (train[0].name, test[0].score) == ("a", 2.0)


def test_generic_errors(tmp_path):
    cfg = DataConfig(layout="generic", features_dir="features")
    with pytest.raises(LongAQAError, match=r"expected labels.csv with columns name,score,split, or train"):
        load_labels(cfg, tmp_path, "train")
    _generic(tmp_path, [], "name,score\na,1\n")
    with pytest.raises(LongAQAError, match="no 'split' column"):
        load_labels(cfg, tmp_path, "train")
    (tmp_path / "labels.csv").write_text("name,score,split\na,1,train\nb,x,train\nc,2,val\nd,3\n")
    with pytest.raises(LongAQAError) as err:
        load_labels(cfg, tmp_path, "train")
    msg = str(err.value)
    assert "labels.csv" in msg and "line 3: non-numeric score 'x'" in msg
    assert "line 4: split must be train or test" in msg and "line 5: expected 3 fields, got 2" in msg


# --- malformed fixtures common to the layouts ------------------------------------------------------

def test_missing_feature_file_names_the_path(tmp_path):
    root = write_rg(tmp_path, {"Ball": (3, 1)})
    (root / FEATURES / "Ball_002.npy").unlink()
    with pytest.raises(LongAQAError, match=rf"{FEATURES}/Ball_002.npy: feature file not found"):
        load_train_test(DataConfig(layout="rg"), root, 32)


@pytest.mark.parametrize(
    "row, message",
    [
        ("Ball_009\t1.0\t2.0\t3.0\t0.0", "line 3: expected 6 fields"),
        ("Ball_009\t1.0\tabc\t3.0\t0.0\t90", "line 3: non-numeric score"),
    ],
)
def test_rg_malformed_rows(tmp_path, row, message):
    path = tmp_path / "train.txt"
    path.write_text(f"{RG_HEADER}\nBall_001\t1\t2\t3\t0\t90\n{row}\n")
    with pytest.raises(LongAQAError, match=rf"train.txt: malformed label rows: {message}"):
        parse_rg_labels(path)


def test_fisv_short_row_and_non_numeric(tmp_path):
    path = tmp_path / "train_dataset.txt"
    path.write_text("1 30.1 28.2 0\n2 31.0 27\n3 x 20 0\n")
    with pytest.raises(LongAQAError) as err:
        parse_fisv_labels(path)
    assert "line 2: expected 4 fields" in str(err.value) and "line 3: non-numeric score" in str(err.value)


def test_duplicated_name_and_name_in_both_splits(tmp_path):
    root = write_rg(tmp_path, {"Ball": (3, 2)})
    lines = (root / "train.txt").read_text().splitlines()
    (root / "train.txt").write_text("\n".join([*lines, lines[1]]) + "\n")
    with pytest.raises(LongAQAError, match="split 'train' names a video more than once: Ball_001"):
        load_train_test(DataConfig(layout="rg"), root, 32)
    test_lines = (root / "test.txt").read_text().splitlines()
    (root / "train.txt").write_text("\n".join([*lines, test_lines[1]]) + "\n")
    with pytest.raises(LongAQAError, match="videos in both train and test: Ball_004"):
        load_train_test(DataConfig(layout="rg"), root, 32)


# --- the shipped configs run unchanged on release-shaped folders -----------------------------------

def _real_or_generated_rg(root: Path) -> Path:
    """``root/rg``: the real label files when shared (features generated for Ball), else generated."""
    if not (RG_LABELS / "train.txt").is_file():
        return write_rg(root / "rg", {"Ball": (20, 8)}, dim=1024, clips=(4, 8))
    rg = root / "rg"
    (rg / FEATURES).mkdir(parents=True)
    rng = np.random.default_rng(0)
    for split in ("train", "test"):
        text = (RG_LABELS / f"{split}.txt").read_bytes()
        (rg / f"{split}.txt").write_bytes(text)  # a copy in the test's temporary folder only
        for lab in parse_rg_labels(rg / f"{split}.txt"):
            if lab.class_name == "Ball":
                x = rng.normal(0, 1, (int(rng.integers(4, 8)), 1024)) + lab.total / 20
                np.save(rg / FEATURES / f"{lab.name}.npy", x.astype(np.float32))
    return rg


def _real_or_generated_fisv(root: Path) -> Path:
    if not (FISV_LABELS / "train_dataset.txt").is_file():
        return write_fisv(root / "fisv", 20, 8, dim=1024, clips=(4, 8))
    fisv = root / "fisv"
    (fisv / FEATURES).mkdir(parents=True)
    rng = np.random.default_rng(1)
    for split in ("train", "test"):
        (fisv / f"{split}_dataset.txt").write_bytes((FISV_LABELS / f"{split}_dataset.txt").read_bytes())
        for vid, tes, _, _ in parse_fisv_labels(fisv / f"{split}_dataset.txt"):
            x = rng.normal(0, 1, (int(rng.integers(4, 8)), 1024)) + tes / 40
            np.save(fisv / FEATURES / f"{vid}.npy", x.astype(np.float32))
    return fisv


@pytest.mark.parametrize(
    "config, make",
    [
        ("configs/rg/ball.yaml", _real_or_generated_rg),
        ("configs/fisv/pcs.yaml", _real_or_generated_fisv),
        ("configs/logo.yaml", lambda root: write_logo(root / "logo", 12, 6, dim=1024)),
        ("configs/logo_i3d.yaml", lambda root: write_logo(root / "logo", 12, 6, dim=1024)),
        ("configs/authors_variant/rg_ball.yaml", _real_or_generated_rg),
    ],
)
def test_shipped_config_trains_on_release_layout(tmp_path, config, make, capsys):
    data = tmp_path / "data"
    make(data)
    out = tmp_path / "run"
    code = main(["train", "--config", str(REPO / config), "--data-root", str(data), "--out", str(out),
                 *[a for s in TINY_1024 for a in ("--set", s)]])
    assert code == 0, capsys.readouterr().err
    metrics = (out / "metrics.json").read_text()
    assert '"srcc"' in metrics and (out / "predictions.csv").is_file()


def test_missing_dataset_folder_says_what_was_expected(tmp_path, capsys):
    code = main(["train", "--config", str(REPO / "configs/logo.yaml"), "--data-root", str(tmp_path),
                 "--out", str(tmp_path / "run")])
    assert code == 2
    err = capsys.readouterr().err
    assert "logo: dataset folder not found" in err and "vst_features/" in err
