"""The run folder: its file names, its epoch log, its metrics files, and loading a trained run.

A run folder (``RUN_DIR``) holds::

    config.yaml            the resolved config (every field)
    run.json               where the data was (--data-root) and the package version
    weights.safetensors    the selected weights (train.selection; metadata: selection, epoch,
                           model_config)
    last.safetensors       the weights after the last epoch
    checkpoint.safetensors resumable state (model, optimizer, scheduler, RNG states, epoch, best
                           weights and metric), written atomically every train.checkpoint_every
                           epochs or train.checkpoint_seconds, after the last epoch and on
                           SIGINT/SIGTERM; ``train --resume RUN_DIR`` continues from it
    epochs.csv             one row per epoch: losses (weighted and unweighted), lr, metrics
    tensorboard/           the same scalars as TensorBoard events
    metrics.json           test metrics of the selected weights: srcc, rl2, rl2_x100, mse, mse_raw,
                           n, selection, epoch, split, data_root (undefined metrics: null and a note)
    predictions.csv        name, true, pred (raw score scale) on the test split
    evaluations/<name>/    metrics.json and predictions.csv of ``evaluate --data-root`` on other data
    .longaqa.lock          locked by the process writing the folder (holds its id)

Every later command (evaluate, explain, report, ...) reads this layout.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import math
import sys
from pathlib import Path

import numpy as np

from longaqa.checkpoint import atomic_write, load_weights
from longaqa.config import Config, load_config
from longaqa.data import dataset_root
from longaqa.data.dataset import VideoSample
from longaqa.errors import LongAQAError
from longaqa.models import QueryAQA, model_from_config
from longaqa.threads import set_torch_threads

CONFIG_FILE = "config.yaml"
WEIGHTS_FILE = "weights.safetensors"
LAST_FILE = "last.safetensors"
METRICS_FILE = "metrics.json"
EPOCHS_FILE = "epochs.csv"
PREDICTIONS_FILE = "predictions.csv"
RUN_FILE = "run.json"
CHECKPOINT_FILE = "checkpoint.safetensors"
EVALUATIONS_DIR = "evaluations"
"""``evaluate RUN --data-root OTHER`` writes ``RUN/evaluations/<name>/metrics.json`` and
``predictions.csv`` when OTHER is not the dataset the run was trained on (the run's own files are kept)."""

RUN_MARKS = (CHECKPOINT_FILE, WEIGHTS_FILE, LAST_FILE, METRICS_FILE)
"""Files that make a folder hold a run (``train --out`` refuses it); a folder with only a config,
``run.json`` or an epoch log from a start without a checkpoint is reused."""


class EpochLog:
    """Per-epoch scalars to ``epochs.csv`` and, when available, TensorBoard.

    ``resume_after=N`` continues an existing log: rows after epoch N (written after the checkpoint
    being resumed from) are dropped, and TensorBoard events from epoch N+1 on are purged.
    """

    def __init__(self, run_dir: Path, tensorboard: bool, resume_after: int | None = None):
        self.path = run_dir / EPOCHS_FILE
        self.fields: list[str] | None = None
        if resume_after is not None:
            self.fields = self._keep_rows_up_to(resume_after)
        self.writer = None
        if tensorboard:
            try:
                from torch.utils.tensorboard import SummaryWriter

                purge = resume_after + 1 if resume_after is not None else None
                self.writer = SummaryWriter(str(run_dir / "tensorboard"), purge_step=purge)
            except ImportError:
                self.writer = None

    def _keep_rows_up_to(self, last_epoch: int) -> list[str] | None:
        """Rewrite the log with its complete rows of epochs <= ``last_epoch``; returns its header."""
        if not self.path.is_file():
            return None
        with self.path.open(newline="") as fh:
            reader = csv.DictReader(fh)
            fields = reader.fieldnames
            rows = []
            for row in reader:
                try:
                    epoch = int(float(row["epoch"]))
                except (KeyError, TypeError, ValueError):
                    continue  # a row cut short by a kill
                if epoch <= last_epoch and None not in row.values():
                    rows.append(row)
        if not fields or not rows:
            self.path.unlink()
            return None
        self._rewrite(list(fields), rows)
        return list(fields)

    def _rewrite(self, fields: list[str], rows: list[dict[str, str]]) -> None:
        """Atomically replace the log with ``rows`` under ``fields`` (missing values left empty)."""

        def write(tmp: Path) -> None:
            with tmp.open("w", newline="") as fh:
                writer = csv.DictWriter(fh, fields, restval="")
                writer.writeheader()
                writer.writerows(rows)

        atomic_write(self.path, write)

    def _widen(self, fields: list[str]) -> None:
        """Rewrite the log under a header with more columns (earlier rows leave them empty)."""
        with self.path.open(newline="") as fh:
            rows = list(csv.DictReader(fh))
        self._rewrite(fields, rows)
        self.fields = fields

    def write(self, row: dict[str, float]) -> None:
        try:
            if self.fields is None:
                self.fields = list(row)
                with self.path.open("w", newline="") as fh:
                    csv.DictWriter(fh, self.fields).writeheader()
            elif set(row) - set(self.fields):  # e.g. the first evaluated epoch when eval_every > 1
                self._widen([*self.fields, *(k for k in row if k not in self.fields)])
            with self.path.open("a", newline="") as fh:
                csv.DictWriter(fh, self.fields, extrasaction="ignore").writerow(row)
        except OSError as exc:
            raise LongAQAError(f"{self.path}: could not be written ({exc.strerror})") from None
        if self.writer is not None:
            for key, value in row.items():
                if key != "epoch" and isinstance(value, (int, float)) and math.isfinite(value):
                    self.writer.add_scalar(key.replace("_", "/", 1), value, int(row["epoch"]))
            self.writer.flush()

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


def write_metrics(out: Path, metrics: dict, pred: np.ndarray, samples: list[VideoSample], cfg: Config,
                  selection: str, epoch: int | None, dataset: str | None = None) -> dict:
    """``metrics.json`` and ``predictions.csv`` in ``out``; returns what metrics.json holds. ``dataset``:
    the dataset folder the metrics were computed on (``data_root``). A metric that is undefined there
    is null, with a note that is also printed."""
    result = {
        "srcc": metrics["srcc"],
        "rl2": metrics["rl2"],
        "rl2_x100": metrics["rl2"] * 100,
        "mse": metrics["mse"],
        "mse_raw": metrics["mse_raw"],
        "n": metrics["n"],
        "split": "test",
        "selection": selection,
        "epoch": epoch,
    }
    if "subscores" in metrics:  # the additive head: each sub-score's test metrics
        result["subscores"] = {
            name: {"srcc": m["srcc"], "rl2": m["rl2"], "rl2_x100": m["rl2"] * 100, "mse": m["mse"],
                   "mse_raw": m["mse_raw"]}
            for name, m in metrics["subscores"].items()
        }
    if selection == "best-test":
        result["note"] = "best-test: weights selected on the test set (optimistic; for comparison only)"
    undefined = [key for key, value in result.items() if isinstance(value, float) and not math.isfinite(value)]
    result = finite_json({**result, "data_root": dataset})
    atomic_write(out / METRICS_FILE, lambda tmp: tmp.write_text(json.dumps(result, indent=2) + "\n"))
    if undefined:
        print(f"note: {undefined_note(undefined, result.get('n'))}", file=sys.stderr)

    def write_preds(tmp: Path) -> None:
        with tmp.open("w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(["name", "true", "pred"])
            for s, p in zip(samples, pred):
                w.writerow([s.name, f"{s.score * cfg.data.score_divisor:.6g}", f"{p:.6g}"])

    atomic_write(out / PREDICTIONS_FILE, write_preds)
    return result


def finite_json(result: dict) -> dict:
    """``result`` as valid JSON: a non-finite float (NaN or infinite, which JSON cannot hold) becomes
    None, and ``note`` says which metrics and why (appended to a note already there)."""
    undefined = [key for key, value in result.items() if isinstance(value, float) and not math.isfinite(value)]
    if not undefined:
        return result
    out = {key: None if key in undefined else value for key, value in result.items()}
    note = undefined_note(undefined, result.get("n"))
    out["note"] = f"{out['note']}; {note}" if out.get("note") else note
    return out


def undefined_note(keys: list[str], n) -> str:
    return (
        f"{', '.join(keys)} undefined (null) on these {n} video(s): Spearman's rho needs at least 2 videos "
        "whose true scores, and whose predictions, are not all equal; relative L2 needs true scores "
        "that are not all equal"
    )


def dataset_folder(cfg: Config, data_root: str | Path | None) -> str | None:
    """The dataset folder (resolved) that ``data_root`` and ``data.root`` point to; None if missing."""
    try:
        return str(dataset_root(cfg.data, data_root).resolve())
    except (LongAQAError, OSError):
        return None


def weights_epoch(metadata: dict[str, str], path: Path) -> int | None:
    """The ``epoch`` of a weights file's metadata (None when absent); anything but a whole number >= 0
    is refused, naming the file."""
    epoch = metadata.get("epoch")
    if epoch is None or epoch == "":
        return None
    if not (isinstance(epoch, str) and epoch.isascii() and epoch.isdigit() and len(epoch) < 10):
        raise LongAQAError(
            f"{path}: metadata epoch {str(epoch)[:40]!r} is not a whole number >= 0; the file is corrupt or "
            "was edited"
        )
    return int(epoch)


def load_run(run_dir: str | Path) -> tuple[Config, QueryAQA, dict[str, str]]:
    """The run's resolved config and its model with the selected weights (CPU, eval mode)."""
    run = Path(run_dir)
    if not (run / CONFIG_FILE).is_file():
        raise LongAQAError(f"{run}: not a run folder (no {CONFIG_FILE})")
    cfg = load_config(run / CONFIG_FILE)
    set_torch_threads(cfg.train.num_threads)  # evaluate, score, explain, report: as training
    model = model_from_config(cfg)
    metadata = load_weights(model, run / WEIGHTS_FILE, dataclasses.asdict(cfg.model))
    weights_epoch(metadata, run / WEIGHTS_FILE)
    return cfg, model.eval(), metadata


def run_data_root(run_dir: Path, data_root: str | Path | None) -> str | None:
    if data_root is not None:
        return str(data_root)
    info = Path(run_dir) / RUN_FILE
    if not info.is_file():
        try:
            absolute = Path(load_config(Path(run_dir) / CONFIG_FILE).data.root).is_absolute()
        except LongAQAError:
            absolute = False
        if absolute:  # data.root names the dataset by itself
            return None
        raise LongAQAError(
            f"{info}: not found, so the dataset folder the run was trained on is unknown; pass --data-root DIR"
        )
    try:
        recorded = json.loads(info.read_text(encoding="utf-8"))
    except (ValueError, OSError) as exc:
        raise LongAQAError(f"{info}: unreadable ({str(exc)[:100]}); pass --data-root") from None
    root = recorded.get("data_root") if isinstance(recorded, dict) else None
    if root is not None and not isinstance(root, str):
        raise LongAQAError(
            f"{info}: data_root must be a folder name or null, got {type(root).__name__}; pass --data-root DIR"
        )
    return root
