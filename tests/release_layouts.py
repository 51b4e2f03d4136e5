"""Writers of fixture folders laid out byte for byte like the public releases (REFERENCE.md section 1).

Used by test_layouts.py and test_reproduce.py. Features are random with a score-carrying direction,
so a model can learn something; labels are generated unless real label lines are passed in.
"""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np

RG_HEADER = "Video_Name\tDifficulty_Score    Execution_Score Total_Score\tPenalty\tVideo_length"
FEATURES = "swintx_avg_fps25_clip32"


def _features(rng: np.random.Generator, score: float, clips: int, dim: int) -> np.ndarray:
    direction = np.linspace(-1.0, 1.0, dim)
    x = rng.normal(0, 1, (clips, dim)) + score * direction  # (T, D)
    return x.astype(np.float32)


def write_rg(root: Path, per_class: dict[str, tuple[int, int]], dim: int = 32, clips=(10, 14),
             seed: int = 0) -> Path:
    """RG release: train.txt/test.txt with the mixed header, tab rows, features per video."""
    rng = np.random.default_rng(seed)
    (root / FEATURES).mkdir(parents=True, exist_ok=True)
    lines = {"train": [RG_HEADER], "test": [RG_HEADER]}
    number = 0
    for class_name, (n_train, n_test) in per_class.items():
        for i in range(n_train + n_test):
            number += 1
            name = f"{class_name}_{number:03d}"
            d, e, pen = rng.uniform(5, 12), rng.uniform(4, 9), rng.choice([0.0, 0.3, 0.6])
            total = d + e - pen
            np.save(root / FEATURES / f"{name}.npy",
                    _features(rng, (total - 14) / 4, int(rng.integers(*clips)), dim))
            row = f"{name}\t{d:.2f}\t{e:.2f}\t{total:.2f}\t{pen:.2f}\t{int(rng.integers(88, 96))}"
            lines["train" if i < n_train else "test"].append(row)
    for split, rows in lines.items():
        (root / f"{split}.txt").write_text("\n".join(rows) + "\n", encoding="utf-8")
    return root


def write_fisv(root: Path, n_train: int, n_test: int, dim: int = 32, clips=(14, 18), seed: int = 1,
               published_names: bool = True) -> Path:
    """Fis-V release: ``train_dataset.txt``/``test_dataset.txt`` (or train.txt), ``id TES PCS ded``."""
    rng = np.random.default_rng(seed)
    (root / FEATURES).mkdir(parents=True, exist_ok=True)
    suffix = "_dataset" if published_names else ""
    ids = iter(range(1, n_train + n_test + 1))
    for split, n in (("train", n_train), ("test", n_test)):
        rows = []
        for _ in range(n):
            vid = next(ids)
            tes, pcs, ded = rng.uniform(20, 60), rng.uniform(20, 45), int(rng.integers(0, 3))
            x = _features(rng, (tes - 40) / 10, int(rng.integers(*clips)), dim)
            np.save(root / FEATURES / f"{vid}.npy", x)
            rows.append(f"{vid} {tes:.2f} {pcs:.2f} {ded}")
        (root / f"{split}{suffix}.txt").write_text("\n".join(rows) + "\n", encoding="utf-8")
    return root


def write_logo(root: Path, n_train: int, n_test: int, dim: int = 32, clips: int = 48, seed: int = 2,
               feature_dirs=("vst_features", "i3d_features")) -> Path:
    """LOGO release: anno_dict.pkl, train_split3.pkl, test_split3.pkl, features per backbone folder."""
    rng = np.random.default_rng(seed)
    root.mkdir(parents=True, exist_ok=True)
    for folder in feature_dirs:
        (root / folder).mkdir(exist_ok=True)
    events = ["WorldChampionship2019_free_final", "Olympics2016_tech_prelim"]
    keys = [(events[i % 2], i // 2 + 1) for i in range(n_train + n_test)]
    anno = {}
    for event, idx in keys:
        score = float(rng.uniform(70, 98))
        frames = 100
        # as the release: [event type, score, (unused float), action end frames, per-frame action labels]
        anno[(event, idx)] = ["free", score, 0.0, [30, 60, frames], [12] * frames]
        for folder in feature_dirs:
            np.save(root / folder / f"{event}_{idx}.npy", _features(rng, (score - 84) / 7, clips, dim))
    for name, obj in (("anno_dict.pkl", anno), ("train_split3.pkl", keys[:n_train]),
                      ("test_split3.pkl", keys[n_train:]), ("formation_dict.pkl", {})):
        (root / name).write_bytes(pickle.dumps(obj, protocol=4))
    return root


def write_release_root(root: Path, dim: int = 32) -> Path:
    """``root/rg`` (4 classes), ``root/fisv`` and ``root/logo`` as a user unpacks them, small."""
    write_rg(root / "rg", {c: (12, 8) for c in ("Ball", "Clubs", "Hoop", "Ribbon")}, dim)
    write_fisv(root / "fisv", 16, 8, dim)
    write_logo(root / "logo", 16, 8, dim)
    return root
