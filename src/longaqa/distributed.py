"""Training across processes with DistributedDataParallel, as ``torchrun`` starts them.

``torchrun --nproc_per_node=N -m longaqa train ...`` sets ``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK`` and
the rendezvous address; :func:`setup` sees them and joins the process group (NCCL on CUDA, gloo on
CPU). Semantics, chosen so that a run matches a single-process run:

* ``train.batch_size`` is the *global* batch. Every process draws the same permutation and the same
  random crops (the data generator is seeded alike everywhere) and collates the whole global batch,
  then keeps its own contiguous slice of it (:meth:`Shard.local`).
* The local loss is rescaled (:meth:`Shard.shares`, :meth:`Shard.scale_loss`) so that DDP's
  gradient *average* equals the gradient of the global batch's loss: each term by the process's
  share of what the criterion says the term averages over (``Criterion.averages_over``: samples or
  valid query rows), a summed term by the process count. Logged epoch means are those of a single
  process too. With dropout off the weights then follow a single-process run within floating-point
  tolerance; with dropout on, every process draws its own dropout masks (seeded by rank).
* Only rank 0 writes the run folder. Other ranks run the same code against a private scratch folder
  (a copy of the run folder when resuming) that is removed when the process exits.
* Stopping is agreed (:meth:`Shard.any`): a non-finite loss in any process stops every process before
  the backward pass of that step, and a SIGINT/SIGTERM that reaches any process stops every process
  after the same epoch, with rank 0's checkpoint saved.

Letters: B global batch, b local batch.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.distributed as dist
from torch import nn

from longaqa.data.dataset import Batch
from longaqa.errors import LongAQAError


@dataclass
class LocalBatch:
    """A process's slice of a global batch: ``batch`` (its samples), ``whole`` (the global batch) and
    ``real`` (False: a rank left without samples, running the first sample with its loss scaled to 0)."""

    batch: Batch
    whole: Batch
    real: bool


@dataclass(frozen=True)
class Shard:
    """This process's place in the group: rank ``rank`` of ``world_size``."""

    rank: int
    world_size: int
    owns_group: bool = True
    """Whether :func:`setup` created the process group (and :meth:`finish` should destroy it)."""

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def bounds(self, global_size: int) -> tuple[int, int]:
        """``[start, stop)`` of this rank's contiguous slice of a global batch of ``global_size``."""
        base, extra = divmod(global_size, self.world_size)
        start = self.rank * base + min(self.rank, extra)
        return start, start + base + (1 if self.rank < extra else 0)

    def local(self, batch: Batch) -> tuple[Batch, bool]:
        """This rank's slice of ``batch`` and whether it holds real samples.

        A rank left without samples (a global batch smaller than the group) gets the first sample
        with ``False``: it still runs forward and backward so that the gradient all-reduce happens,
        and its loss is scaled to zero.
        """
        start, stop = self.bounds(len(batch.names))
        real = stop > start
        if not real:
            start, stop = 0, 1
        return Batch(
            clip_features=batch.clip_features[start:stop],  # (b, T, D)
            lengths=batch.lengths[start:stop],
            scores=batch.scores[start:stop],
            names=batch.names[start:stop],
            subscores=None if batch.subscores is None else {k: v[start:stop] for k, v in batch.subscores.items()},
        ), real

    def slices(self, batches: Iterable[Batch]) -> Iterator[LocalBatch]:
        """This rank's slice of every global batch (:meth:`local`), with the global batch beside it."""
        for batch in batches:
            local, real = self.local(batch)
            yield LocalBatch(local, batch, real)

    def shares(self, criterion, whole: Batch, local: Batch, real: bool, num_queries: int,
               padding_mask: bool = True) -> dict[str, float]:
        """Per unit a loss term averages over (``criterion.averages_over``), the factor that makes DDP's
        gradient average the gradient of the global batch's loss: ``world x local units / global
        units`` (samples, valid query rows, from ``criterion.units``), ``world`` for a summed term.
        A rank without real samples gets 0 for every unit."""
        w = self.world_size
        ours = criterion.units(local, num_queries, padding_mask)
        theirs = criterion.units(whole, num_queries, padding_mask)
        shares = {unit: w * ours[unit] / theirs[unit] for unit in theirs}
        shares["sum"] = float(w)
        return {unit: value if real else 0.0 for unit, value in shares.items()}

    def scale_loss(self, criterion, terms: dict[str, torch.Tensor], shares: dict[str, float]) -> torch.Tensor:
        """The local loss whose DDP-averaged gradient is the gradient of the global batch's loss."""
        return criterion.total({key: value * shares[criterion.averages_over(key)] for key, value in terms.items()})

    def batch_sums(self, criterion, terms: dict[str, torch.Tensor], shares: dict[str, float],
                   global_size: int) -> dict[str, float]:
        """This rank's part of ``term value of the global batch x global batch size``, per term.

        Summed over the ranks (:meth:`all_reduce_sums`) it is what a single process adds to its
        epoch sums for that batch, so logged epoch means match a single-process run.
        """
        scale = global_size / self.world_size
        sums = {key: float(value.detach()) * shares[criterion.averages_over(key)] * scale
                for key, value in terms.items()}
        if "loss" in sums:  # the total of the rescaled terms, not the rescaled total
            sums["loss"] = criterion.total(sums)
        return sums

    def all_reduce_sums(self, sums: dict[str, float], count: int) -> tuple[dict[str, float], int]:
        """Sum per-process (key -> value) sums and the sample count over the group."""
        keys = sorted(sums)
        packed = torch.tensor([sums[k] for k in keys] + [float(count)], dtype=torch.float64)
        if dist.get_backend() == "nccl":
            packed = packed.to(torch.device("cuda", torch.cuda.current_device()))  # NCCL reduces on the GPU
        dist.all_reduce(packed)
        values = packed.cpu().tolist()
        return dict(zip(keys, values[:-1])), int(values[-1])

    def any(self, flag: bool) -> bool:
        """Whether ``flag`` is set in any process of the group; every process gets the same answer.

        Used where one process alone may see a reason to stop (a non-finite loss, a signal), so that
        all stop at the same point instead of the others waiting in the next all-reduce.
        """
        value = torch.tensor([1.0 if flag else 0.0])
        if dist.get_backend() == "nccl":
            value = value.to(torch.device("cuda", torch.cuda.current_device()))
        dist.all_reduce(value, op=dist.ReduceOp.MAX)
        return bool(value.item())

    def wrap(self, model: nn.Module, device: torch.device) -> nn.Module:
        """The model in DDP (parameters broadcast from rank 0); dropout RNG seeded per rank."""
        from torch.nn.parallel import DistributedDataParallel

        if self.rank:
            torch.manual_seed(torch.initial_seed() + self.rank)
        ids = [device.index if device.index is not None else torch.cuda.current_device()] \
            if device.type == "cuda" else None
        return DistributedDataParallel(model, device_ids=ids, broadcast_buffers=False)

    def finish(self) -> None:
        """Wait for every rank, then leave the group (if :func:`setup` joined it)."""
        if dist.is_initialized():
            dist.barrier()
            if self.owns_group:
                dist.destroy_process_group()


