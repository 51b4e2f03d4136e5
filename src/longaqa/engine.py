"""One training epoch, one evaluation pass, and the temporal-skipping index of a model's self-attention.
No argument parsing, no file layout.

Letters: B batch, T clips, Q queries.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

import numpy as np
import torch
from tqdm.auto import tqdm

from longaqa.data.dataset import Batch, VideoSample, iterate_batches
from longaqa.distributed import LocalBatch, Shard
from longaqa.errors import LongAQAError
from longaqa.losses import Criterion
from longaqa.metrics import DEFAULT_BANDWIDTH, regression_metrics, skipping_index
from longaqa.models import QueryAQA
from longaqa.precision import autocast
from longaqa.precision import native_bf16 as native_bf16  # re-exported
from longaqa.precision import resolve_precision as resolve_precision  # re-exported


class NonFiniteLoss(LongAQAError):
    """Training produced a NaN or infinite loss."""


def epoch_batches(
    model: QueryAQA,
    samples: list[VideoSample],
    batch_size: int,
    crop_mode: str,
    generator: torch.Generator,
):
    """One epoch's shuffled training batches for ``model``: videos longer than its query count are
    cropped (``crop_mode``), except for a model trained on whole videos (the additive head)."""
    crop_to = None if getattr(model, "sees_whole_video", False) else model.num_queries
    return iterate_batches(samples, batch_size, True, generator, crop_to, crop_mode)


def train_one_epoch(
    model: QueryAQA,
    criterion: Criterion,
    optimizer: torch.optim.Optimizer,
    batches: Iterable[Batch] | Iterable[LocalBatch],
    device: torch.device,
    precision: str = "fp32",
    scheduler=None,
    progress: bool = False,
    description: str = "train",
    total: int | None = None,
    shard: Shard | None = None,
) -> dict[str, float]:
    """Train once over ``batches`` (e.g. :func:`epoch_batches`); returns the sample-weighted mean of
    every loss term.

    ``scheduler`` (if given) is stepped after every iteration; ``total`` (the batch count) is for the
    progress bar. With ``shard`` (several processes, ``model`` in DDP) ``batches`` are this process's
    slices of the global batches (:meth:`longaqa.distributed.Shard.slices`), the loss is rescaled as
    the criterion says its terms average, and the returned means are over the whole group.
    """
    model.train()
    criterion.train()
    sums: dict[str, float] = defaultdict(float)
    count = 0
    core = model if shard is None else model.module  # the QueryAQA inside DDP
    # with progress on, tqdm still draws nothing when stderr is not a terminal (logs, pipes, CI)
    for item in tqdm(batches, total=total, desc=description, disable=None if progress else True, leave=False):
        local, whole, real = (item, item, True) if shard is None else (item.batch, item.whole, item.real)
        x = local.clip_features.to(device, non_blocking=True)  # (B, T, D)
        with autocast(device, precision):
            out = model(x, local.lengths.to(device))
            terms = criterion(out, local.scores.to(device), local.subscores)
        loss = terms["loss"]
        if shard is not None:  # DDP averages gradients: make that the global batch's gradient
            shares = shard.shares(criterion, whole, local, real, core.num_queries, getattr(core, "padding_mask", True))
            loss = shard.scale_loss(criterion, terms, shares)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        # Checked after the backward is queued, so that a GPU runs it while this waits; the weights and
        # the optimizer state are untouched until the step below, which a non-finite loss never reaches.
        finite = bool(torch.isfinite(loss))
        stop = not finite if shard is None else shard.any(not finite)  # every process votes: all stop together
        if stop:
            values = ", ".join(f"{k}={float(v.detach()):.4g}" for k, v in terms.items())
            if shard is None:
                raise NonFiniteLoss(f"non-finite training loss ({values})")
            if not finite:
                raise NonFiniteLoss(f"non-finite training loss in process {shard.rank} ({values})")
            raise NonFiniteLoss(f"non-finite training loss in another process (process {shard.rank} had {values})")
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
        n = len(local.names) if real else 0
        count += n
        if shard is None:  # summed where the values are (no device-to-host wait per step), read once below
            for key, value in terms.items():
                sums[key] = sums[key] + value.detach().double() * n
        else:  # this rank's part of the global batch's values
            for key, value in shard.batch_sums(criterion, terms, shares, len(whole.names)).items():
                sums[key] += value
    if shard is not None:
        sums, count = shard.all_reduce_sums(sums, count)
    return {key: float(value) / count for key, value in sums.items()}


@torch.no_grad()
def predict_with_subscores(
    model: QueryAQA,
    samples: list[VideoSample],
    batch_size: int,
    view: str,
    device: torch.device,
    precision: str = "fp32",
    generator: torch.Generator | None = None,
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Predicted scores for ``samples`` (in the divided scale) and, for a model that predicts them
    (the additive head), its sub-scores by name (else ``{}``). ``view``: full, center_crop, random_crop."""
    model.eval()
    crop_to = None if view == "full" else model.num_queries
    crop_mode = "random" if view == "random_crop" else "center"
    preds, subs = [], defaultdict(list)
    for batch in iterate_batches(samples, batch_size, False, generator, crop_to, crop_mode):
        with autocast(device, precision):
            out = model(batch.clip_features.to(device), batch.lengths.to(device))
        preds.append(out.pred.float().cpu())
        for name, value in (out.subscores or {}).items():
            subs[name].append(value.float().cpu())
    return joined(preds), {name: joined(chunks) for name, chunks in subs.items()}


