"""Figure Skating Video (Fis-V) labels as released with MS_LSTM.

Layout (REFERENCE.md section 1)::

    ROOT/train.txt, ROOT/test.txt  (or train_dataset.txt / test_dataset.txt as published)
    ROOT/swintx_avg_fps25_clip32/<id>.npy    float32 (T, 1024)

Rows are space-separated ``id TES PCS deductions``, without a header.
"""

from __future__ import annotations

from pathlib import Path

from longaqa.errors import LongAQAError

TARGETS = ("TES", "PCS", "total")
"""``total`` is the segment score TES + PCS - deductions."""


def fisv_label_path(root: Path, split: str) -> Path:
    for name in (f"{split}.txt", f"{split}_dataset.txt"):
        if (root / name).is_file():
            return root / name
    raise LongAQAError(
        f"{root}: Fis-V label file not found (expected {split}.txt or {split}_dataset.txt there)"
    )


def parse_fisv_labels(path: str | Path) -> list[tuple[str, float, float, float]]:
    """``(id, TES, PCS, deductions)`` per row; malformed rows are reported with line numbers."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except UnicodeDecodeError as exc:
        raise LongAQAError(f"{path}: not a text file ({exc.reason})") from None
    rows, problems = [], []
    for number, line in enumerate(lines, start=1):
        fields = line.split()
        if not fields:
            continue
        if len(fields) != 4:
            problems.append(f"line {number}: expected 4 fields (id TES PCS deductions), got {len(fields)}")
            continue
        try:
            tes, pcs, ded = (float(v) for v in fields[1:])
        except ValueError:
            problems.append(f"line {number}: non-numeric score in {line.strip()!r}")
            continue
        rows.append((fields[0], tes, pcs, ded))
    if problems:
        raise LongAQAError(f"{path}: malformed label rows: " + "; ".join(problems))
    return rows


def load_fisv_split(root: Path, split: str, target: str) -> list[tuple[str, float]]:
    if target not in TARGETS:
        raise LongAQAError(f"data.target for Fis-V must be TES, PCS or total; got {target!r}")
    rows = parse_fisv_labels(fisv_label_path(root, split))
    if target == "total":
        return [(name, tes + pcs - ded) for name, tes, pcs, ded in rows]
    column = TARGETS.index(target) + 1
    return [(row[0], row[column]) for row in rows]
