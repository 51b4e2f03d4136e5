"""Training and evaluating a run: wires config, data, model, engine and the run folder together.

:func:`fit` reads as its four steps: set up (the folder, this process, the data, the model), restore
(a resumed run's checkpoint), the epochs, and finish (the selected weights and their test metrics).
The run folder's layout is :mod:`longaqa.run_folder`; checkpoints and resuming are
:mod:`longaqa.resume`. Their names are also importable from here.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import hashlib
import json
import math
import os
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from longaqa import __version__, distributed
from longaqa.allocator import keep_freed_memory
from longaqa.checkpoint import RunFolderLock, atomic_write, check_output_folder, save_weights
from longaqa.config import Config, TrainConfig, save_config
from longaqa.data import load_train_test
from longaqa.data.dataset import VideoSample, carve_validation, samples_on_device
from longaqa.data.validate import check_dataset
from longaqa.engine import (
    NonFiniteLoss,
    epoch_batches,
    evaluate,
    model_skipping_index,
    resolve_precision,
    train_one_epoch,
)
from longaqa.errors import LongAQAError
from longaqa.losses import Criterion
from longaqa.models import QueryAQA, model_from_config, set_training_progress
from longaqa.resume import (
    CHECKPOINT_KEYS,
    RESUMABLE_KEYS,
    StopRequest,
    TrainingInterrupted,
    TrainingState,
    check_checkpoint_state,
    last_checkpoint_note,
    restore_rng_states,
    restore_training,
    resume_checks,
    rng_states,
    save_training_checkpoint,
)
from longaqa.run_folder import (
    CHECKPOINT_FILE,
    CONFIG_FILE,
    EPOCHS_FILE,
    EVALUATIONS_DIR,
    LAST_FILE,
    METRICS_FILE,
    PREDICTIONS_FILE,
    RUN_FILE,
    RUN_MARKS,
    WEIGHTS_FILE,
    EpochLog,
    dataset_folder,
    finite_json,
    load_run,
    run_data_root,
    undefined_note,
    weights_epoch,
    write_metrics,
)
from longaqa.sheets import training_sheet
from longaqa.threads import set_torch_threads

__all__ = [  # what other modules, benches and tests import from here, with what moved to run_folder and resume
    "CHECKPOINT_FILE", "CHECKPOINT_KEYS", "CONFIG_FILE", "EPOCHS_FILE", "EVALUATIONS_DIR", "LAST_FILE",
    "METRICS_FILE", "PREDICTIONS_FILE", "RESUMABLE_KEYS", "RUN_FILE", "RUN_MARKS", "WEIGHTS_FILE", "Criterion",
    "EpochLog", "StopRequest", "TrainingInterrupted", "TrainingState", "build_optimizer", "check_checkpoint_state",
    "dataset_folder", "epoch_line", "estimate_run_bytes", "evaluate_run", "features_to_gpu", "finite_json", "fit",
    "load_run", "os_errors_named", "read_train_test", "resolve_device", "restore_rng_states", "resume_checks",
    "rng_states", "run_data_root", "save_training_checkpoint", "seed_everything", "train_one_epoch",
    "training_warnings", "undefined_note", "weights_epoch", "write_metrics",
]


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


def build_optimizer(model: torch.nn.Module | list[torch.Tensor], cfg: Config, steps_per_epoch: int):
    """Adam and the scheduler ``cfg.train`` names, over ``model``'s parameters (or the tensors given:
    a group's stacked parameters, :mod:`longaqa.group`)."""
    t = cfg.train
    params = model.parameters() if isinstance(model, torch.nn.Module) else model
    # fused: one kernel for all parameters instead of a loop over them (bench/RESULTS.md)
    optimizer = torch.optim.Adam(params, lr=t.lr, weight_decay=t.weight_decay, fused=True)
    per_iter = t.scheduler_interval == "iter"
    if t.scheduler == "step":
        scheduler = torch.optim.lr_scheduler.StepLR(optimizer, t.step_size, t.gamma)
    elif t.scheduler == "cosine":
        total = t.epochs * (steps_per_epoch if per_iter else 1)
        scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, max(1, total))
    else:
        scheduler = None
    return optimizer, scheduler, per_iter


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
    writes_folder = _is_main_process() and not (resume and not out.is_dir())  # only the main process does
    with RunFolderLock(out) if writes_folder else contextlib.nullcontext():
        # setup: the folder, this process, the data and the model, all checked before anything is written
        checkpoint, reused = _check_run_folder(out, cfg, resume)
        shard = distributed.setup(cfg.train.device)  # several processes under torchrun; else None
        if shard is not None and not shard.is_main:  # only rank 0 writes the run folder
            out = distributed.private_output(out, copy_existing=resume)
        check_output_folder(out, 16 * 2**20)  # writable at all, before reading any data
        device, precision, generator = _set_up_process(cfg.train, shard)
        # the dataset folder metrics.json names (None: data given in memory, from no named folder)
        dataset = dataset_folder(cfg, data_root) if data is None or data_root is not None else None
        splits = _load_splits(cfg, data_root, data)
        run = _build(cfg, out, shard, device, precision, generator, splits, fresh=checkpoint is None)

        # restore: a resumed run continues from its checkpoint's weights, optimizer and RNG states
        state = TrainingState()
        if checkpoint is not None:
            total_steps = cfg.train.epochs * (run.steps_per_epoch if run.per_iter else 1)
            state = restore_training(checkpoint, run.model, run.optimizer, run.scheduler, total_steps,
                                     generator, run.eval_gen, device)
        run.train_model = run.model if shard is None else shard.wrap(run.model, device)  # DDP under torchrun

        # epochs: everything is checked, the run folder is written from here on
        _write_run_start(run, data_root, resume)
        # a reused folder's earlier epoch log and TensorBoard events are dropped (as resuming from epoch 0)
        log = EpochLog(out, cfg.train.tensorboard, resume_after=state.epoch if resume or reused else None)
        _run_epochs(run, state, log, quiet or not writes_folder)

        # finish: the last and the selected weights, and the selection's test metrics
        return _finish(run, state, dataset)


