"""``tumbling_heldout``: FIG-like power tumbling in the RG layout (held out from model design).

Files and score sheets (Total = D + E - Penalty, truth summing to the columns), where deductions and
difficulty sit, the segment codes and the pass structure, the tariffs, and refused sizes."""

from __future__ import annotations

import filecmp

import numpy as np
import pytest

from longaqa.data.generators import GENERATORS, write_generated
from longaqa.data.generators import tumbling_heldout as tumbling
from longaqa.data.rg import parse_rg_labels
from longaqa.data.synthetic import RG_HEADER
from longaqa.errors import LongAQAError

KIND = "tumbling_heldout"
SEG = tumbling.SEGMENTS
JUDGED = {SEG["element"], SEG["landing"], SEG["fall"]}


def write(root, seed: int = 3, **sizes):
    sizes = {"num_train": 10, "num_test": 4, "feature_dim": 32, **sizes}
    return write_generated(KIND, root, seed=seed, **sizes)


def rows(root) -> list[list[str]]:
    cells = []
    for split in ("train", "test"):
        lines = (root / f"{split}.txt").read_text(encoding="utf-8").splitlines()
        assert lines[0] == RG_HEADER
        cells += [line.split("\t") for line in lines[1:]]
    return cells


def truth(root, name: str) -> dict[str, np.ndarray]:
    with np.load(root / "truth" / f"{name}.npz", allow_pickle=False) as npz:
        return {key: npz[key] for key in npz.files}


def hundredths(text: str) -> int:
    return int(round(float(text) * 100))


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    return write(tmp_path_factory.mktemp("tumbling"))


@pytest.fixture(scope="module")
def videos():
    """300 videos of seed 0 at the default lengths, with their video-level latents."""
    return list(tumbling.generate(0, 300, 16, *tumbling.DEFAULT_CLIPS, "Ball"))


def test_registered_as_a_held_out_rg_kind():
    info = GENERATORS[KIND]
    assert (info.layout, info.held_out, info.default_clips) == ("rg", True, (28, 36))
    assert info.writer is tumbling.write_tumbling_heldout


def test_same_seed_same_files_and_another_seed_differs(dataset, tmp_path):
    again = write(tmp_path / "again")
    for folder in (".", "swintx_avg_fps25_clip32", "truth"):
        names = sorted(p.name for p in (dataset / folder).iterdir() if p.is_file())
        assert names == sorted(p.name for p in (again / folder).iterdir() if p.is_file())
        match, mismatch, errors = filecmp.cmpfiles(dataset / folder, again / folder, names, shallow=False)
        assert not mismatch and not errors and len(match) == len(names)
    other = write(tmp_path / "other", seed=4)
    assert (other / "train.txt").read_text() != (dataset / "train.txt").read_text()


def test_label_rows_add_up_and_parse(dataset):
    cells = rows(dataset)
    assert len(cells) == 14
    for name, d, e, total, penalty, seconds in cells:
        assert hundredths(total) == hundredths(d) + hundredths(e) - hundredths(penalty), name
        assert hundredths(d) % 10 == 0 and hundredths(e) % 5 == 0 and hundredths(penalty) % 5 == 0
        assert 0 <= hundredths(e) <= 1000 and hundredths(penalty) >= 0 and hundredths(d) > 0
        length = len(np.load(dataset / "swintx_avg_fps25_clip32" / f"{name}.npy"))
        assert 28 <= length <= 36 and int(seconds) == round(length * 32 / 25)
    labels = parse_rg_labels(dataset / "train.txt")
    assert [lab.name for lab in labels] == [f"Ball_{i:03d}" for i in range(1, 11)]


def test_truth_sums_to_the_label_columns(dataset):
    for name, d, e, total, penalty, _ in rows(dataset):
        t = truth(dataset, name)
        assert set(t) == {"difficulty", "deduction", "contribution", "element_type", "segment"}
        assert abs(t["difficulty"].sum() - float(d)) <= 0.006, name
        assert abs(t["deduction"].sum() - (10 - float(e))) <= 0.006, name
        assert abs(t["contribution"].sum() - (float(total) + float(penalty) - 10)) <= 0.006, name
        np.testing.assert_allclose(t["contribution"], t["difficulty"] - t["deduction"], atol=1e-6)


def test_deductions_and_difficulty_sit_where_they_happen(dataset):
    for name, *_ in rows(dataset):
        t = truth(dataset, name)
        segment, element_type = t["segment"].astype(int), t["element_type"].astype(int)
        assert set(segment) <= set(SEG.values())
        assert ((element_type >= 0) == (segment == SEG["element"])).all(), "element types exactly on elements"
        assert (t["deduction"] >= 0).all() and (t["difficulty"] >= 0).all()
        assert (t["deduction"][~np.isin(segment, list(JUDGED))] == 0).all(), "deductions on judged clips only"
        assert (t["difficulty"][segment != SEG["element"]] == 0).all(), "run-ups and walks earn nothing"
        assert np.allclose(np.round(t["deduction"] * 20), t["deduction"] * 20, atol=1e-4), "multiples of 0.05"
        assert (t["deduction"][segment == SEG["fall"]] >= 1.0 - 1e-6).all() or float(t["deduction"].sum()) >= 9.99


