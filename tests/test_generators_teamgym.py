"""``teamgym_heldout`` (held out from model design): UEG-like TeamGym floor programmes in the RG layout.

Whoever designs the model must not read this file or the generator's source."""

from __future__ import annotations

import filecmp
from dataclasses import replace

import numpy as np
import pytest

from longaqa.data.generators import GENERATORS, write_generated
from longaqa.data.generators import teamgym_heldout as tg
from longaqa.data.generators.release import format_points
from longaqa.data.rg import parse_rg_labels
from longaqa.errors import LongAQAError

KIND = "teamgym_heldout"
ELEMENT_SEGMENTS = {f.segment for f in tg.FAMILIES}
LANDING_SEGMENTS = {f.segment for f in tg.FAMILIES if f.landing}


def write(root, seed: int = 3, **sizes):
    kwargs = dict(seed=seed, num_train=8, num_test=4, feature_dim=32, **sizes)
    return write_generated(KIND, root, **kwargs)


def rows(root) -> list[list[str]]:
    lines = []
    for split in ("train", "test"):
        lines += [line.split("\t") for line in (root / f"{split}.txt").read_text().splitlines()[1:]]
    return lines


def cents(text: str) -> int:
    return int(round(float(text) * 100))


def judged(seed: int = 0, count: int = 60, clips: tuple[int, int] = (28, 36)):
    """Programmes judged step by step as ``TeamGymSport.routine`` does: (sport, [(team, segments, record,
    credited)])."""
    sport = tg.TeamGymSport(seed, 16)
    rng = np.random.default_rng([seed, 9])
    out = []
    for _ in range(count):
        length = int(rng.integers(clips[0], clips[1] + 1))
        team = sport.team(rng)
        segments = tg.plan_routine(sport, team, length, rng)
        record = tg.ClipRecord.empty(length)
        credited = [tg.judge_segment(sport, team, s, record, rng) for s in segments]
        out.append((team, segments, record, credited))
    return sport, out


def test_registered_as_a_held_out_rg_kind():
    info = GENERATORS[KIND]
    assert (info.layout, info.held_out, info.default_clips) == ("rg", True, (28, 36))
    assert tg.DEFAULT_CLIPS == (28, 36)


def test_same_seed_same_files_and_another_seed_differs(tmp_path):
    a, b, c = write(tmp_path / "a"), write(tmp_path / "b"), write(tmp_path / "c", seed=4)
    for folder in (".", "swintx_avg_fps25_clip32", "truth"):
        names = sorted(p.name for p in (a / folder).iterdir() if p.is_file())
        assert names == sorted(p.name for p in (b / folder).iterdir() if p.is_file())
        _, mismatch, errors = filecmp.cmpfiles(a / folder, b / folder, names, shallow=False)
        assert not mismatch and not errors
    assert not filecmp.cmp(a / "train.txt", c / "train.txt", shallow=False)


def test_label_rows_add_up_and_read_through_the_rg_parser(tmp_path):
    root = write(tmp_path / "d")
    assert [lab.name for lab in parse_rg_labels(root / "train.txt")] == [f"Ball_{i:03d}" for i in range(1, 9)]
    for name, d, e, total, penalty, seconds in rows(root):
        for cell in (d, e, total, penalty):
            assert cell == format_points(cents(cell))
        assert cents(total) == cents(d) + cents(e) - cents(penalty), name
        # D: values in tenths and 0.5 requirements; E: the panel's mean of two in 0.05; penalties in tenths
        assert cents(d) % 10 == 0 and cents(e) % 5 == 0 and cents(penalty) % 10 == 0
        features = np.load(root / "swintx_avg_fps25_clip32" / f"{name}.npy")
        assert 28 <= len(features) <= 36 and int(seconds) == round(len(features) * 32 / 25)


def test_truth_files_sum_to_the_sheet_up_to_the_artistry_deduction(tmp_path):
    root = write(tmp_path / "t")
    for name, d, e, total, penalty, _ in rows(root):
        with np.load(root / "truth" / f"{name}.npz") as npz:
            t = {k: npz[k] for k in npz.files}
        assert set(t) == {"difficulty", "deduction", "contribution", "element_type", "segment"}
        assert abs(t["difficulty"].sum() - float(d)) <= 0.006, name
        np.testing.assert_allclose(t["contribution"], t["difficulty"] - t["deduction"], atol=1e-6)
        artistry = 10 - float(e) - t["deduction"].sum()  # the whole programme's part of E, no clip's
        assert -0.006 <= artistry <= 1.006 and abs(artistry * 10 - round(artistry * 10)) < 0.06, name
        assert abs(t["contribution"].sum() - (float(total) + float(penalty) - 10 + artistry)) <= 0.006


