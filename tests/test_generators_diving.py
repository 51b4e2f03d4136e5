"""``diving_heldout``: the judges' trimmed arithmetic, per-clip truth that adds up to the total, the segment
codes, determinism and the sizes it refuses."""

from __future__ import annotations

import filecmp

import numpy as np
import pytest

from longaqa.data.generators import GENERATORS, write_generated
from longaqa.data.generators import diving_heldout as diving
from longaqa.errors import LongAQAError

JUDGED = (diving.APPROACH, diving.TAKE_OFF, diving.FLIGHT, diving.ENTRY)


def halves(*awards: float) -> np.ndarray:
    return np.array([round(2 * a) for a in awards])


def labels(root) -> dict[str, tuple[float, str]]:
    lines = (root / "labels.csv").read_text(encoding="utf-8").splitlines()
    assert lines[0] == "name,score,split"
    return {name: (float(score), split) for name, score, split in (line.split(",") for line in lines[1:])}


def truth(root, name: str) -> dict[str, np.ndarray]:
    with np.load(root / "truth" / f"{name}.npz", allow_pickle=False) as npz:
        return {key: npz[key] for key in npz.files}


def runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """``(start, end)`` of each run of True."""
    edges = np.flatnonzero(np.diff(np.r_[0, mask.astype(int), 0]))
    return list(zip(edges[::2], edges[1::2]))


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    return write_generated("diving_heldout", tmp_path_factory.mktemp("diving"), seed=3, num_train=30, num_test=10,
                           feature_dim=32)


def test_seven_judges_cancel_the_two_highest_and_the_two_lowest():
    awards = halves(8.0, 8.5, 9.0, 7.5, 8.0, 10.0, 0.0)  # counted: 8.0 + 8.0 + 8.5
    assert diving.panel_halves(awards) == 49
    assert diving.dive_score_hundredths(32, awards) == 7840  # 3.2 x 24.5 = 78.40
    # the cancelled awards do not matter however extreme they are
    assert diving.panel_halves(halves(0, 0, 8.0, 8.0, 8.5, 10, 10)) == 49
    assert diving.dive_score_hundredths(34, halves(*[8.5] * 7)) == 8670  # 3.4 x 25.5


def test_five_judges_cancel_one_highest_and_one_lowest():
    awards = halves(6.0, 9.5, 7.0, 8.0, 7.5)  # counted: 7.0 + 7.5 + 8.0
    assert diving.panel_halves(awards) == 45
    assert diving.dive_score_hundredths(20, awards) == 4500
    assert diving.dive_score_hundredths(31, halves(0, 0, 0, 0, 0)) == 0  # a failed dive
    with pytest.raises(ValueError, match="5 or 7 judges"):
        diving.panel_halves(halves(7, 7, 7, 7))


def test_degree_of_difficulty_grows_with_somersaults_twists_and_position():
    dd = diving.degree_of_difficulty
    assert dd(1, 1, 5, 0, "C", diving.SPRINGBOARD) < dd(1, 1, 7, 0, "C", diving.SPRINGBOARD) < dd(
        1, 1, 9, 0, "C", diving.SPRINGBOARD)
    assert dd(1, 1, 7, 0, "C", diving.SPRINGBOARD) < dd(1, 1, 7, 0, "B", diving.SPRINGBOARD)
    assert dd(5, 1, 5, 2, "B", diving.SPRINGBOARD) < dd(5, 1, 5, 6, "B", diving.SPRINGBOARD)
    for apparatus in (diving.SPRINGBOARD, diving.PLATFORM):
        for dives in diving.catalogue(apparatus).values():
            assert all(12 <= d.dd_tenths <= 41 and 1 <= d.flight_clips <= 3 for d in dives)
    assert 6 not in diving.catalogue(diving.SPRINGBOARD)  # armstand dives are platform dives


def test_truth_adds_up_to_the_total(written):
    for name, (total, _) in labels(written).items():
        t = truth(written, name)
        assert set(t) == {"contribution", "difficulty", "element_type", "segment"}
        assert abs(t["contribution"].sum() - total) <= 0.006, name
        off = t["element_type"] < 0
        assert (t["contribution"][off] == 0).all() and (t["difficulty"][off] == 0).all()
        assert (t["difficulty"][~off] > 0).all()
        # judged clips are exactly the approach, take-off, flight and entry
        np.testing.assert_array_equal(~off, np.isin(t["segment"], JUDGED))


