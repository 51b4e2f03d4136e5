"""The paper's tables as grids: rows (variants) x columns (benchmarks), and the paper's numbers for them.

A *table* has rows (a variant: zero or more config overlays, layered on the benchmark config) and
columns (benchmarks: a config under ``configs/`` and the group they are averaged in). The numbers the
paper prints for each row are data, ``configs/paper/paper_numbers.csv``, attached to the tables by
:func:`with_paper_numbers`.
"""

from __future__ import annotations

import csv
import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

from longaqa.errors import LongAQAError

PAPER_NUMBERS_FILE = "paper/paper_numbers.csv"
"""The paper's numbers, relative to the configs folder."""


@dataclass(frozen=True)
class Column:
    """One benchmark: a config file (relative to the configs folder), averaged within ``group``."""

    name: str
    group: str
    config: str


@dataclass(frozen=True)
class Row:
    """One variant: overlay files layered on each column's config, and the paper's numbers.

    ``paper`` maps a column name, or ``avg:<group>`` for a group's plain class average, to
    ``{metric: value}``.
    """

    name: str
    overlays: tuple[str, ...] = ()
    paper: dict[str, dict[str, float]] = field(default_factory=dict)


@dataclass(frozen=True)
class Table:
    name: str
    title: str
    columns: tuple[Column, ...]
    rows: tuple[Row, ...]
    metrics: tuple[str, ...] = ("srcc",)
    paper_source: str = ""
    """Where the paper prints the rows' numbers, e.g. ``Table 3``."""


RG = tuple(Column(c, "RG", f"rg/{c.lower()}.yaml") for c in ("Ball", "Clubs", "Hoop", "Ribbon"))
FISV = (Column("TES", "Fis-V", "fisv/tes.yaml"), Column("PCS", "Fis-V", "fisv/pcs.yaml"))
LOGO = (Column("VST", "LOGO-VST", "logo.yaml"), Column("I3D", "LOGO-I3D", "logo_i3d.yaml"))

AUTHORS_DEPARTURES = (
    ("query_resample", "queries redrawn every forward, test too (std 2)"),
    ("query_pos_content", "query PE + batch item 0's content"),
    ("pre_norm", "pre-norm layers + final LayerNorm"),
    ("attention_dropout", "dropout 0.7 on attention probabilities"),
    ("residual_bug", "no skip path after self-attention"),
    ("no_padding_mask", "no padding mask"),
    ("random_crop_eval", "random crop at test time"),
    ("att_kl_reverse", "KL(P_cross || P_self)"),
    ("att_sum", "attention loss summed, not averaged"),
    ("prediction_noise", "N(0, 0.05) on predictions"),
    ("step_lr", "StepLR(400, 0.1) per iteration"),
    ("best_test", "best-test selection"),
)
"""Each departure of the authors' code: its overlay ``configs/authors/<name>.yaml`` and its row label."""

TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        Table("table1", "Table 1: SRCC on Rhythmic Gymnastics and Fis-V", RG + FISV, (Row("Ours"),)),
        Table("table2", "Table 2: LOGO with Video Swin (VST) and I3D features", LOGO, (Row("Ours"),),
              metrics=("srcc", "rl2_x100")),
        Table(
            "table3", "Table 3: ablation on RG (SRCC, average of the four classes)", RG,
            (
                Row("Baseline", ("paper/table3/baseline.yaml",)),
                Row("+ attention loss", ("paper/table3/att_loss.yaml",)),
                Row("+ query PE", ("paper/table3/att_loss_query_pe.yaml",)),
                Row("+ query init (Ours)", ("paper/table3/full.yaml",)),
            ),
        ),
        Table(
            "table4", "Table 4: positional encoding on RG (SRCC, average of the four classes)", RG,
            (
                Row("no PE", ("paper/table4/none.yaml",)),
                Row("memory PE", ("paper/table4/memory.yaml",)),
                Row("query + memory PE", ("paper/table4/query_memory.yaml",)),
                Row("query PE (Ours)", ("paper/table4/query.yaml",)),
            ),
        ),
        Table(
            "table5", "Table 5: query initialisation spread on RG (SRCC, average of the four classes)", RG,
            tuple(Row(f"spread {v}", (f"paper/table5/variance_{v}.yaml",)) for v in ("0.5", "1", "3", "5")),
        ),
        Table(
            "authors", "The authors' code, departure by departure, on RG (SRCC)", RG,
            (
                Row("paper (this package's defaults)"),
                *(Row(f"+ {label}", (f"authors/{name}.yaml",)) for name, label in AUTHORS_DEPARTURES),
                Row("all departures (authors' code)", ("presets/authors.yaml",)),
            ),
        ),
    )
}
"""Every table ``longaqa reproduce`` trains, by name; without the paper's numbers (see
:func:`with_paper_numbers`)."""

