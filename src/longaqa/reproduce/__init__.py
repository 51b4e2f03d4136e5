"""Reproducing the paper's tables: a grid of (row, benchmark, seed) training runs and its summary.

``tables`` defines the tables (and reads the paper's numbers, ``configs/paper/paper_numbers.csv``),
``cells`` plans their training runs, ``summary`` writes what they gave; :func:`reproduce` runs the
three in turn. Each cell is trained once per seed with :func:`longaqa.training.fit`; a cell shared by
several tables is trained once, and a cell already finished in ``OUT`` is skipped. Layout of ``OUT``::

    runs/<column>/<hash>/seed<k>/   one run folder per cell and seed (see longaqa.training)
    <table>.md, <table>.csv         the summary: mean ± std over seeds per cell, group averages as a
                                    plain mean (as the paper) and through Fisher's z, the selection
                                    protocol of every line, and the paper's number from that row's table
    reproduce.yaml                  the last call: tables, seeds, overrides, data and configs folders
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

import yaml

from longaqa.errors import LongAQAError
from longaqa.reproduce.cells import ADDED_KEYS, RUNTIME_KEYS, Cell, check_data, data_key, identity, plan
from longaqa.reproduce.summary import Line, metric_value, summarize, write_table
from longaqa.reproduce.tables import (
    AUTHORS_DEPARTURES,
    TABLES,
    Column,
    Row,
    Table,
    default_configs_dir,
    resolve_tables,
    with_paper_numbers,
)

__all__ = [
    "ADDED_KEYS", "AUTHORS_DEPARTURES", "RUNTIME_KEYS", "TABLES", "Cell", "Column", "Line", "Row", "Table",
    "default_configs_dir", "identity", "plan", "reproduce", "resolve_tables", "run_cells", "summarize",
    "with_paper_numbers", "write_table",
]


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
        if data_key(cell.cfg) != cache_key:
            cache = None  # free the previous benchmark's features before loading the next
            cache = load_train_test(cell.cfg.data, data_root, cell.cfg.model.input_dim)
            cache_key = data_key(cell.cfg)
        start = time.perf_counter()
        metrics = fit(cell.cfg, cell.run_dir, data_root, data=cache, resume=resume)
        log(
            f"reproduce: [{i}/{len(todo)}] {cell.column.group} {cell.column.name} | {cell.row.name} | "
            f"seed {cell.seed}: srcc {metric_value(metrics['srcc']):.3f} ({time.perf_counter() - start:.0f} s) "
            f"-> {cell.run_dir}"
        )


def run_grouped(cells: list[Cell], data_root: str | None, out: Path, group: int, executor: str,
                devices: int | None, options: dict[str, str], log: Callable[[str], None]) -> None:
    """Train every cell not finished yet in groups of at most ``group`` runs, through ``executor``."""
    from longaqa.reproduce.groups import plan_groups, run_groups
    from longaqa.training import METRICS_FILE

    unique: dict[Path, Cell] = {}
    for cell in cells:
        unique.setdefault(cell.run_dir, cell)
    todo = [c for c in unique.values() if not (c.run_dir / METRICS_FILE).is_file()]
    log(f"reproduce: {len(unique)} runs, {len(unique) - len(todo)} already finished, {len(todo)} to train")
    if not todo:
        return
    size = int(group)
    jobs = plan_groups([c.cfg for c in todo], [c.run_dir for c in todo], out, data_root, size)
    log(f"reproduce: {len(jobs)} groups (at most {size} runs each), executor {executor}")
    run_groups(jobs, executor, out, devices, options, log)


def reproduce(
    table: str, data_root: str | None, out: str | Path, seeds: int = 1, overrides: list[str] | None = None,
    configs_dir: str | Path | None = None, dry_run: bool = False, log: Callable[[str], None] | None = None,
    group: str | int = 1, executor: str = "inline", devices: int | None = None,
    executor_options: dict[str, str] | None = None,
) -> list[Path]:
    """Train every missing cell of ``table`` (or ``all``) and write its markdown and CSV summaries.

    ``group``: at most that many runs trained as one group (``longaqa.group``; ``"auto"``: as many as
    the device holds; 1: one run after another, as before groups existed); ``executor``, ``devices``
    and ``executor_options``: where the groups run (:mod:`longaqa.reproduce.groups`).
    Returns the written files (none on a dry run, which prints the grid and what is finished).
    """
    log = log or (lambda msg: print(msg, file=sys.stderr))
    tables = resolve_tables(table)
    configs = Path(configs_dir) if configs_dir is not None else default_configs_dir()
    if not configs.is_dir():
        raise LongAQAError(f"{configs}: configs folder not found (pass --configs DIR)")
    tables = with_paper_numbers(tables, configs)
    out = Path(out)
    cells = plan(tables, configs, data_root, out, seeds, list(overrides or []))
    if dry_run:  # the listing is the output: stdout
        for cell in cells:
            done = (cell.run_dir / "metrics.json").is_file()
            layers = " + ".join(str(p.relative_to(configs)) for p in cell.layers)
            print(f"{cell.table} | {cell.row.name} | {cell.column.name} | seed {cell.seed} | {layers} | "
                  f"{'done' if done else 'todo'} | {cell.run_dir}")
        return []
    check_data(cells, data_root)
    out.mkdir(parents=True, exist_ok=True)
    if group == "auto":
        from longaqa.group.sizing import auto_group_size

        group = auto_group_size(cells[0].cfg) if cells else 1
    if group == 1 and executor == "inline":
        run_cells(cells, data_root, log)
    else:
        run_grouped(cells, data_root, out, group, executor, devices, executor_options or {}, log)
    written = []
    for t in tables:
        written += write_table(t, summarize(t, cells), out, seeds)
    (out / "reproduce.yaml").write_text(yaml.safe_dump({
        "tables": [t.name for t in tables], "seeds": seeds, "overrides": list(overrides or []),
        "data_root": str(Path(data_root).resolve()) if data_root is not None else None,
        "configs": str(configs.resolve()),
    }, sort_keys=False))
    return written
