"""Training and evaluating a run: wires config, data, model, engine and the run folder together.

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

import contextlib
import copy
import csv
import dataclasses
import hashlib
import json
import math
import os
import random
import re
import signal
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from longaqa import __version__, distributed
from longaqa.allocator import keep_freed_memory
from longaqa.checkpoint import (
    ABSENT,
    RunFolderLock,
    atomic_write,
    check_output_folder,
    config_differences,
    format_differences,
    load_checkpoint,
    load_weights,
    save_checkpoint,
    save_weights,
    state_dict_mismatch,
)
from longaqa.config import Config, flatten_config, load_config, save_config
from longaqa.data import dataset_root, load_train_test
from longaqa.data.dataset import VideoSample, carve_validation, samples_on_device
from longaqa.data.validate import check_dataset
from longaqa.engine import NonFiniteLoss, evaluate, model_skipping_index, resolve_precision, train_one_epoch
from longaqa.errors import LongAQAError
from longaqa.losses import Criterion
from longaqa.models import QueryAQA, model_from_config
from longaqa.sheets import training_sheet
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


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise LongAQAError("train.device=cuda but no CUDA device is available")
    return torch.device(name)


def seed_everything(seed: int) -> torch.Generator:
    torch.manual_seed(seed)
    np.random.seed(seed % 2**32)
    return torch.Generator().manual_seed(seed)


def build_optimizer(model: torch.nn.Module, cfg: Config, steps_per_epoch: int):
    t = cfg.train
    # fused: one kernel for all parameters instead of a loop over them (bench/RESULTS.md)
    optimizer = torch.optim.Adam(model.parameters(), lr=t.lr, weight_decay=t.weight_decay, fused=True)
    per_iter = t.scheduler_interval == "iter"
    if t.scheduler == "step":
        scheduler = torch.optim.lr_scheduler.StepLR(optimizer, t.step_size, t.gamma)
    elif t.scheduler == "cosine":
        total = t.epochs * (steps_per_epoch if per_iter else 1)
        scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, max(1, total))
    else:
        scheduler = None
    return optimizer, scheduler, per_iter


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


class TrainingInterrupted(KeyboardInterrupt):
    """Training stopped on SIGINT/SIGTERM; the message says what was saved and how to continue."""


class StopRequest:
    """While active, SIGINT and SIGTERM only set ``requested`` (the signal's name): the loop finishes
    the epoch, saves a checkpoint and stops. A second SIGINT raises KeyboardInterrupt at once."""

    def __init__(self) -> None:
        self.requested: str | None = None
        self._previous: dict[int, object] = {}

    def __enter__(self) -> StopRequest:
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def _handle(self, signum: int, frame) -> None:
        if self.requested is not None and signum == signal.SIGINT:
            raise KeyboardInterrupt
        self.requested = signal.Signals(signum).name
        print(
            f"\nlongaqa: {self.requested} received; finishing this epoch, then saving a checkpoint "
            "(Ctrl-C again stops at once and keeps the previous checkpoint)",
            file=sys.stderr,
            flush=True,
        )

    def __exit__(self, *exc) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)


@dataclass
class TrainingState:
    """What an epoch loop carries from one epoch to the next besides the model and optimizer."""

    epoch: int = 0
    """Epochs completed."""
    best_value: float = -math.inf
    best_epoch: int | None = None
    best_state: dict[str, torch.Tensor] | None = None
    """Weights of the best epoch under ``train.selection`` (val or best-test); None for ``last``."""


RESUMABLE_KEYS = (
    "train.epochs", "train.progress", "train.tensorboard", "train.device", "train.num_threads", "train.cpu_malloc",
    "train.checkpoint_every", "train.checkpoint_seconds",
)
"""Config keys that ``--resume`` may change (``--set``); any other difference is refused."""


def rng_states(generator: torch.Generator, eval_generator: torch.Generator) -> dict:
    states = {
        "torch": torch.get_rng_state(),
        "train_generator": generator.get_state(),
        "eval_generator": eval_generator.get_state(),
        "numpy": np.random.get_state(),
        "python": random.getstate(),
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        states["cuda"] = torch.cuda.get_rng_state_all()
    return states


def restore_rng_states(states: dict, generator: torch.Generator, eval_generator: torch.Generator) -> None:
    torch.set_rng_state(states["torch"])
    generator.set_state(states["train_generator"])
    eval_generator.set_state(states["eval_generator"])
    np.random.set_state(states["numpy"])
    random.setstate(states["python"])
    if "cuda" in states and torch.cuda.is_available() and len(states["cuda"]) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all(states["cuda"])


def save_training_checkpoint(path: Path, cfg: Config, state: TrainingState, model: torch.nn.Module,
                             optimizer, scheduler, generator, eval_generator) -> None:
    """Everything needed to continue training bit for bit, in one atomically written file."""
    for name, param in model.state_dict().items():
        if param.is_floating_point() and not torch.isfinite(param).all():
            raise NonFiniteLoss(
                f"non-finite weights ({name}) after epoch {state.epoch}; not overwriting the last good "
                f"checkpoint {path}"
            )
    save_checkpoint(path, {
        "epoch": state.epoch,
        "best_value": state.best_value,
        "best_epoch": state.best_epoch,
        "best_model": state.best_state,
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "scheduler": scheduler.state_dict() if scheduler is not None else None,
        "rng": rng_states(generator, eval_generator),
        "config": cfg.to_dict(),
        "longaqa_version": __version__,
    })


def resume_checks(run: Path, cfg: Config) -> dict | None:
    """The run's checkpoint (None if it was killed before its first one), after checking that ``cfg``
    differs from the run's config only in :data:`RESUMABLE_KEYS`."""
    if not (run / CONFIG_FILE).is_file():
        raise LongAQAError(f"{run}: not a run folder (no {CONFIG_FILE}); nothing to resume")
    checkpoint = load_checkpoint(run / CHECKPOINT_FILE) if (run / CHECKPOINT_FILE).is_file() else None
    if checkpoint is not None:
        check_checkpoint_state(run / CHECKPOINT_FILE, checkpoint)
    saved = checkpoint["config"] if checkpoint is not None else load_config(run / CONFIG_FILE).to_dict()
    defaults = flatten_config(Config().to_dict())
    changed = [
        (key, a, b) for key, a, b in config_differences(saved, cfg.to_dict())
        if key not in RESUMABLE_KEYS and not (a == ABSENT and defaults.get(key, ABSENT) == b)
    ]  # a key added to longaqa since the run started is fine at its default
    if changed:
        raise LongAQAError(
            f"{run}: the checkpoint was trained with a different configuration "
            f"({format_differences(changed)}); --resume may only change {', '.join(RESUMABLE_KEYS)}"
        )
    if checkpoint is not None:
        state = checkpoint["model"]
        mismatch = state_dict_mismatch(state, model_from_config(cfg).state_dict())
        if mismatch:
            raise LongAQAError(
                f"{run / CHECKPOINT_FILE}: weights do not match the model configuration ({mismatch})"
            )
        done = int(checkpoint["epoch"])
        if cfg.train.epochs < done:
            raise LongAQAError(
                f"{run}: the checkpoint is at epoch {done}, past train.epochs={cfg.train.epochs}; "
                f"extend with --set train.epochs=N (N > {done})"
            )
        if cfg.train.epochs == done and (run / METRICS_FILE).is_file():
            raise LongAQAError(
                f"{run}: already complete ({done} of {done} epochs, {METRICS_FILE} written); "
                f"extend with --set train.epochs=N (N > {done})"
            )
    return checkpoint


CHECKPOINT_KEYS = ("epoch", "best_value", "best_epoch", "best_model", "model", "optimizer", "scheduler", "rng",
                   "config")


def check_checkpoint_state(path: Path, checkpoint: dict) -> None:
    """A checkpoint's state has every key, a whole epoch >= 0 and a config mapping; else it is corrupt."""
    missing = [key for key in CHECKPOINT_KEYS if key not in checkpoint]
    epoch = checkpoint.get("epoch")
    if missing:
        problem = f"missing {', '.join(missing)}"
    elif isinstance(epoch, bool) or not isinstance(epoch, int) or epoch < 0:
        problem = f"epoch {str(epoch)[:40]!r} is not a whole number >= 0"
    elif not isinstance(checkpoint["config"], dict) or not isinstance(checkpoint["model"], dict):
        problem = "config or model is not a mapping"
    else:
        return
    raise LongAQAError(f"{path}: checkpoint state is corrupt ({problem}); resume from a good copy or start anew")


def estimate_run_bytes(model: torch.nn.Module) -> int:
    """Disk a run needs: checkpoint (weights, Adam moments, best weights) twice while it is replaced,
    last and selected weights, plus 16 MiB for logs and predictions."""
    weights = sum(p.numel() * p.element_size() for p in model.state_dict().values())
    return 10 * weights + 16 * 2**20


def fit(
    cfg: Config,
    out_dir: str | Path,
    data_root: str | Path | None = None,
    data: tuple[list[VideoSample], list[VideoSample]] | None = None,
    resume: bool = False,
    quiet: bool = False,
) -> dict:
    """Train a model as ``cfg`` says, write the run folder, return the test metrics of the selection.

    Before any training: an existing run in ``out_dir`` is refused (unless ``resume``), the dataset is
    checked as a whole (:func:`longaqa.data.validate.check_dataset`, all problems in one error), and
    the folder must be writable with enough free space. ``resume=True`` continues ``out_dir`` from its
    checkpoint, to the same result an uninterrupted run would give. SIGINT/SIGTERM finish the epoch,
    save a checkpoint and raise :class:`TrainingInterrupted`; a non-finite loss raises
    :class:`NonFiniteLoss` and keeps the last good checkpoint. Every epoch prints one line to stderr
    (losses, val/test SRCC, seconds, time left) unless ``quiet``.

    The folder is locked (:class:`longaqa.checkpoint.RunFolderLock`) while it is written: a second
    ``train`` on it is refused. Nothing is written into it before the config, the dataset and the
    model have been checked; a folder holding only what a start wrote before its first checkpoint
    (``config.yaml``, ``run.json``, ``epochs.csv``) may be reused by a new ``train --out``.
    """
    out = Path(out_dir)
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        main_process = torch.distributed.get_rank() == 0
    else:  # alone, or under torchrun before the group is set up
        main_process = os.environ.get("RANK", "0") in ("", "0")
    if not main_process or (resume and not out.is_dir()):  # only the main process writes the folder
        return _fit(cfg, out, data_root, data, resume, quiet=True)
    with RunFolderLock(out):
        return _fit(cfg, out, data_root, data, resume, quiet)


RUN_MARKS = (CHECKPOINT_FILE, WEIGHTS_FILE, LAST_FILE, METRICS_FILE)
"""Files that make a folder hold a run (``train --out`` refuses it); a folder with only a config,
``run.json`` or an epoch log from a start without a checkpoint is reused."""


def _fit(cfg: Config, out: Path, data_root, data, resume: bool, quiet: bool) -> dict:
    checkpoint = None
    reused = False
    if resume:
        checkpoint = resume_checks(out, cfg)
    elif any((out / name).exists() for name in RUN_MARKS):
        raise LongAQAError(
            f"{out}: already holds a run; choose another --out, or continue it with --resume {out}"
        )
    else:
        reused = any((out / name).exists() for name in (CONFIG_FILE, RUN_FILE, EPOCHS_FILE))
    shard = distributed.setup(cfg.train.device)  # several processes under torchrun; else None
    if shard is not None and not shard.is_main:  # only rank 0 writes the run folder
        out = distributed.private_output(out, copy_existing=resume)
    check_output_folder(out, 16 * 2**20)  # writable at all, before reading any data
    t = cfg.train
    set_torch_threads(t.num_threads)  # 0: torch's default, capped at the cores this process may use
    device = resolve_device(t.device)
    precision = resolve_precision(t.precision, device)
    if t.precision == "auto" and (shard is None or shard.is_main):
        print(f"train.precision auto: {precision} on {device.type}", file=sys.stderr)
    if device.type == "cpu" and t.cpu_malloc == "reuse":
        keep_freed_memory()
    generator = seed_everything(t.seed)

    # the dataset folder metrics.json names (None: data given in memory, from no named folder)
    dataset = dataset_folder(cfg, data_root) if data is None or data_root is not None else None
    if data is None:
        with os_errors_named():
            loaded = check_dataset(cfg, data_root)  # every problem at once; the arrays it read are reused
            data = load_train_test(cfg.data, data_root, cfg.model.input_dim, loaded, training_sheet(cfg))
    train, test = data
    overflow = [s.name for s in (*train, *test) if not math.isfinite(s.score)]
    if overflow:  # finite raw scores (checked) divided by a tiny data.score_divisor
        raise LongAQAError(
            f"data.score_divisor={cfg.data.score_divisor:g} makes {len(overflow)} score(s) infinite (e.g. "
            f"{overflow[0][:60]!r}); scores are divided by it: use about the scores' scale (RG 25, Fis-V 43)"
        )
    val: list[VideoSample] = []
    if t.selection == "val":
        train, val = carve_validation(train, cfg.data.val_fraction, t.seed)

    model = model_from_config(cfg).to(device)
    if shard is None or shard.is_main:
        for warning in training_warnings(cfg, model, train):  # once per run, --quiet or not
            print(f"longaqa: warning: {warning}", file=sys.stderr)
    if checkpoint is None and hasattr(model, "head") and hasattr(model.head, "calibrate"):
        model.head.calibrate(train)  # the additive head's parts start near their typical values
    if device.type == "cuda" and t.features_on_device:
        train, val, test = features_to_gpu(device, train, val, test)
    check_output_folder(out, estimate_run_bytes(model))

    criterion = Criterion(cfg.loss, cfg.model.d_model)
    steps_per_epoch = (len(train) + t.batch_size - 1) // t.batch_size
    optimizer, scheduler, per_iter = build_optimizer(model, cfg, steps_per_epoch)
    eval_gen = torch.Generator().manual_seed(t.seed + 1)  # only used by eval_view=random_crop
    state = TrainingState()
    if checkpoint is not None:
        model.load_state_dict(checkpoint["model"])
        optimizer.load_state_dict(checkpoint["optimizer"])
        if scheduler is not None:
            scheduler.load_state_dict(checkpoint["scheduler"])
            if isinstance(scheduler, torch.optim.lr_scheduler.CosineAnnealingLR):
                scheduler.T_max = max(1, t.epochs * (steps_per_epoch if per_iter else 1))  # extended runs
        restore_rng_states(checkpoint["rng"], generator, eval_gen)
        best = checkpoint["best_model"]
        state = TrainingState(
            int(checkpoint["epoch"]), float(checkpoint["best_value"]), checkpoint["best_epoch"],
            {k: v.to(device) for k, v in best.items()} if best is not None else None,
        )
    train_model = model if shard is None else shard.wrap(model, device)  # DDP under torchrun
    # everything is checked: the run folder is written from here on
    atomic_write(out / CONFIG_FILE, lambda tmp: save_config(cfg, tmp))
    if not resume or not (out / RUN_FILE).is_file():
        run_info = {
            "data_root": str(Path(data_root).resolve()) if data_root is not None else None,
            "longaqa_version": __version__,
            "precision": precision,
            "num_train": len(train),
            "num_val": len(val),
            "num_test": len(test),
        }
        atomic_write(out / RUN_FILE, lambda tmp: tmp.write_text(json.dumps(run_info, indent=2)))
    # a reused folder's earlier epoch log and TensorBoard events are dropped (as resuming from epoch 0)
    log = EpochLog(out, t.tensorboard, resume_after=state.epoch if resume or reused else None)
    eval_kwargs = dict(
        batch_size=t.batch_size, view=cfg.data.eval_view, device=device, precision=precision,
        score_divisor=cfg.data.score_divisor,
    )

    def save() -> None:
        save_training_checkpoint(out / CHECKPOINT_FILE, cfg, state, model, optimizer, scheduler,
                                 generator, eval_gen)

    epoch, last_save, loop_start = state.epoch, time.monotonic(), time.perf_counter()
    try:
        with StopRequest() as stop:
            for epoch in range(state.epoch + 1, t.epochs + 1):
                start = time.perf_counter()
                terms = train_one_epoch(
                    train_model, criterion, optimizer, train, t.batch_size, cfg.data.train_crop, generator,
                    device, precision, scheduler if per_iter else None, t.progress,
                    description=f"epoch {epoch}/{t.epochs}", shard=shard,
                )
                if scheduler is not None and not per_iter:
                    scheduler.step()
                row: dict[str, float] = {"epoch": epoch, "lr": optimizer.param_groups[0]["lr"]}
                row.update({f"train_{k}": v for k, v in terms.items()})
                row["train_seconds"] = time.perf_counter() - start
                if epoch % t.eval_every == 0 or epoch == t.epochs:
                    if val:
                        m, _ = evaluate(model, val, generator=eval_gen, **eval_kwargs)
                        row.update({f"val_{k}": m[k] for k in ("srcc", "rl2", "mse")})
                    m, _ = evaluate(model, test, generator=eval_gen, **eval_kwargs)
                    row.update({f"test_{k}": m[k] for k in ("srcc", "rl2", "mse")})
                    watched = {"val": "val_srcc", "best-test": "test_srcc"}.get(t.selection)
                    if watched is not None:
                        value = row[watched] if math.isfinite(row[watched]) else -math.inf
                        if state.best_state is None or value > state.best_value:
                            state.best_value, state.best_epoch = value, epoch
                            state.best_state = copy.deepcopy(model.state_dict())
                    # temporal-skipping index of the self-attention on the test inputs (docs/interpretability.md)
                    cropped = cfg.data.eval_view != "full"
                    row.update(model_skipping_index(model, test, t.batch_size, device, cropped))
                log.write(row)
                if not quiet:
                    done = epoch - state.epoch  # epochs of this process (after a resume: since it)
                    per_epoch = (time.perf_counter() - loop_start) / done
                    print(epoch_line(row, t.epochs, time.perf_counter() - start, per_epoch * (t.epochs - epoch)),
                          file=sys.stderr, flush=True)
                state.epoch = epoch
                if shard is not None and shard.any(stop.requested is not None) and stop.requested is None:
                    stop.requested = "a stop signal to another process"  # every process stops after this epoch
                due = (t.checkpoint_every and epoch % t.checkpoint_every == 0) or (
                    t.checkpoint_seconds and time.monotonic() - last_save >= t.checkpoint_seconds)
                if due or epoch == t.epochs or stop.requested:
                    save()
                    last_save = time.monotonic()
                if stop.requested:
                    raise TrainingInterrupted(
                        f"{stop.requested}: stopped after epoch {epoch}/{t.epochs}, checkpoint saved; "
                        f"continue with: longaqa train --resume {out}"
                    )
    except NonFiniteLoss as exc:
        raise NonFiniteLoss(
            f"epoch {epoch}: {exc}; training stopped, {_last_checkpoint(out)}; the settings that can cause "
            f"it: train.lr={t.lr:g} (lower it), data.score_divisor={cfg.data.score_divisor:g} (about the "
            f"scores' scale), loss.lambda_reg={cfg.loss.lambda_reg:g}, loss.lambda_att={cfg.loss.lambda_att:g}, "
            f"loss.att_temperature={cfg.loss.att_temperature}, train.precision={t.precision}; or features too "
            "large (check their scale)"
        ) from None
    except TrainingInterrupted:
        raise
    except KeyboardInterrupt:
        raise TrainingInterrupted(
            f"interrupted during epoch {state.epoch + 1}; {_last_checkpoint(out)}; "
            f"continue with: longaqa train --resume {out}"
        ) from None
    finally:
        log.close()

    model_config = json.dumps(dataclasses.asdict(cfg.model))
    save_weights(model, out / LAST_FILE, {"selection": "last", "epoch": str(t.epochs),
                                          "model_config": model_config})
    if state.best_state is not None:
        model.load_state_dict(state.best_state)
    selected_epoch = state.best_epoch if state.best_state is not None else t.epochs
    save_weights(model, out / WEIGHTS_FILE, {"selection": t.selection, "epoch": str(selected_epoch),
                                             "model_config": model_config})
    metrics, pred = evaluate(model, test, generator=eval_gen, **eval_kwargs)
    result = write_metrics(out, metrics, pred, test, cfg, t.selection, selected_epoch)
    result = record_metrics_source(out, result, dataset)
    if shard is not None:
        shard.finish()
    return result


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} s" if seconds < 10 else f"{seconds:.0f} s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def epoch_line(row: dict[str, float], epochs: int, seconds: float, left: float) -> str:
    """One epoch as a line: losses (weighted total, then each unweighted term), val/test metrics when
    evaluated, the epoch's seconds and the time left at the mean epoch time so far."""
    width = len(str(epochs))
    parts = [f"epoch {int(row['epoch']):>{width}}/{epochs}", f"loss {row.get('train_loss', math.nan):.4g}"]
    terms = [f"{key[6:]} {row[key]:.4g}" for key in ("train_mse", "train_attention", "train_subscores_weighted")
             if key in row]
    if terms:
        parts[-1] += f" ({', '.join(terms)})"
    for split in ("val", "test"):
        if f"{split}_srcc" in row:
            parts.append(f"{split} srcc {row[f'{split}_srcc']:.3f} mse {row[f'{split}_mse']:.4g}")
    parts.append(_duration(seconds))
    parts.append(f"ETA {_duration(left)}" if left > 0 else "done")
    return "  ".join(parts)


