"""``synchro_heldout``: ISU-like synchronized skating free skating (longaqa.data.generators.synchro_heldout):
score sheets that add up, the GOE and PCS panels' trimmed means, located falls and interruptions,
programme structure, holistic PCS and determinism."""

from __future__ import annotations

import filecmp

import numpy as np
import pytest

from longaqa.data.fisv import parse_fisv_labels
from longaqa.data.generators import GENERATORS, write_generated
from longaqa.data.generators import synchro_heldout as m
from longaqa.errors import LongAQAError

FEATURES = "swintx_avg_fps25_clip32"


def programmes(seed: int = 0, count: int = 60, clips: tuple[int, int] = (36, 48), feature_dim: int = 4):
    return list(m.generate(seed, count, feature_dim, *clips))


def truth(root, name: str) -> dict[str, np.ndarray]:
    with np.load(root / "truth" / f"{name}.npz", allow_pickle=False) as npz:
        return {key: npz[key] for key in npz.files}


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    root = tmp_path_factory.mktemp("synchro")
    return write_generated("synchro_heldout", root, seed=3, num_train=10, num_test=4, feature_dim=16)


def test_registered_as_a_held_out_fisv_kind():
    info = GENERATORS["synchro_heldout"]
    assert info.layout == "fisv" and info.held_out and info.default_clips == m.DEFAULT_CLIPS == (36, 48)
    from longaqa.commands.generate import KINDS

    assert "synchro_heldout (fisv, held out from model design)" in KINDS


def test_truth_sums_to_the_sheet(written):
    rows = parse_fisv_labels(written / "train_dataset.txt") + parse_fisv_labels(written / "test_dataset.txt")
    assert len(rows) == 14
    for name, tes, pcs, deductions in rows:
        t = truth(written, name)
        assert {"contribution", "tes", "difficulty", "goe", "deduction", "element_type", "element",
                "segment", "level"} <= set(t)
        assert all(v.dtype == np.float32 for v in t.values())
        assert abs(t["tes"].sum() - tes) <= 0.01, name
        assert abs(t["deduction"].sum() - deductions) <= 1e-4, name
        assert abs(t["contribution"].sum() - (tes - deductions)) <= 0.01, name
        np.testing.assert_allclose(t["tes"], t["difficulty"] + t["goe"], atol=1e-5)
        np.testing.assert_allclose(t["contribution"], t["tes"] - t["deduction"], atol=1e-5)
        off = t["element"] < 0
        assert (t["tes"][off] == 0).all() and (t["element_type"][off] == -1).all()
        assert deductions == int(deductions) and pcs > 0


def test_tes_is_the_sum_of_element_scores_and_total_adds_up():
    for video in programmes(count=40):
        t = video.truth
        scores = [t["tes"][t["element"] == i].sum() for i in range(len(m.ELEMENTS))]
        # each element's clips carry base + GOE value, a whole number of hundredths
        assert all(abs(s * 100 - round(s * 100)) < 1e-6 for s in scores)
        assert abs(sum(round(s * 100) for s in scores) - video.marks["tes"]) <= 1, video.name
        for i in range(len(m.ELEMENTS)):
            kind, level = int(t["element_type"][t["element"] == i][0]), int(t["level"][t["element"] == i][0])
            base = t["difficulty"][t["element"] == i].sum()
            assert round(base * 100) == m.ELEMENTS[kind].base[level]
        marks = video.marks
        total = marks["tes"] + marks["pcs"] - marks["deductions"]
        assert abs(total / 100 - (t["contribution"].sum() + marks["pcs"] / 100)) <= 0.01
        assert marks["deductions"] % 100 == 0


