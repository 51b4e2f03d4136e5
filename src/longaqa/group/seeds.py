"""One config over several seeds, grouped: ``longaqa train --seeds N`` and its summary.

Layout of ``OUT``::

    seed<k>/             one run folder per seed (train.seed, train.seed + 1, ...), as a lone run's
    group-seed<a>-<b>.json   the commit record of the group that trains seeds a..b
    seeds.json           every seed's test metrics and their mean ± std (ddof 1)
"""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path

from longaqa.checkpoint import atomic_write
from longaqa.config import Config
from longaqa.errors import LongAQAError
from longaqa.group.plan import pack
from longaqa.group.sizing import auto_group_size
from longaqa.group.train import fit_group, mean_std
from longaqa.resume import TrainingInterrupted
from longaqa.run_folder import CONFIG_FILE, METRICS_FILE

SEEDS_FILE = "seeds.json"
SUMMARY_METRICS = ("srcc", "rl2", "rl2_x100", "mse", "mse_raw")


def seed_configs(cfg: Config, seeds: int) -> list[Config]:
    """``cfg`` at ``train.seed``, ``train.seed + 1``, ... (``seeds`` of them)."""
    if seeds < 1:
        raise LongAQAError(f"--seeds must be >= 1, got {seeds}")
    out = []
    for k in range(seeds):
        c = copy.deepcopy(cfg)
        c.train.seed = cfg.train.seed + k
        out.append(c)
    return out


def fit_seeds(cfg: Config, out: str | Path, seeds: int, data_root: str | Path | None = None,
              group_size: int | None = None, resume: bool = False, quiet: bool = False) -> dict:
    """Train ``cfg`` at ``seeds`` seeds into ``OUT/seed<k>/``, in groups of at most ``group_size`` runs
    (None: :func:`longaqa.group.sizing.auto_group_size`, all seeds in one group on a GPU that holds
    them, one after another on a CPU), and write ``OUT/seeds.json``; return it. ``resume`` continues what a stopped
    call left (finished seeds are kept). A config that cannot train in a group (the mean-pooled
    baseline) trains its seeds one after another."""
    out = Path(out)
    cfgs = seed_configs(cfg, seeds)
    dirs = [out / f"seed{c.train.seed}" for c in cfgs]
    if not resume and any((d / CONFIG_FILE).exists() for d in dirs):
        raise LongAQAError(f"{out}: already holds seed runs; choose another --out, or continue with --resume {out}")
    groupable = cfg.model.head != "mean_pool"
    if group_size is None and groupable:
        group_size = auto_group_size(cfg)
    try:
        _train_seed_groups(cfgs, dirs, out, data_root, group_size if groupable else 1, quiet)
    except TrainingInterrupted as exc:  # the run's own note, and how to go on with every seed
        raise TrainingInterrupted(f"{exc}; or every seed left: longaqa train --resume {out} --seeds {seeds}") from None
    return write_seed_summary(out, dirs)


def _train_seed_groups(cfgs: list[Config], dirs: list[Path], out: Path, data_root, group_size: int | None,
                       quiet: bool) -> None:
    """Every seed not finished yet, group by group (a group of one: a lone run), continuing any started."""
    from longaqa.training import fit

    for members in pack(cfgs, group_size):
        todo = [i for i in members if not (dirs[i] / METRICS_FILE).is_file()]
        if not todo:
            continue
        started = any((dirs[i] / CONFIG_FILE).is_file() for i in todo)
        if len(todo) == 1:
            fit(cfgs[todo[0]], dirs[todo[0]], data_root, resume=started, quiet=quiet)
        else:
            first, last = cfgs[todo[0]].train.seed, cfgs[todo[-1]].train.seed
            fit_group([cfgs[i] for i in todo], [dirs[i] for i in todo], out / f"group-seed{first}-{last}.json",
                      [data_root] * len(todo), resume=started, quiet=quiet)


def finite_or_none(value: float) -> float | None:
    return value if math.isfinite(value) else None


def seeds_folder_config(out: Path) -> Path:
    """The config of the first seed's run in a ``--seeds`` folder (for ``--resume``)."""
    firsts = sorted((p for p in out.glob("seed*") if (p / CONFIG_FILE).is_file() and p.name[4:].isdigit()),
                    key=lambda p: int(p.name[4:]))
    if not firsts:
        raise LongAQAError(f"{out}: holds neither a run ({CONFIG_FILE}) nor seed runs (seed<k>/{CONFIG_FILE}); "
                           "nothing to resume")
    return firsts[0] / CONFIG_FILE


def write_seed_summary(out: Path, dirs: list[Path]) -> dict:
    """``OUT/seeds.json``: each run's metrics.json and, per metric, mean, std (ddof 1) and values."""
    runs = [json.loads((d / METRICS_FILE).read_text()) for d in dirs]
    summary: dict = {"runs": [str(d) for d in dirs], "seeds": len(dirs)}
    for name in SUMMARY_METRICS:
        values = [r.get(name) for r in runs]
        mean, std = mean_std(values)
        summary[name] = {"mean": finite_or_none(mean), "std": finite_or_none(std), "values": values}
    summary["selection"] = runs[0].get("selection")
    atomic_write(out / SEEDS_FILE, lambda tmp: tmp.write_text(json.dumps(summary, indent=2) + "\n"))
    return summary