@dataclass
class _Training:
    """What the steps of :func:`fit` share once it is set up: config, run folder, data, model, optimizer."""

    cfg: Config
    out: Path
    shard: distributed.Shard | None
    device: torch.device
    precision: str
    generator: torch.Generator
    eval_gen: torch.Generator
    """Only used by ``data.eval_view=random_crop``."""
    train: list[VideoSample]
    val: list[VideoSample]
    test: list[VideoSample]
    model: QueryAQA
    criterion: Criterion
    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LRScheduler | None
    per_iter: bool
    steps_per_epoch: int
    train_model: torch.nn.Module | None = None
    """The model the epochs train: ``model``, or its DDP wrapper under torchrun."""

    def evaluate(self, samples: list[VideoSample]) -> tuple[dict, np.ndarray]:
        return evaluate(
            self.model, samples, batch_size=self.cfg.train.batch_size, view=self.cfg.data.eval_view,
            device=self.device, precision=self.precision, score_divisor=self.cfg.data.score_divisor,
            generator=self.eval_gen,
        )

    def save_checkpoint(self, state: TrainingState) -> None:
        save_training_checkpoint(self.out / CHECKPOINT_FILE, self.cfg, state, self.model, self.optimizer,
                                 self.scheduler, self.generator, self.eval_gen)


def _is_main_process() -> bool:
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        return torch.distributed.get_rank() == 0
    return os.environ.get("RANK", "0") in ("", "0")  # alone, or under torchrun before the group is set up


def _check_run_folder(out: Path, cfg: Config, resume: bool) -> tuple[dict | None, bool]:
    """The checkpoint to resume from (None: a new run), and whether a new run reuses a folder that holds
    only what an earlier start wrote before its first checkpoint."""
    if resume:
        return resume_checks(out, cfg), False
    if any((out / name).exists() for name in RUN_MARKS):
        raise LongAQAError(
            f"{out}: already holds a run; choose another --out, or continue it with --resume {out}"
        )
    return None, any((out / name).exists() for name in (CONFIG_FILE, RUN_FILE, EPOCHS_FILE))


def _set_up_process(t: TrainConfig, shard: distributed.Shard | None) -> tuple[torch.device, str, torch.Generator]:
    """Threads, device, precision and allocator of this process; the seeded training generator."""
    set_torch_threads(t.num_threads)  # 0: torch's default, capped at the cores this process may use
    device = resolve_device(t.device)
    precision = resolve_precision(t.precision, device)
    if t.precision == "auto" and (shard is None or shard.is_main):
        print(f"train.precision auto: {precision} on {device.type}", file=sys.stderr)
    if device.type == "cpu" and t.cpu_malloc == "reuse":
        keep_freed_memory()
    return device, precision, seed_everything(t.seed)


