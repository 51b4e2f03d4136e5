"""Which runs can share one grouped training computation, and packing them into groups.

Runs share a group when one vmapped step computes all of them: the same architecture, loss and
optimizer. They may differ in the seed, the data (another class, target or folder of the same size)
and values read only once at initialisation.
"""

from __future__ import annotations

import json

from longaqa.config import Config

PER_RUN_KEYS = {
    "train": ("seed", "device", "num_threads", "cpu_malloc", "features_on_device", "progress", "tensorboard",
              "checkpoint_every", "checkpoint_seconds", "selection", "eval_every"),
    "data": None,  # every data key: each run loads and batches its own videos
}
"""Keys that may differ inside a group (None: the whole section)."""

INIT_ONLY_KEYS = {"model": ("query_init_spread", "query_init_spread_is")}
"""Keys read only when the weights are initialised (for learned queries): they may differ too."""


def group_key(cfg: Config) -> str:
    """What must be equal for two runs to train in one group, as a string (equal keys: groupable)."""
    d = cfg.to_dict()
    for section, keys in PER_RUN_KEYS.items():
        if keys is None:
            d.pop(section)
        else:
            d[section] = {k: v for k, v in d[section].items() if k not in keys}
    if cfg.model.query_init == "learned":
        for section, keys in INIT_ONLY_KEYS.items():
            d[section] = {k: v for k, v in d[section].items() if k not in keys}
    return json.dumps(d, sort_keys=True)


def pack(cfgs: list[Config], size: int | None, extra: list | None = None) -> list[list[int]]:
    """Indices of ``cfgs`` in groups of at most ``size`` runs (None: no limit) with equal
    :func:`group_key` (and equal ``extra[i]``, e.g. the number of training videos); groups in order of
    their first run, runs in their given order."""
    by_key: dict[str, list[int]] = {}
    for i, cfg in enumerate(cfgs):
        by_key.setdefault(group_key(cfg) + (f"|{extra[i]}" if extra is not None else ""), []).append(i)
    groups = []
    for members in by_key.values():
        step = size or len(members)
        groups.extend(members[i:i + step] for i in range(0, len(members), step))
    return sorted(groups, key=lambda g: g[0])
