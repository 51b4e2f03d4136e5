"""Rhythmic Gymnastics (RG) labels as released with ACTION-NET.

Layout (REFERENCE.md section 1)::

    ROOT/train.txt, ROOT/test.txt
    ROOT/swintx_avg_fps25_clip32/<Class>_<NNN>.npy    float32 (T, 1024)

Each label file starts with the header
``Video_Name<TAB>Difficulty_Score    Execution_Score Total_Score<TAB>Penalty<TAB>Video_length``
(tabs and runs of spaces mixed), then tab-separated rows
``name, difficulty, execution, total, penalty, seconds``. The class is the name's prefix.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from longaqa.errors import LongAQAError

COLUMNS = ("difficulty", "execution", "total", "penalty", "seconds")
CLASSES = ("Ball", "Clubs", "Hoop", "Ribbon")


@dataclass(frozen=True)
class RGLabel:
    name: str
    difficulty: float
    execution: float
    total: float
    penalty: float
    seconds: float
    line: int = field(default=0, compare=False)
    """Line of the label file the row was read from (for error messages)."""

    @property
    def class_name(self) -> str:
        return self.name.rsplit("_", 1)[0]


def parse_rg_labels(path: str | Path) -> list[RGLabel]:
    """Parse one RG label file; every malformed row is reported with its line number."""
    path = Path(path)
    if not path.is_file():
        raise LongAQAError(
            f"{path}: RG label file not found (the RG release has train.txt and test.txt beside "
            "swintx_avg_fps25_clip32/)"
        )
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except UnicodeDecodeError as exc:
        raise LongAQAError(f"{path}: not a text file ({exc.reason})") from None
    labels, problems = [], []
    for number, line in enumerate(lines, start=1):
        fields = line.split()
        if not fields or (number == 1 and fields[0].lower() == "video_name"):
            continue
        if len(fields) != 6:
            problems.append(f"line {number}: expected 6 fields (name and 5 numbers), got {len(fields)}")
            continue
        try:
            values = [float(v) for v in fields[1:]]
        except ValueError:
            problems.append(f"line {number}: non-numeric score in {line.strip()!r}")
            continue
        labels.append(RGLabel(fields[0], *values, line=number))
    if problems:
        raise LongAQAError(f"{path}: malformed label rows: " + "; ".join(problems))
    return labels


def load_rg_split(root: Path, split: str, class_name: str, target: str) -> list[tuple[str, float]]:
    """``(name, raw score)`` for one split of one class (all classes when ``class_name`` is empty)."""
    if target not in ("total", "difficulty", "execution"):
        raise LongAQAError(f"data.target for RG must be total, difficulty or execution; got {target!r}")
    path = root / f"{split}.txt"
    labels = parse_rg_labels(path)
    if class_name:
        # A name holding a path separator has no class to compare with data.class_name: refuse it
        # with its line instead of dropping it (without a class the dataset check names it).
        unsafe = [
            f"line {lab.line}: video name {lab.name!r} is not a file name (it holds a path separator), "
            f"so its class cannot be compared with data.class_name={class_name!r}"
            for lab in labels
            if lab.name in (".", "..") or any(sep in lab.name for sep in ("/", "\\", "\x00"))
        ]
        if unsafe:
            raise LongAQAError(f"{path}: malformed label rows: " + "; ".join(unsafe))
        present = sorted({lab.class_name for lab in labels})
        labels = [lab for lab in labels if lab.class_name.lower() == class_name.lower()]
        if not labels and present:
            raise LongAQAError(
                f"{path}: no videos of class {class_name!r} (data.class_name); classes present: "
                + ", ".join(present)
            )
    return [(lab.name, getattr(lab, target)) for lab in labels]