Splits = tuple[list[VideoSample], list[VideoSample], list[VideoSample]]


def read_train_test(cfg: Config, data_root) -> tuple[list[VideoSample], list[VideoSample]]:
    """The train and test videos ``cfg.data`` names, the dataset checked first as a whole."""
    with os_errors_named():
        loaded = check_dataset(cfg, data_root)  # every problem at once; the arrays it read are reused
        return load_train_test(cfg.data, data_root, cfg.model.input_dim, loaded, training_sheet(cfg))


def _load_splits(cfg: Config, data_root, data) -> Splits:
    """Train, validation (empty unless ``train.selection=val``) and test videos, the dataset checked."""
    train, test = data if data is not None else read_train_test(cfg, data_root)
    overflow = [s.name for s in (*train, *test) if not math.isfinite(s.score)]
    if overflow:  # finite raw scores (checked) divided by a tiny data.score_divisor
        raise LongAQAError(
            f"data.score_divisor={cfg.data.score_divisor:g} makes {len(overflow)} score(s) infinite (e.g. "
            f"{overflow[0][:60]!r}); scores are divided by it: use about the scores' scale (RG 25, Fis-V 43)"
        )
    val: list[VideoSample] = []
    if cfg.train.selection == "val":
        train, val = carve_validation(train, cfg.data.val_fraction, cfg.train.seed)
    return train, val, test


def _build(cfg: Config, out: Path, shard: distributed.Shard | None, device: torch.device, precision: str,
           generator: torch.Generator, splits: Splits, fresh: bool) -> _Training:
    """The model (a ``fresh`` additive head calibrated on the training videos), loss and optimizer; the
    splits' features on the GPU when ``train.features_on_device`` allows; the folder's free space checked."""
    t = cfg.train
    train, val, test = splits
    model = model_from_config(cfg).to(device)
    if shard is None or shard.is_main:
        for warning in training_warnings(cfg, model, train):  # once per run, --quiet or not
            print(f"longaqa: warning: {warning}", file=sys.stderr)
    if fresh and hasattr(model, "head") and hasattr(model.head, "calibrate"):
        model.head.calibrate(train)  # the additive head's parts start near their typical values
    if hasattr(model, "head") and hasattr(model.head, "set_training_videos"):
        model.head.set_training_videos(train)  # a teacher that compares each clip with every training video
    if device.type == "cuda" and t.features_on_device:
        train, val, test = features_to_gpu(device, train, val, test)
    check_output_folder(out, estimate_run_bytes(model))

    criterion = Criterion(cfg.loss, cfg.model.d_model)
    steps_per_epoch = (len(train) + t.batch_size - 1) // t.batch_size
    optimizer, scheduler, per_iter = build_optimizer(model, cfg, steps_per_epoch)
    eval_gen = torch.Generator().manual_seed(t.seed + 1)  # only used by eval_view=random_crop
    return _Training(cfg, out, shard, device, precision, generator, eval_gen, train, val, test, model, criterion,
                     optimizer, scheduler, per_iter, steps_per_epoch)


def _write_run_start(run: _Training, data_root: str | Path | None, resume: bool) -> None:
    """``config.yaml``, and ``run.json`` unless a resumed run has it already."""
    atomic_write(run.out / CONFIG_FILE, lambda tmp: save_config(run.cfg, tmp))
    if not resume or not (run.out / RUN_FILE).is_file():
        run_info = {
            "data_root": str(Path(data_root).resolve()) if data_root is not None else None,
            "longaqa_version": __version__,
            "precision": run.precision,
            "num_train": len(run.train),
            "num_val": len(run.val),
            "num_test": len(run.test),
        }
        atomic_write(run.out / RUN_FILE, lambda tmp: tmp.write_text(json.dumps(run_info, indent=2)))