ALIASES = {str(i): f"table{i}" for i in range(1, 6)}


def resolve_tables(name: str) -> list[Table]:
    key = ALIASES.get(name.lower(), name.lower())
    if key == "all":
        return list(TABLES.values())
    if key not in TABLES:
        raise LongAQAError(f"unknown table {name!r}; choose one of {', '.join([*TABLES, 'all'])}")
    return [TABLES[key]]


def default_configs_dir() -> Path:
    """``configs/`` of a source checkout (where the package is installed editable), else ``./configs``."""
    here = Path(__file__).resolve().parents[3] / "configs"
    return here if here.is_dir() else Path("configs")


def with_paper_numbers(tables: list[Table], configs_dir: Path) -> list[Table]:
    """``tables`` with each row's paper numbers and each table's source read from the configs folder's
    :data:`PAPER_NUMBERS_FILE` (columns ``table, source, row, benchmark, metric, value``; ``benchmark``
    is a column or ``avg:<group>``, a group's plain class average), checked against the tables."""
    path = configs_dir / PAPER_NUMBERS_FILE
    try:
        with path.open(newline="", encoding="utf-8") as fh:
            lines = list(csv.DictReader(fh))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise LongAQAError(f"{path}: the paper's numbers cannot be read ({exc})") from None
    numbers: dict[str, dict[str, dict[str, dict[str, float]]]] = {}
    sources: dict[str, set[str]] = {}
    for i, line in enumerate(lines, start=2):
        table, row, benchmark, metric = (line.get(k) or "" for k in ("table", "row", "benchmark", "metric"))
        by_metric = numbers.setdefault(table, {}).setdefault(row, {}).setdefault(benchmark, {})
        problem = _paper_line_problem(line)
        if not problem and metric in by_metric:
            problem = f"{table}: {row} {benchmark} {metric} given twice"
        if problem:
            raise LongAQAError(f"{path}, line {i}: {problem}")
        by_metric[metric] = float(line["value"])
        sources.setdefault(table, set()).add(line.get("source") or "")
    out = []
    for table in tables:
        source = sources.get(table.name, set())
        if len(source) != 1 or "" in source:
            raise LongAQAError(f"{path}: table {table.name} needs lines with one source (where the paper "
                               f"prints its numbers), found {sorted(source)}")
        rows = numbers[table.name]
        out.append(dataclasses.replace(
            table, paper_source=next(iter(source)),
            rows=tuple(dataclasses.replace(r, paper=rows.get(r.name, {})) for r in table.rows),
        ))
    return out


def _paper_line_problem(line: dict[str, str]) -> str:
    """What is wrong with one line of the paper's numbers, or ``""``."""
    table = TABLES.get(line.get("table") or "")
    if table is None:
        return f"unknown table {line.get('table')!r}; tables: {', '.join(TABLES)}"
    benchmarks = [c.name for c in table.columns] + list(dict.fromkeys(f"avg:{c.group}" for c in table.columns))
    for key, allowed in (("row", [r.name for r in table.rows]), ("benchmark", benchmarks), ("metric", table.metrics)):
        if line.get(key) not in allowed:
            return f"{table.name}: {key} {line.get(key)!r} is not one of {', '.join(allowed)}"
    try:
        float(line.get("value") or "")
    except ValueError:
        return f"{table.name}: value {line.get('value')!r} is not a number"
    return ""