def test_each_dive_scores_dd_times_three_counted_half_point_awards(written):
    for name in labels(written):
        t = truth(written, name)
        dives = runs(t["element_type"] >= 0)
        assert len(dives) in (5, 6), name
        for start, end in dives:
            assert len(np.unique(t["element_type"][start:end])) == 1
            dd = t["difficulty"][start:end].sum()
            assert abs(dd * 10 - round(dd * 10)) < 1e-4 and 1.2 - 1e-4 <= dd <= 4.1 + 1e-4
            counted = t["contribution"][start:end] / t["difficulty"][start:end]  # the same on every clip
            np.testing.assert_allclose(counted, counted[0], atol=1e-3)
            assert abs(2 * counted[0] - round(2 * counted[0])) < 1e-3 and 0 <= counted[0] <= 30


def test_segments_follow_the_dive_cycle(written):
    for name in labels(written):
        segment = truth(written, name)["segment"].astype(int)
        assert set(np.unique(segment)) <= set(diving.SEGMENTS.values())
        entries = np.flatnonzero(segment == diving.ENTRY)
        assert (segment[entries + 1] == diving.SURFACE).all()  # the splash's clip follows each entry
        assert (segment[entries - 1] == diving.FLIGHT).all()
        take_offs = np.flatnonzero(segment == diving.TAKE_OFF)
        assert (segment[take_offs - 1] == diving.APPROACH).all() and (segment[take_offs + 1] == diving.FLIGHT).all()
        assert len(entries) == len(take_offs) == np.count_nonzero(segment == diving.SURFACE)


def test_same_seed_same_files(written, tmp_path):
    again = write_generated("diving_heldout", tmp_path / "again", seed=3, num_train=30, num_test=10, feature_dim=32)
    for folder in (".", "features", "truth"):
        names = sorted(p.name for p in (again / folder).iterdir() if p.is_file())
        _, mismatch, errors = filecmp.cmpfiles(written / folder, again / folder, names, shallow=False)
        assert not mismatch and not errors, folder
    other = write_generated("diving_heldout", tmp_path / "other", seed=4, num_train=30, num_test=10, feature_dim=32)
    assert labels(other) != labels(written)


def test_totals_look_like_diving_finals():
    videos = list(diving.generate(seed=0, count=400, feature_dim=4, min_clips=28, max_clips=36))
    totals = np.array([v.marks["total"] for v in videos]) / 100
    dives = np.array([v.video["dives"] for v in videos])
    assert 300 < totals.mean() < 420 and 60 < totals.std() < 130
    assert totals[dives == 6].mean() > totals[dives == 5].mean() + 50  # men dive six harder dives
    failed = sum(v.video["failed"] for v in videos) / dives.sum()
    assert 0.002 < failed < 0.04  # failed dives happen, rarely
    skill = np.array([v.video["skill"] for v in videos])
    assert np.corrcoef(skill, totals)[0, 1] > 0.5


def test_short_videos_are_womens_series_and_every_length_fits():
    for length in (25, 29, 30, 36, 60):
        for video in diving.generate(seed=1, count=20, feature_dim=4, min_clips=length, max_clips=length):
            assert len(video.features) == len(video.truth["segment"]) == length
            assert video.video["dives"] == 5 or length >= diving.MEN_FEWEST


def test_registered_as_a_generic_held_out_kind():
    info = GENERATORS["diving_heldout"]
    assert (info.layout, info.held_out, info.default_clips, info.score_divisor) == ("generic", True, (28, 36), 400.0)


@pytest.mark.parametrize("kwargs, message", [
    (dict(min_clips=24, max_clips=30), "min_clips must be at least 25 for diving_heldout, got 24"),
    (dict(min_clips=30, max_clips=29), r"max_clips \(29\) is below min_clips \(30\)"),
    (dict(num_test=0), "num_test must be at least 1"),
])
def test_bad_sizes_are_user_errors(tmp_path, kwargs, message):
    with pytest.raises(LongAQAError, match=message):
        write_generated("diving_heldout", tmp_path, **kwargs)
    assert not any(tmp_path.iterdir())