def _last_checkpoint(out: Path) -> str:
    path = out / CHECKPOINT_FILE
    if not path.is_file():
        return "no checkpoint had been written yet"
    try:
        epoch = load_checkpoint(path)["epoch"]
    except LongAQAError:
        return f"the last checkpoint {path} is kept"
    return f"the last good checkpoint (epoch {epoch}) is kept in {path}"


def features_to_gpu(device: torch.device, *splits: list[VideoSample]) -> tuple[list[VideoSample], ...]:
    """``train.features_on_device``: every split's features on ``device`` when they take at most half of
    its free memory; else the splits as they are, with a note."""
    size = sum(s.features.numel() * s.features.element_size() for split in splits for s in split)
    free, _ = torch.cuda.mem_get_info(device)
    if size > free / 2:
        print(f"note: the clip features ({size / 2**20:.0f} MiB) stay in host memory: more than half of the "
              f"GPU's free {free / 2**20:.0f} MiB (train.features_on_device)", file=sys.stderr)
        return splits
    return tuple(samples_on_device(split, device) for split in splits)


def write_metrics(out: Path, metrics: dict, pred: np.ndarray, samples: list[VideoSample], cfg: Config,
                  selection: str, epoch: int | None) -> dict:
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
    atomic_write(out / METRICS_FILE, lambda tmp: tmp.write_text(json.dumps(finite_json(result), indent=2) + "\n"))

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


