"""How many runs a group holds when asked for ``auto``: measured on a GPU, one on a CPU."""

from __future__ import annotations

import math

from longaqa.config import Config


def auto_group_size(cfg: Config) -> int:
    """``--group auto``: on a GPU, as many runs as about 70% of its free memory holds, measured from one
    training step of a group of two; on a CPU, 1 (one run after another): there a group computes the
    plain model (no CPU fast paths) and took longer than lone runs (bench/RESULTS.md, "Groups of runs")."""
    import torch

    from longaqa.training import resolve_device

    device = resolve_device(cfg.train.device)
    if device.type != "cuda":
        return 1
    per_run = _measured_run_bytes(cfg, device)
    free, _ = torch.cuda.mem_get_info(device)
    return max(1, math.floor(0.7 * free / per_run))


def _measured_run_bytes(cfg: Config, device) -> int:
    """Peak GPU bytes one more run adds to a group's training step, at the config's batch and query count."""
    import torch

    from longaqa.group.stacked import StackedRuns
    from longaqa.models import model_from_config
    from longaqa.training import build_optimizer, resolve_precision

    peaks = []
    for runs in (1, 2):
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats(device)
        base = torch.cuda.memory_allocated(device)
        models = [model_from_config(cfg).to(device) for _ in range(runs)]
        stacked = StackedRuns(cfg, models, device, resolve_precision(cfg.train.precision, device),
                              lambda params: build_optimizer(params, cfg, 1))
        B, T = cfg.train.batch_size, cfg.model.num_queries
        features = torch.randn(runs, B, T, cfg.model.input_dim, device=device)
        lengths = torch.full((runs, B), T, device=device)
        scores = torch.zeros(runs, B, device=device)
        stacked.train_step(features, lengths, scores, None)
        stacked.step()
        peaks.append(torch.cuda.max_memory_allocated(device) - base)
        del models, stacked, features
    return max(1, peaks[1] - peaks[0])