def test_truth_sums_to_the_marks_with_the_artistry_named():
    videos = list(tg.generate(2, 80, 16, 28, 36, "Ball"))
    for v in videos:
        t, m = v.truth, v.marks
        assert abs(t["difficulty"].sum() * 100 - m["difficulty"]) < 0.6
        assert abs(t["deduction"].sum() * 100 + v.video["artistry"] * 100 - (1000 - m["execution"])) < 0.6
        total = m["difficulty"] + m["execution"] - m["penalty"]
        assert abs(t["contribution"].sum() * 100 - (total + m["penalty"] - 1000 + v.video["artistry"] * 100)) < 0.6
    assert 0 < np.mean([v.video["artistry"] > 0 for v in videos]) < 1  # some programmes lose artistry, not all


def runs(codes: np.ndarray) -> list[tuple[int, int, int]]:
    """(code, start, end) of each run of equal codes."""
    edges = np.flatnonzero(np.diff(codes)) + 1
    starts, ends = np.r_[0, edges], np.r_[edges, len(codes)]
    return [(int(codes[s]), int(s), int(e)) for s, e in zip(starts, ends, strict=True)]


@pytest.mark.parametrize("clips", [(12, 12), (28, 36), (60, 80)])
def test_segments_follow_the_programme_structure(clips):
    sport = tg.TeamGymSport(1, 16)
    family_segment = np.array([tg.FAMILIES[f].segment for f in sport.family])
    for v in tg.generate(1, 40, 16, *clips, "Ball"):
        seg, etype = v.truth["segment"].astype(int), v.truth["element_type"].astype(int)
        assert set(seg) <= set(tg.SEGMENTS.values())
        assert seg[0] == tg.OPENING and seg[-1] == tg.FINAL and (seg[1:-1] != tg.OPENING).all()
        on = np.isin(seg, list(ELEMENT_SEGMENTS))
        assert ((etype >= 0) == on).all() and (family_segment[etype[on]] == seg[on]).all()
        assert (v.truth["difficulty"][~on] == 0).all()
        marked = np.where(on, 100 + etype, seg)  # each element a run of its own
        middle = [(code >= 100, end - start) for code, start, end in runs(marked) if code not in (tg.OPENING, tg.FINAL)]
        # connecting stretches of 1-2 clips alternate with elements of 1-3 clips
        assert all(1 <= size <= (3 if is_element else 2) for is_element, size in middle)
        assert not middle[0][0] and not middle[-1][0]
        assert all(not (a[0] and b[0]) for a, b in zip(middle, middle[1:]))
        assert sum(on) >= 2


def test_deductions_are_located_where_they_happen():
    sport, programmes = judged()
    for _, segments, record, credited in programmes:
        for s, ok in zip(segments, credited, strict=True):
            span = slice(s.start, s.end)
            lands = s.element_type >= 0 and tg.FAMILIES[sport.family[s.element_type]].landing
            assert (record.falls[span][:-1] == 0).all() and (record.landing[span][:-1] == 0).all()
            if not lands:
                assert (record.falls[span] == 0).all() and (record.landing[span] == 0).all()
            if s.code in (tg.OPENING, tg.FINAL):
                assert (record.form[span] == 0).all() and (record.formation_error[span] == 0).all()
            if s.code == tg.CHOREOGRAPHY:
                assert (record.formation_error[span] == 0).all()
            # a fault of nobody costs nothing: a clip without a fault shown has no deduction
            clean = ((record.form[span] == 0) & (record.landing[span] == 0) & (record.falls[span] == 0)
                     & (record.formation_error[span] == 0) & (record.spread[span] < tg.SYNC_STEPS[0]))
            assert (record.deduction[span][clean] == 0).all()
            falls = record.falls[s.end - 1]
            assert record.deduction[s.end - 1] >= tg.FALL * falls
            if s.element_type >= 0:
                lift = tg.FAMILIES[sport.family[s.element_type]].name == "lift"
                assert ok == (falls == 0 if lift else falls <= 1)
    everything = [r for _, _, r, _ in programmes]
    assert sum((r.falls > 0).sum() for r in everything) > 0 and sum((r.spread >= 0.1).sum() for r in everything) > 0
    connecting = [r.deduction[[c for s in segs if s.element_type < 0 for c in range(s.start, s.end)]].sum()
                  for _, segs, r, _ in programmes]
    assert sum(connecting) > 0  # connecting choreography is judged too