def record_metrics_source(folder: Path, result: dict, dataset: str | None) -> dict:
    """``metrics.json`` in ``folder`` with ``data_root``, the dataset folder the metrics were computed
    on; a metric that is undefined there is null, with a note that is also printed."""
    undefined = [key for key, value in result.items() if isinstance(value, float) and not math.isfinite(value)]
    result = finite_json({**result, "data_root": dataset})
    atomic_write(folder / METRICS_FILE, lambda tmp: tmp.write_text(json.dumps(result, indent=2) + "\n"))
    if undefined:
        print(f"note: {undefined_note(undefined, result.get('n'))}", file=sys.stderr)
    return result


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


def evaluate_run(run_dir: str | Path, data_root: str | Path | None = None) -> dict:
    """Evaluate a run's selected weights on its test split; writes and returns ``metrics.json``.

    On the dataset the run was trained on, that is the run's own ``metrics.json`` and
    ``predictions.csv``; on another one (``data_root``), ``RUN/evaluations/<name>/`` (named on stderr)
    and the run's own files are kept. Every ``metrics.json`` records its ``data_root``.
    """
    run = Path(run_dir)
    cfg, model, metadata = load_run(run)
    root = run_data_root(run, data_root)
    dataset = dataset_folder(cfg, root)
    try:
        trained_on = dataset_folder(cfg, run_data_root(run, None)) if data_root is not None else dataset
    except LongAQAError:  # run.json missing or unreadable: the training data is unknown
        trained_on = None
    out = run
    if dataset is None or dataset != trained_on:
        name = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(dataset or str(root)).name)[:40] or "data"
        digest = hashlib.sha1(str(dataset or root).encode("utf-8", "replace")).hexdigest()[:8]
        out = run / EVALUATIONS_DIR / f"{name}-{digest}"
    with os_errors_named():
        _, test = load_train_test(cfg.data, root, cfg.model.input_dim, sheet=training_sheet(cfg))
    device = resolve_device(cfg.train.device)
    model.to(device)
    metrics, pred = evaluate(
        model, test, cfg.train.batch_size, cfg.data.eval_view, device,
        resolve_precision(cfg.train.precision, device), cfg.data.score_divisor,
        torch.Generator().manual_seed(cfg.train.seed + 1),
    )
    selection = metadata.get("selection", cfg.train.selection)
    if out != run:
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise LongAQAError(f"{out}: cannot create the evaluation folder ({exc.strerror})") from None
    result = write_metrics(out, metrics, pred, test, cfg, selection, weights_epoch(metadata, run / WEIGHTS_FILE))
    result = record_metrics_source(out, result, dataset)
    if out != run:
        print(f"evaluated on {dataset or root}, not the dataset the run was trained on: wrote {out / METRICS_FILE} "
              f"and {PREDICTIONS_FILE} there ({run / METRICS_FILE} is kept)", file=sys.stderr)
    return result


