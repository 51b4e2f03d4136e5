"""Reproducing the paper's tables: a grid of (row, benchmark, seed) training runs and its summary.

A *table* has rows (a variant: zero or more config overlays, layered on the benchmark config) and
columns (benchmarks: a config under ``configs/`` and the group they are averaged in). Each cell is
trained once per seed with :func:`longaqa.training.fit`. Run folders are keyed by a hash of the
resolved config (seed and runtime-only keys aside) and the data folder, so a cell shared by several
tables (Table 1's RG "Ours" is Table 3's last row) is trained once, and a cell already finished in
``OUT`` is skipped. Layout of ``OUT``::

    runs/<column>/<hash>/seed<k>/   one run folder per cell and seed (see longaqa.training)
    <table>.md, <table>.csv         the summary: mean ± std over seeds per cell, group averages as a
                                    plain mean (as the paper) and through Fisher's z, the selection
                                    protocol of every line, and the paper's number from that row's table
    reproduce.yaml                  the last call: tables, seeds, overrides, data and configs folders

CSV columns: ``table, row, benchmark, kind, metric, mean, std, n_seeds, seeds, selection, paper,
paper_source``; ``kind`` is ``cell``, ``mean`` (plain class average) or ``fisher_z``. The CSV also
carries every cell's ``rl2_x100``, ``mse`` and ``mse_raw`` (MSE on the raw score scale).
"""

from __future__ import annotations

import copy
import csv
import hashlib
import json
import math
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import yaml

from longaqa.config import Config, load_config
from longaqa.errors import LongAQAError
from longaqa.metrics import fisher_z_mean

RUNTIME_KEYS = {
    "train": ("device", "num_threads", "cpu_malloc", "features_on_device", "progress", "tensorboard",
              "checkpoint_every", "checkpoint_seconds")
}
"""Keys that do not change results; left out of a cell's identity."""

ADDED_KEYS = {"model": {"cross_attention_window": 0}}
"""Keys added after cells were first hashed, with the value that behaves as before: left out of a cell's
identity at that value, so finished cells keep their identity."""

METRIC_LABELS = {"srcc": "SRCC", "rl2_x100": "R-l2 x100"}
CSV_EXTRA_METRICS = ("rl2_x100", "mse", "mse_raw")
"""Per-cell metrics the CSV carries besides the table's own (``mse_raw``: MSE on the raw score scale)."""
SELECTION_LABELS = {
    "last": "last epoch (nothing selected on the test set)",
    "val": "best epoch on a validation split carved from train (nothing selected on the test set)",
    "best-test": "best-test: best epoch ON THE TEST SET (optimistic; for comparison with the paper only)",
}


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


RG = tuple(Column(c, "RG", f"rg/{c.lower()}.yaml") for c in ("Ball", "Clubs", "Hoop", "Ribbon"))
FISV = (Column("TES", "Fis-V", "fisv/tes.yaml"), Column("PCS", "Fis-V", "fisv/pcs.yaml"))
LOGO = (Column("VST", "LOGO-VST", "logo.yaml"), Column("I3D", "LOGO-I3D", "logo_i3d.yaml"))


def _srcc(**values: float) -> dict[str, dict[str, float]]:
    return {k.replace("avg_", "avg:").replace("FisV", "Fis-V"): {"srcc": v} for k, v in values.items()}


def _rg_avg(value: float) -> dict[str, dict[str, float]]:
    return {"avg:RG": {"srcc": value}}


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

TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        Table(
            "table1", "Table 1: SRCC on Rhythmic Gymnastics and Fis-V", RG + FISV,
            (Row("Ours", (), _srcc(Ball=0.823, Clubs=0.852, Hoop=0.837, Ribbon=0.857, avg_RG=0.842,
                                   TES=0.717, PCS=0.858, avg_FisV=0.788)),),
            paper_source="Table 1",
        ),
        Table(
            "table2", "Table 2: LOGO with Video Swin (VST) and I3D features", LOGO,
            (Row("Ours", (), {"VST": {"srcc": 0.780, "rl2_x100": 1.745},
                              "I3D": {"srcc": 0.593, "rl2_x100": 1.220}}),),
            metrics=("srcc", "rl2_x100"), paper_source="Table 2",
        ),
        Table(
            "table3", "Table 3: ablation on RG (SRCC, average of the four classes)", RG,
            (
                Row("Baseline", ("paper/table3/baseline.yaml",), _rg_avg(0.628)),
                Row("+ attention loss", ("paper/table3/att_loss.yaml",), _rg_avg(0.807)),
                Row("+ query PE", ("paper/table3/att_loss_query_pe.yaml",), _rg_avg(0.810)),
                Row("+ query init (Ours)", ("paper/table3/full.yaml",), _rg_avg(0.842)),
            ),
            paper_source="Table 3",
        ),
        Table(
            "table4", "Table 4: positional encoding on RG (SRCC, average of the four classes)", RG,
            (
                Row("no PE", ("paper/table4/none.yaml",), _rg_avg(0.758)),
                Row("memory PE", ("paper/table4/memory.yaml",), _rg_avg(0.778)),
                Row("query + memory PE", ("paper/table4/query_memory.yaml",), _rg_avg(0.751)),
                Row("query PE (Ours)", ("paper/table4/query.yaml",), _rg_avg(0.824)),
            ),
            paper_source="Table 4",
        ),
        Table(
            "table5", "Table 5: query initialisation spread on RG (SRCC, average of the four classes)", RG,
            tuple(
                Row(f"spread {v}", (f"paper/table5/variance_{v}.yaml",), _rg_avg(p))
                for v, p in (("0.5", 0.810), ("1", 0.810), ("3", 0.811), ("5", 0.820))
            ),
            paper_source="Table 5",
        ),
        Table(
            "authors", "The authors' code, departure by departure, on RG (SRCC)", RG,
            (
                Row("paper (this package's defaults)", (), _srcc(Ball=0.823, Clubs=0.852, Hoop=0.837,
                                                              Ribbon=0.857, avg_RG=0.842)),
                *(Row(f"+ {label}", (f"authors/{name}.yaml",)) for name, label in AUTHORS_DEPARTURES),
                Row("all departures (authors' code)", ("presets/authors.yaml",),
                    _srcc(Ball=0.823, Clubs=0.852, Hoop=0.837, Ribbon=0.857, avg_RG=0.842)),
            ),
            paper_source="Table 1 (the authors' reported numbers)",
        ),
    )
}

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
    here = Path(__file__).resolve().parents[2] / "configs"
    return here if here.is_dir() else Path("configs")


@dataclass
class Cell:
    table: str
    row: Row
    column: Column
    seed: int
    layers: list[Path]
    cfg: Config
    run_dir: Path


def identity(cfg: Config, data_root: str | None) -> str:
    """Hash of a resolved config (without seed and runtime-only keys) and the data folder."""
    d = cfg.to_dict()
    d["train"] = {k: v for k, v in d["train"].items() if k not in (*RUNTIME_KEYS["train"], "seed")}
    for section, defaults in ADDED_KEYS.items():
        d[section] = {k: v for k, v in d[section].items() if k not in defaults or v != defaults[k]}
    d["_data_root"] = str(Path(data_root).resolve()) if data_root is not None else None
    return hashlib.sha256(json.dumps(d, sort_keys=True).encode()).hexdigest()[:10]


def plan(
    tables: list[Table], configs_dir: Path, data_root: str | None, out: Path, seeds: int,
    overrides: list[str],
) -> list[Cell]:
    """Every cell of ``tables`` x ``seeds``, ordered column by column (so data loads can be shared)."""
    if seeds < 1:
        raise LongAQAError(f"--seeds must be >= 1, got {seeds}")
    cells = []
    for table in tables:
        for column in table.columns:
            for row in table.rows:
                layers = [configs_dir / column.config, *(configs_dir / o for o in row.overlays)]
                for layer in layers:
                    if not layer.is_file():
                        raise LongAQAError(f"{layer}: config of table {table.name} not found "
                                           f"(--configs {configs_dir})")
                base = load_config(layers, overrides)
                key = identity(base, data_root)
                for k in range(seeds):
                    seed = base.train.seed + k
                    cfg = copy.deepcopy(base)
                    cfg.train.seed = seed
                    folder = column.config.removesuffix(".yaml").replace("/", "-")
                    run_dir = out / "runs" / folder / key / f"seed{seed}"
                    cells.append(Cell(table.name, row, column, seed, layers, cfg, run_dir))
    cells.sort(key=lambda c: (c.column.config, str(c.run_dir)))
    return cells


