"""LOGO (LOng-form GrOup, group artistic swimming) labels and splits as released with GOAT.

Layout (REFERENCE.md section 1)::

    ROOT/anno_dict.pkl      {(event, idx): [type, score, ...]}: the score is item 1 (0-100 scale)
    ROOT/train_split3.pkl   [(event, idx), ...]   150 videos
    ROOT/test_split3.pkl    [(event, idx), ...]    50 videos
    ROOT/<features_dir>/<event>_<idx>.npy          float32 (48, 1024), one folder per backbone

The public features were never released: ``data.features_dir`` names the folder holding the ones
you extracted (``vst_features`` and ``i3d_features`` in the shipped configs; see docs/data.md).
The pickles are read with :func:`longaqa.safe_pickle.safe_load_pickle`, which refuses anything but
plain containers, numbers, strings and numpy arrays.
"""

from __future__ import annotations

import math
from pathlib import Path

from longaqa.errors import LongAQAError
from longaqa.safe_pickle import safe_load_pickle

ANNOTATIONS_FILE = "anno_dict.pkl"
SPLIT_FILES = {"train": "train_split3.pkl", "test": "test_split3.pkl"}


def _load(root: Path, filename: str, what: str) -> object:
    path = root / filename
    if not path.is_file():
        raise LongAQAError(f"{path}: LOGO {what} not found (expected {filename} in {root})")
    # latin1 lets Python 2 pickles (str holding bytes) load; plain Python 3 pickles are unaffected
    return safe_load_pickle(path, allow_object_arrays=True, encoding="latin1")


def _key(entry: object) -> tuple[str, int] | None:
    """``(event, idx)`` from a split entry or an annotation key, or None when malformed."""
    if not isinstance(entry, (tuple, list)) or len(entry) != 2:
        return None
    event, idx = entry
    if not isinstance(event, str) or not event:
        return None
    try:
        number = int(idx)
    except (TypeError, ValueError):
        return None
    if isinstance(idx, bool) or number != idx:
        return None
    return event, number


def video_name(event: str, idx: int) -> str:
    """The feature file stem of one video: ``<event>_<idx>`` (idx not zero-padded)."""
    return f"{event}_{idx}"


def load_logo_split(root: Path, split: str) -> list[tuple[str, float]]:
    """``(video name, raw score)`` for one split; every malformed entry is reported together."""
    if split not in SPLIT_FILES:
        raise LongAQAError(f"LOGO has splits {', '.join(SPLIT_FILES)}; got {split!r}")
    annotations = _load(root, ANNOTATIONS_FILE, "annotation dictionary")
    entries = _load(root, SPLIT_FILES[split], f"{split} split")
    ann_path, split_path = root / ANNOTATIONS_FILE, root / SPLIT_FILES[split]
    if not isinstance(annotations, dict):
        raise LongAQAError(
            f"{ann_path}: expected a dict {{(event, idx): [type, score, ...]}}, "
            f"got {type(annotations).__name__}"
        )
    if not isinstance(entries, (list, tuple)):
        raise LongAQAError(
            f"{split_path}: expected a list of (event, idx) pairs, got {type(entries).__name__}"
        )
    by_key = {}
    for key, value in annotations.items():
        parsed = _key(key)
        if parsed is not None:
            by_key[parsed] = value
    labels, problems = [], []
    for position, entry in enumerate(entries):
        key = _key(entry)
        if key is None:
            problems.append(f"{split_path}: entry {position} is {entry!r}, not an (event, idx) pair")
            continue
        if key not in by_key:
            problems.append(f"{ann_path}: no annotation for {key!r} (named in {SPLIT_FILES[split]})")
            continue
        record = by_key[key]
        score = record[1] if isinstance(record, (list, tuple)) and len(record) > 1 else None
        try:
            value = float(score)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            value = math.nan
        if isinstance(score, bool) or not math.isfinite(value):
            problems.append(
                f"{ann_path}: annotation of {key!r} has no numeric score at item 1: {record!r:.80}"
            )
            continue
        labels.append((video_name(*key), value))
    if problems:
        more = f"; ... and {len(problems) - 10} more" if len(problems) > 10 else ""
        raise LongAQAError("malformed LOGO labels: " + "; ".join(problems[:10]) + more)
    return labels