def training_warnings(cfg: Config, model, train: list[VideoSample]) -> list[str]:
    """What a run does silently otherwise: training videos cropped to the query count, and a
    ``data.class_name`` the layout does not use."""
    warnings = []
    queries = getattr(model, "num_queries", None)
    longer = [s.features.shape[0] for s in train if queries and s.features.shape[0] > queries]
    if longer and not getattr(model, "sees_whole_video", False):
        window = "a random window" if cfg.data.train_crop == "random" else "the middle window"
        warnings.append(
            f"{len(longer)} of {len(train)} training videos are longer than model.num_queries={queries} clips "
            f"(up to {max(longer)}): training sees {window} of {queries} clips of each "
            f"(data.train_crop={cfg.data.train_crop}; data.train_crop=center takes the middle window; the "
            "additive head, model.head: additive, trains on whole videos)"
        )
    if cfg.data.class_name and cfg.data.layout != "rg":
        warnings.append(
            f"data.class_name={cfg.data.class_name!r} is set but the {cfg.data.layout} layout has no classes: "
            "it is ignored (only the rg layout selects videos by class)"
        )
    return warnings


@contextlib.contextmanager
def os_errors_named():
    """An OS error while reading the dataset (e.g. a video name too long for a file name) becomes one
    line naming the file (cut short) instead of a traceback."""
    try:
        yield
    except OSError as exc:
        name = str(exc.filename or "")
        shown = name if len(name) <= 120 else f"{name[:60]}...{name[-40:]} ({len(name)} characters)"
        raise LongAQAError(
            f"{shown}: cannot be read ({exc.strerror or exc}); check the label files' video names"
        ) from None
