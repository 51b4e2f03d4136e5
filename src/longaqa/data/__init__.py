"""Datasets: one module per public layout, shared feature reading, batching and synthetic routines.

:func:`load_split` reads one split of any supported layout into memory (features are loaded once),
validating everything first and reporting all problems together.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np
import torch

from longaqa.config import DataConfig
from longaqa.data.dataset import VideoSample
from longaqa.data.features import read_features
from longaqa.data.subscores import ROUNDING, load_subscores, sheet_total
from longaqa.errors import LongAQAError
from longaqa.sheets import ScoreSheet

LabelReader = Callable[[DataConfig, Path, str], list[tuple[str, float]]]


def _rg(cfg: DataConfig, root: Path, split: str):
    from longaqa.data.rg import load_rg_split

    return load_rg_split(root, split, cfg.class_name, cfg.target)


def _fisv(cfg: DataConfig, root: Path, split: str):
    from longaqa.data.fisv import load_fisv_split

    return load_fisv_split(root, split, cfg.target)


def _logo(cfg: DataConfig, root: Path, split: str):
    from longaqa.data.logo import load_logo_split

    return load_logo_split(root, split)


def _generic(cfg: DataConfig, root: Path, split: str):
    from longaqa.data.generic import load_generic_split

    return load_generic_split(root, split)


LABEL_READERS: dict[str, LabelReader] = {"rg": _rg, "fisv": _fisv, "logo": _logo, "generic": _generic}
"""Layout name -> function returning ``(video name, raw score)`` for one split."""


def dataset_root(cfg: DataConfig, data_root: str | Path | None) -> Path:
    """``--data-root``/``data.root``; when that folder is missing but ``--data-root`` itself holds the
    feature folder (the user pointed at the unpacked release directly), ``--data-root`` is used."""
    root = Path(cfg.root)
    if data_root is not None and not root.is_absolute():
        root = Path(data_root) / root
        if not root.is_dir() and (Path(data_root) / cfg.features_dir).is_dir():
            root = Path(data_root)
    if not root.is_dir():
        raise LongAQAError(
            f"{root}: dataset folder not found (data.root={cfg.root!r}, --data-root={data_root}); "
            f"expected it to hold the label files and {cfg.features_dir}/"
        )
    return root


def load_labels(cfg: DataConfig, root: Path, split: str) -> list[tuple[str, float]]:
    if cfg.layout not in LABEL_READERS:
        raise LongAQAError(f"data.layout {cfg.layout!r} is not supported by this installation")
    labels = LABEL_READERS[cfg.layout](cfg, root, split)
    if not labels:
        what = f" of class {cfg.class_name!r}" if cfg.class_name else ""
        raise LongAQAError(f"{root}: split {split!r}{what} is empty")
    seen: set[str] = set()
    duplicates = sorted({name for name, _ in labels if name in seen or seen.add(name)})
    if duplicates:
        raise LongAQAError(f"{root}: split {split!r} names a video more than once: {', '.join(duplicates[:10])}")
    return labels


def load_split(
    cfg: DataConfig,
    root: Path,
    split: str,
    input_dim: int | None,
    preloaded: Mapping[Path, np.ndarray] | None = None,
    sheet: ScoreSheet | None = None,
) -> list[VideoSample]:
    """Read one split's labels and features into memory; every bad file is reported at once.

    ``preloaded`` (path -> array, from :func:`longaqa.data.validate.check_dataset`) is used instead
    of reading a feature file again. With a ``sheet`` that has sub-scores (the additive head), each
    sample also gets them (divided like the score), checked to add up to the total.
    """
    labels = load_labels(cfg, root, split)
    subscores = load_subscores(cfg, root, split, sheet) if sheet is not None else {}
    if subscores:
        missing = [name for name, _ in labels if name not in subscores]
        if missing:
            raise LongAQAError(f"{root}: split {split!r}: no sub-scores for {', '.join(missing[:10])}")
        wrong = [name for name, score in labels if abs(sheet_total(sheet, subscores[name]) - score) > ROUNDING]
        if wrong:
            raise LongAQAError(
                f"{root}: split {split!r}: sub-scores do not add up to the score ({sheet.name} sheet) for "
                + ", ".join(wrong[:10])
            )
    samples, problems = [], []
    for name, score in labels:
        path = root / cfg.features_dir / f"{name}.npy"
        try:
            feats = preloaded[path] if preloaded and path in preloaded else read_features(path, input_dim)
        except LongAQAError as exc:
            problems.append(str(exc))
            continue
        subs = {k: v / cfg.score_divisor for k, v in subscores[name].items()} if subscores else None
        samples.append(VideoSample(name, torch.from_numpy(feats), score / cfg.score_divisor, subs))
    if problems:
        more = f"\n... and {len(problems) - 20} more" if len(problems) > 20 else ""
        raise LongAQAError(
            f"{len(problems)} problem(s) in split {split!r}:\n" + "\n".join(problems[:20]) + more
        )
    return samples


def load_train_test(
    cfg: DataConfig,
    data_root: str | Path | None,
    input_dim: int | None,
    preloaded: Mapping[Path, np.ndarray] | None = None,
    sheet: ScoreSheet | None = None,
):
    """The train and test splits, checked for overlap (``preloaded``, ``sheet``: see :func:`load_split`)."""
    root = dataset_root(cfg, data_root)
    train = load_split(cfg, root, "train", input_dim, preloaded, sheet)
    test = load_split(cfg, root, "test", input_dim, preloaded, sheet)
    overlap = sorted({s.name for s in train} & {s.name for s in test})
    if overlap:
        raise LongAQAError(f"{root}: videos in both train and test: {', '.join(overlap[:10])}")
    return train, test