def _data_key(cfg: Config) -> tuple:
    d = cfg.data
    return (d.layout, d.root, d.features_dir, d.class_name, d.target, d.score_divisor, cfg.model.input_dim)


def run_cells(cells: list[Cell], data_root: str | None, log: Callable[[str], None] = print) -> None:
    """Train every cell not finished yet (``metrics.json`` present); an interrupted run folder is
    continued from its checkpoint (``fit(resume=True)``), to the result an uninterrupted run gives."""
    from longaqa.data import load_train_test
    from longaqa.training import CONFIG_FILE, METRICS_FILE, fit

    unique: dict[Path, Cell] = {}
    for cell in cells:
        unique.setdefault(cell.run_dir, cell)
    todo = [c for c in unique.values() if not (c.run_dir / METRICS_FILE).is_file()]
    log(f"reproduce: {len(unique)} runs, {len(unique) - len(todo)} already finished, {len(todo)} to train")
    cache_key, cache = None, None
    for i, cell in enumerate(todo, start=1):
        resume = (cell.run_dir / CONFIG_FILE).is_file()
        if resume:
            log(f"reproduce: {cell.run_dir} was left unfinished; continuing it")
        if _data_key(cell.cfg) != cache_key:
            cache = None  # free the previous benchmark's features before loading the next
            cache = load_train_test(cell.cfg.data, data_root, cell.cfg.model.input_dim)
            cache_key = _data_key(cell.cfg)
        start = time.perf_counter()
        metrics = fit(cell.cfg, cell.run_dir, data_root, data=cache, resume=resume)
        log(
            f"reproduce: [{i}/{len(todo)}] {cell.column.group} {cell.column.name} | {cell.row.name} | "
            f"seed {cell.seed}: srcc {_number(metrics['srcc']):.3f} ({time.perf_counter() - start:.0f} s) "
            f"-> {cell.run_dir}"
        )


def _mean_std(values: list[float]) -> tuple[float, float]:
    a = np.asarray(values, dtype=np.float64)
    return float(a.mean()), float(a.std(ddof=1)) if len(a) > 1 else math.nan


@dataclass
class Line:
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


def _number(value) -> float:
    """A metric read from ``metrics.json``: null (undefined on that split) is NaN."""
    return math.nan if value is None else float(value)


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
                        row.name, column.name, "cell", metric, [_number(runs[s][metric]) for s in seeds], seeds,
                        _selection(runs.values()), row.paper.get(column.name, {}).get(metric),
                    ))
                if len(columns) < 2:
                    continue
                selection = _selection(r for c in columns for r in per_column[c.name].values())
                matrix = [[_number(per_column[c.name][s][metric]) for c in columns] for s in seeds]
                paper = row.paper.get(f"avg:{group}", {}).get(metric)
                lines.append(Line(row.name, f"{group} avg", "mean", metric,
                                  [float(np.mean(m)) for m in matrix], seeds, selection, paper))
                if metric == "srcc":
                    lines.append(Line(row.name, f"{group} avg", "fisher_z", metric,
                                      [fisher_z_mean(m) for m in matrix], seeds, selection, None))
            for metric in (m for m in CSV_EXTRA_METRICS if m not in table.metrics):  # CSV only
                for column in columns:
                    runs = per_column[column.name]
                    values = [_number(runs[s][metric]) for s in seeds]
                    lines.append(Line(row.name, column.name, "cell", metric, values, seeds,
                                      _selection(runs.values()), None))
    return lines


def _selection(results) -> str:
    found = sorted({str(r.get("selection")) for r in results})
    return "+".join(found)


def _fmt(value: float | None, digits: int = 3) -> str:
    if value is None:
        return "–"
    if not math.isfinite(value):
        return "nan"
    return f"{value:.{digits}f}"


