"""Planning a table's cells: one training run per (row, benchmark, seed), keyed by what it trains.

Run folders are keyed by a hash of the resolved config (seed and runtime-only keys aside) and the data
folder, so a cell shared by several tables (Table 1's RG "Ours" is Table 3's last row) is one run.
"""

from __future__ import annotations

import copy
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from longaqa.config import Config, load_config
from longaqa.errors import LongAQAError
from longaqa.reproduce.tables import Column, Row, Table

RUNTIME_KEYS = {
    "train": ("device", "num_threads", "cpu_malloc", "features_on_device", "progress", "tensorboard",
              "checkpoint_every", "checkpoint_seconds")
}
"""Keys that do not change results; left out of a cell's identity."""

ADDED_KEYS = {"model": {"cross_attention_window": 0}}
"""Keys added after cells were first hashed, with the value that behaves as before: left out of a cell's
identity at that value, so finished cells keep their identity."""


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
    """Every cell of ``tables`` x ``seeds``, ordered column by column (so data loads can be shared).

    A cell's run folder is ``out/runs/<column config>/<identity>/seed<k>``."""
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


def data_key(cfg: Config) -> tuple:
    """What the loaded data of a cell depends on: cells with equal keys can share one load."""
    d = cfg.data
    return (d.layout, d.root, d.features_dir, d.class_name, d.target, d.score_divisor, cfg.model.input_dim)


def check_data(cells: list[Cell], data_root: str | None) -> None:
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