def joined(chunks: list[torch.Tensor]) -> np.ndarray:
    """Per-batch values (host tensors) as one float64 array."""
    return torch.cat(chunks).numpy().astype(np.float64)


def predict(
    model: QueryAQA,
    samples: list[VideoSample],
    batch_size: int,
    view: str,
    device: torch.device,
    precision: str = "fp32",
    generator: torch.Generator | None = None,
) -> np.ndarray:
    """Predicted scores for ``samples`` (in the divided scale). ``view``: full, center_crop, random_crop."""
    return predict_with_subscores(model, samples, batch_size, view, device, precision, generator)[0]


def evaluate(
    model: QueryAQA,
    samples: list[VideoSample],
    batch_size: int,
    view: str,
    device: torch.device,
    precision: str = "fp32",
    score_divisor: float = 1.0,
    generator: torch.Generator | None = None,
) -> tuple[dict[str, float], np.ndarray]:
    """Metrics (srcc, rl2, mse, mse_raw, n) and the predictions on the raw score scale.

    For a model that predicts sub-scores, with samples that have their labels, ``subscores`` maps each
    name to the same metrics of that sub-score (e.g. RG ``difficulty``/``execution``/``penalty``).
    """
    pred, subs = predict_with_subscores(model, samples, batch_size, view, device, precision, generator)
    return metrics_of_predictions(pred, subs, samples, score_divisor)


def metrics_of_predictions(
    pred: np.ndarray, subs: dict[str, np.ndarray], samples: list[VideoSample], score_divisor: float = 1.0
) -> tuple[dict[str, float], np.ndarray]:
    """:func:`evaluate`'s metrics and raw-scale predictions from predictions already made (divided scale)."""
    true = np.array([s.score for s in samples], dtype=np.float64)
    metrics = regression_metrics(pred, true)
    metrics["mse_raw"] = metrics["mse"] * score_divisor**2
    if subs and all(s.subscores for s in samples):
        metrics["subscores"] = {}
        for name, values in subs.items():
            part = regression_metrics(values, np.array([s.subscores[name] for s in samples], dtype=np.float64))
            part["mse_raw"] = part["mse"] * score_divisor**2
            metrics["subscores"][name] = part
    return metrics, pred * score_divisor


@torch.no_grad()
def model_skipping_index(
    model,
    samples,
    batch_size: int,
    device: torch.device,
    crop_to_queries: bool = False,
    bandwidth: int = DEFAULT_BANDWIDTH,
) -> dict[str, float]:
    """Temporal-skipping index (:func:`longaqa.metrics.skipping_index`) of ``model``'s self-attention
    maps over ``samples`` (``VideoSample``s): ``skipping_index`` (mean over layers) and
    ``skipping_index_layer{n}`` (1-based), each averaged over videos.

    It is computed per layer on the head-averaged self-attention probabilities (``AQAOutput``'s
    ``self_attn_maps``). Only the inputs are used, never the scores. Videos are seen whole
    (``crop_to_queries`` False) or centre-cropped to the query count; each map is cut to the video's
    valid queries.
    """
    was_training = model.training
    model.eval()
    batches = []
    crop = model.num_queries if crop_to_queries else None
    try:
        for batch in iterate_batches(samples, batch_size, False, None, crop, "center"):
            out = model(batch.clip_features.to(device), batch.lengths.to(device), need_weights=True)
            batches.append((out.self_attn_maps, batch.lengths, out.query_valid is not None))
    finally:
        model.train(was_training)
    return skipping_index_of_maps(batches, model.num_queries, bandwidth)


def skipping_index_of_maps(
    batches: list[tuple[list[torch.Tensor], torch.Tensor, bool]], num_queries: int,
    bandwidth: int = DEFAULT_BANDWIDTH,
) -> dict[str, float]:
    """:func:`model_skipping_index` from the self-attention maps already computed: per batch, the maps
    per layer (B, Q, Q), the lengths (B,) and whether padded queries were masked."""
    per_layer: list[list[float]] = []
    for layer_maps, lengths, masked in batches:
        maps = [m.float().cpu().numpy() for m in layer_maps]  # per layer (B, Q, Q)
        if not per_layer:
            per_layer = [[] for _ in maps]
        for i, length in enumerate(lengths.tolist()):
            q = min(int(length), num_queries) if masked else num_queries
            for n, m in enumerate(maps):
                value = skipping_index(m[i, :q, :q], bandwidth)
                if np.isfinite(value):
                    per_layer[n].append(value)
    result = {}
    layer_means = [float(np.mean(v)) if v else float("nan") for v in per_layer]
    result["skipping_index"] = float(np.mean(layer_means)) if layer_means else float("nan")
    for n, value in enumerate(layer_means, start=1):
        result[f"skipping_index_layer{n}"] = value
    return result
