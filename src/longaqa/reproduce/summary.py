"""A table's summary, read back from its finished run folders: ``<table>.md`` and ``<table>.csv``.

Per cell, the metric's mean ± std over seeds; per benchmark group, the class average per seed as a plain
mean (as the paper) and through Fisher's z, then over seeds; beside each line the selection protocol of
its runs and the paper's number from that row's own table.

CSV columns: ``table, row, benchmark, kind, metric, mean, std, n_seeds, seeds, selection, paper,
paper_source``; ``kind`` is ``cell``, ``mean`` (plain class average) or ``fisher_z``. The CSV also
carries every cell's ``rl2_x100``, ``mse`` and ``mse_raw`` (MSE on the raw score scale).
"""

from __future__ import annotations

import csv
import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from longaqa.errors import LongAQAError
from longaqa.metrics import fisher_z_mean
from longaqa.numbers import format_number, plus_minus
from longaqa.reproduce.cells import Cell
from longaqa.reproduce.tables import Column, Table

METRIC_LABELS = {"srcc": "SRCC", "rl2_x100": "R-l2 x100"}
CSV_EXTRA_METRICS = ("rl2_x100", "mse", "mse_raw")
"""Per-cell metrics the CSV carries besides the table's own (``mse_raw``: MSE on the raw score scale)."""
SELECTION_LABELS = {
    "last": "last epoch (nothing selected on the test set)",
    "val": "best epoch on a validation split carved from train (nothing selected on the test set)",
    "best-test": "best-test: best epoch ON THE TEST SET (optimistic; for comparison with the paper only)",
}
CSV_HEADER = ["table", "row", "benchmark", "kind", "metric", "mean", "std", "n_seeds", "seeds", "selection",
              "paper", "paper_source"]


def metric_value(value) -> float:
    """A metric read from ``metrics.json``: null (undefined on that split) is NaN."""
    return math.nan if value is None else float(value)


def _mean_std(values: list[float]) -> tuple[float, float]:
    a = np.asarray(values, dtype=np.float64)
    return float(a.mean()), float(a.std(ddof=1)) if len(a) > 1 else math.nan


@dataclass
class Line:
    """One line of a summary: a metric over seeds for one cell (``kind`` ``cell``) or one group average."""

    row: str
    benchmark: str
    kind: str
    metric: str
    values: list[float]
    seeds: list[int]
    selection: str
    paper: float | None

    @property
    def mean_std(self) -> tuple[float, float]:
        return _mean_std(self.values)


def summarize(table: Table, cells: list[Cell]) -> list[Line]:
    """Per cell and per group average, the metric over seeds, read back from the run folders."""
    from longaqa.training import METRICS_FILE

    mine = [c for c in cells if c.table == table.name]
    lines: list[Line] = []
    for row in table.rows:
        per_column: dict[str, dict[int, dict]] = {}
        for cell in (c for c in mine if c.row is row):
            path = cell.run_dir / METRICS_FILE
            if not path.is_file():
                raise LongAQAError(f"{path}: missing; the run did not finish")
            per_column.setdefault(cell.column.name, {})[cell.seed] = json.loads(path.read_text())
        groups: dict[str, list[Column]] = {}
        for column in table.columns:
            groups.setdefault(column.group, []).append(column)
        for group, columns in groups.items():
            seeds = sorted(per_column[columns[0].name])
            for metric in table.metrics:
                for column in columns:
                    runs = per_column[column.name]
                    lines.append(Line(
                        row.name, column.name, "cell", metric, [metric_value(runs[s][metric]) for s in seeds],
                        seeds, _selection(runs.values()), row.paper.get(column.name, {}).get(metric),
                    ))
                if len(columns) < 2:
                    continue
                selection = _selection(r for c in columns for r in per_column[c.name].values())
                matrix = [[metric_value(per_column[c.name][s][metric]) for c in columns] for s in seeds]
                paper = row.paper.get(f"avg:{group}", {}).get(metric)
                lines.append(Line(row.name, f"{group} avg", "mean", metric,
                                  [float(np.mean(m)) for m in matrix], seeds, selection, paper))
                if metric == "srcc":
                    lines.append(Line(row.name, f"{group} avg", "fisher_z", metric,
                                      [fisher_z_mean(m) for m in matrix], seeds, selection, None))
            for metric in (m for m in CSV_EXTRA_METRICS if m not in table.metrics):  # CSV only
                for column in columns:
                    runs = per_column[column.name]
                    values = [metric_value(runs[s][metric]) for s in seeds]
                    lines.append(Line(row.name, column.name, "cell", metric, values, seeds,
                                      _selection(runs.values()), None))
    return lines


def _selection(results) -> str:
    found = sorted({str(r.get("selection")) for r in results})
    return "+".join(found)


def write_table(table: Table, lines: list[Line], out: Path, seeds: int) -> tuple[Path, Path]:
    """``OUT/<table>.md`` and ``OUT/<table>.csv``."""
    csv_path, md_path = out / f"{table.name}.csv", out / f"{table.name}.md"
    _write_csv(table, lines, csv_path)
    md_path.write_text(markdown(table, lines, seeds), encoding="utf-8")
    return md_path, csv_path


def _write_csv(table: Table, lines: list[Line], path: Path) -> None:
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(CSV_HEADER)
        for line in lines:
            mean, std = line.mean_std
            w.writerow([table.name, line.row, line.benchmark, line.kind, line.metric, f"{mean:.6g}",
                        f"{std:.6g}", len(line.values), " ".join(map(str, line.seeds)), line.selection,
                        "" if line.paper is None else f"{line.paper:g}",
                        table.paper_source if line.paper is not None else ""])


def markdown(table: Table, lines: list[Line], seeds: int) -> str:
    """The summary as a markdown table, headed by the selection protocols and where the paper's numbers
    come from; a ``best-test`` selection is in bold wherever it appears."""
    selections = sorted({s for line in lines for s in line.selection.split("+")})
    kind_label = {"cell": "", "mean": " (plain mean, as the paper)", "fisher_z": " (Fisher z)"}
    md = [f"# {table.title}", ""]
    md.append(f"Mean ± std over {seeds} seed(s) on the test split. Selection protocol: "
              + "; ".join(f"`{s}` = {SELECTION_LABELS.get(s, s)}" for s in selections) + ".")
    md.append(f"Paper: the number printed in {table.paper_source} for that row (the paper's tables "
              "disagree with each other; each row quotes its own table). Class averages are given as a plain "
              "mean (as the paper) and through Fisher's z.")
    md.append("")
    header = ["row", "benchmark"]
    for metric in table.metrics:
        header += [METRIC_LABELS[metric], f"paper {METRIC_LABELS[metric]}"]
    header.append("selection")
    md.append("| " + " | ".join(header) + " |")
    md.append("|" + "---|" * len(header))
    keyed: dict[tuple[str, str, str], dict[str, Line]] = {}
    for line in lines:
        keyed.setdefault((line.row, line.benchmark, line.kind), {})[line.metric] = line
    for (row, benchmark, kind), by_metric in keyed.items():
        cells = [row, benchmark + kind_label[kind]]
        selection = ""
        for metric in table.metrics:
            line = by_metric.get(metric)
            if line is None:
                cells += ["", ""]
                continue
            mean, std = line.mean_std
            shown = plus_minus(mean, std) if len(line.values) > 1 else format_number(mean, missing="–")
            cells += [shown, format_number(line.paper, missing="–")]
            selection = line.selection
        label = f"**{selection}** (selected on test)" if "best-test" in selection else selection
        md.append("| " + " | ".join(cells + [label]) + " |")
    return "\n".join(md) + "\n"