def _run_epochs(run: _Training, state: TrainingState, log: EpochLog, quiet: bool) -> None:
    """Epochs ``state.epoch + 1`` to ``train.epochs``, each logged (and printed unless ``quiet``); a
    checkpoint when due, after the last epoch and on a stop request (which then raises
    :class:`TrainingInterrupted`). A non-finite loss raises :class:`NonFiniteLoss` naming the settings."""
    t, out = run.cfg.train, run.out
    epoch, last_save, loop_start = state.epoch, time.monotonic(), time.perf_counter()
    first = state.epoch  # epochs before this process (a resume): the time left counts only this process's
    try:
        with StopRequest() as stop:
            for epoch in range(state.epoch + 1, t.epochs + 1):
                start = time.perf_counter()
                row = _train_epoch(run, state, epoch)
                log.write(row)
                if not quiet:
                    done = epoch - first
                    per_epoch = (time.perf_counter() - loop_start) / done
                    print(epoch_line(row, t.epochs, time.perf_counter() - start, per_epoch * (t.epochs - epoch)),
                          file=sys.stderr, flush=True)
                state.epoch = epoch
                if run.shard is not None and run.shard.any(stop.requested is not None) and stop.requested is None:
                    stop.requested = "a stop signal to another process"  # every process stops after this epoch
                due = (t.checkpoint_every and epoch % t.checkpoint_every == 0) or (
                    t.checkpoint_seconds and time.monotonic() - last_save >= t.checkpoint_seconds)
                if due or epoch == t.epochs or stop.requested:
                    run.save_checkpoint(state)
                    last_save = time.monotonic()
                if stop.requested:
                    raise TrainingInterrupted(
                        f"{stop.requested}: stopped after epoch {epoch}/{t.epochs}, checkpoint saved; "
                        f"continue with: longaqa train --resume {out}"
                    )
    except NonFiniteLoss as exc:
        cfg = run.cfg
        raise NonFiniteLoss(
            f"epoch {epoch}: {exc}; training stopped, {last_checkpoint_note(out)}; the settings that can cause "
            f"it: train.lr={t.lr:g} (lower it), data.score_divisor={cfg.data.score_divisor:g} (about the "
            f"scores' scale), loss.lambda_reg={cfg.loss.lambda_reg:g}, loss.lambda_att={cfg.loss.lambda_att:g}, "
            f"loss.att_temperature={cfg.loss.att_temperature}, train.precision={t.precision}; or features too "
            "large (check their scale)"
        ) from None
    except TrainingInterrupted:
        raise
    except KeyboardInterrupt:
        raise TrainingInterrupted(
            f"interrupted during epoch {state.epoch + 1}; {last_checkpoint_note(out)}; "
            f"continue with: longaqa train --resume {out}"
        ) from None
    finally:
        log.close()


def _train_epoch(run: _Training, state: TrainingState, epoch: int) -> dict[str, float]:
    """One epoch of training, evaluated when due (``train.eval_every`` and the last epoch); its log row."""
    cfg, t = run.cfg, run.cfg.train
    start = time.perf_counter()
    set_training_progress(run.model, (epoch - 1) / t.epochs)  # schedules inside the model (forcing's fade)
    batches = epoch_batches(run.model, run.train, t.batch_size, cfg.data.train_crop, run.generator)
    if run.shard is not None:
        batches = run.shard.slices(batches)  # this process's slice of every global batch
    terms = train_one_epoch(
        run.train_model, run.criterion, run.optimizer, batches, run.device, run.precision,
        run.scheduler if run.per_iter else None, t.progress, description=f"epoch {epoch}/{t.epochs}",
        total=run.steps_per_epoch, shard=run.shard,
    )
    if run.scheduler is not None and not run.per_iter:
        run.scheduler.step()
    row: dict[str, float] = {"epoch": epoch, "lr": run.optimizer.param_groups[0]["lr"]}
    row.update({f"train_{k}": v for k, v in terms.items()})
    row["train_seconds"] = time.perf_counter() - start
    if epoch % t.eval_every == 0 or epoch == t.epochs:
        _evaluate_epoch(run, state, epoch, row)
    return row


