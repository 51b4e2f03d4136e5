"""Writing generated videos in the public release layouts (REFERENCE.md section 1), plus ``truth/``.

RG layout::

    ROOT/train.txt, ROOT/test.txt        the release's header, then tab-separated
                                         ``name  D  E  Total  Penalty  seconds`` (2 decimals)
    ROOT/swintx_avg_fps25_clip32/<Class>_<NNN>.npy    float32 (T, F)
    ROOT/truth/<Class>_<NNN>.npz         float32 per-clip arrays, each (T,)

Fis-V layout (as published by MS_LSTM)::

    ROOT/train_dataset.txt, ROOT/test_dataset.txt    no header, space-separated ``id TES PCS deductions``
    ROOT/swintx_avg_fps25_clip32/<id>.npy            float32 (T, F)
    ROOT/truth/<id>.npz

Generic layout (docs/data.md, ``longaqa.data.generic``)::

    ROOT/labels.csv                      header ``name,score,split``, the score at 2 decimals
    ROOT/features/<name>.npy             float32 (T, F)
    ROOT/truth/<name>.npz

Marks are carried as integer hundredths of a point, so that a written Total is exactly D + E - P.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from longaqa.data.synthetic import RG_HEADER
from longaqa.errors import LongAQAError

FEATURES_DIR = "swintx_avg_fps25_clip32"
CLIP_FRAMES = 32
FPS = 25.0


@dataclass
class JudgedVideo:
    """One generated video: its features, its per-clip truth and the marks on its score sheet."""

    name: str
    features: np.ndarray  # (T, F) float32
    truth: dict[str, np.ndarray]  # per-clip arrays, each (T,)
    marks: dict[str, int]
    """Label columns in hundredths of a point: RG ``difficulty, execution, penalty``; Fis-V ``tes, pcs,
    deductions``."""
    video: dict[str, float] = field(default_factory=dict)
    """Video-level latent variables (skill ...), for tests and analysis; not written."""


def check_sizes(
    kind: str, *, num_train: int, num_test: int, feature_dim: int, min_clips: int, max_clips: int, fewest_clips: int
) -> None:
    """Refuse sizes a generator cannot honour, naming the parameter."""
    problems = []
    if num_train < 1:
        problems.append(f"num_train must be at least 1, got {num_train}")
    if num_test < 1:
        problems.append(f"num_test must be at least 1, got {num_test}")
    if feature_dim < 1:
        problems.append(f"feature_dim must be at least 1, got {feature_dim}")
    if min_clips < fewest_clips:
        problems.append(f"min_clips must be at least {fewest_clips} for {kind}, got {min_clips}")
    if max_clips < min_clips:
        problems.append(f"max_clips ({max_clips}) is below min_clips ({min_clips})")
    if problems:
        raise LongAQAError(f"generator {kind}: " + "; ".join(problems))


def clip_range(
    kind: str, default_clips: tuple[int, int], fewest_clips: int, *, num_train: int, num_test: int,
    feature_dim: int, min_clips: int | None, max_clips: int | None
) -> tuple[int, int]:
    """``(min_clips, max_clips)`` with the generator's defaults for those not given, after
    :func:`check_sizes` has accepted every size."""
    min_clips = default_clips[0] if min_clips is None else min_clips
    max_clips = max(min_clips, default_clips[1]) if max_clips is None else max_clips
    check_sizes(kind, num_train=num_train, num_test=num_test, feature_dim=feature_dim, min_clips=min_clips,
                max_clips=max_clips, fewest_clips=fewest_clips)
    return min_clips, max_clips


@dataclass(frozen=True)
class GenerationSizes:
    """What every generator's writer is asked for: ``writer(root, sizes) -> root``
    (``write_generated`` builds it from its keyword arguments)."""

    seed: int = 0
    num_train: int = 200
    num_test: int = 50
    feature_dim: int = 1024
    min_clips: int | None = None
    """None: the kind's ``default_clips[0]``."""
    max_clips: int | None = None
    """None: the larger of ``min_clips`` and the kind's ``default_clips[1]``."""
    class_name: str = "Ball"
    """The RG-layout video name prefix (``<class_name>_001`` ...); kinds that name videos otherwise ignore it."""

    def clip_range(self, kind: str, default_clips: tuple[int, int], fewest_clips: int) -> tuple[int, int]:
        """:func:`clip_range` of these sizes for ``kind``: ``(min_clips, max_clips)`` once every size is accepted."""
        return clip_range(kind, default_clips, fewest_clips, num_train=self.num_train, num_test=self.num_test,
                          feature_dim=self.feature_dim, min_clips=self.min_clips, max_clips=self.max_clips)


DEFAULT_SIZES = GenerationSizes()
"""The writers' default ``sizes`` (frozen, so one shared instance is safe)."""


