"""Stopping and resuming training: the training checkpoint, RNG states, what ``--resume`` may change.

``checkpoint.safetensors`` in the run folder holds everything needed to continue a run bit for bit
(:func:`save_training_checkpoint`); :func:`resume_checks` reads it back after checking the config, and
:func:`restore_training` puts it into a freshly built model, optimizer and scheduler.
"""

from __future__ import annotations

import math
import random
import signal
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from longaqa import __version__
from longaqa.checkpoint import (
    ABSENT,
    config_differences,
    format_differences,
    load_checkpoint,
    save_checkpoint,
    state_dict_mismatch,
)
from longaqa.config import Config, flatten_config, load_config
from longaqa.engine import NonFiniteLoss
from longaqa.errors import LongAQAError
from longaqa.models import model_from_config
from longaqa.run_folder import CHECKPOINT_FILE, CONFIG_FILE, METRICS_FILE


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


def restore_training(checkpoint: dict, model: torch.nn.Module, optimizer, scheduler, total_steps: int,
                     generator: torch.Generator, eval_generator: torch.Generator,
                     device: torch.device) -> TrainingState:
    """Load a checkpoint's weights, optimizer, scheduler and RNG states; the state to continue from.

    ``total_steps`` is the scheduler's length under the (possibly extended) ``train.epochs``."""
    model.load_state_dict(checkpoint["model"])
    optimizer.load_state_dict(checkpoint["optimizer"])
    if scheduler is not None:
        scheduler.load_state_dict(checkpoint["scheduler"])
        if isinstance(scheduler, torch.optim.lr_scheduler.CosineAnnealingLR):
            scheduler.T_max = max(1, total_steps)  # extended runs
    restore_rng_states(checkpoint["rng"], generator, eval_generator)
    best = checkpoint["best_model"]
    return TrainingState(
        int(checkpoint["epoch"]), float(checkpoint["best_value"]), checkpoint["best_epoch"],
        {k: v.to(device) for k, v in best.items()} if best is not None else None,
    )


def last_checkpoint_note(out: Path) -> str:
    path = out / CHECKPOINT_FILE
    if not path.is_file():
        return "no checkpoint had been written yet"
    try:
        epoch = load_checkpoint(path)["epoch"]
    except LongAQAError:
        return f"the last checkpoint {path} is kept"
    return f"the last good checkpoint (epoch {epoch}) is kept in {path}"
