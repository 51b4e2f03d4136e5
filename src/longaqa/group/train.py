"""Training a group of runs as one batched computation: :func:`fit_group`.

Each run is set up exactly as :func:`longaqa.training.fit` sets up a lone run (same seed, same initial
weights, same data order from its own generator, its own run folder with the same files), and then
the group trains them together: every step stacks one batch per run and takes one vmapped
forward/backward and one optimizer step for all (:class:`longaqa.group.stacked.StackedRuns`). Each
run is evaluated, selected, checkpointed and finished by the lone run's own code.

Dropout draws come from one generator for the whole group (``vmap(randomness="different")``: every
run gets its own masks), so with dropout on a grouped run is a different draw from the lone run of
the same seed; with dropout off it gives the lone run's predictions within floating-point tolerance.

Checkpoints are committed for the whole group at once, so that a group killed at any moment resumes
to the result of an uninterrupted group: every run's new checkpoint is written beside its current one
(``checkpoint.next.safetensors``), then the group's record (a JSON file) takes the epoch (the commit),
then the new files replace the old. Resuming finishes or discards a half-done commit first.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
import torch

from longaqa import training
from longaqa.checkpoint import RunFolderLock, atomic_write, load_checkpoint
from longaqa.config import Config
from longaqa.data.dataset import VideoSample
from longaqa.engine import NonFiniteLoss, epoch_batches
from longaqa.errors import LongAQAError
from longaqa.group.evaluate import can_stack, evaluate_group_epoch
from longaqa.group.plan import group_key
from longaqa.group.stacked import StackedRuns, stack_batches
from longaqa.models import set_training_progress
from longaqa.numbers import plus_minus
from longaqa.resume import StopRequest, TrainingInterrupted, TrainingState, restore_training
from longaqa.run_folder import CHECKPOINT_FILE, CONFIG_FILE, EpochLog, dataset_folder

NEXT_CHECKPOINT = "checkpoint.next.safetensors"


def fit_group(
    cfgs: list[Config],
    out_dirs: list[str | Path],
    record: str | Path,
    data_roots: list[str | Path | None] | None = None,
    data: list[tuple[list[VideoSample], list[VideoSample]]] | None = None,
    resume: bool = False,
    quiet: bool = False,
) -> list[dict]:
    """Train run ``i`` as ``cfgs[i]`` says into ``out_dirs[i]``, all runs in one group; return each run's
    test metrics of its selection (as :func:`longaqa.training.fit` does for one).

    The runs must be groupable (:func:`longaqa.group.plan.group_key`) and have the same number of
    training videos. ``record`` is the group's commit record (a JSON file, e.g. ``OUT/group.json``).
    ``resume=True`` continues the group from its last committed checkpoint. SIGINT/SIGTERM finish the
    epoch, commit a checkpoint and raise :class:`TrainingInterrupted`; a non-finite loss in any run stops the group,
    names the run, and keeps every run's last committed checkpoint.
    """
    outs = [Path(o) for o in out_dirs]
    record = Path(record)
    roots = list(data_roots) if data_roots is not None else [None] * len(cfgs)
    _check_group(cfgs, outs, roots, data)
    with contextlib.ExitStack() as locks:
        for out in outs:
            locks.enter_context(RunFolderLock(out))
        if resume:
            _recover_commit(record, outs)
        # a run killed before it wrote anything starts anew
        checked = [training._check_run_folder(out, cfg, resume and (out / CONFIG_FILE).is_file())
                   for cfg, out in zip(cfgs, outs)]
        epochs_done = {int(c["epoch"]) if c is not None else 0 for c, _ in checked}
        if len(epochs_done) > 1:
            raise LongAQAError(
                f"{record}: the runs' checkpoints are at different epochs ({sorted(epochs_done)}); resume "
                "them as they were grouped, or alone with longaqa train --resume RUN"
            )
        for out in outs:
            training.check_output_folder(out, 16 * 2**20)
        runs, states = _build_runs(cfgs, outs, roots, data, [c for c, _ in checked])
        device, precision = runs[0].device, runs[0].precision
        stacked = StackedRuns(cfgs[0], [r.model for r in runs], device, precision,
                              lambda params: training.build_optimizer(params, cfgs[0], runs[0].steps_per_epoch))
        stacked.load_optimizers([r.optimizer for r in runs], [r.scheduler for r in runs])

        datasets = []
        for run, root, cfg in zip(runs, roots, cfgs):
            training._write_run_start(run, root, resume)
            datasets.append(dataset_folder(cfg, root) if data is None or root is not None else None)
        if not resume:
            _forget_commit(record)
        logs = [EpochLog(run.out, run.cfg.train.tensorboard, resume_after=state.epoch if resume or reused else None)
                for run, state, (_, reused) in zip(runs, states, checked)]
        try:
            _group_epochs(stacked, runs, states, logs, record, quiet)
        finally:
            for log in logs:
                log.close()
        stacked.store([r.model for r in runs])
        return [training._finish(run, state, dataset) for run, state, dataset in zip(runs, states, datasets)]


def _build_runs(cfgs: list[Config], outs: list[Path], roots: list, data, checkpoints: list[dict | None]):
    """Every run set up as a lone run is (model, optimizer, generators; restored from its checkpoint),
    and its state: ``(runs, states)``. Their training sets must be the same size."""
    device, precision, _ = training._set_up_process(cfgs[0].train, None)
    runs, states = [], []
    shared = _shared_data(cfgs, roots, device) if data is None else data  # one copy per dataset
    for cfg, out, root, splits, checkpoint in zip(cfgs, outs, roots, shared, checkpoints):
        splits = training._load_splits(cfg, root, splits)
        generator = training.seed_everything(cfg.train.seed)  # the lone run's initial weights and order
        run = training._build(cfg, out, None, device, precision, generator, splits, fresh=checkpoint is None)
        run.train_model = run.model
        state = TrainingState()
        if checkpoint is not None:
            total = cfg.train.epochs * (run.steps_per_epoch if run.per_iter else 1)
            state = restore_training(checkpoint, run.model, run.optimizer, run.scheduler, total,
                                     run.generator, run.eval_gen, device)  # the group's torch RNG too
        runs.append(run)
        states.append(state)
    if len({len(run.train) for run in runs}) > 1:
        raise LongAQAError(
            "runs of one group need the same number of training videos, got "
            + ", ".join(f"{len(run.train)} ({run.out})" for run in runs)
        )
    return runs, states


def _shared_data(cfgs: list[Config], roots: list, device: torch.device) -> list[tuple[list, list]]:
    """Each run's (train, test) videos, read once per dataset and shared by the runs that train on it
    (on the GPU once, when ``train.features_on_device`` allows)."""
    loaded: dict[str, tuple[list, list]] = {}
    shared = []
    for cfg, root in zip(cfgs, roots):
        key = json.dumps([cfg.data.__dict__, cfg.model.input_dim, str(root)], sort_keys=True, default=str)
        if key not in loaded:
            train, test = training.read_train_test(cfg, root)
            if device.type == "cuda" and cfg.train.features_on_device:
                train, test = training.features_to_gpu(device, train, test)
            loaded[key] = (train, test)
        shared.append(loaded[key])
    return shared


def _check_group(cfgs: list[Config], outs: list[Path], roots: list, data) -> None:
    if not cfgs or len(cfgs) != len(outs) or len(roots) != len(cfgs) or (data is not None and len(data) != len(cfgs)):
        raise LongAQAError(f"a group needs one config, run folder and data root per run "
                           f"({len(cfgs)} configs, {len(outs)} folders, {len(roots)} data roots)")
    if len({o.resolve() for o in outs}) != len(outs):
        raise LongAQAError("a group's runs need different run folders")
    first = group_key(cfgs[0])
    for cfg, out in zip(cfgs[1:], outs[1:]):
        if group_key(cfg) != first:
            raise LongAQAError(f"{out}: its config differs from {outs[0]}'s in more than the seed, the data or "
                               "the query init spread; such runs cannot train in one group")
    if cfgs[0].model.head == "mean_pool":
        raise LongAQAError("the mean-pooled baseline (model.head: mean_pool) does not train in groups; train it alone")


def _group_epochs(stacked: StackedRuns, runs: list, states: list[TrainingState], logs: list[EpochLog],
                  record: Path, quiet: bool) -> None:
    """Epochs from the runs' common checkpoint epoch to ``train.epochs``, each run's row logged; a group
    checkpoint when due (the first run's checkpoint settings), after the last epoch and on a stop request."""
    t = runs[0].cfg.train
    first = states[0].epoch
    last_save, loop_start = time.monotonic(), time.perf_counter()
    try:
        with StopRequest() as stop:
            for epoch in range(first + 1, t.epochs + 1):
                start = time.perf_counter()
                rows = _train_group_epoch(stacked, runs, epoch)
                seconds = time.perf_counter() - start
                for row in rows:
                    row["train_seconds"] = seconds
                _evaluate(stacked, runs, states, epoch, rows)
                for state, row, log in zip(states, rows, logs):
                    log.write(row)
                    state.epoch = epoch
                if not quiet:
                    left = (time.perf_counter() - loop_start) / (epoch - first) * (t.epochs - epoch)
                    print(_group_line(rows, epoch, t.epochs, seconds, left), file=sys.stderr, flush=True)
                due = (t.checkpoint_every and epoch % t.checkpoint_every == 0) or (
                    t.checkpoint_seconds and time.monotonic() - last_save >= t.checkpoint_seconds)
                if due or epoch == t.epochs or stop.requested:
                    _commit_checkpoint(stacked, runs, states, record)
                    last_save = time.monotonic()
                if stop.requested:
                    raise TrainingInterrupted(
                        f"{stop.requested}: the group of {len(runs)} runs stopped after epoch {epoch}/{t.epochs}, "
                        f"checkpoints saved; continue it with the same command (resume)"
                    )
    except NonFiniteLoss as exc:
        raise NonFiniteLoss(f"epoch {states[0].epoch + 1}: {exc}; the group stopped, every run keeps its last "
                            "committed checkpoint; train that run alone to see its settings' effect") from None
    except KeyboardInterrupt as exc:
        if isinstance(exc, TrainingInterrupted):
            raise
        raise TrainingInterrupted(f"interrupted during epoch {states[0].epoch + 1}; the group's last committed "
                                  f"checkpoint is kept ({record})") from None


def _evaluate(stacked: StackedRuns, runs: list, states: list[TrainingState], epoch: int,
              rows: list[dict[str, float]]) -> None:
    """The runs due for evaluation this epoch (``train.eval_every`` and the last epoch), all at once when
    they can be (:mod:`longaqa.group.evaluate`), else one by one as lone runs."""
    due = [i for i, r in enumerate(runs) if epoch % r.cfg.train.eval_every == 0 or epoch == r.cfg.train.epochs]
    if not due:
        return
    stacked.store([r.model for r in runs])  # the weights that selection keeps and lone evaluation reads
    if len(due) == len(runs) and can_stack(runs):
        evaluate_group_epoch(stacked, runs, states, epoch, rows)
        return
    for i in due:
        training._evaluate_epoch(runs[i], states[i], epoch, rows[i])


def _train_group_epoch(stacked: StackedRuns, runs: list, epoch: int) -> list[dict[str, float]]:
    """One epoch of every run, each on its own shuffled batches; each run's log row (lr and mean losses)."""
    set_training_progress(stacked.template, (epoch - 1) / runs[0].cfg.train.epochs)  # one schedule: same epochs
    batches = [epoch_batches(stacked.template, r.train, r.cfg.train.batch_size, r.cfg.data.train_crop, r.generator)
               for r in runs]
    sums: dict[str, torch.Tensor] = defaultdict(float)
    count = 0
    for per_run in zip(*batches):
        features, lengths, scores, subscores = stack_batches(list(per_run), runs[0].device)
        terms = stacked.train_step(features, lengths, scores, subscores)
        finite = torch.isfinite(terms["loss"])
        if not bool(finite.all()):
            bad = [str(runs[r].out) for r in torch.nonzero(~finite).flatten().tolist()]
            values = ", ".join(f"{k}={float(v.detach()[~finite][0]):.4g}" for k, v in terms.items())
            raise NonFiniteLoss(f"non-finite training loss in {', '.join(bad)} ({values})")
        stacked.step()
        n = len(per_run[0].names)
        count += n
        for key, value in terms.items():
            sums[key] = sums[key] + value.detach().double() * n  # (R,)
    if stacked.scheduler is not None and not stacked.per_iter:
        stacked.scheduler.step()
    lr = stacked.optimizer.param_groups[0]["lr"]
    means = {key: (value / count).cpu().numpy() for key, value in sums.items()}
    return [{"epoch": epoch, "lr": lr, **{f"train_{k}": float(v[r]) for k, v in means.items()}}
            for r in range(len(runs))]


def _group_line(rows: list[dict], epoch: int, epochs: int, seconds: float, left: float) -> str:
    parts = [f"group of {len(rows)}: epoch {epoch}/{epochs}",
             f"loss {plus_minus(*mean_std([r['train_loss'] for r in rows]), '.4g')}"]
    srcc = [r["test_srcc"] for r in rows if "test_srcc" in r]
    if srcc:
        parts.append(f"test srcc {plus_minus(*mean_std(srcc))}")
    parts.append(training._duration(seconds))
    parts.append(f"ETA {training._duration(left)}" if left > 0 else "done")
    return "  ".join(parts)


def _commit_checkpoint(stacked: StackedRuns, runs: list, states: list[TrainingState], record: Path) -> None:
    """Every run's checkpoint at this epoch, committed for the group at once (see the module's doc)."""
    stacked.store([r.model for r in runs], [r.optimizer for r in runs], [r.scheduler for r in runs])
    for run, state in zip(runs, states):
        training.save_training_checkpoint(run.out / NEXT_CHECKPOINT, run.cfg, state, run.model, run.optimizer,
                                          run.scheduler, run.generator, run.eval_gen)
    record.parent.mkdir(parents=True, exist_ok=True)
    entry = {"epoch": states[0].epoch, "runs": [str(r.out.resolve()) for r in runs]}
    atomic_write(record, lambda tmp: tmp.write_text(json.dumps(entry, indent=2)))
    for run in runs:
        os.replace(run.out / NEXT_CHECKPOINT, run.out / CHECKPOINT_FILE)


def _recover_commit(record: Path, outs: list[Path]) -> None:
    """Finish a commit that ``record`` holds but whose files were not all moved into place, and
    drop new checkpoints written before a commit that never happened."""
    committed = None
    if record.is_file():
        try:
            committed = int(json.loads(record.read_text())["epoch"])
        except (ValueError, KeyError, TypeError) as exc:
            raise LongAQAError(f"{record}: unreadable group record ({exc})") from None
    for out in outs:
        pending = out / NEXT_CHECKPOINT
        if not pending.is_file():
            continue
        try:
            epoch = int(load_checkpoint(pending)["epoch"])
        except LongAQAError:  # written in part when the group was killed
            epoch = None
        if committed is not None and epoch == committed:
            os.replace(pending, out / CHECKPOINT_FILE)
        else:
            pending.unlink()


def _forget_commit(record: Path) -> None:
    """A new group starts without an earlier group's record."""
    with contextlib.suppress(FileNotFoundError):
        record.unlink()


def mean_std(values: list[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (ddof 1; 0 for one value) of the finite ``values``."""
    finite = [v for v in values if v is not None and math.isfinite(v)]
    if not finite:
        return math.nan, math.nan
    return float(np.mean(finite)), float(np.std(finite, ddof=1)) if len(finite) > 1 else 0.0