def test_synchronisation_deduction_follows_the_timing_spread():
    _, programmes = judged(seed=4)
    for _, _, record, _ in programmes:
        assert (record.spread < 0.5).all()
        faulty = record.spread >= tg.SYNC_STEPS[0]
        # a clip whose spread reaches a step is deducted (the panel rarely sees a fault of 0.1 as none)
        assert (record.deduction[faulty] > 0).mean() >= 0.8 if faulty.any() else True


def test_only_counted_credited_elements_earn_difficulty():
    sport, programmes = judged(seed=5, count=40, clips=(40, 60))
    left_out = not_credited = 0
    for _, segments, record, credited in programmes:
        difficulty, total = sport.difficulty(segments, credited, len(record.spread))
        elements = [(s, ok) for s, ok in zip(segments, credited, strict=True) if s.element_type >= 0]
        not_credited += sum(not ok for _, ok in elements)
        left_out += sum(ok and difficulty[s.start:s.end].sum() == 0 for s, ok in elements)
        assert abs(difficulty.sum() - total) < 1e-6
        earning = [s for s in segments if s.element_type >= 0 and difficulty[s.start:s.end].sum() > 0]
        assert all(ok for s, ok in zip(segments, credited, strict=True) if s in earning)
        types = [s.element_type for s in earning]
        assert len(earning) <= tg.COUNTED and len(types) == len(set(types))
        assert np.bincount(sport.family[types], minlength=len(tg.FAMILIES)).max() <= tg.PER_FAMILY
        values = sum(int(sport.value[k]) for k in types)
        requirements = (total - values) // tg.REQUIREMENT
        assert (total - values) % tg.REQUIREMENT == 0 and 0 <= requirements <= len(tg.REQUIRED)
        for s in earning:  # evenly spread over the element's clips
            np.testing.assert_allclose(difficulty[s.start:s.end], difficulty[s.start])
    assert left_out > 0 and not_credited > 0  # beyond the 8 counted, and failed by two or more gymnasts


def test_faults_show_on_their_own_clip_and_the_features_are_not_linear_in_them():
    sport, programmes = judged(seed=6, count=10)
    team, segments, record, _ = next(p for p in programmes if (p[2].deduction > 0).sum() >= 3)
    clean = replace(record, form=np.zeros_like(record.form), landing=np.zeros_like(record.landing),
                    falls=np.zeros_like(record.falls), formation_error=np.zeros_like(record.formation_error),
                    spread=np.where(record.spread >= tg.SYNC_STEPS[0], 0.05, record.spread))
    with_faults = sport.features(segments, record, team, np.random.default_rng(0))
    without = sport.features(segments, clean, team, np.random.default_rng(0))
    changed = np.linalg.norm(with_faults - without, axis=1) > 1e-4
    shown = ((record.form > 0) | (record.landing > 0) | (record.falls > 0) | (record.formation_error > 0)
             | (record.spread >= tg.SYNC_STEPS[0]))
    assert (changed == shown).all() and changed.any()
    # twice the fault is not twice the change (square roots, blur and tanh)
    doubled = replace(record, form=np.minimum(2 * record.form, 1.0), spread=np.minimum(2 * record.spread, 0.49))
    twice = sport.features(segments, doubled, team, np.random.default_rng(0))
    assert not np.allclose(twice - without, 2 * (with_faults - without), atol=1e-3)


def test_scores_spread_and_skill_shapes_them():
    videos = list(tg.generate(0, 200, 16, 28, 36, "Ball"))
    d = np.array([v.marks["difficulty"] for v in videos]) / 100
    e = np.array([v.marks["execution"] for v in videos]) / 100
    total = d + e - np.array([v.marks["penalty"] for v in videos]) / 100
    skill = np.array([v.video["skill"] for v in videos])
    assert 5.0 < d.mean() < 8.0 and 6.5 < e.mean() < 9.0 and d.std() > 0.7 and e.std() > 0.6
    assert 0.3 < np.corrcoef(d, e)[0, 1] < 0.9 and 0.6 < np.corrcoef(skill, total)[0, 1] < 0.97
    assert 10 < total.mean() < 18


def test_bad_sizes_are_clear_errors(tmp_path):
    with pytest.raises(LongAQAError, match="min_clips must be at least 12 for teamgym_heldout"):
        write_generated(KIND, tmp_path, min_clips=8, max_clips=30)
    with pytest.raises(LongAQAError, match=r"max_clips \(20\) is below min_clips \(30\)"):
        write_generated(KIND, tmp_path, min_clips=30, max_clips=20)
    with pytest.raises(LongAQAError, match="class_name"):
        write_generated(KIND, tmp_path, class_name="a/b")
    assert not any(tmp_path.iterdir())
