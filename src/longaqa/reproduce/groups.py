"""Training a table's cells in groups (:mod:`longaqa.group`), here or on a cluster through submitit.

Cells that can share one batched computation (same architecture, loss and optimizer; other seeds,
classes or query-init spreads) are packed into groups of at most ``--group`` runs; each group is one
job that writes its runs' folders exactly as lone runs do, and its commit record under
``OUT/groups/``. A group stopped at any point is continued by the next ``reproduce`` call.

Executors:

- ``inline`` (default): the groups one after another in this process.
- ``submitit``: through `submitit <https://github.com/facebookincubator/submitit>`_. Under SLURM
  (``--executor-option cluster=slurm``, or auto-detected) each group is a job with one GPU; the run
  folders must be on storage the nodes share. Without SLURM, one local process per GPU of this machine
  (``--devices``), each training its share of the groups one after another.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from longaqa.config import Config
from longaqa.errors import LongAQAError

EXECUTORS = ("inline", "submitit")
GROUPS_DIR = "groups"


@dataclass
class GroupJob:
    """One group of runs: their configs and run folders, its commit record, the data folder."""

    cfgs: list[Config]
    run_dirs: list[Path]
    record: Path
    data_root: str | None

    @property
    def name(self) -> str:
        return self.record.stem


def plan_groups(cfgs: list[Config], run_dirs: list[Path], out: Path, data_root: str | None,
                size: int | None) -> list[GroupJob]:
    """The runs in groups of at most ``size`` (None: as many as can share one): runs that share a step
    (:func:`longaqa.group.plan.group_key`) and train on as many videos. A group's record is named by
    a hash of its run folders, so the same cells and size give the same groups again."""
    from longaqa.group import pack

    jobs = []
    groupable = [c.model.head != "mean_pool" for c in cfgs]
    counts = _training_counts(cfgs, data_root)
    for members in pack(cfgs, size, extra=counts):
        if not groupable[members[0]]:
            parts = [[m] for m in members]
        else:
            parts = [members]
        for part in parts:
            dirs = [run_dirs[i] for i in part]
            digest = hashlib.sha1("\n".join(str(d.resolve()) for d in dirs).encode()).hexdigest()[:12]
            jobs.append(GroupJob([cfgs[i] for i in part], dirs, out / GROUPS_DIR / f"{digest}.json", data_root))
    return jobs


def _training_counts(cfgs: list[Config], data_root: str | None) -> list[int]:
    """Each run's number of training videos, from its label files (read once per dataset)."""
    from longaqa.data import dataset_root, load_labels

    seen: dict[tuple, int] = {}
    counts = []
    for cfg in cfgs:
        d = cfg.data
        key = (d.layout, d.root, d.features_dir, d.class_name, d.target)
        if key not in seen:
            seen[key] = len(load_labels(d, dataset_root(d, data_root), "train"))
        counts.append(seen[key])
    return counts


def train_group_job(job: GroupJob, quiet: bool = True) -> list[dict]:
    """Train one group (a lone run when it has one member), continuing whatever a stopped call left."""
    from longaqa.group import fit_group
    from longaqa.training import CONFIG_FILE, fit

    started = any((d / CONFIG_FILE).is_file() for d in job.run_dirs)
    if len(job.cfgs) == 1:
        return [fit(job.cfgs[0], job.run_dirs[0], job.data_root, resume=started, quiet=quiet)]
    return fit_group(job.cfgs, job.run_dirs, job.record, [job.data_root] * len(job.cfgs), resume=started,
                     quiet=quiet)


def run_groups(jobs: list[GroupJob], executor: str, out: Path, devices: int | None, options: dict[str, str],
               log: Callable[[str], None]) -> None:
    """Train every job with ``executor``; failures are gathered and raised together at the end."""
    if executor not in EXECUTORS:
        raise LongAQAError(f"--executor must be one of {', '.join(EXECUTORS)}, got {executor!r}")
    if executor == "inline":
        for i, job in enumerate(jobs, start=1):
            log(f"reproduce: group {i}/{len(jobs)} ({len(job.cfgs)} runs, {job.name})")
            train_group_job(job)
        return
    _run_submitit(jobs, out, devices, dict(options), log)


def _run_submitit(jobs: list[GroupJob], out: Path, devices: int | None, options: dict[str, str],
                  log: Callable[[str], None]) -> None:
    try:
        import submitit
    except ImportError:
        raise LongAQAError("--executor submitit needs submitit: pip install 'longaqa[cluster]'") from None
    import torch

    folder = out / "submitit"
    timeout = float(options.pop("timeout_min", 24 * 60))
    cluster = options.pop("cluster", None)
    if cluster is None:
        cluster = submitit.AutoExecutor.which()
    if cluster not in ("local", "debug"):  # SLURM: one job per group, one GPU each
        executor = submitit.AutoExecutor(folder=folder, cluster=cluster)
        executor.update_parameters(timeout_min=timeout, gpus_per_node=1, tasks_per_node=1,
                                   **{f"{cluster}_{k}": v for k, v in options.items()})
        submitted = [executor.submit(train_group_job, job) for job in jobs]
        log(f"reproduce: {len(submitted)} groups submitted to {cluster} (logs in {folder})")
    else:  # this machine: one process per GPU (or one on a CPU), each with its share of the groups
        gpus = torch.cuda.device_count()
        workers = max(1, min(devices or gpus or 1, len(jobs)))
        if options:
            raise LongAQAError(f"--executor-option {', '.join(options)}: only timeout_min applies without SLURM")
        submitted = []
        for k in range(workers):
            executor = submitit.LocalExecutor(folder=folder)
            executor.update_parameters(timeout_min=timeout, gpus_per_node=1 if gpus else 0,
                                       visible_gpus=(k,) if gpus else ())
            submitted.append(executor.submit(_train_share, jobs[k::workers]))
        log(f"reproduce: {len(jobs)} groups in {workers} local process(es) (logs in {folder})")
    failures = []
    for job in submitted:
        try:
            job.result()
        except Exception:  # noqa: BLE001 - every job's failure is reported, not only the first
            failures.append(f"job {job.job_id}: {_last_error_line(job)}")
    if failures:
        raise LongAQAError(f"{len(failures)} of {len(submitted)} jobs failed (logs in {folder}): "
                           + "; ".join(failures) + "; rerun the same command to continue them")


def _last_error_line(job) -> str:
    """The last line of a failed job's stderr (its exception), or where its log is."""
    try:
        lines = [line for line in (job.stderr() or "").splitlines() if line.strip()]
    except OSError:
        lines = []
    return lines[-1].strip() if lines else f"see {job.paths.stderr}"


def _train_share(jobs: list[GroupJob]) -> int:
    """One local process's groups, one after another."""
    for job in jobs:
        train_group_job(job)
    return len(jobs)
