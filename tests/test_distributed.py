"""DDP training with 2 gloo CPU processes through the real command line matches a single-process run
(dropout off, centre crops), and only rank 0 writes files. Plus the batch-splitting arithmetic."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from longaqa.config import LossConfig, load_config
from longaqa.data.dataset import Batch
from longaqa.distributed import Shard
from longaqa.losses import Criterion
from longaqa.models import build_model

EXACT = ["model.dropout=0.0", "data.train_crop=center", "train.batch_size=7", "train.epochs=2",
         "train.tensorboard=false", "train.num_threads=1"]
"""Dropout off and deterministic crops; 24 videos in global batches of 7: 7, 7, 7, 3 (uneven splits)."""


def train(tmp_path: Path, routines: Path, overrides: list[str], out: str, processes: int) -> Path:
    sets = [a for o in overrides + EXACT + [f"data.root={routines}"] for a in ("--set", o)]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "TMPDIR": str(tmp_path / "tmp")}
    (tmp_path / "tmp").mkdir(exist_ok=True)
    if processes == 1:
        cmd = [sys.executable, "-m", "longaqa", "train", *sets, "--out", str(tmp_path / out)]
    else:
        cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={processes}",
               "-m", "longaqa", "train", *sets, "--out", str(tmp_path / out)]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return tmp_path / out


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as fh:
        return list(csv.DictReader(fh))


def test_two_gloo_processes_match_one(tmp_path, routines, tiny_overrides):
    single = train(tmp_path, routines, tiny_overrides, "single", 1)
    ddp = train(tmp_path, routines, tiny_overrides, "ddp", 2)

    # the same run folder, written once (rank 1 wrote to a scratch folder, removed at exit)
    assert sorted(p.name for p in ddp.iterdir()) == sorted(p.name for p in single.iterdir())
    assert list((tmp_path / "tmp").glob("longaqa-rank-*")) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ddp", "single", "tmp"]

    a, b = load_file(single / "weights.safetensors"), load_file(ddp / "weights.safetensors")
    assert a.keys() == b.keys()
    for key in a:
        torch.testing.assert_close(b[key], a[key], rtol=1e-4, atol=1e-5, msg=key)
    pa, pb = read_csv(single / "predictions.csv"), read_csv(ddp / "predictions.csv")
    assert [r["name"] for r in pa] == [r["name"] for r in pb]
    torch.testing.assert_close(torch.tensor([float(r["pred"]) for r in pb]),
                               torch.tensor([float(r["pred"]) for r in pa]), rtol=1e-4, atol=1e-4)
    # the logged training loss is the whole group's, equal to the single process's
    ea, eb = read_csv(single / "epochs.csv"), read_csv(ddp / "epochs.csv")
    assert len(ea) == len(eb) == 2
    for ra, rb in zip(ea, eb):
        for key in ("train_loss", "train_mse", "train_attention"):
            assert float(rb[key]) == pytest.approx(float(ra[key]), rel=1e-4, abs=1e-7), key


def make_batch(lengths: list[int], t: int = 9) -> Batch:
    b = len(lengths)
    return Batch(torch.randn(b, t, 4), torch.tensor(lengths), torch.rand(b), [f"v{i}" for i in range(b)])


@pytest.mark.parametrize("size,world", [(7, 2), (3, 2), (1, 2), (10, 3), (2, 4)])
def test_shards_cover_the_batch_once(size, world):
    slices = [Shard(rank, world).bounds(size) for rank in range(world)]
    covered = [i for start, stop in slices for i in range(start, stop)]
    assert covered == list(range(size))
    sizes = [stop - start for start, stop in slices]
    assert max(sizes) - min(sizes) <= 1


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_scaled_local_gradients_average_to_the_global_gradient(reduction):
    """Sum over ranks of (scaled local loss) / world == the global loss, padding and uneven splits."""
    torch.manual_seed(0)
    cfg = load_config(None, ["model.input_dim=4", "model.d_model=8", "model.num_heads=2",
                             "model.dim_feedforward=8", "model.num_queries=6", "model.head_hidden=[4]",
                             "model.dropout=0.0"])
    model = build_model(cfg.model)
    criterion = Criterion(LossConfig(att_reduction=reduction), 8)
    batch = make_batch([9, 4, 7, 3, 9])  # some shorter than the 6 queries: padded rows
    whole = criterion(model(batch.clip_features, batch.lengths), batch.scores)
    world = 2
    total = 0.0
    logged: dict[str, float] = {}
    for rank in range(world):
        shard = Shard(rank, world)
        (part,) = shard.slices([batch])
        local = part.batch
        terms = criterion(model(local.clip_features, local.lengths), local.scores)
        shares = shard.shares(criterion, batch, local, part.real, 6)
        total = total + shard.scale_loss(criterion, terms, shares) / world
        for key, value in shard.batch_sums(criterion, terms, shares, len(batch.names)).items():
            logged[key] = logged.get(key, 0.0) + value
    torch.testing.assert_close(total, whole["loss"], rtol=1e-5, atol=1e-6)
    for key, value in whole.items():  # what a single process logs for this batch
        assert logged[key] == pytest.approx(float(value.detach()) * len(batch.names), rel=1e-5), key


def test_a_rank_without_samples_contributes_nothing():
    batch = make_batch([5])
    local, real = Shard(1, 2).local(batch)
    assert not real and local.names == ["v0"]  # still runs forward/backward for the all-reduce
    terms = {"loss": torch.tensor(2.0), "mse_weighted": torch.tensor(1.0),
             "attention_weighted": torch.tensor(1.0)}
    criterion = Criterion(LossConfig(), 8)
    shares = Shard(1, 2).shares(criterion, batch, local, real, 6)
    assert float(Shard(1, 2).scale_loss(criterion, terms, shares)) == 0.0
    assert set(Shard(1, 2).batch_sums(criterion, terms, shares, 1).values()) == {0.0}


def _stop_worker(rank: int, world: int, store: str, mode: str, root: str, out: str, results: str) -> None:
    """One process of a 2-process gloo group running ``fit``; process 1 alone sees a reason to stop:
    ``nan`` a non-finite loss at its 5th step (epoch 2), ``signal`` a SIGTERM during epoch 1."""
    import signal

    import torch.distributed as dist

    from longaqa import training
    from longaqa.config import load_config
    from longaqa.engine import NonFiniteLoss
    from tests.conftest import TINY

    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"file://{store}", rank=rank, world_size=world)
    if rank == 1 and mode == "nan":
        class NaNAtStepFive(training.Criterion):
            calls = 0

            def forward(self, out, target, subscores=None):
                terms = super().forward(out, target)
                NaNAtStepFive.calls += 1
                if NaNAtStepFive.calls == 5:
                    terms["mse_weighted"] = terms["mse_weighted"] * float("nan")
                return terms

        training.Criterion = NaNAtStepFive
    if rank == 1 and mode == "signal":
        real = training.train_one_epoch

        def signalled(*args, **kwargs):
            if not getattr(signalled, "sent", False):
                signalled.sent = True
                os.kill(os.getpid(), signal.SIGTERM)  # the handler only notes it: the epoch goes on
            return real(*args, **kwargs)

        training.train_one_epoch = signalled
    cfg = load_config(None, TINY + [f"data.root={root}", "model.dropout=0.0", "train.epochs=3",
                                    "train.checkpoint_every=1", "train.tensorboard=false"])
    try:
        training.fit(cfg, out)
        result = "finished"
    except NonFiniteLoss as exc:
        result = f"NonFiniteLoss: {exc}"
    except training.TrainingInterrupted as exc:
        result = f"TrainingInterrupted: {exc}"
    finally:
        dist.destroy_process_group()
    Path(results, f"rank{rank}.txt").write_text(result)


@pytest.mark.parametrize("mode", ["nan", "signal"])
def test_a_stop_seen_by_one_process_stops_both(tmp_path, routines, mode):
    """A non-finite loss or a SIGTERM in process 1 alone stops both processes at the same point
    (without the vote, process 0 goes on into the next all-reduce and dies with gloo's "Connection
    closed by peer", or waits), and rank 0 keeps the checkpoint of the last finished epoch."""
    import torch.multiprocessing as mp

    from longaqa.checkpoint import load_checkpoint

    results = tmp_path / "results"
    results.mkdir()
    args = (2, str(tmp_path / "store"), mode, str(routines), str(tmp_path / "run"), str(results))
    context = mp.start_processes(_stop_worker, args=args, nprocs=2, join=False, start_method="spawn")
    try:
        for _ in range(240):  # up to 120 s
            if context.join(timeout=0.5):
                break
        else:
            pytest.fail(f"{mode}: the processes did not stop together within 120 s")
    finally:
        for process in context.processes:
            if process.is_alive():
                process.kill()
    rank0, rank1 = ((results / f"rank{r}.txt").read_text() for r in (0, 1))
    if mode == "nan":
        assert rank1.startswith("NonFiniteLoss") and "in process 1" in rank1, rank1
        assert rank0.startswith("NonFiniteLoss") and "in another process" in rank0, rank0
        assert "epoch 2" in rank0
    else:
        assert rank1.startswith("TrainingInterrupted: SIGTERM: stopped after epoch 1/3"), rank1
        assert rank0.startswith("TrainingInterrupted: a stop signal to another process: stopped after epoch 1/3"), rank0
    assert load_checkpoint(tmp_path / "run" / "checkpoint.safetensors")["epoch"] == 1
    assert not (tmp_path / "run" / "weights.safetensors").exists()
