"""``surfing_heldout`` (held out from model design): WSL-like heats, the total the best two waves, each
wave the middle three of five judges' marks; per-clip truth that adds up to the label and names the waves."""

from __future__ import annotations

import filecmp

import numpy as np
import pytest

from longaqa.data.generators import GENERATORS, write_generated
from longaqa.data.generators import surfing_heldout as surfing
from longaqa.errors import LongAQAError

DIM = 16
SEGMENTS = surfing.SEGMENTS
OFF_SEGMENTS = {SEGMENTS["paddle"], SEGMENTS["wait"]}
MANOEUVRE_SEGMENTS = {SEGMENTS["manoeuvre"], SEGMENTS["tube"], SEGMENTS["aerial"]}


@pytest.fixture(scope="module")
def heats() -> list:
    return list(surfing.generate(seed=4, count=200, feature_dim=DIM, min_clips=28, max_clips=36))


def wave_scores(video, key: str = "score") -> list[int]:
    """The heat's wave scores (or counted scores) in hundredths, in wave order."""
    return [round(100 * video.video[f"wave_{w}_{key}"]) for w in range(int(video.video["waves"]))]


def truth(root, name: str) -> dict[str, np.ndarray]:
    with np.load(root / "truth" / f"{name}.npz", allow_pickle=False) as npz:
        return {key: npz[key] for key in npz.files}


def test_registered_as_a_held_out_generic_kind_scored_out_of_twenty():
    info = GENERATORS["surfing_heldout"]
    assert (info.layout, info.held_out, info.default_clips, info.score_divisor) == ("generic", True, (28, 36), 20.0)


def test_panel_score_is_the_mean_of_the_middle_three_marks():
    assert surfing.panel_score(np.array([75, 80, 70, 90, 60])) == 750  # 7.0, 7.5, 8.0 -> 7.50
    assert surfing.panel_score(np.array([81, 82, 80, 10, 100])) == 810  # 8.0, 8.1, 8.2 -> 8.10
    assert surfing.panel_score(np.array([83, 82, 80, 80, 99])) == 817  # 8.0, 8.2, 8.3 -> 8.1666 -> 8.17
    assert surfing.panel_score(np.array([0, 0, 1, 5, 5])) == 20  # 0.0, 0.1, 0.5 -> 0.20
    assert surfing.panel_score(np.array([100, 100, 100, 100, 0])) == 1000


def test_the_total_is_the_best_two_waves_and_interference_halves_the_second():
    assert surfing.counted_scores([450, 817, 120, 633], interference=False) == [0, 817, 0, 633]
    assert surfing.counted_scores([450, 817, 120, 633], interference=True) == [0, 817, 0, 316]
    assert surfing.counted_scores([500, 700, 500], interference=False) == [500, 700, 0]  # tie: the earlier wave
    assert surfing.counted_scores([900, 900, 300], interference=True) == [900, 450, 0]
    with pytest.raises(ValueError):
        surfing.counted_scores([900], interference=False)