def _evaluate_epoch(run: _Training, state: TrainingState, epoch: int, row: dict[str, float]) -> None:
    """Val and test metrics and the skipping index into ``row``; the best weights so far under
    ``train.selection`` into ``state``."""
    if run.val:
        m, _ = run.evaluate(run.val)
        row.update({f"val_{k}": m[k] for k in ("srcc", "rl2", "mse")})
    m, _ = run.evaluate(run.test)
    row.update({f"test_{k}": m[k] for k in ("srcc", "rl2", "mse")})
    update_selection(run, state, epoch, row)
    # temporal-skipping index of the self-attention on the test inputs (docs/interpretability.md)
    cropped = run.cfg.data.eval_view != "full"
    row.update(model_skipping_index(run.model, run.test, run.cfg.train.batch_size, run.device, cropped))


def update_selection(run: _Training, state: TrainingState, epoch: int, row: dict[str, float]) -> None:
    """Keep ``run.model``'s weights in ``state`` when this epoch's ``row`` is the best so far under
    ``train.selection`` (val or best-test; ``last`` keeps none)."""
    watched = {"val": "val_srcc", "best-test": "test_srcc"}.get(run.cfg.train.selection)
    if watched is not None:
        value = row[watched] if math.isfinite(row[watched]) else -math.inf
        if state.best_state is None or value > state.best_value:
            state.best_value, state.best_epoch = value, epoch
            state.best_state = copy.deepcopy(run.model.state_dict())


def _finish(run: _Training, state: TrainingState, dataset: str | None) -> dict:
    """``last.safetensors``, the selected weights, and their test metrics (``metrics.json``, predictions)."""
    cfg, t, model, out = run.cfg, run.cfg.train, run.model, run.out
    model_config = json.dumps(dataclasses.asdict(cfg.model))
    save_weights(model, out / LAST_FILE, {"selection": "last", "epoch": str(t.epochs),
                                          "model_config": model_config})
    if state.best_state is not None:
        model.load_state_dict(state.best_state)
    selected_epoch = state.best_epoch if state.best_state is not None else t.epochs
    save_weights(model, out / WEIGHTS_FILE, {"selection": t.selection, "epoch": str(selected_epoch),
                                             "model_config": model_config})
    metrics, pred = run.evaluate(run.test)
    result = write_metrics(out, metrics, pred, run.test, cfg, t.selection, selected_epoch, dataset)
    if run.shard is not None:
        run.shard.finish()
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


def features_to_gpu(device: torch.device, *splits: list[VideoSample]) -> tuple[list[VideoSample], ...]:
    """``train.features_on_device``: every split's features on ``device`` when they take at most half of
    its free memory; else the splits as they are, with a note."""
    size = sum(s.features.numel() * s.features.element_size() for split in splits for s in split
               if s.features.device.type != device.type)  # already there (a group's shared data): nothing to move
    if size == 0:
        return splits
    free, _ = torch.cuda.mem_get_info(device)
    if size > free / 2:
        print(f"note: the clip features ({size / 2**20:.0f} MiB) stay in host memory: more than half of the "
              f"GPU's free {free / 2**20:.0f} MiB (train.features_on_device)", file=sys.stderr)
        return splits
    return tuple(samples_on_device(split, device) for split in splits)


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
    result = write_metrics(out, metrics, pred, test, cfg, selection, weights_epoch(metadata, run / WEIGHTS_FILE),
                           dataset)
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
    if cfg.model.head == "additive":
        warnings += sheet_range_warnings(cfg, train)
    return warnings


def sheet_range_warnings(cfg: Config, train: list[VideoSample]) -> list[str]:
    """Sub-scores of the training labels that the additive head's sheet cannot reach (its parts are
    non-negative): e.g. an RG-layout release whose E column is not out of 10."""
    from longaqa.sheets import score_sheet

    sheet, divisor = score_sheet(cfg.data), cfg.data.score_divisor
    warnings = []
    for name in sheet.subscore_names():
        low, high = sheet.reachable(name)
        values = [s.subscores[name] * divisor for s in train if s.subscores and name in s.subscores]
        out = [v for v in values if not low - 0.011 <= v <= high + 0.011]
        if out:
            bound = f"above {high:g}" if any(v > high for v in out) else f"below {low:g}"
            warnings.append(
                f"{len(out)} of {len(values)} training videos have {name} {bound} (e.g. {out[0]:.2f}), which the "
                f"{sheet.name} score sheet cannot give (its per-clip parts are non-negative): the head will "
                "fit them badly; for a release whose sub-scores follow other rules, train on the total "
                "(data.subscores=holistic, or none)"
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
