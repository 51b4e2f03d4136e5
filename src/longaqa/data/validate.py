"""Checking a whole dataset before any work starts, reporting every problem at once.

:func:`dataset_problems` walks both splits of the configured layout and returns one line per problem,
each starting with the file it concerns:

- label files that are missing, unreadable or have malformed rows (one line per row);
- empty splits, non-finite scores, video names listed twice in a split, or unsafe as file names;
- videos in both train and test;
- feature files that are missing, not a ``.npy`` array, not 2-D ``(T, D)``, with zero clips, with
  ``D`` other than ``model.input_dim``, of a non-numeric dtype, or holding NaN or infinite values.

:func:`check_dataset` raises one :class:`LongAQAError` listing them all.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from pathlib import Path

import numpy as np

from longaqa.config import Config, DataConfig
from longaqa.data import LABEL_READERS, dataset_root
from longaqa.data.features import read_features
from longaqa.errors import LongAQAError

SPLITS = ("train", "test")


def label_source(cfg: DataConfig, root: Path, split: str) -> str:
    """The label file a split comes from, for messages (the folder when the layout has no single file)."""
    if cfg.layout == "rg":
        return str(root / f"{split}.txt")
    if cfg.layout == "fisv":
        for name in (f"{split}.txt", f"{split}_dataset.txt"):
            if (root / name).is_file():
                return str(root / name)
        return str(root / f"{split}.txt")
    if cfg.layout == "logo":
        return str(root / f"{split}_split3.pkl")
    if cfg.layout == "generic":
        return str(root / "labels.csv") if (root / "labels.csv").is_file() else str(root / f"{split}.csv")
    return f"{root} ({split} split)"


def split_message(message: str) -> list[str]:
    """One line per problem from a loader message that joins several with '; '."""
    match = re.match(r"^(?P<file>.*?): malformed label rows: (?P<rows>.*)$", message, re.S)
    if match:
        return [f"{match['file']}: {row}" for row in re.split(r"; (?=line \d+:|\.\.\. and)", match["rows"])]
    match = re.match(r"^malformed [^:]*labels: (?P<rest>.*)$", message, re.S)
    if match:
        return match["rest"].split("; ")
    return message.splitlines() or [message]


def _unsafe_name(name: str) -> bool:
    return name in ("", ".", "..") or "/" in name or "\\" in name or "\x00" in name


def dataset_problems(
    cfg: Config, data_root: str | Path | None, loaded: dict[Path, np.ndarray] | None = None
) -> list[str]:
    """Every problem with the dataset ``cfg.data`` describes, one line each; empty when it is usable.

    Feature arrays read on the way are put in ``loaded`` (path -> array) when given, so that
    training does not read them a second time.
    """
    data = cfg.data
    try:
        root = dataset_root(data, data_root)
    except LongAQAError as exc:
        return [str(exc)]
    if data.layout not in LABEL_READERS:
        return [f"data.layout {data.layout!r} is not supported by this installation"]
    problems: list[str] = []
    names: dict[str, list[str]] = {}
    for split in SPLITS:
        source = label_source(data, root, split)
        try:
            labels = LABEL_READERS[data.layout](data, root, split)
        except LongAQAError as exc:
            problems.extend(split_message(str(exc)))
            continue
        if not labels:
            what = f" of class {data.class_name!r}" if data.class_name else ""
            problems.append(f"{source}: split {split!r}{what} is empty")
        counts = Counter(name for name, _ in labels)
        for name, count in counts.items():
            if count > 1:
                problems.append(f"{source}: video {name!r} is listed {count} times")
        for name, score in labels:
            if not math.isfinite(score):
                problems.append(f"{source}: video {name!r} has a non-finite score ({score})")
        names[split] = list(counts)
    if "train" in names and "test" in names:
        overlap = sorted(set(names["train"]) & set(names["test"]))
        for name in overlap:
            problems.append(
                f"{label_source(data, root, 'test')}: video {name!r} is also in the train split "
                f"({label_source(data, root, 'train')})"
            )
    features = root / data.features_dir
    if names and not features.is_dir():
        problems.append(f"{features}: feature folder not found (data.features_dir={data.features_dir!r})")
        return list(dict.fromkeys(problems))
    for split, split_names in names.items():
        for name in split_names:
            if _unsafe_name(name):
                problems.append(f"{label_source(data, root, split)}: video name {name!r} is not a file name")
                continue
            path = features / f"{name}.npy"
            try:
                array = read_features(path, cfg.model.input_dim)
                if loaded is not None:
                    loaded[path] = array
            except LongAQAError as exc:
                problems.append(str(exc))
    return list(dict.fromkeys(problems))  # a file shared by both splits is reported once


def check_dataset(cfg: Config, data_root: str | Path | None) -> dict[Path, np.ndarray]:
    """Raise one :class:`LongAQAError` listing every problem :func:`dataset_problems` finds.

    Returns the feature arrays it read (path -> array), for :func:`longaqa.data.load_train_test`.
    """
    loaded: dict[Path, np.ndarray] = {}
    problems = dataset_problems(cfg, data_root, loaded)
    if problems:
        raise LongAQAError(
            f"{len(problems)} problem(s) in the dataset; nothing was trained:\n" + "\n".join(problems)
        )
    return loaded