def launched_by_torchrun() -> bool:
    return int(os.environ.get("WORLD_SIZE", "1")) > 1


def setup(device_name: str) -> Shard | None:
    """Join the process group when started by ``torchrun`` with several processes; None otherwise.

    ``device_name`` is ``train.device``: on CUDA every process takes GPU ``LOCAL_RANK``.
    """
    if dist.is_initialized():  # the caller set the group up itself
        if dist.get_world_size() == 1:
            return None
        return Shard(dist.get_rank(), dist.get_world_size(), owns_group=False)
    if not launched_by_torchrun():
        return None
    if not dist.is_available():
        raise LongAQAError("WORLD_SIZE > 1 but this torch build has no torch.distributed")
    use_cuda = device_name == "cuda" or (device_name == "auto" and torch.cuda.is_available())
    if use_cuda:
        local_rank = int(os.environ.get("LOCAL_RANK", "0"))
        if local_rank >= torch.cuda.device_count():
            raise LongAQAError(
                f"LOCAL_RANK {local_rank} but only {torch.cuda.device_count()} CUDA device(s) are visible; "
                "use --nproc_per_node <= the GPU count"
            )
        torch.cuda.set_device(local_rank)
    dist.init_process_group("nccl" if use_cuda else "gloo")
    return Shard(dist.get_rank(), dist.get_world_size(), owns_group=True)


def private_output(out: Path, copy_existing: bool) -> Path:
    """A scratch folder for a rank that must not write ``out`` (removed when the process exits)."""
    scratch = Path(tempfile.mkdtemp(prefix="longaqa-rank-"))
    atexit.register(shutil.rmtree, scratch, ignore_errors=True)
    target = scratch / out.name
    if copy_existing and out.is_dir():
        shutil.copytree(out, target)
    return target
