"""bench/explanation_truth.py's merging of saved runs (``--tabulate``, ``--join-seeds``)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
import explanation_truth as bench  # noqa: E402


def saved(first: int, seeds: int, value: float, epochs: int = 100) -> dict:
    rows = [{"srcc_total": value + s} for s in range(first, first + seeds)]
    return {"meta": {"command": f"run {first}", "seconds": 1.0, "epochs": epochs, "seeds": seeds,
                     "first_seed": first},
            "results": {"floor_heldout": {"paper": rows}}}


def test_join_seeds_joins_rows_in_seed_order_and_counts_every_seed():
    results, meta = bench.merge_saved([saved(3, 2, 0.0), saved(0, 3, 0.0)], join_seeds=True)
    assert [r["srcc_total"] for r in results["floor_heldout"]["paper"]] == [0, 1, 2, 3, 4]
    assert meta["seeds"] == 5 and meta["command"] == "run 0; run 3"


def test_join_seeds_refuses_overlapping_seeds_and_other_epochs():
    with pytest.raises(SystemExit, match="overlap"):
        bench.merge_saved([saved(0, 3, 0.0), saved(2, 2, 0.0)], join_seeds=True)
    with pytest.raises(SystemExit, match="epochs"):
        bench.merge_saved([saved(0, 3, 0.0), saved(3, 2, 0.0, epochs=50)], join_seeds=True)


def test_without_join_a_later_file_replaces_the_rows():
    results, meta = bench.merge_saved([saved(0, 2, 0.0), saved(0, 2, 10.0)])
    assert [r["srcc_total"] for r in results["floor_heldout"]["paper"]] == [10, 11] and meta["seeds"] == 2


def test_mixed_seeds_merge_only_when_asked():
    with pytest.raises(SystemExit, match="seeds"):
        bench.merge_saved([saved(0, 5, 0.0), saved(0, 2, 0.0)])
    results, meta = bench.merge_saved([saved(0, 5, 0.0), saved(0, 2, 0.0)], mixed_seeds=True)
    assert meta["seeds"] == 5 and len(results["floor_heldout"]["paper"]) == 2