def test_generated_waves_are_judged_and_counted_by_the_rules(heats):
    interfered = 0
    for video in heats:
        n = int(video.video["waves"])
        assert surfing.FEWEST_WAVES <= n <= surfing.MOST_WAVES
        for w in range(n):
            marks = np.array([video.video[f"wave_{w}_judge_{j}"] for j in range(surfing.JUDGES)])
            assert ((marks >= 0) & (marks <= 10)).all() and np.allclose(marks * 10, np.round(marks * 10))
            assert video.video[f"wave_{w}_score"] == pytest.approx(round(np.sort(marks)[1:-1].mean(), 2), abs=1e-9)
        scores, counted = wave_scores(video), wave_scores(video, "counted")
        interference = bool(video.video["interference"])
        interfered += interference
        assert counted == surfing.counted_scores(scores, interference)
        best, second = sorted(scores, reverse=True)[:2]
        assert video.marks["total"] == best + (second // 2 if interference else second)
        assert sum(c > 0 for c in counted) <= 2 and 0 <= video.marks["total"] <= 2000
    assert 0 < interfered < len(heats) / 5


def test_contributions_sum_to_the_total_and_sit_on_the_counted_waves_only(heats):
    for video in heats:
        t = video.truth
        contribution, element = t["contribution"], t["element"]
        assert abs(contribution.sum() - video.marks["total"] / 100) <= 1e-6
        assert (contribution >= 0).all()
        assert (contribution[element < 0] == 0).all(), "no contribution off the waves"
        for w, counted in enumerate(wave_scores(video, "counted")):
            on_wave = contribution[element == w]
            assert on_wave.sum() == pytest.approx(counted / 100, abs=1e-9)
            if counted == 0:
                assert (on_wave == 0).all(), "an uncounted wave contributes nothing"
        fall_clips = t["segment"] == SEGMENTS["fall"]
        assert (contribution[fall_clips] == 0).all(), "a fall earns nothing"


def test_element_ids_segments_and_types_agree(heats):
    for video in heats:
        t = {k: v.astype(int) for k, v in video.truth.items() if k != "contribution"}
        segment, element, element_type = t["segment"], t["element"], t["element_type"]
        off = element < 0
        assert set(segment[off]) <= OFF_SEGMENTS and (element_type[off] == -1).all()
        assert set(segment[~off]).isdisjoint(OFF_SEGMENTS) and (element_type[~off] >= 0).all()
        assert segment[0] == SEGMENTS["paddle"], "the heat opens with the paddle out"
        assert segment[-1] in OFF_SEGMENTS, "the heat ends off the waves"
        ids = [int(w) for w, _ in _runs(element) if w >= 0]
        assert ids == list(range(int(video.video["waves"]))), "each wave is one run of clips, in order"
        for w in ids:
            seg = segment[element == w]
            types = element_type[element == w]
            assert 2 <= len(seg) <= 5
            assert seg[0] == SEGMENTS["take-off"] and types[0] == surfing.TAKE_OFF
            assert seg[-1] in (SEGMENTS["finish"], SEGMENTS["fall"])
            assert types[-1] == (surfing.FINISH if seg[-1] == SEGMENTS["finish"] else surfing.FALL)
            assert set(seg[1:-1]) <= MANOEUVRE_SEGMENTS
            assert all(0 < k < surfing.FINISH for k in types[1:-1])


def _runs(values: np.ndarray) -> list[tuple[int, int]]:
    """``(value, length)`` of each run of equal values."""
    runs: list[tuple[int, int]] = []
    for v in values:
        if runs and runs[-1][0] == v:
            runs[-1] = (v, runs[-1][1] + 1)
        else:
            runs.append((v, 1))
    return runs


def test_only_about_a_quarter_of_the_clips_are_on_counted_waves(heats):
    on_waves = np.mean([(v.truth["element"] >= 0).mean() for v in heats])
    counted = np.mean([(v.truth["contribution"] > 0).mean() for v in heats])
    assert 0.35 < on_waves < 0.7 and 0.1 < counted < 0.4 and counted < on_waves


def test_totals_look_like_heat_totals_and_follow_skill(heats):
    totals = np.array([v.marks["total"] / 100 for v in heats])
    skill = np.array([v.video["skill"] for v in heats])
    assert 6 < totals.mean() < 14 and 2.5 < totals.std() < 6
    assert np.corrcoef(skill, totals)[0, 1] > 0.5


def test_conditions_show_on_every_clip_of_a_heat(heats):
    """The heat's wave size shows in the features of paddling and waiting clips too."""
    size = np.array([v.video["wave_size_ft"] for v in heats])
    off_means = np.stack([v.features[v.truth["element"] < 0].mean(axis=0) for v in heats])
    fit, *_ = np.linalg.lstsq(np.c_[off_means, np.ones(len(heats))], np.log(size), rcond=None)
    predicted = np.c_[off_means, np.ones(len(heats))] @ fit
    assert np.corrcoef(predicted, np.log(size))[0, 1] > 0.8


@pytest.mark.parametrize("clips", [(12, 12), (12, 16), (28, 36), (60, 80)])
def test_every_length_fits_its_waves(clips):
    for video in surfing.generate(seed=1, count=40, feature_dim=DIM, min_clips=clips[0], max_clips=clips[1]):
        assert clips[0] <= len(video.features) <= clips[1]
        assert int(video.video["waves"]) >= surfing.FEWEST_WAVES
        assert abs(video.truth["contribution"].sum() - video.marks["total"] / 100) <= 1e-6


def test_same_seed_same_files_and_the_label_is_the_truth_sum(tmp_path):
    kwargs = dict(seed=5, num_train=6, num_test=3, feature_dim=DIM)
    first = write_generated("surfing_heldout", tmp_path / "a", **kwargs)
    again = write_generated("surfing_heldout", tmp_path / "b", **kwargs)
    other = write_generated("surfing_heldout", tmp_path / "c", **{**kwargs, "seed": 6})
    for folder in (".", "features", "truth"):
        names = sorted(p.name for p in (first / folder).iterdir() if p.is_file())
        _, mismatch, errors = filecmp.cmpfiles(first / folder, again / folder, names, shallow=False)
        assert not mismatch and not errors, (folder, mismatch)
    assert not filecmp.cmp(first / "features/surfing_001.npy", other / "features/surfing_001.npy", shallow=False)
    lines = (first / "labels.csv").read_text(encoding="utf-8").splitlines()
    assert lines[0] == "name,score,split" and len(lines) == 10
    for line in lines[1:]:
        name, score, split = line.split(",")
        assert split == ("train" if int(name.split("_")[1]) <= 6 else "test")
        t = truth(first, name)
        assert set(t) == {"contribution", "element_type", "element", "segment"}
        assert all(v.dtype == np.float32 for v in t.values())
        assert abs(t["contribution"].sum() - float(score)) <= 0.006
        assert 28 <= len(np.load(first / "features" / f"{name}.npy")) <= 36


@pytest.mark.parametrize("kwargs, message", [
    (dict(min_clips=11, max_clips=30), "min_clips must be at least 12 for surfing_heldout, got 11"),
    (dict(min_clips=30, max_clips=20), r"max_clips \(20\) is below min_clips \(30\)"),
    (dict(min_clips=40), None),
    (dict(num_train=0, feature_dim=0), "num_train must be at least 1.*feature_dim must be at least 1"),
])
def test_bad_sizes_are_refused_with_a_clear_message(tmp_path, kwargs, message):
    if message is None:  # min_clips above the default range: max_clips follows it
        root = write_generated("surfing_heldout", tmp_path, num_train=1, num_test=1, feature_dim=DIM, **kwargs)
        assert all(len(np.load(p)) == 40 for p in (root / "features").glob("*.npy"))
        return
    with pytest.raises(LongAQAError, match=message):
        write_generated("surfing_heldout", tmp_path, **kwargs)
    assert not any(tmp_path.iterdir())