def test_passes_follow_run_up_elements_ending(videos):
    """Each pass: a run-up, 1-8 elements opening with the round-off (element type 0), then one landing
    or fall clip; two passes at the default lengths; a fall ends the pass (walk follows)."""
    for video in videos:
        segment = video.truth["segment"].astype(int)
        element_type = video.truth["element_type"].astype(int)
        starts = np.flatnonzero((segment == SEG["run_up"]) & (np.r_[-1, segment[:-1]] != SEG["run_up"]))
        endings = np.flatnonzero(np.isin(segment, [SEG["landing"], SEG["fall"]]))
        assert len(starts) == len(endings) == video.video["passes"] == 2
        for start, end in zip(starts, endings):
            run = segment[start:end]
            first_element = start + int(np.argmax(run == SEG["element"]))
            assert (segment[start:first_element] == SEG["run_up"]).all()
            assert (segment[first_element:end] == SEG["element"]).all() and element_type[first_element] == 0
            assert 1 <= end - first_element <= 3 * tumbling.ELEMENTS_PER_PASS
            assert end + 1 == len(segment) or segment[end + 1] in (SEG["walk"], SEG["run_up"])
        assert video.video["falls"] == (segment == SEG["fall"]).sum()


def test_element_clips_are_the_largest_share(videos):
    segment = np.concatenate([v.truth["segment"] for v in videos])
    share = np.mean(segment == SEG["element"])
    assert 0.45 <= share <= 0.7
    assert np.mean(segment == SEG["run_up"]) > 0.08 and np.mean(segment == SEG["walk"]) > 0.08


def test_scores_spread_and_correlate_like_athletes(videos):
    d = np.array([v.marks["difficulty"] for v in videos]) / 100
    e = np.array([v.marks["execution"] for v in videos]) / 100
    p = np.array([v.marks["penalty"] for v in videos]) / 100
    skill = np.array([v.video["skill"] for v in videos])
    assert 5 <= d.mean() <= 12 and d.std() > 2
    assert 6 <= e.mean() <= 9 and e.std() > 0.8
    assert 0.3 <= np.corrcoef(d, e)[0, 1] <= 0.75
    assert np.corrcoef(skill, d)[0, 1] > 0.5 and np.corrcoef(skill, e)[0, 1] > 0.4
    assert 0.03 <= np.mean(p > 0) <= 0.35 and (d + e - p).max() < GENERATORS[KIND].score_divisor
    falls = np.array([v.video["falls"] for v in videos])
    assert 0.03 <= np.mean(falls > 0) <= 0.35


def test_incomplete_passes_cost_the_missing_elements_on_the_ending_clip(videos):
    ended_early = [v for v in videos if v.video["missing"] > 0 and v.marks["execution"] > 0]
    assert ended_early
    for video in ended_early:
        segment = video.truth["segment"].astype(int)
        endings = video.truth["deduction"][np.isin(segment, [SEG["landing"], SEG["fall"]])]
        falls = video.video["falls"]
        assert endings.sum() >= video.video["missing"] * 0.5 + falls * 1.0 - 1e-6


def test_tariffs_follow_the_code():
    assert tumbling.tariff(1, 0, 0) == 50 and tumbling.tariff(1, 2, 2) == 80
    assert tumbling.tariff(2, 0, 0) == 200 and tumbling.tariff(2, 2, 2) == 280
    assert tumbling.tariff(3, 0, 0) == 450 and tumbling.tariff(3, 1, 2) == 560
    sport = tumbling.TumblingSport(5, 8)
    assert [t.name for t in sport.types[:3]] == ["round-off", "flic-flac", "whip"]
    assert len({t.value for t in sport.types if t.somersaults == 2}) >= 3
    assert all(t.value % 10 == 0 for t in sport.types)


def test_position_faults_point_differently_per_element_type():
    directions = tumbling.TumblingSport(0, 8).position_directions
    cosines = directions @ directions.T
    assert np.allclose(np.diag(cosines), 1.0)
    assert np.abs(cosines[np.triu_indices(len(directions), 1)]).mean() < 0.7


def test_split_deduction_is_exact_and_located():
    parts = tumbling.split_deduction(35, np.array([2, 0, 1]), 3)
    assert parts.sum() == 35 and (parts % 5 == 0).all() and parts[0] == 0
    assert tumbling.split_deduction(10, np.array([0, 0, 0]), 2).tolist() == [0, 10]
    spread = tumbling.split_deduction(30, np.array([0, 2, 0]), 3)
    assert spread.tolist() == [10, 10, 10]


@pytest.mark.parametrize("clips", [(21, 21), (28, 36), (48, 48), (100, 120)])
def test_honours_any_allowed_length(clips):
    for video in tumbling.generate(1, 6, 8, *clips, "Ball"):
        assert clips[0] <= len(video.features) <= clips[1]
        assert video.video["passes"] == tumbling.passes_for(len(video.features))
        assert abs(video.truth["deduction"].sum() - (10 - video.marks["execution"] / 100)) < 1e-6


@pytest.mark.parametrize("kwargs, message", [
    (dict(min_clips=20, max_clips=36), "min_clips must be at least 21 for tumbling_heldout"),
    (dict(min_clips=30, max_clips=29), r"max_clips \(29\) is below min_clips \(30\)"),
    (dict(feature_dim=0), "feature_dim must be at least 1"),
    (dict(class_name="a/b"), "class_name"),
])
def test_refuses_sizes_it_cannot_honour(tmp_path, kwargs, message):
    with pytest.raises(LongAQAError, match=message):
        write_generated(KIND, tmp_path, **kwargs)
    assert not any(tmp_path.iterdir())