def write_table(table: Table, lines: list[Line], out: Path, seeds: int) -> tuple[Path, Path]:
    """``OUT/<table>.md`` and ``OUT/<table>.csv``."""
    csv_path, md_path = out / f"{table.name}.csv", out / f"{table.name}.md"
    with csv_path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["table", "row", "benchmark", "kind", "metric", "mean", "std", "n_seeds", "seeds",
                    "selection", "paper", "paper_source"])
        for line in lines:
            mean, std = line.mean_std
            w.writerow([table.name, line.row, line.benchmark, line.kind, line.metric, f"{mean:.6g}",
                        f"{std:.6g}", len(line.values), " ".join(map(str, line.seeds)), line.selection,
                        "" if line.paper is None else f"{line.paper:g}",
                        table.paper_source if line.paper is not None else ""])
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
            cells += [f"{_fmt(mean)} ± {_fmt(std)}" if len(line.values) > 1 else _fmt(mean), _fmt(line.paper)]
            selection = line.selection
        label = f"**{selection}** (selected on test)" if "best-test" in selection else selection
        md.append("| " + " | ".join(cells + [label]) + " |")
    md_path.write_text("\n".join(md) + "\n", encoding="utf-8")
    return md_path, csv_path


def reproduce(
    table: str, data_root: str | None, out: str | Path, seeds: int = 1, overrides: list[str] | None = None,
    configs_dir: str | Path | None = None, dry_run: bool = False, log: Callable[[str], None] | None = None,
) -> list[Path]:
    """Train every missing cell of ``table`` (or ``all``) and write its markdown and CSV summaries.

    Returns the written files (none on a dry run, which prints the grid and what is finished).
    """
    log = log or (lambda msg: print(msg, file=sys.stderr))
    tables = resolve_tables(table)
    configs = Path(configs_dir) if configs_dir is not None else default_configs_dir()
    if not configs.is_dir():
        raise LongAQAError(f"{configs}: configs folder not found (pass --configs DIR)")
    out = Path(out)
    cells = plan(tables, configs, data_root, out, seeds, list(overrides or []))
    if dry_run:  # the listing is the output: stdout
        for cell in cells:
            done = (cell.run_dir / "metrics.json").is_file()
            layers = " + ".join(str(p.relative_to(configs)) for p in cell.layers)
            print(f"{cell.table} | {cell.row.name} | {cell.column.name} | seed {cell.seed} | {layers} | "
                  f"{'done' if done else 'todo'} | {cell.run_dir}")
        return []
    _check_data(cells, data_root)
    out.mkdir(parents=True, exist_ok=True)
    run_cells(cells, data_root, log)
    written = []
    for t in tables:
        written += write_table(t, summarize(t, cells), out, seeds)
    (out / "reproduce.yaml").write_text(yaml.safe_dump({
        "tables": [t.name for t in tables], "seeds": seeds, "overrides": list(overrides or []),
        "data_root": str(Path(data_root).resolve()) if data_root is not None else None,
        "configs": str(configs.resolve()),
    }, sort_keys=False))
    return written


def _check_data(cells: list[Cell], data_root: str | None) -> None:
    """Fail before any training when a benchmark's folder, feature folder or label files are missing."""
    from longaqa.data import dataset_root, load_labels

    seen, problems = set(), []
    for cell in cells:
        d = cell.cfg.data
        if (d.layout, d.root, d.features_dir, d.class_name, d.target) in seen:
            continue
        seen.add((d.layout, d.root, d.features_dir, d.class_name, d.target))
        try:
            root = dataset_root(d, data_root)
        except LongAQAError as exc:
            problems.append(str(exc))
            continue
        if not (root / d.features_dir).is_dir():
            problems.append(f"{root / d.features_dir}: feature folder not found ({cell.column.group} "
                            f"{cell.column.name}, data.features_dir={d.features_dir!r})")
            continue
        for split in ("train", "test"):
            try:
                load_labels(d, root, split)
            except LongAQAError as exc:
                problems.append(str(exc))
    if problems:
        raise LongAQAError("data missing for reproduce: " + "; ".join(problems))
