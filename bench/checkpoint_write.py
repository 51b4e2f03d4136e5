"""Size and write/read time of a resumable checkpoint of the paper's model (RG defaults).

    python bench/checkpoint_write.py [--rounds 3] [--selection val] [--folder DIR]

Builds the default model (d_model 1024, 68 queries), takes one Adam step so the optimizer holds its
moments, and writes ``checkpoint.safetensors`` as training does (atomic: temporary file, fsync,
rename), ``--rounds`` times; then reads it back. ``--selection val`` (or best-test) also stores the
best weights, as those runs do. The folder defaults to a temporary one on the system's temp disk;
point ``--folder`` at the disk your runs go to.
"""

from __future__ import annotations

import argparse
import copy
import tempfile
import time
from pathlib import Path

import torch

from longaqa.checkpoint import load_checkpoint
from longaqa.config import load_config
from longaqa.models import build_model
from longaqa.training import TrainingState, build_optimizer, save_training_checkpoint, seed_everything


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--selection", default="val", choices=["last", "val", "best-test"])
    parser.add_argument("--folder", type=Path, default=None)
    args = parser.parse_args()

    torch.set_num_threads(1)
    cfg = load_config(None, [f"train.selection={args.selection}"])
    generator = seed_everything(cfg.train.seed)
    eval_generator = torch.Generator().manual_seed(cfg.train.seed + 1)
    model = build_model(cfg.model)
    optimizer, scheduler, _ = build_optimizer(model, cfg, steps_per_epoch=5)
    clips = torch.randn(2, cfg.model.num_queries, cfg.model.input_dim)  # (B, T, D)
    model(clips, torch.tensor([cfg.model.num_queries] * 2)).pred.sum().backward()
    optimizer.step()
    best = copy.deepcopy(model.state_dict()) if args.selection != "last" else None
    state = TrainingState(epoch=3, best_value=0.5, best_epoch=2 if best else None, best_state=best)
    params = sum(p.numel() for p in model.parameters())

    with tempfile.TemporaryDirectory(dir=args.folder) as folder:
        path = Path(folder) / "checkpoint.safetensors"
        for i in range(args.rounds):
            start = time.perf_counter()
            save_training_checkpoint(path, cfg, state, model, optimizer, scheduler, generator, eval_generator)
            print(f"write {i + 1}: {time.perf_counter() - start:.2f} s")
        start = time.perf_counter()
        load_checkpoint(path)
        print(f"read: {time.perf_counter() - start:.2f} s")
        print(f"parameters: {params:,}; selection {args.selection}; "
              f"checkpoint: {path.stat().st_size / 2**20:.1f} MiB")


if __name__ == "__main__":
    main()