def check_class_name(class_name: str) -> None:
    if not class_name or any(c.isspace() or c in "/\\" for c in class_name):
        raise LongAQAError(f"class_name {class_name!r}: must be non-empty, without spaces or slashes")


def hundredths(points: float) -> int:
    return int(round(points * 100))


def format_points(hundredths_: int) -> str:
    """``1234`` -> ``'12.34'``, exactly (no float arithmetic)."""
    sign = "-" if hundredths_ < 0 else ""
    whole, frac = divmod(abs(hundredths_), 100)
    return f"{sign}{whole}.{frac:02d}"


def format_fisv_points(hundredths_: int) -> str:
    """As the Fis-V file writes numbers: ``3220`` -> ``'32.2'``, ``3200`` -> ``'32'``."""
    return format_points(hundredths_).rstrip("0").rstrip(".")


def rg_row(name: str, marks: dict[str, int], seconds: int) -> str:
    d, e, p = marks["difficulty"], marks["execution"], marks["penalty"]
    cells = [name, format_points(d), format_points(e), format_points(d + e - p), format_points(p), str(seconds)]
    return "\t".join(cells)


def fisv_row(name: str, marks: dict[str, int]) -> str:
    deductions = marks["deductions"]
    if deductions % 100:
        raise ValueError(f"{name}: Fis-V deductions are whole points, got {deductions / 100}")
    return f"{name} {format_fisv_points(marks['tes'])} {format_fisv_points(marks['pcs'])} {deductions // 100}"


def save_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """Like ``np.savez`` but byte-identical from run to run (fixed zip timestamps)."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as archive:
        for key, value in arrays.items():
            buffer = io.BytesIO()
            np.lib.format.write_array(buffer, np.asarray(value), allow_pickle=False)
            archive.writestr(zipfile.ZipInfo(f"{key}.npy", date_time=(1980, 1, 1, 0, 0, 0)), buffer.getvalue())


def _write_video(root: Path, video: JudgedVideo) -> None:
    np.save(root / FEATURES_DIR / f"{video.name}.npy", video.features)
    save_npz(root / "truth" / f"{video.name}.npz", {k: v.astype(np.float32) for k, v in video.truth.items()})


def _make_folders(root: str | Path) -> Path:
    root = Path(root)
    (root / FEATURES_DIR).mkdir(parents=True, exist_ok=True)
    (root / "truth").mkdir(exist_ok=True)
    return root


def write_rg_release(root: str | Path, videos: Iterable[JudgedVideo], num_train: int) -> Path:
    """Write videos in the RG layout; the first ``num_train`` go to ``train.txt``, the rest to ``test.txt``."""
    root = _make_folders(root)
    rows: dict[str, list[str]] = {"train": [], "test": []}
    for i, video in enumerate(videos):
        _write_video(root, video)
        seconds = round(len(video.features) * CLIP_FRAMES / FPS)
        rows["train" if i < num_train else "test"].append(rg_row(video.name, video.marks, seconds))
    for split, lines in rows.items():
        (root / f"{split}.txt").write_text("\n".join([RG_HEADER, *lines]) + "\n", encoding="utf-8")
    return root


def write_fisv_release(root: str | Path, videos: Iterable[JudgedVideo], test_names: set[str]) -> Path:
    """Write videos in the Fis-V layout; ``test_names`` go to ``test_dataset.txt``, each file in id order."""
    root = _make_folders(root)
    rows: dict[str, list[str]] = {"train": [], "test": []}
    for video in videos:
        _write_video(root, video)
        rows["test" if video.name in test_names else "train"].append(fisv_row(video.name, video.marks))
    for split, lines in rows.items():
        lines.sort(key=lambda row: int(row.split(" ", 1)[0]))
        (root / f"{split}_dataset.txt").write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return root


GENERIC_FEATURES_DIR = "features"
"""The generic layout's feature folder as the generators write it (``data.features_dir=features``)."""


def write_generic_release(
    root: str | Path, videos: Iterable[JudgedVideo], num_train: int, total_key: str = "total"
) -> Path:
    """Write videos in the generic layout (docs/data.md): ``features/<name>.npy`` and ``labels.csv``
    (``name,score,split``, the score ``marks[total_key]`` at 2 decimals); the first ``num_train`` are
    ``train``, the rest ``test``."""
    root = Path(root)
    (root / GENERIC_FEATURES_DIR).mkdir(parents=True, exist_ok=True)
    (root / "truth").mkdir(exist_ok=True)
    lines = ["name,score,split"]
    for i, video in enumerate(videos):
        np.save(root / GENERIC_FEATURES_DIR / f"{video.name}.npy", video.features)
        save_npz(root / "truth" / f"{video.name}.npz", {k: v.astype(np.float32) for k, v in video.truth.items()})
        split = "train" if i < num_train else "test"
        lines.append(f"{video.name},{format_points(video.marks[total_key])},{split}")
    (root / "labels.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return root
