"""Evaluating a group's runs in one vmapped pass per batch: the per-epoch metrics, selection and
skipping index a lone run logs, computed for all runs at once.

Letters: R runs, B batch.

A lone run evaluates with two passes per batch (predictions, then the self-attention maps for the
skipping index); here one pass with maps gives both, for every run. The numbers are the lone run's
(the same post-processing: ``engine.metrics_of_predictions`` and ``engine.skipping_index_of_maps``)
within floating-point tolerance. Runs whose evaluation cannot be stacked (different split sizes or
views, or ``data.eval_view=random_crop``, whose crops come from each run's generator) are evaluated
one by one as lone runs are.
"""

from __future__ import annotations

from collections import defaultdict

import torch

from longaqa import training
from longaqa.data.dataset import VideoSample, iterate_batches
from longaqa.engine import joined, metrics_of_predictions, skipping_index_of_maps
from longaqa.group.stacked import StackedRuns, stack_batches
from longaqa.resume import TrainingState

METRICS = ("srcc", "rl2", "mse")


def can_stack(runs: list) -> bool:
    """Whether one vmapped pass can evaluate every run (same split sizes, view and selection)."""
    first = runs[0]
    return (first.cfg.data.eval_view != "random_crop"
            and all(r.cfg.data.eval_view == first.cfg.data.eval_view for r in runs)
            and len({len(r.test) for r in runs}) == 1 and len({len(r.val) for r in runs}) == 1)


def evaluate_group_epoch(stacked: StackedRuns, runs: list, states: list[TrainingState], epoch: int,
                         rows: list[dict[str, float]]) -> None:
    """Every run's val and test metrics and skipping index into its row, its selection into its state
    (as ``training._evaluate_epoch`` does for a lone run). ``run.model`` must hold the run's weights."""
    if runs[0].val:
        for row, (metrics, _, _) in zip(rows, _evaluate_split(stacked, runs, [r.val for r in runs])):
            row.update({f"val_{k}": metrics[k] for k in METRICS})
    for row, (metrics, _, skipping) in zip(rows, _evaluate_split(stacked, runs, [r.test for r in runs])):
        row.update({f"test_{k}": metrics[k] for k in METRICS})
        row.update(skipping)
    for run, state, row in zip(runs, states, rows):
        training.update_selection(run, state, epoch, row)


def _evaluate_split(stacked: StackedRuns, runs: list, splits: list[list[VideoSample]]) -> list[tuple]:
    """Per run: (metrics, raw-scale predictions, skipping index) on its split."""
    cfg = runs[0].cfg
    view = cfg.data.eval_view
    crop_to = None if view == "full" else stacked.template.num_queries
    preds: list[list[torch.Tensor]] = [[] for _ in runs]
    subs: list[dict[str, list]] = [defaultdict(list) for _ in runs]
    maps: list[list] = [[] for _ in runs]
    batches = [iterate_batches(split, cfg.train.batch_size, False, None, crop_to, "center") for split in splits]
    for per_run in zip(*batches):
        features, lengths, _, _ = stack_batches(list(per_run), runs[0].device)
        out = stacked.evaluate(features, lengths)
        for r, batch in enumerate(per_run):
            preds[r].append(out["pred"][r].float().cpu())
            for name, value in out["subscores"].items():
                subs[r][name].append(value[r].float().cpu())
            maps[r].append(([m[r] for m in out["self_attn_maps"]], batch.lengths, True))

    results = []
    for r, split in enumerate(splits):
        metrics, pred = metrics_of_predictions(joined(preds[r]), {k: joined(v) for k, v in subs[r].items()}, split,
                                               runs[r].cfg.data.score_divisor)
        results.append((metrics, pred, skipping_index_of_maps(maps[r], stacked.template.num_queries)))
    return results