def test_programme_structure_ten_elements_of_two_to_six_clips():
    for clips in [(36, 48), (m.FEWEST_CLIPS, m.FEWEST_CLIPS), (120, 130)]:
        for video in programmes(seed=1, count=30, clips=clips):
            t = video.truth
            element, kind, segment = (t[k].astype(int) for k in ("element", "element_type", "segment"))
            assert sorted(set(kind[kind >= 0])) == list(range(len(m.ELEMENTS)))  # each type once
            for i in range(len(m.ELEMENTS)):
                where = np.flatnonzero(element == i)
                assert 2 <= len(where) <= 6 and (np.diff(where) == 1).all()  # consecutive clips
                assert len(set(kind[where])) == 1
            starts = [np.flatnonzero(element == i)[0] for i in range(len(m.ELEMENTS))]
            assert starts == sorted(starts)  # ids in programme order
            assert set(segment) <= set(range(len(m.SEGMENTS)))
            assert segment[0] == m.OPENING and segment[-1] == m.CLOSING
            between = (element[:-1] >= 0) & (element[1:] >= 0)
            assert (element[:-1][between] == element[1:][between]).all()  # connecting skating in between


def test_goe_is_the_trimmed_mean_of_nine_judges_times_the_base():
    sport = m.SynchroSport(0, 4)
    rng = np.random.default_rng(5)
    seen = 0
    for _ in range(200):
        team = sport.team(rng)
        unison = sport.unison_track(team, 40, rng)
        kind = int(rng.integers(len(m.ELEMENTS)))
        e = sport.judge_element(kind, 10, 14, team, unison, rng)
        assert e.grades.shape == (m.JUDGES,) and (np.abs(e.grades) <= 5).all()
        assert (e.grades == np.round(e.grades)).all()
        middle = np.sort(e.grades)[1:-1]
        assert e.goe == round(middle.mean() / 10 * e.base)
        assert e.base == m.ELEMENTS[kind].base[e.level] and 0 <= e.level <= 4
        seen += np.ptp(e.grades) > 0
    assert seen > 50  # the judges disagree, so the trimming matters
    np.testing.assert_allclose(m.trimmed_mean(np.array([-5, 0, 1, 1, 1, 1, 1, 1, 5.0])), 6 / 7)


def test_pcs_is_factor_times_the_panels_trimmed_means():
    sport = m.SynchroSport(0, 4)
    rng = np.random.default_rng(9)
    team = sport.team(rng)
    unison = sport.unison_track(team, 40, rng)
    pcs = sport.pcs(team, unison, 2, np.random.default_rng(11))
    again = np.random.default_rng(11)
    expected = 0
    for mean, w_skill, w_choreo, w_pres, w_unison, w_speed, per_fall in m.COMPONENTS.values():
        mark = (mean + w_skill * team.skill + w_choreo * np.tanh(team.choreography) + w_pres * team.presentation
                + w_speed * team.speed + w_unison * (unison.mean() - 0.8) * 4 - per_fall * 2)
        judged = np.clip(np.round((mark + again.normal(0, 0.3, m.JUDGES)) * 4) / 4, 0.25, 10)
        assert ((judged * 4) == np.round(judged * 4)).all()
        expected += round(100 * np.sort(judged)[1:-1].mean())
    assert pcs == round(m.PCS_FACTOR * expected)


def test_falls_and_interruptions_are_located_on_their_clip():
    on_element = off_element = interruptions = 0
    multi = 0
    for video in programmes(seed=2, count=300, feature_dim=2):
        t = video.truth
        deduction, segment, element = t["deduction"], t["segment"].astype(int), t["element"].astype(int)
        assert set(np.unique(deduction)) <= {0.0, 1.0, 2.0, 3.0}
        assert ((deduction > 0) == np.isin(segment, [m.FALL, m.INTERRUPTION])).all()
        assert (deduction[segment == m.INTERRUPTION] == 1).all() and (element[segment == m.INTERRUPTION] < 0).all()
        for clip in np.flatnonzero(segment == m.FALL):
            if element[clip] >= 0:
                on_element += 1
                clips = element == element[clip]
                assert t["goe"][clips].sum() < 0.5  # the judges pull the grade down
            else:
                off_element += 1
        multi += (deduction >= 2).sum()
        interruptions += (segment == m.INTERRUPTION).sum()
        assert video.marks["deductions"] == 100 * round(deduction.sum())
    assert on_element > 30 and off_element > 0 and interruptions > 0 and multi > 0


