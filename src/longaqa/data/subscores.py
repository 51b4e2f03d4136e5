"""The judges' sub-scores of each layout, as released, for the additive head's score sheets.

RG ``train.txt``/``test.txt``: ``difficulty``, ``execution``, ``penalty`` (and ``total``, which must
equal D + E - penalty to the labels' rounding: a row where it does not is reported with its file and
line). Fis-V ``id TES PCS deductions``: ``TES``, ``PCS``, ``deductions``. The generic layout's CSV
may carry the same columns (``data.subscores: rg`` or ``fisv``, docs/data.md). Values are raw (not
divided by ``data.score_divisor``).
"""

from __future__ import annotations

import math
from pathlib import Path

from longaqa.config import DataConfig
from longaqa.errors import LongAQAError
from longaqa.sheets import ScoreSheet

ROUNDING = 0.011
"""How far a row's total may be from D + E - penalty: the release's marks have 2 decimals."""


def _rg(cfg: DataConfig, root: Path, split: str) -> dict[str, dict[str, float]]:
    from longaqa.data.rg import parse_rg_labels

    path = root / f"{split}.txt"
    rows = parse_rg_labels(path)
    if cfg.class_name:
        rows = [r for r in rows if r.class_name.lower() == cfg.class_name.lower()]
    bad = [r for r in rows if abs(r.difficulty + r.execution - r.penalty - r.total) > ROUNDING]
    if bad:
        lines = "; ".join(
            f"line {r.line} ({r.name}): {r.difficulty:g} + {r.execution:g} - {r.penalty:g} != {r.total:g}"
            for r in bad[:10]
        )
        raise LongAQAError(
            f"{path}: sub-scores do not add up to the total (D + E - penalty), which the additive head "
            f"trains on: {lines}{' ...' if len(bad) > 10 else ''}"
        )
    return {r.name: {"difficulty": r.difficulty, "execution": r.execution, "penalty": r.penalty} for r in rows}


def _fisv(cfg: DataConfig, root: Path, split: str) -> dict[str, dict[str, float]]:
    from longaqa.data.fisv import fisv_label_path, parse_fisv_labels

    path = fisv_label_path(root, split)
    rows = parse_fisv_labels(path)
    negative = [name for name, _, _, ded in rows if ded < 0]
    if negative:
        raise LongAQAError(f"{path}: negative deductions for {', '.join(negative[:10])}")
    return {name: {"TES": tes, "PCS": pcs, "deductions": ded} for name, tes, pcs, ded in rows}


def _generic(cfg: DataConfig, root: Path, split: str, columns: tuple[str, ...]) -> dict[str, dict[str, float]]:
    from longaqa.data.generic import LABELS_FILE, _read_rows

    path = root / LABELS_FILE if (root / LABELS_FILE).is_file() else root / f"{split}.csv"
    if not path.is_file():
        raise LongAQAError(f"{root}: label file not found (expected {LABELS_FILE} or {split}.csv)")
    header, rows = _read_rows(path)
    wanted = [c.lower() for c in columns]
    missing = [c for c, w in zip(columns, wanted) if w not in header]
    if missing:
        raise LongAQAError(
            f"{path}: data.subscores={cfg.subscores} needs the column(s) {', '.join(missing)}; "
            f"the header has {','.join(header)}"
        )
    i_name = header.index("name")
    i_split = header.index("split") if "split" in header and path.name == LABELS_FILE else None
    out, problems = {}, []
    for number, row in rows:
        if len(row) < len(header) or (i_split is not None and row[i_split].strip().lower() != split):
            continue
        values = {}
        for column, key in zip(columns, wanted):
            try:
                values[column] = float(row[header.index(key)])
            except ValueError:
                values[column] = math.nan
            if not math.isfinite(values[column]):
                problems.append(f"line {number}: non-numeric {column} {row[header.index(key)]!r}")
        out[row[i_name].strip()] = values
    if problems:
        raise LongAQAError(f"{path}: malformed sub-scores: " + "; ".join(problems[:10]))
    return out


def load_subscores(cfg: DataConfig, root: Path, split: str, sheet: ScoreSheet) -> dict[str, dict[str, float]]:
    """Video name -> the raw sub-scores ``sheet`` trains on (``{}`` when it has none)."""
    names = sheet.subscore_names()
    if not names:
        return {}
    if cfg.layout == "generic":
        subs = _generic(cfg, root, split, names)
    elif cfg.layout == sheet.columns:
        subs = {"rg": _rg, "fisv": _fisv}[cfg.layout](cfg, root, split)
    else:
        raise LongAQAError(f"data.layout {cfg.layout} has no {sheet.name} sub-scores (data.subscores)")
    return subs


def sheet_total(sheet: ScoreSheet, subscores: dict[str, float]) -> float:
    """The total the sheet makes of a video's raw sub-scores (RG D + E - penalty)."""
    if sheet.columns == "rg":
        return subscores["difficulty"] + subscores["execution"] - subscores["penalty"]
    if sheet.columns == "fisv":
        return subscores["TES"] + subscores["PCS"] - subscores["deductions"]
    raise LongAQAError(f"score sheet {sheet.name} has no sub-scores")
