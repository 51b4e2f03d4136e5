"""The generic layout for your own data: a folder of ``.npy`` clip features and a CSV of scores.

Layout (docs/data.md)::

    ROOT/<features_dir>/<name>.npy    float32 (T, D), one file per video
    ROOT/labels.csv                   header ``name,score,split``; split is ``train`` or ``test``
      or, without a split column:
    ROOT/train.csv, ROOT/test.csv     header ``name,score``

Column names are matched case-insensitively; extra columns are ignored. Scores are raw (set
``data.score_divisor`` to bring them near 1). Every malformed row is reported with its line number.
"""

from __future__ import annotations

import csv
import io
import math
import re
from pathlib import Path

from longaqa.errors import LongAQAError

LABELS_FILE = "labels.csv"
SPLITS = ("train", "test")
NUMBER = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?")
"""A score as written in a CSV: digits, one point, an exponent. Python's ``float`` also takes ``1_0``
(10), non-ASCII digits and ``nan``/``inf``, which are refused."""
CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _read_rows(path: Path) -> tuple[list[str], list[tuple[int, list[str]]]]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise LongAQAError(f"{path}: not a UTF-8 text file ({exc.reason})") from None
    try:  # a quoted field may hold a line break: it stays in the field (then the name is refused)
        reader = csv.reader(io.StringIO(text))
        rows = [(reader.line_num, row) for row in reader if any(c.strip() for c in row)]
    except csv.Error as exc:  # e.g. a field over csv's size limit
        raise LongAQAError(f"{path}: not a readable CSV file ({exc})") from None
    if not rows:
        raise LongAQAError(f"{path}: empty; expected a header 'name,score[,split]' and one row per video")
    header = [c.strip().lower() for c in rows[0][1]]
    repeated = sorted({c for c in header if c and header.count(c) > 1})
    if repeated:
        raise LongAQAError(
            f"{path}: column(s) {', '.join(repr(c[:40]) for c in repeated[:5])} appear more than once in the header; "
            "which one holds the value is ambiguous"
        )
    return header, rows[1:]


def parse_generic_labels(path: str | Path, split: str | None) -> list[tuple[str, float]]:
    """``(name, raw score)`` of the rows of ``split`` (every row when ``split`` is None)."""
    path = Path(path)
    header, rows = _read_rows(path)
    missing = [c for c in ("name", "score") if c not in header]
    if missing:
        raise LongAQAError(f"{path}: header {','.join(header)!r} lacks column(s) {', '.join(missing)}")
    i_name, i_score = header.index("name"), header.index("score")
    i_split = header.index("split") if "split" in header else None
    if split is not None and i_split is None:
        raise LongAQAError(
            f"{path}: no 'split' column; add one (train/test) or provide train.csv and test.csv instead"
        )
    labels, problems = [], []
    for number, row in rows:
        if len(row) < len(header):
            problems.append(f"line {number}: expected {len(header)} fields, got {len(row)}")
            continue
        name = row[i_name].strip()
        if not name or "/" in name or "\\" in name or CONTROL.search(name):
            problems.append(f"line {number}: invalid video name {name[:80]!r} (no /, \\ or line breaks)")
            continue
        text = row[i_score].strip()
        score = float(text) if NUMBER.fullmatch(text) else math.nan
        if not math.isfinite(score):
            problems.append(f"line {number}: non-numeric score {row[i_score][:40]!r} (write it as e.g. 12.5 or 1.25e1)")
            continue
        if i_split is not None:
            row_split = row[i_split].strip().lower()
            if row_split not in SPLITS:
                problems.append(f"line {number}: split must be train or test, got {row[i_split]!r}")
                continue
            if split is not None and row_split != split:
                continue
        labels.append((name, score))
    if problems:
        more = f"; ... and {len(problems) - 10} more" if len(problems) > 10 else ""
        raise LongAQAError(f"{path}: malformed label rows: " + "; ".join(problems[:10]) + more)
    return labels


def load_generic_split(root: Path, split: str) -> list[tuple[str, float]]:
    """One split from ``labels.csv`` (with a split column) or from ``<split>.csv``."""
    if split not in SPLITS:
        raise LongAQAError(f"the generic layout has splits train and test; got {split!r}")
    if (root / LABELS_FILE).is_file():
        return parse_generic_labels(root / LABELS_FILE, split)
    if (root / f"{split}.csv").is_file():
        return parse_generic_labels(root / f"{split}.csv", None)
    raise LongAQAError(
        f"{root}: label file not found (expected {LABELS_FILE} with columns name,score,split, "
        f"or {split}.csv with columns name,score)"
    )