def test_falls_show_on_their_own_clip():
    sport = m.SynchroSport(0, 32)
    fall_direction = sport.fall_direction @ sport.feature_map.projection  # (F,)
    fall, other = [], []
    for video in m.generate(0, 200, 32, 36, 48):
        shown = video.features @ fall_direction
        on = video.truth["segment"] == m.FALL
        fall += list(shown[on])
        other += list(shown[~on])
    assert np.mean(fall) - np.mean(other) > 3 * np.std(other)


def test_pcs_is_holistic_and_scores_look_like_synchro():
    videos = programmes(seed=0, count=300, feature_dim=2)
    tes = np.array([v.marks["tes"] for v in videos]) / 100
    pcs = np.array([v.marks["pcs"] for v in videos]) / 100
    assert 30 <= tes.mean() <= 65 and 28 <= pcs.mean() <= 48 and pcs.max() <= 60
    assert np.corrcoef(tes, pcs)[0, 1] > 0.5
    clip_sums = np.array([[1, *(v.truth[k].sum() for k in ("difficulty", "goe", "deduction"))] for v in videos])
    keys = ("skill", "choreography", "presentation", "unison", "speed")
    team = np.array([[v.video[k] for k in keys] for v in videos])

    def r2(x):
        coef, *_ = np.linalg.lstsq(x, pcs, rcond=None)
        return 1 - (pcs - x @ coef).var() / pcs.var()

    assert r2(clip_sums) < 0.9
    assert r2(np.c_[clip_sums, np.tanh(team[:, 1]), team]) > r2(clip_sums) + 0.05


def test_connecting_skating_differs_between_teams():
    """Each team mixes the choreography motifs in its own proportions with its own offset."""
    videos = programmes(seed=4, count=40, feature_dim=32)
    means = []
    for v in videos:
        connecting = v.features[v.truth["segment"] == m.CONNECTING]
        means.append(connecting.mean(axis=0))
    means = np.array(means)
    within = np.mean([v.features[v.truth["segment"] == m.CONNECTING].std(axis=0).mean() for v in videos])
    assert means.std(axis=0).mean() > 0.3 * within


def test_same_seed_same_files(written, tmp_path):
    again = write_generated("synchro_heldout", tmp_path / "a", seed=3, num_train=10, num_test=4, feature_dim=16)
    files = sorted(p.relative_to(written) for p in written.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(again) for p in again.rglob("*") if p.is_file())
    assert all(filecmp.cmp(written / f, again / f, shallow=False) for f in files)
    other = write_generated("synchro_heldout", tmp_path / "b", seed=4, num_train=10, num_test=4, feature_dim=16)
    assert not filecmp.cmp(written / FEATURES / "1.npy", other / FEATURES / "1.npy", shallow=False)
    assert (written / "train_dataset.txt").read_text() != (other / "train_dataset.txt").read_text()


@pytest.mark.parametrize("kwargs, message", [
    (dict(min_clips=m.FEWEST_CLIPS - 1), f"min_clips must be at least {m.FEWEST_CLIPS} for synchro_heldout"),
    (dict(min_clips=40, max_clips=39), r"max_clips \(39\) is below min_clips \(40\)"),
    (dict(feature_dim=0), "feature_dim must be at least 1"),
    (dict(num_train=0, num_test=0), "num_train must be at least 1, got 0; num_test must be at least 1, got 0"),
])
def test_bad_sizes_are_refused_before_writing(tmp_path, kwargs, message):
    with pytest.raises(LongAQAError, match=message):
        write_generated("synchro_heldout", tmp_path, **kwargs)
    assert not any(tmp_path.iterdir())
